"""The numeric check at scale, matrix-free: Hessians probed as Hessian-vector products, Kronecker
forms applied as vec(Q V Pᵀ), log det by slogdet, large inputs drawn once per check. Every test
counts work units, array sizes or calls; none times anything."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from derivmagic import check, derive, limits
from derivmagic.check import choose_sizes, domains, evaluate, sample

LSE_HESSIAN = r"\nabla^2_x \log(\mathbf{1}^T \exp(x))"
AXB = r"\frac{\partial}{\partial X} AXB"


def _checked(cell, dims):
    """derive() with its check, the work it counted and the most bytes NumPy held at once."""
    tracemalloc.start()
    try:
        with limits.measure() as work:
            d = derive(cell, dims=dims)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return d, sum(work), peak


SCALE = [
    # cell, sizes, what the dense evaluation would hold (bytes), at most this much here
    ("lse-hessian", LSE_HESSIAN, {"n": 10_000}, 8 * 10_000 ** 2, 40_000_000),
    ("kronecker-AXB", AXB, {"m": 100, "n": 100, "p": 100, "q": 100}, 8 * 100 ** 4, 20_000_000),
]


@pytest.mark.parametrize("cell, dims, dense, bound", [s[1:] for s in SCALE], ids=[s[0] for s in SCALE])
def test_checks_at_scale_without_the_dense_matrix(cell, dims, dense, bound):
    d, work, peak = _checked(cell, dims)
    assert d.check.passed, d.check.summary
    assert d.check.dims == dims
    assert peak < bound < dense / 10
    assert work < limits.LIMITS["work"]


def test_hessian_check_work_grows_linearly_in_n():
    works = {n: _checked(LSE_HESSIAN, {"n": n})[1] for n in (20_000, 40_000)}
    # O(n) work per probe: twice the size, about twice the work (an n×n Hessian would be four times)
    assert 1.5 < works[40_000] / works[20_000] < 2.5


@pytest.mark.parametrize("cell, dims", [
    (r"\nabla_X \log\det X", {"m": 400}),
    ("\\nabla_X \\log\\det X\nX \\in \\mathbb{S}^m_{++}", {"m": 300}),
], ids=["general", "spd"])
def test_log_det_checks_where_det_overflows(cell, dims):
    d = derive(cell, check=False)
    rng = np.random.default_rng(0)
    sizes = choose_sizes(d.reading.dims, (), dims)
    with np.errstate(over="ignore"):
        X = sample(d.answer.var, sizes, domains(d.answer.function).get("X"), rng)
        assert not np.isfinite(np.linalg.det(X))      # the determinant itself overflows here
    checked = derive(cell, dims=dims)
    assert checked.check.passed and not checked.check.message, checked.check.summary
    assert checked.check.note == ""   # no scaling down was needed to stay finite
    value, _ = checked.to_function()(X)
    assert np.isclose(value, np.linalg.slogdet(X)[1])


@pytest.mark.parametrize("dims, draws", [({"n": 30}, 3), ({"n": 300}, 1)], ids=["small", "large"])
def test_large_inputs_are_drawn_once_per_check(monkeypatch, dims, draws):
    calls = []

    def counting(sym, sizes, kind, rng):
        calls.append(sym.name)
        return sample(sym, sizes, kind, rng)
    monkeypatch.setattr(check, "sample", counting)
    d = derive(r"\nabla_x x^T A x", dims=dims)
    assert d.check.passed
    assert calls.count("A") == draws


CELLS = {
    "lse-hessian": LSE_HESSIAN,
    "logistic-hessian": r"\nabla^2_x \mathbf{1}^T \log(1 + \exp(-y \odot Ax))",
    "quadratic-hessian": r"\nabla^2_x x^T A x + \|x\|^2",
    "kronecker-inverse": r"\frac{\partial}{\partial X} X^{-1}",
    "kronecker-XAX": r"\frac{\partial}{\partial X} X A X",
    "kronecker-layer": r"\frac{\partial}{\partial W} \sigma(Wx)",
    "logdet-trace": "\\nabla_X \\log\\det X + \\operatorname{tr}(X^{-1} S)\nX \\in \\mathbb{S}^n_{++}",
    "softmax-ce": "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\nabla_\\theta J",
    "gram": r"\nabla_X \|X^T X - S\|_F^2",
}


@pytest.mark.parametrize("cell", list(CELLS.values()), ids=list(CELLS))
def test_the_plan_agrees_with_the_trees_on_every_evaluation_of_the_check(monkeypatch, cell):
    """With every evaluation planned (PLAN_ABOVE below any cost) the check gives the same verdict,
    and the planned numbers equal the node-by-node ones."""
    d = derive(cell)
    assert d.check.passed
    monkeypatch.setattr(check, "PLAN_ABOVE", -1)
    planned = derive(cell)
    assert planned.check.passed and planned.check.probes == d.check.probes
    rng = np.random.default_rng(5)
    sizes = choose_sizes(d.reading.dims)
    kinds = domains(d.answer.function)
    env = {s.name: sample(s, sizes, kinds.get(s.name), rng) for s in d.reading.symbols.values()}
    env[d.answer.dsym.name] = rng.standard_normal(check.concrete(d.answer.dsym.shape, sizes))
    for root in (d.answer.function, d.answer.result, d.answer.pairing):
        run = check._plan(root, sizes)
        assert run is not None
        fn, symbols = run
        got = fn.run([env[s.name] for s in symbols])[0]
        assert np.allclose(got, evaluate(root, env, sizes, memo={}))


@pytest.mark.parametrize("cell", [r"\nabla_x \|g(Ax)\|^2",
                                  "f: \\mathbb{R}^n \\to \\mathbb{R}^m\n\\frac{\\partial}{\\partial x} \\mathbf{1}^T f(x)"],
                         ids=["arbitrary-function", "declared-function"])
def test_what_the_plan_cannot_write_is_evaluated_node_by_node(monkeypatch, cell):
    """An arbitrary function (g, f: ℝⁿ → ℝᵐ) has no plan: the check evaluates it as before."""
    monkeypatch.setattr(check, "PLAN_ABOVE", -1)
    d = derive(cell)
    assert check._plan(d.answer.function, d.check.dims) is None
    assert d.check.passed


def test_an_identity_in_a_hessian_is_never_formed():
    """2I + (log-sum-exp's Hessian) applied to v: 2v plus O(n) terms, no n×n identity."""
    d, work, peak = _checked(r"\nabla^2_x \|x\|^2 + \log(\mathbf{1}^T \exp(x))", {"n": 20_000})
    assert d.check.passed, d.check.summary
    assert peak < 40_000_000 < 8 * 20_000 ** 2


def test_a_planned_evaluation_is_refused_before_it_allocates():
    """x xᵀ inside the function is n×n whatever the plan: refused by the size limit, not computed."""
    # n² numbers for x xᵀ: the plan's first step that would pass the limit is refused before it runs
    with pytest.raises(limits.LimitError, match=r"evaluating this expression at n=40,000 needs arrays of "
                                                r"1,600,000,000 numbers in all, more than the limit"):
        derive(r"\nabla_x \|x x^T\|_F^2", dims={"n": 40_000})


def test_a_plan_the_runner_cannot_follow_falls_back_to_the_trees(monkeypatch):
    from derivmagic import program

    def refuse(self, args, tally=None):
        raise program.PlanError("not understood")
    dims = {"m": 20, "n": 20, "p": 20, "q": 20}   # the Kronecker product has 160,000 entries: planned
    runs = []
    follow = program.Function.run
    monkeypatch.setattr(program.Function, "run", lambda self, args, tally=None: runs.append(1) or follow(self, args, tally))
    planned = derive(AXB, dims=dims)
    assert len(runs) == 3   # the pairing of each probe
    monkeypatch.setattr(program.Function, "run", refuse)
    trees = derive(AXB, dims=dims)
    assert planned.check.passed and trees.check.passed
    assert trees.check.max_error == pytest.approx(planned.check.max_error, rel=0.5, abs=1e-9)
