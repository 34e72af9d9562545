"""Entries and explicit matrices: ``x_2`` (an entry of the vector x), ``[A]_{ij}``, and
``\\begin{bmatrix} … \\end{bmatrix}`` written entry by entry.

Both are linear, so their rules are one line each:

    d (E)_{ij} = (dE)_{ij}                  (an entry of the differential)
    d [e_{ij}] = [d e_{ij}]                 (the matrix of the entries' differentials)

Indices are 0-based inside and printed 1-based, as the notes write them.
"""
from __future__ import annotations

import numpy as np

from ..expr import SCALAR, Expr, InternalShapeError, Num, Sym, Zero, fmt_shape


class Entry(Expr):
    """``E_{ij}``: one entry of a vector or a matrix, a scalar."""

    __slots__ = ("index",)
    prec = 100
    rule = "an entry is linear"
    linear = True

    def __init__(self, arg: Expr, i: int, j: int):
        self.index = (i, j)
        super().__init__((arg,), SCALAR, (i, j))

    def differential(self, ds):
        return entry(ds[0], *self.index)

    def vjp(self, seed, i):
        from .linear import mul
        rows, cols = self.args[0].shape
        unit = Stack(tuple(Num(1 if k == self.index[0] * cols + self.index[1] else 0) for k in range(rows * cols)),
                     rows, cols)
        return mul(seed, unit)

    def evaluate(self, vals):
        i, j = self.index
        return np.full((1, 1), vals[0][i, j])

    def to_sympy(self, sargs, ctx):
        i, j = self.index
        return sargs[0][i, j]

    def rebuild(self, args):
        return entry(args[0], *self.index)

    def print_with(self, p) -> str:
        arg = self.args[0]
        i, j = self.index
        sub = str(i + 1) if arg.shape[1] == 1 else (str(j + 1) if arg.shape[0] == 1 else f"{i + 1}{j + 1}"
                                                   if max(i, j) < 9 else f"{i + 1},{j + 1}")
        if isinstance(arg, Sym):
            return f"{p(arg)}_{{{sub}}}" if p.latex else f"{p(arg)}_{sub}"
        inner = p(arg)
        return rf"\left[{inner}\right]_{{{sub}}}" if p.latex else f"[{inner}]_{sub}"


def entry(e: Expr, i: int, j: int = 0) -> Expr:
    rows, cols = e.shape
    if not (isinstance(rows, int) and isinstance(cols, int)):
        raise InternalShapeError(f"an entry of a {fmt_shape(e.shape)} value needs its size")
    if not (0 <= i < rows and 0 <= j < cols):
        raise InternalShapeError(f"entry ({i + 1}, {j + 1}) of a {fmt_shape(e.shape)} value")
    if e.is_scalar:
        return e
    from .linear import Add, Mul, Transpose, add, mul
    if isinstance(e, Stack):
        return e.args[i * cols + j]
    if isinstance(e, Zero):
        return Num(0)
    if isinstance(e, Basis):
        return Num(1 if e.index == (i, j) else 0)
    if isinstance(e, Add):
        return add(*[entry(t, i, j) for t in e.args])
    if isinstance(e, Transpose):
        return entry(e.args[0], j, i)
    if isinstance(e, Mul) and len(e.chain) == 1:   # (c s A)_{ij} = c s A_{ij}
        return mul(Num(e.coeff), *e.scalars, entry(e.chain[0], i, j))
    if isinstance(e, Mul) and len(e.chain) == 2 and isinstance(e.chain[1], Basis) and e.chain[1].shape[1] == 1:
        return mul(Num(e.coeff), *e.scalars, entry(e.chain[0], i, e.chain[1].index[0]))   # (A e_k)_i = A_ik
    return Entry(e, i, j)


def merge_stacks(terms: list) -> Expr | None:
    """``a [1; 0] + b [0; 1] = [a; b]``: explicit matrices (times scalars) add entry by entry."""
    from .linear import Mul, add, mul
    parts = []
    for t in terms:
        if isinstance(t, Stack):
            parts.append((Num(1), t))
        elif isinstance(t, Mul) and len(t.chain) == 1 and isinstance(t.chain[0], Stack):
            parts.append((mul(Num(t.coeff), *t.scalars), t.chain[0]))
        else:
            return None
    rows, cols = parts[0][1].shape
    return stack([add(*[mul(f, st.args[k]) for f, st in parts]) for k in range(rows * cols)], rows, cols)


class Stack(Expr):
    """A matrix written entry by entry (``bmatrix``): its arguments are the entries, row by row."""

    __slots__ = ()
    prec = 100
    rule = "entry by entry"
    linear = True

    def __init__(self, entries: tuple, rows: int, cols: int):
        super().__init__(tuple(entries), (rows, cols), (rows, cols))

    def differential(self, ds):
        return stack([Num(0) if d is None else d for d in ds], *self.shape)

    def vjp(self, seed, i):
        return entry(seed, *divmod(i, self.shape[1]))

    def evaluate(self, vals):
        rows, cols = self.shape
        return np.array([float(np.asarray(v).reshape(-1)[0]) for v in vals]).reshape(rows, cols)

    def to_sympy(self, sargs, ctx):
        import sympy
        rows, cols = self.shape
        return sympy.ImmutableMatrix(rows, cols, list(sargs))

    def rebuild(self, args):
        return stack(args, *self.shape)

    def rows(self) -> list[list[Expr]]:
        rows, cols = self.shape
        return [list(self.args[r * cols:(r + 1) * cols]) for r in range(rows)]

    def print_with(self, p) -> str:
        if p.latex:
            body = r" \\ ".join(" & ".join(p(e) for e in row) for row in self.rows())
            return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
        return "[" + "; ".join(", ".join(p(e) for e in row) for row in self.rows()) + "]"


def stack(entries, rows: int, cols: int) -> Expr:
    entries = tuple(entries)
    if len(entries) != rows * cols:
        raise InternalShapeError(f"{len(entries)} entries for a {rows}×{cols} matrix")
    for e in entries:
        if not e.is_scalar:
            raise InternalShapeError(f"an entry of an explicit matrix is {fmt_shape(e.shape)}, not a scalar")
    if all(isinstance(e, Num) and e.value == 0 for e in entries):
        return Zero((rows, cols))
    if rows == cols == 1:
        return entries[0]
    first = entries[0]
    if isinstance(first, Entry) and all(
            isinstance(e, Entry) and e.args[0] == first.args[0] and e.index == divmod(k, cols)
            for k, e in enumerate(entries)) and first.args[0].shape == (rows, cols):
        return first.args[0]   # [x_1; x_2; x_3] is x
    return Stack(entries, rows, cols)


class Basis(Expr):
    """``e_k``: the k-th coordinate direction (for a matrix, the unit matrix E_{ij}); ∂f/∂x_k is
    the derivative along it."""

    __slots__ = ("index",)
    prec = 100

    def __init__(self, i: int, j: int, shape):
        self.index = (i, j)
        super().__init__((), shape, (i, j, shape))

    def rebuild(self, args):
        return self

    def evaluate(self, vals):
        out = np.zeros(self.shape)
        out[self.index] = 1.0
        return out

    def to_sympy(self, sargs, ctx):
        import sympy
        rows, cols = self.shape
        return sympy.ImmutableMatrix(rows, cols, lambda r, c: 1 if (r, c) == self.index else 0)

    def print_with(self, p) -> str:
        i, j = self.index
        sub = str(i + 1) if self.shape[1] == 1 else f"{i + 1}{j + 1}"
        head = "e" if self.shape[1] == 1 else "E"
        return f"{head}_{{{sub}}}" if p.latex else f"{head}_{sub}"


def explicit_det(m: Expr) -> Expr:
    """The determinant of a matrix written entry by entry, expanded (2×2: ad − bc; 3×3: Sarrus)."""
    from .linear import add, mul, neg
    from .matrix import det
    if not isinstance(m, Stack) or m.shape[0] > 3:
        return det(m)
    a = m.rows()
    if m.shape[0] == 2:
        return add(mul(a[0][0], a[1][1]), neg(mul(a[0][1], a[1][0])))
    terms = []
    for k in range(3):
        terms.append(mul(a[0][k], a[1][(k + 1) % 3], a[2][(k + 2) % 3]))
        terms.append(neg(mul(a[0][k], a[1][(k + 2) % 3], a[2][(k + 1) % 3])))
    return add(*terms)
