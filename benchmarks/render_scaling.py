#!/usr/bin/env python
"""Rendering against depth: ∇_{W_1} ‖W_L σ(W_{L-1} ⋯ σ(W_1 x)) − y‖², written nested and with
definitions (benchmarks/run.py's depth cells), for L = 1 … 64 (``--depths``). For each L: the time
of ``d.latex`` and ``d.text`` after ``derive()`` (median of ``--repeat`` fresh derivations), the
characters printed and the units of work counted; then the exponent of a power law fitted to
L ≥ 4 (1.0 is linear). The cell-size limits are raised so that the deep cells are read at all.

    .venv/bin/python benchmarks/render_scaling.py
    .venv/bin/python benchmarks/render_scaling.py --depths 4,8,16,32,64,128 --repeat 3

A benchmark, not a test: nothing here asserts."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import depth_cell_defs, depth_cell_nested  # noqa: E402


def raise_limits():
    from derivmagic import limits
    limits.LIMITS.update(operands=10**6, function_nesting=10**5, terms=10**5, cell_chars=10**7, work=None,
                         seconds=None, expression_size=10**7)


def measure(cell: str, repeat: int) -> dict:
    from derivmagic import derive, limits
    times, chars, work = [], 0, 0
    for _ in range(repeat):
        d = derive(cell, check=False)
        with limits.measure() as counted:
            t = time.perf_counter()
            latex, text = d.latex, d.text
            times.append(time.perf_counter() - t)
        chars, work = len(latex) + len(text), sum(counted)
    return {"ms": 1e3 * statistics.median(times), "chars": chars, "work": work}


def exponent(rows: dict, key: str) -> float:
    xs = [L for L in sorted(rows) if L >= 4]
    if len(xs) < 2:
        return float("nan")
    return float(np.polyfit(np.log(xs), np.log([rows[L][key] for L in xs]), 1)[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", default="1,2,4,8,16,32,64")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    raise_limits()
    depths = [int(x) for x in args.depths.split(",")]
    for style, make in (("nested", depth_cell_nested), ("definitions", depth_cell_defs)):
        rows = {}
        print(f"-- written {style}")
        print(f"{'L':>4} {'render ms':>10} {'chars':>9} {'work':>9}")
        for L in depths:
            rows[L] = measure(make(L), args.repeat if L < 64 else max(1, args.repeat // 2))
            r = rows[L]
            print(f"{L:>4} {r['ms']:>10.1f} {r['chars']:>9,} {r['work']:>9,}", flush=True)
        print(f"exponent (L >= 4): time {exponent(rows, 'ms'):.2f}, chars {exponent(rows, 'chars'):.2f}, "
              f"work {exponent(rows, 'work'):.2f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
