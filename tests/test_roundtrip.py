"""Round trip: random expression tree -> LaTeX (tests/roundtrip.py, in many styles) -> derivmagic's
reader -> value, compared with the tree's own NumPy value. Catches *misreadings* of LaTeX
(``\\frac12`` read as twelve, a lost pair of parentheses, a spacing command that splits the
line), independently of derivmagic's parser and printer: only ``derive``, ``DerivError``,
SymPy and NumPy are used here.

Each cell is ``\\frac{d}{dt} <printed tree>`` followed by declarations of every symbol (or, in
the second mode, only ``t \\in \\mathbb{R}``: the conventional reading of the names must give
the same value). ``Derivation.function`` is evaluated at random values (n = 3, m = 2) and
compared with the tree's value (shape, and relative tolerance 1e-8). A ``DerivError`` is a
failure too: every printed tree is in the notation the README says is read.

``make test`` runs fixed seeds (ids ``seed17-style3``); ``make fuzz`` (marker ``fuzz``) runs
DERIVMAGIC_FUZZ_EXAMPLES random ones (seed from DERIVMAGIC_FUZZ_SEED, else random; printed on
failure). To look at one case: ``python tests/test_roundtrip.py SEED STYLE [--undeclared]``.
"""
from __future__ import annotations

import os
import random
import re
import sys
import traceback
from fractions import Fraction

import numpy as np
import pytest
import sympy

from derivmagic import DerivError, derive
from roundtrip import (Style, T, add, concrete_shape, const, declarations, div, evaluate,
                       fun, had, inv, make_style, matmul, neg, norm, normsq, pow_, random_tree,
                       sample_values, smul, sqrt, sub, sym, symbols_of, to_latex, tr)
from timing import time_limit

FUZZ_EXAMPLES = int(os.environ.get("DERIVMAGIC_FUZZ_EXAMPLES", 2000))
N_STYLES = 32                # styles of the normal run: 0 (canonical) .. 31
RTOL = 1e-8
SECONDS_PER_CELL = 20.0


# ------------------------------------------------------------------------------ the round trip
def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return np.array2string(np.asarray(v), precision=5, suppress_small=False,
                           max_line_width=200).replace("\n", "")


def _to_array(value) -> np.ndarray:
    """A SymPy value after ``doit`` -> a 2-D complex array (a scalar is 1×1)."""
    if isinstance(value, sympy.MatrixExpr) and not isinstance(value, sympy.MatrixBase):
        value = value.as_explicit()
    if isinstance(value, sympy.MatrixBase):
        free = value.free_symbols
        if free:
            raise ValueError(f"free symbols left after substitution: {free}")
        return np.array(value.evalf(), dtype=complex)
    if getattr(value, "free_symbols", None):
        raise ValueError(f"free symbols left after substitution: {value.free_symbols}")
    return np.array([[complex(sympy.N(value))]])


_CONSTANT_MATRICES = (sympy.ZeroMatrix, sympy.OneMatrix, sympy.Identity)


def _explicit(expr):
    """Zero, ones and identity matrices of numeric size as explicit matrices (SymPy cannot
    apply an elementwise function to a ZeroMatrix)."""
    return expr.replace(
        lambda e: isinstance(e, _CONSTANT_MATRICES) and all(k.is_Integer for k in e.shape),
        lambda e: sympy.ImmutableMatrix(e.as_explicit()))


def _evaluate(expr):
    """``doit`` until nothing changes, evaluating what ``doit`` leaves (HadamardPower of an
    explicit matrix)."""
    expr = _explicit(expr)
    for _ in range(6):
        new = expr.doit().replace(
            lambda e: isinstance(e, sympy.HadamardPower) and isinstance(e.base, sympy.MatrixBase),
            lambda e: e.base.applyfunc(lambda z: z ** e.exp))
        if new == expr:
            break
        expr = new
    return expr


def cell_for(seed: int, style: int, declared: bool = True):
    """(tree, printed LaTeX, cell) of one example."""
    tree = random_tree(seed)
    latex = to_latex(tree, style, seed)
    names = symbols_of(tree) | {"t"}
    cell = "\\frac{d}{dt} " + latex + "\n" + declarations(names if declared else {"t"}, style)
    return tree, latex, cell


def roundtrip_problem(seed: int, style: int, declared: bool = True) -> str | None:
    """None when derivmagic reads the printed tree with its value and shape; else a report."""
    tree, latex, cell = cell_for(seed, style, declared)
    values = sample_values(symbols_of(tree) | {"t"}, seed)
    expected = evaluate(tree, values)
    assert np.all(np.isfinite(expected)), f"oracle: non-finite value for {tree!r}"
    exp_shape = concrete_shape(tree.shape)

    def report(problem: str, read: str = "-") -> str:
        vals = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(values.items()))
        return (f"seed{seed}-style{style} ({'declared' if declared else 'undeclared'}): {problem}\n"
                f"  LaTeX:    {latex}\n"
                f"  cell:     {cell!r}\n"
                f"  intended: {tree!r}   shape {exp_shape}\n"
                f"  read as:  {read}\n"
                f"  values:   {vals}\n"
                f"  expected: {_fmt(expected)}")

    try:
        with time_limit(SECONDS_PER_CELL):
            d = derive(cell, check=False)
            function, symbols = d.function, d.symbols
    except DerivError as exc:
        return report(f"refused: {type(exc).__name__}: {exc}")
    except Exception:                                            # noqa: BLE001 - a crash is a finding
        return report("crashed:\n" + traceback.format_exc(limit=-3))

    read = f"{function}   symbols " + ", ".join(
        f"{k}: {tuple(v.shape) if isinstance(v, sympy.MatrixExpr) else 'scalar'}"
        for k, v in symbols.items())

    # the reader's dimension names -> our sizes, by unifying the symbols' shapes
    subs, dims, problems = {}, {}, []
    for name, s in symbols.items():
        if name not in values:
            problems.append(f"read a symbol {name!r} that is not in the tree")
            continue
        mine = concrete_shape(sym(name).shape)
        theirs = tuple(s.shape) if isinstance(s, sympy.MatrixExpr) else (1, 1)
        for dt, dm in zip(theirs, mine):
            if getattr(dt, "is_Integer", False) or isinstance(dt, int):
                if int(dt) != dm:
                    problems.append(f"read {name} with shape {theirs}, not {sym(name).shape}")
            elif dims.setdefault(dt, dm) != dm:
                problems.append(f"dimension {dt} of {name} would have to be {dims[dt]} and {dm}")
        v = np.atleast_2d(values[name])
        if isinstance(s, sympy.MatrixExpr):
            subs[s] = sympy.ImmutableMatrix(v)
        elif v.shape == (1, 1):
            subs[s] = sympy.Float(v[0, 0])
    missing = symbols_of(tree) - set(symbols)
    if missing:
        problems.append(f"did not read the symbols {sorted(missing)}")
    if problems:
        return report("; ".join(dict.fromkeys(problems)), read)
    subs.update({dt: sympy.Integer(dm) for dt, dm in dims.items()})

    try:
        with time_limit(SECONDS_PER_CELL):
            got = _to_array(_evaluate(function.xreplace(subs)))
    except Exception as exc:                                     # noqa: BLE001
        return report(f"could not evaluate what was read: {type(exc).__name__}: {exc}", read)
    if got.shape != exp_shape:
        return report(f"value of shape {got.shape}, not {exp_shape}: {_fmt(got)}", read)
    err = np.max(np.abs(got - expected))
    if not err <= RTOL * (1 + np.max(np.abs(expected))):
        return report(f"wrong value {_fmt(got.real if not np.any(got.imag) else got)} "
                      f"(max error {err:.3g})", read)
    return None


# ------------------------------------------------------------------------------ the tests
NORMAL = [(seed, seed % N_STYLES) for seed in range(300)]
UNDECLARED = [(seed, seed % N_STYLES) for seed in range(1000, 1300)]


@pytest.mark.parametrize("seed,style", NORMAL, ids=[f"seed{s}-style{k}" for s, k in NORMAL])
def test_roundtrip_declared(seed, style):
    problem = roundtrip_problem(seed, style, declared=True)
    assert problem is None, problem


@pytest.mark.parametrize("seed,style", UNDECLARED, ids=[f"seed{s}-style{k}" for s, k in UNDECLARED])
def test_roundtrip_undeclared(seed, style):
    problem = roundtrip_problem(seed, style, declared=False)
    assert problem is None, problem


@pytest.mark.fuzz
def test_roundtrip_fuzz(fuzz_stats):
    base = int(os.environ.get("DERIVMAGIC_FUZZ_SEED", random.SystemRandom().randrange(10**6)))
    rng = random.Random(base)
    failures, kinds = [], {}
    for i in range(FUZZ_EXAMPLES):
        seed, style, declared = 10**6 + rng.randrange(10**9), rng.randrange(64), i % 2 == 0
        problem = roundtrip_problem(seed, style, declared)
        if problem:
            failures.append(problem)
            first = problem.split(": ", 1)[1].split("\n")[0]
            kind = re.sub(r"\d+", "#", re.split(r" \[\[| \(|: define", first)[0])[:70]
            kinds[kind] = kinds.get(kind, 0) + 1
    fuzz_stats["roundtrip"] = fuzz_stats.get("roundtrip", 0) + FUZZ_EXAMPLES
    fuzz_stats["roundtrip:failed"] = fuzz_stats.get("roundtrip:failed", 0) + len(failures)
    assert not failures, (
        f"{len(failures)} of {FUZZ_EXAMPLES} round trips failed (DERIVMAGIC_FUZZ_SEED={base}); "
        f"kinds: {kinds}\n\n" + "\n\n".join(failures[:8]))


# ------------------------------------------------------------------------------ the oracle itself
A, B, M, x, y, u, b = (sym(n) for n in "ABMxyub")
alpha, t = sym("alpha"), sym("t")
HALF = const(Fraction(1, 2))

CANONICAL = [
    (matmul(matmul(T(x), A), x), "x^TAx"),
    (matmul(T(x), matmul(A, x)), "x^T(Ax)"),
    (matmul(matmul(A, B), x), "ABx"),
    (matmul(A, matmul(B, x)), "A(Bx)"),
    (normsq(sub(matmul(M, x), b)), r"\|Mx - b\|^2"),
    (norm(x), r"\|x\|_2"),
    (pow_(norm(x), 3), r"\|x\|_2^{3}"),
    (pow_(normsq(x), 2), r"(\|x\|^2)^{2}"),
    (normsq(add(x, smul(normsq(y), u))), r"\|x + \lVert y\rVert^2u\|^2"),
    (smul(alpha, add(x, y)), r"\alpha(x + y)"),
    (pow_(smul(alpha, add(t, const(1))), 2), r"(\alpha(t + 1))^{2}"),
    (add(x, neg(y)), "x + (-y)"),
    (add(neg(x), y), "-x + y"),
    (neg(add(x, y)), "-(x + y)"),
    (neg(neg(x)), "-(-x)"),
    (sub(x, sub(y, u)), "x - (y - u)"),
    (sub(sub(x, y), u), "x - y - u"),
    (sub(x, had(y, u)), r"x - y \odot u"),
    (matmul(neg(A), x), "(-A)x"),
    (T(add(A, B)), "(A + B)^T"),
    (T(T(x)), "(x^T)^T"),
    (inv(A), "A^{-1}"),
    (T(inv(A)), "(A^{-1})^T"),
    (inv(T(A)), "(A^T)^{-1}"),
    (had(matmul(A, x), y), r"(Ax) \odot y"),
    (smul(alpha, had(x, y)), r"\alpha(x \odot y)"),
    (div(x, add(t, const(1))), r"\frac{x}{t + 1}"),
    (smul(HALF, normsq(x)), r"\frac{1}{2}\|x\|^2"),
    (smul(const(2), smul(HALF, x)), r"2(\frac{1}{2}x)"),
    (smul(const(2), x), "2x"),
    (smul(sqrt(const(2)), t), r"\sqrt{2}t"),
    (sqrt(add(normsq(x), const(1))), r"\sqrt{\|x\|^2 + 1}"),
    (fun("sigma", matmul(A, x)), r"\sigma(Ax)"),
    (fun("exp", t), r"\exp(t)"),
    (fun("log", add(pow_(t, 2), const(1))), r"\log(t^{2} + 1)"),
    (tr(matmul(T(M), M)), r"\operatorname{tr}(M^TM)"),
    (smul(matmul(T(x), y), u), "(x^Ty)u"),
    (smul(t, matmul(T(x), y)), "t(x^Ty)"),
    (smul(smul(alpha, t), u), r"\alpha tu"),
    (smul(tr(A), x), r"\operatorname{tr}(A)x"),
    (matmul(x, T(add(y, u))), "x(y + u)^T"),
]


@pytest.mark.parametrize("tree,expected", CANONICAL, ids=[e for _, e in CANONICAL])
def test_printer_canonical_style(tree, expected):
    assert to_latex(tree, 0) == expected


TERSE = Style(index=99, brace_free=1.0, bare_fn=1.0, e_power=1.0, flatten=1.0, transposes=(r"^\top",),
              traces=(r"\mathrm{tr}",), parens=((r"\left(", r"\right)"),))


@pytest.mark.parametrize("tree,expected", [
    (smul(HALF, x), r"\frac12x"),
    (div(const(1), alpha), r"\frac1\alpha"),
    (div(x, alpha), r"\frac x\alpha"),
    (div(x, const(2)), r"\frac x2"),
    (smul(sqrt(const(2)), t), r"\sqrt2t"),
    (sqrt(alpha), r"\sqrt\alpha"),
    (pow_(t, 2), "t^2"),
    (fun("exp", t), "e^t"),
    (fun("exp", alpha), r"e^\alpha"),
    (fun("exp", x), r"\exp x"),
    (smul(alpha, fun("tanh", x)), r"\alpha\tanh x"),
    (smul(fun("log", t), x), r"\log\left(t\right)x"),          # bare only where nothing follows
    (fun("sigma", x), r"\sigma\left(x\right)"),                # never \sigma x (a product)
    (tr(A), r"\mathrm{tr}A"),
    (smul(tr(A), x), r"\mathrm{tr}\left(A\right)x"),
    (pow_(fun("cos", t), 2), r"\left(\cos\left(t\right)\right)^2"),
    (add(fun("cos", t), t), r"\cos t + t"),
    (smul(const(2), smul(HALF, x)), r"2 \cdot \frac12x"),        # never 2\frac12 (a mixed number)
    (smul(t, matmul(T(x), y)), r"tx^\top y"),
    (matmul(A, smul(const(2), x)), r"A\left(2x\right)"),
    (add(x, add(y, u)), "x + y + u"),
    (add(x, add(neg(y), u)), r"x + \left(-y + u\right)"),     # never x + -y + u
    (matmul(matmul(T(x), A), x), r"x^\top Ax"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_printer_terse_style(tree, expected):
    assert to_latex(tree, TERSE) == expected


def test_declarations():
    assert declarations({"A", "M", "x", "b", "alpha", "t"}, 0).split("\n") == [
        r"A \in \mathbb{R}^{n \times n}", r"M \in \mathbb{R}^{m \times n}",
        r"\alpha \in \mathbb{R}", r"b \in \mathbb{R}^{m}", r"t \in \mathbb{R}",
        r"x \in \mathbb{R}^{n}"]


def test_evaluator():
    rng = np.random.default_rng(0)
    vals = {"A": rng.standard_normal((3, 3)) + 3 * np.eye(3), "B": rng.standard_normal((3, 3)),
            "M": rng.standard_normal((2, 3)), "x": rng.standard_normal((3, 1)),
            "y": rng.standard_normal((3, 1)), "u": rng.standard_normal((3, 1)),
            "b": rng.standard_normal((2, 1)), "alpha": 0.7, "t": 1.3}
    Av, Mv, xv, yv, bv = vals["A"], vals["M"], vals["x"], vals["y"], vals["b"]
    ev = lambda tree: evaluate(tree, vals)                                   # noqa: E731
    assert np.allclose(ev(matmul(matmul(T(x), A), x)), xv.T @ Av @ xv)
    assert ev(matmul(matmul(T(x), A), x)).shape == (1, 1)
    assert np.allclose(ev(normsq(sub(matmul(M, x), b))), np.sum((Mv @ xv - bv) ** 2))
    assert np.allclose(ev(norm(x)), np.sqrt(np.sum(xv ** 2)))
    assert np.allclose(ev(fun("sigma", x)), 1 / (1 + np.exp(-xv)))
    assert np.allclose(ev(inv(T(A))) @ Av.T, np.eye(3))
    assert np.allclose(ev(tr(matmul(T(M), M))), np.sum(Mv ** 2))
    assert np.allclose(ev(pow_(smul(alpha, add(t, const(1))), 2)), (0.7 * 2.3) ** 2)
    assert np.allclose(ev(div(had(x, y), sqrt(const(2)))), xv * yv / np.sqrt(2))
    assert np.allclose(ev(smul(HALF, matmul(x, T(y)))), 0.5 * xv @ yv.T)
    assert ev(matmul(x, T(y))).shape == (3, 3)
    assert np.allclose(ev(fun("log", fun("exp", t))), 1.3)


def test_shape_rules():
    from roundtrip import ShapeMismatch
    for bad in (lambda: add(x, b), lambda: matmul(x, y), lambda: matmul(alpha, x),
                lambda: tr(M), lambda: normsq(A), lambda: fun("exp", A), lambda: had(alpha, t),
                lambda: T(alpha), lambda: fun("log", x), lambda: inv(M), lambda: inv(add(A, B)),
                lambda: div(x, y), lambda: pow_(x, 2)):
        with pytest.raises(ShapeMismatch):
            bad()


def test_generated_trees_are_well_formed():
    """Every generated tree: height ≤ 4, involves t, a finite value of its declared shape; every
    style prints it on one line with balanced braces and \\left/\\right."""
    for seed in range(400):
        tree = random_tree(seed)
        assert 1 <= tree.depth() <= 4 and "t" in symbols_of(tree), tree
        value = evaluate(tree, sample_values(symbols_of(tree), seed))
        assert value.shape == concrete_shape(tree.shape) and np.all(np.isfinite(value)), tree
        for style in (0, seed % 64, 7 * seed % 64):
            text = to_latex(tree, style, seed)
            assert "\n" not in text
            depth = 0
            for ch in re.sub(r"\\[{}]", "", text):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0, text
            assert depth == 0, text
            assert text.count(r"\left") == text.count(r"\right"), text


def test_styles_differ():
    styles = {make_style(k) for k in range(1, N_STYLES)}
    assert len(styles) == N_STYLES - 1
    assert make_style(0) == Style()


def test_printed_tex_renders():
    """The printer writes valid TeX: KaTeX (strict) and MathJax accept every printed tree."""
    from texcheck import node_available, validate
    if not node_available():
        pytest.skip("node and tests/js/node_modules (cd tests/js && npm ci) are needed")
    texts = [to_latex(random_tree(seed), style, seed)
             for seed in range(150) for style in (seed % N_STYLES, N_STYLES + seed % 40)]
    texts += [to_latex(tree, 0) for tree, _ in CANONICAL]
    cells = [c for s in range(40) for c in cell_for(s, s % N_STYLES)[2].split("\n")]
    bad = [(s, r) for s, r in zip(texts + cells, validate(texts + cells)) if not r["ok"]]
    assert not bad, bad[:5]


if __name__ == "__main__":                     # python tests/test_roundtrip.py SEED STYLE [--undeclared]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seed_, style_ = int(args[0]), int(args[1]) if len(args) > 1 else 0
    declared_ = "--undeclared" not in sys.argv
    print(cell_for(seed_, style_, declared_)[2])
    print(roundtrip_problem(seed_, style_, declared_) or "ok")
