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

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from . import structure
from .differentiate import Differentiator, TensorNeeded, gradient, jacobian, vec_jacobian
from .errors import DerivError
from .expr import ONE, SCALAR, Expr, Sym, fmt_shape, postorder, size, zero
from .expr import Num, Ones
from .rules import Add, Hadamard, Mul, Trace, Transpose, mul, trace, transpose
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
    in ``directions`` (generated when not given), with the order below it for the check."""
    order = len(variables)
    if order > MAX_ORDER:
        raise DerivError(f"derivatives of order {order} are not computed: beyond order {MAX_ORDER} finite "
                         f"differences cannot check them (their error grows like h^-{order})")
    taken = {s.name for s in f.free} | {v.name for v in variables}
    dirs = list(directions) if directions else direction_symbols(variables, taken)
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
    result, lower = _expanded(forms[-1]), forms[-2]
    return Answer("multilinear", layout, f, variables[-1], result, result, dirs[-1], steps,
                  _description(f, variables, dirs), gradient=lower, passes=tuple(zip(variables, dirs)),
                  matrix=_as_matrix(f, variables, dirs, forms))


def _expanded(form: Expr) -> Expr:
    """The form as a sum of products of pairings (uᵀv + vᵀu is 2uᵀv), when that is not larger: an
    expression of many layers keeps its shared, factored form."""
    from .claims import expand
    with structure.kept(*form.free):
        flat = simplify(_pairings_oriented(expand(form)))
    return flat if size(flat) <= size(form) + 8 else form


def _pairings_oriented(root: Expr) -> Expr:
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


def _description(f: Expr, variables: list[Sym], dirs: list[Expr]) -> str:
    k = len(variables)
    what = f"{ordinal(k)} derivative" if len({v.name for v in variables}) == 1 else f"mixed {ordinal(k)} derivative"
    if all(is_scalar_variable(v) for v in variables):
        return f"{what}, shaped like the function ({fmt_shape(f.shape)})"
    named = [d.name for d in dirs if isinstance(d, Sym)]   # a scalar variable's direction is 1
    names = ", ".join(named)
    kind = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(len(named), f"{len(named)}-linear")
    same = len({v.name for v in variables}) == 1
    return f"{what}, as a {kind} form in {names}" + (" (symmetric in them)" if same else "")


def _as_matrix(f: Expr, variables: list[Sym], dirs: list[Expr], forms: list[Expr]):
    """(matrix, what it is) where the second-order form is a matrix, else None."""
    if len(variables) != 2 or f.shape != SCALAR or any(is_scalar_variable(v) for v in variables):
        return None
    x, y = variables
    u, v = dirs
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
                return M, f"the matrix [∂²f/∂{x.name}_i∂{y.name}_j] ({fmt_shape(M.shape)}): D²f[{u.name}, {v.name}] = " \
                          f"{u.name}ᵀ M {v.name}"
            H = simplify(vec_jacobian(simplify(dg), v))
            return H, f"the Hessian of vec {x.name} ({fmt_shape(H.shape)}, a Kronecker expression): " \
                      f"D²f[{u.name}, {v.name}] = vec({u.name})ᵀ H vec({v.name})"
    except TensorNeeded:
        return None


# ---------------------------------------------------------------- index notation
INDEX_LETTERS = "ijklpq"


@dataclass(frozen=True)
class Factor:
    """One factor of a term in index notation: δ_{ab} (``expr`` None), an entry ``[expr]_{ab}``,
    or a scalar (no indices)."""
    expr: Expr | None
    indices: str = ""


@dataclass(frozen=True)
class Term:
    coeff: Fraction
    factors: tuple
    summed: str = ""     # an index summed over inside the term (Σ_l)


def index_form(answer) -> tuple[str, list[Term]] | None:
    """The k-th derivative by a vector as a tensor ``T_{ij…}`` (indices i, j, … for the directions in
    order), read off the expanded form term by term; None when a term is not a product of pairings,
    entries and one elementwise sum (the form alone is then the answer)."""
    dirs = [d for _, d in answer.passes]
    if answer.kind != "multilinear" or len(dirs) < 3 or answer.function.shape != SCALAR \
            or not all(isinstance(d, Sym) and d.shape[1] == 1 and d.shape[0] != 1 for d in dirs) \
            or len(set(dirs)) != len(dirs) or len(dirs) > len(INDEX_LETTERS) - 1:
        return None
    index = {d: INDEX_LETTERS[k] for k, d in enumerate(dirs)}
    from .claims import expand
    flat = _pairings_oriented(expand(answer.result))
    terms = []
    for t in (flat.args if isinstance(flat, Add) else (flat,)):
        term = _term(t, index, INDEX_LETTERS[len(dirs)])
        if term is None or sorted(c for f in term.factors for c in f.indices if c in index.values()) \
                != sorted(index.values()):
            return None
        terms.append(term)
    return "".join(index[d] for d in dirs), terms


def _term(t: Expr, index: dict, spare: str) -> Term | None:
    coeff, pieces = (t.coeff, list(t.scalars) + ([mul(*t.chain)] if t.chain else [])) if isinstance(t, Mul) \
        else (Fraction(1), [t])
    factors, summed = [], ""
    for p in pieces:
        if not p.free & set(index):
            factors.append(Factor(p))
            continue
        got = _pairing(p, index, spare if not summed else None)
        if got is None:
            return None
        more, s = got
        factors += more
        summed = summed or s
    return Term(Fraction(coeff), tuple(factors), summed)


def _pairing(p: Expr, index: dict, spare: str | None):
    """``aᵀ M b`` with directions only at its ends, or ``aᵀ(h_1 ⊙ h_2 ⊙ …)`` summed over ``spare``."""
    if not (isinstance(p, Mul) and p.coeff == 1 and not p.scalars and len(p.chain) >= 2):
        return None
    chain = list(p.chain)
    first, last = chain[0], chain[-1]
    left = first.args[0] if isinstance(first, Transpose) and first.args[0] in index else None
    right = last if last in index else None
    if right is None and isinstance(last, Hadamard) and spare is not None and left is None:
        row = mul(*chain[:-1])
        if row.free & set(index):
            return None
        out = [Factor(transpose(row), spare)] if not isinstance(transpose(row), Ones) else []
        for h in last.args:
            got = _column_entry(h, index, spare)
            if got is None:
                return None
            out.append(got)
        return out, spare
    middle = mul(*chain[(left is not None):len(chain) - (right is not None)]) \
        if len(chain) - (left is not None) - (right is not None) > 0 else None
    if middle is not None and middle.free & set(index):
        return None
    if left is not None and right is not None:
        return [Factor(middle, index[left] + index[right])], ""
    if left is not None:
        return [Factor(middle, index[left])], ""
    if right is not None:
        return [Factor(transpose(middle), index[right])], ""
    return None


def _column_entry(h: Expr, index: dict, row: str) -> Factor | None:
    """The entry ``row`` of one factor of an elementwise product: e_l, δ_{l i}, or M_{l i} for M u."""
    if not h.free & set(index):
        return Factor(h, row)
    if h in index:
        return Factor(None, row + index[h])
    if isinstance(h, Mul) and h.coeff == 1 and not h.scalars and h.chain[-1] in index:
        M = mul(*h.chain[:-1])
        return None if M.free & set(index) else Factor(M, row + index[h.chain[-1]])
    return None


def index_values(form: tuple, env: dict, sizes: dict, n: int) -> np.ndarray:
    """The tensor ``form`` (from ``index_form``) stands for, at values: each term one einsum."""
    from .check import evaluate
    names, terms = form
    eye, total = np.eye(n), np.zeros((n,) * len(names))
    for term in terms:
        arrays, labels = [], []
        for f in term.factors:
            if f.expr is None:
                arrays.append(eye)
            else:
                value = np.asarray(evaluate(f.expr, env, sizes), dtype=float)
                arrays.append(value.reshape(()) if not f.indices else value[:, 0] if len(f.indices) == 1 else value)
            labels.append(f.indices)
        total = total + float(term.coeff) * np.einsum(",".join(labels) + "->" + names, *arrays)
    return total


def index_text(form: tuple) -> str:
    from .render import to_text
    names, terms = form
    return f"T_{names} = " + _joined([_term_string(t, to_text, False) for t in terms])


def index_latex(form: tuple) -> str:
    from .render import to_latex
    names, terms = form
    return f"T_{{{names}}} = " + _joined([_term_string(t, to_latex, True) for t in terms])


def _joined(parts: list[str]) -> str:
    out = parts[0]
    for p in parts[1:]:
        out += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
    return out


def _term_string(term: Term, show, latex: bool) -> str:
    pieces = []
    for f in term.factors:
        if f.expr is None:
            pieces.append(rf"\delta_{{{f.indices}}}" if latex else f"δ_{f.indices}")
        elif not f.indices:
            text = show(f.expr)
            pieces.append(f"({text})" if isinstance(f.expr, Add) else text)
        elif isinstance(f.expr, Sym):
            pieces.append(rf"{f.expr.tex}_{{{f.indices}}}" if latex else f"{f.expr.name}_{f.indices}")
        else:
            pieces.append(rf"\left[{show(f.expr)}\right]_{{{f.indices}}}" if latex else f"({show(f.expr)})_{f.indices}")
    c = term.coeff
    sign, c = ("-" if c < 0 else ""), abs(c)
    lead = "" if c == 1 and pieces else (rf"\frac{{{c.numerator}}}{{{c.denominator}}}" if latex and c.denominator != 1
                                          else str(c))
    total = (r"\sum_{" + term.summed + "} " if latex else f"Σ_{term.summed} ") if term.summed else ""
    sep = r"\," if latex else " "
    return sign + lead + (sep if lead and pieces else "") + total + sep.join(pieces)
