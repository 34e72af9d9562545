"""Derivative operators in a statement: which side states a derivative (``\\nabla_x f``,
``\\frac{\\partial f}{\\partial x}``, ``D f(x)[v]``, ``\\partial_v f``), what it applies to, and
derivatives used as values inside expressions (``(\\frac{\\partial u}{\\partial x})^T v``,
``\\nabla f(AXB)``, ``D(x^T)[v]``, ``D g(h(x))[c]``)."""
from __future__ import annotations

from fractions import Fraction

from .errors import ParseError
from .syntax import Node, Target


def _has_derivative(node) -> bool:
    if not isinstance(node, Node):
        return False
    if node.kind in ("nabla", "partial", "along") or (node.kind == "frac" and frac_operator(node) is not None) \
            or node.kind in ("directional", "derivative") or (node.kind == "name" and node.value == "D"):
        return True
    return any(_has_derivative(a) for a in node.args)


def _transposed_head(node: Node) -> bool:
    return node.kind == "pow" and node.args[0].kind == "name" and _is_transpose_mark(node.args[1])


def _is_head(node: Node) -> bool:
    """A name being defined: ``u`` or ``f(x)``."""
    return node.kind == "name" or (node.kind == "call" and all(a.kind == "name" for a in node.args))


def _value(sides: list[Node]) -> Target:
    """A chain of values with no derivative first (``v^TAx + x^T D(Ax)[v] = …``): the first side,
    its derivatives worked out, and each link after it judged."""
    body = embed_derivatives(sides[0])
    _no_operator(body)
    return Target("value", [], body, [_claim_side(c) for c in sides[1:]], pos=body.pos, end=body.end)


def _definition_head(lhs: Node) -> tuple[str, list[str]]:
    if lhs.kind == "name":
        return lhs.value, []
    if lhs.kind == "call" and all(a.kind == "name" for a in lhs.args):
        return lhs.args[0].value, [a.value for a in lhs.args[1:]]
    raise ParseError("the left side of '=' must be a name such as u or f(x), or a target such as \\nabla_x f",
                     pos=lhs.pos, end=lhs.end)


def _join(kind: str, a: Node | None, b: Node) -> Node:
    if a is None:
        return b if kind != "sub" else Node("neg", (b,), b.pos, b.end)
    return Node(kind, (a, b), a.pos, b.end, ":" if kind == "inner" else None)


def extract_operator(node: Node):
    """(derivative operator, what it applies to) if ``node`` starts with one, else (None, node).
    The operator applies to everything after it on its side of '='."""
    kind = node.kind
    if kind == "nabla" or (kind == "frac" and frac_operator(node) is not None):
        return node, None
    if kind == "mul" and node.args[0].kind == "name" and node.args[0].value == "D" \
            and node.args[1].kind in ("directional", "directions"):
        return node.args[1], None
    if kind == "mul" and _is_d_power(node.args[0]) and node.args[1].kind in ("directional", "directions"):
        op = node.args[1]   # D^2 f(X)[U, V]: the order on the D
        return Node("directions", op.args, node.pos, op.end, _power_of(node.args[0])), None
    if kind == "directional" and _is_operator_d(node.args[0]):   # D(x^T A x)[v]
        return node, None
    if kind == "mul" and node.args[0].kind == "along":   # ∂_v f(x): along v
        return node.args[0], node.args[1]
    if (kind in ("mul", "add", "sub", "hadamard", "div", "hdiv") or (kind == "inner" and node.value == ":")) \
            and not node.args[0].grouped:
        op, rest = extract_operator(node.args[0])   # (∇_x f) g: the operator stays inside its parentheses
        if op is not None:
            if rest is None and kind == "mul":
                return op, node.args[1]
            return op, _join(kind, rest, node.args[1])
    return None, node


def _no_operator(node: Node) -> None:
    if node.kind in ("nabla", "partial") or (node.kind == "frac" and frac_operator(node) is not None):
        raise ParseError("a derivative operator must come first on its side of '='", pos=node.pos, end=node.end)
    for a in node.args:
        if isinstance(a, Node):
            _no_operator(a)


def _factors(node: Node) -> list[Node]:
    if node.kind == "mul":
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def frac_operator(node: Node):
    """For ``\\frac{∂ f}{∂ x}``, ``\\frac{∂}{∂x}``, ``\\frac{d}{dt}``, ``\\frac{∂^2 f}{∂x ∂x^T}``:
    (order, body or None, [variables]); None for an ordinary fraction."""
    head, body = _leading(node.args[0])
    den = _factors(node.args[1])
    if head.kind == "partial":
        marker = "partial"
        order = head.value
    elif head.kind == "name" and head.value in ("d", "delta") and den[0].kind == "name" \
            and den[0].value == head.value and len(den) == 2:
        marker, order = head.value, 1   # d/dx, and δ/δθ as some notes write it
    elif head.kind == "pow" and head.args[0].kind == "name" and head.args[0].value == "d" \
            and _power_of(head) and den[0].kind == "name" and den[0].value == "d" and len(den) == 2:
        marker, order = "d", _power_of(head)   # d^3/dt^3
    else:
        return None
    variables = []
    i = 0
    while i < len(den):
        if (marker == "partial" and den[i].kind != "partial") or \
                (marker != "partial" and not (den[i].kind == "name" and den[i].value == marker)):
            raise ParseError("expected ∂x (or dx) in the denominator of a derivative", pos=den[i].pos, end=den[i].end)
        if i + 1 >= len(den):
            raise ParseError("expected the variable after ∂ in the denominator", pos=den[i].pos, end=den[i].end)
        var, times = den[i + 1], 1
        if var.kind == "pow" and _power_of(var) and order > 1:   # ∂x^3, dt^3 under ∂^3, d^3: by x three times
            var, times = var.args[0], _power_of(var)
        order_here = den[i].value if den[i].kind == "partial" else 1
        variables.extend([var] * max(order_here, times))
        i += 2
    return order, body, variables, marker


def _power_of(node: Node) -> int | None:
    """k ≥ 2 in ``x^k`` written with an integer exponent, else None."""
    exp = node.args[1]
    if exp.kind == "num" and isinstance(exp.value, (int, Fraction)) and int(exp.value) == exp.value and exp.value >= 2:
        return int(exp.value)
    return None


def _leading(node: Node) -> tuple[Node, Node | None]:
    """The first factor of a numerator and what follows it: ``∂`` and ``xᵀAx + bᵀx`` in
    ``\\frac{\\partial\\, x^TAx + b^Tx}{\\partial x}``."""
    if node.grouped or node.kind not in ("mul", "add", "sub"):
        return node, None
    head, rest = _leading(node.args[0])
    if rest is None:
        if node.kind != "mul":
            return node, None
        return head, node.args[1]
    return head, Node(node.kind, (rest, node.args[1]), rest.pos, node.end)


def rewrite_products(node: Node, scan) -> Node:
    """``node`` with every product rewritten by ``scan(factors, joins) -> (factors, joins)``, each
    product seen whole (its factors rewritten first); what ``scan`` leaves alone keeps its span."""
    if not isinstance(node, Node) or not node.args:
        return node
    if node.kind != "mul":
        args = tuple(rewrite_products(a, scan) if isinstance(a, Node) else a for a in node.args)
        if all(a is b for a, b in zip(args, node.args)):
            return node
        return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)
    written, joins = _flatten(Node("mul", node.args, node.pos, node.end, node.value))
    out, out_joins = scan([rewrite_products(f, scan) for f in written], joins)
    if len(out) == len(written) and all(a is b for a, b in zip(out, written)):
        return node   # the product as written, its span kept
    if len(out) == len(written):   # a factor changed inside: the same product around it
        inner = _rebuild_product(Node("mul", node.args, node.pos, node.end, node.value), iter(out))
        return Node("mul", inner.args, node.pos, node.end, node.value, node.grouped)
    return _regroup(_product(out, out_joins), node.grouped) if len(out) > 1 else _regroup(out[0], node.grouped)


def compositions(node: Node, notes: list[str]) -> Node:
    """``(g \\circ h)(x)`` is g(h(x)), and ``D(g \\circ h)(x)[v]`` the derivative of g(h(x)) along v:
    \\circ between two function names applied to an argument is composition (elsewhere, as in
    ``S^{-1} \\circ I``, it stays the entrywise product)."""
    def scan(factors: list, joins: list):
        out, out_joins, k = [factors[0]], [], 1
        while k < len(factors):
            f, prev = factors[k], out[-1]
            d_of = prev.kind == "call" and len(prev.args) == 2 and _is_operator_d(prev) and _composed(prev.args[1])
            if not (f.grouped and (d_of or (prev.grouped and _composed(prev)))):
                out.append(f)
                out_joins.append(joins[k - 1])
                k += 1
                continue
            applied = _compose(prev.args[1] if d_of else prev, f)
            if d_of and k + 1 < len(factors) and factors[k + 1].grouped:   # D(g ∘ h)(x)[v]: D of g(h(x))
                direction = factors[k + 1]
                d = Node("call", (prev.args[0], applied), prev.pos, f.end)
                applied = Node("directional", (d, direction), prev.pos, direction.end)
                k += 1
            elif d_of:
                applied = Node("mul", (Node("name", (), prev.pos, prev.pos + 1, "D"), applied), prev.pos, f.end)
            out[-1] = applied
            note = "read ∘ between functions applied to an argument as composition: (g ∘ h)(x) = g(h(x))"
            if note not in notes:
                notes.append(note)
            k += 1
        return out, out_joins
    return rewrite_products(node, scan)


def _rebuild_product(node: Node, factors) -> Node:
    """``node``'s product tree (spans and grouping kept) with its factors, in order, replaced."""
    if node.kind == "mul" and not node.grouped:
        a = _rebuild_product(node.args[0], factors)
        b = _rebuild_product(node.args[1], factors)
        return Node("mul", (a, b), node.pos, node.end, node.value, node.grouped)
    return next(factors)


def _composed(node: Node) -> bool:
    """g ∘ h (∘ k …) of function names."""
    if node.kind == "hadamard" and node.value == "circ":
        return all(a.kind == "name" or _composed(a) for a in node.args)
    return False


def _compose(f: Node, arg: Node) -> Node:
    if f.kind == "hadamard":
        return _compose(f.args[0], _compose(f.args[1], arg))
    inner = _regroup(arg, False)
    return Node("call", (f, inner), f.pos, arg.end)


def drop_evaluation_points(node: Node, notes: list[str]) -> Node:
    """``\\frac{\\partial f}{\\partial x_1}(\\mathbf{x})``: the derivative taken at x, not times x. The
    point is dropped (the derivative is a function of x already); read before sums are rewritten, so
    ``\\sum_d \\frac{\\partial f}{\\partial x_d}(\\mathbf{x}) v_d`` is the sum of the partials times v_d."""
    def scan(factors: list, joins: list):
        kept, kept_joins = [factors[0]], []
        for join, f in zip(joins, factors[1:]):
            variables = _last_derivative_variables(kept[-1])
            if variables is None or not _at_its_point(variables, f):
                kept.append(f)
                kept_joins.append(join)
            elif (note := f"read ({f.value}) after ∂/∂{variables[0].value} as the point the derivative is taken "
                          "at") not in notes:
                notes.append(note)
        return kept, kept_joins
    return rewrite_products(node, scan)


def _last_derivative_variables(node: Node) -> list | None:
    """The variables of ``\\frac{\\partial f}{\\partial x}`` when a factor ends with one (also inside
    ``\\sum_d``, whose body is its next factor): what a following ``(\\mathbf{x})`` is the point of."""
    while node.kind in ("index_sum", "mul") and not node.grouped:
        node = node.args[-1] if node.kind == "mul" else node.args[0]
    if node.kind == "frac" and frac_operator(node) is not None and frac_operator(node)[1] is not None:
        return frac_operator(node)[2]
    return None


def _at_its_point(variables: list, rest: Node) -> bool:
    """``(\\mathbf{x})`` after ∂f/∂x or ∂f/∂x_1: the point the derivative is taken at, not a factor."""
    var = variables[0] if len(variables) == 1 else None
    return var is not None and var.kind == "name" and rest.grouped and rest.kind == "name" \
        and rest.value in (var.value, var.value.split("_")[0])


def _target(op: Node, rest: Node | None, claims: list[Node]) -> Target:
    claims = [_claim_side(c) for c in claims]
    if op.kind == "nabla":
        if rest is None:
            raise ParseError("nothing to differentiate after the gradient", pos=op.end, end=op.end + 1)
        if not op.args:
            op = op.with_args(guess_variable(op, rest))
        if op.value < 1:
            raise ParseError(f"∇^{op.value} is no derivative: the order is 1 or more", pos=op.pos, end=op.end)
        if op.value > 2:   # ∇^k, k ≥ 3: the k-linear form
            if len(op.args) != 1:
                raise ParseError("a derivative of order 3 or more is taken by one variable", pos=op.pos, end=op.end)
            return Target("higher", list(op.args) * op.value, rest, claims, pos=op.pos, end=rest.end, order=op.value)
        kind = "hessian" if op.value == 2 else "gradient"
        return Target(kind, list(op.args), rest, claims, pos=op.pos, end=(rest or op).end)
    if op.kind == "along":
        if rest is None:
            raise ParseError("nothing to differentiate after ∂_v", pos=op.end, end=op.end + 1)
        var, direction = _along(op, rest)
        if direction is None:   # ∂_x f(x): the partial derivative by x
            return Target("jacobian", [var], rest, claims, pos=op.pos, end=rest.end)
        return Target("directional", [var], rest, claims, direction=embed_derivatives(direction),
                      pos=op.pos, end=rest.end)
    if op.kind == "directions":
        return _multilinear_target(op, rest, claims)
    if op.kind == "directional":
        call, direction = op.args
        if _is_operator_d(call):   # D(x^T A x)[v]: by the one usual variable in the expression
            if rest is not None:
                raise ParseError("unexpected terms after the directional derivative", pos=rest.pos, end=rest.end)
            return Target("directional", [guess_variable(op, call.args[1])], call.args[1], claims,
                          direction=embed_derivatives(_differential(direction)), pos=op.pos, end=op.end)
        if call.args[0].kind != "name" or len(call.args) != 2:
            raise ParseError("write the directional derivative as D f(x)[v]", pos=op.pos, end=op.end)
        if rest is not None:
            raise ParseError("unexpected terms after the directional derivative", pos=rest.pos, end=rest.end)
        return Target("directional", [call.args[1]], call, claims, direction=embed_derivatives(_differential(direction)),
                      pos=op.pos, end=op.end)
    order, body, variables, marker = frac_operator(op)
    in_numerator = body is not None
    if body is not None and rest is not None:
        raise ParseError("unexpected terms after the derivative", pos=rest.pos, end=rest.end)
    body = body if body is not None else rest
    if body is None:
        raise ParseError("nothing to differentiate after the derivative", pos=op.end, end=op.end + 1)
    if order >= 2:
        if len(variables) != order:
            raise ParseError(f"a derivative of order {order} needs {order} variables in its denominator "
                             f"(∂x ∂y, or ∂x^{order})", pos=op.pos, end=op.end)
        plain = [_strip_transpose(w) for w in variables]
        names = [w.value if w.kind == "name" else None for w in plain]
        scalar = marker == "d" and all(w.kind == "name" for w in plain)   # d²/dt²: t is a scalar
        if order == 2 and len(set(names)) == 1:
            return Target("hessian", [plain[0]], body, claims, pos=op.pos, end=body.end, scalar_variable=scalar)
        # ∂²f/∂x∂y: by x, then by y (the order does not matter for smooth f); ∂³f/∂x³: by x three times
        kind = "higher" if len(set(names)) == 1 else "mixed"
        return Target(kind, plain, body, claims, pos=op.pos, end=body.end, order=order, scalar_variable=scalar)
    if len(variables) != 1:
        raise ParseError("only first derivatives and Hessians ∂²f/∂x∂xᵀ are supported", pos=op.pos, end=op.end)
    return Target("jacobian", variables, body, claims, pos=op.pos, end=body.end,
                  scalar_variable=marker == "d" and variables[0].kind == "name", numerator_body=in_numerator)


def _is_d_power(node: Node) -> bool:
    return node.kind == "pow" and node.args[0].kind == "name" and node.args[0].value == "D" and bool(_power_of(node))


def _multilinear_target(op: Node, rest: Node | None, claims: list[Node]) -> Target:
    """``D^k f(x)[v_1, …, v_k]``: the k-linear form, by the argument of f, in the given directions."""
    call, *directions = op.args
    order = op.value if isinstance(op.value, int) else 1
    if len(directions) != order:
        if order == 1:
            raise ParseError(f"D f(x)[…] with {len(directions)} directions: write D^{len(directions)} f(x)[…] for "
                             f"the derivative of order {len(directions)}", pos=op.pos, end=op.end)
        raise ParseError(f"D^{order} f(x)[…] takes {order} directions, one per differentiation (write "
                         f"D^{order} f(x)[v, …, v] for the form on one direction)", pos=op.pos, end=op.end)
    if call.kind != "call" or call.args[0].kind != "name" or len(call.args) != 2 or _is_operator_d(call):
        raise ParseError("write a derivative of higher order as D^2 f(x)[u, v], with f defined in the cell",
                         pos=op.pos, end=op.end)
    if rest is not None:
        raise ParseError("unexpected terms after the directional derivative", pos=rest.pos, end=rest.end)
    directions = [embed_derivatives(_differential(d)) for d in directions]
    return Target("directional", [call.args[1]] * order, call, claims, pos=op.pos, end=op.end, order=order,
                  directions=directions)


def _differential(direction: Node) -> Node:
    """``[dA]`` in ``D f(A)[dA]`` is one symbol, the differential dA, not d·A."""
    if direction.kind == "mul" and not direction.grouped and direction.args[0].kind == "name" \
            and direction.args[0].value == "d" and direction.args[1].kind == "name":
        return Node("name", (), direction.pos, direction.end, "d" + direction.args[1].value)
    return direction


def differential_target(sides: list[Node], notes: list[str]) -> Target | None:
    """``d(X^2) = X\\,dX + dX\\,X``, ``d\\|x\\| = \\frac{x^T dx}{\\|x\\|}``, ``df = …``: a differential as
    the target, read as the directional derivative along the differential of the variable whose
    ``d`` the right sides use (one variable); None when the line is not one."""
    if len(sides) < 2:
        return None
    factors, joins = _flatten(sides[0])
    if len(factors) == 1 and factors[0].kind == "call" and _is_d(factors[0].args[0]) and len(factors[0].args) == 2:
        call = factors[0]   # d(X^2): d applied to its parentheses
        factors, joins = [call.args[0], _regroup(call.args[1], True)], [None]
    if len(factors) < 2 or not _is_d(factors[0]):
        return None
    named: set[str] = set()
    claims = [_with_differentials(c, named) for c in sides[1:]]
    if len(named) > 1:
        raise ParseError(f"a differential in several variables ({', '.join('d' + n for n in sorted(named))}) is "
                         "not read yet: write one variable's differential", pos=sides[0].pos, end=sides[0].end)
    if not named:
        return None
    var = named.pop()
    body = _product(factors[1:], joins[1:])
    at = Node("name", (), factors[0].pos, factors[0].end, var)
    notes.append(f"read the line as the differential d(…) by {var}: the derivative along d{var}")
    return Target("directional", [at], embed_derivatives(body), [_claim_side(c) for c in claims],
                  direction=Node("name", (), factors[0].pos, factors[0].end, "d" + var),
                  pos=sides[0].pos, end=sides[0].end)


def _is_d(node: Node) -> bool:
    return node.kind == "name" and node.value == "d" and not node.grouped


def _with_differentials(node: Node, named: set) -> Node:
    """``dx``, ``dX^T`` written as d·x: the differential of x, one symbol ``dx`` (its name added to
    ``named``)."""
    if not isinstance(node, Node) or not node.args:
        return node
    if node.kind == "mul":
        factors, joins = _flatten(Node("mul", node.args, node.pos, node.end, node.value))
        out, out_joins, k = [], [], 0
        while k < len(factors):
            f = factors[k]
            nxt = factors[k + 1] if k + 1 < len(factors) else None
            base = nxt.args[0] if nxt is not None and nxt.kind == "pow" else nxt
            if _is_d(f) and base is not None and base.kind == "name" and not base.grouped:
                named.add(base.value)
                d = Node("name", (), f.pos, base.end, "d" + base.value)
                new = d if nxt is base else Node("pow", (d, nxt.args[1]), f.pos, nxt.end)
                if k > 0:
                    out_joins.append(joins[k - 1])
                out.append(new)
                k += 2
                continue
            if k > 0:
                out_joins.append(joins[k - 1])
            out.append(_with_differentials(f, named))
            k += 1
        return _regroup(_product(out, out_joins), node.grouped) if len(out) > 1 else _regroup(out[0], node.grouped)
    args = tuple(_with_differentials(a, named) if isinstance(a, Node) else a for a in node.args)
    return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)


def by_an_expression(op: Node | None) -> bool:
    """``\\frac{\\partial R}{\\partial (Y - X\\theta)}``: a derivative by an expression as a whole."""
    if op is None or op.kind != "frac":
        return False
    shape = frac_operator(op)
    return shape is not None and shape[1] is not None and len(shape[2]) == 1 and shape[2][0].kind != "name"


def gradient_at_a_point(op: Node | None, rest: Node | None) -> bool:
    """``∇f(x) · v``, ``∇f(x)^T v``, ``∇f(x)^T``: the gradient of f taken at x, a value in a product
    (or transposed), not ∇ of the whole product."""
    if op is None or op.kind != "nabla" or op.args or rest is None:
        return False
    head = _factors_grouped(rest)[0]
    return (rest.kind == "mul" and head.kind == "call") or (
        head.kind == "pow" and head.args[0].kind == "call" and _is_transpose_mark(head.args[1]))


def _claim_side(side: Node):
    """A claimed side is an expression, or itself a derivative (``= \\nabla_x (Ax+b)^T(Ax+b)``),
    also with a constant factor (``= \\frac{1}{2}\\nabla_\\theta (X\\theta - y)^T(X\\theta - y)``)."""
    terms = _operator_terms(side)
    if terms is not None:   # ∇_x f + c ∇_x g = ∇_x (f + c g): one derivative of the combined function
        targets = [_claim_side(t) for _, t in terms]
        first = targets[0]
        if all(isinstance(t, Target) for t in targets) and all(t.kind == first.kind and [v.value for v in t.variables] == [v.value for v in first.variables]
               and t.direction is None for t in targets):
            body = None
            for (sign, _), t in zip(terms, targets):
                body = t.body if body is None else Node(sign, (body, t.body), body.pos, t.body.end)
            first.body, first.pos, first.end = body, side.pos, side.end
            first.combined = True   # shown as written: the sum of derivatives the student wrote
            return first
    scaled = _scaled_operator(side)
    if scaled is not None:
        coeff, inner = scaled
        target = _claim_side(inner)
        if isinstance(target, Target):
            target.body = Node("mul", (coeff, target.body), side.pos, side.end)   # c ∇f = ∇(c f)
            target.pos, target.end = side.pos, side.end
            return target
        side = embed_derivatives(side)   # A ∇f(AXB) B: a derivative at a point, as a value
        _no_operator(side)
        return side
    op, rest = extract_operator(side)
    standalone = op is not None and (op.kind == "directional" or (op.kind == "frac" and frac_operator(op)[1] is not None))
    at_a_point = op is not None and op.kind == "directional" and op.args[0].args[-1].kind != "name"
    at_a_point = at_a_point or gradient_at_a_point(op, rest)
    if op is None or (standalone and rest is not None) or at_a_point:   # ∂z/∂y ∂y/∂x, DA(x)[v] C(x), Dg(h(x))[c]
        side = embed_derivatives(side)
        _no_operator(side)
        return side
    target = _target(op, rest, [])
    target.pos, target.end = side.pos, side.end
    return target


_USUAL_VARIABLES = ("x", "X", "w", "W", "theta", "z", "beta")


def _operator_terms(side: Node):
    """[(sign, term)] of a sum whose every term is a (scaled) derivative, else None."""
    if side.grouped or side.kind not in ("add", "sub"):
        return None
    out = []
    node = side
    while node.kind in ("add", "sub") and not node.grouped:
        out.append((node.kind, node.args[1]))
        node = node.args[0]
    out.append(("add", node))
    out.reverse()
    ok = all(extract_operator(t)[0] is not None and extract_operator(t)[1] is None or _scaled_operator(t) is not None
             or (extract_operator(t)[0] is not None) for _, t in out)
    if not ok or any(_leading(t)[0].kind not in ("nabla", "frac", "num", "name", "mul", "neg")
                     for _, t in out):
        return None
    return out if all(_is_derivative(t) for _, t in out) else None


def _is_derivative(t: Node) -> bool:
    if _scaled_operator(t) is not None:
        return True
    op, rest = extract_operator(t)
    return op is not None


def embed_derivatives(node: Node) -> Node:
    """Derivatives used as values inside an expression: ``(\\frac{\\partial u}{\\partial x})^T v``,
    ``\\frac{\\partial z}{\\partial y}\\frac{\\partial y}{\\partial x}``, ``c \\nabla_x f(x)``. A
    ``\\frac{\\partial f}{\\partial x}`` stands alone; an operator with nothing in its numerator (or
    ``\\nabla_x``) applies to the rest of its product."""
    if not isinstance(node, Node) or node.kind == "derivative":
        return node
    if node.kind == "frac" and frac_operator(node) is not None and frac_operator(node)[1] is not None:
        return _derivative_node(node, None)
    if node.kind == "directional" and _is_operator_d(node.args[0]):
        return _d_of_expression(node)
    if node.kind == "mul":
        factors, joins = _flatten(Node("mul", node.args, node.pos, node.end, node.value))
        merged = _embed_factors(factors, joins)
        if merged is not None:
            return _regroup(merged, node.grouped)
        return Node("mul", tuple(embed_derivatives(a) for a in node.args), node.pos, node.end, node.value,
                    node.grouped)
    args = tuple(embed_derivatives(a) if isinstance(a, Node) else a for a in node.args)
    return Node(node.kind, args, node.pos, node.end, node.value, node.grouped)


def _embed_factors(factors: list[Node], joins: list) -> Node | None:
    """The factors of a product with its derivative operators applied (``joins[k]`` is how factors
    k and k+1 were written together: ``\\cdot`` or side by side); None when it has none."""
    def merge(i: int, deriv: Node, width: int = 2) -> Node:   # factors i … i+width-1 make one derivative
        rest, rest_joins = [*factors[:i], deriv, *factors[i + width:]], [*joins[:i], *joins[i + width - 1:]]
        again = _embed_factors(rest, rest_joins)   # ∇f(u) after D h(x): every operator of the product
        return again if again is not None else _product([embed_derivatives(g) for g in rest], rest_joins)
    for i, f in enumerate(factors[:-1]):   # D f(x)[v]: the directional derivative as a value
        g = factors[i + 1]
        if f.kind == "name" and f.value == "D" and g.kind == "directional":
            call, direction = g.args
            if call.kind != "call" or len(call.args) != 2:
                raise ParseError("inside an expression, write the directional derivative as D f(x)[v]",
                                 pos=f.pos, end=g.end)
            return merge(i, Node("derivative", (call, call.args[1], embed_derivatives(_differential(direction))),
                                 f.pos, g.end, "directional", g.grouped))
        if f.kind == "name" and f.value == "D" and not f.grouped and (g.kind == "call" or (
                g.kind == "pow" and g.args[0].kind == "call" and _is_transpose_mark(g.args[1]))):
            call = g if g.kind == "call" else g.args[0]   # D h(x): h's derivative at x, as a matrix
            if len(call.args) != 2:
                continue
            deriv = Node("derivative", (call, call.args[1]), f.pos, call.end, "dmatrix")
            return merge(i, deriv if g is call else Node("pow", (deriv, g.args[1]), f.pos, g.end))
    for i, f in enumerate(factors):
        if f.kind == "nabla" or (f.kind == "frac" and frac_operator(f) is not None and frac_operator(f)[1] is None):
            if i + 1 >= len(factors):
                raise ParseError("nothing to differentiate after the derivative", pos=f.pos, end=f.end)
            g = factors[i + 1]
            if f.kind == "nabla" and not f.args and g.kind == "call":   # ∇f(u) v: at the point u
                return merge(i, _derivative_node(f, embed_derivatives(g)))
            if f.kind == "nabla" and not f.args and g.kind == "pow" and g.args[0].kind == "call" \
                    and _is_transpose_mark(g.args[1]):   # ∇f(u)^T v
                deriv = _derivative_node(f, embed_derivatives(g.args[0]))
                return merge(i, Node("pow", (deriv, g.args[1]), f.pos, g.end))
            body = _product(factors[i + 1:], joins[i + 1:])   # ∇_x applies to the rest of the product
            deriv = _derivative_node(f, embed_derivatives(body))
            return _product([embed_derivatives(g) for g in factors[:i]] + [deriv], joins[:i])
    for i, f in enumerate(factors):
        if f.kind == "along":   # a ∂_v f(x): along v, of the next factor
            if i + 1 >= len(factors):
                raise ParseError("nothing to differentiate after ∂_v", pos=f.pos, end=f.end)
            body = factors[i + 1]
            var, direction = _along(f, body)
            return merge(i, Node("derivative", (embed_derivatives(body), var, embed_derivatives(direction)), f.pos,
                                 body.end, "directional") if direction is not None
                         else Node("derivative", (embed_derivatives(body), var), f.pos, body.end, "jacobian"))
        if f.kind == "directional" and _is_operator_d(f.args[0]):   # D(x^T)[v] (A x)
            return merge(i, _d_of_expression(f), width=1)
    return None


def _is_transpose_mark(node: Node) -> bool:
    return node.kind == "top" or (node.kind == "name" and node.value == "T")


def _along(op: Node, body: Node) -> tuple[Node, Node | None]:
    """``∂_v f(x)``: (the variable x, the direction v); ``∂_x f(x)`` is by x (direction None)."""
    sub = op.args[0]
    if body.kind == "call" and len(body.args) == 2 and body.args[1].kind == "name":
        var = body.args[1]
    else:
        var = guess_variable(op, body)
    if sub.kind == "name" and sub.value == var.value:
        return var, None
    return var, sub


def _is_operator_d(call: Node) -> bool:
    """``D(x^T)`` in ``D(x^T)[v]``: the operator D applied to an expression, not a function D."""
    return call.kind == "call" and len(call.args) == 2 and call.args[0].kind == "name" and call.args[0].value == "D"


def _d_of_expression(node: Node) -> Node:
    """``D(A x)[v]``: the derivative of an expression in the direction v, by the cell's variable
    (the variable of its target, filled in when shapes are read)."""
    call, direction = node.args
    return Node("derivative", (call.args[1], None, embed_derivatives(_differential(direction))), node.pos, node.end,
                "directional", node.grouped)


def _regroup(node: Node, grouped: bool) -> Node:
    return node if node.grouped == grouped else Node(node.kind, node.args, node.pos, node.end, node.value, grouped)


def _factors_grouped(node: Node) -> list[Node]:
    return _flatten(node)[0]


def _flatten(node: Node) -> tuple[list[Node], list]:
    """The factors of a product (parentheses kept whole) and how each pair was joined."""
    if node.kind == "mul" and not node.grouped:
        fa, ja = _flatten(node.args[0])
        fb, jb = _flatten(node.args[1])
        return fa + fb, ja + [node.value] + jb
    return [node], []


def _product(factors: list[Node], joins: list | None = None) -> Node:
    out = factors[0]
    for k, f in enumerate(factors[1:]):
        out = Node("mul", (out, f), out.pos, f.end, joins[k] if joins else None)
    return out


def _derivative_node(op: Node, body: Node | None) -> Node:
    """A derivative as a value: Node("derivative", (body, variable), value=kind)."""
    if op.kind == "nabla":
        variables = list(op.args) or [_point_of(op, body)]
        if len(variables) != 1 or op.value != 1:
            raise ParseError("inside an expression, only first derivatives by one variable are read",
                             pos=op.pos, end=op.end)
        kind = "gradient"
    else:
        order, inner, variables, _ = frac_operator(op)
        body = inner if inner is not None else body
        if order != 1 or len(variables) != 1:
            raise ParseError("inside an expression, only first derivatives by one variable are read",
                             pos=op.pos, end=op.end)
        kind = "jacobian"
    var = variables[0]   # a name, or an expression: ∂R/∂(Y - Xθ), by it as a whole (build.py)
    end = body.end if body is not None else op.end
    return Node("derivative", (body, var), op.pos, max(end, op.end), kind, op.grouped)


def _point_of(op: Node, body: Node | None) -> Node:
    """``\nabla f(u)`` with no subscript: the gradient of f at the point u (by u when u is a
    symbol); of anything else, by the one usual variable in it."""
    if body is not None and body.kind == "call" and len(body.args) == 2 and body.args[0].kind == "name":
        return body.args[1]
    if body is None:
        raise ParseError("nothing to differentiate after the gradient", pos=op.end, end=op.end + 1)
    return guess_variable(op, body)


def _scaled_operator(side: Node):
    """(c, ∇f) for a side ``c ∇f`` whose factor c is a number, -1 or a fraction of numbers."""
    if side.kind == "neg" and not side.grouped:
        inner = _scaled_operator(side.args[0])
        coeff, rest = inner if inner is not None else (None, side.args[0])
        if extract_operator(rest)[0] is None:
            return None
        minus = Node("num", (), side.pos, side.pos + 1, Fraction(-1))
        return (minus if coeff is None else Node("mul", (minus, coeff), side.pos, coeff.end)), rest
    head, rest = _leading(side)
    if side.kind == "mul" and rest is not None and _coefficient(head) and extract_operator(rest)[0] is not None:
        return head, rest
    return None


def _coefficient(node: Node) -> bool:
    """A factor in front of a derivative: a number, a symbol, or a fraction or product of them."""
    if node.kind in ("num", "name"):
        return True
    if node.kind == "frac" and frac_operator(node) is not None:
        return False   # \\frac{dz}{dy} is a derivative, not a coefficient
    return node.kind in ("frac", "div", "neg", "mul") and all(_coefficient(a) for a in node.args)


def guess_variable(op: Node, body: Node) -> Node:
    """``\\nabla f`` without a subscript: the one usual variable name (x, X, w, θ, …) in f."""
    names: dict[str, Node] = {}

    def walk(n: Node):
        if n.kind == "name":
            names.setdefault(n.value, n)
        for a in n.args:
            if isinstance(a, Node):
                walk(a)
    walk(body)
    usual = [names[v] for v in _USUAL_VARIABLES if v in names]
    if len(usual) == 1:
        return Node("name", (), op.end, op.end, usual[0].value)
    raise ParseError("write the variable under the gradient: \\nabla_x", pos=op.pos, end=op.end)


def _strip_transpose(v: Node) -> Node:
    return v.args[0] if v.kind == "pow" else v
