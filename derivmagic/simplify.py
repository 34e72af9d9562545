"""Textbook form for results, applied bottom-up to derived expressions only.

The constructors in ``rules/`` already keep a light normal form (like terms combined,
coefficients collected, transposes pushed through products); the forms a textbook prints
are kept apart so that a user's own formula is shown as typed and only derived expressions
are tidied:

* common matrix factors pulled out of sums (``2A^T(Ax - b)``), and a common vector out of
  terms with scalar coefficients (``(σ(θᵀx) - y)x``);
* sums of diagonal matrices as one (``diag(a) + diag(b) = diag(a + b)``);
* elementwise (Hadamard) and scalar products distributed over sums when like terms then cancel,
  and a factor common to every term pulled out again: the logistic gradient's
  ``(𝟏 - y) ⊙ σ - (𝟏 - σ) ⊙ y`` is ``σ - y``, its Hessian's weights ``σ ⊙ (𝟏 - σ)``;
* a Hadamard product shown with its plain factors before its sums (``σ ⊙ (𝟏 - σ)``), a sum of
  entries as ``𝟏ᵀy``;
* what a declaration of structure makes true: ``𝟏ᵀy = 1`` for a probability vector, ``y ⊙ y = y``
  for a one-hot one (``structure``)."""
from __future__ import annotations

from fractions import Fraction

from . import structure
from .expr import Expr, Identity, InternalShapeError, Num, Ones, Sym, postorder
from .limits import scoped, tick
from .rules.elementwise import Diag, Hadamard, Pow, diag, hadamard, power
from .rules.linear import Add, Mul, Transpose, add, mul, split_coeff, transpose

EXPANSION_TERMS = 32   # at most this many terms from distributing one product over its sums
COLLECT_WEIGHT = 120   # sums of at most this many leaves (as printed) are distributed and collected


def simplify(root: Expr) -> Expr:
    # simplified forms, shared by the steps of one cell (they share sub-expressions); the cache
    # lives as long as the cell's budget, so what one cell simplified never shapes another
    done = scoped("simplified" + "|".join(sorted(structure.kept_names())))   # one memo per set of kept symbols
    if done is None:
        done = {}
    for node in postorder(root):
        if node in done:
            continue
        args = [done[a] for a in node.args]
        new = node if all(n is o for n, o in zip(args, node.args)) else node.rebuild(args)
        done[node] = _tidy(new)
    return done[root]


def _tidy(e: Expr) -> Expr:
    """One node in textbook form, its arguments already so."""
    known = structure.simplified(e)
    if known is not None:
        return simplify(known)
    if isinstance(e, Add):
        return _tidy_sum(e)
    if isinstance(e, Hadamard):
        named = _sigmoid_named(e)
        return simplify(named) if named is not None else _plain_factors_first(e)
    if isinstance(e, Mul) and e.is_scalar and len(e.chain) == 2 and isinstance(e.chain[1], Ones) \
            and not e.scalars and e.coeff == 1:
        return mul(transpose(e.chain[1]), transpose(e.chain[0]))   # yᵀ𝟏 printed 𝟏ᵀy
    if isinstance(e, Mul) and len(e.chain) == 1 and e.scalars:
        named = _softmax_named(e)
        if named is not None:
            return named
    if isinstance(e, Mul) and e.scalars:
        named = _sigmoid_named(e)
        if named is not None:
            return simplify(named)
        return _plain_scalars_first(e)
    return e


def _sigmoid_named(e: Mul) -> Expr | None:
    """``exp(u)/(1 + exp(u))`` is ``σ(u)`` and ``1/(1 + exp(u))`` is ``σ(-u)`` (the logistic loss's
    gradient ``-σ(-y wᵀx) y x``), for scalars and entry by entry."""
    from .rules.elementwise import Func, func
    from .rules.linear import neg
    factors = list(e.args) if isinstance(e, Hadamard) else list(e.scalars)
    for s in factors:
        if not (isinstance(s, Pow) and s.exponent == -1 and isinstance(s.args[0], Add) and len(s.args[0].args) == 2):
            continue
        one, ex = sorted(s.args[0].args, key=lambda t: not isinstance(t, (Num, Ones)))
        if not (isinstance(one, (Num, Ones)) and (not isinstance(one, Num) or one.value == 1)
                and isinstance(ex, Func) and ex.name == "exp"):
            continue
        others = [x for x in factors if x is not s]
        if ex in others:
            others.remove(ex)
            sigma = func("sigmoid", ex.args[0])
        else:
            sigma = func("sigmoid", neg(ex.args[0]))
        if isinstance(e, Hadamard):
            return hadamard(*others, sigma)
        return mul(Num(e.coeff), *others, sigma, *e.chain)
    return None


def _plain_scalars_first(e: Mul) -> Expr:
    """``σ(wᵀx)(1 - σ(wᵀx))w`` rather than ``(1 - σ(wᵀx))σ(wᵀx)w``: as for elementwise products."""
    ordered = sorted(e.scalars, key=lambda a: (_holds_differential(a), isinstance(a, Add)))
    return e if ordered == list(e.scalars) else Mul(e.coeff, tuple(ordered), e.chain, e.shape)


def _softmax_named(e: Mul) -> Expr | None:
    """``exp(z)/(𝟏ᵀexp(z))`` is ``softmax(z)`` (the gradient of log-sum-exp)."""
    from .rules.elementwise import Func
    from .rules.softmax import softmax
    top = e.chain[0]
    if not (isinstance(top, Func) and top.name == "exp" and top.shape[1] == 1):
        return None
    for s in e.scalars:
        if isinstance(s, Pow) and s.exponent == -1 and isinstance(s.args[0], Mul) and not s.args[0].scalars \
                and s.args[0].coeff == 1 and set(s.args[0].chain) in ({transpose(Ones(top.shape)), top},):
            others = [x for x in e.scalars if x is not s]
            return mul(Num(e.coeff), *others, softmax(top.args[0]))
    return None


def _tidy_sum(s: Add) -> Expr:
    terms = list(s.args)
    merged = _diagonals_merged(terms)
    if merged is not None:
        return simplify(merged)
    collected = _collected(s) if _weight(s) <= COLLECT_WEIGHT else None
    if collected is not None:
        return collected
    return factor(terms) or _common_vector(terms) or _common_coefficient_out(terms) or _ordered(s)


def _common_coefficient_out(terms: list[Expr]) -> Expr | None:
    """``½a - ½b`` as ``½(a - b)``: a fraction every term shares (with the sign of the first);
    whole numbers stay with their terms (``2Xᵀ(Xw - y) + 2λw``)."""
    common = _common_coefficient([split_coeff(t)[0] for t in terms])
    if common.denominator == 1:
        return None
    inner = add(*[mul(Num(1 / common), t) for t in terms])
    return mul(Num(common), _ordered(inner) if isinstance(inner, Add) else inner)


def _add_factored(terms: list[Expr]) -> Expr:
    s = add(*terms)
    return _tidy_sum(s) if isinstance(s, Add) else simplify(s)


# ---------------------------------------------------------------- sums of diagonals
def _diagonals_merged(terms: list[Expr]) -> Expr | None:
    """``c·diag(a) + diag(b) + …`` as ``diag(c a + b) + …`` when two or more terms are diagonal."""
    vectors, rest = [], []
    for t in terms:
        c, core = split_coeff(t)
        if isinstance(core, Mul) and len(core.chain) == 1 and isinstance(core.chain[0], Diag):
            vectors.append(mul(Num(c), *core.scalars, core.chain[0].args[0]))
        elif isinstance(core, Diag):
            vectors.append(mul(Num(c), core.args[0]))
        else:
            rest.append(t)
    if len(vectors) < 2:
        return None
    return add(diag(add(*vectors)), *rest)


# ---------------------------------------------------------------- products over sums
def _product_factors(t: Expr):
    """``(coefficient, factors, rebuild)`` of an elementwise or scalar product, else None."""
    c, core = split_coeff(t)
    if isinstance(core, Hadamard):
        return c, list(core.args), hadamard
    if isinstance(core, Mul) and core.is_scalar and not core.chain:
        return c, list(core.scalars), mul
    if isinstance(core, Mul) and len(core.chain) == 1 and isinstance(core.chain[0], Hadamard):
        return c, [*core.scalars, *core.chain[0].args], hadamard   # (σ ⊙ (𝟏 - y))/m: scalars ride along
    return None


def _distributed(t: Expr) -> list[Expr] | None:
    """The terms of ``t`` with its product distributed over the sums among its factors; None when
    it has no such sum or would give more than ``EXPANSION_TERMS`` terms."""
    parts = _product_factors(t)
    if parts is None:
        return None
    c, factors, build = parts
    sums = [f for f in factors if isinstance(f, Add)]
    if not sums:
        return None
    count = 1
    for f in sums:
        count *= len(f.args)
    if count > EXPANSION_TERMS:
        return None
    out = [[]]
    for f in factors:
        choices = f.args if isinstance(f, Add) else (f,)
        out = [done + [x] for done in out for x in choices]
    tick(len(out))
    return [build(Num(c), *fs) if build is mul else mul(Num(c), build(*fs)) for fs in out]


def _collected(s: Add) -> Expr | None:
    """``s`` with its products distributed and like terms collected, then a factor common to every
    term pulled out, when that is shorter than ``s``: ``(𝟏 - y) ⊙ σ - (𝟏 - σ) ⊙ y`` is ``σ - y``."""
    terms, spread = [], False
    for t in s.args:
        d = _distributed(t)
        spread = spread or d is not None
        terms.extend(d if d is not None else (t,))
    if not spread:
        return None
    expanded = add(*terms)
    if isinstance(expanded, Add):
        expanded = _common_product_factor(list(expanded.args)) or _ordered(expanded)
    candidate = simplify(expanded)
    return candidate if _weight(candidate) < _weight(s) else None


def _exponents(t: Expr):
    """``(coefficient, {base: exponent}, is_elementwise)`` of a product term, else None."""
    c, core = split_coeff(t)
    if isinstance(core, (Num, Ones)):
        return c, {}, not core.is_scalar
    parts = _product_factors(core)
    factors = parts[1] if parts is not None else [core]
    if parts is None and isinstance(core, Mul) and len(core.chain) == 1 and not core.is_scalar:
        factors = [*core.scalars, core.chain[0]]   # σ/m: the scalar m⁻¹ and σ
    out: dict[Expr, Fraction] = {}
    for f in factors:
        base, q = (f.args[0], f.exponent) if isinstance(f, Pow) else (f, Fraction(1))
        out[base] = out.get(base, 0) + q
    return c, out, not core.is_scalar


def _common_product_factor(terms: list[Expr]) -> Expr | None:
    """``σ - σ^{∘2}`` as ``σ ⊙ (𝟏 - σ)``: the powers every term shares pulled out of the sum."""
    parts = [_exponents(t) for t in terms]
    common = dict(parts[0][1])
    for _, exps, _ in parts[1:]:   # the power of a base nearest 0 that every term has (1/m of σ/m - y/m)
        common = {b: _nearer_zero(q, exps[b]) for b, q in common.items() if b in exps and q * exps[b] > 0}
    if not common:
        return None
    elementwise = parts[0][2]
    build = hadamard if elementwise else mul
    one = Ones(terms[0].shape) if elementwise else Num(1)
    try:
        rests = []
        for c, exps, _ in parts:
            left = [power(b, q - common.get(b, 0)) for b, q in exps.items() if q != common.get(b, 0)]
            rests.append(mul(Num(c), build(*left) if left else one))
        shared = build(*[power(b, q) for b, q in common.items()])
        return build(shared, _add_factored(rests))
    except InternalShapeError:   # the shared factor does not leave terms of one shape: keep the sum
        return None


def _nearer_zero(p: Fraction, q: Fraction) -> Fraction:
    return min(p, q) if p > 0 else max(p, q)


def _weight(e: Expr) -> int:
    """Leaves of ``e`` as printed (a shared sub-expression counted each time it is printed)."""
    memo = scoped("weight")
    if memo is None:
        memo = {}
    for node in postorder(e):
        if node not in memo:
            memo[node] = 1 if not node.args else sum(memo[a] for a in node.args) + 1
    return memo[e]


def _plain_factors_first(h: Hadamard) -> Expr:
    """``σ ⊙ (𝟏 - σ) ⊙ (X dθ)`` rather than ``(𝟏 - σ) ⊙ σ ⊙ (X dθ)``: the plain factors first, then
    the sums, the factor holding a differential last; otherwise in their order."""
    ordered = sorted(h.args, key=lambda a: (_holds_differential(a), isinstance(a, Add)))
    return h if ordered == list(h.args) else Hadamard(ordered)


def _holds_differential(e: Expr) -> bool:
    return any(s.tex.startswith(r"\mathrm{d}") for s in e.free)


def _common_vector(terms: list[Expr]) -> Expr | None:
    """``a·x + b·x`` as ``(a + b)x``: one matrix factor with scalar coefficients in every term."""
    chains, scalars = set(), []
    for t in terms:
        c, core = split_coeff(t)
        if core.is_scalar:
            return None
        chain, sc = (core.chain, core.scalars) if isinstance(core, Mul) else ((core,), ())
        chains.add(chain)
        scalars.append(mul(Num(c), *sc))
    if len(chains) != 1 or all(isinstance(s, Num) for s in scalars):
        return None
    return mul(_add_factored(scalars), *next(iter(chains)))


def _ordered(s: Add) -> Expr:
    """Positive terms first, then those with fewer transposes (A + Aᵀ rather than Aᵀ + A), then a
    product before a lone symbol (Qx + c)."""
    terms = sorted(s.args, key=lambda t: (split_coeff(t)[0] < 0, _transposes(t), isinstance(split_coeff(t)[1], Sym)))
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
                # a term that would be left as the identity stays unfactored, as textbooks print it:
                # ½(Σ⁻¹SΣ⁻¹ - Σ⁻¹), not ½Σ⁻¹(SΣ⁻¹ - I)
                break
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
