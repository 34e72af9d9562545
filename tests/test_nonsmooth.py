"""Nonsmooth functions as ML notes write them: ``\\max(0, u)`` and ``(u)_+`` are the positive part
(ReLU, entry by entry); ``\\|x\\|_1`` and ``\\|x\\|_\\infty`` (sign(x) and sign(x_k) e_k at the largest |x_k|,
the first at ties). Results are compared with central differences computed here, away from the kinks
and ties; a claim true on one piece only is judged false (it is sampled on both sides of the kink)."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import ParseError, derive
from derivmagic.check import evaluate

SIZES = {"n": 3, "m": 4}


def central(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


RESULTS = [
    ("hinge", r"\nabla_w \max(0, 1 - y w^T x) \quad y \in \mathbb{R}", "w",
     lambda e: max(0.0, 1 - (e["y"] * e["w"].T @ e["x"]).item())),
    ("positive_part", r"\nabla_x \mathbf{1}^T (Wx)_+", "x", lambda e: np.maximum(e["W"] @ e["x"], 0).sum()),
    ("max_written_the_other_way", r"\nabla_x \mathbf{1}^T \max(Wx - b, 0)", "x",
     lambda e: np.maximum(e["W"] @ e["x"] - e["b"], 0).sum()),
    # the largest |x_k|: away from ties (random values) ‖·‖_∞ is differentiable, its gradient sign(x_k) e_k
    ("inf_norm", r"\nabla_x \|x\|_\infty", "x", lambda e: np.max(np.abs(e["x"]))),
    ("inf_norm_of_residual", r"\nabla_x \|Ax - b\|_\infty", "x", lambda e: np.max(np.abs(e["A"] @ e["x"] - e["b"]))),
    ("inf_norm_squared", r"\nabla_x \|x\|_\infty^2", "x", lambda e: np.max(np.abs(e["x"])) ** 2),
    ("one_norm", r"\nabla_x \|x\|_1", "x", lambda e: np.sum(np.abs(e["x"]))),
    ("one_norm_of_residual", r"\nabla_x \|Ax - b\|_1", "x", lambda e: np.sum(np.abs(e["A"] @ e["x"] - e["b"]))),
]


@pytest.mark.parametrize("cell,var,f", [r[1:] for r in RESULTS], ids=[r[0] for r in RESULTS])
def test_positive_parts_match_central_differences(cell, var, f):
    d = derive(cell)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        env = {n: rng.normal(size=tuple(SIZES.get(k, k) for k in s.shape)) for n, s in d.reading.symbols.items()}
        got = evaluate(d.answer.result, env, SIZES)
        assert np.allclose(got, central(lambda v: f({**env, var: v}), env[var]), atol=1e-5)


@pytest.mark.parametrize("cell,holds", [
    (r"\nabla_w \max(0, 1 - y w^T x) = -y x \quad y \in \mathbb{R}", False),   # true only where 1 - y wᵀx > 0
    (r"\nabla_x \mathbf{1}^T (Wx)_+ = W^T \mathbf{1}", False),
    (r"\nabla_x \mathbf{1}^T (Wx)_+ = W^T \operatorname{relu}(Wx)", False),
], ids=["hinge_without_its_step", "relu_without_its_step", "relu_for_its_step"])
def test_a_claim_true_on_one_piece_is_false(cell, holds):
    assert [c.holds for c in derive(cell).claims] == [holds]


@pytest.mark.parametrize("x, want", [
    ([2.0, -2.0, 1.0], [1.0, 0.0, 0.0]),      # a tie of |x_1| and |x_2|: the first is taken
    ([0.5, -3.0, 3.0], [0.0, -1.0, 0.0]),
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),       # at 0 the subgradient 0
    ([-1.0, 0.25, 0.5], [-1.0, 0.0, 0.0]),
], ids=["tie_first_taken", "tie_negative_first", "zero", "unique"])
def test_inf_norm_at_ties_takes_the_first_largest_entry(x, want):
    """The choice the Interpretation states: sign(x_k) e_k with the first k of the largest |x_k|."""
    d = derive(r"\nabla_x \|x\|_\infty")
    got = evaluate(d.answer.result, {"x": np.array(x).reshape(-1, 1)}, {"n": 3})
    assert np.array_equal(got.ravel(), want)
    assert any("where several tie (or x = 0) the first such k is taken, a subgradient" in n for n in d.reading.notes)


@pytest.mark.parametrize("cell,holds", [
    (r"\nabla_x \|x\|_1 = \operatorname{sign}(x)", True),
    (r"\nabla_x \|x\|_1 = x", False),
    (r"\frac{d}{dt} \|t a\|_\infty^2 = 2t\|a\|_\infty^2", True),
    (r"\frac{d}{dt} \|t a\|_\infty = \|a\|_\infty", False),       # true only for t > 0
    (r"\nabla_x \|x\|_\infty = \operatorname{sign}(x)", False),
], ids=["one_norm_sign", "one_norm_not_x", "inf_norm_squared_scaling", "inf_norm_for_positive_t_only",
        "inf_norm_is_not_sign"])
def test_norm_claims(cell, holds):
    assert [c.holds for c in derive(cell).claims] == [holds]


def test_the_matrix_inf_norm_is_refused():
    with pytest.raises(ParseError, match=r"the matrix ∞-norm \(the largest row sum\) is not supported"):
        derive(r"\nabla_X \|X\|_\infty")


def test_other_maxima_are_refused_in_words():
    with pytest.raises(ParseError, match=r"\\max of two expressions is read as \\max\(0, u\), the positive part"):
        derive(r"\nabla_w \max(1, w^T x)")
