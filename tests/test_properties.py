"""Property tests: random well-typed expressions over the whole cell language, derived by
derivmagic and compared with finite differences computed here, independently.

A Hypothesis strategy builds a random expression tree with compatible shapes (sums,
products, transposes, inverses of well-conditioned symmetric positive definite parts,
traces, norms, exp / log of positive parts / tanh / sigmoid, Hadamard products and
quotients, softmax, diag, log det, scalar powers and fractions). Each tree is written
out twice: as a LaTeX cell with declarations (numeric or named dimensions), and as a
plain numpy function. The test differentiates the numpy function by central finite
differences, arranges the numbers per kind and layout (as tests/data/corpus/harness.py
does) and compares them with ``derivmagic.check.evaluate(d.answer.result, env, sizes)``.

``make test`` runs a few hundred deterministic examples; ``make fuzz`` (the ``fuzz``
marker) runs DERIVMAGIC_FUZZ_EXAMPLES (or ``--fuzz-examples``) random ones and prints a
summary line. The last tests check that a wrong rule is reported loudly (✗, passed False).
"""
from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest

from derivmagic import limits
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from derivmagic import DerivError, derive
from derivmagic.check import evaluate
from shared_data import HARNESS
from timing import time_limit

FUZZ_EXAMPLES = int(os.environ.get("DERIVMAGIC_FUZZ_EXAMPLES", "2000"))
SECONDS_PER_CELL = 2.0

COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)


def quick(n: int) -> settings:
    """`make test`: a fixed, reproducible set of n examples."""
    return settings(max_examples=n, derandomize=True, database=None, **COMMON)


FUZZ = settings(max_examples=FUZZ_EXAMPLES, **COMMON)          # `make fuzz`: random, many

# precedence of an emitted piece of LaTeX: a child binding looser than its context is
# wrapped in \left( \right)
SUM, HAD, PROD, FUNC, ATOM = 1, 2, 3, 4, 5
SCALAR = (1, 1)




# ---------------------------------------------------------------- expression trees
class E:
    """A generated expression: its LaTeX, its shape (dims are ints or dim names), a numpy
    function of the environment, its binding strength, and whether it involves the variable."""

    __slots__ = ("tex", "shape", "fn", "prec", "var")

    def __init__(self, tex, shape, fn, prec=ATOM, var=False):
        self.tex, self.shape, self.fn, self.prec, self.var = tex, shape, fn, prec, var

    def __repr__(self):
        return self.tex


def wrap(e: E, need: int) -> str:
    return e.tex if e.prec >= need else rf"\left({e.tex}\right)"


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _softmax(v):
    z = np.exp(v - v.max(axis=0, keepdims=True))
    return z / z.sum(axis=0, keepdims=True)


MATRIX_LETTERS = "ABCGHKLMNPQRUW"
VECTOR_LETTERS = "abcghkpquwyz"
GREEK = ["alpha", "beta", "gamma", "eta", "kappa", "lambda", "mu", "rho", "tau", "omega"]
DIM_NAMES = ["m", "n", "p", "q", "k"]


class Problem:
    """Everything one example needs: the cell, the symbols with their sampling kinds, the
    variable, the numpy function, the concrete sizes of the named dimensions."""

    def __init__(self, kind, cell, layout, var, var_shape, f, symbols, sizes, direction=None):
        self.kind, self.cell, self.layout = kind, cell, layout
        self.var, self.var_shape, self.f = var, var_shape, f
        self.symbols, self.sizes, self.direction = symbols, sizes, direction

    def __repr__(self):
        return f"Problem({self.kind}, layout={self.layout}, sizes={self.sizes}):\n{self.cell}"


class Gen:
    """Draws a random expression of a requested shape; every choice goes through Hypothesis
    (so failures shrink), simplest option first."""

    def __init__(self, draw, dims, var_name, var_shape):
        self.draw = draw
        self.dims = dims
        self.var_name, self.var_shape = var_name, var_shape
        self.symbols: dict[str, tuple] = {}   # name -> (tex, shape, sampling kind)
        self.counters: dict[str, int] = {}

    def choose(self, options):
        return self.draw(st.sampled_from(options))

    # --- symbols
    def constant(self, shape, sampling="normal") -> E:
        """A declared constant of this shape: one already used (sometimes) or a new one."""
        same = sorted(n for n, (_, s, k) in self.symbols.items() if s == shape and k == sampling)
        if same and self.draw(st.booleans()):
            name = self.choose(same)
            return self._sym(name, self.symbols[name][0], shape)
        if shape == SCALAR:
            family, letters, greek = "scalar", GREEK, True
        elif sampling == "spd":
            family, letters, greek = "spd", ["Sigma", "Lambda", "Omega"], True
        elif sampling == "sym":
            family, letters, greek = "sym", "SV", False
        elif shape[1] == 1:
            family, letters, greek = "vector", VECTOR_LETTERS, False
        else:
            family, letters, greek = "matrix", MATRIX_LETTERS, False
        n = self.counters.get(family, 0)
        self.counters[family] = n + 1
        name = f"{letters[n // 9 % len(letters)]}_{n % 9 + 1}"
        tex = "\\" + name if greek else name
        self.symbols[name] = (tex, shape, sampling)
        return self._sym(name, tex, shape)

    def _sym(self, name, tex, shape) -> E:
        return E(tex, shape, lambda env, name=name: env[name])

    def variable(self) -> E:
        return E(self.var_tex, self.var_shape, lambda env: env[self.var_name], var=True)

    @property
    def var_tex(self):
        return self.var_name

    def inner_dim(self):
        return self.choose(self.dims + [1])

    def square_dim(self):
        return self.choose(self.dims)

    # --- leaves
    def leaf(self, shape) -> E:
        options = []
        if shape == self.var_shape:
            options.append("var")
        if shape != SCALAR and (shape[1], shape[0]) == self.var_shape and shape != self.var_shape:
            options.append("var_t")
        options.append("const")
        if shape == SCALAR:
            options.append("number")
        if shape != SCALAR and shape[0] == shape[1]:
            options += ["spd", "sym"]
        pick = self.choose(options)
        if pick == "var":
            return self.variable()
        if pick == "var_t":
            v = self.variable()
            t = self.choose(["^T", "^\\top", "^{T}", "^{\\top}"])
            return E(v.tex + t, shape, lambda env: v.fn(env).T, FUNC, var=True)
        if pick == "number":
            q = self.choose([Fraction(2), Fraction(3), Fraction(1, 2), Fraction(5), Fraction(2, 3)])
            tex = str(q) if q.denominator == 1 else rf"\frac{{{q.numerator}}}{{{q.denominator}}}"
            return E(tex, SCALAR, lambda env, q=float(q): np.full((1, 1), q), prec=ATOM if q.denominator == 1 else FUNC)
        if pick in ("spd", "sym"):
            return self.constant(shape, pick)
        return self.constant(shape)

    # --- recursive expressions
    def expr(self, shape, depth) -> E:
        if depth <= 0:
            return self.leaf(shape)
        options = ["leaf", "add", "sub", "scale", "matmul", "matmul", "elementwise", "neg", "frac"]
        if shape != SCALAR:
            options += ["transpose", "hadamard", "hdiv", "scalar_times"]
        if shape[0] == shape[1] and shape != SCALAR:
            options += ["inverse", "matpow", "diag"]
        if shape[1] == 1 and shape[0] != 1:
            options += ["softmax"]
        if shape == SCALAR:
            options += ["trace", "norm_sq", "norm", "frobenius_sq", "sum_entries", "logdet", "power", "sqrt",
                        "quadratic"]
        pick = self.choose(options)
        return getattr(self, "_" + pick)(shape, depth - 1)

    def _leaf(self, shape, depth):
        return self.leaf(shape)

    def _add(self, shape, depth):
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        return E(f"{wrap(a, SUM)} + {wrap(b, HAD)}", shape, lambda env: a.fn(env) + b.fn(env), SUM, a.var or b.var)

    def _sub(self, shape, depth):
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        return E(f"{wrap(a, SUM)} - {wrap(b, HAD)}", shape, lambda env: a.fn(env) - b.fn(env), SUM, a.var or b.var)

    def _neg(self, shape, depth):
        a = self.expr(shape, depth)
        return E(f"-{wrap(a, PROD)}", shape, lambda env: -a.fn(env), SUM, a.var)

    def _scale(self, shape, depth):
        q = self.choose([Fraction(2), Fraction(1, 2), Fraction(3), Fraction(-1, 3)])
        a = self.expr(shape, depth)
        inner = wrap(a, FUNC)
        if inner[:1].isdigit() or inner.startswith("-"):
            inner = rf"\left({a.tex}\right)"
        if q.denominator == 1:
            tex = f"{q.numerator} {inner}" if self.draw(st.booleans()) else rf"{q.numerator} \cdot {inner}"
        else:
            sign = "-" if q < 0 else ""
            tex = rf"{sign}\frac{{{abs(q.numerator)}}}{{{q.denominator}}} {inner}"
        return E(tex, shape, lambda env, q=float(q): q * a.fn(env), SUM if q < 0 else PROD, a.var)

    def _scalar_times(self, shape, depth):
        s, a = self.expr(SCALAR, depth), self.expr(shape, depth)
        return E(f"{wrap(s, FUNC)} {wrap(a, FUNC)}", shape, lambda env: s.fn(env)[0, 0] * a.fn(env), PROD,
                 s.var or a.var)

    def _matmul(self, shape, depth):
        k = self.inner_dim()
        a, b = self.expr((shape[0], k), depth), self.expr((k, shape[1]), depth)
        if a.shape == SCALAR or b.shape == SCALAR:   # k == 1 with a scalar side: an ordinary product
            return E(f"{wrap(a, FUNC)} {wrap(b, FUNC)}", shape, lambda env: a.fn(env) * b.fn(env), PROD,
                     a.var or b.var)
        op = self.choose([" ", r" \cdot "])
        left = wrap(a, PROD)
        return E(f"{left}{op}{wrap(b, FUNC)}", shape, lambda env: a.fn(env) @ b.fn(env), PROD, a.var or b.var)

    def _transpose(self, shape, depth):
        a = self.expr((shape[1], shape[0]), depth)
        t = self.choose(["^T", "^\\top", "^{T}", "^{\\top}"])
        return E(f"{wrap(a, ATOM)}{t}", shape, lambda env: a.fn(env).T, FUNC, a.var)

    def _hadamard(self, shape, depth):
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        op = self.choose([r"\odot", r"\circ"])
        return E(f"{wrap(a, HAD)} {op} {wrap(b, PROD)}", shape, lambda env: a.fn(env) * b.fn(env), HAD,
                 a.var or b.var)

    def _hdiv(self, shape, depth):
        a, b = self.expr(shape, depth), self.positive(shape, depth)
        return E(rf"{wrap(a, HAD)} \oslash {wrap(b, PROD)}", shape, lambda env: a.fn(env) / b.fn(env), HAD,
                 a.var or b.var)

    def _frac(self, shape, depth):
        a, b = self.expr(shape, depth), self.positive(SCALAR, depth)
        return E(rf"\frac{{{a.tex}}}{{{b.tex}}}", shape, lambda env: a.fn(env) / b.fn(env)[0, 0], FUNC,
                 a.var or b.var)

    def _elementwise(self, shape, depth):
        square = shape[0] == shape[1] and shape != SCALAR   # of a square matrix exp is e^X, log is refused
        pick = self.choose(["tanh", "sigmoid", "exp", "e_pow"] if square else ["tanh", "sigmoid", "exp", "log", "e_pow", "ln"])
        if pick in ("exp", "e_pow") and square:
            from scipy.linalg import expm
            a = self.bounded(shape, depth)
            tex = rf"\exp\left({a.tex}\right)" if pick == "exp" else f"e^{{{a.tex}}}"
            return E(tex, shape, lambda env: expm(a.fn(env)), FUNC, a.var)
        if pick in ("log", "ln"):
            a = self.positive(shape, depth)
            cmd = r"\log" if pick == "log" else r"\ln"
            return E(rf"{cmd}\left({a.tex}\right)", shape, lambda env: np.log(a.fn(env)), FUNC, a.var)
        if pick in ("exp", "e_pow"):
            a = self.bounded(shape, depth)
            tex = rf"\exp\left({a.tex}\right)" if pick == "exp" else f"e^{{{a.tex}}}"
            return E(tex, shape, lambda env: np.exp(a.fn(env)), FUNC, a.var)
        a = self.expr(shape, depth)
        if pick == "tanh":
            return E(rf"\tanh\left({a.tex}\right)", shape, lambda env: np.tanh(a.fn(env)), FUNC, a.var)
        tex = self.choose([r"\sigma\left({}\right)", r"\operatorname{{sigmoid}}\left({}\right)"]).format(a.tex)
        return E(tex, shape, lambda env: _sigmoid(a.fn(env)), FUNC, a.var)

    def _softmax(self, shape, depth):
        a = self.expr(shape, depth)
        return E(rf"\operatorname{{softmax}}\left({a.tex}\right)", shape, lambda env: _softmax(a.fn(env)), FUNC,
                 a.var)

    def _diag(self, shape, depth):
        a = self.expr((shape[0], 1), depth)
        return E(rf"\operatorname{{diag}}\left({a.tex}\right)", shape, lambda env: np.diagflat(a.fn(env)), FUNC,
                 a.var)

    def _inverse(self, shape, depth):
        s = self.spd(shape[0], depth)
        return E(rf"\left({s.tex}\right)^{{-1}}", shape, lambda env: np.linalg.inv(s.fn(env)), FUNC, s.var)

    def _matpow(self, shape, depth):
        a = self.expr(shape, depth)
        return E(f"{wrap(a, ATOM)}^2", shape, lambda env: a.fn(env) @ a.fn(env), FUNC, a.var)

    def _trace(self, shape, depth):
        n = self.square_dim()
        a = self.expr((n, n), depth)
        cmd = self.choose([r"\operatorname{tr}", r"\mathrm{tr}", r"\operatorname{Tr}", r"\operatorname{trace}"])
        return E(rf"{cmd}\left({a.tex}\right)", SCALAR, lambda env: np.full((1, 1), np.trace(a.fn(env))), FUNC, a.var)

    def _norm_sq(self, shape, depth):
        a = self.expr((self.square_dim(), 1), depth)
        tex = self.choose([r"\|{}\|_2^2", r"\left\|{}\right\|^2", r"\lVert {} \rVert_2^2"]).format(a.tex)
        return E(tex, SCALAR, lambda env: np.full((1, 1), np.sum(a.fn(env) ** 2)), FUNC, a.var)

    def _norm(self, shape, depth):
        a = self.expr((self.square_dim(), 1), depth)
        tex = self.choose([r"\|{}\|_2", r"\left\|{}\right\|"]).format(a.tex)
        return E(tex, SCALAR, lambda env: np.full((1, 1), np.sqrt(np.sum(a.fn(env) ** 2))), ATOM, a.var)

    def _frobenius_sq(self, shape, depth):
        a = self.expr((self.square_dim(), self.square_dim()), depth)
        return E(rf"\|{a.tex}\|_F^2", SCALAR, lambda env: np.full((1, 1), np.sum(a.fn(env) ** 2)), FUNC, a.var)

    def _sum_entries(self, shape, depth):
        a = self.expr((self.square_dim(), 1), depth)
        return E(rf"\mathbf{{1}}^T {wrap(a, FUNC)}", SCALAR, lambda env: np.full((1, 1), np.sum(a.fn(env))), PROD,
                 a.var)

    def _quadratic(self, shape, depth):
        n = self.square_dim()
        u = self.expr((n, 1), depth)
        m = self.expr((n, n), depth)
        return E(f"{wrap(u, ATOM)}^T {wrap(m, FUNC)} {wrap(u, FUNC)}", SCALAR,
                 lambda env: u.fn(env).T @ m.fn(env) @ u.fn(env), PROD, u.var or m.var)

    def _logdet(self, shape, depth):
        s = self.spd(self.square_dim(), depth)
        return E(rf"\log \det\left({s.tex}\right)", SCALAR,
                 lambda env: np.full((1, 1), np.linalg.slogdet(s.fn(env))[1]), SUM, s.var)

    def _power(self, shape, depth):
        a = self.expr(SCALAR, depth)
        q = self.choose([2, 3])
        return E(f"{wrap(a, ATOM)}^{{{q}}}", SCALAR, lambda env: a.fn(env) ** q, FUNC, a.var)

    def _sqrt(self, shape, depth):
        a = self.positive(SCALAR, depth)
        tex = self.choose([r"\sqrt{{{}}}", r"\left({}\right)^{{1/2}}", r"\left({}\right)^{{\frac{{1}}{{2}}}}"])
        return E(tex.format(a.tex), SCALAR, lambda env: np.sqrt(a.fn(env)), FUNC, a.var)

    # --- parts with a guaranteed range
    def positive(self, shape, depth) -> E:
        """Entries > 0 (and away from 0): for log, quotients, square roots."""
        square = shape[0] == shape[1] and shape != SCALAR   # e^X of a square matrix: not positive entries
        pick = self.choose(["one_plus_square", "sigmoid"] if square else ["one_plus_square", "exp", "sigmoid"])
        if pick == "exp":
            a = self.bounded(shape, max(depth - 1, 0))
            return E(rf"\exp\left({a.tex}\right)", shape, lambda env: np.exp(a.fn(env)), FUNC, a.var)
        a = self.expr(shape, max(depth - 1, 0))
        if pick == "sigmoid":
            return E(rf"\sigma\left({a.tex}\right)", shape, lambda env: _sigmoid(a.fn(env)), FUNC, a.var)
        if shape == SCALAR:
            return E(f"1 + {wrap(a, ATOM)}^2", shape, lambda env: 1 + a.fn(env) ** 2, SUM, a.var)
        return E(rf"1 + {wrap(a, HAD)} \odot {wrap(a, PROD)}", shape, lambda env: 1 + a.fn(env) ** 2, SUM, a.var)

    def bounded(self, shape, depth) -> E:
        """Entries of moderate size: for exp."""
        pick = self.choose(["leaf", "tanh", "sigmoid"])
        if pick == "leaf":
            return self.leaf(shape)
        a = self.expr(shape, max(depth - 1, 0))
        if pick == "tanh":
            return E(rf"\tanh\left({a.tex}\right)", shape, lambda env: np.tanh(a.fn(env)), FUNC, a.var)
        return E(rf"\sigma\left({a.tex}\right)", shape, lambda env: _sigmoid(a.fn(env)), FUNC, a.var)

    def spd(self, n, depth) -> E:
        """A symmetric positive definite n×n part with eigenvalues >= 1: M Mᵀ + I, I + MᵀM or Σ."""
        pick = self.choose(["const", "mmt", "mtm"])
        if pick == "const" or n == 1:
            return self.constant((n, n), "spd") if n != 1 else self.positive(SCALAR, depth)
        k = self.inner_dim()
        if pick == "mmt":
            m = self.expr((n, k), max(depth - 1, 0))
            return E(f"{wrap(m, PROD)} {wrap(m, ATOM)}^T + I", (n, n),
                     lambda env: m.fn(env) @ m.fn(env).T + np.eye(m.fn(env).shape[0]), SUM, m.var)
        m = self.expr((k, n), max(depth - 1, 0))
        return E(f"I + {wrap(m, ATOM)}^T {wrap(m, FUNC)}", (n, n),
                 lambda env: np.eye(m.fn(env).shape[1]) + m.fn(env).T @ m.fn(env), SUM, m.var)


# ---------------------------------------------------------------- cells
def _space(shape, sampling) -> str:
    r, c = shape
    if sampling == "spd":
        return rf"\mathbb{{S}}^{{{r}}}_{{++}}"
    if sampling == "sym":
        return rf"\mathbb{{S}}^{{{r}}}"
    if shape == SCALAR:
        return r"\mathbb{R}"
    if c == 1:
        return rf"\mathbb{{R}}^{{{r}}}"
    return rf"\mathbb{{R}}^{{{r} \times {c}}}"


@st.composite
def problems(draw, kind: str, depth: int = 3):
    n_dims = draw(st.integers(2, 3))
    dims = []
    for _ in range(n_dims):
        if draw(st.booleans()):
            dims.append(draw(st.sampled_from([d for d in DIM_NAMES if d not in dims])))
        else:
            dims.append(draw(st.sampled_from([d for d in (2, 3, 4, 5) if d not in dims])))
    sizes = {d: draw(st.integers(2, 5)) for d in dims if isinstance(d, str)}
    a, b = dims[0], dims[1]
    if kind == "gradient":
        var_shape = draw(st.sampled_from([(a, 1), (a, b), SCALAR, (1, a)]))
        out = SCALAR
    elif kind == "jacobian":
        var_shape = draw(st.sampled_from([(a, 1), SCALAR, (a, b)]))
        out = SCALAR if var_shape == (a, b) else draw(st.sampled_from([(b, 1), SCALAR, (a, 1)]))
        if var_shape == SCALAR and out == SCALAR:
            out = (b, 1)
    elif kind == "hessian":
        var_shape = draw(st.sampled_from([(a, 1), SCALAR]))
        out = SCALAR
    else:  # directional: any function, shaped like anything
        var_shape = draw(st.sampled_from([(a, b), (a, 1), (a, a)]))
        out = draw(st.sampled_from([(a, b), (b, b), SCALAR, (b, 1), (a, a)]))
    var_name = {SCALAR: "t"}.get(var_shape, "X" if var_shape[0] != 1 and var_shape[1] != 1 else "x")
    gen = Gen(draw, dims, var_name, var_shape)
    f = gen.expr(out, draw(st.integers(1, depth)))
    layout = draw(st.sampled_from([None, "numerator", "denominator"]))

    decls = [rf"{var_name} \in {_space(var_shape, 'normal')}"]
    decls += [rf"{tex} \in {_space(shape, k)}" for _, (tex, shape, k) in gen.symbols.items()]
    direction = None
    if kind == "gradient":
        sub = var_name if draw(st.booleans()) else f"{{{var_name}}}"
        if draw(st.booleans()):
            statements = [rf"\nabla_{sub} {f.tex}"]
        else:
            statements = [rf"L({var_name}) = {f.tex}", rf"\nabla_{sub} L"]
    elif kind == "jacobian":
        if draw(st.booleans()):
            statements = [rf"\frac{{\partial}}{{\partial {var_name}}} \left({f.tex}\right)"]
        else:
            statements = [rf"y = {f.tex}", rf"\frac{{\partial y}}{{\partial {var_name}}}"]
    elif kind == "hessian":
        form = draw(st.sampled_from([r"\nabla^2_{v} {f}", r"\nabla_{v}^2 {f}",
                                     r"\frac{{\partial^2 {f}}}{{\partial {v} \partial {v}^T}}"]))
        if "frac" in form:
            statements = [rf"g({var_name}) = {f.tex}", form.format(f="g", v=var_name)]
        else:
            statements = [form.format(f=f.tex, v=var_name)]
    else:
        direction = "V" if var_name == "X" else "v"
        statements = [rf"F({var_name}) = {f.tex}", rf"D F({var_name})[{direction}]"]
    if draw(st.booleans()):
        statements = statements[::-1]   # a cell is a set of statements: order does not matter
    sep = draw(st.sampled_from(["\n", r" \quad ", r",\; "]))
    decl_text = sep.join(decls)
    cell = "\n".join(statements) + "\n" + decl_text if draw(st.booleans()) else decl_text + "\n" + "\n".join(statements)
    symbols = {name: (shape, k) for name, (tex, shape, k) in gen.symbols.items()}
    symbols[var_name] = (var_shape, "normal")
    if direction:
        symbols[direction] = (var_shape, "normal")
    return Problem(kind, cell, layout, var_name, var_shape, f, symbols, sizes, direction)


# ---------------------------------------------------------------- the numbers
def concrete(shape, sizes):
    return tuple(d if isinstance(d, int) else sizes[d] for d in shape)


def sample_env(problem: Problem, rng) -> dict:
    env = {}
    for name, (shape, kind) in problem.symbols.items():
        r, c = concrete(shape, problem.sizes)
        m = rng.standard_normal((r, c))
        if kind == "spd":
            m = m @ m.T / r + np.eye(r)
        elif kind == "sym":
            m = (m + m.T) / 2
        env[name] = m
    return env


def fd_jacobian(f, env, var, h=1e-6):
    """G[i, j] = ∂ f_i / ∂ var_j, both flattened row-major; and the largest |f| seen."""
    x0 = env[var]
    f0 = np.asarray(f(env), float)
    G = np.empty((f0.size, x0.size))
    scale = np.max(np.abs(f0))
    for j in range(x0.size):
        cols = []
        for s in (1, -1):
            x = x0.copy()
            x.flat[j] += s * h
            v = np.asarray(f({**env, var: x}), float)
            scale = max(scale, np.max(np.abs(v)))
            cols.append(v.ravel())
        G[:, j] = (cols[0] - cols[1]) / (2 * h)
    return G, f0, scale


def fd_hessian(f, env, var, h=1e-4):
    x0 = env[var]
    n = x0.size
    H = np.empty((n, n))
    scale = 0.0

    def at(i, j, si, sj):
        x = x0.copy()
        x.flat[i] += si * h
        x.flat[j] += sj * h
        return float(np.asarray(f({**env, var: x})).ravel()[0])
    for i in range(n):
        for j in range(n):
            vals = [at(i, j, 1, 1), at(i, j, 1, -1), at(i, j, -1, 1), at(i, j, -1, -1)]
            scale = max(scale, max(abs(v) for v in vals))
            H[i, j] = (vals[0] - vals[1] - vals[2] + vals[3]) / (4 * h * h)
    return H, scale


def expected(problem: Problem, env):
    """The reference derivative arranged as the problem's kind and layout ask, the tolerance
    it deserves (central differences lose eps·|f|/h to rounding), and a scale of f."""
    f, var = problem.f.fn, problem.var
    layout = problem.layout or "numerator"
    W = env[var]
    if problem.kind == "hessian":
        H, scale = fd_hessian(f, env, var)
        return H, 1e-4 * (1 + np.max(np.abs(H))) + 1e-6 * scale, scale
    if problem.kind == "directional":
        h = 1e-6
        v = env[problem.direction]
        fp, fm = np.asarray(f({**env, var: W + h * v})), np.asarray(f({**env, var: W - h * v}))
        want = (fp - fm) / (2 * h)
        scale = max(np.max(np.abs(fp)), np.max(np.abs(fm)))
        return want, 1e-6 * (1 + np.max(np.abs(want))) + 1e-7 * scale, scale
    G, F, scale = fd_jacobian(f, env, var)
    tol = lambda want: 1e-6 * (1 + np.max(np.abs(want))) + 1e-7 * scale  # noqa: E731
    if F.size == 1:                       # scalar function
        if problem.kind == "gradient":
            want = G.reshape(W.shape)
        elif W.shape[0] > 1 and W.shape[1] > 1:
            want = G.reshape(W.shape).T if layout == "numerator" else G.reshape(W.shape)
        else:
            want = G.reshape(1, W.size) if layout == "numerator" else G.reshape(W.size, 1)
        return want, tol(want), scale
    J = G.reshape(F.size, W.size)          # vector function of a vector or a scalar
    want = J if layout == "numerator" else J.T
    return want, tol(want), scale


# ---------------------------------------------------------------- the property
def run_problem(problem: Problem, seed: int, stats: dict, label: str, via_sympy: bool = False):
    note(repr(problem))
    rng = np.random.default_rng(seed)
    env = sample_env(problem, rng)
    with np.errstate(all="ignore"):
        want, tol, scale = expected(problem, env)
    assume(np.all(np.isfinite(want)) and np.isfinite(scale) and scale < 1e6)
    sizes = dict(problem.sizes)
    try:
        with time_limit(10 * SECONDS_PER_CELL), limits.measure() as work:   # the time limit only catches a hang
            d = derive(problem.cell, layout=problem.layout, dims=sizes or None)
    except DerivError as exc:
        if problem.kind == "jacobian" and type(exc).__name__ == "TensorNeeded":
            stats[label + ": declined (tensor needed)"] = stats.get(label + ": declined (tensor needed)", 0) + 1
            return
        raise AssertionError(f"derive() refused a well-typed cell:\n{problem.cell}\n{type(exc).__name__}: {exc}") from exc
    assert sum(work) <= 2 * limits.LIMITS["work"], f"derive() did {sum(work):,} units of work"

    engine_env = {name: env[name] for name in d.reading.symbols if name in env}
    missing = set(d.reading.symbols) - set(env)
    assert not missing, f"derivmagic read symbols the cell does not have: {sorted(missing)}"
    with np.errstate(all="ignore"):
        got = np.asarray(evaluate(d.answer.result, engine_env, sizes), float)
    assert got.shape == want.shape, (f"result shape {got.shape}, expected {want.shape} "
                                     f"({problem.kind}, layout {problem.layout}): {d.answer.result!r}")
    err = float(np.max(np.abs(got - want))) if want.size else 0.0
    assert err <= tol, (f"wrong derivative: max |result - finite differences| = {err:.2e} > {tol:.1e}\n"
                        f"result: {d.answer.result!r}\nfunction: {problem.f.tex}")
    assert d.check is not None and d.check.passed, f"derivmagic's own check failed on a right answer: {d.check}"
    assert d.text and d.latex   # the derivation renders
    if via_sympy:
        harness = _harness()
        with np.errstate(all="ignore"):
            h_env = {k: (np.array(v[0, 0]) if v.shape == (1, 1) else v) for k, v in engine_env.items()}  # its scalars are 0-d
            alt = np.asarray(harness.Evaluator(h_env)(d.result, list(d.symbols.values())), float)
        assert alt.size == got.size and np.allclose(alt.reshape(got.shape), got, rtol=1e-8, atol=1e-10), (
            f"Derivation.result (SymPy) does not evaluate to the answer: {d.result}")
    stats[label] = stats.get(label, 0) + 1


def _harness():
    """The shared corpus harness's own SymPy evaluator ."""
    import importlib.util
    path = str(HARNESS)
    if not os.path.exists(path):
        pytest.skip("tests/data/corpus/harness.py not found")
    spec = importlib.util.spec_from_file_location("_harness", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


KINDS = ["gradient", "jacobian", "hessian", "directional"]


@quick(300)
@given(problem=problems("gradient"), seed=st.integers(0, 2**32 - 1))
def test_random_gradients_match_finite_differences(problem, seed, fuzz_stats):
    run_problem(problem, seed, fuzz_stats, "properties/gradient")


@quick(100)
@given(problem=problems("jacobian"), seed=st.integers(0, 2**32 - 1))
def test_random_jacobians_match_finite_differences(problem, seed, fuzz_stats):
    run_problem(problem, seed, fuzz_stats, "properties/jacobian")


@quick(60)
@given(problem=problems("hessian", depth=2), seed=st.integers(0, 2**32 - 1))
def test_random_hessians_match_finite_differences(problem, seed, fuzz_stats):
    run_problem(problem, seed, fuzz_stats, "properties/hessian")


@quick(80)
@given(problem=problems("directional"), seed=st.integers(0, 2**32 - 1))
def test_random_directional_derivatives_match_finite_differences(problem, seed, fuzz_stats):
    run_problem(problem, seed, fuzz_stats, "properties/directional")


@quick(30)
@given(kind=st.sampled_from(KINDS), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_results_as_sympy_evaluate_to_the_same_numbers(kind, data, seed, fuzz_stats):
    """The contract's Derivation.result (SymPy), evaluated by the corpus harness, is the answer."""
    problem = data.draw(problems(kind, depth=2))
    run_problem(problem, seed, fuzz_stats, f"properties/sympy-{kind}", via_sympy=True)


@pytest.mark.fuzz
@FUZZ
@given(data=st.data(), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
def test_fuzz_random_expressions(data, kind, seed, fuzz_stats):
    problem = data.draw(problems(kind, depth=2 if kind == "hessian" else 4))
    via_sympy = seed % 10 == 0   # one in ten also through Derivation.result (slower)
    run_problem(problem, seed, fuzz_stats, f"fuzz/{kind}", via_sympy=via_sympy)


# ---------------------------------------------------------------- notation the generator met
def _fd_gradient(f, env, var, h=1e-6):
    x0 = env[var]
    g = np.zeros(x0.shape)
    for j in range(x0.size):
        p, m = x0.copy(), x0.copy()
        p.flat[j] += h
        m.flat[j] -= h
        g.flat[j] = (f(**{**env, var: p}) - f(**{**env, var: m})) / (2 * h)
    return g


def _s(v):
    return float(np.asarray(v).reshape(-1)[0])


# id -> (cell, variable, numpy reference of the scalar function, shapes): each reading was
# met by the generator above; all are ordinary notation with one meaning.
NOTATION = {
    "scalar_times_group_power": (r"\nabla_t \alpha (t + 1)^2 \quad t \in \mathbb{R}", "t",
                                 lambda alpha, t: _s(alpha) * (_s(t) + 1) ** 2, {"alpha": (1, 1), "t": (1, 1)}),
    "scalar_times_left_right_power": (r"\nabla_t \alpha \left(t + 1\right)^2 \quad t \in \mathbb{R}", "t",
                                      lambda alpha, t: _s(alpha) * (_s(t) + 1) ** 2, {"alpha": (1, 1), "t": (1, 1)}),
    "scalar_times_squared_norm": (r"\nabla_x \gamma \left(x^T x\right)^2 \quad x \in \mathbb{R}^3", "x",
                                  lambda gamma, x: _s(gamma) * _s(x.T @ x) ** 2, {"gamma": (1, 1), "x": (3, 1)}),
    "vector_times_transposed_group": (
        r"\nabla_x u^T a \left(x + b\right)^T c \quad a \in \mathbb{R}^2 \quad u \in \mathbb{R}^2 \quad"
        r" x \in \mathbb{R}^3 \quad b \in \mathbb{R}^3 \quad c \in \mathbb{R}^3", "x",
        lambda u, a, x, b, c: _s(u.T @ a) * _s((x + b).T @ c),
        {"u": (2, 1), "a": (2, 1), "x": (3, 1), "b": (3, 1), "c": (3, 1)}),
    "matrix_times_transposed_group": (
        r"\nabla_X \operatorname{tr}(A \left(B X\right)^T) \quad A \in \mathbb{R}^{2 \times 3} \quad"
        r" B \in \mathbb{R}^{2 \times 2} \quad X \in \mathbb{R}^{2 \times 3}", "X",
        lambda A, B, X: float(np.trace(A @ (B @ X).T)), {"A": (2, 3), "B": (2, 2), "X": (2, 3)}),
    "function_then_transpose": (r"\nabla_x \tanh(x)^T a \quad x, a \in \mathbb{R}^3", "x",
                                lambda x, a: _s(np.tanh(x).T @ a), {"x": (3, 1), "a": (3, 1)}),
    "function_then_power": (r"\nabla_x \log(x^T x)^2 \quad x \in \mathbb{R}^3", "x",
                            lambda x: np.log(_s(x.T @ x)) ** 2, {"x": (3, 1)}),
    "nested_norms": (r"\nabla_x \|\|x\|^2 a\|^2 \quad x, a \in \mathbb{R}^3", "x",
                     lambda x, a: _s(x.T @ x) ** 2 * _s(a.T @ a), {"x": (3, 1), "a": (3, 1)}),
    "frobenius_of_diag": (r"\nabla_x \|\operatorname{diag}(x)\|_F^2 \quad x \in \mathbb{R}^3", "x",
                          lambda x: _s(x.T @ x), {"x": (3, 1)}),
    "trace_of_diag_product": (r"\nabla_x \operatorname{tr}(\operatorname{diag}(x) A) \quad x \in \mathbb{R}^3", "x",
                              lambda x, A: float(np.trace(np.diagflat(x) @ A)), {"x": (3, 1), "A": (3, 3)}),
    "sqrt_constant_factor": (r"\nabla_x a^T \left(1 + 2^2\right)^{\frac{1}{2}} x \quad x, a \in \mathbb{R}^3", "x",
                             lambda a, x: np.sqrt(5) * _s(a.T @ x), {"a": (3, 1), "x": (3, 1)}),
}


@pytest.mark.parametrize("cell,var,reference,shapes", NOTATION.values(), ids=NOTATION.keys())
def test_notation_is_read_as_written(cell, var, reference, shapes):
    rng = np.random.default_rng(1)
    env = {k: rng.standard_normal(s) for k, s in shapes.items()}
    with time_limit(10 * SECONDS_PER_CELL):
        d = derive(cell)
    got = np.asarray(evaluate(d.answer.result, {k: env[k] for k in d.reading.symbols}, {}), float)
    want = _fd_gradient(reference, env, var)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}: {d.answer.result!r}"
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6), (
        f"wrong derivative (the cell was read differently from how it is written): {d.answer.result!r}\n"
        f"derivmagic's own check: {d.check.summary}")


# right answers whose own check must pass (a false ✗ teaches users to ignore the mark)
RIGHT_AND_CHECKED = {
    "large_constant_offset": (r"\nabla_x 1000000 + x^T x \quad x \in \mathbb{R}^3", "x",
                              lambda x: 1e6 + _s(x.T @ x), {"x": (3, 1)}),
    "large_constant_factor_sum": (r"\nabla_x \|10 A\|_F^4 + x^T x \quad x \in \mathbb{R}^3 \quad A \in \mathbb{R}^{4 \times 4}",
                                  "x", lambda x, A: float(np.sum((10 * A) ** 2)) ** 2 + _s(x.T @ x),
                                  {"x": (3, 1), "A": (4, 4)}),
    "log_sigmoid_steep": (r"\nabla_x \mathbf{1}^T \log(\sigma(40 x)) \quad x \in \mathbb{R}^3", "x",
                          lambda x: float(np.sum(-np.logaddexp(0, -40 * x))), {"x": (3, 1)}),
    "logistic_loss": (r"\nabla_w \mathbf{1}^T \log(\sigma(X w)) \quad X \in \mathbb{R}^{5 \times 3} \quad w \in \mathbb{R}^3",
                      "w", lambda X, w: float(np.sum(-np.logaddexp(0, -(X @ w)))), {"X": (5, 3), "w": (3, 1)}),
}


@pytest.mark.parametrize("name", RIGHT_AND_CHECKED, ids=RIGHT_AND_CHECKED)
def test_a_right_answer_passes_its_own_check(name):
    cell, var, reference, shapes = RIGHT_AND_CHECKED[name]
    h = 1e-3 if name.startswith("large") else 1e-6   # those functions are quadratic in the variable
    rng = np.random.default_rng(2)
    scale = {"X": 20.0}   # steep logistic loss: |Xw| reaches 40 or more
    env = {k: rng.standard_normal(s) * scale.get(k, 1.0) for k, s in shapes.items()}
    with time_limit(10 * SECONDS_PER_CELL):
        d = derive(cell)
    got = np.asarray(evaluate(d.answer.result, {k: env[k] for k in d.reading.symbols}, {}), float)
    want = _fd_gradient(reference, env, var, h)
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-5), f"wrong: {d.answer.result!r}"
    assert d.check.passed, f"a right answer fails derivmagic's own check: {d.check.summary}"


# ---------------------------------------------------------------- the generator itself
def test_generated_cells_cover_the_language():
    """The generator reaches every construct it claims (a cheap guard against a strategy
    that silently stopped producing, e.g., inverses)."""
    seen = set()
    marks = {"inverse": "^{-1}", "trace": "tr", "norm": r"\|", "exp": r"\exp", "log": r"\log", "tanh": r"\tanh",
             "sigmoid": r"\sigma", "hadamard": r"\odot", "softmax": "softmax", "transpose": "^T", "det": r"\det",
             "oslash": r"\oslash", "diag": "diag", "frac": r"\frac", "named dim": r"\times m", "spd": "_{++}"}

    @settings(max_examples=300, derandomize=True, database=None, **COMMON)
    @given(problem=problems("gradient", depth=3))
    def collect(problem):
        for k, m in marks.items():
            if m in problem.cell:
                seen.add(k)
    collect()
    assert seen == set(marks), f"never generated: {sorted(set(marks) - seen)}"


# ---------------------------------------------------------------- failed checks are loud
def _break(monkeypatch, what):
    """Make one differentiation rule wrong."""
    import importlib
    elementwise, linear, matrix, norms, softmax = (importlib.import_module(f"derivmagic.rules.{m}") for m in
                                                   ("elementwise", "linear", "matrix", "norms", "softmax"))
    if what == "tanh":
        spec = elementwise.FUNCTIONS["tanh"]
        wrong = type(spec)(spec.tex, spec.numpy, lambda u, f: elementwise._one_minus(f), spec.sympy)
        monkeypatch.setitem(elementwise.FUNCTIONS, "tanh", wrong)       # 1 - tanh instead of 1 - tanh²
    elif what == "inverse":
        monkeypatch.setattr(matrix.Inverse, "differential", lambda self, ds: linear.mul(self, ds[0], self))  # sign
    elif what == "trace":
        monkeypatch.setattr(matrix.Trace, "vjp", lambda self, seed, i: linear.mul(linear.Num(2), seed, matrix.Identity(self.args[0].shape[0])))
    elif what == "product":
        def wrong_product(self, ds):   # d(AB) = dA B only
            i = next(i for i, d in enumerate(ds) if d is not None)
            args = list(self.args)
            args[i] = ds[i]
            return linear.mul(linear.Num(self.coeff), *args)
        monkeypatch.setattr(linear.Mul, "differential", wrong_product)
    elif what == "softmax":
        monkeypatch.setattr(softmax.Softmax, "differential", lambda self, ds: elementwise.hadamard(self, ds[0]))
    elif what == "norm":
        monkeypatch.setattr(norms.Norm, "differential",
                            lambda self, ds: matrix.trace(linear.mul(linear.transpose(self.args[0]), ds[0])))
    elif what == "exp":
        spec = elementwise.FUNCTIONS["exp"]
        monkeypatch.setitem(elementwise.FUNCTIONS, "exp",
                            type(spec)(spec.tex, spec.numpy, lambda u, f: elementwise.power(f, 2), spec.sympy))
    else:
        raise ValueError(what)


LOUD = {
    "tanh": ("tanh", r"\nabla_x \mathbf{1}^T \tanh(Ax)"),
    "inverse": ("inverse", r"\nabla_X \operatorname{tr}(X^{-1} A)"),
    "trace": ("trace", r"\nabla_X \operatorname{tr}(A X)"),
    "product": ("product", r"\nabla_x x^T A x"),
    "softmax": ("softmax", r"\nabla_z a^T \operatorname{softmax}(z)"),
    "norm": ("norm", r"\nabla_x \|x - a\|_2"),
    "exp_jacobian": ("exp", r"\frac{\partial}{\partial x} \exp(x)"),
    "exp_hessian": ("exp", r"\nabla^2_x \mathbf{1}^T \exp(x)"),
    "product_directional": ("product", r"D F(X)[V] \quad F(X) = X^T X"),
}


@pytest.mark.parametrize("rule,cell", LOUD.values(), ids=LOUD.keys())
def test_a_wrong_rule_fails_its_check_loudly(monkeypatch, rule, cell):
    ok = derive(cell)
    assert ok.check.passed, f"the cell should pass with the real rules: {ok.check}"
    _break(monkeypatch, rule)
    d = derive(cell)
    assert d.check is not None and d.check.passed is False, f"a wrong {rule} rule passed its check: {d.check}"
    assert not d.check
    assert "✗" in d.text, "the text of a failed derivation must show ✗"
    assert "✓" not in d.text.split("Check")[-1], "a failed check must not also show ✓"
    assert r"\checkmark" not in d.latex and "✓" not in d.latex, "the LaTeX of a failed derivation shows a check mark"
    assert "✗" in d.latex or "unverified" in d.latex, "the LaTeX of a failed derivation must show the failure"


def test_a_nonfinite_function_is_unverified_not_passed():
    d = derive(r"\nabla_x \mathbf{1}^T \exp(\exp(\exp(\exp(\exp(x^T x)))))")
    assert d.check.passed is False
    assert "✗" in d.text


def test_check_disabled_is_not_reported_as_passed():
    d = derive(r"\nabla_x x^T A x", check=False)
    assert d.check is None
    assert "✓" not in d.text


# ---------------------------------------------------------------- the textbook forms keep the value
def _elementwise_polynomials():
    """Random sums of Hadamard (or scalar) products of a, b, c, 𝟏 - a, 𝟏 - b and sums of them, with
    small integer and fractional coefficients: what the collection of like terms works on."""
    from derivmagic.expr import Num, Ones, Sym
    from derivmagic.rules import add, func, hadamard, mul, neg

    def build(draw, scalar: bool):
        shape = (1, 1) if scalar else ("n", 1)
        syms = [Sym(n, shape) for n in "abc"]
        one = Num(1) if scalar else Ones(shape)
        atoms = syms + [add(one, neg(syms[0])), add(one, neg(syms[1])), func("sigmoid", syms[2])]
        times = mul if scalar else hadamard
        terms = []
        for _ in range(draw(st.integers(1, 4))):
            factors = draw(st.lists(st.sampled_from(atoms), min_size=1, max_size=3))
            if draw(st.booleans()):
                factors.append(add(*draw(st.lists(st.sampled_from(atoms), min_size=2, max_size=3))))
            coeff = Fraction(draw(st.sampled_from([1, -1, 2, -3])), draw(st.sampled_from([1, 2])))
            terms.append(mul(Num(coeff), times(*factors)))
        return add(*terms)

    return st.composite(lambda draw: build(draw, draw(st.booleans())))()


@settings(max_examples=150, derandomize=True, **COMMON)
@given(_elementwise_polynomials())
def test_textbook_simplification_keeps_the_value(e):
    from derivmagic.simplify import simplify
    s = simplify(e)
    rng = np.random.default_rng(0)
    sizes = {"n": 4}
    env = {name: rng.standard_normal((1, 1) if e.is_scalar else (4, 1)) for name in "abc"}
    note(f"{e!r} -> {s!r}")
    assert np.allclose(evaluate(s, env, sizes), evaluate(e, env, sizes))
