"""A whole derivation as LaTeX and as readable text, part by part:

1. Interpretation: every symbol with the shape it was read with, and the reading's notes;
2. Steps: the differential of each sub-expression, the rule beside it, and for a chain-rule
   step the two Jacobians it multiplies, each under an ``\\underbrace`` with its shape;
3. Result: boxed, with its shape and layout (one per variable of ``\\nabla_{W,b}``);
4. Claims, when the cell states ``= ...``: each link ✓ or ✗ with the reason and a counterexample;
5. Check: the sizes used, the largest error, and ✓ or a visible ✗ "unverified".

The LaTeX uses only what both KaTeX and MathJax accept (``aligned``, ``\\boldsymbol``,
``\\operatorname``, no ``\\label``), and only ASCII, so ``document_tex`` compiles with pdflatex.
Only commands on ``texsafe``'s allow-list appear: text from the cell (a remark, a name, a
claim as written) is re-printed or escaped, never passed through.

Rendering is a stage like the others: it runs inside the cell's work budget, and when a
result printed in full would be too long (definitions that each use the previous one twice
grow exponentially), it is printed through the names of the cell's definitions, which the
Interpretation then lists.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar

from . import limits
from .errors import DerivError
from .indexform import index_form, index_latex, index_text
from .expr import ONE, SCALAR, Identity, Num, Sym, substitute
from . import structure
from .fit import (LEFT, TEXT_COLUMNS, WIDTH_EM, break_lines, equation_rows, equation_text, pad,
                  tex_width, text_width, wrapped_text)
from .render import Printer, _plain_tex, session, shape_tex, to_latex, to_text
from .texsafe import is_safe, literal
from .textex import _rule_tex, _sci, tex_text   # tex_text: also for the claims judge and the tests

# --------------------------------------------------------------------------- pieces
def _names(d) -> dict:
    return {name: _tex_of(s) for name, s in d.reading.symbols.items()}


def _tex_of(s: Sym) -> str:
    """A symbol's LaTeX as read from the cell, only if every command in it is allowed."""
    return s.tex if is_safe(s.tex) else literal(s.name)


def _space_tex(s: Sym) -> str:
    r, c = (d if is_safe(str(d)) else literal(str(d)) for d in s.shape)
    if structure.space(s, True) and is_safe(str(r)):   # y ∈ Δⁿ, one-hot
        return structure.space(s, True)
    if "spd" in s.props:
        return rf"\mathbb{{S}}^{{{r}}}_{{++}}"
    if s.symmetric:
        return rf"\mathbb{{S}}^{{{r}}}"
    if (r, c) == SCALAR:
        return r"\mathbb{R}"
    if c == 1:
        return rf"\mathbb{{R}}^{{{r}}}"
    return rf"\mathbb{{R}}^{{{shape_tex(s.shape)}}}"


def _space_text(s: Sym) -> str:
    r, c = s.shape
    if structure.space(s, False):   # y ∈ Δⁿ, one-hot
        return structure.space(s, False)
    if "spd" in s.props:
        return f"𝕊^{r}_++ (positive definite)"
    if s.symmetric:
        return f"𝕊^{r} (symmetric)"
    if (r, c) == SCALAR:
        return "ℝ"
    if c == 1:
        return f"ℝ^{r}"
    return f"ℝ^({r}×{c})"


def interpretation_latex(d) -> str:
    parts = [rf"{_tex_of(s)} \in {_space_tex(s)}" for s in d.reading.symbols.values()]
    out = r",\ ".join(parts)
    notes = [tex_text(_cut(n), _names(d)) for n in d.reading.notes]
    where = [rf"{to_latex(name)} = {_printed(e, True)}" for e, name in _abbreviated()]
    if where:
        notes.append(r"\text{where }" + r",\ ".join(where))
    return out + "".join(r";\ " + n for n in notes)


def interpretation_text(d, where: bool = True) -> str:
    parts = [f"{to_text(s)} ∈ {_space_text(s)}" for s in d.reading.symbols.values()]
    notes = [_cut(n) for n in d.reading.notes]
    named = [f"{to_text(name)} = {_printed(e, False)}" for e, name in _abbreviated()] if where else []
    if named:
        notes.append("where " + ", ".join(named))
    notes = "; ".join(notes)
    return ", ".join(parts) + (f"; {notes}" if notes else "")


def interpretation_lines_text(d) -> list[str]:
    """The Interpretation in lines that fit: on one line when it fits, else the symbols and notes
    wrapped, then each name printed for an expression on lines of its own."""
    whole = interpretation_text(d)
    if text_width(whole) + 2 <= TEXT_COLUMNS:
        return [f"  {whole}"]
    lines = wrapped_text(interpretation_text(d, where=False), "  ", "; ")
    named = list(_abbreviated())
    column = max([text_width(to_text(n)) for _, n in named if text_width(to_text(n)) <= 12] or [0])
    for i, (e, name) in enumerate(named):
        lines += equation_text(("where " if i == 0 else "      ") + pad(to_text(name), column), _printed(e, False))
    return lines


NOTE_CHARS = 300


def _cut(note: str) -> str:
    """A note quotes the cell at most ``NOTE_CHARS`` characters long (a 1 MB cell is not repeated)."""
    return note if len(note) <= NOTE_CHARS else note[:NOTE_CHARS - 1] + "…"


# --------------------------------------------------------------------------- printing within limits
_ABBREVIATED: ContextVar[tuple] = ContextVar("derivmagic_abbreviated", default=())


def _abbreviated() -> tuple:
    """(expression, name) of each definition printed by its name in the current rendering."""
    return _ABBREVIATED.get()


def _printed(e, latex: bool) -> str:
    """A definition's own expression (printed in full at its top, by name inside)."""
    from .render import printer
    return printer(latex).print(e)


def _shown_expressions(d) -> list:
    out = []
    for a in shown_answers(d):   # the differential is shown for a matrix function of a matrix
        out += [a.function, a.result] + ([a.differential] if a.differential is not None and a.vectorized else [])
    out += [e for _, e in getattr(d, "where", ())]
    for s in d.steps:
        out += [s.node, s.differential]
    for c in d.claims:
        out += [e for e in (getattr(c, "claimed", None), getattr(c, "correct", None)) if hasattr(e, "shape")]
    return out


def _definition_names(d) -> dict:
    """Each definition of the cell (``h_1 = …``) as the symbol it is printed as."""
    from .build import tex_name
    out = {}
    for name, e in (getattr(d.reading, "definitions", None) or {}).items():
        if isinstance(e, (Sym, Num)) or e in out:
            continue
        out[e] = Sym(name, e.shape, tex=tex_name(name))
    return out


def nodes_of(roots: list) -> list:
    """Every distinct node of the expressions ``roots``, children before parents, each visited once."""
    seen, out = set(), []
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                out.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if a not in seen)
    limits.tick(len(out))
    return out


NAME_CHARS = 100   # a sub-expression printed longer than this and shown more than once is named


def shared_names(d, shown: list, names: dict) -> dict:
    """Names (u_1, u_2, …) for the sub-expressions that would be printed in full more than once
    and more than ``NAME_CHARS`` long, or once and twice as long (inside an expression shown),
    smallest first: with them no expression is printed in full twice and none is built from a
    chain of ever longer pieces, so the printed size of a derivation, and the work of printing
    it, grow linearly with its DAG (a 64-layer network written as one nested formula prints
    each layer once, by name, not 64 times). Not for a cell with definitions derived with
    ``expand=True``: that asks for the fully substituted form (bounded by
    ``LIMITS['output_chars']``)."""
    uses: dict = {}
    nodes, roots = nodes_of(shown), set(shown)
    for root in shown:
        uses[root] = uses.get(root, 0) + 1
    for node in nodes:
        for a in node.args:
            uses[a] = uses.get(a, 0) + 1
    taken = {n.split("_")[0] for n in d.reading.symbols} | {s.name.split("_")[0] for s in names.values()}
    letter = next((c for c in "uvqrstzw" if c not in taken), "u")
    size, out = {}, {}
    for node in nodes:   # children before parents
        if node in names or node in out:
            size[node] = len(names.get(node, out.get(node)).name)
            continue
        own = len(node.name) if isinstance(node, Sym) else 3
        size[node] = own + sum(size[a] for a in node.args)
        shared = uses.get(node, 0) > 1
        if not isinstance(node, (Sym, Num)) and (size[node] > NAME_CHARS if shared else
                                                 node not in roots and size[node] > 2 * NAME_CHARS):
            k = len(out) + 1
            out[node] = Sym(f"{letter}_{k}", node.shape, tex=f"{letter}_{{{k}}}")
            size[node] = len(out[node].name)
        limits.tick(1)
    return out


@contextmanager
def rendering(d):
    """Everything printed for ``d`` inside the block: in the cell's work budget (its own when
    ``derive()`` has returned), with shared printers; when an expression printed in full would
    be longer than ``LIMITS['output_chars']``, every expression is printed through the
    definitions' names (listed in the Interpretation), and if even that is too long, a
    ``LimitError`` says so."""
    from .render import _SESSION
    if _SESSION.get() is not None:   # already inside (a part of a derivation being rendered)
        yield
        return
    with limits.within(getattr(d, "cell", None)):
        shown = _shown_expressions(d)
        full = Printer(True)
        limit = limits.LIMITS["output_chars"]
        abbreviations = {}
        if limit is not None and sum(full.estimate(e) for e in shown) > limit:
            abbreviations = _definition_names(d)
        if getattr(d, "named", None) or not getattr(d.reading, "definitions", None):   # not with expand=True
            abbreviations.update(shared_names(d, shown, abbreviations))
        if abbreviations:   # and the differential of each definition by its name: d(h_2) = … dh_1 …
            for step in d.steps:
                name = abbreviations.get(step.node)
                if name is not None and step.differential not in abbreviations and \
                        not isinstance(step.differential, (Sym, Num)):
                    abbreviations[step.differential] = Sym("d" + name.name, step.differential.shape,
                                                           tex=r"\mathrm{d}" + name.tex)
            most = 20 * limit
            named = Printer(True, abbreviations)
            total = sum(named.estimate(e) for e in shown)
            limits.check_output(total, f"this derivation printed (even with {len(abbreviations)} definitions "
                                       f"printed by name)") if total > most else None
        order = {node: abbreviations[node] for node in nodes_of(shown) if node in abbreviations} \
            if abbreviations else {}
        token = _ABBREVIATED.set(tuple(order.items()))
        try:
            with session(abbreviations):
                yield
        finally:
            _ABBREVIATED.reset(token)


def answers(d) -> list:
    """Every derivative of the cell: one per variable of ``∇_{W,b}``."""
    return list(getattr(d, "answers", None) or [d.answer])


def shown_answers(d) -> list:
    """The derivatives as printed: written with the names of the cell's definitions when it has
    them (``Derivation.shown_answers``), with a ``where`` line (``Derivation.where``)."""
    return list(getattr(d, "shown_answers", None) or answers(d))


def where_line(d, latex: bool) -> list:
    """``where z_1 = W_1 x + b_1, h = σ(z_1)``: the definitions the printed result uses."""
    where = getattr(d, "where", None)
    if not where:
        return []
    if latex:
        return [r"&\text{where }" + r",\ ".join(f"{to_latex(n)} = {to_latex(e)}" for n, e in where)]
    return ["  where " + ", ".join(f"{to_text(n)} = {to_text(e)}" for n, e in where)]


def target_latex(d, a=None, function_tex: str | None = None) -> str:
    r"""What was asked, as LaTeX: ``\nabla_{x} (f)``, ``\frac{\partial}{\partial x} (f)``, ...
    (``function_tex``: the function by a name instead)."""
    a = a or d.answer
    if a.kind == "value":   # a line of values: its first side as written
        from .claims import source_latex
        return source_latex(a.written)
    x = _tex_of(a.var)
    f = function_tex or to_latex(a.function)
    wrapped = f if function_tex or isinstance(a.function, Sym) else rf"\left({f}\right)"
    if a.kind == "hessian":
        return rf"\nabla^2_{{{x}}} {wrapped}"
    if a.kind == "multilinear":
        return matrix_form_latex(a, wrapped) if a.as_matrix else multilinear_target(a, wrapped, latex=True)
    if a.kind == "directional":
        return rf"\mathrm{{D}}{wrapped}[{to_latex(a.dsym)}]"
    if getattr(a, "vectorized", False):
        return rf"\frac{{\partial \operatorname{{vec}} {wrapped}}}{{\partial \operatorname{{vec}} {x}}}"
    if a.kind == "gradient":
        return rf"\nabla_{{{x}}} {wrapped}"
    return rf"\frac{{\partial}}{{\partial {x}}} {wrapped}"


def target_text(d, a=None, function_text: str | None = None) -> str:
    a = a or d.answer
    if a.kind == "value":
        return " ".join(a.written.split())
    x, f = to_text(a.var), function_text or to_text(a.function)
    f = f if function_text or isinstance(a.function, Sym) else f"({f})"
    if getattr(a, "vectorized", False):
        return f"∂vec{f}/∂vec {x}"
    if a.kind == "multilinear":
        return matrix_form_text(a, f) if a.as_matrix else multilinear_target(a, f, latex=False)
    return {"gradient": f"∇_{x} {f}", "hessian": f"∇²_{x} {f}", "directional": f"D{f}[{to_text(a.dsym)}]"}.get(
        a.kind, f"∂/∂{x} {f}")


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def multilinear_target(a, f: str, latex: bool) -> str:
    """``d³/dt³ f`` by scalars; ``D³f[u, v, w]`` by one vector or matrix; ``∂²/∂x∂y f[u, v]`` mixed."""
    variables = [v for v, _ in a.passes]
    k = len(variables)
    names = [_tex_of(v) if latex else to_text(v) for v in variables]
    scalars = all(v.shape == (1, 1) for v in variables)
    held = dict(a.held)
    directions = ", ".join(to_latex(held.get(d, d)) if latex else to_text(held.get(d, d)) for _, d in a.passes
                           if d != ONE)
    same = len(set(names)) == 1
    scalars = scalars and not directions   # D²f(t)[u, v] with directions written: the form
    if latex:
        if scalars and same:
            op = rf"\frac{{\mathrm{{d}}^{{{k}}}}}{{\mathrm{{d}}{names[0]}^{{{k}}}}}"
        elif same:
            op = rf"\mathrm{{D}}^{{{k}}}"
        else:
            op = rf"\frac{{\partial^{{{k}}}}}{{" + r"\,".join(rf"\partial {n}" for n in names) + "}"
        return rf"{op} {f}" + (rf"\left[{directions}\right]" if directions else "")
    sup = str(k).translate(_SUPERSCRIPTS)
    if scalars and same:
        op = f"d{sup}/d{names[0]}{sup} "
    elif same:
        op = f"D{sup}"
    else:
        op = f"∂{sup}/" + "".join(f"∂{n}" for n in names) + " "
    return f"{op}{f}" + (f"[{directions}]" if directions else "")


def matrix_form_text(a, f: str = "f") -> str:
    """The name of a second-order form's matrix: ∂²f/∂x∂yᵀ for vectors, H by a matrix (vec form)."""
    x, y = (to_text(v) for v, _ in a.passes)
    return f"∂²{f}/∂{x}∂{y}ᵀ" if _vector_block(a) else "H"


def matrix_form_latex(a, f: str = "f") -> str:
    x, y = (_tex_of(v) for v, _ in a.passes)
    return rf"\frac{{\partial^2 {f}}}{{\partial {x}\,\partial {y}^T}}" if _vector_block(a) else "H"


def _vector_block(a) -> bool:
    return all(v.shape[1] == 1 for v, _ in a.passes)


def _differential_of(node, latex: bool) -> str:
    inner = to_latex(node) if latex else to_text(node)
    if latex:
        return rf"\mathrm{{d}}{inner}" if isinstance(node, Sym) else rf"\mathrm{{d}}\left({inner}\right)"
    return f"d{inner}" if isinstance(node, Sym) else f"d({inner})"


def chain_factors(step):
    """For a chain-rule step (``Step.shapes`` set): ``(outer, inner, dsym)`` with
    ``d(node) = outer · inner · dsym``, outer the Jacobian of the node by its argument and
    inner the Jacobian of the argument by the variable (numerator layout). ``None`` when
    the step is not a chain of two Jacobians."""
    if not step.shapes or len(step.children) != 1 or step.dvar is None:
        return None
    from .differentiate import jacobian
    from .rules import transpose
    from .simplify import simplify
    (arg, darg), node = step.children[0], step.node
    row = arg.shape[0] == 1 and arg.shape[1] != 1
    # the argument's differential, as a column symbol no cell can name
    du = Sym("\0du", (arg.shape[1] if row else arg.shape[0], 1), tex=r"\mathrm{d}u")
    dnode = node.differential([(transpose(du) if row else du) if a == arg else None for a in node.args])
    if node.shape[0] == 1 and node.shape[1] != 1:
        dnode = transpose(dnode)
    dsym = step.dvar if isinstance(step.dvar, Sym) else step.dvar.args[0]
    if not isinstance(dsym, Sym) or dsym.shape[1] != 1:
        return None
    try:
        outer = jacobian(dnode, du)
        inner = jacobian(transpose(darg) if row else darg, dsym)
    except DerivError:
        return None
    one = {Identity(1): ONE}
    return simplify(substitute(outer, one)), simplify(substitute(inner, one)), dsym


def _factor_tex(e) -> str:
    """A factor of a product: a sum or a Hadamard product in parentheses."""
    from .rules import Mul
    s = to_latex(e)
    return s if isinstance(e, Mul) or e.prec > 20 else rf"\left({s}\right)"


def step_parts_latex(step, names: dict | None = None, braces: bool = True) -> tuple[str, str, str]:
    """(``d(node)``, its differential, the rule) as LaTeX; for a chain-rule step the differential
    is the two Jacobians, each under a brace with its shape, times the direction (with ``braces``)."""
    factors = chain_factors(step) if braces else None
    note = _rule_tex(step.rule, names or {})
    if factors is None:
        rhs = to_latex(step.differential)
        if step.shapes:
            note += r";\ " + tex_text(step.shapes)
    else:
        outer, inner, dsym = factors
        rhs = (rf"\underbrace{{{_factor_tex(outer)}}}_{{{shape_tex(outer.shape)}}}\,"
               rf"\underbrace{{{_factor_tex(inner)}}}_{{{shape_tex(inner.shape)}}}\,{to_latex(dsym)}")
    return _differential_of(step.node, True), rhs, note


def step_latex(step) -> str:
    """One step as a standalone display formula: ``d(node) = differential`` and its rule; an
    ``aligned`` block of broken lines, the rule under them, when it is wider than the output."""
    with limits.within():
        lhs, rhs, note = step_parts_latex(step)
        line = rf"{lhs} = {rhs} \qquad {note}"
        if tex_width(line) <= WIDTH_EM:
            return line
        if r"\underbrace" in rhs:
            lhs, rhs, note = step_parts_latex(step, braces=False)
        rows = equation_rows(lhs, rhs) + [rf"&\qquad {note}"]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def step_text(step) -> str:
    with limits.within():
        shapes = f"; {step.shapes}" if step.shapes else ""
        lhs, rhs, note = _differential_of(step.node, False), to_text(step.differential), f"({step.rule}{shapes})"
        line = f"{lhs} = {rhs}    {note}"
        if text_width(line) <= TEXT_COLUMNS:
            return line
        return "\n".join(row[2:] for row in equation_text(lhs, rhs, note=note))


def description_latex(d, a=None) -> str:
    """``Answer.description`` (shape and layout) as LaTeX, the variable in math."""
    a = a or d.answer
    var, desc = a.var, a.description
    head, sep, tail = desc.partition(f"shaped like {var.name}")
    if not sep:
        return tex_text(desc, _names(d))
    return tex_text(head + "shaped like ", _names(d)) + _tex_of(var) + tex_text(tail, _names(d))


# --------------------------------------------------------------------------- check and claims
def check_latex(d) -> str:
    c = d.check
    if c is None:
        return r"\text{not checked}"
    sizes = r",\ ".join(f"{k if is_safe(k) else literal(k)} = {v}" for k, v in sorted(c.dims.items()))
    where = (r"\text{ at }" + sizes) if sizes else r"\text{ (scalars only)}"
    how = rf"\text{{finite differences along {c.probes} random direction{'s' if c.probes != 1 else ''}}}{where}"
    if c.passed:
        note = r"\ " + tex_text(f"({c.note})") if getattr(c, "note", "") else ""
        return rf"\checkmark\ {how}\text{{: max error }}{_sci(c.max_error)}{note}"
    mark = r"\boldsymbol{\times}\ \textbf{unverified}"
    if c.message:
        return rf"{mark}\text{{: }}{tex_text(c.message, _names(d))}"
    return rf"{mark}\text{{: }}{how}\text{{: max error }}{_sci(c.max_error)}"


def check_text(d) -> str:
    c = d.check
    if c is None:
        return "not checked"
    sizes = ", ".join(f"{k}={v}" for k, v in sorted(c.dims.items()))
    how = f"finite differences along {c.probes} random direction{'s' if c.probes != 1 else ''}" + (
        f" at {sizes}" if sizes else " (scalars only)")
    if c.passed:
        note = f" ({c.note})" if getattr(c, "note", "") else ""
        return f"✓ {how}: max error {c.max_error:.1e}{note}"
    if c.message:
        return f"✗ unverified: {c.message}"
    return f"✗ unverified: {how}: max error {c.max_error:.1e}"


def _claimed(claim, latex: bool) -> str:
    """The claimed side: its reading, or, when it has none (its shapes do not fit), the claim as
    written in the cell; never the correct answer, which has a row of its own."""
    if getattr(claim, "shown", None):
        return claim.shown[0] if latex else claim.shown[1]
    e = getattr(claim, "claimed", None)
    if e is not None and hasattr(e, "shape"):
        return to_latex(e) if latex else to_text(e)
    source = getattr(claim, "source", "") or "?"
    if latex:
        from .claims import source_latex
        return source_latex(source)
    return source


def operator_latex(kind: str, var, body, layout: str, direction=None) -> str:
    """A derivative as read, not evaluated: ``\\nabla_{θ} (…)``, ``\\frac{\\partial}{\\partial x} (…)``,
    ``D(…)[v]``."""
    if kind == "directional" and direction is not None:
        return rf"D\left({to_latex(body)}\right)\left[{to_latex(direction)}\right]"
    x = _tex_of(var)
    op = {"gradient": rf"\nabla_{{{x}}}", "hessian": rf"\nabla^2_{{{x}}}"}.get(
        kind, rf"\frac{{\partial}}{{\partial {x}}}")
    return rf"{op} \left({to_latex(body)}\right)"


def operator_text(kind: str, var, body, layout: str, direction=None) -> str:
    if kind == "directional" and direction is not None:
        return f"D({to_text(body)})[{to_text(direction)}]"
    v = to_text(var)
    op = {"gradient": f"∇_{v}", "hessian": f"∇²_{v}"}.get(kind, f"∂/∂{v}")
    return f"{op} ({to_text(body)})"


def _value_tex(v) -> str:
    """A counterexample's value (a number, a vector as a list, a matrix as a list of rows)."""
    if isinstance(v, (list, tuple)):
        if v and isinstance(v[0], (list, tuple)):
            rows = [" & ".join(_value_tex(x) for x in row) for row in v]
        else:
            rows = [_value_tex(x) for x in v]
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    return tex_text(str(v)) if not isinstance(v, (int, float)) else str(v)


def counterexample_latex(d, ce, width: float = WIDTH_EM) -> list[str]:
    """A counterexample as rows at most ``width`` wide (as far as one value fits): the values of
    the symbols, then both sides' values there."""
    if not isinstance(ce, dict) or "values" not in ce:
        return [r"\text{counterexample: }" + tex_text(str(ce), _names(d))]
    symbols = d.reading.symbols
    rows, line = [], r"\text{counterexample at }"
    for i, (k, v) in enumerate(ce["values"].items()):   # as many values on a row as fit
        piece = rf"{_tex_of(symbols[k]) if k in symbols else tex_text(k)} = {_value_tex(v)}"
        candidate = line + (r",\ " if i else "") + piece
        if i and tex_width(candidate) > width:
            rows.append(line + ",")
            line = r"\quad " + piece
        else:
            line = candidate
    rows.append(line)
    if "correct" in ce and "claimed" in ce:
        there = rf"\text{{there the derivative is }}{_value_tex(ce['correct'])}"
        claim = rf"\text{{the claim }}{_value_tex(ce['claimed'])}"
        rows += [there + r"\text{, }" + claim] if tex_width(there + claim) <= width else \
            [there + r"\text{,}", claim]
    return rows


def counterexample_text(ce) -> str:
    if isinstance(ce, dict) and "values" in ce:
        from .claims import format_counterexample
        return format_counterexample(ce)
    return str(ce)


def claim_rows_latex(d) -> list[str]:
    """One row per ``=`` link: the claimed side, ✓ or ✗; for a false one, why, a counterexample
    and the correct expression, each on a row of its own. A row too wide for the output is
    broken, its verdict under it."""
    rows, names = [], _names(d)
    target = target_latex(d)
    column = tex_width(target) if tex_width(target) <= LEFT * WIDTH_EM else 0.0
    for i, claim in enumerate(d.claims):
        lhs = target if i == 0 else ""
        if claim.holds:
            condition = rf"\ {tex_text('(' + claim.reason + ')')}" if getattr(claim, "reason", "") else ""
            rows += _claim_rows(lhs, _claimed(claim, True), rf"\checkmark\ \text{{holds}}{condition}", column)
            continue
        rows += _claim_rows(lhs, _claimed(claim, True), r"\boldsymbol{\times}\ \textbf{does not hold}", column)
        if getattr(claim, "reason", ""):
            reason = getattr(claim, "reason_latex", "") or tex_text(claim.reason, names)
            from .claims import reason_rows   # the mathematics of the reason kept whole on its rows
            rows += [r"&\quad " + row for row in reason_rows(claim, WIDTH_EM - column - 2.0, tex_width)
                     or _wrapped_tex(claim.reason, reason, names, WIDTH_EM - column - 2.0)]
        if getattr(claim, "counterexample", None):
            rows += [r"&\quad " + row for row in counterexample_latex(d, claim.counterexample, WIDTH_EM - column - 2.5)]
        correct = getattr(claim, "correct", None)
        if correct is not None and hasattr(correct, "shape"):
            lines = break_lines(to_latex(correct), WIDTH_EM - column - 6.0, True)
            rows.append(rf"&\quad \text{{correct: }} {lines[0]}")
            rows += [rf"&\qquad\qquad {line}" for line in lines[1:]]
    return rows


def _claim_rows(lhs: str, claimed: str, verdict: str, column: float) -> list[str]:
    row = rf"{lhs} &= {claimed} \qquad {verdict}"
    if max(tex_width(lhs), column) + 1.34 + tex_width(claimed) + 2.0 + tex_width(verdict) <= WIDTH_EM:
        return [row]
    return equation_rows(lhs, claimed, note=verdict, column=column)


def claim_lines_text(d) -> list[str]:
    lines = []
    for i, claim in enumerate(d.claims):
        lhs = target_text(d) if i == 0 else " " * len(target_text(d))
        verdict = ("✓ holds" + (f" ({claim.reason})" if getattr(claim, "reason", "") else "")) if claim.holds \
            else "✗ does not hold"
        lines.append(f"{lhs} = {_claimed(claim, False)}    {verdict}")
        if claim.holds:
            continue
        if getattr(claim, "reason", ""):
            lines.append(f"    {claim.reason}")
        if getattr(claim, "counterexample", None):
            lines.append(f"    counterexample: {counterexample_text(claim.counterexample)}")
        correct = getattr(claim, "correct", None)
        if correct is not None and hasattr(correct, "shape"):
            lines.append(f"    correct: {to_text(correct)}")
    return lines


# --------------------------------------------------------------------------- the whole derivation
def sections_latex(d, steps: bool = True, vec: bool = False) -> list[tuple[str, list[str]]]:
    """(heading, rows) for each part; a row is an ``aligned`` row (``lhs &= rhs && note``)."""
    names = _names(d)
    out = [("Interpretation", interpretation_rows_latex(d))]
    if steps and d.steps:
        out.append(("Steps", step_rows_latex(d, names)))
    result, equations = [], []
    for a in shown_answers(d):
        equations.append(_result_equations(d, a))
        if a.vectorized and a.differential is not None:
            equations[-1].insert(0, (rf"\mathrm{{d}}\left({to_latex(a.function)}\right)", to_latex(a.differential),
                                    not vec))
    column = _column(lhs for eqs in equations for lhs, _, _ in eqs)
    for a, eqs in zip(shown_answers(d), equations):
        if a.vectorized and a.differential is not None:
            result += equation_rows(*eqs[0], note=r"\text{the differential}", column=column)
            if not vec:
                continue
        for lhs, rhs, boxed in eqs[1:] if a.vectorized and a.differential is not None else eqs:
            result += equation_rows(lhs, rhs, boxed, column=column)
        result += [rf"&{row}" for row in _wrapped_tex(a.description, description_latex(d, a))]
        if a.as_matrix:   # the matrix is the result; the form it stands for under it
            result += equation_rows(multilinear_target(a, r"f", latex=True), to_latex(a.form), column=column)
        elif a.matrix is not None and (vec or _vector_block(a)):
            result += equation_rows(matrix_form_latex(a), to_latex(a.matrix[0]), column=column)
            result += [rf"&{row}" for row in _wrapped_tex(a.matrix[1], tex_text(a.matrix[1], _names(d)))]
        tensor = index_form(a)
        if tensor is not None:
            left, _, right = index_latex(tensor).partition(" = ")
            result += equation_rows(left, right, column=column)
            result += [r"&\text{the same derivative as a tensor, indices in the order of the directions}"]
    result += where_rows_latex(d)
    for w in d.warnings:
        result += [rf"&{row}" for row in _wrapped_tex(w, warning_latex(w, names), names)]
    out.append(("Result", result))
    if d.claims:
        out.append(("Claims", claim_rows_latex(d)))
    out.append(("Check", [rf"&{row}" for row in _wrapped_tex(check_text(d), check_latex(d))]))
    return out


# --------------------------------------------------------------------------- fitting the width


def _wrapped_tex(plain: str, tex: str, names: dict | None = None, width: float = WIDTH_EM) -> list[str]:
    """``tex`` (the LaTeX of ``plain``) as one row when it fits ``width``, else ``plain`` cut at
    its '; ' and then between words into rows that fit, each as LaTeX."""
    if tex_width(tex) <= width:
        return [tex]
    rows = []
    for part in plain.split("; "):
        line = ""
        for word in part.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and tex_width(tex_text(candidate, names)) > width:
                rows.append(line)
                line = word
            else:
                line = candidate
        rows.append(line)
    return [tex_text(r, names) for r in rows if r]


def step_rows_latex(d, names: dict) -> list[str]:
    """The steps as aligned rows ``d(node) &= differential && rule``; when they do not fit the
    width, each differential is broken into lines and its rule goes under it."""
    parts = [step_parts_latex(s, names) for s in d.steps]
    wl = max(tex_width(p[0]) for p in parts) + 1.34
    wr = max(tex_width(p[1]) for p in parts)
    wn = max(tex_width(p[2]) for p in parts)
    if wl + wr + 2.0 + wn <= WIDTH_EM:
        return ["{} &= {} && {}".format(*p) for p in parts]
    rows, column = [], _column(p[0] for p in parts)
    for step, (lhs, rhs, note) in zip(d.steps, parts):
        if r"\underbrace" in rhs and tex_width(rhs) > WIDTH_EM - column - 1.34:
            lhs, rhs, note = step_parts_latex(step, names, braces=False)   # a brace cannot be broken
        rule = step.rule + (f"; {step.shapes}" if step.shapes and r"\underbrace" not in rhs else "")
        rows += equation_rows(lhs, rhs, column=column)
        rows += [rf"&\qquad {n}" for n in _wrapped_tex(rule, note, names, WIDTH_EM - 3.0)]
    return rows


def where_rows_latex(d) -> list[str]:
    """The ``where`` line of the definitions the result uses; one row for each when it is too wide."""
    line = where_line(d, True)
    if not line or tex_width(line[0]) <= WIDTH_EM:
        return line
    where = list(d.where)
    column = _column(to_latex(n) for n, _ in where)
    rows = []
    for i, (n, e) in enumerate(where):
        rows += equation_rows(to_latex(n), to_latex(e), column=column)
    return [r"&\text{where}"] + rows


def _function_name(d) -> str:
    """A name for a function too wide to stand in the target: f, else F, φ, ℓ, f_0."""
    taken = set(d.reading.symbols)
    for name, tex in (("f", "f"), ("F", "F"), ("phi", r"\varphi"), ("ell", r"\ell")):
        if name not in taken:
            return tex
    return "f_{0}"


def _column(lefts) -> float:
    """The width of a block's left column: its widest left side that does not stand alone."""
    return max([w for w in map(tex_width, lefts) if w <= LEFT * WIDTH_EM] or [0.0])


def _result_equations(d, a) -> list[tuple[str, str, bool]]:
    """(left, right, boxed): ``target = \boxed{result}``, after ``f = function`` when the function
    is too wide to stand in the target."""
    target = target_latex(d, a)
    if tex_width(target) <= 0.4 * WIDTH_EM or isinstance(a.function, Sym):
        return [(target, to_latex(a.result), True)]
    name = _function_name(d)
    return [(name, to_latex(a.function), False), (target_latex(d, a, function_tex=name), to_latex(a.result), True)]


def interpretation_rows_latex(d) -> list[str]:
    """The symbols with their spaces (as many on a row as fit), then each note and each name
    printed for a definition on rows of their own; one row when all of it fits."""
    whole = interpretation_latex(d)
    if tex_width(whole) <= WIDTH_EM:
        return [rf"&{whole}"]
    rows, line = [], ""
    for s in d.reading.symbols.values():
        piece = rf"{_tex_of(s)} \in {_space_tex(s)}"
        candidate = rf"{line},\ {piece}" if line else piece
        if line and tex_width(candidate) > WIDTH_EM:
            rows.append(f"&{line},")
            line = piece
        else:
            line = candidate
    rows.append(f"&{line}")
    names = _names(d)
    for n in d.reading.notes:
        rows += [f"&{row}" for row in _wrapped_tex(_cut(n), tex_text(_cut(n), names), names)]
    for i, (e, name) in enumerate(_abbreviated()):
        rows += equation_rows((r"\text{where }" if i == 0 else "") + to_latex(name), _printed(e, True))
    return rows


_WARNING = re.compile(r"read (\S+) as a (\w+); declare \S+ ∈ \S+ if it is a (\w+) \(write (.*)\)")


def warning_latex(w: str, names: dict) -> str:
    """``read c as a scalar; declare c ∈ ℝⁿ if it is a vector (write c \\in \\mathbb{R}^n)`` as LaTeX."""
    m = _WARNING.fullmatch(w)
    if m is None:
        return tex_text(w, names)
    name, kind, usual, declaration = m.groups()
    if not is_safe(declaration):
        declaration = literal(declaration)
    return (rf"\text{{ambiguous: read }}{names.get(name) or tex_text(name)}\text{{ as a {kind}; declare }}{declaration}"
            rf"\text{{ if it is a {usual}}}")


def derivation_latex(d, steps: bool = True, vec: bool = False) -> str:
    """The derivation as one ``aligned`` block: a heading per part, each part's rows aligned
    at their ``=`` in a nested ``aligned``."""
    with rendering(d):
        return _derivation_latex(d, steps, vec)


def _derivation_latex(d, steps: bool, vec: bool) -> str:
    rows = []
    for heading, body in sections_latex(d, steps, vec):
        rows.append(rf"&\textbf{{{heading}}}")
        rows.append("&\\quad\\begin{aligned}\n" + " \\\\\n".join(body) + "\n\\end{aligned}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def derivation_text(d, steps: bool = True, vec: bool = False) -> str:
    with rendering(d):
        return _derivation_text(d, steps, vec)


def _derivation_text(d, steps: bool, vec: bool) -> str:
    lines = ["Interpretation"] + interpretation_lines_text(d)
    if steps and d.steps:
        lines.append("Steps")
        lhs = [_differential_of(s.node, False) for s in d.steps]
        rhs = [to_text(s.differential) for s in d.steps]
        notes = [s.rule + (f"; {s.shapes}" if s.shapes else "") for s in d.steps]
        column = max([text_width(x) for x in lhs if text_width(x) <= LEFT * TEXT_COLUMNS] or [0])
        beside = [2 + column + 3 + text_width(r) + 4 + text_width(n) <= TEXT_COLUMNS for r, n in zip(rhs, notes)]
        wr = max([text_width(r) for r, b in zip(rhs, beside) if b] or [0])
        for left, right, note, fits in zip(lhs, rhs, notes, beside):
            if fits and text_width(left) <= column:   # the rule beside, in a column when it fits
                width = wr if 2 + column + 3 + wr + 4 + text_width(note) <= TEXT_COLUMNS else text_width(right)
                lines.append(f"  {pad(left, column)} = {pad(right, width)}    {note}")
                continue
            lines += equation_text(left, right, column)   # broken lines, the rule under the step
            stacked = text_width(left) > LEFT * TEXT_COLUMNS
            lines += wrapped_text(note, " " * (6 if stacked else column + 7), "; ")
    lines.append("Result")
    for a in shown_answers(d):
        if a.vectorized and a.differential is not None:
            lines += equation_text(f"d({to_text(a.function)})", to_text(a.differential), note="the differential")
            if not vec:
                lines.append("  (the Jacobian of vec F by vec X, a Kronecker expression, with --vec)")
                continue
        target = target_text(d, a)
        if text_width(target) > 0.4 * TEXT_COLUMNS and not isinstance(a.function, Sym):
            name = _plain_tex(_function_name(d))
            lines += equation_text(name, to_text(a.function))
            target = target_text(d, a, function_text=name)
        lines += equation_text(target, to_text(a.result)) + wrapped_text(a.description, "  ")
        if a.as_matrix:   # the matrix is the result; the form it stands for under it
            lines += equation_text(multilinear_target(a, "f", latex=False), to_text(a.form))
        elif a.matrix is not None:
            lines += _matrix_form_lines(a, vec)
        tensor = index_form(a)
        if tensor is not None:
            lines += wrapped_text(index_text(tensor), "  ", " + ") + ["  (the same derivative as a tensor, indices in the "
                                                                      "order of the directions)"]
    lines += [line for w in where_line(d, False) for line in wrapped_text(w.strip(), "  ", ", ")]
    lines += [line for w in d.warnings for line in wrapped_text(f"⚠ {w}", "  ")]
    if d.claims:
        lines += ["Claims"] + [line for c in claim_lines_text(d) for line in wrapped_text(c, "  ")]
    lines += ["Check"] + wrapped_text(check_text(d), "  ")
    return "\n".join(lines)


def _matrix_form_lines(a, vec: bool) -> list[str]:
    """The matrix a second-order form stands for; by a matrix (a Kronecker Hessian) with --vec."""
    M, what = a.matrix
    if not _vector_block(a) and not vec:
        return [f"  ({what.split(' (')[0]}, a Kronecker expression, with --vec)"]
    return equation_text(matrix_form_text(a), to_text(M)) + wrapped_text(what, "  ")


class SideBySide:
    """Several derivations' results next to each other (e.g. both layouts), for a notebook."""

    def __init__(self, *derivations):
        self.derivations = derivations

    def latex(self) -> str:
        ds = self.derivations
        rows = [" & ".join(rf"\textbf{{{d.layout} layout}}" for d in ds),
                " & ".join(rf"{target_latex(d)} = \boxed{{{to_latex(d.answer.result)}}}" for d in ds),
                " & ".join(description_latex(d) for d in ds)]
        return r"\begin{array}{" + "c" * len(ds) + "}" + r" \\[4pt] ".join(rows) + r"\end{array}"

    def text(self) -> str:
        return "\n\n".join(f"{d.layout} layout\n  {target_text(d)} = {to_text(d.answer.result)}\n  "
                           f"{d.answer.description}" for d in self.derivations)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.text(), "text/latex": f"$${self.latex()}$$"}


def side_by_side(*derivations) -> SideBySide:
    return SideBySide(*derivations)


def document_tex(d) -> str:
    """A standalone LaTeX document (amsmath, amssymb) of the derivation, for homework."""
    with rendering(d):
        return _document_tex(d)


def _document_tex(d) -> str:
    parts = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb}", r"\allowdisplaybreaks",
             r"\setlength{\textwidth}{16cm}", r"\setlength{\oddsidemargin}{0cm}", r"\setlength{\evensidemargin}{0cm}",
             r"\begin{document}", r"\section*{Derivation}"]
    for heading, body in sections_latex(d):
        parts.append(rf"\subsection*{{{heading}}}")
        parts.append(r"\begin{align*}" + "\n" + " \\\\\n".join(body) + "\n" + r"\end{align*}")
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"
