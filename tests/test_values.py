"""Lines of values: a line pasted alone that continues a derivation (``= …``), a chain whose first
side holds a derivative, and a definition followed by its rewritings. The first side is worked out
(its derivatives evaluated, each checked by finite differences), and every link after it is judged.

Values are compared with NumPy written here; each kind of line has a true and a false form.
"""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import DerivError, derive
from derivmagic.check import evaluate


SIZES = {"n": 3, "m": 4}


def values(d, seed=0):
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=tuple(SIZES.get(k, k) for k in s.shape)) for name, s in d.reading.symbols.items()}


def test_a_continuation_line_is_worked_out_and_checked():
    d = derive(r"\Rightarrow = \mathbf{v}^\top \mathbf{A} \mathbf{x} + \mathbf{x}^\top D(\mathbf{A} \mathbf{x})[\mathbf{v}]")
    env = values(d)
    want = env["v"].T @ env["A"] @ env["x"] + env["x"].T @ env["A"] @ env["v"]
    assert np.allclose(evaluate(d.answer.result, env, SIZES), want)
    assert d.check is not None and d.check.passed
    assert any("continues a line that is not in the cell" in n for n in d.reading.notes)


CLAIMS = [
    # δ_ij with free i and j: the Kronecker delta; an entry x_i beside x_j has a free index too
    ("kronecker_delta", r"\frac{\partial y_i}{\partial x_j} = \delta_{ij} \quad y = x", [True]),
    ("kronecker_delta_twice", r"\frac{\partial y_i}{\partial x_j} = 2\delta_{ij} \quad y = x", [False]),
    ("kronecker_delta_with_an_entry", r"\frac{\partial y_i}{\partial x_j} = \delta_{ij} a_i \quad y = a \odot x", [True]),
    ("kronecker_delta_missing", r"\frac{\partial y_i}{\partial x_j} = a_i \quad y = a \odot x", [False]),
    ("another_entry_of_the_variable", r"\frac{\partial}{\partial x_j} x_i^2 = 2 x_i \delta_{ij}", [True]),
    ("another_entry_taken_for_the_same", r"\frac{\partial}{\partial x_j} x_i^2 = 2 x_j", [False]),
    # \begin{cases} with the conditions i = j and i ≠ j (or otherwise): δ_ij a + (1 − δ_ij) b
    ("cases_of_an_entry_formula", r"y = -\log(x) \quad \frac{\partial y_i}{\partial x_j} = "
     r"\begin{cases} -1/x_i & : i=j \\ 0 & : i \neq j \end{cases}", [True]),
    ("cases_with_a_wrong_sign", r"y = -\log(x) \quad \frac{\partial y_i}{\partial x_j} = "
     r"\begin{cases} 1/x_i & : i=j \\ 0 & : i \neq j \end{cases}", [False]),
    ("cases_otherwise_in_words", r"z = \tanh(x) \quad \frac{\partial z_i}{\partial x_j} = "
     r"\begin{cases} 1 - z_i^2 & \text{if } i=j \\ 0 & \text{otherwise} \end{cases}", [True]),
    ("cases_in_the_other_order", r"y = a \odot x \quad \frac{\partial y_i}{\partial x_j} = "
     r"\begin{cases} 0 & i \ne j \\ a_i & i = j \end{cases}", [True]),
    ("cases_off_the_diagonal_wrong", r"y = a \odot x \quad \frac{\partial y_i}{\partial x_j} = "
     r"\begin{cases} a_i & i = j \\ a_j & i \neq j \end{cases}", [False]),
    ("continuation_with_a_derivative_first", r"= \frac{\partial(x_1^3 + e^{x_2}x_1)}{\partial x_1} = 3x_1^2 + e^{x_2}", [True]),
    ("continuation_with_a_derivative_first_wrong", r"= \frac{\partial(x_1^3 + e^{x_2}x_1)}{\partial x_1} = 3x_1^2", [False]),
    ("continuation_of_values", r"= v^T A x + x^T D(A x)[v] = v^T (A + A^T) x", [True]),
    ("continuation_of_values_wrong", r"= v^T A x + x^T D(A x)[v] = 2 v^T A x", [False]),
    ("chain_rule_transposed", r"\left(\frac{\partial z}{\partial x} \right)^T = \left(\frac{\partial y}{\partial x} \right)^T "
                              r"\left(\frac{\partial z}{\partial y} \right)^T", [True]),
    ("chain_rule_transposed_wrong_order", r"\left(\frac{\partial z}{\partial x} \right)^T = \left(\frac{\partial z}{\partial y} "
                                          r"\right)^T \left(\frac{\partial y}{\partial x} \right)^T \quad y \in \mathbb{R}^n", [False]),
    ("definition_then_its_rewritings", r"J(\mathbf{z}) = \|\mathbf{y} - \mathbf{z}\|_2^2 = \left\| \begin{bmatrix} y_1 - z_1 \\ "
                                       r"y_2 - z_2 \end{bmatrix} \right\|_2^2 = (y_1 - z_1)^2 + (y_2 - z_2)^2", [True, True]),
    ("definition_then_a_wrong_rewriting", r"J(\mathbf{z}) = \|\mathbf{y} - \mathbf{z}\|_2^2 = (y_1 - z_1)^2 + (y_2 + z_2)^2 "
                                          r"\quad y, z \in \mathbb{R}^2", [False]),
]



def test_a_line_of_values_is_shown_as_written():
    d = derive(r"= v^T A x + x^T D(A x)[v]")
    assert "v^T A x + x^T D(A x)[v]" in d.text
    assert "the value of the line as written (its derivatives worked out)" in d.text


def test_no_code_for_a_line_of_values():
    d = derive(r"= v^T A x + x^T D(A x)[v]")
    with pytest.raises(DerivError, match="no code for a line of values"):
        d.to_source()


def test_an_assignment_is_not_judged_as_an_equation():
    """x^{(t+1)} = x^{(t)} − α∇f: an update rule (its left side is new), never a false claim."""
    with pytest.raises(DerivError):
        derive(r"x^{(t+1)} = x^{(t)} - \alpha \nabla_x f(x^{(t)})")


def test_a_definition_with_rewritings_and_a_derivative():
    """derive() answers the derivative; derive_all() also judges the rewritings of the definition."""
    from derivmagic import derive_all
    cell = r"y = f(x) = \sum_{i=1}^n x_i^2 = \|x\|_2 \quad \nabla_x y = 2x"
    d = derive(cell)
    assert [c.holds for c in d.claims] == [True]
    assert any("rewritings of a definition" in n for n in d.reading.notes)
    assert [[c.holds for c in e.claims] for e in derive_all(cell)] == [[False], [True]]


COMPONENT_FUNCTIONS = [
    ("directional_as_components", r"\mathbf{c} = Dh(\mathbf{x})[\mathbf{v}] = \begin{pmatrix} \nabla h_1(\mathbf{x}) \cdot "
                                  r"\mathbf{v} \\ \nabla h_2(\mathbf{x}) \cdot \mathbf{v} \\ \dots \\ \nabla h_n(\mathbf{x}) "
                                  r"\cdot \mathbf{v} \end{pmatrix}", [True]),
    ("directional_as_components_transposed", r"Dh(\mathbf{x})[\mathbf{v}] = \begin{pmatrix} \nabla h_1(\mathbf{x}) \cdot "
                                             r"\mathbf{v} \\ \nabla h_1(\mathbf{x}) \cdot \mathbf{v} \end{pmatrix}", [False]),
    ("gradient_of_components", r"\nabla h(\mathbf{x}) = \begin{bmatrix} \frac{\partial h_1(\mathbf{x})}{\partial x_1} & "
                               r"\dots & \frac{\partial h_n(\mathbf{x})}{\partial x_1} \\ \vdots & \ddots & \vdots \\ "
                               r"\frac{\partial h_1(\mathbf{x})}{\partial x_k} & \dots & \frac{\partial h_n(\mathbf{x})}"
                               r"{\partial x_k} \end{bmatrix}", [True]),
]



POINT_NOTATION = [
    # h_{1,(x)}: h_1 taken at x; Dh_{(x)}: the derivative of h at x (its Jacobian); (a, b, …): a row
    ("components_at_a_point", r"\mathbf{c} = Dh(\mathbf{x})[\mathbf{v}] = \begin{pmatrix} \mathbf{v}^\top \nabla "
                              r"h_{1,(\mathbf{x})} \\ \vdots \\ \mathbf{v}^\top \nabla h_{n,(\mathbf{x})} \end{pmatrix}", [True]),
    ("chain_rule_as_matrices", r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = (\nabla g_{(h(\mathbf{x}))})^\top "
                               r"Dh_{(\mathbf{x})} \mathbf{v}", [True]),
    ("chain_rule_as_matrices_doubled", r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = 2(\nabla g_{(h(\mathbf{x}))})^\top "
                                       r"Dh_{(\mathbf{x})} \mathbf{v}", [False]),
    # vᵀ Dh ∇g with x ∈ ℝ³, h(x) ∈ ℝ⁴ fits only with Dh = (∇h_1, …, ∇h_4), 3×4: so read (and said), it holds
    ("chain_rule_as_matrices_transposed", r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = \mathbf{v}^\top "
                                          r"Dh_{(\mathbf{x})} \nabla g_{(h(\mathbf{x}))} \quad x \in \mathbb{R}^3 "
                                          r"\quad h: \mathbb{R}^3 \to \mathbb{R}^4", [True]),
    # D h(x) written where only the gradients-as-columns arrangement fits (the note's Dh = (∇h_1, …, ∇h_n))
    ("gradients_as_columns", r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = (\nabla g(h(\mathbf{x})))^\top "
                             r"Dh(\mathbf{x})^\top \mathbf{v} \quad x \in \mathbb{R}^3 \quad h: \mathbb{R}^3 \to "
                             r"\mathbb{R}^4", [True]),
    ("gradients_as_columns_doubled", r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = 2(\nabla g(h(\mathbf{x})))^\top "
                                     r"Dh(\mathbf{x})^\top \mathbf{v} \quad x \in \mathbb{R}^3 \quad h: \mathbb{R}^3 "
                                     r"\to \mathbb{R}^4", [False]),
    ("jacobian_where_it_fits", r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = \nabla g(h(\mathbf{x}))^\top "
                               r"Dh(\mathbf{x}) \mathbf{v} \quad x \in \mathbb{R}^3 \quad h: \mathbb{R}^3 \to \mathbb{R}^4",
     [True]),
    # (x) after ∂f/∂x_1: the point the partial derivative is taken at, alone, in a product, in a sum
    ("partial_at_its_point", r"f(\mathbf{x}) = \mathbf{u}^\top \mathbf{x} \quad \frac{\partial f}{\partial x_1}"
                             r"(\mathbf{x}) = u_1", [True]),
    ("partial_at_its_point_wrong_entry", r"f(\mathbf{x}) = \mathbf{u}^\top \mathbf{x} \quad \frac{\partial f}"
                                         r"{\partial x_1}(\mathbf{x}) = u_2", [False]),
    ("partials_at_a_point_in_a_sum", r"f(\mathbf{x}) = \|\mathbf{x}\|^2 \quad \delta_{\mathbf{v}} f(\mathbf{x}) = "
                                     r"\sum_{d=1}^n \frac{\partial f}{\partial x_d}(\mathbf{x}) v_d", [True]),
    ("partials_at_a_point_in_a_sum_wrong", r"f(\mathbf{x}) = \|\mathbf{x}\|^2 \quad \delta_{\mathbf{v}} f(\mathbf{x}) = "
                                           r"\sum_{d=1}^n \frac{\partial f}{\partial x_d}(\mathbf{x}) x_d", [False]),
    ("partials_at_a_point_written_out", r"f(\mathbf{x}) = \|\mathbf{x}\|^2 \quad \delta_{\mathbf{v}} f(\mathbf{x}) = "
                                        r"\frac{\partial f}{\partial x_1}(\mathbf{x}) v_1 + \frac{\partial f}{\partial x_2}"
                                        r"(\mathbf{x}) v_2 \quad x, v \in \mathbb{R}^2", [True]),
]


def test_the_arrangement_of_d_h_and_the_point_of_a_partial_are_said():
    cell = {row[0]: row[1] for row in POINT_NOTATION}
    columns = derive(cell["gradients_as_columns"])
    assert any("the gradients ∇h_i as its columns" in n for n in columns.reading.notes)
    assert not any("columns" in n for n in derive(cell["jacobian_where_it_fits"]).reading.notes)
    at = derive(cell["partial_at_its_point"])
    assert "read (x) after ∂/∂x_1 as the point the derivative is taken at" in at.reading.notes


def test_a_gradient_at_a_point_is_of_a_scalar_function():
    """∇g(h(x)) with g undeclared: g is read as scalar-valued (∇ of a vector function is unusual)."""
    d = derive(r"f(x) = g(h(x)) \quad Df(\mathbf{x})[\mathbf{v}] = \mathbf{v}^\top Dh(\mathbf{x}) \nabla g(h(\mathbf{x}))")
    assert "g: ℝᵐ → ℝ, an arbitrary differentiable function" in d.text
    assert [c.holds for c in d.claims] == [True]


def test_a_continued_line_continues_its_first_statement_not_a_definition_after_a_comma():
    from derivmagic import derive_all
    cell = (r"\begin{aligned} f(\mathbf{x}) &= g(h(\mathbf{x})) \\ Df(\mathbf{x})[\mathbf{v}] &= Dg(h(\mathbf{x}))"
            r"[\mathbf{c}], \mathbf{c} = Dh(\mathbf{x})[\mathbf{v}] \\ &= %s \end{aligned}")
    d, c = derive_all(cell % r"\nabla g(h(\mathbf{x})) \cdot \mathbf{c}")
    assert [c.holds for c in d.claims] == [True, True]
    assert c.answer.kind == "value" and not c.claims     # c = Dh(x)[v], worked out on its own
    d, _ = derive_all(cell % r"2\nabla g(h(\mathbf{x})) \cdot \mathbf{c}")
    assert [c.holds for c in d.claims] == [True, False]



def test_a_tuple_is_a_row_and_a_definition_is_worked_out():
    d = derive(r"\mathbf{c}^\top = (\mathbf{v}^\top \nabla h_{1,(\mathbf{x})}, \dots, \mathbf{v}^\top \nabla "
               r"h_{n,(\mathbf{x})})")
    assert d.answer.kind == "value" and d.answer.result.shape == (3, 1)   # c, the transposed row
    assert d.check is not None and d.check.passed


def test_a_claim_about_an_undefined_function_through_others_says_so():
    d = derive(r"Df(\mathbf{x})[\mathbf{v}] = Dg(h(\mathbf{x}))[Dh(\mathbf{x})[\mathbf{v}]]")
    assert d.claims[0].diagnosis == "undefined"


MORE = [
    # Σ_i of function components and of derivatives; columns side by side; an exercise's empty right side
    ("sum_of_components", r"\nabla_x \sum_{i=1}^m f_i(x) = \sum_{i=1}^m \nabla_x f_i(x)", [True]),
    ("sum_of_components_squared", r"\nabla_x \sum_{i=1}^m f_i(x) = \sum_{i=1}^m \nabla_x f_i(x)^2", [False]),
    ("columns_side_by_side", r"Dh(x)[v] = (\nabla h_1(x), \nabla h_2(x))^T v", [True]),
    ("columns_side_by_side_untransposed", r"Dh(x)[v] = (\nabla h_1(x), \nabla h_2(x)) v", [False]),
    # ∇f(x)^T: the transposed gradient at x (a row), on either side; never ∇ of f(x)ᵀ
    ("gradient_transposed_claimed", r"\frac{\partial f}{\partial x} = \nabla f(x)^T", [True]),
    ("gradient_untransposed_claimed", r"\frac{\partial f}{\partial x} = \nabla f(x) \quad f: \mathbb{R}^3 \to \mathbb{R}",
     [False]),
    ("gradient_transposed_first", r"\nabla f(x)^T v = \frac{\partial f}{\partial x} v", [True]),
    ("gradient_transposed_first_doubled", r"\nabla f(x)^T v = 2\frac{\partial f}{\partial x} v", [False]),
]



def test_columns_side_by_side_are_the_transposed_jacobian():
    d = derive(r"= (\nabla h_1(x), \nabla h_2(x), \nabla h_3(x))")
    assert d.answer.result.shape[1] == 3 and d.check.passed


def test_a_line_ending_with_equals_asks_for_its_right_side():
    d = derive(r"f(X) = \operatorname{tr}(AX) \quad \Rightarrow Df(\mathbf{X})[\mathbf{V}] =")
    assert any("ends with '='" in n for n in d.reading.notes)
    env = values(d)
    assert np.allclose(evaluate(d.answer.result, env, SIZES), np.trace(env["A"] @ env["V"]))


def test_a_definition_with_a_derivative_inside_is_differentiated_through_it():
    """v = uᵀ∇_x u with u = Ax − b: v = (Ax − b)ᵀAᵀ, so ∇_x v (denominator layout) is AᵀAᵀ."""
    d = derive("u = Ax - b\nv = u^T \\nabla_x u\n\\nabla_x v")
    env = values(d)
    assert np.allclose(evaluate(d.answer.result, env, SIZES), env["A"].T @ env["A"].T)
    assert d.check.passed


def test_a_continued_line_continues_its_first_statement_not_a_remark_after_quad():
    """∇‖x‖⁴ = … \\quad \\text{here } y = f(x) = ‖x‖² \\\\ &= 2y·2x: the continuation belongs to ∇‖x‖⁴."""
    from derivmagic import derive_all
    cell = (r"\begin{aligned} \nabla_x \|x\|_2^4 &= \frac{dy^2}{dy} \cdot \nabla_x \|x\|_2^2 \quad \text{here } "
            r"y = f(x) = \|x\|_2^2 \\ &= 2y \cdot 2x \\ &= 4\|x\|_2^2 x \end{aligned}")
    [d] = derive_all(cell)
    assert [c.holds for c in d.claims] == [True, True, True]


def test_a_shape_stated_after_a_side_and_prose_around_a_space():
    """(∂y/∂x)ᵀ(∂z/∂y) \\quad \\text{…} \\\\ &\\quad \\text{…} \\in \\mathbb{R}: the shape stated for the side
    before it; \\text{a row vector } \\mathbb{R}^{1 \\times n}: prose, not a statement."""
    d = derive(r"\begin{aligned} \nabla_x z &= \left(\frac{\partial z}{\partial x} \right)^T \\ &= \left(\frac{\partial y}"
               r"{\partial x} \right)^T \left(\frac{\partial z}{\partial y} \right) \quad \text{both scalars!} \\ &\quad "
               r"\text{gradient!} \in \mathbb{R} \\ &= \frac{dz}{dy} \nabla_x y \end{aligned}")
    assert [c.holds for c in d.claims] == [True, True, True]
    assert any("“∈ ℝ” after a side" in n for n in d.reading.notes)
    row = derive(r"J = \left[\frac{\partial y}{\partial x_1} \quad \frac{\partial y}{\partial x_2} \right] \quad "
                 r"\text{a row vector in } \mathbb{R}^{1 \times n}")
    assert row.check.passed


DIFFERENTIALS = [
    # d(…) = … in the differential of one variable: the derivative along dX, each side judged
    ("differential_of_a_square", r"d(X^2) = X dX + dX X", [True]),
    ("differential_of_a_square_commuted", r"d(X^2) = 2X dX", [False]),
    ("differential_of_a_norm", r"d\|x\| = \frac{x^T dx}{\|x\|}", [True]),
    ("differential_of_a_norm_squared_denominator", r"d\|x\| = \frac{x^T dx}{\|x\|^2}", [False]),
    ("differential_of_a_definition", r"f(x) = x^T A x \quad df = x^T(A + A^T) dx", [True]),
    ("differential_of_a_definition_symmetric", r"f(x) = x^T A x \quad df = 2x^T A dx", [False]),
    ("differential_of_the_inverse", r"d(X^{-1}) = -X^{-1} dX X^{-1}", [True]),
    ("differential_of_the_inverse_sign", r"d(X^{-1}) = X^{-1} dX X^{-1}", [False]),
    ("differential_transposed", r"d(x^T x) = 2 dx^T x", [True]),
    ("differential_transposed_twice", r"d(x^T x) = dx^T x", [False]),
]


INNER_PRODUCTS = [
    # ⟨A, X⟩, ⟨A, X⟩_F and A : X: tr(AᵀX) (aᵀx of columns); an operator before A : X applies to all of it
    ("angle_frobenius", r"\nabla_X \langle A, X\rangle_F = A", [True]),
    ("angle_frobenius_transposed", r"\nabla_X \langle A, X\rangle_F = A^T", [False]),
    ("angle_vectors", r"\nabla_x \langle a, x \rangle = a", [True]),
    ("angle_vectors_doubled", r"\nabla_x \langle a, x \rangle = 2a", [False]),
    ("angle_quadratic", r"\nabla_X \langle AX, X\rangle = (A + A^T)X", [True]),
    ("angle_quadratic_one_side", r"\nabla_X \langle AX, X\rangle = 2AX", [False]),
    ("colon", r"\nabla_X A : X = A", [True]),
    ("colon_transposed", r"\nabla_X A : X = A^T", [False]),
    ("colon_in_a_differential", r"d\|X\|_F^2 = 2 X : dX", [True]),
    ("angle_in_a_differential_halved", r"d\|X\|_F^2 = \langle X, dX \rangle", [False]),
]


LIMITS = [
    # a definition by a limit: \lim_{h → 0} of a difference quotient is the derivative by h at 0
    ("directional_by_a_limit", r"\delta_{\mathbf{v}}f(\mathbf{x}) = \lim_{\epsilon \rightarrow 0} \frac{f(\mathbf{x} + "
                               r"\epsilon\mathbf{v}) - f(\mathbf{x})}{\epsilon}", [True]),
    ("directional_by_a_limit_twice_the_step", r"\delta_{\mathbf{v}}f(\mathbf{x}) = \lim_{\epsilon \rightarrow 0} "
                                              r"\frac{f(\mathbf{x} + 2\epsilon\mathbf{v}) - f(\mathbf{x})}{\epsilon}", [False]),
    ("partial_by_a_limit_along_e_i", r"\frac{\partial f}{\partial x_i}(\mathbf{x}) = \lim_{\epsilon \rightarrow 0} "
                                     r"\frac{f(\mathbf{x} + \epsilon \mathbf{e}_i) - f(\mathbf{x})}{\epsilon}", [True]),
    ("partial_by_a_limit_along_e_1", r"\frac{\partial f}{\partial x_i}(\mathbf{x}) = \lim_{\epsilon \rightarrow 0} "
                                     r"\frac{f(\mathbf{x} + \epsilon \mathbf{e}_1) - f(\mathbf{x})}{\epsilon}", [False]),
    ("quadratic_form_by_a_limit", r"(\nabla_x x^T A x)^T v = \lim_{h \to 0} \frac{(x + hv)^T A (x + hv) - x^T A x}{h}",
     [True]),
    ("quadratic_form_by_a_limit_one_side", r"(\nabla_x x^T A x)^T v = \lim_{h \to 0} \frac{x^T A (x + hv) - x^T A x}{h}",
     [False]),
]


BY_AN_EXPRESSION = [
    # ∂R/∂(Y - Xθ): by the expression as a whole (R written in it), alone and in the chain rule
    ("by_an_expression", r"R = \|Y - X\theta\|_2^2 \quad \frac{\partial R}{\partial (Y - X\theta)} = 2(Y - X\theta)^T",
     [True]),
    ("by_an_expression_as_a_column", r"R = \|Y - X\theta\|_2^2 \quad \frac{\partial R}{\partial (Y - X\theta)} = "
                                     r"2(Y - X\theta)", [False]),
    ("chain_rule_through_an_expression", r"R = \frac{1}{n}\|Y - X\theta\|_2^2 \quad \frac{\partial R}{\partial \theta} = "
                                         r"\frac{\partial R}{\partial (Y - X\theta)} \frac{\partial (Y - X\theta)}"
                                         r"{\partial \theta}", [True]),
    ("chain_rule_through_an_expression_reversed", r"R = \frac{1}{n}\|Y - X\theta\|_2^2 \quad \frac{\partial R}{\partial "
                                                  r"\theta} = \left(\frac{\partial (Y - X\theta)}{\partial \theta}\right)^T "
                                                  r"\left(\frac{\partial R}{\partial (Y - X\theta)}\right)^T", [False]),
]


def test_a_derivative_by_an_expression_of_an_undefined_function_is_refused():
    """R undefined: an arbitrary R(θ) is no function of Y − Xθ (before, Y was read as a matrix and the
    chain rule judged false)."""
    with pytest.raises(DerivError, match=r"a derivative by an expression, \(Y - X\\theta\), is read for a function "
                                         r"written in it: define R"):
        derive(r"\frac{\partial R}{\partial \theta} = \frac{\partial R}{\partial (Y - X\theta)} \frac{\partial "
               r"(Y - X\theta)}{\partial \theta}")


def test_a_derivative_by_an_expression_the_function_also_has_elsewhere_is_refused():
    with pytest.raises(DerivError, match=r"R is not a function of \(Y - X\\theta\) alone: it also depends on θ "
                                         r"elsewhere"):
        derive(r"R = \|Y - X\theta\|_2^2 + \|\theta\|^2 \quad \frac{\partial R}{\partial (Y - X\theta)} = "
               r"2(Y - X\theta)^T")


@pytest.mark.parametrize("cell, message", [
    (r"\delta_{\mathbf{v}} f(x) = \lim_{\epsilon \to 1} \frac{f(x + \epsilon v) - f(x)}{\epsilon}",
     r"a limit is read as a difference quotient, \\lim_\{h \\to 0\}"),
    (r"(\nabla_x x^T A x)^T v = \lim_{h \to 0} \frac{(x + hv)^T A (x + hv)}{h}",
     r"the numerator of this quotient is not 0 at h = 0, so the limit is not a derivative"),
    (r"\delta_{\mathbf{v}} f(x) = \lim_{\epsilon \to 0} (f(x + \epsilon v) - f(x))",
     r"a limit is read as a difference quotient \\frac\{F\(\\epsilon\) - F\(0\)\}\{\\epsilon\}, and this one is not"),
], ids=["not_at_zero", "numerator_not_zero", "not_a_quotient"])
def test_a_limit_that_is_not_a_difference_quotient_is_refused(cell, message):
    with pytest.raises(DerivError, match=message):
        derive(cell)


def test_a_line_describing_a_map_is_said_and_the_definition_beside_it_judged():
    from derivmagic import derive_all
    cell = (r"\begin{aligned}\mathbf{v} &\mapsto \partial_{\mathbf{v}} f(\mathbf{x}), \\ Df(\mathbf{x})[\mathbf{v}] &:= "
            r"\partial_{\mathbf{v}} f(\mathbf{x})\end{aligned}")
    [d] = derive_all(cell)
    assert [c.holds for c in d.claims] == [True]
    assert "read a line with ↦ as the description of a map: not judged" in d.reading.notes
    with pytest.raises(DerivError, match="nothing to differentiate"):
        derive(r"x \mapsto x^2")


def test_an_inner_product_needs_operands_of_one_shape():
    with pytest.raises(DerivError, match=r"an inner product needs two operands of one shape: A \(3×4\) and X \(4×3\)"):
        derive(r"\nabla_X \langle A, X \rangle \quad A \in \mathbb{R}^{3 \times 4} \quad X \in \mathbb{R}^{4 \times 3}")


def test_a_differential_is_the_derivative_along_the_differential():
    d = derive(r"d \log\det X = \operatorname{tr}(X^{-1} dX)")
    assert "read the line as the differential d(…) by X: the derivative along dX" in d.reading.notes
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    dX = rng.normal(size=(3, 3))
    assert np.isclose(evaluate(d.answer.result, {"X": X, "dX": dX}, {"m": 3, "n": 3}), np.trace(np.linalg.solve(X, dX)))
    with pytest.raises(DerivError, match=r"a differential in several variables \(da, dx\) is not read yet"):
        derive(r"d(a^T x) = a^T dx + x^T da")


EVERY_LINE = (CLAIMS + COMPONENT_FUNCTIONS + POINT_NOTATION + MORE + DIFFERENTIALS + INNER_PRODUCTS + LIMITS
              + BY_AN_EXPRESSION)


@pytest.mark.parametrize("cell,verdicts", [r[1:] for r in EVERY_LINE], ids=[r[0] for r in EVERY_LINE])
def test_each_link_is_judged(cell, verdicts):
    """Every table above: a line's links, each judged, a true and a false form of each notation."""
    d = derive(cell)
    assert [c.holds for c in d.claims] == verdicts, d.text


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# the new readings' values against NumPy written here (an oracle that shares nothing with the reader)
NUMPY_REFERENCES = [
    ("differential_of_the_inverse", r"d(X^{-1}) = X dX", ("X",),
     lambda e: -np.linalg.solve(e["X"], e["dX"]) @ np.linalg.inv(e["X"])),
    ("inner_product_gradient", r"\nabla_X \langle AX, X\rangle = 0", (),
     lambda e: (e["A"] + e["A"].T) @ e["X"]),
    ("limit_of_a_quotient", r"= \lim_{h \to 0} \frac{(x + hv)^T A (x + hv) - x^T A x}{h}", (),
     lambda e: e["v"].T @ (e["A"] + e["A"].T) @ e["x"]),
    ("evaluated_at_a", r"\left. \nabla_x x^TAx \right|_{x = a}", (),
     lambda e: (e["A"] + e["A"].T) @ e["a"]),
    ("sigmoid_prime", r"= \sigma'(z) \quad z \in \mathbb{R}^n", (),
     lambda e: _sigmoid(e["z"]) * (1 - _sigmoid(e["z"]))),
    ("by_an_expression", r"R = \|Y - X\theta\|^2 \quad \frac{\partial R}{\partial (Y - X\theta)} = 0", (),
     lambda e: 2 * (e["Y"] - e["X"] @ e["theta"]).T),
    ("prime_applied", r"f(X) = X^3 \quad f'(X)[V] = 0", (),
     lambda e: e["V"] @ e["X"] @ e["X"] + e["X"] @ e["V"] @ e["X"] + e["X"] @ e["X"] @ e["V"]),
]


@pytest.mark.parametrize("cell, shifted, reference", [r[1:] for r in NUMPY_REFERENCES], ids=[r[0] for r in NUMPY_REFERENCES])
def test_new_readings_against_numpy(cell, shifted, reference):
    d = derive(cell, check=False)
    env = values(d, seed=5)
    for name in shifted:   # shifted, so the inverse is well conditioned
        env[name] = env[name] + 4 * np.eye(env[name].shape[0])
    got = evaluate(d.answer.result, env, SIZES)
    np.testing.assert_allclose(np.asarray(got).reshape(np.shape(reference(env))), reference(env), rtol=1e-9, atol=1e-9)


def test_the_kronecker_delta_is_said():
    d = derive(r"\frac{\partial y_i}{\partial x_j} = \delta_{ij} \quad y = x")
    assert any("Kronecker delta" in n for n in d.reading.notes)
    assert "δ" not in {s for s in d.reading.symbols}
