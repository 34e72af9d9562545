"""Eigenvalues and singular values, and the norms built on them, each with its rule beside it.

* ``λ_k(M)`` of a symmetric M (``λ_max``, ``λ_min``, ``λ_1 ≥ λ_2 ≥ …``): where the eigenvalue is
  simple, dλ = vᵀ dM v with v its unit eigenvector, so ∇_X λ_k(X) = v vᵀ.
* ``σ_k(M)`` of any M (``σ_max`` is the spectral norm ‖M‖₂): where the singular value is simple and
  nonzero, dσ = uᵀ dM v with u, v its unit singular vectors, so ∇_X ‖X‖₂ = u₁v₁ᵀ.
* ``‖M‖_*``, the nuclear norm (the sum of the singular values): where M has full rank,
  d‖M‖_* = tr((U Vᵀ)ᵀ dM) with M = U Σ Vᵀ the thin SVD, so ∇_X ‖X‖_* = U Vᵀ.

The vectors (and U Vᵀ) are operations of their own that appear only in derivatives; their own
derivatives (second derivatives of λ, σ or ‖·‖_*) are refused by name. An eigenvector's sign is
arbitrary and v vᵀ does not depend on it; u and v come from one decomposition, so u vᵀ does not either.
"""
from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from ..errors import DerivError
from ..expr import SCALAR, Expr, InternalShapeError, fmt_shape
from .linear import mul, transpose
from .matrix import trace

CHECK_INDEX = 2   # λ_i, σ_i with a letter for the index: the numeric check takes the 2nd largest


def order_of(which: str, dim) -> object:
    """How ``which`` (as written: ``max``, ``min``, ``3``, ``i``) picks a value in decreasing order:
    "max", "min", a position k ≥ 1, or "index" (a letter, checked at ``CHECK_INDEX``); a letter that
    names the matrix's own dimension (λ_n of an n×n matrix) is the smallest."""
    if which in ("max", "min"):
        return which
    if which.isdigit():
        k = int(which)
        if k < 1:
            raise DerivError(f"eigen- and singular values are counted from 1 (the largest), not {which}")
        return k
    return "min" if which == str(dim) else "index"


def _position(order, count: int) -> int:
    """The position in decreasing order (0 the largest) among ``count`` values."""
    if order == "max":
        return 0
    if order == "min":
        return count - 1
    k = min(CHECK_INDEX, count) if order == "index" else order
    if k > count:
        raise ValueError(f"the {k}-th largest of {count} values does not exist")
    return k - 1


def _sub(which: str, latex: bool) -> str:
    if which in ("max", "min"):
        return rf"_{{\{which}}}" if latex else f"_{which}"
    return f"_{{{which}}}" if latex else f"_{which}"


def _applied(p, head: str, which: str, arg: Expr) -> str:
    return f"{head}{_sub(which, p.latex)}{p.paren(p(arg))}"


# ---------------------------------------------------------------- eigenvalues of a symmetric matrix
def eigen_numbers(M: np.ndarray, order) -> tuple[float, np.ndarray]:
    """(λ, v): the eigenvalue of the symmetric M at ``order`` and a unit eigenvector (a column)."""
    M = np.asarray(M, dtype=float)
    lam, Q = np.linalg.eigh((M + M.T) / 2)
    k = len(lam) - 1 - _position(order, len(lam))   # eigh sorts increasing
    return float(lam[k]), Q[:, k:k + 1]


class Eigenvalue(Expr):
    """``λ_k(M)``: an eigenvalue of the symmetric matrix M, assumed simple."""

    __slots__ = ("which", "order")
    prec = 100
    rule = "derivative of a simple eigenvalue: dλ = vᵀ dX v"

    def __init__(self, M: Expr, which: str, order):
        self.which, self.order = which, order
        super().__init__((M,), SCALAR, (which, order))

    def differential(self, ds):
        v = eigenvector_of(self)
        return mul(transpose(v), ds[0], v)

    def evaluate(self, vals):
        return np.full((1, 1), eigen_numbers(vals[0], self.order)[0])

    def to_sympy(self, sargs, ctx):
        return _sympy_eigenvalue(self.which, self.order)(sargs[0])

    def rebuild(self, args):
        return eigenvalue(args[0], self.which)

    def print_with(self, p) -> str:
        return _applied(p, r"\lambda" if p.latex else "λ", self.which, self.args[0])


class Eigenvector(Expr):
    """``v_k(M)``: the unit eigenvector of the simple eigenvalue λ_k(M) (its sign does not matter
    where it appears, in v vᵀ)."""

    __slots__ = ("which", "order")
    prec = 100
    rule = "derivative of an eigenvector"

    def __init__(self, M: Expr, which: str, order):
        self.which, self.order = which, order
        super().__init__((M,), (M.shape[0], 1), (which, order))

    def differential(self, ds):
        raise DerivError("the derivative of an eigenvector (a second derivative of an eigenvalue) is not "
                         "supported; first derivatives of eigenvalues are")

    def evaluate(self, vals):
        return eigen_numbers(vals[0], self.order)[1]

    def to_sympy(self, sargs, ctx):
        return _sympy_eigenvector(self.which, self.order)(sargs[0])

    def rebuild(self, args):
        return Eigenvector(args[0], self.which, self.order)

    def print_with(self, p) -> str:
        return _applied(p, "v", self.which, self.args[0])


def eigenvalue(M: Expr, which: str) -> Expr:
    """``λ_which(M)`` of a square ``M`` (the caller makes sure it is symmetric); of a 1×1 M, M."""
    if M.shape[0] != M.shape[1]:
        raise InternalShapeError(f"eigenvalue of a {fmt_shape(M.shape)} matrix")
    if M.is_scalar:
        return M
    return Eigenvalue(M, which, order_of(which, M.shape[0]))


def eigenvector_of(e: Eigenvalue) -> Expr:
    return Eigenvector(e.args[0], e.which, e.order)


def is_symmetric(M: Expr) -> bool:
    """Whether ``M = Mᵀ`` is seen from the structure: ``XᵀX``, ``BᵀSB`` with S symmetric, ``A + Aᵀ``."""
    from .linear import Add
    t = transpose(M)
    if t == M:
        return True
    return isinstance(M, Add) and isinstance(t, Add) and set(M.args) == set(t.args)


# ---------------------------------------------------------------- singular values
def svd_numbers(M: np.ndarray, order) -> tuple[float, np.ndarray, np.ndarray]:
    """(σ, u, v) at ``order`` (decreasing), u and v unit columns from one decomposition."""
    U, s, Vt = np.linalg.svd(np.asarray(M, dtype=float), full_matrices=False)
    k = _position(order, len(s))
    return float(s[k]), U[:, k:k + 1], Vt[k:k + 1].T


class SingularValue(Expr):
    """``σ_k(M)``, assumed simple and nonzero; with ``norm``, the spectral norm ‖M‖₂ = σ_max(M)."""

    __slots__ = ("which", "order", "norm")
    prec = 100
    rule = "derivative of a simple singular value: dσ = uᵀ dX v"

    def __init__(self, M: Expr, which: str, order, norm: bool = False):
        self.which, self.order, self.norm = which, order, norm
        super().__init__((M,), SCALAR, (which, order, norm))

    @property
    def vectors(self) -> tuple[Expr, Expr]:
        M = self.args[0]
        return SingularVector(M, self.which, self.order, "u"), SingularVector(M, self.which, self.order, "v")

    def differential(self, ds):
        u, v = self.vectors
        return mul(transpose(u), ds[0], v)

    def evaluate(self, vals):
        return np.full((1, 1), svd_numbers(vals[0], self.order)[0])

    def to_sympy(self, sargs, ctx):
        return _sympy_singular_value(self.which, self.order, self.norm)(sargs[0])

    def rebuild(self, args):
        return singular_value(args[0], self.which, norm=self.norm)

    def print_with(self, p) -> str:
        if self.norm:
            inner = p(self.args[0])
            return rf"\left\| {inner} \right\|_{{2}}" if p.latex else f"‖{inner}‖₂"
        return _applied(p, r"\sigma" if p.latex else "σ", self.which, self.args[0])


class SingularVector(Expr):
    """``u_k(M)`` (``side`` "u", m×1) or ``v_k(M)`` (``side`` "v", n×1): the unit singular vectors of σ_k(M)."""

    __slots__ = ("which", "order", "side")
    prec = 100
    rule = "derivative of a singular vector"

    def __init__(self, M: Expr, which: str, order, side: str):
        self.which, self.order, self.side = which, order, side
        rows = M.shape[0] if side == "u" else M.shape[1]
        super().__init__((M,), (rows, 1), (which, order, side))

    def differential(self, ds):
        raise DerivError("the derivative of a singular vector (a second derivative of a singular value or of "
                         "the spectral norm) is not supported; first derivatives are")

    def evaluate(self, vals):
        return svd_numbers(vals[0], self.order)[1 if self.side == "u" else 2]

    def to_sympy(self, sargs, ctx):
        return _sympy_singular_vector(self.which, self.order, self.side)(sargs[0])

    def rebuild(self, args):
        return SingularVector(args[0], self.which, self.order, self.side)

    def print_with(self, p) -> str:
        return _applied(p, self.side, self.which, self.args[0])


def singular_value(M: Expr, which: str, norm: bool = False) -> Expr:
    """``σ_which(M)``; with ``norm``, the spectral norm ‖M‖₂ (σ_max). Of a 1×1 M, |M|."""
    if M.is_scalar:
        from .elementwise import func
        return func("abs", M)
    order = order_of(which, None)
    return SingularValue(M, which, order, norm)


# ---------------------------------------------------------------- the nuclear norm
def polar_numbers(M: np.ndarray) -> np.ndarray:
    """U Vᵀ from the thin SVD M = U Σ Vᵀ."""
    U, _, Vt = np.linalg.svd(np.asarray(M, dtype=float), full_matrices=False)
    return U @ Vt


class NuclearNorm(Expr):
    """``‖M‖_*``: the sum of the singular values (differentiable where M has full rank)."""

    __slots__ = ()
    prec = 100
    rule = "derivative of the nuclear norm: d‖X‖_* = tr(V Uᵀ dX)"

    def __init__(self, M: Expr):
        super().__init__((M,), SCALAR)

    def differential(self, ds):
        return trace(mul(transpose(SVDPolar(self.args[0])), ds[0]))

    def evaluate(self, vals):
        return np.full((1, 1), float(np.sum(np.linalg.svd(np.asarray(vals[0], dtype=float), compute_uv=False))))

    def to_sympy(self, sargs, ctx):
        return _sympy_nuclear()(sargs[0])

    def rebuild(self, args):
        return nuclear_norm(args[0])

    def print_with(self, p) -> str:
        inner = p(self.args[0])
        return rf"\left\| {inner} \right\|_{{*}}" if p.latex else f"‖{inner}‖_*"


class SVDPolar(Expr):
    """``U(M) V(M)ᵀ`` with M = U Σ Vᵀ the thin SVD (the orthogonal factor of M's polar decomposition)."""

    __slots__ = ()
    prec = 20   # printed as a product
    rule = "derivative of U Vᵀ"

    def __init__(self, M: Expr):
        super().__init__((M,), M.shape)

    def differential(self, ds):
        raise DerivError("the derivative of U Vᵀ (a second derivative of the nuclear norm) is not supported; "
                         "first derivatives of ‖X‖_* are")

    def evaluate(self, vals):
        return polar_numbers(vals[0])

    def to_sympy(self, sargs, ctx):
        return _sympy_polar()(sargs[0])

    def rebuild(self, args):
        return SVDPolar(args[0])

    def print_with(self, p) -> str:
        x = p(self.args[0])
        return rf"U\left({x}\right) V\left({x}\right)^{{T}}" if p.latex else f"U({x}) V({x})ᵀ"


def nuclear_norm(M: Expr) -> Expr:
    """``‖M‖_*``; of a 1×1 M, |M|."""
    if M.is_scalar:
        from .elementwise import func
        return func("abs", M)
    return NuclearNorm(M)


# ---------------------------------------------------------------- SymPy nodes
def _tex_of(head: str, which: str):
    sub = _sub(which, True)
    return partial(_tex_applied, f"{head}{sub}")


def _tex_applied(head: str, a) -> str:
    return r"%s\left(%s\right)" % (head, a[0])


def _text_applied(head: str, a) -> str:
    return "%s(%s)" % (head, a[0])


def _column(rows_of, args):
    return (rows_of(args[0].shape), 1)


@lru_cache(maxsize=None)
def _sympy_eigenvalue(which: str, order):
    from .numeric_sympy import scalar_class
    return scalar_class(f"Eigenvalue_{which}", lambda M: eigen_numbers(M, order)[0], _tex_of(r"\lambda", which),
                        partial(_text_applied, f"lambda_{which}"))


@lru_cache(maxsize=None)
def _sympy_eigenvector(which: str, order):
    from .numeric_sympy import matrix_class
    return matrix_class(f"Eigenvector_{which}", lambda M: eigen_numbers(M, order)[1],
                        partial(_column, lambda s: s[0]), _tex_of("v", which), partial(_text_applied, f"v_{which}"))


@lru_cache(maxsize=None)
def _sympy_singular_value(which: str, order, norm: bool):
    from .numeric_sympy import scalar_class
    tex = partial(_norm_tex, "2") if norm else _tex_of(r"\sigma", which)
    return scalar_class(f"SingularValue_{which}" + ("_norm" if norm else ""), lambda M: svd_numbers(M, order)[0],
                        tex, partial(_text_applied, "spectral_norm" if norm else f"sigma_{which}"))


@lru_cache(maxsize=None)
def _sympy_singular_vector(which: str, order, side: str):
    from .numeric_sympy import matrix_class
    k = 1 if side == "u" else 2
    return matrix_class(f"SingularVector_{side}_{which}", lambda M: svd_numbers(M, order)[k],
                        partial(_column, (lambda s: s[0]) if side == "u" else (lambda s: s[1])),
                        _tex_of(side, which), partial(_text_applied, f"{side}_{which}"))


def _norm_tex(p: str, a) -> str:
    return r"\left\| %s \right\|_{%s}" % (a[0], p)


def _nuclear_value(M):
    return float(np.sum(np.linalg.svd(M, compute_uv=False)))


def _polar_tex(a):
    return r"U\left(%s\right) V\left(%s\right)^{T}" % (a[0], a[0])


def _polar_text(a):
    return "U(%s)*V(%s).T" % (a[0], a[0])


def _same_shape(args):
    return args[0].shape


@lru_cache(maxsize=None)
def _sympy_nuclear():
    from .numeric_sympy import scalar_class
    return scalar_class("NuclearNorm", _nuclear_value, partial(_norm_tex, "*"), partial(_text_applied, "nuclear_norm"))


@lru_cache(maxsize=None)
def _sympy_polar():
    from .numeric_sympy import matrix_class
    return matrix_class("SVDPolar", polar_numbers, _same_shape, _polar_tex, _polar_text)


__all__ = ["Eigenvalue", "Eigenvector", "SingularValue", "SingularVector", "NuclearNorm", "SVDPolar", "eigenvalue",
           "singular_value", "nuclear_norm", "is_symmetric", "eigen_numbers", "svd_numbers", "polar_numbers"]
