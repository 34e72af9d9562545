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

from derivmagic import DerivError, ParseError, ShapeError, derive
from derivmagic.check import evaluate
from derivmagic.differentiate import Differentiator, gradient
from derivmagic.expr import Expr, Identity, Num, Sym, Zero, postorder
from derivmagic.rules import (Trace, add, det, func, inverse, matexp, matrix_function, mul,
                              power, trace, trace_matrix_function, transpose)
from derivmagic.rules import matfunc, sqrtlog
from derivmagic.rules.matfunc import ExpFrechet, MatExp, commute, exp_frechet, sympy_classes
from derivmagic.rules.sqrtlog import (LogFrechet, MatLog, MatSqrt, SqrtFrechet, log_frechet, matlog, matsqrt,
                                     sqrt_frechet)
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
def test_matrix_function_names_the_matrix_functions():
    assert matrix_function("exp", mul(t, A)) == MatExp(mul(t, A))
    assert matrix_function("sqrt", X) == MatSqrt(X)
    assert matrix_function("log", X) == MatLog(X)
    assert matrix_function("exp", t) == func("exp", t)
    assert matrix_function("sqrt", t) == power(t, Fraction(1, 2))
    assert matrix_function("log", t) == func("log", t)


def test_other_matrix_functions_are_refused_not_read_elementwise():
    with pytest.raises(DerivError, match=r"sin X of the square matrix X \(n×n\) is a matrix function .*"
                                         r"not sin of each entry; of the matrix functions only e\^X, X\^\{1/2\} and "
                                         r"log X are supported yet\. A function of a square matrix is read as the matrix "
                                         r"function, never entry by entry\."):
        matrix_function("sin", X)


def test_a_refusal_quotes_the_elementwise_spelling():
    with pytest.raises(DerivError, match=r"cos\(tA\) of the square matrix tA .* For cos of each entry write "
                                         r"\\cos \\odot X\."):
        matrix_function("cos", mul(t, A), elementwise_spelling=r"\cos \odot X")


def test_matrix_function_wants_a_square_matrix():
    from derivmagic.expr import InternalShapeError
    with pytest.raises(InternalShapeError):
        matrix_function("exp", Sym("W", ("m", "n")))


def test_trace_matrix_function_closed_forms():
    assert trace_matrix_function("exp", X) == Trace(MatExp(X))
    assert trace_matrix_function("log", X) == func("log", det(X))   # tr log X = log det X
    assert trace_matrix_function("sqrt", X) == Trace(MatSqrt(X))


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


# ================================================================ the principal square root and logarithm
# X^{1/2} and log X (rules.sqrtlog) against SciPy's sqrtm and logm: differentials against central
# differences of the reference along a random direction, at positive definite X and A (eigenvalues
# away from (−∞, 0]), with B and the direction unsymmetric.
def spd(rng, n=N):
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def root_env(rng) -> dict:
    return {"t": np.full((1, 1), rng.uniform(0.3, 0.9)), "A": spd(rng), "B": rng.standard_normal((N, N)),
            "X": spd(rng)}


def _t(e):
    return e["t"][0, 0]


ROOT_CASES = [
    ("sqrt_X", lambda: matsqrt(X), X, lambda e: sl.sqrtm(e["X"])),
    ("sqrt_X_transposed", lambda: matsqrt(transpose(X)), X, lambda e: sl.sqrtm(e["X"].T)),
    ("inverse_sqrt_X", lambda: inverse(matsqrt(X)), X, lambda e: np.linalg.inv(sl.sqrtm(e["X"]))),
    ("sqrt_of_inverse_X", lambda: matsqrt(inverse(X)), X, lambda e: sl.sqrtm(np.linalg.inv(e["X"]))),
    ("B_sqrt_X", lambda: mul(B, matsqrt(X)), X, lambda e: e["B"] @ sl.sqrtm(e["X"])),
    ("trace_sqrt_X", lambda: trace(matsqrt(X)), X, lambda e: np.trace(sl.sqrtm(e["X"])).reshape(1, 1)),
    ("sqrt_tA", lambda: matsqrt(mul(t, A)), t, lambda e: sl.sqrtm(_t(e) * e["A"])),
    ("sqrt_A_plus_tB", lambda: matsqrt(add(A, mul(t, B))), t, lambda e: sl.sqrtm(e["A"] + _t(e) * e["B"])),
    ("log_X", lambda: matlog(X), X, lambda e: sl.logm(e["X"])),
    ("log_X_transposed", lambda: matlog(transpose(X)), X, lambda e: sl.logm(e["X"].T)),
    ("log_inverse_X", lambda: matlog(inverse(X)), X, lambda e: sl.logm(np.linalg.inv(e["X"]))),
    ("log_tA", lambda: matlog(mul(t, A)), t, lambda e: sl.logm(_t(e) * e["A"])),
    ("log_A_plus_tB", lambda: matlog(add(A, mul(t, B))), t, lambda e: sl.logm(e["A"] + _t(e) * e["B"])),
    ("trace_B_log_X", lambda: trace(mul(B, matlog(X))), X, lambda e: np.trace(e["B"] @ sl.logm(e["X"])).reshape(1, 1)),
]
ROOT_IDS = [c[0] for c in ROOT_CASES]


@pytest.mark.parametrize("case", ROOT_CASES, ids=ROOT_IDS)
def test_root_and_log_differentials_match_finite_differences(case):
    _, build, var, ref = case
    F = build()
    dvar = direction_symbol(var)
    dF = Differentiator(var, dvar)(F)
    rng = np.random.default_rng(21)
    for _ in range(3):
        env = root_env(rng)
        env[dvar.name] = rng.standard_normal(env[var.name].shape)
        got = evaluate(dF, env, SIZES)
        want = np.real(central_difference(ref, env, var, env[dvar.name]))
        assert got.shape == want.shape
        assert rel_err(got, want) < 1e-5, (got, want)


@pytest.mark.parametrize("case", ROOT_CASES, ids=ROOT_IDS)
def test_sympy_form_of_root_and_log_differentials_evaluates_with_doit(case):
    _, build, var, ref = case
    dvar = direction_symbol(var)
    F = build()
    dF = Differentiator(var, dvar)(F)
    env = root_env(np.random.default_rng(22))
    env[dvar.name] = np.random.default_rng(23).standard_normal(env[var.name].shape)
    assert rel_err(sympy_numbers(to_sympy(F), env), np.real(ref(env))) < 1e-9
    assert rel_err(sympy_numbers(to_sympy(dF), env), evaluate(dF, env, SIZES)) < 1e-9


def test_every_root_and_log_class_has_a_finite_difference_case():
    classes = {c for _, c in inspect.getmembers(sqrtlog, inspect.isclass)
               if issubclass(c, Expr) and c is not Expr and c.__module__ == sqrtlog.__name__}
    seen = set()
    for _, build, var, _ in ROOT_CASES:
        F = build()
        seen |= node_types(F) | node_types(Differentiator(var, direction_symbol(var))(F))
    assert classes <= seen, f"classes without a case: {sorted(c.__name__ for c in classes - seen)}"


# ---------------------------------------------------------------- gradients through X^{1/2} and log X
def test_gradient_of_trace_sqrt_is_half_the_inverse_root():
    """∇ tr(X^{1/2}) = ½ (X^{-1/2})ᵀ, from tr L = ½ tr(S⁻¹ dX) (S dS + dS S = dX): ½ X^{-1/2} at a symmetric X."""
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(matsqrt(X))), dX)
    assert G == mul(Num(Fraction(1, 2)), transpose(inverse(MatSqrt(X))))
    env = root_env(np.random.default_rng(24))
    want = fd_gradient(lambda M: np.trace(sl.sqrtm(M)).real, env["X"])
    assert rel_err(evaluate(G, env, SIZES), want) < RTOL
    assert rel_err(evaluate(G, env, SIZES), 0.5 * np.linalg.inv(sl.sqrtm(env["X"]))) < 1e-10


def test_gradient_of_trace_B_sqrt_comes_from_the_adjoint_sylvester_solve():
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(mul(B, matsqrt(X)))), dX)
    assert SqrtFrechet in node_types(G)
    env = root_env(np.random.default_rng(25))
    want = fd_gradient(lambda M: np.trace(env["B"] @ sl.sqrtm(M)).real, env["X"])
    assert rel_err(evaluate(G, env, SIZES), want) < RTOL
    assert rel_err(sympy_numbers(to_sympy(G), env), want) < RTOL


def test_gradient_of_trace_log_is_that_of_log_det():
    """tr log X = log det X: both gradients are X⁻ᵀ, one from the trace of the Fréchet derivative."""
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(matlog(X))), dX)
    H = gradient(Differentiator(X, dX)(func("log", det(X))), dX)
    assert G == H == transpose(inverse(X))
    env = root_env(np.random.default_rng(26))
    assert rel_err(evaluate(G, env, SIZES), fd_gradient(lambda M: np.trace(sl.logm(M)).real, env["X"])) < RTOL


def test_gradient_of_trace_B_log_X():
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(mul(B, matlog(X)))), dX)
    assert LogFrechet in node_types(G)
    env = root_env(np.random.default_rng(27))
    want = fd_gradient(lambda M: np.trace(env["B"] @ sl.logm(M)).real, env["X"])
    assert rel_err(evaluate(G, env, SIZES), want) < RTOL


def _unsymmetric_positive(rng):
    """A matrix with eigenvalues of positive real part that is not symmetric (the general paths)."""
    return spd(rng) + 0.5 * rng.standard_normal((N, N))


@pytest.mark.parametrize("make, op", [
    (lambda M: sl.sqrtm(M), sqrtlog.SqrtFrechet),
    (lambda M: M, sqrtlog.LogFrechet),
], ids=["sylvester", "log_frechet"])
def test_adjoints_of_the_root_and_log_derivatives(make, op):
    """⟨G, L(E)⟩ = ⟨L*(G), E⟩, with L* the same operation at the transpose: what the backward pass uses."""
    G, E = Sym("G", ("n", "n")), Sym("E", ("n", "n"))
    L = op(X, E)
    rng = np.random.default_rng(28)
    env = {"X": np.real(make(_unsymmetric_positive(rng))), "G": rng.standard_normal((N, N)),
           "E": rng.standard_normal((N, N))}
    lhs = np.sum(env["G"] * evaluate(L, env, SIZES))
    rhs = np.sum(evaluate(L.vjp(G, 1), env, SIZES) * env["E"])
    assert abs(lhs - rhs) < 1e-10 * (1 + abs(lhs))


def test_trace_forms_of_the_root_and_log_derivatives():
    E = Sym("E", ("n", "n"))
    rng = np.random.default_rng(29)
    S0 = np.real(sl.sqrtm(_unsymmetric_positive(rng)))
    env = {"X": S0, "E": rng.standard_normal((N, N))}
    L = SqrtFrechet(X, E)
    assert L.trace_form() == mul(Num(Fraction(1, 2)), trace(mul(inverse(X), E)))
    assert abs(np.trace(evaluate(L, env, SIZES)) - evaluate(L.trace_form(), env, SIZES)[0, 0]) < 1e-10
    env["X"] = _unsymmetric_positive(rng)
    K = LogFrechet(X, E)
    assert K.trace_form() == trace(mul(inverse(X), E))
    assert abs(np.trace(evaluate(K, env, SIZES)) - evaluate(K.trace_form(), env, SIZES)[0, 0]) < 1e-9


def test_second_derivative_through_the_sylvester_solve():
    """S L + L S = B with S = X^{1/2}: dL solves S dL + dL S = −(dS L + L dS), against differences."""
    dX = direction_symbol(X)
    F = SqrtFrechet(matsqrt(X), B)
    dF = Differentiator(X, dX)(F)
    rng = np.random.default_rng(30)
    env = root_env(rng)
    env["dX"] = rng.standard_normal((N, N))

    def ref(e):
        S = np.real(sl.sqrtm(e["X"]))
        return sl.solve_sylvester(S, S, e["B"])
    assert rel_err(evaluate(dF, env, SIZES), central_difference(ref, env, X, env["dX"])) < 1e-5


def test_second_derivative_through_the_log_integral_is_refused():
    dX = direction_symbol(X)
    G = gradient(Differentiator(X, dX)(trace(mul(B, matlog(X)))), dX)
    with pytest.raises(DerivError, match=r"second derivative of log X by a matrix X .* not supported yet"):
        Differentiator(X, Sym("dX2", X.shape))(G)


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("expr, ref", [
    (lambda: matsqrt(X), lambda M: sl.sqrtm(M)),
    (lambda: matlog(X), lambda M: sl.logm(M)),
], ids=["sqrt", "log"])
def test_values_are_the_principal_functions_not_entrywise(expr, ref):
    M = spd(np.random.default_rng(31))
    got = evaluate(expr(), {"X": M}, SIZES)
    assert np.allclose(got, ref(M), rtol=1e-10, atol=1e-12)
    assert not np.allclose(got, np.sqrt(np.abs(M))) and not np.allclose(got, np.log(np.abs(M)))


def test_outside_the_domain_the_value_is_not_finite():
    """An eigenvalue on (−∞, 0]: no real principal root or logarithm (the check samples again)."""
    M = -spd(np.random.default_rng(32))
    assert np.all(np.isnan(evaluate(matsqrt(X), {"X": M}, SIZES)))
    assert np.all(np.isnan(evaluate(matlog(X), {"X": M}, SIZES)))


@pytest.mark.parametrize("gap", [1.0, 1e-6, 1e-11, 0.0], ids=["apart", "close", "very_close", "equal"])
def test_log_frechet_numbers_against_the_block_logarithm(gap):
    """The eigenvalue formula (symmetric X) against log [[X, E], [0, X]], including close eigenvalues,
    where the divided differences of log are computed without cancellation."""
    rng = np.random.default_rng(33)
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    lam = np.array([2.0, 2.0 + gap, 5.0, 0.5])
    Xs = (Q * lam) @ Q.T
    Xs = (Xs + Xs.T) / 2
    E = rng.standard_normal((N, N))
    block = np.real(sl.logm(np.block([[Xs, E], [np.zeros((N, N)), Xs]])))[:N, N:]
    assert rel_err(sqrtlog.log_frechet_numbers(Xs, E), block) < 1e-9
    assert np.all(np.isfinite(sqrtlog.log_divided_differences(lam)))


# ---------------------------------------------------------------- the constructors' normal form
def test_root_and_log_constructor_simplifications():
    assert matsqrt(t) == power(t, Fraction(1, 2))
    assert matsqrt(Identity("n")) == Identity("n")
    assert matsqrt(transpose(X)) == transpose(MatSqrt(X))
    assert matsqrt(inverse(X)) == inverse(MatSqrt(X))
    assert matsqrt(mul(t, Identity("n"))) == mul(power(t, Fraction(1, 2)), Identity("n"))
    assert matlog(Identity("n")) == Zero(("n", "n"))
    assert matlog(inverse(X)) == mul(Num(-1), MatLog(X))
    assert matlog(mul(t, Identity("n"))) == mul(func("log", t), Identity("n"))
    S = Sym("S", ("n", "n"), props=frozenset({"spd"}))
    assert transpose(matsqrt(S)) == matsqrt(S) and transpose(matlog(S)) == matlog(S)


def test_sylvester_and_log_integral_are_linear_and_see_commuting_sides():
    dt = Sym("dt", (1, 1))
    S = MatSqrt(X)
    half = Num(Fraction(1, 2))
    assert sqrt_frechet(S, Identity("n")) == mul(half, inverse(S))        # S L + L S = I: L = ½ S⁻¹
    assert sqrt_frechet(S, mul(Num(3), dt, B)) == mul(Num(3), dt, SqrtFrechet(S, B))
    assert sqrt_frechet(S, add(A, B)) == add(SqrtFrechet(S, A), SqrtFrechet(S, B))
    assert sqrt_frechet(transpose(S), B) == transpose(SqrtFrechet(S, transpose(B)))
    assert log_frechet(X, Identity("n")) == inverse(X)
    assert log_frechet(mul(t, A), mul(dt, A)) == mul(dt, inverse(mul(t, A)), A)
    assert log_frechet(X, Zero(X.shape)) == Zero(X.shape)


def test_sympy_nodes_of_root_and_log_are_matrix_expressions():
    for e, tex in [(matsqrt(X), r"\left(X\right)^{1/2}"), (matlog(X), r"\log\left(X\right)"),
                   (SqrtFrechet(X, B), r"\int_0^\infty e^{-s X} B e^{-s X} \, ds"),
                   (LogFrechet(X, B), r"\int_0^\infty \left(s I + X\right)^{-1} B \left(s I + X\right)^{-1} \, ds")]:
        s_ = to_sympy(e)
        assert isinstance(s_, sp.MatrixExpr) and not isinstance(s_, sp.Function)
        assert s_.shape == (sympy_dim("n"), sympy_dim("n"))
        assert sp.latex(s_) == tex


# ---------------------------------------------------------------- cells: results, claims, refusals
def cell_env(d, kinds: dict, rng) -> tuple[dict, dict]:
    """Values for the cell's symbols at the sizes its check used: positive definite, symmetric or normal."""
    sizes = dict(d.check.dims)
    env = {}
    for name, s in d.reading.symbols.items():
        r, c = ((sizes[x] if isinstance(x, str) else x) for x in s.shape)
        kind = kinds.get(name, "normal")
        env[name] = spd(rng, r) if kind == "spd" else rng.standard_normal((r, c))
    return env, sizes


# (id, cell, kinds, the gradient written with NumPy/SciPy, the function for central differences)
ROOT_CELLS = [
    ("trace_sqrt", r"\nabla_X \operatorname{tr}(X^{1/2})", {"X": "spd"},
     lambda e: 0.5 * np.linalg.inv(sl.sqrtm(e["X"])), lambda e: np.trace(sl.sqrtm(e["X"]))),
    ("trace_sqrt_written_as_root", r"\nabla_X \operatorname{tr}(\sqrt{X})", {"X": "spd"},
     lambda e: 0.5 * np.linalg.inv(sl.sqrtm(e["X"])), lambda e: np.trace(sl.sqrtm(e["X"]))),
    ("trace_sqrt_declared_spd", "\\nabla_X \\operatorname{tr}(X^{1/2})\nX \\in \\mathbb{S}^n_{++}", {"X": "spd"},
     lambda e: 0.5 * np.linalg.inv(sl.sqrtm(e["X"])), lambda e: np.trace(sl.sqrtm(e["X"]))),
    ("inverse_root_quadratic", r"\nabla_X a^T X^{-1/2} a", {"X": "spd"}, None,
     lambda e: (e["a"].T @ np.linalg.inv(sl.sqrtm(e["X"])) @ e["a"]).item()),
    ("trace_log", r"\nabla_X \operatorname{tr}(\log X)", {"X": "spd"},
     lambda e: np.linalg.inv(e["X"]).T, lambda e: np.trace(sl.logm(e["X"]))),
    ("trace_B_log", r"\nabla_X \operatorname{tr}(B \log X)", {"X": "spd"}, None,
     lambda e: np.trace(e["B"] @ sl.logm(e["X"]))),
    ("frobenius_of_log", r"\nabla_X \|\log X\|_F^2", {"X": "spd"}, None,
     lambda e: np.sum(sl.logm(e["X"]) ** 2)),
]


@pytest.mark.parametrize("cid, cell, kinds, grad, f", ROOT_CELLS, ids=[c[0] for c in ROOT_CELLS])
def test_root_and_log_cells_against_numpy(cid, cell, kinds, grad, f):
    d = derive(cell)
    assert d.check.passed, d.check
    rng = np.random.default_rng(40)
    for _ in range(2):
        env, sizes = cell_env(d, kinds, rng)
        got = evaluate(d.answer.result, env, sizes)
        if grad is not None:
            assert rel_err(got, np.real(grad(env))) < 1e-9
        X0 = env["X"]
        want = fd_gradient(lambda M: np.real(f({**env, "X": M})), X0)
        assert rel_err(got, want) < RTOL


def test_principal_root_and_logarithm_are_stated_in_the_interpretation():
    notes = " ".join(derive(r"\nabla_X \operatorname{tr}(X^{1/2} + \log X)").reading.notes)
    assert "X^(1/2) is the principal matrix square root of X (defined where X has no eigenvalue in (-∞, 0])" in notes
    assert "log(X) is the principal matrix logarithm of X" in notes
    assert "the check draws X symmetric positive definite" in notes


@pytest.mark.parametrize("cell, holds", [
    (r"\nabla_X \operatorname{tr}(X^{1/2}) = \frac12 X^{-1/2}", True),
    (r"\nabla_X \operatorname{tr}(X^{1/2}) = X^{-1/2}", False),          # a factor 2 off
    (r"\nabla_X \operatorname{tr}(X^{1/2}) = \frac12 X^{1/2}", False),
    (r"\nabla_X \operatorname{tr}(\log X) = X^{-1}", True),
    (r"\nabla_X \operatorname{tr}(\log X) = X", False),
    ("\\frac{d}{dt} (tA)^{1/2} = \\frac{1}{2} t^{-1/2} A^{1/2}\nA \\in \\mathbb{S}^n_{++}", True),
    ("\\frac{d}{dt} \\log(tA) = t^{-1} I\nA \\in \\mathbb{S}^n_{++}", True),
    ("\\frac{d}{dt} \\log(tA) = A^{-1}\nA \\in \\mathbb{S}^n_{++}", False),
], ids=["half_inverse_root", "inverse_root", "half_root", "inverse", "identity", "root_of_tA", "log_of_tA",
        "log_of_tA_wrong"])
def test_root_and_log_claims(cell, holds):
    claims = derive(cell).claims
    assert [c.holds for c in claims] == [holds]


def test_a_wrong_factor_is_named():
    claim = derive(r"\nabla_X \operatorname{tr}(X^{1/2}) = X^{-1/2}").claims[0]
    assert claim.reason == "off by a factor 2 (the claim is 2 times the correct value)"


@pytest.mark.parametrize("cell, error, pattern", [
    ("\\nabla_X \\operatorname{tr}(X^{1/2})\nX \\in \\mathbb{R}^{m \\times n}", ShapeError,
     r"cannot raise X \(m×n\) to the power 1/2: it is not a scalar"),
    ("\\nabla_X \\operatorname{tr}(\\log X)\nX \\in \\mathbb{R}^{m \\times n}", ShapeError, r"\\log X \(m×n\) is not square"),
    (r"\nabla_X \operatorname{tr}(X^{3/2})", ParseError,
     r"X\^\{3/2\} of a square matrix is a fractional matrix power, which is not supported \(of the fractional "
     r"powers X\^\{1/2\} and X\^\{-1/2\} are read"),
    (r"\nabla_X \operatorname{tr}(\sin X)", DerivError, r"sin X of the square matrix X .* is a matrix function"),
], ids=["root_of_a_wide_matrix", "log_of_a_wide_matrix", "power_three_halves", "sine"])
def test_root_and_log_refusals(cell, error, pattern):
    with pytest.raises(error, match=pattern):
        derive(cell)


# ---------------------------------------------------------------- the check: domains and work
@pytest.mark.parametrize("build, kinds", [
    (lambda: trace(matsqrt(X)), {"X": "spd"}),
    (lambda: add(trace(matlog(X)), func("log", det(X))), {"X": "spd"}),      # positive definite over posdet
    (lambda: trace(mul(inverse(X), matsqrt(X))), {"X": "spd"}),              # over invertible
    (lambda: trace(matsqrt(mul(transpose(B), B))), {}),                     # BᵀB: drawn as usual, checked finite
], ids=["root", "log_and_log_det", "root_and_inverse", "gram"])
def test_the_check_draws_positive_definite_matrices_under_roots_and_logarithms(build, kinds):
    from derivmagic.check import domains
    assert domains(build()) == kinds


@pytest.mark.parametrize("node, factor", [
    (lambda: MatSqrt(X), 10), (lambda: MatLog(X), 10), (lambda: SqrtFrechet(X, B), 10),
    (lambda: LogFrechet(X, B), 80), (lambda: MatExp(X), 1), (lambda: ExpFrechet(X, B), 10),
], ids=["sqrt", "log", "sylvester", "log_frechet", "exp", "exp_frechet"])
def test_work_of_the_matrix_functions_is_counted_by_n_cubed(node, factor):
    from derivmagic.check import cost
    n = 64
    assert cost([node()], {"n": n}) == factor * n ** 3 // 16384 + n * n // 1024
