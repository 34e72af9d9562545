"""The principal square root ``X^{1/2}`` and the principal logarithm ``log X`` of a square matrix
(matrix functions, never entry by entry), defined where X has no eigenvalue on (−∞, 0]: the check
draws such an X symmetric positive definite.

Their differentials are linear operations of their own, as the exponential's is:

* ``d X^{1/2} = L`` with ``S L + L S = dX`` (S = X^{1/2}), a Sylvester equation (``SqrtFrechet``;
  printed as its solution ∫₀^∞ e^{−sS} dX e^{−sS} ds, numerically ``scipy.linalg.solve_sylvester``).
  Its adjoint solves the same equation with Sᵀ, so gradients come out of the backward pass; when
  the right side commutes with S the solution is ½ S⁻¹ dX, and tr L = ½ tr(S⁻¹ dX) for every S:
  ∇ tr(X^{1/2}) = ½ X^{−1/2} for a symmetric X.
* ``d log X = ∫₀^∞ (X + sI)⁻¹ dX (X + sI)⁻¹ ds`` (``LogFrechet``; numerically, for a symmetric X,
  the Daleckii–Krein divided differences of log on its eigenvalues, else the upper right block of
  log [[X, dX], [0, X]]). Its adjoint is the same integral at Xᵀ; X⁻¹ dX when dX commutes with X;
  its trace is tr(X⁻¹ dX) for every X (so ∇ tr log X = X⁻ᵀ, as for log det X).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import DerivError
from ..expr import Expr, Identity, InternalShapeError, Num, Zero, fmt_shape, is_zero, zero
from .linear import Add, Mul, Transpose, add, mul, neg, transpose
from .matrix import Inverse, inverse, trace

HALF = Num(Fraction(1, 2))


def _real(value: np.ndarray) -> np.ndarray:
    """The real matrix SciPy computed, or NaNs where the function is not real there (an eigenvalue
    on the negative real axis): outside the domain, which the check then samples again."""
    value = np.asarray(value)
    if np.iscomplexobj(value):
        if np.max(np.abs(value.imag), initial=0.0) > 1e-10 * (1.0 + np.max(np.abs(value.real), initial=0.0)):
            return np.full(value.shape, np.nan)
        value = value.real
    return np.asarray(value, dtype=float)


def _square(X: Expr, what: str) -> None:
    if X.shape[0] != X.shape[1]:
        raise InternalShapeError(f"{what} of a {fmt_shape(X.shape)} matrix")


# ---------------------------------------------------------------- the square root
class MatSqrt(Expr):
    """``X^{1/2}``: the principal square root (the S with S S = X and eigenvalues of positive real part)."""

    __slots__ = ()
    prec = 90   # a superscript, like X^{-1}
    rule = "derivative of the matrix square root S: S dS + dS S = dX"

    def __init__(self, arg: Expr):
        super().__init__((arg,), arg.shape)

    def differential(self, ds):
        return sqrt_frechet(self, ds[0])

    def evaluate(self, vals):
        from scipy.linalg import sqrtm
        return _real(sqrtm(vals[0]))

    def to_sympy(self, sargs, ctx):
        return sympy_sqrt(sargs[0])

    def rebuild(self, args):
        return matsqrt(args[0])

    def symmetric_result(self):
        return transpose(self.args[0]) == self.args[0]

    def print_with(self, p) -> str:
        return p.sup(p(self.args[0], 91), "1/2")


def matsqrt(X: Expr) -> Expr:
    """``X^{1/2}`` of a square ``X`` (the ordinary square root of a 1×1 one)."""
    _square(X, "matrix square root")
    if X.is_scalar:
        from .elementwise import power
        return power(X, Fraction(1, 2))
    if isinstance(X, (Identity, Zero)):
        return X
    if isinstance(X, Transpose):   # (Yᵀ)^{1/2} = (Y^{1/2})ᵀ: transposes outside
        return transpose(matsqrt(X.args[0]))
    if isinstance(X, Inverse):     # (Y⁻¹)^{1/2} = (Y^{1/2})⁻¹
        return inverse(matsqrt(X.args[0]))
    from .matfunc import _identity_multiple
    s = _identity_multiple(X)
    if s is not None:              # (sI)^{1/2} = √s I
        from .elementwise import power
        return mul(power(s, Fraction(1, 2)), Identity(X.shape[0]))
    return MatSqrt(X)


class SqrtFrechet(Expr):
    """The ``L`` with ``S L + L S = E``: the derivative of the square root S = X^{1/2} in the
    direction E (linear in E). Printed as its solution ∫₀^∞ e^{−sS} E e^{−sS} ds, which holds when
    S's eigenvalues have positive real parts (as a principal square root's have)."""

    __slots__ = ()
    prec = 15   # an integral: parenthesized inside products
    rule = "derivative of the matrix square root S: S dS + dS S = dX"
    linear = True   # in E

    def __init__(self, S: Expr, E: Expr):
        super().__init__((S, E), S.shape)

    def differential(self, ds):
        # S L + L S = E, so S dL + dL S = dE − dS L − L dS
        dS, dE = ds
        S, L = self.args[0], self
        rhs = [dE] if dE is not None else []
        if dS is not None:
            rhs += [neg(mul(dS, L)), neg(mul(L, dS))]
        return sqrt_frechet(S, add(*rhs))

    def vjp(self, seed, i):
        if i != 1:
            raise NotImplementedError("SqrtFrechet is linear in its right side only")
        return sqrt_frechet(transpose(self.args[0]), seed)   # ⟨G, L⟩ = ⟨M, E⟩ with Sᵀ M + M Sᵀ = G

    def evaluate(self, vals):
        from scipy.linalg import solve_sylvester
        S, E = vals
        return solve_sylvester(S, S, E)

    def to_sympy(self, sargs, ctx):
        return sympy_sylvester(*sargs)

    def rebuild(self, args):
        return sqrt_frechet(args[0], args[1])

    def trace_form(self) -> Expr:
        """tr L = ½ tr(S⁻¹ E): S⁻¹(S L + L S) = S⁻¹E, and tr(S⁻¹ L S) = tr L."""
        return mul(HALF, trace(mul(inverse(self.args[0]), self.args[1])))

    def print_with(self, p) -> str:
        S, E = p(self.args[0], 21), p(self.args[1], 21)
        if p.latex:
            return rf"\int_0^\infty e^{{-s {S}}} {E} e^{{-s {S}}} \, \mathrm{{d}}s"
        return f"∫₀^∞ e^(-s{S}) {E} e^(-s{S}) ds"


def sqrt_frechet(S: Expr, E: Expr) -> Expr:
    """The solution L of ``S L + L S = E``: ½ S⁻¹ E when E commutes with S."""
    from .matfunc import commute
    _square(S, "Sylvester equation")
    if E.shape != S.shape:
        raise InternalShapeError(f"right side {fmt_shape(E.shape)} for a {fmt_shape(S.shape)} Sylvester equation")
    if is_zero(E):
        return zero(S.shape)
    if S.is_scalar:
        return mul(HALF, inverse(S), E)
    if isinstance(E, Add):
        return add(*[sqrt_frechet(S, t) for t in E.args])
    if isinstance(E, Mul) and (E.coeff != 1 or E.scalars):
        return mul(Num(E.coeff), *E.scalars, sqrt_frechet(S, mul(*E.chain)))
    if commute(S, E):
        return mul(HALF, inverse(S), E)
    if isinstance(S, Transpose):   # Yᵀ L + L Yᵀ = E  ⇔  Y Lᵀ + Lᵀ Y = Eᵀ
        return transpose(sqrt_frechet(S.args[0], transpose(E)))
    return SqrtFrechet(S, E)


# ---------------------------------------------------------------- the logarithm
class MatLog(Expr):
    """``log X``: the principal logarithm (the L with e^L = X and eigenvalues' imaginary parts in (−π, π))."""

    __slots__ = ()
    prec = 100   # printed with its parentheses: log(X)
    rule = "derivative of the matrix logarithm"

    def __init__(self, arg: Expr):
        super().__init__((arg,), arg.shape)

    def differential(self, ds):
        return log_frechet(self.args[0], ds[0])

    def evaluate(self, vals):
        from scipy.linalg import logm
        return _real(logm(vals[0]))

    def to_sympy(self, sargs, ctx):
        return sympy_log(sargs[0])

    def rebuild(self, args):
        return matlog(args[0])

    def symmetric_result(self):
        return transpose(self.args[0]) == self.args[0]

    def print_with(self, p) -> str:
        name = r"\log" if p.latex else "log"
        return f"{name}{p.paren(p(self.args[0]))}"


def matlog(X: Expr) -> Expr:
    """``log X`` of a square ``X`` (the ordinary logarithm of a 1×1 one)."""
    _square(X, "matrix logarithm")
    from .elementwise import func
    if X.is_scalar:
        return func("log", X)
    if isinstance(X, Identity):
        return zero(X.shape)
    if isinstance(X, Transpose):   # log Yᵀ = (log Y)ᵀ
        return transpose(matlog(X.args[0]))
    if isinstance(X, Inverse):     # log Y⁻¹ = −log Y (no eigenvalue on the negative real axis)
        return neg(matlog(X.args[0]))
    from .matfunc import _identity_multiple
    s = _identity_multiple(X)
    if s is not None:              # log(sI) = log(s) I
        return mul(func("log", s), Identity(X.shape[0]))
    return MatLog(X)


class LogFrechet(Expr):
    """``∫₀^∞ (X + sI)⁻¹ E (X + sI)⁻¹ ds``: the derivative of log X in the direction E (linear in E)."""

    __slots__ = ()
    prec = 15
    rule = "derivative of the matrix logarithm"
    linear = True   # in E

    def __init__(self, X: Expr, E: Expr):
        super().__init__((X, E), X.shape)

    def differential(self, ds):
        if ds[0] is not None:
            raise DerivError(
                "the second derivative of log X by a matrix X (the derivative of ∫₀^∞ (X + sI)⁻¹ E (X + sI)⁻¹ ds "
                "with respect to X) is not supported yet; first derivatives of log X are")
        return log_frechet(self.args[0], ds[1])

    def vjp(self, seed, i):
        if i != 1:
            raise NotImplementedError("LogFrechet is linear in its direction only")
        return log_frechet(transpose(self.args[0]), seed)

    def evaluate(self, vals):
        return log_frechet_numbers(*vals)

    def to_sympy(self, sargs, ctx):
        return sympy_log_frechet(*sargs)

    def rebuild(self, args):
        return log_frechet(args[0], args[1])

    def trace_form(self) -> Expr:
        """tr L = tr(X⁻¹ E): the trace is cyclic and ∫₀^∞ (X + sI)⁻² ds = X⁻¹."""
        return trace(mul(inverse(self.args[0]), self.args[1]))

    def print_with(self, p) -> str:
        X, E = p(self.args[0], 10), p(self.args[1], 21)
        if p.latex:
            return rf"\int_0^\infty (s I + {X})^{{-1}} {E} (s I + {X})^{{-1}} \, \mathrm{{d}}s"
        return f"∫₀^∞ (sI + {X})⁻¹ {E} (sI + {X})⁻¹ ds"


def log_frechet(X: Expr, E: Expr) -> Expr:
    """``∫₀^∞ (X + sI)⁻¹ E (X + sI)⁻¹ ds``, which is ``X⁻¹ E`` when E commutes with X."""
    from .matfunc import commute
    _square(X, "matrix logarithm")
    if E.shape != X.shape:
        raise InternalShapeError(f"direction {fmt_shape(E.shape)} for the logarithm of a {fmt_shape(X.shape)} matrix")
    if is_zero(E):
        return zero(X.shape)
    if X.is_scalar:
        return mul(inverse(X), E)
    if isinstance(E, Add):
        return add(*[log_frechet(X, t) for t in E.args])
    if isinstance(E, Mul) and (E.coeff != 1 or E.scalars):
        return mul(Num(E.coeff), *E.scalars, log_frechet(X, mul(*E.chain)))
    if commute(X, E):
        return mul(inverse(X), E)
    if isinstance(X, Transpose):   # L(Yᵀ, E) = L(Y, Eᵀ)ᵀ
        return transpose(log_frechet(X.args[0], transpose(E)))
    return LogFrechet(X, E)


def log_frechet_numbers(X: np.ndarray, E: np.ndarray) -> np.ndarray:
    """The Fréchet derivative of the principal logarithm at X in the direction E. For a symmetric
    positive definite X, Q (F ∘ QᵀEQ) Qᵀ with X = Q diag(λ) Qᵀ and F the divided differences of log
    (log1p of the ratio, so close eigenvalues lose no digits); otherwise the upper right block of
    log [[X, E], [0, X]]."""
    X, E = np.asarray(X, dtype=float), np.asarray(E, dtype=float)
    if np.array_equal(X, X.T):
        lam, Q = np.linalg.eigh(X)
        if lam.size and lam[0] > 0:
            return Q @ (log_divided_differences(lam) * (Q.T @ E @ Q)) @ Q.T
    from scipy.linalg import logm
    n = X.shape[0]
    block = np.block([[X, E], [np.zeros_like(X), X]])
    return _real(logm(block))[:n, n:]


def log_divided_differences(lam: np.ndarray) -> np.ndarray:
    """F_ij = (log λ_i − log λ_j)/(λ_i − λ_j), 1/λ_i where they are equal, for positive λ."""
    li, lj = lam[:, None], lam[None, :]
    delta = li - lj
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log1p(delta / lj) / delta
    return np.where(np.abs(delta) <= 1e-12 * np.maximum(np.abs(li), np.abs(lj)), 1.0 / lj, ratio)


# ---------------------------------------------------------------- SymPy nodes
def _sqrtm(X):
    from scipy.linalg import sqrtm
    return _real(sqrtm(X))


def _logm(X):
    from scipy.linalg import logm
    return _real(logm(X))


def _sylvester(S, E):
    from scipy.linalg import solve_sylvester
    return solve_sylvester(S, S, E)


def _same_shape(args):
    return args[0].shape


def _sqrt_tex(a):
    return r"\left(%s\right)^{1/2}" % a[0]


def _sqrt_text(a):
    return "(%s)**(1/2)" % a[0]


def _log_tex(a):
    return r"\log\left(%s\right)" % a[0]


def _log_text(a):
    return "log(%s)" % a[0]


def _sylvester_tex(a):
    return r"\int_0^\infty e^{-s %s} %s e^{-s %s} \, ds" % (a[0], a[1], a[0])


def _sylvester_text(a):
    return "Integral(exp(-s*(%s))*%s*exp(-s*(%s)), (s, 0, oo))" % (a[0], a[1], a[0])


def _log_frechet_tex(a):
    return r"\int_0^\infty \left(s I + %s\right)^{-1} %s \left(s I + %s\right)^{-1} \, ds" % (a[0], a[1], a[0])


def _log_frechet_text(a):
    return "Integral((s*I + %s)**(-1)*%s*(s*I + %s)**(-1), (s, 0, oo))" % (a[0], a[1], a[0])


def sympy_sqrt(X):
    from .numeric_sympy import matrix_class
    return matrix_class("MatrixSqrt", _sqrtm, _same_shape, _sqrt_tex, _sqrt_text)(X)


def sympy_log(X):
    from .numeric_sympy import matrix_class
    return matrix_class("MatrixLog", _logm, _same_shape, _log_tex, _log_text)(X)


def sympy_sylvester(S, E):
    from .numeric_sympy import matrix_class
    return matrix_class("MatrixSqrtFrechet", _sylvester, _same_shape, _sylvester_tex, _sylvester_text)(S, E)


def sympy_log_frechet(X, E):
    from .numeric_sympy import matrix_class
    return matrix_class("MatrixLogFrechet", log_frechet_numbers, _same_shape, _log_frechet_tex,
                        _log_frechet_text)(X, E)


__all__ = ["MatSqrt", "matsqrt", "SqrtFrechet", "sqrt_frechet", "MatLog", "matlog", "LogFrechet", "log_frechet",
           "log_frechet_numbers"]
