"""SymPy nodes for operations SymPy has no class for (the matrix square root and logarithm, their
Fréchet derivatives, eigen- and singular values and vectors, the subgradient of the ∞-norm).

Each is a SymPy expression of the cell's symbols that prints as derivmagic prints it; once explicit
numbers are substituted for its matrix symbols, ``doit()`` computes it with the same NumPy/SciPy
function the numeric check uses. Scalar-valued ones are commutative scalar expressions (they multiply
matrices like any scalar), the others ``MatrixExpr``s; none is a ``Function``, which evaluators would
apply entry by entry."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np


def _numbers(M):
    """A float array for an explicit SymPy matrix of numbers, else None."""
    import sympy
    if not isinstance(M, sympy.MatrixBase) or M.free_symbols:
        return None
    try:
        return np.array(M.evalf().tolist(), dtype=float)
    except TypeError:   # complex entries: not a value these operations take
        return None


def _explicit(M):
    """An explicit matrix for a matrix expression without symbols (``I + Matrix(...)``); else ``M``."""
    import sympy
    if isinstance(M, sympy.MatrixBase) or not getattr(M, "is_Matrix", False) or M.free_symbols:
        return M
    if not all(getattr(d, "is_Integer", False) for d in M.shape):
        return M
    try:
        return M.as_explicit()
    except Exception:  # noqa: BLE001 - an expression SymPy cannot spell out: leave it symbolic
        return M


@lru_cache(maxsize=None)
def matrix_class(name: str, compute: Callable, shape: Callable, latex: Callable, text: Callable):
    """A ``MatrixExpr`` class: ``shape(args)`` its shape, ``compute(*arrays)`` its value once every
    argument is an explicit matrix of numbers, ``latex(printed args)``/``text(...)`` how it prints."""
    import sympy
    from sympy.matrices.expressions.matexpr import MatrixExpr

    def doit(self, **hints):
        args = [_explicit(a.doit(**hints) if hints.get("deep", True) else a) for a in self.args]
        arrays = [_numbers(a) for a in args]
        if all(a is not None for a in arrays):
            return sympy.ImmutableMatrix(compute(*arrays))
        return type(self)(*args)

    return type(name, (MatrixExpr,), {
        "__new__": lambda cls, *args: MatrixExpr.__new__(cls, *args),   # strict: matrices only, no strings
        "shape": property(lambda self: shape(self.args)),
        "doit": doit,
        "_latex": lambda self, printer: latex([printer._print(a) for a in self.args]),
        "_sympystr": lambda self, printer: text([printer._print(a) for a in self.args]),
    })


@lru_cache(maxsize=None)
def scalar_class(name: str, compute: Callable, latex: Callable, text: Callable):
    """A real scalar expression of matrices (commutative, so it multiplies matrices like any
    scalar): ``doit()`` gives its value, a ``Float``, once every argument is an explicit matrix of
    numbers (``compute(*arrays)``). Not a ``Function``: evaluators apply functions entry by entry."""
    import sympy

    def doit(self, **hints):
        args = [_explicit(a.doit(**hints) if hints.get("deep", True) else a) for a in self.args]
        arrays = [_numbers(a) for a in args]
        if all(a is not None for a in arrays):
            return sympy.Float(float(compute(*arrays)))
        return type(self)(*args)

    return type(name, (sympy.Expr,), {
        "__new__": lambda cls, *args: sympy.Expr.__new__(cls, *args),
        "is_commutative": True,
        "is_real": True,
        "doit": doit,
        "_latex": lambda self, printer, exp=None: _with_power(latex([printer._print(a) for a in self.args]), exp),
        "_sympystr": lambda self, printer: text([printer._print(a) for a in self.args]),
    })


def _with_power(tex: str, exp) -> str:
    return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


__all__ = ["matrix_class", "scalar_class"]
