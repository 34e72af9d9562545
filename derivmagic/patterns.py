"""Matrices written as patterns with ``\\dots``, ``\\vdots`` and ``\\ddots``, as notes define them:

    \\begin{bmatrix} \\frac{\\partial y_1}{\\partial x_1} & \\dots & \\frac{\\partial y_1}{\\partial x_n} \\\\
    \\vdots & & \\vdots \\\\ \\frac{\\partial y_m}{\\partial x_1} & \\dots & \\frac{\\partial y_m}{\\partial x_n}
    \\end{bmatrix}

The entry formula is read off the written entries: between the first and the last row the
subscripts that go from 1 to m are the row index, between the first and the last column those
that go from 1 to n the column index, and every other written entry must follow the same formula
(``\\frac{\\partial y_2}{\\partial x_1}`` in the second row). A diagonal pattern (zeros off the
diagonal) is read too. The pattern is then written out at concrete sizes (m = 4, n = 3, …), which
the whole cell then uses, and checked there; the Interpretation says so. A pattern whose formula is
not clear is refused with the reason.
"""
from __future__ import annotations

from .errors import ParseError
from .syntax import Definition, Node, Target, walk

GAPS = ("dots", "empty")
_CHOICES = (3, 4, 5, 2, 6, 7, 8)


def expand_patterns(statements, notes: list[str]) -> dict[str, int]:
    """Write out every pattern matrix of the statements; the sizes chosen for its bounds."""
    sizes: dict[str, int] = {}

    def rewrite(node):
        if not isinstance(node, Node):
            return node
        node = Node(node.kind, tuple(rewrite(a) for a in node.args), node.pos, node.end, node.value, node.grouped)
        if node.kind == "matrix" and any(c.kind in GAPS for r in node.args for c in r.args):
            return Pattern(node, sizes, notes).expand()
        return node

    def target(t: Target) -> None:
        t.body = rewrite(t.body)
        t.direction = rewrite(t.direction)
        for c in t.claims:
            if isinstance(c, Target):
                target(c)
        t.claims = [c if isinstance(c, Target) else rewrite(c) for c in t.claims]

    for s in statements:
        if isinstance(s, Definition):
            s.body = rewrite(s.body)
        elif isinstance(s, Target):
            target(s)
    if sizes:   # y_1 … y_m of a pattern are entries of y
        from .syntax import Indexed
        bases = {_split(n.value)[0] for st in statements if isinstance(st, (Definition, Target))
                 for root in _roots(st) for n in walk(root) if n.kind == "name" and _split(n.value)[1]
                 and any(t.isdigit() for t in _split(n.value)[1])}
        statements.append(Indexed(bases))
    return sizes


def _roots(s) -> list:
    if isinstance(s, Definition):
        return [s.body]
    out = [s.body, s.direction]
    for c in s.claims:
        out += _roots(c) if isinstance(c, Target) else [c]
    return [r for r in out if r is not None]


def _split(name: str) -> tuple[str, list[str], str]:
    """``x_1m`` → ("x", ["1", "m"], ""); ``x_{i,j}`` → ("x", ["i", "j"], ",")."""
    base, _, sub = name.rpartition("_")
    if not base:
        return name, [], ""
    if "," in sub:
        return base, sub.split(","), ","
    if len(sub) == 2 and sub.isalnum():
        return base, list(sub), ""
    return base, [sub], ""


def _diff(a: Node, b: Node, path=()):
    """Where two entries differ, as (path, token, a's, b's) in subscripts; None if they differ elsewhere."""
    if a.kind != b.kind or len(a.args) != len(b.args):
        return None
    if a.kind == "name":
        if a.value == b.value:
            return []
        (ba, ta, _), (bb, tb, _) = _split(a.value), _split(b.value)
        if ba != bb or len(ta) != len(tb):
            return None
        return [(path, k, x, y) for k, (x, y) in enumerate(zip(ta, tb)) if x != y]
    if a.value != b.value:
        return None
    out = []
    for k, (x, y) in enumerate(zip(a.args, b.args)):
        if isinstance(x, Node) and isinstance(y, Node):
            d = _diff(x, y, path + (k,))
            if d is None:
                return None
            out += d
        elif x != y:
            return None
    return out


def _substitute(node: Node, tokens: dict, path=()) -> Node:
    """``node`` with the subscript tokens at ``tokens`` {(path, k): text} replaced."""
    if node.kind == "name":
        here = {k: v for (p, k), v in tokens.items() if p == path}
        if not here:
            return node
        base, toks, sep = _split(node.value)
        toks = [here.get(k, t) for k, t in enumerate(toks)]
        return Node("name", (), node.pos, node.end, f"{base}_{sep.join(toks)}", node.grouped)
    if not any(p[:len(path)] == path for p, _ in tokens):
        return node
    args = tuple(_substitute(a, tokens, path + (k,)) if isinstance(a, Node) else a for k, a in enumerate(node.args))
    return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)


def _is_zero(node: Node) -> bool:
    return node.kind == "num" and node.value == 0


class Pattern:
    def __init__(self, node: Node, sizes: dict, notes: list[str]):
        self.node, self.sizes, self.notes = node, sizes, notes

    def error(self, why: str) -> ParseError:
        return ParseError(f"a pattern with \\dots whose entries are not clear: {why}; write it out at a concrete "
                          "size to check it", pos=self.node.pos, end=self.node.end)

    def expand(self) -> Node:
        grid = [list(r.args) for r in self.node.args]
        gap_rows = [i for i, row in enumerate(grid) if all(c.kind in GAPS for c in row)]
        rows = [row for i, row in enumerate(grid) if i not in gap_rows]
        if not rows or len(gap_rows) > 1:
            raise self.error("it needs written rows, and one row of \\vdots at most")
        if any(len(r) != len(rows[0]) for r in rows):
            raise self.error("its written rows have different numbers of entries")
        gap_cols = [j for j in range(len(rows[0])) if all(r[j].kind in GAPS for r in rows)]
        if len(gap_cols) > 1:
            raise self.error("it has more than one column of \\dots")
        cols = [j for j in range(len(rows[0])) if j not in gap_cols]
        samples = [[r[j] for j in cols] for r in rows]
        if any(c.kind in GAPS for row in samples for c in row):
            raise self.error("\\dots stands where an entry of a written row or column is expected")
        row_labels = self._labels(len(rows), [i for i in range(len(grid)) if i not in gap_rows], gap_rows)
        col_labels = self._labels(len(cols), cols, gap_cols)
        rows_at, cols_at, diagonal = self._formula(samples, row_labels, col_labels)
        r_sym = self._bound(row_labels, rows_at, samples, axis=0)
        c_sym = r_sym if diagonal else self._bound(col_labels, cols_at, samples, axis=1)
        formula = samples[0][0]

        def entry(r: str, c: str) -> Node:
            if diagonal and r != c:
                return Node("num", (), formula.pos, formula.end, 0)
            tokens = {pos: r for pos in rows_at}
            tokens.update({pos: c for pos in cols_at})
            return _substitute(formula, tokens)

        for i, rl in enumerate(row_labels):   # every written entry follows the formula
            for j, cl in enumerate(col_labels):
                want = entry(r_sym if rl == "last" else rl, c_sym if cl == "last" else cl)
                if _diff(want, samples[i][j]) != []:
                    raise self.error(f"the entry in written row {i + 1}, column {j + 1} does not follow the "
                                     "formula of the first and last ones")
        m, n = self._size(r_sym, row_labels), self._size(c_sym, col_labels)
        out_rows = [Node("mrow", tuple(entry(str(r), str(c)) for c in range(1, n + 1)), self.node.pos, self.node.end)
                    for r in range(1, m + 1)]
        bounds = ", ".join(f"{s} = {self.sizes[s]}" for s in dict.fromkeys((r_sym, c_sym)) if s in self.sizes)
        if bounds:
            self.notes.append(f"read the pattern with \\dots entry by entry, written out at {bounds}")
        return Node("matrix", tuple(out_rows), self.node.pos, self.node.end, self.node.value, self.node.grouped)

    def _labels(self, count: int, positions: list[int], gaps: list[int]) -> list[str]:
        """Written rows (or columns) before the dots are 1, 2, …; one after them is the last."""
        if not gaps:
            return [str(k + 1) for k in range(count)]
        before = sum(p < gaps[0] for p in positions)
        if count - before > 1:
            raise self.error("only one row (or column) may follow the dots")
        return [str(k + 1) for k in range(before)] + ["last"] * (count - before)

    def _formula(self, samples, row_labels, col_labels):
        """(subscripts that carry the row index, those that carry the column index, diagonal?)."""
        rows_at, cols_at = set(), set()
        straight = True
        if row_labels[-1] == "last" and len(samples) > 1:
            d = _diff(samples[0][0], samples[-1][0])
            straight = d is not None
            rows_at = {(p, k) for p, k, _, _ in d or ()}
        if straight and col_labels[-1] == "last" and len(samples[0]) > 1:
            d = _diff(samples[0][0], samples[0][-1])
            straight = d is not None
            cols_at = {(p, k) for p, k, _, _ in d or ()}
        if straight:
            return rows_at, cols_at, False
        diagonal = [(i, j) for i, rl in enumerate(row_labels) for j, cl in enumerate(col_labels) if rl == cl]
        off = [samples[i][j] for i in range(len(row_labels)) for j in range(len(col_labels)) if (i, j) not in diagonal]
        if not off or not all(_is_zero(c) for c in off) or len(samples) < 2:
            raise self.error("the first and last entries differ in more than their indices")
        d = _diff(samples[0][0], samples[-1][-1])
        if d is None:
            raise self.error("the diagonal entries differ in more than their indices")
        return {(p, k) for p, k, _, _ in d}, set(), True

    def _bound(self, labels, positions, samples, axis: int) -> str | None:
        """The symbol that ends the index (n in x_1 … x_n), read from the first and last written entries."""
        if labels[-1] != "last":
            return None
        first, last = samples[0][0], (samples[-1][0] if axis == 0 else samples[0][-1])
        d = _diff(first, last) or _diff(first, samples[-1][-1]) or []
        ends = {(a, b) for p, k, a, b in d if (p, k) in positions}
        if len(ends) != 1 or next(iter(ends))[0] != "1":
            raise self.error("its indices do not run from 1 to one bound")
        return next(iter(ends))[1]

    def _size(self, symbol: str | None, labels: list[str]) -> int:
        if symbol is None:
            return len(labels)
        if symbol.isdigit():
            return int(symbol)
        if symbol not in self.sizes:
            written = len(labels)
            taken = set(self.sizes.values())
            self.sizes[symbol] = next(k for k in _CHOICES if k >= written and k not in taken)
        return self.sizes[symbol]


def expand_sum_patterns(node: Node, notes: list[str], sizes: dict[str, int], bases: set | None = None) -> Node:
    """``a_1 b_1 + a_2 b_2 + \\dots + a_m b_m``: a sum written with \\dots, its terms' formula read off
    the first and last terms (checked against the second, when written), written out at a size."""
    if not isinstance(node, Node):
        return node
    if node.kind in ("add", "sub") and _has_dots_term(node):
        return _expand_sum(node, notes, sizes, bases if bases is not None else set())
    args = tuple(expand_sum_patterns(a, notes, sizes, bases) if isinstance(a, Node) else a for a in node.args)
    return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)


def _terms(node: Node, top: bool = True) -> list[tuple[str, Node]]:
    if node.kind in ("add", "sub") and (top or not node.grouped):
        return _terms(node.args[0], False) + [(node.kind, node.args[1])]
    return [("add", node)]


def _has_dots_term(node: Node) -> bool:
    return any(t.kind == "dots" for _, t in _terms(node))


def _expand_sum(node: Node, notes: list[str], sizes: dict[str, int], bases: set) -> Node:
    terms = _terms(node)
    gap = next(k for k, (_, t) in enumerate(terms) if t.kind == "dots")

    def error(why: str) -> ParseError:
        return ParseError(f"a sum written with \\dots whose terms are not clear: {why}; write it with \\sum or out "
                          "at a concrete size", pos=node.pos, end=node.end)
    if gap == 0 or gap != len(terms) - 2 or any(sign != "add" for sign, _ in terms):
        raise error("it needs written terms joined by + before the dots and one term after them")
    first, last = terms[0][1], terms[-1][1]
    d = _diff(first, last)
    if not d:
        raise error("the first and last terms differ in more than their indices")
    ends = {(a, b) for _, _, a, b in d}
    if len(ends) != 1 or next(iter(ends))[0] != "1":
        raise error("their indices do not run from 1 to one bound")
    bound = next(iter(ends))[1]
    at = {(p, k) for p, k, _, _ in d}
    bases.update(_split(n.value)[0] for n in walk(first) if n.kind == "name" and _split(n.value)[1])
    for k, (_, t) in enumerate(terms[:gap]):
        if _diff(_substitute(first, {pos: str(k + 1) for pos in at}), t) != []:
            raise error(f"written term {k + 1} does not follow the formula of the first and last ones")
    if bound.isdigit():
        count = int(bound)
    else:
        if bound not in sizes:
            taken = set(sizes.values())
            sizes[bound] = next(k for k in _CHOICES if k >= gap and k not in taken)
        count = sizes[bound]
        notes.append(f"read the sum with \\dots term by term, written out at {bound} = {count}")
    out = None
    for k in range(1, count + 1):
        term = expand_sum_patterns(_substitute(first, {pos: str(k) for pos in at}), notes, sizes, bases)
        out = term if out is None else Node("add", (out, term), out.pos, term.end)
    return Node(out.kind, out.args, node.pos, node.end, out.value, node.grouped)

