"""``derivmagic 'LATEX'``: print every derivation of a cell in a terminal.
``derivmagic check FILE…``: judge every derivative statement of documents."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .derivation import derive_all
from .errors import DerivError
from .report import derivation_latex, derivation_text, target_text

EPILOG = ("To check every derivative statement of Markdown, LaTeX, text or notebook files, run "
          "'derivmagic check FILE…' (see 'derivmagic check --help'); for a formula that is the word "
          "check itself, write 'derivmagic -- check'.")


# control characters of the cell as their visible pictures (␛ for ESC), one character for one, so a
# caret under the text stays aligned: a cell or a document never sends a terminal escape sequence
# (a new title, a cleared screen, hidden text) through what derivmagic prints
_VISIBLE = {**{c: 0x2400 + c for c in range(32) if c != 10}, 0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)}}


def visible(text: str) -> str:
    """``text`` with its control characters (but the line break) shown as pictures."""
    return text.translate(_VISIBLE)


def say(text: str, file=None) -> None:
    print(visible(text), file=file)


def _json(value) -> str:
    """JSON with non-ASCII text kept, but DEL and the C1 controls escaped as JSON does the C0 ones."""
    return json.dumps(value, ensure_ascii=False).translate({c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)})


def _seed(text: str) -> int:
    """``--seed``: a non-negative integer, refused in words otherwise (never a traceback)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a seed is an integer ≥ 0, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="derivmagic", description="Matrix calculus from LaTeX, with steps and a numeric check.",
                                 epilog=EPILOG, allow_abbrev=False)
    ap.add_argument("cell", nargs="?", help="the formula (several lines allowed); read from standard input if omitted")
    ap.add_argument("--layout", choices=["numerator", "denominator"], default=None)
    ap.add_argument("--latex", action="store_true", help="print the derivation as LaTeX (an aligned block)")
    ap.add_argument("--no-check", action="store_true", help="skip the numeric check")
    ap.add_argument("--no-steps", action="store_true", help="print only the reading, the result and the check")
    ap.add_argument("--expand", action="store_true",
                    help="write the steps and the result with every definition substituted (default: with their names)")
    ap.add_argument("--seed", type=_seed, default=0, help="seed of the numeric check (an integer ≥ 0)")
    ap.add_argument("--vec", action="store_true",
                    help="for a matrix function of a matrix: also the Jacobian of vec F by vec X (Kronecker form)")
    add_symmetric(ap)
    ap.add_argument("--code", choices=["numpy", "jax", "torch"], default=None,
                    help="print Python code computing the function and its derivative")
    ap.add_argument("--check-only", action="store_true",
                    help="print a one-line verdict on the claims of each derivation (exit status 1 when one "
                         "fails, 2 when the cell cannot be read or a reading is ambiguous)")
    return ap


def build_check_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="derivmagic check", allow_abbrev=False,
        description="Find every derivative statement of the files (display formulas with \\nabla, \\partial, "
                    "d/dx or D f(x)[v], with the blocks after them that begin with '=') and judge it: one "
                    "line each, then a summary. Exit status 1 when a claim is false, 2 when a file cannot "
                    "be read, 0 otherwise.")
    ap.add_argument("files", nargs="+", metavar="FILE", help=".md, .tex, .txt or .ipynb (its Markdown cells)")
    ap.add_argument("--json", action="store_true",
                    help="print a JSON array, one object per statement (file, cell, line, column, latex, verdict, "
                         "reason, correct, result, …) instead of the lines and the summary")
    ap.add_argument("--layout", choices=["numerator", "denominator"], default=None)
    ap.add_argument("--seed", type=_seed, default=0, help="seed of the numeric checks (an integer ≥ 0)")
    ap.add_argument("--no-context", action="store_true",
                    help="read each statement on its own (definitions of earlier formulas do not apply)")
    add_symmetric(ap)
    return ap


SYMMETRIC_HELP = ("the gradient by a symmetric matrix (S \\in \\mathbb{S}^n): independent, every entry "
                  "independent (the default); sym, on the symmetric matrices, (G + Gᵀ)/2; cookbook, the Matrix "
                  "Cookbook's 2G − G∘I")


def add_symmetric(ap) -> None:
    from .symmetric import CONVENTIONS
    ap.add_argument("--symmetric", choices=CONVENTIONS, default=None, help=SYMMETRIC_HELP)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:
        return check_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cell is None and _interactive(sys.stdin):   # nothing piped in: say so, never wait silently
        parser.print_usage(sys.stderr)
        say("derivmagic: give the formula as an argument (derivmagic '\\nabla_x x^T A x') or on standard "
              "input (derivmagic < cell.tex); derivmagic --help lists the options", file=sys.stderr)
        return 2
    cell = args.cell if args.cell is not None else sys.stdin.read()
    try:
        ds = derive_all(cell, layout=args.layout, check=not args.no_check, seed=args.seed, expand=args.expand,
                        symmetric=args.symmetric)
    except DerivError as exc:
        say(f"error: {exc}", file=sys.stderr)
        return 2
    failed = any(not c.holds for d in ds for c in d.claims) or any(d.check is not None and not d.check.passed for d in ds)
    several = len(ds) > 1
    if args.check_only:
        ambiguous = False
        for i, d in enumerate(ds, 1):
            head = f"{i} of {len(ds)}: " if several else ""
            if d.warnings:   # a verdict on a guessed reading would be a guess too
                say(head + "? ambiguous: " + "; ".join(d.warnings))
                ambiguous = True
            else:
                say(head + verdict(d))
        return 2 if ambiguous else 1 if failed else 0
    steps = not args.no_steps
    blocks = []
    for i, d in enumerate(ds, 1):
        body = derivation_latex(d, steps, args.vec) if args.latex else derivation_text(d, steps, args.vec)
        if several:
            title = f"% derivation {i} of {len(ds)}: {target_text(d)}" if args.latex else \
                f"── derivation {i} of {len(ds)}: {target_text(d)}"
            body = f"{title}\n{body}"
        blocks.append(body)
    say("\n\n".join(blocks))
    if args.code:
        from .codegen import function_source
        for i, d in enumerate(ds, 1):
            say(function_source(d, args.code, name=f"f_and_derivative_{i}" if several else "f_and_derivative"))
    return 1 if failed else 0


def _interactive(stream) -> bool:
    """A terminal: standard input is not a pipe or a file (a closed one counts as nothing to read)."""
    try:
        return stream is None or stream.isatty()
    except ValueError:
        return True


def verdict(d) -> str:
    """One line for grading scripts."""
    if not d.claims:
        return f"no claim to check; result {d.answer.result!r}"
    for i, c in enumerate(d.claims, 1):
        if not c.holds:
            return f"✗ claim {i} of {len(d.claims)} is false: {c.source} — {c.reason}"
    return f"✓ all {len(d.claims)} claim(s) hold"


# --------------------------------------------------------------------------- derivmagic check
class _Progress:
    """``checking FILE: 12/80`` on one line of standard error, only when it is a terminal."""

    def __init__(self, stream):
        self.stream = stream
        self.active = hasattr(stream, "isatty") and stream.isatty()
        self.file = ""

    def __call__(self, done: int, total: int) -> None:
        if self.active:
            self.stream.write(f"\r\x1b[Kchecking {self.file}: {done}/{total}")
            self.stream.flush()

    def clear(self) -> None:
        if self.active:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def check_main(argv) -> int:
    try:
        return _check(build_check_parser().parse_args(argv))
    except BrokenPipeError:           # derivmagic check … | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _check(args) -> int:
    from .document import check_document, summary_line
    progress = _Progress(sys.stderr)
    statements, unreadable = [], False
    for path in args.files:
        progress.file = path
        try:
            found = check_document(Path(path), layout=args.layout, seed=args.seed, context=not args.no_context,
                                   progress=progress, symmetric=args.symmetric)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            progress.clear()
            say(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            unreadable = True
            continue
        progress.clear()
        statements += found
        if not args.json:
            for s in found:
                say(str(s))
            sys.stdout.flush()
    if args.json:
        print("[" + ",\n".join(_json(s.to_json()) for s in statements) + "]")
    else:
        say(summary_line(statements, len(args.files)))
    if unreadable:
        return 2
    return 1 if any(s.verdict == "false" for s in statements) else 0


if __name__ == "__main__":
    sys.exit(main())
