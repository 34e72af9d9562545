"""Statements entry by entry: ``\\frac{\\partial z_i}{\\partial x_j} = W_{ij}``,
``\\left[\\frac{\\partial y}{\\partial x}\\right]_{ij} = \\frac{\\partial y_i}{\\partial x_j}``,
``\\frac{\\partial}{\\partial x_i} c f_i(x)``.

An index that a derivative is taken by (``∂/∂x_j``) or that indexes a bracket (``(…)_{ij}``), and that
no ``\\sum`` binds, is free: the line states something for every value of it. Each side is then read
as the matrix of its entries (rows by the first index, columns by the second), written out at
concrete sizes, so the sides compare as matrices and every entry is checked. Indices of one vector
(``∂x_i/∂x_j``) share its size. ``y_i`` and ``x_j`` then name entries of y and x.
"""
from __future__ import annotations

from fractions import Fraction

from .errors import ParseError
from .syntax import Node, walk

LETTERS = "ijkl"
_SIZES = (3, 4, 2, 5)



def _token(name: str) -> tuple[str, list[str]]:
    base, _, sub = name.rpartition("_")
    if not base:
        return name, []
    return base, (sub.split(",") if "," in sub else list(sub) if len(sub) == 2 and sub.isalnum() else [sub])


def _bound(sides) -> set[str]:
    return {letter for s in sides for n in walk(s) if n.kind == "index_sum" for letter in n.value[0]}


def _free_letters(sides) -> list[str]:
    """Letters a derivative is taken by, or that index a bracket, in order of first use."""
    from .labels import label_like
    found: list[str] = []
    at_labels = label_like(sides)   # softmax(z)_i: free only if a derivative takes i elsewhere in the line

    def add(letter):
        if isinstance(letter, str) and letter in LETTERS and letter not in found:
            found.append(letter)
    for s in sides:
        for n in walk(s):
            if n.kind == "entry" and isinstance(n.value[0], str) and id(n) not in at_labels:
                add(n.value[0])
                add(n.value[1])
            if n.kind == "frac" and any(d.kind == "partial" for d in walk(n.args[0])):   # ∂y_i/∂x_j
                for d in walk(n):
                    if d.kind == "name":
                        for t in _token(d.value)[1]:
                            add(t)
    bound = _bound(sides) | pattern_bounds(sides)
    free_bases = {_token(n.value)[0] for s in sides for n in walk(s) if n.kind == "name"
                  and any(t in found and t not in bound for t in _token(n.value)[1])}
    for s in sides:   # ∂/∂x_j x_i^2: x_i beside x_j is another entry of x, its index free too (an index
        uses = [t for n in walk(s) if n.kind == "name" for t in _token(n.value)[1]]   # written twice is summed)
        for n in walk(s):
            if n.kind == "name" and _token(n.value)[0] in free_bases:
                for t in _token(n.value)[1]:
                    if uses.count(t) == 1:
                        add(t)
    return [x for x in found if x not in bound]


def pattern_bounds(sides) -> set[str]:
    """Letters inside a pattern with \\dots (x_1 … x_k): its bounds, not free indices."""
    out = set()
    for s in sides:
        for n in walk(s):
            if n.kind == "matrix" and any(c.kind in ("dots", "empty") for r in n.args for c in r.args):
                out |= {t for d in walk(n) if d.kind == "name" for t in _token(d.value)[1]}
    return out


def expand_free_indices(sides: list[Node], notes: list[str], spans: dict | None = None) -> tuple[list[Node], set[str]]:
    """The sides as matrices of their entries over the free indices (unchanged when there are none),
    and the names whose entries they use."""
    letters = _free_letters(sides)
    if not letters:
        return sides, set()
    if len(letters) > 2:
        raise ParseError(f"more than two free indices ({', '.join(letters)}): a line is read entry by entry over "
                         "one or two", pos=sides[0].pos, end=sides[-1].end)
    bases: dict[str, set[str]] = {x: set() for x in letters}
    deltas = False
    for s in sides:
        for n in walk(s):
            if n.kind == "name":
                base, tokens = _token(n.value)
                if _kronecker(base, tokens, letters):   # δ_ij: i and j run over one set
                    deltas = True
                    for t in tokens:
                        bases[t].add((KRONECKER, 0, 2))
                    continue
                for k, t in enumerate(tokens):
                    if t in bases:   # x_i, x_j: one vector's indices; x_{ij}: rows and columns of X
                        bases[t].add((base, k, len(tokens)))
    sizes: dict[str, int] = {}
    for x in letters:   # indices of one vector share its size
        shared = next((sizes[y] for y in sizes if bases[y] & bases[x]), None)
        sizes[x] = shared if shared is not None else next(k for k in _SIZES if k not in sizes.values())
    if spans is not None:   # (name, position, tokens) → the size its index runs over: a sum by x_k uses it too
        spans.update({key: sizes[x] for x in letters for key in bases[x]})
    rows, cols = letters[0], (letters[1] if len(letters) > 1 else None)
    out = []
    for s in sides:
        if not any(_uses(s, x) for x in letters):
            out.append(s)   # ∂y/∂x := [∂y_i/∂x_j]_{ij}: a side without the indices is the whole matrix
            continue
        grid = []
        for r in range(1, sizes[rows] + 1):
            row = []
            for c in range(1, (sizes[cols] if cols else 1) + 1):
                row.append(_at(s, {rows: r, **({cols: c} if cols else {})}))
            grid.append(Node("mrow", tuple(row), s.pos, s.end))
        out.append(Node("matrix", tuple(grid), s.pos, s.end, "matrix"))
    shown = ", ".join(f"{x} = 1…{sizes[x]}" for x in letters)
    notes.append(f"read the line entry by entry over its free {'index' if len(letters) == 1 else 'indices'} "
                 f"{' and '.join(letters)} ({'rows by ' + rows + ', columns by ' + cols if cols else 'a column'}), "
                 f"written out at {shown}")
    if deltas:
        notes.append(f"read δ_{''.join(letters)} as the Kronecker delta (1 when {' = '.join(letters)}, 0 otherwise)")
    inside = {_token(d.value)[0] for s in sides for n in walk(s) if n.kind == "frac"   # ∂y_1/∂x_j beside them
              for d in walk(n) if d.kind == "name" and _token(d.value)[1]}
    return out, {b for x in letters for b, _, _ in bases[x] if b != KRONECKER} | inside


KRONECKER = "δ (Kronecker)"
CASES_DELTA = "kronecker_"   # the δ_ij of a \begin{cases} with i = j and i ≠ j (parse.py), never a user's name


def _kronecker(base: str, tokens: list[str], letters) -> bool:
    """``\\delta_{ij}`` with i and j both free indices: the Kronecker delta."""
    return base in ("delta", CASES_DELTA[:-1]) and len(tokens) == 2 and all(t in letters for t in tokens)


def _uses(node: Node, letter: str) -> bool:
    for n in walk(node):
        if n.kind == "name" and letter in _token(n.value)[1]:
            return True
        if n.kind == "entry" and letter in n.value[:2]:
            return True
    return False


def index_positions(node: Node, letter: str) -> set:
    """(name, position, tokens) of every subscript where ``letter`` stands (x_k: ("x", 0, 1))."""
    out = set()
    for n in walk(node):
        if n.kind == "name":
            base, tokens = _token(n.value)
            out |= {(base, k, len(tokens)) for k, t in enumerate(tokens) if t == letter}
    return out


def at_values(node: Node, values: dict[str, int]) -> Node:
    """``node`` with the indices in ``values`` replaced by numbers (x_k → x_2)."""
    return _at(node, values)


def _at(node: Node, values: dict[str, int]) -> Node:
    """``node`` with every free index replaced by its value (in names' subscripts and brackets' entries)."""
    if node.kind == "name":
        base, tokens = _token(node.value)
        if not any(t in values for t in tokens):
            return node
        if _kronecker(base, tokens, values):
            return Node("num", (), node.pos, node.end, Fraction(int(values[tokens[0]] == values[tokens[1]])),
                        node.grouped)
        sep = "," if "," in node.value.rpartition("_")[2] else ""
        return Node("name", (), node.pos, node.end, f"{base}_{sep.join(str(values.get(t, t)) for t in tokens)}",
                    node.grouped)
    if node.kind == "entry" and isinstance(node.value[0], str) and any(
            _uses(node.args[0], x) for x in node.value[:2] if isinstance(x, str)):
        return _at(node.args[0], values)   # [∂y_i/∂x_j]_{ij}: the matrix whose (i, j) entry is written inside
    args = tuple(_at(a, values) if isinstance(a, Node) else a for a in node.args)
    value = node.value
    if node.kind == "entry" and isinstance(value[0], str):
        i, j, two = value
        value = (values[i] - 1 if i in values else i, (values[j] - 1 if j in values else j) if two else 0, two)
    return Node(node.kind, args, node.pos, node.end, value, node.grouped)
