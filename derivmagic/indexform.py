"""A derivative of order k ≥ 3 by a vector as a tensor in index notation, ``T_{ijk} = 8 δ_ij x_k + …``:
read off the expanded multilinear form term by term (a pairing of two directions is δ, of a
direction and a vector an entry, ``aᵀ(Wu ⊙ Wv ⊙ Ww)`` a sum over a spare index), evaluated with
einsum for the check, and printed as text and LaTeX."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .expr import SCALAR, Expr, Ones, Sym
from .higher import pairings_oriented
from .rules import Add, Hadamard, Mul, Transpose, mul, transpose

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
    flat = pairings_oriented(expand(answer.form))
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
