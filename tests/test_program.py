"""program.Program runs the exporter's NumPy source without compiling it, and refuses anything
outside the small language the exporter writes."""
from __future__ import annotations

import numpy as np
import pytest

from derivmagic import limits
from derivmagic.errors import LimitError
from derivmagic.program import PlanError, Program

GOOD = '''import numpy as np


def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def f(x, A, k):
    """doc"""
    x = np.asarray(x, dtype=float).reshape(-1, 1)
    k = int(k)
    t0 = A @ x
    s = np.linalg.slogdet(A)
    t1 = (x.T @ A).T + t0[:, None][:, :, 0] - 2.0 * _softmax(x) ** 2
    return (np.log(s[0]) + s[1]).reshape(1, 1), t1 * (x >= 0) + np.ones((k, 1))
'''


def test_runs_what_the_source_says():
    rng = np.random.default_rng(0)
    x, A = rng.normal(size=4), rng.normal(size=(4, 4)) + 4 * np.eye(4)
    value, out = Program(GOOD).run("f", [x, A, 4])
    xc = x.reshape(-1, 1)
    soft = np.exp(xc - xc.max()) / np.exp(xc - xc.max()).sum()
    assert np.allclose(value, np.linalg.slogdet(A)[1])
    assert np.allclose(out, (A.T @ xc + A @ xc - 2 * soft ** 2) * (xc >= 0) + 1)
    assert Program(GOOD)["f"].params == ["x", "A", "k"] and Program(GOOD)["f"].doc == "doc"


REFUSED = [
    ("import", "import os\n", "Import is not understood"),
    ("dunder-attribute", "def f(x):\n    return x.__class__\n", "is not understood"),
    ("unknown-numpy", "def f(x):\n    return np.load(x)\n", "np.load is not a function this runner knows"),
    ("builtin", "def f(x):\n    return open(x)\n", "the function open is not defined"),
    ("loop", "def f(x):\n    for i in x:\n        pass\n    return x\n", "statement For at line 2 is not understood"),
    ("star-args", "def f(*x):\n    return x\n", "only plain positional parameters"),
    ("string", "def f(x):\n    return 'rm -rf'\n", "is not understood"),
    ("lambda", "def f(x):\n    return (lambda: 1)()\n", "the call .* is not understood"),
    ("fancy-index", "def f(x):\n    return x[x > 0]\n", "the subscript .* is not understood"),
    ("syntax", "def f(x:\n", "does not parse"),
    ("unassigned", "def f(x):\n    t0 = y + x\n    y = x\n    return t0\n", "y is used before it is assigned"),
]


@pytest.mark.parametrize("source, message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refuses_what_the_exporter_never_writes(source, message):
    with pytest.raises(PlanError, match=message):
        Program(source).run("f", [np.ones(2)])


def test_counted_runs_tick_products_by_their_multiply_adds():
    source = "def f(A, B):\n    return A @ B\n"
    program = Program(source)
    work = {}
    for n in (64, 128):
        with limits.budget("cell"):
            before = limits.used()
            program.run("f", [np.ones((n, n)), np.ones((n, n))], counted=True)
            work[n] = limits.used() - before
    # n³ multiply-adds: eight times the work at twice the size
    assert work[128] == 1 + 128 ** 3 // 16384 + 128 ** 2 // 1024
    assert work[64] == 1 + 64 ** 3 // 16384 + 64 ** 2 // 1024


def test_counted_runs_refuse_arrays_over_the_entry_limit_before_making_them(monkeypatch):
    monkeypatch.setitem(limits.LIMITS, "check_entries", 1000)
    program = Program("def f(n):\n    return np.eye(n)\n")
    with pytest.raises(LimitError, match="arrays of 1,600 numbers in all"):
        program.run("f", [40], counted=True, what="the plan")
    assert program.run("f", [40]).shape == (40, 40)   # not counted: no limit


SPECTRAL = '''import numpy as np
import scipy.linalg


def _block_corner(x, e):
    n = x.shape[0]
    top = np.concatenate((x, e), axis=1)
    bottom = np.concatenate((np.zeros_like(x), x), axis=1)
    return np.concatenate((top, bottom), axis=0)[:n, n:]


def f(X, v):
    pair = np.linalg.eigh((X + X.T) / 2)
    svd = np.linalg.svd(X, full_matrices=False)
    first = np.sign(v) * (np.arange(np.size(v)).reshape(np.shape(v)) == np.argmax(np.abs(v)))
    return pair[0][-1], pair[1][:, -2:-1], svd[2][0:1, :].T, _block_corner(X, 2.0 * X), first, scipy.linalg.sqrtm(X @ X.T)
'''


def test_runs_the_spectral_plans_positions_and_comparisons():
    """Negative positions, slices bounded by names, ``==``, and the decompositions the exporter writes."""
    rng = np.random.default_rng(1)
    X, v = rng.normal(size=(4, 4)), np.array([[1.0], [-3.0], [3.0], [0.5]])
    top, second, right, corner, first, root = Program(SPECTRAL).run("f", [X, v])
    lam, Q = np.linalg.eigh((X + X.T) / 2)
    assert np.isclose(top, lam[-1]) and np.allclose(second, Q[:, -2:-1])
    assert np.allclose(right, np.linalg.svd(X)[2][0:1].T)
    assert np.allclose(corner, 2.0 * X)
    assert np.array_equal(first.ravel(), [0.0, -1.0, 0.0, 0.0])   # the first of the largest |v_k|
    assert np.allclose(root @ root, X @ X.T)


@pytest.mark.parametrize("call, factor", [("scipy.linalg.sqrtm", 10), ("scipy.linalg.logm", 10),
                                          ("np.linalg.eigh", 10), ("np.linalg.svd", 10)])
def test_counted_decompositions_tick_ten_times_n_cubed(call, factor):
    program = Program(f"import scipy.linalg\n\n\ndef f(A):\n    return {call}(A)\n")
    n = 64
    A = np.eye(n) * 2.0
    with limits.budget("cell"):
        before = limits.used()
        program.run("f", [A], counted=True)
        work = limits.used() - before
    assert work == 1 + factor * n ** 3 // 16384 + n ** 2 // 1024
