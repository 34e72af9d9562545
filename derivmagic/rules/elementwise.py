"""Elementwise operations: powers, functions (exp, log, tanh, sigmoid, ...), Hadamard
products and ``diag``. On scalars they are the ordinary operations."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

from ..errors import DerivError
from ..limits import tick
from ..expr import ONE, SCALAR, Expr, InternalShapeError, Num, Ones, fmt_shape, is_zero, ones, zero
from .linear import Add, Mul, add, mul, neg


# ---------------------------------------------------------------- Hadamard products
class Hadamard(Expr):
    __slots__ = ()
    prec = 20
    rule = "Hadamard product rule"

    def __init__(self, args):
        super().__init__(tuple(args), args[0].shape)

    @property
    def linear(self):
        return True  # linear in each factor; used only where one factor is a differential

    def differential(self, ds):
        terms = []
        for i, d in enumerate(ds):
            if d is not None:
                args = list(self.args)
                args[i] = d
                terms.append(hadamard(*args))
        return add(*terms)

    def vjp(self, seed, i):
        return hadamard(seed, *self.args[:i], *self.args[i + 1:])

    def evaluate(self, vals):
        out = vals[0]
        for v in vals[1:]:
            out = out * v
        return out

    def to_sympy(self, sargs, ctx):
        import sympy
        return sympy.HadamardProduct(*sargs)

    def rebuild(self, args):
        return hadamard(*args)

    def symmetric_result(self):
        from .linear import transpose
        return all(transpose(a) == a for a in self.args)


def hadamard(*args: Expr) -> Expr:
    tick(len(args))
    if all(a.is_scalar for a in args):
        return mul(*args)
    spread = _distribute_to_cancel(args)
    if spread is not None:
        return spread
    shape = next(a.shape for a in args if not a.is_scalar)
    scal: list[Expr] = []
    exps: dict[Expr, Fraction] = {}
    stack = list(args)
    while stack:
        a = stack.pop()
        if a.is_scalar:
            scal.append(a)
            continue
        if a.shape != shape:
            raise InternalShapeError(f"Hadamard product of {fmt_shape(shape)} and {fmt_shape(a.shape)}")
        if is_zero(a):
            return zero(shape)
        if isinstance(a, Hadamard):
            stack.extend(a.args)
        elif isinstance(a, Mul) and (a.coeff != 1 or a.scalars):
            scal.append(Num(a.coeff))
            scal.extend(a.scalars)
            stack.append(mul(*a.chain))
        elif isinstance(a, Ones):
            continue
        else:
            base, q = (a.args[0], a.exponent) if isinstance(a, Pow) else (a, Fraction(1))
            exps[base] = exps.get(base, 0) + q
    factors = [power(b, q) for b, q in exps.items() if q != 0]
    factors = [f for f in factors if not isinstance(f, Ones)]
    factors.sort(key=Expr.sort_key)
    core = Ones(shape) if not factors else factors[0] if len(factors) == 1 else Hadamard(factors)
    return mul(*scal, core)


def _distribute_to_cancel(args) -> Expr | None:
    """``u^{-1} ⊙ (u ⊙ a + b u)``: distribute over the sum when that cancels the power."""
    sums = [a for a in args if isinstance(a, Add)]
    if len(sums) != 1 or len(args) != 2:
        return None
    other = args[0] if args[1] is sums[0] else args[1]
    if not (isinstance(other, Pow) and other.exponent < 0):
        return None
    base = other.args[0]
    if not any(base in _direct_factors(t) for t in sums[0].args):
        return None
    return add(*[hadamard(other, t) for t in sums[0].args])


def _direct_factors(t: Expr) -> tuple:
    if isinstance(t, Mul):
        return t.scalars + t.chain
    if isinstance(t, Hadamard):
        return t.args
    return (t,)


# ---------------------------------------------------------------- powers
class Pow(Expr):
    """Elementwise power ``u^{∘q}`` (the ordinary power on scalars)."""

    __slots__ = ("exponent",)
    prec = 80
    rule = "power rule"

    def __init__(self, base: Expr, q: Fraction):
        self.exponent = Fraction(q)
        super().__init__((base,), base.shape, (self.exponent,))

    def differential(self, ds):
        base, q = self.args[0], self.exponent
        return hadamard(Num(q), power(base, q - 1), ds[0])

    def evaluate(self, vals):
        q = self.exponent
        return vals[0] ** (int(q) if q.denominator == 1 else float(q))

    def to_sympy(self, sargs, ctx):
        import sympy
        q = sympy.Rational(self.exponent.numerator, self.exponent.denominator)
        if self.is_scalar:
            try:
                return ctx.as_scalar(sargs[0]) ** q
            except TypeError:   # SymPy's automatic factoring can rebuild a Trace of a scalar product
                return sympy.Pow(ctx.as_scalar(sargs[0]), q, evaluate=False)
        d = sympy.Dummy("t")
        from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
        return ElementwiseApplyFunction(sympy.Lambda(d, d ** q), sargs[0])

    def rebuild(self, args):
        return power(args[0], self.exponent)

    def symmetric_result(self):
        from .linear import transpose
        return transpose(self.args[0]) == self.args[0]


def _exact_power(value: Fraction, q: Fraction) -> Fraction | None:
    if q.denominator == 1:
        if value == 0 and q < 0:
            return None
        return value ** int(q)
    if value < 0:
        return None
    num = round(value.numerator ** (1 / q.denominator))
    den = round(value.denominator ** (1 / q.denominator))
    if num ** q.denominator == value.numerator and den ** q.denominator == value.denominator:
        return Fraction(num, den) ** q.numerator
    return None


def power(base: Expr, q) -> Expr:
    q = Fraction(q)
    if q == 0:
        return ones(base.shape)
    if q == 1:
        return base
    if isinstance(base, Num):
        if base.value == 0 and q < 0:
            raise DerivError("division by zero")
        exact = _exact_power(base.value, q)
        if exact is not None:
            return Num(exact)
    if isinstance(base, Ones):
        return base
    from .norms import Norm, SquaredNorm, squared_norm
    if isinstance(base, Norm) and base.p in ("2", "F") and q == 2:
        return squared_norm(base.args[0], base.p)   # ‖r‖², differentiated as such
    if isinstance(base, SquaredNorm):
        return power(Norm(base.args[0], base.p), 2 * q)
    if isinstance(base, Pow) and (q.denominator == 1 or base.exponent.denominator == 1 and base.exponent % 2 == 1):
        return power(base.args[0], base.exponent * q)
    if isinstance(base, Mul) and base.is_scalar and (q.denominator == 1 or base.coeff > 0):
        c = _exact_power(base.coeff, q)
        if c is not None and (not base.chain):
            return mul(Num(c), *[power(s, q) for s in base.scalars])
    if isinstance(base, Hadamard):
        return hadamard(*[power(a, q) for a in base.args])
    return Pow(base, q)


# ---------------------------------------------------------------- elementwise functions
@dataclass(frozen=True)
class Elementwise:
    tex: str
    numpy: Callable
    derivative: Callable[[Expr, Expr], Expr]  # (u, f(u)) -> f'(u), elementwise
    sympy: Callable
    positive_domain: bool = False


def _sigmoid_np(v):
    """1 / (1 + e^{-v}) without overflow or underflow to 0 on either side."""
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sympy_sigmoid():
    import sympy
    t = sympy.Dummy("t")
    return sympy.Lambda(t, 1 / (1 + sympy.exp(-t)))


def _sp(name):
    def get():
        import sympy
        return getattr(sympy, name)
    return get


def _one_minus(e: Expr) -> Expr:
    return add(ones(e.shape), neg(e))


FUNCTIONS: dict[str, Elementwise] = {
    "exp": Elementwise(r"\exp", np.exp, lambda u, f: f, _sp("exp")),
    "log": Elementwise(r"\log", np.log, lambda u, f: power(u, -1), _sp("log"), positive_domain=True),
    "tanh": Elementwise(r"\tanh", np.tanh, lambda u, f: _one_minus(power(f, 2)), _sp("tanh")),
    "sigmoid": Elementwise(r"\sigma", _sigmoid_np, lambda u, f: hadamard(f, _one_minus(f)), _sympy_sigmoid),
    "sin": Elementwise(r"\sin", np.sin, lambda u, f: func("cos", u), _sp("sin")),
    "cos": Elementwise(r"\cos", np.cos, lambda u, f: neg(func("sin", u)), _sp("cos")),
    "sign": Elementwise(r"\operatorname{sign}", np.sign, lambda u, f: zero(u.shape), _sp("sign")),
    "abs": Elementwise(r"\operatorname{abs}", np.abs, lambda u, f: func("sign", u), _sp("Abs")),
    "tan": Elementwise(r"\tan", np.tan, lambda u, f: add(ones(u.shape), power(f, 2)), _sp("tan")),
    "relu": Elementwise(r"\operatorname{ReLU}", lambda v: np.maximum(v, 0.0), lambda u, f: func("step", u),
                        lambda: _sympy_relu()),
    # the derivative of ReLU: 1 where the argument is positive, 0 elsewhere (0 at the kink)
    "step": Elementwise(r"\operatorname{step}", lambda v: (v > 0).astype(float), lambda u, f: zero(u.shape),
                        lambda: _sympy_step()),
}


def _sympy_relu():
    import sympy
    t = sympy.Dummy("t")
    return sympy.Lambda(t, sympy.Max(0, t))


def _sympy_step():
    import sympy
    t = sympy.Dummy("t")
    return sympy.Lambda(t, sympy.Heaviside(t, 0))


class Func(Expr):
    __slots__ = ("name",)
    prec = 100

    def __init__(self, name: str, arg: Expr):
        self.name = name
        super().__init__((arg,), arg.shape, (name,))

    @property
    def spec(self) -> Elementwise:
        return FUNCTIONS[self.name]

    @property
    def rule(self):
        return f"derivative of {self.name}" + ("" if self.is_scalar else " (elementwise)")

    def differential(self, ds):
        return hadamard(self.spec.derivative(self.args[0], self), ds[0])

    def evaluate(self, vals):
        return self.spec.numpy(vals[0])

    def to_sympy(self, sargs, ctx):
        f = self.spec.sympy()
        if self.is_scalar:
            return f(ctx.as_scalar(sargs[0]))
        from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
        return ElementwiseApplyFunction(f, sargs[0])

    def rebuild(self, args):
        return func(self.name, args[0])

    def symmetric_result(self):
        from .linear import transpose
        return transpose(self.args[0]) == self.args[0]


def func(name: str, arg: Expr) -> Expr:
    if name == "log" and isinstance(arg, Func) and arg.name == "exp":
        return arg.args[0]
    if name == "exp" and isinstance(arg, Func) and arg.name == "log":
        return arg.args[0]
    if isinstance(arg, Num):
        if name in ("exp", "sigmoid", "tanh", "sin") and arg.value == 0:
            return Num({"exp": 1, "sigmoid": Fraction(1, 2)}.get(name, 0))
        if name == "log" and arg.value == 1:
            return Num(0)
    if name == "log" and isinstance(arg, Num) and arg.value <= 0:
        raise DerivError(f"the logarithm of {arg.value} is not defined")
    return Func(name, arg)


# ---------------------------------------------------------------- diag
class Diag(Expr):
    """``diag(v)``: the diagonal matrix with the vector ``v`` on its diagonal."""

    __slots__ = ()
    prec = 100
    rule = "linearity"
    linear = True

    def __init__(self, v: Expr):
        super().__init__((v,), (v.shape[0], v.shape[0]))

    def differential(self, ds):
        return diag(ds[0])

    def vjp(self, seed, i):
        return diagonal(seed)

    def evaluate(self, vals):
        return np.diagflat(vals[0])

    def to_sympy(self, sargs, ctx):
        from ..sympyexplicit import DiagMatrix
        return DiagMatrix(sargs[0])

    def rebuild(self, args):
        return diag(args[0])

    def symmetric_result(self):
        return True


def diag(v: Expr) -> Expr:
    from ..expr import Identity
    if v.is_scalar:
        return v
    if isinstance(v, Ones):
        return Identity(v.shape[0])
    if isinstance(v, Mul) and (v.coeff != 1 or v.scalars):
        return mul(Num(v.coeff), *v.scalars, diag(mul(*v.chain)))
    return Diag(v)


class DiagonalOf(Expr):
    """The diagonal of a square matrix, as a column vector."""

    __slots__ = ()
    prec = 100
    rule = "linearity"
    linear = True

    def __init__(self, m: Expr):
        super().__init__((m,), (m.shape[0], 1))

    def differential(self, ds):
        return diagonal(ds[0])

    def vjp(self, seed, i):
        return diag(seed)

    def evaluate(self, vals):
        return np.diag(vals[0]).reshape(-1, 1).copy()

    def to_sympy(self, sargs, ctx):
        from sympy.matrices.expressions.diagonal import DiagonalOf as SympyDiagonalOf
        return SympyDiagonalOf(sargs[0])

    def rebuild(self, args):
        return diagonal(args[0])


def diagonal(m: Expr) -> Expr:
    from ..expr import Identity
    if m.is_scalar:
        return m
    if isinstance(m, Diag):
        return m.args[0]
    if isinstance(m, Identity):
        return Ones((m.shape[0], 1))
    if isinstance(m, Mul) and (m.coeff != 1 or m.scalars):
        return mul(Num(m.coeff), *m.scalars, diagonal(mul(*m.chain)))
    if isinstance(m, Mul) and m.chain[-1].shape[0] == 1:  # diag(c rᵀ) = c ⊙ r
        from .linear import transpose
        column = mul(*m.chain[:-1])
        if isinstance(column, Mul) and isinstance(column.chain[0], Diag) and len(column.chain) == 2:
            column = hadamard(column.chain[0].args[0], column.chain[1])
        return hadamard(column, transpose(m.chain[-1]))
    return DiagonalOf(m)


__all__ = ["Hadamard", "hadamard", "Pow", "power", "Func", "func", "FUNCTIONS", "Diag", "diag", "DiagonalOf",
           "diagonal", "ONE", "SCALAR"]
