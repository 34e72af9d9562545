"""The %%derive and %derive_config magics, in process (an IPython shell, outputs captured)."""
from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from test_latex_renderers import need

need(importlib.util.find_spec("IPython") is not None, "IPython not installed (pip install -e '.[test]')")

from IPython.core.error import UsageError  # noqa: E402
from IPython.testing.globalipapp import start_ipython  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from derivmagic import Derivation  # noqa: E402
from derivmagic.magic import DeriveMagics  # noqa: E402

LS = "\\nabla_x \\|Ax - b\\|_2^2"


@pytest.fixture(scope="module")
def shell():
    import IPython
    return start_ipython() or IPython.get_ipython()   # the session's shell when another module started it


@pytest.fixture
def ip(shell):
    shell.run_line_magic("load_ext", "derivmagic")
    names = set(shell.user_ns)
    yield shell
    shell.run_line_magic("unload_ext", "derivmagic")
    for name in set(shell.user_ns) - names:
        del shell.user_ns[name]


def run(ip, source):
    with capture_output() as out:
        result = ip.run_cell(source)
    return result, out


def cell(ip, options, body=LS):
    result, out = run(ip, f"%%derive {options}\n{body}")
    assert result.success, (out.stdout, out.stderr, result.error_in_exec)
    return out


def bundle(out, i=0):
    return out.outputs[i].data


# ------------------------------------------------------------------ loading
def test_nothing_is_registered_on_import(shell):
    assert "derive" not in shell.magics_manager.magics["cell"]
    assert "derive_config" not in shell.magics_manager.magics["line"]


def test_load_unload_reload(shell):
    shell.run_line_magic("load_ext", "derivmagic")
    assert "derive" in shell.magics_manager.magics["cell"]
    assert "derive_config" in shell.magics_manager.magics["line"]
    shell.run_line_magic("unload_ext", "derivmagic")
    assert "derive" not in shell.magics_manager.magics["cell"]
    assert "derive_config" not in shell.magics_manager.magics["line"]
    assert DeriveMagics.__name__ not in shell.magics_manager.registry
    shell.run_line_magic("load_ext", "derivmagic")
    shell.run_line_magic("reload_ext", "derivmagic")
    out = cell(shell, "")
    assert "text/latex" in bundle(out)
    shell.run_line_magic("unload_ext", "derivmagic")


# ------------------------------------------------------------------ what a cell shows
def test_cell_shows_latex_and_text(ip):
    out = cell(ip, "")
    assert len(out.outputs) == 1 and out.stdout == "" and out.stderr == ""
    data = bundle(out)
    assert set(data) == {"text/plain", "text/latex"}
    latex, text = data["text/latex"], data["text/plain"]
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    for heading in ("Interpretation", "Steps", "Result", "Check"):
        assert f"\\textbf{{{heading}}}" in latex and heading in text
    assert "\\boxed{2 A^T (A x - b)}" in latex
    assert "\\underbrace{" in latex and re.search(r"\\text\{derivative of the (squared )?2-norm", latex)
    assert "x ∈ ℝ^n" in text and "A ∈ ℝ^(m×n)" in text
    assert "∇_x (‖Ax - b‖₂²) = 2Aᵀ(Ax - b)" in text
    assert "gradient, shaped like x: n×1" in text
    assert "✓ finite differences" in text and "max error" in text


def test_interpretation_notes(ip):
    text = bundle(cell(ip, "", "\\nabla_x e^T x"))["text/plain"]
    assert "read e as a vector" in text.split("Steps")[0]


def test_layouts(ip):
    body = "\\frac{\\partial}{\\partial x} x^T A x"
    num = bundle(cell(ip, "--layout numerator", body))["text/plain"]
    den = bundle(cell(ip, "--layout denominator", body))["text/plain"]
    assert "numerator layout: 1×n; the gradient is its transpose" in num
    assert "denominator layout" in den and "n×1" in den


def test_no_check_and_no_steps(ip):
    data = bundle(cell(ip, "--no-check --no-steps"))
    assert "not checked" in data["text/plain"] and "Steps" not in data["text/plain"]
    assert "\\text{not checked}" in data["text/latex"] and "\\textbf{Steps}" not in data["text/latex"]


def test_dims_and_seed(ip):
    out = cell(ip, "--dims m=7,n=5 --seed 3 --name d")
    assert "m=7, n=5" in bundle(out)["text/plain"]
    assert ip.user_ns["d"].check.dims == {"m": 7, "n": 5}


def test_name_stores_the_derivation(ip):
    cell(ip, "--name grad")
    d = ip.user_ns["grad"]
    assert isinstance(d, Derivation) and d.check.passed
    assert [str(n) for n in d.shape] == ["n", "1"] and set(d.symbols) == {"A", "x", "b"}


def test_latex_prints_the_block_to_copy(ip):
    out = cell(ip, "--latex")
    printed = out.stdout.strip()
    assert printed.startswith("\\begin{aligned}") and printed.endswith("\\end{aligned}")
    assert bundle(out)["text/latex"] == f"$${printed}$$"


def test_defaults_from_derive_config(ip):
    with capture_output() as out:
        ip.run_line_magic("derive_config", "--layout denominator --no-steps --no-check")
    assert "layout=denominator, check=off, steps=off" in out.stdout
    text = bundle(cell(ip, "", "\\frac{\\partial}{\\partial x} x^T A x"))["text/plain"]
    assert "denominator layout" in text and "Steps" not in text and "not checked" in text
    text = bundle(cell(ip, "--steps --check --layout numerator", "\\frac{\\partial}{\\partial x} x^T A x"))["text/plain"]
    assert "numerator layout" in text and "Steps" in text and "✓" in text
    with capture_output() as out:
        ip.run_line_magic("derive_config", "--reset")
    assert "layout=numerator, check=on, steps=on, symmetric=independent" in out.stdout
    assert "Steps" in bundle(cell(ip, ""))["text/plain"]


LOGDET = "\\nabla_S \\log\\det S\nS \\in \\mathbb{S}^n_{++}"


def test_symmetric_convention_option_and_session_default(ip):
    assert "= S⁻¹" in bundle(cell(ip, "", LOGDET))["text/plain"]
    assert "= 2S⁻¹ - (I ⊙ S⁻¹)" in bundle(cell(ip, "--symmetric cookbook", LOGDET))["text/plain"]
    with capture_output() as out:
        ip.run_line_magic("derive_config", "--symmetric cookbook")
    assert "symmetric=cookbook" in out.stdout
    assert "Matrix Cookbook" in bundle(cell(ip, "", LOGDET))["text/plain"]
    assert "= S⁻¹" in bundle(cell(ip, "--symmetric sym", LOGDET))["text/plain"]
    with capture_output() as out:
        ip.run_line_magic("derive_config", "--reset")
    assert "symmetric=independent" in out.stdout


# ------------------------------------------------------------------ --at
def test_at_evaluates_at_the_notebooks_arrays(ip):
    rng = np.random.default_rng(0)
    A, b, x = rng.standard_normal((4, 2)), rng.standard_normal(4), rng.standard_normal(2)
    ip.user_ns.update(A=A, b=b, x=x)
    out = cell(ip, "--at --name d")
    assert len(out.outputs) == 2
    shown = bundle(out, 1)
    want = 2 * A.T @ (A @ x - b)
    assert "\\begin{bmatrix}" in shown["text/latex"] and shown["text/latex"].startswith("$$")
    for v in want:
        assert f"{v:.4g}" in shown["text/latex"]
    assert "at the notebook's A, b, x" in shown["text/plain"] and "(2×1)" in shown["text/plain"]
    from derivmagic.magic import evaluate_at
    np.testing.assert_allclose(evaluate_at(ip.user_ns["d"], ip.user_ns).ravel(), want)


def test_at_scalar_and_matrix(ip):
    X, A = np.arange(6.0).reshape(3, 2), np.eye(3) + 1
    ip.user_ns.update(X=X, A=A)
    out = cell(ip, "--at --no-check", "\\nabla_X \\operatorname{tr}(X^T A X)")
    assert "\\begin{bmatrix}" in bundle(out, 1)["text/latex"]
    ip.user_ns.update(t=2.0)
    out = cell(ip, "--at --no-check", "\\frac{d}{dt} t^3")
    assert "= 12\\quad" in bundle(out, 1)["text/latex"]


@pytest.mark.parametrize("arrays, message", [
    ({"A": np.ones((3, 2)), "x": np.ones(2)}, "the notebook has no b"),
    ({"A": np.ones((3, 2)), "x": np.ones(2), "b": np.ones(4)}, "the shapes disagree: A is 3×2 and b is 4×1"),
    ({"A": np.ones((3, 2)), "x": np.ones(3), "b": np.ones(3)}, "the shapes disagree"),
    ({"A": np.ones((3, 2)), "x": "two", "b": np.ones(3)}, "x in the notebook is a str"),
])
def test_at_errors(ip, arrays, message):
    ip.user_ns.update(arrays)
    result, out = run(ip, f"%%derive --at\n{LS}")
    assert isinstance(result.error_in_exec, UsageError)
    assert message in out.stderr and "Traceback" not in out.stdout + out.stderr


def at_cell(ip, arrays, line="--at", body=LS):
    """``%%derive`` with the arrays in the notebook; the outputs (a UsageError propagates)."""
    ip.user_ns.update(arrays)
    with capture_output() as out:
        ip.run_cell_magic("derive", line, body)
    return out


LS_ARRAYS = {"A": np.arange(6.0).reshape(3, 2), "x": np.array([1.0, -1.0])}


@pytest.mark.parametrize("value, message", [
    (np.array([1.0, 2.0, 3.0]) + 1j, r"b in the notebook is a NumPy array of complex numbers \(dtype complex128\)"),
    ([1 + 2j, 2.0, 3.0], r"b in the notebook is a list of complex numbers \(dtype complex128\)"),
    (["1", "2", "3"], r"b in the notebook is a list of strings \(dtype <U1\)"),
    (np.array(["1.5", "2", "3"]), r"b in the notebook is a NumPy array of strings \(dtype <U3\)"),
    (np.array([b"1", b"2", b"3"]), r"b in the notebook is a NumPy array of bytes \(dtype \|S1\)"),
    (np.array([1, None, 3], dtype=object), r"b in the notebook is a NumPy array of Python objects \(dtype object\)"),
    (np.array([1.0, 2.0, 3.0], dtype=object), r"b in the notebook is a NumPy array of Python objects \(dtype object\)"),
    (np.array(["2026-01-01"] * 3, dtype="datetime64[D]"), r"b in the notebook is a NumPy array of dates"),
], ids=["complex-array", "complex-list", "string-list", "string-array", "bytes", "objects", "floats-as-objects",
        "dates"])
def test_at_refuses_values_that_are_not_real_numbers(ip, value, message):
    """Complex values lost their imaginary part (a ComplexWarning) and strings were converted."""
    with pytest.raises(UsageError, match=message + r".*--at needs real numbers"):
        at_cell(ip, {**LS_ARRAYS, "b": value})


@pytest.mark.parametrize("value, message", [
    (1 + 2j, r"--at: t in the notebook is a complex \(dtype complex128\)"),
    (np.complex64(1), r"--at: t in the notebook is a complex64 \(dtype complex64\)"),
    ("2", r"--at: t in the notebook is a str \(dtype <U1\)"),
], ids=["complex", "numpy-complex", "string"])
def test_at_refuses_a_scalar_that_is_not_a_real_number(ip, value, message):
    with pytest.raises(UsageError, match=message):
        at_cell(ip, {"t": value}, "--at --no-check", "\\frac{d}{dt} t^3")


@pytest.mark.parametrize("arrays, cell, message", [
    ({"X": np.zeros((3, 3))}, "\\nabla_X \\log\\det X",
     r"--at: the result cannot be evaluated at the notebook's values: singular matrix"),
    ({"X": np.ones((2, 3))}, "\\nabla_X \\log\\det X", r"--at: X is 2×3, but the cell reads X as m×m$"),
    ({"x": np.ones(0)}, "\\nabla_x x^T x", r"--at: x in the notebook is empty \(shape 0\); a size is at least 1"),
    ({"x": np.ones((3, 0))}, "\\nabla_x x^T x", r"--at: x in the notebook is empty \(shape 3×0\)"),
    ({"x": np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])}, "\\nabla_x x^T x",
     r"--at: x in the notebook is a masked array with 1 masked value; --at needs every value"),
    ({"x": 10 ** 400}, "\\frac{d}{dx} x^2", r"--at: x in the notebook is an integer too large for a float \(401 digits\)"),
    ({"x": np.ones(3), "A": np.arange(9.0).reshape(3, 3)}, "\\nabla_x x^T A x \\quad A \\in \\mathbb{S}^n",
     r"--at: the cell declares A ∈ 𝕊\^n \(symmetric\), but the notebook's A is not symmetric; the result assumes A = Aᵀ"),
    ({"x": np.ones(3), "A": -np.eye(3)}, "\\nabla_x x^T A x \\quad A \\in \\mathbb{S}^n_{++}",
     r"the cell declares A ∈ 𝕊\^n_\+\+ \(positive definite\), but the notebook's A is not positive definite"),
], ids=["singular", "not-square", "empty-vector", "empty-matrix", "masked", "huge-int", "not-symmetric",
        "not-definite"])
def test_at_refuses_values_the_result_cannot_be_evaluated_at(ip, arrays, cell, message):
    """A singular matrix gave a LinAlgError traceback; a non-square X for a square symbol 'X is 2×3
    and X is 2×3'; an empty vector an empty result; a masked array its hidden values; a
    non-symmetric A for A ∈ 𝕊ⁿ the numbers of a formula that assumes A = Aᵀ."""
    with pytest.raises(UsageError, match=message):
        at_cell(ip, arrays, "--at --no-check", cell)


def test_at_a_value_that_fits_the_declaration(ip):
    out = at_cell(ip, {"x": np.array([1.0, 2.0, 3.0]), "A": 2 * np.eye(3)}, "--at --no-check",
                  "\\nabla_x x^T A x \\quad A \\in \\mathbb{S}^n_{++}")
    assert "[[ 4.]\n [ 8.]\n [12.]]" in bundle(out, 1)["text/plain"]


def test_at_takes_integers_and_booleans_as_numbers(ip):
    out = at_cell(ip, {"A": np.arange(6).reshape(3, 2), "b": [True, False, True], "x": np.array([1, -1])})
    A, b, x = np.arange(6.0).reshape(3, 2), np.array([1.0, 0.0, 1.0]), np.array([1.0, -1.0])
    assert f"{(2 * A.T @ (A @ x - b))[0]:.4g}" in bundle(out, 1)["text/latex"]


def test_a_symbol_that_only_gives_sizes_may_be_anything(ip):
    """A notebook value of a symbol the result does not need is only read for its size, and only
    when it is a real array: a complex one beside it is left alone."""
    out = at_cell(ip, {"x": np.ones(3), "c": np.ones(3) + 1j}, "--at --no-check", "\\nabla_x x^T x + c^T c")
    assert "at the notebook's x" in bundle(out, 1)["text/plain"]


RIDGE = "\\nabla_x \\|Ax - b\\|_2^2 + \\lambda \\|x\\|^2"
RIDGE_ARRAYS = {"A": np.arange(6.0).reshape(3, 2), "b": np.array([1.0, 0.0, 2.0]), "x": np.array([1.0, -1.0])}


def ridge(lam):
    A, b, x = RIDGE_ARRAYS["A"], RIDGE_ARRAYS["b"], RIDGE_ARRAYS["x"]
    return 2 * A.T @ (A @ x - b) + 2 * lam * x


@pytest.mark.parametrize("name", ["lam", "lambda_", "λ", "lmbda"])
def test_at_reaches_lambda_under_its_python_names(ip, name):
    """lambda is a Python keyword: the notebook calls the symbol \\lambda lam, lambda_ or λ."""
    out = at_cell(ip, {**RIDGE_ARRAYS, name: 0.5}, "--at --no-check", RIDGE)
    shown = bundle(out, 1)
    assert "at the notebook's A, b, λ, x" in shown["text/plain"]
    for v in ridge(0.5):
        assert f"{v:.4g}" in shown["text/latex"]
    assert "\\lambda" in shown["text/latex"]


@pytest.mark.parametrize("cell, code", [
    ("\\nabla_\\theta \\|X\\theta - y\\|^2", "θ = np.array([3.0, 4.0])"),
    ("\\nabla_\\theta \\|X\\theta - y\\|^2", "theta = np.array([3.0, 4.0])"),
    ("\\nabla_{\\theta_1} \\|X\\theta_1 - y\\|^2", "θ_1 = np.array([3.0, 4.0])"),
    ("\\nabla_{\\mu} \\|X\\mu - y\\|^2", "µ = np.array([3.0, 4.0])"),
    ("\\nabla_{x} \\|X x - y\\|^2 + \\varepsilon x^T x", "x = np.array([3.0, 4.0]); ϵ = 0.5"),
], ids=["theta", "theta-spelled", "theta-subscript", "micro-sign", "lunate-epsilon"])
def test_at_reaches_greek_symbols_as_python_spells_them(ip, cell, code):
    """Code typed in the notebook is stored as Python normalizes it (NFKC): µ, the micro sign, is μ,
    and ϵ is ε."""
    result, _ = run(ip, f"import numpy as np\nX, y = np.eye(2), np.ones(2)\n{code}")
    assert result.success
    out = at_cell(ip, {}, "--at --no-check", cell)
    want = "[[ 7.]\n [10.]]" if "varepsilon" in cell else "[[4.]\n [6.]]"
    assert want in bundle(out, 1)["text/plain"]


def test_at_names_a_symbol_explicitly(ip):
    out = at_cell(ip, {**RIDGE_ARRAYS, "l2": 2.0, "A2": np.ones((3, 2))}, "--at lambda=l2,A=A2 --no-check", RIDGE)
    A, b, x = np.ones((3, 2)), RIDGE_ARRAYS["b"], RIDGE_ARRAYS["x"]
    for v in 2 * A.T @ (A @ x - b) + 4 * x:
        assert f"{v:.4g}" in bundle(out, 1)["text/latex"]


@pytest.mark.parametrize("line, arrays, message", [
    ("--at lamda=l2", {"l2": 1.0}, r"the cell has no symbol lamda \(did you mean lambda\?\); its symbols: A; b; "
                                    r"λ \(lambda_, λ, lam or lmbda\); x$"),
    ("--at y=b", {"b": 1.0}, r"the cell has no symbol y; its symbols: A; b; λ \(lambda_, λ, lam or lmbda\); x$"),
    ("--at lam=l3", {}, r"--at: the notebook has no variable l3 \(for λ\)"),
    ("--at lam", {}, r"--at expects SYMBOL=VARIABLE pairs like lambda=lam2,x=x0, not 'lam'"),
    ("--at", {}, r"the notebook has no λ \(named lambda_, λ, lam or lmbda in Python\) \(define it as a NumPy array\)"),
    ("--at", {"lam": 1.0, "λ": 2.0}, r"the notebook has both λ and lam, which may stand for λ; "
                                     r"say which with --at lambda=λ"),
], ids=["misspelled", "not-in-cell", "no-variable", "no-equals", "missing", "two-values"])
def test_at_refuses_names_it_cannot_resolve(ip, line, arrays, message):
    with pytest.raises(UsageError, match=message):
        at_cell(ip, {**RIDGE_ARRAYS, **arrays}, line + " --no-check", RIDGE)


def test_the_same_value_under_two_names_is_no_ambiguity(ip):
    lam = np.array(0.5)
    out = at_cell(ip, {**RIDGE_ARRAYS, "lam": lam, "λ": lam}, "--at --no-check", RIDGE)
    assert f"{ridge(0.5)[0]:.4g}" in bundle(out, 1)["text/latex"]


@pytest.mark.parametrize("name, names", [
    ("lambda", ["lambda_", "λ", "lam", "lmbda"]),
    ("lambda_1", ["lambda_1", "λ_1", "lam_1", "lmbda_1"]),
    ("theta", ["theta", "θ"]),
    ("Sigma_hat", ["Sigma_hat", "Σ_hat"]),
    ("varepsilon", ["varepsilon", "ε", "eps"]),
    ("vartheta", ["vartheta", "θ"]),
    ("ell", ["ell", "l"]),
    ("x_bar", ["x_bar"]),
    ("W_1", ["W_1"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_notebook_names_of_a_symbol(name, names):
    from derivmagic.magic import notebook_names
    assert notebook_names(name) == names


def test_a_name_two_symbols_share_is_neither_alias():
    """\\epsilon and \\varepsilon are both ε to Python, and \\ell is l: in a cell with both, ε is
    neither, and l is only the l of the cell."""
    from derivmagic.magic import _spellings
    got = _spellings(["epsilon", "varepsilon", "ell", "l"])
    assert got == {"epsilon": ["epsilon"], "varepsilon": ["varepsilon"], "ell": ["ell"], "l": ["l"]}


def test_a_hessian_too_large_for_the_notebooks_array_is_a_limit_error(ip):
    """--at at a 10⁵-vector: the 10⁵×10⁵ Hessian is refused before anything is allocated."""
    ip.user_ns.update(x=np.ones(100_000))
    with capture_output() as out:
        ip.run_cell_magic("derive", "--at --no-check", "\\nabla^2_x \\log(\\mathbf{1}^T \\exp(x))")
    assert len(out.outputs) == 0
    assert out.stderr.startswith("LimitError: evaluating this expression at n=100,000 needs arrays of ")
    assert "more than the limit of 4,000,000" in out.stderr


# ------------------------------------------------------------------ errors
def test_deriv_error_shows_message_and_caret_without_traceback(ip):
    result, out = run(ip, "%%derive\n\\nabla_x \\|Ax - b\\|_2^2\nA \\in \\mathbb{R}^{3 \\times 4}, x \\in \\mathbb{R}^3")
    assert result.success and out.outputs == []
    lines = out.stderr.splitlines()
    assert lines[0].startswith("ShapeError: ") and "A (3×4)" in lines[0] and "x (3×1)" in lines[0]
    assert lines[1] == "\\nabla_x \\|Ax - b\\|_2^2"
    assert set(lines[2].strip()) == {"^"} and lines[2].index("^") == lines[1].index("Ax")
    assert "Traceback" not in out.stdout + out.stderr


def test_no_terminal_escape_of_a_cell_reaches_the_output(ip):
    """IPython in a terminal prints stderr and text/plain raw: the caret line echoed an escape
    sequence of the cell (a new window title, a cleared screen)."""
    control = {chr(c) for c in range(32) if c != 10} | {chr(c) for c in range(0x7F, 0xA0)}
    result, out = run(ip, "%%derive\n\\nabla_x x^T x + \x1b]0;owned\x07\x1b[2J x")
    assert result.success and out.stderr.startswith("ParseError: ") and "␛" in out.stderr
    assert not control & set(out.stderr + out.stdout)
    out = cell(ip, "", "\\nabla_x x^T x \\quad \\text{a\x9b2J\x07b}")
    assert not control & set(bundle(out)["text/plain"])


def test_parse_error_has_a_caret(ip):
    result, out = run(ip, "%%derive\n\\nabla_x \\frac{1}{2 \\|x\\|^2")
    assert result.success
    assert out.stderr.startswith("ParseError: ") and "^" in out.stderr and "Traceback" not in out.stderr


def test_unexpected_failure_keeps_its_traceback(ip, monkeypatch):
    import derivmagic.magic as magic

    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")
    monkeypatch.setattr(magic, "derive_all", broken)
    result, out = run(ip, f"%%derive\n{LS}")
    assert isinstance(result.error_in_exec, RuntimeError)
    assert "engine bug" in out.stdout + out.stderr and "broken" in out.stdout + out.stderr


@pytest.mark.parametrize("line, hint", [
    ("--layuot numerator", "unknown option --layuot (did you mean --layout?)"),
    ("--lay numerator", "unknown option --lay (did you mean --layout?)"),
    ("--no-chek", "unknown option --no-chek (did you mean --no-check?)"),
    ("--nam d", "unknown option --nam"),
    ("--frobnicate", "unknown option --frobnicate"),
    ("--layout numerater", "invalid choice: 'numerater'"),
    ("--seed x", "invalid int value"),
    ("stray", "unrecognized arguments: stray"),
    ("--symmetric cokbook", "invalid choice: 'cokbook'"),
    ("--symetric cookbook", "unknown option --symetric (did you mean --symmetric?)"),
])
def test_unknown_or_misspelled_options(ip, line, hint):
    result, out = run(ip, f"%%derive {line}\n{LS}")
    assert isinstance(result.error_in_exec, UsageError)
    assert hint in out.stderr
    assert "valid options: --at, --check, --code, --dims, --expand, --latex, --layout, --name, --no-check, --no-steps, " \
        "--seed, --steps, --symmetric, --vec" in out.stderr
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize("line, hint", [
    ("--dims m=x", "--dims expects name=size pairs"),
    ("--dims k=3", "this cell has no dimension k (its dimensions: m, n)"),
    ("--name 1x", "--name needs a Python variable name"),
    ("--seed -3", "--seed needs a non-negative integer"),
])
def test_bad_option_values(ip, line, hint):
    result, out = run(ip, f"%%derive {line}\n{LS}")
    assert isinstance(result.error_in_exec, UsageError) and hint in out.stderr


def test_derive_config_rejects_unknown_options(ip):
    with pytest.raises(UsageError, match=r"unknown option --layou .*\n.*valid options: --check, --layout"):
        ip.run_line_magic("derive_config", "--layou numerator")


@pytest.mark.parametrize("magic", ["%%derive", "%derive_config", "%derive_check"])
def test_help_is_plain_text(ip, magic):
    """IPython writes a magic's usage as a reStructuredText block: %%derive? showed a stray '::'."""
    result, out = run(ip, f"{magic}?")
    assert result.success
    shown = out.stdout + "".join(str(o.data) for o in out.outputs)
    assert f"usage: {magic} [" in shown
    assert "::" not in shown and "<{" not in shown


def test_help(ip):
    doc = ip.find_cell_magic("derive").__doc__
    for option in ("--layout", "--no-check", "--no-steps", "--dims", "--seed", "--name", "--latex", "--at"):
        assert option in doc
    assert "%%derive [--layout {numerator,denominator}]" in doc
    result, out = run(ip, "%%derive?")
    assert result.success
    assert "--layout" in out.stdout + "".join(str(o.data) for o in out.outputs)
    assert "--reset" in ip.find_line_magic("derive_config").__doc__



def test_at_with_several_variables(ip):
    rng = np.random.default_rng(2)
    W, b, x, y = rng.standard_normal((3, 2)), rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(3)
    ip.user_ns.update(W=W, b=b, x=x, y=y)
    out = cell(ip, "--at --no-steps", "\\nabla_{W,b} \\|Wx + b - y\\|^2")
    assert len(out.outputs) == 3
    r = W @ x + b - y
    assert "(3×2)" in bundle(out, 1)["text/plain"] and "(3×1)" in bundle(out, 2)["text/plain"]
    assert f"{(2 * r)[0]:.4g}" in bundle(out, 2)["text/latex"]
    assert f"{(2 * np.outer(r, x))[0, 0]:.4g}" in bundle(out, 1)["text/latex"]


def test_evaluated_latex_renders():
    from derivmagic import derive
    from derivmagic.magic import Evaluated, matrix_tex
    from test_latex_renderers import NODE_REASON
    from texcheck import node_available, validate
    need(node_available(), NODE_REASON)
    big = np.arange(120.0).reshape(10, 12) * 1e-7
    assert r"\cdots" in matrix_tex(big) and r"\vdots" in matrix_tex(big) and r"\times 10^{" in matrix_tex(big)
    d = derive(LS)
    strings = [matrix_tex(big), matrix_tex(np.array([[3.5]])), matrix_tex(np.ones((1, 3))),
               Evaluated(d, np.ones((2, 1)))._repr_mimebundle_()["text/latex"][2:-2]]
    assert all(r["ok"] for r in validate(strings)), validate(strings)


def test_vec_and_code_options(ip):
    with capture_output() as io:
        ip.run_cell_magic("derive", "--vec --code numpy", r"\frac{\partial}{\partial X} AXB")
    text = io.outputs[0].data["text/plain"]
    assert "Bᵀ ⊗ A" in text and "d(AXB) = A dX B" in text
    assert "def f_and_derivative(X, A, B):" in io.stdout


# ------------------------------------------------------------------ several derivations in a cell
TWO = "\\nabla_x \\|Ax - b\\|_2^2 = 2A^T(Ax - b)\n\\nabla_x x^T A x = 2Ax"


def test_a_cell_with_several_derivations_shows_each_in_order(ip):
    out = cell(ip, "--name ds", TWO)
    assert len(out.outputs) == 2 and out.stderr == ""
    first, second = bundle(out, 0), bundle(out, 1)
    assert first["text/plain"].startswith("Derivation 1 of 2: ∇_x (‖Ax - b‖₂²)\nInterpretation")
    assert second["text/plain"].startswith("Derivation 2 of 2: ∇_x (xᵀAx)\nInterpretation")
    for heading in ("Interpretation", "Steps", "Result", "Claims", "Check"):
        assert heading in first["text/plain"] and heading in second["text/plain"]
    assert "✓ holds" in first["text/plain"] and "✗ does not hold" in second["text/plain"]
    assert first["text/latex"].startswith("$$\\begin{aligned}\n&\\textbf{Derivation 1 of 2} \\\\\n&\\textbf{Interpretation}")
    ds = ip.user_ns["ds"]
    assert isinstance(ds, list) and [type(d) for d in ds] == [Derivation, Derivation]
    assert [len(d.claims) for d in ds] == [1, 1]


def test_one_derivation_keeps_its_single_display_and_name(ip):
    out = cell(ip, "--name d")
    assert len(out.outputs) == 1 and not bundle(out)["text/plain"].startswith("Derivation")
    assert isinstance(ip.user_ns["d"], Derivation)


def test_several_derivations_with_at_latex_and_code(ip):
    rng = np.random.default_rng(1)
    A, b, x = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    ip.user_ns.update(A=A, b=b, x=x)
    out = cell(ip, "--at --latex --code numpy --no-steps", TWO)
    kinds = [o.data["text/plain"].split("\n", 1)[0] for o in out.outputs]
    assert kinds[0].startswith("Derivation 1 of 2") and kinds[2].startswith("Derivation 2 of 2")
    assert "at the notebook's A, b, x" in kinds[1] and "at the notebook's A, x" in kinds[3]
    assert f"{(2 * A.T @ (A @ x - b))[0]:.4g}" in bundle(out, 1)["text/latex"]
    assert f"{((A + A.T) @ x)[0]:.4g}" in bundle(out, 3)["text/latex"]
    assert out.stdout.count("\\begin{aligned}\n&\\textbf{Interpretation}") == 2
    assert "def f_and_derivative_1(x, A, b):" in out.stdout and "def f_and_derivative_2(x, A):" in out.stdout


def test_dims_of_any_derivation_are_accepted(ip):
    out = cell(ip, "--dims m=5 --name ds", TWO)
    assert ip.user_ns["ds"][0].check.dims["m"] == 5 and len(out.outputs) == 2
    result, out = run(ip, f"%%derive --dims k=2\n{TWO}")
    assert isinstance(result.error_in_exec, UsageError)
    assert "this cell has no dimension k (its dimensions: m, n)" in out.stderr


def test_several_derivations_render_in_katex_and_mathjax(ip):
    from test_latex_renderers import NODE_REASON
    from texcheck import node_available, validate
    need(node_available(), NODE_REASON)
    out = cell(ip, "", TWO)
    strings = [bundle(out, i)["text/latex"][2:-2] for i in range(2)]
    assert all(r["ok"] for r in validate(strings)), validate(strings)


# ------------------------------------------------------------------ %derive_check
NOTES_MD = ("# Least squares\n\n$$\\nabla_x \\|Ax - b\\|_2^2 = 2A^T(Ax - b)$$\n\n"
            "$$\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b$$\n\n$$\\nabla_x \\frac{1}{2 \\|x\\|^2$$\n\n"
            "$$\\frac{\\partial}{\\partial x} a^T x$$\n")


def test_derive_check_shows_a_table(ip, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(NOTES_MD, encoding="utf-8")
    with capture_output() as out:
        ip.run_line_magic("derive_check", f"{path} --name found")
    assert len(out.outputs) == 1 and out.stderr == ""
    data = out.outputs[0].data
    assert set(data) == {"text/plain", "text/html"}
    text = data["text/plain"].splitlines()
    assert text[0] == f"{path}:3: ✓ holds" and text[1].startswith(f"{path}:5: ✗ false — the term Aᵀb has coefficient 1")
    assert text[2].startswith(f"{path}:7: – not read — ") and text[3] == f"{path}:9: · derived (no claim): ∂/∂x (aᵀx) = aᵀ"
    assert text[4] == "4 derivative statements: 1 ✓ hold, 1 ✗ false, 1 · derived (no claim), 1 – not read"
    html = data["text/html"]
    assert html.startswith("<table>") and html.count("<tr>") == 5
    assert "✗ false" in html and "correct: <b>2Aᵀ" in html and "<code>\\nabla_x \\|Ax + b\\|_2^2 = 2A^T A x + A^T b</code>" in html
    assert [s.verdict for s in ip.user_ns["found"]] == ["holds", "false", "not read", "derived"]


def test_derive_check_expands_a_glob(ip, tmp_path):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("$$\\nabla_x x^T x = 2x$$\n", encoding="utf-8")
    with capture_output() as out:
        ip.run_line_magic("derive_check", f"{tmp_path}/*.md")
    text = out.outputs[0].data["text/plain"].splitlines()
    assert text == [f"{tmp_path}/a.md:1: ✓ holds", f"{tmp_path}/b.md:1: ✓ holds",
                    "2 derivative statements in 2 files: 2 ✓ hold, 0 ✗ false, 0 · derived (no claim), 0 – not read"]


@pytest.mark.parametrize("line, message", [
    ("missing.md", r"%derive_check: cannot read missing.md: No such file or directory"),
    ("--jsn notes.md", r"unknown option --jsn"),
    ("", r"the following arguments are required: FILE"),
    ("--name 1x notes.md", r"--name needs a Python variable name"),
], ids=["missing-file", "unknown-option", "no-file", "bad-name"])
def test_derive_check_usage_errors(ip, line, message):
    with pytest.raises(UsageError, match=message):
        ip.run_line_magic("derive_check", line)


def test_derive_check_is_unloaded(shell):
    shell.run_line_magic("load_ext", "derivmagic")
    assert "derive_check" in shell.magics_manager.magics["line"]
    shell.run_line_magic("unload_ext", "derivmagic")
    assert "derive_check" not in shell.magics_manager.magics["line"]


@pytest.mark.parametrize("name", ["__builtins__", "print", "len"])
def test_name_never_replaces_pythons_own_names(ip, name):
    before = ip.user_ns.get(name, None)
    result, out = run(ip, f"%%derive --name {name}\n{LS}")
    assert isinstance(result.error_in_exec, UsageError)
    assert f"--name {name} would replace Python's own {name}" in out.stderr
    assert ip.user_ns.get(name, None) is before


@pytest.mark.parametrize("line, body, want", [
    ("--at ε=e1", "\\nabla_x x^T x + \\epsilon \\varepsilon", r"the cell has no symbol ε; its symbols: epsilon; varepsilon; x"),
    ("--at ϑ=t1", "\\nabla_x x^T x + \\vartheta", r"the notebook has no variable t1 \(for ϑ\)"),
], ids=["shared-letter", "lunate-theta"])
def test_at_spellings_two_symbols_share_name_neither(ip, line, body, want):
    """ε spells both \\epsilon and \\varepsilon; ϑ, as Python normalizes it, spells \\vartheta."""
    with pytest.raises(UsageError, match=want):
        at_cell(ip, {"x": np.ones(2)}, line + " --no-check", body)
