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
from .syntax import Node, walk

ELEMENTWISE_FUNCS = {"log", "exp", "tanh", "sin", "cos", "sigmoid", "sign", "sqrt", "abs", "tan", "relu", "step"}


_ENTRY = re.compile(r"(.+?)_\{?([a-zA-Z,]+)\}?")


def _index_letters(name: str) -> set[str]:
    m = _ENTRY.fullmatch(name)
    return set(m.group(2).replace(",", "")) if m else set()


def _uses(node: Node, indices) -> bool:
    if node.kind == "name":
        return node.value in indices or bool(_index_letters(node.value) & set(indices))
    if node.kind == "index_sum":
        return _uses(node.args[0], set(indices) - set(node.value[0]))
    return any(_uses(a, indices) for a in node.args if isinstance(a, Node))


def _last_sum(node: Node) -> Node | None:
    """The ``\\sum`` that ends a term (``\\frac1n \\sum_i …``, ``-\\sum_i …``), if any."""
    if node.grouped:
        return None
    if node.kind == "index_sum":
        return node
    if node.kind in ("mul", "neg", "add", "sub"):
        return _last_sum(node.args[-1])
    return None


def _replace(node: Node, old: Node, new: Node) -> Node:
    if node is old:
        return new
    args = tuple(_replace(a, old, new) if isinstance(a, Node) else a for a in node.args)
    return Node(node.kind, args, node.pos, max(node.end, new.end), node.value, node.grouped)


def extend_sums(node: Node, notes: list[str]) -> Node:
    """Sums as printed: ``\\sum_i`` followed by terms joined by + or − that use i covers all of
    them, as in ``\\sum_{i=1}^n y_i \\log p_i + (1 - y_i)\\log(1 - p_i)``."""
    extended: dict[int, Node] = {}
    out = _extend(node, extended)
    for s in extended.values():
        idx = ", ".join(s.value[0])
        notes.append(f"read the sum over {idx} as covering all {_terms(s.args[0])} terms after it joined by "
                     f"+ or − (each uses {idx}), as printed sums are read")
    return out


def _extend(node: Node, extended: dict) -> Node:
    if not isinstance(node, Node):
        return node
    args = tuple(_extend(a, extended) if isinstance(a, Node) else a for a in node.args)
    node = Node(node.kind, args, node.pos, node.end, node.value, node.grouped)
    if node.kind in ("add", "sub") and not node.grouped:
        left, right = node.args
        s = _last_sum(left)
        if s is not None and _uses(right, s.value[0]):
            body = Node(node.kind, (s.args[0], right), s.args[0].pos, right.end)
            wider = Node("index_sum", (body,), s.pos, right.end, s.value)
            extended[s.pos] = wider
            return _replace(left, s, wider)
    return node


def _terms(node: Node) -> int:
    if node.kind in ("add", "sub") and not node.grouped:
        return _terms(node.args[0]) + 1
    return 1


def check_indices(node: Node, bound=frozenset(), in_product: bool = False) -> None:
    """An index is used only inside a sum that binds it; a repeated index with no sum (the
    summation convention) is refused rather than read as new symbols. Each product is looked at
    once, as a whole (its nested multiplications are part of it)."""
    if node.kind == "index_sum":
        check_indices(node.args[0], bound | set(node.value[0]))
        return
    if node.kind == "name":
        return
    chain = node.kind == "mul" and not node.grouped
    if chain and not in_product:
        _no_repeated_index(node, bound)
    for a in node.args:
        if isinstance(a, Node):
            check_indices(a, bound, chain and a.kind == "mul" and not a.grouped)


def free_index_names(node: Node, indices, bound=frozenset()):
    """Names such as x_i whose index is one of ``indices`` and is not bound by a sum around them."""
    if node.kind == "index_sum":
        yield from free_index_names(node.args[0], indices, bound | set(node.value[0]))
        return
    if node.kind == "name":
        letters = _index_letters(node.value) - bound
        if letters & set(indices):
            yield node, sorted(letters & set(indices))[0]
        return
    for a in node.args:
        if isinstance(a, Node):
            yield from free_index_names(a, indices, bound)


def _factors(node: Node) -> list[Node]:
    if node.kind == "mul" and not node.grouped:
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def _no_repeated_index(node: Node, bound) -> None:
    seen: dict[str, Node] = {}
    for f in _factors(node):
        letters = set()
        for n, idx in free_index_names(f, "abcdefghijklmnopqrstuvwxyz", bound):
            letters |= _index_letters(n.value) - set(bound)
        for letter in sorted(letters):
            if letter in seen:
                raise ParseError(f"the index {letter} is repeated with no \\sum: write the sum, e.g. "
                                 f"\\sum_{{{letter}}} …, or the matrix form (derivmagic does not apply the summation "
                                 "convention)", pos=node.pos, end=node.end)
            seen[letter] = f


def sum_indices(node: Node) -> set[str]:
    if node.kind == "index_sum":
        return set(node.value[0]) | sum_indices(node.args[0])
    return set().union(*[sum_indices(a) for a in node.args if isinstance(a, Node)]) if node.args else set()


def to_matrix_form(node: Node, notes: list[str], spans: dict | None = None) -> Node:
    """``node`` with every index sum rewritten in matrix form (a note says how each was read);
    ``spans``: the sizes a line's free indices run over, by (name, position, tokens)."""
    if not isinstance(node, Node):
        return node
    args = tuple(to_matrix_form(a, notes, spans) if isinstance(a, Node) else a for a in node.args)
    node = Node(node.kind, args, node.pos, node.end, node.value, node.grouped)
    if node.kind == "index_sum":
        from .operators import extract_operator, frac_operator
        op, rest = extract_operator(node.args[0])
        if op is not None and rest is not None and (op.kind == "nabla" or (
                op.kind == "frac" and frac_operator(op)[1] is None)):   # Σ_i ∇_x f_i = ∇_x Σ_i f_i
            inner = Node("index_sum", (rest,), rest.pos, node.end, node.value)
            notes.append(f"read the sum over {', '.join(node.value[0])} of derivatives as the derivative of the sum")
            return Node("mul", (op, IndexSum(inner, notes).matrix_form()), node.pos, node.end, None, node.grouped)
        try:
            return IndexSum(node, notes).matrix_form()
        except ParseError as exc:
            written = _written_out(node, notes, spans or {}) if getattr(exc, "written_out", False) else None
            if written is None:   # Σ_k W_{1k} x_k, Σ_i [⋯ f_i ⋯]: term by term
                raise
            return written
    return node


EXPLICIT_SIZE = 3   # the terms a sum with a named bound is written out with, when it has no matrix form


def _written_out(node: Node, notes: list[str], spans: dict) -> Node | None:
    """A sum over one index with no matrix form, written out term by term (x_k → x_1, x_2, …), as
    many terms as the entries it runs over (a size the line fixed for x, or EXPLICIT_SIZE); None when
    the index is used other than as a subscript."""
    from .freeindex import at_values, index_positions
    (letter, *more), upper = node.value
    if more:
        return None
    positions = index_positions(node.args[0], letter)
    known = {spans[key] for key in positions if key in spans}
    if not positions or len(known) > 1:
        return None
    count = int(upper) if upper is not None and str(upper).isdigit() else (known.pop() if known else EXPLICIT_SIZE)
    terms = [at_values(node.args[0], {letter: k}) for k in range(1, count + 1)]
    if any(n.kind == "name" and n.value == letter for t in terms for n in walk(t)):
        return None
    out = terms[0]
    for t in terms[1:]:
        out = Node("add", (out, t), out.pos, t.end)
    bound = f" at {upper} = {count}" if upper is not None and not str(upper).isdigit() else ""
    notes.append(f"read the sum over {letter} term by term{bound} (it has no matrix form)")
    return Node(out.kind, out.args, node.pos, node.end, out.value, True)



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

    def no_matrix_form(self, message: str, at: Node | None = None) -> ParseError:
        """A sum that can still be written out term by term."""
        exc = self.error(message, at)
        exc.written_out = True
        return exc

    # --- entries and their index
    def entry(self, name: str):
        """(base, transposed) if ``name`` is an entry indexed by this sum, else None."""
        m = re.fullmatch(r"(.+?)_\{?([a-zA-Z,]+)\}?", name)
        if not m:
            mixed = re.fullmatch(r"(.+?)_\{?([a-zA-Z0-9,]+)\}?", name)
            if mixed and any(ch in self.indices for ch in mixed.group(2) if ch.isalpha()):
                raise self.no_matrix_form(f"{name}: an entry with a fixed index beside the summed one has no matrix "
                                          "form here")
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
        if self._entry_at_index(n):
            return True
        return any(self.depends(a) for a in n.args if isinstance(a, Node))

    def _entry_at_index(self, n: Node) -> bool:
        """``softmax(z)_i``, ``(Wx)_i`` with i this sum's one index: the entries of a value."""
        return n.kind == "entry" and isinstance(n.value[0], str) and not n.value[2] \
            and list(self.indices) == [n.value[0]] and not self.depends(n.args[0])

    # --- the summand, elementwise
    def elementwise(self, n: Node) -> Node:
        k = n.kind
        if not self.depends(n):
            return _mk("scalar", n, like=n)  # what does not carry the index is a scalar
        if self._entry_at_index(n):
            inner = n.args[0]
            return Node(inner.kind, inner.args, inner.pos, inner.end, inner.value, True)
        if k == "name":
            if n.value in self.indices:
                raise self.error(f"the index {n.value} itself has no matrix form; use it only as a subscript", n)
            base, transposed = self.entry(n.value)
            out = _mk("name", like=n, value=base)
            return _mk("pow", out, _mk("top", like=n), like=n) if transposed else out
        if k == "call" and n.args[0].kind == "name" and self.entry(n.args[0].value) is not None \
                and not any(self.depends(a) for a in n.args[1:]):   # f_i(x): the entries of f(x)
            base = _mk("name", like=n.args[0], value=self.entry(n.args[0].value)[0])
            return Node("call", (base, *n.args[1:]), n.pos, n.end)
        if k == "mul":
            rows = self._rows(n)
            if rows is not None:
                return rows
            a, b = n.args
            da, db = self.depends(a), self.depends(b)
            if da and db:
                return _mk("hadamard", self.elementwise(a), self.elementwise(b), like=n)
            return _mk("mul", self.elementwise(a), self.elementwise(b), like=n)
        if k == "frac":
            derivative = self._derivative(n)
            if derivative is not None:
                return derivative
            from .operators import frac_operator
            if frac_operator(n) is not None:   # ∂u_j/∂x, a row for each j: term by term, never a division
                raise self.no_matrix_form("a derivative by a whole variable inside the sum has no matrix form here", n)
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
        raise self.no_matrix_form("this index expression has no matrix form here", n)

    def _derivative(self, n: Node) -> Node | None:
        """``∂u_j/∂x_1`` over j: the vector ∂u/∂x_1; ``∂f/∂x_d`` over d: the gradient ∇_x f."""
        from .operators import frac_operator
        op = frac_operator(n)
        if op is None or op[0] != 1 or op[1] is None or len(op[2]) != 1 or op[2][0].kind != "name":
            return None
        _, body, (var,), marker = op
        by_index = self.entry(var.value) is not None
        if by_index and not self.depends(body):
            base, _ = self.entry(var.value)
            return _mk("mul", _mk("nabla", _mk("name", like=var, value=base), like=n, value=1), body, like=n)
        if not by_index and not self.depends(var) and re.fullmatch(r".+_\{?\d+\}?", var.value):   # by x_1
            num = n.args[0]
            head = num.args[0] if num.kind == "mul" else None
            if head is not None and head.kind == "partial":
                inner = _mk("mul", head, self.elementwise(body), like=num)
                return Node("frac", (inner, n.args[1]), n.pos, n.end, n.value, True)
        return None

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
