"""Results as SymPy expressions (the contract's ``Derivation.result``): ``MatrixSymbol``s
with the cell's names and shapes, ``MatMul``/``MatAdd``/``Transpose``/``Inverse``/``Trace``/
``HadamardProduct``/elementwise functions; a 1×1 product used as a scalar becomes the
trace of that product, so every part can be evaluated with explicit matrices and ``doit()``."""
from __future__ import annotations

from functools import lru_cache

from .expr import SCALAR, Expr, Sym, postorder


@lru_cache(maxsize=None)
def sympy_dim(d):
    import sympy
    if isinstance(d, int):
        return sympy.Integer(d)
    if "*" in d:
        return sympy.Mul(*[sympy_dim(int(f) if f.isdigit() else f) for f in d.split("*")])
    return sympy.Symbol(d, integer=True, positive=True)


class Context:
    def __init__(self):
        self.symbols = {}

    def dim(self, d):
        return sympy_dim(d)

    def symbol(self, s: Sym):
        import sympy
        if s.shape == SCALAR:
            return sympy.Symbol(s.name)
        return sympy.MatrixSymbol(s.name, sympy_dim(s.shape[0]), sympy_dim(s.shape[1]))

    @staticmethod
    def as_scalar(value):
        """A SymPy scalar for a 1x1 value (a 1x1 matrix expression becomes its trace)."""
        import sympy
        if isinstance(value, sympy.MatrixExpr):
            return sympy.Trace(value)
        return value


def to_sympy(root: Expr, dims=None):
    import sympy.matrices.expressions.applyfunc  # noqa: F401  (evaluators look for it by attribute)
    ctx = Context()
    vals = {}
    for node in postorder(root):
        vals[node] = node.to_sympy([vals[a] for a in node.args], ctx)
    return vals[root]
