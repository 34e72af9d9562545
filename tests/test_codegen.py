"""Generated code computes the function and its derivative: checked against finite differences."""
from __future__ import annotations

import importlib.util

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
}


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
        H = _fd(lambda *a: (grad(*a)[1],), args, i)
        assert np.allclose(deriv, H, atol=1e-5)
        return
    if d.answer.var.shape == (1, 1):
        want = J.reshape(np.shape(deriv))
    elif np.asarray(value).size == 1:
        want = J.reshape(args[i].shape)
    else:
        want = J if d.answer.layout == "numerator" and d.answer.kind != "gradient" else J.T
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
    assert np.allclose(np.asarray(got[1]), want[1])
    assert np.allclose(float(got[0]), want[0])


def test_the_function_is_built_without_compiling_source():
    fn = derive(r"\nabla_x \|Ax - b\|_2^2").to_function()
    assert fn.parameters == ["x", "A", "b"]
    assert "def f_and_derivative(x, A, b):" in fn.source
    with pytest.raises(ValueError, match="to_source"):
        derive(r"\nabla_x x^T x").to_function("torch")
