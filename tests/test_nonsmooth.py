"""Nonsmooth functions as ML notes write them: ``\\max(0, u)`` and ``(u)_+`` are the positive part
(ReLU, entry by entry). Results are compared with central differences computed here, away from the
kinks; a claim true on one piece only is judged false (it is sampled on both sides of the kink)."""
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


def test_other_maxima_are_refused_in_words():
    with pytest.raises(ParseError, match=r"\\max of two expressions is read as \\max\(0, u\), the positive part"):
        derive(r"\nabla_w \max(1, w^T x)")
