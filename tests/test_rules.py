"""Every differentiation rule against finite differences of an independent reference.

Each case is a small cell exercising one operation family, with a plain-numpy
reference function of the cell's symbols (written by hand, not derived from the
engine).  The engine's answer (``d.answer.result``, evaluated with
``derivmagic.check.evaluate``) is compared with central finite differences of the
reference, arranged in the case's layout (the conventions of the shared harness,
``tests/data/corpus/harness.py``):

* ``gradient`` (``\\nabla``): shaped like the variable for a scalar function,
  denominator layout otherwise;
* ``jacobian`` (``\\partial``, ``d``): scalar by vector/matrix X -> numerator Xᵀ-shaped,
  denominator X-shaped; vector by vector/scalar -> numerator m×n, denominator n×m;
  matrix by scalar -> shaped like the matrix;
* ``hessian``: n×n second differences; ``directional``: shaped like the function.

The helpers here are reused by ``test_steps.py`` and ``test_shapes.py``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from derivmagic import derive
from derivmagic import check as numeric

RTOL = 1e-5      # first derivatives (central differences, h = 1e-6)
RTOL_2ND = 1e-4  # Hessians (second differences, h = 1e-4)
POINTS = 2       # random points per case


# ---------------------------------------------------------------- sampling
def sample(kind: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """A value for one symbol; ``()`` is a scalar (0-d array), vectors are (n, 1)."""
    if shape == ():
        v = rng.standard_normal()
        if kind in ("positive", "unit"):
            return np.array(abs(v) + 0.5 if kind == "positive" else rng.uniform(0.1, 0.9))
        if kind == "small":
            return np.array(0.1 * v)
        return np.array(v)
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "small":
        return 0.1 * rng.standard_normal(shape)
    if kind == "positive":
        return np.abs(rng.standard_normal(shape)) + 0.5
    if kind == "unit":
        return rng.uniform(0.1, 0.9, shape)
    if kind == "onehot":
        v = np.zeros(shape)
        v.flat[rng.integers(v.size)] = 1.0
        return v
    if kind == "sym":
        m = rng.standard_normal(shape)
        return (m + m.T) / 2
    if kind == "spd":
        m = rng.standard_normal(shape)
        return m @ m.T + shape[0] * np.eye(shape[0])
    if kind == "invertible":
        return rng.standard_normal(shape) + 3 * np.eye(shape[0])
    raise ValueError(f"unknown sample kind {kind!r}")


def make_env(case: dict, rng) -> dict:
    kinds = case.get("sample", {})
    return {name: sample(kinds.get(name, "normal"), tuple(shape), rng) for name, shape in case["shapes"].items()}


def as2d(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.ndim == 0:
        return v.reshape(1, 1)
    if v.ndim == 1:
        return v.reshape(-1, 1)
    return v


def engine_env(env: dict) -> dict:
    """The engine's evaluator wants 2-D arrays by symbol name (scalars are 1×1)."""
    return {k: as2d(v) for k, v in env.items()}


def bind_sizes(d, env2: dict) -> dict:
    """Dimension name -> size, from the shapes the engine read and the case's arrays.
    Fails when the engine's reading does not fit the case's shapes."""
    sizes: dict = {}
    for name, sym in d.reading.symbols.items():
        assert name in env2, f"the engine read a symbol {name!r} the case does not have ({sorted(env2)})"
        got = env2[name].shape
        for dim, n in zip(sym.shape, got):
            if isinstance(dim, int):
                assert dim == n, f"{name} read as {sym.shape}, the case has shape {got}"
            else:
                assert sizes.setdefault(dim, n) == n, \
                    f"dimension {dim} of {name} {sym.shape} is {sizes[dim]} elsewhere, {n} here"
    return sizes


# ---------------------------------------------------------------- reference numerics (independent of the engine)
def _perturbed(env, name, flat, delta):
    X = np.array(env[name], dtype=float, copy=True)
    if X.ndim == 0:
        X = X + delta
    else:
        X[np.unravel_index(flat, X.shape)] += delta
    out = dict(env)
    out[name] = X
    return out


def fd_matrix(f, env, wrt, h=1e-6) -> np.ndarray:
    """G[i, j] = d f_i / d wrt_j, both flattened row-major."""
    f0 = np.atleast_1d(np.asarray(f(**env), dtype=float)).ravel()
    n = np.asarray(env[wrt]).size
    G = np.empty((f0.size, n))
    for j in range(n):
        fp = np.asarray(f(**_perturbed(env, wrt, j, h)), dtype=float).ravel()
        fm = np.asarray(f(**_perturbed(env, wrt, j, -h)), dtype=float).ravel()
        G[:, j] = (fp - fm) / (2 * h)
    return G


def fd_hessian(f, env, wrt, h=1e-4) -> np.ndarray:
    n = np.asarray(env[wrt]).size
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            def at(a, b):
                e = _perturbed(_perturbed(env, wrt, i, a * h), wrt, j, b * h)
                return float(np.asarray(f(**e), dtype=float).ravel()[0])
            H[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)
    return H


def expected(case: dict, env: dict) -> np.ndarray:
    """The reference derivative as a 2-D array, arranged per kind and layout."""
    f, wrt, kind = case["f"], case["wrt"], case["kind"]
    layout = case.get("layout") or "numerator"
    W = as2d(env[wrt])
    if kind == "hessian":
        return fd_hessian(f, env, wrt)
    if kind == "directional":
        h, V = 1e-6, env[case["direction"]]
        ep, em = dict(env), dict(env)
        ep[wrt] = env[wrt] + h * V
        em[wrt] = env[wrt] - h * V
        return as2d((np.asarray(f(**ep), float) - np.asarray(f(**em), float)) / (2 * h))
    F = as2d(f(**env))
    G = fd_matrix(f, env, wrt)
    scalar_f, scalar_x = F.shape == (1, 1), W.shape == (1, 1)
    vector_f = 1 in F.shape
    if scalar_f and not scalar_x:          # scalar by vector / matrix
        Gm = G.reshape(W.shape)
        if kind == "gradient" or layout == "denominator":
            return Gm
        return Gm.T
    if scalar_f:                           # scalar by scalar
        return G.reshape(1, 1)
    if scalar_x and not vector_f:          # matrix by scalar: shaped like the matrix
        return G.reshape(F.shape)
    if not vector_f:
        raise ValueError("a matrix function of a non-scalar: no layout")
    if kind == "gradient" or layout == "denominator":
        return G.T                         # denominator: n×m
    return G                               # numerator: m×n (vector by scalar: m×1)


def engine_value(d, env2, sizes) -> np.ndarray:
    return np.asarray(numeric.evaluate(d.answer.result, env2, sizes), dtype=float)


def rel_err(got, want) -> float:
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want) / (1.0 + np.abs(want)))) if want.size else 0.0


@lru_cache(maxsize=None)
def _derive(cell: str, layout: str | None):
    return derive(cell, layout=layout) if layout else derive(cell)


def derive_case(case):
    """The case's Derivation (cached: the files of this suite share them; do not mutate)."""
    return _derive(case["cell"], case.get("layout"))


def compare_case(case, d, points=POINTS):
    """Assert that the engine's answer matches the reference at ``points`` random points."""
    rng = np.random.default_rng(case.get("seed", 7))
    tol = RTOL_2ND if case["kind"] == "hessian" else RTOL
    for _ in range(points):
        env = make_env(case, rng)
        env2 = engine_env(env)
        sizes = bind_sizes(d, env2)
        want = expected(case, env)
        got = engine_value(d, env2, sizes)
        assert got.shape == want.shape, \
            f"{case['id']}: result {d.answer.result} has shape {got.shape}, wanted {want.shape}"
        err = rel_err(got, want)
        assert err <= tol, f"{case['id']}: {d.answer.result}: max rel error {err:.2e}\n got {got}\n want {want}"


# ---------------------------------------------------------------- the table
def s(v) -> float:
    """A Python float from a 1×1 (or 0-d) array."""
    return float(np.asarray(v, dtype=float).reshape(-1)[0])


def sq(v) -> float:
    return float((v.T @ v).squeeze())


def dot(a, b) -> float:
    return float((a.T @ b).squeeze())


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def lse(z) -> float:
    return float(np.log(np.sum(np.exp(z))))


def C(id, cell, kind, wrt, f, shapes, layout=None, sample=None, direction=None, seed=7):
    case = dict(id=id, cell=cell, kind=kind, wrt=wrt, f=f, shapes=shapes, sample=sample or {}, seed=seed)
    if layout:
        case["layout"] = layout
    if direction:
        case["direction"] = direction
    return case


def both(id, cell, wrt, f, shapes, **kw):
    """A jacobian case in both layouts."""
    return [C(f"{id}-{lay[:3]}", cell, "jacobian", wrt, f, shapes, layout=lay, **kw)
            for lay in ("numerator", "denominator")]


n3, n4 = (3, 1), (4, 1)

# ---------------------------------------------------------------- functions of square matrices
# e^{M} of a square M is the matrix exponential (rules.matfunc), never taken entry by entry.
def _expm(M):
    from scipy.linalg import expm
    return expm(M)


MATRIX_FUNCTION_CASES = [
    *both("matrix_exp_by_scalar", "\\frac{d}{dt} e^{tA}\nA \\in \\mathbb{R}^{n \\times n}", "t",
          lambda t, A: _expm(t * A), {"t": (), "A": (3, 3)}, seed=5),  # seed 7 draws t ≈ 0.001
    C("matrix_exp_trace", "\\nabla_X \\operatorname{tr}(e^{X})\nX \\in \\mathbb{R}^{n \\times n}", "gradient", "X",
      lambda X: np.trace(_expm(X)), {"X": (3, 3)}),
    C("matrix_exp_by_scalar_noncommuting", "\\frac{d}{dt} e^{A + tB}\nA \\in \\mathbb{R}^{n \\times n}", "jacobian", "t",
      lambda t, A, B: _expm(A + t * B), {"t": (), "A": (3, 3), "B": (3, 3)}, seed=5),
    C("matrix_exp_trace_product", "\\nabla_X \\operatorname{tr}(B e^{X})\nX \\in \\mathbb{R}^{n \\times n}",
      "gradient", "X", lambda B, X: np.trace(B @ _expm(X)), {"B": (3, 3), "X": (3, 3)}),
]


# X^{1/2} and log X of a matrix without eigenvalues on (−∞, 0] (rules.sqrtlog), drawn positive definite;
# eigen- and singular values and the norms built on them (rules.spectral), the ∞-norm (rules.norms).
# The references take eigenvalues of the general matrix (np.linalg.eigvals): an entry perturbed alone
# leaves X unsymmetric, and the eigenvalue of X + hE moves by h vᵀEv, as the gradient v vᵀ says.
def _sqrtm(M):
    from scipy.linalg import sqrtm
    return np.real(sqrtm(M))


def _logm(M):
    from scipy.linalg import logm
    return np.real(logm(M))


def _eigenvalues(M):
    return np.sort(np.real(np.linalg.eigvals(M)))[::-1]   # decreasing: λ_1 ≥ λ_2 ≥ …


SPECTRAL_CASES = [
    C("matrix_sqrt_trace", r"\nabla_X \operatorname{tr}(X^{1/2})", "gradient", "X",
      lambda X: np.trace(_sqrtm(X)), {"X": (3, 3)}, sample={"X": "spd"}),
    C("matrix_sqrt_trace_product", r"\nabla_X \operatorname{tr}(B X^{1/2})", "gradient", "X",
      lambda B, X: np.trace(B @ _sqrtm(X)), {"B": (3, 3), "X": (3, 3)}, sample={"X": "spd"}),
    C("matrix_inverse_sqrt_quadratic", r"\nabla_X a^T X^{-1/2} a", "gradient", "X",
      lambda a, X: s(a.T @ np.linalg.inv(_sqrtm(X)) @ a), {"a": n3, "X": (3, 3)}, sample={"X": "spd"}),
    C("matrix_sqrt_by_scalar", "\\frac{d}{dt} (A + tB)^{1/2}", "jacobian", "t",
      lambda t, A, B: _sqrtm(A + t * B), {"t": (), "A": (3, 3), "B": (3, 3)}, sample={"A": "spd", "t": "small"}),
    C("matrix_log_trace_product", r"\nabla_X \operatorname{tr}(B \log X)", "gradient", "X",
      lambda B, X: np.trace(B @ _logm(X)), {"B": (3, 3), "X": (3, 3)}, sample={"X": "spd"}),
    C("matrix_log_trace", r"\nabla_X \operatorname{tr}(\log X)", "gradient", "X",
      lambda X: np.trace(_logm(X)), {"X": (3, 3)}, sample={"X": "spd"}),
    C("lambda_max", r"\nabla_X \lambda_{\max}(X)", "gradient", "X",
      lambda X: _eigenvalues(X)[0], {"X": (4, 4)}, sample={"X": "sym"}),
    C("lambda_min_of_gram", r"\nabla_A \lambda_{\min}(A^T A)", "gradient", "A",
      lambda A: _eigenvalues(A.T @ A)[-1], {"A": (5, 3)}),
    C("lambda_2", r"\nabla_X \lambda_2(X)", "gradient", "X",
      lambda X: _eigenvalues(X)[1], {"X": (4, 4)}, sample={"X": "sym"}),
    C("spectral_norm", r"\nabla_X \|X\|_2", "gradient", "X",
      lambda X: np.linalg.norm(X, 2), {"X": (3, 4)}),
    C("sigma_min", r"\nabla_X \sigma_{\min}(X)", "gradient", "X",
      lambda X: np.linalg.svd(X, compute_uv=False)[-1], {"X": (4, 3)}),
    C("nuclear_norm", r"\nabla_X \|X\|_*", "gradient", "X",
      lambda X: np.linalg.svd(X, compute_uv=False).sum(), {"X": (3, 4)}),
    C("inf_norm_of_residual", r"\nabla_x \|Ax - b\|_\infty", "gradient", "x",
      lambda A, x, b: np.max(np.abs(A @ x - b)), {"A": (4, 3), "x": n3, "b": n4}),
    # X^{+} of a wide or a tall matrix of full rank (the Moore–Penrose pseudo-inverse)
    C("pseudo_inverse_wide", r"\nabla_X \operatorname{tr}(A X^{+})", "gradient", "X",
      lambda A, X: np.trace(A @ np.linalg.pinv(X)), {"A": (3, 4), "X": (3, 4)}),
    C("pseudo_inverse_tall", r"\nabla_X \|X^\dagger b\|^2", "gradient", "X",
      lambda X, b: sq(np.linalg.pinv(X) @ b), {"X": (5, 3), "b": (5, 1)}),
    *both("pseudo_inverse_by_scalar", "\\frac{d}{dt} (A + tB)^{+} c", "t",
          lambda t, A, B, c: np.linalg.pinv(A + t * B) @ c, {"t": (), "A": (3, 4), "B": (3, 4), "c": n3}),
]


RULE_CASES = [
    *MATRIX_FUNCTION_CASES,
    *SPECTRAL_CASES,
    # --- sums and scalar multiples
    C("sum_linear", r"\nabla_x (a^T x + 3 b^T x)", "gradient", "x",
      lambda a, x, b: dot(a, x) + 3 * dot(b, x), {"a": n4, "x": n4, "b": n4}),
    C("half_norm_minus_linear", r"\nabla_x \frac{1}{2} x^T x - c^T x", "gradient", "x",
      lambda x, c: 0.5 * sq(x) - dot(c, x), {"x": n4, "c": n4}),
    *both("difference_matvec", r"\frac{\partial (2Ax - 3Bx)}{\partial x}", "x",
          lambda A, B, x: 2 * A @ x - 3 * B @ x, {"A": (4, 3), "B": (4, 3), "x": n3}),
    C("scalar_symbol_multiple", r"\nabla_x \alpha x^T x", "gradient", "x",
      lambda alpha, x: alpha * sq(x), {"alpha": (), "x": n4}),
    C("negation", r"\nabla_x -x^T A x", "gradient", "x",
      lambda x, A: -s(x.T @ A @ x), {"x": n3, "A": (3, 3)}),
    C("divide_by_scalar", r"\nabla_x \frac{x^T x}{\beta}", "gradient", "x",
      lambda x, beta: sq(x) / beta, {"x": n4, "beta": ()}, sample={"beta": "positive"}),
    C("slash_by_scalar", r"\nabla_x (a^T x) / \gamma", "gradient", "x",
      lambda a, x, gamma: dot(a, x) / gamma, {"a": n4, "x": n4, "gamma": ()}, sample={"gamma": "positive"}),
    C("slash_by_number", r"\nabla_x x^T x / 2", "gradient", "x",
      lambda x: sq(x) / 2, {"x": n4}),
    C("scalar_var_of_sum", r"\nabla_\alpha \|x - \alpha a\|^2", "gradient", "alpha",
      lambda x, alpha, a: sq(x - alpha * a), {"x": n4, "alpha": (), "a": n4}),
    # --- products of every shape combination
    C("scalar_times_scalar", r"\frac{d}{dt} t^2 \sin(t)", "jacobian", "t",
      lambda t: t ** 2 * np.sin(t), {"t": ()}),
    *both("scalar_fn_times_vector", r"\frac{\partial}{\partial x} (c^T x) x", "x",
          lambda c, x: dot(c, x) * x, {"c": n4, "x": n4}),
    *both("vector_times_scalar_fn", r"\frac{\partial}{\partial x} x (x^T x)", "x",
          lambda x: x * sq(x), {"x": n3}),
    C("product_of_two_inner", r"\nabla_x (a^T x)(b^T x)", "gradient", "x",
      lambda a, x, b: dot(a, x) * dot(b, x), {"a": n4, "x": n4, "b": n4}),
    C("norm_times_inner", r"\nabla_x \|x\|^2 (a^T x)", "gradient", "x",
      lambda x, a: sq(x) * dot(a, x), {"x": n3, "a": n3}),
    C("outer_product_directional", "f(x) = x x^T\nD f(x)[v]", "directional", "x",
      lambda x, v: x @ x.T, {"x": n3, "v": n3}, direction="v"),
    *both("matrix_times_vector", r"\frac{\partial (Ax)}{\partial x}", "x",
          lambda A, x: A @ x, {"A": (4, 3), "x": n3}),
    *both("row_times_matrix", r"\frac{\partial (x^T A)}{\partial x}", "x",
          lambda x, A: x.T @ A, {"x": n3, "A": (3, 5)}),
    *both("scalar_fn_times_matvec", r"\frac{\partial}{\partial x} (x^T x) A x", "x",
          lambda x, A: sq(x) * (A @ x), {"x": n3, "A": (4, 3)}),
    C("matrix_matrix_same", r"\nabla_X \operatorname{tr}(X X)", "gradient", "X",
      lambda X: np.trace(X @ X), {"X": (3, 3)}),
    C("gram_trace", r"\nabla_X \operatorname{tr}(X^T X)", "gradient", "X",
      lambda X: np.trace(X.T @ X), {"X": (4, 3)}),
    C("XAX_directional", "f(X) = X A X\nDf(X)[V]", "directional", "X",
      lambda X, A, V: X @ A @ X, {"X": (3, 4), "A": (4, 3), "V": (3, 4)}, direction="V"),
    C("trace_AXB", r"\nabla_X \operatorname{tr}(A X B)", "gradient", "X",
      lambda A, X, B: np.trace(A @ X @ B), {"A": (5, 3), "X": (3, 4), "B": (4, 5)}),
    *both("scalar_by_matrix_trace", r"\frac{\partial}{\partial X} \operatorname{tr}(A X)", "X",
          lambda A, X: np.trace(A @ X), {"A": (3, 4), "X": (4, 3)}),
    *both("bilinear_matrix_partial", r"\frac{\partial}{\partial X} a^T X b", "X",
          lambda a, X, b: s(a.T @ X @ b), {"a": n3, "X": (3, 4), "b": n4}),
    *both("row_variable_scalar", "\\frac{\\partial}{\\partial x} x W W^T x^T\nx \\in \\mathbb{R}^{1 \\times n}", "x",
          lambda x, W: s(x @ W @ W.T @ x.T), {"x": (1, 3), "W": (3, 4)}),
    *both("row_variable_vector", "\\frac{\\partial (xW)}{\\partial x}\nx \\in \\mathbb{R}^{1 \\times n}", "x",
          lambda x, W: x @ W, {"x": (1, 3), "W": (3, 4)}),
    # --- transpose
    C("transpose_matrix_var", r"\nabla_X a^T X^T b", "gradient", "X",
      lambda a, X, b: s(a.T @ X.T @ b), {"a": n4, "X": (3, 4), "b": n3}),
    C("transposed_products", r"\nabla_x (Ax)^T (Bx)", "gradient", "x",
      lambda A, x, B: s((A @ x).T @ (B @ x)), {"A": (4, 3), "x": n3, "B": (4, 3)}),
    C("transpose_directional", "f(X) = X^T A\nDf(X)[V]", "directional", "X",
      lambda X, A, V: X.T @ A, {"X": (3, 4), "A": (3, 2), "V": (3, 4)}, direction="V"),
    # --- inverse
    C("inverse_bilinear", r"\nabla_X a^T X^{-1} b", "gradient", "X",
      lambda a, X, b: s(a.T @ np.linalg.inv(X) @ b), {"a": n3, "X": (3, 3), "b": n3},
      sample={"X": "invertible"}),
    C("inverse_transpose", r"\nabla_X a^T X^{-T} b", "gradient", "X",
      lambda a, X, b: s(a.T @ np.linalg.inv(X).T @ b), {"a": n3, "X": (3, 3), "b": n3},
      sample={"X": "invertible"}),
    C("inverse_directional", "f(X) = X^{-1}\nDf(X)[V]", "directional", "X",
      lambda X, V: np.linalg.inv(X), {"X": (3, 3), "V": (3, 3)}, sample={"X": "invertible"}, direction="V"),
    C("trace_inverse", r"\nabla_X \operatorname{tr}(X^{-1})", "gradient", "X",
      lambda X: np.trace(np.linalg.inv(X)), {"X": (4, 4)}, sample={"X": "invertible"}),
    C("inverse_quadratic_form", r"\nabla_x x^T S^{-1} x", "gradient", "x",
      lambda x, S: s(x.T @ np.linalg.inv(S) @ x), {"x": n3, "S": (3, 3)}, sample={"S": "invertible"}),
    C("gaussian_mean", r"\nabla_\mu (x - \mu)^T \Sigma^{-1} (x - \mu)", "gradient", "mu",
      lambda x, mu, Sigma: s((x - mu).T @ np.linalg.inv(Sigma) @ (x - mu)),
      {"x": n3, "mu": n3, "Sigma": (3, 3)}, sample={"Sigma": "spd"}),
    # --- trace
    C("trace_linear", r"\nabla_X \operatorname{tr}(AX)", "gradient", "X",
      lambda A, X: np.trace(A @ X), {"A": (3, 4), "X": (4, 3)}),
    C("trace_XAXt", r"\nabla_X \operatorname{tr}(X A X^T)", "gradient", "X",
      lambda X, A: np.trace(X @ A @ X.T), {"X": (3, 4), "A": (4, 4)}),
    C("trace_XtAXB", r"\nabla_X \operatorname{tr}(X^T A X B)", "gradient", "X",
      lambda X, A, B: np.trace(X.T @ A @ X @ B), {"X": (3, 2), "A": (3, 3), "B": (2, 2)}),
    # --- determinant and log det
    C("det", r"\nabla_X \det(X)", "gradient", "X",
      lambda X: np.linalg.det(X), {"X": (3, 3)}, sample={"X": "invertible"}),
    C("det_bars", r"\nabla_X |X|", "gradient", "X",
      lambda X: np.linalg.det(X), {"X": (3, 3)}, sample={"X": "invertible"}),
    C("det_gram", r"\nabla_X \det(X^T X)", "gradient", "X",
      lambda X: np.linalg.det(X.T @ X), {"X": (4, 3)}),
    C("logdet", r"\nabla_X \log \det(X)", "gradient", "X",
      lambda X: np.log(np.linalg.det(X)), {"X": (3, 3)}, sample={"X": "spd"}),
    C("logdet_gram", r"\nabla_X \log\det(X^T X)", "gradient", "X",
      lambda X: np.log(np.linalg.det(X.T @ X)), {"X": (4, 3)}),
    C("logdet_congruence", r"\nabla_X \log\det(X^T A X)", "gradient", "X",
      lambda X, A: np.log(np.linalg.det(X.T @ A @ X)), {"X": (4, 3), "A": (4, 4)}, sample={"A": "spd"}),
    C("logdet_spd_declared", "\\nabla_\\Sigma \\log \\det(\\Sigma)\n\\Sigma \\in \\mathbb{S}^n_{++}", "gradient", "Sigma",
      lambda Sigma: np.log(np.linalg.det(Sigma)), {"Sigma": (3, 3)}, sample={"Sigma": "spd"}),
    C("logdet_directional", "f(X) = \\log\\det(X)\nDf(X)[V]", "directional", "X",
      lambda X, V: np.log(np.linalg.det(X)), {"X": (3, 3), "V": (3, 3)}, sample={"X": "spd"}, direction="V"),
    # --- 2-norm and its powers
    C("norm2", r"\nabla_x \|x\|_2", "gradient", "x",
      lambda x: np.sqrt(sq(x)), {"x": n4}),
    C("norm2_affine_nosub", r"\nabla_x \|Ax - b\|", "gradient", "x",
      lambda A, x, b: np.sqrt(sq(A @ x - b)), {"A": (4, 3), "x": n3, "b": n4}),
    C("norm2_cubed", r"\nabla_x \|x\|_2^3", "gradient", "x",
      lambda x: sq(x) ** 1.5, {"x": n4}),
    C("norm2_inverse", r"\nabla_x \|x\|^{-1}", "gradient", "x",
      lambda x: sq(x) ** -0.5, {"x": n4}),
    C("norm2_sqrt", r"\nabla_x \|x\|^{1/2}", "gradient", "x",
      lambda x: sq(x) ** 0.25, {"x": n4}),
    C("sqrt_inner", r"\nabla_x \sqrt{x^T x}", "gradient", "x",
      lambda x: np.sqrt(sq(x)), {"x": n4}),
    *both("norm2_partial", r"\frac{\partial}{\partial x} \|x - a\|_2", "x",
          lambda x, a: np.sqrt(sq(x - a)), {"x": n4, "a": n4}),
    *both("normalize", r"\frac{\partial}{\partial x} \frac{x}{\|x\|}", "x",
          lambda x: x / np.sqrt(sq(x)), {"x": n3}),
    # --- Frobenius
    C("frobenius", r"\nabla_X \|X\|_F", "gradient", "X",
      lambda X: np.linalg.norm(X), {"X": (3, 4)}),
    C("frobenius_AXB_C", r"\nabla_X \|AXB - C\|_F^2", "gradient", "X",
      lambda A, X, B, C: s(np.sum((A @ X @ B - C) ** 2)),
      {"A": (4, 3), "X": (3, 2), "B": (2, 5), "C": (4, 5)}),
    C("frobenius_ones_hadamard", r"\nabla_X \mathbf{1}^T (X \odot X) \mathbf{1}", "gradient", "X",
      lambda X: s(np.sum(X * X)), {"X": (3, 4)}),
    # --- 1-norm (sign subgradient; random points avoid the kinks)
    C("norm1", r"\nabla_x \|x\|_1", "gradient", "x",
      lambda x: s(np.abs(x).sum()), {"x": n4}),
    C("norm1_affine", r"\nabla_x \|Ax - b\|_1", "gradient", "x",
      lambda A, x, b: s(np.abs(A @ x - b).sum()), {"A": (4, 3), "x": n3, "b": n4}),
    C("lasso", r"\nabla_x \frac{1}{2}\|Ax - b\|^2 + \lambda \|x\|_1", "gradient", "x",
      lambda A, x, b, **kw: 0.5 * sq(A @ x - b) + kw["lambda"] * s(np.abs(x).sum()),
      {"A": (4, 3), "x": n3, "b": n4, "lambda": ()}, sample={"lambda": "positive"}),
    # --- quadratic and bilinear forms
    C("quadratic", r"\nabla_x x^T A x", "gradient", "x",
      lambda x, A: s(x.T @ A @ x), {"x": n4, "A": (4, 4)}),
    C("quadratic_symmetric", "\\nabla_x x^T S x\nS \\in \\mathbb{S}^n", "gradient", "x",
      lambda x, S: s(x.T @ S @ x), {"x": n4, "S": (4, 4)}, sample={"S": "sym"}),
    C("quadratic_plus_linear", r"\nabla_x \frac{1}{2} x^T Q x + q^T x", "gradient", "x",
      lambda x, Q, q: 0.5 * s(x.T @ Q @ x) + dot(q, x), {"x": n3, "Q": (3, 3), "q": n3}),
    C("bilinear_right", r"\nabla_y x^T A y", "gradient", "y",
      lambda x, A, y: s(x.T @ A @ y), {"x": n3, "A": (3, 4), "y": n4}),
    C("bilinear_matrix", r"\nabla_A x^T A y", "gradient", "A",
      lambda x, A, y: s(x.T @ A @ y), {"x": n3, "A": (3, 4), "y": n4}),
    # --- elementwise functions
    *both("exp_vector", r"\frac{\partial \exp(x)}{\partial x}", "x",
          lambda x: np.exp(x), {"x": n4}),
    C("sum_exp_affine", r"\nabla_x \mathbf{1}^T \exp(Ax)", "gradient", "x",
      lambda A, x: s(np.exp(A @ x).sum()), {"A": (4, 3), "x": n3}),
    *both("e_power", r"\frac{\partial e^{Ax}}{\partial x}", "x",
          lambda A, x: np.exp(A @ x), {"A": (4, 3), "x": n3}),
    C("sum_log", r"\nabla_x \mathbf{1}^T \log(x)", "gradient", "x",
      lambda x: s(np.log(x).sum()), {"x": n4}, sample={"x": "positive"}),
    *both("log_vector", r"\frac{\partial \log(x)}{\partial x}", "x",
          lambda x: np.log(x), {"x": n4}, sample={"x": "positive"}),
    C("logistic_loss", r"\nabla_w \log(1 + \exp(-w^T x))", "gradient", "w",
      lambda w, x: s(np.log1p(np.exp(-dot(w, x)))), {"w": n4, "x": n4}),
    *both("sqrt_vector", r"\frac{\partial \sqrt{x}}{\partial x}", "x",
          lambda x: np.sqrt(x), {"x": n4}, sample={"x": "positive"}),
    C("sum_sqrt", r"\nabla_x \mathbf{1}^T \sqrt{x}", "gradient", "x",
      lambda x: s(np.sqrt(x).sum()), {"x": n4}, sample={"x": "positive"}),
    *both("cube_hadamard", r"\frac{\partial}{\partial x} (x \odot x \odot x)", "x",
          lambda x: x ** 3, {"x": n3}),
    *both("exp_of_square", r"\frac{\partial \exp(x^2)}{\partial x}", "x",
          lambda x: np.exp(x ** 2), {"x": n3}, sample={"x": "small"}),
    C("scalar_power_neg", "\\frac{d}{dt} t^{-2}\nt \\in \\mathbb{R}", "jacobian", "t",
      lambda t: t ** -2.0, {"t": ()}, sample={"t": "positive"}),
    C("scalar_power_frac", "\\frac{d}{dt} t^{3/2}\nt \\in \\mathbb{R}", "jacobian", "t",
      lambda t: t ** 1.5, {"t": ()}, sample={"t": "positive"}),
    C("relu_layer", r"\nabla_x \mathbf{1}^T \operatorname{ReLU}(Wx)", "gradient", "x",
      lambda W, x: np.sum(np.maximum(W @ x, 0)), {"W": (4, 3), "x": n3}),
    C("tan_vector", r"\nabla_x \mathbf{1}^T \tan(x)", "gradient", "x",
      lambda x: np.sum(np.tan(x)), {"x": n3}),
    *both("tanh_layer", r"\frac{\partial \tanh(Wx)}{\partial x}", "x",
          lambda W, x: np.tanh(W @ x), {"W": (4, 3), "x": n3}),
    C("sum_tanh_matrix", r"\nabla_W \mathbf{1}^T \tanh(Wx)", "gradient", "W",
      lambda W, x: s(np.tanh(W @ x).sum()), {"W": (4, 3), "x": n3}),
    *both("sigmoid_vector", r"\frac{\partial \sigma(z)}{\partial z}", "z",
          lambda z: sigmoid(z), {"z": n4}),
    C("sigmoid_operatorname", r"\nabla_z \mathbf{1}^T \operatorname{sigmoid}(z)", "gradient", "z",
      lambda z: s(sigmoid(z).sum()), {"z": n4}),
    C("log_sigmoid", r"\nabla_w \log \sigma(w^T x)", "gradient", "w",
      lambda w, x: s(np.log(sigmoid(dot(w, x)))), {"w": n3, "x": n3}),
    C("function_then_transpose", r"\nabla_x \tanh(x)^T \tanh(x)", "gradient", "x",
      lambda x: sq(np.tanh(x)), {"x": n4}),
    C("sum_cos", r"\nabla_x \mathbf{1}^T \cos(x)", "gradient", "x",
      lambda x: s(np.cos(x).sum()), {"x": n4}),
    C("sum_abs", r"\nabla_x \mathbf{1}^T |x|", "gradient", "x",
      lambda x: s(np.abs(x).sum()), {"x": n4}),
    *both("abs_vector", r"\frac{\partial |x|}{\partial x}", "x",
          lambda x: np.abs(x), {"x": n4}),
    *both("sin_vector", r"\frac{\partial \sin(x)}{\partial x}", "x",
          lambda x: np.sin(x), {"x": n3}),
    # --- Hadamard products and quotients
    *both("hadamard_product", r"\frac{\partial (x \odot y)}{\partial x}", "x",
          lambda x, y: x * y, {"x": n4, "y": n4}),
    C("hadamard_inner", r"\nabla_x (a \odot x)^T (b \odot x)", "gradient", "x",
      lambda a, x, b: s(((a * x).T @ (b * x)).squeeze()), {"a": n4, "x": n4, "b": n4}),
    *both("hadamard_self_matvec", r"\frac{\partial (x \odot Ax)}{\partial x}", "x",
          lambda x, A: x * (A @ x), {"x": n3, "A": (3, 3)}),
    *both("hadamard_quotient", r"\frac{\partial (a \oslash x)}{\partial x}", "x",
          lambda a, x: a / x, {"a": n4, "x": n4}, sample={"x": "positive"}),
    *both("hadamard_quotient_num", r"\frac{\partial (x \oslash a)}{\partial x}", "x",
          lambda x, a: x / a, {"x": n4, "a": n4}, sample={"a": "positive"}),
    *both("oslash_after_operator", r"\frac{\partial}{\partial x} x \oslash a", "x",
          lambda x, a: x / a, {"x": n4, "a": n4}, sample={"a": "positive"}),
    C("hadamard_matrix_directional", "f(X) = X \\odot A X\nDf(X)[V]", "directional", "X",
      lambda X, A, V: X * (A @ X), {"X": (3, 3), "A": (3, 3), "V": (3, 3)}, direction="V"),
    # --- diag
    C("diag_directional", "f(x) = \\operatorname{diag}(x) A\nDf(x)[v]", "directional", "x",
      lambda x, A, v: np.diagflat(x) @ A, {"x": n3, "A": (3, 4), "v": n3}, direction="v"),
    C("diag_bilinear", r"\nabla_x a^T \operatorname{diag}(x) b", "gradient", "x",
      lambda a, x, b: s(a.T @ np.diagflat(x) @ b), {"a": n4, "x": n4, "b": n4}),
    C("diagonal_of_matrix", r"\nabla_X a^T \operatorname{diag}(X)", "gradient", "X",
      lambda a, X: s(a.T @ np.diag(X).reshape(-1, 1)), {"a": n3, "X": (3, 3)}),
    C("diagonal_of_product", r"\nabla_X \mathbf{1}^T \log(\operatorname{diag}(X^T X))", "gradient", "X",
      lambda X: float(np.sum(np.log(np.diag(X.T @ X)))), {"X": (4, 3)}),
    # --- softmax and log-sum-exp
    *both("softmax", r"\frac{\partial \operatorname{softmax}(z)}{\partial z}", "z",
          lambda z: softmax(z), {"z": n4}),
    *both("softmax_affine", r"\frac{\partial \operatorname{softmax}(Wx)}{\partial x}", "x",
          lambda W, x: softmax(W @ x), {"W": (4, 3), "x": n3}),
    C("softmax_cross_entropy_matrix", r"\nabla_W -y^T \log\operatorname{softmax}(Wx)", "gradient", "W",
      lambda y, W, x: -s(y.T @ np.log(softmax(W @ x))), {"y": n4, "W": (4, 3), "x": n3},
      sample={"y": "onehot"}),
    # an entry at a class label: e_yᵀ softmax(z), e_y one-hot (labels.py)
    C("softmax_label", r"\nabla_z -\log\operatorname{softmax}(z)_y", "gradient", "z",
      lambda z, e_y: -np.log(s(e_y.T @ softmax(z))), {"z": n4, "e_y": n4}, sample={"e_y": "onehot"}),
    C("softmax_label_matrix", r"\nabla_W -\log\operatorname{softmax}(Wx)_y", "gradient", "W",
      lambda W, x, e_y: -np.log(s(e_y.T @ softmax(W @ x))), {"W": (4, 3), "x": n3, "e_y": n4},
      sample={"e_y": "onehot"}),
    C("softmax_label_hessian", r"\nabla^2_z -\log\operatorname{softmax}(z)_y", "hessian", "z",
      lambda z, e_y: -np.log(s(e_y.T @ softmax(z))), {"z": n4, "e_y": n4}, sample={"e_y": "onehot"}),
    C("softmax_label_probability", r"\nabla_z \operatorname{softmax}(z)_y", "gradient", "z",
      lambda z, e_y: s(e_y.T @ softmax(z)), {"z": n4, "e_y": n4}, sample={"e_y": "onehot"}),
    C("softmax_directional", "f(x) = \\operatorname{softmax}(x)\nDf(x)[v]", "directional", "x",
      lambda x, v: softmax(x), {"x": n4, "v": n4}, direction="v"),
    C("lse", r"\nabla_z \operatorname{lse}(z)", "gradient", "z",
      lambda z: lse(z), {"z": n4}),
    C("logsumexp_affine", r"\nabla_x \operatorname{logsumexp}(Ax)", "gradient", "x",
      lambda A, x: lse(A @ x), {"A": (4, 3), "x": n3}),
    C("lse_written_out", r"\nabla_z \log(\mathbf{1}^T \exp(z))", "gradient", "z",
      lambda z: lse(z), {"z": n4}),
    # --- definitions and the chain rule
    C("chain_residual", "u = Ax - b\n\\nabla_x u^T u", "gradient", "x",
      lambda A, x, b: sq(A @ x - b), {"A": (4, 3), "x": n3, "b": n4}),
    C("chain_where", r"\nabla_x u^T u \quad \text{where} \quad u = Ax - b", "gradient", "x",
      lambda A, x, b: sq(A @ x - b), {"A": (4, 3), "x": n3, "b": n4}),
    C("chain_tanh_layer", "h = \\tanh(Wx + b)\nL = \\|h - y\\|^2\n\\nabla_W L", "gradient", "W",
      lambda W, x, b, y: sq(np.tanh(W @ x + b) - y), {"W": (3, 4), "x": n4, "b": n3, "y": n3}),
    C("chain_two_layer", "h = \\sigma(W_1 x)\n\\hat{y} = W_2 h\nL = \\frac{1}{2}\\|\\hat{y} - y\\|^2\n\\nabla_{W_1} L",
      "gradient", "W_1",
      lambda W_1, W_2, x, y: 0.5 * sq(W_2 @ sigmoid(W_1 @ x) - y),
      {"W_1": (3, 4), "W_2": (2, 3), "x": n4, "y": (2, 1)}),
    C("chain_function_call", "f(x) = x^T A x\ng(x) = \\exp(f(x))\n\\nabla_x g(x)", "gradient", "x",
      lambda x, A: s(np.exp(x.T @ A @ x).squeeze()), {"x": n3, "A": (3, 3)}, sample={"A": "small"}),
    *both("chain_sigmoid_layer", "z = Wx\na = \\sigma(z)\n\\frac{\\partial a}{\\partial x}", "x",
          lambda W, x: sigmoid(W @ x), {"W": (4, 3), "x": n3}),
    C("chain_ridge", "L(w) := \\frac{1}{2}\\|Xw - y\\|^2 + \\frac{\\lambda}{2}\\|w\\|^2\n\\nabla_w L(w)", "gradient", "w",
      lambda X, w, y, **kw: 0.5 * sq(X @ w - y) + 0.5 * kw["lambda"] * sq(w),
      {"X": (5, 3), "w": n3, "y": (5, 1), "lambda": ()}, sample={"lambda": "positive"}),
    C("chain_subscript_spelling", r"\nabla_{W_1} \operatorname{tr}(W_{1}^T W_1)", "gradient", "W_1",
      lambda W_1: np.trace(W_1.T @ W_1), {"W_1": (3, 4)}),
    # --- Hessians
    C("hessian_least_squares", r"\nabla^2_x \|Ax - b\|^2", "hessian", "x",
      lambda A, x, b: sq(A @ x - b), {"A": (4, 3), "x": n3, "b": n4}),
    C("hessian_sum_exp", r"\nabla_x^2 \mathbf{1}^T \exp(x)", "hessian", "x",
      lambda x: s(np.exp(x).sum()), {"x": n3}),
    C("hessian_frac_notation", "\\frac{\\partial^2 f}{\\partial x \\partial x^T}\nf = x^T A x", "hessian", "x",
      lambda x, A: s(x.T @ A @ x), {"x": n3, "A": (3, 3)}),
    C("hessian_lse", r"\nabla^2_x \operatorname{lse}(x)", "hessian", "x",
      lambda x: lse(x), {"x": n4}),
    C("hessian_norm", r"\nabla^2_x \|x\|_2", "hessian", "x",
      lambda x: np.sqrt(sq(x)), {"x": n3}),
    C("hessian_scalar", "\\nabla^2_t \\sin(t) t^2\nt \\in \\mathbb{R}", "hessian", "t",
      lambda t: np.sin(t) * t ** 2, {"t": ()}),
    C("hessian_logistic", r"\nabla^2_w \log(1 + \exp(-w^T x))", "hessian", "w",
      lambda w, x: s(np.log1p(np.exp(-dot(w, x)))), {"w": n3, "x": n3}),
    # --- directional derivatives
    C("directional_norm", "D f(x)[v]\nf(x) = \\|x\\|^2", "directional", "x",
      lambda x, v: sq(x), {"x": n4, "v": n4}, direction="v"),
    C("directional_gram", "f(X) = X^T X\nDf(X)[V]", "directional", "X",
      lambda X, V: X.T @ X, {"X": (4, 3), "V": (4, 3)}, direction="V"),
    C("directional_tanh_matrix", "f(X) = \\tanh(X)\nDf(X)[V]", "directional", "X",
      lambda X, V: np.tanh(X), {"X": (3, 4), "V": (3, 4)}, direction="V"),
    # --- vector by scalar
    *both("vector_by_scalar", r"\frac{d}{dt} (a + t b)", "t",
          lambda a, t, b: a + t * b, {"a": n4, "t": (), "b": n4}),
    *both("vector_by_scalar_exp", r"\frac{d}{dt} \exp(t a)", "t",
          lambda t, a: np.exp(t * a), {"t": (), "a": n4}),
    *both("vector_by_scalar_inverse", "\\frac{d}{dt} (A + tB)^{-1} c\nt \\in \\mathbb{R}", "t",
          lambda A, t, B, c: np.linalg.solve(A + t * B, c), {"A": (3, 3), "t": (), "B": (3, 3), "c": n3},
          sample={"A": "invertible", "B": "small"}),
    C("nabla_vector_by_scalar", r"\nabla_t (a + t b)", "gradient", "t",
      lambda a, t, b: a + t * b, {"a": n4, "t": (), "b": n4}),
    # --- matrix by scalar
    *both("matrix_by_scalar", r"\frac{d}{dt} t^2 A", "t",
          lambda t, A: t ** 2 * A, {"t": (), "A": (3, 4)}),
    *both("matrix_by_scalar_inverse", r"\frac{d}{dt} (I + t B)^{-1}", "t",
          lambda t, B: np.linalg.inv(np.eye(3) + t * B), {"t": (), "B": (3, 3)}, sample={"B": "small"}),
    # a matrix that cannot be square: its exp is taken entry by entry (a square one: e^{tA}, above)
    *both("matrix_by_scalar_exp", "\\frac{d}{dt} \\exp(t A)\nA \\in \\mathbb{R}^{m \\times n}", "t",
          lambda t, A: np.exp(t * A), {"t": (), "A": (3, 4)}),
    *both("matrix_by_scalar_gram", "\\frac{d}{dt} (A + tB)^T (A + tB)\nt \\in \\mathbb{R}", "t",
          lambda A, t, B: (A + t * B).T @ (A + t * B), {"A": (4, 3), "t": (), "B": (4, 3)}),
]

RULE_IDS = [c["id"] for c in RULE_CASES]
assert len(set(RULE_IDS)) == len(RULE_IDS), "duplicate case ids"


@pytest.mark.parametrize("case", RULE_CASES, ids=RULE_IDS)
def test_rule_against_finite_differences(case):
    d = derive_case(case)
    assert d.answer.kind == case["kind"], f"read as a {d.answer.kind}, not a {case['kind']}"
    assert d.check is not None and d.check.passed, f"the engine's own check failed: {d.check}"
    compare_case(case, d)


def test_table_covers_every_rule_family():
    """Every operation class in derivmagic.rules is exercised by some case of the table."""
    from derivmagic import rules
    from derivmagic.expr import Expr, postorder
    seen, funcs = set(), set()
    for case in RULE_CASES:
        try:
            d = derive_case(case)
        except Exception:  # noqa: BLE001 - such a case fails in its own test above
            continue
        for node in postorder(d.answer.function) + postorder(d.answer.result):
            seen.add(type(node).__name__)
            if isinstance(node, rules.Func):
                funcs.add(node.name)
            if isinstance(node, rules.Norm):
                seen.add(f"Norm{node.p}")
    wanted = {"Add", "Mul", "Transpose", "Inverse", "Trace", "Det", "Hadamard", "Pow", "Func",
              "Softmax", "Diag", "DiagonalOf", "Norm2", "NormF", "Norm1", "MatExp", "ExpFrechet", "SquaredNorm",
              "MatSqrt", "SqrtFrechet", "MatLog", "LogFrechet", "InfNorm", "InfSubgradient", "Eigenvalue",
              "Eigenvector", "SingularValue", "SingularVector", "NuclearNorm", "SVDPolar", "PseudoInverse"}
    classes = {n for n in rules.__all__ if isinstance(getattr(rules, n), type)
               and issubclass(getattr(rules, n), Expr) and n != "Norm"}
    assert classes <= wanted, f"rule classes without a case in the table: {sorted(classes - wanted)}"
    assert wanted <= seen, f"not exercised: {sorted(wanted - seen)}"
    assert set(rules.FUNCTIONS) - {"sign", "step"} <= funcs, f"elementwise functions not exercised: {sorted(set(rules.FUNCTIONS) - funcs)}"


def test_matrix_2norm_is_spectral_not_frobenius():
    """``\\|X\\|_2`` of a matrix is the spectral norm (largest singular value); its gradient
    is u₁v₁ᵀ.  Reading it as the Frobenius norm would silently give a wrong answer."""
    case = C("spectral", r"\nabla_X \|X\|_2", "gradient", "X",
             lambda X: np.linalg.norm(X, 2), {"X": (3, 4)})
    d = derive_case(case)
    compare_case(case, d)
    env = {"X": np.arange(12.0).reshape(3, 4) ** 1.5}
    frobenius = env["X"] / np.linalg.norm(env["X"])
    assert not np.allclose(numeric.evaluate(d.answer.result, env, {"m": 3, "n": 4}), frobenius, atol=1e-3)




def test_derivative_of_exp_tA_is_A_exp_tA():
    d = derive("\\frac{d}{dt} e^{tA} = A e^{tA}\nA \\in \\mathbb{R}^{n \\times n}")
    assert d.claims and all(c.holds for c in d.claims)
