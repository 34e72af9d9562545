"""Textbook form for results: common factors pulled out of sums, applied bottom-up.

The constructors in ``rules/`` already keep a light normal form (like terms combined,
coefficients collected, transposes pushed through products); factoring is kept apart so
that a user's own formula is shown as typed and only derived expressions are tidied."""
from __future__ import annotations

from fractions import Fraction

from .expr import Expr, Identity, Num, postorder
from .limits import scoped, tick
from .rules.linear import Add, Mul, Transpose, add, mul, split_coeff


def simplify(root: Expr) -> Expr:
    # simplified forms, shared by the steps of one cell (they share sub-expressions); the cache
    # lives as long as the cell's budget, so what one cell simplified never shapes another
    done = scoped("simplified")
    if done is None:
        done = {}
    for node in postorder(root):
        if node in done:
            continue
        args = [done[a] for a in node.args]
        new = node if all(n is o for n, o in zip(args, node.args)) else node.rebuild(args)
        if isinstance(new, Add):
            new = factor(list(new.args)) or _ordered(new)
        done[node] = new
    return done[root]


def _add_factored(terms: list[Expr]) -> Expr:
    s = add(*terms)
    return (factor(list(s.args)) or _ordered(s)) if isinstance(s, Add) else s


def _ordered(s: Add) -> Expr:
    """Positive terms first, then those with fewer transposes: A + Aᵀ rather than Aᵀ + A."""
    terms = sorted(s.args, key=lambda t: (split_coeff(t)[0] < 0, _transposes(t)))
    return s if terms == list(s.args) else Add(terms)


def _transposes(e: Expr) -> int:
    """Transposes in ``e``, each occurrence counted (as printed), computed once per node of the DAG."""
    memo = scoped("transposes")
    if memo is None:
        memo = {}
    for node in postorder(e):
        if node not in memo:
            memo[node] = (1 if isinstance(node, Transpose) else 0) + sum(memo[a] for a in node.args)
    return memo[e]


def factor(terms: list[Expr]) -> Expr | None:
    """Pull a common left or right matrix factor out of a sum, or out of the terms that
    share one: ``2A^TAx - 2A^Tb -> 2A^T(Ax - b)``, ``Ax + A^Tx + b -> (A + A^T)x + b``."""
    tick(len(terms))
    whole = _factor_all(terms)
    if whole is not None:
        return whole
    for side in (-1, 0):
        groups: dict[Expr, list[Expr]] = {}
        for t in terms:
            f = _end_factor(t, side)
            if f is not None:
                groups.setdefault(f, []).append(t)
        for f, group in groups.items():
            if 1 < len(group) < len(terms):
                grouped = _factor_all(group)
                if grouped is not None:
                    rest = [t for t in terms if t not in group]
                    return _add_factored([grouped, *rest])
    return None


def _end_factor(t: Expr, side: int) -> Expr | None:
    rest = split_coeff(t)[1]
    if isinstance(rest, Mul):
        return rest.chain[side] if len(rest.chain) > 1 else None
    return None


def _factor_all(terms: list[Expr]) -> Expr | None:
    parts = []
    for t in terms:
        c, rest = split_coeff(t)
        if isinstance(rest, Mul):
            parts.append((c, rest.scalars, rest.chain))
        elif rest.is_scalar:
            return None
        else:
            parts.append((c, (), (rest,)))
    for side in (0, -1):
        first = parts[0][2][side] if parts[0][2] else None
        if first is None or isinstance(first, Identity) or not all(ch and ch[side] == first for _, _, ch in parts):
            continue
        if not any(len(ch) > 1 for _, _, ch in parts):
            continue
        if side == 0:
            want = (first.shape[1], terms[0].shape[1])
        else:
            want = (terms[0].shape[0], first.shape[0])
        rests = []
        for c, sc, ch in parts:
            rest = mul(Num(c), *sc, *(ch[1:] if side == 0 else ch[:-1]))
            if rest.shape != want:
                if not (rest.is_scalar and want[0] == want[1]):
                    break
                rest = mul(rest, Identity(want[0]))
            rests.append(rest)
        else:
            common = _common_coefficient([split_coeff(r)[0] for r in rests])
            inner = _add_factored([mul(Num(1 / common), r) for r in rests])
            return mul(Num(common), first, inner) if side == 0 else mul(Num(common), inner, first)
    return None


def _common_coefficient(coeffs) -> Fraction:
    """The coefficient shared by every term (with the sign of the first), else 1."""
    first = coeffs[0]
    if first != 0 and all(abs(c) == abs(first) for c in coeffs) and abs(first) != 1:
        return abs(first)
    return Fraction(1)
