"""Fitting formulas to the width of a notebook's output: how wide a formula is drawn, estimated
from its LaTeX (in em, as MathJax 3 and KaTeX draw TeX's fonts), or its text (in terminal
columns); long formulas broken into lines at the outermost + and − first, then at ⊙, then between
factors, then inside parentheses; and equations laid out as aligned rows within the width, the
continuation lines under the first, a note beside when it fits and under the equation when not."""
from __future__ import annotations

import re
import unicodedata

# A notebook's output area is about 900 px wide (JupyterLab at 1280 px with the file browser open):
# 61 em at MathJax's 14.6 px to the em, 53 em at KaTeX's 16.9 px; the parts are indented by 1 em.
WIDTH_EM = 50.0
LEFT = 0.45   # a left side wider than this share of the width stands on a row of its own
BOX_CHARS = 4000   # a longer result is not boxed: MathJax refuses a \boxed argument over 5,120 characters
TEXT_COLUMNS = 100   # text lines, in terminal columns (a notebook's text output shows about 115)

# --------------------------------------------------------------------------- widths
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


# --------------------------------------------------------------------------- equations in rows
def equation_rows(lhs: str, rhs: str, boxed: bool = False, note: str = "", width: float = WIDTH_EM,
                   column: float = 0.0) -> list[str]:
    """``lhs &= rhs`` as aligned rows that fit ``width`` (``column``: the width of the block's left
    column): ``rhs`` broken into continuation lines (inside the box, when boxed); ``note`` beside
    when it fits, else under the equation. A left side wider than the left column's share of the
    width stands on rows of its own, the right side under it."""
    if tex_width(lhs) > LEFT * width:
        lhs_lines = break_lines(lhs, width, True)
        return [f"&{lhs_lines[0]}"] + [rf"&\quad {line}" for line in lhs_lines[1:]] + \
            equation_rows("", rhs, boxed, note, width, column)
    wl = max(tex_width(lhs), column) + 1.34
    room = width - wl - (0.8 if boxed else 0.0)
    lines = break_lines(rhs, room, True)
    if boxed and sum(map(len, lines)) > BOX_CHARS:   # MathJax expands \boxed's argument in a 5 KiB buffer
        boxed, room = False, room + 0.8
        lines = break_lines(rhs, room, True)
    if boxed:
        body = lines[0] if len(lines) == 1 else r"\begin{aligned}&" + r" \\ &\quad ".join(lines) + r"\end{aligned}"
        lines = [rf"\boxed{{{body}}}"]
    beside = bool(note) and wl + max(tex_width(line) for line in lines) + 2.0 + tex_width(note) <= width
    rows = [f"{lhs} &= {lines[0]}" + (f" && {note}" if beside else "")]
    rows += [rf"&\quad {line}" for line in lines[1:]]
    if note and not beside:
        rows.append(rf"&\qquad {note}")
    return rows


def pad(s: str, width: int) -> str:
    return s + " " * (width - text_width(s))


def equation_text(lhs: str, rhs: str, column: int = 0, note: str = "") -> list[str]:
    """``  lhs = rhs    note`` in lines at most ``TEXT_COLUMNS`` wide: the right side broken, its
    continuation lines under its first; a left side wider than ``LEFT`` of the width on its own line."""
    width = TEXT_COLUMNS
    if text_width(lhs) > LEFT * width:
        head = break_lines(lhs, width - 2, False)
        return ["  " + head[0]] + ["    " + line for line in head[1:]] + equation_text("", rhs, 2, note)
    column = max(column, text_width(lhs))
    indent = " " * (column + 5)
    first = f"  {pad(lhs, column)} = " if lhs else f"  {' ' * column}= "
    room = width - text_width(first)
    lines = break_lines(rhs, room, False)
    out = [first + lines[0]] + [indent + line for line in lines[1:]]
    if note and text_width(out[-1]) + 4 + text_width(note) <= width:
        out[-1] += "    " + note
    elif note:
        out.append(indent + note)
    return out


def wrapped_text(line: str, indent: str, separator: str = " ") -> list[str]:
    """``indent + line``, cut at ``separator`` (then between words) into lines that fit the width;
    the lines after the first indented two more."""
    width = TEXT_COLUMNS
    if text_width(indent + line) <= width:
        return [indent + line]
    indent, line = indent + line[:len(line) - len(line.lstrip())], line.lstrip()
    out, current = [], ""
    pieces = [p + (separator.rstrip() if i < len(line.split(separator)) - 1 else "")
              for i, p in enumerate(line.split(separator))]
    words = [w for p in pieces for w in ([p] if text_width(p) <= width - len(indent) - 2 else p.split(" "))]
    for w in words:
        prefix = indent if not out else indent + "  "
        candidate = f"{current} {w}" if current else w
        if current and text_width(prefix + candidate) > width:
            out.append(prefix + current)
            current = w
        else:
            current = candidate
    out.append((indent if not out else indent + "  ") + current)
    return out
