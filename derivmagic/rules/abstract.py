"""Arbitrary differentiable functions: ``f(x)`` where no definition of ``f`` exists.

``f: ℝⁿ → ℝᵐ`` (or ℝ → ℝᵐ, ℝⁿ → ℝ) applied to an argument ``u`` is an opaque value; its
differential is the chain rule with the function's own derivative, which stays symbolic:

    d f(u) = J_f(u) du        (ℝⁿ → ℝᵐ: the Jacobian, m×n)
    d f(u) = ∇f(u)ᵀ du        (ℝⁿ → ℝ: the gradient, n×1)
    d f(u) = f'(u) du         (ℝ → ℝᵐ or ℝ → ℝ)

so that results read as textbooks write them (``c ∇f(x)``, ``J_g(h(x)) J_h(x)``). To check a
rule numerically, every abstract function is instantiated with a smooth random map of its
signature, u ↦ tanh(W u + b) + ½ (a·u)² c, the same map for every occurrence of its name, seeded
by the name and by ``instance_seed`` (a context variable the check may vary).
"""
from __future__ import annotations

import zlib
from contextvars import ContextVar

import numpy as np

from ..errors import DerivError
from ..expr import Expr, InternalShapeError, fmt_shape
from .linear import mul, transpose
from .matrix import trace

instance_seed: ContextVar[int] = ContextVar("instance_seed", default=0)


def _parameters(name: str, n: int, m: int):
    """W, b, a, c of the random smooth map u ↦ tanh(W u + b) + ½ (a·u)² c standing for ``name``."""
    rng = np.random.default_rng([zlib.crc32(name.encode()), instance_seed.get(), n, m])
    return (rng.normal(size=(m, n)) / np.sqrt(n), rng.normal(size=(m, 1)), rng.normal(size=(n, 1)) / np.sqrt(n),
            rng.normal(size=(m, 1)))


def _opaque(label: str, shape, ctx):
    """A SymPy symbol (or matrix symbol) named ``label`` for a value derivmagic keeps opaque."""
    import sympy
    if shape == (1, 1):
        return sympy.Symbol(label)
    return sympy.MatrixSymbol(label, ctx.dim(shape[0]), ctx.dim(shape[1]))


def _instance(name: str, n: int, m: int):
    """(value, jacobian) of the random smooth map standing for ``name``: ℝⁿ → ℝᵐ."""
    W, b, a, c = _parameters(name, n, m)

    def value(u):
        u = u.reshape(n, 1)
        return np.tanh(W @ u + b) + 0.5 * (a.T @ u) ** 2 * c

    def jacobian(u):
        u = u.reshape(n, 1)
        return (1 - np.tanh(W @ u + b) ** 2) * W + (a.T @ u) * (c @ a.T)

    return value, jacobian


def _second(name: str, n: int, m: int):
    """The derivative of the instance's Jacobian along ``du``: (u, du) ↦ dJ (m×n)."""
    W, b, a, c = _parameters(name, n, m)

    def along(u, du):
        t = np.tanh(W @ u.reshape(n, 1) + b)
        return (-2 * t * (1 - t ** 2) * (W @ du.reshape(n, 1))) * W + (a.T @ du.reshape(n, 1)) * (c @ a.T)

    return along


def _text(name: str) -> str:
    from ..tex import GREEK_UNICODE
    base, _, sub = name.partition("_")
    return GREEK_UNICODE.get(base, base) + (f"_{sub}" if sub else "")


def _size(d, sizes) -> int:
    if isinstance(d, int):
        return d
    if sizes and d in sizes:
        return sizes[d]
    raise InternalShapeError(f"the dimension {d} has no size here")


class FunctionApply(Expr):
    """``f(u)``: an arbitrary differentiable function of a scalar or a vector, or a scalar function
    of a matrix (an instance then maps vec(U))."""

    __slots__ = ("name", "tex")
    prec = 100
    rule = "chain rule"
    sized = True

    def __init__(self, name: str, tex: str, arg: Expr, shape):
        self.name, self.tex = name, tex
        super().__init__((arg,), shape, (name, shape))

    def differential(self, ds):
        factor = function_derivative(self.name, self.tex, self.args[0], self.shape)
        if self.args[0].shape[1] != 1:   # of a matrix U: d f(U) = tr(∇f(U)ᵀ dU)
            return trace(mul(factor, ds[0]))
        return mul(factor, ds[0])

    def evaluate(self, vals, sizes=None):
        u = vals[0]
        value, _ = _instance(self.name, u.size, _size(self.shape[0], sizes))
        return value(u)

    def to_sympy(self, sargs, ctx):
        from ..render import to_text
        return _opaque(f"{self.name}({to_text(self.args[0])})", self.shape, ctx)

    def rebuild(self, args):
        return FunctionApply(self.name, self.tex, args[0], self.shape)

    def print_with(self, p) -> str:
        return f"{self.tex}\\left({p(self.args[0])}\\right)" if p.latex else f"{_text(self.name)}({p(self.args[0])})"


def _bilinear_instance(name: str, m: int, n: int, p: int) -> np.ndarray:
    """The random bilinear map standing for ``name``: (m, n, p) coefficients, B(u, w)_k = uᵀ M_k w."""
    rng = np.random.default_rng([zlib.crc32(name.encode()), instance_seed.get(), m, n, p, 2])
    return rng.normal(size=(m, n, p)) / np.sqrt(n * p)


class BilinearApply(FunctionApply):
    """``B(u, w)`` of an arbitrary bilinear map: d B(u, w) = B(du, w) + B(u, dw). Checked with a random
    bilinear map of the shapes it is applied at, B(u, w)_k = uᵀ M_k w."""

    __slots__ = ()
    rule = "product rule of a bilinear map"
    linear = True   # in the one argument that holds a differential

    def __init__(self, name: str, tex: str, u: Expr, w: Expr, shape):
        self.name, self.tex = name, tex
        Expr.__init__(self, (u, w), shape, (name, shape))

    def differential(self, ds):
        u, w = self.args
        parts = [BilinearApply(self.name, self.tex, du, w, self.shape) if k == 0
                 else BilinearApply(self.name, self.tex, u, du, self.shape)
                 for k, du in enumerate(ds) if du is not None]
        from .linear import add
        return add(*parts)

    def vjp(self, seed, i):
        raise DerivError(self.refusal("gradient"))

    def refusal(self, what: str) -> str:
        return (f"a {what} through the bilinear map {_text(self.name)} is not read yet; ask for the directional "
                "derivative D f(x)[v]")

    def evaluate(self, vals, sizes=None):
        u, w = vals
        M = _bilinear_instance(self.name, _size(self.shape[0], sizes), u.size, w.size)
        return np.einsum("kij,i,j->k", M, u.reshape(-1), w.reshape(-1)).reshape(-1, 1)

    def to_sympy(self, sargs, ctx):
        from ..render import to_text
        return _opaque(f"{self.name}({to_text(self.args[0])}, {to_text(self.args[1])})", self.shape, ctx)

    def rebuild(self, args):
        return BilinearApply(self.name, self.tex, args[0], args[1], self.shape)

    def print_with(self, p) -> str:
        u, w = (p(a) for a in self.args)
        return rf"{self.tex}\left({u}, {w}\right)" if p.latex else f"{_text(self.name)}({u}, {w})"


class FunctionDerivative(Expr):
    """The derivative of an arbitrary function at ``u``: ``∇f(u)`` (n×1, for f: ℝⁿ → ℝ),
    ``J_f(u)`` (m×n), or ``f'(u)`` (for a scalar argument), shaped so that d f(u) is this
    times du (the gradient enters transposed)."""

    __slots__ = ("name", "tex", "kind")
    prec = 100
    rule = "chain rule"
    sized = True

    def __init__(self, name: str, tex: str, arg: Expr, kind: str, shape):
        self.name, self.tex, self.kind = name, tex, kind
        super().__init__((arg,), shape, (name, kind, shape))

    def differential(self, ds):
        if ds[0] is None:
            return None
        if self.kind == "jac":
            raise DerivError(f"the second derivative of the vector-valued arbitrary function {self.name} (a tensor) "
                             "is not supported yet; of scalar-valued functions and of functions of a scalar it is")
        if self.kind == "prime":   # d f'(u) = f''(u) du, u a scalar
            from ..expr import ONE
            return mul(FunctionSecond(self.name, self.tex, self.args[0], ONE, "prime", self.shape), ds[0])
        return FunctionSecond(self.name, self.tex, self.args[0], ds[0], self.kind, self.shape)

    def evaluate(self, vals, sizes=None):
        u = vals[0]
        m = 1 if self.kind == "grad" else _size(self.shape[0], sizes)
        _, jacobian = _instance(self.name, u.size, m)
        J = jacobian(u)
        return J.reshape(u.shape) if self.kind == "grad" else J.reshape(m, -1)

    def to_sympy(self, sargs, ctx):
        from ..render import to_text
        label = {"grad": "∇{}({})", "jac": "J_{}({})", "prime": "{}'({})"}[self.kind].format(
            self.name, to_text(self.args[0]))
        return _opaque(label, self.shape, ctx)

    def rebuild(self, args):
        return FunctionDerivative(self.name, self.tex, args[0], self.kind, self.shape)

    def print_with(self, p) -> str:
        arg = p(self.args[0])
        if p.latex:
            head = {"grad": rf"\nabla {self.tex}", "jac": rf"J_{{{self.tex}}}", "prime": rf"{self.tex}'"}[self.kind]
            return rf"{head}\left({arg}\right)"
        name = _text(self.name)
        head = {"grad": f"∇{name}", "jac": f"J_{name}", "prime": f"{name}'"}[self.kind]
        return f"{head}({arg})"


class FunctionSecond(Expr):
    """The derivative of ``∇f(u)`` along ``du``: ``∇²f(u)[du]``, the Hessian of a scalar-valued
    arbitrary function applied to du (shaped like u; linear in du, and its own adjoint as the Hessian
    is symmetric); or, with du = 1, ``f''(u)`` of a function of a scalar."""

    __slots__ = ("name", "tex", "kind")
    prec = 100
    rule = "chain rule (second derivative)"
    sized = True
    linear = True   # in du

    def __init__(self, name: str, tex: str, u: Expr, du: Expr, kind: str, shape):
        self.name, self.tex, self.kind = name, tex, kind
        super().__init__((u, du), shape, (name, kind, shape))

    def differential(self, ds):
        if ds[0] is not None:
            raise DerivError(f"the third derivative of the arbitrary function {self.name} is not supported yet "
                             "(first and second derivatives are)")
        return FunctionSecond(self.name, self.tex, self.args[0], ds[1], self.kind, self.shape) \
            if ds[1] is not None else None

    def vjp(self, seed, i):
        if i != 1 or self.kind != "grad":
            raise NotImplementedError("linear in the direction of ∇²f(u)[du] only")
        return FunctionSecond(self.name, self.tex, self.args[0], seed, "grad", self.args[0].shape)   # H = Hᵀ

    def evaluate(self, vals, sizes=None):
        u, du = vals
        m = 1 if self.kind == "grad" else _size(self.shape[0], sizes)
        dJ = _second(self.name, u.size, m)(u, du)
        return dJ.reshape(u.shape) if self.kind == "grad" else dJ.reshape(m, 1)

    def hessian_matrix(self) -> Expr:
        """∇²f(u) as a matrix (u a vector): ∇²f(u)[du] = ∇²f(u) du."""
        if self.kind != "grad" or self.args[0].shape[1] != 1:
            raise DerivError(f"the Hessian of {_text(self.name)} at a matrix is an operator (a tensor), not a matrix; "
                             "ask for D^2 f(X)[U, V]")
        return FunctionHessian(self.name, self.tex, self.args[0])

    def to_sympy(self, sargs, ctx):
        from ..render import to_text
        return _opaque(to_text(self), self.shape, ctx)

    def rebuild(self, args):
        return FunctionSecond(self.name, self.tex, args[0], args[1], self.kind, self.shape)

    def print_with(self, p) -> str:
        u, du = (p(a) for a in self.args)
        if p.latex:
            if self.kind == "grad":
                return rf"\nabla^2 {self.tex}\left({u}\right)\left[{du}\right]"
            return rf"{self.tex}''\left({u}\right)"
        name = _text(self.name)
        return f"∇²{name}({u})[{du}]" if self.kind == "grad" else f"{name}''({u})"


class FunctionHessian(Expr):
    """``∇²f(u)``: the Hessian of a scalar-valued arbitrary function at a vector u (n×n, symmetric)."""

    __slots__ = ("name", "tex")
    prec = 100
    rule = "chain rule (second derivative)"

    def __init__(self, name: str, tex: str, u: Expr):
        self.name, self.tex = name, tex
        super().__init__((u,), (u.shape[0], u.shape[0]), (name,))

    def differential(self, ds):
        if ds[0] is None:
            return None
        raise DerivError(f"the third derivative of the arbitrary function {self.name} is not supported yet "
                         "(first and second derivatives are)")

    def evaluate(self, vals):
        u = vals[0]
        n = u.size
        along = _second(self.name, n, 1)
        return np.hstack([along(u, np.eye(n)[:, [k]]).reshape(n, 1) for k in range(n)])

    def symmetric_result(self):
        return True

    def to_sympy(self, sargs, ctx):
        from ..render import to_text
        return _opaque(to_text(self), self.shape, ctx)

    def rebuild(self, args):
        return FunctionHessian(self.name, self.tex, args[0])

    def print_with(self, p) -> str:
        u = p(self.args[0])
        return rf"\nabla^2 {self.tex}\left({u}\right)" if p.latex else f"∇²{_text(self.name)}({u})"


def apply_function(name: str, tex: str, arg: Expr, shape) -> Expr:
    """``name(arg)`` for an arbitrary function whose value has ``shape`` (a scalar or a column)."""
    if shape[1] != 1 or (arg.shape[1] != 1 and shape != (1, 1)):
        raise DerivError(f"{_text(name)} maps {fmt_shape(arg.shape)} to {fmt_shape(shape)}: an arbitrary function "
                         "takes a scalar, a vector or a matrix, and a function of a matrix has scalar values")
    return FunctionApply(name, tex, arg, shape)


def function_derivative(name: str, tex: str, arg: Expr, shape) -> Expr:
    """The factor of du in d name(u): J_f(u), ∇f(u)ᵀ or f'(u)."""
    if arg.is_scalar:
        return FunctionDerivative(name, tex, arg, "prime", shape)
    if arg.shape[1] != 1:   # ∇f(U), shaped like U; d f(U) = tr(∇f(U)ᵀ dU)
        return transpose(FunctionDerivative(name, tex, arg, "grad", arg.shape))
    if shape == (1, 1):
        return transpose(FunctionDerivative(name, tex, arg, "grad", arg.shape))
    return FunctionDerivative(name, tex, arg, "jac", (shape[0], arg.shape[0]))
