"""Derivatives of higher order: the third derivative of an ℓ-layer tanh network by its input, and
Hessians by a 50×50 matrix. Reports CPU time (best of 3, derive() with its numeric check) and the
size of the result (nodes of its DAG, and characters printed) against ℓ, with the growth exponent
between sizes: polynomial growth shows as a bounded exponent, exponential as one that keeps rising.
Run: .venv/bin/python benchmarks/higher_order.py"""
import math
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from derivmagic import derive  # noqa: E402
from derivmagic.expr import size  # noqa: E402
from derivmagic.render import to_text  # noqa: E402


def layers(count: int) -> str:
    lines = [r"h_{1} = \tanh(W_{1} x)"]
    lines += [rf"h_{{{i}}} = \tanh(W_{{{i}}} h_{{{i - 1}}})" for i in range(2, count + 1)]
    return "\n".join(lines + [rf"\nabla^3_x \mathbf{{1}}^T h_{{{count}}}"])


def best(cell: str, **options):
    times, d = [], None
    for _ in range(3):
        t = time.process_time()
        d = derive(cell, **options)
        times.append(time.process_time() - t)
    return min(times), d


def main() -> None:
    print("third derivative of an ℓ-layer tanh network, ∇³_x 𝟏ᵀh_ℓ")
    print(f"{'ℓ':>3} {'time ms':>9} {'DAG nodes':>10} {'printed chars':>14} {'check':>6}")
    rows = {}
    for count in (1, 2, 3, 4, 6, 8):
        t, d = best(layers(count))
        rows[count] = (t, size(d.answer.result), len(to_text(d.answer.result)))
        print(f"{count:3d} {t * 1000:9.1f} {rows[count][1]:10d} {rows[count][2]:14d} {'✓' if d.check.passed else '✗':>6}")
    ls = sorted(rows)
    for a, b in zip(ls, ls[1:]):
        growth = [math.log(rows[b][i] / rows[a][i]) / math.log(b / a) for i in (1, 2)]
        print(f"exponent ℓ {a} → {b}: DAG {growth[0]:.2f}, printed {growth[1]:.2f}")
    print()
    print("Hessians by a 50×50 matrix (the check at m = n = 50)")
    for cell in (r"\nabla^2_X \operatorname{tr}(X^TAX)", r"\nabla^2_X \log\det X",
                 r"\nabla^2_X \operatorname{tr}(AXBX^T)"):
        t, d = best(cell, dims={"m": 50, "n": 50})
        print(f"  {cell:42s} {t * 1000:8.1f} ms  check {'✓' if d.check.passed else '✗'} {d.check.summary}")


if __name__ == "__main__":
    main()
