"""No input crashes derivmagic: over the examples, the demo notebook's cells, the public corpus, the
lecture notes' display formulas and cells that once crashed, ``derive()`` either returns a
Derivation whose every public output can be produced (``result``, ``latex``, ``text``, ``to_tex()``,
``to_source()``, ``claims``) or raises a ``DerivError`` subclass -- never any other exception."""
from __future__ import annotations

import importlib.util
import re

import pytest

from derivmagic.expr import postorder

from derivmagic import Derivation, DerivError, derive
from derivmagic.examples import EXAMPLES, NOTEBOOK

from shared_data import CORPUS, NOTES  # noqa: E402

# cells that raised something other than a DerivError (kept with the checks that found them)
ONCE_CRASHED = {
    "a factor shared by terms of two shapes": "x \\in \\mathbb{R}^{n}\nF(x) = \\operatorname{softmax}\\left("
                                              "\\operatorname{softmax}\\left(x\\right)\\right) x^T\nD F(x)[v]",
    "a factor shared by a scalar and a vector term": (
        "t \\in \\mathbb{R} \\quad a_1 \\in \\mathbb{R}^{p} \\quad a_2 \\in \\mathbb{R}^{3}\n\\frac{\\partial}"
        "{\\partial t} \\left(\\frac{\\operatorname{softmax}\\left(\\frac{a_1}{\\sigma\\left(t\\right)}\\right)}"
        "{1 + \\|a_2\\|_2^2}\\right)"),
    "claim 0 of a nonzero gradient": r"\nabla_x \|x\|_2^2 = 0",
    "claim 2 of a zero Hessian": r"\nabla^2_\theta \lambda^T x = 2",
    "direction dA": "f(A) = A^3\nD f(A)[dA]",
    "direction 2v": "D f(x)[2v]\nf(x) = x^Tx",
    "direction Av": "D f(x)[Av]\nf(x) = x^Tx",
    "direction v+w": "D f(x)[v+w]\nf(x) = x^Tx",
    "log det of an undeclared matrix": r"\nabla_X \operatorname{tr}(XA) + \log\det A = A",
    "claim whose shapes do not fit": r"\nabla_w \frac{1}{2}\|Xw-y\|^2 = X(Xw-y)",
}

# claims of every kind of link, and inputs that must be refused with a DerivError
CLAIMS = [
    r"\nabla_x \|x\|^2 = 2x = X(Xw-y) = 2x",
    r"\begin{aligned} \nabla_w \frac12\|Xw-y\|^2 &= X(Xw-y) \\ &= X^T(Xw-y) \end{aligned}",
    r"\nabla_X \operatorname{tr}(X) = I",
    r"\nabla_X \operatorname{tr}(X) = \mathbf{1}\mathbf{1}^T",
    r"\nabla_x c = x - x",
    r"\nabla^2_x x^Tx = 2",
    r"\nabla^2_x x^Tx = 0",
    "D f(X)[V] = 2XV\nf(X) = X^2",
    "D f(X)[AV] = AVX + XAV\nf(X) = X^2",
    r"\nabla_{W,b} \|Wx+b\|^2 = 0",
    r"\nabla_X \log\det X^2 = 2X^{-T}",
    r"\frac{d}{dt} t^{-1} = 1/t^2",
    r"\nabla_x a^T x = B",
    r"\nabla_x x^T A x = 2Ax = \nabla_x x^T A^T x",
]
BAD = ["", " ", r"\nabla_x", r"\frac{", "= 2", "D f(x)[]\nf(x)=x^Tx", r"\nabla_x x^Tx = = 2", r"\nabla_{x,x} x^Tx", "\x00", r"\nabla_x x^Tx = \nabla_y y"]


def _notebook_cells() -> list[tuple[str, str, str | None]]:
    out = []
    for i, (kind, source, tags) in enumerate(NOTEBOOK):
        if kind == "code" and source.startswith("%%derive"):
            head, _, body = source.partition("\n")
            layout = "denominator" if "--layout denominator" in head else None
            out.append((f"notebook-{i:02d}", body, layout))
    return out


def _corpus_cells() -> list[tuple[str, str, str | None]]:
    if not CORPUS.is_file():
        return []
    spec = importlib.util.spec_from_file_location("public_cases", CORPUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(f"corpus-{c['id']}", c["cell"], c.get("layout")) for c in module.CASES]


def _note_cells() -> list[tuple[str, str, str | None]]:
    if not NOTES.is_dir():
        return []
    out = []
    for path in sorted(NOTES.glob("*.txt")):
        for i, m in enumerate(re.finditer(r"\$\$(.+?)\$\$", path.read_text(encoding="utf-8"), re.S)):
            out.append((f"notes-{path.stem.split('_')[0]}-{i:03d}", m.group(1), None))
    return out


CELLS = ([(f"example-{name}", cell, None) for name, cell in EXAMPLES] + _notebook_cells() + _corpus_cells()
         + _note_cells() + [(f"once-crashed-{name}", cell, None) for name, cell in ONCE_CRASHED.items()]
         + [(f"claims-{i:02d}", cell, None) for i, cell in enumerate(CLAIMS)]
         + [(f"bad-{i:02d}", cell, None) for i, cell in enumerate(BAD)])


def _every_output(d: Derivation) -> None:
    assert isinstance(d, Derivation)
    d.result  # noqa: B018
    assert isinstance(d.latex, str) and d.latex
    assert isinstance(d.text, str) and d.text
    assert r"\documentclass" in d.to_tex()
    if d.answer.kind == "value":
        with pytest.raises(DerivError, match="no code for a line of values"):
            d.to_source()   # a line of values takes no derivative of its own
    elif any(type(n).__name__ == "FunctionApply" for n in postorder(d.answer.function)):
        with pytest.raises(DerivError, match="no code for a result with the arbitrary function"):
            d.to_source()   # an arbitrary function has no code: a clear refusal
    else:
        assert "def f_and_derivative(" in d.to_source()
    for claim in d.claims:
        assert isinstance(claim.holds, bool)
        assert claim.text
        if not claim.holds:
            assert claim.reason


@pytest.mark.parametrize("cell, layout", [(c, lay) for _, c, lay in CELLS], ids=[i for i, _, _ in CELLS])
def test_derives_or_raises_a_deriv_error(cell, layout):
    try:
        d = derive(cell, layout=layout, check=False)
    except DerivError as exc:
        assert str(exc)
        return
    _every_output(d)


@pytest.mark.parametrize("cell", list(ONCE_CRASHED.values()), ids=list(ONCE_CRASHED))
def test_once_crashed_cells_derive_and_check(cell):
    d = derive(cell)
    _every_output(d)
    assert d.check.passed, d.check.summary


@pytest.mark.parametrize("cell", BAD, ids=[f"bad-{i:02d}" for i in range(len(BAD))])
def test_bad_input_raises_a_deriv_error(cell):
    with pytest.raises(DerivError):
        derive(cell)


def test_the_sources_are_all_there():
    names = {i.split("-")[0] for i, _, _ in CELLS}
    assert {"example", "notebook", "once", "claims", "bad"} <= names
    if CORPUS.is_file():
        assert "corpus" in names
    if NOTES.is_dir():
        assert "notes" in names


# ---- notation mixed at random: a Derivation or a DerivError, never anything else
PIECES = [r"\nabla_x", r"\frac{\partial z}{\partial x}", r"\frac{\partial}{\partial x}", r"D f(x)[v]", "=", "+", "-",
          r"\left(\frac{\partial u}{\partial x}\right)^T", "v", "u", "f(x)", "g(h(x))", r"\frac{dz}{dy}", r"\nabla_x y",
          "x^TAx", r"\frac12", r"\sum_{i=1}^n", "x_i", "y_i", r"\log", r"\sigma(", ")", r"e^{tA}", r"\text{ReLU}(Wx)",
          r"\|x\|^2", "c", r"\quad", r"\,", "$$", r"\begin{aligned}", r"\end{aligned}", "&=", r"\\", "\n", r"\left.",
          r"\right|_{x=0}", r"(\text{when } A \text{ is symmetric})", "y = Ax", r"f: \mathbb{R}^n \to \mathbb{R}",
          r"\delta", r"\frac{\delta}{\delta x}", r"\tfrac1n", r"\sqrt2", r"\boldsymbol\theta", r"\hat{\mathbf y}"]


def _random_cells(seed: int, count: int) -> list[str]:
    import random
    rng = random.Random(seed)
    return [" ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 9))) for _ in range(count)]


def _derives_or_refuses(cell: str, check: bool) -> None:
    from derivmagic import derive_all
    try:
        for d in derive_all(cell, check=check):
            d.result  # noqa: B018
            assert d.text and d.latex
    except DerivError:
        pass


def test_mixed_notation_derives_or_raises_a_deriv_error():
    for i, cell in enumerate(_random_cells(0, 300)):
        _derives_or_refuses(cell, check=i % 10 == 0)


@pytest.mark.fuzz
def test_fuzz_mixed_notation(fuzz_stats):
    import os
    n = int(os.environ.get("DERIVMAGIC_FUZZ_EXAMPLES", 2000))
    seed = int(os.environ.get("DERIVMAGIC_FUZZ_SEED", 1))
    for i, cell in enumerate(_random_cells(seed, n)):
        _derives_or_refuses(cell, check=i % 4 == 0)
    fuzz_stats["mixed notation"] = fuzz_stats.get("mixed notation", 0) + n
