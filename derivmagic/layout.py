"""Arranging a derivative in the requested layout (Wikipedia, "Matrix calculus"):

| f \\ x            | scalar t          | vector x (n)              | matrix X (m×n)        |
|------------------|-------------------|---------------------------|-----------------------|
| scalar f         | scalar            | numerator 1×n, denom. n×1 | numerator n×m, denom. m×n |
| vector f (m)     | numerator m×1, denom. 1×m | numerator m×n, denom. n×m | —              |
| matrix F (p×q)   | p×q               | —                         | —                     |

``∇`` is shaped like the variable for a scalar function and follows the denominator
layout otherwise. Each answer carries the differential form it was read from, so the
final step (and the numeric check) state ``df = <answer, dx>`` in that layout.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .differentiate import Differentiator, differential_symbol, gradient, jacobian, vec_jacobian
from .rules.kron import Vec, dim_product
from .errors import DerivError
from .expr import ONE, SCALAR, Expr, Sym, fmt_shape, substitute, zero
from .expr import Num
from .rules import Add, Diag, Mul, add, hadamard, mul, trace, transpose
from .render import to_text
from . import structure, symmetric
from .simplify import simplify
from .steps import Step


@dataclass
class Answer:
    kind: str            # gradient | jacobian | hessian | directional | multilinear | value (a line of values)
    layout: str
    function: Expr
    var: Sym
    result: Expr
    pairing: Expr        # the differential df written with the result (linear in dsym)
    dsym: Expr           # the direction symbol of the check
    steps: list
    description: str
    gradient: Expr | None = None   # for Hessians: the gradient differentiated a second time; for a
                                   # multilinear form: the order below it (what the check differentiates)
    differential: Expr | None = None  # df itself, in the direction dsym (shown for matrix functions)
    written: str = ""    # for a line of values ("value"): its first side as the cell wrote it
    # a multilinear form (higher.py): its passes (variable, direction symbol) in order; every order
    # f, D f[v_1], … with those symbols (each checked against the one below); the directions written
    # as expressions, held by symbols; the form as shown; the matrix a second-order form stands for
    # (matrix, what it is), and whether that matrix is the result (∂²f/∂x∂y of two vectors)
    passes: tuple = ()
    forms: tuple = ()
    held: tuple = ()
    form: Expr | None = None
    matrix: tuple | None = None
    as_matrix: bool = False
    convention: str = ""  # by a symmetric matrix: "sym" or "cookbook" (symmetric.py), else ""

    @property
    def vectorized(self) -> bool:
        """A Kronecker form: the Jacobian of vec F by vec X."""
        shapes = (self.function.shape, self.var.shape)
        return self.kind in ("gradient", "jacobian") and (1, 1) not in shapes \
            and not all(_is_vector(s) for s in shapes)


def _is_vector(shape) -> bool:
    return shape[1] == 1 or shape[0] == 1


def solve(kind: str, f: Expr, var: Sym, layout: str, direction: Expr | None = None) -> Answer:
    steps: list[Step] = []
    if kind == "directional":
        d = Differentiator(var, direction, steps)(f)
        result = simplify(d) if d is not None else zero(f.shape)
        desc = f"directional derivative, shaped like the function ({fmt_shape(f.shape)})"
        return Answer(kind, layout, f, var, result, result, direction, steps, desc)
    dsym, dvar = differential_symbol(var)
    df = Differentiator(var, dvar if dvar is not None else dsym, steps)(f)
    if kind == "hessian":
        return _hessian(f, var, dsym, df, steps, layout)
    result, pairing, desc = _first_order(kind, layout, f, var, dsym, df)
    result, pairing = simplify(result), simplify(pairing)
    steps[:] = identified(steps, Step(_identify_rule(kind, layout, f, var), f, pairing, var=var, dvar=dsym,
                                      result=result))
    differential = simplify(df) if df is not None else zero(f.shape)
    return Answer(kind, layout, f, var, result, pairing, dsym, steps, desc, differential=differential,
                  convention=symmetric.convention_for(f, var))


def solve_many(kind: str, f: Expr, variables: list[Sym], layout: str) -> list[Answer]:
    """``∇_{W,b} L``: one forward pass with every variable moving, then each derivative read
    off the shared differential (the other directions set to zero)."""
    if kind not in ("gradient", "jacobian"):
        raise DerivError("several variables at once are supported for first derivatives")
    symbols = {v: differential_symbol(v) for v in variables}
    shared: list[Step] = []
    df = Differentiator({v: dv if dv is not None else ds for v, (ds, dv) in symbols.items()}, steps=shared)(f)
    answers = []
    for v in variables:
        dsym = symbols[v][0]
        others = {symbols[o][0]: zero(symbols[o][0].shape) for o in variables if o != v}
        own = substitute(df, others) if df is not None else None
        result, pairing, desc = _first_order(kind, layout, f, v, dsym, own)
        result, pairing = simplify(result), simplify(pairing)
        ident = Step(_identify_rule(kind, layout, f, v), f, pairing, var=v, dvar=dsym, result=result)
        answers.append(Answer(kind, layout, f, v, result, pairing, dsym, shared + [ident], desc,
                              convention=symmetric.convention_for(f, v)))
    return answers


def solve_named(kind: str, named, variables: list[Sym], layout: str) -> list[Answer]:
    """First derivatives on the user's definitions (``names.Named``): the steps and the result
    written with the definitions' names, one answer per variable."""
    from .names import forward
    if kind not in ("gradient", "jacobian"):
        raise DerivError("derivations on the definitions' names are given for first derivatives")
    symbols = {v: differential_symbol(v) for v in variables}
    chain = forward(named, {v: dv if dv is not None else ds for v, (ds, dv) in symbols.items()})
    f, answers = named.function, []
    for v in variables:
        dsym = symbols[v][0]
        others = {symbols[o][0]: zero(symbols[o][0].shape) for o in variables if o != v}
        own = substitute(chain.differential, others) if others else chain.differential
        result, pairing, desc = _first_order(kind, layout, f, v, dsym, own)
        result, pairing = simplify(result), simplify(pairing)
        ident = Step(_identify_rule(kind, layout, f, v), f, pairing, var=v, dvar=dsym, result=result,
                     meanings=chain.meanings)
        steps = identified(chain.steps, ident) if len(variables) == 1 else chain.steps + [ident]
        answers.append(Answer(kind, layout, f, v, result, pairing, dsym, steps, desc, differential=simplify(own),
                              convention=symmetric.convention_for(f, v)))
    return answers


def _first_order(kind, layout, f, var, dsym, df):
    """(result, df written with the result, description) for a first derivative."""
    fs, xs = f.shape, var.shape
    denominator = kind == "gradient" or layout == "denominator"
    df = df if df is not None else zero(fs)
    if xs == SCALAR:
        g = substitute(df, {dsym: ONE})
        if fs == SCALAR or not _is_vector(fs):
            return g, mul(g, dsym), f"derivative by a scalar, shaped like the function ({fmt_shape(fs)})"
        col = g if fs[1] == 1 else transpose(g)
        res = transpose(col) if denominator else col
        pair = mul(transpose(res) if denominator else res, dsym)
        return res, pair, f"{'denominator' if denominator else 'numerator'} layout: {fmt_shape(res.shape)}"
    dx = dsym if xs == dsym.shape else transpose(dsym)  # the direction, shaped like the variable
    if fs == SCALAR:
        g = gradient(df, dsym) if df != zero(fs) else None
        g = zero(dsym.shape) if g is None else g
        shaped = g if xs == dsym.shape else transpose(g)
        convention = symmetric.convention_for(f, var)
        if convention:   # by a symmetric matrix: the gradient of the convention, df written with it
            shaped, pair = symmetric.gradient(shaped, dx, convention)
            said = "; " + symmetric.description(convention, var)
        else:
            pair, said = trace(mul(transpose(shaped), dx)), ""
        if denominator:
            what = f"gradient, shaped like {var.name}" if kind == "gradient" else "denominator layout (the gradient)"
            return shaped, pair, f"{what}: {fmt_shape(shaped.shape)}{said}"
        res = shaped if convention else transpose(shaped)   # a symmetric gradient is its own transpose
        pair = pair if convention else trace(mul(res, dx))
        return res, pair, f"numerator layout: {fmt_shape(res.shape)}; the gradient is its transpose{said}"
    if _is_vector(fs) and _is_vector(xs):
        col = df if fs[1] == 1 else transpose(df)
        J = jacobian(col, dsym) if col != zero(col.shape) else zero((col.shape[0], dsym.shape[0]))
        if denominator:
            res = transpose(J)
            return res, _apply(J, dsym), f"denominator layout: {fmt_shape(res.shape)} (the transposed Jacobian)"
        return J, _apply(J, dsym), f"numerator layout: {fmt_shape(J.shape)} (the Jacobian)"
    K = vec_jacobian(df, dsym) if df != zero(fs) else None
    if K is None or K == zero(fs):
        K = zero((dim_product(*fs), dim_product(*dsym.shape)))
    res = transpose(K) if denominator else K
    size = f"{fmt_shape(K.shape)}"
    return res, mul(transpose(res) if denominator else res, Vec(dsym)), (
        f"the Jacobian of vec F by vec X ({size}, vec stacks columns), "
        f"{'denominator layout: its transpose' if denominator else 'numerator layout'}")


def _apply(J: Expr, v: Expr) -> Expr:
    """J v, with diag(u) v written u ⊙ v (the check then never forms an n×n diagonal)."""
    if isinstance(J, Diag):
        return hadamard(J.args[0], v)
    if isinstance(J, Mul) and not J.chain[1:] and isinstance(J.chain[0], Diag):
        return mul(Num(J.coeff), *J.scalars, hadamard(J.chain[0].args[0], v))
    if isinstance(J, Add):
        return add(*[_apply(t, v) for t in J.args])
    return mul(J, v)


def _identify_rule(kind, layout, f, var) -> str:
    """The identification, written with the function's and the variable's names: ``df = tr(Gᵀ dΣ)``."""
    x = to_text(var)
    df = f"d{to_text(f)}" if isinstance(f, Sym) else "df"
    if (1, 1) not in (f.shape, var.shape) and not (_is_vector(f.shape) and _is_vector(var.shape)):
        return f"identify the Jacobian: vec({df}) = J vec(d{x})"
    if f.shape == SCALAR and var.shape != SCALAR:
        convention = symmetric.convention_for(f, var)
        if convention:
            return symmetric.identify_rule(convention, x, df)
        return f"identify the gradient: {df} = tr(Gᵀ d{x})" if not _is_vector(var.shape) \
            else f"identify the gradient: {df} = gᵀ d{x}"
    if var.shape == SCALAR:
        return f"identify the derivative: {df} = {df[1:] if isinstance(f, Sym) else 'f'}′ d{x}"
    return f"identify the Jacobian: {df} = J d{x}"


def identified(steps: list, ident: Step) -> list:
    """``steps`` ending with the identification; when the identification would print the same
    equality as the step before it (``d(‖X‖²) = 2 tr(Xᵀ dX)`` twice), that step is named by both
    rules and printed once."""
    last = steps[-1] if steps else None
    if last is not None and last.node == ident.node and last.differential == ident.differential:
        return steps[:-1] + [replace(last, rule=f"{last.rule}; {ident.rule}", result=ident.result)]
    return steps + [ident]


def _hessian(f, var, dsym, df, steps, layout) -> Answer:
    if f.shape != SCALAR or var.shape[1] != 1:
        raise DerivError("a Hessian needs a scalar function of a column vector (or a scalar)")
    g, pair, _ = _first_order("gradient", layout, f, var, dsym, df)
    with structure.kept(var):   # differentiated again: 𝟏ᵀy = 1 would lose y's own derivative
        g, pair = simplify(g), simplify(pair)
    steps[:] = identified(steps, Step(_identify_rule("gradient", layout, f, var), f, pair, var=var, dvar=dsym,
                                      result=g))
    second: list[Step] = []
    dg = Differentiator(var, dsym, second)(g)
    if var.shape == SCALAR:
        H = substitute(dg, {dsym: ONE}) if dg is not None else zero(SCALAR)
        pairing = mul(H, dsym)
    else:
        H = jacobian(dg, dsym) if dg is not None else zero((var.shape[0], var.shape[0]))
        pairing = mul(H, dsym)
    shown = {(s.node, s.differential) for s in steps}
    steps.extend(s for s in second if (s.node, s.differential) not in shown)   # d‖x‖ once, not again
    H, pairing = simplify(H), simplify(pairing)
    steps[:] = identified(steps, Step(f"identify the Hessian: d(∇f) = H d{to_text(var)}", g, pairing, var=var,
                                      dvar=dsym, result=H))
    return Answer("hessian", layout, f, var, H, pairing, dsym, steps,
                  f"Hessian, {fmt_shape(H.shape)} (symmetric)", gradient=g)
