"""Check a whole document: every derivative statement of a Markdown, LaTeX, text or notebook file.

A *derivative statement* is a display formula (``$$…$$``, ``\\[…\\]``, a math environment) that
contains a derivative operator (``\\nabla``, ``\\partial``, ``\\frac{d…}{d…}``, ``D f(x)[v]``), joined
with the display formulas after it that begin with ``=`` (they continue the derivation: the last
display formula before them, or an inline ``$…$`` one when none came before it). Each derivation found in it is derived
and its claims judged; a formula that cannot be read is reported with the reason, and never stops
the rest.

Definitions and declarations stated in earlier formulas of the document (``f(x) = …``,
``A \\in \\mathbb{R}^{m \\times n}``; the latest of each name) apply to later statements that use those
names, until the next heading; a letter named as a value (``u = Ax``) applies to the next statement
only. When a statement cannot be read with them, or they make its function a constant, it is read
again on its own.
"""
from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .derivation import derive_all
from .errors import DerivError

SUFFIXES = (".md", ".markdown", ".tex", ".txt", ".ipynb")
VERDICTS = ("holds", "false", "derived", "not read")
MARKS = {"holds": "✓", "false": "✗", "derived": "·", "not read": "–"}


# ---------------------------------------------------------------- what is reported
@dataclass
class Statement:
    """One derivation of a document, judged. ``line``/``column`` (1-based) point at what the
    verdict is about: the false claim, the unreadable text, or else the derivative."""
    file: str | None
    line: int
    column: int
    latex: str                     # the statement as written (its formulas, one per line)
    verdict: str                   # "holds", "false", "derived" (no claim) or "not read"
    reason: str = ""               # why a claim is false, or why the statement was not read
    correct: str | None = None     # for a false claim: what the line before it evaluates to
    result: str | None = None      # the derivative (text)
    derivative: str | None = None  # what was differentiated, e.g. "∇_x (‖Ax - b‖₂²)"
    cell: int | None = None        # notebook cell (1-based), for .ipynb
    statement_line: int = 0        # the line where the statement begins
    pos: int = 0                   # offsets of the statement in the file (or notebook cell)
    end: int = 0
    claims: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    checked: bool | None = None    # the numeric check of the derivative passed (None: not derived)
    context: list = field(default_factory=list)   # where the earlier definitions used are: {"cell", "line"}
    derivation: object = field(default=None, repr=False, compare=False)
    error: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def mark(self) -> str:
        return MARKS[self.verdict]

    @property
    def location(self) -> str:
        where = self.file or "<text>"
        if self.cell is not None:
            where += f":cell_{self.cell}"
        return f"{where}:{self.line}"

    def summary(self) -> str:
        """The verdict in one line, without the location."""
        if self.verdict == "holds":
            n = len(self.claims)
            text = "✓ holds" + (f" ({n} links)" if n > 1 else "")
        elif self.verdict == "false":
            text = f"✗ false — {self.reason}" + (f"; correct: {self.correct}" if self.correct else "")
            if self.context:
                places = list(dict.fromkeys(f"cell_{c['cell']}:{c['line']}" if c["cell"] is not None else str(c["line"])
                                            for c in self.context))
                text += f" [with the definitions of line{'s' if len(places) > 1 else ''} {', '.join(places)}]"
        elif self.verdict == "derived":
            text = f"· derived (no claim): {self.derivative} = {self.result}"
        else:
            text = f"– not read — {self.reason}"
        if self.warnings:
            text += "  ⚠ " + "; ".join(w.split(";")[0] for w in self.warnings)
        if self.checked is False:
            text += "  ✗ the numeric check of the derivative failed"
        return text

    def __str__(self) -> str:
        return f"{self.location}: {self.summary()}"

    def to_json(self) -> dict:
        return {"file": self.file, "cell": self.cell, "line": self.line, "column": self.column,
                "statement_line": self.statement_line, "latex": self.latex, "verdict": self.verdict,
                "reason": self.reason, "correct": self.correct, "result": self.result,
                "derivative": self.derivative, "claims": self.claims, "warnings": self.warnings,
                "checked": self.checked, "context": self.context}


def summary_line(statements: list[Statement], files: int | None = None) -> str:
    counts = {v: sum(s.verdict == v for s in statements) for v in VERDICTS}
    n = len(statements)
    where = f" in {files} files" if files and files > 1 else ""
    return (f"{n} derivative statement{'s' if n != 1 else ''}{where}: {counts['holds']} ✓ hold, "
            f"{counts['false']} ✗ false, {counts['derived']} · derived (no claim), {counts['not read']} – not read")


# ---------------------------------------------------------------- finding the formulas
_ENVIRONMENTS = r"equation|align|alignat|gather|multline|flalign|eqnarray|displaymath|aligned|gathered|split"
_FORMULA = re.compile(
    r"\$\$(?P<dd>.+?)\$\$"
    r"|\\\[(?P<br>.+?)\\\]"
    r"|(?P<env>\\begin\s*\{(?P<name>(?:" + _ENVIRONMENTS + r")\*?)\}.+?\\end\s*\{(?P=name)\})"
    r"|\\\((?P<pa>.+?)\\\)"
    r"|(?<![\\$])\$(?!\$)(?P<d>(?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?)\$",
    re.S)


@dataclass
class _Formula:
    start: int             # the formula with its delimiters
    end: int
    content_start: int
    content_end: int
    display: bool
    kind: str              # "$$", "\\[", "env", "\\(", "$", "line"

    def content(self, text: str) -> str:
        return text[self.content_start:self.content_end]


def _blank(text: str, a: int, b: int) -> str:
    return text[:a] + "".join(ch if ch == "\n" else " " for ch in text[a:b]) + text[b:]


_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[^\n]*$|\Z)", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_TEX_COMMENT = re.compile(r"(?<!\\)%[^\n]*")


def _mask(text: str, kind: str) -> str:
    """Code (Markdown) or comments (TeX) as spaces, every position kept."""
    patterns = (_TEX_COMMENT,) if kind == "tex" else (_FENCE, _CODE_SPAN)
    for pattern in patterns:
        for m in list(pattern.finditer(text)):
            text = _blank(text, m.start(), m.end())
    return text


def find_formulas(text: str) -> list[_Formula]:
    """The formulas of a (masked) page, in order. A page without any math delimiter is read as
    bare LaTeX: each non-empty line is a formula."""
    out = []
    for m in _FORMULA.finditer(text):
        if m.group("env") is not None:
            out.append(_Formula(m.start(), m.end(), m.start(), m.end(), True, "env"))
            continue
        group = next(g for g in ("dd", "br", "pa", "d") if m.group(g) is not None)
        kind = {"dd": "$$", "br": "\\[", "pa": "\\(", "d": "$"}[group]
        out.append(_Formula(m.start(), m.end(), m.start(group), m.end(group), group in ("dd", "br"), kind))
    if out:
        return out
    for m in re.finditer(r"[^\n]+", text):
        if m.group(0).strip():
            lead = len(m.group(0)) - len(m.group(0).lstrip())
            out.append(_Formula(m.start() + lead, m.end(), m.start() + lead, m.end(), True, "line"))
    return out


_OPERATOR = re.compile(
    r"\\nabla(?![A-Za-z])|\\partial(?![A-Za-z])"
    r"|(?<![A-Za-z\\])D\s*(?:\\(?:mathbf|boldsymbol|bm|mathrm|mathit)\s*\{\s*\\?[A-Za-z]+\s*\}|\\?[A-Za-z]+)?"
    r"\s*(?:_\s*(?:\{[^{}]*\}|\w))?\s*(?:\\left\s*)?\(")
_FRAC = re.compile(r"\\[dt]?frac\s*(?=\{)")
_DIFFERENTIAL = re.compile(r"\s*(?:d(?![a-zA-Z]{3})|\\mathrm\s*\{\s*d\s*\}|\\operatorname\s*\{\s*d\s*\}|\\text\s*\{\s*d\s*\}"
                           r"|\\delta(?![A-Za-z])|\\partial(?![A-Za-z]))")


def _group(text: str, i: int) -> int | None:
    """The index just after the brace group opening at ``i``."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and text[j - 1] != "\\":
            depth += 1
        elif text[j] == "}" and text[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def has_derivative(latex: str) -> bool:
    """Whether a formula contains a derivative operator: ``\\nabla``, ``\\partial``,
    ``\\frac{d…}{d…}`` (also ``\\mathrm{d}``, ``\\delta``), ``D f(x)``, ``D(x^T)[v]``."""
    if _OPERATOR.search(latex):
        return True
    for m in _FRAC.finditer(latex):
        a = m.end()
        b = _group(latex, a)
        if b is None or b >= len(latex) or not latex[b:].lstrip().startswith("{"):
            continue
        c = b + len(latex[b:]) - len(latex[b:].lstrip())
        if _DIFFERENTIAL.match(latex, a + 1) and _DIFFERENTIAL.match(latex, c + 1):
            return True
    return False


_LEADING = re.compile(r"(?:\s|&|\\\\|\\(?:Rightarrow|Longrightarrow|implies|therefore|quad|qquad|displaystyle)(?![A-Za-z])"
                      r"|\\[,;:! ]|\\begin\s*\{[a-z]+\*?\}(?:\{\d+\})?)*")


def continues(latex: str) -> bool:
    """A formula that begins with ``=`` (``&=``, ``\\Rightarrow =``) continues the one before."""
    rest = latex[_LEADING.match(latex).end():]
    return rest.startswith("=") and not rest.startswith("=:")


def _statements(text: str, formulas: list[_Formula]) -> list[list[_Formula]]:
    """Derivative statements as lists of formulas: a head and the formulas that continue it."""
    groups: list[list[_Formula]] = []
    current = shown = None       # the last statement, and the last one that has a display formula
    for f in formulas:
        latex = f.content(text)
        if f.display and continues(latex) and (shown or current) is not None:
            head = shown if shown is not None else current   # "so $D(x^T)[v] = v^T$" between: a side remark
            head.append(f)
            current = shown = head
        elif f.display or "=" in latex or has_derivative(latex):
            current = [f]            # an inline formula heads a statement only when a display one continues it
            groups.append(current)
            if f.display:
                shown = current
    return [g for g in groups if any(f.display for f in g) and any(has_derivative(f.content(text)) for f in g)]


# ---------------------------------------------------------------- definitions carried over
@dataclass
class _Known:
    """An earlier formula that only defines or declares: the names it gives, and uses."""
    formula: _Formula
    latex: str
    where: dict            # {"cell": notebook cell or None, "line": line}
    names: set
    uses: set
    local: bool = False    # u = …: a value named for the example at hand


_REMARK_TEXT = re.compile(r"\\(?:text|textrm|textbf|textit|mbox|label|tag|intertext|begin|end)\s*\{[^{}]*\}")
_FONT = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathit|mathrm|mathsf|operatorname)\s*\{([^{}]*)\}")
_ACCENT = re.compile(r"\\(hat|bar|tilde|vec|dot)\s*\{?\s*\\?([A-Za-z]+)")
_NAME = re.compile(r"(\\[A-Za-z]+|[A-Za-z])(?:\s*_\s*(\{[^{}]*\}|[A-Za-z0-9]))?")


def _names_used(latex: str) -> set:
    """Over-approximately, the names a formula mentions, spelled as derivmagic names symbols
    (``x``, ``x_0``, ``W_1``, ``theta``, ``y_hat``); words in ``\\text{…}`` are not names."""
    latex = _REMARK_TEXT.sub(" ", latex)
    out = {f"{m.group(2)}_{m.group(1)}" for m in _ACCENT.finditer(latex)}
    latex = _FONT.sub(lambda m: m.group(1), latex)
    for m in _NAME.finditer(latex):
        base = m.group(1).lstrip("\\")
        out.add(base)
        if m.group(2):
            out.add(base + "_" + re.sub(r"[{}\\\s]", "", m.group(2)))
    return out


_MAY_DEFINE = re.compile(r"=|\\in(?![A-Za-z])|\\coloneqq|\\triangleq")


def _definitions(latex: str) -> tuple[set, bool] | None:
    """The names a formula defines (``f(x) = …``, ``u = …``) or declares (``A \\in \\mathbb{R}^{m \\times n}``),
    when that is all it does, and whether it names a value (``u = …``: local to the next statement)."""
    from .parse import parse_cell
    from .syntax import Declaration, Definition, Target
    if not _MAY_DEFINE.search(latex) or has_derivative(latex):
        return None
    try:
        statements = parse_cell(latex)
    except Exception:  # noqa: BLE001 - an unreadable formula is simply not a definition
        return None
    names, local = set(), False
    for s in statements:
        if isinstance(s, Target):
            return None
        if isinstance(s, Definition):
            names.add(s.name)
            local = local or not s.params
        elif isinstance(s, Declaration):
            names.update(str(n.value) for n in s.names)
    return (names, local) if names else None


_DEFINED = re.compile(r"\s*(?:\\(?:mathbf|boldsymbol|bm|mathit|hat|bar|tilde|vec)\s*\{\s*)?(\\?[A-Za-z]+)\s*\}?"
                      r"\s*(?:_\s*(\{[^{}]*\}|\w))?\s*(?:\\left\s*)?(?:\([^()=]*\)\s*(?:\\right\s*)?)?"
                      r"(?::=|=|\\coloneqq|\\triangleq|\\in(?![A-Za-z]))")


def _defined_names(latex: str) -> set:
    """The name a formula starts to define or declare (``f(x) = …``, ``A \\in …``), read or not."""
    m = _DEFINED.match(_LEADING.sub("", latex, count=1))
    if m is None:
        return set()
    base = m.group(1).lstrip("\\")
    return {base + "_" + re.sub(r"[{}\\\s]", "", m.group(2))} if m.group(2) else {base}


def _constant(d) -> bool:
    """The function of a derivation does not depend on its variable."""
    _, variables, body, *_ = d.reading.targets[0]
    return not all(body.depends(v) for v in variables)


_HEADING = {"md": re.compile(r"^[ \t]{0,3}#{1,6}[ \t]", re.M),
            "tex": re.compile(r"\\(?:part|chapter|section|subsection|subsubsection)\*?\s*[{\[]")}


def _relevant(known: list[_Known], latex: str) -> list[_Known]:
    """The earlier definitions a statement uses, and those they use in turn, in document order."""
    needed, chosen = _names_used(latex), []
    grew = True
    while grew:
        grew = False
        for k in known:
            if k not in chosen and k.names & needed:
                chosen.append(k)
                needed |= k.uses
                grew = True
    return sorted(chosen, key=lambda k: (k.where["cell"] or 0, k.formula.start))


# ---------------------------------------------------------------- one page
def _line_col(text: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(text)))
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_BEGIN_END = re.compile(r"\\(begin|end)\s*\{[^}]*\}(?:\{\d+\})?")


def _bilinear_said(before: str, latex: str) -> str:
    """The prose before a statement that says a letter it applies is a bilinear map, as a line of
    prose for its cell (``B(\\cdot, \\cdot) is a bilinear map.``): it holds for the rest of the page."""
    from .page import bilinear_maps
    names = {name for name, _, _ in bilinear_maps(before)}
    used = sorted(n for n in names if re.search(rf"(?<![A-Za-z\\]){n}\s*\(", latex))
    return "".join(f"{n}(\\cdot, \\cdot) is a bilinear map.\n" for n in used)


def _statement_cell(text: str, formulas: list[_Formula], group: list[_Formula], bare: bool) -> tuple[int, str]:
    """(offset, text) of what is derived for a statement: its formulas with the prose of their
    paragraphs (read for declarations such as "where A is symmetric"); other inline formulas
    there are blanked unless they are only names. Every position is kept."""
    head, last = group[0], group[-1]
    if bare:
        return head.start, text[head.start:last.end]
    before = [f.end for f in formulas if f.end <= head.start and f.display]
    a = max([0] + before + [m.end() for m in _PARAGRAPH.finditer(text, 0, head.start)])
    after = [f.start for f in formulas if f.start >= last.end and f.display]
    m = _PARAGRAPH.search(text, last.end)
    b = min(after + [m.start() if m else len(text)])
    cell = text[a:b]
    from .page import only_names
    for f in formulas:
        if f.start < a or f.end > b or f in group:
            continue
        if f.kind in ("$", "\\(") and only_names(f.content(text)):
            continue
        cell = _blank(cell, f.start - a, f.end - a)
    for f in group:
        if f.kind == "env":                      # a bare environment, marked as a formula: $$ … $$
            for m in _BEGIN_END.finditer(text, f.start, f.end):
                if m.start() == f.start or m.end() == f.end:
                    width = m.end() - m.start()
                    mark = "$$".ljust(width) if m.group(1) == "begin" else "$$".rjust(width)
                    cell = cell[:m.start() - a] + mark + cell[m.end() - a:]
    return a, cell


class _Page:
    """One page of a document (a file, or a notebook's Markdown cell) and the definitions known
    before it."""

    def __init__(self, text: str, kind: str, file: str | None, cell: int | None, layout, seed, use_context,
                 symmetric=None):
        self.text, self.file, self.cell, self.kind = text, file, cell, kind
        self.layout, self.seed, self.use_context, self.symmetric = layout, seed, use_context, symmetric
        self.masked = _mask(text, kind)
        self.formulas = find_formulas(self.masked)
        self.bare = bool(self.formulas) and self.formulas[0].kind == "line"

    def statement_count(self) -> int:
        return len(_statements(self.masked, self.formulas))

    def check(self, known: list[_Known], progress=None) -> list[Statement]:
        groups = _statements(self.masked, self.formulas)
        heads = {id(g[0]): g for g in groups}
        members = {id(f) for g in groups for f in g}
        out: list[Statement] = []
        sections = [m.start() for m in _HEADING[self.kind].finditer(self.masked)]
        for f in self.formulas:
            if sections and sections[0] < f.start:   # definitions hold until the next heading
                known.clear()
                while sections and sections[0] < f.start:
                    sections.pop(0)
            group = heads.get(id(f))
            if group is not None:
                out.extend(self._check_statement(group, known))
                known[:] = [k for k in known if not k.local]   # "set u = x": for the next statement only
                if progress:
                    progress()
            if not self.use_context:
                continue
            latex = f.content(self.masked)
            found = _definitions(latex) if id(f) not in members or group is not None else None
            shadowed = found[0] if found else _defined_names(latex)
            if shadowed:             # the latest definition of a name wins, even an unreadable one
                known[:] = [k for k in known if not (k.names & shadowed)]
            if found:
                where = {"cell": self.cell, "line": _line_col(self.text, f.start)[0]}
                known.append(_Known(f, latex, where, found[0], _names_used(latex), found[1]))
        return out

    # ------------------------------------------------------------ one statement
    def _check_statement(self, group: list[_Formula], known: list[_Known]) -> list[Statement]:
        offset, body = _statement_cell(self.masked, self.formulas, group, self.bare)
        latex = "\n".join(f.content(self.masked).strip() for f in group)
        context = _relevant(known, latex) if self.use_context else []
        base = dict(file=self.file, cell=self.cell, latex=latex, pos=group[0].start, end=group[-1].end,
                    statement_line=_line_col(self.text, group[0].start)[0])
        attempts = [context, []] if context else [[]]
        failures = []
        said = "" if self.bare else _bilinear_said(self.masked[:group[0].start], latex)
        for used in attempts:
            prefix = said + "".join((k.latex if self.bare else f"$${k.latex}$$") + "\n" for k in used)
            try:
                derivations = derive_all(prefix + body, layout=self.layout, seed=self.seed, symmetric=self.symmetric)
            except DerivError as exc:
                inside = exc.pos is not None and exc.pos >= len(prefix)
                failures.append((exc, self._source_pos(exc.pos, len(prefix), offset, group), inside))
                continue
            except Exception as exc:  # noqa: BLE001 - one formula never stops the document
                failures.append((exc, group[0].start, True))
                continue
            if used and any(_constant(d) for d in derivations):
                # a declaration carried over (J \in \mathbb{R}) made the function a constant: the
                # statement means a function defined elsewhere
                failures.append((None, group[0].start, False))
                continue
            to_source = lambda p, n=len(prefix): self._source_pos(p, n, offset, group)  # noqa: E731
            where = [dict(w) for w in dict.fromkeys(tuple(k.where.items()) for k in used)]
            return [self._judged(d, to_source, where, base) for d in derivations]
        # the statement's own error, unless it only lacks a definition that the document gives
        exc, pos, _ = failures[-1]
        if len(failures) == 2 and failures[0][2] and "not defined" in str(getattr(exc, "message", "")):
            exc, pos, _ = failures[0]
        if exc is None:  # read only with the definitions carried over, where they made it constant
            exc = DerivError("the function does not depend on the variable as read (what defines it is not "
                             "a formula derivmagic reads)")
        line, column = _line_col(self.text, pos)
        if isinstance(exc, DerivError):
            reason = (exc.message or str(exc)).strip().splitlines()[0]
        else:
            reason = f"derivmagic failed on this formula ({type(exc).__name__}: {exc}); please report it"
        return [Statement(line=line, column=column, verdict="not read", reason=reason, error=exc, **base)]

    def _source_pos(self, pos, prefix: int, offset: int, group) -> int:
        """A position in the derived cell as a position in the page (a position in the
        definitions carried over points at the statement)."""
        if pos is None or pos < prefix:
            return group[0].start
        return min(offset + pos - prefix, len(self.text))

    def _judged(self, d, to_source, context: list[dict], base: dict) -> Statement:
        from .render import to_text
        from .report import answers, target_text
        target = d.reading.targets[0][0]
        where = to_source(target.pos)
        claims = []
        for c in d.claims:
            line, column = _line_col(self.text, to_source(c.pos))
            correct = getattr(c, "correct", None)
            claims.append({"latex": c.source, "holds": bool(c.holds), "reason": c.reason or "",
                           "correct": to_text(correct) if correct is not None and not c.holds else None,
                           "line": line, "column": column})
        false = [(c, j) for c, j in zip(d.claims, claims) if not c.holds]
        every = answers(d)
        if len(every) == 1:
            result = to_text(every[0].result)
        else:
            result = "; ".join(f"{a.var.name}: {to_text(a.result)}" for a in every)
        fields = dict(result=result, derivative=target_text(d), claims=claims, warnings=list(d.warnings),
                      checked=None if d.check is None else bool(d.check.passed), derivation=d, **base)
        if false and all(getattr(c, "diagnosis", "") == "undefined" for c, _ in false):
            c, _ = false[0]    # a letter the document defines in words or in notation not read
            fields.update(verdict="not read", reason=c.reason, context=context)
        elif false:
            c, j = false[0]
            where = to_source(c.pos)
            fields.update(verdict="false", reason=c.reason or "the two sides differ", correct=j["correct"],
                          context=context)
        else:
            fields.update(verdict="holds" if d.claims else "derived", context=context)
        line, column = _line_col(self.text, where)
        return Statement(line=line, column=column, **fields)


# ---------------------------------------------------------------- documents
def _kind(path: str | None) -> str:
    return "tex" if path and path.lower().endswith(".tex") else "md"


def read_pages(path) -> list[tuple[int | None, str, str]]:
    """(notebook cell or None, text, "md" | "tex") for each page of a file: the file itself, or
    each Markdown cell of a notebook."""
    path = Path(path)
    if path.suffix.lower() != ".ipynb":
        return [(None, path.read_text(encoding="utf-8"), _kind(str(path)))]
    try:
        import nbformat
        nb = nbformat.read(str(path), as_version=4)
        cells = [(c.cell_type, c.source) for c in nb.cells]
    except ImportError:
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
        cells = [(c.get("cell_type"), c.get("source", "")) for c in nb.get("cells", [])]
    out = []
    for i, (kind, source) in enumerate(cells, 1):
        if kind == "markdown":
            out.append((i, "".join(source) if isinstance(source, list) else source, "md"))
    return out


def _is_path(source) -> bool:
    if isinstance(source, os.PathLike):
        return True
    if not isinstance(source, str) or "\n" in source or len(source) > 4096:
        return False
    return os.path.isfile(source) or (source.lower().endswith(SUFFIXES) and "\\" not in source and "$" not in source)


def check_document(source, layout: str | None = None, seed: int = 0, context: bool = True,
                   progress=None, symmetric: str | None = None) -> list[Statement]:
    """Every derivative statement of a document, judged, in order.

    ``source``: a path (``.md``, ``.tex``, ``.txt``, ``.ipynb``: its Markdown cells) or the text of a
    Markdown/LaTeX page. ``context``: let definitions and declarations of earlier formulas apply to
    later statements. ``progress(done, total)`` is called after each statement. ``symmetric``: the
    convention of gradients by symmetric matrices, as ``derive``'s."""
    from .symmetric import option
    option(symmetric)   # a misspelt convention is refused before any file is read
    if _is_path(source):
        file = str(source)
        pages = [_Page(text, kind, file, cell, layout, seed, context, symmetric)
                 for cell, text, kind in read_pages(source)]
    else:
        pages = [_Page(str(source), "md", None, None, layout, seed, context, symmetric)]
    total = sum(p.statement_count() for p in pages)
    done = [0]

    def step():
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    known: list[_Known] = []
    out: list[Statement] = []
    for page in pages:
        out.extend(page.check(known, step))
    return out


# ---------------------------------------------------------------- as a table (the notebook)
class DocumentReport:
    """Statements as a table: ``text/plain`` (the command line's lines) and ``text/html``."""

    def __init__(self, statements: list[Statement], files: int | None = None):
        self.statements, self.files = statements, files

    def text(self) -> str:
        return "\n".join([str(s) for s in self.statements] + [summary_line(self.statements, self.files)])

    def html(self) -> str:
        rows = []
        colour = {"holds": "#1a7f37", "false": "#cf222e", "derived": "#57606a", "not read": "#9a6700"}
        for s in self.statements:
            if s.verdict == "false":
                detail = html.escape(s.reason) + (f"<br>correct: <b>{html.escape(s.correct)}</b>" if s.correct else "")
            elif s.verdict == "derived":
                detail = html.escape(f"{s.derivative} = {s.result}")
            elif s.verdict == "holds":
                detail = html.escape(f"{s.derivative} = {s.result}")
            else:
                detail = html.escape(s.reason)
            if s.warnings:
                detail += "<br>⚠ " + html.escape("; ".join(s.warnings))
            rows.append(f"<tr><td style=\"white-space:nowrap\">{html.escape(s.location)}</td>"
                        f"<td style=\"color:{colour[s.verdict]};white-space:nowrap\">{s.mark} {html.escape(s.verdict)}</td>"
                        f"<td style=\"text-align:left\"><code>{html.escape(s.latex)}</code></td>"
                        f"<td style=\"text-align:left\">{detail}</td></tr>")
        head = "<tr><th>where</th><th>verdict</th><th>statement</th><th>details</th></tr>"
        return (f"<table>{head}{''.join(rows)}</table>"
                f"<p>{html.escape(summary_line(self.statements, self.files))}</p>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.text(), "text/html": self.html()}


__all__ = ["Statement", "check_document", "read_pages", "find_formulas", "has_derivative", "continues",
           "summary_line", "DocumentReport"]
