"""Judging claimed equalities: ``target = claim`` and every ``=`` link of a pasted derivation.

Each link is compared with the line before it (the first with the derivative itself):
symbolic equivalence of expanded forms first, then numbers at several random instances.
A false link gets a small integer counterexample, the correct expression and, when it
is one of the common mistakes, the reason in words: true only for a symmetric matrix,
true only when a vector sums to one (a probability or one-hot vector not declared as one),
the transpose (the other layout, with the option that gives it), off by a constant factor,
a wrong term, or shapes that do not match. A reason keeps its pieces of mathematics apart
from its words (``say``), so that LaTeX sets them as mathematics and rows are cut between them.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import check as numeric
from . import structure
from .errors import DerivError, ShapeError
from .expr import (Expr, Identity, InternalShapeError, Num, Ones, Sym, Zero, fmt_shape, is_zero,
                   postorder, substitute)
from .render import to_latex, to_text
from .texsafe import escaped_chars, is_safe
from .rules import Add, Hadamard, Mul, Transpose, add, hadamard, mul, neg, transpose
from .rules.linear import split_coeff
from .symmetric import diagnose as diagnose_convention

INSTANCES = 4
PIECEWISE_INSTANCES = 32   # with step, sign, |·| or ReLU: sides may agree on one region and not another
PIECEWISE = {"step", "sign", "abs", "relu"}
AGREE = 1e-8


@dataclass
class Claim:
    """One claimed equality ``previous = claimed``; ``claimed`` is None when the claim's
    shapes do not fit (it is then shown as written, ``source``)."""
    claimed: Expr | None
    correct: Expr                 # what the line before evaluates to (the derivative, for the first link)
    holds: bool
    method: str                   # "symbolic", "numeric" or "shape"
    reason: str = ""              # for a false claim: what is wrong, in words
    diagnosis: str = ""           # "symmetric", "transpose", "factor", "terms", "zero", "shape", "differs"
    counterexample: dict | None = None
    pos: int = 0
    end: int = 0
    source: str = ""
    shown: tuple | None = None    # (LaTeX, text) of a side that is itself a derivative, as read
    details: dict = field(default_factory=dict)
    said: tuple | None = None     # (text, LaTeX) of the reason: words as text, mathematics as mathematics

    @property
    def reason_latex(self) -> str:
        """The reason as LaTeX, its mathematics in math mode (``the term A^{T} b`` with words in
        ``\text{}``); empty when the reason was rewritten since (then it is only text)."""
        return self.said[1] if self.said and self.reason and self.said[0] == self.reason else ""

    @property
    def mark(self) -> str:
        return "✓" if self.holds else "✗"

    @property
    def text(self) -> str:
        line = f"{self.mark} {self.source or (to_text(self.claimed) if self.claimed is not None else '')}"
        if not self.holds:
            line += f"\n    {self.reason}"
            if self.counterexample:
                line += f"\n    counterexample: {format_counterexample(self.counterexample)}"
            line += f"\n    correct: {to_text(self.correct)}"
        return line


# ---------------------------------------------------------------- reasons in words and mathematics
class Math(str):
    """A piece of a reason that is mathematics: its text, and its LaTeX in ``latex``."""
    latex: str

    def __new__(cls, text: str, latex: str):
        piece = super().__new__(cls, text)
        piece.latex = latex
        return piece


def math(e: Expr) -> Math:
    return Math(to_text(e), to_latex(e))


def shape_math(shape) -> Math:
    from .render import shape_tex
    return Math(fmt_shape(shape), shape_tex(shape))


class Said(tuple):
    """(text, LaTeX) of a reason, keeping its pieces (``parts``) so that it can be cut into rows."""
    parts: tuple

    def __new__(cls, parts):
        said = super().__new__(cls, ("".join(parts), _latex_of(parts)))
        said.parts = tuple(parts)
        return said


def _latex_of(parts) -> str:
    from .report import tex_text
    return " ".join(p.latex if isinstance(p, Math) else tex_text(p) for p in parts if p)


def say(*parts) -> Said:
    """(text, LaTeX) of a reason: plain strings are words (in ``\\text{}``), ``Math`` pieces mathematics."""
    return Said(parts)


def reason_rows(claim, width: float, measure) -> list[str] | None:
    """The reason of ``claim`` as LaTeX rows each at most ``width`` wide (``measure`` of a LaTeX
    string), cut after a ';' and between words, never inside a piece of mathematics; None when the
    reason has no LaTeX of its own (it was written elsewhere)."""
    said = claim.said
    if not claim.reason_latex or not isinstance(said, Said):
        return None
    if measure(said[1]) <= width:
        return [said[1]]
    tokens = []   # words (with the spaces after them) and pieces of mathematics, in order
    for p in said.parts:
        tokens.extend([p] if isinstance(p, Math) else re.findall(r"\S+\s*|\s+", p))
    rows, row = [], []
    for tok in tokens:
        if row and measure(_latex_of(_glued(row + [tok]))) > width:
            rows.append(row)
            row = []
        row.append(tok)
        if not isinstance(tok, Math) and tok.rstrip().endswith(";"):
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return [_latex_of(_glued(r)) for r in rows if "".join(r).strip()]


def _glued(tokens: list) -> list:
    """Neighbouring words as one string (one ``\\text{}``), mathematics apart."""
    out: list = []
    for t in tokens:
        if out and not isinstance(t, Math) and not isinstance(out[-1], Math):
            out[-1] += t
        else:
            out.append(t)
    return out


# ---------------------------------------------------------------- expanded normal form
def expand(root: Expr) -> Expr:
    """Distribute products, transposes and Hadamard products over sums; orient 1×1
    products canonically (a scalar equals its transpose) so like terms meet."""
    memo: dict[Expr, Expr] = {}
    for node in postorder(root):
        args = [memo[a] for a in node.args]
        new = node if all(n is o for n, o in zip(args, node.args)) else node.rebuild(args)
        memo[node] = _expand_node(new)
    return memo[root]


def _expand_node(e: Expr) -> Expr:
    if isinstance(e, Transpose) and isinstance(e.args[0], Add):
        return add(*[transpose(t) for t in e.args[0].args])
    if isinstance(e, (Mul, Hadamard)):
        build = (lambda fs: mul(*fs)) if isinstance(e, Mul) else (lambda fs: hadamard(*fs))
        factors = list(e.args)
        for i, f in enumerate(factors):
            if isinstance(f, Add) and len(f.args) <= 16:
                c = [] if isinstance(e, Hadamard) else [_coeff(e)]
                return add(*[_expand_node(build(c + factors[:i] + [t] + factors[i + 1:])) for t in f.args])
        if isinstance(e, Mul):
            return _orient(e)
        return hadamard(*e.args)   # the factors in canonical order, however a result shows them
    return e


def _coeff(e: Mul) -> Expr:
    from .expr import Num
    return Num(e.coeff)


def _orient(e: Mul) -> Expr:
    scalars = [_canonical_scalar(s) if isinstance(s, Mul) and s.chain else s for s in e.scalars]
    chain = list(e.chain)
    if e.is_scalar and len(chain) > 1:
        chain = [_canonical_scalar(mul(*chain))]
    return mul(_coeff(e), *scalars, *chain)


def _canonical_scalar(u: Expr) -> Expr:
    t = transpose(u)
    return min(u, t, key=Expr.sort_key)


# ---------------------------------------------------------------- judging one link
class Judge:
    def __init__(self, derivation_symbols: dict, function: Expr, dims: set, seed: int = 0):
        self.symbols = derivation_symbols
        self.function = function
        self.dims = dims
        self.seed = seed

    def _symbols_of(self, *exprs) -> list[Sym]:
        seen = {}
        for e in (self.function, *exprs):
            for s in sorted(e.free, key=lambda s: s.name):  # a fixed order: the same counterexample every run
                seen[s.name] = s
        for name, s in self.symbols.items():
            seen.setdefault(name, s)
        return list(seen.values())

    def _instances(self, exprs, assume=None, integers=False, count=INSTANCES):
        syms = self._symbols_of(*exprs)
        fixed = [d for s in syms for d in s.shape if isinstance(d, int) and d > 1]
        sizes = numeric.choose_sizes(self.dims, fixed)
        if integers:
            sizes = {k: v for k, v in zip(sorted(self.dims), [2, 3, 4, 5, 6, 7, 8][:len(self.dims)])}
        kinds = {}
        for e in (self.function, *exprs):
            for name, kind in numeric.domains(e).items():
                if kinds.get(name) != "spd":   # positive definite (under X^{1/2}, log X) is also invertible
                    kinds[name] = kind
        rng = np.random.default_rng(self.seed + (101 if integers else 0))
        # each symbol from its declaration and its domain only (symmetric only if declared, or assumed
        # by ``assume`` to test a diagnosis); a sample where a side is undefined is drawn again
        assume = assume or {}
        syms = [Sym(s.name, s.shape, s.tex, s.props | assume[s.name]) if s.name in assume else s for s in syms]
        sampler = _integer_sample if integers else numeric.sample
        for _ in range(count):
            yield sizes, numeric.sample_env(syms, sizes, kinds, rng, defined=[self.function, *exprs], sampler=sampler)

    def values(self, a: Expr, b: Expr, **kw):
        with np.errstate(all="ignore"):
            for sizes, env in self._instances([a, b], **kw):
                try:
                    yield env, sizes, numeric.evaluate(a, env, sizes), numeric.evaluate(b, env, sizes)
                except DerivError:
                    raise
                except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
                    continue

    def agree(self, a: Expr, b: Expr, **kw) -> bool:
        seen = False
        if "count" not in kw and _piecewise(self.function, a, b):
            kw["count"] = PIECEWISE_INSTANCES
        for _, _, va, vb in self.values(a, b, **kw):
            seen = True
            if va.shape != vb.shape or numeric.relative_error(vb, va) > AGREE or not np.all(np.isfinite(va)):
                return False
        return seen

    def judge(self, correct: Expr, claimed: Expr, what: str, layout_note: tuple) -> Claim:
        if isinstance(claimed, Num) and claimed.value == 0:
            claimed = _zero_like(correct)  # "= 0" means the zero of the right shape
        if claimed.shape != correct.shape:
            claimed = _fit_free_dims(claimed, correct, self.function)
        if claimed.shape != correct.shape:
            return self._shape_mismatch(correct, claimed, what, layout_note)
        if expand(add(correct, neg(claimed))) in (_zero_like(correct),):
            return Claim(claimed, correct, True, "symbolic")
        if self.agree(correct, claimed):
            return Claim(claimed, correct, True, "numeric")
        claim = Claim(claimed, correct, False, "numeric")
        claim.counterexample = self.counterexample(correct, claimed)
        claim.diagnosis, claim.said = self.diagnose(correct, claimed, what, layout_note)
        claim.reason = claim.said[0]
        return claim

    def _shape_mismatch(self, correct, claimed, what, layout_note) -> Claim:
        if claimed.shape == (correct.shape[1], correct.shape[0]) and self.agree(transpose(correct), claimed):
            return Claim(claimed, correct, False, "shape", layout_note[0], "transpose", said=layout_note)
        said = say("the claim is ", shape_math(claimed.shape), f" but {what} is ", shape_math(correct.shape))
        return Claim(claimed, correct, False, "shape", ShapeError(said[0]).message, "shape", said=said)

    def diagnose(self, correct, claimed, what, layout_note) -> tuple[str, tuple]:
        """(diagnosis, (text, LaTeX) of the reason) of a false claim."""
        square = [s for s in self._symbols_of(correct, claimed)
                  if s.shape[0] == s.shape[1] and s.shape != (1, 1) and not s.symmetric]
        if square and self.agree(correct, claimed, assume=_assumed(square, "symmetric")):
            needed = [s for s in square if self.agree(correct, claimed, assume=_assumed([s], "symmetric"))]
            names = needed or square
            which = _joined([Math(f"{to_text(s)} = {to_text(s)}ᵀ", f"{to_latex(s)} = {to_latex(s)}^{{T}}")
                             for s in names], ", ")
            declared = _joined([math(s) for s in names], " and ")
            verb = "is" if len(names) == 1 else "are"
            first = names[0]
            declare = Math(f"{to_text(first)} \\in \\mathbb{{S}}^n", f"{to_latex(first)} \\in \\mathbb{{S}}^n")
            return "symmetric", say("true only if ", *which, "; ", *declared, f" {verb} not declared symmetric (declare ",
                                    declare, ")")
        structured = self._structure_needed(correct, claimed)
        if structured is not None:
            return "structure", structured
        if correct.shape[0] == correct.shape[1] and self.agree(transpose(correct), claimed):
            return "transpose", layout_note
        zeros = self._zero_sides(correct, claimed)
        if zeros == (False, True):
            return "zero", say(f"the claim is 0 but {what} is ", math(correct))
        if zeros == (True, False):
            return "zero", say(f"{what} is 0 but the claim is ", math(claimed))
        ratio = self._constant_ratio(correct, claimed)
        if ratio is not None:
            return "factor", say(_factor_words(ratio))
        terms = self._term_differences(correct, claimed)
        if terms:
            return "terms", terms
        return "differs", say(f"not equal to {what}")

    def _structure_needed(self, correct, claimed) -> tuple | None:
        """A claim that holds once a vector sums to one (CS231n's softmax gradient (softmax(s) - y)xᵀ,
        true for a probability vector y) says so, and how to declare it."""
        from . import structure
        vectors = [s for s in self._symbols_of(correct, claimed)
                   if s.shape[1] == 1 and s.shape[0] != 1 and not s.props & structure.STRUCTURES]
        for s in vectors:
            if self.agree(correct, claimed, assume=_assumed([s], structure.SUMS_TO_ONE)):
                ones = Math(f"𝟏ᵀ{to_text(s)} = 1", rf"\mathbf{{1}}^{{T}} {to_latex(s)} = 1")
                declare = Math(f"{to_latex(s)} \\in \\Delta^n", f"{to_latex(s)} \\in \\Delta^n")
                write = Math(f"\\mathbf{{1}}^T {to_latex(s)} = 1", rf"\mathbf{{1}}^{{T}} {to_latex(s)} = 1")
                return say("holds when ", ones, " (", math(s), " a probability vector or one-hot): declare ", declare,
                           " or write ", write)
        return None

    def _zero_sides(self, correct, claimed) -> tuple[bool, bool]:
        """Whether each side is 0 at every instance (numbers, so 0·x and x − x count)."""
        zero_a = zero_b = seen = False
        for _, _, va, vb in self.values(correct, claimed):
            za, zb = _all_zero(va), _all_zero(vb)
            zero_a, zero_b = (za, zb) if not seen else (zero_a and za, zero_b and zb)
            seen = True
        return (zero_a, zero_b) if seen else (is_zero(correct), is_zero(claimed))

    def _constant_ratio(self, correct, claimed) -> Fraction | None:
        ratios = []
        for _, _, va, vb in self.values(correct, claimed):
            mask = np.abs(va) > 1e-9 * (1 + np.max(np.abs(va)))
            if not mask.any() or np.any(np.abs(vb[~mask]) > 1e-9 * (1 + np.max(np.abs(vb)))):
                return None
            ratios.extend((vb[mask] / va[mask]).ravel())
        if not ratios:
            return None
        r = float(np.median(ratios))
        if not np.allclose(ratios, r, rtol=1e-7, atol=1e-9) or abs(r - 1) < 1e-9:
            return None
        ratio = Fraction(r).limit_denominator(64)
        return ratio if ratio != 0 else None  # a claim of 0 is no factor

    def _term_differences(self, correct, claimed) -> str:
        want = {t: c for t, c in _monomials(expand(correct)).items() if not is_zero(t)}
        got = {t: c for t, c in _monomials(expand(claimed)).items() if not is_zero(t)}
        if not want or not got:
            return ""
        notes = []
        for term, c in want.items():
            g = got.get(term)
            if g is None:
                notes.append(("the term ", math(mul(_num(c), term)), " is missing"))
            elif g != c:
                ratio = Fraction(g) / Fraction(c)
                notes.append(("the term ", math(term), f" has coefficient {_fraction_text(Fraction(g))}, "
                              f"not {_fraction_text(Fraction(c))}"
                              + (f" (off by a factor {_fraction_text(1 / ratio)})" if ratio not in (0, -1) else "")))
        for term, g in got.items():
            if term not in want:
                notes.append(("the term ", math(mul(_num(g), term)), " should not be there"))
        if not notes or len(notes) > 3:
            return None
        # trust the term reading only if it explains the whole difference
        rebuilt = add(*[mul(_num(c), t) for t, c in want.items()])
        if not self.agree(rebuilt, correct):
            return None
        return say(*[p for i, n in enumerate(notes) for p in (("; ",) if i else ()) + n])

    def counterexample(self, correct, claimed) -> dict | None:
        for env, sizes, va, vb in self.values(correct, claimed, integers=True, count=12):
            if va.shape == vb.shape and numeric.relative_error(vb, va) > 1e-6:
                syms = self._symbols_of(correct, claimed)
                names = {s.name for s in syms}
                used = {d for s in syms for d in s.shape if isinstance(d, str)}
                used |= {d for e in (correct, claimed) for node in postorder(e) for d in node.shape if isinstance(d, str)}
                return {"sizes": {k: v for k, v in sizes.items() if any(k in u.split("*") for u in used)},
                        "values": {k: _plain(v) for k, v in env.items() if k in names},
                        "correct": _plain(va), "claimed": _plain(vb),
                        "labels": {s.name: to_text(s) for s in syms}}
        return None


def _all_zero(v) -> bool:
    v = np.asarray(v, dtype=float)
    return bool(np.all(np.isfinite(v)) and np.max(np.abs(v), initial=0.0) <= 1e-12)


def _fit_free_dims(claimed: Expr, correct: Expr, function: Expr) -> Expr:
    """The claim with the dimensions only it has (``I`` in ``∇_X tr(X) = I``, a symbol only the claim
    names) given the sizes of the correct side, when that makes the shapes agree; else unchanged."""
    base = {d for e in (function, correct) for node in postorder(e) for d in node.shape if isinstance(d, str)}
    mapping: dict = {}
    for want, got in zip(correct.shape, claimed.shape):
        if got == want:
            continue
        if not isinstance(got, str) or not isinstance(want, str) or got in base or "*" in got + want:
            return claimed
        if mapping.setdefault(got, want) != want:
            return claimed
    if not mapping:
        return claimed

    def shape(sh):
        return tuple(mapping.get(d, d) for d in sh)

    repl: dict = {}
    for node in postorder(claimed):
        if not any(d in mapping for d in node.shape):
            continue
        if isinstance(node, Sym):
            repl[node] = Sym(node.name, shape(node.shape), node.tex, node.props)
        elif isinstance(node, Identity):
            repl[node] = Identity(shape(node.shape)[0])
        elif isinstance(node, Ones):
            repl[node] = Ones(shape(node.shape))
        elif isinstance(node, Zero):
            repl[node] = Zero(shape(node.shape))
    try:
        fitted = substitute(claimed, repl)
    except (InternalShapeError, DerivError):
        return claimed
    return fitted if fitted.shape == correct.shape else claimed


def _zero_like(e: Expr) -> Expr:
    from .expr import zero
    return zero(e.shape)


def _num(c):
    from .expr import Num
    return Num(c)


def _monomials(e: Expr) -> dict:
    out: dict[Expr, Fraction] = {}
    for t in (e.args if isinstance(e, Add) else (e,)):
        c, rest = split_coeff(t)
        out[rest] = out.get(rest, 0) + c
    return {t: c for t, c in out.items() if c != 0}


def _assumed(symbols, prop: str) -> dict:
    """Symbols to draw as if declared with ``prop`` (a diagnosis tests what a declaration would change)."""
    return {s.name: frozenset({prop}) for s in symbols}


def _joined(pieces: list, sep: str) -> list:
    out = []
    for i, p in enumerate(pieces):
        if i:
            out.append(sep)
        out.append(p)
    return out


def _fraction_text(r: Fraction) -> str:
    return str(r.numerator) if r.denominator == 1 else f"{r.numerator}/{r.denominator}"


def _factor_words(ratio: Fraction) -> str:
    if ratio == -1:
        return "has the wrong sign (the claim is −1 times the correct value)"
    if abs(ratio) < 1:
        return f"off by a factor {_fraction_text(1 / ratio)} (the claim is {_fraction_text(ratio)} of the correct value)"
    return f"off by a factor {_fraction_text(ratio)} (the claim is {_fraction_text(ratio)} times the correct value)"


def _integer_sample(sym: Sym, sizes: dict, kind: str | None, rng) -> np.ndarray:
    r, c = numeric.concrete(sym.shape, sizes)
    given = structure.sample(sym, r, c, rng, integers=True)
    if given is not None:
        return given
    m = rng.integers(-3, 4, (r, c)).astype(float)
    if "spd" in sym.props or kind == "spd":
        return m @ m.T + np.eye(r)
    if sym.symmetric:
        m = np.triu(m) + np.triu(m, 1).T
    if kind == "positive":
        return np.abs(m) + 1
    if kind == "nonzero":
        return np.where(m < 0, m, m + 1)
    if kind == "posdet" and r == c:
        for _ in range(20):  # a nonsingular integer matrix, then its determinant made positive
            if abs(np.linalg.det(m)) > 0.5:
                break
            m = rng.integers(-3, 4, (r, c)).astype(float)
            m = np.triu(m) + np.triu(m, 1).T if sym.symmetric else m
        else:
            m = m + (3 * r) * np.eye(r)
        if np.linalg.det(m) < 0 and not sym.symmetric:
            m[0] = -m[0]
        elif np.linalg.det(m) < 0 and r % 2:
            m = -m
        while np.linalg.det(m) <= 0.5:  # symmetric of even size: shift until positive, still integers
            m = m + np.eye(r)
        return m
    if kind == "invertible" and r == c:
        return m + (3 * r) * np.eye(r)
    return m


def _plain(v: np.ndarray):
    v = np.asarray(v, dtype=float)
    if v.size == 1:
        return _number(v.item())
    if v.shape[1] == 1:
        return [_number(x) for x in v[:, 0]]
    return [[_number(x) for x in row] for row in v]


def _number(x: float):
    """A plain Python number (never a NumPy scalar): an int when whole, else 4 decimals."""
    x = float(x)
    return int(round(x)) if abs(x - round(x)) < 1e-9 else float(round(x, 4))


def plain_value(v) -> str:
    """A counterexample's value as text with plain numbers: 2.76, [1, -2], [[1, 0], [0, 1]]."""
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(plain_value(x) for x in v) + "]"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return str(_number(v))
    return str(v)


def format_counterexample(ce: dict) -> str:
    labels = ce.get("labels", {})
    vals = ", ".join(f"{labels.get(k, k)} = {plain_value(v)}" for k, v in ce["values"].items())
    return f"at {vals}: correct {plain_value(ce['correct'])}, claimed {plain_value(ce['claimed'])}"


def claim_latex_row(claim: Claim) -> str:
    mark = r"\checkmark" if claim.holds else r"\boldsymbol{\times}"
    shown = to_latex(claim.claimed) if claim.claimed is not None else source_latex(claim.source)
    return rf"&= {shown} && {mark}"


SOURCE_CHARS = 300


def source_latex(source: str) -> str:
    """A claim as written in the cell, as LaTeX: the cell's own LaTeX when it stands on its own
    (balanced braces and ``\\left``/``\\right``, no alignment or math-mode characters, ASCII) and
    every command in it is on the allow-list (``texsafe``), else as literal text. Either way at
    most ``SOURCE_CHARS`` characters of it, cut with …."""
    s = source.strip()
    if len(s) > SOURCE_CHARS:
        return literal_latex(s[:SOURCE_CHARS] + "…")
    depth = 0
    for ch in s.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    standalone = (s and depth == 0 and s.isascii() and not any(c in s for c in "&$%#")
                  and "\\\\" not in s and not re.search(r"\\(?:begin|end|label|tag|eqref|ref)(?![A-Za-z])", s)
                  and len(re.findall(r"\\left(?![A-Za-z])", s)) == len(re.findall(r"\\right(?![A-Za-z])", s))
                  and is_safe(s))
    return s if standalone else literal_latex(s)


def literal_latex(s: str) -> str:
    """Any text as LaTeX that shows it character for character (typewriter), ASCII only; a
    character beyond ASCII as its mathematical symbol (θ as ``\\theta``) when it has one."""
    from .report import tex_text

    def beyond_ascii(ch: str) -> str:
        symbol = tex_text(ch, formula=True)
        return "{" + symbol + "}" if is_safe(symbol) and not symbol.startswith(r"\mathtt") else "?"
    return r"\mathtt{" + escaped_chars(s, beyond_ascii) + "}"


# ---------------------------------------------------------------- a whole chain of claims
def layout_note(kind: str, layout: str, var: Sym) -> tuple[str, str]:
    """Why a transposed claim is wrong, as (text, LaTeX): it is the other layout's answer, and the
    option that gives it."""
    if kind == "gradient":
        return say("this is the transpose: the numerator-layout answer; ∇ is shaped like ", math(var),
                   " in either layout (the row is ∂f/∂", math(var), " with ", _option("numerator"), ")")
    other = "denominator" if layout == "numerator" else "numerator"
    return say(f"this is the transpose: the {other}-layout answer; ∂/∂ here is in the {layout} layout (use ",
               _option(other), " if your course does)")


def _option(layout: str) -> Math:
    return Math(f"--layout {layout}", rf"\texttt{{-{{}}-layout {layout}}}")


def _piecewise(*exprs) -> bool:
    """Whether a side is piecewise (a ReLU's step, a sign, an absolute value, a largest entry): judged at more points,
    so that agreement on one piece is never taken for agreement everywhere."""
    from .expr import postorder
    from .rules import Func, InfNorm, InfSubgradient
    return any(isinstance(n, Func) and n.name in PIECEWISE or isinstance(n, (InfNorm, InfSubgradient))
               for e in exprs for n in postorder(e))


def judge_chain(answer, sides: list, values: list, cell: str, symbols: dict, dims: set, seed: int = 0) -> list[Claim]:
    """Claims for ``target = s1 = s2 = ...``: link k compares side k with side k-1. NumPy's
    warnings at the sampled values are the judge's own business, never the caller's."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _judge_chain(answer, sides, values, cell, symbols, dims, seed)


def _judge_chain(answer, sides, values, cell, symbols, dims, seed) -> list[Claim]:
    judge = Judge(symbols, answer.function, dims, seed)
    what = {"gradient": "the gradient", "hessian": "the Hessian", "directional": "the directional derivative"}.get(
        answer.kind, "the derivative")
    note = layout_note(answer.kind, answer.layout, answer.var)
    out, previous, previous_what = [], answer.result, what
    for node, value in zip(sides, values):
        if isinstance(value, ShapeError):
            # the claim has no reading to show: it is shown as written (its source), never as the answer
            claim = Claim(None, previous, False, "shape", f"the claim's shapes do not fit: {value.message}", "shape")
            claim.pos, claim.end, claim.source = node.pos, node.end, cell[node.pos:node.end].strip()
            out.append(claim)
            continue
        claim = judge.judge(previous, value, previous_what, note)
        if previous is answer.result:   # by a symmetric matrix: the other convention's answer, said to be one
            diagnose_convention(judge, claim, answer)
        claim.pos, claim.end, claim.source = node.pos, node.end, cell[node.pos:node.end].strip()
        out.append(claim)
        previous, previous_what = value, "the line before"
    return out
