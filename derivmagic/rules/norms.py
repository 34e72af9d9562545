"""Norms: the 2-norm of a vector, the Frobenius norm, the 1-norm (with ``sign`` as its
subgradient where an entry is zero) and the ∞-norm of a vector (max_k |u_k|, with sign(u_k) e_k at
the largest |u_k| as its gradient, the first such k where several tie: a subgradient there); the
squared 2-norm and Frobenius norm are an operation of their own, differentiated directly
(d‖r‖² = 2rᵀdr, never through ‖r‖ and 1/‖r‖). The spectral and nuclear norms of a matrix are in
``spectral.py``."""
from __future__ import annotations

import numpy as np

from ..expr import SCALAR, Expr, Num, zero
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


# ---------------------------------------------------------------- the ∞-norm of a vector
def largest_entry(v: np.ndarray) -> int:
    """The (flat) index of the largest |v_k|, the first of those that tie."""
    return int(np.argmax(np.abs(np.asarray(v, dtype=float)).ravel()))


def inf_subgradient_numbers(v: np.ndarray) -> np.ndarray:
    """sign(v_k) e_k at k = ``largest_entry(v)``, shaped like v (0 when v = 0)."""
    v = np.asarray(v, dtype=float)
    out = np.zeros(v.size)
    k = largest_entry(v)
    out[k] = np.sign(v.ravel()[k])
    return out.reshape(v.shape)


class InfNorm(Expr):
    """``‖u‖_∞ = max_k |u_k|`` of a vector."""

    __slots__ = ()
    prec = 100
    rule = "derivative of the ∞-norm: sign(u_k) du_k at the largest |u_k|"

    def __init__(self, arg: Expr):
        super().__init__((arg,), SCALAR)

    def differential(self, ds):
        return trace(mul(transpose(InfSubgradient(self.args[0])), ds[0]))

    def evaluate(self, vals):
        return np.full((1, 1), float(np.max(np.abs(vals[0]))))

    def to_sympy(self, sargs, ctx):
        return _sympy_inf_norm()(sargs[0])

    def rebuild(self, args):
        return inf_norm(args[0])

    def print_with(self, p) -> str:
        inner = p(self.args[0])
        return rf"\left\| {inner} \right\|_{{\infty}}" if p.latex else f"‖{inner}‖_∞"


class InfSubgradient(Expr):
    """``sign(u_k) e_k`` with k the index of the largest |u_k| (the first where several tie):
    the gradient of ‖u‖_∞ where the largest entry is unique and nonzero, a subgradient elsewhere."""

    __slots__ = ()
    prec = 20   # printed as a product
    rule = "derivative of sign(u_k) e_k"

    def __init__(self, arg: Expr):
        super().__init__((arg,), arg.shape)

    def differential(self, ds):
        return zero(self.shape)   # constant wherever the largest entry does not change: 0 almost everywhere

    def evaluate(self, vals):
        return inf_subgradient_numbers(vals[0])

    def to_sympy(self, sargs, ctx):
        return _sympy_inf_subgradient()(sargs[0])

    def rebuild(self, args):
        return InfSubgradient(args[0])

    def print_with(self, p) -> str:
        from ..expr import Sym
        u = self.args[0]
        inner = p(u) if isinstance(u, Sym) else p.paren(p(u))
        if p.latex:
            return rf"\operatorname{{sign}}\left({inner}_{{k}}\right) e_{{k}}"
        return f"sign({inner}_k) e_k"


def inf_norm(u: Expr) -> Expr:
    """``‖u‖_∞`` of a vector (of a scalar, |u|)."""
    if u.is_scalar:
        return func("abs", u)
    return InfNorm(u)


def _sympy_norm_inf_tex(a):
    return r"\left\| %s \right\|_{\infty}" % a[0]


def _sympy_norm_inf_text(a):
    return "inf_norm(%s)" % a[0]


def _sympy_inf_norm_value(v):
    return float(np.max(np.abs(v)))


def _sympy_subgradient_tex(a):
    return r"\operatorname{sign}\left(\left(%s\right)_{k}\right) e_{k}" % a[0]


def _sympy_subgradient_text(a):
    return "sign((%s)_k)*e_k" % a[0]


def _same_shape(args):
    return args[0].shape


def _sympy_inf_norm():
    from .numeric_sympy import scalar_class
    return scalar_class("InfNorm", _sympy_inf_norm_value, _sympy_norm_inf_tex, _sympy_norm_inf_text)


def _sympy_inf_subgradient():
    from .numeric_sympy import matrix_class
    return matrix_class("InfSubgradient", inf_subgradient_numbers, _same_shape, _sympy_subgradient_tex,
                        _sympy_subgradient_text)
