"""The expression model every stage shares: immutable nodes with a shape.

A shape is ``(rows, cols)``; a dimension is an ``int`` or a name (``"m"``). Scalars are
``(1, 1)``. Nodes are hashable and compared structurally, so a common sub-expression
is one object for evaluation and one entry for the simplifier. Each node carries a digest
of its whole structure (its operation, its own data and its children's digests), so
comparing two nodes costs O(1) however large or shared they are; building a node counts
as work against the cell's budget. The operations
themselves, each with its differentiation rule beside it, live in ``rules/``.
"""
from __future__ import annotations

import hashlib
import numbers
from fractions import Fraction

import numpy as np

from .limits import check_number, scoped, tick

Dim = int | str
Shape = tuple[Dim, Dim]
SCALAR: Shape = (1, 1)


class InternalShapeError(Exception):
    """Two internally built operands do not fit: a bug, never the user's input."""


def fmt_dim(d: Dim, latex: bool = False) -> str:
    """A dimension as printed: a product ``m*n`` reads mn, a repeated factor as a power (m*m: m²)."""
    factors = str(d).split("*")
    out = ""
    for f in dict.fromkeys(factors):
        k = factors.count(f)
        out += f if k == 1 else (f"{f}^{{{k}}}" if latex else f + str(k).translate(_SUPERSCRIPT))
    return out


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_shape(shape: Shape) -> str:
    return f"{fmt_dim(shape[0])}×{fmt_dim(shape[1])}"


class Expr:
    """A node: ``args`` are children, ``shape`` its shape, ``key`` its structural identity."""

    __slots__ = ("args", "shape", "key", "digest", "_hash", "_free", "_sort")
    prec = 100  # binding strength for printing: atoms bind tightest
    rule = ""   # the name of this operation's differentiation rule, shown as a step label
    linear = False  # linear in its arguments (so it may appear in a differential)

    def __init__(self, args: tuple, shape: Shape, extra=()):
        tick(3 + len(args))   # building a node (its digest, the rule that made it) is the unit of work
        self.args = args
        self.shape = shape
        self.key = (type(self).__name__, extra, args)
        # a digest of the whole structure from the children's digests: hashing and comparing a
        # node costs O(its own arguments), never a walk of its subtree (which is exponential in
        # the depth of a shared DAG)
        name = type(self).__name__
        head = _HEADS.get(name) if not extra else None
        if head is None:
            head = _encode((name, extra)).encode("utf-8", "surrogatepass")
            if not extra:
                _HEADS[name] = head
        h = _blake2b(head, digest_size=16)
        for a in args:
            h.update(a.digest)
        self.digest = h.digest()
        self._hash = int.from_bytes(self.digest[:8], "little", signed=True)
        self._free = None
        self._sort = None

    def __eq__(self, other):
        return self is other or (isinstance(other, Expr) and self.digest == other.digest)

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


_blake2b = hashlib.blake2b
_HEADS: dict[str, bytes] = {}   # the encoded (operation, ()) of each class: a constant per class


def _encode(x) -> str:
    """An unambiguous text for a node's own data (names, shapes, exact numbers); equal data,
    however typed (``2``, ``Fraction(2)``, ``np.int64(2)``), gives equal text. Exact numbers
    are bounded first (``LIMITS['number']``)."""
    if isinstance(x, str):
        return repr(x)
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, numbers.Rational):
        check_number(x)
        return f"{int(x.numerator)}/{int(x.denominator)}"
    if isinstance(x, (tuple, list)):
        return "(" + ",".join(_encode(a) for a in x) + ")"
    if isinstance(x, (frozenset, set)):
        return "{" + ",".join(sorted(_encode(a) for a in x)) + "}"
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, Expr):
        return "#" + x.digest.hex()
    return type(x).__name__ + ":" + repr(x)


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
        from .sympyexplicit import Ones
        return Ones(ctx.dim(self.shape[0]), ctx.dim(self.shape[1]))


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


def postorder(root: Expr) -> tuple:
    """Every distinct node once, children before parents. Cached for as long as the cell's
    budget (``limits.scoped``), by identity: no cell sees what another one computed."""
    memo = scoped("postorder")
    if memo is not None:
        hit = memo.get(id(root))
        if hit is not None and hit[0] is root:
            return hit[1]
    out = _postorder(root)
    if memo is not None:
        memo[id(root)] = (root, out)
    return out


def _postorder(root: Expr) -> tuple:
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
