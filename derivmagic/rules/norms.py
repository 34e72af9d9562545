"""Norms: the 2-norm of a vector, the Frobenius norm, and the 1-norm (with ``sign``
as its subgradient where an entry is zero); the squared 2-norm and Frobenius norm are an
operation of their own, differentiated directly (d‖r‖² = 2rᵀdr, never through ‖r‖ and 1/‖r‖)."""
from __future__ import annotations

import numpy as np

from ..expr import SCALAR, Expr, Num
from .elementwise import func, power
from .linear import mul, transpose
from .matrix import trace

NAMES = {"2": "2-norm", "F": "Frobenius norm", "1": "1-norm"}
_SUBSCRIPT = {"2": "₂", "F": "_F", "1": "₁"}


class Norm(Expr):
    __slots__ = ("p",)
    prec = 100

    def __init__(self, arg: Expr, p: str):
        self.p = p
        super().__init__((arg,), SCALAR, (p,))

    @property
    def rule(self):
        return f"derivative of the {NAMES[self.p]}"

    def differential(self, ds):
        u, du = self.args[0], ds[0]
        if self.p == "1":  # d|u|_1 = sign(u)^T du  (a subgradient where some u_i = 0)
            return trace(mul(transpose(func("sign", u)), du))
        # d|u| = <u, du> / |u|
        return mul(power(self, -1), trace(mul(transpose(u), du)))

    def evaluate(self, vals):
        v = vals[0]
        value = np.abs(v).sum() if self.p == "1" else np.sqrt((v * v).sum())
        return np.full((1, 1), value)

    def to_sympy(self, sargs, ctx):
        import sympy
        u = sargs[0]
        if self.p == "1":
            from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

            from ..tosympy import entry_sum
            return entry_sum(ElementwiseApplyFunction(sympy.Abs, u))
        return sympy.sqrt(sympy.Trace(sympy.Transpose(u) * u))

    def rebuild(self, args):
        return norm(args[0], self.p)


class SquaredNorm(Expr):
    """``‖u‖₂²`` (``‖U‖_F²`` of a matrix): the sum of the squares of the entries."""

    __slots__ = ("p",)
    prec = 80

    def __init__(self, arg: Expr, p: str):
        self.p = p
        super().__init__((arg,), SCALAR, (p,))

    @property
    def rule(self):
        return f"derivative of the squared {NAMES[self.p]}"

    def differential(self, ds):
        u, du = self.args[0], ds[0]   # d‖u‖² = 2 tr(uᵀ du) = 2uᵀdu
        return mul(Num(2), trace(mul(transpose(u), du)))

    def evaluate(self, vals):
        v = vals[0]
        return np.full((1, 1), (v * v).sum())

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Trace(sympy.Transpose(sargs[0]) * sargs[0])

    def rebuild(self, args):
        return squared_norm(args[0], self.p)

    def print_with(self, printer) -> str:
        inner = printer(self.args[0])
        if printer.latex:
            return rf"\left\| {inner} \right\|_{{{self.p}}}^{{2}}"
        return f"‖{inner}‖{_SUBSCRIPT[self.p]}²"


def squared_norm(u: Expr, p: str = "2") -> Expr:
    """``‖u‖²`` for the 2-norm or the Frobenius norm (of a scalar: its square)."""
    if u.is_scalar:
        return power(u, 2)
    return SquaredNorm(u, "F" if p == "2" and u.shape[1] != 1 and u.shape[0] != 1 else p)


def norm(u: Expr, p: str = "2") -> Expr:
    if u.is_scalar and p in ("2", "F", "1"):
        return func("abs", u)
    return Norm(u, "F" if p == "2" and u.shape[1] != 1 and u.shape[0] != 1 else p)
