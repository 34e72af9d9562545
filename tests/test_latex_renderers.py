"""Every LaTeX string derivmagic emits, over all public corpus cases and the examples, rendered by
KaTeX (strict) and MathJax 3 (tests/texcheck.py); and the structure a notebook relies on."""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pytest

from derivmagic import derive
from derivmagic.check import Check, evaluate
from derivmagic.examples import EXAMPLES
from derivmagic.report import chain_factors, derivation_latex, derivation_text, side_by_side, tex_text
from texcheck import node_available, validate

from shared_data import CORPUS  # noqa: E402
# cells beyond the corpus that reach other parts of the output: claims (a chain of them), several
# variables, Kronecker forms, index notation (notes), a directional derivative, a row vector
EXTRA = {
    "ambiguous reading": r"\nabla_\theta \frac12 \theta^T H \theta + k",
    "ignored remark": r"\nabla_X \operatorname{tr}(X^TAX) \quad (\text{when } A \text{ is symmetric})",
    "sum as printed": r"\nabla_\theta \sum_{i=1}^n y_i\log\sigma(\theta^T x_i) + (1-y_i)\log(1-\sigma(\theta^T x_i))",
    "differential direction": "f(A) = A^3\nD f(A)[dA]",
    "claim chain": "\\begin{aligned} \\nabla_x x^T A x &= (A + A^T) x \\\\ &= 2Ax \\end{aligned}",
    "claim from the notes": r"\nabla_x \|Ax + b\|_2^2 = 2A^TAx + A^Tb",
    "claim transposed": r"\frac{\partial}{\partial x} x^T A x = (A + A^T) x",
    "several variables": r"\nabla_{W,b} \|\sigma(Wx + b) - y\|^2",
    "kronecker": r"\frac{\partial}{\partial X} AXB",
    "kronecker outer": r"\frac{\partial}{\partial x} x x^T",
    "kronecker commutation": r"\frac{\partial}{\partial X} X^T A X",
    "symmetric gradient": "\\nabla_S a^T S b = ab^T\nS \\in \\mathbb{S}^n",
    "symmetric cookbook claim": "\\nabla_S \\log\\det S = 2S^{-1} - S^{-1}\\circ I\nS \\in \\mathbb{S}^n_{++}",
    "index notation": r"\nabla_w \sum_i (y_i - w^T x_i)^2",
    "directional": "f(X) = AXC\nDf(X)[V]",
    "scalar variable": r"\frac{d}{dt} t^3",
    "row vector": "\\frac{\\partial (xW)}{\\partial x}\nx \\in \\mathbb{R}^{1 \\times n}",
    "e as a vector": r"\nabla_x e^T x",
    "nested norm bars": r"\nabla_a \|a\|b\|^2\|^2",
    "entry at a class label": r"\nabla_W -\log\operatorname{softmax}(Wx)_y = (\operatorname{softmax}(Wx) - e_y)x^T",
    "entry of a definition at a label": "p = \\operatorname{softmax}(z)\n\\nabla^2_z -\\log p_y",
    # lecture-note notation: differentials, inner products, limits, points, primes, by an expression
    "differential target": r"d(X^{-1}) = -X^{-1} dX X^{-1}",
    "inner products": r"\nabla_X \langle A, X\rangle_F = A : I",
    "limit definition": r"\delta_{\mathbf{v}}f(\mathbf{x}) = \lim_{\epsilon \rightarrow 0} \frac{f(\mathbf{x} + "
                        r"\epsilon\mathbf{v}) - f(\mathbf{x})}{\epsilon}",
    "evaluation bar": r"\left.\frac{\partial y}{\partial x}\right|_{x = x_0} = 2x_0 \quad y = x^2",
    "primes": r"\frac{d}{dx} g(f(x)) = g'(f(x)) f'(x)",
    "by an expression": r"R = \|Y - X\theta\|_2^2 \quad \frac{\partial R}{\partial \theta} = \frac{\partial R}"
                        r"{\partial (Y - X\theta)} \frac{\partial (Y - X\theta)}{\partial \theta}",
    # derivatives of higher order: multilinear forms, a mixed block, a Kronecker Hessian, d^k/dt^k
    "third derivative": r"\nabla^3_x \|x\|^4",
    "form on given directions": "f(X) = \\log\\det X\nD^2 f(X)[U, V] = -\\operatorname{tr}(X^{-1}UX^{-1}V)",
    "mixed partials": r"\frac{\partial^2}{\partial x \partial y} x^T A y",
    "hessian by a matrix": r"\nabla^2_X \operatorname{tr}(X^TAX)",
    "scalar third derivative": r"\frac{d^3}{dt^3} e^{tA}",
    # matrix functions and spectral functions: roots, logarithms, eigen- and singular values, norms
    "matrix square root": r"\nabla_X \operatorname{tr}(B X^{1/2}) + a^T X^{-1/2} a",
    "matrix square root claim": r"\nabla_X \operatorname{tr}(X^{1/2}) = \frac12 X^{-1/2}",
    "matrix logarithm": r"\nabla_X \operatorname{tr}(B \log X) + \operatorname{tr}(\log X)",
    "matrix logarithm by a scalar": "\\frac{d}{dt} \\log(A + tB)\nA \\in \\mathbb{S}^n_{++}",
    "eigenvalues": r"\nabla_X \lambda_{\max}(X) - \lambda_{\min}(X) + \lambda_2(X) + \lambda_i(X)",
    "singular values and norms": r"\nabla_X \|X\|_2 + \|X\|_* + \sigma_{\min}(X)",
    "infinity norm": r"\nabla_x \|Ax - b\|_\infty + \|x\|_1",
    "pseudo-inverse": r"\nabla_X \operatorname{tr}(A X^{+}) + b^T X^\dagger c",
    # long output: lines broken, rules under their steps, a boxed result on several lines, a named function
    "long mlp nested": r"\nabla_{W_1} \frac{1}{2}\|W_2 \sigma(W_1 x + b_1) + b_2 - y\|_2^2 + \|W_1\|_F^2",
    "long mlp definitions": "h = \\sigma(W_1 x + b_1)\n\\hat{y} = W_2 h + b_2\n"
                            "L = \\frac{1}{2}\\|\\hat{y} - y\\|_2^2\n\\nabla_{W_1} L",
    "long logistic hessian": r"\nabla^2_\theta \sum_{i=1}^m y_i \log \sigma(x_i^T\theta) + (1-y_i)\log(1-\sigma(x_i^T\theta))",
    "long softmax": r"\nabla_{W_1} -y^T \log\operatorname{softmax}(W_2 \tanh(W_1 x + b_1) + b_2)",
}
# cells derived with an option
EXTRA_OPTIONS = {
    "symmetric cookbook": ("\\nabla_S a^T S b = \\frac{1}{2}(ab^T + ba^T)\nS \\in \\mathbb{S}^n", {"symmetric": "cookbook"}),
}
# text the engine might put into a message, a note or a rule name, with every special character
TRICKY_TEXT = ["50% {a} & b_c d_ ^ ~ # $ \\ | < >", "ŷ σ θ Σ ✓ ✗ … ∈ ℝ 𝕊 ‖x‖ √2 ≤ ≥ ≠ → · 𝟏 ± − ≈ ⟨x⟩ é ü ⊙ ∘",
               "x_iᵀ is row i, x₁₂, e^{…}, p*q×m*n, Aᵀb, dxᵀ dx⁻¹, f′", "read theta and y_hat as vectors",
               "df = tr(Gᵀ dX)", "d(∇f) = H dx"]
FORBIDDEN = [r"\begin{align}", r"\begin{align*}", r"\bm{", r"\DeclareMathOperator", r"\label", r"\tag", "$"]

REQUIRE_TOOLS = os.environ.get("DERIVMAGIC_REQUIRE_TOOLS") == "1"   # set by .ci/run: nothing may be skipped


def need(available: bool, reason: str) -> None:
    """Skip a test whose outside tool is absent, with the reason; under .ci/run, fail instead."""
    if not available and REQUIRE_TOOLS:
        pytest.fail(f"{reason} (DERIVMAGIC_REQUIRE_TOOLS=1: nothing may be skipped)")
    if not available:
        pytest.skip(reason, allow_module_level=True)


NODE_REASON = "node or tests/js/node_modules missing (run `npm ci` in tests/js)"


def corpus_cases() -> list[dict]:
    """The public corpus cases derive() should answer (expect_error ones left out)."""
    if not CORPUS.is_file():
        return []
    spec = importlib.util.spec_from_file_location("public_cases", CORPUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [c for c in module.CASES if "expect_error" not in c]


@lru_cache(maxsize=None)
def derivations() -> dict:
    """id -> Derivation, for every corpus case (in its layout) and every example."""
    out = {c["id"]: derive(c["cell"], layout=c.get("layout")) for c in corpus_cases()}
    out.update({f"example: {title}": derive(cell) for title, cell in EXAMPLES})
    out.update({name: derive(cell) for name, cell in EXTRA.items()})
    out.update({name: derive(cell, **options) for name, (cell, options) in EXTRA_OPTIONS.items()})
    return out


def emitted(d) -> dict:
    """name -> every LaTeX string a derivation hands to a renderer, without $$ delimiters."""
    out = {"latex": d.latex, "no steps": derivation_latex(d, steps=False)}
    if any(a.vectorized for a in d.shown_answers):   # the Kronecker form (K_{mn}, ⊗) shown with vec=True
        out["vec"] = derivation_latex(d, vec=True)
    assert d._repr_latex_() == f"$${d.latex}$$"
    assert d._repr_mimebundle_()["text/latex"] == d._repr_latex_()
    for i, step in enumerate(d.steps):
        out[f"step {i}"] = step.latex
    return out


def failed(d, message=""):
    return dataclasses.replace(d, check=Check(False, 0.25, dict(d.check.dims), 3, message))


def variants() -> dict:
    """The other states of a cell: a failed check, a check that could not run, no check."""
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    return {"check failed": failed(d), "check could not run": failed(d, "could not evaluate: singular matrix"),
            "not checked": derive(r"\nabla_x \|Ax - b\|_2^2", check=False)}


@lru_cache(maxsize=None)
def all_strings() -> dict:
    strings = {}
    for name, d in {**derivations(), **variants()}.items():
        for part, tex in emitted(d).items():
            strings[f"{name} / {part}"] = tex
    for i, plain in enumerate(TRICKY_TEXT):
        strings[f"tex_text {i}"] = tex_text(plain, {"theta": r"\theta", "y_hat": r"\hat{y}"})
        strings[f"tex_text formula {i}"] = tex_text(plain, formula=True)
    cell = r"\frac{\partial}{\partial x} \|Ax - b\|_2^2"
    strings["side by side"] = side_by_side(derive(cell, layout="numerator"),
                                           derive(cell, layout="denominator"))._repr_mimebundle_()["text/latex"][2:-2]
    return strings


def test_the_corpus_is_there():
    if not CORPUS.is_file():
        pytest.skip(f"the public corpus is not at {CORPUS}: only the examples are rendered")
    assert len(corpus_cases()) > 30


def test_katex_and_mathjax_render_every_string():
    need(node_available(), NODE_REASON)
    strings = all_strings()
    names = sorted(set(strings))
    # two node processes: MathJax takes about 0.1-0.3 s a derivation
    chunks = [names[i::2] for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(chunks[0] + chunks[1],
                           [r for rs in pool.map(lambda c: validate([strings[n] for n in c]), chunks) for r in rs]))
    bad = {n: (r, strings[n][:300]) for n, r in results.items() if not r["ok"]}
    assert not bad, "\n".join(f"{n}: {r}\n    {tex}" for n, (r, tex) in bad.items())


@pytest.mark.parametrize("name", ["latex", "no steps"])
def test_strings_are_ascii_and_portable(name):
    for key, d in derivations().items():
        tex = emitted(d)[name]
        assert tex.isascii(), (key, [ch for ch in tex if not ch.isascii()])
        for bad in FORBIDDEN:
            assert bad not in tex, (key, bad)
        assert tex.startswith(r"\begin{aligned}") and tex.endswith(r"\end{aligned}"), key
        assert tex.count(r"\begin{") == tex.count(r"\end{"), key


def test_every_part_is_there():
    for key, d in derivations().items():
        tex, text = d.latex, d.text
        for heading in ("Interpretation", "Steps", "Result", "Check"):
            assert rf"\textbf{{{heading}}}" in tex, (key, heading)
            assert heading in text.splitlines(), (key, heading)
        assert r"\boxed{" in tex, key
        if d.check.passed:
            assert r"\checkmark" in tex and "✓" in text, key
        else:
            assert r"\textbf{unverified}" in tex and "✗ unverified" in text, key
        for s in d.reading.symbols.values():
            assert s.tex in tex, (key, s.name)
        if d.claims:
            assert "Claims" in text and r"\textbf{Claims}" in tex, key
        for a in getattr(d, "answers", None) or [d.answer]:
            # a matrix function of a matrix shows its differential; its Kronecker form with vec=True
            assert ("the differential" in text) if a.vectorized else (a.description in text), key


def test_no_steps_leaves_out_only_the_steps():
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    tex, text = derivation_latex(d, steps=False), derivation_text(d, steps=False)
    assert r"\textbf{Steps}" not in tex and "Steps" not in text
    assert r"\boxed{" in tex and r"\textbf{Check}" in tex and r"\textbf{Interpretation}" in tex


def test_rule_names_beside_each_step_and_shapes_under_braces():
    d = derive("\\nabla_x \\mathbf{1}^T \\exp(Ax)\nA \\in \\mathbb{R}^{m \\times n}")
    rows = [r for r in d.latex.splitlines() if r.startswith(r"\mathrm{d}")]
    assert len(rows) == len(d.steps)
    for row, step in zip(rows, d.steps):
        assert "&&" in row and r"\text{" in row.split("&&")[1]
    assert r"\underbrace{A}_{m \times n}" in d.latex
    assert re.search(r"\}_\{m \\times m\}", d.latex)


def test_chain_factors_multiply_to_the_step():
    """The braced Jacobians of a chain-rule step, times the direction, are the step's differential."""
    rng = np.random.default_rng(1)
    checked = 0
    for key, d in derivations().items():
        sizes = {dim: 3 + i for i, dim in enumerate(sorted(d.reading.dims))}
        for step in d.steps:
            factors = chain_factors(step)
            if factors is None:
                continue
            outer, inner, dsym = factors
            assert outer.shape[1] == inner.shape[0], key
            env = {}
            for node in [step.differential, outer, inner, dsym]:
                for s in node.free:
                    if s.name not in env:
                        shape = tuple(sizes.get(x, x) for x in s.shape)
                        env[s.name] = np.abs(rng.standard_normal(shape)) + 0.5
            got = evaluate(outer, env, sizes) @ evaluate(inner, env, sizes) @ evaluate(dsym, env, sizes)
            want = evaluate(step.differential, env, sizes)
            np.testing.assert_allclose(got.reshape(-1), want.reshape(-1), rtol=1e-9, atol=1e-12, err_msg=key)
            checked += 1
    assert checked >= 10


def test_claims_are_judged_in_the_output():
    d = derivations()["claim from the notes"]
    tex, text = d.latex, d.text
    assert r"&= 2 A^T A x + A^T b \qquad \boldsymbol{\times}\ \textbf{does not hold}" in tex
    assert r"\text{correct: } 2 A^T (A x + b)" in tex and r"\text{counterexample at }" in tex
    assert "= 2AᵀAx + Aᵀb    ✗ does not hold" in text and "correct: 2Aᵀ(Ax + b)" in text
    chain = derivations()["claim chain"]
    assert chain.latex.count(r"\checkmark\ \text{holds}") == 1 and "does not hold" in chain.latex
    assert "A is not declared symmetric" in chain.text


def test_several_variables_each_have_a_result():
    d = derivations()["several variables"]
    assert d.latex.count(r"\boxed{") == 2
    assert r"\nabla_{W}" in d.latex and r"\nabla_{b}" in d.latex


def test_check_states_are_visible():
    v = variants()
    for name in ("check failed", "check could not run"):
        assert r"\boldsymbol{\times}\ \textbf{unverified}" in v[name].latex
        assert "✗ unverified" in v[name].text
    assert "could not evaluate: singular matrix" in v["check could not run"].text
    assert "max error 2.5e-01" in v["check failed"].text
    assert r"\text{not checked}" in v["not checked"].latex and "not checked" in v["not checked"].text
    ok = derive(r"\nabla_x \|Ax - b\|_2^2", dims={"m": 7, "n": 5})
    assert "m=7, n=5" in ok.text and r"m = 7,\ n = 5" in ok.latex


def test_text_is_readable_unicode():
    d = derive("\\nabla_x \\|Ax-b\\|_2^2\nA \\in \\mathbb{R}^{m \\times n}")
    text = d.text
    assert "\\" not in text.split("Steps")[0]  # the interpretation is not LaTeX
    assert "A ∈ ℝ^(m×n)" in text and "x ∈ ℝ^n" in text
    assert "∇_x (‖Ax - b‖₂²) = 2Aᵀ(Ax - b)" in text
    assert "gradient, shaped like x: n×1" in text


@pytest.mark.parametrize("plain, tex", [
    ("gradient, shaped like x: n×1", r"\text{gradient, shaped like x: }n \times 1"),
    ("read e as a vector (write \\exp or e^{…} for the exponential)",
     r"\text{read e as a vector (write }\exp\text{ or e}^{\dots}\text{ for the exponential)}"),
    ("50% {a} & b_c d_", r"\text{50}\%\text{ }\{\text{a}\}\text{ }\&\text{ b}_{c}\text{ d}\_"),
    ("✓ σ", r"\checkmark\text{ }\sigma"),
])
def test_tex_text(plain, tex):
    assert tex_text(plain) == tex


def test_tex_text_formula_and_names():
    assert tex_text("df = tr(Gᵀ dX)", formula=True) == r"\mathrm{d} f = \operatorname{tr} ( G ^{T} \mathrm{d} X )"
    assert tex_text("read theta as a vector", {"theta": r"\theta"}) == r"\text{read }\theta\text{ as a vector}"


# ---------------------------------------------------------------- the allow-list (issue 15)
HOSTILE_TEXT = [r"\input{/etc/passwd}", r"see \href{javascript:alert(1)}{here}", r"\immediate\write18{ls}",
                r"x^^5cinput{a}", r"100% \def\x{1} # $x$", "\x00\x1b\u202e é", r"^{\catcode`\@=11}", r"_{\url{x}}"]


def test_every_string_uses_only_allowed_commands():
    """Every string a renderer receives (the corpus, the examples, the cells beyond them, the
    states of the check, text with every special character) is built from the allow-list."""
    from derivmagic.texsafe import disallowed
    bad = {name: disallowed(tex) for name, tex in all_strings().items() if disallowed(tex)}
    assert not bad, bad


@pytest.mark.parametrize("plain", HOSTILE_TEXT)
def test_tex_text_never_passes_a_command_through(plain):
    """A note, a remark or a reason quoting the cell: its commands are shown, not run."""
    from derivmagic.texsafe import disallowed
    for tex in (tex_text(plain), tex_text(plain, formula=True), tex_text(plain, {"x": r"\input{y}"})):
        assert disallowed(tex) == [], (plain, tex)


# ---------------------------------------------------------------- widths and line breaks (issue 13)
# widths MathJax 3 drew (CommonHTML, in em of the math font), measured in headless Chromium
DRAWN_EM = [
    (r"\theta \in \mathbb{R}^{n},\ y \in \mathbb{R}^{n};\ \text{read }\theta\text{ as a vector}", 14.68),
    (r"\checkmark\ \text{finite differences along 3 random directions}\text{ at }m = 3,\ n = 4"
     r"\text{: max error }8.8 \times 10^{-11}", 36.77),
    (r"\nabla^2_{x} \left(x^T A x\right) = \boxed{A + A^T}", 10.02),
    (r"\mathrm{d}\left(\frac{1}{2} \theta^T H \theta\right) = \frac{(\mathrm{d}\theta^T H \theta + \theta^T H "
     r"\mathrm{d}\theta)}{2}  \text{product rule}", 20.53),
    (r"\nabla_{w} \left(\mathbf{1}^T (y - X w)^{\circ 2}\right) = \boxed{-2 X^T (y - X w)}", 17.16),
    (r"\mathrm{d}\left(\left\| \sigma(W x + b) - y \right\|_{2}^{2}\right) = 2 (\sigma(W x + b) \odot (\sigma(W x + b)"
     r" - y) \odot (\mathbf{1} - \sigma(W x + b)))^T \mathrm{d}b  \text{identify the gradient: }\mathrm{d} f = g ^{T}"
     r" \mathrm{d} b", 49.09),
    (r"\text{ambiguous: read }Y\text{ as a vector; declare }Y \in \mathbb{R}^{m \times n}\text{ if it is a matrix}",
     27.79),
    (r"\begin{aligned} \mathrm{d}\left(W x\right) &= W \mathrm{d}x && \text{constant factor} \\ "
     r"\mathrm{d}\left(\left\| W x \right\|_{2}\right) &= \frac{1}{\left\| W x \right\|_{2}} (W x)^T W \mathrm{d}x "
     r"&& \text{derivative of the 2-norm} \end{aligned}", None),
]


@pytest.mark.parametrize("latex, drawn", DRAWN_EM, ids=[f"drawn {i}" for i in range(len(DRAWN_EM))])
def test_tex_width_is_close_to_what_mathjax_draws(latex, drawn):
    from derivmagic.fit import tex_width
    if drawn is None:   # an aligned block: its widest row of each column, and the gap between pairs
        rows = [r"\mathrm{d}\left(\left\| W x \right\|_{2}\right)",
                r"= \frac{1}{\left\| W x \right\|_{2}} (W x)^T W \mathrm{d}x", r"\text{derivative of the 2-norm}"]
        drawn = sum(tex_width(r) for r in rows) + 2.0
    assert abs(tex_width(latex) - drawn) <= 0.12 * drawn


LONG = derive(r"\nabla_{W_1} \frac{1}{2}\|W_2 \sigma(W_1 x + b_1) + b_2 - y\|_2^2 + \|W_1\|_F^2 + \|W_2\|_F^2")


@pytest.mark.parametrize("latex", [True, False], ids=["latex", "text"])
@pytest.mark.parametrize("width", [12, 20, 30, 60], ids=lambda w: f"width {w}")
def test_break_lines_fits_and_keeps_every_character(latex, width):
    from derivmagic.fit import break_lines, measure
    from derivmagic.render import to_latex, to_text
    from derivmagic.report import rendering
    with rendering(LONG):
        printed = [(to_latex if latex else to_text)(s.differential) for s in LONG.steps]
    width = width if not latex else width / 2
    for s in printed:
        lines = break_lines(s, width, latex)
        assert len(lines) == 1 or all(measure(line, latex) <= width * 1.05 for line in lines[1:-1]), lines
        rejoined = "".join(lines).replace("{} ", "").replace(r"\cdot ", "").replace("· ", "")
        squeeze = lambda t: re.sub(r"\\left|\\right|\\Big|\s", "", t)   # noqa: E731
        assert squeeze(rejoined) == squeeze(s)
        if measure(s, latex) <= width:
            assert lines == [s]


@pytest.mark.parametrize("latex, width, source, want", [
    (True, 8, r"(a + b) \odot c + (c - d) \odot e - f", [r"(a + b) \odot c", r"{} + (c - d) \odot e", r"{} - f"]),
    (False, 16, "(a + b) ⊙ c + (c - d) ⊙ e - f", ["(a + b) ⊙ c", "+ (c - d) ⊙ e", "- f"]),
    (True, 5, r"A (B + C) D x", [r"A (B + C) D", r"{} \cdot x"]),
    (True, 3, r"A (B + C) D x", [r"A (B", r"{} + C)", r"{} \cdot D x"]),
    (False, 6, "A (B + C) D x", ["A (B", "+ C)", "· D x"]),
    (True, 3, r"\left\| \frac{1}{2} x + y \right\|_{2}", [r"\Big\| \frac{1}{2} x", r"{} + y \Big\|_{2}"]),
], ids=["latex at + first", "text at + first", "latex between factors", "latex inside parentheses",
        "text inside parentheses", "latex \\left made to span lines"])
def test_break_lines_prefers_the_outermost_break(latex, width, source, want):
    from derivmagic.fit import break_lines
    assert break_lines(source, width, latex) == want


LONG_CELLS = [name for name in EXTRA if name.startswith("long")]


@pytest.mark.parametrize("name", LONG_CELLS)
def test_long_output_fits_the_width(name):
    """The whole display within the width (estimated; tests/test_browser.py measures it drawn),
    and every text line within the text width."""
    from derivmagic.fit import TEXT_COLUMNS, WIDTH_EM, tex_width, text_width
    d = derivations()[name]
    assert tex_width(d.latex) <= WIDTH_EM + 1.5, tex_width(d.latex)
    assert max(text_width(line) for line in d.text.splitlines()) <= TEXT_COLUMNS
    assert derivations()[name].text.count("\n") > 10


def test_wide_rows_are_broken_and_rules_go_under_the_step():
    d = derivations()["long mlp nested"]
    rows = d.latex.splitlines()
    assert any(r.startswith(r"&\quad {} ") for r in rows)            # a continuation line, operator first
    assert any(r.startswith(r"&\qquad \text{") for r in rows)        # a rule under its step
    assert not any("&&" in r for r in rows if r.startswith(r"\mathrm{d}"))
    short = derive(r"\nabla_x \|Ax - b\|_2^2")                        # what fits keeps the rule beside
    assert all("&&" in r for r in short.latex.splitlines() if r.startswith(r"\mathrm{d}"))


def test_a_result_too_long_to_box_is_shown_unboxed():
    from derivmagic.fit import BOX_CHARS
    cell = r"\nabla_x " + " + ".join(rf"\sigma(A_{{{i}}} x + c_{{{i}}})^T \sigma(B_{{{i}}} x)" for i in range(1, 21))
    d = derive(cell, check=False)
    lines = [line for line in d.latex.splitlines() if line.startswith(r"\nabla_{x}")]
    assert len(d.latex) > BOX_CHARS and lines and r"\boxed" not in d.latex


# ---------------------------------------------------------------- rendering linear in the derivation (issue 16)
def chained(L: int, nested: bool) -> str:
    """∇_{W_1} ‖W_L σ(W_{L-1} ⋯ σ(W_1 x)) − y‖², as one nested formula or with definitions."""
    if nested:
        inner = "x"
        for i in range(1, L):
            inner = rf"\sigma(W_{{{i}}} {inner})"
        return rf"\nabla_{{W_{{1}}}} \|W_{{{L}}} {inner} - y\|_2^2"
    lines, prev = [], "x"
    for i in range(1, L):
        lines.append(rf"h_{{{i}}} = \sigma(W_{{{i}}} {prev})")
        prev = f"h_{{{i}}}"
    return "\n".join(lines + [rf"J = \|W_{{{L}}} {prev} - y\|_2^2", r"\nabla_{W_{1}} J"])


@pytest.fixture
def deep_cells(monkeypatch):
    from derivmagic import limits
    for key, value in (("operands", 10**5), ("function_nesting", 10**4), ("cell_chars", 10**6), ("work", None),
                       ("expression_size", 10**6), ("seconds", None)):
        monkeypatch.setitem(limits.LIMITS, key, value)


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "definitions"])
def test_printed_size_grows_linearly_with_depth(deep_cells, nested):
    """The characters printed (LaTeX and text) for 16, 32 and 64 chained layers: doubling the
    depth at most about doubles them (printed in full, the nested form grew as L³)."""
    from derivmagic import limits
    sizes, work = {}, {}
    for L in (16, 32, 64):
        d = derive(chained(L, nested), check=False)
        with limits.measure() as counted:   # the units of work rendering counts (nodes printed, walked)
            sizes[L] = len(d.latex) + len(d.text)
        work[L] = sum(counted)
    assert sizes[64] / sizes[32] <= 2.3 and sizes[32] / sizes[16] <= 2.3, sizes
    assert work[64] / work[32] <= 2.3 and work[32] / work[16] <= 2.3 and work[16] > 0, work


def test_a_network_128_layers_deep_renders(deep_cells):
    from derivmagic.fit import TEXT_COLUMNS, text_width
    d = derive(chained(128, True), check=False)
    latex, text = d.latex, d.text
    assert latex.count(r"\textbf{Steps}") == 1 and r"\text{where }" in latex
    assert max(text_width(line) for line in text.splitlines()) <= TEXT_COLUMNS


def test_shared_sub_expressions_are_named_once():
    """A long sub-expression shown in several places is printed once, by a name listed under
    'where'; short ones and expressions shown once are printed in full."""
    from derivmagic.report import NAME_CHARS
    d = derive(chained(12, True), check=False)
    text = d.text
    assert re.search(r"where u_1 +=", text) and "u_1" in text.split("Steps")[1]
    short = derive(r"\nabla_x \|Ax - b\|_2^2").text
    assert "where" not in short and len("‖Ax - b‖₂²") < NAME_CHARS


# lines of values read entry by entry (no steps of their own): each renders, and uses only the allow-list
VALUE_LINES = {
    "cases of an entry formula": r"y = -\log(x) \quad \frac{\partial y_i}{\partial x_j} = \begin{cases} -1/x_i & "
                                 r": i=j \\ 0 & : i \neq j \end{cases}",
    "kronecker delta": r"\frac{\partial y_i}{\partial x_j} = \delta_{ij} \quad y = x",
}


@pytest.mark.parametrize("cell", list(VALUE_LINES.values()), ids=list(VALUE_LINES))
def test_lines_of_values_render(cell):
    from derivmagic.texsafe import disallowed
    tex = derive(cell).latex
    assert not disallowed(tex)
    need(node_available(), NODE_REASON)
    result, = validate([tex])
    assert result["ok"], result
