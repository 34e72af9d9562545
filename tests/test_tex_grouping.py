"""TeX is the reference for grouping: every ``\\frac`` (``\\dfrac``, ``\\tfrac``), ``\\sqrt``, ``^`` and
``_`` derivmagic reads must take the arguments TeX takes (KaTeX's parser, tests/katex_spans.py).

TeX reads ``\\frac12`` as one half, ``x^12`` as ``x^1`` times 2 and ``\\sqrt2 x`` as ``\\sqrt{2}`` times
``x``; a reader that takes ``12``, ``12`` and ``2 x`` differentiates a different formula.

Formulas: every display formula of the lecture notes, every cell of the public corpus and a table of
tricky cases. Each formula is read as derivmagic reads a cell (``strip_decorations``,
``split_statements``, ``parse_statement``) and given whole to KaTeX. In every statement derivmagic
parses (a ``ParseError`` is a refusal: counted, not compared; declarations have nothing to compare):

* frac / sqrt: derivmagic's node and KaTeX's record at the same command (``at``) must have the same
  arguments; a KaTeX frac / sqrt with no derivmagic node is missing (unless strip_decorations blanked it);
* ``^``: derivmagic's exponents (``pow``) and KaTeX's superscripts are matched by where the script
  starts and must end at the same place; a superscript of ``\\nabla``, ``\\partial`` or ``\\sum``
  (kept as the operator node's value) must equal that value;
* ``_``: only a subscript inside a derivmagic name (``x_i``, ``W_{1}``) can be compared: the name must
  end where KaTeX's subscript ends.

Spans are compared after normalisation (whitespace, spacing commands and enclosing braces stripped),
so ``\\frac{1}{2}`` read as ``1`` and ``{1}`` agree. Run with ``-s`` for the summary line.
"""
from __future__ import annotations

import collections
import importlib.util
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

import pytest

from derivmagic.errors import ParseError
from derivmagic.parse import parse_statement, split_statements, strip_decorations
from derivmagic.syntax import Node
from katex_spans import katex_spans, node_available

from shared_data import CORPUS, NOTES  # noqa: E402

REQUIRE_TOOLS = os.environ.get("DERIVMAGIC_REQUIRE_TOOLS") == "1"   # set by .ci/run: nothing may be skipped
NODE_REASON = "node or tests/js/node_modules missing (run `npm ci` in tests/js)"


def need(available: bool, reason: str) -> None:
    """Skip a test whose outside tool is absent, with the reason; under .ci/run, fail instead."""
    if not available and REQUIRE_TOOLS:
        pytest.fail(f"{reason} (DERIVMAGIC_REQUIRE_TOOLS=1: nothing may be skipped)")
    if not available:
        pytest.skip(reason, allow_module_level=True)


# ---------------------------------------------------------------- formulas
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)

TRICKY = [
    ("frac12", r"\frac12 x^TAx"),
    ("tfrac1n", r"\tfrac1n\|x\|^2"),
    ("frac-lambda-2", r"\frac\lambda2 w^Tw"),
    ("frac-lambda-2-gradient", r"\nabla_w \frac\lambda2\|w\|^2"),
    ("frac-spaced-digits", r"\frac 1 2 x^T x"),
    ("frac-digit-denominator", r"\frac{x^Tx}2"),
    ("dfrac", r"\dfrac{1}{2} x^\top x"),
    ("frac-nested", r"\frac{\frac{1}{2}x^Tx}{n}"),
    ("frac-in-parens", r"\nabla_x \left(\frac{1}{2}x^Tx\right)^2"),
    ("sqrt2", r"\sqrt2 x^Tx"),
    ("sqrt-braced", r"\nabla_x \sqrt{x^Tx}"),
    ("x^12", r"x^12"),
    ("x^12-gradient", r"\nabla_x (x^Tx)^12"),
    ("x^-spaced", r"x^ T A x"),
    ("e^tA", r"e^{tA}"),
    ("e^frac", r"\nabla_x e^{\frac{1}{2}x^Tx}"),
    ("e^frac-bare", r"e^\frac12"),
    ("top-braced", r"\nabla_x x^{\top} A x"),
    ("mathsf-T", r"\nabla_x x^\mathsf{T} A x"),
    ("inverse", r"\nabla_x b^T A^{-1} x"),
    ("paren-pow", r"\nabla_x (Ax-b)^T(Ax-b)"),
    ("left-right-norm", r"\nabla_x \left\|Ax-b\right\|^2"),
    ("hat-mathbf-y", r"\hat{\mathbf y}"),
    ("half-least-squares", r"\frac{1}{2}\|Xw-y\|^2"),
    ("d-dx-quadratic", r"\frac{\partial}{\partial x} x^T A x"),
    ("d2-dx2", r"\frac{\partial^2}{\partial x^2} x^T A x"),
    ("sum-squares", r"\sum_{i=1}^n x_i^2"),
    ("sum-digit-limit", r"\nabla_w \sum_{i=1}^{10} (w^T x_i)^2"),
    ("nabla2", r"\nabla^2_x x^TAx"),
    ("sub-sup", r"\nabla_x x_i^2"),
    ("x_12", r"x_12"),
    ("W_1", r"\nabla_{W_1} \|W_{1}x - y\|^2"),
    ("greek-sub", r"\sigma_1 x"),
    ("bold-sub", r"\nabla_{\mathbf{w}} \mathbf{x}_i^T \mathbf{w}"),
    ("norm-sub-sup", r"\nabla_x \|x\|_2^2"),
    ("x^22", r"x^22"),
    ("frac12-frac12", r"\frac12\frac12 x"),
    ("sqrt2-sqrt3", r"\sqrt2\sqrt3 x"),
    ("frac-then-sup", r"\frac{a}{b}^2"),
    ("frac-sqrt-denominator", r"\frac{1}{\sqrt{n}} x"),
    ("sqrt-frac12", r"\sqrt{\frac12} x"),
    ("exp-minus-half", r"e^{-\frac{1}{2}x^Tx}"),
    ("boldsymbol-theta", r"\boldsymbol\theta^T x"),
    ("frobenius", r"\nabla_X \|X\|_{\mathrm F}^2"),
    ("nested-parens-pow", r"(\alpha(t+1))^2"),
    ("half-power", r"x^{1/2}"),
    ("hessian-frac", r"\frac{\partial^2 f}{\partial x\partial x^T}"),
    ("sum-bare-limits", r"\sum_i^n x_i"),
    ("bracket-superscript", r"W^{[1]}x"),
    ("thin-space-in-script", r"x^{\,T}"),
    ("nested-norm-bars", r"\nabla_a \|a\|b\|^2\|^2"),
    ("nested-norm-left-right", r"\nabla_a \left\| a \left\|b\right\|^2 \right\|^2"),
    ("nested-norm-lVert", r"\nabla_a \lVert a \lVert b\rVert^2 \rVert^2"),
]


def _corpus_cells() -> list[tuple[str, str]]:
    if not CORPUS.is_file():
        return []
    spec = importlib.util.spec_from_file_location("derivmagic_public_cases_grouping", CORPUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # cells that are malformed on purpose (expect_error) have no TeX grouping to compare
    return [(f"corpus-{c['id']}", c["cell"]) for c in module.CASES if not c.get("expect_error")]


def _note_formulas() -> list[tuple[str, str]]:
    out = []
    if NOTES.is_dir():
        for path in sorted(NOTES.glob("*.txt")):
            for i, m in enumerate(DISPLAY.finditer(path.read_text(encoding="utf-8"))):
                out.append((f"notes-{path.stem.split('_')[0]}-{i:03d}", m.group(1)))
    return out


FORMULAS = _note_formulas() + _corpus_cells() + [(f"tricky-{name}", f) for name, f in TRICKY]


@lru_cache(maxsize=None)
def katex_results() -> dict:
    """formula -> KaTeX's records (or error), for every formula, in one node run."""
    unique = list(dict.fromkeys(f for _, f in FORMULAS))
    return dict(zip(unique, katex_spans(unique)))


# ---------------------------------------------------------------- spans
_SPACING = re.compile(r"\\[,;:! ]|~|&|\\(?:q?quad|displaystyle|left|right|[bB]igg?[lr]?)(?![a-zA-Z])")
_SPACING_AT_END = re.compile(rf"(?:{_SPACING.pattern})$")
_OPEN_CLOSE = {"(": ")", "[": "]", "{": "}"}


def _closing(text: str, i: int, e: int) -> int | None:
    """Index of the bracket closing the one at ``i`` (same kind, ``\\{``/``\\}`` skipped), before ``e``."""
    open_, close = text[i], _OPEN_CLOSE[text[i]]
    depth = 0
    for j in range(i, e):
        if j > 0 and text[j - 1] == "\\" and text[j] in "{}":
            continue
        if text[j] == open_:
            depth += 1
        elif text[j] == close:
            depth -= 1
            if depth == 0:
                return j
    return None


def _trim(text: str, s: int, e: int, wrappers: str) -> tuple[int, int]:
    """Strip whitespace and spacing commands from both ends, and every bracket pair in ``wrappers``
    that encloses the whole span."""
    while True:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace() and not (e - 2 >= s and text[e - 2] == "\\"):
            e -= 1
        m = _SPACING.match(text, s, e)
        if m and m.end() > s:
            s = m.end()
            continue
        m = _SPACING_AT_END.search(text, s, e)
        if m and m.start() >= s and m.end() == e and m.end() > m.start():
            e = m.start()
            continue
        if s < e and text[s] in wrappers and (s == 0 or text[s - 1] != "\\") and _closing(text, s, e) == e - 1:
            s, e = s + 1, e - 1
            continue
        return s, e


def norm(text: str, span) -> tuple[int, int] | None:
    """A span as a grouping: no surrounding whitespace, spacing commands or enclosing braces."""
    return None if span is None else _trim(text, span[0], span[1], "{")


def show(text: str, span) -> str:
    return "?" if span is None else repr(text[span[0]:span[1]])


# ---------------------------------------------------------------- derivmagic's reading
FRAC_CMD = re.compile(r"\\[dt]?frac(?![a-zA-Z])")
SQRT_CMD = re.compile(r"\\sqrt(?![a-zA-Z])")
FONT_OR_ACCENT = re.compile(r"\\[a-zA-Z]+\s*\{")
OPERATORS = {"\\nabla": "nabla", "\\partial": "partial", "\\sum": "index_sum"}


def _command_at(pattern, text: str, s: int, e: int) -> int | None:
    """Where the command of a node is: a node parsed inside ( ) or { } may carry the group's span."""
    m = pattern.search(text, s, e)
    return m.start() if m else None


def _name_subscript(text: str, s: int, e: int) -> tuple[int, int] | None:
    """(position of '_', end of the subscript) of a name node: the span without its group
    delimiters, and without the braces of \\mathbf{...} / \\hat{...} around the name."""
    s, e = _trim(text, s, e, "([{")
    m = FONT_OR_ACCENT.match(text, s, e)
    if m and _closing(text, m.end() - 1, e) == e - 1:
        s, e = _trim(text, m.end(), e - 1, "")
    under = [i for i in range(s, e) if text[i] == "_"]
    if not under:
        return None
    return under[0], e


def derivmagic_records(node: Node, off: int, text: str, out: list) -> None:
    """Records like KaTeX's, positions in the cell (``off`` is the statement's offset)."""
    kind = node.kind
    args = [a for a in node.args if isinstance(a, Node)]

    def sp(n: Node) -> tuple[int, int]:
        return n.pos + off, n.end + off

    s, e = sp(node)
    if kind == "frac" and len(args) >= 2:
        out.append({"kind": "frac", "at": _command_at(FRAC_CMD, text, s, e), "args": [sp(args[0]), sp(args[1])]})
    elif kind == "func" and node.value == "sqrt" and args:
        out.append({"kind": "sqrt", "at": _command_at(SQRT_CMD, text, s, e), "args": [sp(args[0])]})
    elif kind == "pow" and len(args) >= 2:
        out.append({"kind": "sup", "args": [sp(args[1])], "base": sp(args[0])})
    elif kind == "name":
        sub = _name_subscript(text, s, e)
        if sub:
            out.append({"kind": "sub", "at": sub[0], "end": sub[1], "name": (s, e)})
    elif kind in ("nabla", "partial", "index_sum"):
        value = node.value[1] if kind == "index_sum" else (node.value if node.value != 1 else None)
        out.append({"kind": "op", "op": kind, "at": s, "value": value})
    for a in args:
        derivmagic_records(a, off, text, out)


# ---------------------------------------------------------------- comparison
@dataclass
class Comparison:
    katex_error: str | None = None
    statements: int = 0
    refused: int = 0           # ParseError: derivmagic refused the statement
    declarations: int = 0
    compared: collections.Counter = field(default_factory=collections.Counter)   # kind -> records agreeing
    decorations: int = 0       # KaTeX records blanked by strip_decorations
    unlocated: int = 0         # KaTeX records without a position (macro expansions)
    mismatches: list = field(default_factory=list)   # (kind of mismatch, message)


def _mismatch(res: Comparison, what: str, cell: str, at, detail: str) -> None:
    where = "?" if at is None else at
    context = "" if at is None else cell[max(0, at - 12):at + 20]
    res.mismatches.append((what, f"{what} at {where} ({context!r}): {detail}"))


def compare(cell: str, kx: dict | None = None, parse=parse_statement) -> Comparison:
    """Compare derivmagic's reading of a cell (``parse`` reads one statement) with KaTeX's (``kx``:
    its result for the cell, by default from the one node run over all formulas)."""
    res = Comparison()
    kx = katex_results()[cell] if kx is None else kx
    if "error" in kx:
        res.katex_error = kx["error"]
        return res
    stripped = strip_decorations(cell)
    assert len(stripped) == len(cell), "strip_decorations must keep every position"

    def blanked(at: int) -> bool:
        return stripped[at] != cell[at]

    records = kx["records"]
    res.unlocated = sum(1 for r in records if r["at"] is None or None in r["args"])
    located = [r for r in records if r["at"] is not None and None not in r["args"]]
    for off, text in split_statements(stripped):
        res.statements += 1
        try:
            tree = parse(text)
        except ParseError:
            res.refused += 1
            continue
        if tree[0] != "chain":
            res.declarations += 1
            continue
        dm: list[dict] = []
        for side in tree[1]:
            derivmagic_records(side, off, cell, dm)
        sides_end = off + max(side.end for side in tree[1])   # "∈ \\mathbb{R}^n" after the sides: a stated shape
        mine = [r for r in located if off <= r["at"] < sides_end
                and not text[r["at"] - off].isspace()]   # a remark left blank inside a continued line
        res.decorations += sum(1 for r in mine if blanked(r["at"]))
        mine = [r for r in mine if not blanked(r["at"])]
        _compare_commands(res, cell, dm, mine)
        _compare_superscripts(res, cell, dm, mine)
        _compare_operator_scripts(res, cell, dm, mine)
        _compare_subscripts(res, cell, dm, mine)
    return res


def _compare_commands(res: Comparison, cell: str, dm: list, kx: list) -> None:
    for kind in ("frac", "sqrt"):
        theirs = {r["at"]: r for r in kx if r["kind"] == kind}
        ours = [r for r in dm if r["kind"] == kind]
        for r in ours:
            if r["at"] is None:
                _mismatch(res, f"{kind}: no command in the node's span", cell, None, f"args {r['args']}")
                continue
            t = theirs.pop(r["at"], None)
            if t is None:
                _mismatch(res, f"{kind}: read where TeX has none", cell, r["at"],
                          f"derivmagic reads args {[show(cell, a) for a in r['args']]}")
                continue
            if [norm(cell, a) for a in r["args"]] == [norm(cell, a) for a in t["args"]]:
                res.compared[kind] += 1
            else:
                _mismatch(res, f"{kind}: other arguments", cell, r["at"],
                          f"TeX reads {[show(cell, norm(cell, a)) for a in t['args']]}, "
                          f"derivmagic reads {[show(cell, norm(cell, a)) for a in r['args']]}")
        for at, t in theirs.items():
            _mismatch(res, f"{kind}: TeX's not in derivmagic's reading", cell, at,
                      f"TeX reads {[show(cell, norm(cell, a)) for a in t['args']]}")


def _is_operator_script(r: dict) -> bool:
    base = r.get("base") or {}
    return base.get("text") in OPERATORS


def _compare_superscripts(res: Comparison, cell: str, dm: list, kx: list) -> None:
    theirs = {norm(cell, r["args"][0])[0]: r for r in kx if r["kind"] == "sup" and not _is_operator_script(r)}
    for r in dm:
        if r["kind"] != "sup":
            continue
        mine = norm(cell, r["args"][0])
        t = theirs.pop(mine[0], None)
        if t is None:
            _mismatch(res, "^: exponent where TeX has no superscript", cell, mine[0],
                      f"derivmagic reads exponent {show(cell, mine)} of {show(cell, r['base'])}")
            continue
        if norm(cell, t["args"][0]) == mine:
            res.compared["sup"] += 1
        else:
            _mismatch(res, "^: other exponent", cell, t["at"],
                      f"TeX reads {show(cell, norm(cell, t['args'][0]))}, derivmagic reads {show(cell, mine)}")
    for t in theirs.values():
        _mismatch(res, "^: TeX's superscript not in derivmagic's reading", cell, t["at"],
                  f"TeX reads {show(cell, norm(cell, t['args'][0]))}")


def _compare_operator_scripts(res: Comparison, cell: str, dm: list, kx: list) -> None:
    """\\nabla^2, \\partial^2, \\sum^n: derivmagic keeps the script as the operator node's value."""
    ops = {r["at"]: r for r in dm if r["kind"] == "op"}
    seen = set()
    for t in kx:
        if t["kind"] != "sup" or not _is_operator_script(t):
            continue
        base = t["base"]
        op = ops.get(norm(cell, base["span"])[0]) if base.get("span") else None
        theirs = cell[slice(*norm(cell, t["args"][0]))]
        if op is None or op["op"] != OPERATORS[base["text"]]:
            _mismatch(res, f"^: TeX's superscript of {base['text']} not in derivmagic's reading", cell, t["at"],
                      f"TeX reads {theirs!r}")
            continue
        seen.add(op["at"])
        if str(op["value"]) == theirs:
            res.compared["operator sup"] += 1
        else:
            _mismatch(res, f"^ of {base['text']}: other script", cell, t["at"],
                      f"TeX reads {theirs!r}, derivmagic reads {op['value']!r}")
    for at, op in ops.items():
        if op["value"] is not None and at not in seen:
            _mismatch(res, f"^ of {op['op']}: script where TeX has none", cell, at,
                      f"derivmagic reads {op['value']!r}")


# a subscript that says where a function is taken (h_{1,(\mathbf{x})}, g_{(h(\mathbf{x}))}): derivmagic
# reads the name and its argument from the one subscript TeX sets
_POINT_SUBSCRIPT = re.compile(r"\{(\w+,\s*)?\(.*\)\}", re.S)


def _compare_subscripts(res: Comparison, cell: str, dm: list, kx: list) -> None:
    theirs = {r["at"]: r for r in kx if r["kind"] == "sub"}
    for r in dm:
        if r["kind"] != "sub":
            continue
        t = theirs.get(r["at"])
        if t is None:
            _mismatch(res, "_: subscript in a name where TeX has none", cell, r["at"],
                      f"derivmagic reads the name {show(cell, r['name'])}")
        elif t["args"][0][1] == r["end"]:
            res.compared["sub"] += 1
        elif _POINT_SUBSCRIPT.fullmatch(cell[t["args"][0][0]:t["args"][0][1]]):
            res.compared["sub (at a point)"] += 1   # h_{1,(x)}: the name h_1 taken at x, TeX's one subscript
        else:
            _mismatch(res, "_: other subscript", cell, r["at"],
                      f"TeX reads {show(cell, t['args'][0])}, derivmagic reads the name {show(cell, r['name'])}")


# ---------------------------------------------------------------- tests
def test_katex_reference():
    """The reference itself: KaTeX's spans for the constructs the comparison relies on."""
    need(node_available(), NODE_REASON)
    cases = [r"\frac12 x", r"x^12", r"\sqrt2 x", r"e^{tA}", r"\tfrac{1}{n}", r"x_i^\top", r"x^\mathsf{T}"]
    got = {s: r["records"] for s, r in zip(cases, katex_spans(cases))}
    assert got[r"\frac12 x"] == [{"kind": "frac", "cmd": r"\frac", "at": 0, "args": [(5, 6), (6, 7)]}]
    assert [(r["kind"], r["at"], r["args"]) for r in got["x^12"]] == [("sup", 1, [(2, 3)])]
    assert [(r["kind"], r["at"], r["args"]) for r in got[r"\sqrt2 x"]] == [("sqrt", 0, [(5, 6)])]
    assert [(r["kind"], r["at"], r["args"]) for r in got["e^{tA}"]] == [("sup", 1, [(2, 6)])]
    assert [(r["kind"], r["cmd"], r["at"], r["args"]) for r in got[r"\tfrac{1}{n}"]] == \
        [("frac", r"\tfrac", 0, [(6, 9), (9, 12)])]
    assert [(r["kind"], r["at"], r["args"]) for r in got[r"x_i^\top"]] == [("sub", 1, [(2, 3)]), ("sup", 3, [(4, 8)])]
    assert [(r["kind"], r["at"], r["args"]) for r in got[r"x^\mathsf{T}"]] == [("sup", 1, [(2, 12)])]
    assert "error" in katex_spans([r"\frac{1}{"])[0]


def test_comparison_catches_misgrouping():
    """The comparison itself: readings that group unlike TeX (as derivmagic's reader once did) fail."""
    need(node_available(), NODE_REASON)

    def n(kind, pos, end, *args, value=None):
        return Node(kind=kind, args=tuple(args), pos=pos, end=end, value=value)

    wrong = {   # statement -> a misgrouped reading
        r"\frac12 x": n("frac", 0, 9, n("num", 5, 7), n("name", 8, 9, value="x")),   # \frac{12}{x}
        r"x^12": n("pow", 0, 4, n("name", 0, 1, value="x"), n("num", 2, 4)),          # x^{12}
        r"\sqrt2 x": n("func", 0, 8, n("mul", 5, 8, n("num", 5, 6), n("name", 7, 8, value="x")), value="sqrt"),
        r"x_12": n("name", 0, 4, value="x_12"),                                        # x_{12}
        r"\nabla^23 x": n("mul", 0, 12, n("nabla", 0, 9, value=23), n("name", 10, 11, value="x")),
        r"x^2 y": n("mul", 0, 5, n("name", 0, 1, value="x"), n("name", 4, 5, value="y")),   # the ^2 lost
    }
    expected = {r"\frac12 x": "frac: other arguments", "x^12": "^: other exponent",
                r"\sqrt2 x": "sqrt: other arguments", "x_12": "_: other subscript",
                r"\nabla^23 x": r"^ of \nabla: other script",
                "x^2 y": "^: TeX's superscript not in derivmagic's reading"}
    kx = dict(zip(wrong, katex_spans(list(wrong))))
    for cell, tree in wrong.items():
        res = compare(cell, kx[cell], parse=lambda text, tree=tree: ("chain", [tree], []))
        assert [what for what, _ in res.mismatches] == [expected[cell]], (cell, res.mismatches)


@pytest.mark.parametrize("formula", [f for _, f in FORMULAS], ids=[i for i, _ in FORMULAS])
def test_grouping_matches_tex(formula):
    need(node_available(), NODE_REASON)
    res = compare(formula)
    if res.katex_error is not None:
        pytest.skip(f"KaTeX cannot parse this formula: {res.katex_error}")
    assert not res.mismatches, (f"derivmagic groups {len(res.mismatches)} construct(s) unlike TeX:\n  "
                                + "\n  ".join(m for _, m in res.mismatches) + f"\nformula: {formula}")


@pytest.mark.parametrize("formula", [r"\nabla_a \|a\|b\|^2\|^2", r"\nabla_a \left\| a \left\|b\right\|^2 \right\|^2",
                                     r"\nabla_a \lVert a \lVert b\rVert^2 \rVert^2"], ids=["bars", "left_right", "lVert"])
def test_a_norm_inside_a_norm_is_read_with_tex_superscripts(formula):
    """Read, not refused, and both squares where TeX sets them: ‖b‖² inside, the outer norm's outside."""
    need(node_available(), NODE_REASON)
    res = compare(formula)
    assert res.refused == 0 and res.compared["sup"] == 2 and not res.mismatches, res


def test_tex_grouping_summary(capsys):
    """How much was compared (run with -s); the comparison must not be empty."""
    need(node_available(), NODE_REASON)
    results = {f: compare(f) for f in dict.fromkeys(f for _, f in FORMULAS)}
    ok = [r for r in results.values() if r.katex_error is None]
    compared = sum((r.compared for r in ok), collections.Counter())
    kinds = collections.Counter(what for r in ok for what, _ in r.mismatches)
    with capsys.disabled():
        print(f"\nTeX grouping: {len(results)} formulas ({len(results) - len(ok)} KaTeX cannot parse), "
              f"{sum(r.statements for r in ok)} statements ({sum(r.refused for r in ok)} refused by derivmagic, "
              f"{sum(r.declarations for r in ok)} declarations); {sum(compared.values())} records agree "
              f"({', '.join(f'{k} {v}' for k, v in sorted(compared.items()))}), "
              f"{sum(kinds.values())} mismatches in {sum(1 for r in ok if r.mismatches)} formulas; "
              f"{sum(r.decorations for r in ok)} decorations, {sum(r.unlocated for r in ok)} unlocated")
        for what, n in kinds.most_common():
            print(f"  {n:4d}  {what}")
    assert len(ok) >= 50, f"only {len(ok)} formulas parsed by KaTeX"
    assert sum(compared.values()) >= 100, compared
