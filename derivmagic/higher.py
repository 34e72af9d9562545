"""Derivatives of any order, as multilinear forms.

``D^k f(x)[v_1, …, v_k]`` is the derivative along ``v_k`` of ``D^{k-1} f(x)[v_1, …, v_{k-1}]``,
the earlier directions held fixed: every order is one more forward pass of the same rules, each
pass recorded as steps, and each order is checked by finite differences of the order below it.
A mixed derivative ``∂²f/∂x∂y`` is the same with a different variable in each pass.

Where the form is a matrix it is given as one too: for a scalar variable the directions are 1
and the form is the k-th derivative itself; the mixed second derivative of two vectors is the
block ``[∂²f/∂x_i∂y_j]``; the second derivative by a matrix is the mn×mn Hessian of vec X, a
Kronecker expression, when it has one (shown with ``--vec``).
"""
from __future__ import annotations

from dataclasses import replace

from . import structure
from .differentiate import Differentiator, TensorNeeded, gradient, jacobian, vec_jacobian
from .errors import DerivError
from .expr import ONE, SCALAR, Expr, Num, Ones, Sym, fmt_shape, postorder, size, substitute, zero
from .rules import Mul, Trace, Transpose, mul, trace, transpose
from .layout import Answer
from .simplify import simplify

ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
            8: "eighth", 9: "ninth"}
# beyond this order the forms are still polynomial in size, but the check's differences lose
# every digit (h^k against rounding): refused with the reason rather than checked badly
MAX_ORDER = 6


def ordinal(k: int) -> str:
    return ORDINALS.get(k, f"{k}th")


def is_scalar_variable(var: Sym) -> bool:
    return var.shape == SCALAR


def direction_symbols(variables: list[Sym], taken: set[str]) -> list[Expr]:
    """The directions of the passes: 1 for a scalar variable; otherwise u, v, w (U, V, W for
    matrices), or h_1, …, h_k when there are more passes or those names are taken."""
    out, used = [], set(taken)
    wanted = {("UVW" if v.shape[0] != 1 and v.shape[1] != 1 else "uvw")[k] for k, v in enumerate(variables[:3])
              if not is_scalar_variable(v)}
    plain = len(variables) <= 3 and not taken & wanted   # u, v, w for all, or h_1, … for all
    for k, var in enumerate(variables):
        if is_scalar_variable(var):
            out.append(ONE)
            continue
        matrix = var.shape[0] != 1 and var.shape[1] != 1
        letters = "UVW" if matrix else "uvw"
        name = letters[k] if plain else None
        if name is None or name in used:
            base = "H" if matrix else "h"
            i = k + 1
            while f"{base}_{i}" in used:
                i += len(variables)
            name, tex = f"{base}_{i}", f"{base}_{{{i}}}"
        else:
            tex = name
        used.add(name)
        out.append(Sym(name, var.shape, tex=tex, props=var.props & {"symmetric"}))
    return out


def multilinear(f: Expr, variables: list[Sym], layout: str, directions: list[Expr] | None = None) -> Answer:
    """The derivative of ``f`` by ``variables[0]``, then ``variables[1]``, …: the multilinear form
    in ``directions`` (generated when not given). A direction that is not a plain symbol (``x``,
    ``2u``, ``v + w``) is held by a symbol of its own while differentiating, so that no later pass
    differentiates it, and put back in the form shown."""
    order = len(variables)
    if order > MAX_ORDER:
        raise DerivError(f"derivatives of order {order} are not computed: beyond order {MAX_ORDER} finite "
                         f"differences cannot check them (their error grows like h^-{order})")
    taken = {s.name for s in f.free} | {v.name for v in variables}
    written = list(directions) if directions else direction_symbols(variables, taken)
    dirs, held = _held(written, variables, taken | {s.name for d in written for s in d.free})
    steps, forms = [], [f]
    with structure.kept(*variables):   # differentiated again: 𝟏ᵀy = 1 would lose y's own derivative
        for k, (var, d) in enumerate(zip(variables, dirs)):
            own: list = []
            form = Differentiator(var, d, own)(forms[-1])
            forms.append(simplify(form) if form is not None else zero(f.shape))
            if k:
                own = [replace(s, rule=f"{s.rule} ({ordinal(k + 1)} differential)") for s in own]
            shown = {(s.node, s.differential) for s in steps}
            steps += [s for s in own if (s.node, s.differential) not in shown]
    shown_form = _expanded(substitute(forms[-1], dict(held)))
    matrix = _as_matrix(f, variables, dirs, forms, [_name(d, held) for d in dirs])
    block = matrix is not None and not directions and all(v.shape[1] == 1 for v in variables) \
        and variables[0] != variables[1]   # ∂²f/∂x∂y of two vectors: the matrix, as the Hessian is
    answer = Answer("multilinear", layout, f, variables[-1], matrix[0] if block else shown_form, forms[-1],
                    dirs[-1], steps, _description(f, variables, written, block), gradient=forms[-2],
                    passes=tuple(zip(variables, dirs)), matrix=matrix, forms=tuple(forms), held=tuple(held),
                    form=shown_form, as_matrix=block)
    return answer


def _held(written: list[Expr], variables: list[Sym], taken: set[str]) -> tuple[list[Expr], list]:
    """The directions as the passes use them (symbols, or 1 for a scalar variable) and the pairs
    (symbol, direction as written) of those that are expressions or depend on a variable."""
    dirs, held = [], []
    for k, d in enumerate(written):
        if d == ONE or (isinstance(d, Sym) and d not in variables):
            dirs.append(d)
            continue
        name = next(f"δ{k + 1}" + "′" * i for i in range(len(taken) + 1) if f"δ{k + 1}" + "′" * i not in taken)
        symbol = Sym(name, d.shape, tex=rf"\delta_{{{k + 1}}}")
        dirs.append(symbol)
        held.append((symbol, d))
    return dirs, held


def _expanded(form: Expr) -> Expr:
    """The form as a sum of products of pairings (uᵀv + vᵀu is 2uᵀv), when that is not larger: an
    expression of many layers keeps its shared, factored form."""
    from .claims import expand
    with structure.kept(*form.free):
        flat = simplify(pairings_oriented(expand(form)))
    return flat if size(flat) <= size(form) + 8 else form


def pairings_oriented(root: Expr) -> Expr:
    """Every pairing ``aᵀb`` of two vectors written one way (it equals ``bᵀa``), so like terms meet."""
    memo: dict[Expr, Expr] = {}
    for node in postorder(root):
        args = [memo[a] for a in node.args]
        new = node if all(n is o for n, o in zip(args, node.args)) else node.rebuild(args)
        if isinstance(new, Mul) and new.shape == SCALAR and len(new.chain) == 2:
            pairing = min(mul(*new.chain), mul(*[transpose(c) for c in reversed(new.chain)]), key=_pairing_key)
            new = mul(Num(new.coeff), *new.scalars, pairing) if new.scalars or new.coeff != 1 else pairing
        elif isinstance(new, Trace) and isinstance(new.args[0], Mul) and not new.args[0].scalars \
                and new.args[0].coeff == 1 and len(new.args[0].chain) > 1:
            new = _trace_oriented(new.args[0].chain)
        memo[node] = new
    return memo[root]


def _pairing_key(p: Expr):
    """aᵀb with a a symbol (or 𝟏) first, as written by hand; then any fixed order."""
    first = p.chain[0] if isinstance(p, Mul) and p.chain else p
    leaf = isinstance(first, Transpose) and isinstance(first.args[0], (Sym, Ones))
    return (not leaf, p.sort_key())


def _trace_oriented(chain: tuple) -> Expr:
    """tr(ABC) written from its least rotation, of the chain or of its transpose (tr Mᵀ = tr M)."""
    back = tuple(transpose(c) for c in reversed(chain))
    rotations = [c[i:] + c[:i] for c in (chain, back) for i in range(len(c))]
    return trace(mul(*min(rotations, key=lambda r: mul(*r).sort_key())))


def _description(f: Expr, variables: list[Sym], written: list[Expr], block: bool) -> str:
    from .render import to_text
    k = len(variables)
    same = len({v.name for v in variables}) == 1
    what = f"{ordinal(k)} derivative" if same else f"mixed {ordinal(k)} derivative"
    if block:
        x, y = variables
        return f"{what}, the matrix [∂²f/∂{x.name}_i∂{y.name}_j] ({x.name} by rows, {y.name} by columns)"
    named = [to_text(d) for d in written if d != ONE]   # a scalar variable's direction is 1
    if not named:
        return f"{what}, shaped like the function ({fmt_shape(f.shape)})"
    kind = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(len(named), f"{len(named)}-linear")
    distinct = len(set(named)) == len(named) and all(isinstance(d, Sym) for d in written if d != ONE)
    return f"{what}, as a {kind} form in {', '.join(named)}" + (" (symmetric in them)" if same and distinct else "")


def _name(d: Expr, held: list) -> str:
    from .render import to_text
    return to_text(dict(held).get(d, d))


def _as_matrix(f: Expr, variables: list[Sym], dirs: list[Expr], forms: list[Expr], names: list[str]):
    """(matrix, what it is) where the second-order form is a matrix, else None (``names``: the
    directions as written)."""
    if len(variables) != 2 or f.shape != SCALAR or any(is_scalar_variable(v) for v in variables):
        return None
    x, y = variables
    u, v = dirs
    un, vn = (n if len(n) == 1 else f"({n})" for n in names)
    vectors = x.shape[1] == 1 and y.shape[1] == 1
    try:
        with structure.kept(*variables):
            g = gradient(forms[1], u)   # D f[u] = ⟨g, u⟩
            if g is None:
                return None
            dg = Differentiator(y, v)(simplify(g))
            if dg is None:
                return None
            if vectors:
                M = simplify(jacobian(simplify(dg), v))   # D²f[u, v] = uᵀ M v
                return M, f"D²f[{names[0]}, {names[1]}] = {un}ᵀ M {vn} with M this matrix ({fmt_shape(M.shape)})"
            H = simplify(vec_jacobian(simplify(dg), v))
            what = f"the Hessian of vec {x.name}" if x == y else f"the mixed block of vec {x.name} and vec {y.name}"
            return H, f"{what} ({fmt_shape(H.shape)}, a Kronecker expression): " \
                      f"D²f[{names[0]}, {names[1]}] = vec({names[0]})ᵀ H vec({names[1]})"
    except TensorNeeded:
        return None
