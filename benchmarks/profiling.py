#!/usr/bin/env python
"""Profiles (pyinstrument) of the parts benchmarks/run.py finds slow.

    .venv/bin/python benchmarks/profiling.py                 # every target
    .venv/bin/python benchmarks/profiling.py depth corpus    # some of them

Targets: corpus (every public cell, derive()+render, warm), first (import and the first
derive() in a fresh interpreter), depth (L=32 network: derive() and render separately),
check (run_check at n=10,000), import (``python -X importtime``, top modules).
For each target this prints the functions with the most self time and the most total
time (inclusive, each counted once per stack) as a share of the profile, and writes the
full call tree to benchmarks/results/profile_<target>.txt (and .html).

Needs pyinstrument (``.venv/bin/pip install pyinstrument``); not a dependency of derivmagic.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
OUT = HERE / "results"
TOP = 14


def aggregate(session_root) -> tuple[float, list, list]:
    """(total seconds, [(self s, function)], [(inclusive s, function)]) over a pyinstrument frame tree."""
    own: dict[str, float] = defaultdict(float)
    incl: dict[str, float] = defaultdict(float)

    def key(f):
        path = f.file_path_short or f.file_path or "?"
        return f"{f.function}  ({path}:{f.line_no})"

    def walk(f, on_stack: frozenset):
        k = key(f)
        # pyinstrument 5 records a function's own time in synthetic "[self]" children
        own[k] += sum(c.time for c in f.children if c.is_synthetic) + (f.time if not f.children else 0.0)
        if k not in on_stack:
            incl[k] += f.time
        for c in f.children:
            if not c.is_synthetic:
                walk(c, on_stack | {k})

    walk(session_root, frozenset())
    total = session_root.time
    return total, sorted(((v, k) for k, v in own.items()), reverse=True), sorted(((v, k) for k, v in incl.items()), reverse=True)


def report(name: str, profiler, note: str = "") -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    session = profiler.last_session
    root = session.root_frame()
    total, own, incl = aggregate(root)
    (OUT / f"profile_{name}.txt").write_text(profiler.output_text(unicode=True, color=False, show_all=False),
                                             encoding="utf-8")
    try:
        (OUT / f"profile_{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    except Exception:  # noqa: BLE001
        pass
    print(f"\n=== {name}: {total:.3f} s profiled {note}")
    print(f"-- self time (top {TOP})")
    for v, k in own[:TOP]:
        print(f"  {100 * v / total:5.1f}%  {v:7.3f}s  {k}")
    print(f"-- total time, inclusive (top {TOP}, the profiled block itself excluded)")
    for v, k in [x for x in incl if x[0] < total * 0.999][:TOP]:
        print(f"  {100 * v / total:5.1f}%  {v:7.3f}s  {k}")
    return {"total_s": total, "self": [(k, v, v / total) for v, k in own[:40]],
            "inclusive": [(k, v, v / total) for v, k in incl[:60]]}


def cprofile_top(name: str, fn, n: int = 12) -> list:
    """The same work under cProfile (deterministic): call counts and own time per function."""
    import cProfile
    import pstats
    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    st = pstats.Stats(pr)
    total = st.total_tt
    rows = sorted(((tt, nc, f) for f, (cc, nc, tt, ct, callers) in st.stats.items()), reverse=True)[:n]
    print(f"-- cProfile, own time (top {n}; total {total:.3f} s under cProfile)")
    out = []
    for tt, nc, (path, line, func) in rows:
        short = "/".join(Path(path).parts[-2:]) if path != "~" else "<built-in>"
        print(f"  {100 * tt / total:5.1f}%  {tt:7.3f}s  {nc:>9,} calls  {func}  ({short}:{line})")
        out.append((func, short, line, nc, tt, tt / total))
    return out


def profiler(interval: float = 0.0005):
    from pyinstrument import Profiler
    return Profiler(interval=interval)


# ---------------------------------------------------------------- targets
def target_corpus(results):
    import bench_cases
    from run import clear_caches
    from derivmagic import derive
    from derivmagic.parse import parser
    parser()
    cases = [c for c in bench_cases.public_cases() if "expect_error" not in c]
    for c in cases:  # warm
        d = derive(c["cell"], layout=c.get("layout"))
        d.latex, d.text
    p = profiler()
    p.start()
    for _ in range(10):
        for c in cases:
            clear_caches()  # as if each cell were typed anew (the headline latency is measured so)
            d = derive(c["cell"], layout=c.get("layout"))
            d.latex
            d.text
    p.stop()
    results["corpus"] = report("corpus", p, f"({len(cases)} public cells x 10, derive() + latex + text)")

    def again():
        for c in cases:
            clear_caches()
            d = derive(c["cell"], layout=c.get("layout"))
            d.latex, d.text
    results["corpus_cprofile"] = cprofile_top("corpus", again)


FIRST_CHILD = r"""
import sys, json
sys.path.insert(0, 'benchmarks')
from pyinstrument import Profiler
import derivmagic  # the import is profiled apart (target import)
p = Profiler(interval=0.0002)
p.start()
d = derivmagic.derive(r'\nabla_x \|Ax - b\|_2^2')
d.latex, d.text
p.stop()
from profiling import report
print('@@' + json.dumps(report('first', p, '(fresh interpreter, after import: the first derive() and render)')))
"""


def target_first(results):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", FIRST_CHILD], capture_output=True, text=True, cwd=ROOT, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("@@"):
            results["first"] = json.loads(line[2:])
        else:
            print(line)
    if proc.returncode:
        print(proc.stderr[-2000:])


def target_depth(results, L: int = 32):
    from run import clear_caches, depth_cell_defs, staged
    from derivmagic import derive, limits
    from derivmagic.layout import solve
    from derivmagic.parse import parse_cell
    from derivmagic.shapes import read
    cell = depth_cell_defs(L)
    derive(cell)
    for k in (4, 8, 16, 32):
        clear_caches()
        st = staged(depth_cell_defs(k), None)
        print(f"  L={k:2d} stages without a profiler (ms): " + ", ".join(f"{a} {1e3 * b:.1f}" for a, b in st.items()))
    reading = read(parse_cell(cell), cell)
    target, variables, body, direction, _ = reading.targets[0]

    def differentiate():
        clear_caches()
        solve(target.kind, body, variables[0], "numerator", direction)

    p = profiler()
    p.start()
    differentiate()
    p.stop()
    results["depth_differentiate"] = report("depth_differentiate", p, f"(L={L} network: solve(), the dominant stage)")
    results["depth_differentiate_cprofile"] = cprofile_top("depth_differentiate", differentiate)
    d = derive(cell)
    p = profiler(0.005)  # deep recursion: a coarse interval keeps pyinstrument's own cost down
    p.start()
    d.latex
    d.text
    p.stop()
    results["depth_render"] = report("depth_render", p, f"(L={L} network, d.latex + d.text)")
    results["depth_render_cprofile"] = cprofile_top("depth_render", lambda: (d.latex, d.text))


def target_check(results, n: int = 10000):
    from run import check_function
    from derivmagic import derive
    run_check = check_function()
    for name, cell in (("check_dense", r"\nabla_x x^T A x"), ("check_jacobian", r"\frac{\partial}{\partial x} \tanh(x)"),
                       ("check_lstsq", r"\nabla_x \|Ax-b\|_2^2")):
        base = derive(cell, check=False)
        var_dims = [d for d in base.answer.var.shape if isinstance(d, str)]
        dims = {k: (n if k in var_dims or name == "check_dense" else 20) for k in base.reading.dims}
        p = profiler()
        p.start()
        run_check(base.answer, base.reading, 0, dims)
        p.stop()
        results[name] = report(name, p, f"(the numeric check, dims {dims})")
        results[name + "_cprofile"] = cprofile_top(name, lambda: run_check(base.answer, base.reading, 0, dims), 8)


def target_import(results):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = []
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import derivmagic"], capture_output=True,
                              text=True, cwd=ROOT, env=env)
        rows = {}
        for line in proc.stderr.splitlines():
            if line.startswith("import time:") and "|" in line and "self [us]" not in line:
                selfus, cum, name = [x.strip() for x in line[len("import time:"):].split("|")]
                rows[name] = (int(selfus), int(cum))
        runs.append(rows)
    runs = [r for r in runs if r]
    runs.sort(key=lambda r: r.get("derivmagic", (0, 0))[1])
    med = runs[len(runs) // 2]  # the run with the median total, all of its rows
    total = med.get("derivmagic", (0, 1))[1]
    print(f"\n=== import: python -X importtime -c 'import derivmagic' (the median of 3 runs): {total / 1e3:.0f} ms")
    top = sorted(((c, s, k) for k, (s, c) in med.items() if k.count(".") <= 1), reverse=True)[:18]
    print("  cumulative   self  module (top-level and first-level packages)")
    for c, s, k in top:
        print(f"  {c / 1e3:8.1f}ms {s / 1e3:6.1f}ms  {k}  ({100 * c / total:.0f}%)")
    results["import"] = {"total_us": total, "top": top}


TARGETS = {"corpus": target_corpus, "first": target_first, "depth": target_depth, "check": target_check,
           "import": target_import}


def main(argv):
    names = argv or list(TARGETS)
    results = {}
    for n in names:
        t = time.perf_counter()
        TARGETS[n](results)
        print(f"({n}: {time.perf_counter() - t:.1f} s)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "profile.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nwrote {OUT / 'profile.json'} and {OUT}/profile_<target>.txt/.html")


if __name__ == "__main__":
    main(sys.argv[1:])
