"""How a cell's symbols are read (shapes, names, properties), and the SymPy contract of
``Derivation.result``: explicit numeric matrices substituted for its ``MatrixSymbol``s (and
numbers for its dimensions), then ``.doit()``, give the right numbers.

Expected shapes are written with placeholder letters: each letter stands for one
dimension of the reading (distinct letters, distinct dimensions; the engine picks the
names), ``1`` is 1, an int is that int, and ``"=n"`` is a dimension literally named ``n``
(a declared one).
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivmagic import derive
from test_rules import RULE_CASES, derive_case, engine_env, expected, make_env, rel_err
from test_steps import CORPUS, corpus_env


def _dims_match(name, got, want, mapping):
    assert len(got) == 2, f"{name}: shape {got}"
    for g, w in zip(got, want):
        if isinstance(w, int):
            assert g == w, f"{name}: read as {got}, wanted {want}"
        elif w.startswith("="):
            assert g == w[1:], f"{name}: read as {got}, wanted the declared {want}"
        else:
            assert isinstance(g, str), f"{name}: read as {got}, wanted a free dimension for {w!r} in {want}"
            if w in mapping:
                assert mapping[w] == g, f"{name}: read as {got}; {w!r} is {mapping[w]!r} elsewhere"
            else:
                assert g not in mapping.values(), f"{name}: read as {got}; {g!r} is already another dimension"
                mapping[w] = g


# id, cell, {name: shape pattern}, {name: props}
SHAPES = [
    ("trace_quadratic_matrix", r"\nabla_X \operatorname{tr}(X^T A X)",
     {"X": ("a", "b"), "A": ("a", "a")}, {}),
    ("mse_theta_vector_N_scalar", "J(\\theta)=\\frac{1}{N}\\|y - X\\theta\\|^2\n\\nabla_\\theta J",
     {"theta": ("a", 1), "N": (1, 1), "y": ("b", 1), "X": ("b", "a")}, {}),
    ("mse_bold", "J(\\boldsymbol{\\theta}) = \\frac{1}{N} \\|\\mathbf{y} - X\\boldsymbol{\\theta}\\|_2^2\n\\nabla_{\\boldsymbol{\\theta}} J",
     {"theta": ("a", 1), "N": (1, 1), "y": ("b", 1), "X": ("b", "a")}, {}),
    ("residual_n_scalar", "R(\\theta) = \\frac{1}{n}\\|Y - X\\theta\\|_2^2\n\\frac{\\partial R}{\\partial \\theta}",
     {"theta": ("a", 1), "n": (1, 1), "Y": ("b", 1), "X": ("b", "a")}, {}),
    ("row_vector_declared", "\\frac{\\partial (xW)}{\\partial x}\nx \\in \\mathbb{R}^{1 \\times n}, W \\in \\mathbb{R}^{n \\times m}",
     {"x": (1, "=n"), "W": ("=n", "=m")}, {}),
    ("declared_with_thinspace", "\\nabla_x \\|Ax-b\\|_2^2\nA \\in \\mathbb{R}^{m \\times n},\\; x \\in \\mathbb{R}^n,\\; b \\in \\mathbb{R}^m",
     {"A": ("=m", "=n"), "x": ("=n", 1), "b": ("=m", 1)}, {}),
    ("declared_numbers", "\\nabla_x a^T x\nx \\in \\mathbb{R}^3",
     {"x": (3, 1), "a": (3, 1)}, {}),
    ("declared_name_list", "\\nabla_x x^T y\nx, y \\in \\mathbb{R}^n",
     {"x": ("=n", 1), "y": ("=n", 1)}, {}),
    ("declared_scalar", "\\nabla_t (a + t b)\nt \\in \\mathbb{R}",
     {"t": (1, 1), "a": ("a", 1), "b": ("a", 1)}, {}),
    ("symmetric", "\\nabla_x x^T S x\nS \\in \\mathbb{S}^n",
     {"x": ("=n", 1), "S": ("=n", "=n")}, {"S": {"symmetric"}}),
    ("spd", "\\nabla_\\Sigma \\log \\det(\\Sigma)\n\\Sigma \\in \\mathbb{S}^n_{++}",
     {"Sigma": ("=n", "=n")}, {"Sigma": {"symmetric", "spd"}}),
    ("e_is_a_vector", r"\nabla_x (Ax + b)^T C (Dx + e)",
     {"x": ("a", 1), "A": ("b", "a"), "b": ("b", 1), "C": ("b", "c"), "D": ("c", "a"), "e": ("c", 1)}, {}),
    ("e_power_is_exp", r"\frac{\partial e^{Ax}}{\partial x}",
     {"A": ("a", "b"), "x": ("b", 1)}, {}),
    ("greek_mean_is_vector", r"\nabla_\mu (x - \mu)^T \Sigma^{-1} (x - \mu)",
     {"mu": ("a", 1), "x": ("a", 1), "Sigma": ("a", "a")}, {}),
    ("greek_scalar", r"\nabla_x \alpha x^T x",
     {"alpha": (1, 1), "x": ("a", 1)}, {}),
    ("greek_upper_matrix", r"\nabla_\Theta \operatorname{tr}(\Theta A)",
     {"Theta": ("a", "b"), "A": ("b", "a")}, {}),
    ("t_scalar_by_use", r"\frac{d}{dt} t^2 A",
     {"t": (1, 1), "A": ("a", "b")}, {}),
    ("identity_not_a_symbol", r"\nabla_x x^T (A + \lambda I) x",
     {"x": ("a", 1), "A": ("a", "a"), "lambda": (1, 1)}, {}),
    ("ones_not_a_symbol", r"\nabla_W \mathbf{1}^T \tanh(Wx)",
     {"W": ("a", "b"), "x": ("b", 1)}, {}),
    ("softmax_theta_vector", "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\frac{\\partial J}{\\partial \\theta}",
     {"theta": ("a", 1), "y": ("a", 1)}, {}),
    ("upstream_declared_delta", "z = Wx\nJ = \\delta^T z\n\\frac{\\partial J}{\\partial W}\n\\delta \\in \\mathbb{R}^m",
     {"W": ("=m", "a"), "x": ("a", 1), "delta": ("=m", 1)}, {}),
    ("bold_names", r"\nabla_{\mathbf{z}} \|\mathbf{y} - \mathbf{z}\|_2^2",
     {"y": ("a", 1), "z": ("a", 1)}, {}),
    ("subscript_braces_one_name", r"\nabla_{W_1} \operatorname{tr}(W_{1}^T W_1)",
     {"W_1": ("a", "b")}, {}),
    ("subscript_braces_vector", r"\nabla_{x_{1}} x_1^T x_1",
     {"x_1": ("a", 1)}, {}),
    ("target_then_declaration", "\\nabla_X \\det X\nX \\in \\mathbb{R}^{n \\times n}",
     {"X": ("=n", "=n")}, {}),
    ("definition_target_declaration", "f = x^T A x\n\\nabla_x f\nx \\in \\mathbb{R}^n",
     {"x": ("=n", 1), "A": ("=n", "=n")}, {}),
]


@pytest.mark.parametrize("cid,cell,want,props", SHAPES, ids=[s[0] for s in SHAPES])
def test_symbol_shapes_as_read(cid, cell, want, props):
    d = derive(cell)
    syms = d.reading.symbols
    assert set(syms) == set(want), f"symbols read: {sorted(syms)}, wanted {sorted(want)}"
    mapping: dict = {}
    for name, pattern in want.items():
        _dims_match(name, syms[name].shape, pattern, mapping)
    for name, p in props.items():
        assert p <= set(syms[name].props), f"{name}: props {set(syms[name].props)}, wanted {p}"
    for name, s in syms.items():
        if name not in props:
            assert not s.symmetric, f"{name} read as symmetric without a declaration"
    dim_names = {dd for s in syms.values() for dd in s.shape if isinstance(dd, str)}
    assert not dim_names & set(syms), f"a dimension is named like a symbol: {dim_names & set(syms)}"
    # the contract's view of the same reading
    for name, s in syms.items():
        sy = d.symbols[name]
        if s.shape == (1, 1):
            assert isinstance(sy, sp.Symbol) and not isinstance(sy, sp.MatrixSymbol), f"{name}: {sy!r}"
        else:
            assert isinstance(sy, sp.MatrixSymbol), f"{name}: {sy!r}"
            assert tuple(str(x) for x in sy.shape) == tuple(str(x) for x in s.shape)


# ---------------------------------------------------------------- the SymPy contract
FORBIDDEN = ("Derivative", "PermuteDims", "ArrayTensorProduct", "ArrayContraction", "ArrayDiagonal",
             "ArrayAdd", "ArrayElementwiseApplyFunc", "Lambda_unapplied")


def sympy_numbers(d, env2: dict) -> np.ndarray:
    """``d.result`` with explicit ImmutableMatrix values and concrete dimensions, ``.doit()``."""
    expr = d.result
    reps: dict = {}
    dims: dict = {}
    for name, sy in d.symbols.items():
        val = env2[name]
        if isinstance(sy, sp.MatrixSymbol):
            for dim, n in zip(sy.shape, val.shape):
                if isinstance(dim, sp.Symbol):
                    dims[dim] = sp.Integer(n)
            reps[sy] = sp.ImmutableMatrix(val)
        else:
            reps[sy] = sp.Float(float(val.reshape(-1)[0]))
    for ms in expr.atoms(sp.MatrixSymbol):
        assert ms in reps, f"result has a MatrixSymbol {ms!r} that is not among d.symbols"
    v = expr.xreplace({**reps, **dims}).doit()
    if isinstance(v, sp.MatrixExpr):  # e.g. Identity(3), OneMatrix(3, 1): explicit in all but name
        v = v.as_explicit()
    if isinstance(v, sp.MatrixBase):
        return np.array(v.evalf().tolist(), dtype=float)
    return np.array(float(sp.N(v))).reshape(1, 1)


CONTRACT_RULES = [c for c in RULE_CASES if c["id"] in {
    "sum_linear", "scalar_symbol_multiple", "divide_by_scalar", "scalar_fn_times_vector-num", "outer_product_directional",
    "row_times_matrix-den", "XAX_directional", "trace_AXB", "scalar_by_matrix_trace-num", "row_variable_scalar-num",
    "inverse_bilinear", "inverse_directional", "gaussian_mean", "det", "logdet", "logdet_spd_declared", "norm2",
    "norm2_cubed", "normalize-num", "frobenius", "norm1_affine", "quadratic_symmetric", "exp_vector-num",
"logistic_loss", "sqrt_vector-den", "cube_hadamard-num", "scalar_power_frac", 
    "sigmoid_vector-den", "log_sigmoid", "hadamard_quotient-num", "softmax-num", "softmax_cross_entropy_matrix",
    "lse", "chain_two_layer", "hessian_norm", "hessian_scalar", "directional_tanh_matrix",
    "vector_by_scalar-den", "vector_by_scalar_exp-num", "matrix_by_scalar_inverse-num", "matrix_by_scalar_exp-den",
    "nabla_vector_by_scalar",
}]
CONTRACT = [("corpus", c) for c in CORPUS] + [("rule", c) for c in CONTRACT_RULES]


@pytest.mark.parametrize("src,case", CONTRACT, ids=[f"{s}-{c['id']}" for s, c in CONTRACT])
def test_sympy_result_gives_the_numbers(src, case):
    d = derive_case(case)
    names = {type(a).__name__ for a in sp.preorder_traversal(d.result)}
    assert not names & set(FORBIDDEN), f"unevaluated objects in the result: {names & set(FORBIDDEN)}"
    rng = np.random.default_rng(11)
    env = corpus_env(case, rng) if src == "corpus" else make_env(case, rng)
    env2 = engine_env(env)
    got = sympy_numbers(d, env2)
    want = expected(case, env)
    assert got.shape == want.shape, f"{d.result}: shape {got.shape}, wanted {want.shape}"
    tol = 1e-4 if case["kind"] == "hessian" else 1e-5
    err = rel_err(got, want)
    assert err <= tol, f"{d.result}: max rel error {err:.2e}\n got {got}\n want {want}"
    # d.shape, with the dimensions made concrete, is the shape of the numbers
    dims = {}
    for name, sy in d.symbols.items():
        if isinstance(sy, sp.MatrixSymbol):
            for dim, n in zip(sy.shape, env2[name].shape):
                dims[dim] = n
    shape = tuple(int(sp.sympify(x).xreplace(dims)) for x in d.shape)
    assert shape == got.shape, f"d.shape {d.shape} -> {shape}, numbers are {got.shape}"


def test_declaration_lists_after_spacing_and_greek_vectors():
    d = derive("\\nabla_x (x-\\mu)^T\\Sigma^{-1}(x-\\mu) \\quad \\Sigma \\in \\mathbb{S}^n_{++},\\; x, \\mu \\in \\mathbb{R}^n")
    assert d.reading.symbols["mu"].shape == ("n", 1) and d.reading.symbols["x"].shape == ("n", 1)


def test_a_gradient_is_not_read_as_of_a_matrix_function():
    d = derive("\\nabla_x (x-\\mu)^T\\Sigma^{-1}(x-\\mu) \\quad \\Sigma \\in \\mathbb{S}^n_{++}")
    assert d.reading.symbols["x"].shape == ("n", 1) and d.reading.symbols["mu"].shape == ("n", 1)
    assert d.answer.result.shape == ("n", 1)
