"""Declarations of structure: a probability vector (y ∈ Δⁿ), entries summing to one (𝟏ᵀy = 1), a
one-hot vector ({0,1}ⁿ with 𝟏ᵀy = 1); their reading, their effect on simplification, on the numeric
check and on the claims judge."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import ParseError, derive
from derivmagic.check import evaluate
from derivmagic.expr import Sym
from derivmagic.render import to_text
from derivmagic import structure

SOFTMAX_CE = r"\nabla_z -y^T\log\operatorname{softmax}(z)"
CS231N = r"L = -y^T \log \operatorname{softmax}(s), s = Wx, \nabla_W L = (\operatorname{softmax}(s) - y)x^T"

DECLARATIONS = [
    ("simplex", r"y \in \Delta^n", {"simplex"}, "y ∈ Δ^n (a probability vector)"),
    ("simplex-subscript", r"y \in \Delta_n", {"simplex"}, "y ∈ Δ^n (a probability vector)"),
    ("sum-ones-first", r"\mathbf{1}^T y = 1", {"sum1"}, "y ∈ ℝ^n (entries summing to 1)"),
    ("sum-y-first", r"y^T \mathbf{1} = 1", {"sum1"}, "y ∈ ℝ^n (entries summing to 1)"),
    ("sum-with-shape", "y \\in \\mathbb{R}^n\n\\mathbf{1}^T y = 1", {"sum1"}, "y ∈ ℝ^n (entries summing to 1)"),
    ("one-hot", r"y \in \{0,1\}^n, \mathbf{1}^T y = 1", {"binary", "sum1", "onehot"}, "y ∈ ℝ^n (one-hot)"),
]


@pytest.mark.parametrize("decl, props, shown", [c[1:] for c in DECLARATIONS], ids=[c[0] for c in DECLARATIONS])
def test_declaration_read_and_softmax_gradient_simplified(decl, props, shown):
    d = derive(f"{SOFTMAX_CE}\n{decl}")
    assert set(d.reading.symbols["y"].props) == props
    assert to_text(d.expr) == "softmax(z) - y"
    assert d.check.passed
    assert shown in d.text


def test_without_a_declaration_the_general_gradient_stays():
    d = derive(SOFTMAX_CE)
    assert to_text(d.expr) == "(𝟏ᵀy) softmax(z) - y"


@pytest.mark.parametrize("decl", [c[1] for c in DECLARATIONS], ids=[c[0] for c in DECLARATIONS])
def test_cs231n_softmax_gradient_holds_with_the_declaration(decl):
    d = derive(CS231N + "\n" + decl)
    assert [c.holds for c in d.claims] == [True]


def test_cs231n_softmax_gradient_without_it_says_what_it_needs():
    claim = derive(CS231N).claims[0]
    assert not claim.holds
    assert claim.reason.startswith("holds when 𝟏ᵀy = 1")


def test_a_false_claim_under_the_declaration_has_a_counterexample_on_the_simplex():
    d = derive(SOFTMAX_CE + r" = \operatorname{softmax}(z) - 2y" + "\n" + r"y \in \Delta^n")
    claim = d.claims[0]
    assert not claim.holds
    y = np.asarray(claim.counterexample["values"]["y"], dtype=float)
    assert np.all(y >= 0) and y.sum() == pytest.approx(1, abs=1e-3)


def test_one_hot_squares_are_the_vector():
    d = derive(r"\nabla_x (y \odot y)^T x" + "\n" + r"y \in \{0,1\}^n, \mathbf{1}^T y = 1")
    assert to_text(d.expr) == "y"
    assert d.check.passed
    binary = derive(r"\nabla_x (y \odot y)^T x" + "\n" + r"y \in \{0,1\}^n")
    assert to_text(binary.expr) == "y"
    assert to_text(derive(r"\nabla_x (y \odot y)^T x").expr) == "y^(∘2)"


@pytest.mark.parametrize("cell, match", [
    (SOFTMAX_CE + "\n" + r"y \in \Theta^n", r"expected a space such as \\mathbb\{R\}\^n or \\Delta\^n"),
    (SOFTMAX_CE + "\n" + r"y \in \{0,2\}^n", r"the only set of numbers read here is \\\{0,1\\\}\^n"),
    (SOFTMAX_CE + "\n" + r"y \in \Delta^n" + "\n" + r"y \in \mathbb{R}^{m \times m}", "y is declared twice"),
], ids=["other-greek", "other-set", "contradicting-shapes"])
def test_declarations_that_cannot_be_read_are_parse_errors(cell, match):
    with pytest.raises(ParseError, match=match):
        derive(cell)


@pytest.mark.parametrize("props, rows, cols", [
    ({"simplex"}, 5, 1), ({"simplex"}, 4, 3), ({"sum1"}, 6, 1), ({"onehot"}, 5, 1), ({"binary"}, 3, 2),
], ids=["simplex", "simplex-columns", "sum-one", "one-hot", "binary"])
@pytest.mark.parametrize("integers", [False, True], ids=["real", "integer"])
def test_samples_have_the_declared_structure(props, rows, cols, integers):
    rng = np.random.default_rng(0)
    sym = Sym("y", ("n", 1) if cols == 1 else ("n", "k"), props=frozenset(props))
    for _ in range(20):
        v = structure.sample(sym, rows, cols, rng, integers=integers)
        assert v.shape == (rows, cols)
        if props & {"simplex", "sum1", "onehot"}:
            assert np.allclose(v.sum(axis=0), 1)
        if props & {"simplex", "onehot", "binary"}:
            assert np.all(v >= 0)
        if props & {"onehot", "binary"}:
            assert set(np.unique(v)) <= {0.0, 1.0}
        if "onehot" in props:
            assert np.all((v == 1).sum(axis=0) == 1)


def test_no_structure_draws_nothing_special():
    assert structure.sample(Sym("y", ("n", 1)), 3, 1, np.random.default_rng(0)) is None


def test_the_declared_result_is_the_gradient_at_probability_vectors():
    """NumPy only: at y on the simplex, softmax(z) - y is the gradient of -yᵀlog softmax(z)."""
    d = derive(f"{SOFTMAX_CE}\n" + r"y \in \Delta^n")
    rng = np.random.default_rng(5)
    z, y = rng.standard_normal(4), rng.dirichlet(np.ones(4))

    def f(v):
        s = np.exp(v - v.max())
        return -y @ np.log(s / s.sum())
    h = 1e-6
    numeric = np.array([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in np.eye(4)])
    value, grad = d.to_function()(z, y)
    assert np.allclose(np.ravel(grad), numeric, atol=1e-6)


def test_a_hessian_by_the_declared_vector_keeps_its_derivative():
    """The gradient is differentiated again by y: 𝟏ᵀy stays 𝟏ᵀy there (as 1 it would have no derivative)."""
    d = derive(r"\nabla^2_y (\mathbf{1}^Ty)^2 + y^Ty" + "\n" + r"y \in \Delta^n")
    assert d.check.passed
    H = np.asarray(evaluate(d.expr, {"y": np.full((3, 1), 1 / 3)}, {"n": 3}))
    assert np.allclose(H, 2 * np.eye(3) + 2 * np.ones((3, 3)))
