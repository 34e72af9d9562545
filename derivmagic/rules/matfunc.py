"""Functions of square matrices as matrix functions: ``e^{X}`` is the matrix exponential
(the power series I + X + X²/2! + ...), never the exponential of each entry.

The differential of the exponential is its Fréchet derivative,

    d e^{X} = ∫₀¹ e^{sX} dX e^{(1−s)X} ds,

kept as its own operation (``ExpFrechet``, linear in ``dX``; numerically the upper right
block of exp([[X, dX], [0, X]])). When ``dX`` commutes with ``X`` (structurally: both are
polynomials in one matrix, as for X = t·A and dX = dt·A) the integral is ``e^{X} dX``.
Its adjoint is the Fréchet derivative at ``Xᵀ``: ⟨S, L(X, E)⟩ = ⟨L(Xᵀ, S), E⟩, so
gradients through ``e^{X}`` come out of the ordinary backward pass.

The principal square root and logarithm live in ``sqrtlog.py``; any other scalar function of a
square matrix asked for as a matrix function is refused with the reason.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..errors import DerivError
from ..expr import ONE, Expr, Identity, InternalShapeError, Num, Zero, fmt_shape, is_zero, zero
from .linear import Add, Mul, Transpose, add, mul, transpose
from .matrix import Inverse, det, trace


# ---------------------------------------------------------------- the exponential
class MatExp(Expr):
    """``e^{X}`` of a square matrix ``X`` (the matrix exponential)."""

    __slots__ = ()
    prec = 90  # like X^{-1}: a transpose of it needs parentheses, (e^{X})^T
    rule = "derivative of the matrix exponential"

    def __init__(self, arg: Expr):
        super().__init__((arg,), arg.shape)

    def differential(self, ds):
        return exp_frechet(self.args[0], ds[0])

    def evaluate(self, vals):
        from scipy.linalg import expm
        return expm(vals[0])

    def to_sympy(self, sargs, ctx):
        return sympy_classes()[0](sargs[0])

    def rebuild(self, args):
        return matexp(args[0])

    def symmetric_result(self):
        return transpose(self.args[0]) == self.args[0]


def matexp(X: Expr) -> Expr:
    """``e^{X}`` for a square ``X``: the matrix exponential (the ordinary one on scalars)."""
    if X.shape[0] != X.shape[1]:
        raise InternalShapeError(f"matrix exponential of a {fmt_shape(X.shape)} matrix")
    if X.is_scalar:
        from .elementwise import func
        return func("exp", X)
    if isinstance(X, Zero):
        return Identity(X.shape[0])
    if isinstance(X, Transpose):  # e^{Yᵀ} = (e^{Y})ᵀ, transposes outside as for inverses
        return transpose(matexp(X.args[0]))
    scalar = _identity_multiple(X)
    if scalar is not None:  # e^{sI} = e^{s} I
        from .elementwise import func
        return mul(func("exp", scalar), Identity(X.shape[0]))
    return MatExp(X)


def _identity_multiple(X: Expr) -> Expr | None:
    """``s`` when ``X = s·I`` (``s`` a scalar expression), else None."""
    if isinstance(X, Identity):
        return ONE
    if isinstance(X, Mul) and len(X.chain) == 1 and isinstance(X.chain[0], Identity):
        return mul(Num(X.coeff), *X.scalars)
    return None


# ---------------------------------------------------------------- its Fréchet derivative
class ExpFrechet(Expr):
    """``L(X, E) = ∫₀¹ e^{sX} E e^{(1−s)X} ds``: the derivative of ``e^{X}`` in the direction ``E``.

    Linear in ``E`` (the second argument); it appears only inside differentials."""

    __slots__ = ()
    prec = 15  # an integral: parenthesized inside products
    rule = "derivative of the matrix exponential"
    linear = True  # in E; X never holds the differential

    def __init__(self, X: Expr, E: Expr):
        super().__init__((X, E), X.shape)

    def differential(self, ds):
        dX, dE = ds
        if dX is not None:
            raise DerivError(
                "the second derivative of e^{X} by a matrix X (the derivative of ∫₀¹ e^{sX} E e^{(1−s)X} ds "
                "with respect to X) is not supported yet; first derivatives of e^{X} are")
        return exp_frechet(self.args[0], dE)

    def vjp(self, seed, i):
        if i != 1:
            raise NotImplementedError("ExpFrechet is linear in its direction only")
        return exp_frechet(transpose(self.args[0]), seed)

    def evaluate(self, vals):
        from scipy.linalg import expm_frechet
        X, E = vals
        return expm_frechet(X, E, compute_expm=False)

    def to_sympy(self, sargs, ctx):
        return sympy_classes()[1](sargs[0], sargs[1])

    def rebuild(self, args):
        return exp_frechet(args[0], args[1])

    def trace_form(self) -> Expr:
        """tr L(X, E) = tr(e^{X} E) for every X: the trace is cyclic, and e^{sX} commutes with e^{(1−s)X}."""
        return trace(mul(matexp(self.args[0]), self.args[1]))


def exp_frechet(X: Expr, E: Expr) -> Expr:
    """``∫₀¹ e^{sX} E e^{(1−s)X} ds``, which is ``e^{X} E`` when ``E`` commutes with ``X``."""
    if E.shape != X.shape:
        raise InternalShapeError(f"direction {fmt_shape(E.shape)} for the exponential of a {fmt_shape(X.shape)} matrix")
    if X.is_scalar:
        return mul(matexp(X), E)
    if is_zero(E):
        return zero(X.shape)
    if is_zero(X):  # e^{s·0} = I
        return E
    if isinstance(E, Add):
        return add(*[exp_frechet(X, t) for t in E.args])
    if isinstance(E, Mul) and (E.coeff != 1 or E.scalars):
        return mul(Num(E.coeff), *E.scalars, exp_frechet(X, mul(*E.chain)))
    if commute(X, E):
        return mul(matexp(X), E)
    if isinstance(X, Transpose):  # L(Yᵀ, E) = L(Y, Eᵀ)ᵀ
        return transpose(exp_frechet(X.args[0], transpose(E)))
    return ExpFrechet(X, E)


def commute(X: Expr, E: Expr) -> bool:
    """Whether ``XE = EX`` can be seen from the structure alone: every term of both is a
    scalar multiple of the same matrix, or all their factors are one square matrix, its
    inverse or the identity (so both are polynomials in one matrix). False means "not seen"."""
    parts = {p for p in (_matrix_part(t) for t in _terms(X) + _terms(E)) if p is not None}
    if len(parts) <= 1:
        return True
    bases = set()
    for p in parts:
        for f in (p.chain if isinstance(p, Mul) else (p,)):
            if f.shape[0] != f.shape[1]:
                return False
            if not isinstance(f, Identity):
                bases.add(f.args[0] if isinstance(f, Inverse) else f)
    return len(bases) <= 1


def _terms(e: Expr) -> tuple:
    return e.args if isinstance(e, Add) else (e,)


def _matrix_part(t: Expr) -> Expr | None:
    """The matrix a term is a scalar multiple of; None for a multiple of the identity."""
    if isinstance(t, Mul):
        chain = [c for c in t.chain if not isinstance(c, Identity)]
        return mul(*chain) if chain else None
    if isinstance(t, Identity):
        return None
    return t


# ---------------------------------------------------------------- what the reader calls
def matrix_function(name: str, X: Expr, *, elementwise_spelling: str | None = None) -> Expr:
    """``name`` applied to the square matrix ``X`` as a matrix function.

    ``"exp"`` gives the matrix exponential, ``"sqrt"`` (``X^{1/2}``) the principal square root and
    ``"log"`` the principal logarithm (``rules.sqrtlog``); any other name raises a ``DerivError``
    that says what the function is and why it is not supported.
    ``elementwise_spelling`` (e.g. ``r"\\log \\odot X"``), when the reader has a notation for
    the entrywise function, is quoted in that message. On a 1×1 argument the ordinary
    scalar function is returned."""
    if X.shape[0] != X.shape[1]:
        raise InternalShapeError(f"matrix function {name} of a {fmt_shape(X.shape)} matrix")
    if X.is_scalar:
        return _scalar_function(name, X)
    if name == "exp":
        return matexp(X)
    if name == "sqrt":
        from .sqrtlog import matsqrt
        return matsqrt(X)
    if name == "log":
        from .sqrtlog import matlog
        return matlog(X)
    x, shape = _show(X), fmt_shape(X.shape)
    arg = f" {x}" if _is_atom(X) else f"({x})"   # sin X, sin(tA)
    entrywise = (f"For {name} of each entry write {elementwise_spelling}." if elementwise_spelling
                 else "A function of a square matrix is read as the matrix function, never entry by entry.")
    raise DerivError(
        f"{name}{arg} of the square matrix {x} ({shape}) is a matrix function (the power series of {name} "
        f"in {x}), not {name} of each entry; of the matrix functions only e^X, X^{{1/2}} and log X are "
        f"supported yet. {entrywise}")


def trace_matrix_function(name: str, X: Expr, *, elementwise_spelling: str | None = None) -> Expr:
    """``tr f(X)`` of a square ``X``, with the closed forms that need no matrix function:
    tr e^{X} (whose differential is tr(e^{X} dX) for every X) and tr log X = log det X."""
    if X.shape[0] != X.shape[1]:
        raise InternalShapeError(f"matrix function {name} of a {fmt_shape(X.shape)} matrix")
    if name == "log" and not X.is_scalar:
        from .elementwise import func
        return func("log", det(X))
    return trace(matrix_function(name, X, elementwise_spelling=elementwise_spelling))


def _scalar_function(name: str, x: Expr) -> Expr:
    if name == "sqrt":
        from .elementwise import power
        return power(x, Fraction(1, 2))
    from .elementwise import FUNCTIONS, func
    if name not in FUNCTIONS:
        raise DerivError(f"unknown function {name}")
    return func(name, x)


def _is_atom(X: Expr) -> bool:
    from ..expr import Sym
    return isinstance(X, Sym)


def _show(X: Expr) -> str:
    from ..render import to_text
    try:
        text = to_text(X)
    except Exception:  # noqa: BLE001 - a node the printer does not know yet: name it generically
        return "X"
    return text if len(text) <= 40 else "X"


# ---------------------------------------------------------------- SymPy nodes
@lru_cache(maxsize=None)
def sympy_classes():
    """``MatrixExp`` and ``MatrixExpFrechet``: matrix expressions whose ``doit()`` evaluates them
    once their arguments are explicit (numerically with SciPy when the entries are numbers,
    since SymPy's own ``Matrix.exp`` goes through a Jordan form and stalls on floats)."""
    import sympy
    from sympy.matrices.expressions.matexpr import MatrixExpr

    class MatrixExp(MatrixExpr):
        """e^{X} of a square matrix expression."""

        def __new__(cls, arg):
            if not getattr(arg, "is_Matrix", False):
                raise TypeError(f"MatrixExp of a non-matrix {arg}")
            return MatrixExpr.__new__(cls, arg)

        @property
        def arg(self):
            return self.args[0]

        @property
        def shape(self):
            return self.args[0].shape

        def doit(self, **hints):
            arg = _explicit(self.arg.doit(**hints) if hints.get("deep", True) else self.arg)
            if isinstance(arg, sympy.MatrixBase):
                return _explicit_exp(arg)
            return MatrixExp(arg)

        def _eval_transpose(self):
            return MatrixExp(sympy.Transpose(self.arg))

        def _latex(self, printer):
            return "e^{%s}" % printer._print(self.arg)

        def _sympystr(self, printer):
            return "exp(%s)" % printer._print(self.arg)

    class MatrixExpFrechet(MatrixExpr):
        """∫₀¹ e^{sX} E e^{(1−s)X} ds: the upper right block of exp([[X, E], [0, X]])."""

        def __new__(cls, X, E):
            return MatrixExpr.__new__(cls, X, E)  # MatrixExpr converts strictly: no strings

        @property
        def shape(self):
            return self.args[0].shape

        def doit(self, **hints):
            X, E = (_explicit(a.doit(**hints) if hints.get("deep", True) else a) for a in self.args)
            if isinstance(X, sympy.MatrixBase) and isinstance(E, sympy.MatrixBase):
                n = X.shape[0]
                block = sympy.Matrix(X).row_join(sympy.Matrix(E)).col_join(sympy.zeros(n, n).row_join(sympy.Matrix(X)))
                return _explicit_exp(block)[:n, n:]
            return MatrixExpFrechet(X, E)

        def _eval_transpose(self):
            return MatrixExpFrechet(sympy.Transpose(self.args[0]), sympy.Transpose(self.args[1]))

        def _latex(self, printer):
            X, E = (printer._print(a) for a in self.args)
            if isinstance(self.args[0], sympy.MatAdd):
                X = r"\left(%s\right)" % X
            return r"\int_0^1 e^{s %s} %s e^{(1-s) %s} \, ds" % (X, E, X)

        def _sympystr(self, printer):
            X, E = (printer._print(a) for a in self.args)
            return f"Integral(exp(s*({X}))*{E}*exp((1 - s)*({X})), (s, 0, 1))"

    return MatrixExp, MatrixExpFrechet


def _explicit(M):
    """An explicit matrix for a matrix expression without symbols whose ``doit`` stops short
    (SymPy leaves ``I + Matrix(...)`` as a sum); anything else unchanged."""
    import sympy
    if isinstance(M, sympy.MatrixBase) or M.free_symbols or not all(d.is_Integer for d in M.shape):
        return M
    try:
        return M.as_explicit()
    except Exception:  # noqa: BLE001 - an expression SymPy cannot spell out: leave it symbolic
        return M


def _explicit_exp(M):
    import sympy
    from scipy.linalg import expm
    if not M.free_symbols and all(v.is_number for v in M):
        try:
            a = np.array(M.evalf().tolist(), dtype=float)
        except TypeError:
            a = np.array(M.evalf().tolist(), dtype=complex)
        return sympy.ImmutableMatrix(expm(a))
    return sympy.ImmutableMatrix(sympy.Matrix(M).exp())


__all__ = ["MatExp", "matexp", "ExpFrechet", "exp_frechet", "commute", "matrix_function", "trace_matrix_function",
           "sympy_classes"]
