"""Kronecker products and vec, for derivatives of matrix-valued functions by matrices:
vec(L dX R) = (Rᵀ ⊗ L) vec(dX) (vec stacks columns)."""
from __future__ import annotations

import numpy as np

from ..expr import Expr, Identity

Dim = int | str


def dim_product(a: Dim, b: Dim) -> Dim:
    """The product of two dimensions; named ones as a sorted product such as ``"m*n"``."""
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if a == 1:
        return b
    if b == 1:
        return a
    factors = []
    for d in (a, b):
        factors.extend(str(d).split("*"))
    ints = [int(f) for f in factors if f.isdigit()]
    names = sorted(f for f in factors if not f.isdigit())
    k = int(np.prod(ints)) if ints else 1
    return "*".join(([str(k)] if k != 1 else []) + names)


class Kron(Expr):
    __slots__ = ()
    prec = 20
    rule = "Kronecker product"

    def __init__(self, a: Expr, b: Expr):
        super().__init__((a, b), (dim_product(a.shape[0], b.shape[0]), dim_product(a.shape[1], b.shape[1])))

    def differential(self, ds):
        from .linear import add
        a, b = self.args
        return add(*[t for t in (kron(ds[0], b) if ds[0] is not None else None,
                                 kron(a, ds[1]) if ds[1] is not None else None) if t is not None])

    def evaluate(self, vals):
        return np.kron(vals[0], vals[1])

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.KroneckerProduct(*sargs)

    def rebuild(self, args):
        return kron(*args)


def kron(a: Expr, b: Expr) -> Expr:
    from .linear import Mul, mul
    if a.is_scalar:
        return mul(a, b)
    if b.is_scalar:
        return mul(b, a)
    if isinstance(a, Mul) and (a.coeff != 1 or a.scalars):
        from ..expr import Num
        return mul(Num(a.coeff), *a.scalars, kron(mul(*a.chain), b))
    if isinstance(b, Mul) and (b.coeff != 1 or b.scalars):
        from ..expr import Num
        return mul(Num(b.coeff), *b.scalars, kron(a, mul(*b.chain)))
    if isinstance(a, Identity) and isinstance(b, Identity):
        return Identity(dim_product(a.shape[0], b.shape[0]))
    return Kron(a, b)


class Vec(Expr):
    """vec(A): the columns of A stacked (used inside the numeric check of Kronecker forms)."""
    __slots__ = ()
    prec = 100
    rule = "vec"
    linear = True

    def __init__(self, a: Expr):
        super().__init__((a,), (dim_product(a.shape[0], a.shape[1]), 1))

    def differential(self, ds):
        return Vec(ds[0])

    def evaluate(self, vals):
        return vals[0].reshape(-1, 1, order="F")

    def rebuild(self, args):
        return Vec(args[0])


class Commutation(Expr):
    """K_{mn} (Magnus & Neudecker): the mn×mn permutation matrix with K_{mn} vec(A) = vec(Aᵀ) for
    A m×n. It turns a transposed differential into the plain one: vec(L dXᵀ R) = (Rᵀ ⊗ L) K_{mn} vec(dX)."""
    __slots__ = ()
    sized = True   # its numbers need the sizes of m and n

    def __init__(self, m: Dim, n: Dim):
        mn = dim_product(m, n)
        super().__init__((), (mn, mn), (m, n))
        self._free = frozenset()

    @property
    def dims(self) -> tuple[Dim, Dim]:
        return self.key[1]

    def evaluate(self, vals, sizes=None):
        from ..check import _size
        m, n = (_size(d, sizes or {}) for d in self.dims)
        return commutation_matrix(m, n)

    def transposed(self) -> Expr:
        m, n = self.dims
        return commutation(n, m)

    def to_sympy(self, sargs, ctx):
        from ..tosympy import commutation_class
        return commutation_class()(*(ctx.dim(d) for d in self.dims))

    def rebuild(self, args):
        return self

    def print_with(self, p) -> str:
        from ..expr import fmt_dim
        m, n = (fmt_dim(d, p.latex) for d in self.dims)
        sub = m + n if len(m) == len(n) == 1 else f"{m},{n}"
        if p.latex:
            return f"K_{{{sub}}}"
        return f"K_{sub}" if len(sub) == 2 else f"K_({sub})"


def commutation(m: Dim, n: Dim) -> Expr:
    """K_{mn}; K_{m1} and K_{1n} are identities (vec of a vector is the vector, either way)."""
    if m == 1 or n == 1:
        return Identity(dim_product(m, n))
    return Commutation(m, n)


def commutation_matrix(m: int, n: int) -> np.ndarray:
    """K_{mn} as numbers: row i·n + j is the unit row of column i + m·j (A[i, j] in vec A)."""
    return np.eye(m * n)[np.arange(m * n).reshape(m, n, order="F").ravel()]
