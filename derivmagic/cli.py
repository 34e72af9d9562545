"""``derivmagic 'LATEX'``: print a derivation in a terminal."""
from __future__ import annotations

import argparse
import sys

from . import derive
from .errors import DerivError
from .report import derivation_latex, derivation_text


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="derivmagic", description="Matrix calculus from LaTeX, with steps and a numeric check.",
                                 allow_abbrev=False)
    ap.add_argument("cell", nargs="?", help="the formula (several lines allowed); read from standard input if omitted")
    ap.add_argument("--layout", choices=["numerator", "denominator"], default=None)
    ap.add_argument("--latex", action="store_true", help="print the derivation as LaTeX (an aligned block)")
    ap.add_argument("--no-check", action="store_true", help="skip the numeric check")
    ap.add_argument("--no-steps", action="store_true", help="print only the reading, the result and the check")
    ap.add_argument("--seed", type=int, default=0, help="seed of the numeric check")
    ap.add_argument("--vec", action="store_true",
                    help="for a matrix function of a matrix: also the Jacobian of vec F by vec X (Kronecker form)")
    ap.add_argument("--code", choices=["numpy", "jax", "torch"], default=None,
                    help="print Python code computing the function and its derivative")
    ap.add_argument("--check-only", action="store_true",
                    help="print a one-line verdict on the claims (exit status 1 when one fails, 2 when the "
                         "cell cannot be read or its reading is ambiguous)")
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    cell = args.cell if args.cell is not None else sys.stdin.read()
    try:
        d = derive(cell, layout=args.layout, check=not args.no_check, seed=args.seed)
    except DerivError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [c for c in d.claims if not c.holds]
    if args.check_only:
        if d.warnings:   # a verdict on a guessed reading would be a guess too
            print("? ambiguous: " + "; ".join(d.warnings))
            return 2
        print(verdict(d))
        return 1 if failed or (d.check is not None and not d.check.passed) else 0
    steps = not args.no_steps
    print(derivation_latex(d, steps, args.vec) if args.latex else derivation_text(d, steps, args.vec))
    if args.code:
        print(d.to_source(args.code))
    if failed or (d.check is not None and not d.check.passed):
        return 1
    return 0


def verdict(d) -> str:
    """One line for grading scripts."""
    if not d.claims:
        return f"no claim to check; result {d.answer.result!r}"
    for i, c in enumerate(d.claims, 1):
        if not c.holds:
            return f"✗ claim {i} of {len(d.claims)} is false: {c.source} — {c.reason}"
    return f"✓ all {len(d.claims)} claim(s) hold"


if __name__ == "__main__":
    sys.exit(main())
