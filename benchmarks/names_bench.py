"""Derivations on the definitions' names against the substituted form (``expand=True``):
printed size through L layers, time and work of derive() (check included) and of rendering.

    .venv/bin/python benchmarks/names_bench.py [--repeat 7] [--layers 2,4,8,16]

Nothing asserts; it prints one table per measure."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivmagic import derive, limits  # noqa: E402

MLP = "\n".join([r"h = \sigma(W_1 x + b_1)", r"\hat{y} = W_2 h + b_2",
                 r"L = \frac{1}{2}\|\hat{y} - y\|_2^2", r"\nabla_{W_1} L"])
SOFTMAX = "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\nabla_\\theta J"


def network(layers: int) -> str:
    lines = [r"h_1 = \sigma(W_1 x + b_1)"]
    lines += [rf"h_{{{k}}} = \sigma(W_{{{k}}} h_{{{k - 1}}} + b_{{{k}}})" for k in range(2, layers + 1)]
    lines += [rf"L = \frac{{1}}{{2}}\|h_{{{layers}}} - y\|_2^2", r"\nabla_{W_1} L"]
    return "\n".join(lines)


def timed(cell: str, expand: bool, repeat: int) -> tuple[float, int]:
    """Median seconds of derive() + text + latex, and the work units of one run."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        d = derive(cell, expand=expand)
        d.text, d.latex
        samples.append(time.perf_counter() - start)
    with limits.measure() as work:
        d = derive(cell, expand=expand)
        d.text, d.latex
    return statistics.median(samples), sum(work)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--layers", default="2,4,8,16")
    args = ap.parse_args(argv)
    layers = [int(n) for n in args.layers.split(",")]

    print("printed size through L sigmoid layers (∇ by W_1): characters of every step printed in full,")
    print("of the text (spaces collapsed) and of the LaTeX")
    print(f"{'L':>3} {'names: steps':>13} {'text':>6} {'latex':>6} {'expanded: steps':>16} {'text':>6} {'latex':>7}")
    for n in layers:
        a, b = derive(network(n), check=False), derive(network(n), check=False, expand=True)
        sizes = [(sum(len(s.text) for s in d.steps), len(' '.join(d.text.split())), len(d.latex)) for d in (a, b)]
        print(f"{n:>3} {sizes[0][0]:>13} {sizes[0][1]:>6} {sizes[0][2]:>6} "
              f"{sizes[1][0]:>16} {sizes[1][1]:>6} {sizes[1][2]:>7}")

    print("\nderive() + text + latex, check included: median ms and work units")
    print(f"{'cell':<12} {'names ms':>9} {'work':>8} {'expanded ms':>12} {'work':>8}")
    for name, cell in [("mlp", MLP), ("softmax", SOFTMAX), ("4 layers", network(4)), ("8 layers", network(8))]:
        (tn, wn), (te, we) = timed(cell, False, args.repeat), timed(cell, True, args.repeat)
        print(f"{name:<12} {1000 * tn:>9.1f} {wn:>8} {1000 * te:>12.1f} {we:>8}")


if __name__ == "__main__":
    main()
