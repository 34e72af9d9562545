"""Generated code computes the function and its derivative: checked against finite differences."""
from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from derivmagic import derive
from derivmagic.check import choose_sizes, domains, sample

CELLS = {
    "least-squares": r"\nabla_x \|Ax - b\|_2^2",
    "quadratic": r"\nabla_x x^T A x",
    "logdet": "\\nabla_X \\log\\det X + \\operatorname{tr}(X^{-1} S)\nX \\in \\mathbb{S}^n_{++}",
    "softmax-ce": "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\nabla_\\theta J",
    "mlp": r"\nabla_W \|V \tanh(W x) - y\|^2",
    "logistic": r"\nabla_w \mathbf{1}^T \log(1 + \exp(-y \odot Xw))",
    "jacobian": r"\frac{\partial}{\partial x} \sigma(Wx + b)",
    "hessian": r"\nabla^2_x \log(1 + \exp(a^T x))",
    "norm-1": r"\nabla_x \|x\|_1 + \|x\|_2",
    "scalar": r"\frac{d}{dt} \operatorname{tr}((A + tB)^{-1})",
    # the shapes of issue 16: each exported through the evaluation plan
    "weighted-ls": r"\nabla_x (Ax - b)^T W (Ax - b)",
    "diag-weighted-ls": r"\nabla_x \|\operatorname{diag}(w)(Ax - b)\|^2",
    "logistic-hessian": r"\nabla^2_x \mathbf{1}^T \log(1 + \exp(-y \odot Ax))",
    "gram": r"\nabla_X \|X^T X - S\|_F^2",
    "chain": r"\nabla_x \|ABx - c\|^2",
    "diagonal-hessian": r"\nabla^2_x \mathbf{1}^T \exp(x)",
    "det": r"\nabla_X \det X",
    # matrix functions and spectral functions: SciPy in the NumPy source, helpers for what a library lacks
    "matrix-exp": r"\nabla_X \operatorname{tr}(B e^{X})",
    "matrix-sqrt": r"\nabla_X \operatorname{tr}(B X^{1/2}) + a^T X^{-1/2} a",
    "matrix-log": r"\nabla_X \operatorname{tr}(B \log X) + \operatorname{tr}(\log X)",
    "eigenvalues": r"\nabla_X \lambda_{\max}(X) - 2 \lambda_{\min}(X) + \lambda_2(X)",
    "singular-values": r"\nabla_X \|X\|_2 + \sigma_{\min}(X) + \|X\|_*",
    "inf-norm": r"\nabla_x \|Ax - b\|_\infty",
    "pseudo-inverse": r"\nabla_X \|X^{+} b\|^2",
    "class-label": r"\nabla_W -\log\operatorname{softmax}(Wx)_y",
}
SPECTRAL_CELLS = ["matrix-exp", "matrix-sqrt", "matrix-log", "eigenvalues", "singular-values", "inf-norm",
                  "pseudo-inverse"]


def _inputs(d, rng):
    sizes = choose_sizes(d.reading.dims)
    kinds = domains(d.answer.function)
    symbols = [s for s in d.reading.symbols.values() if s in d.answer.function.free or s in d.answer.result.free]
    if d.answer.var not in symbols:
        symbols.insert(0, d.answer.var)
    env = {s.name: sample(s, sizes, kinds.get(s.name), rng) for s in symbols}
    return symbols, env, sizes


def _fd(fn, args, i, h=1e-6):
    """d value / d args[i], arranged as value-index by variable-index (numerator layout)."""
    x = args[i]
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        plus = list(args)
        minus = list(args)
        plus[i] = x + e.reshape(x.shape)
        minus[i] = x - e.reshape(x.shape)
        cols.append((np.ravel(np.asarray(fn(*plus)[0])) - np.ravel(np.asarray(fn(*minus)[0]))) / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize("cell", list(CELLS.values()), ids=list(CELLS))
def test_numpy_function_agrees_with_finite_differences(cell):
    d = derive(cell)
    fn = d.to_function("numpy")
    rng = np.random.default_rng(1)
    symbols, env, sizes = _inputs(d, rng)
    args = [env[s.name] for s in symbols]
    i = symbols.index(d.answer.var)
    value, deriv = fn(*args)
    J = _fd(fn, args, i)
    if d.answer.kind == "hessian":
        # the derivative is the Hessian: compare with differences of a finite-difference gradient
        grad = derive(cell.replace(r"\nabla^2_x", r"\nabla_x")).to_function("numpy")
        assert grad.parameters == fn.parameters
        H = _fd(lambda *a: (grad(*a)[1],), args, i)
        assert np.allclose(deriv, H, atol=1e-5)
        return
    if d.answer.var.shape == (1, 1):
        want = J.reshape(np.shape(deriv))
    elif np.asarray(value).size == 1:
        want = J.reshape(args[i].shape)
    else:
        want = J if d.answer.layout == "numerator" and d.answer.kind != "gradient" else J.T
    if d.answer.convention == "sym":   # by a symmetric matrix: the gradient on symmetric matrices, (G + Gᵀ)/2
        want = (want + want.T) / 2
    assert np.allclose(np.asarray(deriv), want, atol=1e-5), (np.asarray(deriv), want)


def test_vectors_may_be_one_dimensional():
    fn = derive(r"\nabla_x \|Ax - b\|_2^2").to_function()
    A, b, x = np.arange(6.0).reshape(3, 2), np.ones(3), np.array([1.0, -1.0])
    value, grad = fn(x, A, b)
    assert grad.shape == (2,)
    assert np.isclose(value, np.sum((A @ x - b) ** 2))
    assert np.allclose(grad, 2 * A.T @ (A @ x - b))


def test_generated_source_names_only_the_cells_symbols():
    src = derive(r"\nabla_x \|Ax - b\|_2^2").to_source()
    assert "def f_and_derivative(x, A, b):" in src
    assert "eval" not in src and "exec" not in src


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of numpy, jax, torch"):
        derive(r"\nabla_x x^T x").to_source("tensorflow")


def _load(source: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f_and_derivative


@pytest.mark.parametrize("cell", list(CELLS.values()), ids=list(CELLS))
def test_numpy_source_computes_what_the_function_computes(cell, tmp_path):
    d = derive(cell)
    rng = np.random.default_rng(6)
    symbols, env, _ = _inputs(d, rng)
    args = [env[s.name] for s in symbols]
    want = d.to_function()(*args)
    got = _load(d.to_source("numpy"), tmp_path, "generated")(*args)
    assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_agree_with_numpy(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    d = derive(CELLS["mlp"])
    rng = np.random.default_rng(2)
    symbols, env, _ = _inputs(d, rng)
    args = [env[s.name] for s in symbols]
    want = d.to_function("numpy")(*args)
    got = _load(d.to_source(backend), tmp_path, f"generated_{backend}")(*args)
    deriv = np.asarray(got[1])
    # JAX computes in float32 unless jax_enable_x64 is set: single precision's tolerance then
    rtol = 1e-4 if deriv.dtype == np.float32 else 1e-7
    assert np.allclose(deriv, want[1], rtol=rtol, atol=rtol)
    assert np.allclose(float(got[0]), want[0], rtol=rtol)


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("key", SPECTRAL_CELLS)
def test_other_backends_agree_with_numpy_on_matrix_and_spectral_functions(backend, key, tmp_path):
    """JAX and PyTorch compute the matrix functions through their own calls or the helpers written into the
    source (an eigendecomposition), the same numbers as NumPy's SciPy calls."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    d = derive(CELLS[key])
    symbols, env, _ = _inputs(d, np.random.default_rng(3))
    args = [env[s.name] for s in symbols]
    want = d.to_function("numpy")(*args)
    src = d.to_source(backend)
    assert not re.search(r"\bnp\.|(?<!jax\.)scipy\.", src), src
    got = _load(src, tmp_path, f"spectral_{key.replace('-', '_')}_{backend}")(*args)
    deriv = np.asarray(got[1])
    rtol = 1e-3 if deriv.dtype == np.float32 else 1e-7
    assert np.allclose(deriv, want[1], rtol=rtol, atol=rtol)
    assert np.allclose(float(got[0]), want[0], rtol=rtol)


def test_the_function_is_built_without_compiling_source():
    fn = derive(r"\nabla_x \|Ax - b\|_2^2").to_function()
    assert fn.parameters == ["x", "A", "b"]
    assert "def f_and_derivative(x, A, b):" in fn.source
    with pytest.raises(ValueError, match="to_source"):
        derive(r"\nabla_x x^T x").to_function("torch")


# ---------------------------------------------------------------- names never collide (issue 15)
def _check_exported(d, rng, tmp_path, name="generated"):
    """The source runs, computes what to_function computes, and its derivative matches central
    differences of its own value."""
    from derivmagic.codegen import parameters
    sizes = choose_sizes(d.reading.dims)
    kinds = domains(d.answer.function)
    symbols = parameters(d)
    fn = d.to_function()
    args = [sample(s, sizes, kinds.get(s.name), rng) for s in symbols] + [sizes[k] for k in fn.sizes]
    got = _load(d.to_source("numpy"), tmp_path, name)(*args)
    want = fn(*args)
    assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])
    if np.asarray(want[0]).size == 1 and d.answer.kind == "gradient" and np.all(np.isfinite(want[1])):
        # a scalar function: its gradient against central differences of the exported value
        i = symbols.index(d.answer.var)
        J = _fd(fn, args, i)
        assert np.allclose(np.asarray(got[1]), J.reshape(np.shape(args[i])), rtol=1e-4, atol=1e-4)
    else:   # other kinds: the numbers are the derivation's, which its own check compares with differences
        assert d.check is None or d.check.passed or d.check.message, d.check


@pytest.mark.parametrize("cell", [
    r"\nabla_x x_{shape}^T x",                    # a symbol named like the variable's shape
    r"\nabla_v \mathbf{2}^T v_{2} + v^T v",       # 2 and v_2 are both the identifier v_2
    r"\nabla_x t_0^T x + t_{1}^T x + x^T x",      # like the temporaries t0, t1
    r"\nabla_x x^T x + \lambda \|x\|_1",          # lambda, a keyword
    r"\nabla_{\mathbf{x}} \mathbf{x}^T \mathbf{x} + x_{np}^T x",
], ids=["x_shape", "mathbf_2_and_v_2", "temporaries", "keyword", "np"])
def test_generated_names_never_collide(cell, tmp_path):
    d = derive(cell)
    source = d.to_source()
    header = source.split("def f_and_derivative(", 1)[1].split(")", 1)[0]
    params = [p.strip() for p in header.split(",")]
    assert len(params) == len(set(params)) and not {"np", "t0", "t1"} & set(params), header
    _check_exported(d, np.random.default_rng(3), tmp_path)


def test_a_dimension_no_argument_has_is_a_parameter(tmp_path):
    """a - a with a ∈ ℝᵏ is the zero vector of k entries: k is given (it was KeyError 'k')."""
    d = derive("F(X) = a_1 - a_1\nD F(X)[V]\nX \\in \\mathbb{R}^{q \\times q}\na_1 \\in \\mathbb{R}^{k}")
    fn = d.to_function()
    assert fn.sizes == ["k"] and "k" in d.to_source().split("):", 1)[0]
    _check_exported(d, np.random.default_rng(4), tmp_path)


def _random_cells(n: int, seed: int):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from test_properties import problems
    out = []
    for kind in ("gradient", "jacobian", "hessian", "directional"):
        @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        @given(problem=problems(kind), k=st.integers(0, 10**6))
        def collect(problem, k):
            out.append((problem.cell, problem.layout, k + seed))
        collect()
    return out


def _export_all(cells, tmp_path):
    from derivmagic import DerivError
    done = 0
    for i, (cell, layout, seed) in enumerate(cells):
        try:
            d = derive(cell, layout=layout)
        except DerivError:
            continue
        with np.errstate(all="ignore"):
            _check_exported(d, np.random.default_rng(seed), tmp_path, f"g{i}")
        done += 1
    return done


def test_random_derivable_cells_export_code_that_runs_and_agrees(tmp_path):
    """Every derivation exports code (names distinct, every size known) that computes what the
    derivation computes; 223 of 3,706 random derivable cells used to fail."""
    assert _export_all(_random_cells(25, 0), tmp_path) > 50


@pytest.mark.fuzz
def test_fuzz_random_derivable_cells_export_code(tmp_path):
    import os
    import resource
    import time
    n = int(os.environ.get("DERIVMAGIC_FUZZ_EXAMPLES", "1000"))
    cpu = time.process_time()
    done = _export_all(_random_cells(n, 1), tmp_path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n[fuzz codegen] {done} derivations exported and run, CPU {time.process_time() - cpu:.1f} s, "
          f"peak memory {peak:.0f} MB (process)")



# ---------------------------------------------------------------- the evaluation plan (issue 16)
def _lines(src: str) -> list[str]:
    """The right-hand sides of the generated function's assignments and its return."""
    body = src.split('"""', 2)[2]
    return [ln.split(" = ", 1)[1] if " = " in ln else ln.strip() for ln in body.splitlines() if ln.strip()]


def _agrees(cell, tmp_path, seed=5, name="planned"):
    """The exported source computes what the expression trees compute (the unplanned evaluation,
    node by node), and to_function() what the source computes."""
    from derivmagic.check import evaluate
    d = derive(cell)
    rng = np.random.default_rng(seed)
    symbols, env, sizes = _inputs(d, rng)
    args = [env[s.name] for s in symbols]
    value = evaluate(d.answer.function, env, sizes, memo={})
    deriv = evaluate(d.answer.result, env, sizes, memo={})
    got = _load(d.to_source("numpy"), tmp_path, name)(*args)
    assert np.allclose(np.reshape(got[0], value.shape), value)
    assert np.allclose(np.reshape(got[1], deriv.shape), deriv)
    ran = d.to_function()(*args)
    assert np.allclose(ran[0], got[0]) and np.allclose(ran[1], got[1])
    return d


def test_quadratic_form_never_adds_the_matrix_to_its_transpose(tmp_path):
    d = _agrees(CELLS["quadratic"], tmp_path)
    lines = _lines(d.to_source())
    sums = [ln for ln in lines if "+" in ln]
    assert sums and not any(op in ("A", "A.T") for ln in sums for op in ln.replace("+", " ").split()), lines
    assert "(x.T @ A).T" in lines                 # A^T x on A as stored
    assert "A @ x" in lines and sum("A @ x" in ln for ln in lines) == 1   # shared by value and gradient


def test_transpose_times_vector_is_a_transposed_product(tmp_path):
    d = _agrees(CELLS["least-squares"], tmp_path)
    src = d.to_source()
    assert "A.T @" not in src and re.search(r"\(\w+\.T @ A\)\.T", src), src


def test_products_ending_in_a_vector_are_matrix_vector_products(tmp_path):
    d = _agrees(CELLS["chain"], tmp_path)
    lines = _lines(d.to_source())
    assert "A @ B" not in " ".join(lines) and "B @ x" in lines, lines
    d = _agrees(CELLS["weighted-ls"], tmp_path, name="wls")
    lines = " ".join(_lines(d.to_source()))
    assert "W + " not in lines and "A.T @ W" not in lines and "W @ A" not in lines, lines


def test_matrix_chain_order_follows_the_shapes():
    from derivmagic.codegen import Emitter, _Factor
    em = Emitter("numpy")
    # 10x1000 @ 1000x1000 @ 1000x10 costs the same either way; 1000x10 @ 10x1000 @ 1000x1000 does not
    fs = [_Factor("dense", ("m", 10), code="P"), _Factor("dense", (10, "m"), code="Q"),
          _Factor("dense", ("m", "m"), code="R")]
    em.matrix_chain(fs)
    assert em.lines == ["    t0 = Q @ R", "    t1 = P @ t0"]


def test_diagonals_are_never_dense_inside_products(tmp_path):
    for key in ("logistic-hessian", "diag-weighted-ls"):
        d = _agrees(CELLS[key], tmp_path, name=key.replace("-", "_"))
        src = d.to_source()
        assert "diagflat" not in src, src
    lines = _lines(derive(CELLS["logistic-hessian"]).to_source())
    assert any(re.fullmatch(r"A\.T @ t\d+", ln) for ln in lines), lines   # A^T (d * A)
    assert any(re.fullmatch(r"t\d+ \* A", ln) for ln in lines), lines
    # a diagonal that is the result itself is still a matrix
    d = _agrees(CELLS["diagonal-hessian"], tmp_path, name="diagonal")
    assert "diagflat" in d.to_source()


def test_squared_norm_is_a_dot_product(tmp_path):
    for key in ("least-squares", "gram"):
        d = _agrees(CELLS[key], tmp_path, name=key.replace("-", "_"))
        src = d.to_source()
        assert "sqrt" not in src and "** 2.0" not in src, src
    assert re.search(r"(t\d+)\.T @ \1\n", derive(CELLS["least-squares"]).to_source())


def test_log_softmax_is_shifted_inputs_minus_one_logarithm(tmp_path):
    """log softmax(z) = (z - max z) - log Σ exp(z - max z), sharing the exponentials with softmax:
    no logarithm per entry, and finite where the softmax underflows to 0."""
    cell = "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\nabla_\\theta J"
    src = _agrees(cell, tmp_path, name="softmax_ce").to_source()
    assert src.count("_softmax_parts(theta)") == 1 and src.count(".log(") == 1, src
    fn = _load(src, tmp_path, "softmax_ce_far")
    theta, y = np.array([0.0, -800.0, 5.0]), np.array([0.2, 0.5, 0.3])
    value, grad = fn(theta, y)
    shifted = theta - theta.max()
    want = -(y @ (shifted - np.log(np.exp(shifted).sum())))
    assert np.isfinite(value) and np.isclose(value, want)


def test_log_det_by_slogdet_and_det_stays_det(tmp_path):
    d = _agrees(CELLS["logdet"], tmp_path)
    src = d.to_source()
    assert "slogdet" in src and "linalg.det(" not in src
    # where det overflows, the value is still finite
    fn = _load(src, tmp_path, "logdet_large")
    n = 400
    X = 10.0 * np.eye(n) + np.ones((n, n)) / n
    with np.errstate(all="ignore"):
        value, grad = fn(X, np.eye(n))
    assert np.isfinite(value) and np.isclose(value, np.linalg.slogdet(X)[1] + n / 10.0, rtol=1e-3)
    assert "linalg.det(" in _agrees(CELLS["det"], tmp_path, name="det").to_source()


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_get_the_plan_from_their_own_functions(backend):
    for cell in (CELLS["logdet"], CELLS["logistic-hessian"], CELLS["least-squares"]):
        src = derive(cell).to_source(backend)
        compile(src, "<generated>", "exec")
        assert not re.search(r"\bnp\.", src), src


def test_every_variable_of_a_multi_variable_gradient_is_exported(tmp_path):
    cell = r"\nabla_{W,b} \|\tanh(Wx + b) - y\|^2"
    d = derive(cell)
    assert [a.var.name for a in d.answers] == ["W", "b"]
    src = d.to_source()
    assert "def f_and_derivative(W, b, x, y):" in src and "(derivative by W, derivative by b)" in src
    rng = np.random.default_rng(8)
    W, b, x, y = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=4), rng.normal(size=3)
    for fn in (d.to_function(), _load(src, tmp_path, "multi")):
        value, (dW, db) = fn(W, b, x, y)
        assert np.isclose(value, np.sum((np.tanh(W @ x + b) - y) ** 2))
        assert dW.shape == W.shape and db.shape == b.shape
        assert np.allclose(dW, _fd(fn, [W, b, x, y], 0).reshape(W.shape), atol=1e-5)
        assert np.allclose(db, _fd(fn, [W, b, x, y], 1).reshape(b.shape), atol=1e-5)
    # one variable: the signature is unchanged
    one = derive(r"\nabla_W \|\tanh(Wx + b) - y\|^2").to_function()
    value, grad = one(*[dict(W=W, b=b, x=x, y=y)[p] for p in one.parameters])
    assert grad.shape == W.shape


# ---------------------------------------------------------------- to_function runs the source's plan
SIGNATURES = [
    ("least-squares", CELLS["least-squares"], ["x", "A", "b"]),
    ("weighted-ls", CELLS["weighted-ls"], ["x", "A", "b", "W"]),
    ("gram", CELLS["gram"], ["X", "S"]),
    ("several-variables", r"\nabla_{W,b} \|\tanh(Wx + b) - y\|^2", ["W", "b", "x", "y"]),
]


@pytest.mark.parametrize("cell, names", [s[1:] for s in SIGNATURES], ids=[s[0] for s in SIGNATURES])
def test_to_function_has_named_parameters_and_a_docstring(cell, names):
    import inspect
    fn = derive(cell).to_function()
    assert list(inspect.signature(fn).parameters) == names
    assert fn.__doc__ and "returns (value" in fn.__doc__
    assert f"def f_and_derivative({', '.join(names)}):" in fn.source


def test_to_function_takes_keywords_and_names_a_missing_argument():
    fn = derive(CELLS["least-squares"]).to_function()
    A, b, x = np.arange(6.0).reshape(3, 2), np.ones(3), np.array([1.0, -1.0])
    by_position = fn(x, A, b)
    by_keyword = fn(b=b, x=x, A=A)
    assert np.allclose(by_position[1], by_keyword[1]) and np.isclose(by_position[0], by_keyword[0])
    with pytest.raises(TypeError, match=r"f_and_derivative\(x, A, b\): missing a required argument: 'b'"):
        fn(x, A)


def test_to_function_is_not_bound_by_the_checks_size_limit(monkeypatch):
    """It runs the exported plan, not the check's evaluation: no limit on the arrays it is given."""
    from derivmagic import limits
    fn = derive(CELLS["quadratic"]).to_function()
    monkeypatch.setitem(limits.LIMITS, "check_entries", 10)
    rng = np.random.default_rng(3)
    x, A = rng.normal(size=40), rng.normal(size=(40, 40))
    value, grad = fn(x, A)
    assert np.isclose(value, x @ A @ x) and np.allclose(grad, A @ x + A.T @ x)


@pytest.mark.parametrize("cell", list(CELLS.values()), ids=list(CELLS))
def test_to_function_agrees_with_the_trees(cell):
    """The plan the function runs computes what the expression trees compute, node by node."""
    from derivmagic.check import evaluate
    d = derive(cell)
    rng = np.random.default_rng(8)
    symbols, env, sizes = _inputs(d, rng)
    value, deriv = d.to_function()(*[env[s.name] for s in symbols])
    assert np.allclose(value, evaluate(d.answer.function, env, sizes).reshape(np.shape(value)))
    want = evaluate(d.answer.result, env, sizes)
    assert np.allclose(np.reshape(deriv, want.shape), want)


ONES_AND_TRACES = [
    # cell, what the export writes, what it never writes
    ("softmax-ce", CELLS["softmax-ce"], r"y\.sum\(axis=0, keepdims=True\)", r"np\.ones|-1\.0 \*"),
    ("logistic", CELLS["logistic"], r"1\.0 \+ t\d+", r"np\.ones"),
    ("log-sum-exp", r"\nabla_x \log(\mathbf{1}^T \exp(x))", r"t\d+\.sum\(axis=0, keepdims=True\)", r"np\.ones"),
    ("trace-of-product", r"\nabla_X \operatorname{tr}(X^{-1} S) + \operatorname{tr}(X^T S)", r"np\.sum\(",
     r"np\.trace\("),
    # 2 g xᵀ: the 2 scales the vector g, not the n×n outer product
    ("scaled-outer-product", r"\nabla_{W_1} \|W_2 \tanh(W_1 x) - y\|^2", r"(t\d+) = 2\.0 \* t\d+\n    t\d+ = \1 @ x\.T",
     r"@ x\.T\n    t\d+ = 2\.0 \*"),
]


@pytest.mark.parametrize("cell, written, never", [r[1:] for r in ONES_AND_TRACES], ids=[r[0] for r in ONES_AND_TRACES])
def test_ones_are_sums_and_traces_of_products_are_elementwise(cell, written, never, tmp_path):
    """𝟏ᵀv as a column sum, 𝟏 + v as 1.0 + v, tr(AB) as Σ A ∘ Bᵀ: no array of ones, no n³ product
    for a trace; the numbers agree with the trees and with differences."""
    d = _agrees(cell, tmp_path, name="ones")
    src = d.to_source()
    assert re.search(written, src), src
    assert not re.search(never, src), src


def test_kronecker_forms_export_the_product_and_the_check_applies_it():
    """--vec results are Kronecker products: exported as np.kron (the result is that matrix); the
    check's plan applies it to vec V (vec(Q V Pᵀ)) without forming it."""
    from derivmagic.codegen import planned
    d = derive(r"\frac{\partial}{\partial X} AXB")
    assert "np.kron(" in d.to_source()
    sizes = dict(d.check.dims)
    fn = planned([d.answer.pairing], sorted(d.answer.pairing.free, key=lambda s: s.name), sizes)
    assert "kron" not in fn.program.source and "reshape" in fn.program.source
    rng = np.random.default_rng(0)
    env = {s.name: rng.normal(size=tuple(sizes.get(k, k) if isinstance(k, str) else k for k in s.shape))
           for s in sorted(d.answer.pairing.free, key=lambda s: s.name)}
    got = fn.run([env[k] for k in sorted(env)])[0]
    A, B, dX = env["A"], env["B"], env["dX"]
    assert np.allclose(got, (A @ dX @ B).reshape(-1, 1, order="F"))


@pytest.mark.parametrize("cell, matrix, products", [
    (CELLS["weighted-ls"], "W", 2),       # W r and (rᵀW)ᵀ, with r = Ax - b formed once
    (CELLS["weighted-ls"], "A", 2),       # A x and (gᵀA)ᵀ
    (CELLS["least-squares"], "A", 2),
], ids=["wls-W", "wls-A", "ls-A"])
def test_a_vector_that_is_a_sum_is_formed_once_not_distributed(cell, matrix, products):
    """A sum distributed over a vector saves a matrix sum; a matrix applied to a vector that is a sum
    (W(Ax - b)) multiplies it once, not once per term."""
    lines = _lines(derive(cell).to_source())
    used = [ln for ln in lines if re.search(rf"(@ {matrix}\b|\b{matrix} @)", ln)]
    assert len(used) == products, lines


def test_an_entry_at_a_class_label_is_exported_with_the_labels_one_hot_vector():
    """-log softmax(Wx)_y and its gradient (softmax(Wx) - e_y)xᵀ, at every label, against NumPy."""
    fn = derive(CELLS["class-label"]).to_function()
    assert fn.parameters == ["W", "e_y", "x"]
    assert "e_y is the one-hot vector of the class label y" in fn.__doc__
    rng = np.random.default_rng(4)
    W, x = rng.normal(size=(5, 3)), rng.normal(size=3)
    z = W @ x
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    for y in range(5):
        e_y = np.eye(5)[y]
        value, grad = fn(W, e_y, x)
        assert np.isclose(value, -np.log(p[y]))
        assert np.allclose(grad, np.outer(p - e_y, x))
