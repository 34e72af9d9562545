"""Checking whole documents: ``check_document`` and ``derivmagic check FILE…`` on Markdown, LaTeX,
text and notebooks; and the lecture notes, whose wrong answers are confirmed here with NumPy alone."""
from __future__ import annotations

import io
import json
import re
import sys

import numpy as np
import pytest

from derivmagic import Statement, check_document
from derivmagic.cli import main
from derivmagic.document import continues, has_derivative

from shared_data import NOTES  # noqa: E402


def run(capsys, *argv):
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def only(statements) -> Statement:
    assert len(statements) == 1, [str(s) for s in statements]
    return statements[0]


# ------------------------------------------------------------------ what counts as a derivative statement
@pytest.mark.parametrize("latex, expected", [
    (r"\nabla_x f", True),
    (r"\frac{\partial f}{\partial x}", True),
    (r"\frac{d}{dt} t^3", True),
    (r"\frac{dz}{dy} \nabla_x y", True),
    (r"\frac{\mathrm{d} f}{\mathrm{d} t}", True),
    (r"\frac{\delta}{\delta \mathbf{v}} \mathbf{v}^T A \mathbf{v}", True),
    (r"Df(\mathbf{x})[\mathbf{v}]", True),
    (r"D\mathbf{a}(\mathbf{x})[\mathbf{v}]", True),
    (r"D(\mathbf{x}^\top)[\mathbf{v}]", True),
    (r"f(x) = x^T A x", False),
    (r"D^T C^T (Ax + b)", False),
    (r"\frac{a\epsilon}{\epsilon} = a", False),
    (r"\frac{\det A}{d}", False),
    (r"A \in \mathbb{R}^{m \times n}", False),
], ids=["nabla", "partial", "d-dt", "dz-dy", "mathrm-d", "delta", "D-f", "D-bold", "D-paren",
        "definition", "matrix-D", "quotient", "det-over-d", "declaration"])
def test_derivative_operators(latex, expected):
    assert has_derivative(latex) is expected


@pytest.mark.parametrize("latex, expected", [
    ("= 2x", True), ("  &= 2x", True), (r"\Rightarrow = v^T A x", True), (r"\begin{aligned} &= 2x", True),
    ("=: g", False), ("0 = 2x", False), (r"\Rightarrow \lim_{\epsilon} = a", False),
], ids=["equals", "ampersand", "rightarrow", "aligned", "defined-as", "zero-equals", "rightarrow-formula"])
def test_continuation_blocks(latex, expected):
    assert continues(latex) is expected


# ------------------------------------------------------------------ check_document on text
TEXTS = {
    "true": ("Least squares:\n\n$$\\nabla_x \\|Ax - b\\|_2^2 = 2A^T(Ax - b)$$\n", "holds", 3, r"^$"),
    "false": ("$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$", "false", 1, r"coefficient 1, not 2"),
    "unreadable": ("text\n\n$$\\nabla_x \\frac{1}{2 \\|x\\|^2$$\n", "not read", 3, r"^the formula ends too early"),
    "derived": ("$$\\frac{\\partial}{\\partial x} x^T A x$$", "derived", 1, r"^$"),
    "prose declares": ("$$\\nabla_x x^T A x = 2Ax$$\nwhere $A$ is symmetric.\n", "holds", 1, r"^$"),
    "earlier declaration": ("Let $A \\in \\mathbb{S}^n$.\n\n$$\\nabla_x x^T A x = 2Ax$$", "holds", 3, r"^$"),
    "earlier definition": ("$$f(x) = x^T A x$$\n\nthen\n\n$$\\nabla_x f(x) = (A + A^T)x$$", "holds", 5, r"^$"),
    "bare lines": ("\\nabla_x x^T x = 2x\n= 3x", "false", 2, r"factor 3/2"),
    "inline head continued": ("since $\\nabla_x \\|x\\|^2 = \\nabla_x x^T x$\n\n$$= 2x$$", "holds", 1, r"^$"),
}


@pytest.mark.parametrize("text, verdict, line, reason", TEXTS.values(), ids=TEXTS.keys())
def test_check_document_on_text(text, verdict, line, reason):
    s = only(check_document(text))
    assert (s.verdict, s.line) == (verdict, line), str(s)
    assert re.search(reason, s.reason), s.reason
    assert s.file is None and s.cell is None


def test_a_false_claim_says_why_and_what_is_correct():
    s = only(check_document("$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$"))
    assert s.column == len("$$\\nabla_x \\|Ax + b\\|_2^2 = ") + 1       # at the false claim
    assert s.correct in ("2Aᵀ(Ax + b)", "2Aᵀ(b + Ax)")
    assert s.claims == [{"latex": "2A^T A x + A^T b", "holds": False, "reason": s.reason, "correct": s.correct,
                         "line": 1, "column": s.column}]
    assert str(s).startswith("<text>:1: ✗ false — the term Aᵀb has coefficient 1, not 2") and "; correct: 2Aᵀ" in str(s)


def test_continuation_blocks_are_one_statement_judged_link_by_link():
    text = ("$$\\nabla_x \\|Ax-b\\|^2$$\n\nexpanding the square,\n\n$$= \\nabla_x (Ax-b)^T(Ax-b)$$\n\n"
            "$$= 2A^T(Ax+b)$$\n")
    s = only(check_document(text))
    assert s.verdict == "false" and s.statement_line == 1 and s.line == 7     # the wrong block
    assert [c["holds"] for c in s.claims] == [True, False] and [c["line"] for c in s.claims] == [5, 7]
    assert s.latex == "\\nabla_x \\|Ax-b\\|^2\n= \\nabla_x (Ax-b)^T(Ax-b)\n= 2A^T(Ax+b)"


def test_several_derivations_in_one_formula():
    statements = check_document("$$\\nabla_x \\|x\\|^2 = 2x \\quad \\nabla_y y^T A y = 2Ay$$")
    assert [(s.verdict, s.line) for s in statements] == [("holds", 1), ("false", 1)]
    assert statements[1].column == statements[1].latex.index("2Ay") + 3


def test_one_unreadable_formula_never_stops_the_rest():
    text = ("$$\\nabla_x x^T x = 2x$$\n\n$$\\nabla_x \\frac{1}{2 \\|x\\|^2$$\n\n$$\\nabla_x \\operatorname{GELU}(x)$$\n\n"
            "$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$\n")
    assert [s.verdict for s in check_document(text)] == ["holds", "not read", "not read", "false"]


def test_an_internal_failure_is_reported_on_its_line(monkeypatch):
    import derivmagic.document as document
    real = document.derive_all

    def flaky(cell, **kwargs):
        if "A^T b" in cell:
            raise RuntimeError("engine bug")
        return real(cell, **kwargs)
    monkeypatch.setattr(document, "derive_all", flaky)
    statements = check_document("$$\\nabla_x x^T x = 2x$$\n\n$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$")
    assert [s.verdict for s in statements] == ["holds", "not read"]
    assert re.fullmatch(r"derivmagic failed on this formula \(RuntimeError: engine bug\); please report it",
                        statements[1].reason)


@pytest.mark.parametrize("text, with_context, without", [
    ("Let $A \\in \\mathbb{S}^n$.\n\n$$\\nabla_x x^T A x = 2Ax$$", "holds", "false"),
    ("$$f(x) = x^T A x$$\n\n$$\\nabla_x f(x) = (A + A^T)x$$", "holds", None),
], ids=["declaration", "definition"])
def test_earlier_definitions_apply_and_can_be_switched_off(text, with_context, without):
    s = only(check_document(text))
    assert s.verdict == with_context and s.context == [{"cell": None, "line": 1}]
    plain = only(check_document(text, context=False))
    assert plain.context == [] and plain.verdict != "holds"
    if without:
        assert plain.verdict == without


def test_the_latest_definition_wins():
    text = ("$$A \\in \\mathbb{S}^n$$\n\n$$A \\in \\mathbb{R}^{n \\times n}$$\n\n$$\\nabla_x x^T A x = 2Ax$$\n\n"
            "$$f(x) = \\|x\\|^2$$\n\n$$f(x) = x^T x + 1$$\n\n$$\\nabla_x f(x) = 2x$$")
    first, second = check_document(text)
    assert first.verdict == "false" and first.context == [{"cell": None, "line": 3}]
    assert second.verdict == "holds" and second.context == [{"cell": None, "line": 9}]


def test_an_unreadable_definition_hides_the_earlier_one():
    text = "$$A \\in \\mathbb{S}^n$$\n\n$$A \\in \\mathbb{R}^{n \\times n} \\text{ and } \\frac$$\n\n$$\\nabla_x x^T A x = 2Ax$$"
    s = check_document(text)[-1]
    assert s.verdict == "false" and s.context == []


def test_definitions_hold_until_the_next_heading():
    text = "# One\n\n$$A \\in \\mathbb{S}^n$$\n\n$$\\nabla_x x^T A x = 2Ax$$\n\n# Two\n\n$$\\nabla_x x^T A x = 2Ax$$"
    assert [s.verdict for s in check_document(text)] == ["holds", "false"]


def test_a_declaration_does_not_make_the_function_a_constant():
    # J ∈ ℝ declared earlier, ∂J/∂W later: J is a function defined elsewhere, not a constant
    text = "$$J \\in \\mathbb{R}$$\n\n$$\\frac{\\partial J}{\\partial W} = x^T$$"
    s = only(check_document(text))
    assert s.context == [] and not (s.verdict == "false" and s.correct == "0")


def test_code_is_not_mathematics():
    text = "```\n$$\\nabla_x x^T x = 3x$$\n```\n\nRun `$$\\nabla_x x = 3$$` in a shell.\n"
    assert check_document(text) == []


def test_prose_only_has_no_statements():
    assert check_document("# Notes\n\nThe gradient points uphill; $x$ is a vector and $f(x) = x^T x$.\n") == []


def test_path_or_text(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("$$\\nabla_x x^T x = 2x$$\n", encoding="utf-8")
    assert only(check_document(path)).file == str(path)
    assert only(check_document(str(path))).file == str(path)
    with pytest.raises(FileNotFoundError):
        check_document(str(tmp_path / "missing.md"))


# ------------------------------------------------------------------ derivmagic check FILE…
def write_notebook(path, cells, with_nbformat=True):
    if with_nbformat:
        import nbformat
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                    for kind, src in cells]
        nbformat.write(nb, str(path))
    else:
        nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
              "cells": [{"cell_type": kind, "metadata": {}, "source": src.splitlines(keepends=True),
                         **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                        for kind, src in cells]}
        path.write_text(json.dumps(nb), encoding="utf-8")


MD = ("# Least squares\n\nThe loss is a norm.\n\n$$\\nabla_x \\|Ax - b\\|_2^2 = 2A^T(Ax - b)$$\n\n"
      "And the notes' version:\n\n$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$\n\n"
      "$$\\nabla_x \\frac{1}{2 \\|x\\|^2$$\n\n$$\\nabla_x \\|x\\|^2$$\n\nexpanding,\n\n$$= \\nabla_x x^T x$$\n\n$$= 2x$$\n")
MD_LINES = [r"{f}:5: ✓ holds$",
            r"{f}:9: ✗ false — the term Aᵀb has coefficient 1, not 2 \(off by a factor 2\); correct: 2Aᵀ\((Ax \+ b|b \+ Ax)\)$",
            r"{f}:11: – not read — the formula ends too early: expected .*$",
            r"{f}:13: ✓ holds \(2 links\)$",
            r"4 derivative statements: 2 ✓ hold, 1 ✗ false, 0 · derived \(no claim\), 1 – not read$"]
TEX = ("\\documentclass{article}\n\\begin{document}\n\\section{Quadratic forms}\n"
       "% a comment: $$\\nabla_x x^T x = 3x$$\n"
       "For $A \\in \\mathbb{S}^n$,\n\\begin{equation}\n  \\nabla_x x^T A x = 2Ax\n\\end{equation}\n"
       "and\n\\begin{align*}\n  \\nabla_x \\|x\\|_2^2 &= \\nabla_x x^T x \\\\\n  &= x\n\\end{align*}\n"
       "\\[ \\frac{\\partial}{\\partial x} a^T x \\]\n\\end{document}\n")
TEX_LINES = [r"{f}:7: ✓ holds$",
             r"{f}:12: ✗ false — off by a factor 2 \(the claim is 1/2 of the correct value\); correct: 2x$",
             r"{f}:14: · derived \(no claim\): ∂/∂x \(aᵀx\) = aᵀ$",
             r"3 derivative statements: 1 ✓ hold, 1 ✗ false, 1 · derived \(no claim\), 0 – not read$"]
TXT = "\\nabla_x x^T x = 2x\nf(x) = x^T A x\n\\nabla_x f(x) = 2Ax\n\\nabla_x \\operatorname{GELU}(x)\n"
TXT_LINES = [r"{f}:1: ✓ holds$",
             r"{f}:3: ✗ false — true only if A = Aᵀ.*; correct: \(A \+ Aᵀ\)x \[with the definitions of line 2\]$",
             r"{f}:4: – not read — unknown function GELU.*$",
             r"3 derivative statements: 1 ✓ hold, 1 ✗ false, 0 · derived \(no claim\), 1 – not read$"]
NB = [("markdown", "# Title\n\nLet $A \\in \\mathbb{S}^n$."),
      ("code", "x = 1  # $$\\nabla_x x^T x = 3x$$"),
      ("markdown", "Then\n\n$$\\nabla_x x^T A x = 2Ax$$"),
      ("markdown", "## Another section\n\n$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$")]
NB_LINES = [r"{f}:cell_3:3: ✓ holds$",
            r"{f}:cell_4:3: ✗ false — the term Aᵀb has coefficient 1, not 2 \(off by a factor 2\); correct: [^\[]*$",
            r"2 derivative statements: 1 ✓ hold, 1 ✗ false, 0 · derived \(no claim\), 0 – not read$"]


def make(tmp_path, suffix, content, with_nbformat=True):
    path = tmp_path / f"doc{suffix}"
    if suffix == ".ipynb":
        write_notebook(path, content, with_nbformat)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("suffix, content, lines", [
    (".md", MD, MD_LINES), (".tex", TEX, TEX_LINES), (".txt", TXT, TXT_LINES), (".ipynb", NB, NB_LINES),
], ids=["markdown", "latex", "text", "notebook"])
def test_check_subcommand_prints_one_line_per_statement_and_a_summary(capsys, tmp_path, suffix, content, lines):
    f = make(tmp_path, suffix, content)
    status, out, err = run(capsys, "check", f)
    assert status == 1 and err == ""
    got = out.splitlines()
    assert len(got) == len(lines), out
    for line, pattern in zip(got, lines):
        assert re.match(pattern.format(f=re.escape(f)), line), (line, pattern)


def test_notebook_without_nbformat(capsys, tmp_path, monkeypatch):
    f = make(tmp_path, ".ipynb", NB, with_nbformat=False)
    monkeypatch.setitem(sys.modules, "nbformat", None)      # import nbformat raises ImportError
    status, out, _ = run(capsys, "check", f)
    assert status == 1 and out.splitlines()[0] == f"{f}:cell_3:3: ✓ holds"


@pytest.mark.parametrize("content, status", [
    ("$$\\nabla_x x^T x = 2x$$", 0),
    ("$$\\nabla_x x^T x = 3x$$", 1),
    ("$$\\nabla_x \\frac{1}{2$$", 0),
    ("$$\\nabla_x x^T x$$", 0),
    ("no formulas at all", 0),
], ids=["holds", "false", "not-read", "derived", "prose"])
def test_check_exit_status(capsys, tmp_path, content, status):
    assert run(capsys, "check", make(tmp_path, ".md", content))[0] == status


def test_several_files_and_a_missing_one(capsys, tmp_path):
    a = make(tmp_path, ".md", "$$\\nabla_x x^T x = 2x$$")
    status, out, err = run(capsys, "check", a, str(tmp_path / "missing.md"))
    assert status == 2
    assert re.fullmatch(r".*missing\.md: cannot read: No such file or directory\n", err)
    assert out.splitlines() == [f"{a}:1: ✓ holds",
                                "1 derivative statement in 2 files: 1 ✓ hold, 0 ✗ false, 0 · derived (no claim), 0 – not read"]


JSON_KEYS = {"file": (str,), "cell": (int, type(None)), "line": (int,), "column": (int,), "statement_line": (int,),
             "latex": (str,), "verdict": (str,), "reason": (str,), "correct": (str, type(None)),
             "result": (str, type(None)), "derivative": (str, type(None)), "claims": (list,), "warnings": (list,),
             "checked": (bool, type(None)), "context": (list,)}


def test_json_schema(capsys, tmp_path):
    f = make(tmp_path, ".md", MD)
    status, out, _ = run(capsys, "check", "--json", f)
    assert status == 1
    objects = json.loads(out)
    assert [o["verdict"] for o in objects] == ["holds", "false", "not read", "holds"]
    for o in objects:
        assert set(o) == set(JSON_KEYS)
        for key, types in JSON_KEYS.items():
            assert isinstance(o[key], types), (key, o[key])
        assert o["file"] == f and o["verdict"] in ("holds", "false", "derived", "not read")
        for c in o["claims"]:
            assert set(c) == {"latex", "holds", "reason", "correct", "line", "column"}
    false = objects[1]
    assert (false["line"], false["column"], false["statement_line"]) == (9, 29, 9)
    assert false["latex"] == "\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b"
    assert false["correct"] in ("2Aᵀ(Ax + b)", "2Aᵀ(b + Ax)") and false["result"] == false["correct"]
    assert false["derivative"] == "∇_x (‖Ax + b‖₂²)"
    assert objects[2]["result"] is None and objects[2]["reason"].startswith("the formula ends too early")
    assert objects[3]["statement_line"] == 13 and len(objects[3]["claims"]) == 2


def test_progress_only_on_a_terminal(capsys, tmp_path, monkeypatch):
    f = make(tmp_path, ".md", MD)
    assert run(capsys, "check", f)[2] == ""                        # stderr is not a terminal: nothing

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    main(["check", f])
    capsys.readouterr()
    shown = terminal.getvalue()
    assert f"checking {f}: 1/4" in shown and f"checking {f}: 4/4" in shown and shown.endswith("\r\x1b[K")


@pytest.mark.parametrize("argv, status, where, message", [
    (["check"], 2, "err", r"the following arguments are required: FILE"),
    (["check", "--jsn", "x.md"], 2, "err", r"unrecognized arguments: --jsn"),
    (["--", "check"], 2, "err", r"^error: "),
], ids=["no-file", "misspelled-option", "formula-check"])
def test_check_usage(capsys, argv, status, where, message):
    try:
        got = main(argv)
    except SystemExit as exc:
        got = exc.code
    out = capsys.readouterr()
    assert got == status
    assert re.search(message, getattr(out, where)), out


# ------------------------------------------------------------------ the lecture notes
def fd_gradient(f, x, h=1e-6):
    """Central differences of a scalar function of a vector."""
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def confirm_false(f, claimed, true):
    """The claimed gradient differs from central differences of f, which match the true one."""
    rng = np.random.default_rng(0)
    A, b, x = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(4)
    g = fd_gradient(lambda v: f(A, b, v), x)
    np.testing.assert_allclose(g, true(A, b, x), rtol=1e-5, atol=1e-6)
    assert not np.allclose(g, claimed(A, b, x), rtol=1e-3, atol=1e-3)


def confirm_typo_b_for_y():
    """L(w) = ‖Xw − y‖², and the derivation ends with 2Xᵀ(Xw − b): b is not y."""
    rng = np.random.default_rng(1)
    X, y, b, w = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(3)
    g = fd_gradient(lambda v: np.sum((X @ v - y) ** 2), w)
    np.testing.assert_allclose(g, 2 * X.T @ (X @ w - y), rtol=1e-5, atol=1e-6)
    assert not np.allclose(g, 2 * X.T @ (X @ w - b), rtol=1e-3, atol=1e-3)


def confirm_entry_by_the_wrong_index():
    """[∂(c f)/∂x]_{ij} = c ∂f_i/∂x_j (f = sin(Wx) as an instance); the note's c ∂f_i/∂x_i does not
    depend on j."""
    rng = np.random.default_rng(3)
    W, x, c = rng.standard_normal((3, 4)), rng.standard_normal(4), 1.7
    J = np.array([fd_gradient(lambda v, i=i: c * np.sin(W @ v)[i], x) for i in range(3)])
    np.testing.assert_allclose(J, c * np.cos(W @ x)[:, None] * W, rtol=1e-5, atol=1e-6)
    claimed = np.array([[J[i, i]] * 4 for i in range(3)])
    assert not np.allclose(J, claimed, rtol=1e-3, atol=1e-3)


def confirm_chain_rule_transposed():
    """∇_X g(f(X)) for X ∈ ℝ^{m×n} (the note's X is a matrix) is g'(f) ∇f(X), shaped like X; the
    note's (∇_X f)ᵀ(∇_f g) is its n×m transpose (f = Σ sin X, g = exp as instances)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 4))
    g = fd_gradient(lambda v: np.exp(np.sum(np.sin(v.reshape(3, 4)))), X.reshape(-1)).reshape(3, 4)
    np.testing.assert_allclose(g, np.exp(np.sum(np.sin(X))) * np.cos(X), rtol=1e-5, atol=1e-6)
    claimed = np.cos(X).T * np.exp(np.sum(np.sin(X)))
    assert claimed.shape != g.shape


# note -> {line of the false claim: (what the note says, a NumPy counterexample)}
PINNED = {
    "000": {
        184: (r"\nabla_w L(w) = … = 2X^T(Xw - b)", confirm_typo_b_for_y),
        359: (r"\nabla_x \|Ax + b\|_2^2 = 2A^T A x + A^T b",
              lambda: confirm_false(lambda A, b, x: np.sum((A @ x + b) ** 2),
                                    lambda A, b, x: 2 * A.T @ A @ x + A.T @ b,
                                    lambda A, b, x: 2 * A.T @ (A @ x + b))),
        278: (r"\left[\frac{\partial}{\partial x} c f(x) \right]_{ij} = \frac{\partial}{\partial x_i} c f_i(x)",
              confirm_entry_by_the_wrong_index),
        361: (r"\nabla_x \|Ax - b\|_2^2 = 2A^T A x - A^T b",
              lambda: confirm_false(lambda A, b, x: np.sum((A @ x - b) ** 2),
                                    lambda A, b, x: 2 * A.T @ A @ x - A.T @ b,
                                    lambda A, b, x: 2 * A.T @ (A @ x - b))),
    },
    "001": {}, "002": {}, "004": {},
    "003": {
        50: (r"\nabla_X g(f(X)) = \left( \nabla_X f \right)^T \left( \nabla_f g \right)", confirm_chain_rule_transposed),
    },
}
# statements judged false in derivmagic's default (numerator) layout that the note writes in the
# denominator layout: the reason names the layout, and with --layout denominator they are not false
# (line 15's later sides need f(x_1, x_2), defined in passing two statements before: not read there)
OTHER_LAYOUT = {"002": {15: "not read", 23: "holds", 101: "holds", 121: "holds", 125: "holds", 129: "holds"}}
# statements judged false that the notes get right: what derivmagic does not read yet
MISJUDGED = {
    "000": {298: "u = f(x) and v = g(x) are said with \\xrightarrow, so the constant vectors u, v of the cell "
                 "are compared with arbitrary functions"},
    "001": {232: "f, linear and defined in words, is read as an arbitrary function, so Df(x)[v] = f(v) is "
                 "judged false"},
}
NOTE_FILES = {p.name[:3]: p for p in sorted(NOTES.glob("*.txt"))}
need_notes = pytest.mark.skipif(not NOTE_FILES, reason="tests/data/notes is missing")


def checked(note: str) -> list[Statement]:
    if note not in _CHECKED:
        _CHECKED[note] = check_document(NOTE_FILES[note])
    return _CHECKED[note]


_CHECKED: dict = {}
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
OPERATOR = re.compile(r"\\nabla|\\partial|\\frac\{d[a-z]*\}\{d|\\frac\{\\delta|(?<![A-Za-z\\])D\s*(?:\\mathbf\{\w\}|\w)?\s*\(")


@need_notes
@pytest.mark.parametrize("note", sorted(PINNED))
def test_notes_every_derivative_statement_is_accounted_for(note):
    text = NOTE_FILES[note].read_text(encoding="utf-8")
    statements = checked(note)
    spans = [(s.pos, s.end) for s in statements]
    for m in DISPLAY.finditer(text):
        if OPERATOR.search(m.group(1)):
            assert any(a <= m.start() and m.end() <= b for a, b in spans), \
                f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(1)[:80]}"
    for s in statements:
        assert s.verdict in ("holds", "false", "derived", "not read")
        assert "derivmagic failed" not in s.reason, str(s)


@need_notes
@pytest.mark.parametrize("note, line", [(n, line) for n in sorted(PINNED) for line in PINNED[n]],
                         ids=[f"{n}:{line}" for n in sorted(PINNED) for line in PINNED[n]])
def test_notes_wrong_answers_are_found_and_confirmed_with_numpy(note, line):
    latex, confirm = PINNED[note][line]
    confirm()                                   # NumPy alone: the note's answer is wrong
    s = next(s for s in checked(note) if s.statement_line == line or s.line == line)
    assert s.verdict == "false"
    assert re.sub(r"\s", "", latex.split("= ")[-1]) in re.sub(r"\s", "", s.latex)


@need_notes
@pytest.mark.parametrize("note", sorted(PINNED))
def test_notes_nothing_else_is_judged_false(note):
    """Exactly: the notes' errors, the lines in the other layout, and the known misreadings."""
    expected = set(PINNED[note]) | set(OTHER_LAYOUT.get(note, {})) | set(MISJUDGED.get(note, {}))
    assert {s.line for s in checked(note) if s.verdict == "false"} == expected


@need_notes
@pytest.mark.parametrize("note, line", [(n, line) for n in sorted(OTHER_LAYOUT) for line in sorted(OTHER_LAYOUT[n])],
                         ids=[f"{n}:{line}" for n in sorted(OTHER_LAYOUT) for line in sorted(OTHER_LAYOUT[n])])
def test_notes_in_the_denominator_layout_are_told_so_and_hold_in_it(note, line):
    s = next(s for s in checked(note) if s.line == line)
    assert "--layout denominator" in s.reason
    if (note, "denominator") not in _CHECKED:
        _CHECKED[note, "denominator"] = check_document(NOTE_FILES[note], layout="denominator")
    again = next(s for s in _CHECKED[note, "denominator"] if s.line == line)
    assert again.verdict == OTHER_LAYOUT[note][line], str(again)


@need_notes
def test_check_all_notes_on_the_command_line(capsys):
    files = [str(p) for p in NOTE_FILES.values()]
    status, out, err = run(capsys, "check", *files)
    lines = out.splitlines()
    summary = re.fullmatch(r"(\d+) derivative statements in 5 files: (\d+) ✓ hold, (\d+) ✗ false, "
                           r"(\d+) · derived \(no claim\), (\d+) – not read", lines[-1])
    assert summary, lines[-1]
    total, *counts = map(int, summary.groups())
    assert total == len(lines) - 1 == sum(counts) == sum(len(checked(n)) for n in NOTE_FILES)
    assert status == 1 and err == ""
    for note, pinned in PINNED.items():
        for line in pinned:
            assert any(x.startswith(f"{NOTE_FILES[note]}:{line}: ✗ false") for x in lines)


def test_notebook_definitions_carry_across_cells(tmp_path):
    cells = [("markdown", "# Quadratic forms\n\nLet $x \\in \\mathbb{R}^n$ and\n$A \\in \\mathbb{R}^{n \\times n}$."),
             ("markdown", "$$\\nabla_x x^T A x = 2Ax$$")]
    s = only(check_document(make(tmp_path, ".ipynb", cells)))
    assert (s.cell, s.line, s.verdict) == (2, 1, "false")
    assert s.context == [{"cell": 1, "line": 3}, {"cell": 1, "line": 4}]
    assert str(s).endswith("[with the definitions of lines cell_1:3, cell_1:4]")
    assert s.to_json()["cell"] == 2


def test_a_continuation_after_an_inline_remark_continues_the_display_formula():
    """“so $D(x^T)[v] = v^T$ and” between a display formula and its “= …” is a side remark: the
    continuation continues the display formula (and is judged against its derivative)."""
    text = ("$$\\nabla_x x^T A x = A^T x + A x$$\n\nso $D(x^T)[v] = v^T$ and\n\n$$= (A + A^T) x$$\n\n"
            "$$\\nabla_x x^T A x = A x$$\n\nso $D(x^T)[v] = v^T$ and\n\n$$= 2 A x$$")
    first, second = check_document(text)
    assert (first.line, first.verdict) == (1, "holds") and "(2 links)" in str(first)
    assert (second.line, second.verdict) == (7, "false")


def test_a_value_named_in_passing_applies_to_the_next_statement_only():
    text = ("set $u = x$ and $v = Ax$, then\n\n$$\\nabla_x u^T v = (A + A^T)x$$\n\n"
            "$$\\nabla_x \\|x\\|^2 = 2x$$\n\n$$\\nabla_x u^T v = (A + A^T)x$$")
    first, second, third = check_document(text)
    assert first.verdict == "holds" and first.context == [{"cell": None, "line": 1}]
    assert second.context == [] and third.context == [] and third.verdict != "holds"
