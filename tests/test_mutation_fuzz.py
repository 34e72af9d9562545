"""Hostile input: random edits of real cells must never crash, hang or leak internals.

Seeds are the public corpus cells (tests/data/corpus/public_cases.py), the display and
inline formulas of the lecture notes (tests/data/notes/*.txt) and a built-in list (so the
test runs without the data). Each example applies a few random edits (delete, duplicate,
swap characters, drop a brace, insert unknown macros, huge exponents, deep nesting, stray
characters) and calls ``derive``. It must return a Derivation (that renders) or raise a
``DerivError`` whose position lies inside the text, whose caret is drawn, and whose message
is words (no Lark token names, no Python reprs); and it must take less than 2 s.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import re

import pytest

from derivmagic import limits
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from derivmagic import DerivError, derive
from shared_data import DATA
from timing import Hang, time_limit

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = str(DATA)
FUZZ_EXAMPLES = int(os.environ.get("DERIVMAGIC_FUZZ_EXAMPLES", "2000"))
SECONDS = 2.0
COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)




# ---------------------------------------------------------------- seeds
BUILTIN = [
    r"\nabla_x \|Ax-b\|_2^2",
    r"\nabla_x x^T A x",
    "L(w) = \\|Xw - y\\|_2^2\n\\nabla_w L(w)",
    "\\nabla_x \\|Ax-b\\|_2^2\nA \\in \\mathbb{R}^{m \\times n},\\; x \\in \\mathbb{R}^n,\\; b \\in \\mathbb{R}^m",
    r"\frac{\partial}{\partial x} \left(-\log(x)\right)",
    r"\nabla_X \operatorname{tr}(X^{-1} A)",
    r"\nabla_X \log \det(X) \quad X \in \mathbb{S}^n_{++}",
    r"\nabla^2_x \log(\mathbf{1}^T \exp(x))",
    r"\frac{\partial^2 f}{\partial x \partial x^T} \quad f(x) = x^T A x + b^T x",
    r"D f(X)[V] \quad f(X) = X^T X",
    r"\nabla_z a^T \operatorname{softmax}(z)",
    r"\nabla_W \|\sigma(Wx) - y\|^2",
    r"\nabla_{\boldsymbol{\theta}} \frac{1}{N} \|\mathbf{y} - X\boldsymbol{\theta}\|_2^2",
    r"\begin{aligned} \nabla_x x^T A x &= A x + A^T x \\ &= (A + A^T) x \end{aligned}",
    r"\nabla_x \tanh(Wx + b) \odot c \quad W \in \mathbb{R}^{3 \times 4}",
    r"\frac{d}{dt} \exp(tA) \quad A \in \mathbb{R}^{3 \times 3}",
    r"\nabla_x \|x\|_1 + \lambda \|x\|_2^2",
    r"\nabla_x (x - \mu)^T \Sigma^{-1} (x - \mu) \quad \Sigma \in \mathbb{S}^n_{++}",
]


def _corpus_cells() -> list[tuple[str, str]]:
    path = os.path.join(SHARED, "corpus", "public_cases.py")
    if not os.path.exists(path):
        return []
    spec = importlib.util.spec_from_file_location("_public_cases", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [(f"corpus:{c['id']}", c["cell"]) for c in mod.CASES]


def note_formulas() -> dict[str, list[str]]:
    """Display ($$...$$) and inline ($...$) formulas of each notes file."""
    out = {}
    for path in sorted(glob.glob(os.path.join(SHARED, "notes", "*.txt"))):
        text = open(path, encoding="utf-8").read()
        found = [m.strip() for m in re.findall(r"\$\$(.+?)\$\$", text, re.S)]
        rest = re.sub(r"\$\$(.+?)\$\$", " ", text, flags=re.S)
        found += [m.strip() for m in re.findall(r"(?<![\\$])\$([^$\n]+?)\$", rest)]
        out[os.path.basename(path)[:3]] = [f for f in found if f]
    return out


NOTES = note_formulas()
SEEDS = ([(f"builtin:{i}", c) for i, c in enumerate(BUILTIN)] + _corpus_cells()
         + [(f"notes:{k}:{i}", f) for k, fs in NOTES.items() for i, f in enumerate(fs)])


# ---------------------------------------------------------------- what an error may say
def _lark_names() -> set[str]:
    from derivmagic.parse import parser
    p = parser()
    names = {t.name for t in p.terminals} | {"$END", "RBRACE", "LBRACE", "RPAR", "LPAR", "RSQB", "LSQB",
                                              "CIRCUMFLEX", "UNDERSCORE", "COMMA", "COLON", "SEMICOLON"}
    return {n for n in names if len(n) >= 3 or n.startswith("$")}


_NOISE = [
    (re.compile(r"Tree\(|Token\(|Node\(|Fraction\(|frozenset\(|Sym\(|Expr\("), "a Python repr"),
    (re.compile(r" at 0x[0-9a-f]+"), "an object address"),
    (re.compile(r"Traceback|File \"|line \d+, in "), "a traceback"),
    (re.compile(r"\b__ANON_\d+|\$END\b"), "a Lark token name"),
    (re.compile(r"lark\.|Lark|Unexpected(Token|Characters|EOF|Input)|Error trying to process rule"),
     "Lark's own message"),
    (re.compile(r"\b(Key|Attribute|Index|Type|Recursion|ZeroDivision|Overflow)Error\b"), "a Python exception name"),
]


def message_problems(exc: DerivError, text: str) -> list[str]:
    """What is wrong with an error shown to a user (empty when nothing)."""
    out = []
    msg = exc.message if isinstance(getattr(exc, "message", None), str) else str(exc)
    if exc.pos is None:
        out.append("no position (no caret)")
    elif not 0 <= exc.pos <= len(text):
        out.append(f"position {exc.pos} outside the text (length {len(text)})")
    if exc.text is not None and exc.text != text:
        out.append("the caret is drawn under some other text than the cell")
    if exc.pos is not None and exc.text is not None and "^" not in str(exc).rsplit("\n", 1)[-1]:
        out.append("no caret line")
    if len(re.findall(r"[a-zA-Z]{2,}", msg)) < 2:
        out.append(f"not a message in words: {msg!r}")
    words = set(re.findall(r"\$?\b[A-Z][A-Z_0-9]{2,}\b", msg)) - set(re.findall(r"[A-Za-z_0-9]+", text))
    leaked = sorted(words & _LARK)
    if leaked:
        out.append(f"Lark token names {leaked}")
    for pattern, what in _NOISE:
        m = pattern.search(msg)
        if m and m.group(0) not in text:
            out.append(f"{what} ({m.group(0)!r})")
    if "\\\\" in msg and "\\\\" not in text:
        out.append("a doubled backslash (a Python repr of the user's text)")
    return out


_LARK = _lark_names()


def judge(text: str) -> tuple[str, object]:
    """("ok", derivation) or ("error", DerivError); fails the test for anything else."""
    try:
        with time_limit(5 * SECONDS), limits.measure() as work:   # the time limit only catches a hang
            d = derive(text)
            d.text, d.latex   # rendering is part of answering
        outcome = ("ok", d)
    except DerivError as exc:
        outcome = ("error", exc)
    except Hang:
        pytest.fail(f"derive() hangs on:\n{text!r}")
    except Exception as exc:  # noqa: BLE001 - exactly what must not happen
        pytest.fail(f"derive() crashed with {type(exc).__name__}: {str(exc)[:300]}\non:\n{text!r}")
    if outcome[0] == "ok":   # bounded work, counted (not seconds: the verdict must not depend on the machine)
        assert sum(work) <= 2 * limits.LIMITS["work"], f"derive() did {sum(work):,} units of work on:\n{text!r}"
    if outcome[0] == "error":
        exc = outcome[1]
        problems = message_problems(exc, text)
        where = f"bad error for {text!r}:\n{exc}\n-> " + "; ".join(problems)
        # one assertion per kind of problem, so that Hypothesis reports each kind separately
        assert not [p for p in problems if "position" in p or "caret" in p], where
        assert not [p for p in problems if "Lark" in p or "token" in p], where
        assert not [p for p in problems if "repr" in p or "backslash" in p or "address" in p], where
        assert not problems, where
    return outcome


# ---------------------------------------------------------------- mutations
UNKNOWN = [r"\foo", r"\mathfrak{X}", r"\begin{pmatrix}", r"\end{aligned}", r"\\", "&", r"\hat", r"\operatorname{foo}(",
           r"\frac", r"\sum_{i=1}^n", r"\int", r"\partial", r"\nabla", r"\in", r"\mathbb{R}^{", "=", ":=", "^T",
           "^{-1}", "_", "^", "'", '"', "\x00", "\u200b", "∇", "‖", "⊙", "🙂", "%", "#", "$", "~", r"\$", r"\left(",
           r"\right)", r"\|", "|", r"\cdot", r"\quad", "where", r"\text{for all}", r"\mathbf{1}", r"\sqrt", r"\det",
           r"\operatorname{softmax}", r"\log", ",", ";", "\n", r"\sigma", r"\Sigma", "D", "I", "e", "T", "0", "1.5"]
EXPONENTS = ["^{99999}", "^{-99999}", "^{1/0}", "^{0}", "^{0/0}", "^{99999999999999999999999999}", "^{2^{2^{2}}}",
             "^{1.5}", "^{-1/2}", "^{\\frac{99999}{1}}", "^{99999/1}", "^{-0}", "^{T^{-1}}", "^{1/99999}"]
OPEN_CLOSE = [("(", ")"), ("{", "}"), ("[", "]"), (r"\left(", r"\right)"), (r"\|", r"\|"), ("|", "|"),
              (r"\exp(", ")"), (r"\sqrt{", "}"), (r"\operatorname{tr}(", ")"), (r"\frac{", "}{2}")]


@st.composite
def mutated(draw):
    seed_id, text = draw(st.sampled_from(SEEDS))
    ops = draw(st.lists(st.sampled_from(["delete", "duplicate", "swap", "drop_bracket", "insert", "exponent",
                                         "nest", "replace", "repeat"]), min_size=1, max_size=4))
    for op in ops:
        n = len(text)
        i = draw(st.integers(0, n))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
        elif op == "duplicate":
            j = min(n, i + draw(st.integers(1, 20)))
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap" and n >= 2:
            i = min(i, n - 2)
            text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        elif op == "drop_bracket":
            spots = [m.start() for m in re.finditer(r"[{}()\[\]|]|\\left|\\right", text)]
            if spots:
                k = draw(st.sampled_from(spots))
                width = 5 if text.startswith("\\left", k) else 6 if text.startswith("\\right", k) else 1
                text = text[:k] + text[k + width:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(UNKNOWN)) + text[i:]
        elif op == "exponent":
            text = text[:i] + draw(st.sampled_from(EXPONENTS)) + text[i:]
        elif op == "nest":
            j = min(n, i + draw(st.integers(0, 30)))
            o, c = draw(st.sampled_from(OPEN_CLOSE))
            k = draw(st.sampled_from([1, 2, 5, 50, 199, 201, 500]))
            balanced = draw(st.booleans())
            text = text[:i] + o * k + text[i:j] + (c * k if balanced else c * (k // 2)) + text[j:]
        elif op == "replace" and n:
            i = min(i, n - 1)
            text = text[:i] + draw(st.characters(codec="utf-8")) + text[i + 1:]
        elif op == "repeat":
            text = text + draw(st.sampled_from(["\n", " ", " + ", r" \odot ", "\n\\nabla_x "])) + text
    return seed_id, ops, text


@settings(max_examples=300, derandomize=True, database=None, **COMMON)
@given(case=mutated())
def test_mutated_cells_answer_or_raise_a_clear_error(case, fuzz_stats):
    seed_id, ops, text = case
    note(f"seed {seed_id}, edits {ops}")
    kind, _ = judge(text)
    fuzz_stats[f"mutation: {kind}"] = fuzz_stats.get(f"mutation: {kind}", 0) + 1
    fuzz_stats["mutations"] = fuzz_stats.get("mutations", 0) + 1


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, **COMMON)
@given(case=mutated())
def test_fuzz_mutated_cells(case, fuzz_stats):
    seed_id, ops, text = case
    note(f"seed {seed_id}, edits {ops}")
    kind, _ = judge(text)
    fuzz_stats[f"fuzz mutation: {kind}"] = fuzz_stats.get(f"fuzz mutation: {kind}", 0) + 1
    fuzz_stats["fuzz/mutations"] = fuzz_stats.get("fuzz/mutations", 0) + 1


# ---------------------------------------------------------------- the seeds themselves
@pytest.mark.parametrize("key", sorted(NOTES) or ["none"], ids=lambda k: f"notes_{k}")
def test_every_note_formula_answers_or_raises_a_clear_error(key):
    """Every display or inline formula of the notes, as pasted: an answer or a clear error."""
    if key == "none":
        pytest.skip("tests/data/notes not found")
    failures = []
    for formula in NOTES[key]:
        try:
            judge(formula)
        except (AssertionError, pytest.fail.Exception) as exc:   # collect them all
            lines = str(exc).split("\n")
            why = next((ln.strip() for ln in lines if ln.strip().startswith("->")), lines[0])
            failures.append(f"{formula[:120]!r}\n    {why[:200]}")
    assert not failures, f"{len(failures)} of {len(NOTES[key])} formulas:\n" + "\n".join(failures)


HOSTILE = {
    "empty": "",
    "blank": "   \n\t ",
    "only_operator": r"\nabla_x",
    "only_equals": "=",
    "nul_bytes": "\x00\x00\x00",
    "python_payload": "__import__('os').system('echo pwned')",
    "python_in_operatorname": r"\nabla_x \operatorname{__import__}(x)",
    "lambda": "lambda: 1",
    "unclosed_brace": r"\nabla_x \frac{x^T x",
    "unopened_brace": r"\nabla_x x^T x}",
    "lone_right": r"\nabla_x \right)",
    "bars_only": "||||||||",
    "norm_bars_unbalanced": r"\nabla_x \|x\|\|",
    "dollar_math": r"$\nabla_x x^T x$",
    "double_dollar": r"$$\nabla_x x^T x$$",
    "unicode_nabla": "∇_x x^T x",
    "zero_width": "\\nabla_x x^T\u200b x",
    "right_to_left": "\\nabla_x \u202ex^T x",
    "emoji": r"\nabla_🙂 🙂",
    "percent_comment": r"\nabla_x x^T x % comment",
    "huge_exponent": r"\nabla_x x^{99999}",
    "huge_negative_exponent": r"\nabla_x \|x\|^{-99999}",
    "exponent_zero_over_zero": r"\nabla_x x^{0/0}",
    "exponent_one_over_zero": r"\nabla_x x^{1/0}",
    "matrix_huge_power": r"\nabla_X \operatorname{tr}(X^{99999})",
    "number_huge_power": r"\nabla_x 2^{99999} x^T x",
    "number_ten_thousand_digits": "\\nabla_x " + "9" * 10_000 + " x^T x",
    "number_float_digits": r"\nabla_x 0.000000000000000000000000000000000000001 x^T x",
    "deep_parens_500": r"\nabla_x " + "(" * 500 + "x^T x" + ")" * 500,
    "deep_braces_500": r"\nabla_x " + "{" * 500 + "x^T x" + "}" * 500,
    "deep_norms_100": r"\nabla_x " + r"\|" * 100 + "x" + r"\|" * 100,
    "deep_bars_300": r"\nabla_x " + "|" * 300 + "x" + "|" * 300,
    "deep_exp_bare_300": r"\nabla_x " + r"\exp " * 300 + "x",
    "deep_sqrt_150": r"\nabla_x " + r"\sqrt{" * 150 + "x^T x" + "}" * 150,
    "deep_frac_100": r"\nabla_x " + r"\frac{1}{" * 100 + "x^T x" + "}" * 100,
    "long_sum_2000": r"\nabla_x " + " + ".join(["x^T x"] * 2000),
    "long_product_2000": r"\nabla_x x^T " + "A " * 2000 + "x",
    "many_statements": "\n".join([rf"a_{{{i}}} \in \mathbb{{R}}^n" for i in range(500)]) + "\n\\nabla_x x^T x",
    "many_targets": "\n".join([r"\nabla_x x^T x"] * 50),
    "many_transposes": r"\nabla_x " + "x" + "^T" * 100 + " x",
    "cell_30000_chars": r"\nabla_x x^T x " + " " * 30_000,
    "self_definition": "f = f + x\n\\nabla_x f",
    "mutual_definition": "f = g + x\ng = f\n\\nabla_x f",
    "definition_arity": "f(x, y) = x^T y\n\\nabla_x f(x)",
    "undefined_function": r"\nabla_x g(x)",
    "direction_wrong_shape": r"D f(X)[v] \quad f(X) = X^T X \quad v \in \mathbb{R}^3 \quad X \in \mathbb{R}^{2 \times 2}",
    "bad_space": r"x \in \mathbb{Q}^n \quad \nabla_x x^T x",
    "declared_twice": r"x \in \mathbb{R}^3 \quad x \in \mathbb{R}^4 \quad \nabla_x x^T x",
    "declared_zero": r"x \in \mathbb{R}^0 \quad \nabla_x x^T x",
    "nabla_third": r"\nabla^3_x x^T x",
    "partial_order_zero": r"\frac{\partial^0 f}{\partial x^0}",
    "log_of_negative_constant": r"\nabla_x \log(-1) x^T x",
    "log_of_zero": r"\nabla_x \log(0) + x^T x",
    "division_by_zero": r"\nabla_x \frac{x^T x}{0}",
    "inverse_of_zero": r"\nabla_x 0^{-1} x^T x",
    "inverse_of_vector": r"\nabla_x x^{-1}",
    "trace_of_vector": r"\nabla_x \operatorname{tr}(x)",
    "det_of_nonsquare": r"\nabla_X \det(X) \quad X \in \mathbb{R}^{2 \times 3}",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_cells_answer_or_raise_a_clear_error(text):
    judge(text)


def test_the_message_checker_can_fail():
    """The checks above are not vacuous: a Lark-ish message is rejected."""
    bad = DerivError("Unexpected token Token('RBRACE', '}') at 0x7f00", text="x}", pos=1)
    assert message_problems(bad, "x}")
    assert message_problems(DerivError("no position"), "x")
    assert not message_problems(DerivError("unexpected '}' here: nothing to close", text="x}", pos=1), "x}")
