"""Entries at a class label: ``-\\log\\operatorname{softmax}(Wx)_y``, ``f(z)_y``, ``p_y`` with ``p = …``.

The subscript on a value is its y-th entry, ``e_yᵀ(…)``, y an integer label and e_y its one-hot
vector. Every result is evaluated through ``Derivation.result`` (SymPy, ``xreplace`` + ``doit``) at
the one-hot vector of each class in turn and compared with NumPy written here; claims are judged;
the Interpretation says how the subscript was read; the readings of plain subscripted names stay.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from derivmagic import ParseError, derive
from derivmagic.check import sample
from derivmagic.render import to_latex, to_text

N, M = 4, 3   # the label's vector has N entries; x has M


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def sig(u):
    return 1 / (1 + np.exp(-u))


def result_at(d, values: dict) -> np.ndarray:
    """``d.result`` with the explicit matrices (and their sizes) substituted, then ``doit()``."""
    subs, sizes = {}, {}
    for name, s in d.symbols.items():
        if name not in values:
            continue   # a definition's parameter (f(u) = …): not in the result
        v = np.asarray(values[name], dtype=float)
        if isinstance(s, sympy.MatrixSymbol):
            subs[s] = sympy.ImmutableMatrix(v)
            sizes.update({k: n for k, n in zip(s.shape, v.shape) if isinstance(k, sympy.Symbol)})
        else:
            subs[s] = sympy.Float(float(v))
    out = d.result.xreplace(subs).xreplace(sizes).doit()
    return np.array(out.evalf(), dtype=float) if isinstance(out, sympy.MatrixBase) else np.array([[float(out)]])


def one_hot(k: int, n: int = N) -> np.ndarray:
    return np.eye(n)[:, [k]]


rng = np.random.default_rng(5)
z, W, x, A = rng.normal(size=(N, 1)), rng.normal(size=(N, M)), rng.normal(size=(M, 1)), rng.normal(size=(N, N))

# (id, cell, values but e_y, the derivative at the label k by NumPy)
CASES = [
    ("cross_entropy_z", r"\nabla_z -\log\operatorname{softmax}(z)_y", {"z": z},
     lambda k: softmax(z) - one_hot(k)),
    ("cross_entropy_W", r"\nabla_W -\log\operatorname{softmax}(Wx)_y", {"W": W, "x": x},
     lambda k: (softmax(W @ x) - one_hot(k)) @ x.T),
    ("defined_p_y", "p = \\operatorname{softmax}(z)\n\\nabla_z -\\log p_y", {"z": z},
     lambda k: softmax(z) - one_hot(k)),
    ("probability_of_the_label", r"\nabla_z \operatorname{softmax}(z)_y", {"z": z},
     lambda k: softmax(z)[k, 0] * (one_hot(k) - softmax(z))),
    ("entry_of_a_product", r"\nabla_x (Wx)_y", {"W": W, "x": x}, lambda k: W.T @ one_hot(k)),
    ("entry_of_sigmoid", r"\nabla_x \sigma(Wx)_c", {"W": W, "x": x},
     lambda k: (sig(W @ x) * (1 - sig(W @ x)))[k, 0] * W.T @ one_hot(k)),
    ("entry_of_a_defined_function", "f(u) = \\tanh(Au)\n\\nabla_z f(z)_y", {"z": z, "A": A},
     lambda k: A.T @ ((1 - np.tanh(A @ z) ** 2) * one_hot(k))),
    ("index_letter_not_taken_by_a_derivative", r"\nabla_z -\log\operatorname{softmax}(z)_i", {"z": z},
     lambda k: softmax(z) - one_hot(k)),
    ("hessian", r"\nabla^2_z -\log\operatorname{softmax}(z)_y", {"z": z},
     lambda k: np.diagflat(softmax(z)) - softmax(z) @ softmax(z).T),
]


@pytest.mark.parametrize("cell,values,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_entry_at_every_label_against_numpy(cell, values, want):
    d = derive(cell)
    assert d.check.passed, d.text
    label = next(name for name in d.symbols if name.startswith("e_"))
    for k in range(N):
        got = result_at(d, {**values, label: one_hot(k)})
        assert np.allclose(got, want(k), atol=1e-10), (k, got, want(k))


@pytest.mark.parametrize("cell,text,latex", [
    (r"\nabla_z -\log\operatorname{softmax}(z)_y", "softmax(z) - e_y", r"\operatorname{softmax}(z) - e_{y}"),
    (r"\nabla_W -\log\operatorname{softmax}(Wx)_y", "(softmax(Wx) - e_y)xᵀ",
     r"(\operatorname{softmax}(W x) - e_{y}) x^T"),
    (r"\nabla^2_z -\log\operatorname{softmax}(z)_y", "diag(softmax(z)) - softmax(z) softmax(z)ᵀ",
     r"\operatorname{diag}(\operatorname{softmax}(z)) - \operatorname{softmax}(z) "
     r"\operatorname{softmax}(z)^T"),
], ids=["z", "W", "hessian"])
def test_the_results_are_written_with_the_one_hot_vector(cell, text, latex):
    d = derive(cell)
    assert (to_text(d.expr), to_latex(d.expr)) == (text, latex)


def test_a_sum_over_the_entries_is_read_in_matrix_form():
    d = derive(r"\nabla_z -\sum_i y_i \log\operatorname{softmax}(z)_i")
    y = rng.normal(size=(N, 1))
    assert np.allclose(result_at(d, {"z": z, "y": y}), y.sum() * softmax(z) - y)


CLAIMS = [
    ("cross_entropy", r"\nabla_z -\log\operatorname{softmax}(z)_y = \operatorname{softmax}(z) - \mathbf{e}_y", True),
    ("cross_entropy_sign", r"\nabla_z -\log\operatorname{softmax}(z)_y = \mathbf{e}_y - \operatorname{softmax}(z)",
     False),
    ("cross_entropy_ones", r"\nabla_z -\log\operatorname{softmax}(z)_y = \operatorname{softmax}(z) - \mathbf{1}",
     False),
    ("weights", r"\nabla_W -\log\operatorname{softmax}(Wx)_y = (\operatorname{softmax}(Wx) - e_y)x^T", True),
    ("weights_transposed", r"\nabla_W -\log\operatorname{softmax}(Wx)_y = x(\operatorname{softmax}(Wx) - e_y)^T",
     False),
    ("defined", "p = \\operatorname{softmax}(z)\n\\nabla_z -\\log p_y = p - e_y", True),
]


@pytest.mark.parametrize("cell,holds", [c[1:] for c in CLAIMS], ids=[c[0] for c in CLAIMS])
def test_claims_at_a_label_are_judged(cell, holds):
    d = derive(cell)
    assert [c.holds for c in d.claims] == [holds], d.text


@pytest.mark.parametrize("cell,said", [
    (r"\nabla_z -\log\operatorname{softmax}(z)_y",
     "read (…)_y as the y-th entry e_yᵀ(…) (y: a class label, e_y its one-hot vector)"),
    ("p = \\operatorname{softmax}(z)\n\\nabla_z -\\log p_y",
     "read p_y as the y-th entry e_yᵀp (y: a class label, e_y its one-hot vector)"),
], ids=["call", "defined_name"])
def test_the_interpretation_says_what_the_label_is(cell, said):
    d = derive(cell)
    assert said in d.reading.notes
    assert "e_y ∈ ℝ^n (one-hot, of the class label y)" in d.text


def test_the_check_draws_the_one_hot_vector_of_a_random_label():
    d = derive(r"\nabla_W -\log\operatorname{softmax}(Wx)_y")
    e = d.reading.symbols["e_y"]
    draws = [sample(e, {"m": N, "n": M}, None, np.random.default_rng(seed)) for seed in range(40)]
    assert all(v.shape == (N, 1) and sorted(v.ravel()) == [0.0] * (N - 1) + [1.0] for v in draws)
    assert {int(np.argmax(v)) for v in draws} == set(range(N))   # every class is drawn


@pytest.mark.parametrize("cell,reading", [
    (r"\nabla_x x_y", "read x_y as a scalar"),
    (r"\nabla_x \log x_y + x^Tx", "read x_y as a scalar"),
    (r"\frac{\partial (Ax)_i}{\partial x_j} = A_{ij}", "read the line entry by entry over its free indices"),
], ids=["name", "name_beside_vector", "free_indices"])
def test_subscripted_names_and_free_indices_keep_their_reading(cell, reading):
    d = derive(cell)
    assert any(n.startswith(reading) for n in d.reading.notes), d.reading.notes
    assert not any("class label" in n for n in d.reading.notes)


def test_a_label_that_is_also_a_symbol_is_refused():
    with pytest.raises(ParseError, match=r"y is a class label in the subscript of an entry \(…\)_y, and here a "
                                         r"symbol of its own: name one of them otherwise"):
        derive(r"\nabla_z -\log\operatorname{softmax}(z)_y + y^Tz")


@pytest.mark.parametrize("cell,values,want", [
    (r"\nabla_z \operatorname{softmax}(z)_2", {"z": z[:2]},
     lambda v: softmax(v["z"])[1, 0] * (np.eye(2)[:, [1]] - softmax(v["z"]))),
    (r"\nabla_x (Ax)_2", {"A": W[:2], "x": x}, lambda v: v["A"][[1]].T),
    (r"\nabla_x -\log\operatorname{softmax}(Wx)_1", {"W": W, "x": x},
     lambda v: v["W"].T @ (softmax(v["W"] @ v["x"]) - one_hot(0))),
], ids=["softmax", "bracket", "cross_entropy"])
def test_an_entry_at_a_fixed_position_is_read_at_concrete_sizes(cell, values, want):
    d = derive(cell)
    assert any(n.startswith("read at concrete sizes") for n in d.reading.notes), d.reading.notes
    assert np.allclose(result_at(d, values), want(values), atol=1e-10)
