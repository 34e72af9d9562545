"""A round-trip oracle for derivmagic's reader, written independently of derivmagic.

Three parts, none of which imports derivmagic:

* a generator of random, well-shaped expression trees over a fixed set of symbols
  (``random_tree``);
* a LaTeX printer that writes one tree in a randomly chosen *style* (``to_latex``): brace-free
  single-token arguments (``\\frac12``, ``\\sqrt2``, ``e^t``), ``\\frac``/``\\tfrac``/``\\dfrac``,
  several transpose and parenthesis forms, spacing commands, bold fonts, function names with
  and without parentheses, redundant parentheses. The printed text is correct TeX *for the
  intended tree*: parentheses are put wherever precedence needs them;
* a plain NumPy evaluator (``evaluate``).

The symbols have the shapes their names conventionally suggest (upper-case Latin: matrix,
lower-case Latin: column vector, lower-case Greek and ``t``: scalar), so a reader that follows
the convention must get the same value with or without declarations.

Trees are ``Node(op, kids, shape, data)``; shapes are pairs of ``"n"``, ``"m"`` or ``1``
(``SCALAR == (1, 1)``). ``repr(node)`` is a functional form such as
``matmul(T(x), matmul(A, x))``.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

SCALAR = (1, 1)
SIZES = {"n": 3, "m": 2}

# name (as derivmagic reports it) -> (TeX, shape)
SYMBOLS: dict[str, tuple[str, tuple]] = {
    "A": ("A", ("n", "n")),
    "B": ("B", ("n", "n")),
    "C": ("C", ("n", "n")),
    "M": ("M", ("m", "n")),
    "x": ("x", ("n", 1)),
    "y": ("y", ("n", 1)),
    "u": ("u", ("n", 1)),
    "b": ("b", ("m", 1)),
    "alpha": (r"\alpha", SCALAR),
    "beta": (r"\beta", SCALAR),
    "lambda": (r"\lambda", SCALAR),
    "theta": (r"\theta", SCALAR),
    "t": ("t", SCALAR),
}
SQUARE = ("A", "B", "C")          # sampled well-conditioned: 1.5 I + 0.3 G
SCALAR_NAMES = ("alpha", "beta", "lambda", "theta", "t")
ELEMENTWISE = ("exp", "tanh", "sin", "cos", "sigma")

_OPS_ARITY = {
    "sym": 0, "const": 0, "add": 2, "sub": 2, "neg": 1, "matmul": 2, "smul": 2, "T": 1,
    "had": 2, "div": 2, "pow": 1, "sqrt": 1, "fun": 1, "tr": 1, "normsq": 1, "norm": 1,
    "inv": 1,
}


# ------------------------------------------------------------------------------ trees
class Node:
    """One node of an expression tree: ``op``, children ``kids``, ``shape`` and ``data``
    (the symbol name for ``sym``, a ``Fraction`` for ``const``, the exponent for ``pow``,
    the function name for ``fun``)."""

    __slots__ = ("op", "kids", "shape", "data")

    def __init__(self, op: str, kids: tuple = (), shape: tuple = SCALAR, data=None):
        assert op in _OPS_ARITY and len(kids) == _OPS_ARITY[op], (op, kids)
        self.op, self.kids, self.shape, self.data = op, tuple(kids), shape, data

    def __repr__(self) -> str:
        if self.op == "sym":
            return self.data
        if self.op == "const":
            return str(self.data)
        args = ", ".join(map(repr, self.kids))
        if self.op == "pow":
            return f"pow({args}, {self.data})"
        if self.op == "fun":
            return f"{self.data}({args})"
        return f"{self.op}({args})"

    def __eq__(self, other):
        return (isinstance(other, Node) and (self.op, self.kids, self.shape, self.data)
                == (other.op, other.kids, other.shape, other.data))

    def __hash__(self):
        return hash((self.op, self.kids, self.shape, self.data))

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    def depth(self) -> int:
        return 1 + max((k.depth() for k in self.kids), default=-1)

    def size(self) -> int:
        return 1 + sum(k.size() for k in self.kids)


class ShapeMismatch(ValueError):
    pass


def _need(cond: bool, msg: str):
    if not cond:
        raise ShapeMismatch(msg)


# constructors: each checks the shape rule of its operation
def sym(name: str) -> Node:
    return Node("sym", (), SYMBOLS[name][1], name)


def const(value) -> Node:
    value = Fraction(value)
    _need(value > 0, "constants are positive (use neg)")
    return Node("const", (), SCALAR, value)


def add(a: Node, b: Node) -> Node:
    _need(a.shape == b.shape, f"add {a.shape} + {b.shape}")
    return Node("add", (a, b), a.shape)


def sub(a: Node, b: Node) -> Node:
    _need(a.shape == b.shape, f"sub {a.shape} - {b.shape}")
    return Node("sub", (a, b), a.shape)


def neg(a: Node) -> Node:
    return Node("neg", (a,), a.shape)


def matmul(a: Node, b: Node) -> Node:
    _need(not a.is_scalar and not b.is_scalar, "matmul of a scalar: use smul")
    _need(a.shape[1] == b.shape[0], f"matmul {a.shape} @ {b.shape}")
    return Node("matmul", (a, b), (a.shape[0], b.shape[1]))


def smul(s: Node, a: Node) -> Node:
    _need(s.is_scalar, f"smul by a non-scalar {s.shape}")
    return Node("smul", (s, a), a.shape)


def T(a: Node) -> Node:
    _need(not a.is_scalar, "transpose of a scalar")
    return Node("T", (a,), (a.shape[1], a.shape[0]))


def had(a: Node, b: Node) -> Node:
    _need(a.shape == b.shape and not a.is_scalar, f"hadamard {a.shape} ⊙ {b.shape}")
    return Node("had", (a, b), a.shape)


def div(a: Node, s: Node) -> Node:
    _need(s.is_scalar, "division by a non-scalar")
    return Node("div", (a, s), a.shape)


def pow_(s: Node, k: int) -> Node:
    _need(s.is_scalar and k in (2, 3), "pow of a scalar, exponent 2 or 3")
    return Node("pow", (s,), SCALAR, k)


def sqrt(s: Node) -> Node:
    _need(s.is_scalar, "sqrt of a scalar")
    return Node("sqrt", (s,), SCALAR)


def fun(name: str, a: Node) -> Node:
    if name == "log":
        _need(a.is_scalar, "log of a scalar")
    else:
        _need(name in ELEMENTWISE, name)
        _need(a.shape[1] == 1, f"{name} of a column vector or scalar, not {a.shape}")
    return Node("fun", (a,), a.shape, name)


def tr(a: Node) -> Node:
    _need(a.shape[0] == a.shape[1] and not a.is_scalar, f"trace of {a.shape}")
    return Node("tr", (a,), SCALAR)


def normsq(v: Node) -> Node:
    _need(v.shape[1] == 1 and not v.is_scalar, f"norm of {v.shape}")
    return Node("normsq", (v,), SCALAR)


def norm(v: Node) -> Node:
    _need(v.shape[1] == 1 and not v.is_scalar, f"norm of {v.shape}")
    return Node("norm", (v,), SCALAR)


def inv(a: Node) -> Node:
    base = a.kids[0] if a.op == "T" else a
    _need(base.op == "sym" and base.data in SQUARE, "inverse of a well-conditioned square symbol")
    return Node("inv", (a,), a.shape)


def symbols_of(node: Node) -> set[str]:
    if node.op == "sym":
        return {node.data}
    out = set()
    for k in node.kids:
        out |= symbols_of(k)
    return out


def concrete_shape(shape: tuple, sizes: dict = SIZES) -> tuple[int, int]:
    return tuple(sizes[d] if isinstance(d, str) else d for d in shape)


# ------------------------------------------------------------------------------ generator
_SHAPE_WEIGHTS = [(SCALAR, 40), (("n", 1), 22), (("m", 1), 5), (("n", "n"), 14),
                  (("m", "n"), 5), ((1, "n"), 5), (("n", "m"), 3), (("m", "m"), 2)]


class TreeGen:
    """Random well-shaped trees of height about ``max_depth`` (leaves that need a
    construction, e.g. an m×m matrix M Mᵀ, may add a level)."""

    def __init__(self, rng: random.Random, max_depth: int = 4):
        self.rng, self.max_depth = rng, max_depth

    def _pick(self, options):
        total = sum(w for w, _ in options)
        r = self.rng.uniform(0, total)
        for w, f in options:
            r -= w
            if r <= 0:
                return f
        return options[-1][1]

    def tree(self) -> Node:
        shape = self._pick([(w, s) for s, w in _SHAPE_WEIGHTS])
        return self.expr(shape, self.max_depth)

    # leaves ------------------------------------------------------------------------
    def leaf(self, shape) -> Node:
        r = self.rng
        if shape == SCALAR:
            if r.random() < 0.12:
                return const(r.choice([2, 3, Fraction(1, 2), Fraction(3, 4)]))
            return sym(r.choice(["t", "t", "alpha", "beta", "lambda", "theta"]))
        direct = [n for n, (_, s) in SYMBOLS.items() if s == shape]
        if direct:
            return sym(r.choice(direct))
        flipped = [n for n, (_, s) in SYMBOLS.items() if s == (shape[1], shape[0])]
        if flipped:
            return T(sym(r.choice(flipped)))
        if shape == ("m", "m"):
            return r.choice([lambda: matmul(sym("M"), T(sym("M"))),
                             lambda: matmul(sym("b"), T(sym("b")))])()
        raise AssertionError(shape)

    def pos_leaf(self) -> Node:
        if self.rng.random() < 0.15:
            return const(self.rng.choice([1, 2, Fraction(1, 2)]))
        return sym(self.rng.choice(SCALAR_NAMES))

    # expressions -------------------------------------------------------------------
    def expr(self, shape, d: int) -> Node:
        r = self.rng
        if d <= 0 or r.random() < 0.12 + 0.1 * (self.max_depth - d):
            return self.leaf(shape)
        e = lambda s: self.expr(s, d - 1)                               # noqa: E731
        opts = [
            (3, lambda: add(e(shape), e(shape))),
            (2, lambda: sub(e(shape), e(shape))),
            (1, lambda: neg(e(shape))),
            (3, lambda: smul(e(SCALAR), e(shape))),
            (1.5, lambda: div(e(shape), self.pos(d - 1))),
        ]
        rr, cc = shape
        if shape == SCALAR:
            opts += [
                (5, lambda: self._matmul(shape, d)),
                (2, lambda: pow_(e(SCALAR), r.choice([2, 2, 3]))),
                (1.5, lambda: sqrt(self.pos(d - 1))),
                (3, lambda: fun(r.choice(ELEMENTWISE), e(SCALAR))),
                (1.5, lambda: fun("log", self.pos(d - 1))),
                (2.5, lambda: tr(e(r.choice([("n", "n")] * 4 + [("m", "m")])))),
                (2.5, lambda: normsq(e(r.choice([("n", 1)] * 3 + [("m", 1)])))),
                (1.5, lambda: norm(e(r.choice([("n", 1)] * 3 + [("m", 1)])))),
            ]
        else:
            opts += [
                (5, lambda: self._matmul(shape, d)),
                (2, lambda: T(e((cc, rr)))),
                (2, lambda: had(e(shape), e(shape))),
            ]
            if cc == 1:
                opts.append((3.5, lambda: fun(r.choice(ELEMENTWISE), e(shape))))
            if shape == ("n", "n"):
                opts.append((1.5, lambda: inv(r.choice([sym, lambda n: T(sym(n))])(r.choice(SQUARE)))))
        return self._pick(opts)()

    def _matmul(self, shape, d: int) -> Node:
        rr, cc = shape
        inner = ["n", "n", "n", "m"]
        if rr != 1 and cc != 1:
            inner.append(1)
        k = self.rng.choice(inner)
        return matmul(self.expr((rr, k), d - 1), self.expr((k, cc), d - 1))

    def pos(self, d: int) -> Node:
        """A scalar expression that is positive for positive scalar symbols."""
        r = self.rng
        if d <= 0 or r.random() < 0.3:
            return self.pos_leaf()
        p = lambda: self.pos(d - 1)                                     # noqa: E731
        opts = [
            (2, lambda: add(p(), p())),
            (2, lambda: smul(p(), p())),
            (1, lambda: div(p(), p())),
            (1, lambda: pow_(p(), r.choice([2, 3]))),
            (1, lambda: sqrt(p())),
            (2, lambda: fun(r.choice(["exp", "sigma"]), self.expr(SCALAR, d - 1))),
        ]
        if d >= 2:
            vec = lambda: self.expr(r.choice([("n", 1), ("n", 1), ("m", 1)]), d - 2)   # noqa: E731
            opts += [
                (2.5, lambda: add(normsq(vec()), const(r.choice([1, 1, 2, Fraction(1, 2)])))),
                (1.5, lambda: add(pow_(self.expr(SCALAR, d - 2), 2), const(1))),
            ]
        return self._pick(opts)()


def random_tree(seed: int, max_depth: int = 4) -> Node:
    """A random tree for ``seed`` of height at most ``max_depth`` that involves ``t`` (the cell
    differentiates by t)."""
    rng = random.Random(f"tree-{seed}")
    gen = TreeGen(rng, max_depth)
    for _ in range(100):
        tree = gen.tree()
        if "t" in symbols_of(tree) and 1 <= tree.depth() <= max_depth:
            return tree
    return smul(sym("t"), sym("x"))


# ------------------------------------------------------------------------------ evaluator
def sample_values(names, seed: int, sizes: dict = SIZES) -> dict:
    """Values for the symbols: scalars in [0.5, 1.5] (positive, as ``pos`` assumes), vectors
    and M with N(0, 0.6²) entries, A, B, C = 1.5 I + 0.3 G (well-conditioned)."""
    rng = np.random.default_rng(10_000 + seed)
    out = {}
    for name in sorted(names):
        shape = concrete_shape(SYMBOLS[name][1], sizes)
        if shape == (1, 1):
            out[name] = float(rng.uniform(0.5, 1.5))
        elif name in SQUARE:
            out[name] = 1.5 * np.eye(shape[0]) + 0.3 * rng.standard_normal(shape)
        else:
            out[name] = 0.6 * rng.standard_normal(shape)
    return out


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


_NUMPY_FUN = {"exp": np.exp, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
              "sigma": _sigmoid, "log": np.log}


def evaluate(node: Node, values: dict) -> np.ndarray:
    """The value of the tree as a 2-D float array (a scalar is 1×1)."""
    ev = lambda k: evaluate(k, values)                                  # noqa: E731
    op = node.op
    if op == "sym":
        return np.atleast_2d(np.asarray(values[node.data], dtype=float))
    if op == "const":
        return np.array([[float(node.data)]])
    if op == "add":
        return ev(node.kids[0]) + ev(node.kids[1])
    if op == "sub":
        return ev(node.kids[0]) - ev(node.kids[1])
    if op == "neg":
        return -ev(node.kids[0])
    if op == "matmul":
        return ev(node.kids[0]) @ ev(node.kids[1])
    if op == "smul":
        return ev(node.kids[0])[0, 0] * ev(node.kids[1])
    if op == "T":
        return ev(node.kids[0]).T
    if op == "had":
        return ev(node.kids[0]) * ev(node.kids[1])
    if op == "div":
        return ev(node.kids[0]) / ev(node.kids[1])[0, 0]
    if op == "pow":
        return ev(node.kids[0]) ** node.data
    if op == "sqrt":
        return np.sqrt(ev(node.kids[0]))
    if op == "fun":
        return _NUMPY_FUN[node.data](ev(node.kids[0]))
    if op == "tr":
        return np.array([[np.trace(ev(node.kids[0]))]])
    if op == "normsq":
        v = ev(node.kids[0])
        return v.T @ v
    if op == "norm":
        return np.array([[np.linalg.norm(ev(node.kids[0]))]])
    if op == "inv":
        return np.linalg.inv(ev(node.kids[0]))
    raise AssertionError(op)


# ------------------------------------------------------------------------------ printer
ADD, NEG, HAD, MUL, ATOM, PRIMARY = 1, 2, 3, 4, 5, 6
# ADD: a + b, a - b       NEG: -a          HAD: a \odot b      MUL: juxtaposition, \cdot
# ATOM: closed forms that carry a superscript or are fractions/functions (x^T, \frac.., \exp(..))
# PRIMARY: may take a superscript as they are (symbols, integers, \|v\|_2, parenthesized)

TRANSPOSES = ("^T", r"^\top", r"^{\mathsf T}", r"^{\top}", "^{T}", r"^\mathsf{T}", r"^\intercal")
PARENS = (("(", ")"), (r"\left(", r"\right)"), (r"\big(", r"\big)"), (r"\Big(", r"\Big)"))
FRACS = (r"\frac", r"\tfrac", r"\dfrac")
SPACES = (r"\,", r"\:", r"\;", r"\!", "~", "\\ ", " ", "  ")
TRACES = (r"\operatorname{tr}", r"\mathrm{tr}", r"\text{tr}", r"\operatorname{Tr}")
BOLD_LATIN = (r"\mathbf{%s}", r"\mathbf %s", r"\boldsymbol{%s}", r"\boldsymbol %s")
BOLD_GREEK = (r"\boldsymbol{%s}", r"\boldsymbol%s")
NORMSQ = (r"\|{}\|^2", r"\|{}\|_2^2", r"\|{}\|^{{2}}", r"\|{}\|_2^{{2}}", r"\lVert {}\rVert^2",
          r"\left\|{}\right\|^2", r"\left\| {} \right\|_2^2")
NORM = (r"\|{}\|_2", r"\|{}\|", r"\lVert {}\rVert_2", r"\left\|{}\right\|_2")


@dataclass(frozen=True)
class Style:
    """How one tree is written. Style 0 is the plain canonical one (used by the printer's
    own unit tests): braces everywhere, ``\\frac``, ``^T``, ``( )``, ``\\operatorname{tr}``,
    ``\\exp(..)``, ``\\|v\\|^2``, ``\\|v\\|_2``, no spacing, no bold, no extra parentheses."""
    index: int = 0
    fracs: tuple = (r"\frac",)
    brace_free: float = 0.0      # omit braces around single-token arguments (\frac12, x^2, e^t)
    transposes: tuple = ("^T",)
    parens: tuple = (("(", ")"),)
    spacing: float = 0.0         # chance of a spacing command at each join point
    bold: float = 0.0
    traces: tuple = (r"\operatorname{tr}",)
    bare_fn: float = 0.0         # \exp x, \mathrm{tr}\,A without parentheses (single symbol)
    redundant: float = 0.0       # extra parentheses
    e_power: float = 0.0         # e^{s} for \exp(s) of a scalar
    ln: float = 0.0              # \ln for \log
    cdot: float = 0.0            # \cdot between a scalar factor and the rest
    flatten: float = 0.0         # ABx for A(Bx), a + b + c for a + (b + c)
    minus_T: float = 0.0         # A^{-T} for (A^{-1})^T and (A^T)^{-1}
    normsq: tuple = (NORMSQ[0],)
    norm: tuple = (NORM[0],)
    decl_one_line: bool = False  # declarations on one line, separated by ",\;"


def make_style(index: int) -> Style:
    if index == 0:
        return Style()
    r = random.Random(f"style-{index}")

    def subset(options, k_max=None):
        k = r.randint(1, k_max or len(options))
        return tuple(r.sample(list(options), k))

    return Style(
        index=index,
        fracs=subset(FRACS),
        brace_free=r.choice([0.3, 0.7, 1.0]),
        transposes=subset(TRANSPOSES, 3),
        parens=subset(PARENS, 2),
        spacing=r.choice([0.0, 0.15, 0.4]),
        bold=r.choice([0.0, 0.3, 0.8]),
        traces=subset(TRACES, 2),
        bare_fn=r.choice([0.0, 0.5, 1.0]),
        redundant=r.choice([0.0, 0.1, 0.25]),
        e_power=r.choice([0.0, 0.5]),
        ln=r.choice([0.0, 0.5]),
        cdot=r.choice([0.0, 0.0, 0.3]),
        flatten=r.choice([0.0, 0.5, 1.0]),
        minus_T=r.choice([0.0, 0.5]),
        normsq=subset(NORMSQ, 3),
        norm=subset(NORM, 2),
        decl_one_line=r.random() < 0.3,
    )


_CTRL_WORD_END = re.compile(r"\\[A-Za-z]+$")
_SINGLE_TOKEN = re.compile(r"^(?:[A-Za-z0-9]|\\[A-Za-z]+)$")


def cat(*parts: str) -> str:
    """Concatenate TeX pieces, with a space where a control word would run into a letter."""
    out = ""
    for p in parts:
        if p and out and _CTRL_WORD_END.search(out) and p[0].isalpha():
            out += " "
        out += p
    return out


def _starts_numeric(text: str) -> bool:
    s = text.lstrip(" ~")
    return bool(re.match(r"(\d|\\[td]?frac\s*\d|\\[td]?frac\s*\{\s*\d|\\sqrt\s*\{?\s*\d)", s))


def _has_matrix_factor(node: Node) -> bool:
    """Whether ``node`` prints as a juxtaposition with a non-scalar factor (``x^T y``)."""
    if node.op == "matmul":
        return True
    return node.op == "smul" and any(_has_matrix_factor(k) for k in node.kids)


class Printer:
    def __init__(self, style: Style, rng: random.Random):
        self.s, self.r = style, rng
        self.norm_depth = 0

    # small random choices ------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return p > 0 and self.r.random() < p

    def sp(self) -> str:
        return self.r.choice(SPACES) if self.chance(self.s.spacing) else ""

    def paren(self, text: str) -> str:
        left, right = self.r.choice(self.s.parens)
        return cat(left, self.sp(), text, self.sp(), right)

    def braced(self, text: str) -> str:
        """An argument: ``{text}``, or bare when it is a single token and the style allows."""
        if _SINGLE_TOKEN.match(text) and self.chance(self.s.brace_free):
            return text
        return "{" + text + "}"

    def wrap(self, node: Node, min_prec: int, closed: bool) -> str:
        text, prec = self.p(node, closed)
        # never (x) or (2) around a lone symbol or number: after a juxtaposition, A(x) reads
        # as a function call
        if prec < min_prec or node.op not in ("sym", "const") and self.chance(self.s.redundant):
            return self.paren(text)
        return text

    def latex(self, node: Node) -> str:
        return self.wrap(node, 0, False)

    # nodes -------------------------------------------------------------------------
    def p(self, node: Node, closed: bool) -> tuple[str, int]:
        """(text, precedence) of ``node``; ``closed``: something will be juxtaposed right
        after it, so it must not end in an argument without parentheses (``\\exp x``)."""
        return getattr(self, "p_" + node.op)(node, closed)

    def p_sym(self, node, closed):
        tex = SYMBOLS[node.data][0]
        if node.data != "t" and self.chance(self.s.bold):
            tex = self.r.choice(BOLD_GREEK if tex.startswith("\\") else BOLD_LATIN) % tex
        return tex, PRIMARY

    def frac(self, num: str, den: str) -> str:
        return cat(self.r.choice(self.s.fracs), self.braced(num), self.braced(den))

    def p_const(self, node, closed):
        v = node.data
        if v.denominator == 1:
            return str(v.numerator), PRIMARY
        return self.frac(str(v.numerator), str(v.denominator)), ATOM

    def binary(self, left: str, op: str, right: str) -> str:
        return cat(left, self.sp() or " ", op, self.sp() or " ", right)

    def p_add(self, node, closed):
        a, b = node.kids
        right_min = ADD if (b.op == "add" and node.op == "add" and self.chance(self.s.flatten)) else HAD
        right = self.wrap(b, right_min, closed)
        if re.match(r"(\\[,:;! ]|[~ ])*-", right):           # a + b flattened into a + -c + d
            right = self.paren(right)
        return self.binary(self.wrap(a, ADD, False), "+" if node.op == "add" else "-", right), ADD

    p_sub = p_add

    def p_neg(self, node, closed):
        return cat("-", self.sp(), self.wrap(node.kids[0], MUL, closed)), NEG

    def p_had(self, node, closed):
        a, b = node.kids
        return self.binary(self.wrap(a, ATOM, True), r"\odot", self.wrap(b, ATOM, closed)), HAD

    def p_matmul(self, node, closed):
        a, b = node.kids
        # (x^T y) z: a scalar that is a matrix product is parenthesized before a non-scalar
        left = self.wrap(a, ATOM if node.op == "smul" and not b.is_scalar
                         and _has_matrix_factor(a) else MUL, True)
        flat = b.op in ("matmul", "smul") and self.chance(self.s.flatten)
        right, prec = self.p(b, closed)
        numeric = _starts_numeric(right)     # 2\frac12 would read as a mixed number, A2x is odd
        if prec < (MUL if flat else ATOM) or (numeric and node.op == "matmul") \
                or b.op not in ("sym", "const") and self.chance(self.s.redundant):
            right = self.paren(right)
        if node.op == "smul" and (_starts_numeric(right) or self.chance(self.s.cdot)):
            return self.binary(left, r"\cdot", right), MUL
        return cat(left, self.sp(), right), MUL

    p_smul = p_matmul

    def p_T(self, node, closed):
        kid = node.kids[0]
        if kid.op == "inv" and kid.kids[0].op == "sym" and self.chance(self.s.minus_T):
            return cat(self.p(kid.kids[0], True)[0], "^{-T}"), ATOM
        return cat(self.wrap(kid, PRIMARY, True), self.r.choice(self.s.transposes)), ATOM

    def p_inv(self, node, closed):
        kid = node.kids[0]
        if kid.op == "T" and self.chance(self.s.minus_T):
            return cat(self.p(kid.kids[0], True)[0], "^{-T}"), ATOM
        return cat(self.wrap(kid, PRIMARY, True), "^{-1}"), ATOM

    def p_div(self, node, closed):
        a, b = node.kids
        return self.frac(self.p(a, False)[0], self.p(b, False)[0]), ATOM

    def p_pow(self, node, closed):
        return cat(self.wrap(node.kids[0], PRIMARY, True), "^", self.braced(str(node.data))), ATOM

    def p_sqrt(self, node, closed):
        return cat(r"\sqrt", self.braced(self.p(node.kids[0], False)[0])), ATOM

    def call(self, name: str, node: Node, closed: bool) -> tuple[str, int]:
        """``name(arg)`` or, for a single symbol and not ``closed``, ``name arg``."""
        arg = node.kids[0]
        if arg.op == "sym" and not closed and name != r"\sigma" and self.chance(self.s.bare_fn):
            return cat(name, self.sp(), self.p(arg, False)[0]), ATOM
        sep = self.sp() if self.chance(self.s.spacing) else ""
        return cat(name, sep, self.paren(self.p(arg, False)[0])), ATOM

    def p_fun(self, node, closed):
        name, arg = node.data, node.kids[0]
        if name == "exp" and arg.is_scalar and self.chance(self.s.e_power):
            return cat("e^", self.braced(self.p(arg, False)[0])), ATOM
        tex = {"exp": r"\exp", "tanh": r"\tanh", "sin": r"\sin", "cos": r"\cos",
               "sigma": r"\sigma", "log": r"\log"}[name]
        if name == "log" and self.chance(self.s.ln):
            tex = r"\ln"
        return self.call(tex, node, closed)

    def p_tr(self, node, closed):
        return self.call(self.r.choice(self.s.traces), node, closed)

    def _norm(self, node, forms) -> str:
        self.norm_depth += 1
        inner = self.p(node.kids[0], False)[0]
        self.norm_depth -= 1
        form = self.r.choice(forms)
        if self.norm_depth > 0 and form.startswith(r"\|"):
            form = r"\lVert " + form[2:].replace(r"\|", r"\rVert", 1)   # nested: unambiguous bars
        return form.format(inner)

    def p_normsq(self, node, closed):
        return self._norm(node, self.s.normsq), ATOM

    def p_norm(self, node, closed):
        return self._norm(node, self.s.norm), PRIMARY


def to_latex(node: Node, style: int | Style = 0, seed: int = 0) -> str:
    """``node`` printed in ``style`` (an index or a ``Style``); ``seed`` drives the choices the
    style leaves open."""
    st = style if isinstance(style, Style) else make_style(style)
    return Printer(st, random.Random(f"print-{seed}-{st.index}")).latex(node)


def declaration(name: str) -> str:
    tex, shape = SYMBOLS[name]
    if shape == SCALAR:
        return rf"{tex} \in \mathbb{{R}}"
    if shape[1] == 1:
        return rf"{tex} \in \mathbb{{R}}^{{{shape[0]}}}"
    return rf"{tex} \in \mathbb{{R}}^{{{shape[0]} \times {shape[1]}}}"


def declarations(names, style: int | Style = 0) -> str:
    st = style if isinstance(style, Style) else make_style(style)
    lines = [declaration(n) for n in sorted(names)]
    return (r",\; ".join(lines)) if st.decl_one_line else "\n".join(lines)
