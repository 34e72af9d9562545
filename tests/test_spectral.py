"""Eigenvalues, singular values and the norms built on them (``rules.spectral``), read from cells.

Results are compared with formulas written here with NumPy (v vᵀ from ``numpy.linalg.eigh``, u vᵀ and
U Vᵀ from ``numpy.linalg.svd``) and with central differences of NumPy references of the functions
along random directions (symmetric directions for a symmetric variable). Eigenvalues are sampled
distinct (a random symmetric matrix has simple eigenvalues), singular values distinct and nonzero.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import sympy as sp

from derivmagic import DerivError, ParseError, ShapeError, derive
from derivmagic.check import evaluate
from derivmagic.differentiate import Differentiator
from derivmagic.expr import Expr, Sym, postorder
from derivmagic.rules import add, mul, spectral, transpose
from derivmagic.rules.spectral import (CHECK_INDEX, SingularVector, SVDPolar, eigenvalue, is_symmetric, nuclear_norm,
                                       singular_value)
from derivmagic.tosympy import sympy_dim, to_sympy

H = 1e-6


def sym(rng, n):
    m = rng.standard_normal((n, n))
    return (m + m.T) / 2


def eig_desc(M):
    """Eigenvalues (decreasing) and unit eigenvectors (columns) of a symmetric M."""
    lam, Q = np.linalg.eigh(M)
    return lam[::-1], Q[:, ::-1]


def outer(v):
    return np.outer(v, v)


def cell_env(d, kinds: dict, rng):
    sizes = dict(d.check.dims)
    env = {}
    for name, s in d.reading.symbols.items():
        r, c = ((sizes[x] if isinstance(x, str) else x) for x in s.shape)
        env[name] = sym(rng, r) if kinds.get(name) == "sym" else rng.standard_normal((r, c))
    return env, sizes


def directional(f, env, var, V):
    plus, minus = dict(env), dict(env)
    plus[var], minus[var] = env[var] + H * V, env[var] - H * V
    return (f(plus) - f(minus)) / (2 * H)


def _svd(M):
    return np.linalg.svd(M, full_matrices=False)


# (id, cell, variable, kinds, the gradient written with NumPy, the function with NumPy)
CELLS = [
    ("lambda_max", r"\nabla_X \lambda_{\max}(X)", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, 0]), lambda e: eig_desc(e["X"])[0][0]),
    ("lambda_max_bare_subscript", r"\nabla_X \lambda_\max(X)", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, 0]), lambda e: eig_desc(e["X"])[0][0]),
    ("lambda_min_roman_subscript", r"\nabla_X \lambda_{\mathrm{min}}(X)", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, -1]), lambda e: eig_desc(e["X"])[0][-1]),
    ("lambda_2", r"\nabla_X \lambda_2(X)", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, 1]), lambda e: eig_desc(e["X"])[0][1]),
    ("lambda_i_checked_at_2", r"\nabla_X \lambda_i(X)", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, CHECK_INDEX - 1]), lambda e: eig_desc(e["X"])[0][CHECK_INDEX - 1]),
    ("lambda_n_is_the_smallest", "\\nabla_X \\lambda_n(X)\nX \\in \\mathbb{S}^n", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, -1]), lambda e: eig_desc(e["X"])[0][-1]),
    ("spread", r"\nabla_X \lambda_{\max}(X) - \lambda_{\min}(X)", "X", {"X": "sym"},
     lambda e: outer(eig_desc(e["X"])[1][:, 0]) - outer(eig_desc(e["X"])[1][:, -1]),
     lambda e: eig_desc(e["X"])[0][0] - eig_desc(e["X"])[0][-1]),
    ("lambda_max_of_gram", r"\nabla_A \lambda_{\max}(A^T A)", "A", {},
     lambda e: 2 * e["A"] @ outer(eig_desc(e["A"].T @ e["A"])[1][:, 0]), lambda e: eig_desc(e["A"].T @ e["A"])[0][0]),
    ("lambda_max_congruence", "\\nabla_X \\lambda_{\\max}(B X B^T)\nX \\in \\mathbb{S}^n", "X", {"X": "sym"},
     lambda e: e["B"].T @ outer(eig_desc(e["B"] @ e["X"] @ e["B"].T)[1][:, 0]) @ e["B"],
     lambda e: eig_desc(e["B"] @ e["X"] @ e["B"].T)[0][0]),
    ("spectral_norm", r"\nabla_X \|X\|_2", "X", {},
     lambda e: np.outer(_svd(e["X"])[0][:, 0], _svd(e["X"])[2][0]), lambda e: np.linalg.norm(e["X"], 2)),
    ("sigma_max", r"\nabla_X \sigma_{\max}(X)", "X", {},
     lambda e: np.outer(_svd(e["X"])[0][:, 0], _svd(e["X"])[2][0]), lambda e: np.linalg.norm(e["X"], 2)),
    ("sigma_min", r"\nabla_X \sigma_{\min}(X)", "X", {},
     lambda e: np.outer(_svd(e["X"])[0][:, -1], _svd(e["X"])[2][-1]), lambda e: _svd(e["X"])[1][-1]),
    ("sigma_2", r"\nabla_X \sigma_2(X)", "X", {},
     lambda e: np.outer(_svd(e["X"])[0][:, 1], _svd(e["X"])[2][1]), lambda e: _svd(e["X"])[1][1]),
    ("nuclear_norm", r"\nabla_X \|X\|_*", "X", {},
     lambda e: _svd(e["X"])[0] @ _svd(e["X"])[2], lambda e: np.sum(_svd(e["X"])[1])),
    ("nuclear_norm_written_ast", r"\nabla_X \|X\|_\ast", "X", {},
     lambda e: _svd(e["X"])[0] @ _svd(e["X"])[2], lambda e: np.sum(_svd(e["X"])[1])),
    ("nuclear_of_a_product", r"\nabla_W \|A W\|_*", "W", {}, None, lambda e: np.sum(_svd(e["A"] @ e["W"])[1])),
    ("spectral_norm_squared", r"\nabla_X \|X\|_2^2", "X", {},
     lambda e: 2 * _svd(e["X"])[1][0] * np.outer(_svd(e["X"])[0][:, 0], _svd(e["X"])[2][0]),
     lambda e: np.linalg.norm(e["X"], 2) ** 2),
]


@pytest.mark.parametrize("cid, cell, var, kinds, grad, f", CELLS, ids=[c[0] for c in CELLS])
def test_spectral_cells_against_numpy(cid, cell, var, kinds, grad, f):
    d = derive(cell)
    assert d.check.passed, d.check
    rng = np.random.default_rng(50)
    for _ in range(3):
        env, sizes = cell_env(d, kinds, rng)
        got = evaluate(d.answer.result, env, sizes)
        if grad is not None:
            assert np.allclose(got, grad(env), rtol=1e-9, atol=1e-11)
        V = sym(rng, env[var].shape[0]) if kinds.get(var) == "sym" else rng.standard_normal(env[var].shape)
        assert abs(np.sum(got * V) - directional(f, env, var, V)) < 1e-6 * (1 + abs(np.sum(got * V)))


def test_values_are_eigen_and_singular_values():
    rng = np.random.default_rng(51)
    M, R = sym(rng, 5), rng.standard_normal((5, 3))
    X, W = Sym("X", ("n", "n"), props=frozenset({"symmetric"})), Sym("W", ("n", "m"))
    sizes = {"n": 5, "m": 3}
    lam = np.sort(np.linalg.eigvalsh(M))[::-1]
    s = np.linalg.svd(R, compute_uv=False)
    for which, want in [("max", lam[0]), ("min", lam[-1]), ("3", lam[2]), ("n", lam[-1]), ("i", lam[CHECK_INDEX - 1])]:
        assert np.isclose(evaluate(eigenvalue(X, which), {"X": M}, sizes)[0, 0], want)
    for which, want in [("max", s[0]), ("min", s[-1]), ("2", s[1])]:
        assert np.isclose(evaluate(singular_value(W, which), {"W": R}, sizes)[0, 0], want)
    assert np.isclose(evaluate(nuclear_norm(W), {"W": R}, sizes)[0, 0], s.sum())
    with pytest.raises(ValueError, match="the 6-th largest of 5 values does not exist"):
        evaluate(eigenvalue(X, "6"), {"X": M}, sizes)


def test_singular_vectors_come_from_one_decomposition():
    """u vᵀ does not depend on the signs LAPACK picks: u and v are evaluated from the same SVD."""
    rng = np.random.default_rng(52)
    R = rng.standard_normal((4, 6))
    W = Sym("W", ("m", "n"))
    sigma = singular_value(W, "max")
    u, v = sigma.vectors
    env, sizes = {"W": R}, {"m": 4, "n": 6}
    U_, V_ = evaluate(u, env, sizes), evaluate(v, env, sizes)
    assert np.allclose(R @ V_, evaluate(sigma, env, sizes)[0, 0] * U_)
    assert np.allclose(evaluate(SVDPolar(W), env, sizes), _svd(R)[0] @ _svd(R)[2])


def test_assumptions_are_stated_in_the_interpretation():
    notes = " ".join(derive(r"\nabla_X \lambda_{\max}(X)").reading.notes)
    assert "read X as symmetric: its eigenvalues are read as those of a symmetric matrix" in notes
    assert "λ_max(X) is the largest eigenvalue of X, assumed simple; v_max(X) is a unit eigenvector of it" in notes
    notes = " ".join(derive(r"\nabla_X \lambda_i(X)").reading.notes)
    assert f"λ_i(X) is the i-th largest eigenvalue of X, assumed simple; v_i(X) is a unit eigenvector of it " \
           f"(the 1st the largest); the check takes i = {CHECK_INDEX}" in notes
    notes = " ".join(derive(r"\nabla_X \|X\|_2").reading.notes)
    assert "‖X‖₂ is the spectral norm, the largest singular value of X, assumed simple and nonzero" in notes
    notes = " ".join(derive(r"\nabla_X \|X\|_*").reading.notes)
    assert "differentiable where X has full rank; U(X) Σ V(X)ᵀ is the thin SVD of X" in notes


def test_an_undeclared_matrix_under_an_eigenvalue_is_read_as_symmetric():
    d = derive(r"\nabla_X \lambda_{\max}(X) + \operatorname{tr}(AX)")
    assert d.reading.symbols["X"].symmetric and not d.reading.symbols["A"].symmetric
    assert d.check.passed


@pytest.mark.parametrize("cell, holds", [
    ("\\frac{d}{dt} \\lambda_{\\max}(A + tI) = 1\nA \\in \\mathbb{S}^n", True),
    ("\\frac{d}{dt} \\lambda_{\\max}(A + tI) = 2\nA \\in \\mathbb{S}^n", False),
    (r"\nabla_X \lambda_{\max}(X) = X", False),
    (r"\nabla_X \lambda_{\max}(X) = I", False),
    (r"\frac{d}{dt} \|tA\|_2^2 = 2t\|A\|_2^2", True),
    (r"\frac{d}{dt} \|tA\|_2^2 = 2t\|A\|_F^2", False),          # the Frobenius norm is another norm
    (r"\frac{d}{dt} \|tA\|_*^2 = 2t\|A\|_*^2", True),
    (r"\nabla_X \|X\|_* = X", False),
], ids=["shift", "shift_wrong", "lambda_is_not_X", "lambda_is_not_identity", "spectral_squared",
        "spectral_is_not_frobenius", "nuclear_squared", "nuclear_is_not_X"])
def test_spectral_claims(cell, holds):
    assert [c.holds for c in derive(cell).claims] == [holds]


@pytest.mark.parametrize("cell, error, pattern", [
    ("\\nabla_X \\lambda_{\\max}(X)\nX \\in \\mathbb{R}^{m \\times n}", ShapeError,
     r"λ_max\(X\) is an eigenvalue: X \(m×n\) is not square"),
    ("\\nabla_X \\lambda_{\\max}(X)\nX \\in \\mathbb{R}^{n \\times n}", ParseError,
     r"λ_max\(X\) is read as an eigenvalue of a symmetric matrix, and X is not symmetric as written; declare X "
     r"\\in \\mathbb\{S\}\^n if it is symmetric"),
    (r"\nabla_X \lambda_{\min}(A + X)", ParseError,
     r"λ_min\(A \+ X\) is read as an eigenvalue of a symmetric matrix, and A \+ X is not symmetric as written; "
     r"declare A, X \\in \\mathbb\{S\}\^n if they are symmetric"),
    (r"\nabla_X \lambda_0(X)", DerivError, r"eigen- and singular values are counted from 1 \(the largest\), not 0"),
    (r"\nabla_x \|x\|_*", ParseError, r"the nuclear norm ‖·‖_\* is of a matrix"),
    (r"\nabla^2_x \lambda_{\max}(x x^T)", DerivError,
     r"the derivative of an eigenvector \(a second derivative of an eigenvalue\) is not supported"),
    (r"\nabla^2_x \|x x^T\|_*", DerivError, r"the derivative of U Vᵀ \(a second derivative of the nuclear norm\)"),
], ids=["lambda_of_a_wide_matrix", "lambda_of_a_declared_general_matrix", "lambda_of_a_general_sum",
        "index_zero", "nuclear_of_a_vector", "second_derivative_of_lambda", "second_derivative_of_nuclear"])
def test_spectral_refusals(cell, error, pattern):
    with pytest.raises(error, match=pattern):
        derive(cell)


def test_second_derivative_of_a_singular_value_is_refused():
    W, dW = Sym("W", ("m", "n")), Sym("dW", ("m", "n"))
    with pytest.raises(DerivError, match=r"the derivative of a singular vector .* is not supported"):
        Differentiator(W, dW)(SingularVector(W, "max", "max", "u"))


def test_the_export_refuses_a_letter_index():
    with pytest.raises(DerivError, match=r"no code for λ_i\(…\) with the letter i as its index"):
        derive(r"\nabla_X \lambda_i(X)").to_source()


@pytest.mark.parametrize("M, symmetric", [
    (lambda X, A: mul(transpose(A), A), True),
    (lambda X, A: add(A, transpose(A)), True),
    (lambda X, A: mul(transpose(A), X, A), True),
    (lambda X, A: mul(A, X), False),
    (lambda X, A: add(A, X), False),
], ids=["gram", "sum_with_transpose", "congruence", "product", "sum"])
def test_symmetry_seen_from_the_structure(M, symmetric):
    X = Sym("X", ("n", "n"), props=frozenset({"symmetric"}))
    A = Sym("A", ("n", "n"))
    assert is_symmetric(M(X, A)) is symmetric


def test_sympy_forms_evaluate_with_doit():
    rng = np.random.default_rng(53)
    Ms, R = sym(rng, 3), rng.standard_normal((3, 4))
    X = Sym("X", ("n", "n"), props=frozenset({"symmetric"}))
    W = Sym("W", ("n", "m"))
    cases = [(eigenvalue(X, "max"), {"X": Ms}, np.linalg.eigvalsh(Ms)[-1]),
             (singular_value(W, "min"), {"W": R}, _svd(R)[1][-1]),
             (nuclear_norm(W), {"W": R}, _svd(R)[1].sum()),
             (SVDPolar(W), {"W": R}, _svd(R)[0] @ _svd(R)[2])]
    for e, env, want in cases:
        s_ = to_sympy(e)
        reps = {m: sp.ImmutableMatrix(env[m.name]) for m in s_.free_symbols if isinstance(m, sp.MatrixSymbol)}
        reps.update({sympy_dim("n"): sp.Integer(3), sympy_dim("m"): sp.Integer(4)})
        value = s_.xreplace(reps).doit()
        got = np.array(value.evalf().tolist(), dtype=float) if isinstance(value, sp.MatrixBase) else float(value)
        assert np.allclose(got, want)
    lam = to_sympy(eigenvalue(X, "max"))                # a commutative scalar, not a function applied entry by entry
    assert isinstance(lam, sp.Expr) and lam.is_commutative and not isinstance(lam, (sp.Function, sp.MatrixExpr))
    assert isinstance(to_sympy(SVDPolar(W)), sp.MatrixExpr)
    assert sp.latex(to_sympy(eigenvalue(X, "max"))) == r"\lambda_{\max}\left(X\right)"
    assert sp.latex(to_sympy(singular_value(W, "max", norm=True))) == r"\left\| W \right\|_{2}"


def test_every_class_of_the_module_is_exercised():
    classes = {c for _, c in inspect.getmembers(spectral, inspect.isclass)
               if issubclass(c, Expr) and c.__module__ == spectral.__name__}
    seen = set()
    for _, cell, *_ in CELLS:
        d = derive(cell)
        seen |= {type(n) for n in postorder(d.answer.function) + postorder(d.answer.result)}
    assert classes <= seen, f"classes without a cell: {sorted(c.__name__ for c in classes - seen)}"


def test_work_of_a_decomposition_is_counted_by_n_cubed():
    from derivmagic.check import cost
    X = Sym("X", ("n", "n"), props=frozenset({"symmetric"}))
    W = Sym("W", ("n", "m"))
    sizes = {"n": 64, "m": 32}
    assert cost([eigenvalue(X, "max")], sizes) == 10 * 64 ** 3 // 16384
    assert cost([SVDPolar(W)], sizes) == 10 * 64 ** 3 // 16384 + 64 * 32 // 1024   # n the largest dimension


# the contract's Derivation.result, evaluated by the corpus harness's own SymPy evaluator
RESULT_CELLS = [r"\nabla_X \lambda_{\max}(X) + \lambda_2(X)", r"\nabla_X \|X\|_2^2", r"\nabla_X \|X\|_*^2",
                r"\nabla_X \sigma_{\min}(X)", r"\nabla_x \|Ax - b\|_\infty^2", r"\nabla_X \operatorname{tr}(B X^{1/2})",
                r"\nabla_X a^T X^{-1/2} a", r"\nabla_X \operatorname{tr}(B \log X)",
                "\\frac{d}{dt} \\lambda_{\\max}(A + tB)\nA, B \\in \\mathbb{S}^n",
                "\\frac{d}{dt} \\log(A + tB)\nA \\in \\mathbb{S}^n_{++}"]


@pytest.mark.parametrize("cell", RESULT_CELLS)
def test_the_sympy_result_evaluates_in_the_corpus_harness(cell):
    import importlib.util
    from derivmagic.check import domains, sample
    from shared_data import HARNESS
    if not HARNESS.exists():
        pytest.skip("tests/data/corpus/harness.py not found")
    spec = importlib.util.spec_from_file_location("_harness", HARNESS)
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    d = derive(cell)
    rng = np.random.default_rng(54)
    sizes, kinds = dict(d.check.dims), domains(d.answer.function)
    env = {s.name: sample(s, sizes, kinds.get(s.name), rng) for s in d.reading.symbols.values()}
    want = evaluate(d.answer.result, env, sizes)
    h_env = {k: (np.array(v[0, 0]) if d.reading.symbols[k].shape == (1, 1) else v) for k, v in env.items()}
    got = np.asarray(harness.Evaluator(h_env)(d.result, list(d.symbols.values())), float)
    assert np.allclose(got.reshape(want.shape), want, rtol=1e-8, atol=1e-10)
