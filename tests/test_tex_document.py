"""``Derivation.to_tex()``: a standalone document (amsmath, amssymb) that pdflatex compiles,
for every public corpus case and every example."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from derivmagic import derive
from test_latex_renderers import derivations, need

PDFLATEX = shutil.which("pdflatex")


@pytest.fixture
def pdflatex():
    need(PDFLATEX is not None, "pdflatex not installed (apt-get install texlive-latex-base)")


def compile_tex(source: str) -> tuple[int, str, bool]:
    """(return code, the log's errors and warnings, whether a PDF came out)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "derivation.tex"
        path.write_text(source, encoding="ascii")
        proc = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                               path.name], cwd=tmp, capture_output=True, text=True, errors="replace", timeout=120)
        log = (Path(tmp) / "derivation.log").read_text(errors="replace") if (Path(tmp) / "derivation.log").exists() else proc.stdout
        problems = "\n".join(line for line in log.splitlines()
                             if line.startswith("!") or "Undefined control sequence" in line or "Missing" in line)
        return proc.returncode, problems, (Path(tmp) / "derivation.pdf").is_file()


def test_document_structure():
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    tex = d.to_tex()
    assert tex.isascii()
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    packages = [line for line in tex.splitlines() if line.startswith(r"\usepackage")]
    assert packages == [r"\usepackage{amsmath,amssymb}"]
    for heading in ("Interpretation", "Steps", "Result", "Check"):
        assert rf"\subsection*{{{heading}}}" in tex
    assert r"\boxed{2 A^T (A x - b)}" in tex
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") == 4


def _body(tex: str) -> str:
    return tex.split(r"\begin{document}", 1)[1].rsplit(r"\end{document}", 1)[0]


def test_pdflatex_compiles_every_derivation(pdflatex):
    """All documents share one preamble, so one pdflatex run over their bodies compiles them all;
    a marker before each body names the case any error belongs to."""
    items = sorted(derivations().items())
    docs = [d.to_tex() for _, d in items]
    preamble = docs[0].split(r"\begin{document}")[0]
    assert all(doc.split(r"\begin{document}")[0] == preamble for doc in docs)
    bodies = [rf"\typeout{{CASE: {i}}}" + _body(doc) + r"\clearpage" for i, doc in enumerate(docs)]
    source = preamble + "\\begin{document}\n" + "\n".join(bodies) + "\\end{document}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all.tex"
        path.write_text(source, encoding="ascii")
        proc = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-no-shell-escape", path.name], cwd=tmp,
                              capture_output=True, text=True, errors="replace", timeout=300)
        log = (Path(tmp) / "all.log").read_text(errors="replace")
        pages = (Path(tmp) / "all.pdf").is_file()
    case, bad = None, {}
    for line in log.splitlines():
        if line.startswith("CASE: "):
            case = items[int(line.split()[1])][0]
        elif line.startswith("!"):
            bad.setdefault(case, []).append(line)
    assert proc.returncode == 0 and pages and not bad, (proc.returncode, bad)


def test_pdflatex_compiles_standalone_documents(pdflatex):
    from test_latex_renderers import variants
    docs = {**variants(), "hessian": derive(r"\nabla^2_x \left(x^T A x + b^T x\right)"),
            "matrix variable": derive(r"\nabla_X \operatorname{tr}(X^T A X)")}
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(docs, pool.map(lambda d: compile_tex(d.to_tex()), docs.values())))
    for name, (rc, problems, pdf) in results.items():
        assert rc == 0 and pdf and not problems, (name, problems)
