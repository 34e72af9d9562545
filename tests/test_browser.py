"""In a real browser: demo.ipynb and tests/data/long_cells.ipynb, executed in a kernel, converted
to HTML by nbconvert (JupyterLab's template) and typeset by MathJax 3 (served from tests/js, the
network is not used) in headless Chromium, with every output area 900 px wide (JupyterLab at
1280 px with the file browser open). In the page: every formula typeset, none showing a MathJax
error, and no output wider than its area (no horizontal scroll).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them), the ``selenium``
and ``nbconvert`` of the test extra, and ``npm ci`` in tests/js. With
``DERIVMAGIC_SCREENSHOTS=DIR`` the two-layer network's cell is saved as DIR/mlp.png."""
from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import struct
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from derivmagic.examples import build_notebook, execute_notebook
from test_latex_renderers import need

ROOT = Path(__file__).resolve().parents[1]
LONG_CELLS = ROOT / "tests" / "data" / "long_cells.ipynb"
MATHJAX = ROOT / "tests" / "js" / "node_modules" / "mathjax-full" / "es5"
AREA_PX = 900
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
DRIVER = shutil.which("chromedriver")
PYTHON = all(importlib.util.find_spec(m) for m in ("selenium", "nbconvert", "nbclient", "ipykernel"))
AVAILABLE = bool(CHROMIUM and DRIVER and PYTHON and (MATHJAX / "tex-chtml.js").is_file())
REASON = ("headless Chromium test needs chromium and chromium-driver (apt-get install chromium chromium-driver), "
          "selenium and nbconvert (pip install -e '.[test]') and MathJax (npm ci in tests/js)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1000"]
# MathJax 3 as JupyterLab configures it, but an undefined command is an error (not red text)
MATHJAX_CONFIG = ("<script>window.MathJax = {tex: {packages: {'[-]': ['noundefined']}, "
                  "inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true, processEnvironments: true}};"
                  "</script>")
# JupyterLab's layout (a flex row: prompt, then the output scrolling sideways when too wide), not the
# table of nbconvert's page, which widens to fit its content
AREA_CSS = ("<style>.jp-OutputArea-child { display: flex !important; } "
            f".jp-OutputArea-output {{ display: block !important; flex: 0 0 {AREA_PX}px !important; "
            f"width: {AREA_PX}px !important; max-width: {AREA_PX}px !important; overflow-x: auto !important; overflow-y: hidden !important; "
            "box-sizing: border-box !important; }</style>")
MEASURE = """
return [...document.querySelectorAll('.jp-Cell')].map((cell, index) => {
  const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => {
    const box = o.getBoundingClientRect();
    let widest = 0;
    o.querySelectorAll('mjx-math, pre').forEach(m => {
      widest = Math.max(widest, m.tagName === 'PRE' ? m.scrollWidth : m.getBoundingClientRect().width);
    });
    return {area: box.width, client: o.clientWidth, scroll: o.scrollWidth, widest: widest,
            latex: o.getAttribute('data-mime-type') === 'text/latex',
            typeset: o.querySelectorAll('mjx-container').length,
            errors: [...o.querySelectorAll('mjx-merror, [data-mjx-error]')].map(
              e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 3),
            left: o.textContent.includes('$$')};
  });
  const source = cell.querySelector('.jp-InputArea-editor');
  return {index: index, source: source ? source.textContent.trim().slice(0, 80) : '', outputs: outputs};
});"""
WAIT = """const done = arguments[0];
const ready = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise.then(() => done('typeset'), e => done('MathJax failed: ' + e))
  : setTimeout(ready, 50);
ready();"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """A directory served on 127.0.0.1 with MathJax in it: (directory, base URL)."""
    need(AVAILABLE, REASON)
    root = Path(tempfile.mkdtemp(prefix="derivmagic-browser-"))
    os.symlink(MATHJAX, root / "mathjax")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    need(AVAILABLE, REASON)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="derivmagic-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_script_timeout(120)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def notebook(name: str):
    import nbformat
    nb = build_notebook() if name == "demo" else nbformat.read(LONG_CELLS, as_version=4)
    return execute_notebook(nb, cwd=ROOT, timeout=300)


def html(nb) -> str:
    """The notebook as nbconvert's JupyterLab HTML, MathJax 3 from the local copy."""
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="lab", mathjax_url="mathjax/tex-chtml.js").from_notebook_node(nb)
    script = '<script src="mathjax/tex-chtml.js"> </script>'
    assert body.count(script) == 1, "nbconvert's MathJax script tag changed"
    return body.replace(script, AREA_CSS + MATHJAX_CONFIG + script)


@pytest.fixture(scope="module", params=["demo", "long cells"])
def rendered(request, site, browser):
    """(cells measured in the page, the executed notebook) for each notebook."""
    root, base = site
    nb = notebook(request.param)
    page = root / (request.param.replace(" ", "_") + ".html")
    page.write_text(html(nb), encoding="utf-8")
    browser.get(f"{base}/{page.name}")
    assert browser.execute_async_script(WAIT) == "typeset"
    return request.param, browser.execute_script(MEASURE), nb


def test_every_formula_is_typeset_without_error(rendered):
    name, cells, nb = rendered
    latex = [o for c in cells for o in c["outputs"] if o["latex"]]
    expected = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if "text/latex" in o.get("data", {}))
    assert len(latex) == expected and expected >= 7, (name, len(latex), expected)
    untypeset = [(c["source"], o) for c in cells for o in c["outputs"] if o["latex"] and (not o["typeset"] or o["left"])]
    assert not untypeset, untypeset
    errors = [(c["source"], o["errors"]) for c in cells for o in c["outputs"] if o["errors"]]
    assert not errors, errors


def test_no_output_is_wider_than_its_area(rendered):
    name, cells, _ = rendered
    outputs = [(c["source"], o) for c in cells for o in c["outputs"]]
    assert outputs and all(abs(o["area"] - AREA_PX) <= 1 for _, o in outputs), \
        [(s, o["area"]) for s, o in outputs][:3]
    wide = [(s, round(o["widest"]), o["scroll"], o["client"]) for s, o in outputs
            if o["widest"] > o["client"] or o["scroll"] > o["client"] + 1]
    assert not wide, f"{name}: outputs wider than {AREA_PX} px (cell, widest, scroll width, area): {wide}"


def test_the_network_cell_in_a_screenshot(rendered, browser, tmp_path):
    """The two-layer network's cell as an image (docs/mlp.png with DERIVMAGIC_SCREENSHOTS=docs)."""
    name, cells, _ = rendered
    if name != "long cells":
        return
    from selenium.webdriver.common.by import By
    index = next(c["index"] for c in cells if c["source"].startswith("%%derive\nh = ") or
                 c["source"].startswith("%%derive h = "))
    element = browser.find_elements(By.CSS_SELECTOR, ".jp-Cell")[index]
    folder = Path(os.environ.get("DERIVMAGIC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mlp.png"
    element.screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert AREA_PX <= width <= 1280 and height > 200, (width, height)
