"""Exported code against hand-written NumPy and the autodiff libraries, in one run (issue 16).

For each problem and size: the median time of a hand-written NumPy function computing the value
and the derivative, and, relative to it (lower is better), derivmagic's ``to_source("numpy")``
function, ``to_function()``, ``to_source("jax")`` under ``jax.jit``, ``jax.grad`` (``jax.hessian``,
``jax.jacrev``) under ``jax.jit``, autograd and torch autograd. One BLAS thread (set before NumPy is
imported); every derivative is compared with the hand-written one first, and one that differs is
shown as such, not timed. A peer that is not installed is reported as missing
(``pip install -e '.[bench]'`` installs them). Not a test; nothing asserts.

    .venv/bin/python benchmarks/peers_bench.py [--sizes 10,100,1000,4000] [--quick] [--json PATH]
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS", "XLA_FLAGS"):
    os.environ[_var] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
        if _var == "XLA_FLAGS" else "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.environ.get("DERIVMAGIC_SRC") or str(Path(__file__).resolve().parents[1]))
from derivmagic import derive  # noqa: E402

PEERS = ("jax", "autograd", "torch")


def _sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


# ---------------------------------------------------------------- the problems
# each: title, cell, largest n, inputs(n, rng) -> dict, hand-written (value, derivative), the
# function for the autodiff libraries f(xp, *args) (xp: their NumPy-like module), the kind of
# derivative ("grad", "hessian", "jacobian") by the first argument
def _ls_inputs(n, rng):
    return dict(x=rng.normal(size=n), A=rng.normal(size=(n, n)) / np.sqrt(n), b=rng.normal(size=n))


def _ls_hand(x, A, b):
    r = A @ x - b
    return r @ r, 2.0 * (A.T @ r)


def _ls_f(xp, x, A, b):
    r = A @ x - b
    return xp.sum(r * r)


def _quad_inputs(n, rng):
    return dict(x=rng.normal(size=n), A=rng.normal(size=(n, n)))


def _quad_hand(x, A):
    Ax = A @ x
    return x @ Ax, Ax + A.T @ x


def _quad_f(xp, x, A):
    return x @ (A @ x)


def _logdet_inputs(n, rng):
    return dict(X=rng.normal(size=(n, n)) + 3 * np.sqrt(n) * np.eye(n))


def _logdet_hand(X):
    sign, logdet = np.linalg.slogdet(X)
    return logdet, np.linalg.inv(X).T


def _logdet_f(xp, X):
    return xp.linalg.slogdet(X)[1]


def _softmax_inputs(n, rng):
    y = rng.random(n)
    return dict(theta=rng.normal(size=n), y=y / y.sum())


def _softmax_hand(theta, y):
    z = theta - theta.max()
    e = np.exp(z)
    s = e / e.sum()
    return -(y @ (z - np.log(e.sum()))), y.sum() * s - y


def _softmax_f(xp, theta, y):
    z = theta - xp.max(theta)
    return -xp.sum(y * (z - xp.log(xp.sum(xp.exp(z)))))


def _logistic_inputs(n, rng):
    return dict(x=rng.normal(size=n) / np.sqrt(n), y=rng.choice([-1.0, 1.0], size=n), A=rng.normal(size=(n, n)))


def _logistic_hand(x, y, A):
    z = -y * (A @ x)
    s = _sigmoid(z)
    return np.sum(np.logaddexp(0.0, z)), A.T @ ((y * y * s * (1.0 - s))[:, None] * A)


def _logistic_f(xp, x, y, A):
    z = -y * (A @ x)
    return xp.sum(xp.log(1.0 + xp.exp(z)))


def _wls_inputs(n, rng):
    return dict(x=rng.normal(size=n), A=rng.normal(size=(n, n)) / np.sqrt(n), b=rng.normal(size=n),
                W=rng.normal(size=(n, n)) / np.sqrt(n))


def _wls_hand(x, A, b, W):
    r = A @ x - b
    Wr = W @ r
    return r @ Wr, A.T @ (Wr + W.T @ r)


def _wls_f(xp, x, A, b, W):
    r = A @ x - b
    return r @ (W @ r)


def _gram_inputs(n, rng):
    return dict(X=rng.normal(size=(n, n)) / np.sqrt(n), S=rng.normal(size=(n, n)))


def _gram_hand(X, S):
    R = X.T @ X - S
    return np.vdot(R, R), 2.0 * X @ (R + R.T)


def _gram_f(xp, X, S):
    R = X.T @ X - S
    return xp.sum(R * R)


def _mlp_inputs(n, rng):
    return {"W_1": rng.normal(size=(n, n)) / np.sqrt(n), "W_2": rng.normal(size=(n, n)) / np.sqrt(n),
            "W_3": rng.normal(size=(n, n)) / np.sqrt(n), "W_4": rng.normal(size=(n, n)) / np.sqrt(n),
            "x": rng.normal(size=n), "y": rng.normal(size=n)}


def _mlp_hand(W_1, W_2, W_3, W_4, x, y):
    h1 = np.tanh(W_1 @ x)
    h2 = np.tanh(W_2 @ h1)
    h3 = np.tanh(W_3 @ h2)
    r = W_4 @ h3 - y
    g3 = (W_4.T @ r) * (1 - h3 * h3)
    g2 = (W_3.T @ g3) * (1 - h2 * h2)
    g1 = (W_2.T @ g2) * (1 - h1 * h1)
    return r @ r, 2.0 * np.outer(g1, x)


def _mlp_f(xp, W_1, W_2, W_3, W_4, x, y):
    r = W_4 @ xp.tanh(W_3 @ xp.tanh(W_2 @ xp.tanh(W_1 @ x))) - y
    return xp.sum(r * r)


def _jac_inputs(n, rng):
    return dict(x=rng.normal(size=n), W=rng.normal(size=(n, n)) / np.sqrt(n))


def _jac_hand(x, W):
    t = np.tanh(W @ x)
    return t, (1 - t * t)[:, None] * W


def _jac_f(xp, x, W):
    return xp.tanh(W @ x)


PROBLEMS = [
    ("least squares ‖Ax − b‖²", r"\nabla_x \|Ax - b\|_2^2", 4000, _ls_inputs, _ls_hand, _ls_f, "grad"),
    ("quadratic form xᵀAx", r"\nabla_x x^T A x", 4000, _quad_inputs, _quad_hand, _quad_f, "grad"),
    ("log det X", r"\nabla_X \log\det X", 1000, _logdet_inputs, _logdet_hand, _logdet_f, "grad"),
    ("softmax cross-entropy", "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\nabla_\\theta J",
     4000, _softmax_inputs, _softmax_hand, _softmax_f, "grad"),
    ("logistic Hessian", r"\nabla^2_x \mathbf{1}^T \log(1 + \exp(-y \odot Ax))", 1000, _logistic_inputs,
     _logistic_hand, _logistic_f, "hessian"),
    ("weighted least squares", r"\nabla_x (Ax - b)^T W (Ax - b)", 4000, _wls_inputs, _wls_hand, _wls_f, "grad"),
    ("Gram ‖XᵀX − S‖²_F", r"\nabla_X \|X^T X - S\|_F^2", 1000, _gram_inputs, _gram_hand, _gram_f, "grad"),
    ("4-layer tanh MLP, by W₁", r"\nabla_{W_1} \|W_4 \tanh(W_3 \tanh(W_2 \tanh(W_1 x))) - y\|^2", 4000,
     _mlp_inputs, _mlp_hand, _mlp_f, "grad"),
    ("Jacobian of tanh(Wx)", r"\frac{\partial}{\partial x} \tanh(Wx)", 1000, _jac_inputs, _jac_hand, _jac_f,
     "jacobian"),
]


# ---------------------------------------------------------------- the contenders
def _load(source: str, name: str):
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)   # the benchmark runs what derivmagic exported
    return module.f_and_derivative


def _peer_jax(f, kind, first):
    import jax
    import jax.numpy as jnp
    g = {"grad": jax.grad, "hessian": jax.hessian, "jacobian": jax.jacrev}[kind](lambda *a: f(jnp, *a))
    fn = jax.jit(lambda *a: (f(jnp, *a), g(*a)))

    def run(*args):
        v, d = fn(*args)
        return jax.block_until_ready(v), jax.block_until_ready(d)
    return run


def _peer_autograd(f, kind, first):
    import autograd
    import autograd.numpy as anp
    if kind == "grad":
        vg = autograd.value_and_grad(lambda *a: f(anp, *a))
        return vg
    g = (autograd.hessian if kind == "hessian" else autograd.jacobian)(lambda *a: f(anp, *a))
    return lambda *a: (f(anp, *a), g(*a))


def _peer_torch(f, kind, first):
    import torch
    torch.set_num_threads(1)

    class _T:   # the torch functions under NumPy's names
        sum, tanh, exp, log = staticmethod(torch.sum), staticmethod(torch.tanh), staticmethod(torch.exp), staticmethod(torch.log)
        max = staticmethod(lambda z: torch.max(z))
        linalg = torch.linalg

    def run(*args):
        ts = [torch.as_tensor(a) for a in args]
        if kind == "grad":
            x = ts[0].clone().requires_grad_(True)
            v = f(_T, x, *ts[1:])
            (d,) = torch.autograd.grad(v, x)
            return v.detach(), d
        fun = lambda x: f(_T, x, *ts[1:])   # noqa: E731
        with torch.no_grad():
            v = fun(ts[0])
        op = torch.autograd.functional.hessian if kind == "hessian" else torch.autograd.functional.jacobian
        return v, op(fun, ts[0], vectorize=True)
    return run


def _median(fn, args, budget: float, most: int):
    t = time.perf_counter()
    fn(*args)   # warm up (and compile, for jit)
    slow = time.perf_counter() - t > 2 * budget   # a contender taking seconds is timed once more, not thrice
    times = []
    start = time.perf_counter()
    while len(times) < (1 if slow else 3) or (len(times) < most and time.perf_counter() - start < budget):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _agrees(got, want) -> bool:
    v, d = got
    hv, hd = want
    d = np.asarray(d, dtype=float)
    return bool(np.allclose(np.asarray(v, dtype=float).reshape(np.shape(hv)), hv, rtol=1e-6, atol=1e-8)
                and d.size == np.size(hd) and np.allclose(d.reshape(np.shape(hd)), hd, rtol=1e-6, atol=1e-8))


COLUMNS = ["to_source numpy", "to_function", "to_source jax (jit)", "jax (jit)", "autograd", "torch"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,100,1000,4000")
    ap.add_argument("--quick", action="store_true", help="sizes 10,100,1000 and short timings")
    ap.add_argument("--budget", type=float, default=0.5, help="seconds of timing per contender and size")
    ap.add_argument("--most", type=int, default=15, help="most repeats per contender and size")
    ap.add_argument("--only", default="", help="comma-separated words: problems whose title has one")
    ap.add_argument("--json", default=str(Path(__file__).resolve().parent / "results" / "peers.json"))
    opts = ap.parse_args()
    if opts.quick:
        opts.sizes, opts.budget, opts.most = "10,100,1000", 0.1, 5
    sizes = [int(s) for s in opts.sizes.split(",")]
    missing = [p for p in PEERS if importlib.util.find_spec(p) is None]
    if "jax" not in missing:
        import jax
        jax.config.update("jax_enable_x64", True)
    versions = {"numpy": np.__version__}
    for p in PEERS:
        if p not in missing:
            versions[p] = getattr(__import__(p), "__version__", "?")
    print(f"one BLAS thread; median of ≥3 runs (≤{opts.most}, ≤{opts.budget:g} s each); time relative to "
          "hand-written NumPy, lower is better; " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for p in missing:
        print(f"MISSING: {p} is not installed (pip install -e '.[bench]'); its column says 'missing'")
    print("\n| problem | n | hand-written | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    rows = []
    words = [w.strip().lower() for w in opts.only.split(",") if w.strip()]
    for title, cell, largest, inputs, hand, f, kind in PROBLEMS:
        if words and not any(w in title.lower() for w in words):
            continue
        d = derive(cell)
        exported = _load(d.to_source("numpy"), "generated")
        function = d.to_function()
        contenders = {"to_source numpy": lambda: exported, "to_function": lambda: function}
        if "jax" in missing:
            contenders["to_source jax (jit)"] = contenders["jax (jit)"] = None
        else:
            import jax
            src_jax = _load(d.to_source("jax"), "generated_jax")
            contenders["to_source jax (jit)"] = lambda s=src_jax: (lambda j: lambda *a: jax.block_until_ready(j(*a)))(jax.jit(s))
            contenders["jax (jit)"] = lambda: _peer_jax(f, kind, True)
        contenders["autograd"] = None if "autograd" in missing else (lambda: _peer_autograd(f, kind, True))
        contenders["torch"] = None if "torch" in missing else (lambda: _peer_torch(f, kind, True))
        for n in sizes:
            if n > largest:
                continue
            rng = np.random.default_rng(n)
            data = inputs(n, rng)
            hand_args = [data[p] for p in hand.__code__.co_varnames[:hand.__code__.co_argcount]]
            f_args = [data[p] for p in f.__code__.co_varnames[1:f.__code__.co_argcount]]
            ours_args = [data[p] for p in function.parameters]
            want = hand(*hand_args)
            t_hand = _median(hand, hand_args, opts.budget, opts.most)
            row = {"problem": title, "n": n, "hand_ms": t_hand * 1e3}
            cells = []
            for col in COLUMNS:
                make = contenders[col]
                if make is None:
                    row[col] = "missing"
                    cells.append("missing")
                    continue
                args = ours_args if col in ("to_source numpy", "to_function", "to_source jax (jit)") else f_args
                try:
                    fn = make()
                    if not _agrees(fn(*args), want):
                        row[col] = "differs"
                        cells.append("differs")
                        continue
                    t = _median(fn, args, opts.budget, opts.most)
                    row[col] = t / t_hand
                    cells.append(f"{t / t_hand:.2f}×")
                except Exception as exc:  # noqa: BLE001
                    row[col] = f"{type(exc).__name__}: {str(exc)[:80]}"
                    cells.append(f"error ({type(exc).__name__})")
            rows.append(row)
            print(f"| {title} | {n} | {t_hand * 1e3:.3g} ms | " + " | ".join(cells) + " |", flush=True)
    path = Path(opts.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"versions": versions, "missing": missing, "rows": rows}, indent=1), encoding="utf-8")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
