"""Components: ``x_2`` as the second entry of the vector ``x`` when the cell also uses ``x`` itself
(``\\|\\mathbf{y} - \\mathbf{z}\\|`` beside ``y_1 - z_1``), and derivatives by an entry
(``\\frac{\\partial f}{\\partial x_1}``) as derivatives along a coordinate direction e₁.

Without ``x`` in the cell, ``x_1`` stays a scalar of its own (``\\frac{\\partial}{\\partial x_1}
(x_1^3 + e^{x_2} x_1)``: the same derivative either way). A cell with entries or explicit matrices is
read at concrete sizes, so that every entry exists; the Interpretation says which.
"""
from __future__ import annotations

import re

from .errors import ParseError
from .syntax import Declaration, Definition, Indexed, Node, Target, walk

_ENTRY = re.compile(r"(?P<base>[A-Za-z]+|[a-zA-Z]+_(?:hat|tilde|bar))_(?P<index>\d)(?:,?(?P<col>\d))?")
_FREE_ENTRY = re.compile(r"(?P<base>[A-Za-z])_(?P<index>[a-z]{1,2}|[a-z],[a-z])")



def _roots(statements) -> list[Node]:
    out = []
    for s in statements:
        if isinstance(s, Target):
            out += [s.body, *s.variables, s.direction]
            out += [c for c in s.claims if isinstance(c, Node)]
            out += _roots([c for c in s.claims if isinstance(c, Target)])
        elif isinstance(s, Definition):
            out.append(s.body)
    return [n for n in out if n is not None]


def plain_names(statements) -> set[str]:
    names = {n.value for r in _roots(statements) for n in walk(r) if n.kind == "name"}
    for s in statements:
        if isinstance(s, Indexed):   # z of ∂z_i/∂x_j: its entries are used (x_{ij} of X: X's)
            names |= {b for b in s.names if not (b.islower() and b.upper() in names)}
    for s in statements:
        if isinstance(s, Definition):
            names.add(s.name)
            names.update(s.params)
        elif isinstance(s, Declaration):
            names.update(n.value for n in s.names)
    return names


def has_matrices(statements) -> bool:
    """Explicit matrices, or entries at fixed positions of bracketed values ((Av)_1, softmax(z)_2):
    both are read at concrete sizes."""
    return any(n.kind == "matrix" or n.kind == "entry" and isinstance(n.value[0], int)
               for r in _roots(statements) for n in walk(r))


def has_entries(statements) -> bool:
    """Whether some name could be an entry of another name of the cell (x_2 beside x)."""
    if any(isinstance(s, Indexed) for s in statements) or any(
            n.kind == "matrix" and any(c.kind in ("dots", "empty") for r in n.args for c in r.args)
            for r in _roots(statements) for n in walk(r)):
        return True   # entries by free indices, or a pattern's y_1 … y_m
    names = plain_names(statements)
    for name in names:
        m = _ENTRY.fullmatch(name) or _FREE_ENTRY.fullmatch(name)
        if m and (m.group("base") in names or m.group("base").upper() in names):
            return True
    return False


def mark_entries(statements, notes: list[str]) -> bool:
    """Rewrite ``x_k`` as an entry of ``x`` where the cell uses ``x``; a derivative by an entry
    becomes the derivative along that coordinate. True if the cell has entries or explicit matrices."""
    names = plain_names(statements)
    defined = {s.name for s in statements if isinstance(s, Definition)}
    declared = {n.value for s in statements if isinstance(s, Declaration) for n in s.names}
    read: dict[str, str] = {}
    bare = {n.value for r in _roots(statements) for n in walk(r) if n.kind == "name"}
    units = "e" not in bare | defined | declared   # e_k with no e of the cell's own: the k-th unit vector

    def base_of(name: str, matrix: bool) -> str | None:
        """x for x_1 when the cell uses x; X for x_{12} when it uses X (entries of a matrix in lower case)."""
        if name in names:
            return name
        return name.upper() if matrix and name.islower() and name.upper() in names else None

    def entry_of(node: Node) -> Node | None:
        m = _ENTRY.fullmatch(node.value) if node.kind == "name" else None
        if m is None or node.value in defined or node.value in declared:
            return None
        if units and m.group("base") == "e" and m.group("col") is None and int(m.group("index")) >= 1:
            read[node.value] = "the unit vectors"
            return Node("unit", (), node.pos, node.end, (int(m.group("index")) - 1, 0), node.grouped)
        base_name = base_of(m.group("base"), m.group("col") is not None)
        if base_name is None:
            return None
        i, j = int(m.group("index")) - 1, int(m.group("col")) - 1 if m.group("col") else 0
        if i < 0 or j < 0:
            return None
        base = Node("name", (), node.pos, node.end, base_name)
        read[node.value] = base_name
        return Node("entry", (base,), node.pos, node.end, (i, j, m.group("col") is not None), node.grouped)

    def free_entry(node: Node) -> None:
        """∂f/∂x_{ij} with X (or x) in the cell: an entry by free indices, not a scalar of its own."""
        m = _FREE_ENTRY.fullmatch(node.value) if node.kind == "name" else None
        matrix = m is not None and len(m.group("index").replace(",", "")) == 2
        if m and node.value not in declared and node.value not in defined and base_of(m.group("base"), matrix):
            raise ParseError(f"{_shown(node.value)} is an entry of {base_of(m.group('base'), matrix)} "
                             "by free indices: derivatives entry by entry (∂f/∂x_{ij} for all i, j) are not read "
                             "yet; write a concrete entry (x_{12}) or differentiate by the whole variable",
                             pos=node.pos, end=node.end)

    def rewrite(node):
        if not isinstance(node, Node):
            return node
        e = entry_of(node)
        if e is not None:
            return e
        if node.kind == "call" and node.args[0].kind == "name":
            head = entry_of(node.args[0])   # h_1(x): the first component of h(x)
            if head is not None:
                call = Node("call", (head.args[0], *(rewrite(a) for a in node.args[1:])), node.pos, node.end)
                return Node("entry", (call,), node.pos, node.end, head.value, node.grouped)
        if node.kind == "derivative" and node.value != "directional" and isinstance(node.args[1], Node):
            free_entry(node.args[1])
            var = entry_of(node.args[1])
            if var is not None:   # ∂f/∂x_k: along e_k
                base = var.args[0]
                return Node("derivative", (rewrite(node.args[0]), base, _basis(var)), node.pos, node.end,
                            "directional", node.grouped)
        args = tuple(rewrite(a) for a in node.args)
        return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)

    concrete = has_matrices(statements)
    for s in statements:
        if isinstance(s, Definition):
            s.body = rewrite(s.body)
        elif isinstance(s, Target):
            for v in s.variables:
                free_entry(v)
            _target(s, entry_of, rewrite)
    for base in sorted(set(read.values())):
        names = [_shown(n) for n in sorted(read, key=lambda n: (len(n), n)) if read[n] == base]
        if base == "the unit vectors":
            notes.append(f"read {', '.join(names)} as {'a unit vector' if len(names) == 1 else 'unit vectors'} "
                         "(a 1 in that entry, 0 elsewhere)")
            continue
        notes.append(f"read {', '.join(names)} as {'an entry' if len(names) == 1 else 'entries'} of {_shown(base)}")
    return concrete or bool(read)


def _target(t: Target, entry_of, rewrite) -> None:
    t.body = rewrite(t.body)
    for c in t.claims:
        if isinstance(c, Target):
            _target(c, entry_of, rewrite)
    t.claims = [c if isinstance(c, Target) else rewrite(c) for c in t.claims]
    if t.direction is not None:
        t.direction = rewrite(t.direction)
    if t.kind in ("jacobian", "gradient") and len(t.variables) == 1:
        var = entry_of(t.variables[0])
        if var is not None:   # ∂f/∂x_k: the derivative along the k-th coordinate of x
            t.kind, t.variables, t.direction = "directional", [var.args[0]], _basis(var)
            t.component = var


def _basis(entry: Node) -> Node:
    return Node("basis", entry.args, entry.pos, entry.end, entry.value)


def _shown(name: str) -> str:
    from .tex import GREEK_UNICODE
    base, _, sub = name.partition("_")
    return GREEK_UNICODE.get(base, base) + (f"_{sub}" if sub else "")
