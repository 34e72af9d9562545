"""Results as SymPy expressions (the contract's ``Derivation.result``): ``MatrixSymbol``s
with the cell's names and shapes, ``MatMul``/``MatAdd``/``Transpose``/``Inverse``/``Trace``/
``HadamardProduct``/elementwise functions; a 1×1 product used as a scalar becomes the
trace of that product, so every part can be evaluated with explicit matrices and ``doit()``."""
from __future__ import annotations

import importlib
from functools import lru_cache

from .expr import SCALAR, Expr, Num, Ones, Sym, postorder
from .rules import Add, Mul, Transpose, mul


@lru_cache(maxsize=1024)
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
    importlib.import_module("sympy.matrices.expressions.applyfunc")  # evaluators look it up by attribute
    from . import limits
    ctx = Context()
    vals = {}
    with limits.within():
        return _convert(root, vals, ctx)


def _convert(root: Expr, vals: dict, ctx):
    """``root`` as SymPy, every node converted once (``vals`` holds the nodes done)."""
    from .limits import tick
    for node in postorder(root):
        if node in vals:
            continue
        tick(1 + len(node.args))
        special = _without_ones(node, vals, ctx)
        vals[node] = special if special is not None else node.to_sympy(_arguments(node, vals), ctx)
    return vals[root]


def _arguments(node: Expr, vals: dict) -> list:
    """The converted arguments; a matrix of ones beside an argument of its shape is made from that
    argument (``OneMatrix`` does not evaluate against explicit matrices in SymPy 1.14)."""
    out = [vals[a] for a in node.args]
    for i, a in enumerate(node.args):
        if isinstance(a, Ones) and a.shape != SCALAR:
            twin = next((vals[b] for b in node.args if b.shape == a.shape and not isinstance(b, Ones)), None)
            if twin is not None:
                out[i] = ones_like(twin)
    return out


def ones_like(v):
    """A matrix of ones shaped like the SymPy matrix expression ``v``, made from ``v`` itself."""
    import sympy
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    t = sympy.Dummy("t")
    return ElementwiseApplyFunction(sympy.Lambda(t, sympy.S.One), v)


def _without_ones(node: Expr, vals: dict, ctx):
    """SymPy 1.14 cannot multiply a ``OneMatrix`` by explicit matrices (``doit`` leaves
    ``1*Matrix(...)``), so sums of entries are written with ones made from ``v`` and a scalar broadcast
    over a vector becomes an elementwise function."""
    import sympy
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    if isinstance(node, Mul) and node.chain and not node.scalars and len(node.chain) > 1:
        first, rest = node.chain[0], node.chain[1:]
        last, head = node.chain[-1], node.chain[:-1]
        inner = None
        if isinstance(first, Transpose) and isinstance(first.args[0], Ones) and rest[-1].shape[1] == 1:
            inner = sympy.MatMul(*[vals[c] for c in rest]) if len(rest) > 1 else vals[rest[0]]
        elif isinstance(last, Ones) and head[0].shape[0] == 1:
            row = sympy.MatMul(*[vals[c] for c in head]) if len(head) > 1 else vals[head[0]]
            inner = sympy.Transpose(row)
        if inner is not None:
            total = entry_sum(inner)
            return total if node.coeff == 1 else Num(node.coeff).to_sympy([], ctx) * total
    if isinstance(node, Add) and not node.is_scalar:
        ones = [t for t in node.args if _scaled_ones(t) is not None]
        others = [t for t in node.args if _scaled_ones(t) is None]
        if len(ones) == 1 and others:
            scale = _scaled_ones(ones[0])   # a new node (c·𝟏 -> c): converted here, not looked up
            c = ctx.as_scalar(_convert(scale, vals, ctx)) if not isinstance(scale, Num) else scale.to_sympy([], ctx)
            rest = sympy.MatAdd(*[vals[t] for t in others]) if len(others) > 1 else vals[others[0]]
            t = sympy.Dummy("t")
            return ElementwiseApplyFunction(sympy.Lambda(t, t + c), rest)
    return None


def entry_sum(v):
    """The sum of the entries of a SymPy column vector, as ``tr(onesᵀ v)`` with the ones made
    elementwise from ``v`` itself, so that it evaluates once ``v`` is explicit."""
    import sympy
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    t = sympy.Dummy("t")
    return sympy.Trace(sympy.Transpose(v) * ElementwiseApplyFunction(sympy.Lambda(t, sympy.S.One), v))


def _scaled_ones(t: Expr):
    """``s`` if ``t`` is ``s·𝟏`` (a scalar times the ones vector or matrix), else None."""
    if isinstance(t, Ones):
        return Num(1)
    if isinstance(t, Mul) and len(t.chain) == 1 and isinstance(t.chain[0], Ones):
        return mul(Num(t.coeff), *t.scalars)
    return None


@lru_cache(maxsize=1)
def commutation_class():
    """SymPy's form of the commutation matrix K_{mn} (``rules.kron.Commutation``): a matrix
    expression mn×mn whose entry (r, c) is 1 when c = ⌊r/n⌋ + m·(r mod n), so that
    K_{mn} vec(A) = vec(Aᵀ) for A m×n; with integer sizes ``doit()`` gives the explicit matrix."""
    import sympy

    class CommutationMatrix(sympy.MatrixExpr):
        def __new__(cls, m, n):   # sizes: SymPy integers or dimension symbols (Python ints made Integers)
            m, n = (d if isinstance(d, sympy.Basic) else sympy.Integer(d) for d in (m, n))
            return sympy.Basic.__new__(cls, m, n)

        @property
        def shape(self):
            m, n = self.args
            return (m * n, m * n)

        def _entry(self, i, j, **kwargs):
            m, n = self.args
            return sympy.KroneckerDelta(j, sympy.floor(i / n) + m * sympy.Mod(i, n))

        def _eval_transpose(self):
            m, n = self.args
            return CommutationMatrix(n, m)

        def doit(self, **hints):
            m, n = (a.doit(**hints) for a in self.args) if hints.get("deep", True) else self.args
            if m.is_Integer and n.is_Integer:
                size = int(m) * int(n)
                return sympy.ImmutableMatrix(size, size, lambda r, c: int(c == r // int(n) + int(m) * (r % int(n))))
            return CommutationMatrix(m, n)

        def _latex(self, printer):
            m, n = (printer._print(a) for a in self.args)
            return f"K_{{{m}{n}}}" if len(m) == len(n) == 1 else f"K_{{{m},{n}}}"

        def _sympystr(self, printer):
            return f"K({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    CommutationMatrix.__name__ = CommutationMatrix.__qualname__ = "CommutationMatrix"
    return CommutationMatrix
