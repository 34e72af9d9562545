"""Text inside LaTeX: a plain (Unicode) string — a note, a rule's name, a reason, a warning — as
math-mode LaTeX, words in ``\\text{}`` and symbols as math, with only commands on ``texsafe``'s
allow-list (anything else is shown literally)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .tex import GREEK_UNICODE
from .texsafe import is_safe, literal

# --------------------------------------------------------------------------- text inside LaTeX
_GREEK = {}  # unicode letter -> LaTeX command
for _name, _ch in GREEK_UNICODE.items():
    _GREEK.setdefault(_ch, "\\" + _name)
_MATH_CHARS = {
    "×": r"\times", "∇": r"\nabla", "∂": r"\partial", "⊙": r"\odot", "∘": r"\circ", "…": r"\dots",
    "∈": r"\in", "ℝ": r"\mathbb{R}", "𝕊": r"\mathbb{S}", "‖": r"\|", "√": r"\surd", "≤": r"\le",
    "≥": r"\ge", "≠": r"\ne", "→": r"\to", "·": r"\cdot", "✓": r"\checkmark", "✗": r"\boldsymbol{\times}",
    "𝟏": r"\mathbf{1}", "±": r"\pm", "−": "-", "≈": r"\approx", "⟨": r"\langle", "⟩": r"\rangle",
    "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$", "~": r"\sim",
    "\\": r"\backslash", "^": r"\hat{}", "<": "<", ">": ">", "|": r"\vert", "∞": r"\infty",
}
_SUPERS = dict(zip("ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹⁻′", ["T", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "-", r"\prime"]))
_SUBS = dict(zip("₀₁₂₃₄₅₆₇₈₉ₘₙₚₓ", "0123456789mnpx"))
_TOKEN = re.compile(
    r"(?P<shape>\b[A-Za-z0-9*⁰¹²³⁴⁵⁶⁷⁸⁹]+×[A-Za-z0-9*⁰¹²³⁴⁵⁶⁷⁸⁹]+\b)"   # a shape: m×n, p*q×m*n, m²×m²
    r"|(?P<macro>\\[A-Za-z]+(?:\{[^{}]*\})*)"              # LaTeX already: \exp, \mathbb{R}
    r"|(?P<script>\^\([^()\s]*\)|[\^_](?:\{[^{}]*\}|(?:max|min)\b|[A-Za-z0-9∞*]))"   # ^{…}, _i, ^(1/2), λ_max, _∞
    r"|(?P<sup>[ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹⁻′]+)|(?P<sub>[₀₁₂₃₄₅₆₇₈₉ₘₙₚₓ]+)"
    r"|(?P<hat>\w\u0302)"
    r"|(?P<char>.)", re.S)


def _math_piece(s: str) -> str:
    """A run of characters as math: every non-ASCII character mapped to a command."""
    out = []
    for ch in s:
        if ch in _MATH_CHARS and ch not in "{}_^\\":
            out.append(_MATH_CHARS[ch] + " ")
        elif ch in _GREEK:
            out.append(_GREEK[ch] + " ")
        elif ch in _SUPERS:
            out.append("^{" + _SUPERS[ch] + "}")
        else:
            out.append(ch if ch.isascii() else _ascii(ch))
    return "".join(out).strip()


def _ascii(ch: str) -> str:
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return folded or "?"


def tex_text(s: str, names: dict | None = None, formula: bool = False) -> str:
    """A plain (Unicode) string as LaTeX math-mode content: words in ``\\text{}``, symbols as math.

    ``names`` maps symbol names (``"Sigma"``) to their LaTeX (``\\Sigma``); with ``formula``
    the whole string is math (``df = gᵀ dx`` becomes ``\\mathrm{d}f = g^{T} \\mathrm{d}x``)."""
    if formula:
        s = re.sub(r"\btr\(", r"\\operatorname{tr}(", s)
        s = re.sub(r"\bd(?=[A-Za-z(∇α-ωΑ-Ω])", r"\\mathrm{d}", s)   # dx, d(…), dΣ, dθ
    parts: list[list] = []          # [is_math, content]

    def put(is_math: bool, content: str):
        if parts and parts[-1][0] == is_math:
            parts[-1][1] += (" " if is_math else "") + content
        else:
            parts.append([is_math, content])

    word_names, pattern = _word_names(frozenset((names or {}).items()))
    for m in pattern.finditer(s):
        kind, tok = m.lastgroup, m.group()
        if kind == "name":
            put(True, word_names[tok])
        elif kind == "shape":
            put(True, re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "^{" + "".join(_SUPERS[c] for c in m.group()) + "}",
                             r" \times ".join(part.replace("*", r" \cdot ") for part in tok.split("×"))))
        elif kind == "macro":   # LaTeX in the text: kept only if every command in it is allowed
            piece = _math_piece(tok)
            put(True, piece if is_safe(piece) else literal(tok))
        elif kind == "script":
            inner = tok[2:-1] if tok[1] in "{(" else tok[1:]
            piece = "\\" + inner if inner in ("max", "min") else _math_piece(inner)
            put(True, tok[0] + "{" + (piece if is_safe(piece) else literal(tok[1:])) + "}")
        elif tok in _QUOTES:
            put(False, _QUOTES[tok])
        elif not tok.isprintable() and not tok.isspace():
            continue
        elif kind == "sup":
            put(True, "^{" + "".join(_SUPERS[c] for c in tok) + "}")
        elif kind == "sub":
            put(True, "_{" + "".join(_SUBS[c] for c in tok) + "}")
        elif kind == "hat":
            put(True, rf"\hat{{{_math_piece(tok[0])}}}")
        elif formula or tok in _MATH_CHARS or tok in _GREEK or not tok.isascii():
            if not tok.isspace():
                put(True, _MATH_CHARS.get(tok) or _GREEK.get(tok) or (tok if tok.isascii() else _ascii(tok)))
        else:
            put(False, tok)
    out = []
    for i, (is_math, content) in enumerate(parts):
        if not is_math:
            out.append(rf"\text{{{content}}}")
        else:
            out.append("{}" + content if i == 0 and content.startswith(("^", "_")) else content)
    tex = "".join(out)
    return tex if is_safe(tex) else literal(s)   # anything left outside the allow-list: the text as typed


@lru_cache(maxsize=64)
def _word_names(names: frozenset) -> tuple[dict, re.Pattern]:
    """The names longer than a letter that ``tex_text`` writes as math, and its pattern with them
    (made once for a derivation's names, not once for each text)."""
    word_names = {k: v for k, v in names if len(k) > 1 and v != k and is_safe(v)}
    if not word_names:
        return word_names, _TOKEN
    alternatives = "|".join(re.escape(k) for k in sorted(word_names, key=len, reverse=True))
    return word_names, re.compile(rf"(?P<name>\b(?:{alternatives})\b)|" + _TOKEN.pattern, re.S)


_QUOTES = {"“": "``", "”": "''", "‘": "`", "’": "'"}


def _rule_tex(rule: str, names: dict) -> str:
    """A rule name as LaTeX: ``identify the gradient: df = gᵀ dx`` keeps its formula as math."""
    head, sep, tail = rule.partition(": ")
    if sep and "=" in tail:
        return tex_text(head + ": ", names) + tex_text(tail, formula=True)
    return tex_text(rule, names)


def _sci(x: float) -> str:
    """3.0e-10 as LaTeX: 3.0 \\times 10^{-10}."""
    if x != x or x in (float("inf"), float("-inf")):
        return r"\infty"
    mantissa, _, exponent = f"{x:.1e}".partition("e")
    exponent = int(exponent)
    return mantissa if exponent == 0 else rf"{mantissa} \times 10^{{{exponent}}}"
