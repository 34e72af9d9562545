"""Index notation read into matrix form: the derivative agrees with finite differences of the sum."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import ParseError, ShapeError, derive
from derivmagic.check import choose_sizes, evaluate, sample
from derivmagic.render import to_text

CASES = [
    ("squares", r"\nabla_x \sum_i x_i^2", "x", lambda x: np.sum(x ** 2), "xᵀx"),
    ("dot", r"\nabla_x \sum_{i=1}^n a_i x_i", "x", lambda a, x: np.sum(a * x), "aᵀx"),
    ("frobenius", r"\nabla_X \sum_{i,j} X_{ij}^2", "X", lambda X: np.sum(X ** 2), "‖X‖_F²"),
    ("trace", r"\nabla_X \sum_{i,j} A_{ij} X_{ij}", "X", lambda A, X: np.sum(A * X), "tr(AᵀX)"),
    ("transposed", r"\nabla_X \sum_{i,j} A_{ji} X_{ij}", "X", lambda A, X: np.sum(A.T * X), None),
    ("logsumexp", r"\nabla_x \log\sum_i \exp(x_i)", "x", lambda x: np.log(np.sum(np.exp(x))), None),
    ("rows", r"\nabla_w \sum_i (y_i - w^T x_i)^2", "w", lambda y, X, w: np.sum((y - X @ w) ** 2), None),
    ("scaled", r"\nabla_x \sum_i c x_i^3", "x", lambda c, x: np.sum(c * x ** 3), None),
    ("log", r"\nabla_x \sum_i \log(1 + x_i^2)", "x", lambda x: np.sum(np.log(1 + x ** 2)), None),
]


@pytest.mark.parametrize("cell, var, f, form", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_index_sums(cell, var, f, form):
    d = derive(cell)
    assert d.check.passed
    assert any("sum over" in n for n in d.reading.notes)
    if form:
        assert to_text(d.answer.function) == form
    rng = np.random.default_rng(5)
    sizes = choose_sizes(d.reading.dims)
    env = {s.name: sample(s, sizes, None, rng) for s in d.reading.symbols.values()}
    args = {k: env[k] for k in f.__code__.co_varnames}
    got = evaluate(d.answer.result, env, sizes)
    X = env[var]
    want = np.zeros_like(X)
    for idx in np.ndindex(*X.shape):
        plus, minus = dict(args), dict(args)
        plus[var], minus[var] = X.copy(), X.copy()
        plus[var][idx] += 1e-6
        minus[var][idx] -= 1e-6
        want[idx] = (f(**plus) - f(**minus)) / 2e-6
    assert np.allclose(got, want, atol=1e-5)


def test_rows_of_a_data_matrix_are_said():
    d = derive(r"\nabla_w \sum_i (y_i - w^T x_i)^2")
    assert any("rows of a data matrix X" in n for n in d.reading.notes)
    assert d.reading.symbols["X"].shape[1] == d.reading.symbols["w"].shape[0]


@pytest.mark.parametrize("cell, error, words", [
    (r"\nabla_x \sum_i x_j^2", ParseError, r"does not depend on i"),
    (r"\nabla_x \sum_i x_i^{i}", ParseError, r"index in an exponent"),
    (r"\nabla_x \sum_i \operatorname{tr}(x_i)", ParseError, r"not supported in index notation"),
    ("\\nabla_x \\sum_i b x_i\nb \\in \\mathbb{R}^3", ShapeError, r"must be a scalar"),
], ids=["other-index", "index-exponent", "trace", "vector-coefficient"])
def test_unsupported_index_expressions_say_why(cell, error, words):
    with pytest.raises(error, match=words):
        derive(cell)


DERIVATIVES_IN_SUMS = [
    # a derivative by an entry inside a sum over that entry's index is a gradient; of an entry, a column
    ("gradient_in_components", r"\delta_{\mathbf{v}}f(\mathbf{x}) = \nabla f(\mathbf{x}) \cdot \mathbf{v} = "
                               r"\sum_d \frac{\partial f}{\partial x_d} v_d", [True, True]),
    ("gradient_in_components_squared", r"\delta_{\mathbf{v}}f(\mathbf{x}) = \sum_d \frac{\partial f}{\partial x_d} v_d^2",
     [False]),
    ("product_rule_in_components", r"\frac{\partial}{\partial x_i} u^T v = \sum_{j=1}^m \frac{\partial u_j}{\partial x_i} "
                                   r"v_j + \sum_{j=1}^m u_j \frac{\partial v_j}{\partial x_i}", [True]),
    ("product_rule_in_components_other_layout", r"\nabla_x u^T v = \sum_{j=1}^m \frac{\partial u_j}{\partial x} v_j + "
                                                r"\sum_{j=1}^m u_j \frac{\partial v_j}{\partial x}", [False]),
]


@pytest.mark.parametrize("cell,verdicts", [r[1:] for r in DERIVATIVES_IN_SUMS], ids=[r[0] for r in DERIVATIVES_IN_SUMS])
def test_derivatives_inside_sums(cell, verdicts):
    d = derive(cell)
    assert [c.holds for c in d.claims] == verdicts, d.text
    assert all("division" not in n for n in d.reading.notes)
