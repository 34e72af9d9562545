"""Declarations of structure a course uses for a vector: a probability vector
(``y \\in \\Delta^n``: entries ≥ 0 summing to 1), entries summing to one (``\\mathbf{1}^T y = 1``)
and a one-hot vector (``y \\in \\{0,1\\}^n`` with ``\\mathbf{1}^T y = 1``, or ``e_y`` for an entry at
a class label, ``softmax(z)_y = e_yᵀ softmax(z)``: ``labels.py``).

Each is a property of the symbol (``Sym.props``) with three effects: what simplification may
use (``𝟏ᵀy = 1``; ``y ⊙ y = y``, ``yᵀy = 1``, ``y yᵀ = diag(y)`` and ``v ⊙ y = (yᵀv) y`` when
one-hot), how the numeric check and the claims judge draw the symbol (on the simplex, or one-hot),
and how a false claim that holds under it says so ("holds when 𝟏ᵀy = 1")."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from .expr import Expr, Num, Ones, Sym

SIMPLEX = "simplex"     # entries ≥ 0, summing to 1
SUMS_TO_ONE = "sum1"    # entries summing to 1
BINARY = "binary"       # entries 0 or 1
ONE_HOT = "onehot"      # one entry 1, the others 0
LABEL = "label"         # the one-hot vector e_y of a class label y (with ONE_HOT)
STRUCTURES = frozenset({SIMPLEX, SUMS_TO_ONE, BINARY, ONE_HOT})
SYMMETRY = frozenset({"symmetric", "spd"})   # S ∈ 𝕊ⁿ, S = Sᵀ, "where S is symmetric"
SUMMING = frozenset({SIMPLEX, SUMS_TO_ONE, ONE_HOT})

WORDS = {SIMPLEX: "a probability vector", SUMS_TO_ONE: "entries summing to 1",
         BINARY: "entries 0 or 1", ONE_HOT: "one-hot"}


def combined(props: frozenset) -> frozenset:
    """Binary entries that sum to one are one-hot."""
    if BINARY in props and props & SUMMING:
        return props | {ONE_HOT}
    return props


def sums_to_one(e: Expr) -> bool:
    return isinstance(e, Sym) and e.shape[1] == 1 and bool(e.props & SUMMING) and _usable(e)


def one_hot(e: Expr) -> bool:
    return isinstance(e, Sym) and ONE_HOT in e.props and _usable(e)


def binary(e: Expr) -> bool:
    return isinstance(e, Sym) and bool(e.props & {ONE_HOT, BINARY}) and _usable(e)


def _usable(s: Sym) -> bool:
    """Whether simplification may use the structure of ``s`` (it is not ``kept``)."""
    return s.name not in _KEPT.get()


def label_vector(e: Expr) -> bool:
    """Whether ``e`` is the one-hot vector of a class label (exported as the integer label)."""
    return isinstance(e, Sym) and LABEL in e.props


_KEPT: ContextVar[frozenset] = ContextVar("derivmagic_structure_kept", default=frozenset())


@contextmanager
def kept(*symbols: Sym):
    """Inside the block, simplification leaves these symbols' structure unused: an expression that is
    differentiated again by y keeps 𝟏ᵀy (replaced by 1 it would lose its derivative 𝟏ᵀdy)."""
    token = _KEPT.set(_KEPT.get() | {s.name for s in symbols})
    try:
        yield
    finally:
        _KEPT.reset(token)


def kept_names() -> frozenset:
    return _KEPT.get()


def simplified(e: Expr) -> Expr | None:
    """What a declared structure makes of ``e``: ``𝟏ᵀy`` and ``yᵀ𝟏`` are 1 for a vector summing to
    one; ``y^{∘k}`` is ``y`` for entries 0 or 1 (k > 0); for a one-hot column y, ``yᵀy`` is 1,
    ``y yᵀ`` is ``diag(y)`` and ``v ⊙ y`` is ``(yᵀv) y`` (v's entry at y's one, in its place). None
    when nothing applies; a ``kept`` symbol's structure is never used."""
    from .rules.elementwise import Hadamard, Pow, hadamard
    from .rules.linear import Mul, Transpose, mul, transpose
    if isinstance(e, Mul) and e.is_scalar and len(e.chain) == 2 and e.coeff == 1 and not e.scalars:
        a, b = e.chain
        if isinstance(a, Transpose) and isinstance(a.args[0], Ones) and sums_to_one(b):
            return Num(1)
        if isinstance(b, Ones) and isinstance(a, Transpose) and sums_to_one(a.args[0]):
            return Num(1)
        if isinstance(a, Transpose) and a.args[0] == b and one_hot(b) and b.shape[1] == 1:
            return Num(1)
    if isinstance(e, Mul) and len(e.chain) == 2 and isinstance(e.chain[1], Transpose) \
            and e.chain[1].args[0] == e.chain[0] and one_hot(e.chain[0]) and e.chain[0].shape[1] == 1:
        from .rules.elementwise import diag
        return mul(Num(e.coeff), *e.scalars, diag(e.chain[0]))   # y yᵀ = diag(y)
    if isinstance(e, Hadamard) and e.shape[1] == 1:
        hot = next((a for a in e.args if one_hot(a)), None)
        if hot is not None:
            rest = [a for a in e.args if a is not hot]
            return mul(transpose(hot), hadamard(*rest), hot)
    if isinstance(e, Pow) and e.exponent > 0 and e.exponent.denominator == 1 and binary(e.args[0]):
        return e.args[0]
    return None


def sample(sym: Sym, rows: int, cols: int, rng, integers: bool = False) -> np.ndarray | None:
    """Values of ``sym`` with its declared structure (each column for a matrix), else None."""
    props = sym.props & STRUCTURES
    if not props:
        return None
    if props & {ONE_HOT}:
        out = np.zeros((rows, cols))
        out[rng.integers(0, rows, cols), np.arange(cols)] = 1.0
        return out
    if BINARY in props:
        return rng.integers(0, 2, (rows, cols)).astype(float)
    if SIMPLEX in props:
        weights = rng.integers(1, 4, (rows, cols)) if integers else rng.gamma(1.0, 1.0, (rows, cols)) + 1e-3
        return weights / weights.sum(axis=0, keepdims=True)
    m = rng.integers(-3, 4, (rows, cols)).astype(float) if integers else rng.standard_normal((rows, cols))
    m[-1] = 1.0 - m[:-1].sum(axis=0)      # entries summing to one
    return m


# ---------------------------------------------------------------- reading the declarations
def sum_declaration(sides: list):
    """``\\mathbf{1}^T y = 1`` (or ``y^T \\mathbf{1} = 1``) as a declaration that y's entries sum to
    one (a column of a size the cell decides); None for any other equation."""
    from .syntax import Declaration
    if len(sides) != 2:
        return None
    lhs, rhs = sides
    if rhs.kind == "mul":
        lhs, rhs = rhs, lhs
    if rhs.kind != "num" or rhs.value != 1 or lhs.kind != "mul" or len(lhs.args) != 2:
        return None
    a, b = lhs.args
    if _transposed(a) and _ones(a.args[0]) and b.kind == "name":
        y = b
    elif _transposed(a) and a.args[0].kind == "name" and _ones(b):
        y = a.args[0]
    else:
        return None
    return Declaration([y], (None, 1), frozenset({SUMS_TO_ONE}), min(lhs.pos, rhs.pos), max(lhs.end, rhs.end))


def symmetric_declaration(sides: list):
    """``S = S^T`` (or ``S^T = S``) as the declaration S ∈ 𝕊ⁿ (a square matrix of a size the cell
    decides); None for any other equation."""
    from .syntax import Declaration
    if len(sides) != 2:
        return None
    lhs, rhs = sides
    if _transposed(lhs):
        lhs, rhs = rhs, lhs
    if lhs.kind != "name" or not _transposed(rhs) or rhs.args[0].kind != "name" or rhs.args[0].value != lhs.value:
        return None
    return Declaration([lhs], (None, None), frozenset({"symmetric"}), min(lhs.pos, rhs.pos), max(lhs.end, rhs.end),
                       stated=True)


def _transposed(node) -> bool:
    t = node.args[1] if node.kind == "pow" else None
    return t is not None and (t.kind == "top" or t.kind == "name" and t.value == "T")


def _ones(node) -> bool:
    return node.kind == "font_one" and node.value == "1"


def merged(first: tuple, second: tuple) -> tuple | None:
    """Two declarations of one name, ``((rows, cols), props)``, as one when either declares a structure
    or symmetry and their shapes agree where both give them (``y \\in \\mathbb{R}^n`` and
    ``\\mathbf{1}^T y = 1``; ``\\{0,1\\}^n`` and a sum of one: one-hot; ``S \\in \\mathbb{R}^{n \\times n}`` and
    ``S = S^T``); None when they contradict each other."""
    (s1, p1), (s2, p2) = first, second
    if not (p1 | p2) & (STRUCTURES | SYMMETRY):
        return None
    shape = []
    for a, b in zip(s1, s2):
        if a is not None and b is not None and a != b:
            return None
        shape.append(a if a is not None else b)
    if (p1 | p2) & SYMMETRY and None not in shape and shape[0] != shape[1]:
        return None   # symmetric, and not square
    return tuple(shape), combined(p1 | p2)


def space(s: Sym, latex: bool) -> str | None:
    """How the Interpretation names the space of a symbol with a declared structure, else None."""
    props = combined(s.props & STRUCTURES)
    if not props or s.shape[1] != 1:
        return None
    n = s.shape[0]
    if SIMPLEX in props and ONE_HOT not in props:
        return rf"\Delta^{{{n}}}\ \text{{(a probability vector)}}" if latex else f"Δ^{n} (a probability vector)"
    if LABEL in s.props:
        from .labels import label_of
        label = label_of(s.name) or "?"
        return (rf"\mathbb{{R}}^{{{n}}}\ \text{{(one-hot, of the class label }}{label}\text{{)}}" if latex
                else f"ℝ^{n} (one-hot, of the class label {label})")
    words = WORDS[ONE_HOT if ONE_HOT in props else SUMS_TO_ONE if SUMS_TO_ONE in props else BINARY]
    return rf"\mathbb{{R}}^{{{n}}}\ \text{{({words})}}" if latex else f"ℝ^{n} ({words})"
