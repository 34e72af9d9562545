"""How KaTeX groups the arguments of ``\\frac``, ``\\sqrt``, ``^`` and ``_``, via tests/js/katex_spans.js.

Setup: ``cd tests/js && npm ci``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "katex_spans.js"
TIMEOUT_S = 120


def node_available() -> bool:
    """True when node is on PATH and KaTeX is installed in tests/js/node_modules."""
    return shutil.which("node") is not None and (JS_DIR / "node_modules" / "katex").is_dir()


def _utf16_to_index(s: str) -> list[int]:
    """UTF-16 offset (what JavaScript counts) -> index into the Python string, for 0..len."""
    out = []
    for i, ch in enumerate(s):
        out.extend([i] * (2 if ord(ch) > 0xFFFF else 1))
    out.append(len(s))
    return out


def _convert(record: dict, to_index: list[int]) -> dict:
    def pos(p):
        return None if p is None else to_index[p]

    def span(sp):
        return None if sp is None else (pos(sp[0]), pos(sp[1]))

    out = dict(record)
    out["at"] = pos(record.get("at"))
    out["args"] = [span(a) for a in record.get("args", [])]
    if "index" in record:
        out["index"] = span(record["index"])
    if record.get("base"):
        out["base"] = {**record["base"], "span": span(record["base"].get("span"))}
    return out


def katex_spans(strings: list[str]) -> list[dict]:
    """Parse every string with KaTeX in one node run.

    Returns one dict per input: ``{"records": [...]}`` or ``{"error": message}``. A record is
    ``{"kind": "frac"|"sqrt"|"sup"|"sub", "at": int, "args": [(start, end), ...], ...}`` with
    positions as indices into the Python string (a span KaTeX could not locate is None).
    """
    strings = list(strings)
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("katex_spans: node is not on PATH")
    try:
        proc = subprocess.run(
            [node, str(SCRIPT)],
            input=json.dumps(strings),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT_S,
            cwd=JS_DIR,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"katex_spans: katex_spans.js timed out after {TIMEOUT_S} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"katex_spans: katex_spans.js exited {proc.returncode}: {proc.stderr.strip()}")
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"katex_spans: unparsable output: {proc.stdout[:500]!r}") from exc
    if not isinstance(results, list) or len(results) != len(strings):
        raise RuntimeError(f"katex_spans: expected {len(strings)} results, got {proc.stdout[:500]!r}")
    out = []
    for s, res in zip(strings, results):
        if "error" in res:
            out.append({"error": res["error"]})
        else:
            to_index = _utf16_to_index(s)
            out.append({"records": [_convert(r, to_index) for r in res["records"]]})
    return out
