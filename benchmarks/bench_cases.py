"""Cases for the benchmarks: the public corpus (loaded by path), a few extra cells that
exercise what the public corpus lacks (log det, inverse, log-sum-exp, powers of norms),
and, for every case SymPy can express, the same function written with SymPy
``MatrixSymbol`` expressions.

A SymPy builder is ``build(form, sfx) -> (f, wrt, order)``:
  form  "trace": a 1x1 product used as a scalar is written ``Trace(u.T*v)``;
        "elem":  it is written ``(u.T*v)[0, 0]`` (the other common spelling);
  sfx   a suffix for every symbol name, so that repeated timings see a new expression
        each time (no hit in SymPy's cache) while dimension symbols stay shared;
  order 1 for ``f.diff(wrt)``, 2 for ``f.diff(wrt).diff(wrt)`` (a Hessian).
Symbol names are the case's own names (``theta``, ``delta``, ``Sigma``) so that the
corpus harness's evaluator can put numbers in SymPy's raw answers.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS_DIR = ROOT / "tests" / "data" / "corpus"


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def public_cases() -> list[dict]:
    return load_module("dm_public_cases", CORPUS_DIR / "public_cases.py").CASES


def harness():
    return load_module("dm_corpus_harness", CORPUS_DIR / "harness.py")


def _sq(v):
    return float((v.T @ v).squeeze())


def _logdet(X):
    sign, val = np.linalg.slogdet(X)
    return val if sign > 0 else np.nan


def _sigmoid(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))


# ---------------------------------------------------------------- extra cells (not in the public corpus)
EXTRA_CASES = [
    dict(id="x_logdet", cell=r"\nabla_X \log\det X", kind="gradient", wrt="X",
         f=lambda X: _logdet(X), shapes={"X": (4, 4)}, sample={"X": "spd"}),
    dict(id="x_det", cell=r"\nabla_X \det X", kind="gradient", wrt="X",
         f=lambda X: np.linalg.det(X), shapes={"X": (4, 4)}, sample={"X": "invertible"}),
    dict(id="x_inverse_form", cell=r"\nabla_X a^T X^{-1} b", kind="gradient", wrt="X",
         f=lambda a, X, b: (a.T @ np.linalg.inv(X) @ b).item(),
         shapes={"a": (4, 1), "X": (4, 4), "b": (4, 1)}, sample={"X": "invertible"}),
    dict(id="x_trace_inverse", cell=r"\nabla_X \operatorname{tr}(X^{-1})", kind="gradient", wrt="X",
         f=lambda X: np.trace(np.linalg.inv(X)), shapes={"X": (4, 4)}, sample={"X": "invertible"}),
    dict(id="x_logsumexp", cell=r"\nabla_x \log(\mathbf{1}^T \exp(x))", kind="gradient", wrt="x",
         f=lambda x: float(np.log(np.sum(np.exp(x)))), shapes={"x": (5, 1)}),
    dict(id="x_norm", cell=r"\nabla_x \|x\|_2", kind="gradient", wrt="x",
         f=lambda x: np.sqrt(_sq(x)), shapes={"x": (4, 1)}),
    dict(id="x_norm_cubed", cell=r"\nabla_x \|Ax - b\|_2^3", kind="gradient", wrt="x",
         f=lambda A, x, b: _sq(A @ x - b) ** 1.5, shapes={"A": (5, 3), "x": (3, 1), "b": (5, 1)}),
    dict(id="x_mahalanobis",
         cell="\\nabla_x (x-\\mu)^T \\Sigma^{-1} (x-\\mu)\n\\Sigma \\in \\mathbb{S}^n_{++}\nx, \\mu \\in \\mathbb{R}^n",
         kind="gradient", wrt="x", f=lambda x, mu, Sigma: ((x - mu).T @ np.linalg.inv(Sigma) @ (x - mu)).item(),
         shapes={"x": (4, 1), "mu": (4, 1), "Sigma": (4, 4)}, sample={"Sigma": "spd"}),
    dict(id="x_gaussian_nll_sigma",
         cell="\\nabla_\\Sigma \\log\\det\\Sigma + (x-\\mu)^T \\Sigma^{-1} (x-\\mu)\n"
              "\\Sigma \\in \\mathbb{S}^n_{++}\nx, \\mu \\in \\mathbb{R}^n",
         kind="gradient", wrt="Sigma",
         f=lambda x, mu, Sigma: _logdet(Sigma) + ((x - mu).T @ np.linalg.inv(Sigma) @ (x - mu)).item(),
         shapes={"x": (4, 1), "mu": (4, 1), "Sigma": (4, 4)}, sample={"Sigma": "spd"}),
    dict(id="x_logistic", cell=r"\nabla_w \mathbf{1}^T \log(\mathbf{1} + \exp(Xw))", kind="gradient", wrt="w",
         f=lambda X, w: float(np.sum(np.log1p(np.exp(X @ w)))), shapes={"X": (5, 3), "w": (3, 1)}),
    dict(id="x_tanh_layer", cell=r"\nabla_x \|\tanh(Wx)\|_2^2", kind="gradient", wrt="x",
         f=lambda W, x: _sq(np.tanh(W @ x)), shapes={"W": (4, 3), "x": (3, 1)}),
    dict(id="x_two_layer", cell=r"\nabla_W \|V \sigma(W x) - y\|_2^2", kind="gradient", wrt="W",
         f=lambda V, W, x, y: _sq(V @ _sigmoid(W @ x) - y),
         shapes={"V": (2, 4), "W": (4, 3), "x": (3, 1), "y": (2, 1)}),
]


# ---------------------------------------------------------------- the same functions in SymPy
def sympy_builders() -> dict:
    import sympy as sp
    from sympy import Determinant, Inverse, OneMatrix, Trace, HadamardProduct
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction as EAF

    n, m, p = sp.symbols("n m p", integer=True, positive=True)

    def M(name, r, c, sfx):
        return sp.MatrixSymbol(name + sfx, r, c)

    def S(e, form):
        """A 1x1 matrix product used as a scalar."""
        return Trace(e) if form == "trace" else e[0, 0]

    t = sp.Dummy("t")
    sigmoid = sp.Lambda(t, 1 / (1 + sp.exp(-t)))

    B = {}

    def case(cid):
        def deco(fn):
            B[cid] = fn
            return fn
        return deco

    @case("norm_sq")
    def _(form, s):
        x = M("x", n, 1, s)
        return S(x.T * x, form), x, 1

    @case("norm_fourth")
    def _(form, s):
        x = M("x", n, 1, s)
        return S(x.T * x, form) ** 2, x, 1

    @case("least_squares")
    def _(form, s):
        X, w, y = M("X", m, n, s), M("w", n, 1, s), M("y", m, 1, s)
        r = X * w - y
        return S(r.T * r, form), w, 1

    @case("least_squares_declared")
    def _(form, s):
        A, x, b = M("A", m, n, s), M("x", n, 1, s), M("b", m, 1, s)
        r = A * x - b
        return S(r.T * r, form), x, 1

    @case("quadratic_form")
    def _(form, s):
        x, A = M("x", n, 1, s), M("A", n, n, s)
        return S(x.T * A * x, form), x, 1

    @case("quadratic_plus_linear")
    def _(form, s):
        x, A, b, c = M("x", n, 1, s), M("A", n, n, s), M("b", n, 1, s), sp.Symbol("c" + s)
        return S(x.T * A * x, form) + S(b.T * x, form) + c, x, 1

    @case("linear")
    def _(form, s):
        c, x = M("c", n, 1, s), M("x", n, 1, s)
        return S(c.T * x, form), x, 1

    @case("affine_norm_plus")
    def _(form, s):
        A, x, b = M("A", m, n, s), M("x", n, 1, s), M("b", m, 1, s)
        r = A * x + b
        return S(r.T * r, form), x, 1

    @case("bilinear_affine")
    def _(form, s):
        A, x, b = M("A", m, n, s), M("x", n, 1, s), M("b", m, 1, s)
        C, D, e = M("C", m, p, s), M("D", p, n, s), M("e", p, 1, s)
        return S((A * x + b).T * C * (D * x + e), form), x, 1

    @case("weighted_ls_symmetric")
    def _(form, s):
        A, x, b, W = M("A", m, n, s), M("x", n, 1, s), M("b", m, 1, s), M("W", m, m, s)
        r = A * x - b
        return S(r.T * W * r, form), x, 1

    @case("rank_one_form")
    def _(form, s):
        a, x, b = M("a", n, 1, s), M("x", n, 1, s), M("b", n, 1, s)
        return S(a.T * x * x.T * b, form), x, 1

    @case("distance")
    def _(form, s):
        x, a = M("x", n, 1, s), M("a", n, 1, s)
        return sp.sqrt(S((x - a).T * (x - a), form)), x, 1

    @case("residual_bold")
    def _(form, s):
        y, z = M("y", n, 1, s), M("z", n, 1, s)
        return S((y - z).T * (y - z), form), z, 1

    @case("mean_squared_error")
    def _(form, s):
        y, X, th, N = M("y", m, 1, s), M("X", m, n, s), M("theta", n, 1, s), sp.Symbol("N" + s)
        r = y - X * th
        return S(r.T * r, form) / N, th, 1

    @case("quad_form_v_bold")
    def _(form, s):
        v, A = M("v", n, 1, s), M("A", n, n, s)
        return S(v.T * A * v, form), v, 1

    @case("neg_log_jacobian")
    def _(form, s):
        x = M("x", n, 1, s)
        return -EAF(sp.log, x), x, 1

    @case("elementwise_square")
    def _(form, s):
        x = M("x", n, 1, s)
        return HadamardProduct(x, x), x, 1

    @case("matvec_numerator")
    def _(form, s):
        W, x = M("W", m, n, s), M("x", n, 1, s)
        return W * x, x, 1

    @case("matvec_denominator")
    def _(form, s):
        A, v = M("A", m, n, s), M("v", n, 1, s)
        return A * v, v, 1

    @case("row_vector_times_matrix")
    def _(form, s):
        x, W = M("x", 1, n, s), M("W", n, m, s)
        return x * W, x, 1

    @case("norm_sq_row")
    def _(form, s):
        x = M("x", n, 1, s)
        return S(x.T * x, form), x, 1

    @case("residual_row")
    def _(form, s):
        Y, X, th, k = M("Y", m, 1, s), M("X", m, p, s), M("theta", p, 1, s), sp.Symbol("n" + s)
        r = Y - X * th
        return S(r.T * r, form) / k, th, 1

    @case("softmax_cross_entropy")
    def _(form, s):
        y, th = M("y", n, 1, s), M("theta", n, 1, s)
        e = EAF(sp.exp, th)
        soft = e * (1 / S(OneMatrix(1, n) * e, form))
        return -S(y.T * EAF(sp.log, soft), form), th, 1

    @case("scalar_times_vector")
    def _(form, s):
        x, a = sp.Symbol("x" + s), M("a", n, 1, s)
        return x * a, x, 1

    @case("partial_scalar")
    def _(form, s):
        x1, x2 = sp.Symbol("x_1" + s), sp.Symbol("x_2" + s)
        return x1 ** 3 + sp.exp(x2) * x1, x1, 1

    @case("trace_AX")
    def _(form, s):
        A, X = M("A", m, n, s), M("X", n, m, s)
        return Trace(A * X), X, 1

    @case("bilinear_in_matrix")
    def _(form, s):
        a, X, b = M("a", m, 1, s), M("X", m, n, s), M("b", n, 1, s)
        return S(a.T * X * b, form), X, 1

    @case("frobenius_sq")
    def _(form, s):
        X = M("X", m, n, s)
        return Trace(X.T * X), X, 1

    @case("trace_XtAX")
    def _(form, s):
        X, A = M("X", m, n, s), M("A", m, m, s)
        return Trace(X.T * A * X), X, 1

    @case("frobenius_residual")
    def _(form, s):
        A, X, Bm = M("A", m, n, s), M("X", n, p, s), M("B", m, p, s)
        R = A * X - Bm
        return Trace(R.T * R), X, 1

    @case("trace_AtXB")
    def _(form, s):
        A, X, Bm = M("A", m, n, s), M("X", m, p, s), M("B", p, n, s)
        return Trace(A.T * X * Bm), X, 1

    @case("trace_X")
    def _(form, s):
        X = M("X", n, n, s)
        return Trace(X), X, 1

    @case("uXv")
    def _(form, s):
        u, X, v = M("u", m, 1, s), M("X", m, n, s), M("v", n, 1, s)
        return S(u.T * X * v, form), X, 1

    @case("upstream_matvec")
    def _(form, s):
        W, x, d = M("W", m, n, s), M("x", n, 1, s), M("delta", m, 1, s)
        return S(d.T * W * x, form), W, 1

    @case("hessian_quadratic")
    def _(form, s):
        x, A = M("x", n, 1, s), M("A", n, n, s)
        return S(x.T * A * x, form), x, 2

    # --- the extra cells
    @case("x_logdet")
    def _(form, s):
        X = M("X", n, n, s)
        return sp.log(Determinant(X)), X, 1

    @case("x_det")
    def _(form, s):
        X = M("X", n, n, s)
        return Determinant(X), X, 1

    @case("x_inverse_form")
    def _(form, s):
        a, X, b = M("a", n, 1, s), M("X", n, n, s), M("b", n, 1, s)
        return S(a.T * Inverse(X) * b, form), X, 1

    @case("x_trace_inverse")
    def _(form, s):
        X = M("X", n, n, s)
        return Trace(Inverse(X)), X, 1

    @case("x_logsumexp")
    def _(form, s):
        x = M("x", n, 1, s)
        return sp.log(S(OneMatrix(1, n) * EAF(sp.exp, x), form)), x, 1

    @case("x_norm")
    def _(form, s):
        x = M("x", n, 1, s)
        return sp.sqrt(S(x.T * x, form)), x, 1

    @case("x_norm_cubed")
    def _(form, s):
        A, x, b = M("A", m, n, s), M("x", n, 1, s), M("b", m, 1, s)
        r = A * x - b
        return S(r.T * r, form) ** sp.Rational(3, 2), x, 1

    @case("x_mahalanobis")
    def _(form, s):
        x, mu, Sig = M("x", n, 1, s), M("mu", n, 1, s), M("Sigma", n, n, s)
        r = x - mu
        return S(r.T * Inverse(Sig) * r, form), x, 1

    @case("x_gaussian_nll_sigma")
    def _(form, s):
        x, mu, Sig = M("x", n, 1, s), M("mu", n, 1, s), M("Sigma", n, n, s)
        r = x - mu
        return sp.log(Determinant(Sig)) + S(r.T * Inverse(Sig) * r, form), Sig, 1

    @case("x_logistic")
    def _(form, s):
        X, w = M("X", m, n, s), M("w", n, 1, s)
        return S(OneMatrix(1, m) * EAF(sp.log, OneMatrix(m, 1) + EAF(sp.exp, X * w)), form), w, 1

    @case("x_tanh_layer")
    def _(form, s):
        W, x = M("W", m, n, s), M("x", n, 1, s)
        h = EAF(sp.tanh, W * x)
        return S(h.T * h, form), x, 1

    @case("x_two_layer")
    def _(form, s):
        V, W, x, y = M("V", p, m, s), M("W", m, n, s), M("x", n, 1, s), M("y", p, 1, s)
        r = V * EAF(sigmoid, W * x) - y
        return S(r.T * r, form), W, 1

    return B


# Cases of the public corpus SymPy has no counterpart for (and why).
SYMPY_SKIPPED = {
    "directional_quadratic": "SymPy has no directional derivative D f(x)[v] of matrix expressions",
    "directional_AXC": "the derivative of a matrix by a matrix is a 4-D array; SymPy has no directional form",
}
