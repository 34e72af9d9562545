"""The readings a cell may have, before any shape is known: which kinds (scalar, vector, matrix)
each symbol may take and what reading a symbol against its convention costs, the hints a cell's
own use gives (``\\frac{1}{N}``: N a scalar; ``X\\theta``: θ a vector), declarations, and the checks
on the statements that no reading could repair (a variable the function does not have)."""
from __future__ import annotations

import itertools

from . import structure
from .errors import ParseError
from .syntax import Declaration, Definition, Node, Target
from .tex import GREEK_UNICODE

SPECIAL = {"e", "I"}
MAX_FLIPS = 3       # at most this many symbols read against convention
MAX_READINGS = 400  # and at most this many readings tried
# What reading a symbol against its convention costs: a lower-case letter becomes a scalar before
# an upper-case letter becomes a vector (c in ½xᵀQx + c is a scalar, not Q a vector).
FLIP_COST = {("vector", "scalar"): 1, ("scalar", "vector"): 2, ("vector", "matrix"): 3,
             ("matrix", "vector"): 3, ("matrix", "scalar"): 4, ("scalar", "matrix"): 4}
FUNCTION_FLIP = 0.25      # an arbitrary function's value read scalar rather than vector (∇_x f(x))
CLAIM_MISFIT = 0.5        # a reading in which a claim's shapes do not fit (only a function's value may bend)
AGAINST_HINT = 3          # more when it also contradicts how the cell uses the symbol (Xθ: θ a vector)
NONSCALAR_GRADIENT = 3    # a reading that makes the function under ∇ a vector or matrix
REFUSED_CLAIM = 4          # a claim with notation this reading cannot give a meaning (h_2 of a scalar h)
VARIABLE_FLIP = 0.1       # a tie broken for the variable's own kind (∇_x c f(x): c the scalar, not x)
MAX_RUNNERS_UP = 40       # readings tried after the first that fits


def _is_transpose(exp: Node) -> bool:
    return exp.kind == "top" or (exp.kind == "name" and exp.value == "T")


def _variable_in_other_case(targets, defs: dict, cell: str) -> None:
    """``\\nabla_{\\mathbf{x}} \\operatorname{tr}(AX)``: the function has X and not x. Its derivative by x
    is 0, which no student means: ask instead of answering 0."""
    def names(node, seen) -> set[str]:
        if not isinstance(node, Node):
            return set()
        out = set()
        if node.kind == "pow" and _is_transpose(node.args[1]):
            return names(node.args[0], seen)   # the T of x^T is no symbol
        if node.kind == "name":
            out.add(node.value)
            if node.value in defs and node.value not in seen:
                seen.add(node.value)
                out |= names(defs[node.value].body, seen) | set(defs[node.value].params)
        for a in node.args:
            out |= names(a, seen)
        return out
    for t in targets:
        used = names(t.body, set())
        for v in t.variables:
            other = v.value.swapcase() if v.kind == "name" and len(v.value) == 1 else None
            if other and v.value not in used and other in used:
                raise ParseError(f"the function has {other} but not {v.value}, so its derivative by {v.value} would be "
                                 f"0: did you mean the derivative by {other}?", text=cell, pos=v.pos, end=v.end)


def _variable_flipped(targets, kinds: dict) -> bool:
    return any(v.kind == "name" and v.value in kinds and kinds[v.value] != default_kind(v.value)
               and not t.scalar_variable for t in targets for v in t.variables)


def _products_not_calls(statements, defs, functions=()) -> None:
    """``\\alpha (t + 1)^2`` is α·(t+1)², not (α(t+1))²: where the name before the bracket is no
    defined function, a power after the bracket belongs to the bracket alone."""
    def fix(node):
        if not isinstance(node, Node):
            return node
        node = Node(node.kind, tuple(fix(a) for a in node.args), node.pos, node.end, node.value, node.grouped)
        base = node.args[0] if node.kind == "pow" else None
        if base is not None and base.kind == "call" and not base.grouped and len(base.args) == 2 \
                and base.args[1].kind != "name" \
                and not (base.args[0].kind == "name" and (base.args[0].value in defs
                                                           or base.args[0].value in functions)):
            head, inner = base.args
            power = Node("pow", (inner, node.args[1]), inner.pos, node.end)
            return Node("mul", (head, power), node.pos, node.end)
        return node

    for s in statements:
        if isinstance(s, Definition):
            s.body = fix(s.body)
        elif isinstance(s, Target):
            s.body, s.direction = fix(s.body), fix(s.direction)
            s.directions = [fix(d) for d in s.directions]
            for c in s.claims:
                if isinstance(c, Target):
                    c.body = fix(c.body)
            s.claims = [c if isinstance(c, Target) else fix(c) for c in s.claims]


def _readings(candidates: dict[str, list[str]], hints: dict[str, str], functions=frozenset()):
    """Kind assignments, cheapest first: each symbol read against its first kind costs the
    rank of the kind it takes, and more when that contradicts how the cell uses it."""
    yield 0, {n: c[0] for n, c in candidates.items()}
    names = list(candidates)
    options = []
    for k in range(1, min(MAX_FLIPS, len(names)) + 1):
        for chosen in itertools.combinations(names, k):
            for alts in itertools.product(*[range(1, len(candidates[n])) for n in chosen]):
                cost = sum(FUNCTION_FLIP * a if n in functions else _flip_cost(n, candidates[n], a, hints)
                           for n, a in zip(chosen, alts))
                options.append((cost, k, chosen, alts))
    options.sort(key=lambda o: (o[0], o[1]))
    for cost, _, chosen, alts in options[:MAX_READINGS - 1]:
        kinds = {n: c[0] for n, c in candidates.items()}
        kinds.update({n: candidates[n][a] for n, a in zip(chosen, alts)})
        yield cost, kinds


def _flip_cost(name: str, kinds: list[str], alt: int, hints: dict) -> int:
    first, new = kinds[0], kinds[alt]
    base = FLIP_COST.get((default_kind(name), new), 0) if new != default_kind(name) else 0
    return max(base, 1) + (AGAINST_HINT if hints.get(name) == first else 0)


def _declared(decls: list[Declaration], cell: str) -> dict:
    out = {}
    for d in decls:
        rows, cols = d.shape
        if rows is None and cols != 1 and not d.stated:
            raise ParseError("give the size of the symmetric matrix: \\mathbb{S}^n", text=cell, pos=d.pos, end=d.end)
        if 0 in (rows, cols):
            raise ParseError("a size must be positive", text=cell, pos=d.pos, end=d.end)
        for n in d.names:
            if n.kind != "name":
                raise ParseError("only a symbol can be declared", text=cell, pos=n.pos, end=n.end)
            given = ((rows, cols), structure.combined(d.props))
            if n.value in out and out[n.value] != given:
                both = (out[n.value], given)
                given = structure.merged(*both)
                oblong = [sh for sh, _ in both if None not in sh and sh[0] != sh[1]]
                if given is None and oblong and any(p & structure.SYMMETRY for _, p in both):
                    raise ParseError(f"{n.value} is declared symmetric and {oblong[0][0]}×{oblong[0][1]}: a symmetric "
                                     "matrix is square", text=cell, pos=n.pos, end=n.end)
                if given is None:
                    raise ParseError(f"{n.value} is declared twice, with different shapes", text=cell, pos=n.pos,
                                     end=n.end)
            out[n.value] = given
    return out


def _entry_names(node: Node) -> list[str]:
    """Names that are an entry of an explicit matrix by themselves or in its sums and products."""
    if node.kind == "name":
        return [node.value]
    if node.kind in ("add", "sub", "neg", "func") or (node.kind == "pow" and node.args[1].kind == "num"):
        if node.kind == "pow":
            return _entry_names(node.args[0])
        return [n for a in node.args if isinstance(a, Node) for n in _entry_names(a)]
    return []


def _used_names(statements, defs, declared) -> tuple[list[str], dict[str, str]]:
    """Symbols in order of appearance, and usage hints: a symbol alone in a denominator
    (``\frac{1}{N}``) leans scalar; one right of a matrix (``X\theta``) leans vector."""
    seen: dict[str, None] = {}
    hints: dict[str, str] = {}

    def walk(node: Node, tail: bool = True):
        k = node.kind
        if k == "name" and node.value not in defs and (node.value in declared or not _special_name(node.value)):
            seen.setdefault(node.value)
        if k == "pow" and (_is_transpose(node.args[1]) or node.args[1].kind == "neg" and _is_transpose(node.args[1].args[0])):
            if node.args[0].kind == "name" and default_kind(node.args[0].value) != "matrix":
                hints[node.args[0].value] = "transposed"  # xᵀ: x is a vector (or a matrix), not a scalar
            walk(node.args[0])
            return
        if k == "pow" and node.args[0].kind == "name" and node.args[0].value == "e" and "e" not in declared:
            walk(node.args[1])
            return
        if k in ("frac", "div") and node.args[1].kind == "name":
            hints.setdefault(node.args[1].value, "scalar")
        if k in ("frac", "div") and node.args[1].kind == "mul" and not node.args[1].grouped:
            factors = [node.args[1].args[0], node.args[1].args[1]]   # \frac{1}{2n}: n a scalar too
            if any(f.kind == "num" for f in factors):
                for f in factors:
                    if f.kind == "name":
                        hints.setdefault(f.value, "scalar")
        if (k == "scalar" or k == "limit") and node.args[0].kind == "name":
            hints.setdefault(node.args[0].value, "scalar")   # \lim_{h → 0}: h a scalar
        if k == "entry" and node.value[2] and node.args[0].kind == "name":
            hints[node.args[0].value] = "matrix"
        if k == "mrow":
            for cell in node.args:
                for name in _entry_names(cell):   # [x & 1 \\ 2 & y]: the entries are scalars
                    hints.setdefault(name, "scalar")
        if k == "mul" and tail and node.args[1].kind == "name" and default_kind(node.args[1].value) == "scalar" \
                and _ends_with_matrix(node.args[0]):
            hints.setdefault(node.args[1].value, "vector")   # Xθ ending a product: θ a vector
        if k == "mul":
            walk(node.args[0], False)
            walk(node.args[1], tail)
            return
        if k == "call" and node.args[0].kind == "name" and node.args[0].value in defs:
            for a in node.args[1:]:
                walk(a)
            return
        for a in node.args:
            if isinstance(a, Node):
                walk(a)

    for s in statements:
        if isinstance(s, Target) and s.scalar_variable:
            hints[s.variables[0].value] = "scalar"   # d/dt: t is a scalar
    for s in statements:
        if isinstance(s, Target):
            for node in [*s.variables, s.body, *([s.direction] if s.direction is not None else []), *s.directions]:
                walk(node)
            for c in s.claims:
                for node in ([*c.variables, c.body] if isinstance(c, Target) else [c]):
                    walk(node)
        elif isinstance(s, Definition):
            for p in s.params:
                seen.setdefault(p)
            walk(s.body)
    return [n for n in seen if n not in defs], hints


def _letter(name: str) -> str:
    """A symbol's name as the Interpretation writes it: μ for mu, W_1 as it is."""
    base, _, sub = name.partition("_")
    return GREEK_UNICODE.get(base, base) + (f"_{sub}" if sub else "")


def _special_name(name: str) -> bool:
    """e, and the identity: I, I_n, I_3 (\\mathbf I is I)."""
    return name in SPECIAL or (name.startswith("I_") and name[2:].isalnum())


def _ends_with_matrix(node: Node) -> bool:
    while node.kind == "mul":
        node = node.args[1]
    if node.kind == "pow":
        node = node.args[0]
    return node.kind == "name" and default_kind(node.value) == "matrix"


def default_kind(name: str) -> str:
    base = name.split("_")[0]
    if len(base) > 1 and base[0] == "d" and (base[1:] in GREEK_UNICODE or len(base) == 2):
        return default_kind(name[1:])   # the differential dX is shaped like X
    if base in GREEK_UNICODE:
        return "matrix" if base[0].isupper() else "scalar"
    return "matrix" if base[:1].isupper() else "vector"


def candidate_kinds(name: str, hint: str | None) -> list[str]:
    """The kinds a symbol may take, the conventional one (or the one its use suggests) first."""
    kinds = {"matrix": ["matrix", "vector", "scalar"], "vector": ["vector", "scalar"],
             "scalar": ["scalar", "vector"]}[default_kind(name)]
    if hint == "transposed":
        return [k for k in kinds if k != "scalar"] + (["matrix"] if "matrix" not in kinds else [])
    if hint == "matrix" and "matrix" not in kinds:   # a_{12}: an entry by two indices
        return ["matrix"] + kinds
    if hint in kinds:
        kinds = [hint] + [k for k in kinds if k != hint]
    return kinds
