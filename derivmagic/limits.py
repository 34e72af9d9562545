"""Bounds on input size and work, so that a pathological cell returns promptly with a
``LimitError`` that says which limit was hit and how to raise it.

Two kinds of bound:

* ``check_cell(cell)``: cheap scans of the text before anything is parsed (characters,
  bracket depth, number of operands and of + / - signs, length of numbers, size of
  exponents). Every error carries the cell and a position, so it draws a caret.
* a work budget for every stage of one cell: ``with budget(cell): ...`` around the
  derivation (and ``within(cell)`` around rendering and conversions, which reuses an open
  budget or opens one), and ``tick(n)`` in the inner loops: every expression node built,
  every traversal, every numeric evaluation and every printed piece counts. ``tick`` raises
  ``LimitError`` once the work allowed for one cell is used up; outside a budget it does
  nothing. Work is counted in units, not seconds, so whether a cell hits the limit depends
  on the cell alone, never on the machine or its load; the wall-clock limit ``seconds`` is
  only a safety net far above what the work limit allows. ``check_size`` bounds one
  expression, ``check_output`` printed text before it is built, ``check_entries`` arrays
  before they are allocated.
* caches that live as long as one budget (``scoped``): what one cell computed can never
  change what another cell gives, nor how much work it counts.

Raise a limit with ``derivmagic.limits.LIMITS[name] = value`` (``None`` switches off
``work`` and ``seconds``).
"""
from __future__ import annotations

import re
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction

from .errors import DerivError, LimitError

LIMITS = {
    "cell_chars": 20_000,       # characters in a cell
    "nesting": 200,             # depth of brackets and braces
    "function_nesting": 40,     # functions applied inside functions: \exp(\exp(...)), \sqrt{\sqrt{...}}
    "operands": 400,            # symbols, numbers and commands in a cell
    "terms": 100,               # + and - signs in a cell
    "number_digits": 30,        # digits of one number
    "exponent": 32,             # largest |number| in an exponent (x^{32}; also 32 in x^{1/32})
    "matrix_power": 16,         # largest |k| in A^k for a square matrix A (check_power)
    "expression_size": 20_000,  # distinct operations in the function or its derivative
    "work": 500_000,            # units of work (tick) for one cell: nodes built, visited, evaluated, printed
    "output_chars": 200_000,    # characters of one printed expression (checked before it is printed)
    "check_entries": 4_000_000,  # numbers held by the arrays of one numeric evaluation (checked before allocating)
    "number": 10**300,          # largest |numerator| or denominator of an exact constant (2^{32^3} is beyond it)
    "seconds": 60.0,            # wall-clock safety net only: the work limit fires long before on any machine
    "recursion": 20_000,        # Python's recursion limit while a cell is read (deep nesting recurses)
}

_HOW = "(raise derivmagic.limits.LIMITS['{name}'] to allow it)"


def _raise(name: str, message: str, text: str | None = None, pos: int | None = None, end: int | None = None):
    raise LimitError(f"{message} {_HOW.format(name=name)}", text=text, pos=pos, end=end)


# ---------------------------------------------------------------- the text, before parsing
# an operand: a command (\alpha, \exp, \mathbf), a letter, or a number
_OPERAND = re.compile(r"\\[a-zA-Z]+|[a-zA-Z]|\d+(?:\.\d+)?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SIGN = re.compile(r"(?<!\\)[+\-]")
_SPACE_BEFORE = re.compile(r"(\\mathbb\s*\{?\s*[RS]\s*\}?|\\R)\s*$")   # \mathbb{R}^{100} is a size, not a power
_ONE_TOKEN = re.compile(r"[-+]?\s*(\d+(?:\.\d+)?|\\[a-zA-Z]+|.)")


def check_cell(cell: str) -> None:
    """Cheap bounds on the text; raises ``LimitError`` with a caret at the first excess."""
    if len(cell) > LIMITS["cell_chars"]:
        _raise("cell_chars", f"the cell has {len(cell):,} characters, more than the limit of "
               f"{LIMITS['cell_chars']:,}", cell, LIMITS["cell_chars"])
    depth = 0
    for i, ch in enumerate(cell):
        if ch in "({[":
            depth += 1
            if depth > LIMITS["nesting"]:
                _raise("nesting", f"brackets nest deeper than the limit of {LIMITS['nesting']}", cell, i)
        elif ch in ")}]":
            depth = max(0, depth - 1)
    _function_nesting(cell)
    _bar_nesting(cell)
    _count(cell, _SIGN, "terms", "+ and - signs")
    _count(cell, _OPERAND, "operands", "symbols, numbers and commands")
    for m in _NUMBER.finditer(cell):
        digits = len(m.group(0).replace(".", ""))
        if digits > LIMITS["number_digits"]:
            _raise("number_digits", f"this number has {digits:,} digits, more than the limit of "
                   f"{LIMITS['number_digits']}", cell, m.start(), m.end())
    from .tex import brace_arguments
    braced = brace_arguments(cell)   # exponents as TeX reads them: e^{\frac34} holds 3 and 4, not 34
    text = braced.text
    for start, end in _exponents(text):
        for m in _NUMBER.finditer(text, start, end):
            value = Fraction(m.group(0)) if len(m.group(0)) <= LIMITS["number_digits"] else None
            if value is None or value > LIMITS["exponent"]:
                _raise("exponent", f"the exponent {m.group(0)} is larger than the limit of {LIMITS['exponent']}",
                       cell, braced.pos(m.start()), braced.end(m.end()))


_FUNCTION = re.compile(r"\\(?:exp|log|ln|tanh|sin|cos|det|sigma|sqrt|tr|Tr)(?![a-zA-Z])"
                       r"|\\(?:operatorname|mathrm|text|textrm|mathop)\s*\{\s*[a-zA-Z]+\s*\}")
_TOKEN = re.compile(_FUNCTION.pattern + r"|\\(?:left|right|[bB]igg?[lr]?)(?![a-zA-Z])|\\[a-zA-Z]+|\\.|\s+|.", re.S)


def _function_nesting(cell: str) -> None:
    """Functions applied inside functions, with or without brackets (``\\exp \\exp x``): their
    derivatives grow faster than the text, so their depth has a limit of its own."""
    limit = LIMITS["function_nesting"]
    stack: list[int] = []     # function levels opened by each open bracket
    depth = pending = 0       # levels inside open brackets; functions waiting for their argument
    for m in _TOKEN.finditer(cell):
        tok = m.group(0)
        if _FUNCTION.fullmatch(tok):
            pending += 1
            if depth + pending > limit:
                _raise("function_nesting", f"functions nest deeper than the limit of {limit}", cell, m.start(), m.end())
        elif tok.isspace() or tok.startswith(("\\left", "\\right", "\\big", "\\Big")):
            continue
        elif tok in "({[" and tok:
            stack.append(pending)
            depth += pending
            pending = 0
        elif tok in ")}]" and tok:
            depth -= stack.pop() if stack else 0
        else:
            pending = 0


def _bar_nesting(cell: str) -> None:
    """Norms and absolute values inside each other (``\\|\\|x\\|\\|``) are functions too."""
    from .parse import pair_bars
    limit, depth = LIMITS["function_nesting"], 0
    marked = pair_bars(cell)
    for i, ch in enumerate(marked):
        if marked.startswith("‖(", i) or ch == "⟨":
            depth += 1
            if depth > limit:
                _raise("function_nesting", f"norms and absolute values nest deeper than the limit of {limit}", cell, i)
        elif marked.startswith("‖)", i) or ch == "⟩":
            depth = max(0, depth - 1)


def _count(cell: str, pattern: re.Pattern, name: str, what: str) -> None:
    limit = LIMITS[name]
    for k, m in enumerate(pattern.finditer(cell), 1):
        if k > limit:
            total = sum(1 for _ in pattern.finditer(cell))
            _raise(name, f"the cell has {total:,} {what}, more than the limit of {limit:,}", cell, m.start(), m.end())


def _exponents(cell: str):
    """Spans of the superscripts of a cell: ``^{...}`` (to its matching brace) or ``^`` and one token."""
    i = cell.find("^")
    while i >= 0:
        if _SPACE_BEFORE.search(cell, max(0, i - 20), i):
            i = cell.find("^", i + 1)
            continue
        j = i + 1
        while j < len(cell) and cell[j].isspace():
            j += 1
        if j < len(cell) and cell[j] == "{":
            depth, k = 0, j
            while k < len(cell):
                if cell[k] == "{":
                    depth += 1
                elif cell[k] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            yield j, k
        else:
            m = _ONE_TOKEN.match(cell, j)
            if m:
                yield j, m.end()
        i = cell.find("^", i + 1)


# ---------------------------------------------------------------- hooks for the later stages
def check_exponent(q, text: str | None = None, pos: int | None = None, end: int | None = None) -> None:
    """An exponent after parsing (e.g. ``x^{99999/1}``, which the text scan reads as two numbers)."""
    q = Fraction(q)
    if abs(q.numerator) > LIMITS["exponent"] * max(1, q.denominator) or q.denominator > LIMITS["exponent"]:
        _raise("exponent", f"the exponent {q} is larger than the limit of {LIMITS['exponent']}", text, pos, end)


def check_power(k, text: str | None = None, pos: int | None = None, end: int | None = None) -> None:
    """``A^k`` of a square matrix, written out as a product of k factors (or of k inverses):
    its derivative has k terms of k factors each, so k is bounded on its own."""
    k = Fraction(k)
    if abs(k) > LIMITS["matrix_power"]:
        _raise("matrix_power", f"the matrix power {k} is larger than the limit of {LIMITS['matrix_power']}",
               text, pos, end)


def check_size(n: int, what: str, text: str | None = None, pos: int | None = None, end: int | None = None) -> None:
    if n > LIMITS["expression_size"]:
        _raise("expression_size", f"{what} has {n:,} operations, more than the limit of "
               f"{LIMITS['expression_size']:,}", text, pos, end)


def check_output(n: int, what: str = "the printed result") -> None:
    """Printed text of ``n`` characters (an estimate made before printing it)."""
    limit = LIMITS["output_chars"]
    if limit is not None and n > limit:
        _raise("output_chars", f"{what} would be about {n:,} characters long, more than the limit of {limit:,}")


def check_entries(n: int, what: str) -> None:
    """Arrays of ``n`` numbers in all, checked before any of them is allocated."""
    limit = LIMITS["check_entries"]
    if limit is not None and n > limit:
        _raise("check_entries", f"{what} needs arrays of {n:,} numbers in all, more than the limit of {limit:,}")


def check_number(value) -> None:
    """An exact constant (an ``int`` or a ``Fraction``): its numerator and denominator are bounded,
    so that arithmetic on constants stays cheap and every constant converts to a float."""
    limit = LIMITS["number"]
    if limit is None:
        return
    num, den = abs(value.numerator), value.denominator
    if num > limit or den > limit:
        big = max(num, den)
        digits = len(str(big)) if big.bit_length() < 20_000 else f"about {int(big.bit_length() * 0.30103):,}"
        _raise("number", f"a constant in this derivation has {digits} digits, more than the limit of "
               f"{len(str(limit)) - 1} (a number beyond it is not a float)")


class Budget:
    __slots__ = ("used", "work", "deadline", "seconds", "cell", "memos")

    def __init__(self, cell: str | None):
        # reading the text is work too: the cell's length is charged at the start
        self.used = len(cell) if cell else 0
        self.work = LIMITS["work"]
        self.seconds = LIMITS["seconds"]
        self.deadline = None if self.seconds is None else time.perf_counter() + self.seconds
        self.cell = cell
        self.memos: dict = {}


_BUDGET: ContextVar[Budget | None] = ContextVar("derivmagic_budget", default=None)
_METER: ContextVar[list | None] = ContextVar("derivmagic_meter", default=None)


@contextmanager
def budget(cell: str | None = None):
    """The work allowed for one cell. A ``LimitError`` (or any ``DerivError``) leaving the
    block without a position gets the cell and a caret at its start."""
    b = Budget(cell)
    token = _BUDGET.set(b)
    try:
        yield
    except DerivError as exc:
        if cell is not None and exc.text is None:
            exc.text = cell
            if exc.pos is None:
                exc.pos, exc.end = 0, len(cell.split("\n", 1)[0]) or None
        raise
    finally:
        _BUDGET.reset(token)
        meter = _METER.get()
        if meter is not None:
            meter.append(b.used)


@contextmanager
def within(cell: str | None = None):
    """Inside the budget already open, or in a new one for ``cell`` (rendering a derivation
    after ``derive()`` returned, converting it to SymPy, exporting code)."""
    if _BUDGET.get() is not None:
        yield
        return
    with budget(cell):
        yield


@contextmanager
def measure():
    """The work counted by every budget closed inside the block: ``with measure() as m: ...``,
    then ``sum(m)`` (for tests and fuzzing, which compare work, never seconds)."""
    out: list[int] = []
    token = _METER.set(out)
    try:
        yield out
    finally:
        _METER.reset(token)


def tick(n: int = 1) -> None:
    """Count ``n`` units of work against the current budget (no-op outside ``budget``)."""
    b = _BUDGET.get()
    if b is None:
        return
    before = b.used
    b.used = before + n
    if b.work is not None and b.used > b.work:
        b.used = before   # the work asked for is refused, not done: what was counted stays within the limit
        _raise("work", f"this derivation needs more than {b.work:,} steps of work, the limit")
    if b.deadline is not None and (b.used >> 12) != (before >> 12) and time.perf_counter() > b.deadline:
        _raise("seconds", f"this derivation ran for more than {b.seconds:g} s of wall-clock time, a safety net "
               f"beyond the work limit")


def used() -> int:
    """Work counted so far in the current budget (0 outside one), for calibrating ``LIMITS['work']``."""
    b = _BUDGET.get()
    return 0 if b is None else b.used


MEMO_ENTRIES = 50_000


def scoped(name: str) -> dict | None:
    """A cache that lives as long as the current budget (one cell), ``None`` outside a budget.
    Bounded: emptied when it holds ``MEMO_ENTRIES`` entries."""
    b = _BUDGET.get()
    if b is None:
        return None
    memo = b.memos.get(name)
    if memo is None:
        memo = b.memos[name] = {}
    elif len(memo) >= MEMO_ENTRIES:
        memo.clear()
    return memo


@contextmanager
def deep_enough():
    """Python's recursion limit raised to ``LIMITS['recursion']`` while a cell is read: the
    parser and the readers recurse once or more per level of nesting."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, LIMITS["recursion"]))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
