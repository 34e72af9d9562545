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
