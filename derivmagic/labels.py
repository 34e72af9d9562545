"""Entries at a class label: ``\\operatorname{softmax}(z)_y``, ``f(z)_y``, ``(Wx)_y``, and ``p_y`` where the
cell defines ``p = …``.

A letter subscript on a value that is not an index the line ranges over (an index of a derivative,
``∂y_i/∂x_j``, or of a bracket around one, ``[∂y/∂x]_{ij}``) and that no ``\\sum`` binds is an integer
label: the entry is ``e_yᵀ(…)`` with ``e_y`` the label's one-hot vector, so that
``∇_z −log softmax(z)_y = softmax(z) − e_y``. ``e_y`` is declared one-hot (``structure.LABEL``): the
numeric check draws it as the one-hot vector of a random label, and exported code takes it as an argument.
A subscript on a plain name keeps its reading (``x_i`` beside ``x``: a scalar of its own).
"""
from __future__ import annotations

import re

from . import structure
from .errors import ParseError
from .syntax import Declaration, Definition, Node, Remark, Target, walk

_LETTER = re.compile(r"[a-z]")
_DERIVATIVE_KINDS = frozenset({"nabla", "partial", "derivative", "directional", "along"})


def unit_name(letter: str) -> str:
    """The name of the one-hot vector of the label ``letter``: ``e_y``."""
    return f"e_{letter}"


def label_of(name: str) -> str | None:
    """``y`` for the one-hot vector ``e_y`` of a label, else None."""
    base, _, letter = name.partition("_")
    return letter if base == "e" and _LETTER.fullmatch(letter) else None


def _single_letter(node: Node) -> bool:
    return node.kind == "entry" and isinstance(node.value[0], str) and not node.value[2] \
        and _LETTER.fullmatch(node.value[0]) is not None


def _has_derivative(node: Node) -> bool:
    return any(n.kind in _DERIVATIVE_KINDS or n.kind == "frac" and _partial_frac(n) for n in walk(node))


def _partial_frac(node: Node) -> bool:
    return node.kind == "frac" and any(d.kind == "partial" for d in walk(node.args[0]))


def label_like(sides: list[Node]) -> set[int]:
    """Ids of the entries that are read at a label unless their letter is free in the line: one
    letter, a value without a derivative in it, not inside a ∂-fraction."""
    inside = {id(n) for s in sides for f in walk(s) if _partial_frac(f) for n in walk(f)}
    return {id(n) for s in sides for n in walk(s)
            if _single_letter(n) and id(n) not in inside and not _has_derivative(n.args[0])}


def read_labels(sides: list[Node], notes: list[str]) -> tuple[list[Node], list[Declaration]]:
    """The sides with every entry at a label written ``e_yᵀ(…)``, and the one-hot declarations of the
    labels' vectors. Runs after the free indices are written out: an entry still subscripted by a
    letter is at a label, unless a ``\\sum`` binds the letter (that stays as written)."""
    if not any(_single_letter(n) for s in sides for n in walk(s)):
        return sides, []
    labels: dict[str, Node] = {}

    def rewrite(node: Node, bound: frozenset) -> Node:
        if node.kind == "index_sum":
            bound = bound | set(node.value[0])
        args = tuple(rewrite(a, bound) if isinstance(a, Node) else a for a in node.args)
        node = Node(node.kind, args, node.pos, node.end, node.value, node.grouped)
        if _single_letter(node) and node.value[0] not in bound and not _has_derivative(node.args[0]):
            letter = node.value[0]
            labels.setdefault(letter, node)
            return entry_at_label(node.args[0], letter, node.pos, node.end, node.grouped)
        return node

    out = [rewrite(s, frozenset()) for s in sides]
    for letter in labels:
        notes.append(said(letter))
    return out, [declaration(letter, n.pos, n.end) for letter, n in labels.items()]


def entry_at_label(value: Node, letter: str, pos: int, end: int, grouped: bool = False) -> Node:
    """``e_yᵀ (value)``: the entry of ``value`` at the label ``letter``."""
    unit = Node("name", (), pos, end, unit_name(letter))
    row = Node("pow", (unit, Node("top", (), pos, end)), pos, end)
    inner = Node(value.kind, value.args, value.pos, value.end, value.value, True)
    return Node("mul", (row, inner), pos, end, None, grouped)


def declaration(letter: str, pos: int, end: int) -> Declaration:
    name = Node("name", (), pos, end, unit_name(letter))
    return Declaration([name], (None, 1), frozenset({structure.ONE_HOT, structure.LABEL}), pos, end, stated=True)


def said(letter: str, base: str | None = None) -> str:
    """The Interpretation's words for the entries at ``letter``: of bracketed values, or of the name ``base``."""
    from .tex import GREEK_UNICODE
    e = unit_name(letter)
    shown = "(…)" if base is None else GREEK_UNICODE.get(base, base)
    return (f"read {shown}_{letter} as the {letter}-th entry {e}ᵀ{shown} ({letter}: a class label, {e} its one-hot "
            "vector)")


def defined_entries(statements: list) -> list:
    """``p_y`` where the cell defines ``p = …`` (with no parameters) and ``p_y`` is not a name of its
    own: the entry of p at the label y, as for ``(…)_y``; the statements, with the labels' one-hot
    declarations and what was read added. A label letter that the cell also uses as a symbol is refused."""
    defined = {s.name for s in statements if isinstance(s, Definition) and not s.params}
    own = {s.name for s in statements if isinstance(s, Definition)} | {
        n.value for s in statements if isinstance(s, Declaration) for n in s.names}
    labels: dict[str, Node] = {}
    bases: dict[str, set[str]] = {}

    def rewrite(node: Node) -> Node:
        if node.kind == "name":
            base, _, letter = node.value.rpartition("_")
            if base in defined and _LETTER.fullmatch(letter) and node.value not in own:
                labels.setdefault(letter, node)
                bases.setdefault(letter, set()).add(base)
                return entry_at_label(Node("name", (), node.pos, node.end, base), letter, node.pos, node.end,
                                      node.grouped)
            return node
        args = tuple(rewrite(a) if isinstance(a, Node) else a for a in node.args)
        return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)

    for s in statements if defined else ():
        if isinstance(s, Definition):
            s.body = rewrite(s.body)
        elif isinstance(s, Target):
            _rewrite_target(s, rewrite)
    out = list(statements)
    for letter, node in labels.items():
        out += [declaration(letter, node.pos, node.end)] + [Remark(said(letter, b)) for b in sorted(bases[letter])]
    _labels_are_not_symbols(out)
    return out


def _rewrite_target(t: Target, rewrite) -> None:
    if t.body is not None:
        t.body = rewrite(t.body)
    for c in t.claims:
        if isinstance(c, Target):
            _rewrite_target(c, rewrite)
    t.claims = [c if isinstance(c, Target) else rewrite(c) for c in t.claims]


def _labels_are_not_symbols(statements: list) -> None:
    """A label y is an integer; the cell may not also use y as a symbol (a vector, a scalar)."""
    letters = {label_of(n.value) for s in statements if isinstance(s, Declaration) and structure.LABEL in s.props
               for n in s.names}
    if not letters:
        return
    for s in statements:
        roots = [s.body] if isinstance(s, Definition) else _target_roots(s) if isinstance(s, Target) else []
        for r in roots:
            for n in walk(r):
                if n.kind == "name" and n.value in letters:
                    raise ParseError(f"{n.value} is a class label in the subscript of an entry (…)_{n.value}, and "
                                     f"here a symbol of its own: name one of them otherwise", pos=n.pos, end=n.end)
        if isinstance(s, Definition) and s.name in letters:
            raise ParseError(f"{s.name} is a class label in the subscript of an entry (…)_{s.name}: it cannot be "
                             "defined", pos=s.pos, end=s.end)


def _target_roots(t: Target) -> list[Node]:
    out = [r for r in (t.body, *t.variables, t.direction) if r is not None]
    out += [c for c in t.claims if isinstance(c, Node)]
    for c in t.claims:
        if isinstance(c, Target):
            out += _target_roots(c)
    return out


def exported_doc(symbols, params) -> str:
    """Docstring lines of exported code for the one-hot vectors of class labels among its arguments."""
    return "".join(f"\n    {p} is the one-hot vector of the class label {label_of(s.name)}: 1 in the label's entry, "
                   "0 elsewhere." for s, p in zip(symbols, params) if structure.label_vector(s))
