#!/usr/bin/env python
"""What-if: the fixes suggested by the profiles, applied as monkeypatches in this process
only (derivmagic's files are not touched), and the depth and corpus timings measured
again against the unpatched code, each in a fresh interpreter.

    .venv/bin/python benchmarks/whatif.py              # every patch, alone and together
    .venv/bin/python benchmarks/whatif.py hash sortkey # some of them together

Patches:
  hash      Expr hash built from the children's cached hashes, O(arity) per node, instead of
            hash(self.key) over the whole nested key (tuples do not cache their hash, so every
            node construction re-hashes its entire subtree, Fractions included)
  sortkey   Expr.sort_key (repr(self.key): a string of the whole subtree, Fraction.__repr__ on
            every coefficient in it) built once per node from the children's cached strings:
            the very same string, so the same order, without the recursive repr
  simplifymemo  one simplify memo shared by every call of a derivation (simplify() is run on
            each step's differential, and each run starts again from an empty memo)
  transposes simplify._transposes memoized (a recursive count over the tree, not the DAG)
  prunedsimplify  simplify() walks only the nodes it has not simplified yet (a traversal that
            stops at memoized nodes) instead of a full postorder of each step's differential
  printmemo the printers remember the string of each (node, precedence) within one render
  plainname render._plain_name cached per symbol (regex substitutions on every printed symbol)
  larkcache Lark(..., cache=True): the parser tables pickled once, loaded on the next start
The results are only an estimate of the gain: a real change may differ in detail.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = Path(os.environ.get("DERIVMAGIC_SRC") or ROOT).resolve()  # another checkout, e.g. an older commit
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(SRC))
APPLIED: list = []   # patches applied in this process (others were already in the code)
pc = time.perf_counter


def patch(names: list[str]) -> None:
    import inspect
    from functools import lru_cache
    import derivmagic.expr as E
    import derivmagic.render as R
    import derivmagic.simplify as S
    present = {
        "hash": "a._hash for a in args" in inspect.getsource(E.Expr.__init__),
        "sortkey": "_sort" in E.Expr.__slots__,
        "transposes": hasattr(getattr(S, "_transposes", None), "cache_info"),
        "simplifymemo": hasattr(S, "_DONE"),
        "printmemo": "memo" in inspect.getsource(R.Printer.__call__),
        "plainname": hasattr(getattr(R, "_plain_name", None), "cache_info"),
    }
    names = [n for n in names if not present.get(n)]  # already in the code: nothing to patch
    APPLIED[:] = names
    if "hash" in names:
        def __init__(self, args, shape, extra=()):
            self.args = args
            self.shape = shape
            name = type(self).__name__
            self.key = (name, extra, tuple(a.key for a in args))
            self._hash = hash((name, extra, tuple(a._hash for a in args)))
            self._free = None
        E.Expr.__init__ = __init__
    if "sortkey" in names:
        def _sort_key_cached(e):
            name, extra, children = e.key
            if not e.args:
                return repr(e.key)
            parts = [E._sort_key_cached(a) for a in e.args]
            ch = "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
            return "(" + repr(name) + ", " + repr(extra) + ", " + ch + ")"
        _sort_key_cached.__module__ = "derivmagic.expr"  # so that run.clear_caches empties it too
        E._sort_key_cached = lru_cache(maxsize=None)(_sort_key_cached)

        def sort_key(self):
            return E._sort_key_cached(self)
        E.Expr.sort_key = sort_key
    if "simplifymemo" in names:
        import derivmagic.differentiate as Dm
        import derivmagic.layout as Ly
        import derivmagic.simplify as S

        class _Memo(dict):
            def cache_clear(self):
                self.clear()

            def cache_info(self):
                return len(self)
        _Memo.__module__ = "derivmagic.simplify"  # emptied by run.clear_caches, like the lru_caches
        S._shared_memo = memo = _Memo()

        def simplify(root):
            for node in E.postorder(root):
                if node in memo:
                    continue
                args = [memo[a] for a in node.args]
                new = node if all(n is o for n, o in zip(args, node.args)) else node.rebuild(args)
                if isinstance(new, S.Add):
                    new = S.factor(list(new.args)) or S._ordered(new)
                memo[node] = new
            return memo[root]
        S.simplify = Dm.simplify = Ly.simplify = simplify
    if "transposes" in names:
        import derivmagic.simplify as S
        if hasattr(S, "_transposes"):
            S._transposes = lru_cache(maxsize=None)(S._transposes)
    if "prunedsimplify" in names and hasattr(S, "_DONE"):
        import derivmagic.differentiate as Dm
        import derivmagic.layout as Ly

        def simplify(root):
            done = S._DONE
            if root in done:
                return done[root]
            stack = [(root, False)]
            while stack:
                node, ready = stack.pop()
                if node in done:
                    continue
                if ready:
                    args = [done[a] for a in node.args]
                    new = node if all(n is o for n, o in zip(args, node.args)) else node.rebuild(args)
                    if isinstance(new, S.Add):
                        new = S.factor(list(new.args)) or S._ordered(new)
                    done[node] = new
                else:
                    stack.append((node, True))
                    stack.extend((a, False) for a in reversed(node.args) if a not in done)
            result = done[root]
            if len(done) > getattr(S, "_DONE_LIMIT", 100_000):
                done.clear()
            return result
        S.simplify = Dm.simplify = Ly.simplify = simplify
    if "printmemo" in names:
        import derivmagic.render as R
        original = R.Printer.__call__
        memo: dict = {}
        depth = [0]

        def call(self, e, prec=0):
            if not depth[0]:
                memo.clear()  # one memo per top-level print: nothing carried between renders
            k = (self.latex, e, prec)
            if k in memo:
                return memo[k]
            depth[0] += 1
            try:
                memo[k] = s = original(self, e, prec)
            finally:
                depth[0] -= 1
            return s
        R.Printer.__call__ = call
    if "plainname" in names:
        import derivmagic.render as R
        R._plain_name = lru_cache(maxsize=None)(R._plain_name)
    if "larkcache" in names:
        import derivmagic.parse as P
        from importlib import resources
        from lark import Lark

        @lru_cache(maxsize=1)
        def parser():
            grammar = resources.files("derivmagic").joinpath("grammar.lark").read_text(encoding="utf-8")
            return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                        maybe_placeholders=False, cache=True)
        P.parser = parser


def measure(names: list[str]) -> dict:
    """CPU time of this process (time.process_time), the best of several repeats: on a shared
    machine that is the estimate least disturbed by other work."""
    clock = time.process_time
    t = clock()
    import derivmagic  # noqa: F401
    t_import = clock() - t
    patch(names)
    from derivmagic import limits
    limits.LIMITS["seconds"] = None  # measure past the 1.5 s budget rather than stop at it
    limits.LIMITS["work"] = None
    import run
    run.pc = clock  # staged() and render() time with the same clock
    from run import clear_caches, depth_cell_defs, render, staged
    import bench_cases
    from derivmagic import derive
    out = {"patches": names, "applied": list(APPLIED), "clock": "process_time, best of repeats",
           "import_ms": t_import * 1e3}
    t = clock()
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    out["first_derive_ms"] = (clock() - t) * 1e3
    depth = {}
    for L in (4, 8, 16, 32):
        cell = depth_cell_defs(L)
        derive(cell)
        st, rn, full = [], [], []
        for _ in range(5 if L < 32 else 3):
            clear_caches()
            st.append(staged(cell, None))
            clear_caches()
            t = clock()
            d = derive(cell)
            full.append(clock() - t)
            rn.append(render(d))
        depth[L] = {"derive_ms": 1e3 * min(full), "differentiate_ms": 1e3 * min(s["differentiate"] for s in st),
                    "shapes_ms": 1e3 * min(s["shapes"] for s in st), "parse_ms": 1e3 * min(s["parse"] for s in st),
                    "check_ms": 1e3 * min(s["check"] for s in st), "render_ms": 1e3 * min(rn)}
    out["depth"] = depth
    cases = [c for c in bench_cases.public_cases() if "expect_error" not in c]
    per_cell = []
    for c in cases:
        ts = []
        for _ in range(5):
            clear_caches()
            t = clock()
            derive(c["cell"], layout=c.get("layout"))
            ts.append((clock() - t) * 1e3)
        per_cell.append(min(ts))
    out["corpus_median_ms"] = statistics.median(per_cell)
    out["corpus_p95_ms"] = sorted(per_cell)[int(0.95 * (len(per_cell) - 1))]
    return out


def child(names: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + str(HERE))
    code = ("import sys, json; sys.path.insert(0, 'benchmarks'); import whatif; "
            f"print('@@' + json.dumps(whatif.measure({names!r})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    return {"patches": names, "error": proc.stderr[-800:]}


ALL = ["hash", "sortkey", "transposes", "simplifymemo", "prunedsimplify", "printmemo", "plainname", "larkcache"]


def best(a: dict, b: dict) -> dict:
    """Leaf-wise minimum of two results of the same configuration."""
    out = {}
    for k, v in a.items():
        w = b.get(k)
        if isinstance(v, dict) and isinstance(w, dict):
            out[k] = best(v, w)
        elif isinstance(v, (int, float)) and isinstance(w, (int, float)):
            out[k] = min(v, w)
        else:
            out[k] = v
    return out


def main(argv):
    rounds = 3
    if argv and argv[0].startswith("--rounds="):
        rounds, argv = int(argv[0].split("=")[1]), argv[1:]
    if argv:  # configurations separated by ",": whatif.py prunedsimplify , printmemo plainname
        configs, cur = [[]], []
        for a in argv + [","]:
            if a == ",":
                if cur:
                    configs.append(cur)
                cur = []
            else:
                cur.append(a)
    else:
        configs = [[]] + [[n] for n in ALL] + [ALL[:4], ALL]
    results: dict = {}
    for rnd in range(rounds):  # interleaved rounds: drift on a shared machine hits every configuration
        for names in configs:
            r = child(names)
            key = "+".join(names) or "baseline"
            if "error" in r:
                results.setdefault(key, r)
                continue
            results[key] = best(results[key], r) if key in results and "error" not in results[key] else r
        print(f"round {rnd + 1}/{rounds} done", flush=True)
    base = results.get("baseline", {})
    print(f"\nCPU time (process_time), best of {rounds} fresh interpreters x repeats; L = network depth")
    print(f"{'patches':44s} {'first':>6s} {'corpus':>7s} {'L=4':>6s} {'L=32':>7s} {'diff32':>7s} {'render32':>8s} {'t32/t4':>6s}")
    for key, r in results.items():
        if "error" in r:
            print(f"{key:44s} ERROR {r['error'][-200:]}")
            continue
        d = r["depth"]
        if r.get("applied") is not None and r["applied"] != r["patches"]:
            key += " (in the code: " + ",".join(n for n in r["patches"] if n not in r["applied"]) + ")"
        print(f"{key[:44]:44s} {r['first_derive_ms']:6.0f} {r['corpus_median_ms']:7.2f} {d['4']['derive_ms']:6.1f} "
              f"{d['32']['derive_ms']:7.0f} {d['32']['differentiate_ms']:7.0f} {d['32']['render_ms']:8.0f} "
              f"{d['32']['derive_ms'] / d['4']['derive_ms']:6.1f}")
    out = HERE / "results" / (os.environ.get("WHATIF_OUT") or "whatif.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
