"""Derivations on the user's definitions: each definition is a node of the derivation, its
differential a step written with its name, the result written with the names and a ``where`` line;
``expand=True`` substitutes every definition. What is printed stands for its meaning with the
names substituted, and the numeric check verifies that meaning."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import check as numeric
from derivmagic import derive
from derivmagic.derivation import _meanings
from derivmagic.expr import Num, substitute
from derivmagic.rules import mul

MLP = "\n".join([r"h = \sigma(W_1 x + b_1)", r"\hat{y} = W_2 h + b_2",
                 r"L = \frac{1}{2}\|\hat{y} - y\|_2^2", r"\nabla_{W_1} L"])


def _section(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(name) + 1
    out = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        out.append(line.rstrip())
    return out


def _network(layers: int) -> str:
    lines = [r"h_1 = \sigma(W_1 x + b_1)"]
    lines += [rf"h_{{{k}}} = \sigma(W_{{{k}}} h_{{{k - 1}}} + b_{{{k}}})" for k in range(2, layers + 1)]
    lines += [rf"L = \frac{{1}}{{2}}\|h_{{{layers}}} - y\|_2^2", r"\nabla_{W_1} L"]
    return "\n".join(lines)


def test_mlp_steps_use_the_names_and_fit():
    d = derive(MLP)
    from derivmagic.render import to_text
    steps = _section(d.text, "Steps")
    lhs = [f"d{to_text(s.node)}" for s in d.steps]
    assert lhs[:3] == ["dz_1", "dh", "dŷ"]
    assert lhs[-1] == "dL"
    assert [line.strip().split(" =")[0].strip() for line in steps if line.strip().startswith(("dz_1 ", "dh ", "dL "))] \
        == ["dz_1", "dh", "dL", "dL"]
    assert all(len(line) <= 100 for line in steps), max(steps, key=len)
    assert all(len(step.text) <= 100 for step in d.steps), max((s.text for s in d.steps), key=len)
    result = _section(d.text, "Result")
    assert result[0] == "  ∇_W_1 L = ((W_2ᵀ (ŷ - y)) ⊙ h ⊙ (𝟏 - h))xᵀ"
    assert result[-1] == "  where z_1 = W_1 x + b_1, h = σ(z_1), ŷ = W_2 h + b_2"
    assert all(len(line) <= 80 for line in result)
    assert d.check.passed


@pytest.mark.parametrize("cell, steps", [
    (MLP, [("dz_1", "dW_1 x"), ("dh", "h ⊙ (𝟏 - h) ⊙ dz_1"), ("dŷ", "W_2 dh")]),
    ("u = Ax - b\n\\nabla_x u^T u", [("du", "A dx")]),
    ("z = Wx\nJ = \\delta^T z\n\\frac{\\partial J}{\\partial W}", [("dz", "dW x"), ("dJ", "δᵀ dz")]),
    ("h = \\tanh(Wx + b)\nL = \\|h - y\\|^2\n\\nabla_W L", [("dz_1", "dW x"), ("dh", "(𝟏 - h^(∘2)) ⊙ dz_1")]),
    ("p = \\operatorname{softmax}(Wx)\nJ = -y^T \\log p\n\\nabla_W J", [("dz_1", "dW x")]),
], ids=["mlp", "residual", "given-name", "tanh-layer", "softmax-layer"])
def test_each_definition_is_a_step_with_its_name(cell, steps):
    from derivmagic.render import to_text
    d = derive(cell)
    shown = [("d" + to_text(s.node), to_text(s.differential)) for s in d.steps]
    for step in steps:
        assert step in shown, shown


@pytest.mark.parametrize("cell", [MLP, "u = Ax - b\n\\nabla_x u^T u", _network(3),
                                  "p = \\operatorname{softmax}(Wx)\nJ = -y^T \\log p\n\\nabla_W J"],
                         ids=["mlp", "residual", "three-layers", "softmax-layer"])
def test_expand_gives_the_substituted_form(cell):
    named, expanded = derive(cell), derive(cell, expand=True)
    assert named.named and named.where
    assert not expanded.named and not expanded.where
    assert expanded.steps == expanded.answer.steps
    names = {s.name for s, _ in named.where}
    assert not any(n.name in names for s in expanded.steps for n in s.node.free | s.differential.free)
    # the contract's result is the substituted one either way
    assert str(named.result) == str(expanded.result)


@pytest.mark.parametrize("cell", [MLP, _network(3), "u = Ax - b\n\\nabla_x u^T u"], ids=["mlp", "three", "residual"])
def test_the_result_shown_means_the_derivative(cell):
    """The result written with names, the names substituted, equals the substituted result."""
    d = derive(cell)
    meanings = dict(d.shown_answers[0].steps[-1].meanings)
    shown = substitute(d.shown_answers[0].result, meanings)
    rng = np.random.default_rng(5)
    sizes = numeric.choose_sizes(d.reading.dims)
    for _ in range(3):
        env = {s.name: numeric.sample(s, sizes, None, rng) for s in d.reading.symbols.values()}
        assert np.allclose(numeric.evaluate(shown, env, sizes), numeric.evaluate(d.answer.result, env, sizes))


def test_the_check_verifies_what_is_shown():
    """A result shown with names that does not mean the derivative fails the numeric check."""
    d = derive(MLP)
    good = _meanings(d.named, d.answers, d.where)[0]
    assert numeric.verify(good, d.reading, 0, None).passed
    wrong = d.named[0]
    wrong.result = mul(Num(2), wrong.result)
    wrong.pairing = mul(Num(2), wrong.pairing)
    assert not numeric.verify(_meanings(d.named, d.answers, d.where)[0], d.reading, 0, None).passed


def _steps_printed(d) -> int:
    """Characters of every step printed in full, each on its own (no names introduced for display)."""
    return sum(len(s.text) for s in d.steps)


def _per_layer(sizes: dict) -> list:
    return [(sizes[8] - sizes[4]) / 4, (sizes[16] - sizes[8]) / 8]


def test_printed_size_grows_linearly_in_the_number_of_definitions():
    """Through L layers the derivation printed on the names grows by about the same amount per
    layer, steps and whole display alike; substituted, each step repeats the network below it and
    the steps grow quadratically."""
    cells = {n: _network(n) for n in (4, 8, 16)}
    named = {n: derive(c, check=False) for n, c in cells.items()}
    for measure in (_steps_printed, lambda d: len(d.latex), lambda d: len(d.text)):
        sizes = {n: measure(d) for n, d in named.items()}
        first, second = _per_layer(sizes)
        assert second <= 1.25 * first, sizes
    assert _steps_printed(named[16]) <= 200 * 16
    expanded = {n: _steps_printed(derive(c, check=False, expand=True)) for n, c in cells.items()}
    first, second = _per_layer(expanded)
    assert second > 2 * first, expanded    # the measure tells quadratic from linear


def test_several_variables_on_the_names():
    d = derive(MLP.replace(r"\nabla_{W_1} L", r"\nabla_{W_1, b_1} L"))
    assert [a.var.name for a in d.named] == ["W_1", "b_1"]
    from derivmagic.render import to_text
    assert [to_text(a.result) for a in d.named] == ["((W_2ᵀ (ŷ - y)) ⊙ h ⊙ (𝟏 - h))xᵀ", "(W_2ᵀ (ŷ - y)) ⊙ h ⊙ (𝟏 - h)"]
    assert d.check.passed
    identifications = [s for s in d.steps if s.rule.startswith("identify")]
    assert [s.rule for s in identifications] == ["identify the gradient: dL = tr(Gᵀ dW_1)",
                                                 "identify the gradient: dL = gᵀ db_1"]


@pytest.mark.parametrize("cell", [
    "f = x^T A x\n\\nabla^2_x f",                      # a Hessian: shown substituted
    "\\nabla_x \\|Ax - b\\|^2",                         # no definitions
    "f(x) = x^T A x\n\\nabla_x f(x)",                  # a function of its argument, not a value
], ids=["hessian", "no-definitions", "function-definition"])
def test_substituted_where_names_do_not_apply(cell):
    d = derive(cell)
    assert not d.named and not d.where
    assert d.steps == d.answer.steps


def test_shown_substituted_when_the_names_cannot_carry_the_derivative(monkeypatch):
    """Reading the derivative off on the names failing with a DerivError leaves the substituted
    derivation (already derived and checked) shown, not an error."""
    import derivmagic.derivation as derivation
    from derivmagic.differentiate import TensorNeeded

    def refuse(*args, **kwargs):
        raise TensorNeeded("needs a tensor")
    monkeypatch.setattr(derivation, "solve_named", refuse)
    d = derive(MLP)
    assert not d.named and not d.where and d.check.passed
    assert d.steps == d.answer.steps


@pytest.mark.parametrize("cell, where", [
    (MLP, ["z_1", "h", "y\u0302"]),
    ("S = X^T X + \\lambda I\nf = \\log\\det S\n\\nabla_X f", ["S"]),          # log of a scalar: no z
    ("z = Wx\na = \\sigma(z)\n\\frac{\\partial a}{\\partial x}", ["z", "a"]),   # already named by the cell
    ("h = \\sigma(z + b)\nL = \\|h\\|^2\n\\nabla_z L", ["a_1", "h"]),            # z is taken: another letter
], ids=["mlp", "scalar-argument", "named-by-the-cell", "z-taken"])
def test_names_introduced_for_an_activations_argument(cell, where):
    from derivmagic.render import to_text
    d = derive(cell)
    assert [to_text(s) for s, _ in d.where] == where
