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
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache

from . import limits
from .expr import Expr, Identity, Num, Ones, Sym, Zero, fmt_dim, postorder
from .texsafe import is_safe, literal
from .rules import (Add, Det, Diag, Func, Hadamard, Inverse, Mul, Norm, Pow, Softmax, Trace,
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
            return self(e)
        finally:
            self.top = previous

    def estimate(self, e: Expr) -> int:
        """A lower bound of the length of ``e`` printed: every node's own characters plus its
        children's (a shared child counted each time it is printed), computed on the DAG."""
        sizes, short = self.sizes, self.abbreviations
        for node in postorder(e):
            if node in sizes:
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
        if isinstance(a, Inverse):
            return self.sup(self(a.args[0], 91), "-T")
        if isinstance(a, Sym) and a.tex.endswith("^{T}"):  # (dxᵀ)ᵀ of a row variable is dx
            if self.latex:
                return a.tex[:-4] if is_safe(a.tex) else literal(a.name)
            return self.render(a)[:-1]
        return self.sup(self(a, 91), "T")

    def p_Inverse(self, e: Inverse) -> str:
        return self.sup(self(e.args[0], 91), "-1")

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
    from .parse import GREEK_UNICODE
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


# --------------------------------------------------------------------------- widths and line breaks
# How wide a formula is drawn (in em of the math font, as MathJax 3 and KaTeX draw TeX's fonts),
# estimated from the LaTeX alone, and long formulas broken into lines that fit a width.
_TEX_PIECE = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
_ARGS = {"frac": 2, "sqrt": 1, "text": 1, "textbf": 1, "textit": 1, "textrm": 1, "texttt": 1, "operatorname": 1,
         "mathrm": 1, "mathbf": 1, "mathbb": 1, "mathtt": 1, "mathit": 1, "mathsf": 1, "mathcal": 1,
         "boldsymbol": 1, "boxed": 1, "underbrace": 1, "overbrace": 1, "hat": 1, "tilde": 1, "bar": 1,
         "widehat": 1, "widetilde": 1, "overline": 1, "dot": 1, "ddot": 1, "vec": 1, "begin": 1, "end": 1}
_TEXT_FONT = {"text", "textbf", "textit", "textrm", "texttt", "mathtt", "operatorname", "mathrm"}
_BINARY = {"+", "-", r"\odot", r"\otimes", r"\cdot", r"\times", r"\oslash", r"\pm", r"\mp"}
_RELATION = {"=", r"\in", r"\le", r"\leq", r"\ge", r"\geq", r"\ne", r"\neq", r"\approx", r"\to", r"\sim", r"\equiv",
             "<", ">", r"\mapsto", r"\Rightarrow", r"\rightarrow"}
_SPACES = {r"\,": 0.17, r"\;": 0.28, r"\:": 0.22, r"\!": -0.17, r"\ ": 0.25, r"\quad": 1.0, r"\qquad": 2.0}
_PREFIXES = {r"\log", r"\exp", r"\det", r"\tanh", r"\sin", r"\cos", r"\tan", r"\sinh", r"\cosh", r"\ln", r"\min",
             r"\max", r"\sum", r"\prod", r"\int", r"\nabla", r"\partial", r"\operatorname", r"\mathrm"}
_OPENS = {"(": ")", "[": "]"}
_CLOSES = {")", "]"}
_DELIMITER = {"(": 0.39, ")": 0.39, "[": 0.28, "]": 0.28, r"\|": 0.6, "|": 0.28, ".": 0.0, r"\{": 0.5, r"\}": 0.5}
SCRIPT = 0.71   # a sub- or superscript is drawn at 71% of its base's size


class _Item:
    """One unit of a formula for measuring and breaking: a character, a command with its
    arguments and scripts, a delimiter, or a space."""
    __slots__ = ("text", "width", "kind")

    def __init__(self, text: str, width: float, kind: str):
        self.text, self.width, self.kind = text, width, kind


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The tokens of the braced group starting at ``tokens[i]`` (``{``), and the index after it."""
    depth, j = 0, i
    while j < len(tokens):
        if tokens[j] == "{":
            depth += 1
        elif tokens[j] == "}":
            depth -= 1
            if depth == 0:
                return tokens[i + 1:j], j + 1
        j += 1
    return tokens[i + 1:], len(tokens)


def _argument(tokens: list[str], i: int) -> tuple[list[str], int]:
    while i < len(tokens) and tokens[i].isspace():
        i += 1
    if i >= len(tokens):
        return [], i
    if tokens[i] == "{":
        return _group(tokens, i)
    return [tokens[i]], i + 1


def _text_width(s: str, bold: bool = False) -> float:
    w = 0.0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 0.3 if ch == " " else 0.7 if ch.isupper() else 0.28 if ch in ".,;:!'|()[]" else 0.46
    return w * (1.1 if bold else 1.0)


def _table_width(tokens: list[str], env: str) -> float:
    """An ``aligned`` (pairs of right- and left-aligned columns) or a matrix, measured by its columns."""
    rows, row, cell, depth = [], [], [], 0
    for t in tokens:
        if t in ("{", r"\begin"):
            depth += 1
        elif t in ("}", r"\end"):
            depth -= 1
        if depth == 0 and t == r"\\":
            row.append(cell)
            rows.append(row)
            row, cell = [], []
        elif depth == 0 and t == "&":
            row.append(cell)
            cell = []
        else:
            cell.append(t)
    row.append(cell)
    rows.append(row)
    columns: list[float] = []
    for r in rows:
        for k, c in enumerate(r):
            w = _width_of(c)
            if k < len(columns):
                columns[k] = max(columns[k], w)
            else:
                columns.append(w)
    if env in ("aligned", "gathered"):
        return sum(columns) + 2.0 * (len(columns) // 2 - (1 if len(columns) % 2 == 0 else 0)) + 0.2
    return sum(columns) + 1.0 * max(len(columns) - 1, 0) + 1.0


def _items(tokens: list[str]) -> list[_Item]:
    out: list[_Item] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.isspace():
            out.append(_Item(t, 0.0, "space"))
            i += 1
            continue
        if t == "{":
            inner, i = _group(tokens, i)
            out.append(_Item("{" + "".join(inner) + "}", _width_of(inner), "atom"))
            continue
        if t in ("^", "_"):
            arg, j = _argument(tokens, i + 1)
            w = SCRIPT * _width_of(arg)
            text = t + ("{" + "".join(arg) + "}" if len(arg) != 1 or tokens[i + 1] == "{" else arg[0])
            if out and out[-1].kind == "script":   # x_{i}^{T}: the two scripts stand over each other
                prev = out.pop()
                out.append(_Item(prev.text + text, max(prev.width, w), "script"))
            else:
                out.append(_Item(text, w, "script"))
            i = j
            continue
        if t in (r"\left", r"\right", r"\big", r"\Big", r"\bigg", r"\Bigg"):
            j = i + 1
            while j < len(tokens) and tokens[j].isspace():
                j += 1
            delim = tokens[j] if j < len(tokens) else "."
            kind = "open" if t == r"\left" or (t != r"\right" and delim in _OPENS) else "close"
            if t not in (r"\left", r"\right") and delim in (r"\|", "|"):
                kind = "close" if any(o.kind == "open" and o.text.endswith(delim) for o in out) else "open"
            out.append(_Item(f"{t}{delim}", _DELIMITER.get(delim, 0.45) + (0.1 if t != r"\big" else 0.0), kind))
            i = j + 1
            continue
        if t.startswith("\\") and t[1:] in _ARGS:
            name = t[1:]
            if name == "begin":
                env, j = _argument(tokens, i + 1)
                env = "".join(env)
                depth, k = 1, j
                while k < len(tokens) and depth:
                    if tokens[k] == r"\begin":
                        depth += 1
                    elif tokens[k] == r"\end":
                        depth -= 1
                    k += 1
                body = tokens[j:k - 1]
                _, after = _argument(tokens, k)
                extra = 0.0
                while body and body[0] in "{}" or (body and body[0].isalnum() and env == "array"):
                    body = body[1:]
                out.append(_Item("".join(tokens[i:after]), _table_width(body, env) + extra, "atom"))
                i = after
                continue
            args, j = [], i + 1
            for _ in range(_ARGS[name]):
                a, j = _argument(tokens, j)
                args.append(a)
            if name == "frac":
                w = max(_width_of(args[0]), _width_of(args[1])) + 0.24
            elif name == "sqrt":
                w = _width_of(args[0]) + 0.85
            elif name == "boxed":
                w = _width_of(args[0]) + 0.8
            elif name in ("underbrace", "overbrace"):
                w = _width_of(args[0])
                k = j
                while k < len(tokens) and tokens[k].isspace():
                    k += 1
                if k < len(tokens) and tokens[k] in ("_", "^"):
                    script, j = _argument(tokens, k + 1)
                    w = max(w, SCRIPT * _width_of(script))
            elif name in _TEXT_FONT:
                w = _text_width("".join(args[0]), bold=name == "textbf") + (0.17 if name == "operatorname" else 0.0)
            else:
                w = _width_of(args[0]) * (1.1 if name in ("mathbf", "boldsymbol") else 1.0)
            kind = "prefix" if t in _PREFIXES else "atom"
            out.append(_Item("".join(tokens[i:j]), w, kind))
            i = j
            continue
        if t in _BINARY:
            unary = not out or out[-1].kind in ("open", "binary", "relation") or \
                (out[-1].kind == "space" and len(out) > 1 and out[-2].kind in ("open", "binary", "relation"))
            out.append(_Item(t, 0.78 if unary else (0.72 if t == r"\cdot" else 1.22), "atom" if unary else "binary"))
        elif t in _RELATION:
            out.append(_Item(t, 1.34, "relation"))
        elif t in _SPACES:
            out.append(_Item(t, _SPACES[t], "gap"))
        elif t in _OPENS or t in _CLOSES:
            out.append(_Item(t, _DELIMITER[t], "open" if t in _OPENS else "close"))
        elif t == ",":
            out.append(_Item(t, 0.45, "punct"))
        elif t.startswith("\\"):
            w = 1.6 if t in (r"\log", r"\exp", r"\det", r"\tanh", r"\sinh", r"\cosh") else \
                0.75 if t[1:2].isupper() else 0.85 if t in (r"\nabla", r"\checkmark", r"\times") else 0.6
            out.append(_Item(t, w, "prefix" if t in _PREFIXES else "atom"))
        else:
            w = 0.5 if t.isdigit() else 0.72 if t.isupper() else 0.28 if t in ".;:'|" else 0.55
            out.append(_Item(t, w, "atom"))
        i += 1
    return out


def _width_of(tokens: list[str]) -> float:
    return sum(item.width for item in _items(tokens))


def tex_width(latex: str) -> float:
    """How wide ``latex`` is drawn in display style, in em (an estimate within about 10%)."""
    return _width_of(_TEX_PIECE.findall(latex))


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (combining accents take none)."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def measure(s: str, latex: bool) -> float:
    """Width of a printed line: em for LaTeX, terminal columns for text."""
    return tex_width(s) if latex else text_width(s)


_TEXT_PIECE = re.compile(r" [-+⊙⊗·×] (?=\S)| +|.", re.S)


def _text_items(text: str) -> list[_Item]:
    out, toggles = [], []
    for t in _TEXT_PIECE.findall(text):
        if len(t) == 3 and t[0] == " " and t[2] == " ":
            out.append(_Item(t, 3, "binary"))
        elif t.isspace():
            out.append(_Item(t, len(t), "space"))
        elif t in "([":
            out.append(_Item(t, 1, "open"))
        elif t in ")]":
            out.append(_Item(t, 1, "close"))
        elif t in "‖|":   # the same character opens and closes
            if toggles and toggles[-1] == t:
                toggles.pop()
                out.append(_Item(t, 1, "close"))
            else:
                toggles.append(t)
                out.append(_Item(t, 1, "open"))
        else:
            out.append(_Item(t, text_width(t), "atom"))
    return out


def _candidates(items: list[_Item]) -> list[tuple[int, int, int]]:
    """Where a line may end: (index of the first item of the next line, depth in delimiters,
    rank: 0 before + or −, 1 before ⊙ and other operators, 2 between the factors of a product)."""
    out, depth = [], 0
    previous, following = [None] * len(items), [None] * len(items)
    last = None
    for k, it in enumerate(items):
        previous[k] = last
        if it.kind != "space":
            last = k
    last = None
    for k in range(len(items) - 1, -1, -1):
        following[k] = last
        if items[k].kind != "space":
            last = k
    for k, it in enumerate(items):
        if it.kind == "open":
            depth += 1
        elif it.kind == "close":
            depth = max(depth - 1, 0)
        elif it.kind == "binary" and previous[k] is not None:
            out.append((k, depth, 0 if it.text.strip() in "+-" else 1))
        elif it.kind in ("space", "gap") and previous[k] is not None and following[k] is not None:
            left, right = items[previous[k]], items[following[k]]
            if left.kind in ("atom", "close", "script", "gap") and right.kind in ("atom", "open", "prefix"):
                out.append((following[k], depth, 2))
    return out


def break_lines(s: str, width: float, latex: bool, first: float | None = None) -> list[str]:
    """``s`` (one printed formula) in lines at most ``width`` wide (``first`` for the first line),
    broken at the outermost + and − first, then at ⊙, then between the factors of a product, then
    the same inside parentheses; a line that starts a continuation starts with its operator (a
    product's with ⋅). A piece that cannot be broken (inside braces) stays whole, however wide.
    Delimiters that enclose a break lose ``\\left``/``\\right`` (which cannot span lines)."""
    first = width if first is None else first
    items = _items(_TEX_PIECE.findall(s)) if latex else _text_items(s)
    prefix = [0.0]
    for it in items:
        prefix.append(prefix[-1] + it.width)
    if prefix[-1] <= first:
        return [s]
    cands = _candidates(items)
    levels = sorted({(d, r) for _, d, r in cands})
    lines = [(0, len(items))]
    cont = width - (1.0 if latex else 2)   # a continuation line is indented and starts with an operator
    for level in levels:
        cuts = [k for k, d, r in cands if (d, r) == level]
        new = []
        for lo, hi in lines:
            if prefix[hi] - prefix[lo] <= (first if lo == 0 else cont):
                new.append((lo, hi))
                continue
            inner = [k for k in cuts if lo < k < hi]
            start = lo
            while start < hi:
                limit = first if start == 0 else cont
                stops = [k for k in inner if k > start] + [hi]
                fit = [k for k in stops if prefix[k] - prefix[start] <= limit]
                end = fit[-1] if fit else stops[0]
                new.append((start, end))
                start = end
        lines = new
    level_at = {k: (d, r) for k, d, r in cands}
    level_at[0] = (-1, -1)
    merged = [lines[0]]
    for lo, hi in lines[1:]:   # a line that fits after the one before, unless it starts at a coarser break
        a, _ = merged[-1]
        if level_at[lo] >= level_at[a] and prefix[hi] - prefix[a] <= (first if a == 0 else cont):
            merged[-1] = (a, hi)
        else:
            merged.append((lo, hi))
    return _lines_text(items, merged, latex)


def _lines_text(items: list[_Item], lines: list[tuple[int, int]], latex: bool) -> list[str]:
    starts = {lo for lo, _ in lines[1:]}
    if latex:   # \left( … \right) around a break: plain (or \Big) delimiters, which may span lines
        stack, marked = [], set()
        for k, it in enumerate(items):
            if k in starts:
                marked.update(j for j in stack if items[j].text.startswith(r"\left"))
            if it.kind == "open":
                stack.append(k)
            elif it.kind == "close" and stack:
                j = stack.pop()
                if j in marked:
                    marked.add(k)
        pairs = {}
        stack = []
        for k, it in enumerate(items):
            if it.kind == "open":
                stack.append(k)
            elif it.kind == "close" and stack:
                pairs[stack.pop()] = k
        for j in sorted(marked):
            if items[j].kind != "open":
                continue
            close = pairs.get(j)
            tall = close is not None and any(r"\frac" in items[i].text or r"\sqrt" in items[i].text
                                             for i in range(j, close))
            for i in (j, close):
                if i is None:
                    continue
                delim = items[i].text[5:] if items[i].text.startswith(r"\left") else items[i].text[6:]
                delim = "" if delim == "." else delim
                items[i] = _Item((r"\Big" + delim) if tall and delim else delim, items[i].width, items[i].kind)
    out = []
    for lo, hi in lines:
        text = "".join(it.text for it in items[lo:hi]).strip()
        if lo and items[lo].kind != "binary":
            text = (r"\cdot " if latex else "· ") + text
        out.append(("{} " + text) if latex and lo else text)
    return out
