"""Limits: expression size and work are bounded. A pathological cell returns promptly with
either a right answer or a LimitError (a DerivError) that says which limit it hit and how
to raise it; raising that limit then gives an answer or another clear error, never a crash.

"Promptly" is counted in units of work (``limits.measure``), never in seconds: no verdict here
depends on the speed or the load of the machine. A wall-clock alarm far above any real run
only turns a hang into a failure instead of a stuck test run.
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

from derivmagic import DerivError, LimitError, derive, limits
from derivmagic.check import evaluate
from timing import Hang, time_limit

HANG = 120.0   # seconds: only a hang detector; no test compares a duration with a limit


def attempt(cell: str, **kwargs):
    """(derivation or LimitError, units of work counted); fails on a hang, a crash, or another
    DerivError. The work is what derive() and rendering counted (``limits.measure``)."""
    try:
        with time_limit(HANG), limits.measure() as work:
            out = derive(cell, **kwargs)
            out.text
            out.latex
    except LimitError as exc:
        out = exc
    except Hang:
        pytest.fail(f"derive() hangs on {cell[:80]!r}…")
    except DerivError as exc:
        pytest.fail(f"{type(exc).__name__} instead of an answer or a LimitError: {exc}")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"derive() crashed with {type(exc).__name__}: {str(exc)[:200]}")
    return out, work


def within_budget(work: list) -> bool:
    """Every budget (the derivation, its rendering) stopped at the work limit (a tick may
    overshoot it by the size of one step)."""
    limit = limits.LIMITS["work"]
    return limit is None or all(w <= limit + 10_000 for w in work)


def assert_clear_limit_error(exc: LimitError, cell: str):
    """Names the limit, says how to raise it, and points into the cell."""
    m = re.search(r"LIMITS\['(\w+)'\]", exc.message)
    assert m, f"the message does not name the limit: {exc.message}"
    assert m.group(1) in limits.LIMITS, f"names a limit that does not exist: {m.group(1)}"
    assert "raise derivmagic.limits.LIMITS" in exc.message, f"the message does not say how to raise it: {exc.message}"
    assert exc.pos is not None and 0 <= exc.pos <= len(cell), f"no caret inside the cell (pos {exc.pos})"
    assert exc.text == cell
    assert "^" in str(exc).rsplit("\n", 1)[-1]
    return m.group(1)


def right_answer(d, reference, shapes, seed=0):
    """The result agrees with central differences of a numpy reference of a scalar function."""
    rng = np.random.default_rng(seed)
    env = {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}
    var = d.answer.var.name
    got = np.asarray(evaluate(d.answer.result, {k: env[k] for k in d.reading.symbols}, {}), float)
    want = np.zeros(env[var].shape)
    h = 1e-6
    for j in range(env[var].size):
        p, m = env[var].copy(), env[var].copy()
        p.flat[j] += h
        m.flat[j] -= h
        want.flat[j] = (reference(**{**env, var: p}) - reference(**{**env, var: m})) / (2 * h)
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6), f"wrong answer: {d.answer.result!r}"


def sq(v):
    return float((v * v).sum())


def _nested_inverses(n):
    s = "X"
    for _ in range(n):
        s = f"(I + {s})^{{-1}}"
    return s


# id -> (cell, reference or None, shapes)
PATHOLOGICAL = {
    "nested_parens_500": (r"\nabla_x " + "(" * 500 + "x^T x" + ")" * 500, lambda x: sq(x), {"x": (3, 1)}),
    "nested_braces_500": (r"\nabla_x " + "{" * 500 + "x^T x" + "}" * 500, lambda x: sq(x), {"x": (3, 1)}),
    "nested_parens_150": (r"\nabla_x " + "(" * 150 + "x^T x" + ")" * 150, lambda x: sq(x), {"x": (3, 1)}),
    "sum_2000_terms": (r"\nabla_x " + " + ".join(["x^T x"] * 2000), lambda x: 2000 * sq(x), {"x": (3, 1)}),
    "sum_2000_terms_minus": (r"\nabla_x " + " - ".join(["x^T x"] * 2000), lambda x: -1998 * sq(x), {"x": (3, 1)}),
    "sum_99_distinct_symbols": (r"\nabla_x " + " + ".join(f"a_{{{i}}}^T x" for i in range(99)), None, {}),
    "product_2000_factors": (r"\nabla_x x^T " + "A " * 2000 + "x", None, {}),
    "power_99999": (r"\nabla_x x^{99999} \quad x \in \mathbb{R}", lambda x: float(x[0, 0]) ** 99999, {"x": (1, 1)}),
    "power_minus_99999": (r"\nabla_x x^{-99999} \quad x \in \mathbb{R}", None, {}),
    "power_as_fraction": (r"\nabla_x x^{\frac{99999}{1}} \quad x \in \mathbb{R}", None, {}),
    "power_as_quotient": (r"\nabla_x x^{99999/1} \quad x \in \mathbb{R}", None, {}),
    "norm_power_99999": (r"\nabla_x \|x\|^{99999}", None, {}),
    "number_power_99999": (r"\nabla_x 2^{99999} x^T x", None, {}),
    "matrix_power_99999": (r"\nabla_X \operatorname{tr}(X^{99999})", None, {}),
    "matrix_power_30": (r"\nabla_X \operatorname{tr}(X^{30})", None, {}),
    "matrix_product_100": (r"\nabla_X \operatorname{tr}(" + "X " * 100 + ")", None, {}),
    "inverse_power_30": (r"\nabla_X \operatorname{tr}(X^{-30})", None, {}),
    "number_10000_digits": ("\\nabla_x " + "9" * 10_000 + " x^T x", None, {}),
    "cell_50000_chars": (r"\nabla_x x^T x" + " " * 50_000, lambda x: sq(x), {"x": (3, 1)}),
    "nested_exp_300": (r"\nabla_x " + r"\exp(" * 300 + "x" + ")" * 300, None, {}),
    "nested_exp_bare_300": (r"\nabla_x " + r"\exp " * 300 + "x", None, {}),
    "nested_exp_30": (r"\nabla_x \mathbf{1}^T " + r"\tanh(" * 30 + "x" + ")" * 30, None, {}),
    "nested_sqrt_150": (r"\nabla_x " + r"\sqrt{" * 150 + "x^T x" + "}" * 150, None, {}),
    "nested_inverses_39": (r"\nabla_X \operatorname{tr}(" + _nested_inverses(39) + ")", None, {}),
    "nested_frac_100": (r"\nabla_x " + r"\frac{1}{" * 100 + "x^T x" + "}" * 100, None, {}),
    "nested_norms_60": (r"\nabla_x " + r"\left\|" * 60 + "x" + r"\right\|" * 60, None, {}),
    "nested_transposes_200": (r"\nabla_x a^T " + "(" * 100 + "x" + ")^T" * 100 + " x", None, {}),
    "hadamard_chain_300": (r"\nabla_x \mathbf{1}^T (" + r" \odot ".join(["x"] * 300) + ")", None, {}),
    "many_symbols_150": (r"\nabla_x " + " ".join(f"\\alpha_{{{i}}}" for i in range(150)) + " x^T x", None, {}),
    "many_definitions_100": ("\n".join(f"u_{{{i + 1}}} = u_{{{i}}} + x" for i in range(100)) + "\nu_{0} = x\n\\nabla_x u_{100}^T u_{100}", None, {}),
    "hessian_of_long_sum": (r"\nabla^2_x " + " + ".join([r"\log(\mathbf{1}^T \exp(x))"] * 30), None, {}),
    "directional_deep": (r"D F(X)[V] \quad F(X) = " + "X " * 30, None, {}),
}


@pytest.mark.parametrize("cell,reference,shapes", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_cell_is_prompt_and_right_or_limited(cell, reference, shapes):
    out, work = attempt(cell)
    assert within_budget(work), f"counted {work} units of work"
    if isinstance(out, LimitError):
        assert_clear_limit_error(out, cell)
        return
    assert out.check is not None and out.check.passed, f"an answer whose check fails: {out.check}"
    if reference is not None:
        right_answer(out, reference, shapes)


# ---------------------------------------------------------------- each limit of the text
# limit -> a cell beyond it, and the text its caret should start at
BEYOND = {
    "cell_chars": (r"\nabla_x x^T x" + " " * 30_000, None),
    "nesting": (r"\nabla_x " + "(" * 300 + "x^T x" + ")" * 300, "("),
    "function_nesting": (r"\nabla_x " + r"\exp(" * 60 + "x" + ")" * 60, r"\exp"),
    "terms": (r"\nabla_x " + " + ".join(["x^T x"] * 500), "+"),
    "operands": (r"\nabla_x x^T " + "A " * 1000 + "x", None),
    "number_digits": ("\\nabla_x 1" + "0" * 60 + " x^T x", "1000"),
    "exponent": (r"\nabla_x x^{12345}", "12345"),
}


@pytest.mark.parametrize("name", BEYOND, ids=BEYOND)
def test_each_text_limit_names_itself_and_points_at_the_excess(name):
    cell, starts = BEYOND[name]
    with pytest.raises(LimitError) as info:
        limits.check_cell(cell)
    assert assert_clear_limit_error(info.value, cell) == name
    if starts is not None:
        assert cell[info.value.pos:].startswith(starts), f"caret at {cell[info.value.pos:info.value.pos + 20]!r}"
    out, work = attempt(cell)     # and derive() stops there, before any work
    assert isinstance(out, LimitError) and sum(work) == 0


def _corpus_and_notes():
    import sys
    import os
    sys.path.insert(0, os.path.dirname(__file__))
    from test_mutation_fuzz import NOTES, SEEDS
    out = {"seeds": [c for _, c in SEEDS if not _.startswith("notes:")]}
    out.update({f"notes_{k}": v for k, v in NOTES.items()})
    return out


REAL = _corpus_and_notes()


@pytest.mark.parametrize("key", REAL, ids=REAL)
def test_no_real_input_hits_a_text_limit(key):
    """The limits leave room for everything in the corpus and the lecture notes."""
    hit = []
    for cell in REAL[key]:
        try:
            limits.check_cell(cell)
        except LimitError as exc:
            hit.append(f"{exc.message}: {cell[:80]!r}")
    assert not hit, "\n".join(hit)


def test_exponents_in_spaces_are_sizes_not_powers():
    limits.check_cell(r"\nabla_x \|Ax\|^2 \quad A \in \mathbb{R}^{1000 \times 500} \quad x \in \mathbb{R}^{500}")
    limits.check_cell(r"\nabla_x x^T x \quad x \in \mathbb{R}^{100}")


# ---------------------------------------------------------------- raising a limit
RAISE = {
    "exponent_scalar_power": ("exponent", 100_000, r"\nabla_x x^{99999} \quad x \in \mathbb{R}"),
    "nesting_250": ("nesting", 300, r"\nabla_x " + "(" * 250 + "x^T x" + ")" * 250),
    "nesting_500": ("nesting", 1000, r"\nabla_x " + "(" * 500 + "x^T x" + ")" * 500),
    "terms_300": ("terms", 400, r"\nabla_x " + " + ".join(["x^T x"] * 300)),
    "terms_2000": ("terms", 3000, r"\nabla_x " + " + ".join(["x"] * 2000) + r" \quad x \in \mathbb{R}"),
    "operands_2000": ("operands", 5000, r"\nabla_x x^T " + "A " * 2000 + "x"),
    "function_nesting_60": ("function_nesting", 200, r"\nabla_x \mathbf{1}^T " + r"\tanh " * 60 + "x"),
}


@pytest.mark.parametrize("name,value,cell", RAISE.values(), ids=RAISE.keys())
def test_raising_a_limit_gives_an_answer_or_another_clear_limit(monkeypatch, name, value, cell):
    with pytest.raises(LimitError, match=re.escape(f"LIMITS['{name}']")):
        derive(cell)
    monkeypatch.setitem(limits.LIMITS, name, value)
    out, work = attempt(cell)
    assert within_budget(work)
    if isinstance(out, LimitError):
        other = assert_clear_limit_error(out, cell)
        assert other != name, f"still the {name} limit after raising it to {value}"
    else:  # a product of 2,000 random matrices: the check samples so that it stays finite, and passes
        assert out.check.passed, out.check


def test_expression_size_limit_is_clear(monkeypatch):
    cell = r"\nabla_x x^T A x + \|Bx - c\|^2"
    monkeypatch.setitem(limits.LIMITS, "expression_size", 3)
    with pytest.raises(LimitError) as info:
        derive(cell)
    assert assert_clear_limit_error(info.value, cell) == "expression_size"


# ---------------------------------------------------------------- the work budget
def test_tick_outside_a_budget_does_nothing():
    for _ in range(10):
        limits.tick(10**9)
    assert limits.used() == 0


def test_tick_stops_at_the_work_limit(monkeypatch):
    monkeypatch.setitem(limits.LIMITS, "work", 100)
    with pytest.raises(LimitError, match=re.escape("LIMITS['work']")) as info:
        with limits.budget("cell text"):
            for _ in range(200):
                limits.tick()
    assert info.value.text == "cell text" and info.value.pos == 0, "the budget puts the caret into the cell"
    assert limits.used() == 0, "the budget is gone after its block"


def test_tick_stops_at_the_time_limit(monkeypatch):
    monkeypatch.setitem(limits.LIMITS, "seconds", 0.05)
    monkeypatch.setitem(limits.LIMITS, "work", None)
    t0 = time.perf_counter()
    with pytest.raises(LimitError, match=re.escape("LIMITS['seconds']")):
        with limits.budget("x"):
            while time.perf_counter() - t0 < 5:
                limits.tick()
    assert time.perf_counter() - t0 < 4   # the safety net fired (far sooner), not the loop's own end


def test_budgets_nest_and_restore(monkeypatch):
    """A budget starts with its cell's length counted (reading the text is work), then its ticks."""
    with limits.budget("outer"):
        limits.tick(5)
        with limits.budget("inner"):
            limits.tick(2)
            assert limits.used() == len("inner") + 2
        assert limits.used() == len("outer") + 5


def test_a_positioned_error_keeps_its_position():
    with pytest.raises(LimitError) as info:
        with limits.budget("abc def"):
            raise LimitError("at d", text="abc def", pos=4)
    assert info.value.pos == 4


def test_check_power_and_check_exponent():
    limits.check_power(16)
    limits.check_power(-16)
    with pytest.raises(LimitError, match=re.escape("LIMITS['matrix_power']")):
        limits.check_power(17)
    limits.check_exponent(32)
    limits.check_exponent(-1)
    limits.check_exponent(0.5)
    with pytest.raises(LimitError, match=re.escape("LIMITS['exponent']")):
        limits.check_exponent(99999)


# ---------------------------------------------------------------- the hooks, wired into derive()
def test_the_work_budget_is_wired_into_derive(monkeypatch):
    """derive() runs inside limits.budget and the engine calls limits.tick (see limits.py)."""
    monkeypatch.setitem(limits.LIMITS, "work", 5)
    cell = r"\nabla_x \|Ax - b\|^2 + x^T C x"
    with pytest.raises(LimitError) as info:
        derive(cell)
    assert assert_clear_limit_error(info.value, cell) == "work"


def test_the_matrix_power_limit_is_wired_into_derive(monkeypatch):
    """A^k of a square matrix goes through limits.check_power; a scalar power does not."""
    monkeypatch.setitem(limits.LIMITS, "matrix_power", 4)
    derive(r"\nabla_x x^{8} \quad x \in \mathbb{R}")
    cell = r"\nabla_X \operatorname{tr}(X^{8})"
    with pytest.raises(LimitError) as info:
        derive(cell)
    assert assert_clear_limit_error(info.value, cell) == "matrix_power"
    assert cell[info.value.pos:].startswith(("X^{8}", "8"))


# ---------------------------------------------------------------- one work budget, counted in units
def silu_layers(n: int) -> str:
    return "\n".join([r"h_{0} = x"] + [f"h_{{{i}}} = h_{{{i - 1}}} \\odot \\sigma(h_{{{i - 1}}})" for i in range(1, n + 1)]
                     + [rf"\nabla_x \mathbf{{1}}^T h_{{{n}}}"])


def sin_cos_layers(n: int) -> str:
    return "\n".join([r"u_{0} = x"] + [f"u_{{{i}}} = \\sin(u_{{{i - 1}}}) + \\cos(u_{{{i - 1}}})" for i in range(1, n + 1)]
                     + [rf"\nabla_x \mathbf{{1}}^T u_{{{n}}}"])


def test_the_wall_clock_is_only_a_safety_net():
    """The work limit decides; the wall-clock limit is far above anything it lets through."""
    assert limits.LIMITS["seconds"] is None or limits.LIMITS["seconds"] >= 30


def test_twelve_sin_cos_layers_hit_the_work_limit_the_same_way_every_time():
    """Twelve definitions u_i = sin(u_{i-1}) + cos(u_{i-1}) used to run 35–62 s outside the budget
    (printing, equality): now every stage counts, the work limit fires, and always at the same
    count of work."""
    cell = sin_cos_layers(12)
    counts = []
    for _ in range(2):
        out, work = attempt(cell)
        assert isinstance(out, LimitError) and assert_clear_limit_error(out, cell) == "work"
        counts.append(work)
    assert counts[0] == counts[1]


def test_ten_silu_layers_print_through_the_definitions_names():
    """Ten definitions h_i = h_{i-1} ⊙ σ(h_{i-1}) used to print 347 million characters: the
    display is now bounded before it is built, and the steps are written with h_i and dh_i."""
    out, work = attempt(silu_layers(10))
    assert not isinstance(out, LimitError), out
    text, latex = out.text, out.latex
    assert len(text) < 2_000_000 and len(latex) < 4_000_000
    assert "where h_" in text and "h_1 = " in text and "dh_1" in text
    assert out.check.passed


def test_eleven_silu_layers_are_refused_before_printing():
    cell = silu_layers(11)
    # the derivative itself is small (a DAG); only its fully substituted printed form is not (with the
    # definitions' names, σ(h_i) ⊙ (𝟏 + h_i - h_{i+1}), it prints in about 2,800 characters)
    d = derive(cell, expand=True)
    with pytest.raises(LimitError, match=re.escape("LIMITS['output_chars']")) as info:
        d.text
    assert_clear_limit_error(info.value, cell)


@pytest.mark.parametrize("cell", [
    r"\nabla_x ((2^{32})^{32})^{32} x^Tx",
    r"\nabla_x ((((10^{30})^{30})^{30})^{30})^{30} x^Tx",
    r"\nabla_x 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} 10^{30} x^Tx",
], ids=["2^32^32^32", "five_levels_of_10^30", "eleven_factors_10^30"])
def test_huge_constants_are_a_limit_error(cell):
    """A constant beyond a float used to raise OverflowError (or the int-to-string ValueError
    with check=False), and five levels of 10^30 took 42 s."""
    for check in (True, False):
        with pytest.raises(LimitError, match=re.escape("LIMITS['number']")) as info:
            derive(cell, check=check)
        assert_clear_limit_error(info.value, cell)


def test_a_constant_under_the_limit_is_exact():
    d = derive(r"\nabla_x (2^{32})^{8} x^Tx")
    assert d.check.passed and "2^256" not in d.text


@pytest.mark.parametrize("dims, figure", [
    ({"n": 100_000_000}, "n=100,000,000"),
    ({"n": 30_000}, "n=30,000"),
])
def test_sizes_are_checked_before_anything_is_allocated(dims, figure):
    cell = r"\nabla_x x^T A x"
    with pytest.raises(LimitError, match=re.escape("LIMITS['check_entries']")) as info:
        derive(cell, dims=dims)
    assert figure in info.value.message and "numbers in all" in info.value.message
    assert_clear_limit_error(info.value, cell)


def test_a_kronecker_form_is_sized_before_it_is_evaluated():
    cell = r"\frac{\partial}{\partial X} AXB"
    with pytest.raises(LimitError, match=re.escape("LIMITS['check_entries']")):
        derive(cell, dims={"m": 3000, "n": 3000, "p": 3000, "q": 3000})   # the check applies it as vec(AVB), never forms it


@pytest.mark.parametrize("value", [0, -1, 2.5, "3", True])
def test_a_size_is_a_positive_integer(value):
    with pytest.raises(DerivError, match="not a positive integer"):
        derive(r"\nabla_x x^T x", dims={"n": value})


def test_measure_adds_up_every_budget_and_only_inside_it():
    with limits.measure() as outer:
        with limits.budget("ab"):
            limits.tick(3)
        with limits.measure() as inner:
            with limits.budget(None):
                limits.tick(4)
    assert outer == [5] and inner == [4]
    limits.tick(10)
    assert outer == [5]


def test_within_reuses_an_open_budget_or_opens_one():
    with limits.budget("cell"):
        with limits.within("other"):
            limits.tick(1)
            assert limits.used() == len("cell") + 1
    with limits.measure() as work:
        with limits.within("xy"):
            limits.tick(1)
    assert work == [3]


def test_scoped_caches_live_as_long_as_their_budget():
    assert limits.scoped("t") is None
    with limits.budget("a"):
        limits.scoped("t")["k"] = 1
        assert limits.scoped("t") == {"k": 1}
    with limits.budget("a"):
        assert limits.scoped("t") == {}


def test_rendering_is_inside_a_budget(monkeypatch):
    """Printing counts: a derivation rendered after derive() returned has a budget of its own."""
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    with limits.measure() as work:
        d.text
        d.latex
    assert len(work) == 2 and all(w > 0 for w in work)
    monkeypatch.setitem(limits.LIMITS, "work", 10)
    with pytest.raises(LimitError, match=re.escape("LIMITS['work']")):
        d.latex


def test_output_limit_is_checked_before_printing(monkeypatch):
    d = derive(r"\nabla_x \|Ax - b\|_2^2")
    monkeypatch.setitem(limits.LIMITS, "output_chars", 5)
    with pytest.raises(LimitError, match=re.escape("LIMITS['output_chars']")):
        d.text


def test_work_refused_is_not_counted(monkeypatch):
    """A step that would pass the limit is refused before it is done (a 10⁹-multiply-add inverse is
    never computed), so the work a budget reports stays within its limit."""
    monkeypatch.setitem(limits.LIMITS, "work", 1000)
    with limits.measure() as work:
        with pytest.raises(LimitError):
            with limits.budget(None):
                limits.tick(10)
                limits.tick(10**9)
    assert work == [10]
