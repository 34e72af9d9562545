"""Errors a user can cause: the class, the words of the message, and the caret.

``str(exc)`` is the message, then the offending line of the cell, then a line of
carets under the offending text; the tests pin all three.
"""
from __future__ import annotations

import re

import pytest

from derivmagic import DerivError, LimitError, ParseError, ShapeError, derive
from derivmagic.errors import CONTEXT
from derivmagic.limits import LIMITS


def caret_of(exc: DerivError) -> tuple[str, int, int]:
    """(offending line, caret column, caret width) as drawn in ``str(exc)``."""
    lines = str(exc).split("\n")
    assert len(lines) >= 3 and "^" in lines[-1], f"no caret line in:\n{exc}"
    caret = lines[-1]
    col = caret.index("^")
    width = len(caret) - col
    assert set(caret[col:]) == {"^"} and not caret[:col].strip(), f"malformed caret line {caret!r}"
    return lines[-2], col, width


def underlined(exc: DerivError) -> str:
    line, col, width = caret_of(exc)
    return line[col:col + width]


# id, cell, class, message regex, (offending line, underlined snippet or None, caret column or None)
# The snippet must be inside the underlined text, and the underline at most 2 characters longer.
CASES = [
    # --- shape errors name both operands and their shapes
    ("matmul_mismatch", "\\nabla_x \\|Ax - b\\|_2^2\nA \\in \\mathbb{R}^{3 \\times 4}, x \\in \\mathbb{R}^3",
     ShapeError, re.escape("cannot multiply A (3×4) by x (3×1): 4 ≠ 3"),
     ("\\nabla_x \\|Ax - b\\|_2^2", "Ax", 11)),
    ("matmul_mismatch_matrices", "\\nabla_X \\operatorname{tr}(A X)\nA \\in \\mathbb{R}^{3 \\times 4}, X \\in \\mathbb{R}^{3 \\times 4}",
     ShapeError, re.escape("cannot multiply A (3×4) by X (3×4): 4 ≠ 3"),
     ("\\nabla_X \\operatorname{tr}(A X)", "A X", None)),
    ("inner_product_mismatch", "\\nabla_x x^T y\nx \\in \\mathbb{R}^3, y \\in \\mathbb{R}^4",
     ShapeError, re.escape("cannot multiply x^T (1×3) by y (4×1): 3 ≠ 4"),
     ("\\nabla_x x^T y", "x^T y", 9)),
    ("add_mismatch", "\\nabla_x (a + b)^T x\na \\in \\mathbb{R}^3, b \\in \\mathbb{R}^4",
     ShapeError, re.escape("cannot add a (3×1) and b (4×1)"),
     ("\\nabla_x (a + b)^T x", "a + b", None)),
    ("hadamard_mismatch", "\\nabla_x \\mathbf{1}^T (x \\odot y)\nx \\in \\mathbb{R}^3, y \\in \\mathbb{R}^4",
     ShapeError, re.escape("cannot take the elementwise product of x (3×1) and y (4×1)"),
     ("\\nabla_x \\mathbf{1}^T (x \\odot y)", "x \\odot y", None)),
    ("not_square_power", "\\frac{\\partial}{\\partial x} x^2\nx \\in \\mathbb{R}^n",
     ShapeError, re.escape("x (n×1) is not square"),
     ("\\frac{\\partial}{\\partial x} x^2", "x^2", 28)),
    ("direction_shape", "D f(x)[v]\nf(x) = x\nv \\in \\mathbb{R}^{3}, x \\in \\mathbb{R}^4",
     ShapeError, r"direction must have the shape of the variable.*\(4×1\).*\(3×1\)", ("D f(x)[v]", "v", 7)),
    ("nonsquare_quadratic_form", "\\nabla_x x^T A x\nA \\in \\mathbb{R}^{3 \\times 4}",
     ShapeError, r"cannot multiply x\^T A \(1×4\) by x \(3×1\): 4 ≠ 3", ("\\nabla_x x^T A x", None, None)),
    # --- unbalanced brackets: the formula ends before the brace closes
    ("unbalanced_brace", r"\nabla_x \frac{1}{2 \|x\|^2",
     ParseError, r"the formula ends too early: expected .*a closing brace '\}'",
     (r"\nabla_x \frac{1}{2 \|x\|^2", None, len(r"\nabla_x \frac{1}{2 \|x\|^2"))),
    ("unclosed_paren", r"\nabla_x (x^T x",
     ParseError, r"ends too early: expected a closing parenthesis '\)'", (r"\nabla_x (x^T x", None, 15)),
    ("unclosed_norm", r"\nabla_x \|x",
     ParseError, r"ends too early: expected .*a closing norm bar", (r"\nabla_x \|x", None, 12)),
    ("extra_close_paren", r"\nabla_x x^T x)",
     ParseError, r"unexpected '\)' here", (r"\nabla_x x^T x)", ")", 14)),
    # --- unknown commands and functions
    ("unknown_command", r"\nabla_x \foo(x)",
     ParseError, r"unknown or unsupported command \\foo", (r"\nabla_x \foo(x)", r"\foo", 9)),
    ("unknown_command_sinh", r"\nabla_x \sinh(x)",
     ParseError, r"unknown or unsupported command \\sinh", (r"\nabla_x \sinh(x)", r"\sinh", 9)),
    ("unknown_command_second_line", "u = Ax - b\n\\nabla_x \\foo{u}",
     ParseError, r"unknown or unsupported command \\foo", ("\\nabla_x \\foo{u}", r"\foo", 9)),
    ("unknown_operatorname", r"\nabla_x \log(x) + \operatorname{foo}(x)",
     ParseError, r"unknown function foo; known: cos, det, diag, exp, log",
     (r"\nabla_x \log(x) + \operatorname{foo}(x)", r"\operatorname{foo}", 19)),
    ("unknown_space", "\\nabla_x x^T x\nx \\in \\mathbb{Q}^n",
     ParseError, r"unexpected '\\mathbb' here: expected a space such as \\mathbb\{R\}\^n", ("x \\in \\mathbb{Q}^n", r"\mathbb", 6)),
    # --- no target
    ("no_target", "x^T A x",
     ParseError, r"this line has no target, definition or declaration", ("x^T A x", "x^T A x", 0)),
    ("no_target_second_line", "u = Ax - b\nx^T A x",
     ParseError, r"this line has no target, definition or declaration", ("x^T A x", "x^T A x", 0)),
    ("only_definitions", "u = Ax - b",
     ParseError, r"nothing to differentiate: add a target", ("u = Ax - b", None, 0)),
    ("bad_definition_second_line", "u = Ax - b\nx + y = 3\n\\nabla_x u^T u",
     ParseError, r"the left side of '=' must be a name", ("x + y = 3", "x + y", 0)),
    ("dangling_plus", r"\|x\|^2 +",
     ParseError, r"the formula ends too early", (r"\|x\|^2 +", None, 9)),
    ("nabla_without_body", r"\nabla_x",
     ParseError, r"nothing to differentiate after the gradient", (r"\nabla_x", None, 8)),
    ("nabla_without_body_second_line", "u = Ax - b\n\\nabla_x",
     ParseError, r"nothing to differentiate after the gradient", (r"\nabla_x", None, 8)),
    # --- empty cell
    ("empty", "", ParseError, r"the cell is empty", None),
    ("blank", "   \n  \t", ParseError, r"the cell is empty", None),
    # --- a derivative operator in the middle
    ("operator_in_claim", r"\nabla_x x^T x = x + \nabla_x",
     ParseError, r"a derivative operator must come first", (r"\nabla_x x^T x = x + \nabla_x", r"\nabla_x", 21)),
    ("operator_in_a_target_body", r"\nabla_x (Ax-b)^T \nabla_x (Ax-b)",
     ParseError, r"a derivative operator must come first", (r"\nabla_x (Ax-b)^T \nabla_x (Ax-b)", r"\nabla_x", 18)),
    ("operator_after_factor", r"x^T \nabla_x x",
     ParseError, r"a derivative operator must come first", (r"x^T \nabla_x x", r"\nabla_x", 4)),
    ("nested_operator", r"\nabla_x \nabla_x x",
     ParseError, r"a derivative operator must come first", (r"\nabla_x \nabla_x x", r"\nabla_x", 9)),
    # --- norm bars that more than one nesting pairs: the first bar that may open an inner norm
    ("nested_norm_bars_ambiguous", r"\nabla_a \|a\|b\|c\|d\|^2\|^2",
     ParseError, r"nested norm bars are ambiguous: this \\\| may close the norm before it or open a norm inside it, "
                 r".*write the inner norm as \\left\\\| … \\right\\\| or \\lVert … \\rVert",
     (r"\nabla_a \|a\|b\|c\|d\|^2\|^2", r"\|", 12)),
    # --- unsupported norms
    ("norm_3", r"\nabla_x \|x\|_3",
     ParseError, r"the 3-norm is not supported \(use 1, 2, \\infty, \* or F\)", (r"\nabla_x \|x\|_3", r"\|x\|_3", 9)),
    ("norm_0", r"\nabla_x \|x\|_0",
     ParseError, r"the 0-norm is not supported", (r"\nabla_x \|x\|_0", r"\|x\|_0", 9)),
    ("matrix_norm_infinity", r"\nabla_X \|X\|_\infty",
     ParseError, r"the matrix ∞-norm \(the largest row sum\) is not supported",
     (r"\nabla_X \|X\|_\infty", r"\|X\|_\infty", 9)),
    ("matrix_norm_1", r"\nabla_X \|X\|_1",
     ParseError, r"the matrix 1-norm \(largest column sum\) is not supported", (r"\nabla_X \|X\|_1", r"\|X\|_1", 9)),
    ("nuclear_norm_of_a_vector", r"\nabla_x \|x\|_*",
     ParseError, r"the nuclear norm ‖·‖_\* is of a matrix", (r"\nabla_x \|x\|_*", r"\|x\|_*", 9)),
    ("unknown_norm_command", r"\nabla_x \|x\|_\aleph",
     ParseError, r"unknown or unsupported command \\aleph", (r"\nabla_x \|x\|_\aleph", r"\aleph", 15)),
    # --- one derivative, one variable, orders
    ("two_targets", "\\nabla_x x^T x\n\\nabla_y y^T y",
     ParseError, r"a second derivative in the cell: derive\(\) returns one derivation; use derive_all\(\)",
     ("\\nabla_y y^T y", None, 0)),
    ("seventh_order", r"\nabla^7_x x^T x",
     DerivError, r"derivatives of order 7 are not computed: beyond order 6",
     (r"\nabla^7_x x^T x", r"\nabla^7_x x^T x", 0)),
    ("self_definition", "\\nabla_x u\nu = v\nv = u",
     ParseError, r"defined in terms of itself", None),
]


@pytest.mark.parametrize("cid,cell,cls,pattern,where", CASES, ids=[c[0] for c in CASES])
def test_error_class_message_and_caret(cid, cell, cls, pattern, where):
    with pytest.raises(cls, match=pattern) as info:
        derive(cell)
    exc = info.value
    assert isinstance(exc, DerivError) and isinstance(exc, ValueError)
    assert str(exc).split("\n")[0] == exc.message, "the message comes first"
    if where is None:
        return
    line, snippet, col = where
    got_line, got_col, width = caret_of(exc)
    assert got_line == line, f"caret drawn under {got_line!r}, not under the offending line {line!r}"
    if col is not None:
        assert got_col == col, f"caret at column {got_col}, wanted {col}:\n{exc}"
    if snippet is not None:
        under = underlined(exc)
        assert snippet in under and len(under) <= len(snippet) + 2, \
            f"caret underlines {under!r}, wanted {snippet!r}:\n{exc}"


def test_caret_agrees_with_position():
    """The caret is drawn at ``exc.pos`` within its line of ``exc.text``."""
    cell = "u = Ax - b\n\\nabla_x \\foo{u}"
    with pytest.raises(ParseError) as info:
        derive(cell)
    exc = info.value
    assert exc.text == cell
    assert cell[exc.pos:exc.end] == r"\foo"
    line_start = cell.rfind("\n", 0, exc.pos) + 1
    assert caret_of(exc)[1] == exc.pos - line_start


# --- limits: a pathological cell returns promptly with a LimitError naming the limit
def test_limit_cell_size():
    cell = r"\nabla_x " + " + ".join(["x^T x"] * (LIMITS["cell_chars"] // 8 + 10))
    assert len(cell) > LIMITS["cell_chars"]
    with pytest.raises(LimitError, match=r"the cell has [\d,]+ characters, more than the limit of 20,000") as info:
        derive(cell)
    assert isinstance(info.value, DerivError)
    assert "LIMITS['cell_chars']" in str(info.value)


def test_limit_nesting():
    depth = LIMITS["nesting"] + 50
    cell = r"\nabla_x " + "(" * depth + "x^T x" + ")" * depth
    with pytest.raises(LimitError, match=r"brackets nest deeper than the limit of 200") as info:
        derive(cell)
    line, col, _ = caret_of(info.value)
    # a long line is cut around the caret: CONTEXT characters before it, marked with …
    assert line.startswith("…") and line.endswith("…") and len(line) <= 2 * CONTEXT + 4
    assert line[col] == "(" and col == 1 + CONTEXT, "caret under the first bracket too deep"
    assert len(str(info.value).splitlines()) == 3


def test_limit_expression_size(monkeypatch):
    monkeypatch.setitem(LIMITS, "expression_size", 10)
    with pytest.raises(LimitError, match=r"the derivative has [\d,]+ operations, more than the limit of 10"):
        derive(r"\nabla_x \mathbf{1}^T \tanh(\tanh(\tanh(A \tanh(B x + b) + c)))")


# --- nothing but DerivError escapes derive() for bad input
GARBAGE = [
    "}", "\\", "^", "_", "\\nabla", "\\frac{}{}", "$$", "\\begin{aligned}", "x =", "= x",
    "\\nabla_x x^{", "\\|", "|x", "\\nabla_x x^{1/0}", "D f(x)[v]", "\\frac{\\partial}{\\partial}",
    "\\frac{\\partial^3 f}{\\partial x^3}", "\\nabla_{} x", "\\nabla_1 x", "\\nabla_x \\log(0) x",
    "\\nabla_x \\log(-1)", "\\nabla_x \\operatorname{diag}(x)", "\\nabla^2_X \\operatorname{tr}(X)",
    "\\frac{\\partial Ax}{\\partial A}", "\\nabla_x f(x)\nf(x) = f(x)", "\\nabla_x x^T x = ",
    "\\nabla_x \\sqrt{}", "\\nabla_x \\|\\|", "\\nabla_x ||x||", "\\nabla_x x^T A x\nA \\in \\mathbb{S}",
    "\\nabla_x x \\in \\mathbb{R}^n", "x \\in \\mathbb{R}^n", "\\nabla_x \\frac{1}{x - x}",
]


@pytest.mark.parametrize("cell", GARBAGE, ids=[f"garbage{i}" for i in range(len(GARBAGE))])
def test_only_deriv_errors_escape(cell):
    try:
        derive(cell)
    except DerivError as exc:
        assert exc.message and str(exc).startswith(exc.message)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{type(exc).__name__} escaped derive({cell!r}): {exc}")


def test_division_by_zero_is_refused():
    """``\\frac{1}{0}`` is not a number: the cell should be refused, not differentiated to 2x/0."""
    with pytest.raises(DerivError, match=r"(?i)zero|divid"):
        derive(r"\nabla_x \frac{1}{0} x^T x")


def test_caret_is_fresh_for_a_repeated_statement():
    """The same bad statement in two cells (statements may be cached): each caret is drawn in its own cell."""
    for cell, line_no in ((r"\nabla_x \foo(x)", 0), ("u = Ax\n\\nabla_x \\foo(x)", 1), (r"\nabla_x \foo(x)", 0)):
        with pytest.raises(ParseError, match=r"unknown or unsupported command \\foo") as info:
            derive(cell)
        assert info.value.text == cell
        line, col, width = caret_of(info.value)
        assert line == cell.split("\n")[line_no] and (col, width) == (9, 4), str(info.value)
