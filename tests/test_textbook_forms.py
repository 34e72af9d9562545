"""Results printed as a textbook prints them (text and LaTeX), each still passing the numeric check;
squared norms differentiated directly; powers, determinants and Kronecker sizes grouped."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import derive
from derivmagic.check import evaluate
from derivmagic.render import to_latex, to_text

LOGISTIC = r"-(y^T\log\sigma(X\theta) + (\mathbf{1}-y)^T\log(\mathbf{1}-\sigma(X\theta)))"
GAUSSIAN = r"-\frac{1}{2}\log\det\Sigma - \frac{1}{2}(x-\mu)^T\Sigma^{-1}(x-\mu), \Sigma \in \mathbb{S}^n_{++}"

TEXTBOOK = [
    ("least-squares", r"\nabla_x \|Ax - b\|_2^2", "2Aᵀ(Ax - b)", r"2 A^T (A x - b)"),
    ("half-squared-residual", r"\nabla_W \frac{1}{2}\|Wx - y\|_2^2", "(Wx - y)xᵀ", r"(W x - y) x^T"),
    ("frobenius-least-squares", r"\nabla_W \|XW - Y\|_F^2", "2Xᵀ(XW - Y)", r"2 X^T (X W - Y)"),
    ("quadratic-form", r"\nabla_x x^T A x", "(A + Aᵀ)x", r"(A + A^T) x"),
    ("quadratic-form-hessian", r"\nabla^2_x x^T A x", "A + Aᵀ", r"A + A^T"),
    ("symmetric-quadratic", r"\nabla_x \frac{1}{2}x^TQx + c^Tx, Q \in \mathbb{S}^n", "Qx + c", r"Q x + c"),
    ("logistic-cs229-sum",
     r"\nabla_\theta -\sum_{i=1}^m y_i\log\sigma(\theta^Tx_i) + (1-y_i)\log(1-\sigma(\theta^Tx_i))",
     "Xᵀ(σ(Xθ) - y)", r"X^T (\sigma(X \theta) - y)"),
    ("logistic-vector", r"\nabla_\theta " + LOGISTIC, "Xᵀ(σ(Xθ) - y)", r"X^T (\sigma(X \theta) - y)"),
    ("logistic-likelihood",
     r"\nabla_\theta y^T\log\sigma(X\theta) + (\mathbf{1}-y)^T\log(\mathbf{1}-\sigma(X\theta))",
     "Xᵀ(y - σ(Xθ))", r"X^T (y - \sigma(X \theta))"),
    ("logistic-one-example", r"\nabla_\theta -(y\log\sigma(\theta^Tx) + (1-y)\log(1-\sigma(\theta^Tx)))",
     "(σ(θᵀx) - y)x", r"(\sigma(\theta^T x) - y) x"),
    ("logistic-hessian", r"\nabla^2_\theta " + LOGISTIC, "Xᵀ diag(σ(Xθ) ⊙ (𝟏 - σ(Xθ))) X",
     r"X^T \operatorname{diag}(\sigma(X \theta) \odot (\mathbf{1} - \sigma(X \theta))) X"),
    ("softmax-cross-entropy", r"\nabla_z -y^T\log\operatorname{softmax}(z)", "(𝟏ᵀy) softmax(z) - y",
     r"(\mathbf{1}^T y) \operatorname{softmax}(z) - y"),
    ("log-sum-exp", r"\nabla_x \log \mathbf{1}^T\exp(x)", "softmax(x)", r"\operatorname{softmax}(x)"),
    ("gaussian-mean", r"\nabla_\mu -\frac{1}{2}(x-\mu)^T\Sigma^{-1}(x-\mu), \Sigma \in \mathbb{S}^n_{++}",
     "Σ⁻¹(x - μ)", r"\Sigma^{-1} (x - \mu)"),
    ("gaussian-covariance", r"\nabla_\Sigma " + GAUSSIAN, "(Σ⁻¹(x - μ)(x - μ)ᵀΣ⁻¹ - Σ⁻¹)/2",
     r"\frac{1}{2} (\Sigma^{-1} (x - \mu) (x - \mu)^T \Sigma^{-1} - \Sigma^{-1})"),
    ("determinant-bars", r"\nabla_A |A|", "det(A) A⁻ᵀ", r"\det(A) A^{-T}"),
    ("log-determinant", r"\nabla_X \log\det X", "X⁻ᵀ", r"X^{-T}"),
    ("trace-of-a-cube", r"\nabla_A \operatorname{tr}(A^3)", "3(Aᵀ)²", r"3 (A^T)^2"),
    ("trace-sandwich", r"\nabla_X \operatorname{tr}(AXB)", "AᵀBᵀ", r"A^T B^T"),
    ("trace-quadratic", r"\nabla_X \operatorname{tr}(X^TAX)", "(A + Aᵀ)X", r"(A + A^T) X"),
    ("trace-inverse", r"\nabla_X \operatorname{tr}(X^{-1}A)", "-X⁻ᵀAᵀX⁻ᵀ", r"-X^{-T} A^T X^{-T}"),
    ("two-norm", r"\nabla_x \|x\|_2", "x/‖x‖₂", r"\frac{x}{\left\| x \right\|_{2}}"),
    ("tanh", r"\nabla_x \tanh(a^Tx)", "(1 - tanh(aᵀx)²)a", r"(1 - \tanh(a^T x)^2) a"),
    ("sigmoid", r"\nabla_x \sigma(w^Tx)", "σ(wᵀx) (1 - σ(wᵀx))w", r"\sigma(w^T x) (1 - \sigma(w^T x)) w"),
    ("logistic-loss", r"\nabla_w \log(1 + e^{-y w^Tx})", "-σ(-ywᵀx) yx", r"-\sigma(-y w^T x) y x"),
    ("logistic-loss-positive", r"\nabla_w -\log(1 + e^{w^Tx})", "-σ(wᵀx) x", r"-\sigma(w^T x) x"),
    ("logistic-loss-vector", r"\nabla_w \mathbf{1}^T \log(\mathbf{1} + \exp(-y \odot (Xw)))",
     "-Xᵀ(σ(-((Xw) ⊙ y)) ⊙ y)", r"-X^T (\sigma(-((X w) \odot y)) \odot y)"),
    ("logistic-mean",
     r"\nabla_\theta -\frac{1}{m}\sum_{i=1}^m y_i\log\sigma(\theta^Tx_i) + (1-y_i)\log(1-\sigma(\theta^Tx_i))",
     "(Xᵀ(σ(Xθ) - y))/m", r"\frac{1}{m} X^T (\sigma(X \theta) - y)"),
]


@pytest.mark.parametrize("cell, text, latex", [c[1:] for c in TEXTBOOK], ids=[c[0] for c in TEXTBOOK])
def test_textbook_form_printed_and_checked(cell, text, latex):
    d = derive(cell)
    assert (to_text(d.expr), to_latex(d.expr)) == (text, latex)
    assert d.check.passed and d.check.max_error < 1e-6


def test_the_table_has_twenty_results():
    assert len(TEXTBOOK) >= 20


@pytest.mark.parametrize("cell, squared", [
    (r"\nabla_x \|Ax - b\|_2^2", "‖Ax - b‖₂²"),
    (r"\nabla_W \|XW - Y\|_F^2", "‖XW - Y‖_F²"),
    (r"\nabla_w \|Xw - y\|_2^2 + \lambda\|w\|_2^2", "‖w‖₂²"),
], ids=["2-norm", "frobenius", "ridge"])
def test_squared_norm_is_differentiated_directly(cell, squared):
    """d‖r‖² = 2rᵀdr: no step goes through ‖r‖ and 1/‖r‖."""
    d = derive(cell)
    lines = [s.text for s in d.steps]
    assert any(line.lstrip().startswith(f"d({squared})") and "squared" in line for line in lines), lines
    assert not any("/‖" in line or "‖⁻¹" in line for line in lines), lines
    assert not any(r"\right\|_{2}}" in s.latex or r"\right\|_{F}}" in s.latex for s in d.steps)


@pytest.mark.parametrize("cell, text", [
    (r"\nabla_x \|x\|_2^4", "4 ‖x‖₂² x"),
    (r"\nabla_x \sqrt{\|x\|_2^2}", "x/‖x‖₂"),
    (r"\nabla_x \frac{1}{\|x\|_2^2}", "-2x/‖x‖₂⁴"),
], ids=["fourth-power", "root-of-square", "reciprocal"])
def test_powers_of_a_squared_norm(cell, text):
    d = derive(cell)
    assert to_text(d.expr) == text
    assert d.check.passed


def test_squared_norm_code_export_and_sympy_agree():
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    rng = np.random.default_rng(1)
    A, x, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 1)), rng.standard_normal((3, 1))
    value, grad = d.to_function()(x, A, b)
    assert np.allclose(value, np.sum((A @ x - b) ** 2))
    assert np.allclose(np.ravel(grad), np.ravel(2 * A.T @ (A @ x - b)))
    import sympy
    f = d.function.subs({d.symbols["A"]: sympy.Matrix(A), d.symbols["x"]: sympy.Matrix(x),
                         d.symbols["b"]: sympy.Matrix(b)}).doit()
    assert float(f) == pytest.approx(float(np.sum((A @ x - b) ** 2)))


@pytest.mark.parametrize("cell, shown", [
    (r"\frac{\partial}{\partial X} X^{-1}", ("m²×m²", r"m^{2} \times m^{2}")),
    (r"\frac{\partial}{\partial X} AXB", ("pq×mn", r"pq \times mn")),
], ids=["square", "rectangular"])
def test_kronecker_sizes_as_powers(cell, shown):
    from derivmagic.report import tex_text
    d = derive(cell)
    assert shown[0] in d.answer.description
    assert shown[1] in tex_text(d.answer.description)


@pytest.mark.parametrize("cell, piece", [
    (r"\nabla_A \operatorname{tr}(A^3)", "tr(A³)"),
    (r"\nabla_A \operatorname{tr}(A^4 B)", "tr(A⁴B)"),
], ids=["cube", "fourth"])
def test_matrix_powers_print_as_powers(cell, piece):
    d = derive(cell)
    assert any(piece in s.text for s in d.steps), [s.text for s in d.steps]
    assert "AAA" not in d.text


def test_determinant_is_grouped_where_it_multiplies():
    d = derive(r"\nabla_A \det A")
    assert to_text(d.expr) == "det(A) A⁻ᵀ"
    assert r"\det(A) A^{-T}" in d.latex
    alone = derive(r"\nabla_X \log\det X")
    assert "log(det X)" in alone.text


@pytest.mark.parametrize("cell", [r"\nabla^2_\theta " + LOGISTIC, r"\nabla_\theta " + LOGISTIC],
                         ids=["hessian", "gradient"])
def test_collected_forms_evaluate_like_the_uncollected(cell):
    """The collected result equals the derivative of the function at random points (NumPy only)."""
    d = derive(cell)
    rng = np.random.default_rng(3)
    X, theta, y = rng.standard_normal((5, 3)), rng.standard_normal((3, 1)), rng.uniform(0, 1, (5, 1))
    s = 1 / (1 + np.exp(-X @ theta))
    want = X.T @ np.diagflat(s * (1 - s)) @ X if "nabla^2" in cell else X.T @ (s - y)
    got = evaluate(d.expr, {"X": X, "theta": theta, "y": y}, {"m": 5, "n": 3})
    assert np.allclose(got, want)


@pytest.mark.parametrize("cell, step", [
    (r"\nabla_\theta " + LOGISTIC, "= σ(Xθ) ⊙ (𝟏 - σ(Xθ)) ⊙ (X dθ)"),
    (r"\nabla_x \mathbf{1}^T\tanh(Ax)", "= (𝟏 - tanh(Ax)^(∘2)) ⊙ (A dx)"),
], ids=["sigmoid", "tanh"])
def test_elementwise_steps_put_the_differential_last(cell, step):
    d = derive(cell)
    assert any(step in s.text for s in d.steps), [s.text for s in d.steps]


RENDERED = {
    "textbook table": [c[1] for c in TEXTBOOK],
    "declarations": [r"\nabla_z -y^T\log\operatorname{softmax}(z), y \in \Delta^n",
                     r"\nabla_z -y^T\log\operatorname{softmax}(z), y \in \{0,1\}^n, \mathbf{1}^T y = 1",
                     r"L = -y^T \log \operatorname{softmax}(s), s = Wx, \nabla_W L = (\operatorname{softmax}(s) - y)x^T"],
    "reasons": [r"\nabla_x \|Ax + b\|_2^2 = 2A^T A x + A^T b", r"\frac{\partial}{\partial x} Ax = A^T",
                r"\nabla_x x^T A x = 2Ax", r"\nabla_x a^Tx = a^T"],
}


@pytest.mark.parametrize("group", RENDERED, ids=list(RENDERED))
def test_new_forms_render_in_katex_and_mathjax(group):
    from texcheck import node_available, validate
    if not node_available():
        pytest.skip("node with KaTeX and MathJax is not installed (tests/js)")
    strings = [derive(cell).latex for cell in RENDERED[group]]
    assert all(s.isascii() for s in strings)
    bad = [(cell, r) for cell, r in zip(RENDERED[group], validate(strings)) if not r["ok"]]
    assert not bad, bad
