"""Differentiation on matrix differentials (Magnus & Neudecker).

1. ``differential``: the forward pass. Every operation's own rule turns the differentials
   of its arguments into its differential, ``d(AB) = dA B + A dB`` and so on; each
   application is recorded as a step.
2. ``gradient``: for a scalar ``f``, ``df = tr(Gᵀ dX)`` identifies the gradient ``G``; it is
   read off by running the linear operations of ``df`` backwards (their adjoints).
3. ``jacobian``: for a vector ``f`` of a vector ``x``, ``df = J dx`` identifies ``J``.
"""
from __future__ import annotations

from .errors import DerivError
from .expr import ONE, Expr, Identity, Sym, postorder
from .rules import Add, Diag, Hadamard, Mul, Trace, Transpose, add, diag, hadamard, mul, transpose
from .rules.kron import commutation, kron
from .simplify import simplify
from .steps import Step


class Differentiator:
    """Differentials of sub-expressions when each variable moves in its direction:
    ``Differentiator(x, dx)`` or, for several variables at once, ``Differentiator({W: dW, b: db})``."""

    def __init__(self, var, dvar: Expr | None = None, steps: list[Step] | None = None):
        self.moves: dict[Sym, Expr] = dict(var) if isinstance(var, dict) else {var: dvar}
        self.var, self.dvar = next(iter(self.moves.items()))
        self.variables = frozenset(self.moves)
        self.memo: dict[Expr, Expr | None] = {}
        self.steps = steps if steps is not None else []

    def __call__(self, root: Expr) -> Expr | None:
        for node in postorder(root):
            if node in self.memo:
                continue
            if node in self.moves:
                self.memo[node] = self.moves[node]
                continue
            if not node.free & self.variables:
                self.memo[node] = None
                continue
            ds = [self.memo[a] for a in node.args]
            d = node.differential(ds)
            self.memo[node] = d
            self._record(node, ds, d)
        return self.memo[root]

    def _record(self, node: Expr, ds: list, d: Expr) -> None:
        varying = [(a, da) for a, da in zip(node.args, ds) if da is not None]
        if isinstance(node, Transpose) and node.args[0] in self.moves:
            return
        if len(varying) == 1 and varying[0][1] == d:
            return  # nothing new: e.g. d(Ax - b) = d(Ax)
        self.steps.append(Step(rule_applied(node, varying), node, simplify(d), var=self.var, dvar=self.dvar,
                               children=tuple(varying), moves=tuple(self.moves.items())))


def rule_applied(node: Expr, varying: list) -> str:
    """The rule a step applies: a product in which one factor varies is a constant factor taken
    out of the differential (``d(-yᵀu) = -yᵀ du``), not the product rule."""
    if isinstance(node, Mul) and len(varying) == 1:
        return "constant factor"
    if isinstance(node, Hadamard) and len(varying) == 1:
        return "constant factor (elementwise)"
    return node.rule


def differential_symbol(var: Sym) -> tuple[Sym, Expr]:
    """The column (or matrix) symbol ``dX`` and the differential of ``var`` built from it."""
    r, c = var.shape
    if r == 1 and c != 1:  # a row variable: the column dxᵀ is the symbol, dx its transpose
        d = Sym("d" + var.name + "ᵀ", (c, 1), tex=rf"\mathrm{{d}}{var.tex}^{{T}}")
        return d, transpose(d)
    return Sym("d" + var.name, var.shape, tex=rf"\mathrm{{d}}{var.tex}"), None


def gradient(df: Expr, dsym: Sym) -> Expr:
    """``G`` with ``df = tr(Gᵀ dX)``, for a scalar ``df`` linear in ``dsym``."""
    seeds: dict[Expr, list[Expr]] = {df: [ONE]}
    out = []
    for node in reversed(postorder(df)):
        if node not in seeds:
            continue
        seed = add(*seeds.pop(node))
        if node == dsym:
            out.append(seed)
            continue
        for i, a in enumerate(node.args):
            if a.depends(dsym):
                if not (node.linear or isinstance(node, (Mul, Hadamard))):
                    raise DerivError(f"internal: the differential is not linear at {node!r}")
                seeds.setdefault(a, []).append(node.vjp(seed, i))
    return add(*out) if out else None


class TensorNeeded(DerivError):
    """The derivative of a vector through a matrix-valued intermediate is a tensor."""


def jacobian(df: Expr, dsym: Sym) -> Expr:
    """``J`` with ``df = J dx``: ``df`` a column (or scalar) linear in the column ``dsym``."""
    memo: dict[Expr, Expr] = {}

    def coef(g: Expr) -> Expr:
        if g in memo:
            return memo[g]
        memo[g] = out = _coef(g)
        return out

    def _coef(g: Expr) -> Expr:
        if g == dsym:
            return Identity(dsym.shape[0])
        if isinstance(g, Add):
            return add(*[coef(t) for t in g.args if t.depends(dsym)])
        if isinstance(g, Transpose):
            inner = g.args[0]
            if isinstance(inner, (Add, Hadamard)):
                return coef(inner.rebuild([transpose(a) for a in inner.args]))
        if isinstance(g, Hadamard):
            i = _dependent(g, dsym)
            others = hadamard(*g.args[:i], *g.args[i + 1:])
            return mul(diag(others), coef(g.args[i]))
        if isinstance(g, Trace):
            return coef(_trace_as_product(g.args[0], dsym))
        if isinstance(g, Mul):
            i = _dependent(g, dsym)
            ns = len(g.scalars)
            if i < ns:
                rest = mul(*[a for j, a in enumerate(g.args) if j != i], _num(g))
                return mul(rest, coef(g.args[i]))
            k = i - ns
            c, left, right = g.chain[k], g.chain[:k], g.chain[k + 1:]
            scal = [_num(g), *g.scalars]
            if isinstance(c, Diag) and right and mul(*right).shape[1] == 1:  # diag(h) r = h ⊙ r
                return coef(mul(*scal, *left, hadamard(c.args[0], mul(*right))))
            if c.shape[1] == 1:
                return mul(*scal, *([mul(*right)] if right else []), *left, coef(c))
            if c.shape[0] == 1:
                rt = [transpose(mul(*right))] if right else []
                return mul(*scal, *left, *rt, coef(transpose(c)))
        if hasattr(g, "hessian_matrix"):   # ∇²f(u)[du] of an arbitrary f: the matrix ∇²f(u) times du's coefficient
            return mul(g.hessian_matrix(), coef(g.args[1]))
        if hasattr(g, "refusal"):   # B(J dx, w) of an arbitrary bilinear map
            raise DerivError(g.refusal("Jacobian"))
        raise TensorNeeded(
            "this Jacobian passes through a matrix-valued intermediate (a tensor); "
            "ask for the directional derivative D f(x)[v] instead")

    return coef(df)


def _num(g: Mul) -> Expr:
    from .expr import Num
    return Num(g.coeff)


def _dependent(node: Expr, dsym: Sym) -> int:
    for i, a in enumerate(node.args):
        if a.depends(dsym):
            return i
    raise DerivError("internal: no dependent factor")


def _trace_as_product(m: Expr, dsym: Sym) -> Expr:
    """tr(P c Q) written as a 1x1 product by cyclic rotation, with c the factor holding dsym."""
    if isinstance(m, Mul) and m.chain:
        chain = m.chain
        k = next(i for i, c in enumerate(chain) if c.depends(dsym))
        rotated = chain[k:] + chain[:k]
        scal = [_num(m), *m.scalars]
        if rotated[0].shape[1] == 1:  # c column: tr(c R) = R c
            return mul(*scal, *rotated[1:], rotated[0])
        if rotated[0].shape[0] == 1:  # c row: tr(c R) = c R (R a column)
            return mul(*scal, *rotated)
    raise TensorNeeded("this derivative needs a tensor; ask for the directional derivative D f(X)[V] instead")


def vec_jacobian(dF: Expr, dsym: Sym) -> Expr:
    """``J`` with vec(dF) = J vec(dX), read term by term: vec(L dX R) = (Rᵀ ⊗ L) vec(dX), and
    vec(L dXᵀ R) = (Rᵀ ⊗ L) K_{mn} vec(dX) for X m×n (K the commutation matrix)."""
    if isinstance(dF, Transpose) and isinstance(dF.args[0], Add):
        dF = add(*[transpose(t) for t in dF.args[0].args])
    terms = dF.args if isinstance(dF, Add) else (dF,)
    return add(*[_kron_term(t, dsym) for t in terms if t.depends(dsym)])


def _kron_term(t: Expr, dsym: Sym) -> Expr:
    vector = dsym.shape[1] == 1
    size = dsym.shape[0] if vector else None
    if t == dsym or (vector and t == transpose(dsym)):
        from .rules.kron import dim_product
        return Identity(size if vector else dim_product(*dsym.shape))
    if isinstance(t, Mul) and not any(s.depends(dsym) for s in t.scalars):
        k = _dependent(t, dsym) - len(t.scalars)
        c, left, right = t.chain[k], t.chain[:k], t.chain[k + 1:]
        L = mul(*left) if left else Identity(c.shape[0])
        R = mul(*right) if right else Identity(c.shape[1])
        return mul(_num(t), *t.scalars, kron(transpose(R), L), vec_jacobian(c, dsym))
    if isinstance(t, Transpose):   # vec(Tᵀ) = K_{pq} vec(T) for T p×q (K_{p1} = I: a vector's vec either way)
        return mul(commutation(*t.args[0].shape), vec_jacobian(t.args[0], dsym))
    if isinstance(t, Hadamard) and t.shape[1] == 1:  # vec(w ⊙ T) = diag(w) vec(T) for vectors
        i = _dependent(t, dsym)
        return mul(diag(hadamard(*t.args[:i], *t.args[i + 1:])), vec_jacobian(t.args[i], dsym))
    raise TensorNeeded(
        "the Kronecker form of this derivative needs more than L·dX·R and L·dXᵀ·R terms (a Hadamard product "
        "of matrices or a scalar factor holding dX); write D F(X)[V] for its differential form")
