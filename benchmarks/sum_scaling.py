"""derive() over a sum of k terms, ``\\nabla_x a_1^T x + … + a_k^T x`` (the limits on terms and
operands lifted): CPU time of ``derive(check=False)``, best of 3, and the exponent between sizes.
Run: .venv/bin/python benchmarks/sum_scaling.py"""
import math
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from derivmagic import derive, limits  # noqa: E402

limits.LIMITS.update(operands=10**6, terms=10**6, work=None)
res = {}
for k in (16, 32, 64, 128, 256):
    cell = r"\nabla_x " + " + ".join(f"a_{{{i}}}^T x" for i in range(1, k + 1))
    times = []
    for _ in range(3):
        t = time.process_time()
        derive(cell, check=False)
        times.append(time.process_time() - t)
    res[k] = min(times)
    print(f"k = {k:4d}: {res[k] * 1000:8.1f} ms")
ks = sorted(res)
for a, b in zip(ks, ks[1:]):
    print(f"exponent {a} → {b}: {math.log(res[b] / res[a]) / math.log(b / a):.2f}")
