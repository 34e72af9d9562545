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
