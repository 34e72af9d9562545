"""Arbitrary functions: f(x) with no definition, or declared f: ℝⁿ → ℝᵐ.

Results are compared with central differences computed here, of the smooth random map that
stands for each function; rules stated as claims must hold, and their mistaken forms must not.
"""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import DerivError, derive
from derivmagic.check import evaluate

SIZES = {"n": 3, "m": 2, "p": 4, "q": 2, "k": 3}


def sample(d, seed=0):
    rng = np.random.default_rng(seed)
    env = {}
    for name, s in d.reading.symbols.items():
        shape = tuple(SIZES.get(x, x) if isinstance(x, str) else x for x in s.shape)
        env[name] = rng.normal(size=shape)
    return env


def finite_difference_gradient(d, env, h=1e-6):
    """∂f/∂(each entry of the variable), by central differences of the function as read."""
    f, var = d.answer.function, d.answer.var
    x = env[var.name]
    out = np.zeros(x.shape + tuple(np.shape(evaluate(f, env, SIZES))))
    for idx in np.ndindex(x.shape):
        plus, minus = dict(env), dict(env)
        plus[var.name] = x.copy()
        plus[var.name][idx] += h
        minus[var.name] = x.copy()
        minus[var.name][idx] -= h
        out[idx] = (evaluate(f, plus, SIZES) - evaluate(f, minus, SIZES)) / (2 * h)
    return out


GRADIENTS = [
    ("plain", r"\nabla_x f(x)"),
    ("scaled", r"\nabla_x c f(x)"),
    ("linear_argument", "f: \\mathbb{R}^m \\to \\mathbb{R}\n\\nabla_x f(Ax)"),
    ("composition_scalar", "g: \\mathbb{R}^m \\to \\mathbb{R}\n\\nabla_x g(h(x))"),
    ("inner_product", r"\nabla_x f(x)^T g(x)"),
    ("squared_norm", r"\nabla_x \|f(x)\|^2"),
    ("loss_of_linear_model", r"\nabla_w L(Xw)"),
    ("scalar_argument", r"\frac{d}{dt} f(t)^2"),
    ("function_of_a_matrix", r"\nabla_X f(X)"),
    ("function_of_a_linear_map_of_a_matrix", r"\nabla_X f(AXB)"),
    ("square_of_a_function_of_a_matrix", r"\nabla_X f(X)^T f(X)"),
]


@pytest.mark.parametrize("cell", [c for _, c in GRADIENTS], ids=[i for i, _ in GRADIENTS])
def test_gradients_match_finite_differences(cell):
    d = derive(cell)
    assert d.check.passed, d.check
    env = sample(d)
    got = evaluate(d.answer.result, env, SIZES)
    want = finite_difference_gradient(d, env)
    assert np.allclose(got.reshape(-1), want.reshape(-1), atol=1e-6), (cell, got, want)


def test_jacobian_of_a_composition_is_the_product_of_jacobians():
    d = derive(r"\frac{\partial}{\partial x} g(h(x))")
    assert d.text.count("J_g(h(x)) J_h(x)") >= 1
    env = sample(d)
    got = evaluate(d.answer.result, env, SIZES)
    fd = finite_difference_gradient(d, env)          # (n, 1, p, 1): ∂g_i/∂x_j
    assert np.allclose(got, fd[:, 0, :, 0].T, atol=1e-6)


CLAIMS = [
    ("linearity", r"\nabla_x (f(x) + g(x)) = \nabla_x f(x) + \nabla_x g(x)", True),
    ("linearity_wrong_sign", r"\nabla_x (f(x) + g(x)) = \nabla_x f(x) - \nabla_x g(x)", False),
    ("scaling", r"\nabla_x c f(x) = c \nabla_x f(x)", True),
    ("scaling_forgotten", r"\nabla_x c f(x) = \nabla_x f(x)", False),
    ("scaling_jacobian", r"\frac{\partial}{\partial x} c f(x) = c \frac{\partial}{\partial x} f(x)", True),
    ("directional_linear", r"D f(x)[2v] = 2 D f(x)[v]", True),
    ("directional_other_direction", r"D f(x)[v] = D f(x)[2v]", False),
    ("sum_of_two_scaled", r"\nabla_x (f(x) + 2g(x)) = \nabla_x f(x) + 2\nabla_x g(x)", True),
    # derivatives as values inside the claimed side
    ("product_rule", r"\nabla_x u^Tv = (\frac{\partial u}{\partial x})^T v + (\frac{\partial v}{\partial x})^T u", True),
    ("product_rule_term_missing",
     r"\nabla_x u^Tv = (\frac{\partial u}{\partial x})^T v + (\frac{\partial v}{\partial x})^T v", False),
    ("chain_rule", r"\frac{\partial z}{\partial x} = \frac{\partial z}{\partial y}\frac{\partial y}{\partial x}", True),
    ("chain_rule_scalar", r"\nabla_x z = \frac{dz}{dy} \nabla_x y", True),
    ("chain_rule_through_definition",
     "\\frac{\\partial z}{\\partial x} = \\frac{\\partial z}{\\partial y}\\frac{\\partial y}{\\partial x}\ny = Ax", True),
    ("chain_rule_with_h", "\\frac{\\partial z}{\\partial x} = \\frac{\\partial z}{\\partial y} A\ny = Ax", True),
    ("chain_rule_wrong_factor",
     "\\frac{\\partial z}{\\partial x} = \\frac{\\partial z}{\\partial y} A^T\ny = Ax\nA \\in \\mathbb{R}^{n \\times n}", False),
    ("layout_identity", r"\nabla_x f(x) = \left(\frac{\partial f}{\partial x} \right)^T", True),
    ("layout_identity_untransposed", r"\nabla_x f(x) = \frac{\partial f}{\partial x}", False),
    ("scaled_derivative_value", r"\nabla_x (3 f(x)) = 3 (\frac{\partial f}{\partial x})^T", True),
    # D applied to expressions, D of a function at a point, D inside a transpose
    # parentheses keep an operator to what they enclose; ∇f(u) is the gradient of f at the point u
    ("product_rule_grouped", r"\nabla_x ( f(x) g(x) ) = ( \nabla_x f(x) ) g(x) + (\nabla_x g(x)) f(x)", True),
    ("product_rule_grouped_term_missing", r"\nabla_x ( f(x) g(x) ) = ( \nabla_x f(x) ) g(x)", False),
    ("product_rule_of_matrices", r"\nabla \left( f(X)^T g(X) \right) = \left( \nabla f(X) \right) g(X) + \left( \nabla g(X) \right) f(X)", True),
    ("gradient_at_a_point", r"\nabla_X f(AXB) = A^T \nabla f(AXB) B^T", True),
    ("gradient_at_a_point_untransposed", r"\nabla_X f(AXB) = A \nabla f(AXB) B \quad A, B \in \mathbb{R}^{n \times n}", False),
    ("chain_rule_through_a_scalar", r"\nabla_X \log f(X) = \frac{1}{f(X)} \nabla_X f(X)", True),
    # ∂_v f, δ_𝐯 f: along v; ∂_x f: by x; a · b of two vectors: the inner product
    ("linear_in_the_direction", r"\partial_{a_1\mathbf{v}_1+a_2\mathbf{v}_2}f(\mathbf{x}) = "
                                r"a_1\partial_{\mathbf{v}_1}f(\mathbf{x}) + a_2\partial_{\mathbf{v}_2}f(\mathbf{x})", True),
    ("linear_in_the_direction_wrong_coefficient", r"\partial_{a_1\mathbf{v}_1+a_2\mathbf{v}_2}f(\mathbf{x}) = "
                                                  r"a_1\partial_{\mathbf{v}_1}f(\mathbf{x}) + a_1\partial_{\mathbf{v}_2}f(\mathbf{x})", False),
    ("directional_as_inner_product", r"\delta_{\mathbf{v}}f(\mathbf{x}) = \nabla f(\mathbf{x}) \cdot \mathbf{v}", True),
    ("directional_as_transposed_gradient", r"\delta_{\mathbf{v}}f(\mathbf{x}) = \nabla f(\mathbf{x})^T \mathbf{v}", True),
    ("directional_of_a_definition", "f(x) = x^T A x \\quad \\partial_v f(x) = v^T (A + A^T) x", True),
    ("directional_of_a_definition_half", "f(x) = x^T A x \\quad \\partial_v f(x) = v^T A x", False),
    ("partial_by_the_variable", r"\partial_x (x^T A x) = x^T (A + A^T)", True),
    ("inner_product_dot", "f(x) = a \\cdot x \\quad \\nabla_x f(x) = a", True),
    ("d_of_expressions", "f(x) = x^T A x \\quad Df(x)[v] = D(x^T)[v](Ax) + x^T D(Ax)[v]", True),
    ("d_of_expressions_wrong", "f(x) = x^T A x \\quad Df(x)[v] = 2 x^T D(Ax)[v]", False),
    ("product_rule_operator",
     "f(x) = a(x)^T c(x) \\quad Df(x)[v] = (D a(x)[v])^T c(x) + a(x)^T (D c(x)[v])", True),
    ("product_rule_operator_term_missing", "f(x) = a(x)^T c(x) \\quad Df(x)[v] = (D a(x)[v])^T c(x)", False),
    ("chain_rule_operator", "f(x) = g(h(x)) \\quad Df(x)[v] = Dg(h(x))[Dh(x)[v]]", True),
    ("chain_rule_operator_wrong_point", "f(x) = g(h(x)) \\quad Df(x)[v] = Dg(x)[Dh(x)[v]]\ng: \\mathbb{R}^n \\to \\mathbb{R}^p\nh: \\mathbb{R}^n \\to \\mathbb{R}^n", False),
    # (g ∘ h)(x) = g(h(x)): ∘ between function names applied to an argument is composition
    ("composition_chain_rule", r"D(g \circ h)(x)[v] = Dg(h(x))[Dh(x)[v]]", True),
    ("composition_chain_rule_wrong_point", r"D(g \circ h)(x)[v] = Dg(x)[Dh(x)[v]] \quad g: \mathbb{R}^n \to "
                                           r"\mathbb{R}^p \quad h: \mathbb{R}^n \to \mathbb{R}^n", False),
    ("composition_of_three", r"D(f \circ g \circ h)(x)[v] = Df(g(h(x)))[Dg(h(x))[Dh(x)[v]]]", True),
    ("composition_of_scalars", r"\frac{d}{dt} (f \circ g)(t) = f'(g(t)) g'(t)", True),
    ("composition_of_scalars_wrong_point", r"\frac{d}{dt} (f \circ g)(t) = f'(t) g'(t)", False),
    # f'(x)[v]: the derivative at x applied to v, as D f(x)[v]
    ("prime_applied_to_a_differential", r"f(x) = x^T A x \quad df = f'(x)[dx] = x^T (A + A^T) dx", [True, True]),
    ("prime_applied_to_a_differential_symmetric", r"f(x) = x^T A x \quad df = f'(x)[dx] = 2x^T A dx", [True, False]),
    ("prime_applied_to_a_matrix", r"f(X) = X^2 \quad f'(X)[V] = XV + VX", True),
    ("prime_applied_to_a_matrix_commuted", r"f(X) = X^2 \quad f'(X)[V] = 2XV", False),
    ("prime_applied_of_an_arbitrary_function", r"f'(x)[v] = J_f(x) v", True),
    ("prime_applied_of_an_arbitrary_function_doubled", r"f'(x)[v] = 2 J_f(x) v", False),
    # J_h(x) written as derivmagic prints it: h's Jacobian at x (unless the cell defines J_h)
    ("jacobian_notation_chain", r"\frac{\partial}{\partial x} g(h(x)) = J_g(h(x)) J_h(x)", True),
    ("jacobian_notation_chain_reversed", r"\frac{\partial}{\partial x} g(h(x)) = J_h(x) J_g(h(x)) \quad h: \mathbb{R}^3 "
                                         r"\to \mathbb{R}^3 \quad g: \mathbb{R}^3 \to \mathbb{R}^3", False),
    ("jacobian_notation_gradient", r"\nabla_x (g \circ h)(x) = J_h(x)^T \nabla g(h(x))", True),
    ("jacobian_notation_gradient_untransposed", r"\nabla_x (g \circ h)(x) = J_h(x) \nabla g(h(x)) \quad h: \mathbb{R}^3 "
                                                r"\to \mathbb{R}^3", False),
    ("jacobian_notation_defined_by_the_cell", r"\frac{\partial}{\partial x} g(h(x)) = J_g(h(x)) J_h(x) \quad J_h(x) = 3x",
     False),
    # f'(u): the derivative of a function of a scalar, at u (σ' of the logistic sigmoid entry by entry)
    ("prime_chain_rule", r"\frac{d}{dx} g(f(x)) = g'(f(x)) f'(x)", True),
    ("prime_chain_rule_wrong_point", r"\frac{d}{dx} g(f(x)) = g'(x) f'(x)", False),
    ("prime_of_a_curve", r"\frac{d}{dt} \|f(t)\|^2 = 2 f(t)^T f'(t)", True),
    ("prime_of_a_curve_twice", r"\frac{d}{dt} \|f(t)\|^2 = 2 f'(t)^T f'(t)", False),
    ("prime_of_a_ridge", r"\nabla_x g(w^T x) = g'(w^T x) w", True),
    ("prime_of_a_ridge_wrong_point", r"\nabla_x g(w^T x) = g'(x) w", False),
    ("prime_of_a_definition", r"f(x) = \sin(x) \quad f'(x) = \cos(x)", True),
    ("prime_of_a_definition_wrong", r"f(x) = \sin(x) \quad f'(x) = -\cos(x)", False),
    ("sigmoid_prime", r"\sigma'(z) = \sigma(z) \odot (1 - \sigma(z)) \quad z \in \mathbb{R}^n", True),
    ("sigmoid_prime_wrong", r"\sigma'(z) = \sigma(z) \odot \sigma(z) \quad z \in \mathbb{R}^n", False),
    ("sigmoid_prime_in_a_gradient", r"\nabla_x \mathbf{1}^T \sigma(Wx) = W^T \sigma'(Wx)", True),
    ("sigmoid_prime_in_a_gradient_transposed", r"\nabla_x \mathbf{1}^T \sigma(Wx) = W \sigma'(W^T x) \quad W \in "
                                               r"\mathbb{R}^{3 \times 3}", False),
]


@pytest.mark.parametrize("cell,holds", [r[1:] for r in CLAIMS], ids=[r[0] for r in CLAIMS])
def test_rules_over_arbitrary_functions_are_judged(cell, holds):
    d = derive(cell)
    assert [c.holds for c in d.claims] == (holds if isinstance(holds, list) else [holds]), d.text


D_OF_EXPRESSIONS = [
    ("quadratic_form", r"D(x^T A x)[v]", lambda e: e["v"].T @ e["A"] @ e["x"] + e["x"].T @ e["A"] @ e["v"]),
    ("transpose_times", r"D(x^T)[v]", lambda e: e["v"].T),
    ("log_of_inner_product", r"D(\log(a^T x))[v]", lambda e: (e["a"].T @ e["v"]) / (e["a"].T @ e["x"])),
]


@pytest.mark.parametrize("cell,reference", [r[1:] for r in D_OF_EXPRESSIONS], ids=[r[0] for r in D_OF_EXPRESSIONS])
def test_d_of_an_expression_is_its_directional_derivative(cell, reference):
    d = derive(cell)
    env = sample(d)
    if "log" in cell:
        env["x"] = np.abs(env["x"]) + 1
        env["a"] = np.abs(env["a"]) + 1
    assert np.allclose(evaluate(d.answer.result, env, SIZES), reference(env))


def test_the_interpretation_says_what_a_function_is():
    d = derive(r"\nabla_x f(x)")
    assert "f: ℝⁿ → ℝ, an arbitrary differentiable function" in d.reading.notes
    d = derive("f: \\mathbb{R}^n \\to \\mathbb{R}^m\n\\frac{\\partial}{\\partial x} f(x)")
    assert "f: ℝⁿ → ℝᵐ, declared" in d.reading.notes
    assert "f" not in d.symbols


def test_a_bare_function_under_a_derivative_is_a_function_of_the_variable():
    d = derive(r"\frac{\partial z}{\partial x}")
    assert "J_z(x)" in d.text


def test_a_product_stays_a_product():
    d = derive(r"\frac{d}{dt} \alpha (t + 1)^2")
    assert not any("arbitrary" in n for n in d.reading.notes)


@pytest.mark.parametrize("cell,message", [
    ("f: \\mathbb{R}^{m \\times n} \\to \\mathbb{R}^p \\quad \\nabla_X \\|f(X)\\|^2",
     r"f maps m×n to p×1: an arbitrary function takes a scalar, a vector or a matrix, and a function of a matrix has scalar values"),
    (r"\nabla^3_x f(x)", r"the third derivative of the arbitrary function f is not supported yet"),
    (r"f'(x) = \nabla f(x) \quad x \in \mathbb{R}^3", r"f'\(x\): a prime is read for a function of a scalar \(or "
     r"σ' entry by entry\), and x is 3×1 here"),
    (r"f''(x) = 2", r"f''\(…\): derivatives of an arbitrary function beyond the first are not read yet"),
    (r"x' = 2", r"unexpected '=' here: expected '\('"),
], ids=["vector_function_of_a_matrix", "third_derivative", "prime_of_a_vector", "second_prime", "prime_alone"])
def test_refusals_say_what_is_missing(cell, message):
    with pytest.raises(DerivError, match=message):
        derive(cell)


def test_no_code_for_an_arbitrary_function():
    with pytest.raises(DerivError, match="no code for a result with the arbitrary function"):
        derive(r"\nabla_x f(x)").to_source()


def test_an_argument_of_another_shape_is_refused():
    with pytest.raises(DerivError, match=r"f is applied to y \(2×1\), not to a point of its domain ℝ\^3"):
        derive("f: \\mathbb{R}^3 \\to \\mathbb{R}\n\\nabla_x f(x) + f(y)\ny \\in \\mathbb{R}^2")


def test_a_rule_in_the_other_layout_is_said_to_be_one():
    cell = r"\frac{\partial z}{\partial x} = \frac{\partial y}{\partial x}\frac{\partial z}{\partial y}"
    claim, = derive(cell).claims
    assert not claim.holds
    assert claim.reason == ("true in denominator layout; in numerator layout the factors come in the other "
                            "order (use --layout denominator if your course does)")
    assert derive(cell, layout="denominator").claims[0].holds


def test_circ_between_values_stays_the_entrywise_product():
    d = derive(r"\nabla_x \mathbf{1}^T (x \circ x) = 2x")
    assert [c.holds for c in d.claims] == [True]
    assert not any("composition" in n for n in d.reading.notes)
    d = derive(r"D(g \circ h)(x)[v]")
    assert "read ∘ between functions applied to an argument as composition: (g ∘ h)(x) = g(h(x))" in d.reading.notes


# ---- bilinear maps: "B(\cdot, \cdot) … bilinear" in the prose; d B(u, w) = B(du, w) + B(u, dw)
_BILINEAR_PAGE = ("Let $B(\\cdot, \\cdot)$ be any bilinear function, and a, c vector-valued functions of x.\n\n"
                  "$$f(\\mathbf{x}) = B(\\mathbf{a}(\\mathbf{x}), \\mathbf{c}(\\mathbf{x}))$$\n\n$$Df(\\mathbf{x})[\\mathbf{v}] = {}$$\n")


@pytest.mark.parametrize("claim, holds", [
    (r"B(D\mathbf{a}(\mathbf{x})[\mathbf{v}], \mathbf{c}(\mathbf{x})) + B(\mathbf{a}(\mathbf{x}), "
     r"D\mathbf{c}(\mathbf{x})[\mathbf{v}])", True),
    (r"B(\mathbf{a}(\mathbf{x}), D\mathbf{c}(\mathbf{x})[\mathbf{v}]) + B(D\mathbf{a}(\mathbf{x})[\mathbf{v}], "
     r"\mathbf{c}(\mathbf{x}))", True),
    (r"B(D\mathbf{a}(\mathbf{x})[\mathbf{v}], \mathbf{c}(\mathbf{x}))", False),
    (r"2B(D\mathbf{a}(\mathbf{x})[\mathbf{v}], \mathbf{c}(\mathbf{x}))", False),
    (r"B(D\mathbf{a}(\mathbf{x})[\mathbf{v}], D\mathbf{c}(\mathbf{x})[\mathbf{v}])", False),
], ids=["product_rule", "product_rule_reordered", "one_term", "twice_one_term", "both_differentials"])
def test_the_product_rule_of_a_bilinear_map_is_judged(claim, holds):
    from derivmagic.document import check_document
    page = _BILINEAR_PAGE.replace("{}", claim)
    statements = [s for s in check_document(page) if s.verdict in ("holds", "false")]
    assert [s.verdict for s in statements] == ["holds" if holds else "false"], \
        [(s.verdict, s.reason) for s in check_document(page)]


def test_a_bilinear_map_is_said_and_checked_with_a_bilinear_instance():
    from derivmagic import derive_all
    from derivmagic.rules.abstract import BilinearApply
    d, = derive_all("B(\\cdot, \\cdot) is a bilinear map.\n$$f(x) = B(a(x), c(x))$$\n$$D f(x)[v]$$")
    assert any("a bilinear map" in n for n in d.reading.notes + d.warnings + [d.text])
    node = next(n for n in _nodes(d.answer.function) if isinstance(n, BilinearApply))
    rng = np.random.default_rng(0)
    u, u2, w = rng.normal(size=(3, 1)), rng.normal(size=(3, 1)), rng.normal(size=(4, 1))
    sizes = {dim: 2 for dim in d.reading.dims}
    B = lambda a, b: node.evaluate([a, b], sizes)   # noqa: E731
    assert np.allclose(B(2 * u + u2, w), 2 * B(u, w) + B(u2, w))
    assert np.allclose(B(u, 3 * w), 3 * B(u, w)) and not np.allclose(B(u, w), 0)


def _nodes(e):
    from derivmagic.expr import postorder
    return postorder(e)


def test_a_gradient_through_a_bilinear_map_is_refused_by_name():
    from derivmagic import derive_all
    with pytest.raises(DerivError, match="a gradient through the bilinear map B is not read yet"):
        derive_all("B(\\cdot, \\cdot) is a bilinear map.\n$$\\nabla_x B(Ax, x) + x^Tx$$")
    with pytest.raises(DerivError, match="a Jacobian through the bilinear map B is not read yet"):
        derive_all("B(\\cdot, \\cdot) is a bilinear map.\n$$\\frac{\\partial}{\\partial x} B(Ax, x) + x$$")
