"""Softmax of a vector: s = exp(z) / 1^T exp(z), with ds = (diag(s) - s s^T) dz.
(Log-sum-exp needs no rule of its own: log(1^T exp(z)) follows from the chain rule.)"""
from __future__ import annotations

import numpy as np

from ..expr import Expr, InternalShapeError
from .elementwise import hadamard
from .linear import add, mul, neg, transpose


class Softmax(Expr):
    __slots__ = ()
    prec = 100
    rule = "derivative of softmax"

    def __init__(self, z: Expr):
        if z.shape[1] != 1:
            raise InternalShapeError("softmax of a matrix")
        super().__init__((z,), z.shape)

    def differential(self, ds):
        dz = ds[0]
        return add(hadamard(self, dz), neg(mul(self, transpose(self), dz)))

    def evaluate(self, vals):
        z = vals[0]
        e = np.exp(z - z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    def to_sympy(self, sargs, ctx):
        import sympy
        from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
        e = ElementwiseApplyFunction(sympy.exp, sargs[0])
        from ..tosympy import entry_sum
        total = entry_sum(e)
        return sympy.MatMul(1 / total, e)

    def rebuild(self, args):
        return softmax(args[0])


def softmax(z: Expr) -> Expr:
    return Softmax(z)
