"""Derivatives evaluated at a point: ``\\left.\\frac{\\partial y}{\\partial x}\\right|_{x = x_0}``.

At a named point x₀ the derivative by x taken at x₀ is the derivative by x₀ of the same line with x
renamed x₀ (definitions and declarations included), which is how it is read: the claim ``= 2x_0`` is
then judged like any other. At a number (``x = 1``) the derivative is worked out at a general point
and a claim without x is not judged, since its value would be compared with a formula in x.
"""
from __future__ import annotations

import re

from .syntax import Declaration, Definition, Node, Remark, Target

_BAR = re.compile(r"\\(?:right|[bB]igg?r?)\s*\|\s*_\s*(?:\{(?P<braced>(?:[^{}]|\{[^{}]*\})*)\}|(?P<single>\\?[A-Za-z0-9]))")
_SYMBOL = re.compile(r"\s*(?:\\(?:mathbf|boldsymbol|bm)\s*\{?\s*)?([A-Za-z])\s*\}?\s*(?:_\s*\{?\s*([A-Za-z0-9]+)\s*\}?)?\s*$")


def _symbol(text: str) -> str | None:
    """``x_0``, ``\\mathbf{x}_0``, ``a``: the name as the reader spells it (``x_0``); else None."""
    m = _SYMBOL.match(text)
    if m is None:
        return None
    return m.group(1) + (f"_{m.group(2)}" if m.group(2) else "")


def evaluate_at_points(cell: str, statements: list) -> list:
    """The statements with each evaluation bar of the cell applied (see the module's docstring)."""
    bars = [m for m in _BAR.finditer(cell)]
    targets = [s for s in statements if isinstance(s, Target)]
    if not bars or len(targets) != 1 or len(bars) != 1:
        return statements
    written = (bars[0].group("braced") or bars[0].group("single")).strip()
    variable, _, point = written.rpartition("=")
    target = targets[0]
    var = _symbol(variable) if variable else (target.variables[0].value if len(target.variables) == 1 else None)
    at = _symbol(point)
    shown = f"{var} = {point.strip()}" if var else point.strip()
    if var is None or any(v.value != var for v in target.variables):
        return statements + [Remark(f"evaluated at {shown}: read at a general point")]
    if at is None:   # a claim in x is the general formula, judged as such; one without x is not judged
        general = [c for c in target.claims if _mentions(c, var)]
        note = f"evaluated at {shown}: read at a general point"
        if len(general) < len(target.claims):
            note += f" (a claimed value at {shown} is not judged; at a named point such as {var}_0 it is)"
        target.claims = general
        return statements + [Remark(note)]
    out = []
    for s in statements:
        if isinstance(s, Target):
            s.body = _renamed(s.body, var, at)
            s.variables = [_renamed(v, var, at) for v in s.variables]
            s.direction = _renamed(s.direction, var, at)
        elif isinstance(s, Definition) and var not in s.params:
            s.body = _renamed(s.body, var, at)
        elif isinstance(s, Declaration):
            s.names = [_renamed(n, var, at) for n in s.names]
        out.append(s)
    return out + [Remark(f"evaluated at {shown}: the derivative by {var} taken at {at}")]


def _renamed(node, old: str, new: str):
    if not isinstance(node, Node):
        return node
    if node.kind == "name" and node.value == old:
        return Node("name", (), node.pos, node.end, new, node.grouped)
    if not node.args:
        return node
    return Node(node.kind, tuple(_renamed(a, old, new) for a in node.args), node.pos, node.end, node.value,
                node.grouped)


def _mentions(node, name: str) -> bool:
    if isinstance(node, Target):
        return True   # a claimed derivative: in the same variables
    if not isinstance(node, Node):
        return False
    return (node.kind == "name" and node.value == name) or any(_mentions(a, name) for a in node.args)


def jacobian_notation(statements: list) -> list:
    """``J_h(x)``, as derivmagic itself prints it: the Jacobian of h at x, when the cell applies h
    (``h(x)``) and does not define J_h; otherwise J_h is a function of its own."""
    from .components import _roots
    from .syntax import walk
    applied = {n.args[0].value for r in _roots(statements) for n in walk(r)
               if n.kind == "call" and n.args[0].kind == "name"}
    defined = {s.name for s in statements if isinstance(s, Definition)}
    declared = {n.value for s in statements if isinstance(s, Declaration) for n in s.names}
    wanted = {f"J_{h}" for h in applied} - defined - declared

    def rewrite(node):
        if not isinstance(node, Node) or not node.args:
            return node
        args = tuple(rewrite(a) for a in node.args)
        if node.kind == "call" and len(args) == 2 and args[0].kind == "name" and args[0].value in wanted:
            h = Node("name", (), args[0].pos, args[0].end, args[0].value[2:])
            call = Node("call", (h, args[1]), node.pos, node.end)
            return Node("derivative", (call, args[1]), node.pos, node.end, "jmatrix", node.grouped)
        return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)

    if not wanted or not any(n.kind == "call" and n.args[0].kind == "name" and n.args[0].value in wanted
                             for r in _roots(statements) for n in walk(r)):
        return statements
    for s in statements:
        if isinstance(s, Target):
            s.body, s.direction = rewrite(s.body), rewrite(s.direction)
            s.claims = [rewrite(c) if isinstance(c, Node) else _rewrite_target(c, rewrite) for c in s.claims]
        elif isinstance(s, Definition):
            s.body = rewrite(s.body)
    return statements + [Remark("read J_h(x) as the Jacobian of h at x (m×n, the numerator layout)")]


def _rewrite_target(t: Target, rewrite) -> Target:
    t.body, t.direction = rewrite(t.body), rewrite(t.direction)
    t.claims = [rewrite(c) if isinstance(c, Node) else _rewrite_target(c, rewrite) for c in t.claims]
    return t
