"""TeX's argument rule, applied before the grammar sees a formula.

An argument of ``^``, ``_``, ``\\frac``, ``\\sqrt``, ``\\mathbf``, ``\\hat``, ``\\operatorname``, ... is
one token or one braced group, exactly as TeX reads it: ``\\frac12`` is ½, ``\\frac\\lambda2`` is λ/2,
``\\sqrt2x`` is √2·x, ``x^12`` is x¹·2, ``\\boldsymbol\\theta`` is θ. ``brace_arguments`` writes every
such argument inside braces, so the grammar needs only the braced forms, and keeps a map from each
character of the result back to the text the user typed (for carets and quoted source).
"""
from __future__ import annotations

import re

GREEK_UNICODE = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ",
}

# commands and how many arguments TeX gives them
ARGUMENTS = {
    "frac": 2, "tfrac": 2, "dfrac": 2, "cfrac": 2,
    "sqrt": 1,
    "mathbf": 1, "boldsymbol": 1, "bm": 1, "vec": 1, "mathit": 1, "mathrm": 1, "mathsf": 1, "pmb": 1,
    "mathbfit": 1, "mathbb": 1, "mathbbm": 1, "mathcal": 1, "mathfrak": 1, "mathscr": 1,
    "hat": 1, "bar": 1, "tilde": 1, "widehat": 1, "widetilde": 1, "overline": 1, "dot": 1, "ddot": 1,
    "check": 1, "breve": 1,
    "operatorname": 1, "text": 1, "textrm": 1, "textbf": 1, "textit": 1, "mbox": 1, "mathop": 1,
}
_CONTROL_WORD = re.compile(r"\\([a-zA-Z]+)")


class Braced:
    """A formula with every command argument braced, and where each character came from."""

    def __init__(self, source: str):
        self.source = source
        self.chars: list[str] = []
        self.origin: list[int] = []   # origin[k]: index in ``source`` of output character k

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def emit(self, text: str, at: int, inserted: bool = False) -> None:
        for k, ch in enumerate(text):
            self.chars.append(ch)
            self.origin.append(at if inserted else at + k)

    def pos(self, k: int) -> int:
        """The source position of output position ``k`` (a start)."""
        if not self.origin:
            return 0
        return self.origin[k] if k < len(self.origin) else len(self.source)

    def end(self, k: int) -> int:
        """The source position of output end position ``k`` (exclusive)."""
        if k <= 0 or not self.origin:
            return 0
        return self.origin[min(k, len(self.origin)) - 1] + 1


def brace_arguments(text: str) -> Braced:
    out = Braced(text)
    _copy(text, 0, len(text), out)
    return out


def _copy(text: str, i: int, stop: int, out: Braced) -> None:
    """Copy ``text[i:stop]``, bracing the arguments of every command found."""
    while i < stop:
        ch = text[i]
        if ch in "^_":
            out.emit(ch, i)
            i = _argument(text, i + 1, stop, out)
            continue
        m = _CONTROL_WORD.match(text, i, stop)
        if m and m.group(1) in ARGUMENTS:
            i = _command(text, m, stop, out)
            continue
        if m:
            out.emit(m.group(0), i)
            i = m.end()
            continue
        if ch == "\\" and i + 1 < stop:
            out.emit(text[i:i + 2], i)   # a control symbol: \, \| \{ ...
            i += 2
            continue
        out.emit(ch, i)
        i += 1


def _command(text: str, m: re.Match, stop: int, out: Braced) -> int:
    """A command with its arguments (``\\sqrt`` may have ``[n]`` first)."""
    out.emit(m.group(0), m.start())
    i = m.end()
    if m.group(1) == "sqrt":
        j = _skip_space(text, i, stop)
        if j < stop and text[j] == "[":
            close = text.find("]", j, stop)
            if close != -1:
                _copy(text, i, close + 1, out)
                i = close + 1
    for _ in range(ARGUMENTS[m.group(1)]):
        i = _argument(text, i, stop, out)
    return i


def _argument(text: str, i: int, stop: int, out: Braced) -> int:
    """One argument, written braced: a braced group as it is, else one token (a command taking
    arguments is taken with them, as KaTeX does for ``x^\\mathsf{T}``)."""
    j = _skip_space(text, i, stop)
    if j >= stop:
        out.emit(text[i:j], i)
        return j
    out.emit(text[i:j], i)
    if text[j] == "{":
        close = matching_brace(text, j, stop)
        if close is None:
            out.emit(text[j:stop], j)
            return stop
        out.emit("{", j)
        _copy(text, j + 1, close, out)
        out.emit("}", close)
        return close + 1
    m = _CONTROL_WORD.match(text, j, stop)
    if m:
        end = _token_end(text, m, stop)
    elif text[j] == "\\" and j + 1 < stop:
        end = j + 2
    else:
        end = j + 1
    out.emit("{", j, inserted=True)
    _copy(text, j, end, out)
    out.emit("}", end - 1, inserted=True)
    return end


def _token_end(text: str, m: re.Match, stop: int) -> int:
    """Where one argument that starts with a control word ends: after the word, or after the
    arguments of a command that takes some."""
    if m.group(1) not in ARGUMENTS:
        return m.end()
    probe = Braced(text)
    return _command(text, m, stop, probe)


def _skip_space(text: str, i: int, stop: int) -> int:
    while i < stop and text[i] in " \t\n\r":
        i += 1
    return i


def matching_brace(text: str, i: int, stop: int | None = None) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``i`` (escaped braces ``\\{ \\}`` do not count)."""
    stop = len(text) if stop is None else stop
    depth = 0
    j = i
    while j < stop:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None
