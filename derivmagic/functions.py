"""Which letters of a cell are arbitrary functions, before shapes are read.

``f(x)``, ``g(h(x))``, ``u(x)``, ``f_i(x)`` with no definition of the letter, or a letter declared
``f: \\mathbb{R}^n \\to \\mathbb{R}^m``, is an arbitrary differentiable function; so is a bare
``f`` under a derivative operator (``\\frac{\\partial f}{\\partial x}``: f of the variable).
``\\alpha(t+1)`` stays a product: a letter before a bracket is a function when its argument is a
single symbol or another application, when the letter names outputs in textbooks (f, g, h, u, v,
L, J, …), or when it is declared as one; never when it is declared as a symbol, defined, or used
as a plain symbol elsewhere in the cell.
"""
from __future__ import annotations

from .syntax import Definition, FunctionDeclaration, Node, Target, walk

OUTPUT_LETTERS = {"f", "g", "h", "F", "G", "H", "J", "L", "R", "E", "ell", "y", "z", "u", "v", "phi", "psi", "varphi"}



def _roots(statements) -> list[Node]:
    out = []
    for s in statements:
        if isinstance(s, Target):
            out += [*s.variables, s.body, *([s.direction] if s.direction is not None else [])]
            for c in s.claims:
                out += [*c.variables, c.body] if isinstance(c, Target) else [c]
        elif isinstance(s, Definition):
            out.append(s.body)
    return [r for r in out if isinstance(r, Node)]


def _letter(name: str) -> str:
    return name.split("_")[0]


def abstract_functions(statements, declared: dict, implicit=()) -> dict[str, FunctionDeclaration | None]:
    """The arbitrary functions of a cell: name -> its declaration (or None, shapes from use)."""
    defs = {s.name for s in statements if isinstance(s, Definition)}
    fdecls = {s.name: s for s in statements if isinstance(s, FunctionDeclaration)}
    calls = [n for root in _roots(statements) for n in walk(root)
             if n.kind == "call" and n.args[0].kind == "name" and n.args[0].value not in defs | set(declared)]
    heads: set[str] = set()
    while True:   # g(h(x)) is an application when h(x) is one
        before = len(heads)
        for n in calls:
            head, args = n.args[0].value, n.args[1:]
            inner = args[0] if len(args) == 1 else None
            if head in fdecls or (inner is not None and (
                    inner.kind == "name" or _letter(head) in OUTPUT_LETTERS
                    or (inner.kind == "call" and inner.args[0].kind == "name" and inner.args[0].value in heads))):
                heads.add(head)
        if len(heads) == before:
            break
    # a letter used both as f(x) and as a plain symbol elsewhere is no function: its calls are products
    plain_uses = _plain_uses(statements)
    out = {h: fdecls.get(h) for h in heads if h not in plain_uses or h in fdecls or h in implicit}
    for name, decl in fdecls.items():
        out.setdefault(name, decl)
    return out


def _plain_uses(statements) -> set[str]:
    used = set()

    def walk(n: Node):
        if n.kind == "call" and n.args[0].kind == "name":
            for a in n.args[1:]:
                walk(a)
            return
        if n.kind == "derivative":   # ∂z/∂y: y names a variable of differentiation here
            if n.args[0] is not None:
                walk(n.args[0])
            return
        if n.kind == "name":
            used.add(n.value)
        for a in n.args:
            if isinstance(a, Node):
                walk(a)
    for root in _roots(statements):
        walk(root)
    for s in statements:
        if isinstance(s, Target):
            for v in s.variables:
                used.add(v.value)
    return used


def apply_bare_functions(statements, declared: dict, functions: dict) -> None:
    """``\\frac{\\partial f}{\\partial x}`` with f undefined: f is a function of the variable, f(x)."""
    defs = {s.name for s in statements if isinstance(s, Definition)}
    plain = _plain_uses([s for s in statements if not isinstance(s, Target)])

    def bare(body, variables):
        if body is None or body.kind != "name" or len(variables) != 1:
            return None
        name = body.value
        if name in defs or name in declared or name in plain or name == variables[0].value:
            return None
        if name in functions or _letter(name) in OUTPUT_LETTERS:
            head = Node("name", (), body.pos, body.end, name)
            return Node("call", (head, variables[0]), body.pos, body.end)
        return None

    for s in statements:
        if not isinstance(s, Target):
            continue
        applied = bare(s.body, s.variables)
        if applied is not None:
            s.body = applied
            functions.setdefault(s.body.args[0].value, None)
        for c in s.claims:
            if isinstance(c, Target):
                applied = bare(c.body, c.variables)
                if applied is not None:
                    c.body = applied
                    functions.setdefault(applied.args[0].value, None)


def codomain_kinds(name: str) -> list[str]:
    """The kinds an undeclared function's value may take, the usual one first: f, g, h, u, v map
    to vectors, L, J, E, R (losses, energies) and Greek letters to scalars."""
    base = _letter(name)
    return ["vector", "scalar"] if base[:1].islower() and base.isascii() and len(base) == 1 else ["scalar", "vector"]


def function_note(name: str, domain: str, codomain: str, declared: bool) -> str:
    from .tex import GREEK_UNICODE
    what = "declared" if declared else "an arbitrary differentiable function"
    base, _, sub = name.partition("_")
    shown = GREEK_UNICODE.get(base, base) + (f"_{sub}" if sub else "")
    return f"{shown}: {domain} → {codomain}, {what}"


__all__ = ["abstract_functions", "apply_bare_functions", "codomain_kinds", "function_note"]


# ---------------------------------------------------------------- functions named by their derivatives
def _derivatives(node: Node):
    for n in walk(node):
        if n.kind == "derivative":
            yield n


def implicit_functions(statements, declared: dict) -> dict[str, str]:
    """``\\frac{\\partial u}{\\partial x}`` with u undefined makes u a function of x throughout the
    cell (``\\nabla_x u^T v = (\\frac{\\partial u}{\\partial x})^T v + …``); ``\\frac{\\partial z}{\\partial y}``
    and ``\\frac{\\partial y}{\\partial x}`` make z a function of y, itself a function of x.
    Returns each such letter with the letter it is a function of."""
    defs = {s.name for s in statements if isinstance(s, Definition)}
    deps: dict[str, list[str]] = {}

    def note(body, var):
        if body is not None and body.kind == "entry" and body.args[0].kind == "name":
            body = body.args[0]   # ∂z_1/∂x_1: z is a function of x
        if body is not None and body.kind == "name" and var.kind == "name" and body.value != var.value \
                and body.value not in defs and body.value not in declared:
            deps.setdefault(body.value, []).append(var.value)

    for s in statements:
        if isinstance(s, Target):
            roots = [s.body] + [c.body if isinstance(c, Target) else c for c in s.claims]
            for c in [s] + [c for c in s.claims if isinstance(c, Target)]:
                if c.kind == "jacobian" and c.numerator_body and len(c.variables) == 1 and c.body.kind == "name":
                    note(c.body, c.variables[0])
            for root in roots:
                for d in _derivatives(root):
                    note(d.args[0], d.args[1])
    out = {}
    for u, vs in deps.items():
        inner = [v for v in vs if v in deps or v in defs]   # z of y when y is a function or y = h(x)
        out[u] = inner[0] if inner else vs[0]
    for u in list(out):                                  # no cycles: u of v of … of u
        seen, v = {u}, out[u]
        while v in out:
            if v in seen:
                del out[u]
                break
            seen.add(v)
            v = out[v]
    return out


def apply_implicit_functions(statements, implicit: dict[str, str]) -> None:
    """Write each such letter as the application it stands for: u → u(x), z → z(y(x)); inside
    ``\\frac{\\partial z}{\\partial y}`` z is z(y), y then standing for y(x) in the result."""
    if not implicit:
        return

    def expand(name: str, at: Node) -> Node:
        arg = implicit[name]
        inner = expand(arg, at) if arg in implicit else Node("name", (), at.pos, at.end, arg)
        return Node("call", (Node("name", (), at.pos, at.end, name), inner), at.pos, at.end)

    def rewrite(n: Node) -> Node:
        if not isinstance(n, Node):
            return n
        if n.kind == "name" and n.value in implicit:
            return expand(n.value, n)
        if n.kind == "derivative":
            body, var, *direction = n.args
            direction = [rewrite(a) for a in direction]
            if body is not None and body.kind == "entry" and body.args[0].kind == "name" \
                    and body.args[0].value in implicit and var is not None and var.kind == "name" \
                    and implicit[body.args[0].value] == var.value:   # ∂z_i/∂y_k: z(y), y a variable here
                head = body.args[0]
                call = Node("call", (head, var), head.pos, head.end)
                body = Node("entry", (call,), body.pos, body.end, body.value, body.grouped)
            elif body is not None and body.kind == "name" and body.value in implicit:
                if implicit[body.value] == var.value:
                    head = Node("name", (), body.pos, body.end, body.value)
                    body = Node("call", (head, var), body.pos, body.end)
                else:
                    body = expand(body.value, body)
            else:
                body = rewrite(body)
            return Node("derivative", (body, var, *direction), n.pos, n.end, n.value, n.grouped)
        if n.kind == "call":
            return Node("call", (n.args[0], *[rewrite(a) for a in n.args[1:]]), n.pos, n.end, n.value, n.grouped)
        args = tuple(rewrite(a) if isinstance(a, Node) else a for a in n.args)
        return Node(n.kind, args, n.pos, n.end, n.value, n.grouped)

    def target_body(t: Target):
        v = t.variables[0] if len(t.variables) == 1 else None
        if v is not None and t.body.kind == "name" and t.body.value in implicit:
            if implicit[t.body.value] == v.value:
                head = Node("name", (), t.body.pos, t.body.end, t.body.value)
                return Node("call", (head, v), t.body.pos, t.body.end)
            return expand(t.body.value, t.body)
        return rewrite(t.body)

    for s in statements:
        if isinstance(s, Target):
            s.body = target_body(s)
            s.claims = [c if not isinstance(c, Node) else rewrite(c) for c in s.claims]
            for c in s.claims:
                if isinstance(c, Target):
                    c.body = target_body(c)
        elif isinstance(s, Definition):
            s.body = rewrite(s.body)
