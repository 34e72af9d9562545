"""The numeric check at the sizes of issue 16: time, peak memory (tracemalloc, NumPy's arrays
included) and work units of ``check.verify`` alone, one fresh run per cell. Not a test.

    .venv/bin/python benchmarks/check_scale_bench.py               # derivmagic's limits as shipped
    .venv/bin/python benchmarks/check_scale_bench.py --no-limits   # work and size limits lifted
    DERIVMAGIC_SRC=/tmp/old .venv/bin/python benchmarks/check_scale_bench.py --no-limits   # another checkout
"""
import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, os.environ.get("DERIVMAGIC_SRC") or str(Path(__file__).resolve().parents[1]))
from derivmagic import derive, limits  # noqa: E402
from derivmagic.check import verify  # noqa: E402

CELLS = [
    ("log-sum-exp Hessian", r"\nabla^2_x \log(\mathbf{1}^T \exp(x))", {"n": 10_000}, "< 1 s, < 200 MB"),
    ("∂(AXB)/∂X (Kronecker)", r"\frac{\partial}{\partial X} AXB", {"m": 100, "n": 100, "p": 100, "q": 100}, "< 200 ms"),
    ("∇ log det X", r"\nabla_X \log\det X", {"m": 1000}, "checks (no false 'not finite')"),
    ("∇ log det X, X ∈ S₊₊", "\\nabla_X \\log\\det X\nX \\in \\mathbb{S}^m_{++}", {"m": 1000}, "checks"),
    ("∇ₓ xᵀAx, A dense", r"\nabla_x x^T A x", {"n": 1000}, "(one dense n×n input)"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-limits", action="store_true", help="lift LIMITS['work'] and LIMITS['check_entries']")
    ap.add_argument("--only", default="", help="comma-separated words: cells whose label has one")
    opts = ap.parse_args()
    if opts.no_limits:
        limits.LIMITS["work"] = None
        limits.LIMITS["check_entries"] = None
    words = [w.strip().lower() for w in opts.only.split(",") if w.strip()]
    print("| cell | sizes | target | time | peak memory | work units | verdict |")
    print("|---|---|---|---|---|---|---|")
    for label, cell, dims, target in CELLS:
        if words and not any(w in label.lower() for w in words):
            continue
        d = derive(cell, check=False)
        tracemalloc.start()
        t = time.perf_counter()
        try:
            with limits.budget(cell):
                verdict = verify(d.answer, d.reading, 0, dims)
                work = limits.used()
            text = verdict.summary
        except Exception as exc:  # noqa: BLE001
            text, work = f"{type(exc).__name__}: {str(exc).splitlines()[0]}", None
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        sizes = ", ".join(f"{k} = {v:,}" for k, v in dims.items())
        work = "—" if work is None else f"{work:,}"
        print(f"| {label} | {sizes} | {target} | {elapsed * 1e3:,.0f} ms | {peak / 1e6:,.0f} MB | {work} | "
              f"{text[:110]} |", flush=True)


if __name__ == "__main__":
    main()
