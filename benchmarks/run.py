#!/usr/bin/env python
"""derivmagic benchmarks (issue #6): interactive latency, expression size with depth,
checks that scale, all measured against SymPy in the same run.

    make bench                                   # the full run (a few minutes)
    .venv/bin/python benchmarks/run.py --quick   # fewer repeats, smaller sizes
    .venv/bin/python benchmarks/run.py --only latency,sympy --repeat 30

Sections (``--only``): latency, sympy, import, depth, check, peers. Prints tables and writes
everything (every sample, SymPy's raw answers, machine and versions) as JSON to
benchmarks/results/latest.json (git-ignored) unless ``--json`` says otherwise.

These are benchmarks, not tests: nothing here asserts, and none of it runs under pytest.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# DERIVMAGIC_SRC: benchmark another checkout (e.g. an exported older commit) with these scripts
SRC = Path(os.environ.get("DERIVMAGIC_SRC") or ROOT).resolve()
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(SRC))

import bench_cases  # noqa: E402

pc = time.perf_counter
SECTIONS = ("latency", "sympy", "import", "depth", "check", "peers")
TARGETS = {
    "derive_median_ms": 10.0,
    "derive_p95_ms": 100.0,
    "vs_sympy_ratio": 0.5,
    "import_vs_sympy": 1.2,
    "depth_ratio_32_4": 10.0,
    "check_n10000_ms": 100.0,
}


# ---------------------------------------------------------------- small helpers
def ms(seconds: float) -> float:
    return seconds * 1e3


def med(xs):
    xs = [x for x in xs if x is not None]
    return float(statistics.median(xs)) if xs else None


def p95(xs):
    xs = [x for x in xs if x is not None]
    return float(np.percentile(xs, 95)) if xs else None


def fmt(v, width=8, digits=2):
    if v is None:
        return "—".rjust(width)
    if isinstance(v, str):
        return v.rjust(width)
    if abs(v) >= 1000:
        return f"{v:,.0f}".rjust(width)
    if abs(v) >= 100:
        return f"{v:.1f}".rjust(width)
    return f"{v:.{digits}f}".rjust(width)


def table(headers: list[str], rows: list[list], widths: list[int] | None = None, left=(0,)) -> str:
    """A plain-text table; columns in ``left`` are left-aligned text, the others numbers."""
    widths = widths or [max(len(str(h)), 8) for h in headers]
    out = ["  ".join(str(h).ljust(w) if i in left else str(h).rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        cells = []
        for i, (v, w) in enumerate(zip(r, widths)):
            cells.append(str(v).ljust(w) if i in left else (fmt(v, w) if not isinstance(v, str) else v.rjust(w)))
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def verdict(ok) -> str:
    return "—" if ok is None else ("HOLDS" if ok else "MISSED")


class Timeout(Exception):
    pass


def with_timeout(seconds: float, fn, *args):
    """Run ``fn`` with a wall-clock limit (SIGALRM; main thread, pure-Python work)."""
    def on_alarm(signum, frame):
        raise Timeout(f"over {seconds:g} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_child(code: str, timeout: float = 120.0) -> dict:
    """Run ``code`` in a fresh interpreter (the project venv's), return the JSON it prints last."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONSTARTUP", None)
    t = pc()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=str(ROOT), env=env)
    wall = pc() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300], "wall_s": wall}
    out = json.loads(lines[-1][2:])
    out["wall_s"] = wall
    return out


# ---------------------------------------------------------------- the pipeline, stage by stage
def check_function():
    """The numeric check of one answer: ``check.verify`` (newer) or ``derivation.run_check``."""
    from derivmagic import check, derivation
    return getattr(check, "verify", None) or getattr(derivation, "run_check")


_CACHED: dict = {}


def clear_caches(keep=("parser",)) -> int:
    """Empty derivmagic's memo caches, so that a repeat measures a cell as if typed anew:
    every ``functools.lru_cache`` (except the Lark parser, whose one-time build is reported
    apart) and every module-level dict keyed by expressions (e.g. a simplify memo)."""
    mods = tuple(sorted(n for n, m in sys.modules.items() if n.startswith("derivmagic") and m is not None))
    if _CACHED.get("mods") != mods:  # scan the modules once (and again when one is added)
        found, dicts = [], []
        for name in mods:
            for attr, obj in list(vars(sys.modules[name]).items()):
                if isinstance(obj, dict) and attr.startswith("_"):
                    dicts.append(obj)
                    continue
                if attr in keep or not callable(getattr(obj, "cache_clear", None)) or not hasattr(obj, "cache_info"):
                    continue
                if getattr(obj, "__module__", name) == name:  # imported ones are cleared where defined
                    found.append(obj)
        _CACHED.update(mods=mods, found=found, dicts=dicts)
    from derivmagic.expr import Expr
    for obj in _CACHED["found"]:
        obj.cache_clear()
    n = len(_CACHED["found"])
    for d in _CACHED["dicts"]:
        if d and isinstance(next(iter(d)), Expr):  # a memo of expressions, nothing else
            d.clear()
            n += 1
    return n


def staged(cell: str, layout: str | None) -> dict:
    """One derive(), split into its stages (mirrors derivmagic.derivation.derive)."""
    from derivmagic import derivation, limits
    from derivmagic.layout import solve
    from derivmagic.parse import parse_cell
    from derivmagic.shapes import read

    verify = check_function()
    layout = layout or "numerator"
    t0 = pc()
    limits.check_cell(cell)
    statements = parse_cell(cell)
    t1 = pc()
    reading = read(statements, cell)
    t2 = pc()
    target, variables, body, direction, claims = reading.targets[0]
    answer = solve(target.kind, body, variables[0], layout, direction)
    t3 = pc()
    verify(answer, reading, 0, None)
    t4 = pc()
    out = {"parse": t1 - t0, "shapes": t2 - t1, "differentiate": t3 - t2, "check": t4 - t3, "claims": 0.0}
    judge = getattr(derivation, "_judge_claims", None)
    if claims and judge is not None:
        try:
            judge(cell, reading, target, answer, claims, layout, 0)
            out["claims"] = pc() - t4
        except Exception:  # noqa: BLE001 - an internal signature that moved: "other" covers it
            pass
    return out


def render(d) -> float:
    t = pc()
    d.latex
    d.text
    return pc() - t


FIRST_CALL_CHILD = r"""
import json, time
pc = time.perf_counter
t = pc(); import derivmagic; t_import = pc() - t
from run import staged, render
cell = r'\nabla_x \|Ax - b\|_2^2'
out = dict(import_s=t_import)
t = pc()
if MODE == 'derive':
    d = derivmagic.derive(cell)
    out['first_derive_s'] = pc() - t
    out['first_render_s'] = render(d)
    t = pc(); derivmagic.derive(cell); out['second_derive_s'] = pc() - t
    t = pc(); derivmagic.derive(r'\nabla_X \operatorname{tr}(X^T A X)'); out['other_cell_derive_s'] = pc() - t
else:
    out['first_stages'] = staged(cell, None)
print('@@' + json.dumps(out))
"""

LARK_CHILD = r"""
import json, time
pc = time.perf_counter
import derivmagic
from derivmagic import parse
t = pc(); parse.parser(); build = pc() - t
t = pc(); parse.parser(); again = pc() - t
print('@@' + json.dumps(dict(lark_build_s=build, cached_s=again)))
"""


def section_latency(args, results):
    from derivmagic import derive
    cases = [c for c in bench_cases.public_cases() if "expect_error" not in c]
    R = args.repeat

    # first-call costs, each in a fresh interpreter
    firsts = [run_child("MODE = 'derive'" + FIRST_CALL_CHILD) for _ in range(args.children)]
    staged1 = [run_child("MODE = 'staged'" + FIRST_CALL_CHILD) for _ in range(args.children)]
    larks = [run_child(LARK_CHILD) for _ in range(args.children)]
    errs = sorted({f["error"] for f in firsts + staged1 + larks if "error" in f})
    firsts = [f for f in firsts if "error" not in f]
    staged1 = [f for f in staged1 if "error" not in f]
    larks = [f for f in larks if "error" not in f]
    first = {
        "runs": len(firsts), "errors": errs,
        "import_ms": med([ms(x["import_s"]) for x in firsts]),
        "lark_build_ms": med([ms(x["lark_build_s"]) for x in larks]),
        "first_derive_ms": med([ms(x["first_derive_s"]) for x in firsts]),
        "first_stages_ms": {k: med([ms(x["first_stages"][k]) for x in staged1])
                            for k in ("parse", "shapes", "differentiate", "check")} if staged1 else {},
        "first_render_ms": med([ms(x["first_render_s"]) for x in firsts]),
        "second_derive_ms": med([ms(x["second_derive_s"]) for x in firsts]),
        "other_cell_derive_ms": med([ms(x["other_cell_derive_s"]) for x in firsts]),
    }

    from derivmagic import parse
    parse.parser()  # built once, lazily: excluded from the per-cell numbers below
    per_case = []
    stages = ("parse", "shapes", "differentiate", "check", "claims")
    pooled = {k: [] for k in (*stages, "render", "derive", "derive_cpu", "derive_render", "derive_rerun")}
    for c in cases:
        cell, layout = c["cell"], c.get("layout")
        row = {"id": c["id"], "error": None}
        try:
            d = derive(cell, layout=layout)
            render(d)
            gc.collect()
            st, dv, rn, warm, cpu = [], [], [], [], []
            for _ in range(R):          # as if typed anew: derivmagic's caches emptied first
                clear_caches()
                st.append(staged(cell, layout))
            for _ in range(R):
                clear_caches()
                c0, t = time.process_time(), pc()
                d = derive(cell, layout=layout)
                dv.append(pc() - t)
                cpu.append(time.process_time() - c0)  # CPU time: less disturbed by a busy machine
                rn.append(render(d))
            for _ in range(R):          # the same cell re-run (caches warm)
                t = pc()
                derive(cell, layout=layout)
                warm.append(pc() - t)
        except Exception as exc:  # noqa: BLE001 - a benchmark records, it does not stop
            row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            per_case.append(row)
            continue
        samples = {k: [ms(s_[k]) for s_ in st] for k in stages}
        samples["render"] = [ms(x) for x in rn]
        samples["derive"] = [ms(x) for x in dv]
        samples["derive_cpu"] = [ms(x) for x in cpu]
        samples["derive_render"] = [ms(a + b) for a, b in zip(dv, rn)]
        samples["derive_rerun"] = [ms(x) for x in warm]
        for k, v in samples.items():
            pooled[k].extend(v)
            row[k] = {"median": med(v), "p95": p95(v)}
        stage_sum = sum(row[k]["median"] for k in stages)
        row["other_in_derive_ms"] = row["derive"]["median"] - stage_sum  # Derivation, notes, ...
        row["check_passed"] = bool(d.check) if d.check is not None else None
        per_case.append(row)

    summary = {k: {"median": med(v), "p95": p95(v), "max": max(v) if v else None} for k, v in pooled.items()}
    results["latency"] = {"repeat": R, "cases": len(cases), "first_call": first, "summary": summary,
                          "per_case": per_case, "caches_cleared_per_repeat": clear_caches(),
                          "note": "derive and its stages: derivmagic's memo caches emptied before each repeat "
                                  "(the Lark parser excepted); derive_rerun: the same cell again, caches warm; "
                                  "derive_cpu: process CPU time of the same calls"}

    print("\n== 1. Per-cell latency over the public corpus "
          f"({len(cases)} cells, expect_error skipped; {R} repeats each; ms) ==")
    hdr = ["case", "parse", "shapes", "diff+lay", "check", "claims", "render", "derive()", "d() p95", "+render", "re-run"]
    rows = []
    for r in per_case:
        if r["error"]:
            rows.append([r["id"], "ERROR " + r["error"][:80]])
            continue
        rows.append([r["id"], r["parse"]["median"], r["shapes"]["median"], r["differentiate"]["median"],
                     r["check"]["median"], r["claims"]["median"], r["render"]["median"], r["derive"]["median"],
                     r["derive"]["p95"], r["derive_render"]["median"], r["derive_rerun"]["median"]])
    print(table(hdr, rows, [24, 6, 6, 8, 6, 6, 6, 8, 7, 7, 6]))
    print()
    srows = [[k, summary[k]["median"], summary[k]["p95"], summary[k]["max"]] for k in pooled]
    print(table(["stage (pooled samples)", "median", "p95", "max"], srows, [24, 8, 8, 8]))
    f, fs = first, first["first_stages_ms"]
    print(f"\nfirst call in a fresh interpreter (median of {f['runs']}): import {fmt(f['import_ms'], 0)} ms; "
          f"first derive() {fmt(f['first_derive_ms'], 0)} ms, of which the Lark parser build is "
          f"{fmt(f['lark_build_ms'], 0)} ms (first call by stage: parse {fmt(fs.get('parse'), 0)}, shapes "
          f"{fmt(fs.get('shapes'), 0)}, diff {fmt(fs.get('differentiate'), 0)}, check {fmt(fs.get('check'), 0)}); "
          f"first render {fmt(f['first_render_ms'], 0)} ms; the same cell again {fmt(f['second_derive_ms'], 0)} ms, "
          f"another cell {fmt(f['other_cell_derive_ms'], 0)} ms" + (f"; child errors: {errs}" if errs else ""))


# ---------------------------------------------------------------- 2. against SymPy
def judge(case: dict, raw, H, symbols=()) -> tuple[str, float | None]:
    """SymPy's raw answer against central finite differences of the case's own reference
    function. Generous: any arrangement (either layout, row or column) counts as right."""
    import sympy as sp
    from sympy.tensor.array.array_derivatives import ArrayDerivative
    if isinstance(raw, (sp.Derivative, ArrayDerivative)) or raw.atoms(sp.Derivative, ArrayDerivative):
        return "unevaluated", None
    is_zero = isinstance(raw, sp.ZeroMatrix) or (raw.is_zero is True) or raw == 0
    rng = np.random.default_rng(case.get("seed", 0))
    worst = 0.0
    for _ in range(2):
        env = H.make_env(case, rng)
        wrt = case["wrt"]
        W = np.asarray(env[wrt])
        if case["kind"] == "hessian":
            cands = [H.fd_hessian(case["f"], env, wrt)]
        else:
            G = H.fd_derivative(case["f"], env, wrt)
            cands = [G, G.T]
            if W.ndim == 2 and G.shape[0] == 1:
                cands += [G.reshape(W.shape), G.reshape(W.shape).T]
        if is_zero:
            got = np.zeros_like(cands[0])
        else:
            try:
                got = np.asarray(H.Evaluator(env)(raw, symbols), dtype=float)
            except Exception as exc:  # noqa: BLE001
                kind = "an array expression" if "Array" in type(raw).__name__ else type(exc).__name__
                return f"not evaluable ({kind})", None
        errs = []
        for want in cands:
            g, w = np.squeeze(got), np.squeeze(want)
            if g.shape != w.shape:
                continue
            errs.append(float(np.max(np.abs(g - w) / (1.0 + np.abs(w)))) if w.size else 0.0)
        if not errs:
            return "wrong shape", None
        worst = max(worst, min(errs))
    if worst <= 1e-5:
        return "correct", worst
    return ("wrong (returns 0)" if is_zero else "wrong"), worst


def sympy_case(case, builder, form, R, limit):
    """Time SymPy's bare .diff on fresh (renamed) copies of the expression; judge the answer."""
    from sympy.core.cache import clear_cache
    out = {"form": form}
    try:
        f, x, order = builder(form, "")
    except Exception as exc:  # noqa: BLE001
        return {**out, "status": f"cannot build ({type(exc).__name__}: {exc})"}

    def diff(fx):
        f_, x_, o = fx
        r = f_.diff(x_)
        return r.diff(x_) if o == 2 else r

    fresh = []
    try:
        raw = with_timeout(limit, diff, (f, x, order))   # warm-up and the answer we judge
        for i in range(R):
            fx = builder(form, f"_{i}")
            t = pc()
            with_timeout(limit, diff, fx)
            fresh.append(pc() - t)
        same = []
        for _ in range(max(3, R // 3)):
            t = pc()
            with_timeout(limit, diff, (f, x, order))
            same.append(pc() - t)
        cold = []
        for _ in range(max(3, R // 3)):
            clear_cache()
            t = pc()
            with_timeout(limit, diff, (f, x, order))
            cold.append(pc() - t)
    except Timeout as exc:
        return {**out, "status": f"timeout ({exc})", "raw": None}
    except Exception as exc:  # noqa: BLE001
        return {**out, "status": f"error ({type(exc).__name__}: {str(exc)[:120]})", "raw": None,
                "fresh_ms": med([ms(t) for t in fresh])}
    H = bench_cases.harness()
    try:
        import sympy as sp
        symbols = sorted(f.atoms(sp.MatrixSymbol), key=str) + ([x] if isinstance(x, sp.MatrixSymbol) else [])
        status, err = judge(case, raw, H, symbols)
    except Exception as exc:  # noqa: BLE001
        status, err = f"judge failed ({type(exc).__name__}: {str(exc)[:80]})", None
    return {**out, "status": status, "max_error": err, "raw": str(raw), "raw_type": type(raw).__name__,
            "function": str(f), "fresh_ms": med([ms(t) for t in fresh]), "fresh_p95_ms": p95([ms(t) for t in fresh]),
            "same_expr_ms": med([ms(t) for t in same]), "cache_cleared_ms": med([ms(t) for t in cold])}


def section_sympy(args, results):
    import sympy
    from derivmagic import derive
    H = bench_cases.harness()
    builders = bench_cases.sympy_builders()
    public = [c for c in bench_cases.public_cases() if "expect_error" not in c]
    cases = [(c, "public") for c in public] + [(c, "extra") for c in bench_cases.EXTRA_CASES]
    R = args.sympy_repeat
    latency = {r["id"]: r for r in results.get("latency", {}).get("per_case", [])}
    # warm SymPy up (its own first-call costs are not what we compare)
    x = sympy.MatrixSymbol("x", sympy.Symbol("n", integer=True, positive=True), 1)
    sympy.Trace(x.T * x).diff(x)

    rows = []
    for c, origin in cases:
        cid = c["id"]
        row = {"id": cid, "origin": origin}
        # ours: the full derive() (steps and check included), judged by the corpus harness
        if cid in latency and not latency[cid].get("error"):
            row["ours_ms"] = latency[cid]["derive"]["median"]
        else:
            try:
                derive(c["cell"], layout=c.get("layout"))
                ts = []
                for _ in range(args.repeat):
                    t = pc()
                    derive(c["cell"], layout=c.get("layout"))
                    ts.append(pc() - t)
                row["ours_ms"] = med([ms(t) for t in ts])
            except Exception as exc:  # noqa: BLE001
                row["ours_ms"], row["ours_error"] = None, f"{type(exc).__name__}: {exc}"
        if "f" in c:
            try:
                status, detail = H.run_case(c, derive)
            except Exception as exc:  # noqa: BLE001
                status, detail = "error", f"{type(exc).__name__}: {exc}"
            row["ours_status"], row["ours_detail"] = status, detail
            try:
                row["ours_answer"] = str(derive(c["cell"], layout=c.get("layout"), check=False).result)
            except Exception:  # noqa: BLE001
                row["ours_answer"] = None
        if cid in bench_cases.SYMPY_SKIPPED or "f" not in c or cid not in builders:
            row["sympy"] = {"status": "not expressible: " + bench_cases.SYMPY_SKIPPED.get(
                cid, "a claim cell (no reference function)" if "f" not in c else "no SymPy builder")}
            rows.append(row)
            continue
        row["sympy"] = sympy_case(c, builders[cid], "trace", R, args.sympy_timeout)
        alt = sympy_case(c, builders[cid], "elem", max(3, R // 3), args.sympy_timeout)
        if alt.get("function") != row["sympy"].get("function"):
            row["sympy_elem"] = alt
        rows.append(row)
        sys.stdout.write(".")
        sys.stdout.flush()
    print()

    def summarize(sel):
        exprs = [r for r in sel if not r["sympy"]["status"].startswith("not expressible")]
        counts = {}
        for r in exprs:
            key = r["sympy"]["status"].split(" (")[0]
            counts[key] = counts.get(key, 0) + 1
        answered = [r for r in exprs if r["sympy"].get("fresh_ms") is not None and r.get("ours_ms") is not None
                    and not r["sympy"]["status"].startswith(("error", "timeout"))]
        correct = [r for r in answered if r["sympy"]["status"] == "correct"]

        def ratios(rs):
            if not rs:
                return None
            ours, theirs = med([r["ours_ms"] for r in rs]), med([r["sympy"]["fresh_ms"] for r in rs])
            return {"n": len(rs), "ours_median_ms": ours, "sympy_median_ms": theirs, "ratio_of_medians": ours / theirs,
                    "median_of_ratios": med([r["ours_ms"] / r["sympy"]["fresh_ms"] for r in rs])}
        ours_ok = sum(1 for r in exprs if r.get("ours_status") == "pass")
        return {"expressible": len(exprs), "sympy_status_counts": counts,
                "sympy_wrong_or_no_answer": len(exprs) - counts.get("correct", 0),
                "ours_correct_on_same": ours_ok,
                "both_answer": ratios(answered), "sympy_correct": ratios(correct)}

    summary = {"public": summarize([r for r in rows if r["origin"] == "public"]),
               "extra": summarize([r for r in rows if r["origin"] == "extra"]),
               "all": summarize(rows)}
    elem = [r for r in rows if "sympy_elem" in r]
    summary["elem_form"] = {"cases": len(elem), "correct": sum(r["sympy_elem"]["status"] == "correct" for r in elem),
                            "note": "the same functions with scalars written (u.T*v)[0, 0] instead of Trace(u.T*v)"}
    results["sympy"] = {"sympy_version": sympy.__version__, "repeat": R, "rows": rows, "summary": summary}

    print(f"\n== 2. Against SymPy {sympy.__version__}: its bare .diff (fresh symbols each repeat, {R} repeats) "
          "beside our full derive() (steps + check), ms ==")
    hdr = ["case", "ours", "sympy", "ratio", "ours ok", "sympy answer (judged by finite differences)"]
    trows = []
    for r in rows:
        s = r["sympy"]
        ratio = r["ours_ms"] / s["fresh_ms"] if s.get("fresh_ms") and r.get("ours_ms") else None
        status = s["status"]
        if s.get("raw") is not None and status != "correct":
            status += f": {s['raw'][:38]}"
        if "sympy_elem" in r and r["sympy_elem"]["status"] != s["status"]:
            status += f" | [0,0]-form: {r['sympy_elem']['status'][:24]}"
        name = r["id"] + ("*" if r["origin"] == "extra" else "")
        trows.append([name, r.get("ours_ms"), s.get("fresh_ms"), ratio, r.get("ours_status", "—"), status[:80]])
    print(table(hdr, trows, [24, 7, 8, 6, 7, 50], left=(0, 5)))
    print("(* = extra cell, not in the public corpus)")
    for key in ("public", "extra", "all"):
        s = summary[key]
        both, right = s["both_answer"], s["sympy_correct"]
        line = (f"{key:6s}: SymPy can express {s['expressible']}; its answers: {s['sympy_status_counts']}; "
                f"ours correct on {s['ours_correct_on_same']}/{s['expressible']}.")
        if both:
            line += (f"\n        where SymPy answers (n={both['n']}): ours {fmt(both['ours_median_ms'], 0)} ms vs SymPy "
                     f"{fmt(both['sympy_median_ms'], 0)} ms median -> ratio {both['ratio_of_medians']:.2f} "
                     f"(median of per-case ratios {both['median_of_ratios']:.2f})")
        if right:
            line += (f"\n        where SymPy is right (n={right['n']}): ours {fmt(right['ours_median_ms'], 0)} ms vs "
                     f"{fmt(right['sympy_median_ms'], 0)} ms -> ratio {right['ratio_of_medians']:.2f}")
        print(line)
    e = summary["elem_form"]
    print(f"[0,0] spelling of the scalars: SymPy correct on {e['correct']}/{e['cases']} of the cases where it differs")


# ---------------------------------------------------------------- 3. import
IMPORT_CHILD = r"""
import json, time
pc = time.perf_counter
t = pc()
{stmt}
dt = pc() - t
import sys
print('@@' + json.dumps(dict(s=dt, sympy_loaded='sympy' in sys.modules, numpy_loaded='numpy' in sys.modules)))
"""

LOAD_EXT_CHILD = r"""
import json, time, io, contextlib
pc = time.perf_counter
t = pc()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
t_shell = pc() - t
t = pc()
err = None
try:
    shell.run_line_magic('load_ext', 'derivmagic')
except Exception as exc:
    err = f'{type(exc).__name__}: {exc}'
t_ext = pc() - t
t_cell = None
if err is None:
    buf = io.StringIO()
    t = pc()
    try:
        with contextlib.redirect_stdout(buf):
            shell.run_cell_magic('derive', '', r'\nabla_x \|Ax - b\|_2^2')
    except Exception as exc:
        err = f'first cell: {type(exc).__name__}: {exc}'
    t_cell = pc() - t
import sys
print('@@' + json.dumps(dict(shell_s=t_shell, s=t_ext, first_cell_s=t_cell, error=err,
                             sympy_loaded='sympy' in sys.modules)))
"""


def section_import(args, results):
    stmts = {"import derivmagic": "import derivmagic", "import sympy": "import sympy",
             "import numpy": "import numpy", "import lark": "import lark", "python (nothing)": "pass"}
    out = {}
    N = args.import_repeat
    order = list(stmts) * N  # interleaved, so that drift on a busy machine hits all alike
    samples = {k: [] for k in stmts}
    extra = {}
    for k in order:
        r = run_child(IMPORT_CHILD.replace("{stmt}", stmts[k]))
        if "error" in r:
            extra.setdefault(k, r["error"])
            continue
        samples[k].append(r)
    for k, rs in samples.items():
        out[k] = {"median_ms": med([ms(r["s"]) for r in rs]), "wall_median_ms": med([ms(r["wall_s"]) for r in rs]),
                  "runs": len(rs), "sympy_loaded": rs[0]["sympy_loaded"] if rs else None,
                  "samples_ms": [ms(r["s"]) for r in rs], "error": extra.get(k)}
    le = [run_child(LOAD_EXT_CHILD) for _ in range(N)]
    ok = [r for r in le if not r.get("error") and "s" in r]
    errs = sorted({r.get("error") for r in le if r.get("error")})
    out["%load_ext derivmagic"] = {
        "median_ms": med([ms(r["s"]) for r in ok]) if ok else None,
        "ipython_shell_ms": med([ms(r["shell_s"]) for r in le if "shell_s" in r]),
        "first_cell_ms": med([ms(r["first_cell_s"]) for r in ok if r.get("first_cell_s") is not None]) if ok else None,
        "runs": len(ok), "errors": errs,
        "sympy_loaded": ok[0]["sympy_loaded"] if ok else None,
    }
    # the %load_ext cost without IPython's part: derivmagic's own import inside a shell
    dm, sp_ = out["import derivmagic"]["median_ms"], out["import sympy"]["median_ms"]
    out["ratio_derivmagic_over_sympy"] = dm / sp_ if dm and sp_ else None
    results["import"] = out
    print(f"\n== 3. Import, fresh interpreters ({N} runs each, interleaved; median ms, time of the statement itself) ==")
    rows = []
    for k in stmts:
        o = out[k]
        rows.append([k, o["median_ms"], o["wall_median_ms"], "yes" if o["sympy_loaded"] else "no", o["error"] or ""])
    le = out["%load_ext derivmagic"]
    rows.append(["%load_ext derivmagic", le["median_ms"], None, "yes" if le["sympy_loaded"] else ("no" if le["sympy_loaded"] is not None else "—"),
                 "; ".join(le["errors"])[:60]])
    print(table(["statement", "median", "process", "sympy?", "error"], rows, [22, 8, 8, 7, 60], left=(0, 4)))
    print(f"IPython InteractiveShell.instance() itself: {fmt(le['ipython_shell_ms'], 0)} ms; first %%derive cell after "
          f"%load_ext: {fmt(le['first_cell_ms'], 0)} ms")
    if out["ratio_derivmagic_over_sympy"]:
        print(f"import derivmagic / import sympy = {out['ratio_derivmagic_over_sympy']:.2f}")


# ---------------------------------------------------------------- 4. depth
def depth_cell_defs(L: int) -> str:
    """h_1 = σ(W_1 x), ..., h_{L-1} = σ(W_{L-1} h_{L-2}); J = ‖W_L h_{L-1} - y‖²; ∇_{W_1} J.
    Subscripts always in braces (W_{1}): the same spelling everywhere in the cell."""
    lines, prev = [], "x"
    for i in range(1, L):
        lines.append(f"h_{{{i}}} = \\sigma(W_{{{i}}} {prev})")
        prev = f"h_{{{i}}}"
    lines.append(f"J = \\|W_{{{L}}} {prev} - y\\|_2^2")
    lines.append("\\nabla_{W_{1}} J")
    return "\n".join(lines)


def depth_cell_nested(L: int) -> str:
    inner = "x"
    for i in range(1, L):
        inner = f"\\sigma(W_{{{i}}} {inner})"
    return f"\\nabla_{{W_{{1}}}} \\|W_{{{L}}} {inner} - y\\|_2^2"


class lifted_limits:
    """derivmagic's work and wall-clock budgets switched off (to time what they would stop)."""
    KEYS = ("seconds", "work")

    def __enter__(self):
        from derivmagic import limits
        self.saved = {k: limits.LIMITS[k] for k in self.KEYS if k in getattr(limits, "LIMITS", {})}
        for k in self.saved:
            limits.LIMITS[k] = None
        return self

    def __exit__(self, *exc):
        from derivmagic import limits
        limits.LIMITS.update(self.saved)
        return False


def tree_size(root) -> int:
    """Nodes counted with repetition (what a printer without sharing writes out)."""
    from derivmagic.expr import postorder
    count = {}
    for node in postorder(root):
        count[node] = 1 + sum(count[a] for a in node.args)
    return count[root]


def measure_depth(cell: str, R: int, args) -> dict:
    from derivmagic import derive
    from derivmagic.expr import size
    from derivmagic.render import to_latex
    clear_caches()
    t = pc(); d = with_timeout(args.depth_timeout, derive, cell); full = [pc() - t]
    t = pc(); with_timeout(args.depth_timeout, render, d); rend = [pc() - t]
    if full[0] + rend[0] > args.depth_budget:
        R = 1  # slow already: one measurement, not a median
    nocheck = []
    for i in range(R):
        if i:
            clear_caches()
            t = pc(); d = derive(cell); full.append(pc() - t)
            rend.append(render(d))
        clear_caches()
        t = pc(); derive(cell, check=False); nocheck.append(pc() - t)
    res = d.answer.result
    return dict(derive_ms=med([ms(t) for t in full]), derive_nocheck_ms=med([ms(t) for t in nocheck]),
                render_ms=med([ms(t) for t in rend]), size=size(res), tree_size=tree_size(res),
                function_size=size(d.answer.function), latex_chars=len(to_latex(res)),
                derivation_latex_chars=len(d.latex), steps=len(d.steps),
                check_passed=bool(d.check), nonzero=size(res) > 1, repeats=R)


def section_depth(args, results):
    from derivmagic import derive
    from derivmagic.errors import LimitError
    Ls = args.depths
    out = {}
    for style, make in (("definitions", depth_cell_defs), ("nested", depth_cell_nested)):
        rows = []
        for L in Ls:
            cell = make(L)
            R = max(3, args.repeat // (1 + L // 8))
            row = {"L": L, "cell_chars": len(cell)}
            try:
                clear_caches()
                derive(cell)  # as shipped: its budgets may refuse a deep network
            except LimitError as exc:
                row["limit_error"] = str(exc).splitlines()[0][:200]
            except Exception as exc:  # noqa: BLE001
                row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            if "error" not in row:
                try:
                    with lifted_limits():  # time it either way (flagged when the budget refused it)
                        row.update(measure_depth(cell, R, args))
                except Exception as exc:  # noqa: BLE001 (Timeout included)
                    row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            rows.append(row)
            print(f"   depth {style} L={L}: " + (f"{row['derive_ms']:.0f} ms, render {row['render_ms']:.0f} ms"
                                                 if "error" not in row else row["error"])
                  + (f"  [as shipped: {row['limit_error']}]" if "limit_error" in row else ""), flush=True)
        ok = {r["L"]: r for r in rows if "error" not in r}
        ratio = ok[32]["derive_ms"] / ok[4]["derive_ms"] if 32 in ok and 4 in ok else None
        fit = None
        if len(ok) >= 3:
            xs = np.array(sorted(ok), float)
            ys = np.array([ok[int(L)]["size"] for L in xs], float)
            a, b = np.polyfit(xs, ys, 1)
            pred = a * xs + b
            r2 = 1 - float(np.sum((ys - pred) ** 2) / max(np.sum((ys - ys.mean()) ** 2), 1e-12))
            fit = {"slope": float(a), "intercept": float(b), "r2": r2,
                   "size_ratio_32_4": ok[32]["size"] / ok[4]["size"] if 32 in ok and 4 in ok else None}
        out[style] = {"rows": rows, "time_ratio_32_4": ratio, "size_fit": fit}
    results["depth"] = out
    print("\n== 4. Depth: ∇_{W_1} of ‖W_L σ(W_{L-1} ⋯ σ(W_1 x)) - y‖², derive() with check (ms) ==")
    for style, o in out.items():
        print(f"-- written with {style}")
        rows = []
        for r in o["rows"]:
            if "error" in r:
                rows.append([str(r["L"]), "ERROR", r["error"][:60], "", "", "", "", "", ""])
                continue
            rows.append([str(r["L"]) + ("!" if "limit_error" in r else ""), r["derive_ms"], r["derive_nocheck_ms"],
                         r["render_ms"], r["size"], r["tree_size"], r["latex_chars"], r["steps"],
                         "ok" if r["check_passed"] and r["nonzero"] else "NO"])
        print(table(["L", "derive", "no check", "render", "size", "tree", "latex", "steps", "check"], rows,
                    [4, 8, 8, 8, 6, 8, 8, 6, 6]))
        if any("limit_error" in r for r in o["rows"]):
            print("! refused by derivmagic's own budget as shipped (LimitError); timed with the budget lifted")
        fit = o["size_fit"] or {}
        print(f"time(L=32)/time(L=4) = {fmt(o['time_ratio_32_4'], 0)}; size ≈ {fmt(fit.get('slope'), 0)}·L + "
              f"{fmt(fit.get('intercept'), 0)} (R² {fmt(fit.get('r2'), 0, 4)}), size(32)/size(4) = {fmt(fit.get('size_ratio_32_4'), 0)}")


# ---------------------------------------------------------------- 5. check at scale
CHECK_CELLS = [
    ("least squares, A m×n (m fixed)", r"\nabla_x \|Ax-b\|_2^2", "fixed"),
    ("quadratic form, A n×n dense", r"\nabla_x x^T A x", "square"),
    ("log-sum-exp (O(n) data)", r"\nabla_x \log(\mathbf{1}^T \exp(x))", "fixed"),
    ("elementwise Jacobian ∂tanh(x)/∂x", r"\frac{\partial}{\partial x} \tanh(x)", "fixed"),
]


def section_check(args, results):
    from derivmagic import derive
    run_check = check_function()
    out = []
    for label, cell, mode in CHECK_CELLS:
        base = derive(cell, check=False)
        var = base.answer.var
        var_dims = [d for d in var.shape if isinstance(d, str)]
        rows = []
        for N in args.check_sizes:
            dims = {name: (N if (name in var_dims or mode == "square") else args.check_fixed) for name in base.reading.dims}
            if mode == "square" and N > args.dense_max:
                rows.append({"n": N, "dims": dims, "skipped": f"dense n×n above --dense-max {args.dense_max}"})
                continue
            R = 5 if N <= 1000 else 3
            try:
                chk, full = [], []
                for i in range(R):
                    t = pc(); v = run_check(base.answer, base.reading, i, dims); chk.append(pc() - t)
                row = {"n": N, "dims": v.dims, "run_check_ms": med([ms(t) for t in chk]),
                       "run_check_min_ms": ms(min(chk)), "passed": bool(v), "max_error": v.max_error, "probes": v.probes}
                try:  # the whole derive(dims=...), as shipped (its time budget covers the check)
                    t = pc(); d = derive(cell, dims=dims); full.append(pc() - t)
                    row.update(derive_ms=ms(full[0]), derive_check_passed=bool(d.check))
                except Exception as exc:  # noqa: BLE001
                    row["derive_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                rows.append(row)
            except Exception as exc:  # noqa: BLE001
                rows.append({"n": N, "dims": dims, "error": f"{type(exc).__name__}: {str(exc)[:160]}"})
            gc.collect()
        out.append({"label": label, "cell": cell, "variable_dims": var_dims, "reading_dims": sorted(base.reading.dims),
                    "rows": rows})
    results["check"] = {"fixed_other_dims": args.check_fixed, "cells": out}
    print(f"\n== 5. Numeric check at scale: run_check() time (ms) against n, the variable's size "
          f"(other dimensions {args.check_fixed}) ==")
    hdr = ["cell"] + [f"n={n}" for n in args.check_sizes] + ["passed"]
    rows = []
    for c in out:
        vals = []
        for r in c["rows"]:
            vals.append("skip" if "skipped" in r else ("ERR" if "error" in r else r["run_check_ms"]))
        passed = all(r.get("passed", True) for r in c["rows"] if "error" not in r and "skipped" not in r)
        rows.append([c["label"], *vals, "yes" if passed else "NO"])
    print(table(hdr, rows, [34] + [9] * len(args.check_sizes) + [6]))
    for c in out:
        for r in c["rows"]:
            if "error" in r:
                print(f"  {c['label']} n={r['n']}: {r['error']}")
            if "derive_error" in r:
                print(f"  {c['label']} n={r['n']}: derive(dims=...) as shipped: {r['derive_error']}")


def section_peers(args, results):
    """peers_bench.py in a child process (one BLAS thread must be set before NumPy is imported):
    exported code against hand-written NumPy, jax, autograd and torch; its table printed as it comes."""
    print("\n== 6. Exported code against hand-written NumPy and the autodiff libraries (peers_bench.py) ==")
    out = HERE / "results" / "peers.json"
    cmd = [sys.executable, str(HERE / "peers_bench.py"), "--json", str(out)] + (["--quick"] if args.quick else [])
    proc = subprocess.run(cmd, text=True, capture_output=True, timeout=args.peers_timeout)
    print(proc.stdout, end="")
    if proc.returncode:
        raise RuntimeError(f"peers_bench.py exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    results["peers"] = json.loads(out.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- targets and metadata
def targets(results) -> list[dict]:
    out = []

    def add(name, value, target, ok, note=""):
        out.append({"target": name, "value": value, "limit": target, "holds": ok, "note": note})

    lat = results.get("latency", {}).get("summary")
    if lat:
        add("median derive() latency, public corpus (ms)", lat["derive"]["median"], TARGETS["derive_median_ms"],
            lat["derive"]["median"] <= TARGETS["derive_median_ms"], "steps and check included, parser prebuilt")
        add("p95 derive() latency, public corpus (ms)", lat["derive"]["p95"], TARGETS["derive_p95_ms"],
            lat["derive"]["p95"] <= TARGETS["derive_p95_ms"])
        add("median derive()+render (ms)", lat["derive_render"]["median"], TARGETS["derive_median_ms"],
            lat["derive_render"]["median"] <= TARGETS["derive_median_ms"], "what a notebook cell shows")
        fc = results["latency"]["first_call"].get("first_derive_ms")
        if fc is not None:
            add("first derive() in a fresh interpreter (ms)", fc, TARGETS["derive_p95_ms"], fc <= TARGETS["derive_p95_ms"],
                "includes building the Lark parser (informational, vs the p95 limit)")
    sp_ = results.get("sympy", {}).get("summary")
    if sp_:
        for key in ("public", "all"):
            both = sp_[key]["both_answer"]
            if both:
                add(f"ours / SymPy .diff, median, cases both answer ({key}, n={both['n']})", both["ratio_of_medians"],
                    TARGETS["vs_sympy_ratio"], both["ratio_of_medians"] <= TARGETS["vs_sympy_ratio"])
            right = sp_[key]["sympy_correct"]
            if right:
                add(f"ours / SymPy .diff, median, cases SymPy gets right ({key}, n={right['n']})",
                    right["ratio_of_medians"], TARGETS["vs_sympy_ratio"], right["ratio_of_medians"] <= TARGETS["vs_sympy_ratio"])
    imp = results.get("import")
    if imp and imp.get("ratio_derivmagic_over_sympy"):
        r = imp["ratio_derivmagic_over_sympy"]
        add("import derivmagic / import sympy", r, TARGETS["import_vs_sympy"], r <= TARGETS["import_vs_sympy"])
        le = imp["%load_ext derivmagic"]
        if le["median_ms"] is not None and imp["import sympy"]["median_ms"]:
            r2 = le["median_ms"] / imp["import sympy"]["median_ms"]
            add("%load_ext derivmagic / import sympy", r2, TARGETS["import_vs_sympy"], r2 <= TARGETS["import_vs_sympy"])
        elif le["errors"]:
            add("%load_ext derivmagic / import sympy", None, TARGETS["import_vs_sympy"], None, le["errors"][0][:80])
    dep = results.get("depth")
    if dep:
        for style, o in dep.items():
            r = o["time_ratio_32_4"]
            if r is not None:
                add(f"depth: time(L=32)/time(L=4) ({style})", r, TARGETS["depth_ratio_32_4"], r <= TARGETS["depth_ratio_32_4"])
            ok = {r["L"]: r for r in o["rows"] if "error" not in r}
            if 32 in ok and 4 in ok:
                rr = (ok[32]["derive_ms"] + ok[32]["render_ms"]) / (ok[4]["derive_ms"] + ok[4]["render_ms"])
                add(f"depth: (derive+render)(L=32)/(L=4) ({style})", rr, TARGETS["depth_ratio_32_4"],
                    rr <= TARGETS["depth_ratio_32_4"], "informational: what a notebook cell shows")
            fit = o["size_fit"]
            if fit:
                lin = fit["r2"] >= 0.99 and fit["size_ratio_32_4"] is not None and fit["size_ratio_32_4"] <= 8.5
                add(f"depth: result size linear in L ({style})", fit["slope"], "R²≥0.99", lin,
                    f"size ≈ {fit['slope']:.1f}·L + {fit['intercept']:.1f}, R² {fit['r2']:.4f}")
    chk = results.get("check")
    if chk:
        for c in chk["cells"]:
            for r in c["rows"]:
                if r["n"] == 10000 and "run_check_ms" in r:
                    add(f"check at n=10,000: {c['label']} (ms)", r["run_check_ms"], TARGETS["check_n10000_ms"],
                        r["run_check_ms"] <= TARGETS["check_n10000_ms"])
    return out


def machine() -> dict:
    info = {"python": sys.version.split()[0], "platform": platform.platform(), "uname": " ".join(platform.uname()),
            "executable": sys.executable, "cpu_count": os.cpu_count()}
    try:
        ls = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        keep = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "CPU max MHz", "L2 cache",
                "L3 cache", "Hypervisor vendor")
        info["lscpu"] = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in ls.splitlines())
                         if k.strip() in keep}
    except Exception:  # noqa: BLE001
        pass
    try:
        with open("/proc/meminfo") as fh:
            info["mem_total"] = fh.readline().split(":")[1].strip()
        info["loadavg_start"] = os.getloadavg()
    except Exception:  # noqa: BLE001
        pass
    versions = {}
    for mod in ("derivmagic", "sympy", "numpy", "lark", "IPython"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    info["versions"] = versions
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "derivmagic"], capture_output=True, text=True, cwd=ROOT).stdout
        info["git"] = rev + (" (derivmagic/ has uncommitted changes)" if dirty.strip() else "")
    except Exception:  # noqa: BLE001
        pass
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="derivmagic benchmarks (issue #6)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {','.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes (a smoke run)")
    ap.add_argument("--repeat", type=int, default=15, help="repeats per cell for latency (default 15)")
    ap.add_argument("--sympy-repeat", type=int, default=9, help="repeats of each SymPy .diff (default 9)")
    ap.add_argument("--sympy-timeout", type=float, default=30.0, help="seconds before a SymPy .diff is abandoned")
    ap.add_argument("--import-repeat", type=int, default=7, help="fresh interpreters per import statement")
    ap.add_argument("--children", type=int, default=5, help="fresh interpreters for the first-call cost")
    ap.add_argument("--depths", default="1,2,4,8,16,32")
    ap.add_argument("--depth-budget", type=float, default=3.0,
                    help="seconds: a depth whose first derive()+render takes longer is measured once")
    ap.add_argument("--depth-timeout", type=float, default=600.0, help="seconds before one depth is abandoned")
    ap.add_argument("--check-sizes", default="10,100,1000,10000")
    ap.add_argument("--check-fixed", type=int, default=20, help="size of the dimensions other than the variable's")
    ap.add_argument("--dense-max", type=int, default=10000, help="largest n for an n×n dense input")
    ap.add_argument("--peers-timeout", type=float, default=1800.0, help="seconds before peers_bench.py is abandoned")
    ap.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat, args.sympy_repeat, args.import_repeat, args.children = 3, 3, 3, 2
        args.check_sizes = "10,100,1000"
    args.depths = [int(x) for x in args.depths.split(",")]
    args.check_sizes = [int(x) for x in args.check_sizes.split(",")]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s): {', '.join(sorted(unknown))}")

    started = time.time()
    results: dict = {"meta": {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "argv": sys.argv[1:],
                              "machine": machine()}}
    m = results["meta"]["machine"]
    print(f"derivmagic benchmarks — {m.get('lscpu', {}).get('Model name', platform.processor())}, "
          f"{m.get('cpu_count')} CPUs, Python {m['python']}, " +
          ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v) + f", git {m.get('git', '?')}")
    for name in SECTIONS:
        if name not in only:
            continue
        t = pc()
        try:
            globals()[f"section_{name}"](args, results)
        except Exception as exc:  # noqa: BLE001
            results.setdefault("errors", {})[name] = traceback.format_exc()
            print(f"\n!! section {name} failed: {type(exc).__name__}: {exc}")
        results.setdefault("section_seconds", {})[name] = pc() - t

    results["targets"] = targets(results)
    results["meta"]["seconds"] = time.time() - started
    try:
        results["meta"]["machine"]["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    print("\n== Targets ==")
    rows = [[t["target"][:62], t["value"], t["limit"] if not isinstance(t["limit"], str) else t["limit"],
             verdict(t["holds"])] for t in results["targets"]]
    print(table(["target", "value", "limit", "verdict"], rows, [62, 8, 8, 7]))

    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print(f"\nwrote {path} ({results['meta']['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
