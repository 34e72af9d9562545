"""Exported NumPy code against hand-written NumPy (issue 16): the time of ``to_source("numpy")``'s
function (and of ``to_function()``) relative to a hand-written function computing the same value
and derivative, on one BLAS thread, medians of repeats. Not a test; nothing asserts.

    .venv/bin/python benchmarks/codegen_bench.py [--repeat 15] [--quick]
    DERIVMAGIC_SRC=/tmp/old .venv/bin/python benchmarks/codegen_bench.py   # another checkout
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.environ.get("DERIVMAGIC_SRC") or str(Path(__file__).resolve().parents[1]))
from derivmagic import derive  # noqa: E402


def _sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def hand_quadratic(x, A):
    Ax = A @ x
    return x @ Ax, Ax + A.T @ x


def hand_gram(X, S):
    R = X.T @ X - S
    return np.vdot(R, R), 2.0 * X @ (R + R.T)


def hand_gram_form(x, X):
    Xx = X @ x
    return Xx @ Xx, 2.0 * (X.T @ Xx)


def hand_wls(x, A, b, W):
    r = A @ x - b
    Wr = W @ r
    return r @ Wr, A.T @ (Wr + W.T @ r)


def hand_logistic_hessian(w, y, X):
    z = -y * (X @ w)
    s = _sigmoid(z)
    return np.sum(np.logaddexp(0.0, z)), X.T @ ((y * y * s * (1.0 - s))[:, None] * X)


def _cases(quick: bool):
    k = 4 if quick else 1
    rng = np.random.default_rng(0)
    n = 2000 // k
    yield ("quadratic form xᵀAx", f"n = {n}", r"\nabla_x x^T A x", hand_quadratic,
           dict(x=rng.normal(size=n), A=rng.normal(size=(n, n))))
    n = 1000 // k
    yield ("Gram form xᵀXᵀXx", f"n = {n}", r"\nabla_x x^T X^T X x", hand_gram_form,
           dict(x=rng.normal(size=n), X=rng.normal(size=(n, n))))
    yield ("Gram ‖XᵀX − S‖²_F", f"n = {n}", r"\nabla_X \|X^T X - S\|_F^2", hand_gram,
           dict(X=rng.normal(size=(n, n)), S=rng.normal(size=(n, n))))
    yield ("weighted least squares (Ax−b)ᵀW(Ax−b)", f"n = {n}", r"\nabla_x (Ax - b)^T W (Ax - b)", hand_wls,
           dict(x=rng.normal(size=n), A=rng.normal(size=(n, n)), b=rng.normal(size=n),
                W=rng.normal(size=(n, n))))
    m, n = 5000 // k, 200
    yield ("logistic Hessian", f"m = {m}, n = {n}", r"\nabla^2_w \mathbf{1}^T \log(1 + \exp(-y \odot Xw))",
           hand_logistic_hessian,
           dict(w=rng.normal(size=n) / np.sqrt(n), y=rng.choice([-1.0, 1.0], size=m), X=rng.normal(size=(m, n))))


def _median(fn, args, repeat):
    fn(*args)   # warm up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _compile(source: str):
    module = types.ModuleType("generated")
    exec(compile(source, "<generated>", "exec"), module.__dict__)   # the benchmark runs what it exported
    return module.f_and_derivative


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="sizes divided by 4, for a smoke run")
    ap.add_argument("--no-function", action="store_true", help="skip to_function() (it evaluates trees)")
    opts = ap.parse_args()
    print(f"numpy {np.__version__}, one BLAS thread, median of {opts.repeat} runs; "
          "time relative to hand-written NumPy (lower is better)\n")
    print("| problem | size | hand-written | `to_source(\"numpy\")` | `to_function()` |")
    print("|---|---|---|---|---|")
    for title, size, cell, hand, inputs in _cases(opts.quick):
        d = derive(cell)
        exported = _compile(d.to_source("numpy"))
        fn = d.to_function()
        names = getattr(fn, "parameters", None) or list(inputs)
        args = [inputs[p] for p in names]
        hargs = [inputs[p] for p in hand.__code__.co_varnames[:hand.__code__.co_argcount]]
        hv, hd = hand(*hargs)
        ev, ed = exported(*args)
        if not (np.allclose(ev, hv, rtol=1e-8) and np.allclose(np.reshape(ed, np.shape(hd)), hd, rtol=1e-8, atol=1e-8)):
            print(f"| {title} | {size} | the exported numbers differ from the hand-written ones | | |")
            continue
        t_hand = _median(hand, hargs, opts.repeat)
        t_src = _median(exported, args, opts.repeat)
        try:
            t_fn = None if opts.no_function else _median(fn, args, max(3, opts.repeat // 3))
            fn_cell = "—" if t_fn is None else f"{t_fn / t_hand:.2f}×"
        except Exception as e:   # to_function evaluates the trees, under the check's size limits
            fn_cell = f"refused ({type(e).__name__})"
        print(f"| {title} | {size} | {t_hand * 1e3:.2f} ms | {t_src / t_hand:.2f}× | {fn_cell} |", flush=True)


if __name__ == "__main__":
    main()
