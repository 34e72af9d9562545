"""Index notation turned into matrix form, before shapes are read.

``\\sum_i x_i^2`` is ``xᵀx``; ``\\sum_{i=1}^n a_i x_i`` is ``aᵀx``; ``\\sum_{i,j} X_{ij}^2`` is
``‖X‖_F²``; ``\\sum_{i,j} A_{ij} X_{ij}`` is ``tr(AᵀX)``; ``\\log\\sum_i \\exp(x_i)`` is
``log 𝟏ᵀexp(x)``; ``\\sum_i (y_i - w^T x_i)^2`` reads the ``x_i`` as the rows of a data
matrix ``X`` and becomes ``𝟏ᵀ(y - Xw)^{∘2}``. In general a sum over ``i`` of an expression
in the entries ``a_i`` is ``𝟏ᵀ`` times that expression taken elementwise.
"""
from __future__ import annotations

import re

from .errors import ParseError
from .parse import Node

ELEMENTWISE_FUNCS = {"log", "exp", "tanh", "sin", "cos", "sigmoid", "sign", "sqrt", "abs"}


def to_matrix_form(node: Node, notes: list[str]) -> Node:
    """``node`` with every index sum rewritten in matrix form (a note says how each was read)."""
    if not isinstance(node, Node):
        return node
    args = tuple(to_matrix_form(a, notes) if isinstance(a, Node) else a for a in node.args)
    node = Node(node.kind, args, node.pos, node.end, node.value, node.grouped)
    if node.kind == "index_sum":
        return IndexSum(node, notes).matrix_form()
    return node


def _transposed(n: Node) -> bool:
    return n.kind == "pow" and (n.args[1].kind == "top" or n.args[1].kind == "name" and n.args[1].value == "T")


def _mk(kind, *args, like: Node, value=None) -> Node:
    return Node(kind, tuple(args), like.pos, like.end, value)


class IndexSum:
    def __init__(self, node: Node, notes: list[str]):
        self.node = node
        self.indices, self.upper = node.value
        self.notes = notes
        self.rows: set[str] = set()

    def error(self, message: str, at: Node | None = None) -> ParseError:
        at = at or self.node
        return ParseError(message, pos=at.pos, end=at.end)

    # --- entries and their index
    def entry(self, name: str):
        """(base, transposed) if ``name`` is an entry indexed by this sum, else None."""
        m = re.fullmatch(r"(.+?)_\{?([a-zA-Z,]+)\}?", name)
        if not m:
            return None
        idx = m.group(2).replace(",", "")
        if len(self.indices) == 1 and idx == self.indices[0]:
            return m.group(1), False
        if len(self.indices) == 2 and idx == "".join(self.indices):
            return m.group(1), False
        if len(self.indices) == 2 and idx == "".join(reversed(self.indices)):
            return m.group(1), True
        if any(ch in self.indices for ch in idx):
            raise self.error(f"{name}: only entries indexed by {', '.join(self.indices)} (in that order) are supported")
        return None

    def depends(self, n: Node) -> bool:
        if n.kind == "name":
            return n.value in self.indices or self.entry(n.value) is not None
        return any(self.depends(a) for a in n.args if isinstance(a, Node))

    # --- the summand, elementwise
    def elementwise(self, n: Node) -> Node:
        k = n.kind
        if not self.depends(n):
            return _mk("scalar", n, like=n)  # what does not carry the index is a scalar
        if k == "name":
            if n.value in self.indices:
                raise self.error(f"the index {n.value} itself has no matrix form; use it only as a subscript", n)
            base, transposed = self.entry(n.value)
            out = _mk("name", like=n, value=base)
            return _mk("pow", out, _mk("top", like=n), like=n) if transposed else out
        if k == "mul":
            rows = self._rows(n)
            if rows is not None:
                return rows
            a, b = n.args
            da, db = self.depends(a), self.depends(b)
            if da and db:
                return _mk("hadamard", self.elementwise(a), self.elementwise(b), like=n)
            return _mk("mul", self.elementwise(a), self.elementwise(b), like=n)
        if k in ("div", "frac"):
            a, b = n.args
            if self.depends(b):
                return _mk("hdiv", self.elementwise(a) if self.depends(a) else a, self.elementwise(b), like=n)
            return _mk(k, self.elementwise(a), b, like=n)
        if k == "pow":
            base, exp = n.args
            if self.depends(exp):
                raise self.error("an index in an exponent is not supported", exp)
            return _mk("hpow", self.elementwise(base), exp, like=n)
        if k == "func" and n.value not in ELEMENTWISE_FUNCS:
            raise self.error(f"{n.value} of an indexed expression is not supported in index notation", n)
        if k in ("add", "sub", "neg", "func", "hadamard", "hdiv"):
            return _mk(k, *[self.elementwise(a) for a in n.args], like=n, value=n.value)
        raise self.error("this index expression has no matrix form here", n)

    def _rows(self, n: Node) -> Node | None:
        """``w^T x_i`` or ``x_i^T w``: the x_i are the rows of a data matrix X, giving (Xw)_i."""
        if len(self.indices) != 1:
            return None
        a, b = n.args
        for row, other in ((b, a), (a, b)):
            plain = row.args[0] if _transposed(row) else row
            transposed = plain is not row
            other_t = _transposed(other)
            if plain.kind == "name" and self.entry(plain.value) and not self.depends(other) \
                    and (other_t if row is b else transposed):
                base = self.entry(plain.value)[0]
                matrix = base.upper() if base.islower() else base + "_rows"
                self.rows.add(f"read {plain.value} as the rows of a data matrix {matrix} ({plain.value}ᵀ is row {self.indices[0]})")
                w = other.args[0] if other.kind == "pow" else other
                return _mk("mul", _mk("name", like=plain, value=matrix), w, like=n)
        return None

    # --- the whole sum
    def matrix_form(self) -> Node:
        body = self.node.args[0]
        n = self.node
        if not self.depends(body):
            raise self.error(f"the summand does not depend on {', '.join(self.indices)}")
        e = self.elementwise(body)
        ones = _mk("font_one", like=n)
        ones_t = _mk("pow", ones, _mk("top", like=n), like=n)
        special = self._special(e)
        if special is not None:
            out = special
        elif len(self.indices) == 1:
            out = _mk("mul", ones_t, _mk("ew", e, like=n), like=n)
        else:
            out = _mk("mul", _mk("mul", ones_t, _mk("ew", e, like=n), like=n), _mk("font_one", like=n), like=n)
        bound = f" (to {self.upper})" if self.upper else ""
        self.notes.extend(sorted(self.rows))
        self.notes.append(f"read the sum over {', '.join(self.indices)}{bound} in matrix form")
        return out

    def _special(self, e: Node) -> Node | None:
        n = self.node
        two = len(self.indices) == 2
        if e.kind == "hpow" and e.args[1].kind == "num" and e.args[1].value == 2 and e.args[0].kind == "name":
            x = e.args[0]
            if two:  # sum of squares of the entries: the squared Frobenius norm
                return _mk("pow", _mk("norm", x, like=n, value="F"), e.args[1], like=n)
            return _mk("mul", _mk("pow", x, _mk("top", like=n), like=n), x, like=n)
        if e.kind == "hadamard" and all(a.kind == "name" for a in e.args):
            a, b = e.args
            if two:
                return _mk("func", _mk("mul", _mk("pow", a, _mk("top", like=n), like=n), b, like=n), like=n, value="tr")
            return _mk("mul", _mk("pow", a, _mk("top", like=n), like=n), b, like=n)
        return None
