"""Faithful reading: ordinary textbook notation must be read as the student meant it.

Every row gives the derivative a student expects, as plain NumPy of the symbols' values, and
compares it with ``derive(cell).result`` evaluated through SymPy (``xreplace`` + ``doit``): an
oracle that shares nothing with derivmagic's own numeric check, which only verifies the
derivative of what was read and so can never catch a misreading.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from derivmagic import ParseError, derive

N = 3   # every dimension in these rows


def sig(z):
    return 1 / (1 + np.exp(-z))


def values(d, seed=0):
    """Random values for every symbol of a derivation (SPD where declared), sized N."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, s in d.symbols.items():
        if isinstance(s, sympy.MatrixSymbol):
            rows, cols = (N if not getattr(k, "is_number", False) else int(k) for k in s.shape)
            a = rng.normal(size=(rows, cols))
            if name in ("Sigma", "S"):
                a = a @ a.T + rows * np.eye(rows)
            out[name] = a
        else:
            out[name] = float(rng.uniform(0.3, 1.5))
    return out


def evaluate(expr, d, vals):
    subs = {}
    for name, s in d.symbols.items():
        v = vals[name]
        subs[s] = sympy.ImmutableMatrix(v) if isinstance(s, sympy.MatrixSymbol) else sympy.Float(v)
    dims = {k: N for s in d.symbols.values() if isinstance(s, sympy.MatrixSymbol) for k in s.shape
            if isinstance(k, sympy.Symbol)}
    out = expr.xreplace(subs).xreplace(dims).doit()
    if isinstance(out, sympy.MatrixExpr) and not isinstance(out, sympy.MatrixBase):
        out = out.as_explicit()   # SymPy leaves I + M (explicit M) unevaluated
    if isinstance(out, sympy.MatrixBase):
        return np.array(out.evalf(), dtype=float)
    return np.array(float(out)).reshape(1, 1)


def col(v):
    return np.asarray(v, dtype=float).reshape(-1, 1)


# (id, cell, the derivative the student expects from the symbols' values)
RIGHT = [
    ("frac12_quadratic", r"\nabla_x \frac12 x^T Q x", lambda Q, x: 0.5 * (Q + Q.T) @ x),
    ("tfrac12_norm", r"\nabla_x \tfrac12\|x\|^2", lambda x: x),
    ("frac1n", r"\nabla_x \frac1n x^T x", lambda x, n: 2 * x / n),
    ("frac_lambda_2", r"\nabla_w \frac\lambda2 w^T w", lambda w, **k: k["lambda"] * w),
    ("sqrt2", r"\nabla_x \sqrt2 x^T x", lambda x: 2 * np.sqrt(2) * x),
    ("x_pow_12", r"\frac{d}{dt} t^12", lambda t: np.array([[2.0]])),
    ("coefficient_c", r"\nabla_x \frac{1}{2} x^T Q x + c", lambda Q, x, c: 0.5 * (Q + Q.T) @ x),
    ("coefficient_r", r"\nabla_x \frac{1}{2} x^T Q x + r\|x\|^2", lambda Q, x, r: 0.5 * (Q + Q.T) @ x + 2 * r * x),
    ("coefficient_k", r"\nabla_\theta \theta^T H\theta + k", lambda H, theta, k: (H + H.T) @ theta),
    ("minus_k_b", r"\nabla_x \frac{1}{2} x^T A x - k b^T x", lambda A, x, k, b: 0.5 * (A + A.T) @ x - k * b),
    ("plus_t_b", r"\nabla_x \frac{1}{2} x^T A x + t b^T x", lambda A, x, t, b: 0.5 * (A + A.T) @ x + t * b),
    ("k_sin", r"\nabla_x \frac{1}{2} x^T A x + k\sin(y)^T x", lambda A, x, k, y: 0.5 * (A + A.T) @ x + k * np.sin(y)),
    ("sigmoid_scalar", r"\frac{d}{dt}\sigma(t)", lambda t: np.array([[sig(t) * (1 - sig(t))]])),
    ("outer_parentheses", r"\frac{d}{dt} \left(\alpha (t+1)\right)^2",
     lambda t, alpha: np.array([[2 * alpha ** 2 * (t + 1)]])),
    ("outer_parentheses_w", r"\nabla_w (\beta(w^Tx))^2", lambda w, x, beta: 2 * beta ** 2 * (w.T @ x) * x),
    ("alpha_paren_squared", r"\frac{d}{dt} \alpha (t+1)^2", lambda t, alpha: np.array([[2 * alpha * (t + 1)]])),
    ("cs229_sum", r"\nabla_\theta \sum_{i=1}^n y_i\log\sigma(\theta^T x_i) + (1-y_i)\log(1-\sigma(\theta^T x_i))",
     lambda X, y, theta: X.T @ (y - sig(X @ theta))),
    ("identity_I_n", r"\nabla_x x^T I_n x", lambda x: 2 * x),
    ("identity_mathbf_I", r"\nabla_x x^T \mathbf{I} x", lambda x: 2 * x),
    ("mahalanobis_mu", r"\nabla_x \sqrt{(x-\mu)^T\Sigma^{-1}(x-\mu)}",
     lambda x, mu, Sigma: np.linalg.solve(Sigma, x - mu) / np.sqrt(((x - mu).T @ np.linalg.solve(Sigma, x - mu)).item())),
    ("thin_space", r"\nabla_x \, x^T x", lambda x: 2 * x),
    ("spacing_everywhere", r"\nabla_x\; x^T \! A \: x ~", lambda x, A: (A + A.T) @ x),
    ("boldsymbol_unbraced", r"\nabla_{\boldsymbol\theta} \boldsymbol\theta^T\boldsymbol\theta", lambda theta: 2 * theta),
    ("hat_mathbf", r"\nabla_w \|\hat{\mathbf y} - Xw\|^2", lambda w, X, y_hat: -2 * X.T @ (y_hat - X @ w)),
    ("mathbf_hat", r"\nabla_w \|\mathbf{\hat y} - Xw\|^2", lambda w, X, y_hat: -2 * X.T @ (y_hat - X @ w)),
    ("frobenius_mathrm", r"\nabla_X \|X\|_{\mathrm F}^2", lambda X: 2 * X),
    ("partial_of_sum", r"\frac{\partial\, x^TAx + b^Tx}{\partial x}", lambda x, A, b: ((A + A.T) @ x + b).T),
    ("direction_dA", "f(A) = A^3\nD f(A)[dA]", lambda A, dA: dA @ A @ A + A @ dA @ A + A @ A @ dA),
    ("direction_2v", "D f(x)[2v]\nf(x) = x^Tx", lambda x, v: 4 * (x.T @ v)),
    ("relu_text", r"\nabla_x \mathbf{1}^T\text{ReLU}(Wx)", lambda W, x: W.T @ (W @ x > 0)),
    ("text_softmax", r"\nabla_z \text{softmax}(z)^T y",
     lambda z, y: (lambda s: (np.diag(s.ravel()) - s @ s.T) @ y)(np.exp(z) / np.exp(z).sum())),
    # a norm inside a norm written with the same bars: TeX does not pair them; only ‖a·‖b‖²‖² is well formed
    ("nested_norm_bars", r"\nabla_a \|a\|b\|^2\|^2", lambda a, b: 2 * (b * b).sum() ** 2 * a),
    ("nested_norm_left_right", r"\nabla_a \left\| a \left\|b\right\|^2 \right\|^2", lambda a, b: 2 * (b * b).sum() ** 2 * a),
    ("nested_norm_lVert", r"\nabla_a \lVert a \lVert b\rVert^2 \rVert^2", lambda a, b: 2 * (b * b).sum() ** 2 * a),
    ("nested_norm_unsquared", r"\nabla_a \|a\|b\|\|", lambda a, b: np.sqrt((b * b).sum() / (a * a).sum()) * a),
    ("two_norms_side_by_side", r"\nabla_a \|a\| \|b\|", lambda a, b: np.sqrt((b * b).sum() / (a * a).sum()) * a),
]


@pytest.mark.parametrize("cell,want", [r[1:] for r in RIGHT], ids=[r[0] for r in RIGHT])
def test_read_as_the_student_meant(cell, want):
    d = derive(cell)
    vals = values(d)
    args = {k: (col(v) if np.ndim(v) == 1 else v) for k, v in vals.items()}
    import inspect
    params = inspect.signature(want).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        expected = want(**{k: v for k, v in args.items()})
    else:
        expected = want(**{k: args[k] for k in params})
    got = evaluate(d.result, d, vals)
    expected = np.asarray(expected, dtype=float).reshape(got.shape)
    assert np.allclose(got, expected, rtol=1e-8, atol=1e-10), f"{cell}\nread: {d.function}\ngot {got}\nwant {expected}"


# ---- claims the student wrote: true ones hold, false ones are false, each shown as written
CLAIMS = [
    ("frac12_claim", r"\nabla_w \frac12 w^T w = w", True),
    ("sigmoid_claim", r"\frac{d}{dt}\sigma(t) = \sigma(t)(1-\sigma(t))", True),
    ("identity_claim", r"\nabla_x x^T I_n x = 2x", True),
    ("logdet_does_not_make_A_symmetric", r"\nabla_X \operatorname{tr}(XA) + \log\det A = A", False),
    ("logdet_transpose_holds", r"\nabla_X \operatorname{tr}(XA) + \log\det A = A^T", True),
    ("zero_claim", r"\nabla_x \|x\|_2^2 = 0", False),
    ("shapes_do_not_fit", r"\nabla_w \frac{1}{2}\|Xw-y\|^2 = X(Xw-y)", False),
    ("matrix_exponential_claim", r"\frac{d}{dt} e^{tA} = A e^{tA}", True),
    ("exp_not_entrywise", r"\frac{d}{dt} e^{tA} = e^{tA} \odot A", False),
    ("circ_power_claim", r"\frac{\partial}{\partial x} -\log(x) = -\operatorname{diag}(x^{\circ -1})", True),
    ("nested_norm_claim", r"\nabla_a \|a\|b\|^2\|^2 = 2\|b\|^4 a", True),
    ("nested_norm_claim_false", r"\nabla_a \|a\|b\|^2\|^2 = 2\|b\|^2 a", False),
]


@pytest.mark.parametrize("cell,holds", [r[1:] for r in CLAIMS], ids=[r[0] for r in CLAIMS])
def test_claims_are_judged_on_what_was_written(cell, holds):
    d = derive(cell)
    assert [c.holds for c in d.claims] == [holds], d.text


def test_a_claim_is_displayed_as_written():
    d = derive(r"\nabla_w \frac{1}{2}\|Xw-y\|^2 = X(Xw-y)")
    claimed = d.text.split("Claims", 1)[1]
    assert "X(Xw-y)" in claimed.replace(" ", "")


# ---- refusals: clear errors instead of a wrong answer with a green tick
REFUSED = [
    ("unknown_text_function", r"\nabla_x \mathbf{1}^T\text{GELU}(Wx)", r"unknown function GELU; known: "),
    ("einstein", r"\nabla_x x_i A_{ij} x_j", r"the index i is repeated with no \\sum"),
    ("index_outside_sum", r"\nabla_x \sum_i x_i^2 + 2 \quad + y_i z", r"index i of y_i is used outside the sum"),
    ("unknown_operatorname", r"\nabla_x \operatorname{foo}(x)", r"unknown function foo"),
    ("cases_with_other_conditions", "f(x) = \\begin{cases} x & x > 0 \\\\ 0 & \\text{otherwise}\\end{cases}\n\\nabla_x f",
     r"\\begin\{cases\} is read as the entry formula of an index line"),
    ("arbitrary_function_entry_by_entry",
     r"z = f(x) \quad \frac{\partial z_i}{\partial x_j} = \frac{\partial}{\partial x_j} f(x_i)",
     r"f is applied to a scalar and to a vector .*entry by entry is not read yet"),
]

def _spd(n, seed):
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def _inverse_root(M):
    lam, Q = np.linalg.eigh(M)
    return (Q / np.sqrt(lam)) @ Q.T


# functions of a square matrix are matrix functions: the gradient is the matrix function's (at a positive
# definite X, as the check draws it), never what the entrywise function would give
MATRIX_FUNCTIONS = [
    ("matrix_log", r"\nabla_X \operatorname{tr}(\log X)", lambda X: np.linalg.inv(X).T),
    ("matrix_sqrt", r"\nabla_X \operatorname{tr}(X^{1/2})", lambda X: 0.5 * _inverse_root(X)),
    ("matrix_sqrt_command", r"\nabla_X \operatorname{tr}(\sqrt{X})", lambda X: 0.5 * _inverse_root(X)),
]


@pytest.mark.parametrize("cell,gradient", [r[1:] for r in MATRIX_FUNCTIONS], ids=[r[0] for r in MATRIX_FUNCTIONS])
def test_functions_of_square_matrices_are_never_entrywise(cell, gradient):
    d = derive(cell)
    X = _spd(N, 4)
    got = evaluate(d.result, d, {"X": X})
    assert np.allclose(got, gradient(X))
    assert not np.allclose(got, 1 / X) and not np.allclose(got, 0.5 / np.sqrt(np.abs(X)))


def test_other_fractional_matrix_powers_are_refused():
    from derivmagic import DerivError
    with pytest.raises(DerivError, match=r"X\^\{1/3\} of a square matrix is a fractional matrix power"):
        derive(r"\nabla_X \operatorname{tr}(X^{1/3})")


def test_functions_of_vectors_and_non_square_matrices_are_entrywise():
    d = derive("\\frac{d}{dt} \\exp(tA)\nA \\in \\mathbb{R}^{2 \\times 3}")
    vals = values(d)
    vals["A"] = np.random.default_rng(3).normal(size=(2, 3))
    got = evaluate(d.result, d, vals)
    assert np.allclose(got, vals["A"] * np.exp(vals["t"] * vals["A"]))


@pytest.mark.parametrize("cell,message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_with_a_reason(cell, message):
    with pytest.raises(ParseError, match=message):
        derive(cell)


# ---- ambiguity is said, not silently chosen
def test_a_reading_against_convention_that_changes_the_shape_is_a_warning():
    d = derive(r"\nabla_x \frac{1}{2} x^T Q x + c")
    assert d.warnings == [r"read c as a scalar; declare c ∈ ℝⁿ if it is a vector (write c \in \mathbb{R}^n)"]
    assert "⚠ read c as a scalar" in d.text
    assert r"\text{ambiguous: read }c\text{ as a scalar; declare }c \in \mathbb{R}^n\text{ if it is a vector}" \
        in d.latex
    declared = derive("\\nabla_x \\frac{1}{2} x^T Q x + c\nc \\in \\mathbb{R}")
    assert declared.warnings == []


def test_usage_is_evidence_not_ambiguity():
    d = derive(r"\nabla_\theta \|X\theta - y\|^2")      # Xθ: θ is a vector, no warning
    assert d.warnings == []


def test_sums_as_printed_say_how_far_they_reach():
    d = derive(r"\nabla_\theta \sum_{i=1}^n y_i\log\sigma(\theta^T x_i) + (1-y_i)\log(1-\sigma(\theta^T x_i))")
    assert any("covering all 2 terms" in n for n in d.reading.notes), d.reading.notes


def test_sum_stops_at_a_term_without_its_index():
    d = derive(r"\nabla_x \sum_i x_i^2 + a^Tx")
    vals = values(d)
    got = evaluate(d.result, d, vals)
    assert np.allclose(got, 2 * vals["x"] + vals["a"])


@pytest.mark.parametrize("cell,said", [
    (r"\nabla_a \|a\|b\|^2\|^2", True),
    (r"\nabla_a \left\| a \left\|b\right\|^2 \right\|^2", False),
    (r"\nabla_a \lVert a \lVert b\rVert^2 \rVert^2", False),
    (r"\nabla_a \|a\| \|b\|", False),
], ids=["bars", "left_right", "lVert", "side_by_side"])
def test_a_norm_read_inside_a_norm_of_the_same_bars_is_said(cell, said):
    d = derive(cell)
    assert ("read the inner ‖…‖ as a norm inside the outer one" in d.reading.notes) == said, d.reading.notes


def test_ignored_text_is_listed():
    d = derive(r"\nabla_X \operatorname{tr}(X^TAX) \quad (\text{when } A \text{ is symmetric})")
    assert "ignored: “( when A is symmetric )”" in d.reading.notes


def test_parentheses_are_kept_in_the_tree():
    d = derive(r"\frac{d}{dt} \left(\alpha (t+1)\right)^2")
    assert sympy.simplify(d.function - (sympy.Symbol("alpha") * (sympy.Symbol("t") + 1)) ** 2) == 0


def test_check_only_refuses_a_verdict_on_an_ambiguous_reading(capsys):
    from derivmagic.cli import main
    assert main(["--check-only", r"\nabla_x \frac{1}{2} x^T Q x + c = \frac12(Q + Q^T)x"]) == 2
    assert "ambiguous: read c as a scalar" in capsys.readouterr().out
    assert main(["--check-only", "\\nabla_x \\frac{1}{2} x^T Q x + c = \\frac12(Q + Q^T)x\nc \\in \\mathbb{R}"]) == 0


def test_an_evaluation_bar_at_a_number_is_said_and_read_at_a_general_point():
    d = derive(r"\left. \nabla_x x^TAx \right|_{x=0} = (A + A^T)x")
    assert d.reading.notes == ["evaluated at x = 0: read at a general point"]
    assert [c.holds for c in d.claims] == [True]
    d = derive(r"\left.\frac{d}{dx} x^2\right|_{x = 1} = 3")   # a value at the number: never judged against 2x
    assert d.claims == [] and "evaluated at x = 1: read at a general point (a claimed value at x = 1 is not judged; at a named point such as x_0 it is)" in d.reading.notes


@pytest.mark.parametrize("cell, holds", [
    (r"\left.\frac{\partial y}{\partial x}\right|_{x = x_0} = 2x_0 \quad y = x^2", True),
    (r"\left.\frac{\partial y}{\partial x}\right|_{x = x_0} = 2x \quad y = x^2", False),
    (r"\left.\frac{d}{dx} x^2\right|_{x_0} = 2x_0", True),
    (r"\left. \nabla_x x^TAx \right|_{x = \mathbf{a}} = (A + A^T)a", True),
    (r"\left. \nabla_x x^TAx \right|_{x = \mathbf{a}} = 2Aa", False),
], ids=["definition", "definition_general_claim", "point_only", "vector", "vector_symmetric"])
def test_an_evaluation_bar_at_a_named_point_is_the_derivative_taken_there(cell, holds):
    """At x₀ the derivative by x at x₀ (so 2x₀ for y = x², which was judged false at a general point)."""
    d = derive(cell)
    assert [c.holds for c in d.claims] == [holds], d.text
    assert any(n.startswith("evaluated at ") and "the derivative by x taken at" in n for n in d.reading.notes)
