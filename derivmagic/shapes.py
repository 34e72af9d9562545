"""Shapes: declarations, then inference by unification, then expressions.

Every undeclared symbol starts from a convention (upper case: a matrix; lower-case
Latin: a column vector; Greek lower case: a scalar) that its use may override: when
the conventional reading does not fit, readings with fewer changes are tried first
(``Xθ`` makes θ a vector). Dimensions are unified like type variables; a conflict in
the reading with the fewest changes becomes a ``ShapeError`` naming both operands.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction

from . import limits
from .components import has_entries, mark_entries
from .components import has_matrices as _has_matrices
from .errors import DerivError, ParseError, ShapeError
from .expr import ONE, Expr, Sym
from .functions import (abstract_functions, apply_bare_functions, apply_implicit_functions, codomain_kinds,
                        implicit_functions)
from .spectral_reading import is_spectral, type_spectral
from .syntax import Declaration, Definition, Node, Target
from .patterns import expand_patterns
from .readings import (CLAIM_MISFIT, MAX_RUNNERS_UP, NONSCALAR_GRADIENT, REFUSED_CLAIM, VARIABLE_FLIP, _declared,
                       _is_transpose, _letter, _products_not_calls, _readings, _special_name, _used_names,
                       _variable_flipped, _variable_in_other_case, candidate_kinds, default_kind)

ELEMENTWISE = {"log", "exp", "tanh", "sin", "cos", "sigmoid", "sign", "sqrt", "abs", "tan", "relu", "step"}
MATRIX_FUNCTIONS = {"exp", "log", "sqrt", "sin", "cos", "tan"}   # of a square matrix: the matrix function
DIM_POOL = ["n", "m", "p", "q", "k", "r", "s", "l", "d", "h"]
FUNCTION_LIKE = {"f", "g", "h", "F", "G", "H", "J", "L", "R", "E", "ell", "y", "z", "u", "v"}  # names of outputs


class Mismatch(Exception):
    def __init__(self, message: str, node: Node, refused: bool = False):
        super().__init__(message)
        self.message = message
        self.node = node
        self.refused = refused   # notation not read yet: a refusal, never a false claim


# ---------------------------------------------------------------- dimensions (union-find)
class Dims:
    def __init__(self):
        self.parent: list[int] = []
        self.value: list[object] = []   # None, 1, an int, or a declared name
        self.not_one: list[bool] = []

    def new(self, value=None, not_one=False) -> int:
        self.parent.append(len(self.parent))
        self.value.append(value)
        self.not_one.append(not_one)
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def get(self, a: int):
        return self.value[self.find(a)]

    def unify(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        va, vb = self.value[ra], self.value[rb]
        if va is not None and vb is not None and va != vb:
            return False
        value = va if va is not None else vb
        not_one = self.not_one[ra] or self.not_one[rb]
        if not_one and value == 1:
            return False
        self.parent[rb] = ra
        self.value[ra] = value
        self.not_one[ra] = not_one
        return True

    def is_one(self, a: int) -> bool:
        return self.get(a) == 1


ONE_DIM = 0  # index of the dimension bound to 1 in every Dims


def _fresh_dims() -> Dims:
    d = Dims()
    d.new(1)
    return d


# ---------------------------------------------------------------- the reading of a cell
@dataclass
class Reading:
    symbols: dict[str, Sym]
    definitions: dict[str, Expr]
    targets: list
    notes: list[str] = field(default_factory=list)
    dims: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    derivatives: list = field(default_factory=list)   # answers of the derivatives inside a line of values


def read(statements: list, cell: str, layout: str = "numerator") -> "Reading":
    """The cheapest reading of the symbols' shapes that fits. ``D h(x)`` alone is h's Jacobian, or,
    when only that fits a claim's shapes, the matrix of the gradients ∇h_i as columns (how some notes
    arrange it); the Interpretation says which."""
    if not _has_dmatrix(statements):
        return _read_entries(statements, cell, layout)
    pristine = copy.deepcopy(statements)
    failure = None
    try:
        reading = _read_entries(statements, cell, layout)
    except ShapeError as exc:
        reading, failure = None, exc
    if reading is not None and not _claims_misfit(reading):
        return reading
    try:
        other = _read_entries(pristine, cell, layout, gradient_columns=True)
    except DerivError:
        other = None
    if other is None or _claims_misfit(other):
        if reading is None:
            raise failure
        return reading
    other.notes.append("read D h(x) as the matrix with the gradients ∇h_i as its columns (the Jacobian's "
                       "transpose): the arrangement in which the line's shapes fit")
    return other


def _claims_misfit(reading: Reading) -> bool:
    return any(isinstance(c, ShapeError) for t in reading.targets for c in t[4])


def _has_dmatrix(statements) -> bool:
    from .syntax import walk
    from .patterns import _roots
    return any(n.kind == "derivative" and n.value == "dmatrix" for s in statements
               if isinstance(s, (Definition, Target)) for r in _roots(s) for n in walk(r))


def _read_entries(statements: list, cell: str, layout: str, gradient_columns: bool = False) -> "Reading":
    """``x_2`` beside ``x`` is read as an entry of x first; if no reading then fits, as a symbol of its own."""
    pristine = copy.deepcopy(statements) if has_entries(statements) else None
    try:
        return _read(statements, cell, layout, entries=pristine is not None, gradient_columns=gradient_columns)
    except ShapeError:
        if pristine is None:
            raise
        try:
            reading = _read(pristine, cell, layout, entries=False, gradient_columns=gradient_columns)
        except DerivError:
            pass
        else:
            reading.notes.append("read the subscripted names as symbols of their own: as entries, the shapes "
                                 "do not fit")
            return reading
        raise


def _read(statements: list, cell: str, layout: str, entries: bool, gradient_columns: bool = False) -> "Reading":
    decls = [s for s in statements if isinstance(s, Declaration)]
    defs = {s.name: s for s in statements if isinstance(s, Definition)}
    targets = [s for s in statements if isinstance(s, Target)]
    if not targets:
        raise ParseError("nothing to differentiate: add a target such as \\nabla_x f or \\frac{\\partial f}{\\partial x}",
                         text=cell, pos=0)
    declared = _declared(decls, cell)
    entry_notes: list[str] = []
    try:
        expand_patterns(statements, entry_notes)   # at sizes of its own; the entries then size the symbols
        concrete = mark_entries(statements, entry_notes) if entries else _has_matrices(statements)
    except ParseError as exc:
        if exc.text is None:
            exc.text = cell
        raise
    implicit = implicit_functions(statements, declared)
    apply_implicit_functions(statements, implicit)
    functions = abstract_functions(statements, declared, implicit)
    apply_bare_functions(statements, declared, functions)
    _products_not_calls(statements, defs, functions)
    _variable_in_other_case(targets, defs, cell)
    names, hints = _used_names(statements, defs, declared)
    candidates = {n: (codomain_kinds(n) if n in functions else candidate_kinds(n, hints.get(n)))
                  for n in names if n not in declared and (n not in functions or functions[n] is None)}
    function_kinds = {n for n in candidates if n in functions}
    first_error = None
    fits: list[tuple[int, Typer]] = []   # readings that fit, with their cost
    tried_after = 0
    for cost, kinds in _readings(candidates, hints, function_kinds):
        if fits and cost >= fits[0][0]:   # the best is known; look on only to tell an ambiguity
            if not fits[0][1].flips or tried_after >= MAX_RUNNERS_UP:
                break
            tried_after += 1
        limits.tick(len(statements) + 1)
        typer = Typer(declared, defs, kinds, candidates, cell, functions, implicit, layout)
        typer.concrete, typer.entry_notes, typer.gradient_columns = concrete, entry_notes, gradient_columns
        try:
            typer.run(targets)
        except Mismatch as exc:
            if first_error is None:
                first_error = exc
            continue
        fits.append((cost + (NONSCALAR_GRADIENT if typer.nonscalar_gradient else 0)
                     + (CLAIM_MISFIT if typer.claim_errors else 0)
                     + (VARIABLE_FLIP if _variable_flipped(targets, kinds) else 0)
                     + (REFUSED_CLAIM if typer.refusals else 0), typer))
        fits.sort(key=lambda f: f[0])
        if fits[0][0] <= cost and not fits[0][1].flips:
            break   # nothing cheaper can follow, and nothing was read against convention
    if fits:
        best = fits[0][1]
        if best.refusals:   # a refusal is never judged as a false claim
            refusal = best.refusals[0]
            raise ParseError(refusal.message, text=cell, pos=refusal.node.pos, end=refusal.node.end)
        reading = best.build(targets)
        reading.warnings.extend(_ambiguity(fits, targets))
        return reading
    if first_error is None:
        raise ShapeError("no reading of the symbols' shapes fits this cell", text=cell, pos=0)
    if first_error.refused:
        raise ParseError(first_error.message, text=cell, pos=first_error.node.pos, end=first_error.node.end)
    raise ShapeError(first_error.message, text=cell, pos=first_error.node.pos, end=first_error.node.end)


def _ambiguity(fits: list, targets: list) -> list[str]:
    """When the best reading reads a symbol against its convention and a reading that keeps the
    convention also fits but gives a derivative of another shape, say so instead of choosing
    silently (``c`` in ``½xᵀQx + c``: a scalar, unless it is a vector and the result a Jacobian)."""
    from .build import tex_name
    best = fits[0][1]
    sig = best.signature(targets)
    out = []
    for n in sorted(best.flips):
        usual = default_kind(n)
        if best.kinds.get(n) in (usual, best.candidates[n][0]):
            continue   # the convention, or what the cell's use of n asks for (Xθ: θ a vector)
        if n in best.domains and not best.dims.is_one(best.domains[n][1]):
            continue   # f(X) of a matrix X has scalar values: there is no vector reading to offer
        other = next((t for _, t in fits[1:] if t.kinds.get(n) == usual), None)
        if other is not None and other.signature(targets) != sig:
            out.append(f"read {_letter(n)} as a {best.kinds[n]}; declare {_letter(n)} ∈ {_SPACE[usual][0]} "
                       f"if it is a {usual} "
                       f"(write {tex_name(n)} \\in {_SPACE[usual][1]})")
    return out


_SPACE = {"scalar": ("ℝ", "\\mathbb{R}"), "vector": ("ℝⁿ", "\\mathbb{R}^n"),
          "matrix": ("ℝ^(m×n)", "\\mathbb{R}^{m \\times n}")}


# ---------------------------------------------------------------- typing the syntax tree
class Typer:
    """One reading of the cell: every symbol gets a kind, every node a (rows, cols) pair."""

    def __init__(self, declared, defs, kinds, candidates, cell, functions=None, implicit=None, layout="numerator"):
        self.dims = _fresh_dims()
        self.functions = functions or {}
        self.implicit = implicit or {}
        self.layout = layout
        self.domains: dict[str, tuple[int, int]] = {}
        self.declared = declared
        self.defs = defs
        self.cell = cell
        self.kinds: dict[str, str] = {}
        self.sym_dims: dict[str, tuple[int, int]] = {}
        self.shape: dict[int, tuple[int, int]] = {}
        self.def_shapes: dict[str, tuple[int, int]] = {}
        self.named: dict[object, int] = {}
        self.kinds.update(kinds)
        self.candidates = candidates
        self.flips = {n for n in kinds if kinds[n] != candidates[n][0] or candidates[n][0] != default_kind(n)}
        self.broadcasts: set[int] = set()
        self.claim_errors: dict[int, str] = {}
        self.message_dims: dict[int, str] = {}
        self.special: dict[int, str] = {}
        self.nonscalar_gradient = False
        self.first_target = None
        self.concrete = False                       # entries or explicit matrices: concrete sizes
        self.entry_notes: list[str] = []
        self.least_size: list[tuple[int, int]] = []  # (dimension, the size an entry needs)
        self.gradient_columns = False                # D h(x) as the matrix of columns ∇h_i (its Jacobian's transpose)
        self.refusals: list[Mismatch] = []           # notation not read yet in a claim (blocks, entries of a scalar)
        self.symmetric_use: set[str] = set()         # undeclared matrices under λ_max(X): read as symmetric

    # --- dimensions
    def dim_of(self, value) -> int:
        if value == 1:
            return ONE_DIM
        if value not in self.named:
            self.named[value] = self.dims.new(value)
        return self.named[value]

    def symbol(self, name: str, node: Node) -> tuple[int, int]:
        if name not in self.sym_dims:
            if name in self.declared:
                (r, c), _ = self.declared[name]
                if r is None and c == 1:   # 1ᵀy = 1: a column, of a size the cell decides
                    self.sym_dims[name] = (self.dims.new(not_one=True), ONE_DIM)
                elif r is None:   # "A is symmetric": square, of a size the cell decides
                    square = self.dims.new(not_one=True)
                    self.sym_dims[name] = (square, square)
                else:
                    self.sym_dims[name] = (self.dim_of(r), self.dim_of(c))
            else:
                kind = self.kinds.get(name, default_kind(name))
                self.kinds[name] = kind
                if kind == "scalar":
                    self.sym_dims[name] = (ONE_DIM, ONE_DIM)
                elif kind == "vector":
                    self.sym_dims[name] = (self.dims.new(not_one=True), ONE_DIM)
                else:
                    self.sym_dims[name] = (self.dims.new(not_one=True), self.dims.new(not_one=True))
        return self.sym_dims[name]

    def is_scalar(self, s) -> bool:
        return self.dims.is_one(s[0]) and self.dims.is_one(s[1])

    def show(self, node: Node) -> str:
        return self.cell[node.pos:node.end].strip() or node.kind

    def fmt(self, s) -> str:
        """A shape for a message; a dimension nothing has named yet gets a letter of its own, the
        same in every message of this reading, so both operands' shapes can be compared."""
        def one(d):
            v = self.dims.get(d)
            if v is not None:
                return str(v)
            root = self.dims.find(d)
            if root not in self.message_dims:
                used = set(self.kinds) | set(self.declared) | set(self.message_dims.values()) \
                    | {v for v in self.dims.value if isinstance(v, str)}
                free = [n for n in DIM_POOL if n not in used]
                self.message_dims[root] = free[0] if free else f"d{len(self.message_dims) + 1}"
            return self.message_dims[root]
        return f"{one(s[0])}×{one(s[1])}"

    def unify(self, a: int, b: int, message) -> None:
        if not self.dims.unify(a, b):
            raise message()

    # --- statements
    def signature(self, targets: list[Target]) -> tuple:
        """What the reading makes of the first derivative: the kinds of its function and variable."""
        t = targets[0]
        def kind(s):
            one = (self.dims.is_one(s[0]), self.dims.is_one(s[1]))
            return {(True, True): "scalar", (False, True): "vector", (True, False): "row"}.get(one, "matrix")
        var = self.sym_dims.get(t.variables[0].value) if t.variables and t.variables[0].kind == "name" else None
        return (kind(self.shape[id(t.body)]) if id(t.body) in self.shape else None, kind(var) if var else None)

    def run(self, targets: list[Target]) -> None:
        if self.first_target is None and targets:
            self.first_target = targets[0]
        for t in targets:
            for v in t.variables:
                if v.kind != "name":
                    raise ParseError("the variable must be a symbol", text=self.cell, pos=v.pos, end=v.end)
                self.symbol(v.value, v)
            body = t.body
            if body.kind == "name" and body.value in FUNCTION_LIKE and body.value not in self.defs \
                    and body.value not in self.declared:
                raise ParseError(f"{body.value} is not defined in this cell: add a definition such as "
                                 f"{body.value} = … (otherwise its derivative would be 0)",
                                 text=self.cell, pos=body.pos, end=body.end)
            f = self.type(t.body)
            if t.kind in ("gradient", "hessian") and not t.scalar_variable \
                    and not (self.dims.is_one(f[0]) or self.dims.is_one(f[1])):   # d²/dt² of a matrix: shaped like it
                raise Mismatch(f"∇ needs a scalar (or vector) function, and this reading makes "
                               f"{self.show(t.body)} a {self.fmt(f)} matrix", t.body)
            if t.kind in ("gradient", "hessian", "higher") and t is self.first_target and not self.is_scalar(f) \
                    and not all(self.is_scalar(self.symbol(v.value, v)) for v in t.variables):
                self.nonscalar_gradient = True   # ∇_x of a vector function when x is no scalar: unusual
            for direction in t.directions or ([t.direction] if t.direction is not None else []):
                var = self.symbol(t.variables[0].value, t.variables[0])
                d = self.type(direction)
                self._same(var, d, t.variables[0], direction, "the direction must have the shape of the variable")
        self.freeze(targets[0].variables[0].value if targets and targets[0].variables else None)
        for t in targets:
            for c in t.claims:
                try:
                    self.run([c]) if isinstance(c, Target) else self.type(c)
                except Mismatch as exc:
                    self.claim_errors[id(c)] = exc.message
                    if exc.refused:
                        self.refusals.append(exc)

    def freeze(self, variable: str | None = None) -> None:
        """Name every still-free dimension (n, m, p, ...), so that a claim is read against the
        shapes the target fixed and cannot bend them (a claim that does not fit is false)."""
        used = set(self.kinds) | set(self.declared) | {v for v in self.dims.value if isinstance(v, str)}
        pool = [n for n in DIM_POOL if n not in used]
        first = self.sym_dims[variable] if variable in self.sym_dims else None
        if first and self.dims.get(first[0]) is None and self.dims.get(first[1]) is None and "m" in pool and "n" in pool:
            pool = ["m", "n"] + [n for n in pool if n not in ("m", "n")]  # X ∈ ℝ^{m×n}, as textbooks write it
        for r, c in ([first] if first else []) + list(self.sym_dims.values()) + list(self.shape.values()):
            for d in (r, c):
                root = self.dims.find(d)
                if self.dims.value[root] is None:
                    self.dims.value[root] = pool.pop(0) if pool else f"n_{root}"

    def _same(self, a, b, na: Node, nb: Node, what: str):
        def err():
            return Mismatch(f"{what}: {self.show(na)} ({self.fmt(a)}) and {self.show(nb)} ({self.fmt(b)})", nb)
        self.unify(a[0], b[0], err)
        self.unify(a[1], b[1], err)

    def type(self, node: Node, elementwise: bool = False):
        s = self._type(node, elementwise)
        self.shape[id(node)] = s
        return s

    def _type(self, node: Node, ew: bool):
        k = node.kind
        if k == "num":
            return (ONE_DIM, ONE_DIM)
        if k == "name":
            return self._name(node)
        if k == "font_one":
            return (self.dims.new(not_one=True), ONE_DIM)
        if k in ("add", "sub"):
            a, b = self.type(node.args[0], ew), self.type(node.args[1], ew)
            return self._sum(node, a, b, ew)
        if k == "neg":
            return self.type(node.args[0], ew)
        if k == "ew":
            return self.type(node.args[0], True)
        if k == "scalar":
            a = self.type(node.args[0], ew)
            if not self.is_scalar(a):
                raise Mismatch(f"{self.show(node.args[0])} ({self.fmt(a)}) must be a scalar: "
                               "it does not carry the summation index", node)
            return a
        if k == "hpow":
            if _exponent(node.args[1]) is None:
                raise ParseError("an exponent must be a number", text=self.cell, pos=node.pos, end=node.end)
            return self.type(node.args[0], True)
        if k == "mul":
            a, b = self.type(node.args[0], ew), self.type(node.args[1], ew)
            return self._product(node, a, b)
        if k == "div":
            return self._division(node, ew)
        if k == "frac":
            return self._division(node, ew)
        if k in ("hadamard", "hdiv"):
            a, b = self.type(node.args[0], True), self.type(node.args[1], True)
            return self._sum(node, a, b, True, word="take the elementwise product of")
        if k == "limit":   # \lim_{h → 0} N(h)/h: N'(0), shaped like N; h a scalar
            var, body = node.args
            if body.kind not in ("frac", "div") or body.args[1].kind != "name" or body.args[1].value != var.value:
                h = self.show(var)
                raise Mismatch(f"a limit is read as a difference quotient \\frac{{F({h}) - F(0)}}{{{h}}}, and this "
                               "one is not", node, refused=True)
            h = self.symbol(var.value, var)
            self.unify(h[0], ONE_DIM, lambda: Mismatch(f"the variable {var.value} of a limit must be a scalar", var))
            self.unify(h[1], ONE_DIM, lambda: Mismatch(f"the variable {var.value} of a limit must be a scalar", var))
            return self.type(body.args[0])
        if k == "inner":   # ⟨A, X⟩ = A : X = tr(AᵀX), of two operands of one shape
            a, b = self.type(node.args[0]), self.type(node.args[1])
            self._same(a, b, node.args[0], node.args[1], "an inner product needs two operands of one shape")
            return (ONE_DIM, ONE_DIM)
        if k == "pow":
            return self._power(node, ew)
        if k == "func":
            return self._func(node)
        if k == "norm":
            self.type(node.args[0])
            return (ONE_DIM, ONE_DIM)
        if k == "bars":
            a = self.type(node.args[0], ew)
            return (ONE_DIM, ONE_DIM) if not self.is_scalar(a) and self._square_maybe(a) else a
        if k == "call":
            return self._call(node, ew)
        if k == "derivative":
            return self._derivative(node)
        if k == "entry":
            return self._entry(node)
        if k == "matrix":
            return self._matrix(node)
        if k == "unit":    # e_k: a column with at least k entries
            b = (self.dims.new(not_one=True), ONE_DIM)
            self._has_entry(node, b, node.value[0], node.value[1])
            return b
        if k == "basis":   # e_k of ∂/∂x_k: x has at least k entries
            b = self.type(node.args[0])
            self._has_entry(node, b, node.value[0], node.value[1])
            return b
        if k in ("dots", "empty"):
            raise ParseError("a pattern with \\dots is read only as the entries of a matrix (\\begin{bmatrix} … "
                             "\\end{bmatrix}, or [x_1 \\quad \\dots \\quad x_n]) with its first and last entries written"
                             if k == "dots"
                             else "an empty entry is read only inside a pattern with \\dots",
                             text=self.cell, pos=node.pos, end=node.end)
        if k in ("nabla", "partial", "directional", "top"):
            raise ParseError("a derivative operator must come first on its side of '='",
                             text=self.cell, pos=node.pos, end=node.end)
        if k == "directions":
            raise ParseError("a derivative along several directions, D^2 f(x)[u, v], must come first on its side of "
                             "'='", text=self.cell, pos=node.pos, end=node.end)
        raise ParseError(f"unsupported notation ({k})", text=self.cell, pos=node.pos, end=node.end)

    def _square_maybe(self, a) -> bool:
        return self.dims.unify(a[0], a[1])

    def _name(self, node: Node):
        name = node.value
        if name in self.defs:
            return self._definition(name, node)
        if name == "I" and name not in self.declared:
            n = self.dims.new(not_one=True)
            self.special[id(node)] = "identity"
            return (n, n)
        if _special_name(name) and name.startswith("I_") and name not in self.declared:
            n = self.dim_of(_dim_value(name[2:].strip("{}")))
            self.special[id(node)] = "identity"
            return (n, n)
        return self.symbol(name, node)

    def _definition(self, name: str, node: Node):
        d = self.defs[name]
        if d.params:
            for p in d.params:
                self.symbol(p, node)
        if name not in self.def_shapes:
            self.def_shapes[name] = None
            self.def_shapes[name] = self.type(d.body)
        elif self.def_shapes[name] is None:
            raise ParseError(f"{name} is defined in terms of itself", text=self.cell, pos=node.pos, end=node.end)
        return self.def_shapes[name]

    def _call(self, node: Node, ew: bool):
        head, args = node.args[0], node.args[1:]
        name = head.value if head.kind == "name" else None
        if name in self.defs:
            d = self.defs[name]
            if len(d.params) != len(args):
                raise ParseError(f"{name} takes {len(d.params)} argument(s)", text=self.cell, pos=node.pos, end=node.end)
            for p, a in zip(d.params, args):
                pa = self.symbol(p, head)
                aa = self.type(a, ew)
                self._same(pa, aa, head, a, f"the argument of {name} must have the shape of {p}")
            return self._definition(name, head)
        if name in self.functions:
            return self._function(node, name, args, ew)
        if len(args) != 1 or (args[0].kind == "name" and head.kind == "name" and name not in self.declared):
            raise ParseError(f"{self.show(head)} is not defined: define it first ({self.show(node)} = …), "
                             f"or write {self.show(head)} \\cdot ({self.show(args[0])}) for a product",
                             text=self.cell, pos=head.pos, end=head.end)
        a = self.type(head, ew)
        b = self.type(args[0], ew)
        return self._product(node, a, b)

    def _derivative(self, node: Node):
        """The shape of a derivative used as a value, in the cell's layout (∇: the denominator layout)."""
        body, var = node.args[:2]
        if node.value == "directional":   # D f(x)[v]: shaped like the function; v like x
            f = self.type(body)
            var = self.derivative_variable(node)
            x = self.symbol(var.value, var) if var.kind == "name" else self.type(var)
            self._same(x, self.type(node.args[2]), var, node.args[2], "the direction must have the shape of the variable")
            return f
        head = body.args[0] if body.kind == "call" else body
        if var.kind != "name" and node.value == "jacobian" and not (head.kind == "name" and head.value in self.defs):
            raise Mismatch(f"a derivative by an expression, {self.show(var)}, is read for a function written in it: "
                           f"define {self.show(head)} in this cell (or the page)", node, refused=True)
        f = self.type(body)
        if var.kind != "name":   # ∇f(AXB): at a point
            x = self.type(var)
        else:
            x = self._definition(var.value, var) if var.value in self.defs else self.symbol(var.value, var)
        layout = "denominator" if node.value == "gradient" else self.layout
        if node.value == "dmatrix":   # D h(x): the Jacobian, or (as some notes write it) the gradients as columns
            layout = "denominator" if self.gradient_columns else "numerator"
        if node.value == "jmatrix":   # J_h(x): the Jacobian, in either layout
            layout = "numerator"
        if node.value == "prime":     # f'(u): of a scalar u, shaped like f(u); σ'(z), tanh'(z): entry by entry
            if body.kind == "func" and body.value in ELEMENTWISE:
                return x
            layout = "numerator"
            if not self.is_scalar(x):
                raise Mismatch(f"{self.show(node)}: a prime is read for a function of a scalar (or σ' entry by "
                               f"entry), and {self.show(var)} is {self.fmt(x)} here: write \\nabla f(x) or "
                               "J_f(x) (an arbitrary function applied entry by entry is not read yet)", node,
                               refused=True)
        column = lambda s: self.dims.is_one(s[1])   # noqa: E731
        if node.value == "gradient" and not self.is_scalar(f):
            self.nonscalar_gradient = True   # ∇g(u) of a vector-valued g: unusual, as for ∇_x
        if self.is_scalar(f):
            if self.is_scalar(x) or layout == "denominator":
                return x
            return (x[1], x[0])
        if column(f) and self.is_scalar(x):
            return f if layout == "numerator" else (f[1], f[0])
        if column(f) and column(x):
            return (f[0], x[0]) if layout == "numerator" else (x[0], f[0])
        raise Mismatch(f"the derivative of {self.show(body)} ({self.fmt(f)}) by {self.show(var)} ({self.fmt(x)}) "
                       "inside an expression is not read yet (only of scalars and vectors)", node)

    def _entry(self, node: Node):
        """``x_2``: an entry of x (a scalar); x then has at least 2 rows."""
        base = node.args[0]
        i, j, matrix = node.value
        if isinstance(i, str) or isinstance(j, str):
            raise ParseError("an entry by a free index, (…)_{ij}, is read when the line states it for every i and j "
                             "(an index of a derivative, such as ∂y_i/∂x_j); here it is not", text=self.cell,
                             pos=node.pos, end=node.end)
        b = self.type(base)
        what = self.show(base)
        if not matrix:
            self.unify(b[1], ONE_DIM, lambda: Mismatch(
                f"{self.show(node)} reads as an entry of the vector {what}, which is {self.fmt(b)} here", node))
        self._has_entry(node, b, i, j)
        return (ONE_DIM, ONE_DIM)

    def _has_entry(self, node: Node, b, i: int, j: int) -> None:
        """The value of shape ``b`` has an entry (i, j) (0-based): x_2 needs more than one row."""
        for d, k in ((b[0], i), (b[1], j)):
            if k > 0 and not self.dims.unify(d, self.dims.new(not_one=True)):
                raise Mismatch(f"{self.show(node)} reads as an entry of {self.show(node.args[0])}, which is "
                               f"{self.fmt(b)} here", node, refused=True)
        self.least_size += [(b[0], i + 1), (b[1], j + 1)]

    def _matrix(self, node: Node):
        """``\\begin{bmatrix} … \\end{bmatrix}`` with scalar entries, or its determinant (vmatrix)."""
        rows = [list(r.args) for r in node.args]
        width = len(rows[0])
        for r, row in zip(node.args, rows):
            if any(cell.kind in ("dots", "empty") for cell in row):
                raise ParseError("a pattern with \\dots (a general n-dimensional matrix) is recognised but "
                                 "not read yet: write its entries at a concrete size to check it",
                                 text=self.cell, pos=node.pos, end=node.end)
            if len(row) != width:
                raise ParseError(f"the rows of this matrix have {width} and {len(row)} entries",
                                 text=self.cell, pos=r.pos, end=r.end)
        shapes = [[self.type(cell) for cell in row] for row in rows]
        blocks = [(cell, c) for row, cs in zip(rows, shapes) for cell, c in zip(row, cs) if not self.is_scalar(c)]
        if blocks and node.value != "det" and (len(rows) == 1 or width == 1):
            return self._concatenation(node, [c for cs in shapes for c in cs], across=len(rows) == 1)
        for row, cs in zip(rows, shapes):
            for cell, c in zip(row, cs):
                if not (self.dims.unify(c[0], ONE_DIM) and self.dims.unify(c[1], ONE_DIM)):
                    raise Mismatch(f"{self.show(cell)} is {self.fmt(c)}: a matrix written in blocks (entries "
                                   "that are vectors or matrices) is read as one row of columns or one column "
                                   "of rows; write this one's entries", cell, refused=True)
        if node.value == "det":
            if len(rows) != width:
                raise ParseError(f"a determinant needs a square matrix, and this one is {len(rows)}×{width}",
                                 text=self.cell, pos=node.pos, end=node.end)
            return (ONE_DIM, ONE_DIM)
        return (self.dim_of(len(rows)), self.dim_of(width))

    def _concatenation(self, node: Node, shapes: list, across: bool):
        """``(\\nabla h_1, …, \\nabla h_n)``: columns side by side (k×n), or rows one under another."""
        common = shapes[0][0] if across else shapes[0][1]
        for cell, c in zip((c for r in node.args for c in r.args), shapes):
            inner, outer = (c[0], c[1]) if across else (c[1], c[0])
            if not (self.dims.unify(outer, ONE_DIM) and self.dims.unify(inner, common)):
                raise Mismatch(f"{self.show(cell)} is {self.fmt(c)}: side by side, every entry must be a column of "
                               f"one size" if across else f"{self.show(cell)} is {self.fmt(c)}: one under another, "
                               "every entry must be a row of one size", cell, refused=True)
        self.special[id(node)] = "columns" if across else "rows"
        count = self.dim_of(len(shapes))
        return (common, count) if across else (count, common)

    def derivative_variable(self, node: Node) -> Node:
        """What a derivative value is taken by: its variable, a point (``Dg(h(x))[c]``), or for
        ``D(A x)[v]`` the variable of the cell's first derivative."""
        var = node.args[1]
        if var is not None:
            return var
        if self.first_target is None or not self.first_target.variables:   # D(Ax)[v] in a line of values
            from .operators import guess_variable
            try:
                return guess_variable(node, node.args[0])
            except ParseError:
                raise ParseError("D(…)[v] needs a variable: state the derivative first, e.g. D f(x)[v] = …",
                                 text=self.cell, pos=node.pos, end=node.end) from None
        return self.first_target.variables[0]

    def _function(self, node: Node, name: str, args, ew: bool):
        """``f(u)`` for an arbitrary function: u a scalar or a column; the value a scalar or a column."""
        decl = self.functions.get(name)
        if decl is not None and decl.bilinear:
            return self._bilinear(node, name, args)
        if len(args) != 1:
            raise ParseError(f"{name} is applied to {len(args)} arguments: an arbitrary function here takes one "
                             "(a scalar or a vector)", text=self.cell, pos=node.pos, end=node.end)
        arg = args[0]
        a = self.type(arg)
        decl = self.functions.get(name)

        def err(what):
            return lambda: Mismatch(f"{name} is applied to {self.show(args[0])} ({self.fmt(a)}), {what}", node)
        if decl is not None:
            want = (self.dim_of(decl.domain[0]), self.dim_of(decl.domain[1]))
            self.unify(a[0], want[0], err(f"not to a point of its domain ℝ^{decl.domain[0]}"))
            self.unify(a[1], want[1], err(f"not to a point of its domain ℝ^{decl.domain[0]}"))
            return (self.dim_of(decl.codomain[0]), self.dim_of(decl.codomain[1]))
        if not self.dims.unify(a[1], ONE_DIM):   # of a matrix: a scalar function, f: ℝ^{m×n} → ℝ
            value = self.symbol(name, node.args[0])
            for d in value:
                self.unify(d, ONE_DIM, err("a matrix: an arbitrary function of a matrix is read with scalar "
                                           "values (f: ℝ^{m×n} → ℝ)"))
        if name in self.domains:
            if self.is_scalar(a) != self.is_scalar(self.domains[name]):   # f(x) and f(x_i): f entry by entry
                raise Mismatch(f"{name} is applied to a scalar and to a vector ({self.show(args[0])} is "
                               f"{self.fmt(a)}): an arbitrary function applied entry by entry is not read yet; "
                               f"define {name} (e.g. {name}(u) = \\tanh(u)) to check it", node, refused=True)
            self._same(self.domains[name], a, node, args[0], f"{name} must be applied to arguments of one shape")
        else:
            self.domains[name] = a
        return self.symbol(name, node.args[0])

    def _bilinear(self, node: Node, name: str, args):
        """``B(u, w)`` of a bilinear map: two scalars or columns, each of one shape wherever B is
        applied; the value a scalar or a column (from use)."""
        if len(args) != 2:
            raise ParseError(f"{name} is a bilinear map: it takes two arguments, not {len(args)}",
                             text=self.cell, pos=node.pos, end=node.end)
        shapes = tuple(self.type(a) for a in args)
        for arg, a in zip(args, shapes):
            self.unify(a[1], ONE_DIM, lambda arg=arg, a=a: Mismatch(
                f"{name} is applied to {self.show(arg)} ({self.fmt(a)}): a bilinear map is read on scalars and vectors",
                node))
        if name not in self.domains:   # the shapes of its arguments, then of its values (a column)
            self.domains[name] = (*shapes, (self.dims.new(), ONE_DIM))
        for k, (arg, a) in enumerate(zip(args, shapes)):
            self._same(self.domains[name][k], a, node, arg, f"{name} must be applied to arguments of one shape")
        return self.domains[name][2]

    def _sum(self, node, a, b, ew, word="add"):
        sa, sb = self.is_scalar(a), self.is_scalar(b)
        if sa != sb:
            scalar_node = node.args[0] if sa else node.args[1]
            bare = scalar_node.kind == "name" and scalar_node.value not in self.declared \
                and scalar_node.value not in self.defs
            if _constant(scalar_node) or (ew and not bare):
                self.broadcasts.add(id(scalar_node))
                return b if sa else a
        na, nb = node.args

        def err():
            return Mismatch(f"cannot {word} {self.show(na)} ({self.fmt(a)}) and {self.show(nb)} ({self.fmt(b)})", node)
        self.unify(a[0], b[0], err)
        self.unify(a[1], b[1], err)
        return a

    def _product(self, node, a, b):
        if self.is_scalar(a):
            return b
        if self.is_scalar(b):
            return a
        na, nb = node.args[0], node.args[-1]
        if node.kind == "mul" and node.value == "explicit" and self.dims.is_one(a[1]) and self.dims.is_one(b[1]) \
                and not self.dims.is_one(b[0]):   # a · b of two columns: the inner product aᵀb
            self._same(a, b, na, nb, "the inner product a · b needs vectors of one size")
            self.special[id(node)] = "inner"
            return (ONE_DIM, ONE_DIM)

        def err():
            ra, rb = self.dims.get(a[1]), self.dims.get(b[0])
            why = f": {ra} ≠ {rb}" if ra is not None and rb is not None else ""
            return Mismatch(f"cannot multiply {self.show(na)} ({self.fmt(a)}) by {self.show(nb)} ({self.fmt(b)}){why}", node)
        self.unify(a[1], b[0], err)
        return (a[0], b[1])

    def _division(self, node, ew):
        a, b = self.type(node.args[0], ew), self.type(node.args[1], ew)
        if self.is_scalar(b):
            return a
        if self.is_scalar(a) and _constant(node.args[0]):
            return b
        return self._sum(node, a, b, True, word="divide elementwise")

    def _power(self, node, ew):
        base, exp = node.args
        if base.kind == "name" and base.value == "e" and "e" not in self.declared and not _is_transpose(exp):
            return self._maybe_matrix_function(node, self.type(exp, True))
        a = self.type(base, ew)
        if _is_transpose(exp):
            return (a[1], a[0])
        if exp.kind == "neg" and _is_transpose(exp.args[0]):
            self._require_square(node, a)
            return (a[1], a[0])
        q = _exponent(exp)
        if q is None:
            raise ParseError("an exponent must be a number, T or -1", text=self.cell, pos=exp.pos, end=exp.end)
        if self.is_scalar(a) or (ew and self._vector(a)):
            return a   # a power of a vector is elementwise; of a matrix, the matrix power
        if q.denominator == 1:
            self._require_square(node, a)
            return a
        if self._square_maybe(a):
            self.special[id(node)] = "matrix_function"   # X^{1/2}: the matrix square root
            return a
        raise Mismatch(f"cannot raise {self.show(base)} ({self.fmt(a)}) to the power {q}: it is not a scalar", node)

    def _maybe_matrix_function(self, node: Node, a):
        """exp, log, sqrt, sin, cos of a matrix that can be square are matrix functions (e^{tA} is
        the matrix exponential); of a scalar or a vector, or of a matrix that cannot be square,
        they act on each entry."""
        if not self.is_scalar(a) and not self._vector(a) and self._square_maybe(a):
            self.special[id(node)] = "matrix_function"
        return a

    def _vector(self, a) -> bool:
        return self.dims.is_one(a[0]) or self.dims.is_one(a[1])

    def _require_square(self, node, a):
        def err():
            return Mismatch(f"{self.show(node.args[0])} ({self.fmt(a)}) is not square", node)
        self.unify(a[0], a[1], err)

    def _func(self, node: Node):
        name = node.value
        arg = node.args[0]
        if name in MATRIX_FUNCTIONS:
            return self._maybe_matrix_function(node, self.type(arg, True))
        if name in ELEMENTWISE:
            return self.type(arg, True)
        if is_spectral(name):
            return type_spectral(self, node)
        a = self.type(arg)
        if name == "pinv":   # X^{+}: shaped like Xᵀ
            return (a[1], a[0])
        if name in ("tr", "det"):
            if self.is_scalar(a):
                return a
            self._require_square(node, a)
            return (ONE_DIM, ONE_DIM)
        if name in ("softmax", "logsumexp"):
            if self.is_scalar(a):
                raise Mismatch(f"{name} needs a vector, not the scalar {self.show(arg)}", node)

            def err():
                return Mismatch(f"{name} needs a column vector, not {self.show(arg)} ({self.fmt(a)})", node)
            self.unify(a[1], ONE_DIM, err)
            return a if name == "softmax" else (ONE_DIM, ONE_DIM)
        if name == "diag":
            if self.dims.is_one(a[1]):
                return (a[0], a[0])  # diag(v): the diagonal matrix
            self._require_square(node, a)
            return (a[0], ONE_DIM)  # diag(X): the diagonal of a square matrix
        raise ParseError(f"unsupported function {name}", text=self.cell, pos=node.pos, end=node.end)

    # --- building expressions once the reading fits
    def build(self, targets: list[Target]) -> Reading:
        from .build import Builder
        return Builder(self).build(targets)


def _constant(node: Node) -> bool:
    if node.kind == "num":
        return True
    if node.kind in ("neg", "add", "sub", "mul", "div", "frac"):
        return all(_constant(a) for a in node.args if isinstance(a, Node))
    return False




def _exponent(exp: Node) -> Fraction | None:
    if exp.kind == "num":
        return exp.value
    if exp.kind == "neg":
        inner = _exponent(exp.args[0])
        return None if inner is None else -inner
    if exp.kind in ("frac", "div"):
        a, b = _exponent(exp.args[0]), _exponent(exp.args[1])
        return None if a is None or b in (None, 0) else a / b
    return None


def _dim_value(text: str):
    return int(text) if text.isdigit() else text


__all__ = ["read", "Reading", "ONE"]
