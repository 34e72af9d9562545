"""∇_{W,b} L: each gradient from one shared differential, checked by finite differences."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import derive
from derivmagic.check import choose_sizes, evaluate, sample
from derivmagic.expr import substitute


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


CASES = [
    ("layer", r"\nabla_{W,b} \|\sigma(Wx + b) - y\|^2",
     lambda W, b, x, y: float(np.sum((_sigmoid(W @ x + b) - y) ** 2))),
    ("affine", r"\nabla_{A, c} \|Ax + c\|^2 + c^T d",
     lambda A, c, x, d: float(np.sum((A @ x + c) ** 2) + (c.T @ d).item())),
    ("layer-on-names", "h = \\sigma(Wx + b)\nL = \\|h - y\\|^2\n\\nabla_{W,b} L",
     lambda W, b, x, y: float(np.sum((_sigmoid(W @ x + b) - y) ** 2))),
]


@pytest.mark.parametrize("cell, f", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_gradient_matches_finite_differences(cell, f):
    d = derive(cell)
    assert len(d.answers) == 2 and d.check.passed
    assert bool(d.named) == ("=" in cell)   # a cell with definitions is shown on their names
    rng = np.random.default_rng(3)
    sizes = choose_sizes(d.reading.dims)
    env = {s.name: sample(s, sizes, None, rng) for s in d.reading.symbols.values()}
    args = {k: v for k, v in env.items() if k in f.__code__.co_varnames}
    shown = [substitute(a.result, dict(a.steps[-1].meanings)) for a in d.shown_answers]
    for answer, meant in zip(d.answers, shown):
        name = answer.var.name
        got = evaluate(answer.result, env, sizes)
        assert np.allclose(evaluate(meant, env, sizes), got), f"{name}: the result shown means another one"
        want = np.zeros_like(env[name])
        for idx in np.ndindex(*env[name].shape):
            for sign in (1, -1):
                moved = dict(args)
                moved[name] = env[name].copy()
                moved[name][idx] += sign * 1e-6
                want[idx] += sign * f(**moved) / 2e-6
        assert np.allclose(got, want, atol=1e-5), name
    assert set(d.results) == {answer.var.name for answer in d.answers}


def test_the_chain_is_shared():
    d = derive(r"\nabla_{W,b} \|\sigma(Wx + b) - y\|^2")
    identifications = [s for s in d.steps if s.rule.startswith("identify")]
    assert len(identifications) == 2
    assert len(d.steps) == len(d.answers[0].steps) + 1
