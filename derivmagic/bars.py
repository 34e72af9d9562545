"""Pairing the bars of a statement before it is parsed: each norm bar ``\\|`` (``\\Vert``, ``||``) and
each single ``|`` is marked as opening (``‖(``, ``⟨``) or closing (``‖)``, ``⟩``), every character
position kept.

TeX does not pair bars. The reading marks a bar after an operand as closing (when a bar of its kind
is open) and any other bar as opening, so ``\\|a\\| \\|b\\|`` is a product of two norms. When that
pairing does not parse, a norm bar after an operand may instead open a norm inside the one that is
open: ``\\|a\\|b\\|^2\\|^2`` is well formed only as ‖a·‖b‖²‖². ``nested_reading`` finds that pairing
when it is the only one that parses, and says that the bars are ambiguous when several do.
"""
from __future__ import annotations

from typing import Callable, Iterator

from .errors import ParseError
from .tex import GREEK_UNICODE

_OPERAND_COMMANDS = set(GREEK_UNICODE) | {"top", "intercal"}
_SEARCH_STEPS = 4096   # pairings tried at most when the reading does not parse (each one is a parse)

NESTED_NOTE = "read the inner ‖…‖ as a norm inside the outer one"
AMBIGUOUS = ("nested norm bars are ambiguous: this \\| may close the norm before it or open a norm inside "
             "it, and more than one grouping is well formed; write the inner norm as \\left\\| … \\right\\| or "
             "\\lVert … \\rVert")


def _bars(text: str) -> list[tuple[int, int, str]]:
    """(position, width, "norm" or "bar") of every bar of ``text``, in order."""
    out = []
    i = 0
    while i < len(text):
        width = 0
        if text.startswith("\\|", i) or text.startswith("||", i):
            width, kind = 2, "norm"
        elif text.startswith("\\Vert", i) and not text[i + 5:i + 6].isalpha():
            width, kind = 5, "norm"
        elif text[i] == "|" and (i == 0 or text[i - 1] != "\\"):
            width, kind = 1, "bar"
        if width:
            out.append((i, width, kind))
            i += width
        else:
            i += 1
    return out


def _mark(out: list, i: int, width: int, kind: str, closes: bool) -> None:
    if kind == "norm":
        out[i:i + width] = list(("‖)" if closes else "‖(").ljust(width))
    else:
        out[i] = "⟩" if closes else "⟨"


def pair_bars(text: str) -> str:
    """``text`` with every bar marked: a bar after an operand closes, otherwise opens."""
    out = list(text)
    open_ = {"norm": 0, "bar": 0}
    for i, width, kind in _bars(text):
        closes = bool(_after_operand("".join(out[:i]), i) and open_[kind])
        _mark(out, i, width, kind, closes)
        open_[kind] += -1 if closes else 1
    return "".join(out)


def nested_pairings(text: str, depth_limit: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Every balanced pairing of ``text`` in which some norm bar after an operand opens a norm inside
    an open one instead of closing it: (marked text, positions of those inner opening bars). Closing
    is tried first at each bar; at most ``_SEARCH_STEPS`` bars are marked in all."""
    bars = _bars(text)
    norms_after = [sum(1 for _, _, k in bars[j:] if k == "norm") for j in range(len(bars) + 1)]
    steps = [0]

    def walk(j: int, out: list, open_norms: int, open_bars: int, inner: tuple) -> Iterator:
        steps[0] += 1
        if steps[0] > _SEARCH_STEPS or open_norms > norms_after[j] or open_norms + open_bars > depth_limit:
            return
        if j == len(bars):
            if open_norms == 0 and inner:
                yield "".join(out), inner
            return
        i, width, kind = bars[j]
        after = _after_operand("".join(out[:i]), i)
        if kind == "bar":
            closes = bool(after and open_bars)
            _mark(out, i, width, kind, closes)
            yield from walk(j + 1, out, open_norms, open_bars + (-1 if closes else 1), inner)
            return
        choices = [True, False] if after and open_norms else [False]
        for closes in choices:
            branch = list(out)
            _mark(branch, i, width, kind, closes)
            nested = inner + (i,) if len(choices) == 2 and not closes else inner
            yield from walk(j + 1, branch, open_norms + (-1 if closes else 1), open_bars, nested)

    yield from walk(0, list(text), 0, 0, ())


def nested_reading(text: str, parses: Callable[[str], bool], depth_limit: int):
    """(marked text, inner opening bars) of the one pairing with nested norms under which ``text``
    parses; None when there is none; a ParseError at the first inner bar when there are several."""
    found = []
    for marked, inner in nested_pairings(text, depth_limit):
        if parses(marked):
            found.append((marked, inner))
            if len(found) > 1:
                at = min(found[0][1][0], found[1][1][0])
                width = next(w for i, w, _ in _bars(text) if i == at)
                raise ParseError(AMBIGUOUS, pos=at, end=at + width)
    return found[0] if found else None


def _after_operand(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    if j < 0:
        return False
    if text[j].isalnum():
        k = j
        while k >= 0 and text[k].isalpha():
            k -= 1
        if k >= 0 and text[k] == "\\":
            word = text[k + 1:j + 1]
            if word == "right":
                return True
            return word in _OPERAND_COMMANDS
        return True
    return text[j] in ")]}|'⟩"  # a closing bar already marked ends an operand; an opening one does not
