"""demo.ipynb: stored executed, in step with derivmagic.examples.NOTEBOOK, and run again here in a
real ipykernel by nbclient: no error outputs, and every derivation cell shows text/latex."""
from __future__ import annotations

from pathlib import Path

import importlib.util

import pytest

from derivmagic.examples import build_notebook, execute_notebook
from test_latex_renderers import NODE_REASON, need
from texcheck import node_available, validate

JUPYTER = all(importlib.util.find_spec(m) for m in ("nbformat", "nbclient", "ipykernel"))
JUPYTER_REASON = "nbformat, nbclient or ipykernel not installed (pip install -e '.[test]')"

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo.ipynb"
TOPICS = ["least squares", "quadratic form", "both layouts", "log", "softmax", "hessian", "matrix variable",
          "shape error", "wrong answer from lecture notes"]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def is_derivation(cell) -> bool:
    return cell.source.startswith("%%derive") and "derive-error" not in cell.metadata.get("tags", [])


@pytest.fixture(scope="module")
def executed():
    need(JUPYTER, JUPYTER_REASON)
    return execute_notebook(build_notebook(), cwd=ROOT, timeout=300)


def test_stored_notebook_is_the_built_one_and_executed():
    need(JUPYTER, JUPYTER_REASON)
    import nbformat
    stored, built = nbformat.read(DEMO, as_version=4), build_notebook()
    nbformat.validate(stored)
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in built.cells], \
        "demo.ipynb is out of date: python -m derivmagic.examples --notebook demo.ipynb"
    counts = [c.execution_count for c in code_cells(stored)]
    assert counts == list(range(1, len(counts) + 1)), "demo.ipynb must be stored executed, top to bottom"
    check_outputs(stored)


def test_the_demo_covers_the_issue():
    need(JUPYTER, JUPYTER_REASON)
    text = "\n".join(c.source for c in build_notebook().cells).lower()
    for topic in TOPICS:
        assert topic in text, topic


def test_executes_in_a_real_kernel(executed):
    check_outputs(executed)


def check_outputs(nb):
    for cell in code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, (cell.source, errors)
        if is_derivation(cell):
            bundles = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
            assert bundles, cell.source
            for o in bundles:
                assert "text/latex" in o.data and "text/plain" in o.data and "text/html" not in o.data, cell.source
                assert o.data["text/latex"].startswith("$$") and o.data["text/latex"].endswith("$$")
            assert bundles[0].data["text/latex"].startswith("$$\\begin{aligned}")
            assert not any(o.output_type == "stream" and o.name == "stderr" for o in cell.outputs), cell.source
        if "derive-error" in cell.metadata.get("tags", []):
            stderr = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
            assert stderr.startswith("ShapeError: ") and "^" in stderr and "Traceback" not in stderr


def test_katex_and_mathjax_render_the_notebook(executed):
    need(node_available(), NODE_REASON)
    strings = [o.data["text/latex"][2:-2] for c in code_cells(executed) if c.source.startswith("%%derive")
               or "side_by_side" in c.source for o in c.outputs if "text/latex" in o.get("data", {})]
    assert len(strings) >= 10
    bad = [(s[:200], r) for s, r in zip(strings, validate(strings)) if not r["ok"]]
    assert not bad, bad
