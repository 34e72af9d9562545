"""Matrix-valued functions of matrices: vec F by vec X as Kronecker expressions."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivmagic import derive, DerivError
from derivmagic.check import choose_sizes, evaluate, sample


def _vec(a):
    return np.asarray(a).reshape(-1, 1, order="F")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


CASES = [
    ("inverse", r"\frac{\partial}{\partial X} X^{-1}", "X", lambda X: np.linalg.inv(X), {"X": "invertible"}),
    ("AXB", r"\frac{\partial}{\partial X} AXB", "X", lambda A, X, B: A @ X @ B, {}),
    ("layer", r"\frac{\partial}{\partial W} \sigma(Wx)", "W", lambda W, x: _sigmoid(W @ x), {}),
    ("outer", r"\frac{\partial}{\partial x} x x^T", "x", lambda x: x @ x.T, {}),
    ("product", r"\frac{\partial}{\partial X} X A X", "X", lambda X, A: X @ A @ X, {}),
]


@pytest.mark.parametrize("cell, var, f, kinds", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kronecker_jacobian_matches_finite_differences(cell, var, f, kinds):
    d = derive(cell)
    assert d.answer.vectorized and d.check.passed
    rng = np.random.default_rng(4)
    sizes = choose_sizes(d.reading.dims)
    env = {s.name: sample(s, sizes, kinds.get(s.name), rng) for s in d.reading.symbols.values()}
    args = {k: env[k] for k in f.__code__.co_varnames}
    K = evaluate(d.answer.result, env, sizes)
    X = env[var]
    cols = []
    for j in range(X.size):
        e = np.zeros(X.size)
        e[j] = 1e-6
        step = e.reshape(X.shape, order="F")
        plus, minus = dict(args), dict(args)
        plus[var], minus[var] = X + step, X - step
        cols.append(((_vec(f(**plus)) - _vec(f(**minus))) / 2e-6).ravel())
    assert np.allclose(K, np.array(cols).T, atol=1e-5)


def test_sympy_result_is_a_kronecker_product_that_evaluates():
    d = derive(r"\frac{\partial}{\partial X} AXB")
    assert d.result.has(sp.KroneckerProduct)
    A = sp.ImmutableMatrix([[1, 2], [0, 1], [3, 1]])
    B = sp.ImmutableMatrix([[1, 0, 2]])
    reps = {s: {"A": A, "B": B}[s.name] for s in d.result.atoms(sp.MatrixSymbol)}
    value = d.result.xreplace(reps).doit()
    assert value == sp.kronecker_product(B.T, A)


@pytest.mark.parametrize("cell", [r"\frac{\partial}{\partial X} X \circ X", r"\frac{\partial}{\partial X} \operatorname{tr}(X) X"],
                         ids=["hadamard-of-matrices", "scalar-factor"])
def test_unsupported_kronecker_form_says_what_to_do(cell):
    with pytest.raises(DerivError, match=r"L·dXᵀ·R terms .* D F\(X\)\[V\]"):
        derive(cell)
