"""Norms: the 2-norm of a vector, the Frobenius norm, and the 1-norm (with ``sign``
as its subgradient where an entry is zero)."""
from __future__ import annotations

import numpy as np

from ..expr import SCALAR, Expr
from .elementwise import func, power
from .linear import mul, transpose
from .matrix import trace

NAMES = {"2": "2-norm", "F": "Frobenius norm", "1": "1-norm"}


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
            absu = ElementwiseApplyFunction(sympy.Abs, u)
            ones = sympy.OneMatrix(1, u.shape[0])
            return sympy.Trace(ones * absu * sympy.OneMatrix(u.shape[1], 1))
        return sympy.sqrt(sympy.Trace(sympy.Transpose(u) * u))

    def rebuild(self, args):
        return norm(args[0], self.p)


def norm(u: Expr, p: str = "2") -> Expr:
    if u.is_scalar and p in ("2", "F", "1"):
        return func("abs", u)
    return Norm(u, "F" if p == "2" and u.shape[1] != 1 and u.shape[0] != 1 else p)
