"""Derivatives of any order as multilinear forms: ∇^k, ∂^k/∂x^k, d^k/dt^k, mixed ∂²f/∂x∂y,
D^k f(x)[u, v, …], and second derivatives by a matrix. Each form is compared with a NumPy
formula written here, its matrix form with NumPy's own kron, and the numeric check is shown to
fail on a wrong form."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.linalg import expm

from derivmagic import DerivError, ParseError, derive
from derivmagic import check as numeric
from derivmagic.check import evaluate
from derivmagic.expr import Num, Sym
from derivmagic.rules import mul

SIZES = {"n": 3, "m": 4}


def _tanh3(z):   # the third derivative of tanh
    t = np.tanh(z)
    return (1 - t ** 2) * (6 * t ** 2 - 2)


def _inv_at(e):   # (A + tB)⁻¹
    return np.linalg.inv(e["A"] + e["t"][0, 0] * e["B"])


def _inv(e):
    return np.linalg.inv(e["X"])


# (id, cell, shift X by 4I so it is well conditioned, reference(env) of the form)
FORMS = [
    ("third_of_norm_to_the_fourth", r"\nabla^3_x \|x\|^4", False,
     lambda e: 8 * ((e["u"].T @ e["v"]) * (e["w"].T @ e["x"]) + (e["u"].T @ e["w"]) * (e["v"].T @ e["x"])
                    + (e["v"].T @ e["w"]) * (e["u"].T @ e["x"]))),
    ("fourth_of_squared_inner", r"\nabla^4_x (x^Tx)^2", False,
     lambda e: 8 * ((e["h_1"].T @ e["h_2"]) * (e["h_3"].T @ e["h_4"]) + (e["h_1"].T @ e["h_3"]) * (e["h_2"].T @ e["h_4"])
                    + (e["h_1"].T @ e["h_4"]) * (e["h_2"].T @ e["h_3"]))),
    ("third_of_a_tanh_layer", r"\nabla^3_x \mathbf{1}^T \tanh(Wx)", False,
     lambda e: np.sum(_tanh3(e["W"] @ e["x"]) * (e["W"] @ e["u"]) * (e["W"] @ e["v"]) * (e["W"] @ e["w"]))),
    ("partial_cubed_notation", r"\frac{\partial^3}{\partial x^3} \mathbf{1}^T \tanh(Wx)", False,
     lambda e: np.sum(_tanh3(e["W"] @ e["x"]) * (e["W"] @ e["u"]) * (e["W"] @ e["v"]) * (e["W"] @ e["w"]))),
    ("scalar_third_derivative", r"\frac{\partial^3}{\partial t^3} \sin(t) t^2", False,
     lambda e: 6 * np.cos(e["t"]) - 6 * e["t"] * np.sin(e["t"]) - e["t"] ** 2 * np.cos(e["t"])),
    ("d_cubed_of_a_matrix_exponential", r"\frac{d^3}{dt^3} e^{tA}", False,
     lambda e: e["A"] @ e["A"] @ e["A"] @ expm(e["t"][0, 0] * e["A"])),
    ("hessian_by_a_matrix", r"\nabla^2_X \operatorname{tr}(X^TAX)", False,
     lambda e: np.trace(e["U"].T @ (e["A"] + e["A"].T) @ e["V"])),
    ("second_partial_by_a_matrix", r"\frac{\partial^2}{\partial X^2} \log\det X", True,
     lambda e: -np.trace(_inv(e) @ e["U"] @ _inv(e) @ e["V"])),
    ("second_form_of_log_det", "f(X) = \\log\\det X\nD^2 f(X)[U, V]", True,
     lambda e: -np.trace(_inv(e) @ e["U"] @ _inv(e) @ e["V"])),
    ("third_form_of_log_det", "f(X) = \\log\\det X\nD^3 f(X)[U, V, W]", True,
     lambda e: np.trace(_inv(e) @ e["U"] @ _inv(e) @ e["V"] @ _inv(e) @ e["W"])
     + np.trace(_inv(e) @ e["U"] @ _inv(e) @ e["W"] @ _inv(e) @ e["V"])),
    ("form_on_one_direction", "f(X) = \\operatorname{tr}(X^3)\nD^2 f(X)[V, V]", False,
     lambda e: 6 * np.trace(e["X"] @ e["V"] @ e["V"])),
    ("second_of_a_vector_by_a_scalar", "\\nabla^2_t t^3 a\na \\in \\mathbb{R}^n", False,
     lambda e: 6 * e["t"] * e["a"]),
    ("d_squared_makes_t_a_scalar", r"\frac{d^2}{dt^2} \|x + tv\|^2", False, lambda e: 2 * e["v"].T @ e["v"]),
    ("direction_that_is_the_variable", "f(x) = x^Tx\nD^2 f(x)[x, v]", False, lambda e: 2 * e["x"].T @ e["v"]),
    ("euler_form", "f(x) = (x^Tx)^2\nD^2 f(x)[x, x]", False, lambda e: 12 * (e["x"].T @ e["x"]) ** 2),
    ("directions_that_are_sums", "f(x) = x^Tx\nD^2 f(x)[u + v, 2w]", False,
     lambda e: 4 * (e["u"] + e["v"]).T @ e["w"]),
    ("mixed_by_a_vector_and_a_matrix", r"\frac{\partial^2}{\partial b \partial W} \|Wx+b-y\|^2", False,
     lambda e: 2 * e["u"].T @ e["V"] @ e["x"]),
    ("d_squared_of_a_matrix_inverse", r"\frac{d^2}{dt^2} (A + tB)^{-1}", False,
     lambda e: 2 * _inv_at(e) @ e["B"] @ _inv_at(e) @ e["B"] @ _inv_at(e)),
    ("mixed_bilinear", r"\frac{\partial^2}{\partial x \partial y} x^T A y", False,
     lambda e: e["u"].T @ e["A"] @ e["v"]),
    ("mixed_of_a_square", r"\frac{\partial^2}{\partial x \partial y} (x^Ty)^2", False,
     lambda e: 2 * (e["u"].T @ e["y"]) * (e["x"].T @ e["v"]) + 2 * (e["x"].T @ e["y"]) * (e["u"].T @ e["v"])),
]


def _values(d, seed: int, shift: bool) -> dict:
    rng = np.random.default_rng(seed)
    symbols = dict(d.reading.symbols)
    held = dict(d.answer.held)
    symbols.update({s.name: s for _, s in d.answer.passes if isinstance(s, Sym) and s not in held})
    env = {name: rng.normal(size=tuple(SIZES.get(k, k) for k in s.shape)) for name, s in symbols.items()}
    if shift:
        env["X"] = env["X"] + 4 * np.eye(len(env["X"]))
    return env


@pytest.mark.parametrize("cell, shift, reference", [r[1:] for r in FORMS], ids=[r[0] for r in FORMS])
def test_forms_against_numpy(cell, shift, reference):
    d = derive(cell)
    assert d.answer.kind == "multilinear" and d.check.passed, d.check
    for seed in range(3):
        env = _values(d, seed, shift)
        got = np.asarray(evaluate(d.answer.form, env, SIZES), dtype=float)
        want = np.asarray(reference(env), dtype=float)
        np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("cell, shift, reference", [r[1:] for r in FORMS], ids=[r[0] for r in FORMS])
def test_the_check_rejects_a_wrong_form(cell, shift, reference):
    """The check differentiates the order below numerically: a form off by 1% fails it."""
    d = derive(cell)
    wrong = dataclasses.replace(d.answer, result=mul(Num("101/100"), d.answer.result))
    assert not numeric.verify(wrong, d.reading).passed


@pytest.mark.parametrize("cell, reference", [
    (r"\frac{\partial^2}{\partial x \partial y} x^T A y", lambda e: e["A"]),
    (r"\frac{\partial^2}{\partial x \partial y} (x^Ty)^2",
     lambda e: 2 * e["y"] @ e["x"].T + 2 * (e["x"].T @ e["y"]) * np.eye(3)),
    (r"\nabla^2_X \operatorname{tr}(X^TAX)", lambda e: np.kron(np.eye(3), e["A"] + e["A"].T)),
    (r"\nabla^2_X \operatorname{tr}(AXBX^T)", lambda e: np.kron(e["B"].T, e["A"]) + np.kron(e["B"], e["A"].T)),
], ids=["mixed_block", "mixed_block_of_a_square", "kronecker_hessian", "kronecker_hessian_two_sides"])
def test_matrix_forms_against_numpy(cell, reference):
    sizes = {"n": 3, "m": 3}
    d = derive(cell)
    assert d.answer.matrix is not None and d.check.passed
    rng = np.random.default_rng(2)
    env = {name: rng.normal(size=tuple(sizes.get(k, k) for k in s.shape)) for name, s in d.reading.symbols.items()}
    got = evaluate(d.answer.matrix[0], env, sizes)
    np.testing.assert_allclose(got, reference(env), rtol=1e-9, atol=1e-12)


def test_the_kronecker_hessian_is_shown_with_vec():
    d = derive(r"\nabla^2_X \operatorname{tr}(X^TAX)")
    assert "with --vec" in d.text and "I ⊗ (A + Aᵀ)" not in d.text
    from derivmagic.report import derivation_latex, derivation_text
    assert "H = I ⊗ (A + Aᵀ)" in derivation_text(d, vec=True)
    assert r"\otimes" in derivation_latex(d, vec=True)


@pytest.mark.parametrize("cell, target", [
    (r"\nabla^3_x \|x\|^4", "D³(‖x‖₂⁴)[u, v, w]"),
    (r"\frac{d^3}{dt^3} e^{tA}", "d³/dt³ (e^(tA))"),
    (r"\frac{\partial^2}{\partial x \partial y} x^T A y", "∂²(xᵀAy)/∂x∂yᵀ = A"),
    ("f(x) = \\|x\\|^4\nD^3 f(x)[a, b, c]", "D³(‖x‖₂⁴)[a, b, c]"),
], ids=["nabla_cubed", "d_cubed", "mixed", "given_directions"])
def test_what_was_asked_is_written_as_read(cell, target):
    assert target in derive(cell).text


@pytest.mark.parametrize("cell, verdict", [
    ("f(X) = \\log\\det X\nD^2 f(X)[U, V] = -\\operatorname{tr}(X^{-1}UX^{-1}V)", True),
    ("f(X) = \\log\\det X\nD^2 f(X)[U, V] = \\operatorname{tr}(X^{-1}UX^{-1}V)", False),
    ("f(x) = \\|x\\|^4\nD^3 f(x)[u, u, u] = 24 (u^Tx)(u^Tu)", True),
    ("f(x) = \\|x\\|^4\nD^3 f(x)[u, u, u] = 12 (u^Tx)(u^Tu)", False),
], ids=["log_det_true", "log_det_sign", "cubic_true", "cubic_factor"])
def test_claims_on_forms_are_judged(cell, verdict):
    d = derive(cell)
    assert [c.holds for c in d.claims] == [verdict]


@pytest.mark.parametrize("cell, message", [
    ("f(x) = x^Tx\nD^2 f(x)[v]", r"D\^2 f\(x\)\[…\] takes 2 directions"),
    ("f(x) = x^Tx\nD f(x)[u, v]", r"with 2 directions: write D\^2 f\(x\)\[…\]"),
    (r"\nabla^7_x \|x\|^4", "derivatives of order 7 are not computed"),
    (r"\frac{\partial^3 }{\partial x \partial y} x^Ty", "a derivative of order 3 needs 3 variables"),
    ("f(x) = x^Tx\ny = 2 + D^2 f(x)[u, v]", "must come first on its side"),
], ids=["one_direction_for_two", "two_directions_for_one", "order_too_high", "denominator_count", "inside"])
def test_what_is_refused_says_why(cell, message):
    with pytest.raises(DerivError, match=message):
        derive(cell)


def test_mixed_partials_by_one_variable_are_the_hessian():
    d = derive(r"\frac{\partial^2}{\partial x \partial x} x^TAx")
    assert d.answer.kind == "hessian"


def test_a_refusal_is_a_parse_error_with_a_caret():
    with pytest.raises(ParseError) as info:
        derive("f(x) = x^Tx\nD^2 f(x)[v]")
    assert "^" in str(info.value)


# (id, cell, the tensor T_{ijk…} in NumPy)
TENSORS = [
    ("norm_to_the_fourth", r"\nabla^3_x \|x\|^4",
     lambda e: 8 * (np.einsum("ij,k->ijk", np.eye(3), e["x"][:, 0]) + np.einsum("ik,j->ijk", np.eye(3), e["x"][:, 0])
                    + np.einsum("jk,i->ijk", np.eye(3), e["x"][:, 0]))),
    ("cube_of_a_linear_form", r"\nabla^3_x (a^Tx)^3", lambda e: 6 * np.einsum("i,j,k->ijk", *[e["a"][:, 0]] * 3)),
    ("squared_inner_fourth", r"\nabla^4_x (x^Tx)^2",
     lambda e: 8 * (np.einsum("ij,kl->ijkl", np.eye(3), np.eye(3)) + np.einsum("ik,jl->ijkl", np.eye(3), np.eye(3))
                    + np.einsum("il,jk->ijkl", np.eye(3), np.eye(3)))),
    ("tanh_layer", r"\nabla^3_x \mathbf{1}^T \tanh(Wx)",
     lambda e: np.einsum("l,li,lj,lk->ijk", _tanh3(e["W"] @ e["x"])[:, 0], e["W"], e["W"], e["W"])),
]


@pytest.mark.parametrize("cell, reference", [r[1:] for r in TENSORS], ids=[r[0] for r in TENSORS])
def test_index_notation_is_the_same_tensor(cell, reference):
    from derivmagic.indexform import index_form, index_values
    d = derive(cell)
    form = index_form(d.answer)
    assert form is not None and f"T_{form[0]} = " in d.text
    env = _values(d, 1, False)
    got = index_values(form, env, SIZES, 3)
    np.testing.assert_allclose(got, reference(env), rtol=1e-9, atol=1e-9)
    # and entry by entry it is the form at unit vectors
    dirs = [s for _, s in d.answer.passes]
    for idx in [(0, 0, 0, 0)[:len(dirs)], (0, 1, 2, 0)[:len(dirs)], (2, 0, 1, 1)[:len(dirs)]]:
        units = {s.name: np.eye(3)[:, [i]] for s, i in zip(dirs, idx)}
        value = evaluate(d.answer.result, {**env, **units}, SIZES)
        assert np.isclose(float(np.asarray(value).reshape(())), got[idx], rtol=1e-9, atol=1e-9)


def test_no_index_notation_where_a_term_is_not_a_product_of_entries():
    from derivmagic.indexform import index_form
    d = derive(r"\nabla^3_x \log \mathbf{1}^T\exp(x)")
    assert index_form(d.answer) is None and "T_ijk" not in d.text and d.check.passed


@pytest.mark.parametrize("cell, shift, reference", [r[1:] for r in FORMS], ids=[r[0] for r in FORMS])
def test_exported_code_computes_the_form(cell, shift, reference):
    """The exported function takes the variable, the other symbols and then the directions."""
    from derivmagic.codegen import parameters
    d = derive(cell)
    env = _values(d, 4, shift)
    value, form = d.to_function()(*[env[s.name] for s in parameters(d)])
    want = np.asarray(reference(env), dtype=float)
    if d.answer.as_matrix:   # the mixed block of two vectors is exported as the matrix
        (_, u), (_, v) = d.answer.passes
        form = env[u.name].T @ form @ env[v.name]
    np.testing.assert_allclose(np.asarray(form).reshape(want.shape), want, rtol=1e-9, atol=1e-9)
    assert np.ndim(form) == (0 if d.answer.result.is_scalar else 2)


def test_a_system_in_cases_is_one_statement_per_row():
    from derivmagic import derive_all
    cell = ("v(x) = x a \\quad a \\in \\mathbb{R}^n\n"
            "\\begin{cases} \\nabla v(x) = \\mathbf{a}^T \\\\ \\nabla^2 v(x) = 0 \\end{cases}")
    ds = derive_all(cell)
    assert [[c.holds for c in d.claims] for d in ds] == [[True], [True]]
    wrong = derive_all(cell.replace("= 0", "= a"))
    assert [[c.holds for c in d.claims] for d in wrong] == [[True], [False]]



@pytest.mark.parametrize("cell, holds", [
    ("f = x^TAy\n\\frac{\\partial^2 f}{\\partial x \\partial y^T} = A", True),
    ("f = x^TAy\n\\frac{\\partial^2 f}{\\partial x \\partial y^T} = A^T", False),
    ("f = (x^Ty)^2\n\\frac{\\partial^2 f}{\\partial x \\partial y^T} = 2yx^T + 2x^Ty I", True),
    ("f = (x^Ty)^2\n\\frac{\\partial^2 f}{\\partial x \\partial y^T} = 2xy^T + 2x^Ty I", False),
    ("f(x) = x^Tx\nD^2 f(x)[x, v] = 2x^Tv", True),
    ("f(x) = x^Tx\nD^2 f(x)[x, v] = 4x^Tv", False),
], ids=["mixed_block", "mixed_block_transposed", "mixed_block_of_a_square", "mixed_block_of_a_square_wrong",
        "held_direction", "held_direction_differentiated"])
def test_claims_on_mixed_blocks_and_held_directions(cell, holds):
    assert [c.holds for c in derive(cell).claims] == [holds]


@pytest.mark.parametrize("which", [1, 2])
def test_the_check_catches_a_wrong_lower_order(which):
    """Every order is checked against the one below it, not only the last."""
    d = derive(r"\nabla^3_x \|x\|^4")
    forms = list(d.answer.forms)
    forms[which] = mul(Num(2), forms[which])
    assert not numeric.verify(dataclasses.replace(d.answer, forms=tuple(forms)), d.reading).passed


def test_the_check_catches_a_wrong_form_as_shown():
    d = derive(r"\nabla^3_x \|x\|^4")
    wrong = dataclasses.replace(d.answer, form=mul(Num("101/100"), d.answer.form))
    assert not numeric.verify(wrong, d.reading).passed


@pytest.mark.parametrize("cell, message", [
    (r"\nabla^0_x x^Tx", r"∇\^0 is no derivative"),
    (r"\frac{\partial}{\partial x_i} x_j x_j = 2x_i", r"the index j is repeated with no \\sum"),
    (r"\nabla_x \begin{cases} x^Tx & i=j \\ 0 & i\neq j\end{cases}", r"here i and j are not"),
], ids=["order_zero", "summation_convention", "cases_without_free_indices"])
def test_more_refusals(cell, message):
    with pytest.raises(DerivError, match=message):
        derive(cell)


def test_a_row_separator_after_the_last_case_is_allowed():
    d = derive(r"y=x \quad \frac{\partial y_i}{\partial x_j} = \begin{cases} 1 & i=j \\ 0 & \text{otherwise} \\ \end{cases}")
    assert [c.holds for c in d.claims] == [True]


# ---- second derivatives of arbitrary functions: ∇²f(u)[du], f''(u)
@pytest.mark.parametrize("cell", [
    "D^2 f(X)[V, V]",
    "D^2 f(x)[u, v] \\quad f: \\mathbb{R}^n \\to \\mathbb{R}",
    "\\frac{d^2}{dt^2} g(t^2)",
    "\\frac{d^2}{dt^2} g(t) h(t) \\quad g: \\mathbb{R} \\to \\mathbb{R}",
    "\\frac{\\partial^2}{\\partial x \\partial y} f(x + y) \\quad f: \\mathbb{R}^n \\to \\mathbb{R}",
], ids=["matrix_argument", "vector_argument", "chain_of_a_scalar", "product_of_two", "mixed"])
def test_second_derivatives_of_arbitrary_functions_are_checked(cell):
    d = derive(cell)
    assert d.check.passed and d.answer.kind == "multilinear", d.check
    forms = list(d.answer.forms)
    forms[-1] = mul(Num(2), forms[-1])
    assert not numeric.verify(dataclasses.replace(d.answer, forms=tuple(forms)), d.reading).passed


@pytest.mark.parametrize("n, m", [(3, 1), (1, 3), (1, 1), (4, 1)], ids=["gradient", "prime_vector", "prime", "matrix"])
def test_the_instance_second_derivative_is_the_derivative_of_its_jacobian(n, m):
    from derivmagic.rules.abstract import _instance, _second
    rng = np.random.default_rng(1)
    u, du, h = rng.normal(size=(n, 1)), rng.normal(size=(n, 1)), 1e-6
    _, jacobian = _instance("f", n, m)
    want = (jacobian(u + h * du) - jacobian(u - h * du)) / (2 * h)
    np.testing.assert_allclose(_second("f", n, m)(u, du), want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell, shown", [
    ("\\nabla^2_x f(Ax) \\quad f: \\mathbb{R}^m \\to \\mathbb{R}", "= Aᵀ ∇²f(Ax) A"),
    ("\\nabla^2_x f(x) + x^Tx \\quad f: \\mathbb{R}^n \\to \\mathbb{R}", "= ∇²f(x) + 2I"),
], ids=["composition_with_a_linear_map", "sum"])
def test_hessians_of_arbitrary_functions(cell, shown):
    d = derive(cell)
    assert shown in d.text and d.check.passed
    wrong = dataclasses.replace(d.answer, result=mul(Num(2), d.answer.result))
    assert not numeric.verify(wrong, d.reading).passed


# cells a user tries beyond first derivatives of closed forms: each gives a checked answer
BEYOND = [r"\nabla^3_x \|x\|^4", r"\nabla^2_X \operatorname{tr}(X^TAX)", "D^2 f(X)[V,V]",
          r"\frac{\partial^2}{\partial x \partial y} x^T A y", r"\frac{\partial}{\partial X} X^T X", r"\frac{d}{dt} e^{tA}",
          r"\nabla_X \operatorname{tr}(X^{1/2})", r"\nabla_X \lambda_{\max}(X)", r"\nabla_X \|X\|_*", r"\nabla_X \|X\|_2",
          r"\nabla_x \|x\|_\infty", r"\nabla_w \max(0, 1 - y w^T x)", r"\nabla_W \mathbf{1}^T\operatorname{relu}(Wx)",
          r"\nabla_x \mathbf{1}^T x^{\circ 2}", r"\nabla_x \mathbf{1}^T\tan(x)", r"\nabla_W -\log\operatorname{softmax}(Wx)_y"]


@pytest.mark.parametrize("cell", BEYOND, ids=[f"cell_{i}" for i in range(len(BEYOND))])
def test_each_gives_a_checked_answer(cell):
    d = derive(cell)
    assert d.check is not None and d.check.passed, d.check
