"""Reading a cell: statements, then each statement through the Lark grammar into a small
syntax tree (``Node``), then into targets, definitions and declarations.

Shapes are not known here; ``shapes.py`` decides them and builds expressions.
"""
from __future__ import annotations

import hashlib
import io
import re
from fractions import Fraction
from functools import lru_cache
from importlib import resources

import lark
from lark import Lark, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import structure
from .errors import ParseError
from .points import evaluate_at_points, jacobian_notation
from .page import (bilinear_maps, merged_spans, only_names, plain_words, prose_declarations, split_statements, strip_decorations,
                   unwrap)
from .bars import NESTED_NOTE, nested_reading, pair_bars
from .freeindex import CASES_DELTA
from .labels import defined_entries, read_labels
from .tex import Braced, brace_arguments
from .syntax import Declaration, Definition, FunctionDeclaration, Indexed, Node, Remark, walk
from .operators import (_definition_head, _has_derivative, _is_head, _no_operator, _regroup, _target,
                        _transposed_head, _value, compositions, drop_evaluation_points, embed_derivatives,
                        extract_operator, gradient_at_a_point, differential_target, by_an_expression)


FUNCTION_NAMES = {
    "log": "log", "ln": "log", "exp": "exp", "tanh": "tanh", "sin": "sin", "cos": "cos", "det": "det",
    "sigma": "sigmoid", "sigmoid": "sigmoid", "tr": "tr", "Tr": "tr", "trace": "tr", "softmax": "softmax",
    "diag": "diag", "sign": "sign", "sgn": "sign", "lse": "logsumexp", "logsumexp": "logsumexp",
    "tan": "tan", "relu": "relu", "pinv": "pinv",
}


# ---------------------------------------------------------------- the parser (built once, lazily)
PARSER_OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)
SHIPPED_PARSER = "grammar.lark.parser"   # the parser's tables, generated from grammar.lark and shipped


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The Lark parser: loaded from the tables shipped beside the grammar (about 10 ms) when they were
    made from this grammar by this Lark; else built from the grammar (about 130 ms). Never written
    at run time: ``make parser`` regenerates the shipped file when grammar.lark changes."""
    grammar = _grammar()
    try:
        shipped = resources.files(__package__).joinpath(SHIPPED_PARSER).read_bytes()
    except (FileNotFoundError, OSError):
        shipped = b""
    head, _, tables = shipped.partition(b"\n")
    if head.decode("ascii", "replace") == _parser_key(grammar):
        try:
            return Lark.load(io.BytesIO(tables))
        except Exception:   # noqa: BLE001 - tables a Lark cannot load: build from the grammar instead
            pass
    return Lark(grammar, **PARSER_OPTIONS)


def _grammar() -> str:
    return resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")


def _parser_key(grammar: str) -> str:
    """What the shipped tables must have been made from: the grammar, the options and Lark's version."""
    digest = hashlib.sha256((grammar + repr(sorted(PARSER_OPTIONS.items()))).encode("utf-8")).hexdigest()
    return f"derivmagic-parser {digest} lark {lark.__version__}"


def write_parser(path) -> None:
    """Write the parser's tables for this grammar and Lark (``make parser``)."""
    grammar = _grammar()
    tables = io.BytesIO()
    Lark(grammar, **PARSER_OPTIONS).save(tables)
    with open(path, "wb") as out:
        out.write(_parser_key(grammar).encode("ascii") + b"\n" + tables.getvalue())


def _span(meta) -> tuple[int, int]:
    return (meta.start_pos, meta.end_pos) if not meta.empty else (0, 0)


@v_args(inline=True, meta=True)
class ToNode(Transformer):
    """One method per grammar rule: parse tree -> ``Node``."""

    def _node(self, kind, meta, *args, value=None):
        p, e = _span(meta)
        return Node(kind, tuple(args), p, e, value)

    # names
    def letter(self, meta, tok):
        return self._node("name", meta, value=_plain_subscript(str(tok)))

    def greek(self, meta, tok):
        return self._node("name", meta, value=_plain_subscript(str(tok)[1:]))

    def font_name(self, meta, font, tok, sub=None):
        name = _plain_subscript(str(tok).lstrip("\\") + (str(sub) if sub is not None else ""))
        kind = "font_one" if name == "1" else "name"
        return self._node(kind, meta, value=name)

    def accent(self, meta, acc, tok, sub=None):
        base = tok.value if isinstance(tok, Node) else _plain_subscript(str(tok).lstrip("\\"))
        base, _, inner_sub = base.partition("_")
        subscript = inner_sub or (_plain_subscript(str(sub))[1:] if sub is not None else "")
        return self._node("name", meta, value=f"{base}_{str(acc)[1:]}" + (f"_{subscript}" if subscript else ""))

    def font_accent(self, meta, font, acc, tok, sub=None):
        return self.accent(meta, acc, tok, sub)

    def number(self, meta, tok):
        return self._node("num", meta, value=Fraction(str(tok)))

    def top(self, meta, tok):
        return self._node("top", meta)

    # arithmetic
    def add(self, meta, a, op, b):
        return self._node("add", meta, a, b)

    def sub(self, meta, a, op, b):
        return self._node("sub", meta, a, b)

    def neg(self, meta, op, a):
        return self._node("neg", meta, a)

    def signed(self, meta, op, a):
        return a

    def mul(self, meta, a, b):
        return self._node("mul", meta, a, b)

    def mul_explicit(self, meta, a, op, b):
        return self._node("mul", meta, a, b, value="explicit")

    def div(self, meta, a, op, b):
        return self._node("div", meta, a, b)

    def hadamard(self, meta, a, op, b):
        return self._node("hadamard", meta, a, b, value="circ" if "circ" in str(op) else None)

    def limit(self, meta, tok, var, arrow, point, body):
        if str(point) != "0" or var.kind != "name":
            raise ParseError("a limit is read as a difference quotient, \\lim_{h \\to 0} \\frac{F(h) - F(0)}{h}",
                             pos=_span(meta)[0], end=body.pos)
        return self._node("limit", meta, var, body)

    def frobenius(self, meta, a, op, b):
        return self._node("inner", meta, a, b, value=":")

    def angle_product(self, meta, open_, a, b, close, sub=None):
        if sub is not None and str(sub) not in ("F", "fro"):
            raise ParseError("an inner product ⟨·,·⟩ is read as the Euclidean or Frobenius one (\\langle A, X "
                             "\\rangle_F)", pos=_span(meta)[0], end=_span(meta)[1])
        return self._node("inner", meta, a, b)

    def hdiv(self, meta, a, op, b):
        return self._node("hdiv", meta, a, b)

    def pow(self, meta, base, exp):
        return self._node("pow", meta, base, exp)

    def pinv(self, meta, base, mark):
        return self._node("func", meta, base, value="pinv")   # X^{+}, X^\dagger

    def hpow(self, meta, base, circ, exp):
        return self._node("hpow", meta, base, exp)   # x^{\circ 2}: the elementwise power

    def group(self, meta, *items):
        inner = next(i for i in items if isinstance(i, Node))
        p, e = _span(meta)
        return Node(inner.kind, inner.args, p, e, inner.value, True)

    def paren(self, meta, *items):
        return self.group(meta, *items)

    def sub_index(self, meta, *toks):
        return [str(t) for t in toks]

    def subscripted(self, meta, base, *indices):
        """``(A v)_1``, ``[A]_{12}``: an entry of a bracketed value, at written positions."""
        flat = [t for group in indices for t in group]
        if all(t.isalpha() and len(t) == 1 for t in flat) and len(flat) <= 2:   # (…)_{ij}: by free indices
            return self._node("entry", meta, base, value=(flat[0], flat[1] if len(flat) == 2 else 0, len(flat) == 2))
        if not all(t.isdigit() for t in flat):
            raise ParseError("an entry is written (…)_{1}, (…)_{12} or (…)_{ij}", pos=_span(meta)[0], end=_span(meta)[1])
        if len(flat) == 1 and len(flat[0]) == 2:
            flat = list(flat[0])   # (…)_{12}: row 1, column 2
        if len(flat) > 2 or any(int(t) < 1 for t in flat):
            raise ParseError("an entry has one index (of a vector) or two (of a matrix), counted from 1",
                             pos=_span(meta)[0], end=_span(meta)[1])
        i, j = int(flat[0]) - 1, int(flat[1]) - 1 if len(flat) == 2 else 0
        return self._node("entry", meta, base, value=(i, j, len(flat) == 2))

    def positive_part(self, meta, base, plus):
        return self._node("func", meta, base, value="relu")   # (u)_+ = max(0, u), entry by entry

    def max_of_two(self, meta, tok, a, b, close):
        """``\\max(0, u)``: the positive part of u (entry by entry), a ReLU."""
        zero = [x for x in (a, b) if x.kind == "num" and x.value == 0]
        if not zero:
            p, e = _span(meta)
            raise ParseError("\\max of two expressions is read as \\max(0, u), the positive part; other maxima are "
                             "not read yet", pos=p, end=e)
        return self._node("func", meta, b if zero[0] is a else a, value="relu")

    def spectral(self, meta, tok, open_, arg, close):
        """``\\lambda_{\\max}(X)``, ``\\sigma_i(X)``: an eigen- or singular value (the name ``lambda_max``,
        ``sigma_i``, ``lambda_2``; ``rules.spectral`` reads it)."""
        family, _, sub = str(tok).lstrip("\\").partition("_")
        which = re.sub(r"\\(mathrm|text|textrm|operatorname)|[\\{}\s]", "", sub)
        return self._node("func", meta, arg, value=f"{family}_{which}")

    def frac(self, meta, tok, num, den):
        return self._node("frac", meta, num, den)

    def sqrt(self, meta, tok, arg):
        return self._node("func", meta, arg, value="sqrt")

    def func_paren(self, meta, tok, arg, close):
        return self._node("func", meta, arg, value=_function_name(tok))

    def func_subscripted(self, meta, tok, arg, close, *indices):
        """``\\operatorname{softmax}(z)_y``: an entry of the function's value."""
        applied = Node("func", (arg,), tok.start_pos, close.end_pos, _function_name(tok))
        return self.subscripted(meta, applied, *indices)

    def func_bare(self, meta, tok, arg):
        return self._node("func", meta, arg, value=_function_name(tok))

    def index_sum(self, meta, tok, index, *rest):
        upper = rest[0] if len(rest) == 2 else None
        return self._node("index_sum", meta, rest[-1], value=(tuple(index), upper))

    def sum_index(self, meta, *toks):
        names, after_eq = [], False
        for t in toks:
            if t.type == "EQ":
                after_eq = True
            elif t.type == "NAME" and not after_eq:
                names.extend(str(t))
        return names

    def sum_upper(self, meta, tok):
        return str(tok)

    def norm(self, meta, open_, arg, close, sub=None):
        return self._node("norm", meta, arg, value=sub)

    def norm_sub(self, meta, tok):
        if isinstance(tok, str) and not hasattr(tok, "type"):
            return tok
        return {"STAR": "*", "INFTY": "inf"}.get(tok.type, str(tok))

    def norm_font(self, meta, font, tok):
        return str(tok)

    def bars(self, meta, open_, arg, close):
        return self._node("bars", meta, arg)

    def matrix(self, meta, opening, *items):
        rows = [i for i in items if isinstance(i, Node)]
        while len(rows) > 1 and all(c.kind == "empty" for c in rows[-1].args):
            rows.pop()   # a \\ before \end{bmatrix}
        if str(opening) != "⟬" and len(rows) == 1 and len(rows[0].args) == 1 and rows[0].args[0].kind != "empty":
            p, e = _span(meta)   # [ ∂z/∂x ]: brackets around one value group it
            inner = rows[0].args[0]
            return Node(inner.kind, inner.args, p, e, inner.value, True)
        return self._node("matrix", meta, *rows, value="det" if str(opening) == "⟬" else "matrix")

    def case_row(self, meta, value, mark, *letters):
        return value, str(mark) == "≐", tuple(letters)

    def index_cases(self, meta, *items):
        """δ_ij a + (1 − δ_ij) b, for the rows a (i = j) and b (i ≠ j, or otherwise)."""
        first, second = [i for i in items if isinstance(i, tuple)]
        (equal, _, letters), (other, _, other_letters) = (first, second) if first[1] else (second, first)
        p, e = _span(meta)
        if other_letters and sorted(map(str, other_letters)) != sorted(map(str, letters)):
            raise ParseError(f"the conditions of the cases name different indices ({' = '.join(letters)} and "
                             f"{' ≠ '.join(other_letters)})", pos=p, end=e)
        at, to = letters[0].start_pos, letters[1].end_pos   # δ_ij stands where its condition i = j is written
        delta = Node("name", (), at, to, f"{CASES_DELTA}{letters[0]}{letters[1]}")
        one = Node("num", (), at, to, Fraction(1))
        kept = Node("mul", (delta, equal), p, e)
        rest = Node("mul", (Node("sub", (one, delta), p, e, None, True), other), p, e)
        return Node("add", (kept, rest), p, e, None, True)

    def matrix_size(self, meta, *items):
        return None   # [ … ]_{m \times n}: the shape notes print under a matrix

    def mrow(self, meta, *items):
        return self._node("mrow", meta, *[i for i in items if isinstance(i, Node)])

    def mcell(self, meta, *items):
        return items[0] if items else self._node("empty", meta)

    def along(self, meta, tok, direction):
        return self._node("along", meta, direction)

    def dots(self, meta, tok):
        return self._node("dots", meta, value=str(tok).lstrip("\\"))

    def call(self, meta, name, open_, *rest):
        args = [r for r in rest if isinstance(r, Node)]
        return self._node("call", meta, name, *args)

    def prime_call(self, meta, name, prime, open_, arg, close):
        if len(prime) > 1:
            raise ParseError(f"{name.value}{prime}(…): derivatives of an arbitrary function beyond the first are "
                             "not read yet", pos=prime.start_pos, end=prime.end_pos)
        if name.kind == "name" and name.value == "sigma":   # \sigma'(z): the logistic sigmoid's, as \sigma(z) is
            applied = self._node("func", meta, arg, value=FUNCTION_NAMES["sigma"])
        else:
            applied = self._node("call", meta, name, arg)
        return self._node("derivative", meta, applied, arg, value="prime")

    def prime_apply(self, meta, name, prime, open_, arg, close, direction):
        """f'(x)[v]: f's derivative at x applied to v, the same as D f(x)[v]."""
        if len(prime) > 1:
            raise ParseError(f"{name.value}{prime}(…)[…]: only the first derivative applied to a direction is read",
                             pos=prime.start_pos, end=prime.end_pos)
        call = self._node("call", meta, name, arg)
        d = Node("name", (), name.pos, name.end, "D")
        return Node("mul", (d, self._node("directional", meta, call, direction)), name.pos, _span(meta)[1])

    def apply_direction(self, meta, call, direction):
        return self._node("directional", meta, call, direction)

    def apply_directions(self, meta, call, *directions):
        return self._node("directions", meta, call, *directions)

    # derivative operators
    def nabla(self, meta, tok, *parts):
        variables, order = [], 1
        for kind, payload in parts:
            if kind == "sub":
                variables.extend(payload)
            else:
                order = payload
        return self._node("nabla", meta, *variables, value=order)

    def nabla_sub(self, meta, *names):
        return ("sub", list(names))

    def nabla_sup(self, meta, tok):
        if not str(tok).isdigit():
            raise ParseError(f"the order of a derivative is a whole number, not {tok}",
                             pos=tok.start_pos, end=tok.end_pos)
        return ("sup", int(str(tok)))

    def partial(self, meta, tok, order=None):
        return self._node("partial", meta, value=int(str(order)) if order is not None else 1)

    # statements
    def chain(self, meta, *items):
        sides = [i[0] if isinstance(i, tuple) else i for i in items if isinstance(i, (Node, tuple))]
        stated = [i[1] for i in items if isinstance(i, tuple)]   # … ∈ \\mathbb{R}^{m \\times n}: a side's shape
        ops = [str(i) for i in items if not isinstance(i, (Node, tuple)) and i.type == "EQ"]
        return ("chain", sides, ops + [("in", s) for s in stated])

    def stated(self, meta, side, tok, space):
        return (side, space)

    def fdecl(self, meta, name, colon, domain, arrow, codomain):
        return ("fdecl", name, domain, codomain, _span(meta))

    def decl(self, meta, *items):
        names = [i for i in items if isinstance(i, Node)]
        space = items[-1]
        return ("decl", names, space, _span(meta))

    def reals(self, meta, tok, dims=None):
        return (dims or (1, 1), frozenset())

    def syms(self, meta, tok, dims=None, pd=None):
        n = dims[0] if dims else None
        return ((n, n), frozenset({"symmetric"} | ({"spd"} if pd else set())))

    def syms_pd_first(self, meta, tok, pd, dims):
        return self.syms(meta, tok, dims, pd)

    def simplex(self, meta, tok, dims=None):
        """``\\Delta^n``: the probability vectors of ℝⁿ."""
        name, _, sub = str(tok).partition("_")
        n = dims[0] if dims else sub.strip("{}") or None
        if name != "\\Delta" or n is None or (dims and dims[1] != 1):
            raise ParseError("expected a space such as \\mathbb{R}^n or \\Delta^n (probability vectors)",
                             pos=tok.start_pos, end=tok.end_pos)
        return ((int(n) if str(n).isdigit() else n, 1), frozenset({structure.SIMPLEX}))

    def binary(self, meta, lb, zero, comma, one, rb, dims):
        """``\\{0,1\\}^n``: vectors (or matrices) of zeros and ones."""
        if (str(zero), str(comma), str(one)) != ("0", ",", "1"):
            raise ParseError("the only set of numbers read here is \\{0,1\\}^n", pos=lb.start_pos, end=rb.end_pos)
        return (dims, frozenset({structure.BINARY}))

    def space_dims(self, meta, *items):
        dims = [i for i in items if not (hasattr(i, "type") and i.type == "TIMES")]
        return (dims[0], 1) if len(dims) == 1 else (dims[0], dims[1])

    def space_pd(self, meta, *items):
        return "".join(map(str, items))

    def dim(self, meta, tok):
        return int(str(tok)) if str(tok).isdigit() else str(tok)


def _plain_subscript(name: str) -> str:
    """``W_{1}`` and ``W_1`` are the same name, ``W_1``."""
    return re.sub(r"_\{([^{}]*)\}", r"_\1", name)


def _function_name(token) -> str:
    m = re.match(r"\\(?:(?:operatorname|mathrm|text|textrm|mathop)\s*\{\s*)?([a-zA-Z][a-zA-Z0-9]*)", str(token))
    name = m.group(1) if m else str(token)
    if name not in FUNCTION_NAMES and name.lower() in FUNCTION_NAMES:
        name = name.lower()   # \\text{ReLU}, \\operatorname{Softmax}
    if name not in FUNCTION_NAMES:
        known = ", ".join(sorted(set(FUNCTION_NAMES) - {"Tr", "sgn", "lse", "ln"}))
        command = re.match(r"\\[a-zA-Z]+(\s*\{[^{}]*\})?", str(token))
        raise ParseError(f"unknown function {name}; known: {known}", pos=token.start_pos,
                         end=token.start_pos + len(command.group(0)) if command else token.end_pos)
    return FUNCTION_NAMES[name]


# ---------------------------------------------------------------- parsing one statement
def parse_statement(text: str):
    """One statement's syntax tree (immutable nodes; cached, as notebooks re-run cells).
    The grammar reads the statement with every command argument braced (``tex.py``);
    positions in the tree and in errors are positions in ``text``."""
    return read_statement(text)[0]


def _tree(marked: str):
    return ToNode().transform(parser().parse(marked))


def _parses(marked: str) -> bool:
    try:
        _tree(marked)
    except (LarkError, ParseError):
        return False
    return True


@lru_cache(maxsize=1024)
def read_statement(text: str) -> tuple:
    """(syntax tree, positions in ``text`` of the norm bars read as opening a norm inside another):
    bars paired as ``bars.py`` says, a nested pairing tried when that one does not parse."""
    from .limits import LIMITS
    braced = brace_arguments(text)
    try:
        try:
            return _map_positions(_tree(pair_bars(braced.text)), braced), ()
        except UnexpectedInput:
            nested = nested_reading(braced.text, _parses, LIMITS["function_nesting"])
            if nested is None:
                raise
            marked, inner = nested
            return _map_positions(_tree(marked), braced), tuple(braced.pos(i) for i in inner)
    except ParseError as exc:
        raise _map_error(exc, braced) from None
    except UnexpectedInput as exc:
        raise _map_error(_friendly(exc, braced.text), braced) from None
    except LarkError as exc:
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, ParseError):
            raise _map_error(inner, braced) from None
        raise ParseError(f"cannot read this: {exc}", pos=0) from None


def _map_error(exc: ParseError, braced: Braced) -> ParseError:
    if exc.text is None and exc.pos is not None:
        end = exc.end
        exc.pos = braced.pos(exc.pos)
        exc.end = None if end is None else max(braced.end(end), exc.pos + 1)
    return exc


def _map_node(node: Node, braced: Braced) -> Node:
    args = tuple(_map_node(a, braced) if isinstance(a, Node) else a for a in node.args)
    return Node(node.kind, args, braced.pos(node.pos), braced.end(node.end), node.value, node.grouped)


def _map_positions(tree, braced: Braced):
    if tree[0] == "fdecl":
        _, name, domain, codomain, (p, e) = tree
        return ("fdecl", _map_node(name, braced), domain, codomain, (braced.pos(p), braced.end(e)))
    if tree[0] == "decl":
        _, names, space, (p, e) = tree
        return ("decl", [_map_node(n, braced) for n in names], space, (braced.pos(p), braced.end(e)))
    _, sides, ops = tree
    return ("chain", [_map_node(n, braced) for n in sides], ops)


_WORDS = {
    "CLOSE": "a closing parenthesis ')'", "RBRACE": "a closing brace '}'", "RSQB": "a closing bracket ']'",
    "NORM_CLOSE": "a closing norm bar '\\|'", "BAR_CLOSE": "a closing bar '|'", "NAME": "a symbol",
    "NUMBER": "a number", "LBRACE": "an opening brace '{'", "OPEN": "'('", "EQ": "'='",
    "PLUS": "'+'", "MINUS": "'-'", "IN": "'\\in'", "REALS": "a space such as \\mathbb{R}^n",
}


def _friendly(exc: UnexpectedInput, text: str) -> ParseError:
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        pos = len(text)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = _expected_words(exc)
        return ParseError(f"the formula ends too early: expected {expected}", pos=len(text.rstrip()) or 0)
    if isinstance(exc, UnexpectedCharacters):
        m = re.match(r"\\[a-zA-Z]+", text[pos:])
        cases = re.match(r"\\begin\s*\{\s*cases\s*\}", text[pos:])
        if cases:
            return ParseError("\\begin{cases} is read as the entry formula of an index line, with one row for i = j "
                              "and one for i ≠ j (or otherwise); other conditions (x > 0, …) are not read",
                              pos=pos, end=pos + len(cases.group(0)))
        if m:
            return ParseError(f"unknown or unsupported command {m.group(0)}", pos=pos, end=pos + len(m.group(0)))
        return ParseError(f"unexpected character '{text[pos]}'", pos=pos)
    tok = exc.token
    if tok.type == "EQ" and not text[:tok.start_pos].strip():
        return ParseError("this line begins with '=': it continues a derivation; put it after the line it "
                          "continues (in the same cell, or the next block of the same document)",
                          pos=tok.start_pos, end=tok.end_pos)
    if tok.type == "PRIME":
        return ParseError("a prime is read right after a function's name, before its argument: f'(x), "
                          "\\sigma'(z)", pos=tok.start_pos, end=tok.end_pos)
    shown = text[tok.start_pos:tok.end_pos] if tok.start_pos is not None else str(tok)
    return ParseError(f"unexpected '{shown.strip()}' here: expected {_expected_words(exc)}",
                      pos=tok.start_pos, end=tok.end_pos)


def _expected_words(exc) -> str:
    names = sorted(getattr(exc, "expected", None) or getattr(exc, "accepts", None) or [])
    words = [_WORDS[n] for n in names if n in _WORDS]
    if not words:
        return "more of the formula (an operand or a closing bracket)"
    if len(words) > 4:
        words = words[:4] + ["…"]
    return " or ".join(dict.fromkeys(words))


# ---------------------------------------------------------------- statements of a cell
def parse_cell(cell: str) -> list:
    """Targets, definitions and declarations of a cell, positions relative to the cell."""
    if not cell.strip():
        raise ParseError("the cell is empty: write a target such as \\nabla_x f", text=cell, pos=0)
    out: list = []
    removed: list[tuple[int, int]] = []
    prose: list[tuple[int, int]] = []      # the page around the formulas: read for declarations only
    stripped = strip_decorations(unwrap(cell, prose), removed)
    maps: list[Remark] = []                # lines that describe a map (v ↦ …): said once, after the rest
    for offset, text in split_statements(stripped):
        continuation = re.match(r"=(?!=)", text) is not None and not out
        if continuation:   # "= …" with no line before it in the cell: what follows is read
            text = " " + text[1:]
        if re.search(r"\\mapsto(?![a-zA-Z])", text):   # v ↦ ∂_v f(x): a map described, nothing to judge
            maps.append(Remark("read a line with ↦ as the description of a map: not judged"))
            continue
        asked = re.search(r"(?<![=:])=\s*$", text)
        if asked:   # "D f(X)[V] =": the exercise asks for the right side
            text = text[:asked.start()] + " " * (len(text) - asked.start())
        try:
            tree = parse_statement(text)
        except ParseError as exc:
            if only_names(text) and _beside_prose(offset, text, removed):
                removed.append((offset, offset + len(text)))   # "A \\text{is symmetric}": prose
                continue
            raise exc.located(cell, offset) from None  # positions within the statement
        try:
            out.extend(_statement(tree, offset, continuation))
            if read_statement(text)[1]:
                out.append(Remark(NESTED_NOTE))
            if asked:
                out.append(Remark("the line ends with '=': what it asks for is worked out"))
        except ParseError as exc:
            if only_names(text) and _beside_prose(offset, text, removed):
                removed.append((offset, offset + len(text)))
                continue
            raise exc.located(cell, 0) from None  # positions already within the cell
    spans = merged_spans(removed, cell)
    out.extend(_prose_declarations(cell, merged_spans(removed + prose, cell)))
    remarks = [(_remark_of(cell[a:b])) for a, b in spans]
    out.extend(Remark(r) for r in dict.fromkeys(r for r in remarks if r))
    out.extend(maps[:1])
    try:
        out = defined_entries(out)
    except ParseError as exc:
        raise exc.located(cell, 0) from None
    return jacobian_notation(evaluate_at_points(cell, out))


def _beside_prose(offset: int, text: str, removed: list) -> bool:
    """Names (or a space) right beside removed prose: ``A \\text{is symmetric}``,
    ``\\text{a row vector in } \\mathbb{R}^{1 \\times n}``."""
    return any(offset <= a <= offset + len(text) + 1 or offset - 1 <= b <= offset + 1 for a, b in removed)


def _remark_of(text: str) -> str:
    words = plain_words(text)
    if not words:
        return ""
    if re.match(r"\s*\\(?:right|[bB]igg?r?)\s*\|", text):
        return ""   # an evaluation bar: points.py says how it was read
    return f"ignored: “{words}”"


def _prose_declarations(cell: str, spans) -> list:
    """What the text around the formulas declares: ``where A is symmetric`` is A ∈ 𝕊ⁿ; ``B(\\cdot,
    \\cdot) … bilinear`` is a bilinear map B."""
    out = []
    for name, start, end in {hit for a, b in spans for hit in _shifted(bilinear_maps(cell[a:b]), a)}:
        out.append(FunctionDeclaration(name, (None, None), (None, None), start, end, bilinear=True))
        out.append(Remark(f"read {name} as a bilinear map, as the text says: B(u, w) is linear in u and in w "
                          f"(checked with random bilinear maps of the shapes it is used at)".replace("B(", f"{name}(")))
    for a, b in spans:
        for written, start, end, props in prose_declarations(cell[a:b]):
            try:
                tree = parse_statement(written.strip("$ "))
            except ParseError:
                continue
            name = tree[1][0] if tree[0] == "chain" and len(tree[1]) == 1 else None
            if name is None or name.kind != "name":
                continue
            node = Node("name", (), a + start, a + end, name.value)
            out.append(Declaration([node], (None, None), props, a + start, a + end, stated=True))
            space = "𝕊ⁿ₊₊ (symmetric positive definite)" if "spd" in props else "𝕊ⁿ (symmetric)"
            out.append(Remark(f"read “{plain_words(cell[a + start:a + end])} is "
                              f"{'symmetric positive definite' if 'spd' in props else 'symmetric'}” as "
                              f"{name.value} ∈ {space}"))
    return out


def _shifted(hits, offset: int):
    return [(name, start + offset, end + offset) for name, start, end in hits]


def _shift(node: Node, offset: int) -> Node:
    return Node(node.kind, tuple(_shift(a, offset) if isinstance(a, Node) else a for a in node.args),
                node.pos + offset, node.end + offset, node.value, node.grouped)


def _statement(tree, offset: int, continuation: bool = False) -> list:
    if tree[0] == "fdecl":
        _, name, (domain, _p), (codomain, _q), (p, e) = tree
        if name.kind != "name":
            raise ParseError("only a letter can name a function", pos=name.pos + offset, end=name.end + offset)
        return [FunctionDeclaration(name.value, domain, codomain, p + offset, e + offset)]
    if tree[0] == "decl":
        _, names, (shape, props), (p, e) = tree
        return [Declaration([_shift(n, offset) for n in names], shape, props, p + offset, e + offset)]
    _, sides, ops = tree
    from .freeindex import expand_free_indices, pattern_bounds
    from .patterns import expand_sum_patterns
    from .index import check_indices, extend_sums, free_index_names, sum_indices, to_matrix_form
    notes: list[str] = []
    sum_sizes: dict[str, int] = {}
    summed_bases: set[str] = set()
    sides = [expand_sum_patterns(drop_evaluation_points(compositions(_shift(s, offset), notes), notes), notes,
                                 sum_sizes, summed_bases)
             for s in sides]
    spans: dict = {}
    sides, indexed = expand_free_indices(sides, notes, spans)
    for stray in (n for side in sides for n in walk(side) if n.kind == "name" and n.value.startswith(CASES_DELTA)):
        raise ParseError("\\begin{cases} with i = j and i ≠ j is read in a line whose indices are free, such as "
                         "\\frac{\\partial y_i}{\\partial x_j} = \\begin{cases} … \\end{cases}; here "
                         f"{' and '.join(stray.value[len(CASES_DELTA):])} are not", pos=stray.pos, end=stray.end)
    sides, labels = read_labels(sides, notes)
    indexed = indexed | summed_bases
    sides = [extend_sums(s, notes) for s in sides]
    bound = set().union(*[sum_indices(s) for s in sides])
    in_patterns = frozenset(pattern_bounds(sides))   # x_1 … x_n in a matrix with \dots: n is a bound, no index
    for s in sides:
        check_indices(s, in_patterns)
        for name, index in free_index_names(s, bound):
            raise ParseError(f"the index {index} of {name.value} is used outside the sum that binds it",
                             pos=name.pos, end=name.end)
    sides = [to_matrix_form(s, notes, spans) for s in sides]
    for (rows, cols), _ in (o[1] for o in ops if isinstance(o, tuple)):
        space = "ℝ" + ("" if rows == 1 and cols == 1 else f"^{rows}" if cols == 1 else f"^({rows}×{cols})")
        notes.append(f"read “∈ {space}” after a side as the shape the line states for it (not checked)")
    if continuation:
        notes.append("this line begins with '=': it continues a line that is not in the cell, so its left side is "
                      "unknown and the sides after '=' are read")
    differential = differential_target(sides, notes)
    remarks = [Remark(n) for n in notes] + ([Indexed(indexed)] if indexed else []) + labels
    if differential is not None:
        return [differential, *remarks]
    op, rest = extract_operator(sides[0])
    if len(sides) >= 2 and (gradient_at_a_point(op, rest) or by_an_expression(op)):
        return [_value(sides), *remarks]   # ∇f(x)^T v = …, ∂R/∂(Y - Xθ) = …: values, each link judged
    if op is not None:
        return [_target(op, rest, sides[1:]), *remarks]
    if continuation:
        return [_value(sides), *remarks]
    if len(sides) >= 2 and not _is_head(sides[0]) and _has_derivative(sides[0]):
        return [_value(sides), *remarks]   # (∂z/∂x)^T = (∂y/∂x)^T (∂z/∂y)^T: values, each link judged
    heads = next(k for k, s in enumerate(sides) if not _is_head(s) or k == len(sides) - 1)
    if 1 <= heads < len(sides) - 1:   # y = f(x) = ‖y − z‖² = …: the definitions, then the links after them
        defs = [Definition(*_definition_head(lhs), embed_derivatives(sides[heads]), lhs.pos, sides[heads].end)
                for lhs in sides[:heads]]
        rewritten = _value(sides[heads:])
        rewritten.rewriting = True
        return [*defs, rewritten, *remarks]
    if len(sides) == 2 and _transposed_head(sides[0]) and _has_derivative(sides[1]):
        sides = [sides[0].args[0], Node("pow", (_regroup(sides[1], True), sides[0].args[1]), sides[1].pos,
                                        sides[1].end)]   # c^T = (…): c is its transpose
    if len(sides) == 2 and _is_head(sides[0]) and _has_derivative(sides[1]):
        worked = _value(sides[1:])   # c = Dh(x)[v]: the definition, and its value worked out
        worked.rewriting = True
        return [Definition(*_definition_head(sides[0]), worked.body, sides[0].pos, sides[1].end), worked, *remarks]
    for s in sides:
        _no_operator(s)
    if len(sides) == 1:
        raise ParseError("this line has no target, definition or declaration: start it with \\nabla_x, "
                         "\\frac{\\partial}{\\partial x} or D f(x)[v], or write u = ... or x \\in \\mathbb{R}^n",
                         pos=sides[0].pos, end=sides[0].end)
    summing = structure.sum_declaration(sides) or structure.symmetric_declaration(sides)   # 𝟏ᵀy = 1, S = Sᵀ
    if summing is not None:
        return [summing, *remarks]
    defs = []
    for lhs in sides[:-1]:
        name, params = _definition_head(lhs)
        defs.append(Definition(name, params, sides[-1], lhs.pos, sides[-1].end))
    return defs + remarks
