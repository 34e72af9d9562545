"""Claims: each '=' link judged, common mistakes named, counterexamples, the notes' own answers."""
from __future__ import annotations

import re

import numpy as np
import pytest

from derivmagic import derive
from derivmagic.check import evaluate
from derivmagic.claims import expand

from shared_data import NOTES  # noqa: E402


@pytest.mark.parametrize("cell, holds, diagnosis, words", [
    (r"\nabla_x \|Ax - b\|_2^2 = 2A^T(Ax - b)", [True], None, None),
    (r"\nabla_x \|Ax + b\|_2^2 = 2A^T A x + A^T b", [False], "terms", r"Aᵀb has coefficient 1, not 2"),
    (r"\nabla_x \|Ax - b\|_2^2 = 2A^TAx - A^Tb", [False], "terms", r"off by a factor 2"),
    ("\\nabla_x x^T A x = 2Ax\nA \\in \\mathbb{S}^n", [True], None, None),
    (r"\nabla_x x^T A x = 2Ax", [False], "symmetric", r"true only if A = Aᵀ; A is not declared symmetric"),
    (r"\nabla_x x^T A x = (A + A^T)x", [True], None, None),
    (r"\frac{\partial}{\partial x} x^T A x = (A + A^T)x", [False], "transpose", r"denominator-layout answer"),
    (r"\nabla_X \operatorname{tr}(AX) = A", [False], "transpose", r"numerator-layout answer"),
    (r"\nabla_x \|x\|^2 = x", [False], "factor", r"off by a factor 2"),
    (r"\nabla_x \|x\|^2 = -2x", [False], "factor", r"wrong sign"),
    (r"\nabla_x a^T x = a^T", [False], "transpose", r"numerator-layout answer"),
    (r"\nabla_x \|Ax - b\|^2 = 2A(Ax - b)", [False], "shape", r"the claim is m×m .* gradient is n×1|cannot|claim is"),
    (r"\nabla_x x^T A x = (A + A^T)x = 2Ax", [True, False], "symmetric", r"A = Aᵀ"),
    (r"\nabla_x c = 0", [True], None, None),
], ids=["right", "wrong-term", "wrong-term-minus", "symmetric-declared", "symmetric-needed", "quadratic-right",
        "layout-numerator", "layout-matrix", "factor-half", "sign", "row-for-gradient", "shape", "chain", "zero"])
def test_verdicts_and_diagnoses(cell, holds, diagnosis, words):
    d = derive(cell)
    assert [c.holds for c in d.claims] == holds
    false = [c for c in d.claims if not c.holds]
    if diagnosis:
        assert false[0].diagnosis == diagnosis
        assert re.search(words, false[0].reason), false[0].reason
        assert false[0].correct is not None


@pytest.mark.parametrize("cell", [
    r"\nabla_x \|Ax + b\|_2^2 = 2A^T A x + A^T b",
    r"\nabla_x x^T A x = 2Ax",
    r"\nabla_x \|x\|^2 = x",
])
def test_counterexample_is_small_integers_and_really_differs(cell):
    d = derive(cell)
    ce = d.claims[0].counterexample
    assert ce is not None
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in ce["values"].values()])
    assert np.allclose(flat, np.round(flat))
    assert all(v <= 8 for v in ce["sizes"].values())
    env = {k: np.asarray(v, dtype=float).reshape(len(v), -1) if np.ndim(v) else np.full((1, 1), v)
           for k, v in ce["values"].items()}
    claimed = evaluate(d.claims[0].claimed, env, ce["sizes"])
    correct = evaluate(d.claims[0].correct, env, ce["sizes"])
    assert np.allclose(np.ravel(claimed), np.ravel(ce["claimed"]))
    assert np.allclose(np.ravel(correct), np.ravel(ce["correct"]))
    assert not np.allclose(claimed, correct)


def test_aligned_derivation_each_link_is_a_claim():
    cell = r"""\begin{aligned} \nabla_x \|Ax + b\|_2^2 &= \nabla_x (Ax + b)^T (Ax + b) \\
    &= \nabla_x [x^T \underbrace{A^T A}_{\text{symmetric}} x + 2b^T A x + b^T b] \\
    &= 2A^T A x + A^T b \end{aligned}"""
    d = derive(cell)
    assert [c.holds for c in d.claims] == [True, True, False]
    assert "Aᵀb" in d.claims[2].reason


@pytest.mark.parametrize("decorated", [
    r"\nabla_x x^T A x = \boxed{(A + A^T)x} \quad \checkmark",
    r"\therefore \nabla_x x^T A x = (A + A^T)x.",
    r"\nabla_x x^T A x = (A + A^T)x \qquad (3)",
    r"\nabla_x x^T A x = \underbrace{(A + A^T)}_{n \times n} x",
    r"\nabla_x x^T A x = (A + A^T)x \quad (\text{for any square } A)",
    r"\Rightarrow \nabla_x x^T A x = (A + A^T)x \quad \text{since } A \text{ is square}",
])
def test_decorations_of_notes_are_ignored(decorated):
    d = derive(decorated)
    assert [c.holds for c in d.claims] == [True]


def test_symbolic_equivalence_found_before_numbers():
    d = derive(r"\nabla_x \|Ax - b\|_2^2 = 2A^TAx - 2A^Tb")
    assert d.claims[0].holds and d.claims[0].method == "symbolic"


def test_expand_collects_like_terms():
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    e = expand(d.expr)
    assert len(e.args) == 2


# ---------------------------------------------------------------- the lecture notes' worked results
PINNED = {
    # first words of the display formula -> verdict of each '=' link
    # "= 2Ax (when A is symmetric)": the link holds under the condition written beside it
    r"\begin{aligned} \nabla_x x^T A x &= (A + A^T) x": [True, True],
    r"\begin{aligned} \nabla_x x^T A x + b^T x + c &=": [True, True],
    r"\begin{aligned} \nabla_x \|Ax + b\|_2^2 &=": [True, True, False],
    r"\nabla_x \|Ax - b\|_2^2 = 2A^T A x - A^T b": [False],
    r"\nabla_x \|x\|_2^2 = 2x": [True],
    r"\nabla_x (Ax + b)^T C (Dx + e) =": [True],
    r"\begin{aligned} \nabla_x (Ax - b)^T W (Ax - b) &=": [True, True],
    r"\nabla_x a^T x x^T b = (ab^T + ba^T) x": [True],
    r"\nabla_x \|x - a\|_2 =": [True],
    r"\nabla_x c^T x = c": [True],
    r"\frac{\partial}{\partial x} c^T x = c^T": [True],
    r"\nabla_{\mathbf{x}}^2 \mathbf{x}^T A \mathbf{x} = A + A^T": [True],
    r"\rightarrow \nabla \|X\|_F^2 = 2X": [True],
    r"\Rightarrow \frac{\partial \|x\|^2}{\partial x} = 2x^T": [True],
}


def _display_formulas():
    for path in sorted(NOTES.glob("*.txt")):
        for m in re.finditer(r"\$\$(.+?)\$\$", path.read_text(encoding="utf-8"), re.S):
            yield path.name, m.group(1).strip()


@pytest.mark.skipif(not NOTES.is_dir(), reason="tests/data/notes is missing")
@pytest.mark.parametrize("start, verdict", list(PINNED.items()), ids=list(range(len(PINNED))))
def test_worked_results_of_the_notes(start, verdict):
    found = [f for _, f in _display_formulas() if f.startswith(start)]
    assert found, f"formula not found in the notes: {start}"
    for formula in found:
        d = derive(formula)
        assert [c.holds for c in d.claims] == verdict, formula


@pytest.mark.skipif(not NOTES.is_dir(), reason="tests/data/notes is missing")
def test_the_notes_wrong_answers_are_caught_with_the_right_reason():
    reasons = {}
    for _, f in _display_formulas():
        if f.startswith(r"\nabla_x \|Ax - b\|_2^2 = 2A^T A x - A^T b") or f.startswith(r"\begin{aligned} \nabla_x \|Ax + b\|_2^2"):
            d = derive(f)
            bad = [c for c in d.claims if not c.holds]
            reasons[f[:30]] = bad[0].reason
    assert len(reasons) == 2
    assert all("off by a factor 2" in r for r in reasons.values())


def test_the_counterexample_is_the_same_in_every_run():
    import subprocess
    import sys
    code = ("from derivmagic import derive; "
            "print(derive(r'\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b').claims[0].counterexample)")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout for seed in (1, 2, 3)}
    assert len(outs) == 1 and "values" in outs.pop()


# ---------------------------------------------------------------- regressions
@pytest.mark.parametrize("cell, diagnosis, words", [
    (r"\nabla_x \|x\|_2^2 = 0", "zero", r"^the claim is 0 but the gradient is 2x$"),
    (r"\nabla_x \|x\|_2^2 = 0x", "zero", r"^the claim is 0 but the gradient is 2x$"),
    (r"\nabla^2_\theta \lambda^T x = 2", "zero", r"^the Hessian is 0 but the claim is 2$"),
    (r"\nabla_x \lambda^T y = x", "zero", r"^the gradient is 0 but the claim is x$"),
], ids=["claim-0", "claim-0x", "hessian-is-0", "gradient-is-0"])
def test_a_zero_side_is_a_false_claim_with_a_reason(cell, diagnosis, words):
    """Once a ZeroDivisionError (a ratio of 0 turned into a factor 1/0)."""
    d = derive(cell)
    (claim,) = d.claims
    assert not claim.holds and claim.diagnosis == diagnosis
    assert re.search(words, claim.reason), claim.reason
    ce = claim.counterexample
    assert ce is not None and not np.allclose(np.ravel(ce["correct"]), np.ravel(ce["claimed"]))
    assert claim.reason in d.text


@pytest.mark.parametrize("cell, direction", [
    ("D f(x)[2v]\nf(x) = x^Tx", lambda env: 2 * env["v"]),
    ("D f(x)[Av]\nf(x) = x^Tx", lambda env: env["A"] @ env["v"]),
    ("D f(x)[v+w]\nf(x) = x^T x", lambda env: env["v"] + env["w"]),
    ("D f(X)[2V^T]\nf(X) = X^TX", lambda env: 2 * env["V"].T),
    ("f(A) = A^3\nD f(A)[dA]", None),
], ids=["2v", "Av", "v+w", "2V^T", "dA"])
def test_a_direction_may_be_an_expression(cell, direction):
    """Once an AttributeError: the check took the direction for a symbol."""
    from derivmagic.check import concrete, directional_fd, verify
    d = derive(cell)
    assert d.check.passed and d.check.probes == 3, d.check.summary
    d.to_source()
    if direction is None:
        return
    rng = np.random.default_rng(5)
    sizes = {k: 3 + i for i, k in enumerate(sorted(d.reading.dims))}
    env = {s.name: rng.standard_normal(concrete(s.shape, sizes)) for s in d.reading.symbols.values()}
    got = evaluate(d.answer.result, env, sizes)
    want = directional_fd(d.answer.function, d.answer.var, env, sizes, direction(env))
    assert np.allclose(got, want, atol=1e-6)
    # the check really compares along the expression: a wrong derivative fails it
    import dataclasses
    from derivmagic.rules import add
    wrong = dataclasses.replace(d.answer, result=add(d.answer.result, d.answer.result))
    assert not verify(wrong, d.reading).passed


def test_a_claim_on_an_expression_direction_is_judged():
    assert [c.holds for c in derive("D f(x)[2v] = 4x^Tv\nf(x) = x^Tx").claims] == [True]
    (claim,) = derive("D f(x)[2v] = 2x^Tv\nf(x) = x^Tx").claims
    assert not claim.holds and claim.diagnosis == "factor"


@pytest.mark.parametrize("cell, holds, diagnosis", [
    (r"\nabla_X \operatorname{tr}(XA) + \log\det A = A", False, "symmetric"),
    (r"\nabla_X \operatorname{tr}(XA) + \log\det A = A^T", True, None),
    (r"\nabla_X \log\det X = X^{-1}", False, "symmetric"),
    (r"\nabla_X \log\det X = X^{-T}", True, None),
    ("\\nabla_X \\log\\det X = X^{-1}\nX \\in \\mathbb{S}^n", True, None),
    ("\\nabla_X \\log\\det X = X^{-1}\nX \\in \\mathbb{S}^n_{++}", True, None),
    (r"\frac{d}{dt} t^{-1} = -t^{-2}", True, None),
], ids=["logdet-term-A", "logdet-term-At", "logdet-inverse", "logdet-inverse-T", "declared-S", "declared-S++",
        "negative-power"])
def test_symbols_are_sampled_from_declarations_and_domains_only(cell, holds, diagnosis):
    """``log det A`` needs det A > 0, not A = Aᵀ: once, A was sampled symmetric positive definite
    and ∇_X tr(XA) = A was judged to hold."""
    d = derive(cell)
    assert d.check.passed
    (claim,) = d.claims
    assert claim.holds is holds, claim.reason
    if diagnosis:
        assert claim.diagnosis == diagnosis and "not declared symmetric" in claim.reason


def test_samples_for_log_det_have_a_positive_determinant_and_no_symmetry():
    from derivmagic.check import domains, sample
    from derivmagic.claims import _integer_sample
    from derivmagic.expr import Sym
    d = derive(r"\nabla_X \operatorname{tr}(XA) + \log\det A")
    kinds = domains(d.answer.function)
    assert kinds["A"] == "posdet"
    rng = np.random.default_rng(0)
    general, symmetric, spd = Sym("A", (4, 4)), Sym("S", (4, 4), props={"symmetric"}), Sym("P", (4, 4), props={"spd"})
    for draw in (sample, _integer_sample):
        for _ in range(20):
            a = draw(general, {}, "posdet", rng)
            assert np.linalg.det(a) > 0 and not np.allclose(a, a.T)
            s = draw(symmetric, {}, "posdet", rng)
            assert np.linalg.det(s) > 0 and np.allclose(s, s.T)
            p = draw(spd, {}, "posdet", rng)
            assert np.allclose(p, p.T) and np.all(np.linalg.eigvalsh(p) > 0)
    for sym in (general, symmetric):
        ints = _integer_sample(sym, {}, "posdet", rng)
        assert np.array_equal(ints, np.round(ints))   # counterexamples stay small integers


@pytest.mark.parametrize("cell", [r"\nabla_X \log\det(X + A)", r"\nabla_X \log\det(X^T A X)",
                                  r"\nabla_x \log(a^T x)"])
def test_a_domain_on_a_compound_is_met_by_drawing_again(cell):
    assert derive(cell).check.passed


def test_a_claim_whose_shapes_do_not_fit_is_shown_as_written():
    d = derive(r"\nabla_w \frac{1}{2}\|Xw-y\|^2 = X(Xw-y)")
    (claim,) = d.claims
    assert not claim.holds and claim.diagnosis == "shape" and claim.claimed is None
    assert claim.source == "X(Xw-y)"
    assert re.search(r"X \(m×n\) by Xw-y \(m×1\): n ≠ m", claim.reason), claim.reason
    # text: the claim line is the claim as written; the answer appears only labelled as the correct one
    lines = d.text.splitlines()
    start = lines.index("Claims")
    claim_lines = lines[start + 1:lines.index("Check")]
    assert claim_lines[0].rstrip().endswith("= X(Xw-y)    ✗ does not hold"), claim_lines[0]
    assert [ln for ln in claim_lines if "Xᵀ(Xw - y)" in ln] == ["      correct: Xᵀ(Xw - y)"]
    assert claim.text.splitlines()[0] == "✗ X(Xw-y)"
    # LaTeX: the same
    tex = d.latex
    block = tex[tex.index(r"\textbf{Claims}"):tex.index(r"\textbf{Check}")]
    rows = [r.replace(r"\end{aligned}", "").strip() for r in block.split(r" \\")]
    assert r"&= X(Xw-y) \qquad \boldsymbol{\times}\ \textbf{does not hold}" in rows[1]
    answer = r"X^T (X w - y)"
    assert [r for r in rows if answer in r] == [r"&\quad \text{correct: } X^T (X w - y)"]
    assert r"\boxed{X^T (X w - y)}" in tex   # the result, in its own part


def test_a_claim_as_written_is_valid_latex():
    from derivmagic.claims import source_latex
    assert source_latex("X(Xw-y)") == "X(Xw-y)"
    assert source_latex(r"\left(A + B\right)^T x") == r"\left(A + B\right)^T x"
    for odd in ["a & b", r"\left( x", "{x", r"x \\ y", "50% x", "x}", r"\tag{1} x", "x²"]:
        assert source_latex(odd).startswith(r"\mathtt{"), odd
    try:
        from texcheck import node_available, validate
    except ImportError:
        return
    if node_available():
        d = derive(r"\nabla_w \frac{1}{2}\|Xw-y\|^2 = X(Xw-y)")
        strings = [d.latex] + [source_latex(odd) for odd in ["a & b", r"\left( x", "{x", r"x \\ y", "50% #x$",
                                                              "x}", r"\tag{1} x", "x² ~ y_i^T"]]
        assert all(r["ok"] for r in validate(strings)), validate(strings)


@pytest.mark.parametrize("cell, holds", [
    (r"\nabla_X \operatorname{tr}(X) = I", [True]),
    (r"\nabla_X \operatorname{tr}(X) = 2I", [False]),
    (r"\nabla_x \mathbf{1}^T x = \mathbf{1}", [True]),
    (r"\nabla_x a^T x = c", [False]),
])
def test_a_claims_own_dimensions_take_the_derivatives_sizes(cell, holds):
    """``I`` in a claim has no size of its own: once "the claim is n×n but the gradient is m×m"."""
    d = derive(cell)
    assert [c.holds for c in d.claims] == holds
    assert all(c.diagnosis != "shape" for c in d.claims)


def test_a_condition_beside_a_link_is_what_makes_it_hold():
    written = r"\begin{aligned} \nabla_x x^T A x &= (A + A^T) x \\ &= 2Ax \quad (\text{when } A \text{ is symmetric}) \end{aligned}"
    d = derive(written)
    assert [c.holds for c in d.claims] == [True, True]
    assert d.claims[1].reason == "when A is symmetric, as written beside it"
    assert "✓ holds (when A is symmetric, as written beside it)" in d.text
    unconditional = derive(r"\begin{aligned} \nabla_x x^T A x &= (A + A^T) x \\ &= 2Ax \end{aligned}")
    assert [c.holds for c in unconditional.claims] == [True, False]


# ---------------------------------------------------------------- how a false claim is explained
@pytest.mark.parametrize("cell, text", [
    (r"\nabla_x \|x\|_2 = x", "at x = [-1, 3]: correct [-0.3162, 0.9487], claimed [-1, 3]"),
    (r"\nabla_x \lambda x^Tx = \lambda x", "at λ = -1, x = [3, 1]: correct [-6, -2], claimed [-3, -1]"),
], ids=["fractions", "greek-name"])
def test_counterexample_text_has_plain_numbers_and_the_symbols_as_printed(cell, text):
    from derivmagic.claims import format_counterexample
    ce = derive(cell).claims[0].counterexample
    assert format_counterexample(ce) == text
    assert all(type(x) in (int, float) for v in ce["values"].values() for x in np.ravel(v).tolist())
    assert "np." not in derive(cell).text


def test_counterexample_values_of_numpy_scalars_print_plainly():
    from derivmagic.claims import format_counterexample
    ce = {"values": {"t": np.float64(2.76)}, "correct": np.float64(1.5), "claimed": [np.float64(2.0)]}
    assert format_counterexample(ce) == "at t = 2.76: correct 1.5, claimed [2]"


@pytest.mark.parametrize("cell, latex", [
    (r"\nabla_x \|Ax + b\|_2^2 = 2A^T A x + A^T b",
     r"\text{the term } A^T b \text{ has coefficient 1, not 2 (off by a factor 2)}"),
    (r"\nabla_x x^T A x = 2Ax",
     r"\text{true only if } A = A^{T} \text{; } A \text{ is not declared symmetric (declare } A \in \mathbb{S}^n \text{)}"),
    (r"\nabla_x \|x\|^2 = 0", r"\text{the claim is 0 but the gradient is } 2 x"),
    (r"\frac{\partial}{\partial x} Ax = A^T", r"\texttt{-{}-layout denominator}"),
], ids=["term", "symmetric", "zero", "layout"])
def test_reasons_keep_mathematics_out_of_words(cell, latex):
    """The LaTeX of a reason sets symbols as mathematics, never inside \\text{} ('the term AᵀTb')."""
    d = derive(cell)
    claim = d.claims[0]
    assert latex in claim.reason_latex
    assert latex in d.latex
    assert not re.search(r"\\text\{[^}]*\b[A-Za-z]\}\^", d.latex)


def test_a_rewritten_reason_is_not_shown_with_its_stale_latex():
    claim = derive(r"\nabla_x \|x\|^2 = x").claims[0]
    assert claim.reason_latex
    claim.reason = "something else"
    assert claim.reason_latex == ""


@pytest.mark.parametrize("cell, option", [
    (r"\frac{\partial}{\partial x} Ax = A^T", "use --layout denominator if your course does"),
    (r"\frac{\partial}{\partial X} \operatorname{tr}(AX) = A^T", "use --layout denominator"),
    (r"\nabla_x a^Tx = a^T", "--layout numerator"),
], ids=["jacobian", "matrix", "gradient"])
def test_a_claim_in_the_other_layout_names_the_option(cell, option):
    assert option in derive(cell, check=False).claims[0].reason


def test_a_claim_in_the_other_layout_under_denominator_suggests_numerator():
    d = derive(r"\frac{\partial}{\partial x} Ax = A", layout="denominator", check=False)
    assert "use --layout numerator" in d.claims[0].reason


CS231N = r"L = -y^T \log \operatorname{softmax}(s), s = Wx, \nabla_W L = (\operatorname{softmax}(s) - y)x^T"


def test_softmax_gradient_without_a_declaration_says_it_needs_y_to_sum_to_one():
    claim = derive(CS231N).claims[0]
    assert not claim.holds and claim.diagnosis == "structure"
    assert claim.reason.startswith("holds when 𝟏ᵀy = 1 (y a probability vector or one-hot)")
    assert r"declare y \in \Delta^n" in claim.reason
    assert r"\mathbf{1}^{T} y = 1" in claim.reason_latex


@pytest.mark.parametrize("cell", [
    r"\nabla_z -y^T\log\operatorname{softmax}(z) = \operatorname{softmax}(z) - 2y",
    r"\nabla_x a^Tx = 2a",
], ids=["wrong-even-on-the-simplex", "no-vector-sums"])
def test_a_claim_false_on_the_simplex_too_is_not_blamed_on_it(cell):
    claim = derive(cell).claims[0]
    assert not claim.holds and claim.diagnosis != "structure"


@pytest.mark.parametrize("width", [12.0, 20.0, 30.0])
def test_a_long_reason_is_cut_between_words_never_inside_its_mathematics(width):
    from derivmagic.claims import reason_rows
    from derivmagic.report import tex_width
    claim = derive(CS231N).claims[0]
    rows = reason_rows(claim, width, tex_width)
    assert len(rows) > 1
    for piece in (r"\mathbf{1}^{T} y = 1", r"y \in \Delta^n"):
        assert any(piece in row for row in rows)
    for row in rows:   # a row is over the width only when it is a single piece
        assert tex_width(row) <= width or row.count(r"\text{") + row.count("=") <= 1
    short = reason_rows(claim, 1000.0, tex_width)
    assert short == [claim.reason_latex]
