"""The expression model every stage shares: immutable nodes with a shape.

A shape is ``(rows, cols)``; a dimension is an ``int`` or a name (``"m"``). Scalars are
``(1, 1)``. Nodes are hashable and compared structurally, so a common sub-expression
is one object for evaluation and one entry for the simplifier. The operations
themselves, each with its differentiation rule beside it, live in ``rules/``.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from .limits import tick

Dim = int | str
Shape = tuple[Dim, Dim]
SCALAR: Shape = (1, 1)


class InternalShapeError(Exception):
    """Two internally built operands do not fit: a bug, never the user's input."""


def fmt_dim(d: Dim) -> str:
    return str(d).replace("*", "")  # a product of dimensions, m*n, reads mn


def fmt_shape(shape: Shape) -> str:
    return f"{fmt_dim(shape[0])}×{fmt_dim(shape[1])}"


class Expr:
    """A node: ``args`` are children, ``shape`` its shape, ``key`` its structural identity."""

    __slots__ = ("args", "shape", "key", "_hash", "_free", "_sort")
    prec = 100  # binding strength for printing: atoms bind tightest
    rule = ""   # the name of this operation's differentiation rule, shown as a step label
    linear = False  # linear in its arguments (so it may appear in a differential)

    def __init__(self, args: tuple, shape: Shape, extra=()):
        self.args = args
        self.shape = shape
        # children by reference: hashing and comparing a node costs O(its own size), not its subtree's
        self.key = (type(self).__name__, extra, args)
        self._hash = hash((type(self).__name__, extra, tuple(a._hash for a in args)))
        self._free = None
        self._sort = None

    def __eq__(self, other):
        return self is other or (isinstance(other, Expr) and self._hash == other._hash and self.key == other.key)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        from .render import to_text
        return to_text(self)

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    @property
    def free(self) -> frozenset:
        """The symbols this expression depends on."""
        if self._free is None:
            out = frozenset()
            for a in self.args:
                out |= a.free
            self._free = out
        return self._free

    def depends(self, sym) -> bool:
        return sym in self.free

    def sort_key(self) -> tuple:
        """A total order for canonical forms (cached; compared lazily, child by child)."""
        if self._sort is None:
            self._sort = (type(self).__name__, repr(self.key[1]), tuple(a.sort_key() for a in self.args))
        return self._sort

    # --- what each operation supplies
    def differential(self, ds: list):
        """d(self) given the differentials ``ds`` of the arguments (``None`` is zero)."""
        raise NotImplementedError(type(self).__name__)

    def vjp(self, seed: "Expr", i: int) -> "Expr":
        """Adjoint of argument ``i`` of a linear operation, given the adjoint ``seed`` of self."""
        raise NotImplementedError(f"{type(self).__name__} is not linear")

    def evaluate(self, vals: list):
        raise NotImplementedError(type(self).__name__)

    def to_sympy(self, sargs: list, ctx):
        raise NotImplementedError(type(self).__name__)

    def rebuild(self, args: list) -> "Expr":
        """The same operation on new arguments, through its simplifying constructor."""
        raise NotImplementedError(type(self).__name__)


class Sym(Expr):
    """A symbol: a scalar, vector or matrix with properties (symmetric, spd)."""

    __slots__ = ("name", "tex", "props")

    def __init__(self, name: str, shape: Shape, tex: str | None = None, props: frozenset = frozenset()):
        self.name = name
        self.tex = tex or name
        self.props = frozenset(props)
        super().__init__((), shape, (name, shape, tuple(sorted(self.props))))
        self._free = frozenset([self])

    @property
    def symmetric(self) -> bool:
        return bool(self.props & {"symmetric", "spd"})

    def rebuild(self, args):
        return self

    def evaluate(self, vals):
        raise KeyError(self.name)

    def to_sympy(self, sargs, ctx):
        return ctx.symbol(self)


class Num(Expr):
    """An exact rational constant (a scalar)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = Fraction(value)
        super().__init__((), SCALAR, (self.value,))
        self._free = frozenset()

    def rebuild(self, args):
        return self

    def evaluate(self, vals):
        return np.full((1, 1), float(self.value))

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Rational(self.value.numerator, self.value.denominator)


class Identity(Expr):
    __slots__ = ()

    def __init__(self, n: Dim):
        super().__init__((), (n, n), (n,))
        self._free = frozenset()

    def rebuild(self, args):
        return self

    def evaluate(self, vals, dims=None):
        raise NotImplementedError  # needs sizes: handled by the evaluator

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Identity(ctx.dim(self.shape[0]))


class Ones(Expr):
    """The all-ones vector or matrix (``\\mathbf{1}``)."""

    __slots__ = ()

    def __init__(self, shape: Shape):
        super().__init__((), shape, (shape,))
        self._free = frozenset()

    def rebuild(self, args):
        return self

    def to_sympy(self, sargs, ctx):
        import sympy
        if self.shape == SCALAR:
            return sympy.Integer(1)
        return sympy.OneMatrix(ctx.dim(self.shape[0]), ctx.dim(self.shape[1]))


class Zero(Expr):
    __slots__ = ()

    def __init__(self, shape: Shape):
        super().__init__((), shape, (shape,))
        self._free = frozenset()

    def rebuild(self, args):
        return self

    def to_sympy(self, sargs, ctx):
        import sympy
        if self.shape == SCALAR:
            return sympy.Integer(0)
        return sympy.ZeroMatrix(ctx.dim(self.shape[0]), ctx.dim(self.shape[1]))


ONE = Num(1)
ZERO_SCALAR = Num(0)


def zero(shape: Shape) -> Expr:
    return ZERO_SCALAR if shape == SCALAR else Zero(shape)


def ones(shape: Shape) -> Expr:
    return ONE if shape == SCALAR else Ones(shape)


def is_zero(e: Expr) -> bool:
    return isinstance(e, Zero) or (isinstance(e, Num) and e.value == 0)


@lru_cache(maxsize=4096)
def postorder(root: Expr) -> tuple:
    """Every distinct node once, children before parents (cached: expressions are immutable)."""
    seen, out, stack = set(), [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((a, False) for a in reversed(node.args))
    tick(len(out))
    return tuple(out)


def size(root: Expr) -> int:
    """Number of distinct operations (shared sub-expressions counted once)."""
    return len(postorder(root))


def substitute(root: Expr, mapping: dict) -> Expr:
    """Replace sub-expressions (usually symbols) and rebuild through the simplifying constructors."""
    memo = dict(mapping)
    keys = frozenset(k for k in mapping if isinstance(k, Sym))
    for node in postorder(root):
        if node in memo:
            continue
        if keys and not (node.free & keys) and not any(a in memo and memo[a] is not a for a in node.args):
            memo[node] = node
            continue
        new_args = [memo[a] for a in node.args]
        memo[node] = node if all(n is o for n, o in zip(new_args, node.args)) else node.rebuild(new_args)
    return memo[root]
