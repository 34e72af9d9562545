"""Gradients by a symmetric matrix S: the convention is stated, the default is the gradient on the
symmetric matrices, sym(G) = (G + Gᵀ)/2, and ``symmetric="cookbook"`` gives the Matrix Cookbook's
2G − G∘I; both checked against NumPy references written here from their defining relations."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derivmagic import ParseError, derive, derive_all
from derivmagic import check as numeric
from derivmagic.document import check_document
from derivmagic.rules import mul, trace, transpose
from derivmagic.symmetric import UpperPairing
from test_rules import as2d
from test_steps import check_steps

SYM = "S \\in \\mathbb{S}^n"
SPD = "S \\in \\mathbb{S}^n_{++}"


def symmetric_basis_derivatives(f, S):
    """D f(S)[E] for E = E_ij + E_ji (i < j) and E = E_ii: the derivatives along the symmetric unit
    directions, by central differences. ``out[i, j]`` for i ≤ j (mirrored below the diagonal)."""
    n = len(S)
    out = np.zeros((n, n))
    h = 1e-6
    for i in range(n):
        for j in range(i, n):
            E = np.zeros((n, n))
            E[i, j] = E[j, i] = 1.0
            out[i, j] = out[j, i] = (f(S + h * E) - f(S - h * E)) / (2 * h)
    return out


def gradient_on_symmetric_matrices(f, S):
    """The symmetric G with ⟨G, E⟩ = D f(S)[E] for every symmetric E: ⟨G, E_ii⟩ = G_ii and
    ⟨G, E_ij + E_ji⟩ = 2 G_ij."""
    D = symmetric_basis_derivatives(f, S)
    return np.where(np.eye(len(S), dtype=bool), D, D / 2)


def cookbook_gradient(f, S):
    """The Matrix Cookbook's: C_ij = ∂f/∂S_ij with S_ij = S_ji moving together (i ≤ j), so that
    df = Σ_{i≤j} C_ij dS_ij over the independent entries."""
    return symmetric_basis_derivatives(f, S)


# (id, cell, f(S, …) in NumPy, how S is drawn)
CASES = [
    ("bilinear", "\\nabla_S a^T S b\n" + SYM, lambda S, a, b: (a.T @ S @ b).item(), "sym"),
    ("logdet", "\\nabla_S \\log\\det S\n" + SPD, lambda S: np.linalg.slogdet(S)[1], "spd"),
    ("trace-product", "\\nabla_S \\operatorname{tr}(AS)\n" + SYM, lambda S, A: np.trace(A @ S), "sym"),
    ("quadratic-form", "\\nabla_S x^T S x\n" + SYM, lambda S, x: (x.T @ S @ x).item(), "sym"),
    ("trace", "\\nabla_S \\operatorname{tr}(S)\n" + SYM, lambda S: np.trace(S), "sym"),
    ("gaussian", "\\nabla_S \\log\\det S + \\operatorname{tr}(S^{-1} A)\n" + SPD,
     lambda S, A: np.linalg.slogdet(S)[1] + np.trace(np.linalg.solve(S, A)), "spd"),
    ("sandwich", "\\nabla_S \\operatorname{tr}(SASB)\n" + SYM, lambda S, A, B: np.trace(S @ A @ S @ B), "sym"),
    ("declared-by-equation", "\\nabla_S a^T S b\nS = S^T", lambda S, a, b: (a.T @ S @ b).item(), "sym"),
    ("partial-numerator", "\\frac{\\partial}{\\partial S} a^T S b\n" + SYM, lambda S, a, b: (a.T @ S @ b).item(),
     "sym"),
]
REFERENCES = {"sym": gradient_on_symmetric_matrices, "cookbook": cookbook_gradient}


def _point(d, kind, seed=4):
    rng = np.random.default_rng(seed)
    sizes = numeric.choose_sizes(d.reading.dims)
    env = {s.name: numeric.sample(s, sizes, None, rng) for s in d.reading.symbols.values()}
    if kind == "spd":
        assert "spd" in d.reading.symbols["S"].props
    assert np.allclose(env["S"], env["S"].T)
    return sizes, env


@pytest.mark.parametrize("convention", ["sym", "cookbook"])
@pytest.mark.parametrize("cell, f, kind", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gradient_by_a_symmetric_matrix_matches_its_definition(cell, f, kind, convention):
    d = derive(cell, symmetric=convention)
    assert d.answer.convention == convention and d.check.passed
    sizes, env = _point(d, kind)
    args = {k: env[k] for k in f.__code__.co_varnames}
    want = REFERENCES[convention](lambda S: f(**dict(args, S=S)), env["S"])
    got = numeric.evaluate(d.answer.result, env, sizes)
    assert np.allclose(got, want, atol=1e-6), (d.answer.result, got, want)
    # the contract's SymPy result gives the same numbers
    symbols = {s.name: s for s in d.result.free_symbols}
    dims = {symbols[k]: v for k, v in sizes.items() if k in symbols}
    matrices = {m: sp.ImmutableMatrix(env[m.name]) for m in d.result.atoms(sp.MatrixSymbol)}
    explicit = d.result.xreplace(matrices).xreplace(dims)
    value = np.array((explicit.as_explicit() if hasattr(explicit, "as_explicit") else explicit).tolist(), dtype=float)
    assert np.allclose(value, want, atol=1e-6)


def test_the_two_conventions_differ_off_the_diagonal():
    """The tables above are not vacuous: for aᵀSb the two references differ (by 2 off the diagonal)."""
    rng = np.random.default_rng(0)
    S, a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
    S = S + S.T
    f = lambda S: (a.T @ S @ b).item()  # noqa: E731
    G, C = gradient_on_symmetric_matrices(f, S), cookbook_gradient(f, S)
    assert np.allclose(G, (a @ b.T + b @ a.T) / 2, atol=1e-6)
    assert np.allclose(C, 2 * G - G * np.eye(3), atol=1e-6)
    assert not np.allclose(C, G, atol=1e-2) and not np.allclose(G, a @ b.T, atol=1e-2)


@pytest.mark.parametrize("convention", ["sym", "cookbook"])
@pytest.mark.parametrize("cell", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_step_holds_along_symmetric_directions(cell, convention):
    d = derive(cell, symmetric=convention)
    rng = np.random.default_rng(6)
    sizes = numeric.choose_sizes(d.reading.dims)
    for _ in range(2):
        env2 = {s.name: as2d(numeric.sample(s, sizes, "spd" if "spd" in s.props else None, rng))
                for s in d.reading.symbols.values()}
        assert not check_steps(d, env2, sizes, rng)


def logdet_cell(claim):
    return "\\nabla_S \\log\\det S = " + claim + "\n" + SPD


def bilinear_cell(claim):
    return "\\nabla_S a^T S b = " + claim + "\n" + SYM



COOKBOOK_SAYS = (r"this is the Matrix Cookbook's 2G − G∘I for symmetric S; in the symmetric-gradient convention "
                 r"\(\(G \+ Gᵀ\)/2\) it is S⁻¹; use --symmetric cookbook")
SYM_SAYS = r"this is the gradient on symmetric matrices, \(G \+ Gᵀ\)/2, for symmetric S; in the Matrix Cookbook's convention .* it is "
INDEPENDENT_SAYS = r"; with every entry independent it is "
INDEPENDENT = r"treats the entries of S as independent \(it is not symmetric\)"

CLAIMS = [
    ("logdet-sym", logdet_cell("S^{-1}"), "sym", True, None),
    ("logdet-cookbook-in-sym", logdet_cell("2S^{-1} - S^{-1}\\circ I"), "sym", False, COOKBOOK_SAYS),
    ("logdet-cookbook", logdet_cell("2S^{-1} - S^{-1}\\circ I"), "cookbook", True, None),
    ("logdet-sym-in-cookbook", logdet_cell("S^{-1}"), "cookbook", False, SYM_SAYS + r"2S⁻¹ - \(I ⊙ S⁻¹\); use "
                                                                                       r"--symmetric sym"),
    ("bilinear-sym", bilinear_cell("\\frac{1}{2}(ab^T + ba^T)"), "sym", True, None),
    ("bilinear-independent", bilinear_cell("ab^T"), "sym", False, INDEPENDENT + r".*symmetric part \(G \+ Gᵀ\)/2"),
    ("bilinear-cookbook-in-sym", bilinear_cell("ab^T + ba^T - (ab^T)\\circ I"), "sym", False,
     r"Matrix Cookbook's 2G − G∘I .* it is \(abᵀ \+ baᵀ\)/2; use --symmetric cookbook"),
    ("bilinear-cookbook", bilinear_cell("ab^T + ba^T - (ab^T)\\circ I"), "cookbook", True, None),
    ("bilinear-sym-in-cookbook", bilinear_cell("\\frac{1}{2}(ab^T + ba^T)"), "cookbook", False, SYM_SAYS),
    ("bilinear-independent-in-cookbook", bilinear_cell("ab^T"), "cookbook", False,
     INDEPENDENT + r"; in the Matrix Cookbook's convention it is 2G − G∘I of its symmetric part"),
    ("trace-either", "\\nabla_S \\operatorname{tr}(S) = I\n" + SYM, "cookbook", True, None),
    # the default (as the contract says): every entry independent, the other conventions named
    ("logdet-default", logdet_cell("S^{-1}"), None, True, None),
    ("logdet-cookbook-in-default", logdet_cell("2S^{-1} - S^{-1}\\circ I"), None, False,
     r"Matrix Cookbook's 2G − G∘I for symmetric S" + INDEPENDENT_SAYS + r"S⁻¹; use --symmetric cookbook"),
    ("bilinear-default", bilinear_cell("ab^T"), None, True, None),
    ("bilinear-sym-in-default", bilinear_cell("\\frac{1}{2}(ab^T + ba^T)"), None, False,
     r"gradient on symmetric matrices, \(G \+ Gᵀ\)/2, for symmetric S" + INDEPENDENT_SAYS + r"abᵀ; use --symmetric sym"),
    ("general-matrix-unchanged", "\\nabla_X a^T X b = ab^T", "cookbook", True, None),
]


@pytest.mark.parametrize("cell, convention, holds, reason", [c[1:] for c in CLAIMS], ids=[c[0] for c in CLAIMS])
def test_claims_in_either_convention(cell, convention, holds, reason):
    d = derive(cell, symmetric=convention)
    (claim,) = d.claims
    assert claim.holds is holds, claim.reason
    if reason is not None:
        assert claim.diagnosis in ("convention", "independent")
        assert re.search(reason, claim.reason), claim.reason
        assert claim.reason_latex
        if claim.diagnosis == "convention":   # the option as typewriter text, its dashes kept
            assert r"\texttt{-{}-symmetric " in claim.reason_latex


@pytest.mark.parametrize("convention, words", [
    ("sym", ["S is symmetric: ∇ is the gradient on the symmetric matrices, (G + Gᵀ)/2",
             "S symmetric: the gradient on symmetric matrices, (G + Gᵀ)/2",
             "identify the gradient on symmetric matrices"]),
    ("cookbook", ["S is symmetric: ∇ in the Matrix Cookbook's convention, by the independent entries S_{ij}",
                  "S symmetric: the Matrix Cookbook's 2G − G∘I",
                  "identify the gradient by the independent entries S_{ij}, i ≤ j (Matrix Cookbook)"]),
])
def test_the_convention_is_said_in_words(convention, words):
    d = derive("\\nabla_S a^T S b\n" + SYM, symmetric=convention)
    text = " ".join(d.text.split())
    for w in words:
        assert w in text, w
    assert "Matrix Cookbook" in d.latex


def test_a_general_matrix_and_a_vector_keep_the_independent_entries():
    for cell in (r"\nabla_X a^T X b", "\\nabla_x x^T S x\n" + SYM):
        for convention in ("sym", "cookbook"):
            d = derive(cell, symmetric=convention)
            assert d.answer.convention == ""
            assert "symmetric matrices" not in d.text and "Cookbook" not in d.text
    assert str(derive(r"\nabla_X a^T X b").result) == "a*b.T"


@pytest.mark.parametrize("convention", ["sym", "cookbook"])
def test_the_check_fails_for_the_other_gradient(convention):
    """The check is not vacuous: the gradient with independent entries (abᵀ, not symmetric) fails the
    symmetric-gradient check although tr((abᵀ)ᵀ V) is right along symmetric V; the symmetric gradient
    paired as the Cookbook's Σ_{i≤j} fails the Cookbook's check."""
    d = derive("\\nabla_S a^T S b\n" + SYM, symmetric=convention)
    a = d.answer
    assert numeric.verify(a, d.reading).passed
    syms = {s.name: s for s in d.reading.symbols.values()}
    if convention == "sym":
        wrong = mul(syms["a"], transpose(syms["b"]))
        pairing = trace(mul(transpose(wrong), a.dsym))
    else:
        wrong = derive("\\nabla_S a^T S b\n" + SYM).answer.result
        pairing = UpperPairing(wrong, a.dsym)
    bad = dataclasses.replace(a, result=wrong, pairing=pairing)
    verdict = numeric.verify(bad, d.reading)
    assert not verdict.passed and verdict.max_error > 0.01


@pytest.mark.parametrize("call", [
    lambda: derive(r"\nabla_x x^T x", symmetric="cokbook"),
    lambda: derive_all(r"\nabla_x x^T x", symmetric="Sym"),
    lambda: check_document("$$\\nabla_x x^T x$$", symmetric="matrix cookbook"),
], ids=["derive", "derive_all", "check_document"])
def test_a_misspelt_convention_is_refused(call):
    with pytest.raises(ValueError, match=r"symmetric must be 'independent' \(.*\), 'sym' \(.*\) or 'cookbook' \(.*\), not '"):
        call()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "derivmagic.cli", *args], capture_output=True, text=True)


def test_command_line_option():
    cell = "\\nabla_S \\log\\det S\n" + SPD
    out = _cli("--no-steps", "--symmetric", "cookbook", cell)
    assert out.returncode == 0 and "= 2S⁻¹ - (I ⊙ S⁻¹)" in out.stdout and "Matrix Cookbook" in out.stdout
    typo = _cli("--symmetric", "cokbook", cell)
    assert typo.returncode == 2 and "invalid choice: 'cokbook'" in typo.stderr and "'cookbook'" in typo.stderr


@pytest.mark.parametrize("cell", [
    "\\nabla_S a^T S b\nS = S^T",
    "\\nabla_S a^T S b\nS^T = S",
    "\\nabla_S a^T S b\nS = S^T, S \\in \\mathbb{R}^{n \\times n}",
    "\\nabla_S a^T S b\nS \\in \\mathbb{S}^n, S \\in \\mathbb{R}^{n \\times n}",
    "\\nabla_S a^T S b\nS \\in \\mathbb{R}^{n\\times n} \\text{ where } S \\text{ is symmetric}",
], ids=["equation", "equation-reversed", "equation-and-shape", "both-spaces", "in-words-and-shape"])
def test_symmetry_declared_by_an_equation_or_in_words(cell):
    d = derive(cell)
    assert d.reading.symbols["S"].symmetric and d.answer.convention == "independent"
    assert "= abᵀ" in d.text and "its entries taken as independent" in d.text
    assert "(abᵀ + baᵀ)/2" in derive(cell, symmetric="sym").text


@pytest.mark.parametrize("cell, message", [
    ("\\nabla_S a^T S b\nS = S^T, S \\in \\mathbb{R}^{n \\times m}", "S is declared symmetric and n×m: a symmetric "
                                                                    "matrix is square"),
    ("\\nabla_S a^T S b\nS \\in \\mathbb{S}^n, S \\in \\mathbb{S}^m", "S is declared twice, with different shapes"),
], ids=["oblong", "two-sizes"])
def test_contradictory_symmetric_declarations(cell, message):
    with pytest.raises(ParseError, match=message):
        derive(cell)


PAGE = "Let $S \\in \\mathbb{S}^n_{++}$.\n\n$$\\nabla_S \\log\\det S = 2S^{-1} - S^{-1}\\circ I$$\n"


@pytest.mark.parametrize("convention, verdict, words", [
    (None, "false", "this is the Matrix Cookbook's 2G − G∘I for symmetric S"),
    ("cookbook", "holds", ""),
], ids=["default", "cookbook"])
def test_documents_are_judged_in_the_convention_asked(convention, verdict, words, tmp_path):
    (statement,) = check_document(PAGE, symmetric=convention)
    assert statement.verdict == verdict and words in str(statement)
    page = tmp_path / "notes.md"
    page.write_text(PAGE)
    args = ["check", str(page)] + (["--symmetric", convention] if convention else [])
    out = _cli(*args)
    assert out.returncode == (1 if verdict == "false" else 0), out.stdout + out.stderr
