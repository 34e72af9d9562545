"""Derivations on the user's definitions: each definition (``h = σ(W_1 x + b_1)``,
``ŷ = W_2 h + b_2``, ``L = ½‖ŷ - y‖²``) is a node of the derivation.

1. ``named_forms``: the target's function and every definition it reaches, each written with the
   names of the others (the builder keeps a definition's name instead of substituting it). A
   definition that applies an elementwise function (or softmax) to an expression names that
   expression too, as courses do: ``h = σ(W_1 x + b_1)`` is ``h = σ(z_1)`` with ``z_1 = W_1 x + b_1``.
2. ``solve_named``: the forward pass through the names in order. Each name's differential is a
   step written with the names (``dŷ = W_2 dh``); the chain goes through them (dL in dŷ, dŷ in dh,
   …), and the derivative is read off the differential with only the variable's direction left,
   its coefficients still written with the names.

Every step and the result stand for their meaning with the names substituted
(``Step.meaning``); the numeric check verifies that meaning. The printed size of a derivation
through L definitions grows linearly in L, as each step is printed with names instead of the
expressions they stand for."""
from __future__ import annotations

from dataclasses import dataclass

from .expr import Expr, Sym, postorder, substitute, zero
from .rules import Func, Hadamard, Softmax
from .simplify import simplify
from .steps import Step

#: letters tried, in order, for the expression an elementwise function of a definition is applied to
PREACTIVATION_LETTERS = ("z", "a", "u", "s")


@dataclass
class Named:
    """The function and the definitions it reaches, written with the definitions' names."""
    function: Expr                 # the target's function, with names
    order: list                    # the names (Sym), each after every name its definition uses
    bodies: dict                   # name -> its definition, written with the names before it
    meanings: dict                 # name -> what it stands for (no names left)
    introduced: frozenset          # names the cell did not write (z_1 for σ's argument)

    def meaning(self, e: Expr) -> Expr:
        return substitute(e, self.meanings) if self.meanings else e

    def where(self, shown: list) -> list:
        """(name, definition) for every name introduced here and every name the expressions
        ``shown`` use, directly or through another definition, in order."""
        wanted = set(self.introduced)
        stack = list(shown) + [self.bodies[s] for s in self.introduced]
        while stack:
            for s in stack.pop().free:
                if s in self.bodies and s not in wanted:
                    wanted.add(s)
                    stack.append(self.bodies[s])
        return [(s, self.bodies[s]) for s in self.order if s in wanted]


def named_forms(reading, variables: list) -> Named | None:
    """The target's function written with the names of the definitions it uses (``None`` when it
    uses none, or when the reading does not keep them)."""
    builder = getattr(reading, "builder", None)
    if builder is None or len(reading.targets) != 1:
        return None
    t = builder.t
    taken = {v.name for v in variables}
    names = {}
    for name, d in t.defs.items():
        if d.params or name in taken or name in reading.symbols or t.def_shapes.get(name) is None:
            continue
        names[name] = Sym(name, builder.shape(t.def_shapes[name]), tex=_tex_name(name))
    if not names:
        return None
    target = reading.targets[0][0]
    function = builder.with_names(target.body, names)
    bodies: dict = {}
    pending = [s for s in function.free if s.name in names and names[s.name] is s]
    while pending:
        s = pending.pop()
        if s in bodies:
            continue
        own = {n: v for n, v in names.items() if n != s.name}
        bodies[s] = builder.with_names(t.defs[s.name].body, own)
        pending += [u for u in bodies[s].free if u.name in names and names[u.name] is u and u not in bodies]
    if not bodies:
        return None
    order = _dependency_order(bodies)
    order, bodies, introduced = _name_preactivations(order, bodies, _used_names(reading, t, variables))
    meanings: dict = {}
    for s in order:
        meanings[s] = substitute(bodies[s], meanings) if meanings else bodies[s]
    return Named(function, order, bodies, meanings, frozenset(introduced))


def _tex_name(name: str) -> str:
    from .build import tex_name
    return tex_name(name)


def _dependency_order(bodies: dict) -> list:
    order, seen = [], set()

    def visit(s):
        if s in seen:
            return
        seen.add(s)
        for u in sorted((u for u in bodies[s].free if u in bodies), key=lambda u: u.name):
            visit(u)
        order.append(s)

    for s in sorted(bodies, key=lambda s: s.name):
        visit(s)
    return order


def _used_names(reading, typer, variables) -> set:
    used = set(reading.symbols) | set(typer.defs) | {v.name for v in variables}
    return used | {"d" + n for n in used}


def _name_preactivations(order: list, bodies: dict, used: set):
    """``h = σ(W_1 x + b_1)`` as ``h = σ(z_1)``, ``z_1 = W_1 x + b_1``: the vector (or matrix)
    argument of an elementwise function (or softmax) that a definition applies gets a name of
    its own, as a layer's pre-activation does; a function of a scalar (log det S) keeps its argument."""
    out_order, out_bodies, introduced, k = [], {}, [], 0
    for s in order:
        body = bodies[s]
        arg = body.args[0] if isinstance(body, (Func, Softmax)) else None
        if arg is not None and not arg.is_scalar and not isinstance(arg, Sym) and arg.free:
            k += 1
            z = _fresh(k, body.args[0], used)
            used |= {z.name, "d" + z.name}
            out_order.append(z)
            out_bodies[z] = body.args[0]
            introduced.append(z)
            body = body.rebuild([z])
        out_order.append(s)
        out_bodies[s] = body
    return out_order, out_bodies, introduced


def _fresh(k: int, e: Expr, used: set) -> Sym:
    for letter in PREACTIVATION_LETTERS:
        name = f"{letter}_{k}"
        if name not in used and letter not in used:
            return Sym(name, e.shape, tex=f"{letter}_{{{k}}}")
    n = k
    while f"z_{n}" in used:
        n += 1
    return Sym(f"z_{n}", e.shape, tex=f"z_{{{n}}}")


# ---------------------------------------------------------------- the forward pass through the names
def differential_name(s: Sym) -> Sym:
    return Sym("d" + s.name, s.shape, tex=r"\mathrm{d}" + s.tex)


@dataclass
class Chain:
    steps: list             # the steps, written with the names
    differential: Expr      # df with only the variables' directions left (coefficients with names)
    meanings: tuple         # (name or dname, what it stands for): every step's meaning


def forward(named: Named, moves: dict) -> Chain:
    """The differential of each name in order, then of the function, as steps on the names."""
    from .differentiate import Differentiator
    steps: list[Step] = []
    dname: dict = {}        # name -> its differential symbol
    expanded: dict = {}     # dname -> its differential with only the variables' directions
    shown: dict = {}        # a definition's expression -> its name, for the differentials printed
    variables = frozenset(moves)
    for s in named.order:
        body = named.bodies[s]
        shown[body] = s
        moving = {u: dname[u] for u in body.free if u in dname}
        if not (body.free & variables) and not moving:
            continue
        d = _differentiate(body, s, {**moves, **moving}, steps, shown, Differentiator)
        ds = differential_name(s)
        dname[s] = ds
        expanded[ds] = substitute(d, expanded) if expanded else d
    f = named.function
    if f in dname:
        df = expanded[dname[f]]
    else:
        moving = {u: dname[u] for u in f.free if u in dname}
        d = _differentiate(f, None, {**moves, **moving}, steps, shown, Differentiator)
        df = substitute(d, expanded) if d is not None and expanded else d
    meanings = dict(named.meanings)
    for ds, e in expanded.items():
        meanings[ds] = substitute(e, named.meanings)
    pairs = tuple(meanings.items())
    steps = [Step(st.rule, st.node, st.differential, var=st.var, dvar=st.dvar, children=st.children,
                  note=st.note, result=st.result, moves=st.moves, meanings=pairs) for st in steps]
    return Chain(steps, df if df is not None else zero(f.shape), pairs)


def _differentiate(body: Expr, name, moves: dict, steps: list, shown: dict, Differentiator) -> Expr | None:
    """The steps of one definition's differential; the last is written ``d(name) = …``."""
    first = len(steps)
    directions = frozenset().union(*(dv.free for dv in moves.values()))
    d = Differentiator(moves, steps=steps)(body)
    if d is None:
        return None
    d = simplify(d)
    for i in range(first, len(steps)):   # a definition's expression inside is printed as its name
        st = steps[i]
        steps[i] = Step(st.rule, st.node, _with_names(st.differential, shown, directions), var=st.var, dvar=st.dvar,
                        children=st.children, moves=st.moves)
    d = _with_names(d, shown, directions)
    if name is None:
        return d
    mine = steps[first:]
    top = mine[-1] if mine else None
    if top is not None and (top.node == body or top.differential == d):
        rule = top.rule   # nothing new at the top (a constant added): the step below is the name's step
        del steps[-1]
    else:
        rule = body.rule or "definition"
    steps.append(Step(rule, name, d, var=next(iter(moves)), dvar=next(iter(moves.values())),
                      moves=tuple(moves.items())))
    return d


def _with_names(e: Expr, shown: dict, directions: frozenset) -> Expr:
    """``e`` with every definition's expression it contains written as the definition's name
    (``(𝟏 - σ(z_1)) ⊙ σ(z_1)`` as ``(𝟏 - h) ⊙ h`` when h = σ(z_1))."""
    mapping = {k: v for k, v in shown.items() if not isinstance(k, Sym)}
    if not mapping or not any(n in mapping or isinstance(n, Hadamard) for n in postorder(e)):
        return e
    memo = dict(mapping)
    for node in postorder(e):
        if node in memo:
            continue
        args = [memo[a] for a in node.args]
        if all(a is b for a, b in zip(args, node.args)):
            memo[node] = node
        elif isinstance(node, Hadamard):   # the differential last: h ⊙ (𝟏 - h) ⊙ dz_1
            memo[node] = Hadamard([a for a in args if not a.free & directions] +
                                  [a for a in args if a.free & directions])
        else:
            memo[node] = node.rebuild(args)
    return memo[e]

