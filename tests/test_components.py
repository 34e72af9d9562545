"""Entries and explicit matrices, as lecture notes write them: ``x_2`` beside ``x``, ``(Av)_1``,
``\\begin{bmatrix} … \\end{bmatrix}``, ``\\begin{vmatrix} … \\end{vmatrix}``, ``∂f/∂x_k``.

Results are compared with NumPy written here (central differences or the closed form), never with
derivmagic's own check; claims have a true and a false form each.
"""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import ParseError, derive
from derivmagic.check import evaluate


def values(d, seed=0):
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(0.5, 2.0, size=s.shape) for name, s in d.reading.symbols.items()}


def central(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


RESULTS = [
    # cell, the variable, f as NumPy of the environment, whether the result is the gradient (else a number)
    ("explicit_vector_norm", r"\nabla_z \left\| \begin{bmatrix} y_1 - z_1 \\ y_2 - z_2 \end{bmatrix} \right\|_2^2 + z^Tz",
     "z", lambda e: (e["y_1"][0, 0] - e["z"][0, 0]) ** 2 + (e["y_2"][0, 0] - e["z"][1, 0]) ** 2 + np.sum(e["z"] ** 2)),
    ("determinant_written_out", r"\nabla_x \begin{vmatrix} x_1 & x_2 \\ x_3 & x_4 \end{vmatrix}",
     "x", lambda e: e["x"][0, 0] * e["x"][3, 0] - e["x"][1, 0] * e["x"][2, 0]),
    ("three_by_three_determinant",
     r"\nabla_x \begin{vmatrix} x_1 & 1 & 0 \\ 2 & x_2 & 1 \\ 0 & 3 & x_3 \end{vmatrix}",
     "x", lambda e: np.linalg.det(np.array([[e["x"][0, 0], 1, 0], [2, e["x"][1, 0], 1], [0, 3, e["x"][2, 0]]]))),
    ("entries_inside_a_function", r"\nabla_x \log(x_1 + x_2^2) + x^T x",
     "x", lambda e: np.log(e["x"][0, 0] + e["x"][1, 0] ** 2) + np.sum(e["x"] ** 2)),
]


@pytest.mark.parametrize("cell,var,f", [r[1:] for r in RESULTS], ids=[r[0] for r in RESULTS])
def test_gradients_through_entries_match_central_differences(cell, var, f):
    d = derive(cell)
    env = values(d)
    got = evaluate(d.answer.result, env, {})

    def at(x):
        return f({**env, var: x})
    assert np.allclose(got, central(at, env[var]), atol=1e-6)


PARTIALS = [
    # ∂f/∂x_k is the derivative along the k-th coordinate
    ("quadratic_form", r"\frac{\partial}{\partial v_1} v^T A v", lambda e: ((e["A"] + e["A"].T) @ e["v"])[0, 0]),
    ("squared_norm_second_entry", r"\frac{\partial}{\partial x_2} \|x\|^2", lambda e: 2 * e["x"][1, 0]),
    ("trace_by_a_matrix_entry", r"\frac{\partial}{\partial x_{12}} \operatorname{tr}(AX)", lambda e: e["A"][1, 0]),
]


@pytest.mark.parametrize("cell,want", [r[1:] for r in PARTIALS], ids=[r[0] for r in PARTIALS])
def test_a_derivative_by_an_entry(cell, want):
    d = derive(cell)
    env = values(d)
    assert np.allclose(evaluate(d.answer.result, env, {}), want(env))


CLAIMS = [
    ("jacobian_of_log_written_out",
     r"y = -\log(x) \quad \frac{\partial y}{\partial x} = \begin{bmatrix} -1/x_1 & 0 \\ 0 & -1/x_2 \end{bmatrix}", True),
    ("jacobian_of_log_sign_lost",
     r"y = -\log(x) \quad \frac{\partial y}{\partial x} = \begin{bmatrix} 1/x_1 & 0 \\ 0 & 1/x_2 \end{bmatrix}", False),
    ("gradient_of_a_determinant", r"\nabla_x \begin{vmatrix} x_1 & x_2 \\ x_3 & x_4 \end{vmatrix} = "
                                  r"\begin{bmatrix} x_4 \\ -x_3 \\ -x_2 \\ x_1 \end{bmatrix}", True),
    ("gradient_of_a_determinant_swapped", r"\nabla_x \begin{vmatrix} x_1 & x_2 \\ x_3 & x_4 \end{vmatrix} = "
                                          r"\begin{bmatrix} x_4 \\ -x_2 \\ -x_3 \\ x_1 \end{bmatrix}", False),
    ("entry_of_a_product", r"\frac{\partial}{\partial v_1} v^T A v = ((A + A^T) v)_1", True),
    ("entry_of_a_product_unsymmetrized", r"\frac{\partial}{\partial v_1} v^T A v = 2 (A v)_1", False),
    ("scalar_function_written_as_a_vector",
     r"\frac{\partial}{\partial x} \begin{bmatrix} x^2 \\ \sin x \end{bmatrix} = \begin{bmatrix} 2x \\ \cos x \end{bmatrix}",
     True),
    ("matrix_entry_lower_case", r"\frac{\partial}{\partial x_{12}} \operatorname{tr}(AX) = a_{21}", True),
    ("matrix_entry_lower_case_transposed", r"\frac{\partial}{\partial x_{12}} \operatorname{tr}(AX) = a_{12} "
                                           r"\quad A \in \mathbb{R}^{3 \times 2}", False),
    # patterns with \dots, written out at concrete sizes
    ("jacobian_pattern", r"\frac{\partial f}{\partial x} = \begin{bmatrix} \frac{\partial f_1}{\partial x_1} & \dots & "
                         r"\frac{\partial f_1}{\partial x_n} \\ \vdots & \ddots & \vdots \\ \frac{\partial f_m}{\partial x_1} & "
                         r"\dots & \frac{\partial f_m}{\partial x_n} \end{bmatrix} \in \mathbb{R}^{m \times n}", True),
    ("jacobian_pattern_transposed", r"\frac{\partial f}{\partial x} = \begin{bmatrix} \frac{\partial f_1}{\partial x_1} & "
                                    r"\dots & \frac{\partial f_m}{\partial x_1} \\ \vdots & \ddots & \vdots \\ "
                                    r"\frac{\partial f_1}{\partial x_n} & \dots & \frac{\partial f_m}{\partial x_n} \end{bmatrix}",
     False),
    ("gradient_pattern", r"\nabla_{\mathbf{x}} f(\mathbf{x}) = \begin{bmatrix} \frac{\partial f(\mathbf{x})}{\partial x_1} \\ "
                         r"\frac{\partial f(\mathbf{x})}{\partial x_2} \\ \vdots \\ \frac{\partial f(\mathbf{x})}{\partial x_n} "
                         r"\end{bmatrix}", True),
    ("outer_product_pattern", r"\nabla_X (a^T X b) = \begin{bmatrix} a_1 b_1 & \cdots & a_1 b_n \\ \vdots & \ddots & \vdots "
                              r"\\ a_m b_1 & \cdots & a_m b_n \end{bmatrix}", True),
    ("outer_product_pattern_transposed", r"\nabla_X (a^T X b) = \begin{bmatrix} a_1 b_1 & \cdots & a_m b_1 \\ \vdots & "
                                         r"\ddots & \vdots \\ a_1 b_n & \cdots & a_m b_n \end{bmatrix}", False),
    ("diagonal_pattern", r"y = -\log(x) \quad \frac{\partial y}{\partial x} = \begin{bmatrix} -1/x_1 & 0 & \dots & 0 \\ "
                         r"0 & -1/x_2 & & 0 \\ \vdots & & \ddots & \vdots \\ 0 & 0 & \dots & -1/x_n \end{bmatrix}", True),
    ("diagonal_pattern_wrong_sign", r"y = -\log(x) \quad \frac{\partial y}{\partial x} = \begin{bmatrix} 1/x_1 & 0 & \dots "
                                    r"& 0 \\ 0 & 1/x_2 & & 0 \\ \vdots & & \ddots & \vdots \\ 0 & 0 & \dots & 1/x_n \end{bmatrix}",
     False),
    ("gradient_in_components", "f(x) = x_1^3 + e^{x_2}x_1 \\quad \\nabla f(\\mathbf{x}) = "
                               r"\begin{bmatrix} 3x_1^2 + e^{x_2} \\ x_1 e^{x_2} \end{bmatrix}", True),
]


@pytest.mark.parametrize("cell,holds", [r[1:] for r in CLAIMS], ids=[r[0] for r in CLAIMS])
def test_claims_with_entries_and_explicit_matrices(cell, holds):
    d = derive(cell)
    assert [c.holds for c in d.claims] == [holds], d.text


def test_entries_size_their_vector_and_are_said():
    d = derive(r"\nabla_z \left\| \begin{bmatrix} y_1 - z_1 \\ y_2 - z_2 \end{bmatrix} \right\|_2^2")
    assert d.reading.symbols["z"].shape == (2, 1)
    assert "read z_1, z_2 as entries of z" in d.reading.notes


def test_a_subscripted_name_whose_entry_reading_does_not_fit_is_its_own_symbol():
    d = derive(r"\nabla_v \mathbf{2}^T v_{2} + v^T v")
    assert d.reading.symbols["v_2"].shape[1] == 1 and d.reading.symbols["v_2"].shape[0] != 1
    assert any("symbols of their own" in n for n in d.reading.notes)


def test_without_the_vector_a_subscripted_name_is_a_scalar_of_its_own():
    d = derive(r"\frac{\partial}{\partial x_1}(x_1^3 + e^{x_2}x_1) = 3x_1^2 + e^{x_2}")
    assert [c.holds for c in d.claims] == [True]
    assert d.reading.symbols["x_1"].shape == (1, 1)


def test_a_pattern_is_written_out_at_concrete_sizes_and_says_so():
    d = derive(r"\frac{\partial f}{\partial x} = \begin{bmatrix} \frac{\partial f_1}{\partial x_1} & \dots & "
               r"\frac{\partial f_1}{\partial x_n} \\ \vdots & \ddots & \vdots \\ \frac{\partial f_m}{\partial x_1} & "
               r"\dots & \frac{\partial f_m}{\partial x_n} \end{bmatrix}")
    assert "read the pattern with \\dots entry by entry, written out at m = 3, n = 4" in d.reading.notes
    assert d.reading.symbols["x"].shape == (4, 1)


def test_a_variable_in_the_other_case_is_asked_about():
    with pytest.raises(ParseError, match=r"the function has X but not x, so its derivative by x would be 0: did you "
                                         r"mean the derivative by X\?"):
        derive(r"\nabla_{\mathbf{x}} \operatorname{tr}(AX) = A^T")


@pytest.mark.parametrize("cell,message", [

    (r"\frac{\partial}{\partial x} \begin{bmatrix} a & \dots & b \end{bmatrix}",
     r"a pattern with \\dots whose entries are not clear: the first and last entries differ in more than their"),
    (r"\nabla_x x^T \begin{bmatrix} x_1 \\ x_3 \\ \vdots \\ x_n \end{bmatrix}",
     r"the entry in written row 2, column 1 does not follow the formula"),
    (r"\nabla_x \begin{bmatrix} x^T & 1 \end{bmatrix}", r"x\^T is 1×n: side by side, every entry must be a column of one size"),
    (r"\nabla_x \mathbf{1}^T \begin{bmatrix} x & 1 \\ 1 & x \end{bmatrix} \mathbf{1} \quad x \in \mathbb{R}^2", r"x is 2×1: a matrix written in blocks .* is read as one row of "
                                                               r"columns or one column of rows"),
    (r"\frac{\partial}{\partial x} \begin{bmatrix} x & 1 \\ 2 \end{bmatrix}", r"the rows of this matrix have 2 and 1 entries"),
    (r"\nabla_x x^T A x = (A x)_{ij}", r"\(A x\)_\{ij\} reads as an entry of \(A x\), which is n×1 here"),
], ids=["dots_pattern", "dots_pattern_inconsistent", "blocks_side_by_side", "blocks", "ragged_rows",
        "free_index_of_a_bracket"])
def test_refused_with_what_is_not_read(cell, message):
    with pytest.raises(ParseError, match=message):
        derive(cell)


def test_the_carets_point_into_the_matrix_as_typed():
    cell = r"\nabla_x \begin{bmatrix} x^T & 1 \end{bmatrix}"
    with pytest.raises(ParseError) as info:
        derive(cell)
    assert cell[info.value.pos:info.value.end] == "x^T"


def test_a_claim_that_never_mentions_its_undefined_function_says_so():
    """J defined only in the text around the formula: the claim is not judged on a misreading of
    its shapes, the reason says what is missing (a document check lists it as not read)."""
    d = derive(r"\frac{\partial J}{\partial W} = \delta^T x^T")
    assert d.claims[0].diagnosis == "undefined"
    assert d.claims[0].reason.startswith("J is not defined here")


FREE_INDICES = [
    # a line stated for every i (and j): each side is the matrix of its entries
    ("entries_of_a_linear_map", r"\frac{\partial z_i}{\partial x_j} = W_{ij} \quad z = Wx", [True]),
    ("entries_of_a_linear_map_transposed", r"\frac{\partial z_i}{\partial x_j} = W_{ji} \quad z = Wx", [False]),
    ("layout_definition", r"\frac{\partial y}{\partial x} := \left[\frac{\partial y_i}{\partial x_j} \right]_{ij}", [True]),
    ("layout_definition_other_layout", r"\frac{\partial y}{\partial x} := \left[\frac{\partial y_j}{\partial x_i} \right]_{ij}",
     [False]),
    ("identity_entry_by_entry", r"\left[\frac{\partial x}{\partial x} \right]_{ij} = \frac{\partial x_i}{\partial x_j}", [True]),
    ("bracket_and_entries", r"\left(\frac{\partial z}{\partial x} \right)_{ij} = \frac{\partial z_i}{\partial x_j} = W_{ij} "
                            r"\quad z = Wx", [True, True]),
    ("one_free_index", r"\frac{\partial}{\partial x_i} x^T A x = ((A + A^T)x)_i", [True]),
    ("one_free_index_half", r"\frac{\partial}{\partial x_i} x^T A x = (A x)_i", [False]),
    ("matrix_entries_lower_case", r"\frac{\partial \operatorname{tr}(AX)}{\partial x_{ij}} = a_{ji}", [True]),
]



def test_free_indices_are_said_and_sized():
    d = derive(r"\frac{\partial z_i}{\partial x_j} = W_{ij} \quad z = Wx")
    assert any("entry by entry over its free indices i and j (rows by i, columns by j)" in n for n in d.reading.notes)
    assert d.reading.symbols["W"].shape == (3, 4)


def test_a_layout_definition_in_the_other_layout_is_diagnosed():
    d = derive(r"\frac{\partial y}{\partial x} := \left[\frac{\partial y_j}{\partial x_i} \right]_{ij}")
    assert "true in denominator layout" in d.claims[0].reason


def test_a_sum_beside_a_free_index_is_written_out_over_the_entries_it_runs_over():
    """Σ_k W_{ik} x_k has no matrix form once i is fixed: it is written out term by term, as many terms
    as x has entries (4 here, the size j runs over), never fewer."""
    d = derive(r"z = Wx \quad \left(\frac{\partial z}{\partial x} \right)_{ij} = \frac{\partial}{\partial x_j} "
               r"\sum_{k=1}^m W_{ik} x_k = W_{ij}")
    assert [c.holds for c in d.claims] == [True, True]
    assert any("term by term" in n and "no matrix form" in n for n in d.reading.notes)
    wrong = derive(r"z = Wx \quad \left(\frac{\partial z}{\partial x} \right)_{ij} = \frac{\partial}{\partial x_j} "
                   r"\sum_{k=1}^m W_{ik} x_k = W_{ji}")
    assert [c.holds for c in wrong.claims] == [True, False]


SUMS_WITH_DOTS = [
    ("chain_rule_in_components", r"\frac{\partial z_i}{\partial x_j} = \frac{\partial z_i}{\partial y_1} \frac{\partial y_1}"
                                 r"{\partial x_j} + \frac{\partial z_i}{\partial y_2} \frac{\partial y_2}{\partial x_j} + \dots + "
                                 r"\frac{\partial z_i}{\partial y_m} \frac{\partial y_m}{\partial x_j}", [True]),
    ("chain_rule_in_components_one_term", r"\frac{\partial z_i}{\partial x_j} = \frac{\partial z_i}{\partial y_1} "
                                          r"\frac{\partial y_1}{\partial x_j} \quad y \in \mathbb{R}^3", [False]),
    ("linear_form_written_out", r"\nabla_x (a_1 x_1 + a_2 x_2 + \dots + a_n x_n) = a", [True]),
    ("linear_form_written_out_doubled", r"\nabla_x (a_1 x_1 + a_2 x_2 + \dots + a_n x_n) = 2a", [False]),
]



def test_a_sum_with_dots_whose_terms_are_unclear_is_refused():
    with pytest.raises(ParseError, match=r"a sum written with \\dots whose terms are not clear: their indices do not "
                                         r"run from 1 to one bound"):
        derive(r"\nabla_x (a_1 x_1 + \dots + a_n x_m)")


def test_the_chain_rule_as_a_product_of_patterns():
    """[∂z/∂x]_{1×n} = [∂z/∂y_1 … ∂z/∂y_m]_{1×m} [∂y_1/∂x; …; ∂y_m/∂x]_{m×n}: brackets around one
    value group it, the sizes printed under matrices are notes, m is a pattern's bound (no summation
    index), and y_1 … y_m are y's entries."""
    cell = (r"\begin{bmatrix} \frac{\partial z}{\partial x} \end{bmatrix}_{1 \times n} = \begin{bmatrix} "
            r"\frac{\partial z}{\partial y_1} & \frac{\partial z}{\partial y_2} & \dots & \frac{\partial z}{\partial y_m} "
            r"\end{bmatrix}_{1 \times m} \begin{bmatrix} \frac{\partial y_1}{\partial x} \\ \frac{\partial y_2}{\partial x} "
            r"\\ \vdots \\ \frac{\partial y_m}{\partial x} \end{bmatrix}_{m \times n}")
    d = derive(cell)
    assert [c.holds for c in d.claims] == [True]
    assert any("entries of y" in n for n in d.reading.notes)
    with pytest.raises(ParseError, match="a pattern with \\\\dots whose entries are not clear"):
        derive(cell.replace(r"\frac{\partial z}{\partial y_1} & \frac{\partial z}{\partial y_2}",
                            r"\frac{\partial z}{\partial y_2} & \frac{\partial z}{\partial y_1}"))


ENTRY_BY_ENTRY = FREE_INDICES + SUMS_WITH_DOTS


@pytest.mark.parametrize("cell,verdicts", [r[1:] for r in ENTRY_BY_ENTRY], ids=[r[0] for r in ENTRY_BY_ENTRY])
def test_lines_read_entry_by_entry(cell, verdicts):
    """Lines stated for every index, and sums written with \\dots: a true and a false form of each."""
    d = derive(cell)
    assert [c.holds for c in d.claims] == verdicts, d.text
