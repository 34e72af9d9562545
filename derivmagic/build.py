"""Building expressions from a reading that fits: the typed syntax tree becomes derivmagic's
expressions (``expr.py`` and ``rules/``) with the final shapes, definitions substituted, identities,
broadcasts, matrix functions, arbitrary functions and derivatives used as values resolved; and
the names of symbols as the Interpretation and the printers write them."""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from . import limits
from .errors import DerivError, ParseError, ShapeError
from .expr import SCALAR, Expr, Identity, InternalShapeError, Num, Ones, Sym, ones
from .functions import function_note
from .rules.entries import Basis, entry, explicit_det, stack
from .tex import GREEK_UNICODE
from .syntax import Node, Target
from .rules import (add, det, diag, diagonal, func, hadamard, inverse, mul, neg, norm, power, softmax, trace,
                    transpose)
from .rules.abstract import BilinearApply, apply_function
from .readings import _is_transpose, _letter
from .shapes import DIM_POOL, ELEMENTWISE, Reading, _exponent
from .spectral_reading import (build_matrix_function, build_norm, build_pinv, build_spectral, is_spectral,
                               refuse_matrix_power)

if TYPE_CHECKING:
    from .shapes import Typer


def _space_name(shape) -> str:
    """ℝ, ℝⁿ, ℝ^(m×n) for a shape, as the Interpretation writes spaces."""
    rows, cols = shape
    if (rows, cols) == (1, 1):
        return "ℝ"
    sup = str.maketrans("0123456789mnpqkrsldh", "⁰¹²³⁴⁵⁶⁷⁸⁹ᵐⁿᵖqᵏʳˢˡᵈʰ")
    if cols == 1:
        return "ℝ" + str(rows).translate(sup) if len(str(rows)) <= 2 else f"ℝ^{rows}"
    return f"ℝ^({rows}×{cols})"


def node_text(cell: str, node: Node) -> str:
    return cell[node.pos:node.end].strip()


ACCENTS = ("hat", "tilde", "bar", "widehat", "widetilde", "overline", "dot")


def tex_name(name: str) -> str:
    base, _, sub = name.partition("_")
    accent = None
    head, _, rest = sub.partition("_")
    if head in ACCENTS:
        accent, sub = head, rest     # y_hat, y_hat_i
    if len(base) > 1 and base[0] == "d" and base[1:] in GREEK_UNICODE:
        body = f"d\\{base[1:]}"      # the differential dθ
    else:
        body = "\\" + base if base in GREEK_UNICODE else base
    if accent:
        body = f"\\{accent}{{{body}}}"
    if sub:
        body += f"_{{{sub.strip('{}')}}}"
    return body


class Builder:
    """Expressions from the typed syntax tree, with the final shapes."""

    def __init__(self, typer: Typer):
        self.t = typer
        self.layout = typer.layout
        self.size_note = ""
        self.derivatives: list = []
        self.recording = False
        self.final_dims = self._name_dims()
        self.syms: dict[str, Sym] = {}
        self.def_exprs: dict[str, Expr] = {}
        self.notes: list[str] = list(typer.entry_notes)
        if typer.concrete and self.size_note:
            self.notes.append(f"read at concrete sizes, as entries need: {self.size_note}")

    def _name_dims(self) -> dict[int, object]:
        t = self.t
        used = set(t.kinds) | set(t.declared) | {str(v) for v in t.dims.value if isinstance(v, str)}
        pool = [n for n in DIM_POOL if n not in used]
        out: dict[int, object] = {}
        order = list(t.sym_dims.values()) + list(t.shape.values())
        for r, c in order:
            for d in (r, c):
                root = t.dims.find(d)
                if root in out:
                    continue
                v = t.dims.value[root]
                if v is None:
                    v = pool.pop(0) if pool else f"n_{len(out)}"
                out[root] = v
        return self._concrete(out) if t.concrete else out

    def _concrete(self, named: dict[int, object]) -> dict[int, object]:
        """Entries need sizes: every named dimension becomes a small size of its own (at least what
        its entries need), and the Interpretation says which."""
        t = self.t
        least: dict[int, int] = {}
        for d, k in t.least_size:
            root = t.dims.find(d)
            least[root] = max(least.get(root, 1), k)
        taken = {v for v in named.values() if isinstance(v, int)}
        sizes: dict[object, int] = {}
        out = {}
        for root, v in named.items():
            if isinstance(v, int):
                if v < least.get(root, 1):
                    raise ShapeError(f"an entry {least[root]} is used of a dimension of size {v}", text=t.cell, pos=0)
                out[root] = v
                continue
            if v not in sizes:   # the entries written span the dimension (x_1, x_2: x ∈ ℝ²)
                size = least.get(root, 1) if least.get(root, 1) > 1 else 3
                while size in taken and least.get(root, 1) <= 1:
                    size += 1
                taken.add(size)
                sizes[v] = size
            out[root] = sizes[v]
        self.size_note = ", ".join(f"{v} = {k}" for v, k in sizes.items())
        return out

    def dim(self, d: int):
        return self.final_dims.get(self.t.dims.find(d), self.t.dims.get(d))

    def shape(self, s) -> tuple:
        return (self.dim(s[0]), self.dim(s[1]))

    def sym(self, name: str) -> Sym:
        if name not in self.syms:
            shape = self.shape(self.t.sym_dims[name])
            props = self.t.declared.get(name, (None, frozenset()))[1]
            if name in self.t.symmetric_use and shape[0] != 1:   # λ_max(X) of an undeclared X: of a symmetric matrix
                props = props | {"symmetric"}
            self.syms[name] = Sym(name, shape, tex=tex_name(name), props=props)
        return self.syms[name]

    def build(self, targets: list[Target]) -> Reading:
        t = self.t
        for name in t.sym_dims:
            if name not in t.functions:
                self.sym(name)
        built = []
        for target in targets:
            self.recording = target.kind == "value"
            body = self.expr(target.body)
            claims = [self._claim(c) for c in target.claims]
            self.recording = False
            direction = self.expr(target.direction) if target.direction is not None else None
            if target.directions:   # D^2 f(X)[U, V]: every direction, in order
                direction = tuple(self.expr(d) for d in target.directions)
            variables = [self.sym(v.value) for v in target.variables]
            built.append((target, variables, body, direction, claims))
        notes = self._function_notes() + list(dict.fromkeys(self.notes))
        for name, kind in t.kinds.items():
            if name in t.flips and name not in t.functions:
                notes.append(f"read {_letter(name)} as a {kind}")
        if "e" in t.kinds:
            notes.append(f"read e as a {t.kinds['e']} (write \\exp or e^{{…}} for the exponential)")
        dims = {v for v in self.final_dims.values() if isinstance(v, str)}
        symbols = {n: s for n, s in self.syms.items() if n not in t.functions}
        reading = Reading(symbols, self.def_exprs, built, notes, dims, derivatives=self.derivatives)
        reading.builder = self   # the definitions can then be written with their names (names.py)
        return reading

    def _derivative(self, node: Node, env: dict) -> Expr:
        """A derivative used as a value: its result, the variable then standing for the function
        it names (∂z/∂y at y = y(x))."""
        from .expr import substitute
        body, var = node.args[:2]
        if node.value == "directional":
            var = self.t.derivative_variable(node)
        if var.kind != "name":   # D g(h(x))[c], ∇f(AXB), ∂R/∂(Y - Xθ): by the argument, then at the point
            point = self._expr(var, env)
            y = Sym(f"_point{id(node)}", point.shape, tex="y")
            f = substitute(self._expr(body, env), {point: y})
            left = sorted(s.name for s in f.free & point.free if isinstance(s, Sym))
            if left:
                raise ParseError(f"{self.t.show(body)} is not a function of {self.t.show(var)} alone: it also depends "
                                 f"on {', '.join(_letter(n) for n in left)} elsewhere, so its derivative by that expression is not "
                                 "defined; name the expression (u = …) and write the function in u",
                                 text=self.t.cell, pos=var.pos, end=var.end)
            return substitute(self._derivative_by(node, f, y, env), {y: point})
        name = var.value
        if name in self.t.defs:   # ∂z/∂y with y = h(x): by y as a variable, then y is h(x)
            x = Sym(name, self.shape(self.t.def_shapes[name]), tex=tex_name(name))
            f = self._expr(body, {**env, name: x})
        else:
            x = self.sym(name)
            f = self._expr(body, env)
        result = self._derivative_by(node, f, x, env)
        if name in self.t.defs:
            result = substitute(result, {x: self._definition(name)})
        elif name in self.t.implicit:
            result = substitute(result, {x: self._implicit_value(name)})
        return result

    def _limit(self, node: Node, env: dict) -> Expr:
        """\\lim_{h → 0} N(h)/h with N(0) = 0: the derivative N'(0) (a difference quotient)."""
        from .expr import is_zero, substitute
        from .layout import solve
        var, body = node.args
        h = self.sym(var.value)
        numerator = self._expr(body.args[0], env)
        if not is_zero(substitute(numerator, {h: Num(0)})):
            raise ParseError(f"the numerator of this quotient is not 0 at {var.value} = 0, so the limit is not a "
                             "derivative: it is read only as a difference quotient (F(h) - F(0))/h",
                             text=self.t.cell, pos=body.pos, end=body.end)
        answer = solve("jacobian", numerator, h, "numerator")
        if self.recording:
            self.derivatives.append(answer)   # checked by finite differences like any derivative in a line
        h_shown = _letter(var.value)
        self.notes.append(f"read the limit as {h_shown} → 0 of a difference quotient: the derivative by {h_shown} at 0")
        return substitute(answer.result, {h: Num(0)})

    def _derivative_by(self, node: Node, f: Expr, x: Sym, env: dict) -> Expr:
        from .layout import solve
        if node.value == "directional":
            answer = solve("directional", f, x, self.layout, self._expr(node.args[2], env))
        elif node.value == "prime" and not x.is_scalar:   # σ'(z) entry by entry: D σ(z)[𝟏]
            answer = solve("directional", f, x, self.layout, ones(x.shape))
        else:
            layout = "denominator" if node.value == "gradient" else self.layout
            if node.value == "dmatrix":
                layout = "denominator" if self.t.gradient_columns else "numerator"
            if node.value in ("prime", "jmatrix"):   # f'(u), u a scalar; J_h(x) in either layout
                layout = "numerator"
            answer = solve("gradient" if node.value == "gradient" and f.is_scalar else "jacobian", f, x, layout)
        if self.recording and self.syms.get(x.name) is x:
            self.derivatives.append(answer)   # a derivative inside a line of values, checked like any result
        return answer.result

    def _implicit_value(self, name: str) -> Expr:
        """What an implicit function's letter stands for: y(x), z(y(x))."""
        arg = self.t.implicit[name]
        inner = self._implicit_value(arg) if arg in self.t.implicit else (
            self._definition(arg) if arg in self.t.defs else self.sym(arg))
        return apply_function(name, tex_name(name), inner, self.shape(self.t.sym_dims[name]))

    def _function_notes(self) -> list[str]:
        t, out = self.t, []
        for name, decl in t.functions.items():
            if decl is not None and decl.bilinear:
                if name in t.domains:   # B: ℝᵐ × ℝᵖ → ℝ^q
                    u, w, value = (_space_name(self.shape(s)) for s in t.domains[name])
                    out.append(function_note(name, f"{u} × {w}", value, False).replace(
                        "an arbitrary differentiable function", "a bilinear map"))
                continue
            if decl is not None:
                domain, codomain = decl.domain, decl.codomain
            elif name in t.domains and name in t.sym_dims:
                domain, codomain = self.shape(t.domains[name]), self.shape(t.sym_dims[name])
            else:
                continue
            out.append(function_note(name, _space_name(domain), _space_name(codomain),
                                     decl is not None))
        return out

    def _claim(self, c):
        """A claimed side: an expression, (kind, variable, function, target) for a derivative,
        or a ShapeError for a side whose shapes do not fit."""
        if id(c) in self.t.claim_errors:
            return ShapeError(self.t.claim_errors[id(c)], text=self.t.cell, pos=c.pos, end=c.end)
        if isinstance(c, Target):
            direction = self.expr(c.direction) if c.direction is not None else None
            return (c.kind, self.sym(c.variables[0].value), self.expr(c.body), c, direction)
        return self.expr(c)

    def expr(self, node: Node) -> Expr:
        return self._expr(node, {})

    def with_names(self, node: Node, names: dict) -> Expr:
        """``node`` built with each definition in ``names`` (name -> symbol) kept as that symbol."""
        return self._expr(node, names)

    def _expr(self, node: Node, env: dict) -> Expr:
        """One node as an expression; a constructor's complaint is located at the node."""
        try:
            return self._build(node, env)
        except DerivError as exc:
            if exc.pos is None:
                exc.text, exc.pos, exc.end = self.t.cell, node.pos, node.end
            raise
        except InternalShapeError as exc:
            raise ShapeError(f"the shapes do not fit here: {exc}", text=self.t.cell, pos=node.pos, end=node.end) from None

    def _bcast(self, e: Expr, shape) -> Expr:
        return mul(e, Ones(shape)) if e.is_scalar and shape != SCALAR else e

    def _build(self, node: Node, env: dict) -> Expr:
        k = node.kind
        shape = self.shape(self.t.shape[id(node)]) if id(node) in self.t.shape else None
        if k == "num":
            return Num(node.value)
        if k == "name":
            if node.value in env:
                return env[node.value]
            if self.t.special.get(id(node)) == "identity":
                return Identity(shape[0])
            if node.value in self.t.defs:
                return self._definition(node.value)
            return self.sym(node.value)
        if k == "font_one":
            return Ones(shape)
        if k in ("add", "sub"):   # a sum of k terms is one n-ary add (binary adds re-sort every earlier term)
            terms = []
            while node.kind in ("add", "sub") and id(node) in self.t.shape:
                right = self._bcast(self._expr(node.args[1], env), shape)
                terms.append(right if node.kind == "add" else neg(right))
                node = node.args[0]
            terms.append(self._bcast(self._expr(node, env), shape))
            return add(*reversed(terms))
        if k == "limit":
            return self._limit(node, env)
        if k == "inner":   # ⟨A, X⟩ = tr(AᵀX); of columns, aᵀx
            a, b = (self._expr(x, env) for x in node.args)
            product = mul(transpose(a), b)
            return product if product.is_scalar else trace(product)
        if k in ("hadamard", "hdiv"):
            a, b = (self._bcast(self._expr(x, env), shape) for x in node.args)
            if k == "add":
                return add(a, b)
            if k == "sub":
                return add(a, neg(b))
            if k == "hadamard":
                return hadamard(a, b)
            return hadamard(a, power(b, -1))
        if k == "neg":
            return neg(self._expr(node.args[0], env))
        if k in ("ew", "scalar"):
            return self._expr(node.args[0], env)
        if k == "hpow":
            return power(self._expr(node.args[0], env), _exponent(node.args[1]))
        if k == "derivative":
            return self._derivative(node, env)
        if k == "entry":
            i, j, _ = node.value
            return entry(self._expr(node.args[0], env), i, j)
        if k == "matrix" and self.t.special.get(id(node)) in ("columns", "rows"):   # (∇h_1, …, ∇h_n)
            parts = [self._expr(c, env) for r in node.args for c in r.args]
            unit = [Basis(k, 0, (len(parts), 1)) for k in range(len(parts))]
            if self.t.special[id(node)] == "columns":
                return add(*[mul(p, transpose(e)) for p, e in zip(parts, unit)])
            return add(*[mul(e, p) for p, e in zip(parts, unit)])
        if k == "matrix":
            rows = [[self._expr(c, env) for c in r.args] for r in node.args]
            m = stack([e for row in rows for e in row], len(rows), len(rows[0]))
            return explicit_det(m) if node.value == "det" else m
        if k == "unit":
            return Basis(node.value[0], node.value[1], shape)
        if k == "basis":
            i, j, _ = node.value
            return Basis(i, j, self._expr(node.args[0], env).shape)
        if k == "call" and node.args[0].kind == "name" and node.args[0].value in self.t.functions:
            name = node.args[0].value
            if len(node.args) == 3:   # B(u, w) of a bilinear map
                return BilinearApply(name, tex_name(name), self._expr(node.args[1], env), self._expr(node.args[2], env),
                                     shape)
            return apply_function(name, tex_name(name), self._expr(node.args[1], env), shape)
        if k in ("mul", "call") and not (k == "call" and node.args[0].kind == "name" and node.args[0].value in self.t.defs):
            a, b = self._expr(node.args[0], env), self._expr(node.args[-1], env)
            return mul(transpose(a), b) if self.t.special.get(id(node)) == "inner" else mul(a, b)
        if k == "call":
            name = node.args[0].value
            d = self.t.defs[name]
            mapping = {p: self._expr(a, env) for p, a in zip(d.params, node.args[1:])}
            if all(isinstance(v, Sym) and v.name == p for p, v in mapping.items()):
                return self._definition(name)
            from .expr import substitute
            return substitute(self._definition(name), {self.sym(p): v for p, v in mapping.items()})
        if k in ("div", "frac"):
            a, b = self._expr(node.args[0], env), self._expr(node.args[1], env)
            if b.is_scalar:
                return mul(a, power(b, -1))
            return hadamard(self._bcast(a, shape), power(b, -1))
        if k == "pow":
            return self._power(node, env, shape)
        if k == "func":
            return self._func(node, env, shape)
        if k == "norm":
            a = self._expr(node.args[0], env)
            p = node.value
            spectral = build_norm(self, node, a, p)
            if spectral is not None:
                return spectral
            if p not in (None, "1", "2", "F"):
                raise ParseError(f"the {p}-norm is not supported (use 1, 2, \\infty, * or F)", text=self.t.cell,
                                 pos=node.pos, end=node.end)
            matrix = a.shape[0] != 1 and a.shape[1] != 1
            if matrix and p == "1":
                raise ParseError("the matrix 1-norm (largest column sum) is not supported; for the Frobenius norm "
                                 "write \\|X\\|_F", text=self.t.cell, pos=node.pos, end=node.end)
            if matrix and p is None:
                self.notes.append(f"read ‖{node_text(self.t.cell, node.args[0])}‖ as the Frobenius norm")
            return norm(a, p or "2")
        if k == "bars":
            a = self._expr(node.args[0], env)
            if not a.is_scalar and a.shape[0] == a.shape[1] and shape == SCALAR:
                return det(a)
            return func("abs", a)
        raise ParseError(f"unsupported notation ({k})", text=self.t.cell, pos=node.pos, end=node.end)

    def _definition(self, name: str) -> Expr:
        if name not in self.def_exprs:
            self.def_exprs[name] = self._expr(self.t.defs[name].body, {})
        return self.def_exprs[name]

    def _power(self, node, env, shape):
        base, exp = node.args
        if base.kind == "name" and base.value == "e" and "e" not in self.t.declared and not _is_transpose(exp):
            if self.t.special.get(id(node)) == "matrix_function":
                return build_matrix_function(self, "exp", self._expr(exp, env))
            return func("exp", self._expr(exp, env))
        a = self._expr(base, env)
        if _is_transpose(exp):
            return transpose(a)
        if exp.kind == "neg" and _is_transpose(exp.args[0]):
            return transpose(inverse(a))
        q = _exponent(exp)
        if self.t.special.get(id(node)) == "matrix_function":
            if abs(q) != Fraction(1, 2):
                refuse_matrix_power(self, node, base, q)
            root = build_matrix_function(self, "sqrt", a)
            return root if q > 0 else inverse(root)
        if a.is_scalar or a.shape[0] != a.shape[1]:
            return power(a, q)
        if q == -1:
            return inverse(a)
        if q.denominator == 1:
            limits.check_power(q, text=self.t.cell, pos=node.pos, end=node.end)
        if q.denominator == 1 and q > 0:
            return mul(*([a] * int(q)))
        if q.denominator == 1:
            return mul(*([inverse(a)] * int(-q)))
        return power(a, q)

    def _func(self, node, env, shape):
        name = node.value
        a = self._expr(node.args[0], env)
        if self.t.special.get(id(node)) == "matrix_function":
            return build_matrix_function(self, name, a)
        if is_spectral(name):
            return build_spectral(self, node, a)
        if name == "sqrt":
            return power(a, Fraction(1, 2))
        if name in ELEMENTWISE:
            return func(name, a)
        if name == "tr":
            return trace(a)
        if name == "det":
            return det(a)
        if name == "softmax":
            return softmax(a)
        if name == "logsumexp":
            return func("log", mul(transpose(Ones(a.shape)), func("exp", a)))
        if name == "diag":
            return diag(a) if a.shape[1] == 1 else diagonal(a)
        if name == "pinv":
            return build_pinv(self, a)
        raise ParseError(f"unsupported function {name}", text=self.t.cell, pos=node.pos, end=node.end)
