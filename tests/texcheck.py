"""Validate LaTeX display-math strings with KaTeX and MathJax 3 via tests/js/validate_tex.js.

Setup: ``cd tests/js && npm ci``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "validate_tex.js"
TIMEOUT_S = 120


def node_available() -> bool:
    """True when node is on PATH and the tool's npm dependencies are installed."""
    modules = JS_DIR / "node_modules"
    return (
        shutil.which("node") is not None
        and (modules / "katex").is_dir()
        and (modules / "mathjax-full").is_dir()
    )


def validate(strings: list[str]) -> list[dict]:
    """Render every string with both engines in one node run.

    Returns one dict per input: ``{"ok": bool, "katex": str | None, "mathjax": str | None}``,
    where an engine field holds its error message, or None when it rendered.
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("texcheck: node is not on PATH")
    try:
        proc = subprocess.run(
            [node, str(SCRIPT)],
            input=json.dumps(list(strings)),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT_S,
            cwd=JS_DIR,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"texcheck: validate_tex.js timed out after {TIMEOUT_S} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"texcheck: validate_tex.js exited {proc.returncode}: {proc.stderr.strip()}"
        )
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"texcheck: unparsable output: {proc.stdout[:500]!r}") from exc
    if not isinstance(results, list) or len(results) != len(strings):
        raise RuntimeError(f"texcheck: expected {len(strings)} results, got {proc.stdout[:500]!r}")
    return results
