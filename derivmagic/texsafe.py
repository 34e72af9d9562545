"""What LaTeX derivmagic may emit: an allow-list of commands, and text escaped so that it is
shown, never executed.

Every LaTeX string derivmagic hands to a renderer (``Derivation.latex``, ``to_tex()``,
``_repr_latex_``, steps, claims, notes) is built by its own printers from this list, or from
text escaped by ``literal``. A cell's own text (a claim as written, a remark, a symbol's
name) reaches LaTeX only after ``disallowed`` found nothing in it; otherwise its literal
form is shown. So ``\\input{/etc/passwd}``, ``\\href{javascript:…}``, ``\\write18``, ``\\def``,
``\\catcode``, TeX's ``^^5c`` character codes or a ``%`` that comments out the rest of a line
never reach TeX, KaTeX or MathJax as commands.
"""
from __future__ import annotations

import re
import unicodedata

from .tex import GREEK_UNICODE

# commands of the mathematics and of the text around it, in math mode (KaTeX and MathJax know each)
MATH = frozenset("""
    frac sqrt left right big Big bigg Bigg cdot times odot otimes oslash circ dots ldots cdots vdots ddots
    nabla partial in notin mathbb mathbf mathrm mathtt mathit mathsf mathcal boldsymbol operatorname
    text textbf textit textrm texttt hat tilde bar widehat widetilde overline dot ddot vec prime
    exp log ln det tanh sin cos tan sigma sinh cosh min max sup inf lim sum prod int
    le leq ge geq ne neq approx sim simeq equiv to rightarrow leftarrow Rightarrow Leftarrow
    mapsto pm mp infty langle rangle vert Vert lVert rVert lvert rvert backslash surd checkmark
    quad qquad underbrace overbrace boxed begin end top intercal
    mid setminus emptyset forall exists cup cap subset subseteq supset supseteq
    therefore because cdotp colon
""".split()) | frozenset(GREEK_UNICODE) | frozenset(["epsilon", "varepsilon", "vartheta", "varphi"])
# single-character commands: spacing and escaped specials
SYMBOLS = frozenset([r"\,", r"\;", r"\:", r"\!", r"\ ", r"\{", r"\}", r"\|", r"\_", r"\&", r"\%", r"\#", r"\$",
                     r"\\"])
ENVIRONMENTS = frozenset(["aligned", "align*", "bmatrix", "pmatrix", "matrix", "array", "gathered", "cases"])
# what document_tex adds around the mathematics (a standalone article)
DOCUMENT = frozenset("""documentclass usepackage allowdisplaybreaks setlength textwidth oddsidemargin evensidemargin
                        section subsection""".split())
DOCUMENT_ENVIRONMENTS = frozenset(["document"])
PACKAGES = frozenset(["amsmath", "amssymb", "amsmath,amssymb"])
ALLOWED = frozenset("\\" + c for c in MATH) | SYMBOLS

_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
_ENV = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}")
_PACKAGE = re.compile(r"\\usepackage\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}")


def disallowed(latex: str, document: bool = False) -> list[str]:
    """Everything in ``latex`` outside the allow-list, in order of appearance (empty when it is
    safe): commands not on the list, environments not on the list, and the characters TeX reads
    as something else than text (``^^`` character codes, ``%`` comments, ``#`` parameters, ``$``
    math shifts, control characters, anything not ASCII)."""
    out: list[str] = []
    allowed = ALLOWED | (frozenset("\\" + c for c in DOCUMENT) if document else frozenset())
    envs = ENVIRONMENTS | (DOCUMENT_ENVIRONMENTS if document else frozenset())
    for m in _COMMAND.finditer(latex):
        if m.group(0) not in allowed:
            out.append(m.group(0))
    for m in _ENV.finditer(latex):
        if m.group(2).strip() not in envs:
            out.append(f"\\{m.group(1)}{{{m.group(2)}}}")
    if document:
        for m in _PACKAGE.finditer(latex):
            if m.group(1).replace(" ", "") not in PACKAGES:
                out.append(f"\\usepackage{{{m.group(1)}}}")
    bare = _COMMAND.sub(" ", latex)
    if "^^" in bare:
        out.append("^^")
    for ch in sorted(set(bare)):
        if ch in "%#$" or (not ch.isascii()) or (not ch.isprintable() and ch not in "\n\t"):
            out.append(ch)
    return out


def is_safe(latex: str, document: bool = False) -> bool:
    return not disallowed(latex, document)


_LITERAL = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$",
            "_": r"\_", "^": r"\hat{}\,", "~": r"\sim ", " ": r"\ ", "@": r"\text{@}"}


def ascii_fold(ch: str) -> str:
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if c.isprintable()) or "?"


def literal(s: str, limit: int = 2000) -> str:
    """Any text as math-mode LaTeX that shows it character for character (typewriter), ASCII
    only, every special character escaped; cut with … beyond ``limit`` characters."""
    cut = len(s) > limit

    def beyond_ascii(ch: str) -> str:
        folded = ascii_fold(ch)
        return "?" if folded == "?" else literal(folded)[len(r"\mathtt{"):-1]
    return r"\mathtt{" + escaped_chars(s[:limit], beyond_ascii) + (r"\dots" if cut else "") + "}"


def escaped_chars(s: str, beyond_ascii) -> str:
    """``s`` character for character: LaTeX's specials escaped, blanks and control characters as
    spaces, any other character beyond ASCII as ``beyond_ascii(ch)``."""
    out = []
    for ch in s:
        if ch in _LITERAL:
            out.append(_LITERAL[ch])
        elif ch.isascii() and ch.isprintable():
            out.append(ch)
        elif ch.isspace() or not ch.isprintable():
            out.append(r"\ ")
        else:
            out.append(beyond_ascii(ch))
    return "".join(out)


def safe(latex: str, text: str) -> str:
    """``latex`` when everything in it is on the allow-list, else ``text`` shown literally."""
    return latex if is_safe(latex) else literal(text)
