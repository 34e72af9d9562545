"""``derive()``: the pipeline parse → shapes → differentiate → layout → simplify → render/check."""
from __future__ import annotations

import copy
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import check as numeric
from . import limits
from .errors import DerivError, LimitError, ParseError
from .expr import Expr, size, substitute
from .claims import judge_chain, source_latex
from .render import to_text
from .report import operator_latex, operator_text
from .higher import multilinear
from .layout import Answer, solve, solve_many, solve_named
from .parse import parse_cell
from .syntax import Node, Remark, Target
from .shapes import Reading, read
from .symmetric import note as symmetric_note
from .symmetric import option as symmetric_option
from .symmetric import using as symmetric_convention

LAYOUTS = ("numerator", "denominator")
MULTILINEAR = ("higher", "mixed")
DEFAULTS = {"layout": "numerator"}


@dataclass
class Derivation:
    cell: str
    reading: Reading
    answer: Answer
    check: numeric.Check | None
    claims: list = field(default_factory=list)
    answers: list = field(default_factory=list)   # one per variable of ∇_{W,b}
    named: list = field(default_factory=list)     # the answers written with the cell's definitions' names
    where: list = field(default_factory=list)     # (name, its definition) for the names the result uses

    @property
    def results(self) -> dict:
        """Every variable's derivative by name (one entry for a single variable)."""
        from .tosympy import to_sympy
        return {a.var.name: to_sympy(a.result) for a in (self.answers or [self.answer])}

    # --- the contract
    @property
    def result(self):
        from .tosympy import to_sympy
        return to_sympy(self.answer.result, self.reading.dims)

    @property
    def warnings(self) -> list[str]:
        """Where the reading had to choose between meanings that give derivatives of different
        shapes, what it chose and how to say otherwise."""
        return list(self.reading.warnings)

    @property
    def function(self):
        """What was differentiated, as read: the function as a SymPy expression (``MatrixExpr`` or
        scalar ``Expr``) built from the cell's symbols, definitions substituted."""
        from .tosympy import to_sympy
        return to_sympy(self.reading.targets[0][2], self.reading.dims)

    @property
    def symbols(self) -> dict:
        from .tosympy import to_sympy
        return {name: to_sympy(s, self.reading.dims) for name, s in self.reading.symbols.items()}

    @property
    def shape(self) -> tuple:
        from .tosympy import sympy_dim
        return tuple(sympy_dim(d) for d in self.answer.result.shape)

    @property
    def steps(self) -> list:
        """The steps as shown: on the definitions' names, unless ``expand=True`` or the cell has none."""
        every = self.shown_answers
        if len(every) > 1:
            shared = every[0].steps[:-1]
            return shared + [a.steps[-1] for a in every]
        return every[0].steps

    @property
    def shown_answers(self) -> list:
        """The answers as printed: written with the names of the cell's definitions when it has
        them (each stands for ``answers``' result with the names substituted, and is checked as such)."""
        return list(self.named or self.answers or [self.answer])

    @property
    def layout(self) -> str:
        return self.answer.layout

    @property
    def expr(self) -> Expr:
        """The result in derivmagic's own expression form."""
        return self.answer.result

    @property
    def latex(self) -> str:
        from .report import derivation_latex
        return derivation_latex(self)

    @property
    def text(self) -> str:
        from .report import derivation_text
        return derivation_text(self)

    def __str__(self) -> str:
        return self.text

    def to_tex(self) -> str:
        """A standalone LaTeX document (amsmath) of the derivation, for homework."""
        from .report import document_tex
        return document_tex(self)

    def to_function(self, backend: str = "numpy"):
        """A Python function ``(arrays...) -> (value, derivative)`` for numpy, jax or torch."""
        from .codegen import to_function
        return to_function(self, backend)

    def to_source(self, backend: str = "numpy") -> str:
        """The source of ``to_function``'s function."""
        from .codegen import function_source
        return function_source(self, backend)

    def _repr_latex_(self) -> str:
        return f"$${self.latex}$$"

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.text, "text/latex": self._repr_latex_()}


def derive(cell: str, layout: str | None = None, check: bool = True, seed: int = 0,
           dims: dict | None = None, expand: bool = False, symmetric: str | None = None, **options) -> Derivation:
    """Differentiate what a ``%%derive`` cell asks for; see the README for the notation.

    ``layout``: "numerator" or "denominator" (default: ``DEFAULTS["layout"]``); ``check``: run the
    numeric check; ``seed`` and ``dims`` (``{"n": 5}``): its random values and sizes; ``expand``:
    show the steps and the result with every definition substituted, instead of on their names;
    ``symmetric``: the gradient by a symmetric matrix (``S \\in \\mathbb{S}^n``), "independent" (the
    default: every entry independent), "sym" (on the symmetric matrices, (G + Gᵀ)/2) or "cookbook" (the
    Matrix Cookbook's 2G − G∘I)."""
    layout = _layout(layout, options, seed)
    convention = symmetric_option(symmetric)
    limits.check_cell(cell)
    try:
        with limits.budget(cell), limits.deep_enough(), symmetric_convention(convention):
            return _derive(cell, layout, check, seed, dims, expand)
    except RecursionError:
        raise LimitError("this formula nests too deeply to read; split it with definitions such as u = …, "
                         "or raise derivmagic.limits.LIMITS['recursion']",
                         text=cell, pos=0, end=len(cell.split("\n", 1)[0])) from None


def derive_all(cell: str, layout: str | None = None, check: bool = True, seed: int = 0,
               dims: dict | None = None, expand: bool = False, symmetric: str | None = None,
               **options) -> list[Derivation]:
    """Every derivation of a cell or a pasted page, in order: each derivative target starts one;
    definitions and declarations before the next target apply to it (and so to later ones).
    The options are ``derive``'s."""
    layout = _layout(layout, options, seed)
    convention = symmetric_option(symmetric)
    limits.check_cell(cell)
    try:
        with limits.deep_enough(), symmetric_convention(convention):
            statements = parse_cell(cell)
            groups = derivations_of(statements)
            if not groups:
                raise ParseError("nothing to differentiate: add a target such as \\nabla_x f", text=cell, pos=0)
            out = []
            for group in groups:
                with limits.budget(cell):
                    out.append(_derive_statements(cell, group, layout, check, seed, dims, expand=expand))
            return out
    except RecursionError:
        raise LimitError("this formula nests too deeply to read; split it with definitions such as u = …, "
                         "or raise derivmagic.limits.LIMITS['recursion']",
                         text=cell, pos=0, end=len(cell.split("\n", 1)[0])) from None


def derivations_of(statements: list) -> list[list]:
    """The statements of each derivation: its target, and every other statement before the next
    target (definitions and declarations carry over to later derivations)."""
    where = [i for i, s in enumerate(statements) if isinstance(s, Target)]
    groups = []
    for k, i in enumerate(where):
        stop = where[k + 1] if k + 1 < len(where) else len(statements)
        groups.append([s for j, s in enumerate(statements[:stop])
                       if j == i or not isinstance(s, (Target, Remark)) or (isinstance(s, Remark) and j > i)])
    return groups


def _derive(cell: str, layout: str, check: bool, seed: int, dims: dict | None, expand: bool) -> Derivation:
    statements = parse_cell(cell)                                       # parse
    targets = [s for s in statements if isinstance(s, Target)]
    if len(targets) > 1 and sum(not t.rewriting for t in targets) == 1:   # f(x) = A = B, then ∇_x f
        statements = [s for s in statements if not (isinstance(s, Target) and s.rewriting)]
        statements.append(Remark("the rewritings of a definition (f(x) = A = B) are judged by derive_all() and in "
                                 "the notebook; derive() returns the derivative"))
        targets = [s for s in statements if isinstance(s, Target)]
    if len(targets) > 1:
        raise ParseError("a second derivative in the cell: derive() returns one derivation; use derive_all() "
                         "for every derivation of a cell (the notebook and the command line show them all)",
                         text=cell, pos=targets[1].pos, end=targets[1].end)
    return _derive_statements(cell, statements, layout, check, seed, dims, expand=expand)


def _derive_statements(cell: str, statements: list, layout: str, check: bool, seed: int,
                       dims: dict | None, other_layout: bool = True, expand: bool = False) -> Derivation:
    original, statements = statements, copy.deepcopy(statements)       # reading rewrites the trees
    reading = read(statements, cell, layout)                            # shapes
    target, variables, body, direction, sides = _target(reading, statements, cell)
    if target.kind == "value":                                          # a line of values: nothing to differentiate
        answers = [_value_answer(cell, reading, target, body, layout)]
        inside = [a for a in reading.derivatives   # those of the cell's own symbols (not of y in ∂z/∂y)
                  if all(reading.symbols.get(s.name) is s for s in a.function.free | {a.var})]
        verdict = _verify(inside, reading, seed, dims) if check and inside else None
        claims = _judge_claims(cell, reading, target, answers[0], sides, layout, seed)
        _undefined_functions(answers[0].function, claims)
        _conditions(reading.notes, claims)
        return Derivation(cell, reading, answers[0], verdict, claims, answers, [], [])
    with _located_at(cell, target):                                     # differentiate, layout, simplify
        if _multilinear(target, variables, body):
            answers = [multilinear(body, _passes(target, variables), layout,
                                   list(direction) if isinstance(direction, tuple) else None)]
            reading.notes += [f"{to_text(s)} stands for the direction {to_text(d)}, held fixed while differentiating"
                              for s, d in answers[0].held]
        elif len(variables) > 1:
            answers = solve_many(target.kind, body, variables, layout)
        else:
            answers = [solve(target.kind, body, variables[0], layout, direction)]
    for answer in answers:
        limits.check_size(size(answer.result), "the derivative", text=cell, pos=target.pos, end=target.end)
        if answer.convention:   # by a symmetric matrix: which gradient, in words
            said = symmetric_note(answer.convention, answer.var)
            if said not in reading.notes:
                reading.notes.append(said)
    named, where = ([], []) if expand else _on_names(reading, target, variables, answers, layout, cell)
    verdict = _verify(answers + _meanings(named, answers, where), reading, seed, dims) if check else None
    claims = _judge_claims(cell, reading, target, answers[0], sides, layout, seed)
    if other_layout and any(not c.holds for c in claims) and _has_derivative_values(target):
        _diagnose_layout(cell, original, layout, seed, claims)
    _undefined_functions(answers[0].function, claims)
    _conditions(reading.notes, claims)
    return Derivation(cell, reading, answers[0], verdict, claims, answers, named, where)


def _multilinear(target, variables: list, body=None) -> bool:
    """A derivative of order 3 or more, a mixed one, a multilinear form D^k f[…], a second
    derivative by a matrix, or of a vector by a scalar: answered as a multilinear form."""
    by_scalar = variables[0].shape == (1, 1) and (target.scalar_variable or (body is not None and not body.is_scalar))
    return target.kind in MULTILINEAR or (target.kind == "hessian" and (variables[0].shape[1] != 1 or by_scalar)) \
        or (target.kind == "directional" and target.order > 1)


def _passes(target, variables: list) -> list:
    """The variable of each differentiation, in order."""
    return variables * 2 if target.kind == "hessian" else variables


def _value_answer(cell: str, reading: Reading, target, body, layout: str) -> Answer:
    """The first side of a line of values, its derivatives worked out (the links after it are the
    claims); shown as written. Its symbol of reference is a variable of a derivative inside it."""
    inside = [a.var for a in reading.derivatives]
    symbols = [s for s in reading.symbols.values() if body.depends(s)]
    var = (inside or symbols or list(reading.symbols.values()) or [None])[0]
    if var is None:
        raise ParseError("this line has no symbol to read: nothing to check", text=cell, pos=target.pos, end=target.end)
    limits.check_size(size(body), "the value", text=cell, pos=target.pos, end=target.end)
    what = "its derivatives worked out" if reading.derivatives else "no derivative in it"
    answer = Answer("value", layout, body, var, body, body, None, [], f"the value of the line as written ({what})")
    from .page import strip_decorations, unwrap
    answer.written = " ".join(strip_decorations(unwrap(cell))[target.pos:target.end].split())
    return answer


def _definitions_hold_derivatives(reading: Reading) -> bool:
    """v = u^T ∇_x u: a definition with a derivative inside is shown substituted (its name would hide
    that its value depends on the variable through the derivative)."""
    builder = getattr(reading, "builder", None)
    defs = builder.t.defs.values() if builder is not None else ()

    def has(node) -> bool:
        return isinstance(node, Node) and (node.kind == "derivative" or any(has(a) for a in node.args))
    return any(has(d.body) for d in defs)


def _on_names(reading: Reading, target, variables: list, answers: list, layout: str, cell: str):
    """The answers written with the cell's definitions' names, and the ``where`` line's
    definitions; ``([], [])`` when the function uses no definition, for a Hessian or a
    directional derivative, or when the derivative cannot be read off on the names (the
    substituted form, already derived, is shown then)."""
    from .names import named_forms
    kind = answers[0].kind
    if kind not in ("gradient", "jacobian") or _definitions_hold_derivatives(reading):
        return [], []
    named = named_forms(reading, variables)
    if named is None:
        return [], []
    try:
        with _located_at(cell, target):
            shown = solve_named(kind, named, variables, layout)
    except LimitError:
        raise
    except DerivError:
        return [], []
    for a in shown:
        limits.check_size(size(a.result), "the derivative", text=cell, pos=target.pos, end=target.end)
    return shown, named.where([a.result for a in shown])


def _meanings(named: list, answers: list, where) -> list:
    """Each named answer with the names substituted: what the numeric check verifies."""
    if not named:
        return []
    meanings = dict(named[0].steps[-1].meanings)
    out = []
    for shown, answer in zip(named, answers):
        out.append(Answer(answer.kind, answer.layout, answer.function, answer.var,
                          substitute(shown.result, meanings), substitute(shown.pairing, meanings),
                          answer.dsym, [], answer.description, convention=answer.convention))
    return out


def _conditions(notes: list[str], claims: list) -> None:
    """``= 2Ax \\quad (\\text{when } A \\text{ is symmetric})``: a link true exactly under the condition
    written beside it holds under that condition, and says so."""
    import re
    symmetric = {m.group(1) for n in notes for m in re.finditer(r"\b(?:when|if)\s+(\w+)\s+is\s+symmetric", n)}
    for claim in claims:
        m = re.match(r"true only if (\w+) = ", claim.reason or "")
        if not claim.holds and getattr(claim, "diagnosis", "") == "symmetric" and m and m.group(1) in symmetric:
            claim.holds = True
            claim.method = "conditional"
            claim.reason = f"when {m.group(1)} is symmetric, as written beside it"


def _undefined_functions(function, claims: list) -> None:
    """``\\frac{\\partial z}{\\partial x} = W`` with z defined nowhere: z is read as an arbitrary
    function, and a claim that never mentions it cannot hold for every z. Say that the cell lacks
    z's definition, rather than only that the claim is false."""
    from .expr import postorder
    from .rules.abstract import FunctionApply, FunctionDerivative
    names = sorted({n.name for n in postorder(function) if isinstance(n, (FunctionApply, FunctionDerivative))})
    if not names:
        return
    for claim in claims:
        claimed = getattr(claim, "claimed", None)
        if claim.holds or getattr(claim, "shown", None):
            continue
        if claimed is None:   # shapes that do not fit: the names as written (∂J/∂W = δᵀxᵀ)
            source = getattr(claim, "source", "")
            mentioned = {n for n in names if re.search(rf"(?<![A-Za-z\\]){re.escape(n)}(?![A-Za-z])", source)}
        else:
            mentioned = {n.name for n in postorder(claimed) if isinstance(n, (FunctionApply, FunctionDerivative))}
        missing = [n for n in names if n not in mentioned]
        if missing:   # the claim never mentions the undefined function (Df(x)[v] = Dg(h(x))[…] with f unknown)
            which = ", ".join(missing)
            claim.diagnosis = "undefined"
            claim.reason = (f"{which} {'is' if len(missing) == 1 else 'are'} not defined here, so read as an "
                            f"arbitrary function; the claim cannot hold for every {missing[0]}: define "
                            f"{missing[0]} (e.g. {missing[0]} = …) to check it")


def _has_derivative_values(target) -> bool:
    def walk(n):
        return getattr(n, "kind", None) == "derivative" or any(walk(a) for a in getattr(n, "args", ()) if a is not None)
    return any(walk(c) for c in target.claims if not hasattr(c, "variables"))


def _diagnose_layout(cell: str, statements: list, layout: str, seed: int, claims: list) -> None:
    """A rule written in the other layout (∂z/∂x = ∂y/∂x ∂z/∂y in numerator layout) is said to be
    one, rather than only false."""
    other = "denominator" if layout == "numerator" else "numerator"
    try:
        again = _derive_statements(cell, statements, other, False, seed, None, other_layout=False, expand=True)
    except DerivError:
        return
    for claim, there in zip(claims, again.claims):
        if not claim.holds and there.holds:
            claim.reason = (f"true in {other} layout; in {layout} layout the factors come in the other order "
                            f"(use --layout {other} if your course does)")
            claim.diagnosis = "layout"


def _layout(layout: str | None, options: dict, seed: int) -> str:
    if options:
        raise TypeError(f"unknown option(s): {', '.join(sorted(options))}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    layout = layout or DEFAULTS["layout"]
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'numerator' or 'denominator', not {layout!r}")
    return layout


def _target(reading: Reading, statements: list, cell: str):
    """The cell's one derivative (target, variables, function, direction, claimed sides)."""
    reading.notes.extend(s.text for s in statements if isinstance(s, Remark))
    if len(reading.targets) != 1:
        extra = reading.targets[1][0]
        raise ParseError("one derivative per cell, please", text=cell, pos=extra.pos, end=extra.end)
    target, variables, body, direction, sides = reading.targets[0]
    if len(set(variables)) != len(variables) and not _multilinear(target, variables):
        raise ParseError("a variable is repeated", text=cell, pos=target.pos, end=target.end)
    for v in dict.fromkeys(variables):
        if not body.depends(v):
            reading.notes.append(f"the function does not depend on {v.name}: its derivative is 0")
    return target, variables, body, direction, sides


@contextmanager
def _located_at(cell: str, node):
    """Errors found while differentiating point at the derivative they concern."""
    try:
        yield
    except DerivError as exc:
        if exc.text is None:
            exc.text, exc.pos, exc.end = cell, node.pos, node.end
        raise


def _verify(answers: list, reading: Reading, seed: int, dims: dict | None) -> numeric.Check:
    verdicts = [numeric.verify(a, reading, seed, dims) for a in answers]
    if len(verdicts) == 1:
        return verdicts[0]
    worst = max(verdicts, key=lambda v: (not v.passed, v.max_error))
    return numeric.Check(all(v.passed for v in verdicts), worst.max_error, worst.dims,
                         sum(v.probes for v in verdicts), worst.message)


def _judge_claims(cell, reading, target, answer, sides, layout, seed) -> list:
    """Each ``=`` link after the target, judged against the line before it."""
    values = []
    for node, side in zip(target.claims, sides):
        if isinstance(side, tuple):  # the side is itself a derivative: its value is its result
            kind, var, body, _, direction = side
            with _located_at(cell, node):
                side = solve(kind, body, var, layout, direction).result
        values.append(side)  # an expression, or the ShapeError of a side that does not fit
    if not values:
        return []
    claims = judge_chain(answer, target.claims, values, cell, reading.symbols, reading.dims, seed)
    for claim, side in zip(claims, sides):
        if isinstance(side, tuple):   # shown as the derivative it is, not as its value
            kind, var, body, node, direction = side
            if node.combined:
                claim.shown = (source_latex(claim.source), claim.source)
            else:
                claim.shown = (operator_latex(kind, var, body, layout, direction),
                               operator_text(kind, var, body, layout, direction))
    return claims
