"""Every emitted step is a true equality.

A step states ``d(step.node) = step.differential`` with the differential linear in the
direction ``step.dvar`` (for identification steps the differential is ``df`` written
with the result).  It is checked numerically at a few random points: the symbols are
sampled, the direction symbol is set to a random ``V`` shaped like the variable (its
column symbol to ``Vᵀ`` when the variable is a row), and the differential is compared
with the central finite difference of the node along ``V``.  The differential must also
be linear in the direction (doubling ``V`` doubles it).

Cases: the public corpus (``tests/data/corpus/public_cases.py``, without its error and
claim cases) and the rule table of ``test_rules.py``.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from derivmagic import check as numeric
from derivmagic import derive
from derivmagic.expr import Sym
from derivmagic.rules import Transpose
from test_rules import RULE_CASES, as2d, bind_sizes, derive_case, make_env, sample

STEP_TOL = 1e-5
POINTS = 3
from shared_data import CORPUS as CORPUS_FILE  # noqa: E402


def load_corpus() -> list[dict]:
    if not CORPUS_FILE.exists():
        return []
    spec = importlib.util.spec_from_file_location("derivmagic_public_cases", CORPUS_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [c for c in mod.CASES if "expect_error" not in c and not any(k.startswith("claim") for k in c)]


def _corpus_sample(kind, shape, rng):
    if kind == "prob":
        v = rng.uniform(0.1, 1.0, shape)
        return v / v.sum()
    return sample(kind, shape, rng)


def corpus_env(case, rng) -> dict:
    kinds = case.get("sample", {})
    out = {}
    for name, shape in case["shapes"].items():
        shape = tuple(shape)
        if len(shape) == 1:
            shape = shape + (1,)
        out[name] = _corpus_sample(kinds.get(name, "normal"), shape, rng)
    return out


CORPUS = load_corpus()
CASES = [("corpus", c) for c in CORPUS] + [("rule", c) for c in RULE_CASES]
IDS = [f"{src}-{c['id']}" for src, c in CASES]


def _direction_env(env2: dict, step, var: Sym, V: np.ndarray) -> dict:
    """env with the step's direction symbol set to V (or Vᵀ for a column symbol of a row variable),
    and the directions of the other variables that move with it (∇_{W,b}) set to zero."""
    out = dict(env2)
    for other, dother in step.moves:
        if other != var and other.name in env2:
            for s in dother.free:
                value = env2[other.name]
                out[s.name] = np.zeros(value.shape if s.shape == other.shape else value.T.shape)
    dvar = step.dvar
    if isinstance(dvar, Transpose) and isinstance(dvar.args[0], Sym):
        out[dvar.args[0].name] = V.T
    elif isinstance(dvar, Sym):
        out[dvar.name] = V if dvar.shape == var.shape else V.T
    else:
        raise AssertionError(f"step {step.rule!r}: unexpected direction {dvar!r}")
    return out


def check_steps(d, env2: dict, sizes: dict, rng) -> list[str]:
    """Messages for the steps that do not hold at this point. A step written with the names of the
    cell's definitions (``dŷ = W_2 dh``) is checked for what it means, the names substituted."""
    bad = []
    for i, step in enumerate(d.steps):
        var = step.var if step.var is not None else d.answer.var
        node, differential = step.meaning()
        shape = env2[var.name].shape
        V = rng.standard_normal(shape)
        if var.symmetric:
            V = (V + V.T) / 2
        V /= np.linalg.norm(V)
        with np.errstate(all="ignore"):
            env_v = _direction_env(env2, step, var, V)
            pred = np.asarray(numeric.evaluate(differential, env_v, sizes), float)
            fd = np.asarray(numeric.directional_fd(node, var, env_v, sizes, V), float)
            pred2 = np.asarray(numeric.evaluate(differential, _direction_env(env2, step, var, 2 * V), sizes), float)
        if pred.size == fd.size:
            fd = fd.reshape(pred.shape)
        err = numeric.relative_error(pred, fd)
        if not err <= STEP_TOL:
            bad.append(f"step {i + 1} [{step.rule}]: d({step.node!r}) = {step.differential!r} is off by {err:.2e}")
        lin = numeric.relative_error(pred2, 2 * pred)
        if not lin <= 1e-9:
            bad.append(f"step {i + 1} [{step.rule}]: {step.differential!r} is not linear in {step.dvar!r} ({lin:.1e})")
    return bad


@pytest.mark.parametrize("src,case", CASES, ids=IDS)
def test_every_step_is_a_true_equality(src, case):
    d = derive_case(case)
    assert d.steps, "no steps emitted"
    _check_at_points(src, case, d)
    if d.named:   # the steps on the definitions' names above; the substituted ones too
        _check_at_points(src, case, derive(case["cell"], layout=case.get("layout"), expand=True))


def _check_at_points(src, case, d):
    rng = np.random.default_rng(case.get("seed", 3) + 1000)
    for _ in range(POINTS):
        env = corpus_env(case, rng) if src == "corpus" else make_env(case, rng)
        env2 = {k: as2d(v) for k, v in env.items()}
        sizes = bind_sizes(d, env2)
        bad = check_steps(d, env2, sizes, rng)
        assert not bad, "\n".join(bad)


def test_corpus_found_or_absent():
    """The corpus, when present, contributes the cases this file promises to check."""
    if not CORPUS_FILE.exists():
        pytest.skip("tests/data/corpus is missing")
    assert len(CORPUS) >= 30, f"only {len(CORPUS)} corpus cases loaded"


@pytest.mark.parametrize("expand", [False, True], ids=["on-names", "expanded"])
@pytest.mark.parametrize("index", [0, -1], ids=["first-step", "identification"])
def test_step_check_detects_a_false_step(expand, index):
    """The step checker is not vacuous: a step whose differential is doubled is caught, in the
    steps written with the definitions' names (checked for their meaning) and in the expanded ones."""
    from dataclasses import replace

    from derivmagic.expr import Num
    from derivmagic.rules import mul
    case = next(c for c in RULE_CASES if c["id"] == "chain_residual")
    d = derive(case["cell"], expand=expand)  # a fresh Derivation: it is modified below
    assert bool(d.named) is not expand
    rng = np.random.default_rng(0)
    env2 = {k: as2d(v) for k, v in make_env(case, rng).items()}
    sizes = bind_sizes(d, env2)
    assert not check_steps(d, env2, sizes, rng)
    steps = d.shown_answers[0].steps
    steps[index] = replace(steps[index], differential=mul(Num(2), steps[index].differential))
    assert check_steps(d, env2, sizes, rng), "a doubled differential was accepted"


NAMED_CELLS = {
    "mlp": "\n".join([r"h = \sigma(W_1 x + b_1)", r"\hat{y} = W_2 h + b_2",
                      r"L = \frac{1}{2}\|\hat{y} - y\|_2^2", r"\nabla_{W_1} L"]),
    "mlp-two-variables": "\n".join([r"h = \sigma(W_1 x + b_1)", r"\hat{y} = W_2 h + b_2",
                                    r"L = \frac{1}{2}\|\hat{y} - y\|_2^2", r"\nabla_{W_1, b_1} L"]),
    "three-tanh-layers": "\n".join([r"h_1 = \tanh(W_1 x)", r"h_2 = \tanh(W_2 h_1)", r"h_3 = \tanh(W_3 h_2)",
                                    r"L = \|h_3 - y\|^2", r"\nabla_{W_2} L"]),
    "softmax-layer": "p = \\operatorname{softmax}(Wx + b)\nJ = -y^T \\log p\n\\nabla_W J",
    "jacobian": "z = Wx\na = \\sigma(z)\n\\frac{\\partial a}{\\partial x}",
    "matrix-name": "S = X^T X + \\lambda I\nf = \\log\\det S\n\\nabla_X f",
}


@pytest.mark.parametrize("cell", list(NAMED_CELLS.values()), ids=list(NAMED_CELLS))
def test_steps_on_the_names_are_true_equalities(cell):
    """Every step written with the definitions' names (dŷ = W_2 dh), checked for its meaning."""
    d = derive(cell)
    assert d.named, "the cell is not shown on its definitions' names"
    rng = np.random.default_rng(11)
    sizes = numeric.choose_sizes(d.reading.dims)
    for _ in range(POINTS):
        env2 = {s.name: as2d(numeric.sample(s, sizes, None, rng)) for s in d.reading.symbols.values()}
        bad = check_steps(d, env2, sizes, rng)
        assert not bad, "\n".join(bad)
