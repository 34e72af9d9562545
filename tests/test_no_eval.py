"""No code execution from text: derivmagic reads LaTeX with its own grammar and builds
expressions itself; it never hands text (or anything) to eval, exec, compile, sympify,
parse_expr, S(...), parse_latex or lambdify.

1. a static scan (ast) of every module of the package;
2. the scanner itself is tested on snippets, so the scan can fail;
3. a dynamic check: corpus cells derived and rendered with eval/exec/compile and
   sympy.sympify on strings made to raise;
4. Python payloads in cells are refused with a DerivError and have no effect.
"""
from __future__ import annotations

import ast
import builtins
import os
import pathlib

import pytest

import derivmagic
from derivmagic import DerivError, derive

PACKAGE = pathlib.Path(derivmagic.__file__).parent

FORBIDDEN_CALLS = {
    "eval": "eval runs text as Python",
    "exec": "exec runs text as Python",
    "compile": "compile turns text into code",
    "__import__": "__import__ imports by name",
    "sympify": "sympify parses strings with eval",
    "parse_expr": "parse_expr parses strings with eval",
    "S": "S(...) is sympify",
    "parse_latex": "SymPy's LaTeX parser builds code from text",
    "lambdify": "lambdify execs generated source that contains the cell's names",
}
FORBIDDEN_MODULES = ("sympy.parsing",)
# names that are also ordinary methods elsewhere (re.compile, node.eval): forbidden as attributes
# only on the builtins module
BUILTIN_ONLY = {"eval", "exec", "compile", "__import__"}


def scan_source(source: str, filename: str = "<string>") -> list[str]:
    """Every forbidden call or import in a module, as 'file:line: what (why)'."""
    found = []
    tree = ast.parse(source, filename=filename)
    aliases: dict[str, str] = {}   # local name -> forbidden original (from x import sympify as sy)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith(FORBIDDEN_MODULES):
                found.append(f"{filename}:{node.lineno}: imports {module}")
            for a in node.names:
                if a.name in FORBIDDEN_CALLS:
                    aliases[a.asname or a.name] = a.name
                    found.append(f"{filename}:{node.lineno}: imports {a.name} ({FORBIDDEN_CALLS[a.name]})")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(FORBIDDEN_MODULES):
                    found.append(f"{filename}:{node.lineno}: imports {a.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
        if name is None:
            continue
        if isinstance(f, ast.Attribute) and name in BUILTIN_ONLY and not (
                isinstance(f.value, ast.Name) and f.value.id in ("builtins", "__builtins__")):
            continue
        name = aliases.get(name, name)
        if name in FORBIDDEN_CALLS:
            found.append(f"{filename}:{node.lineno}: calls {name} ({FORBIDDEN_CALLS[name]})")
        elif name in ("getattr",) and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                and node.args[0].id in ("builtins", "__builtins__"):
            found.append(f"{filename}:{node.lineno}: looks up a builtin by name")
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_module_never_executes_text(path):
    found = scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    assert not found, "code execution from text:\n" + "\n".join(found)


def test_the_scan_covers_the_package():
    names = {p.name for p in MODULES}
    assert {"parse.py", "shapes.py", "derivation.py", "check.py", "tosympy.py"} <= names


SNIPPETS = {
    "eval": "eval(text)",
    "exec": "exec(code, {})",
    "compile": "c = compile(src, 'cell', 'exec')",
    "dunder_import": "__import__('os')",
    "sympify": "import sympy\nsympy.sympify(cell)",
    "sympify_imported": "from sympy import sympify\nsympify(cell)",
    "sympify_alias": "from sympy import sympify as sy\nsy(cell)",
    "parse_expr": "from sympy.parsing.sympy_parser import parse_expr\nparse_expr(cell)",
    "S_call": "from sympy import S\nS(cell)",
    "S_attribute_call": "import sympy as sp\nsp.S('x')",
    "parse_latex": "from sympy.parsing.latex import parse_latex\nparse_latex(cell)",
    "lambdify": "import sympy\nf = sympy.lambdify(x, e)",
    "builtins_lookup": "import builtins\ngetattr(builtins, name)(text)",
    "builtins_eval": "import builtins\nbuiltins.eval(text)",
}


@pytest.mark.parametrize("source", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_the_scan_finds_code_execution(source):
    assert scan_source(source), "the scanner missed a forbidden call"


CLEAN = {
    "S_attribute": "import sympy\nz = sympy.S.Zero",
    "re_compile": "import re\nP = re.compile(r'x')",
    "evaluate_method": "node.evaluate(vals)",
}


@pytest.mark.parametrize("source", CLEAN.values(), ids=CLEAN.keys())
def test_the_scan_allows_harmless_lookalikes(source):
    assert not scan_source(source)


# ---------------------------------------------------------------- dynamic: nothing is executed
CELLS = {
    "least_squares": r"\nabla_x \|Ax-b\|_2^2",
    "quadratic": r"\nabla_x x^T A x",
    "logdet": r"\nabla_X \log \det(X) \quad X \in \mathbb{S}^n_{++}",
    "softmax": r"\frac{\partial}{\partial z} \operatorname{softmax}(z)",
    "sigmoid": r"\nabla_W \|\sigma(Wx) - y\|^2",
    "hessian": r"\nabla^2_x \log(\mathbf{1}^T \exp(x))",
    "directional": r"D f(X)[V] \quad f(X) = X^{-1}",
    "claim": r"\nabla_x x^T A x = (A + A^T) x",
}


@pytest.mark.parametrize("cell", CELLS.values(), ids=CELLS.keys())
def test_deriving_runs_no_eval_exec_or_sympify_on_text(cell):
    """eval/exec/compile and sympify-on-a-string are replaced by spies for the time of one
    derivation (imports, which compile module files, are let through)."""
    import sys

    import sympy
    core_sympify = sys.modules["sympy.core.sympify"]
    calls = []
    real = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}
    real_sympify = core_sympify.sympify

    def spy(name):
        def f(*args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if not caller.startswith("<frozen importlib"):
                calls.append(f"{name} from {caller}")
            return real[name](*args, **kwargs)
        return f

    def sympify_spy(a, *args, **kwargs):
        if isinstance(a, str):
            calls.append(f"sympify({a!r}) from {sys._getframe(1).f_code.co_filename}")
        return real_sympify(a, *args, **kwargs)

    warm = derive(r"\nabla_x x^T x")   # imports and the parser are built before the spies
    warm.result, warm.latex, warm.text
    for name in real:
        setattr(builtins, name, spy(name))
    sympy.sympify = core_sympify.sympify = sympify_spy
    try:
        d = derive(cell)
        d.result, d.symbols, d.latex, d.text
    finally:
        for name, f in real.items():
            setattr(builtins, name, f)
        sympy.sympify = core_sympify.sympify = real_sympify
    assert not calls, "code execution while deriving:\n" + "\n".join(calls)


PAYLOADS = {
    "dunder_import": "__import__('os').system('touch {marker}')",
    "operatorname_import": r"\nabla_x \operatorname{{__import__}}(x) + open('{marker}', 'w')",
    "exec_call": "exec(\"open('{marker}', 'w')\")",
    "eval_in_text": r"\nabla_x \text{{eval}}(\text{{open('{marker}','w')}})",
    "lambda": "(lambda: open('{marker}', 'w'))()",
    "sympy_style": "Symbol('x')**2 + open('{marker}','w')",
    "format_string": "{{0.__class__.__mro__}}",
    "in_a_definition": "f(x) = __import__('os').system('touch {marker}')\n\\nabla_x f",
    "in_a_declaration": "x \\in __import__('os').system('touch {marker}')\n\\nabla_x x^T x",
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_python_payloads_are_refused_and_harmless(tmp_path, payload):
    marker = tmp_path / "pwned"
    cell = payload.format(marker=marker)
    with pytest.raises(DerivError):
        derive(cell)
    assert not os.path.exists(marker), "a cell executed code"
