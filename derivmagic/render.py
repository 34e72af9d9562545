"""Printing expressions in textbook form: LaTeX (KaTeX- and MathJax-safe) and plain Unicode.

Printing is work like any other stage: every node printed counts against the cell's budget,
and the length of a printed expression is estimated from its DAG (linear in the number of
distinct nodes) before a character of it is built, so a formula whose text would be
exponentially long (definitions that use the previous one twice) is refused with a
``LimitError`` (``LIMITS['output_chars']``) or, inside ``session(abbreviations)``, printed
through the names of the cell's definitions. Printers (and their memos) live as long as one
``session`` or one budget, never longer."""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache

from . import limits
from .expr import Expr, Identity, Num, Ones, Sym, Zero, fmt_dim
from .texsafe import is_safe, literal
from .rules import (Add, Det, Diag, Func, Hadamard, Inverse, MatSqrt, Mul, Norm, Pow, Softmax, Trace,
                    Transpose)

_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SIMPLE = re.compile(r"(\d+|[A-Za-zα-ωΑ-Ω𝟏]|\(.*\))(ᵀ|[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)*")
_TEX_TEXT = [
    (re.compile(r"\\mathrm\{d\}"), lambda m: "d"),
    (re.compile(r"\\hat\{(\\?\w+)\}"), lambda m: m.group(1) + "\u0302"),
    (re.compile(r"\\(?:tilde|bar|widehat|widetilde|overline|dot)\{(\\?\w+)\}"), lambda m: m.group(1)),
    (re.compile(r"_\{([^}]*)\}"), lambda m: "_" + m.group(1)),
    (re.compile(r"\^T$|\^\{T\}$"), lambda m: "ᵀ"),
]


class Printer:
    def __init__(self, latex: bool, abbreviations: dict | None = None):
        self.latex = latex
        self.memo: dict[Expr, str] = {}  # shared sub-expressions are printed once
        self.abbreviations: dict[Expr, Sym] = dict(abbreviations or {})  # expression -> the name it is printed as
        self.sizes: dict[Expr, int] = {}  # estimated printed length of each node
        self.top: Expr | None = None

    def print(self, e: Expr) -> str:
        """``e`` printed, after its length was estimated and found within ``LIMITS['output_chars']``."""
        limits.check_output(self.estimate(e), "this expression printed")
        previous, self.top = self.top, e
        try:
            self._fill(e)
            return self(e)
        finally:
            self.top = previous

    def _fill(self, e: Expr) -> None:
        """Every node under ``e`` printed into the memo, children first, without recursion (so a
        network 128 layers deep prints): each node's own printing then finds its children done.
        Names stop the walk: what is printed by a name is not printed in full."""
        stack, seen = [(e, False)], set()
        while stack:
            node, done = stack.pop()
            if done:
                self.render(node)
                continue
            if node in seen or node in self.memo or (node is not e and self.abbreviated(node)):
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((a, False) for a in node.args)

    def estimate(self, e: Expr) -> int:
        """A lower bound of the length of ``e`` printed: every node's own characters plus its
        children's (a shared child counted each time it is printed), computed on the DAG once
        for each node (a walk stops at nodes already measured)."""
        sizes, short = self.sizes, self.abbreviations
        stack = [(e, False)]
        while stack:
            node, done = stack.pop()
            if node in sizes:
                continue
            if not done:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if a not in sizes)
                continue
            if isinstance(node, Sym):
                own = len(node.tex if self.latex else node.name)
            elif isinstance(node, Num):
                own = 1
            else:
                own = 2
            sizes[node] = own + sum(len(short[a].name) if a in short else sizes[a] for a in node.args)
        limits.tick(1)
        return sizes[e]

    def abbreviated(self, e: Expr) -> bool:
        return bool(self.abbreviations) and e is not self.top and e in self.abbreviations


    # --- small pieces that differ between the two styles
    def op(self, name: str) -> str:
        if self.latex:
            return {"tr": r"\operatorname{tr}", "det": r"\det", "diag": r"\operatorname{diag}",
                    "softmax": r"\operatorname{softmax}"}[name]
        return name

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex and ("frac" in s or "sqrt" in s or r"\int" in s) else f"({s})"

    def sup(self, base: str, s: str) -> str:
        if self.latex:
            return f"{base}^{{{s}}}" if len(s) > 1 else f"{base}^{s}"
        if s in ("T", "-T"):
            return base + ("ᵀ" if s == "T" else "⁻ᵀ")
        if s.lstrip("-").isdigit():
            return base + s.translate(_SUPER)
        return f"{base}^({s})"

    def frac(self, num: str, den: str) -> str:
        return rf"\frac{{{num}}}{{{den}}}" if self.latex else f"{num}/{den}"

    def number(self, v: Fraction) -> str:
        if v.denominator == 1:
            return str(v.numerator)
        return self.frac(str(v.numerator), str(v.denominator)) if self.latex else f"{v.numerator}/{v.denominator}"

    # --- the expression
    def __call__(self, e: Expr, prec: int = 0) -> str:
        s = self.render(e)
        if self.abbreviations and self.abbreviated(e):   # a name binds tightest
            return s
        return self.paren(s) if e.prec < prec or (prec > 20 and isinstance(e, Num) and e.value < 0) else s

    def render(self, e: Expr) -> str:
        if self.abbreviations and self.abbreviated(e):
            return self.p_Sym(self.abbreviations[e])
        out = self.memo.get(e)
        if out is None:
            method = getattr(self, "p_" + type(e).__name__, None)
            out = method(e) if method is not None else e.print_with(self)   # an operation that prints itself
            if self.latex and method is None and not is_safe(out):   # a name from the cell, unescaped
                out = literal(Printer(False).render(e))
            limits.tick(1 + len(out) // 64)
            self.memo[e] = out
        return out

    def p_Sym(self, e: Sym) -> str:
        if self.latex:   # a name as the cell wrote it: only if every command in it is allowed
            return e.tex if is_safe(e.tex) else literal(e.name)
        return _plain_name(e)

    def p_Num(self, e: Num) -> str:
        if e.value < 0:
            return "-" + self.number(-e.value)
        return self.number(e.value)

    def p_Identity(self, e: Identity) -> str:
        return "I"

    def p_Ones(self, e: Ones) -> str:
        return r"\mathbf{1}" if self.latex else "𝟏"

    def p_Zero(self, e: Zero) -> str:
        return "0"

    def p_Add(self, e: Add) -> str:
        out = ""
        for i, t in enumerate(e.args):
            s = self(t, 11)
            if s.startswith("-"):
                out += (" - " if i else "-") + s[1:]
            else:
                out += (" + " if i else "") + s
        return out

    def p_Mul(self, e: Mul) -> str:
        num, den = [], []
        for s in e.scalars:
            if isinstance(s, Pow) and s.exponent < 0:
                den.append(self._scalar_factor(s.args[0] if s.exponent == -1 else Pow(s.args[0], -s.exponent)))
            else:
                num.append(self._scalar_factor(s))
        sign = "-" if e.coeff < 0 else ""
        c = abs(e.coeff)
        top = [str(c.numerator)] if c.numerator != 1 else []
        if c.denominator != 1:
            den.insert(0, str(c.denominator))
        chain = [self(x, 21) if k == 1 else self.sup(self(x, 91), str(k)) for x, k in _runs(e.chain)]   # AAA: A³
        if not den:
            return sign + (self._join(top + num + chain) or "1")
        if len(chain) == 1 and not num and e.chain[0].shape[1] == 1:
            top, chain = top + [self.render(e.chain[0])], []
        numerator, denominator = self._join(top + num) or "1", self._join(den)
        if not self.latex:
            body = self._join(top + num + chain) or "1"
            body = f"({body})" if " " in body and not _one_group(body) else body
            denominator = f"({denominator})" if len(den) > 1 else denominator
            return f"{sign}{body}/{denominator}"
        tail = " " + self._join(chain) if chain else ""
        return sign + self.frac(numerator, denominator) + tail

    def _scalar_factor(self, s: Expr) -> str:
        if isinstance(s, Mul) and s.chain:  # a 1x1 product used as a scalar: (x^T y)
            return self.paren(self.render(s))
        if isinstance(s, Det):   # det(A) A⁻ᵀ, never det AA⁻ᵀ
            return f"{self.op('det')}{self.paren(self(s.args[0]))}"
        return self(s, 21)

    def _join(self, parts: list[str]) -> str:
        parts = [p for p in parts if p]
        out = parts[0] if parts else ""
        for prev, p in zip(parts, parts[1:]):
            if p[0].isdigit() and prev[-1].isdigit():
                out += r" \cdot " if self.latex else "·"
            elif self.latex or not (_SIMPLE.fullmatch(prev) and _SIMPLE.fullmatch(p)):
                out += " "
            out += p
        return out

    def p_Transpose(self, e: Transpose) -> str:
        a = e.args[0]
        if isinstance(a, Inverse) and not isinstance(a.args[0], MatSqrt):
            return self.sup(self(a.args[0], 91), "-T")
        if isinstance(a, Sym) and a.tex.endswith("^{T}"):  # (dxᵀ)ᵀ of a row variable is dx
            if self.latex:
                return a.tex[:-4] if is_safe(a.tex) else literal(a.name)
            return self.render(a)[:-1]
        return self.sup(self(a, 91), "T")

    def p_Inverse(self, e: Inverse) -> str:
        a = e.args[0]
        if isinstance(a, MatSqrt):   # X^{-1/2}
            return self.sup(self(a.args[0], 91), "-1/2")
        return self.sup(self(a, 91), "-1")

    def p_MatExp(self, e) -> str:
        inner = self(e.args[0])
        return f"e^{{{inner}}}" if self.latex else f"e^({inner})"

    def p_ExpFrechet(self, e) -> str:
        x, E = self(e.args[0], 21), self(e.args[1], 21)
        if self.latex:
            return rf"\int_0^1 e^{{s {x}}} {E} e^{{(1-s) {x}}} \, \mathrm{{d}}s"
        return f"∫₀¹ e^(s{x}) {E} e^((1-s){x}) ds"

    def p_Trace(self, e: Trace) -> str:
        return f"{self.op('tr')}{self.paren(self(e.args[0]))}"

    def p_Det(self, e: Det) -> str:
        return f"{self.op('det')}{self.paren(self(e.args[0]))}" if not isinstance(e.args[0], Sym) else f"{self.op('det')} {self(e.args[0])}"

    def p_Diag(self, e: Diag) -> str:
        return f"{self.op('diag')}{self.paren(self(e.args[0]))}"

    def p_DiagonalOf(self, e) -> str:
        name = r"\operatorname{diag}" if self.latex else "diag"
        return f"{name}{self.paren(self(e.args[0]))}"

    def p_Softmax(self, e: Softmax) -> str:
        return f"{self.op('softmax')}{self.paren(self(e.args[0]))}"

    def p_Norm(self, e: Norm) -> str:
        inner = self(e.args[0])
        if self.latex:
            return rf"\left\| {inner} \right\|_{{{e.p}}}"
        sub = {"2": "₂", "1": "₁", "F": "_F"}[e.p]
        return f"‖{inner}‖{sub}"

    def p_Func(self, e: Func) -> str:
        if e.name == "abs" and e.is_scalar:
            return rf"\left|{self(e.args[0])}\right|" if self.latex else f"|{self(e.args[0])}|"
        name = e.spec.tex if self.latex else {"sigmoid": "σ", "abs": "abs"}.get(e.name, e.name)
        return f"{name}{self.paren(self(e.args[0]))}"

    def p_Pow(self, e: Pow) -> str:
        q, base = e.exponent, e.args[0]
        if q == Fraction(1, 2):
            return rf"\sqrt{{{self(base)}}}" if self.latex else f"√{self(base, 91)}"
        if e.is_scalar and q < 0:
            return self.frac("1", self.render(Pow(base, -q)) if q != -1 else self(base))
        exp = str(q) if q.denominator == 1 else (self.number(q) if self.latex else f"({q})")
        if not e.is_scalar:
            exp = (r"\circ " if self.latex else "∘") + exp
        if self.latex and isinstance(base, Norm):
            return f"{self.render(base)}^{{{exp}}}"
        return self.sup(self(base, 91), exp)

    def p_Kron(self, e) -> str:
        sep = r" \otimes " if self.latex else " ⊗ "
        return sep.join(self(a, 21) for a in e.args)

    def p_Vec(self, e) -> str:
        name = r"\operatorname{vec}" if self.latex else "vec"
        return f"{name}{self.paren(self(e.args[0]))}"

    def p_Hadamard(self, e: Hadamard) -> str:
        sep = r" \odot " if self.latex else " ⊙ "
        return sep.join(self(a, 21) for a in e.args)


def _runs(chain) -> list:
    """Equal neighbours of a matrix product as (factor, how many): A A A is (A, 3)."""
    out: list = []
    for x in chain:
        if out and out[-1][0] == x:
            out[-1][1] += 1
        else:
            out.append([x, 1])
    return out


def _one_group(s: str) -> bool:
    """``s`` is one parenthesized group: ``(a - b)``, not ``(a)(b)``."""
    if not (s.startswith("(") and s.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(s):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(s) - 1:
            return False
    return True


def _plain_name(e: Sym) -> str:
    return _plain_tex(e.tex)


@lru_cache(maxsize=4096)
def _plain_tex(text: str) -> str:
    from .tex import GREEK_UNICODE
    for pattern, repl in _TEX_TEXT:
        text = pattern.sub(repl, text)
    return re.sub(r"\\([A-Za-z]+)", lambda m: GREEK_UNICODE.get(m.group(1), m.group(1)), text)


_SESSION: ContextVar[tuple | None] = ContextVar("derivmagic_printers", default=None)


@contextmanager
def session(abbreviations: dict | None = None):
    """Printers shared by everything printed inside the block (one derivation's display);
    ``abbreviations`` maps expressions to the symbols they are printed as (a definition's name)."""
    token = _SESSION.set((Printer(True, abbreviations), Printer(False, abbreviations)))
    try:
        yield
    finally:
        _SESSION.reset(token)


def printer(latex: bool) -> Printer:
    """The session's printer, else one kept for the current budget (one cell), else a new one."""
    current = _SESSION.get()
    if current is not None:
        return current[0 if latex else 1]
    kept = limits.scoped("printers")
    if kept is None:
        return Printer(latex)
    p = kept.get(latex)
    if p is None:
        p = kept[latex] = Printer(latex)
    return p


def to_latex(e: Expr) -> str:
    return printer(True).print(e)


def to_text(e: Expr) -> str:
    return printer(False).print(e)


def shape_tex(shape) -> str:
    parts = [fmt_dim(d, latex=True) for d in shape]
    return r" \times ".join(p if is_safe(p) else literal(p) for p in parts)
