"""Matrix functions: inverse, trace, determinant (and so log det), each with its rule."""
from __future__ import annotations

import numpy as np

from ..expr import SCALAR, Expr, Identity, InternalShapeError, Num, fmt_shape
from .linear import Add, Mul, Transpose, add, mul, neg, transpose


class Inverse(Expr):
    __slots__ = ()
    prec = 90
    rule = "inverse rule"

    def __init__(self, arg):
        super().__init__((arg,), arg.shape)

    def differential(self, ds):
        return neg(mul(self, ds[0], self))

    def evaluate(self, vals):
        return np.linalg.inv(vals[0])

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Inverse(sargs[0])

    def rebuild(self, args):
        return inverse(args[0])

    def symmetric_result(self):
        return transpose(self.args[0]) == self.args[0]


def inverse(e: Expr) -> Expr:
    if e.shape[0] != e.shape[1]:
        raise InternalShapeError(f"inverse of a {fmt_shape(e.shape)} matrix")
    if e.is_scalar:
        from .elementwise import power
        return power(e, -1)
    if isinstance(e, Identity):
        return e
    if isinstance(e, Inverse):
        return e.args[0]
    if isinstance(e, Transpose):
        return transpose(inverse(e.args[0]))
    if isinstance(e, Mul) and not e.scalars and e.coeff != 1 and len(e.chain) == 1:
        return mul(Num(1 / e.coeff), inverse(e.chain[0]))
    return Inverse(e)


class Trace(Expr):
    __slots__ = ()
    prec = 100
    rule = "trace is linear"
    linear = True

    def __init__(self, arg):
        super().__init__((arg,), SCALAR)

    def differential(self, ds):
        return trace(ds[0])

    def vjp(self, seed, i):
        return mul(seed, Identity(self.args[0].shape[0]))

    def evaluate(self, vals):
        return np.full((1, 1), np.trace(vals[0]))

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Trace(sargs[0])

    def rebuild(self, args):
        return trace(args[0])


def trace(e: Expr) -> Expr:
    if e.shape[0] != e.shape[1]:
        raise InternalShapeError(f"trace of a {fmt_shape(e.shape)} matrix")
    if e.is_scalar:
        return e
    form = getattr(e, "trace_form", None)
    if form is not None:
        return form()   # tr of the Fréchet derivative of e^X: tr(e^X dX)
    if isinstance(e, Add):
        return add(*[trace(t) for t in e.args])
    if isinstance(e, Transpose):
        return trace(e.args[0])
    if isinstance(e, Mul) and (e.coeff != 1 or e.scalars):
        return mul(Num(e.coeff), *e.scalars, trace(mul(*e.chain)))
    if isinstance(e, Mul):
        chain = e.chain
        # cyclic: tr(u v^T) = v^T u, tr(A x y^T) = y^T A x -- a 1x1 rotation when one exists
        for k in range(1, len(chain)):
            rotated = chain[k:] + chain[:k]
            if rotated[0].shape[0] == 1 or rotated[-1].shape[1] == 1:
                if (rotated[0].shape[0], rotated[-1].shape[1]) == SCALAR:
                    return mul(*rotated)
    if isinstance(e, Identity) and isinstance(e.shape[0], int):
        return Num(e.shape[0])
    return Trace(e)


class Det(Expr):
    __slots__ = ()
    prec = 100
    rule = "Jacobi's formula"

    def __init__(self, arg):
        super().__init__((arg,), SCALAR)

    def differential(self, ds):
        return mul(self, trace(mul(inverse(self.args[0]), ds[0])))

    def evaluate(self, vals):
        return np.full((1, 1), np.linalg.det(vals[0]))

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Determinant(sargs[0])

    def rebuild(self, args):
        return det(args[0])


def det(e: Expr) -> Expr:
    if e.shape[0] != e.shape[1]:
        raise InternalShapeError(f"determinant of a {fmt_shape(e.shape)} matrix")
    if e.is_scalar:
        return e
    if isinstance(e, Transpose):
        return det(e.args[0])
    return Det(e)


class PseudoInverse(Expr):
    """``X⁺``, the Moore–Penrose pseudo-inverse, differentiated where X has full rank (its rank is then
    constant nearby): dX⁺ = −X⁺ dX X⁺ + X⁺X⁺ᵀ dXᵀ (I − X X⁺) + (I − X⁺X) dXᵀ X⁺ᵀX⁺ (Golub and Pereyra)."""

    __slots__ = ()
    prec = 90
    rule = "derivative of the pseudo-inverse (full rank)"

    def __init__(self, arg):
        super().__init__((arg,), (arg.shape[1], arg.shape[0]))

    def differential(self, ds):
        X, P, dX = self.args[0], self, ds[0]
        m, n = X.shape
        dXt = transpose(dX)
        return add(neg(mul(P, dX, P)),
                   mul(P, transpose(P), dXt, add(Identity(m), neg(mul(X, P)))),
                   mul(add(Identity(n), neg(mul(P, X))), dXt, transpose(P), P))

    def evaluate(self, vals):
        return np.linalg.pinv(vals[0])

    def to_sympy(self, sargs, ctx):
        from .numeric_sympy import matrix_class
        return matrix_class("PseudoInverse", np.linalg.pinv, _transposed_shape, _pinv_tex, _pinv_text)(sargs[0])

    def rebuild(self, args):
        return pinv(args[0])

    def symmetric_result(self):
        return transpose(self.args[0]) == self.args[0]

    def print_with(self, p) -> str:
        return f"{p(self.args[0], 91)}^{{+}}" if p.latex else f"{p(self.args[0], 91)}⁺"


def _transposed_shape(args):
    return (args[0].shape[1], args[0].shape[0])


def _pinv_tex(a):
    return r"\left(%s\right)^{+}" % a[0]


def _pinv_text(a):
    return "pinv(%s)" % a[0]


def pinv(e: Expr) -> Expr:
    """``e⁺``: of a square matrix (invertible, as full rank is assumed) its inverse; of a scalar 1/e."""
    if e.shape[0] == e.shape[1]:
        return inverse(e)
    if isinstance(e, Transpose):   # (Yᵀ)⁺ = (Y⁺)ᵀ
        return transpose(pinv(e.args[0]))
    if isinstance(e, Mul) and not e.scalars and e.coeff != 1 and len(e.chain) == 1:
        return mul(Num(1 / e.coeff), pinv(e.chain[0]))
    return PseudoInverse(e)
