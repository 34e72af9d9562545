"""Hostile and huge input (issue 15): the cell's text never reaches TeX raw, work and output are
bounded, and nothing but a DerivError leaves derive().

* every LaTeX string derivmagic emits, for the corpus, the lecture notes, the examples and a set
  of hostile cells, uses only commands on the allow-list (``derivmagic.texsafe``);
* pdflatex, given ``to_tex()`` of the hostile cells, never reads a file the cell names;
* each row of the issue's table, pinned;
* fuzz targets (``make fuzz``, ``-m fuzz``) that report the peak memory and CPU of their run and
  compare work, never seconds.
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from derivmagic import DerivError, LimitError, derive, derive_all, limits
from derivmagic.examples import EXAMPLES
from derivmagic.report import side_by_side
from derivmagic.texsafe import disallowed, is_safe, literal
from timing import Hang, time_limit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# ---------------------------------------------------------------- the allow-list itself
DANGEROUS = [r"\input{/etc/passwd}", r"\include{x}", r"\href{javascript:alert(1)}{x}", r"\url{http://x}",
             r"\write18{rm -rf /}", r"\immediate\write18{ls}", r"\def\x{y}", r"\catcode`\@=11", r"\openin5=x",
             r"\read5 to\x", r"\csname input\endcsname", r"\expandafter\input", r"\newcommand{\x}{y}",
             r"\includegraphics{x}", r"\htmlClass{x}{y}", r"\let\x\input", r"\lowercase{\INPUT}",
             r"\verb|x|", r"\special{x}", r"\jobname", r"\@input{x}", r"\begin{filecontents}{x}\end{filecontents}"]
SNEAKY = ["^^5cinput{/etc/passwd}", "x % comment", "# param", "$x$", "x\x00y", "x\x1by", "é", "\u202e"]


@pytest.mark.parametrize("tex", DANGEROUS + SNEAKY)
def test_the_allow_list_refuses(tex):
    assert disallowed(tex), tex
    assert is_safe(literal(tex)), literal(tex)


@pytest.mark.parametrize("tex", [r"\frac{1}{2} x^T A x", r"\left\| A x - b \right\|_{2}^{2}", r"\text{read }x",
                                 r"\begin{aligned} a &= b \\ &= c \end{aligned}", r"\mathbb{S}^{n}_{++}",
                                 r"\operatorname{tr}(X) \qquad \checkmark\ \boldsymbol{\times}", r"50\% \{a\} \& \#"])
def test_the_allow_list_accepts_what_derivmagic_writes(tex):
    assert disallowed(tex) == []


def test_a_document_has_its_own_preamble_only():
    doc = derive(r"\nabla_x x^T x").to_tex()
    assert disallowed(doc, document=True) == []
    assert disallowed(doc)   # the preamble's commands are not allowed in a formula
    assert disallowed(doc.replace("amsmath,amssymb", "hyperref"), document=True)


# ---------------------------------------------------------------- hostile cells
MARK = "QQ7391046628QQ"   # what the file a hostile cell tries to read contains


def hostile_cells(path: str) -> dict:
    """name -> a cell that tries to smuggle a command (reading ``path``) into the LaTeX."""
    inp = rf"\input{{{path}}}"
    return {
        "norm_note": rf"\nabla_X \|X (when {inp}) + A\|",
        "remark": rf"\nabla_x x^T A x \quad (\text{{when {inp}}})",
        "remark_href": r"\nabla_x x^T A x \quad (\text{see \href{javascript:alert(1)}{here}})",
        "claim": rf"\nabla_x x^T x = 2x {inp}",
        "claim_only_command": rf"\nabla_x x^T x = {inp}",
        "claim_href": r"\nabla_x x^T x = \href{javascript:alert(1)}{2x}",
        "claim_url": r"\nabla_x x^T x = \url{http://example.com}",
        "claim_def": r"\nabla_x x^T x = \def\x{2x}\x",
        "claim_write18": r"\nabla_x x^T x = \immediate\write18{touch /tmp/pwned} 2x",
        "claim_catcode": r"\nabla_x x^T x = \catcode`\^^5c=12 2x",
        "claim_caret_codes": rf"\nabla_x x^T x = 2x^^5cinput{{{path}}}",
        "claim_percent": r"\nabla_x x^T x = 2x % \end{align*}",
        "claim_openin": r"\nabla_x x^T x = \openin1=/etc/passwd 2x",
        "claim_include": r"\nabla_x x^T x = \include{secret}",
        "aligned_claim": rf"\begin{{aligned}} \nabla_x x^T A x &= (A + A^T) x \\ &= {inp} \end{{aligned}}",
        "name_subscript": rf"\nabla_x x_{{{inp}}}^T x_{{{inp}}}",
        "text_in_target": rf"\nabla_x \text{{{inp}}} x^T x",
        "ignored_prose": rf"\nabla_x x^T x \quad {inp} \quad (1)",
        "definition": rf"f(x) = x^T x \quad ({inp})" + "\n" + r"\nabla_x f(x)",
        "declaration": rf"\nabla_x a^T x \quad a \in \mathbb{{R}}^{{{inp}}}",
        "unicode": "\\nabla_x x^T x \\quad (when ‮\\input{" + path + "} é)",
        "nul": "\\nabla_x x^T x \\quad (\x00\\input{" + path + "})",
        "operatorname": rf"\nabla_x \operatorname{{{inp}}}(x)",
        "sum": rf"\nabla_w \sum_{{{inp}}} (y_i - w^T x_i)^2",
        "remark_when_href": r"\nabla_x x^T A x \quad (when \href{javascript:alert(1)}{x} holds)",
        "remark_when_url": r"\nabla_x x^T A x \quad (when \url{http://example.com} holds)",
        "remark_when_write18": r"\nabla_x x^T A x \quad (when \immediate\write18{touch pwned} holds)",
        "remark_when_def": r"\nabla_x x^T A x \quad (when \def\x{1} holds)",
        "remark_when_caret_codes": rf"\nabla_x x^T A x \quad (when ^^5cinput{{{path}}} holds)",
        "remark_when_percent": r"\nabla_x x^T A x \quad (when 100% \catcode`\@=11 holds)",
        "norm_note_href": r"\nabla_X \|X (when \href{javascript:alert(1)}{x}) + A\|",
        "claim_shapes_do_not_fit": r"\nabla_x x^T A x = \left(B C\right)^{T} y y^T",
    }


def emitted_strings(d) -> dict:
    """name -> every LaTeX string a derivation emits (document: the whole to_tex())."""
    out = {"latex": d.latex, "repr": d._repr_latex_(), "mime": d._repr_mimebundle_()["text/latex"],
           "no steps": __import__("derivmagic.report", fromlist=["x"]).derivation_latex(d, steps=False)}
    for i, step in enumerate(d.steps):
        out[f"step {i}"] = step.latex
    try:
        out["side by side"] = side_by_side(d)._repr_mimebundle_()["text/latex"]
    except DerivError:
        pass
    return out


def _strip_math_delimiters(s: str) -> str:
    return s[2:-2] if s.startswith("$$") and s.endswith("$$") else s


def derive_or_error(cell: str):
    try:
        return derive_all(cell)
    except DerivError as exc:
        return exc


@pytest.mark.parametrize("name", sorted(hostile_cells("/etc/passwd")))
def test_hostile_cells_emit_only_allowed_latex(name):
    cell = hostile_cells("/etc/passwd")[name]
    out = derive_or_error(cell)
    if isinstance(out, DerivError):
        return   # refused with a message (plain text, never LaTeX)
    for d in out:
        for part, tex in emitted_strings(d).items():
            bad = disallowed(_strip_math_delimiters(tex))
            assert not bad, f"{part}: {bad} in {tex[:300]!r}"
        doc = d.to_tex()
        assert disallowed(doc, document=True) == [], disallowed(doc, document=True)
        assert r"\input{" not in doc and r"\href" not in doc and r"\write" not in doc


def _pdf_text(pdf: bytes) -> str:
    """The strings shown by the PDF's content streams (decompressed), joined: enough to find a
    word of digits typeset from a file."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        data = m.group(1)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass
        out += [s.decode("latin-1") for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)", data)]
    return "".join(out)


def _compile(tmp: Path, name: str, source: str) -> tuple[str, str]:
    (tmp / f"{name}.tex").write_text(source, encoding="ascii")
    subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode", "-no-shell-escape", f"{name}.tex"],
                   cwd=tmp, capture_output=True, timeout=300)
    pdf = (tmp / f"{name}.pdf").read_bytes() if (tmp / f"{name}.pdf").exists() else b""
    log = (tmp / f"{name}.log").read_text(errors="replace") if (tmp / f"{name}.log").exists() else ""
    return _pdf_text(pdf), log


def pdftotext(tmp: Path, name: str) -> str | None:
    tool = shutil.which("pdftotext")
    if tool is None or not (tmp / f"{name}.pdf").exists():
        return None
    subprocess.run([tool, f"{name}.pdf", f"{name}.txt"], cwd=tmp, capture_output=True, timeout=60)
    return (tmp / f"{name}.txt").read_text(errors="replace") if (tmp / f"{name}.txt").exists() else None


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_pdflatex_never_reads_a_file_a_hostile_cell_names():
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        secret = tmp / "secretfile.tex"
        secret.write_text(MARK + "\n", encoding="ascii")
        # the control: a document that does read the file shows the mark, so its absence means something
        text, log = _compile(tmp, "control", "\\documentclass{article}\\begin{document}\\input{secretfile}"
                                             "\\end{document}\n")
        assert MARK in text.replace(" ", "") and "secretfile" in log
        docs = []
        for name, cell in sorted(hostile_cells(str(secret)).items()) + sorted(hostile_cells("secretfile").items()):
            out = derive_or_error(cell)
            if not isinstance(out, DerivError):
                docs += [(name, d.to_tex()) for d in out]
        assert len(docs) >= 8, "the hostile cells that are read (their text a remark or a note) give documents"
        for i, (name, doc) in enumerate(docs):
            text, log = _compile(tmp, f"doc{i}", doc)
            shown = pdftotext(tmp, f"doc{i}")
            assert MARK not in text.replace(" ", ""), name
            assert shown is None or MARK not in shown.replace(" ", ""), name
            assert "secretfile.tex" not in log.replace("\n", ""), f"{name}: pdflatex opened the file"
            assert not (tmp / "pwned").exists()


# ---------------------------------------------------------------- everything derivmagic emits
def _corpus_cells() -> list[tuple[str, str, str | None]]:
    from test_latex_renderers import corpus_cases
    return [(c["id"], c["cell"], c.get("layout")) for c in corpus_cases()]


def _note_cells() -> list[tuple[str, str, str | None]]:
    from test_mutation_fuzz import NOTES
    return [(f"notes {k}:{i}", f, None) for k, fs in NOTES.items() for i, f in enumerate(fs)]


def _example_cells() -> list[tuple[str, str, str | None]]:
    return [(f"example {title}", cell, None) for title, cell in EXAMPLES]


def test_every_emitted_string_of_corpus_notes_and_examples_is_on_the_allow_list():
    bad, seen = [], 0
    for name, cell, layout in _corpus_cells() + _note_cells() + _example_cells():
        try:
            ds = derive_all(cell, layout=layout)
        except DerivError:
            continue
        for d in ds:
            seen += 1
            for part, tex in emitted_strings(d).items():
                found = disallowed(_strip_math_delimiters(tex))
                if found:
                    bad.append(f"{name} / {part}: {found}")
            found = disallowed(d.to_tex(), document=True)
            if found:
                bad.append(f"{name} / to_tex: {found}")
    assert seen > 100
    assert not bad, "\n".join(bad[:20])


# ---------------------------------------------------------------- the rows of the issue
def test_the_frobenius_note_quotes_the_cell_escaped():
    d = derive(r"\nabla_X \|X (when \input{/etc/passwd}) + A\|")
    assert r"\input" in d.text   # the text shows what was typed
    assert r"\input" not in d.latex and r"\mathtt{\backslash input\{/etc/passwd\}}" in d.latex
    assert r"\input" not in d.to_tex()


def test_a_claim_as_written_passes_through_only_when_allowed():
    from derivmagic.claims import source_latex
    assert source_latex(r"\left(A + B\right)^T x") == r"\left(A + B\right)^T x"
    for hostile in [r"\input{/etc/passwd}", r"\href{javascript:alert(1)}{x}", r"x^^5cinput{a}", r"\def\x{1}"]:
        shown = source_latex(hostile)
        assert shown.startswith(r"\mathtt{") and is_safe(shown), shown
    long = source_latex("x + " * 10_000)
    assert len(long) < 3_000 and long.endswith(r"{\dots}}") and is_safe(long)


@pytest.mark.parametrize("cell", [r"\nabla_x \|x\|_2^2 = 0", r"\nabla^2_\theta \lambda^T x = 2"])
def test_a_zero_or_constant_claim_is_judged(cell):
    """Used to raise ZeroDivisionError in the claims judge."""
    d = derive(cell)
    assert d.claims and not d.claims[0].holds and d.claims[0].reason


def test_directions_that_are_expressions():
    """D f(x)[2v], [Av], [v+w] used to raise AttributeError in the check."""
    for direction in ("2v", "Av", "v + w"):
        d = derive(rf"D f(x)[{direction}] \quad f(x) = x^T B x")
        assert d.check.passed, (direction, d.check)


def test_the_result_of_d_dt_exp_is_a_sympy_expression():
    """Derivation.result used to raise KeyError '2t' for a scalar times the ones matrix."""
    import sympy
    d = derive(r"\frac{d}{dt}\exp(2t + B)")
    r = d.result
    assert isinstance(r, sympy.Basic)
    B = np.array([[0.1, 0.2, 0.0], [0.3, -0.1, 0.2], [0.0, 0.1, 0.2]])
    got = np.array(sympy.N(r.subs({d.symbols["B"]: sympy.Matrix(B), d.symbols["t"]: 0.3}).doit()), dtype=float)
    from derivmagic.check import evaluate
    want = evaluate(d.answer.result, {"B": B, "t": np.full((1, 1), 0.3)}, {"n": 3})
    assert np.allclose(got, want)


def test_the_check_keeps_numpy_warnings_to_itself():
    cells = [r"\nabla_x \exp(\exp(\exp(x^T x)))", r"\nabla_x \log(x^T x - 100)", r"\nabla_x \|x\|^{-32}",
             r"\nabla_x x^T " + "A " * 300 + "x"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cell in cells:
            d = derive(cell)
            assert d.check is not None
            d.text


def test_a_high_matrix_power_is_sampled_so_that_it_stays_finite(monkeypatch):
    """x^T A^2000 x at standard normal values overflows (8×8: spectral radius about 2.8); the check
    scales A to spectral radius 1 and says so, instead of reporting 'not finite'."""
    monkeypatch.setitem(limits.LIMITS, "exponent", 2000)
    monkeypatch.setitem(limits.LIMITS, "matrix_power", 2000)
    for seed in (0, 1, 2):
        d = derive(r"\nabla_x x^T A^{2000} x", seed=seed, dims={"n": 8})
        assert d.check.passed, (seed, d.check)
        assert "spectral radius 1" in d.check.note and "spectral radius 1" in d.text
        assert "spectral radius 1" in re.sub(r"\s*\}\s*\\\\\s*&\s*\\text\{\s*", " ", d.latex)   # the text may wrap


def test_a_function_that_overflows_everywhere_is_still_not_finite():
    d = derive(r"\nabla_x \exp(\exp(\exp(\exp(x^T x + 100))))")
    assert not d.check.passed and "not finite" in d.check.message


# ---------------------------------------------------------------- caches cannot change a result
ORDER_CELLS = {
    "silu9": "\n".join([r"h_{0} = x"] + [f"h_{{{i}}} = h_{{{i - 1}}} \\odot \\sigma(h_{{{i - 1}}})" for i in range(1, 10)]
                       + [r"\nabla_x \mathbf{1}^T h_{9}"]),
    "silu10": "\n".join([r"h_{0} = x"] + [f"h_{{{i}}} = h_{{{i - 1}}} \\odot \\sigma(h_{{{i - 1}}})" for i in range(1, 11)]
                        + [r"\nabla_x \mathbf{1}^T h_{10}"]),
    "least squares": r"\nabla_x \|Ax - b\|_2^2",
    "bold x": r"\nabla_{\mathbf{x}} \mathbf{x}^T A \mathbf{x}",
    "plain x": r"\nabla_x x^T A x",
    "symmetric": r"\nabla_x x^T A x \quad A \in \mathbb{S}^n",
    "claim": r"\nabla_x x^T A x = 2Ax",
    "hessian": r"\nabla^2_x \log(\mathbf{1}^T \exp(x))",
}


def silu(n: int) -> str:
    return "\n".join([r"h_{0} = x"] + [f"h_{{{i}}} = h_{{{i - 1}}} \\odot \\sigma(h_{{{i - 1}}})" for i in range(1, n + 1)]
                     + [rf"\nabla_x \mathbf{{1}}^T h_{{{n}}}"])


def outcome(cell: str):
    """Everything a user sees of a cell, and the work it counted."""
    with limits.measure() as work:
        try:
            d = derive(cell)
            # the SymPy result is converted (its type kept: SymPy prints a shared DAG as a tree, which
            # for the SiLU cells is exponentially long)
            seen = (d.text, d.latex, type(d.result).__name__, d.check.passed, [c.holds for c in d.claims])
        except DerivError as exc:
            seen = (type(exc).__name__, str(exc))
    return seen, list(work)


def test_the_outcome_of_a_cell_does_not_depend_on_earlier_cells():
    """A ten-layer SiLU cell after a nine-layer one used to hit a limit it does not hit in a fresh
    process (caches keyed by expression, an exponential __eq__): every cell gives the same text,
    the same verdicts and the same count of work, whatever ran before."""
    first = {name: outcome(cell) for name, cell in ORDER_CELLS.items()}
    for name in reversed(list(ORDER_CELLS)):
        assert outcome(ORDER_CELLS[name]) == first[name], name
    for name, cell in ORDER_CELLS.items():   # each again, right after every other one
        for other in ORDER_CELLS.values():
            outcome(other)
            assert outcome(cell) == first[name], name
            break


def test_outcome_in_a_fresh_process_is_the_same():
    outcome(ORDER_CELLS["silu9"])
    here = outcome(ORDER_CELLS["silu10"])
    code = ("import sys, json; sys.path.insert(0, %r); from test_hostile import outcome, ORDER_CELLS; "
            "s, w = outcome(ORDER_CELLS['silu10']); print(json.dumps([list(map(str, s)), w]))") % str(HERE)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONHASHSEED": "123"}, cwd=str(HERE.parent))
    import json
    seen, work = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == list(map(str, here[0])) and work == here[1]


def test_equality_of_shared_expressions_is_linear():
    """Structurally equal DAGs built twice compare in O(1) (a digest of the structure), where a
    recursive comparison walks 2^depth paths."""
    from derivmagic.expr import Sym
    from derivmagic.rules import add, hadamard

    def tower(depth):
        e = Sym("x", ("n", 1))
        for _ in range(depth):
            e = add(hadamard(e, e), e)
        return e
    a, b = tower(200), tower(200)
    assert a is not b and a == b and hash(a) == hash(b)
    assert tower(199) != a


# ---------------------------------------------------------------- fuzz targets (make fuzz)
FUZZ_EXAMPLES = int(os.environ.get("DERIVMAGIC_FUZZ_EXAMPLES", "2000"))
FUZZ_SEEDS = [int(s) for s in os.environ.get("DERIVMAGIC_FUZZ_SEEDS", "0,1,2").split(",")]
PROGRESS = 1_000   # cells between two progress lines of a fuzz run


class Usage:
    """Peak memory (ru_maxrss) and CPU of a fuzz run, printed at its end; and the largest work
    and CPU of one cell."""

    def __init__(self, name, stats: dict):
        self.name, self.cells, self.worst_work, self.worst_cpu, self.worst = name, 0, 0, 0.0, ""
        self.cpu0 = time.process_time()
        self.stats = stats

    def run(self, cell: str, **kw):
        t = time.process_time()
        with limits.measure() as work:
            try:
                with time_limit(120):
                    ds = derive_all(cell, **kw)
                    for d in ds:
                        d.text, d.latex, d.to_tex(), d.result
                        try:
                            d.to_source()
                        except DerivError:   # a result with an arbitrary function f(x) has no code
                            pass
                        for tex in emitted_strings(d).values():
                            assert is_safe(_strip_math_delimiters(tex)), (cell, disallowed(tex))
                out = "ok"
            except DerivError as exc:
                assert len(str(exc)) < 4_000, f"a {len(str(exc)):,}-character message for {cell[:80]!r}"
                out = type(exc).__name__
            except Hang:
                pytest.fail(f"hangs on {cell[:120]!r}")
            except Exception as exc:  # noqa: BLE001
                pytest.fail(f"{type(exc).__name__} on {cell[:200]!r}: {str(exc)[:300]}")
        cpu = time.process_time() - t
        self.cells += 1
        if max(work, default=0) > self.worst_work:
            self.worst_work = max(work)
        if cpu > self.worst_cpu:
            self.worst_cpu, self.worst = cpu, cell[:80]
        if self.cells % PROGRESS == 0:   # a long run stopped early still leaves its figures (with -s)
            print(self.line(), flush=True)
        return out

    def line(self) -> str:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return (f"\n[fuzz {self.name}] {self.cells} cells, CPU {time.process_time() - self.cpu0:.1f} s, "
                f"peak memory {peak:.0f} MB (process), most work in one budget {self.worst_work:,} "
                f"(limit {limits.LIMITS['work']:,}), most CPU for one cell {self.worst_cpu:.2f} s ({self.worst!r})")

    def report(self):
        """Printed (with -s) and added to the fuzz summary line; only the work is asserted (it is
        the limit), CPU and memory are measured and reported, never compared with a figure."""
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(self.line())
        self.stats[f"hostile {self.name}"] = self.cells
        self.stats["hostile: peak memory MB:"] = max(self.stats.get("hostile: peak memory MB:", 0), round(peak))
        self.stats["hostile: most CPU ms for one cell:"] = max(self.stats.get("hostile: most CPU ms for one cell:", 0),
                                                             round(1000 * self.worst_cpu))
        self.stats["hostile: most work for one budget:"] = max(self.stats.get("hostile: most work for one budget:", 0),
                                                             self.worst_work)
        assert self.worst_work <= (limits.LIMITS["work"] or 10**18) + 10_000


def _random_cells(rng, n):
    """Cells from the rows of the issue, grown at random sizes and combined with hostile text."""
    path = "/etc/passwd"
    hostile = list(hostile_cells(path).values())
    for _ in range(n):
        k = int(rng.integers(0, 9))
        depth = int(rng.integers(1, 14))
        if k == 0:
            yield silu(depth)
        elif k == 1:
            yield "\n".join([r"u_{0} = x"] + [f"u_{{{i}}} = \\sin(u_{{{i - 1}}}) + \\cos(u_{{{i - 1}}})"
                                               for i in range(1, depth + 1)] + [rf"\nabla_x \mathbf{{1}}^T u_{{{depth}}}"])
        elif k == 2:
            yield r"\nabla_x " + "(" * depth + f"({int(rng.integers(1, 10**6))}^{{{depth}}})" + ")" * depth + " x^Tx"
        elif k == 3:
            yield hostile[int(rng.integers(0, len(hostile)))]
        elif k == 4:
            yield r"\nabla_x x^T " + "A " * int(rng.integers(1, 300)) + "x"
        elif k == 5:
            yield rf"D f(x)[{['2v', 'Av', 'v + w', '3Av - w'][depth % 4]}] \quad f(x) = x^T B x + \|x\|^2"
        elif k == 6:
            yield [r"\nabla_x \|x\|_2^2 = 0", r"\nabla^2_\theta \lambda^T x = 2", r"\frac{d}{dt}\exp(2t + B)"][depth % 3]
        elif k == 7:
            yield r"\nabla_x " + r" \odot ".join([r"\sigma(x)"] * depth) + r" \cdot \mathbf{1}^T x"
        else:
            yield "\\nabla_x x^T x" + " \\quad " + "".join(chr(int(c)) for c in rng.integers(32, 0x2FF, depth * 3))


@pytest.mark.fuzz
@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_fuzz_rows_of_the_issue(seed, fuzz_stats):
    usage = Usage(f"rows, seed {seed}", fuzz_stats)
    rng = np.random.default_rng(seed)
    for cell in _random_cells(rng, FUZZ_EXAMPLES):
        usage.run(cell)
    usage.report()


@pytest.mark.fuzz
@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_fuzz_sizes_and_seeds(seed, fuzz_stats):
    """dims and seeds as a user may pass them: sizes are checked before allocating."""
    usage = Usage(f"sizes, seed {seed}", fuzz_stats)
    rng = np.random.default_rng(seed)
    cells = [r"\nabla_x x^T A x", r"\frac{\partial}{\partial X} AXB", r"\nabla^2_x \log(\mathbf{1}^T \exp(x))",
             r"\nabla_X \log\det X"]
    for _ in range(max(10, FUZZ_EXAMPLES // 10)):
        cell = cells[int(rng.integers(0, len(cells)))]
        n = int(10 ** rng.uniform(0, 8))
        try:
            usage.run(cell, dims={"n": n, "m": max(1, n // 3)}, seed=int(rng.integers(0, 1000)))
        except LimitError:
            pass
    usage.report()


def test_katex_and_mathjax_render_what_hostile_cells_emit():
    """The escaped forms are still LaTeX that both renderers accept."""
    from texcheck import node_available, validate
    if not node_available():
        pytest.skip("node or tests/js/node_modules missing")
    strings = {}
    for name, cell in hostile_cells("/etc/passwd").items():
        out = derive_or_error(cell)
        if not isinstance(out, DerivError):
            strings[name] = out[0].latex
    from derivmagic.report import tex_text
    strings.update({f"text {i}": tex_text(t) for i, t in enumerate(DANGEROUS + SNEAKY)})
    strings.update({f"literal {i}": literal(t) for i, t in enumerate(DANGEROUS + SNEAKY)})
    names = sorted(strings)
    results = dict(zip(names, validate([strings[n] for n in names])))
    bad = {n: (r, strings[n][:200]) for n, r in results.items() if not r["ok"]}
    assert not bad, bad


# ---------------------------------------------------------------- rows that need the reader or errors.py
def test_a_huge_one_line_cell_gives_a_short_message():
    cell = r"\nabla_x x^T x" + " + x^T x" * 140_000
    with pytest.raises(LimitError) as info:
        derive(cell)
    assert len(str(info.value)) < 2_000


def test_a_fractional_order_of_nabla_is_a_parse_error_in_words():
    with pytest.raises(DerivError) as info:
        derive(r"\nabla^{1.5}_x x^T x")
    assert "Error trying to process rule" not in str(info.value) and "invalid literal" not in str(info.value)


# ---------------------------------------------------------------- rows as a notebook shows them
WARNING_CELLS = [r"\nabla_x \exp(\exp(\exp(x^T x)))", r"\nabla_x \log(x^T x - 100)", r"\nabla_x \|x\|^{-32}",
                 r"\nabla_x x^T " + "A " * 300 + "x"]


@pytest.mark.parametrize("cell", WARNING_CELLS, ids=["exp-exp-exp", "log-negative", "norm-power", "long-chain"])
def test_no_numpy_warning_reaches_the_notebook(cell):
    """RuntimeWarnings of the check used to leak to the notebook beside the derivation."""
    pytest.importorskip("IPython")
    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output
    shell = start_ipython() or __import__("IPython").get_ipython()   # the session's shell once started
    shell.run_line_magic("load_ext", "derivmagic")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            with capture_output() as out:
                result = shell.run_cell(f"%%derive\n{cell}")
    finally:
        shell.run_line_magic("unload_ext", "derivmagic")
    assert result.success and len(out.outputs) == 1
    assert "Warning" not in out.stderr + out.stdout, out.stderr


def _layer_norm():
    return ("\\mu = \\frac{1}{n}\\mathbf{1}^T x\nv = \\frac{1}{n}\\|x - \\mu\\mathbf{1}\\|^2\n"
            "y = \\frac{x - \\mu\\mathbf{1}}{\\sqrt{v + \\epsilon}}\n\\nabla_x a^T y")


def _layer_norm_values():
    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((4, 1)), "a": rng.standard_normal((4, 1)), "epsilon": np.array([[0.1]]),
            "n": np.array([[4.0]])}


def test_the_result_of_a_layer_norm_cell_is_a_sympy_expression():
    """Derivation.result used to raise KeyError for a layer-norm style cell."""
    import sympy
    d = derive(_layer_norm())
    assert isinstance(d.result, sympy.MatrixExpr) and d.result.shape[1] == 1 and d.check.passed


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _layer_norm_gradient(v):
    """∇ₓ aᵀc/s with c = x − μ𝟏 = Px (μ = 𝟏ᵀx/n, P = I − 𝟏𝟏ᵀ/n), s = √(‖c‖²/n + ε), worked out by hand:
    Pa/s − (aᵀc) Pc/(n s³)."""
    x, a, n, eps = v["x"], v["a"], v["n"][0, 0], v["epsilon"][0, 0]
    c = x - x.sum() / n
    s = np.sqrt((c * c).sum() / n + eps)
    return (a - a.sum() / n) / s - (a * c).sum() * (c - c.sum() / n) / (n * s ** 3)


_RNG = np.random.default_rng(7)
_x4, _y4, _X43 = _RNG.standard_normal((4, 1)), _RNG.standard_normal((4, 1)), _RNG.standard_normal((4, 3))
ONES_CELLS = [  # (id, cell, values, the derivative by NumPy, whether the result holds no matrix of 𝟏's size)
    ("layer_norm", _layer_norm(), _layer_norm_values(), _layer_norm_gradient, False),
    ("layer_norm_n_not_the_size", _layer_norm(), {**_layer_norm_values(), "n": np.array([[3.0]])},
     _layer_norm_gradient, False),
    ("ones_alone", r"\nabla_x \mathbf{1}^T x", {"x": _x4}, lambda v: np.ones((4, 1)), True),
    ("ones_matrix", r"\nabla_X \mathbf{1}^T X \mathbf{1}", {"X": _X43}, lambda v: np.ones((4, 3)), True),
    ("sum_of_entries_squared", r"\nabla_x (\mathbf{1}^T x)^2", {"x": _x4},
     lambda v: 2 * v["x"].sum() * np.ones((4, 1)), False),
    ("ones_outer", r"\nabla_x x^T \mathbf{1}\mathbf{1}^T x", {"x": _x4},
     lambda v: 2 * v["x"].sum() * np.ones((4, 1)), False),
    ("mean_centred", "\\mu = \\frac{1}{n}\\mathbf{1}^T x\n\\nabla_x \\|x - \\mu\\mathbf{1}\\|^2",
     {"x": _x4, "n": np.array([[3.0]])}, lambda v: 2 * ((c := v["x"] - v["x"].sum() / 3) - c.sum() / 3), False),
    ("scalar_broadcast", r"\nabla_x \|x + c\mathbf{1}\|^2", {"x": _x4, "c": np.array([[0.7]])},
     lambda v: 2 * (v["x"] + 0.7), False),
    ("softmax_log_likelihood", r"\nabla_z y^T \log\operatorname{softmax}(z)", {"z": _x4, "y": _y4},
     lambda v: v["y"] - _softmax(v["z"]) * v["y"].sum(), False),
    ("softmax_jacobian", r"\frac{\partial}{\partial z}\operatorname{softmax}(z)", {"z": _x4},
     lambda v: np.diagflat(_softmax(v["z"])) - _softmax(v["z"]) @ _softmax(v["z"]).T, False),
    ("logsumexp_hessian", r"\nabla^2_x \log(\mathbf{1}^T \exp(x))", {"x": _x4},
     lambda v: np.diagflat(_softmax(v["x"])) - _softmax(v["x"]) @ _softmax(v["x"]).T, False),
    ("one_norm_squared", r"\nabla_x \|x\|_1^2", {"x": _x4}, lambda v: 2 * np.abs(v["x"]).sum() * np.sign(v["x"]),
     False),
]


def _result_at(d, values, sizes: bool):
    """``d.result`` with the explicit matrices substituted, then (if ``sizes``) the sizes, then ``doit()``."""
    import sympy
    subs = {s: sympy.ImmutableMatrix(values[k]) if isinstance(s, sympy.MatrixSymbol) else sympy.Float(values[k][0, 0])
            for k, s in d.symbols.items()}
    r = d.result.subs(subs)
    if sizes:
        r = r.subs({dim: n for k, s in d.symbols.items() if isinstance(s, sympy.MatrixSymbol)
                    for dim, n in zip(s.shape, values[k].shape) if isinstance(dim, sympy.Symbol)})
    r = r.doit()
    assert isinstance(r, sympy.MatrixBase) and not r.free_symbols, f"not evaluated: {r}"
    return np.array(r, dtype=float)


@pytest.mark.parametrize("cell,values,reference", [row[1:4] for row in ONES_CELLS], ids=[row[0] for row in ONES_CELLS])
def test_a_result_written_with_ones_evaluates_to_its_numbers(cell, values, reference):
    """𝟏 in Derivation.result evaluates once the matrices and sizes are substituted (SymPy's own
    OneMatrix stays ``1*Matrix(...)`` beside explicit matrices)."""
    got, want = _result_at(derive(cell), values, sizes=True), reference(values)
    assert got.shape == want.shape and np.allclose(got, want), (got, want)


@pytest.mark.parametrize("cell,values,reference", [row[1:4] for row in ONES_CELLS if not row[4]],
                         ids=[row[0] for row in ONES_CELLS if not row[4]])
def test_a_result_written_with_ones_evaluates_from_the_matrices_alone(cell, values, reference):
    """Where the result holds a matrix of 𝟏's size, 𝟏 is made from it: substituting the matrices is
    enough, as the contract says."""
    got, want = _result_at(derive(cell), values, sizes=False), reference(values)
    assert got.shape == want.shape and np.allclose(got, want), (got, want)


def test_ones_in_a_result_are_replaced_visiting_shared_subexpressions_once():
    """A result whose DAG shares subexpressions along a deep chain (2⁶⁰ paths to its leaves) is made
    evaluable in work linear in its distinct subexpressions; walking every path would never end."""
    import sympy
    from sympy.matrices.expressions.special import OneMatrix
    from derivmagic.tosympy import _evaluable_ones
    x = sympy.MatrixSymbol("x", 3, 1)
    e = sympy.MatAdd(OneMatrix(3, 1), x, evaluate=False)
    for _ in range(60):   # e appears twice in the next e
        e = sympy.MatAdd(sympy.HadamardProduct(e, x, evaluate=False), e, evaluate=False)
    out = _evaluable_ones(e, [x])
    assert not any(isinstance(a, OneMatrix) and type(a) is OneMatrix for a in _distinct(out))


def _distinct(expr):
    seen, stack = set(), [expr]
    while stack:
        a = stack.pop()
        if a not in seen:
            seen.add(a)
            stack.extend(a.args)
    return seen
