"""A pasted cell as text: the mathematics in it, cut into statements.

What notes wrap around formulas is blanked out with every character position kept, so that
carets still point into what the user typed: decorations (``\\underbrace``, ``\\boxed``,
``\\text{…}`` remarks, tags) and the page around the formulas (``$$…$$``, ``\\[…\\]``, ``$…$``,
``equation``/``align``/``gather``/``multline`` environments, Markdown prose). What is dropped is
reported, so that the Interpretation can list it.
"""
from __future__ import annotations

import re

from .tex import GREEK_UNICODE

# ---------------------------------------------------------------- statements
_SEPARATORS = re.compile(r"\\text\s*\{\s*(?:where|and|with)\s*\}|\\q?quad(?![a-zA-Z])|(?<![a-zA-Z\\])(?:where|and|with)(?![a-zA-Z])|(?<!\\);|\\\\|\n")


# ---------------------------------------------------------------- explicit matrices
# ``\begin{bmatrix} a & b \\ c & d \end{bmatrix}`` is written with marks the grammar reads as one
# atom, every position kept: an opening mark (⟦ a matrix, ⟬ a determinant) and a closing one,
# ¦ between the entries of a row and ⁋ between rows, so that no statement is cut inside it.
MATRIX_OPEN, DET_OPEN, MATRIX_CLOSE, COLUMN_MARK, ROW_MARK = "⟦", "⟬", "⟧", "¦", "⁋"
_MATRIX_ENV = re.compile(r"\\(begin|end)\s*\{\s*([pbBvV]?matrix|smallmatrix)\s*\}")


def mark_matrices(text: str) -> str:
    out = list(text)
    depth = 0
    pos = 0
    for m in _MATRIX_ENV.finditer(text):
        if depth > 0:
            _mark_separators(text, pos, m.start(), out)
        if m.group(1) == "begin":
            depth += 1
            opening = DET_OPEN if m.group(2) in ("vmatrix", "Vmatrix") else MATRIX_OPEN
            out[m.start():m.end()] = [opening] + [" "] * (m.end() - m.start() - 1)
        elif depth > 0:
            depth -= 1
            out[m.start():m.end()] = [MATRIX_CLOSE] + [" "] * (m.end() - m.start() - 1)
        pos = m.end()
    _mark_quad_rows(text, out)
    _mark_points(text, out)
    _mark_tuples(text, out)
    _mark_index_cases(text, out)
    return "".join(out)


# ``\begin{cases} a & i = j \\ b & i \neq j \end{cases}`` (or ``… & \text{otherwise}``): the entry
# formula of an index line, δ_ij a + (1 − δ_ij) b. Marked like a matrix: ⦃ opens, ⟧ closes, ≐ or ≠
# stands for the '&' of a row whose condition is i = j or i ≠ j (its two letters kept), ⁋ between
# the rows. Other conditions are left as written (and refused by name).
CASES_OPEN, CASE_EQUAL, CASE_OTHER = "⦃", "≐", "≠"
_CASES = re.compile(r"\\begin\s*\{\s*cases\s*\}(.*?)\\end\s*\{\s*cases\s*\}", re.S)
_CONDITION_EQUAL = re.compile(r"\s*:?\s*(?:if\s+)?([a-z])\s*=\s*([a-z])\s*[.,]?\s*")
_CONDITION_OTHER = re.compile(r"\s*:?\s*(?:(?:if\s+)?([a-z])\s*(?:\\neq?(?![a-zA-Z])|\\not\s*=|≠)\s*([a-z])|(?:if\s+)?"
                              r"(?:otherwise|else))?\s*[.,]?\s*")


def _mark_index_cases(text: str, out: list) -> None:
    for m in _CASES.finditer(text):
        rows = _case_rows(text, m.start(1), m.end(1))
        if rows is None:
            if _statement_rows(text, m.start(1), m.end(1)):   # a system: each row a statement of its own
                for i in [*range(m.start(), m.start(1)), *range(m.end(1), m.end())]:
                    out[i] = " "
            continue
        out[m.start()] = CASES_OPEN
        for i in range(m.start() + 1, m.start(1)):
            out[i] = " "
        out[m.end(1)] = MATRIX_CLOSE
        for i in range(m.end(1) + 1, m.end()):
            out[i] = " "
        for i in range(m.start(1), m.end(1) - 1):   # a \\ after the last row, or before the first
            if text.startswith("\\\\", i):
                out[i] = out[i + 1] = " "
        for k, (amp, stop, mark, letters) in enumerate(rows):
            out[amp] = mark
            for i in range(amp + 1, stop):
                out[i] = text[i] if i in letters else " "
            if k + 1 < len(rows):
                out[stop:stop + 2] = [ROW_MARK, " "]


def _statement_rows(text: str, a: int, b: int) -> bool:
    """Rows that are equations with no '&' (``\\begin{cases} \\nabla v = a^T \\\\ \\nabla^2 v = 0 \\end{cases}``)."""
    rows = [r for r in re.split(r"\\\\", text[a:b]) if r.strip()]
    return len(rows) > 1 and all("&" not in r and "=" in r for r in rows)


def _case_rows(text: str, a: int, b: int):
    """For each of the two rows: (position of its '&', end of its condition, mark, positions of the
    condition's index letters); None unless one row says i = j and the other i ≠ j or otherwise."""
    rows, start, depth, i = [], a, 0, a
    while i <= b:
        if i == b or (depth == 0 and text.startswith("\\\\", i)):
            rows.append((start, i))
            start = i = i + 2
            continue
        depth += 1 if text[i] in "({[" else -1 if text[i] in ")}]" else 0
        i += 1
    rows = [(r0, r1) for r0, r1 in rows if text[r0:r1].strip()]
    if len(rows) != 2:
        return None
    marked = []
    for r0, r1 in rows:
        amp = text.find("&", r0, r1)
        if amp < 0:
            return None
        condition = text[amp + 1:r1]
        equal, other = _CONDITION_EQUAL.fullmatch(condition), _CONDITION_OTHER.fullmatch(condition)
        m = equal or other
        if m is None:
            return None
        letters = {amp + 1 + m.start(g) for g in (1, 2) if m.group(g)}
        marked.append((amp, r1, CASE_EQUAL if equal else CASE_OTHER, letters))
    return marked if sorted(mk for _, _, mk, _ in marked) == sorted([CASE_EQUAL, CASE_OTHER]) else None


_ROW_SPACE = re.compile(r"\\q?quad(?![a-zA-Z])")


def _mark_quad_rows(text: str, out: list) -> None:
    """``[a_1 \\quad a_2 \\quad \\dots \\quad a_n]``: a row vector written with \\quad between its
    entries (the brackets become a matrix, each \\quad a column mark)."""
    for i, ch in enumerate(text):
        if ch != "[" or out[i] != "[":
            continue
        depth, j, quads = 0, i + 1, []
        while j < len(text):
            c = text[j]
            if c in "([{":
                depth += 1
            elif c in ")}":
                depth -= 1
            elif c == "]":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and c == "\\":
                m = _ROW_SPACE.match(text, j)
                if m:
                    quads.append(m)
                    j = m.end()
                    continue
            j += 1
        if j >= len(text) or not quads or text[j + 1:j + 2] == "_":
            continue
        out[i], out[j] = MATRIX_OPEN, MATRIX_CLOSE
        for m in quads:
            out[m.start():m.end()] = [COLUMN_MARK] + [" "] * (m.end() - m.start() - 1)


def _matching_paren(text: str, i: int) -> int | None:
    depth = 0
    for j in range(i, len(text)):
        if text[j] in "({[":
            depth += 1
        elif text[j] in ")}]":
            depth -= 1
            if depth == 0:
                return j if text[j] == ")" else None
    return None


_AT_POINT = re.compile(r"_\{(?:(\w+),\s*)?\(")


def _mark_points(text: str, out: list) -> None:
    """``h_{1,(\\mathbf{x})}`` and ``Dh_{(\\mathbf{x})}``, a subscript that says where a function is
    taken: written as ``h_1 (\\mathbf{x})`` and ``Dh (\\mathbf{x})``, every position kept."""
    for m in _AT_POINT.finditer(text):
        open_ = m.end() - 1
        close = _matching_paren(text, open_)
        if close is None or text[close + 1:close + 2] != "}" or out[m.start()] != "_":
            continue
        index = m.group(1)
        head = ("_" + index) if index else ""
        out[m.start():open_] = list(head) + [" "] * (open_ - m.start() - len(head))
        out[close + 1] = " "


_TUPLE_BEFORE = re.compile(r"(?:^|[\s=+\-(,&]|\\(?:top|intercal|quad|qquad|cdot|times)|\^\{?T\}?|\^\\top)\s*$")


def _mark_tuples(text: str, out: list) -> None:
    """``(a, b, \\dots, c)``, a tuple where no function is applied: a row of entries."""
    for i, ch in enumerate(text):
        if ch != "(" or out[i] != "(" or not _TUPLE_BEFORE.search(text[:i]):
            continue
        close = _matching_paren(text, i)
        if close is None:
            continue
        commas, depth = [], 0
        for j in range(i + 1, close):
            c = text[j]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "," and depth == 0 and text[j - 1] != "\\":   # \\, is a thin space
                commas.append(j)
        if commas:
            out[i], out[close] = MATRIX_OPEN, MATRIX_CLOSE
            for j in commas:
                out[j] = COLUMN_MARK


def _mark_separators(text: str, a: int, b: int, out: list) -> None:
    i = a
    while i < b:
        if text[i] == "&":
            out[i] = COLUMN_MARK
        elif text.startswith("\\\\", i):
            out[i:i + 2] = [ROW_MARK, " "]
            i += 1
        i += 1


def split_statements(cell: str) -> list[tuple[int, str]]:
    """Cut a cell into statements at newlines, depth-0 commas, ``\\quad``, ``where``, ``;``.
    Each statement keeps its offset in the cell. ``x, y \\in ...`` stays together."""
    joins: list[int] = []
    cell = _join_aligned(mark_matrices(cell), joins)
    pieces: list[tuple[int, str]] = []
    depth, start, i = 0, 0, 0
    while i < len(cell):
        ch = cell[i]
        if ch in "({[⟦⟬⦃" or cell.startswith("\\langle", i):
            depth += 1
        elif ch in ")}]⟧" or cell.startswith("\\rangle", i):
            depth = max(0, depth - 1)
        if depth == 0:
            m = _SEPARATORS.match(cell, i)
            if m and m.end() > i and not (m.group(0).startswith("\\q") and _joins(cell[start:i], cell[m.end():])):
                pieces.append((start, cell[start:i]))
                start = i = m.end()
                continue
            if ch == "," and not _inside_norm(cell, start, i) and not (i > 0 and cell[i - 1] == "\\"):
                pieces.append((start, cell[start:i]))
                start = i + 1
        i += 1
    pieces.append((start, cell[start:]))
    pieces = _continue_the_line(cell, pieces, joins)
    merged: list[tuple[int, str]] = []
    for off, text in pieces:
        if not _SPACING_ONLY.sub("", text).strip(" .\t"):
            continue
        lead = len(text) - len(text.lstrip())
        off, text = off + lead, text.strip()
        while merged and _is_name_list(merged[-1][1]) and re.search(r"\\in(?![a-zA-Z])", text):
            prev_off, prev = merged.pop()  # x, b, c \in ...: the names wait for the \in
            text = prev + "," + " " * (off - prev_off - len(prev) - 1) + text
            off = prev_off
        merged.append((off, text.rstrip(".").rstrip()))
    return merged


_OPERATOR_END = re.compile(r"(?:[-+=(\[{^_/*]|\\(?:cdot|times|odot|circ|frac|left|big|Big|in))\s*$")
_OPERATOR_START = re.compile(r"\s*(?:[-+=)\]}^_/*]|\\(?:cdot|times|odot|circ|right|in)(?![a-zA-Z]))")


def _joins(before: str, after: str) -> bool:
    """A ``\\quad`` between an operator and its operand is spacing, not a separator."""
    return bool(_OPERATOR_END.search(before) or _OPERATOR_START.match(after)) and bool(before.strip())


_SPACING_ONLY = re.compile(r"\\[,;:! ]|\\\\|~|\\q?quad(?![a-zA-Z])")


def _inside_norm(cell: str, start: int, i: int) -> bool:
    seg = cell[start:i]
    return seg.count("\\|") % 2 == 1


_NAME = (r"(?:\\(?:mathbf|boldsymbol|bm|vec|hat|tilde|bar)\s*\{[^{}]*\}|\\(?:" + "|".join(GREEK_UNICODE)
         + r")(?![a-zA-Z])|[a-zA-Z])(?:_\{?\w+\}?)?")
_NAME_LIST = re.compile(rf"\s*{_NAME}(?:\s*,\s*{_NAME})*\s*,?\s*")


def _is_name_list(text: str) -> bool:
    """``x`` or ``x, y``: names waiting for the ``\\in`` of the next piece."""
    return _NAME_LIST.fullmatch(_SPACING_ONLY.sub(" ", text)) is not None


_ALIGNED = re.compile(r"\\begin\{(aligned|align\*?|split|gathered|equation\*?)\}|\\end\{(aligned|align\*?|split|gathered|equation\*?)\}")


def _join_aligned(cell: str, joins: list | None = None) -> str:
    """``\\begin{aligned} a &= b \\\\ &= c \\end{aligned}`` -> ``a = b = c`` (positions kept): a line
    (or a pasted block) that begins with ``=`` or ``&=`` continues the derivation before it (where
    each such line joins goes to ``joins``)."""
    out = list(cell)
    for m in _ALIGNED.finditer(cell):
        out[m.start():m.end()] = [" "] * (m.end() - m.start())
    text = "".join(out)

    def join(m):
        if joins is not None:
            joins.append(m.start())
        return " " * (len(m.group(0)) - len(m.group(1))) + m.group(1).replace("\n", " ")
    return re.sub(r"(?:\\\\|\n)(\s*)(?=[\s&]*(?:\\q?quad(?![a-zA-Z])\s*)*(?:=(?!:)|\\in(?![a-zA-Z])))", join, text)


def _continue_the_line(cell: str, pieces: list, joins: list) -> list:
    """``a = b \\quad \\text{here } y = f(x) \\\\ &= c`` (or ``a = b, c = … \\\\ &= …``): a continued line
    continues its first statement, not the remark or definition after \\quad or a comma (that span is
    left blank in it, positions kept)."""
    for j in joins:
        k = next((k for k, (off, text) in enumerate(pieces) if off <= j < off + len(text)), None)
        if k is None or k == 0 or "\n" in cell[pieces[k - 1][0]:j] or \
                not re.search(r"(?:\\q?quad|,)\s*$", cell[:pieces[k][0]]):
            continue
        first_off, first = pieces[k - 1]
        off, text = pieces[k]
        gap = "".join(c if c == "\n" else " " for c in cell[first_off + len(first):j])
        pieces[k - 1] = (first_off, first + gap + cell[j:off + len(text)])
        pieces[k] = (off, cell[off:j])
    return pieces


# ---------------------------------------------------------------- decorations of pasted notes
_WRAPPERS = re.compile(r"\\(underbrace|overbrace|boxed|underset|overset|bbox|color|textcolor)\s*(?=[{\[])")
_REMARK_WORDS = re.compile(r"\\(checkmark|therefore|because|Rightarrow|Longrightarrow|rightarrow|longrightarrow|implies|iff|blacksquare|square|qed|displaystyle|tag\s*\{[^}]*\}|label\s*\{[^}]*\})(?![a-zA-Z])(?!\s*\\mathbb)(?!\s*\d+\s*\})")   # \lim_{h \rightarrow 0}: kept
_CONDITION = re.compile(r"\((?:\s|\\[,;: ]|\\text\s*\{)*(?:when|if|since|for|assuming|where|as|because)\b[^()]*(?:\([^()]*\)[^()]*)*\)")
_TEXT_CONDITION = re.compile(r"\\text\s*\{\s*(?:when|if|since|for|assuming|because|as|provided)\b[^}]*\}.*?(?=\\\\|\\end\{|$)", re.M)
# an equation number: "(1)" ending a line after \quad, a wide space or an alignment mark, never an
# argument such as \log(2)
_TAG = re.compile(r"(?:(?<=\\quad)|(?<=\\qquad)|(?<=  )|(?<=&)|(?<=\\ )|^)\s*\(\s*\d+(\.\d+)?\s*\)\s*[.,]?\s*$", re.M)
_KEEP_TEXT = re.compile(r"\\(?:text|textrm|mathrm|operatorname)\s*\{\s*(?:tr|Tr|trace|softmax|diag|sign|sgn|exp|log|lse|logsumexp|sigmoid|tanh|det|where|and|with|d|T)\s*\}")


def strip_decorations(cell: str, removed: list | None = None) -> str:
    """Blank out what notes wrap around the mathematics, keeping every position:
    ``\\underbrace{X}_{…}`` and ``\\boxed{X}`` keep X; ``\\text{…}`` remarks, ``\\checkmark``,
    ``\\therefore``, ``(when A is symmetric)`` and ``(1)`` tags disappear. The spans of what
    disappeared (not the wrappers' own commands) are appended to ``removed``."""
    out = list(cell)

    def blank(a, b, remark=True):
        if remark and removed is not None and cell[a:b].strip():
            removed.append((a, b))
        for i in range(a, min(b, len(out))):
            if out[i] != "\n":
                out[i] = " "

    for m in _EVALUATION_BAR.finditer(cell):   # \left. … \right|_{x = x_0}: evaluated at a point
        blank(m.start(), m.end(), remark=m.group(0).startswith("\\r") or m.group(0).startswith("\\B")
              or m.group(0).startswith("\\b"))
    for m in _WRAPPERS.finditer(cell):
        name = m.group(1)
        blank(m.start(), m.end(), remark=False)
        i = m.end()
        if name in ("color", "textcolor", "bbox", "underset", "overset"):
            close = _matching(cell, i)  # the colour, box style or the annotation: dropped
            if close is None:
                continue
            blank(i, close + 1)
            i = close + 1
            while i < len(cell) and cell[i].isspace():
                i += 1
        if i >= len(cell) or cell[i] != "{":
            continue
        close = _matching(cell, i)
        if close is None:
            continue
        blank(i, i + 1, remark=False)
        blank(close, close + 1, remark=False)
        j = close + 1
        while j < len(cell) and cell[j].isspace():
            j += 1
        if name in ("underbrace", "overbrace") and j < len(cell) and cell[j] in "_^":
            k = j + 1
            while k < len(cell) and cell[k].isspace():
                k += 1
            end = _matching(cell, k) if k < len(cell) and cell[k] == "{" else k
            if end is not None:
                blank(j, end + 1)
    text = "".join(out)
    cases = [m.span() for m in _CASES.finditer(text)]   # a row's condition there is read, not a remark
    for pattern in (_CONDITION, _TEXT_CONDITION):
        for m in pattern.finditer(text):
            if not any(a <= m.start() < b for a, b in cases):
                blank(m.start(), m.end())
        text = "".join(out)
    text = "".join(out)
    for m in _TEXT_REMARK.finditer(text):
        if not _KEEP_TEXT.match(text, m.start()) and not _function_word(text, m):
            blank(m.start(), m.end())
    text = "".join(out)
    for pattern in (_REMARK_WORDS, _TAG):
        for m in pattern.finditer(text):
            blank(m.start(), m.end(), remark=m.group(0) != "\\displaystyle")
        text = "".join(out)
    return text


_EVALUATION_BAR = re.compile(r"\\left\s*\.|\\(?:right|[bB]igg?r?)\s*\|\s*_\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|\\?[A-Za-z0-9])")
_TEXT_REMARK = re.compile(r"\\(?:text|textrm|textbf|textit|mbox)\s*\{([^{}]*)\}")
_PROSE = {"where", "and", "with", "for", "if", "when", "since", "is", "are", "then", "so", "all", "any", "each",
          "otherwise", "else", "as", "by", "of", "in", "on", "to", "the", "a", "an", "or", "s", "t", "st", "ie",
          "eg", "let", "here", "because", "thus", "hence", "i", "we", "note", "assuming", "provided", "given", "such", "that"}
_OPERAND_AFTER = re.compile(r"(?:\s|\\[,;:!](?![a-zA-Z])|~)*(?:\(|\\left|\\[bB]igg?l?(?![a-zA-Z])|\\[a-zA-Z]|[a-zA-Z0-9])")


def _function_word(text: str, m: re.Match) -> bool:
    """``\\text{ReLU}(Wx)``: one word where a function name stands is a function name, read (or
    refused as unknown) like ``\\operatorname{ReLU}`` — never dropped as a remark."""
    word = m.group(1).strip()
    if word != m.group(1):
        return False   # \\text{here } y = …: a space inside the braces ends a word of prose
    return (re.fullmatch(r"[A-Za-z][A-Za-z0-9]+", word) is not None and word.lower() not in _PROSE
            and _OPERAND_AFTER.match(text, m.end()) is not None)


def _matching(text: str, i: int) -> int | None:
    """Index of the brace closing the one at ``i``."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and (j == 0 or text[j - 1] != "\\"):
            depth += 1
        elif text[j] == "}" and (j == 0 or text[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return j
    return None


def merged_spans(spans: list, cell: str) -> list:
    """Spans next to each other (only spaces between) as one."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and not cell[out[-1][1]:a].strip():
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


_SPACE_ONLY = re.compile(r"\s*\\mathbb\s*\{?\s*[RS]\s*\}?\s*(\^\s*(\{[^{}]*\}|\w))?\s*")


def only_names(text: str) -> bool:
    """Names only (``A``, ``x, y``) or a space only (``\\mathbb{R}^{1 \\times n}``): what prose around a
    formula leaves behind."""
    plain = _SPACING_ONLY.sub(" ", text)
    return re.fullmatch(rf"\s*{_NAME}(\s*,?\s*{_NAME})*\s*", plain) is not None or _SPACE_ONLY.fullmatch(plain) is not None


def plain_words(text: str) -> str:
    """A remark in plain words (commands and braces dropped), safe to show anywhere."""
    text = re.sub(r"\\(?:text|textrm|textbf|textit|mbox|mathrm|operatorname)\s*", "", text)
    text = re.sub(r"\\([a-zA-Z]+)", lambda m: m.group(1) if m.group(1) in GREEK_UNICODE else " ", text)
    text = re.sub(r"[^A-Za-z0-9 ,.;:'()=+\-]", " ", text)
    return re.sub(r"\s+", " ", text).strip(" ,;")


# ---------------------------------------------------------------- the page around the formulas
_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.S)
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{\s*(?:equation|align|alignat|gather|multline|flalign|eqnarray|aligned|"
                          r"alignedat|gathered|split|displaymath|math)\*?\s*\}(?:\{\d+\})?")


def unwrap(cell: str, removed: list | None = None) -> str:
    """The mathematics of a pasted page, every position kept: ``$$…$$``, ``\\[…\\]``, ``\\(…\\)``,
    ``$…$`` and math environments lose their delimiters; when a cell has delimiters, the text
    outside them is prose (its spans go to ``removed``). Each formula starts a new line, so a
    block that begins with ``=`` continues the derivation before it, and any other starts anew."""
    out = list(cell)
    matches = list(_MATH.finditer(cell))
    if matches:
        out = [ch if ch == "\n" else " " for ch in cell]
        last = 0
        for m in matches:
            g = next(i for i in range(1, 5) if m.group(i) is not None)
            a, b = m.start(g), m.end(g)
            if g == 4 and only_names(m.group(g)):
                continue                      # "$A$ is symmetric": a name inside a sentence is prose
            _prose(cell, last, m.start(), removed)
            out[a:b] = list(cell[a:b])
            out[m.start()] = "\n"             # each formula starts a statement
            last = m.end()
        _prose(cell, last, len(cell), removed)
    text = "".join(out)
    for m in _ENVIRONMENT.finditer(text):
        out[m.start():m.end()] = [" "] * (m.end() - m.start())
    return "".join(out)


def _prose(cell: str, a: int, b: int, removed: list | None) -> None:
    if removed is not None and cell[a:b].strip(" \t\n$"):
        removed.append((a, b))


_DECLARING = re.compile(r"(?<![A-Za-z\\])((?:\\(?:mathbf|boldsymbol|bm)\s*)?\\?[A-Za-z]+(?:_\w+)?)\s+(?:is|are)\s+(?:a\s+|an\s+)?"
                        r"(symmetric positive[- ]definite|positive[- ]definite|symmetric)\b", re.I)


_CONDITIONAL = re.compile(r"\b(?:when|if|provided|unless|only)\W+(?:\w+\W+){0,2}$", re.I)


_BILINEAR = re.compile(r"(?<![A-Za-z\\])([A-Za-z])\s*\(\s*\\cdot\s*,\s*\\cdot\s*\)[^.;:]{0,60}?\bbilinear\b"
                       r"|\bbilinear\s+(?:map|function|form|operator)\s+\$?\s*([A-Za-z])(?![A-Za-z])")


def bilinear_maps(text: str):
    """``B(\\cdot, \\cdot)`` … ``bilinear`` (or ``a bilinear map B``): (name, start, end) of each
    letter the prose says is a bilinear map."""
    for m in _BILINEAR.finditer(text):
        g = 1 if m.group(1) else 2
        yield m.group(g), m.start(g), m.end(g)


def prose_declarations(text: str):
    """``where A is symmetric``, ``$\\Sigma$ is positive definite``: (name as written, start offset,
    end offset, properties) for each matrix the prose declares something of."""
    text = re.sub(r"\\(?:text|textrm|textbf|textit|mbox|emph)\s*\{|[{}$]", lambda m: " " * len(m.group(0)), text)
    for m in _DECLARING.finditer(text):
        if _CONDITIONAL.search(text[max(0, m.start() - 40):m.start()]):
            continue   # "(when A is symmetric)" states a condition of one claim, not what A is
        what = m.group(2).lower()
        props = {"symmetric"} | ({"spd"} if "definite" in what else set())
        yield m.group(1), m.start(1), m.end(1), frozenset(props)
