"""Labels true to the step: the rule named is the rule applied, an identification is written with
the function's and the variable's names, a chain's shapes are printed only where they are the
shapes of the Jacobians multiplied, and no line repeats the one before it."""
from __future__ import annotations

import re

import pytest

from derivmagic import derive
from derivmagic.render import to_text
from test_steps import CASES, IDS
from test_rules import derive_case

GAUSSIAN = r"\nabla_{\mu,\Sigma} -\frac{1}{2}(x-\mu)^T\Sigma^{-1}(x-\mu) - \frac12\log\det\Sigma"
MLP = "\n".join([r"h = \sigma(W_1 x + b_1)", r"\hat{y} = W_2 h + b_2",
                 r"L = \frac{1}{2}\|\hat{y} - y\|_2^2", r"\nabla_{W_1} L"])


def _line(step) -> str:
    return f"d({to_text(step.node)}) = {to_text(step.differential)}"


@pytest.mark.parametrize("cell, node, rule", [
    (r"\nabla_z -y^T \log \operatorname{softmax}(z)", "-yᵀ log(softmax(z))", "constant factor"),
    (r"\nabla_W -y^T \log \operatorname{softmax}(Wx)", "Wx", "constant factor"),
    (r"\nabla_x x^T A x", "xᵀAx", "product rule"),
    (r"\nabla_x a^T (x \odot Bx)", "(Bx) ⊙ x", "Hadamard product rule"),
    (r"\nabla_x a^T (b \odot x)", "b ⊙ x", "constant factor (elementwise)"),
], ids=["softmax-chain", "affine", "quadratic-form", "hadamard-two-factors", "hadamard-constant"])
def test_the_rule_named_is_the_rule_applied(cell, node, rule):
    d = derive(cell, expand=True)
    rules = {}
    for s in d.steps:   # the first step of each node (the identification comes after it)
        rules.setdefault(to_text(s.node), s.rule)
    assert rules[node].split(";")[0] == rule, rules


@pytest.mark.parametrize("src,case", CASES, ids=IDS)
def test_product_rules_have_two_varying_factors(src, case):
    """'product rule' where at least two factors vary; 'constant factor' where exactly one does."""
    for s in derive_case(case).steps:
        head = s.rule.split(";")[0]
        if head in ("product rule", "Hadamard product rule"):
            assert len(s.children) >= 2, (head, _line(s))
        elif head.startswith("constant factor") and s.children:
            assert len(s.children) == 1, (head, _line(s))


@pytest.mark.parametrize("cell, rule", [
    (r"\nabla_\Sigma \log\det\Sigma", "identify the gradient: df = tr(Gᵀ dΣ)"),
    (r"\nabla_X \operatorname{tr}(AX)", "identify the gradient: df = tr(Gᵀ dX)"),
    (r"\nabla_\theta \|X\theta - y\|^2", "identify the gradient: df = gᵀ dθ"),
    (MLP, "identify the gradient: dL = tr(Gᵀ dW_1)"),
    (r"\frac{d}{dt} \operatorname{tr}(e^{tA})" + "\nt \\in \\mathbb{R}", "identify the derivative: df = f′ dt"),
    (r"\frac{\partial}{\partial w} \sigma(Xw)", "identify the Jacobian: df = J dw"),
    (r"\frac{\partial}{\partial X} AXB", "identify the Jacobian: vec(df) = J vec(dX)"),
    (r"\nabla^2_\theta \theta^T A \theta", "identify the Hessian: d(∇f) = H dθ"),
], ids=["log-det", "trace", "least-squares-theta", "mlp", "scalar-variable", "jacobian", "kronecker", "hessian"])
def test_identification_names_the_variable(cell, rule):
    d = derive(cell)
    rules = [s.rule for s in d.steps]
    assert any(r == rule or r.endswith("; " + rule) or r.startswith(rule) for r in rules), rules


def test_several_variables_identify_each_by_its_name():
    d = derive(GAUSSIAN)
    identifications = [s.rule for s in d.steps if "identify" in s.rule]
    assert [r.split("identify")[1] for r in identifications] == [" the gradient: df = gᵀ dμ",
                                                                " the gradient: df = tr(Gᵀ dΣ)"]


_SHAPES = re.compile(r"\((\w+)×(\w+)\)\((\w+)×(\w+)\) = (\w+)×(\w+)")


def _numel(shape):
    r, c = shape
    return str(c) if r == 1 else str(r) if c == 1 else None


def test_no_chain_shapes_by_the_wrong_variable():
    """∇_{μ,Σ}: d(log det Σ) is not a chain by μ, and Σ is a matrix: no (1×1)(1×n) beside it."""
    d = derive(GAUSSIAN)
    step = next(s for s in d.steps if to_text(s.node) == "log(det Σ)")
    assert step.shapes == ""
    assert all(not s.shapes for s in d.steps if s.node.depends(d.reading.symbols["Sigma"]))


@pytest.mark.parametrize("src,case", CASES, ids=IDS)
def test_chain_shapes_are_the_shapes_multiplied(src, case):
    """Every (a×b)(b×c) = a×c printed: a is the node's size, b its argument's, c the size of the one
    variable whose direction the differential is written in."""
    for s in derive_case(case).steps:
        m = _SHAPES.fullmatch(s.shapes) if s.shapes else None
        if not s.shapes:
            continue
        assert m, s.shapes
        a, b, b2, c, a2, c2 = m.groups()
        directions = [v for v, dv in (s.moves or ((s.var, s.dvar),)) if dv.free & s.differential.free]
        assert len(directions) == 1, _line(s)
        assert (a, b, c) == (_numel(s.node.shape), _numel(s.children[0][0].shape), _numel(directions[0].shape))
        assert (a, b, c) == (a2, b2, c2)


@pytest.mark.parametrize("cell", [
    r"\nabla_\Sigma \log\det\Sigma" + "\n\\Sigma \\in \\mathbb{S}^n_{++}",
    r"\nabla_X \|X\|_F^2",
    r"\nabla_x \|Ax - b\|_2^2",
    r"\nabla^2_x x^T A x",
], ids=["log-det", "frobenius", "least-squares", "hessian"])
def test_no_line_repeats_the_one_before(cell):
    d = derive(cell)
    lines = [_line(s) for s in d.steps]
    assert all(a != b for a, b in zip(lines, lines[1:])), lines
    assert "identify" in d.steps[-1].rule and d.steps[-1].result is not None


@pytest.mark.parametrize("src,case", CASES, ids=IDS)
def test_no_repeated_line_anywhere(src, case):
    lines = [_line(s) for s in derive_case(case).steps]
    assert all(a != b for a, b in zip(lines, lines[1:])), lines


@pytest.mark.parametrize("cell, tex", [
    (r"\nabla_\Sigma \log\det\Sigma + \operatorname{tr}(\Sigma)", r"\operatorname{tr} ( G ^{T} \mathrm{d} \Sigma )"),
    (r"\nabla_\theta \theta^T A \theta", r"g ^{T} \mathrm{d} \theta"),
    (MLP, r"\mathrm{d} L = \operatorname{tr} ( G ^{T} \mathrm{d} W _{1} )"),
], ids=["sigma", "theta", "mlp"])
def test_identification_in_latex_names_the_variable(cell, tex):
    rows = [r for r in derive(cell).latex.splitlines() if "identify" in r]
    assert rows and tex in rows[-1], rows
