"""Reading a cell: statements, then each statement through the Lark grammar into a small
syntax tree (``Node``), then into targets, definitions and declarations.

Shapes are not known here; ``shapes.py`` decides them and builds expressions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from importlib import resources

from lark import Lark, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import structure
from .errors import ParseError
from .page import (merged_spans, only_names, plain_words, prose_declarations, split_statements, strip_decorations,
                   unwrap)
from .tex import GREEK_UNICODE, Braced, brace_arguments


FUNCTION_NAMES = {
    "log": "log", "ln": "log", "exp": "exp", "tanh": "tanh", "sin": "sin", "cos": "cos", "det": "det",
    "sigma": "sigmoid", "sigmoid": "sigmoid", "tr": "tr", "Tr": "tr", "trace": "tr", "softmax": "softmax",
    "diag": "diag", "sign": "sign", "sgn": "sign", "lse": "logsumexp", "logsumexp": "logsumexp",
    "tan": "tan", "relu": "relu",
}


# ---------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Node:
    kind: str
    args: tuple = ()
    pos: int = 0
    end: int = 0
    value: object = None  # a name, a number, a function name, ...
    grouped: bool = False  # written inside ( ), \left( \right), [ ] or { }: TeX's grouping, kept

    def with_args(self, *args) -> "Node":
        return Node(self.kind, tuple(args), self.pos, self.end, self.value, self.grouped)


@dataclass
class Target:
    kind: str                 # "gradient", "hessian", "jacobian", "directional"
    variables: list[Node]
    body: Node | None         # the function (None until resolved from a name)
    claims: list[Node] = field(default_factory=list)
    direction: Node | None = None
    pos: int = 0
    end: int = 0
    scalar_variable: bool = False   # d/dt, d/dx: the variable is a scalar
    combined: bool = False          # a claimed sum of derivatives, read as one derivative of the sum
    numerator_body: bool = False    # \\frac{\\partial z}{\\partial x}: z written in the numerator
    rewriting: bool = False         # a line of values that rewrites a definition (f(x) = A = B)


@dataclass
class Definition:
    name: str
    params: list[str]
    body: Node
    pos: int
    end: int


@dataclass
class Declaration:
    names: list[Node]
    shape: tuple               # (rows, cols) of dimension names or ints; (None, None): square, size free
    props: frozenset
    pos: int
    end: int
    stated: bool = False       # said in words ("where A is symmetric"), not written as A \in \mathbb{S}^n


@dataclass
class FunctionDeclaration:
    """``f: \\mathbb{R}^n \\to \\mathbb{R}^m``: an arbitrary differentiable function."""
    name: str
    domain: tuple              # (rows, cols), as in a Declaration
    codomain: tuple
    pos: int
    end: int


@dataclass
class Indexed:
    """Names whose entries a line uses by free indices (z in ∂z_i/∂x_j): z_1, z_2 are z's entries."""
    names: set


@dataclass
class Remark:
    """How the cell was read, in words (e.g. index notation turned into matrix form)."""
    text: str


# ---------------------------------------------------------------- the parser (built once, lazily)
@lru_cache(maxsize=1)
def parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


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
        return self._node("hadamard", meta, a, b)

    def hdiv(self, meta, a, op, b):
        return self._node("hdiv", meta, a, b)

    def pow(self, meta, base, exp):
        return self._node("pow", meta, base, exp)

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

    def frac(self, meta, tok, num, den):
        return self._node("frac", meta, num, den)

    def sqrt(self, meta, tok, arg):
        return self._node("func", meta, arg, value="sqrt")

    def func_paren(self, meta, tok, arg, close):
        return self._node("func", meta, arg, value=_function_name(tok))

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
        return tok if isinstance(tok, str) and not hasattr(tok, "type") else ("*" if tok.type == "STAR" else str(tok))

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

    def apply_direction(self, meta, call, direction):
        return self._node("directional", meta, call, direction)

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


# ---------------------------------------------------------------- bars: ‖x‖ and |x|
_OPERAND_COMMANDS = set(GREEK_UNICODE) | {"top", "intercal"}


def pair_bars(text: str) -> str:
    """Mark each norm bar ``\\|`` (and ``\\Vert``, ``||``) and each single ``|`` as opening or
    closing, keeping every character position: a bar after an operand closes, otherwise opens."""
    out = list(text)
    open_norms = open_bars = 0
    i = 0
    while i < len(text):
        width = 0
        if text.startswith("\\|", i) or text.startswith("||", i):
            width, kind = 2, "norm"
        elif text.startswith("\\Vert", i) and not text[i + 5:i + 6].isalpha():
            width, kind = 5, "norm"
        elif text[i] == "|" and (i == 0 or text[i - 1] != "\\"):
            width, kind = 1, "bar"
        if not width:
            i += 1
            continue
        closes = _after_operand("".join(out[:i]), i) and (open_norms if kind == "norm" else open_bars)
        if kind == "norm":
            mark = "‖)" if closes else "‖("
            open_norms += -1 if closes else 1
            out[i:i + width] = list(mark.ljust(width))
        else:
            open_bars += -1 if closes else 1
            out[i] = "⟩" if closes else "⟨"
        i += width
    return "".join(out)


def _after_operand(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    if j < 0:
        return False
    if text[j].isalnum():
        k = j
        while k >= 0 and text[k].isalpha():
            k -= 1
        if k >= 0 and text[k] == "\\":
            word = text[k + 1:j + 1]
            if word == "right":
                return True
            return word in _OPERAND_COMMANDS
        return True
    return text[j] in ")]}|'⟩"  # a closing bar already marked ends an operand; an opening one does not


# ---------------------------------------------------------------- parsing one statement
@lru_cache(maxsize=1024)
def parse_statement(text: str):
    """One statement's syntax tree (immutable nodes; cached, as notebooks re-run cells).
    The grammar reads the statement with every command argument braced (``tex.py``);
    positions in the tree and in errors are positions in ``text``."""
    braced = brace_arguments(text)
    try:
        return _map_positions(ToNode().transform(parser().parse(pair_bars(braced.text))), braced)
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
        if m:
            return ParseError(f"unknown or unsupported command {m.group(0)}", pos=pos, end=pos + len(m.group(0)))
        return ParseError(f"unexpected character '{text[pos]}'", pos=pos)
    tok = exc.token
    if tok.type == "EQ" and not text[:tok.start_pos].strip():
        return ParseError("this line begins with '=': it continues a derivation; put it after the line it "
                          "continues (in the same cell, or the next block of the same document)",
                          pos=tok.start_pos, end=tok.end_pos)
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
    for offset, text in split_statements(stripped):
        continuation = re.match(r"=(?!=)", text) is not None and not out
        if continuation:   # "= …" with no line before it in the cell: what follows is read
            text = " " + text[1:]
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
    return out


def _beside_prose(offset: int, text: str, removed: list) -> bool:
    """Names (or a space) right beside removed prose: ``A \\text{is symmetric}``,
    ``\\text{a row vector in } \\mathbb{R}^{1 \\times n}``."""
    return any(offset <= a <= offset + len(text) + 1 or offset - 1 <= b <= offset + 1 for a, b in removed)


def _remark_of(text: str) -> str:
    words = plain_words(text)
    if not words:
        return ""
    if re.match(r"\s*\\(?:right|[bB]igg?r?)\s*\|", text):
        return f"evaluated at {words}: read at a general point"
    return f"ignored: “{words}”"


def _prose_declarations(cell: str, spans) -> list:
    """What the text around the formulas declares: ``where A is symmetric`` is A ∈ 𝕊ⁿ."""
    out = []
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
    sides = [expand_sum_patterns(_shift(s, offset), notes, sum_sizes, summed_bases) for s in sides]
    spans: dict = {}
    sides, indexed = expand_free_indices(sides, notes, spans)
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
    remarks = [Remark(n) for n in notes] + ([Indexed(indexed)] if indexed else [])
    op, rest = extract_operator(sides[0])
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
    summing = structure.sum_declaration(sides)   # \\mathbf{1}^T y = 1
    if summing is not None:
        return [summing, *remarks]
    defs = []
    for lhs in sides[:-1]:
        name, params = _definition_head(lhs)
        defs.append(Definition(name, params, sides[-1], lhs.pos, sides[-1].end))
    return defs + remarks


def _has_derivative(node) -> bool:
    if not isinstance(node, Node):
        return False
    if node.kind in ("nabla", "partial", "along") or (node.kind == "frac" and _frac_operator(node) is not None) \
            or (node.kind == "directional") or (node.kind == "name" and node.value == "D"):
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
    return Node(kind, (a, b), a.pos, b.end)


def extract_operator(node: Node):
    """(derivative operator, what it applies to) if ``node`` starts with one, else (None, node).
    The operator applies to everything after it on its side of '='."""
    kind = node.kind
    if kind == "nabla" or (kind == "frac" and _frac_operator(node) is not None):
        return node, None
    if kind == "mul" and node.args[0].kind == "name" and node.args[0].value == "D" \
            and node.args[1].kind == "directional":
        return node.args[1], None
    if kind == "directional" and _is_operator_d(node.args[0]):   # D(x^T A x)[v]
        return node, None
    if kind == "mul" and node.args[0].kind == "along":   # ∂_v f(x): along v
        return node.args[0], node.args[1]
    if kind in ("mul", "add", "sub", "hadamard", "div", "hdiv") and not node.args[0].grouped:
        op, rest = extract_operator(node.args[0])   # (∇_x f) g: the operator stays inside its parentheses
        if op is not None:
            if rest is None and kind == "mul":
                return op, node.args[1]
            return op, _join(kind, rest, node.args[1])
    return None, node


def _no_operator(node: Node) -> None:
    if node.kind in ("nabla", "partial") or (node.kind == "frac" and _frac_operator(node) is not None):
        raise ParseError("a derivative operator must come first on its side of '='", pos=node.pos, end=node.end)
    for a in node.args:
        if isinstance(a, Node):
            _no_operator(a)


def _factors(node: Node) -> list[Node]:
    if node.kind == "mul":
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def _frac_operator(node: Node):
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
        variables.append(den[i + 1])
        order_here = den[i].value if den[i].kind == "partial" else 1
        variables.extend([den[i + 1]] * (order_here - 1))
        i += 2
    return order, body, variables, marker


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


def _target(op: Node, rest: Node | None, claims: list[Node]) -> Target:
    claims = [_claim_side(c) for c in claims]
    if op.kind == "nabla":
        if rest is None:
            raise ParseError("nothing to differentiate after the gradient", pos=op.end, end=op.end + 1)
        if not op.args:
            op = op.with_args(_guess_variable(op, rest))
        kind = "hessian" if op.value == 2 else "gradient"
        if op.value not in (1, 2):
            raise ParseError("only first and second derivatives are supported", pos=op.pos, end=op.end)
        return Target(kind, list(op.args), rest, claims, pos=op.pos, end=(rest or op).end)
    if op.kind == "along":
        if rest is None:
            raise ParseError("nothing to differentiate after ∂_v", pos=op.end, end=op.end + 1)
        var, direction = _along(op, rest)
        if direction is None:   # ∂_x f(x): the partial derivative by x
            return Target("jacobian", [var], rest, claims, pos=op.pos, end=rest.end)
        return Target("directional", [var], rest, claims, direction=embed_derivatives(direction),
                      pos=op.pos, end=rest.end)
    if op.kind == "directional":
        call, direction = op.args
        if _is_operator_d(call):   # D(x^T A x)[v]: by the one usual variable in the expression
            if rest is not None:
                raise ParseError("unexpected terms after the directional derivative", pos=rest.pos, end=rest.end)
            return Target("directional", [_guess_variable(op, call.args[1])], call.args[1], claims,
                          direction=embed_derivatives(_differential(direction)), pos=op.pos, end=op.end)
        if call.args[0].kind != "name" or len(call.args) != 2:
            raise ParseError("write the directional derivative as D f(x)[v]", pos=op.pos, end=op.end)
        if rest is not None:
            raise ParseError("unexpected terms after the directional derivative", pos=rest.pos, end=rest.end)
        return Target("directional", [call.args[1]], call, claims, direction=embed_derivatives(_differential(direction)),
                      pos=op.pos, end=op.end)
    order, body, variables, marker = _frac_operator(op)
    in_numerator = body is not None
    if body is not None and rest is not None:
        raise ParseError("unexpected terms after the derivative", pos=rest.pos, end=rest.end)
    body = body if body is not None else rest
    if body is None:
        raise ParseError("nothing to differentiate after the derivative", pos=op.end, end=op.end + 1)
    if order == 2:
        v = variables[0]
        names = {_strip_transpose(w).value if _strip_transpose(w).kind == "name" else None for w in variables}
        if len(names) != 1:   # ∂²f/∂x∂y: never the Hessian by x alone
            raise ParseError("mixed second derivatives (∂²f/∂x∂y by two different variables) are not supported "
                             "yet; differentiate by one variable twice, or take ∂/∂y of ∂f/∂x in two cells",
                             pos=op.pos, end=op.end)
        return Target("hessian", [_strip_transpose(v)], body, claims, pos=op.pos, end=body.end)
    if order != 1 or len(variables) != 1:
        raise ParseError("only first derivatives and Hessians ∂²f/∂x∂xᵀ are supported", pos=op.pos, end=op.end)
    return Target("jacobian", variables, body, claims, pos=op.pos, end=body.end,
                  scalar_variable=marker == "d" and variables[0].kind == "name", numerator_body=in_numerator)


def _differential(direction: Node) -> Node:
    """``[dA]`` in ``D f(A)[dA]`` is one symbol, the differential dA, not d·A."""
    if direction.kind == "mul" and not direction.grouped and direction.args[0].kind == "name" \
            and direction.args[0].value == "d" and direction.args[1].kind == "name":
        return Node("name", (), direction.pos, direction.end, "d" + direction.args[1].value)
    return direction


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
    standalone = op is not None and (op.kind == "directional" or (op.kind == "frac" and _frac_operator(op)[1] is not None))
    at_a_point = op is not None and op.kind == "directional" and op.args[0].args[-1].kind != "name"
    head = _factors_grouped(rest)[0] if rest is not None else None
    at_a_point = at_a_point or (op is not None and op.kind == "nabla" and not op.args and rest is not None
                                and rest.kind == "mul" and (head.kind == "call" or (
                                    head.kind == "pow" and head.args[0].kind == "call"
                                    and _is_transpose_mark(head.args[1]))))   # ∇f(x) · v, ∇f(x)^T v
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
    if node.kind == "frac" and _frac_operator(node) is not None and _frac_operator(node)[1] is not None:
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
            call = g if g.kind == "call" else g.args[0]   # D h(x): the derivative of h at x, a matrix (J_h(x))
            if len(call.args) != 2:
                continue
            deriv = Node("derivative", (call, call.args[1]), f.pos, call.end, "jacobian")
            return merge(i, deriv if g is call else Node("pow", (deriv, g.args[1]), f.pos, g.end))
    for i, f in enumerate(factors):
        if f.kind == "nabla" or (f.kind == "frac" and _frac_operator(f) is not None and _frac_operator(f)[1] is None):
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
        var = _guess_variable(op, body)
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
        order, inner, variables, _ = _frac_operator(op)
        body = inner if inner is not None else body
        if order != 1 or len(variables) != 1:
            raise ParseError("inside an expression, only first derivatives by one variable are read",
                             pos=op.pos, end=op.end)
        kind = "jacobian"
    var = variables[0]
    if var.kind != "name" and not (op.kind == "nabla" and not op.args):
        raise ParseError("a derivative by an expression is not read yet; name it (u = …) and differentiate by u",
                         pos=var.pos, end=var.end)
    end = body.end if body is not None else op.end
    return Node("derivative", (body, var), op.pos, max(end, op.end), kind, op.grouped)


def _point_of(op: Node, body: Node | None) -> Node:
    """``\nabla f(u)`` with no subscript: the gradient of f at the point u (by u when u is a
    symbol); of anything else, by the one usual variable in it."""
    if body is not None and body.kind == "call" and len(body.args) == 2 and body.args[0].kind == "name":
        return body.args[1]
    if body is None:
        raise ParseError("nothing to differentiate after the gradient", pos=op.end, end=op.end + 1)
    return _guess_variable(op, body)


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
    if node.kind == "frac" and _frac_operator(node) is not None:
        return False   # \\frac{dz}{dy} is a derivative, not a coefficient
    return node.kind in ("frac", "div", "neg", "mul") and all(_coefficient(a) for a in node.args)


def _guess_variable(op: Node, body: Node) -> Node:
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
