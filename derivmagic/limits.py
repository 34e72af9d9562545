"""Bounds on input size and work, so that a pathological cell returns promptly with a
``LimitError`` that says which limit was hit and how to raise it."""
from __future__ import annotations

from .errors import LimitError

LIMITS = {
    "cell_chars": 20_000,      # characters in a cell
    "nesting": 200,            # depth of brackets and braces
    "expression_size": 20_000, # distinct operations in the function or its derivative
}


def check_cell(cell: str) -> None:
    if len(cell) > LIMITS["cell_chars"]:
        raise LimitError(f"the cell has {len(cell):,} characters, more than the limit of {LIMITS['cell_chars']:,} "
                         "(raise derivmagic.limits.LIMITS['cell_chars'] to allow it)", text=cell, pos=LIMITS["cell_chars"])
    depth = 0
    for i, ch in enumerate(cell):
        if ch in "({[":
            depth += 1
            if depth > LIMITS["nesting"]:
                raise LimitError(f"brackets nest deeper than the limit of {LIMITS['nesting']} "
                                 "(raise derivmagic.limits.LIMITS['nesting'] to allow it)", text=cell, pos=i)
        elif ch in ")}]":
            depth = max(0, depth - 1)


def check_size(n: int, what: str) -> None:
    if n > LIMITS["expression_size"]:
        raise LimitError(f"{what} has {n:,} operations, more than the limit of {LIMITS['expression_size']:,} "
                         "(raise derivmagic.limits.LIMITS['expression_size'] to allow it)")
