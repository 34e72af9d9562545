"""The derivmagic command: text, LaTeX, verdicts with exit status, code, Kronecker forms."""
from __future__ import annotations

import subprocess
import sys

import pytest

from derivmagic.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_prints_the_derivation(capsys):
    status, out, _ = run(capsys, r"\nabla_x \|Ax - b\|_2^2")
    assert status == 0
    assert "2Aᵀ(Ax - b)" in out and "Interpretation" in out and "✓" in out


@pytest.mark.parametrize("cell, status, words", [
    (r"\nabla_x \|Ax - b\|_2^2 = 2A^T(Ax - b)", 0, "✓ all 1 claim(s) hold"),
    (r"\nabla_x \|Ax + b\|_2^2 = 2A^T A x + A^T b", 1, "✗ claim 1 of 1 is false"),
    (r"\nabla_x x^T A x = 2Ax", 1, "not declared symmetric"),
], ids=["true", "false-term", "false-symmetric"])
def test_check_only_gives_a_one_line_verdict_and_exit_status(capsys, cell, status, words):
    got, out, _ = run(capsys, "--check-only", cell)
    assert got == status
    assert words in out and out.count("\n") == 1


def test_user_error_has_caret_and_status_2(capsys):
    status, _, err = run(capsys, r"\nabla_x \frac{1}{2 \|x\|^2")
    assert status == 2
    assert "^" in err and "error:" in err


def test_latex_and_no_steps(capsys):
    _, out, _ = run(capsys, "--latex", "--no-steps", r"\nabla_x x^T A x")
    assert out.startswith(r"\begin{aligned}") and "Steps" not in out


def test_matrix_function_shows_differential_and_kronecker_on_request(capsys):
    _, plain, _ = run(capsys, r"\frac{\partial}{\partial X} AXB")
    assert "d(AXB) = A dX B" in plain and "⊗" not in plain.split("Result")[1]
    _, vec, _ = run(capsys, "--vec", r"\frac{\partial}{\partial X} AXB")
    assert "Bᵀ ⊗ A" in vec.split("Result")[1]


def test_code_export(capsys):
    _, out, _ = run(capsys, "--code", "numpy", r"\nabla_x \|Ax - b\|_2^2")
    assert "def f_and_derivative(x, A, b):" in out


def test_misspelled_option_is_refused():
    proc = subprocess.run([sys.executable, "-m", "derivmagic.cli", "--chek-only", r"\nabla_x x"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "unrecognized arguments: --chek-only" in proc.stderr


# ------------------------------------------------------------------ several derivations in a cell
TWO = "\\nabla_x \\|Ax - b\\|_2^2 = 2A^T(Ax - b)\n\\nabla_x x^T A x = 2Ax"


def test_every_derivation_of_a_cell_is_shown_in_order(capsys):
    status, out, _ = run(capsys, TWO)
    assert status == 1                                      # the second claim is false
    first, second = out.split("\n\n── ")
    assert first.startswith("── derivation 1 of 2: ∇_x (‖Ax - b‖₂²)\nInterpretation")
    assert second.startswith("derivation 2 of 2: ∇_x (xᵀAx)\nInterpretation")
    for part in (first, second):
        for heading in ("Interpretation", "Steps", "Result", "Claims", "Check"):
            assert f"\n{heading}\n" in part


@pytest.mark.parametrize("cell, status, lines", [
    (TWO, 1, ["1 of 2: ✓ all 1 claim(s) hold", "2 of 2: ✗ claim 1 of 1 is false: 2Ax — true only if A = Aᵀ"]),
    ("\\nabla_x x^T x = 2x\n\\nabla_y \\|y\\|^2 = 2y", 0, ["1 of 2: ✓ all 1 claim(s) hold", "2 of 2: ✓ all 1 claim(s) hold"]),
    ("\\nabla_x x^T A x = 2Ax\n\\nabla_\\theta \\frac12 \\theta^T H \\theta + k", 2,
     ["1 of 2: ✗ claim 1 of 1 is false", "2 of 2: ? ambiguous: read k as a scalar"]),
    ("\\nabla_x x^T x = 2x\n\\nabla_y \\frac{1}{2", 2, []),
], ids=["one-false", "all-hold", "ambiguous-wins", "unreadable"])
def test_check_only_gives_one_line_per_derivation(capsys, cell, status, lines):
    got, out, err = run(capsys, "--check-only", cell)
    assert got == status
    assert len(out.splitlines()) == len(lines)
    for line, start in zip(out.splitlines(), lines):
        assert line.startswith(start), line
    if not lines:
        assert err.startswith("error: ")


def test_latex_and_code_of_several_derivations(capsys):
    _, out, _ = run(capsys, "--latex", "--no-steps", "--code", "numpy", TWO)
    assert out.startswith("% derivation 1 of 2: ∇_x (‖Ax - b‖₂²)\n\\begin{aligned}")
    assert "\n\n% derivation 2 of 2: ∇_x (xᵀAx)\n\\begin{aligned}" in out
    assert "def f_and_derivative_1(x, A, b):" in out and "def f_and_derivative_2(x, A):" in out


@pytest.mark.parametrize("argv", [["--seed", "-1", r"\nabla_x x^Tx"], ["--seed", "x", r"\nabla_x x^Tx"],
                                  ["check", "--seed", "-1", "notes.md"]], ids=["negative", "word", "check"])
def test_a_bad_seed_is_refused_in_words(argv, capsys):
    from derivmagic.cli import main
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "a seed is an integer ≥ 0" in capsys.readouterr().err


# ------------------------------------------------------------------ no formula
def test_no_formula_on_a_terminal_prints_the_usage_instead_of_waiting():
    """Standard input is a terminal (a pseudo-terminal here): derivmagic used to wait on it silently."""
    pty = pytest.importorskip("pty")
    import os
    leader, terminal = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "derivmagic.cli"], stdin=terminal, capture_output=True,
                              text=True, timeout=120)
    finally:
        os.close(leader)
        os.close(terminal)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("usage: derivmagic [-h]")
    assert "derivmagic: give the formula as an argument" in proc.stderr and "derivmagic --help" in proc.stderr


class _Terminal:
    def isatty(self):
        return True

    def read(self):
        raise AssertionError("read from a terminal")


@pytest.mark.parametrize("argv", [[], ["--latex"], ["--check-only"]], ids=["bare", "latex", "check-only"])
def test_no_formula_with_options_on_a_terminal_prints_the_usage(argv, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Terminal())
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("usage: derivmagic") and "or on standard input (derivmagic < cell.tex)" in err


def test_a_formula_piped_in_is_still_read():
    proc = subprocess.run([sys.executable, "-m", "derivmagic.cli", "--check-only"],
                          input="\\nabla_x \\|Ax - b\\|_2^2 = 2A^T(Ax - b)\n", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "✓ all 1 claim(s) hold\n"


# ------------------------------------------------------------------ terminal escapes
CONTROL = {chr(c) for c in range(32) if c != 10} | {chr(c) for c in range(0x7F, 0xA0)}
ESCAPES = {
    "title": "\x1b]0;owned\x07",
    "clear-screen": "\x1b[2J\x1b[H",
    "hide-text": "\x1b[8m",
    "carriage-return": "\rfake output",
    "c1-csi": "\x9b2J",
    "delete": "\x7f",
    "nul": "\x00",
}


@pytest.mark.parametrize("where", ["in-the-error", "ignored-text"])
@pytest.mark.parametrize("escape", ESCAPES.values(), ids=ESCAPES.keys())
def test_no_terminal_escape_of_a_cell_is_printed(capsys, escape, where):
    """The caret line echoed the cell raw: a cell could set the terminal's title or clear it."""
    cell = rf"\nabla_x x^T x + {escape} x" if where == "in-the-error" else rf"\nabla_x x^T x \quad \text{{a{escape}b}}"
    _, out, err = run(capsys, "--no-check", cell)
    assert not CONTROL & set(out + err), [c for c in out + err if c in CONTROL]


def test_the_caret_stays_under_a_control_character():
    from derivmagic.cli import visible
    from derivmagic import ParseError, derive
    cell = "\\nabla_x x^T x + \x1b[2J x"
    with pytest.raises(ParseError) as info:
        derive(cell)
    line, caret = visible(str(info.value)).splitlines()[-2:]
    assert line[caret.index("^")] == "␛" and len(line) == len(cell)


def test_no_terminal_escape_of_a_document_is_printed(capsys, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("$$\\nabla_x x^T x = 2x \x1b]0;owned\x07$$\n\n$$\\nabla_y y^T y = 2y$$ \x1b[2J\n", encoding="utf-8")
    status, out, err = run(capsys, "check", str(path))
    assert "✓ holds" in out and "␛" in out
    assert not CONTROL & set(out + err)


def test_json_keeps_text_but_escapes_every_control_character(capsys, tmp_path):
    import json
    path = tmp_path / "notes.md"
    path.write_text("$$\\nabla_x x^T x = 2x \u009b2J \x1b[2J \x7f$$\n\n"
                    "$$\\nabla_\\theta \\theta^T \\theta = 2\\theta$$\n", encoding="utf-8")
    _, out, _ = run(capsys, "check", "--json", str(path))
    assert not CONTROL & set(out) and "θ" in out
    rows = json.loads(out)
    assert rows[0]["latex"].endswith("2x \u009b2J \x1b[2J \x7f") and rows[1]["verdict"] == "holds"
