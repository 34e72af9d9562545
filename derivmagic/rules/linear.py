"""Sums, products and transposes, each with its differentiation rule beside it.

The constructors ``add``, ``mul`` and ``transpose`` keep expressions in a light
textbook normal form: numeric coefficients collected, like terms combined, common
factors pulled out, transposes pushed through products.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..limits import tick
from ..expr import (ONE, SCALAR, Expr, Identity, InternalShapeError, Num, Ones, Sym, Zero,
                    fmt_shape, is_zero, zero)


# ---------------------------------------------------------------- sums
class Add(Expr):
    __slots__ = ()
    prec = 10
    rule = "linearity"
    linear = True

    def __init__(self, terms):
        super().__init__(tuple(terms), terms[0].shape)

    def differential(self, ds):
        return add(*[d for d in ds if d is not None])

    def vjp(self, seed, i):
        return seed

    def evaluate(self, vals):
        out = vals[0]
        for v in vals[1:]:
            out = out + v
        return out

    def to_sympy(self, sargs, ctx):
        import sympy
        if self.is_scalar:
            return sympy.Add(*[ctx.as_scalar(a) for a in sargs])
        return sympy.MatAdd(*sargs)

    def rebuild(self, args):
        return add(*args)


def split_coeff(e: Expr) -> tuple[Fraction, Expr]:
    """``e == c * rest`` with ``c`` a number."""
    if isinstance(e, Num):
        return e.value, ONE
    if isinstance(e, Mul) and e.coeff != 1:
        return e.coeff, mul(*e.args)
    return Fraction(1), e


def add(*terms: Expr) -> Expr:
    tick(len(terms))
    flat: list[Expr] = []
    for t in terms:
        flat.extend(t.args if isinstance(t, Add) else (t,))
    shapes = {t.shape for t in flat}
    if len(shapes) > 1:
        raise InternalShapeError(f"adding shapes {sorted(map(fmt_shape, shapes))}")
    shape = flat[0].shape if flat else SCALAR
    coeffs: dict[Expr, Fraction] = {}
    for t in flat:
        if is_zero(t):
            continue
        c, rest = split_coeff(t)
        coeffs[rest] = coeffs.get(rest, 0) + c
    out = [mul(Num(c), rest) for rest, c in coeffs.items() if c != 0]
    if not out:
        return zero(shape)
    if len(out) == 1:
        return out[0]
    if shape != SCALAR and isinstance(shape[0], int) and isinstance(shape[1], int):
        from .entries import merge_stacks
        merged = merge_stacks(out)
        if merged is not None:
            return merged
    out.sort(key=_leading_negative)  # stable: the order written, positive terms first
    return Add(out)


def _leading_negative(t: Expr) -> bool:
    return split_coeff(t)[0] < 0


# ---------------------------------------------------------------- products
class Mul(Expr):
    """``coeff * scalars... * chain...``: scalar factors commute; the chain is a matrix product."""

    __slots__ = ("coeff", "scalars", "chain")
    prec = 20
    rule = "product rule"
    linear = False

    def __init__(self, coeff: Fraction, scalars: tuple, chain: tuple, shape):
        self.coeff = coeff
        self.scalars = scalars
        self.chain = chain
        super().__init__(scalars + chain, shape, (coeff,))

    def differential(self, ds):
        terms = []
        for i, d in enumerate(ds):
            if d is not None:
                args = list(self.args)
                args[i] = d
                terms.append(mul(Num(self.coeff), *args))
        return add(*terms)

    def vjp(self, seed, i):
        coeff = Num(self.coeff)
        ns = len(self.scalars)
        if i < ns:  # a scalar factor: its adjoint is <seed, rest>
            rest = mul(coeff, *self.scalars[:i], *self.scalars[i + 1:], *self.chain)
            from .matrix import trace
            return mul(seed, rest) if self.is_scalar else trace(mul(transpose(seed), rest))
        k = i - ns
        left = mul(*self.chain[:k]) if k else None
        right = mul(*self.chain[k + 1:]) if k + 1 < len(self.chain) else None
        parts = [coeff, *self.scalars]
        if left is not None:
            parts.append(transpose(left))
        parts.append(seed)
        if right is not None:
            parts.append(transpose(right))
        return mul(*parts)

    def evaluate(self, vals):
        ns = len(self.scalars)
        out = float(self.coeff)
        for v in vals[:ns]:
            out = out * v[0, 0]
        prod = None
        for v in vals[ns:]:
            prod = v if prod is None else prod @ v
        if prod is None:
            return np.full((1, 1), out)
        return out * prod

    def to_sympy(self, sargs, ctx):
        import sympy
        ns = len(self.scalars)
        scal = [ctx.as_scalar(a) for a in sargs[:ns]]
        c = Num(self.coeff).to_sympy([], ctx)
        if not self.chain:
            return sympy.Mul(c, *scal)
        chain = sargs[ns:]
        coeff = sympy.Mul(c, *scal)
        if coeff == 1:
            return sympy.MatMul(*chain) if len(chain) > 1 else chain[0]
        if coeff.is_number and not coeff.is_Rational:
            coeff = coeff.evalf()   # MatMul(2√2, M).doit() stays unevaluated in SymPy; 2.828… does not
        return sympy.MatMul(coeff, *chain)

    def rebuild(self, args):
        return mul(Num(self.coeff), *args)


def _chain_shape(chain) -> tuple:
    return (chain[0].shape[0], chain[-1].shape[1])


def mul(*factors: Expr) -> Expr:
    tick(len(factors))
    coeff = Fraction(1)
    scalars: list[Expr] = []
    chain: list[Expr] = []
    units: list[Expr] = []  # 1x1 matrix products used as scalars, e.g. (x^T y)

    def push_chain(f: Expr):
        if chain:
            shape = _chain_shape(chain)
            if shape[1] != f.shape[0]:
                if shape == SCALAR:
                    units.append(_pack(chain))
                    chain.clear()
                else:
                    raise InternalShapeError(f"multiplying {fmt_shape(shape)} by {fmt_shape(f.shape)}")
        chain.append(f)

    for f in factors:
        if isinstance(f, Num):
            coeff *= f.value
        elif isinstance(f, Mul):
            coeff *= f.coeff
            scalars.extend(f.scalars)
            if f.chain:
                if f.is_scalar:
                    units.append(_pack(f.chain))
                else:
                    for c in f.chain:
                        push_chain(c)
        elif f.is_scalar:
            scalars.append(f)
        else:
            push_chain(f)
    chain = _split_scalar_runs(chain, units)
    if chain and _chain_shape(chain) == SCALAR and (units or scalars) and len(chain) > 1:
        units.append(_pack(chain))
        chain = []
    shape = _chain_shape(chain) if chain else SCALAR
    if coeff == 0 or any(is_zero(f) for f in scalars + chain):
        return zero(shape)
    chain = [c for c in chain if not (isinstance(c, Identity) and len(chain) > 1)] or chain
    scalars = _merge_powers(scalars + units)
    if not chain:
        packed = [s for s in scalars if isinstance(s, Mul)]
        if len(packed) == 1 and packed[0].coeff == 1 and not packed[0].scalars:
            scalars.remove(packed[0])
            chain = list(packed[0].chain)
    if not scalars and not chain:
        return Num(coeff)
    if coeff == 1 and not chain and len(scalars) == 1:
        return scalars[0]
    if coeff == 1 and not scalars and len(chain) == 1:
        return chain[0]
    shape = _chain_shape(chain) if chain else SCALAR
    return Mul(coeff, tuple(scalars), tuple(chain), shape)


def _split_scalar_runs(chain: list, units: list) -> list:
    """Move 1x1 runs out of a matrix product as scalars: ``s s^T dz -> (s^T dz) s``."""
    again = True
    while again and len(chain) > 1:
        again = False
        for k in range(1, len(chain)):
            if chain[k].shape[0] == 1 and chain[-1].shape[1] == 1:
                units.append(_pack(chain[k:]))
                chain = chain[:k]
                again = True
                break
            if chain[0].shape[0] == 1 and chain[k - 1].shape[1] == 1:
                units.append(_pack(chain[:k]))
                chain = chain[k:]
                again = True
                break
    return chain


def _pack(chain) -> Expr:
    return chain[0] if len(chain) == 1 else Mul(Fraction(1), (), tuple(chain), SCALAR)


def _merge_powers(scalars: list[Expr]) -> list[Expr]:
    from .elementwise import Pow, power
    from .norms import Norm, SquaredNorm
    exps: dict[Expr, Fraction] = {}
    for s in scalars:
        base, q = (s.args[0], s.exponent) if isinstance(s, Pow) else (s, Fraction(1))
        if isinstance(base, SquaredNorm):   # ‖r‖² ‖r‖⁻¹ is ‖r‖
            base, q = Norm(base.args[0], base.p), 2 * q
        exps[base] = exps.get(base, 0) + q
    out = [power(b, q) for b, q in exps.items() if q != 0]
    out = [o for o in out if not (isinstance(o, Num) and o.value == 1)]
    out.sort(key=Expr.sort_key)
    return out


def neg(e: Expr) -> Expr:
    return mul(Num(-1), e)


# ---------------------------------------------------------------- transposes
class Transpose(Expr):
    __slots__ = ()
    prec = 90
    rule = "transpose"
    linear = True

    def __init__(self, arg):
        super().__init__((arg,), (arg.shape[1], arg.shape[0]))

    def differential(self, ds):
        return transpose(ds[0])

    def vjp(self, seed, i):
        return transpose(seed)

    def evaluate(self, vals):
        return vals[0].T

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.Transpose(sargs[0])

    def rebuild(self, args):
        return transpose(args[0])


def transpose(e: Expr) -> Expr:
    if e.is_scalar or isinstance(e, (Identity, Zero)) and e.shape[0] == e.shape[1]:
        return e
    if isinstance(e, Zero):
        return Zero((e.shape[1], e.shape[0]))
    if isinstance(e, Transpose):
        return e.args[0]
    if isinstance(e, Sym) and e.symmetric:
        return e
    if isinstance(e, Mul):
        return mul(Num(e.coeff), *e.scalars, *[transpose(c) for c in reversed(e.chain)])
    if isinstance(e, Ones) and e.shape[0] == e.shape[1]:
        return e
    if isinstance(e, Add):
        spread = [transpose(t) for t in e.args]
        if sum(map(_transposes, spread)) < 1 + sum(map(_transposes, e.args)):
            return add(*spread)
    sym = getattr(e, "symmetric_result", None)
    if sym is not None and sym():
        return e
    own = getattr(e, "transposed", None)   # an operation that knows its transpose (K_{mn}ᵀ = K_{nm})
    if own is not None:
        return own()
    return Transpose(e)


@lru_cache(maxsize=65536)
def _transposes(e: Expr) -> int:
    own = 1 if isinstance(e, Transpose) else 0
    return own + sum(_transposes(a) for a in e.args)
