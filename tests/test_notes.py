"""Every display formula of the shared lecture notes is real input: ``derive()`` either
returns a Derivation (whose result, text and LaTeX can be produced) or raises a
``DerivError`` subclass -- never any other exception (work is bounded by the work limit, counted,
not timed; a formula still running after HARD_STOP seconds counts as hung).

Run with ``-s`` to see how many formulas derive and how many are refused, by error class.
"""
from __future__ import annotations

import collections
import re
import signal
import time
from functools import lru_cache

import pytest

from derivmagic import Derivation, DerivError, derive

from shared_data import NOTES  # noqa: E402
HARD_STOP = 10     # a hung formula is interrupted after this many seconds

if not NOTES.is_dir():
    pytest.skip("tests/data/notes is missing", allow_module_level=True)

DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)


def formulas() -> list[tuple[str, str]]:
    out = []
    for path in sorted(NOTES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for i, m in enumerate(DISPLAY.finditer(text)):
            out.append((f"{path.stem.split('_')[0]}-{i:03d}", m.group(1)))
    return out


FORMULAS = formulas()


class _Hung(Exception):
    pass


def _alarm(signum, frame):
    raise _Hung()


@lru_cache(maxsize=None)
def outcome(formula: str) -> tuple[str, float, str]:
    """(status, seconds, detail): status 'derived', an error class name, or 'crash'/'hung'."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HARD_STOP)
    t = time.perf_counter()
    try:
        d = derive(formula)
        assert isinstance(d, Derivation)
        d.result, d.text, d.latex  # noqa: B018 - rendering is part of the output
        status, detail = "derived", str(d.answer.result)
    except _Hung:
        status, detail = "hung", f"still running after {HARD_STOP} s"
    except DerivError as exc:
        status, detail = type(exc).__name__, exc.message
    except Exception as exc:  # noqa: BLE001
        status, detail = "crash", f"{type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return status, time.perf_counter() - t, detail


@pytest.mark.parametrize("formula", [f for _, f in FORMULAS], ids=[i for i, _ in FORMULAS])
def test_formula_derives_or_raises_a_deriv_error(formula):
    status, seconds, detail = outcome(formula)
    assert status not in ("crash", "hung"), f"{status}: {detail}\nformula: {formula}"



def test_notes_summary(capsys):
    """The extraction finds the notes' formulas (multi-line ones too); report parse vs raise."""
    assert len(FORMULAS) >= 100, f"only {len(FORMULAS)} display formulas found"
    assert any("\n" in f for _, f in FORMULAS), "no multi-line display formula extracted"
    counts = collections.Counter(outcome(f)[0] for _, f in FORMULAS)
    with capsys.disabled():
        parts = ", ".join(f"{k}: {v}" for k, v in counts.most_common())
        print(f"\nlecture notes: {len(FORMULAS)} display formulas -> {parts}")
    assert counts["derived"] >= 10, counts
