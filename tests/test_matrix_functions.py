"""Functions of square matrices are matrix functions: e^{X} is the matrix exponential.

Expressions are built with the rules' constructors (as the reader builds them) and checked
against SciPy: values against ``scipy.linalg.expm``, differentials against central finite
differences of ``expm`` along a random direction, gradients entry by entry, and the SymPy
form (explicit matrices substituted, ``.doit()``) against the same numbers.
"""
from __future__ import annotations

import inspect
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg as sl
import sympy as sp

from derivmagic import DerivError
from derivmagic.check import evaluate
from derivmagic.differentiate import Differentiator, gradient
from derivmagic.expr import Expr, Identity, Num, Sym, Zero, postorder
from derivmagic.rules import (Trace, add, det, func, inverse, matexp, matrix_function, mul,
                              power, trace, trace_matrix_function, transpose)
from derivmagic.rules import matfunc
from derivmagic.rules.matfunc import ExpFrechet, MatExp, commute, exp_frechet, sympy_classes
from derivmagic.tosympy import sympy_dim, to_sympy

N = 4
SIZES = {"n": N}
H = 1e-6
RTOL = 1e-6

t = Sym("t", (1, 1))
A = Sym("A", ("n", "n"))
B = Sym("B", ("n", "n"))
X = Sym("X", ("n", "n"))


def node_types(e: Expr) -> set:
    return {type(node) for node in postorder(e)}


def direction_symbol(var: Sym) -> Sym:
    return Sym("d" + var.name, var.shape)


def rel_err(got, want) -> float:
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want) / (1.0 + np.abs(want))))


def make_env(rng, kinds: dict) -> dict:
    env = {"t": np.full((1, 1), rng.uniform(0.3, 0.9))}
    for name in ("A", "B", "X"):
        m = rng.standard_normal((N, N)) / np.sqrt(N)
        env[name] = m + 2 * np.eye(N) if kinds.get(name) == "invertible" else m
    return env


# ---------------------------------------------------------------- differentials against finite differences
# (id, the function, its variable, a NumPy reference of the same function, commuting case?, sampling)
DIFFERENTIAL_CASES = [
    ("exp_tA", lambda: matexp(mul(t, A)), t,
     lambda e: sl.expm(e["t"][0, 0] * e["A"]), True, {}),
    ("exp_sin_t_A", lambda: matexp(mul(func("sin", t), A)), t,
     lambda e: sl.expm(np.sin(e["t"][0, 0]) * e["A"]), True, {}),
    ("exp_polynomial_in_A", lambda: matexp(add(mul(t, A), mul(power(t, 2), A, A))), t,
     lambda e: sl.expm(e["t"][0, 0] * e["A"] + e["t"][0, 0] ** 2 * e["A"] @ e["A"]), True, {}),
    ("exp_tA_plus_identity", lambda: matexp(add(mul(t, A), Identity("n"))), t,
     lambda e: sl.expm(e["t"][0, 0] * e["A"] + np.eye(N)), True, {}),
    ("exp_A_and_its_inverse", lambda: matexp(add(mul(t, A), mul(Num(3), t, inverse(A)))), t,
     lambda e: sl.expm(e["t"][0, 0] * (e["A"] + 3 * np.linalg.inv(e["A"]))), True, {"A": "invertible"}),
    ("exp_A_plus_tB", lambda: matexp(add(A, mul(t, B))), t,
     lambda e: sl.expm(e["A"] + e["t"][0, 0] * e["B"]), False, {}),
    ("exp_X", lambda: matexp(X), X,
     lambda e: sl.expm(e["X"]), False, {}),
    ("exp_X_transposed", lambda: matexp(transpose(X)), X,
     lambda e: sl.expm(e["X"].T), False, {}),
    ("exp_of_product", lambda: mul(B, matexp(mul(X, A))), X,
     lambda e: e["B"] @ sl.expm(e["X"] @ e["A"]), False, {}),
    ("trace_B_exp_X", lambda: trace(mul(B, matexp(X))), X,
     lambda e: np.trace(e["B"] @ sl.expm(e["X"])).reshape(1, 1), False, {}),
]
CASE_IDS = [c[0] for c in DIFFERENTIAL_CASES]


def central_difference(ref, env, var: Sym, V):
    plus, minus = dict(env), dict(env)
    plus[var.name] = env[var.name] + H * V
    minus[var.name] = env[var.name] - H * V
    return (ref(plus) - ref(minus)) / (2 * H)


@pytest.mark.parametrize("case", DIFFERENTIAL_CASES, ids=CASE_IDS)
def test_differential_matches_finite_differences(case):
    _, build, var, ref, commuting, kinds = case
    F = build()
    dvar = direction_symbol(var)
    dF = Differentiator(var, dvar)(F)
    # commuting: e^{X} dX, no integral; otherwise the Fréchet integral
    assert (ExpFrechet not in node_types(dF)) == commuting
    rng = np.random.default_rng(11)
    for _ in range(3):
        env = make_env(rng, kinds)
        V = rng.standard_normal(env[var.name].shape)
        env[dvar.name] = V
        got = evaluate(dF, env, SIZES)
        want = central_difference(ref, env, var, V)
        assert got.shape == want.shape
        assert rel_err(got, want) < RTOL, (got, want)


@pytest.mark.parametrize("case", DIFFERENTIAL_CASES, ids=CASE_IDS)
def test_sympy_form_of_the_differential_evaluates_with_doit(case):
    """The contract: explicit matrices for the MatrixSymbols, ``.doit()``, the numbers."""
    _, build, var, ref, _, kinds = case
    dvar = direction_symbol(var)
    dF = Differentiator(var, dvar)(build())
    rng = np.random.default_rng(5)
    env = make_env(rng, kinds)
    env[dvar.name] = rng.standard_normal(env[var.name].shape)
    value = sympy_numbers(to_sympy(dF), env)
    assert rel_err(value, evaluate(dF, env, SIZES)) < 1e-9


def sympy_numbers(expr, env: dict) -> np.ndarray:
    reps = {}
    for s in expr.free_symbols:
        if isinstance(s, sp.MatrixSymbol):
            reps[s] = sp.ImmutableMatrix(env[s.name])
        elif s.name in env:
            reps[s] = sp.Float(float(env[s.name][0, 0]))
    reps[sympy_dim("n")] = sp.Integer(N)
    value = expr.xreplace(reps).doit()
    assert not value.atoms(sp.MatrixSymbol), value
    if isinstance(value, sp.MatrixBase):
        return np.array(value.evalf().tolist(), dtype=float)
    return np.array([[float(value)]])


def test_commuting_differential_is_exp_times_dX():
    """d e^{tA} = dt e^{tA} A: the textbook d/dt e^{tA} = A e^{tA} (A commutes with e^{tA})."""
    dt = direction_symbol(t)
    d = Differentiator(t, dt)(matexp(mul(t, A)))
    assert d == mul(dt, MatExp(mul(t, A)), A)


def test_every_matrix_function_class_has_a_finite_difference_case():
    classes = {c for _, c in inspect.getmembers(matfunc, inspect.isclass)
               if issubclass(c, Expr) and c is not Expr and c.__module__ == matfunc.__name__}
    seen = set()
    for _, build, var, *_ in DIFFERENTIAL_CASES:
        F = build()
        seen |= node_types(F) | node_types(Differentiator(var, direction_symbol(var))(F))
    assert classes <= seen, f"classes without a case: {sorted(c.__name__ for c in classes - seen)}"


# ---------------------------------------------------------------- gradients through e^{X}
def fd_gradient(f, M):
    G = np.empty_like(M)
    for idx in np.ndindex(*M.shape):
        E = np.zeros_like(M)
        E[idx] = H
        G[idx] = (f(M + E) - f(M - E)) / (2 * H)
    return G


def test_gradient_of_trace_B_exp_X():
    """∇_X tr(B e^{X}) = L(X, B)ᵀ, from the adjoint of the Fréchet derivative."""
    dX = direction_symbol(X)
    df = Differentiator(X, dX)(trace(mul(B, matexp(X))))
    G = gradient(df, dX)
    env = make_env(np.random.default_rng(3), {})
    want = fd_gradient(lambda M: np.trace(env["B"] @ sl.expm(M)), env["X"])
    assert rel_err(evaluate(G, env, SIZES), want) < RTOL
    assert rel_err(sympy_numbers(to_sympy(G), env), want) < RTOL


def test_gradient_of_trace_exp_is_exp_transposed():
    """d tr(e^{X}) = tr(e^{X} dX) for every X, so ∇ tr(e^{X}) = (e^{X})ᵀ, with no integral left."""
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(matexp(X))), dX)
    assert G == transpose(MatExp(X))
    env = make_env(np.random.default_rng(4), {})
    want = fd_gradient(lambda M: np.trace(sl.expm(M)), env["X"])
    assert rel_err(evaluate(G, env, SIZES), want) < RTOL


def test_adjoint_of_the_frechet_derivative():
    """⟨S, L(X, E)⟩ = ⟨L(Xᵀ, S), E⟩: what the backward pass relies on."""
    S, E = Sym("S", ("n", "n")), Sym("E", ("n", "n"))
    L = ExpFrechet(X, E)
    rng = np.random.default_rng(8)
    env = {"X": rng.standard_normal((N, N)), "S": rng.standard_normal((N, N)), "E": rng.standard_normal((N, N))}
    lhs = np.sum(env["S"] * evaluate(L, env, SIZES))
    rhs = np.sum(evaluate(L.vjp(S, 1), env, SIZES) * env["E"])
    assert abs(lhs - rhs) < 1e-10 * (1 + abs(lhs))


def test_trace_form_of_the_frechet_derivative():
    """tr L(X, E) = tr(e^{X} E): the closed form a trace rule can use."""
    E = Sym("E", ("n", "n"))
    L = ExpFrechet(X, E)
    assert L.trace_form() == trace(mul(MatExp(X), E))
    rng = np.random.default_rng(9)
    env = {"X": rng.standard_normal((N, N)), "E": rng.standard_normal((N, N))}
    assert abs(np.trace(evaluate(L, env, SIZES)) - evaluate(L.trace_form(), env, SIZES)[0, 0]) < 1e-10


def test_second_derivative_through_the_integral_is_refused():
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(mul(B, matexp(X)))), dX)
    with pytest.raises(DerivError, match=r"second derivative of e\^\{X\} by a matrix X .* not supported yet"):
        Differentiator(X, Sym("dX2", X.shape))(G)


# ---------------------------------------------------------------- values and SymPy
def test_evaluate_is_the_matrix_exponential_not_elementwise():
    rng = np.random.default_rng(1)
    env = make_env(rng, {})
    got = evaluate(matexp(mul(t, A)), env, SIZES)
    assert np.allclose(got, sl.expm(env["t"][0, 0] * env["A"]), rtol=1e-12, atol=1e-12)
    assert not np.allclose(got, np.exp(env["t"][0, 0] * env["A"]))


def test_sympy_form_doit_gives_scipy_numbers():
    expr = to_sympy(mul(B, matexp(mul(t, A))))
    env = make_env(np.random.default_rng(2), {})
    want = env["B"] @ sl.expm(env["t"][0, 0] * env["A"])
    assert rel_err(sympy_numbers(expr, env), want) < 1e-12


def test_sympy_nodes_are_matrix_expressions_not_functions():
    """Not a sympy Function (evaluators would apply it entry by entry), not an array expression."""
    MatrixExp, MatrixExpFrechet = sympy_classes()
    e = to_sympy(matexp(X))
    assert isinstance(e, MatrixExp) and isinstance(e, sp.MatrixExpr) and not isinstance(e, sp.Function)
    assert e.shape == (sympy_dim("n"), sympy_dim("n"))
    f = to_sympy(ExpFrechet(X, B))
    assert isinstance(f, MatrixExpFrechet) and f.shape == e.shape
    assert sp.latex(e) == "e^{X}"
    assert sp.latex(f) == r"\int_0^1 e^{s X} B e^{(1-s) X} \, ds"


def test_sympy_doit_with_symbolic_entries_is_exact():
    MatrixExp, MatrixExpFrechet = sympy_classes()
    a = sp.Symbol("a")
    M = sp.MatrixSymbol("M", 2, 2)
    value = MatrixExp(M).xreplace({M: sp.ImmutableMatrix([[a, 0], [0, 0]])}).doit()
    assert sp.simplify(value - sp.Matrix([[sp.exp(a), 0], [0, 1]])) == sp.zeros(2, 2)
    # a nilpotent direction: L(0, E) = E
    E = sp.ImmutableMatrix([[0, a], [0, 0]])
    value = MatrixExpFrechet(M, M).xreplace({M: E}).doit()
    assert sp.simplify(value - E) == sp.zeros(2, 2)


def test_sympy_transpose_of_the_exponential():
    e = sp.Transpose(to_sympy(matexp(X)))
    env = make_env(np.random.default_rng(6), {})
    assert rel_err(sympy_numbers(e, env), sl.expm(env["X"]).T) < 1e-12


# ---------------------------------------------------------------- the constructors' normal form
def test_constructor_simplifications():
    assert matexp(t) == func("exp", t)                       # a 1×1 argument: the ordinary exponential
    assert matexp(Zero(("n", "n"))) == Identity("n")
    assert matexp(mul(t, Identity("n"))) == mul(func("exp", t), Identity("n"))
    assert matexp(transpose(X)) == transpose(MatExp(X))      # transposes outside, as for inverses
    S = Sym("S", ("n", "n"), props=frozenset({"symmetric"}))
    assert transpose(matexp(S)) == matexp(S)                 # e^{S} of a symmetric S is symmetric
    assert isinstance(matexp(X), MatExp)


def test_exp_frechet_is_linear_and_recognizes_commuting_directions():
    dt = Sym("dt", (1, 1))
    assert exp_frechet(X, mul(Num(2), dt, B)) == mul(Num(2), dt, ExpFrechet(X, B))
    assert exp_frechet(X, add(A, B)) == add(ExpFrechet(X, A), ExpFrechet(X, B))
    assert exp_frechet(X, Zero(X.shape)) == Zero(X.shape)
    assert exp_frechet(X, Identity("n")) == MatExp(X)
    assert exp_frechet(Zero(X.shape), B) == B
    assert exp_frechet(mul(t, A), mul(dt, A)) == mul(dt, MatExp(mul(t, A)), A)


@pytest.mark.parametrize("X_, E_, expected", [
    (mul(t, A), A, True),
    (add(mul(t, A), Identity("n")), mul(Num(2), A), True),
    (mul(t, A), mul(A, A), True),                 # polynomials in A
    (mul(t, A), inverse(A), True),
    (add(A, mul(t, B)), B, False),
    (X, Sym("dX", ("n", "n")), False),
    (A, transpose(A), False),                     # not seen (and false in general)
    (mul(t, A), Identity("n"), True),
])
def test_commute(X_, E_, expected):
    assert commute(X_, E_) is expected


# ---------------------------------------------------------------- what the reader calls
def test_matrix_function_exp_is_the_matrix_exponential():
    assert matrix_function("exp", mul(t, A)) == MatExp(mul(t, A))
    assert matrix_function("exp", t) == func("exp", t)
    assert matrix_function("sqrt", t) == power(t, Fraction(1, 2))
    assert matrix_function("log", t) == func("log", t)


def test_matrix_logarithm_is_refused_with_the_reason():
    with pytest.raises(DerivError, match=r"log X of the square matrix X \(n×n\) is the matrix logarithm") as info:
        matrix_function("log", X)
    message = str(info.value)
    assert "not the logarithm of each entry" in message
    assert "d log X = ∫₀^∞ (X + sI)⁻¹ dX (X + sI)⁻¹ ds, is not supported yet" in message
    assert "For tr(log X) write log det X" in message
    assert "never entry by entry" in message


def test_matrix_logarithm_refusal_quotes_the_elementwise_spelling():
    with pytest.raises(DerivError, match=r"For the logarithm of each entry write \\log \\odot X\."):
        matrix_function("log", X, elementwise_spelling=r"\log \odot X")


def test_matrix_square_root_is_refused_with_the_reason():
    with pytest.raises(DerivError, match=r"\(tA\)\^\(1/2\) of the square matrix tA \(n×n\) is the principal matrix "
                                         r"square root .* Sylvester equation S dS \+ dS S = dX"):
        matrix_function("sqrt", mul(t, A))


def test_other_matrix_functions_are_refused_not_read_elementwise():
    with pytest.raises(DerivError, match=r"sin X of the square matrix X \(n×n\) is a matrix function .*"
                                         r"not sin of each entry; of the matrix functions only e\^X is supported"):
        matrix_function("sin", X)


def test_matrix_function_wants_a_square_matrix():
    from derivmagic.expr import InternalShapeError
    with pytest.raises(InternalShapeError):
        matrix_function("exp", Sym("W", ("m", "n")))


def test_trace_matrix_function_closed_forms():
    assert trace_matrix_function("exp", X) == Trace(MatExp(X))
    assert trace_matrix_function("log", X) == func("log", det(X))   # tr log X = log det X
    with pytest.raises(DerivError, match="principal matrix square root"):
        trace_matrix_function("sqrt", X)


def test_trace_log_is_log_det_numerically():
    rng = np.random.default_rng(12)
    m = rng.standard_normal((N, N))
    spd = m @ m.T + N * np.eye(N)
    value = evaluate(trace_matrix_function("log", X), {"X": spd}, SIZES)[0, 0]
    assert abs(value - np.trace(sl.logm(spd)).real) < 1e-10


def test_matrix_exponential_steps_carry_the_rule():
    dt = direction_symbol(t)
    diff = Differentiator(t, dt)
    diff(matexp(mul(t, A)))
    step = diff.steps[-1]
    assert step.rule == "derivative of the matrix exponential"
    assert isinstance(step.node, MatExp) and step.differential == mul(dt, MatExp(mul(t, A)), A)
