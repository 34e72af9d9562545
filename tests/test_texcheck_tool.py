"""Tests of the KaTeX + MathJax validation tool itself (tests/texcheck.py, tests/js/)."""

import pytest

from texcheck import node_available, validate

pytestmark = pytest.mark.skipif(
    not node_available(),
    reason="node or tests/js/node_modules missing (run `npm ci` in tests/js)",
)

GOOD = {
    "aligned": r"\begin{aligned} f &= x^T A x \\ \nabla_x f &= (A + A^T)x \end{aligned}",
    "operatorname": r"\operatorname{tr}(A^\top B)",
    "boldsymbol": r"\boldsymbol{x}",
    "underbrace": r"\underbrace{x}_{1 \times n}",
    "mathbb": r"X \in \mathbb{R}^{m \times n}",
    "boxed": r"\boxed{x}",
    "text": r"\text{chain rule}",
    "odot": r"a \odot b",
    "top": r"A^\top",
    "checkmark": r"\checkmark",
    "color": r"\color{red}{x}",
    "quad": r"a \quad b",
    "frac": r"\frac{\partial f}{\partial X}",
    "left_right": r"\left( \frac{1}{2} \right)",
}

# id -> (latex, katex_ok, mathjax_ok); pinned against katex 0.19.1 and mathjax-full 3.2.2.
CASES = {
    **{name: (tex, True, True) for name, tex in GOOD.items()},
    "undefined_macro": (r"\foo{x}", False, False),
    "unbalanced_open": (r"\frac{1}{", False, False),
    "unbalanced_close": (r"x}", False, False),
    "missing_right": (r"\left( x", False, False),
    "bare_tr": (r"\tr A", False, False),
    "align_env": (r"\begin{align} a &= b \\ c &= d \end{align}", True, True),
    "bm": (r"\bm{x}", True, False),
    "declare_math_operator": (r"\DeclareMathOperator{\Tr}{Tr} \Tr A", False, True),
    "comment_at_end": (r"x % note", False, True),
}


@pytest.fixture(scope="module")
def results():
    names = list(CASES)
    return dict(zip(names, validate([CASES[n][0] for n in names])))


@pytest.mark.parametrize("name", list(CASES))
def test_engine_verdicts(results, name):
    _, katex_ok, mathjax_ok = CASES[name]
    res = results[name]
    assert (res["katex"] is None, res["mathjax"] is None) == (katex_ok, mathjax_ok), res
    assert res["ok"] is (katex_ok and mathjax_ok)
    for engine in ("katex", "mathjax"):
        assert res[engine] is None or (isinstance(res[engine], str) and res[engine])


def test_undefined_macro_messages_name_the_macro(results):
    res = results["undefined_macro"]
    assert r"\foo" in res["katex"]
    assert r"\foo" in res["mathjax"]


def test_empty_batch():
    assert validate([]) == []


def test_tool_failure_raises():
    with pytest.raises(RuntimeError, match="validate_tex.js exited"):
        validate([1])
