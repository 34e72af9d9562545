"""The commutation matrix K_{mn} (vec(Aᵀ) = K_{mn} vec(A) for A m×n): derivatives of matrix functions
with transposes of the variable, as Kronecker forms, against NumPy Jacobians written here."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivmagic import derive
from derivmagic.check import choose_sizes, evaluate, sample
from derivmagic.codegen import planned
from derivmagic.report import derivation_latex, derivation_text
from derivmagic.rules import transpose
from derivmagic.rules.kron import Commutation, commutation
from derivmagic.expr import Identity
from derivmagic.tosympy import commutation_class


def vec(a):
    return np.asarray(a).reshape(-1, 1, order="F")


def K(m, n):
    """The commutation matrix from its definition: the entry (X)_ij is entry i + m·j of vec X and
    entry j + n·i of vec Xᵀ."""
    out = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            out[j + n * i, i + m * j] = 1.0
    return out


def fd_jacobian(f, args, var):
    """∂ vec F / ∂ vec X, column by column (central differences)."""
    X = args[var]
    cols = []
    for k in range(X.size):
        step = np.zeros(X.size)
        step[k] = 1e-6
        step = step.reshape(X.shape, order="F")
        plus, minus = dict(args), dict(args)
        plus[var], minus[var] = X + step, X - step
        cols.append(((vec(f(**plus)) - vec(f(**minus))) / 2e-6).ravel())
    return np.array(cols).T


def _I(k):
    return np.eye(k)


# (id, cell, variable, f, the Jacobian's closed form, square X)
CASES = [
    ("transpose", r"\frac{\partial}{\partial X} X^T", lambda X: X.T,
     lambda X: K(*X.shape), False),
    ("gram", r"\frac{\partial}{\partial X} X^T X", lambda X: X.T @ X,
     lambda X: np.kron(_I(X.shape[1]), X.T) + np.kron(X.T, _I(X.shape[1])) @ K(*X.shape), False),
    ("outer-gram", r"\frac{\partial}{\partial X} X X^T", lambda X: X @ X.T,
     lambda X: np.kron(X, _I(X.shape[0])) + np.kron(_I(X.shape[0]), X) @ K(*X.shape), False),
    ("quadratic", r"\frac{\partial}{\partial X} X^T A X", lambda X, A: X.T @ A @ X,
     lambda X, A: np.kron(_I(X.shape[1]), X.T @ A) + np.kron(X.T @ A.T, _I(X.shape[1])) @ K(*X.shape), False),
    ("sandwich", r"\frac{\partial}{\partial X} A X^T B", lambda X, A, B: A @ X.T @ B,
     lambda X, A, B: np.kron(B.T, A) @ K(*X.shape), False),
    ("transpose-squared", r"\frac{\partial}{\partial X} X^T X^T", lambda X: X.T @ X.T,
     lambda X: (np.kron(X, _I(len(X))) + np.kron(_I(len(X)), X.T)) @ K(*X.shape), True),
    ("symmetric-part", r"\frac{\partial}{\partial X} X + X^T", lambda X: X + X.T,
     lambda X: _I(X.size) + K(*X.shape), True),
]


def _setup(cell, layout=None):
    d = derive(cell, layout=layout)
    rng = np.random.default_rng(5)
    sizes = choose_sizes(d.reading.dims)
    env = {s.name: sample(s, sizes, None, rng) for s in d.reading.symbols.values()}
    return d, sizes, env


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("cell, f, exact, square", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_jacobian_with_transposes_matches_numpy(cell, f, exact, square, layout):
    d, sizes, env = _setup(cell, layout)
    assert d.answer.vectorized and d.check.passed
    X = env["X"]
    if not square:
        assert X.shape[0] != X.shape[1], "the sizes must tell K_mn from K_nm"
    args = {k: env[k] for k in f.__code__.co_varnames}
    want = fd_jacobian(f, args, "X")
    assert np.allclose(exact(**args), want, atol=1e-6), "the closed form written in the test is wrong"
    got = evaluate(d.answer.result, env, sizes)
    got = got if layout == "numerator" else got.T
    assert np.allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("cell, f, exact, square", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sympy_result_with_the_commutation_matrix_evaluates(cell, f, exact, square):
    d, sizes, env = _setup(cell)
    assert d.result.has(commutation_class())
    symbols = {s.name: s for s in d.result.free_symbols}
    dims = {symbols[k]: v for k, v in sizes.items() if k in symbols}
    matrices = {m: sp.ImmutableMatrix(env[m.name]) for m in d.result.atoms(sp.MatrixSymbol)}
    value = np.array(d.result.xreplace(matrices).xreplace(dims).as_explicit().tolist(), dtype=float)
    args = {k: env[k] for k in f.__code__.co_varnames}
    assert np.allclose(value, exact(**args))


def test_gram_matrix_form_and_the_misplaced_k():
    """∂vec(XᵀX)/∂vec X = (I ⊗ Xᵀ) + (Xᵀ ⊗ I) K_mn; K after the first term instead is another matrix."""
    d = derive(r"\frac{\partial}{\partial X} X^T X")
    assert "(Xᵀ ⊗ I) K_mn + I ⊗ Xᵀ" in derivation_text(d, vec=True)
    X = np.random.default_rng(0).standard_normal((3, 4))
    right = np.kron(_I(4), X.T) + np.kron(X.T, _I(4)) @ K(3, 4)
    misplaced = np.kron(_I(4), X.T) @ K(3, 4) + np.kron(X.T, _I(4))
    assert np.allclose(right, fd_jacobian(lambda X: X.T @ X, {"X": X}, "X"), atol=1e-6)
    assert not np.allclose(misplaced, right, atol=1e-3)


@pytest.mark.parametrize("m, n", [(2, 3), (3, 2), (4, 4), (1, 3)])
def test_commutation_matrix_numbers(m, n):
    A = np.arange(m * n, dtype=float).reshape(m, n) + 1
    node = commutation(m, n)
    value = evaluate(node, {}, {})
    assert np.array_equal(value, K(m, n))
    assert np.array_equal(value @ vec(A), vec(A.T))
    assert np.array_equal(evaluate(transpose(node), {}, {}), value.T)


def test_commutation_node_algebra():
    assert transpose(Commutation("m", "n")) == Commutation("n", "m")
    assert commutation("m", 1) == Identity("m") and commutation(1, "n") == Identity("n")
    assert Commutation("m", "n").shape == ("m*n", "m*n")


@pytest.mark.parametrize("cell, text, latex", [
    (r"\frac{\partial}{\partial X} X^T", "K_mn", "K_{mn}"),
    ("\\frac{\\partial}{\\partial X} X^T\nX \\in \\mathbb{R}^{12 \\times 3}", "K_(12,3)", "K_{12,3}"),
], ids=["named", "numbers"])
def test_commutation_matrix_printed(cell, text, latex):
    d = derive(cell)
    assert text in derivation_text(d, vec=True)
    assert latex in derivation_latex(d, vec=True)


@pytest.mark.parametrize("cell", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_step_with_a_transposed_differential_is_true(cell):
    """Each step d(node) = differential along a random V; the identification's differential is
    J vec(V), compared with vec (columns stacked) of the node's finite difference."""
    d, sizes, env = _setup(cell)
    rng = np.random.default_rng(2)
    for step in d.steps:
        V = rng.standard_normal(env["X"].shape)
        at = dict(env, **{step.dvar.name: V})
        plus, minus = dict(at, X=env["X"] + 1e-6 * V), dict(at, X=env["X"] - 1e-6 * V)
        fd = (evaluate(step.node, plus, sizes) - evaluate(step.node, minus, sizes)) / 2e-6
        pred = evaluate(step.differential, at, sizes)
        assert np.allclose(pred, fd if pred.shape == fd.shape else vec(fd), atol=1e-6), step.rule


def test_the_check_applies_k_without_forming_it():
    """At scale the check runs the export plan: K_mn vec(V) as vec(Vᵀ), the same numbers as K formed."""
    d = derive(r"\frac{\partial}{\partial X} X^T A X")
    a = d.answer
    sizes = {"m": 5, "n": 3}
    rng = np.random.default_rng(1)
    env = {"X": rng.standard_normal((5, 3)), "A": rng.standard_normal((5, 5)), a.dsym.name: rng.standard_normal((5, 3))}
    symbols = sorted(a.pairing.free, key=lambda s: s.name)
    plan = planned([a.pairing], symbols, sizes)
    assert "swapaxes" not in plan.program.source and 'order="F").T' in plan.program.source
    got = plan.run([env[s.name] for s in symbols])[0]
    assert np.allclose(got, evaluate(a.pairing, env, sizes))


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_exported_code_forms_the_commutation_matrix(backend):
    d = derive(r"\frac{\partial}{\partial X} X^T X")
    source = d.to_source(backend)
    assert ".swapaxes(0, 1)" in source
    if backend == "numpy":
        X = np.random.default_rng(3).standard_normal((4, 2))
        value, jac = d.to_function()(X)
        assert np.allclose(value, X.T @ X)
        assert np.allclose(jac, np.kron(_I(2), X.T) + np.kron(X.T, _I(2)) @ K(4, 2))
