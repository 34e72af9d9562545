"""Running exported NumPy code without compiling it.

``codegen`` writes a function's source from a plan of the computation (products in the cheapest
order, diagonals as broadcasts, sums distributed over vectors, ``slogdet`` under a logarithm).
This module runs exactly that source: it reads it with ``ast`` once and turns each statement into
a Python closure over NumPy calls. Nothing is compiled or executed as Python text; only the small
language the exporter writes is understood (assignments, a return, arithmetic, ``@``, ``.T``,
``.reshape``, subscripts, comparisons and calls of the NumPy and SciPy functions listed in
``CALLS``), and anything else is refused with ``PlanError``.

With ``counted=True`` every operation counts as work before it runs (``limits.tick``: a product
r×k·k×c by its r·k·c multiply-adds, an inverse or determinant by n³, anything else by the numbers
it makes) and the numbers it allocates are bounded (``LIMITS['check_entries']``), as the numeric
check requires."""
from __future__ import annotations

import ast
import math
import operator

import numpy as np

from .limits import check_entries, tick

# NumPy's arithmetic per unit of work, as the numeric check counts it (check.cost)
ENTRIES_PER_UNIT = 1024
MULTIPLY_ADDS_PER_UNIT = 16384

CALLS = {
    "np.full": np.full, "np.eye": np.eye, "np.ones": np.ones, "np.zeros": np.zeros,
    "np.asarray": np.asarray, "np.shape": np.shape, "np.diagflat": np.diagflat, "np.sign": np.sign, "np.abs": np.abs,
    "np.sum": np.sum, "np.sqrt": np.sqrt, "np.max": np.max, "np.maximum": np.maximum,
    "np.where": np.where, "np.exp": np.exp, "np.log": np.log, "np.tanh": np.tanh, "np.sin": np.sin,
    "np.cos": np.cos, "np.tan": np.tan, "np.trace": np.trace, "np.kron": np.kron,
    "np.diagonal": np.diagonal, "np.linalg.inv": np.linalg.inv, "np.linalg.det": np.linalg.det,
    "np.linalg.slogdet": np.linalg.slogdet, "np.linalg.solve": np.linalg.solve,
    "np.linalg.eigh": np.linalg.eigh, "np.linalg.svd": np.linalg.svd, "np.linalg.pinv": np.linalg.pinv,
    "np.argmax": np.argmax,
    "np.arange": np.arange, "np.size": np.size, "np.concatenate": np.concatenate, "np.zeros_like": np.zeros_like,
    "scipy.linalg.expm": lambda *a, **k: _scipy_linalg().expm(*a, **k),
    "scipy.linalg.expm_frechet": lambda *a, **k: _scipy_linalg().expm_frechet(*a, **k),
    "scipy.linalg.sqrtm": lambda *a, **k: _scipy_linalg().sqrtm(*a, **k),
    "scipy.linalg.logm": lambda *a, **k: _scipy_linalg().logm(*a, **k),
    "scipy.linalg.solve_sylvester": lambda *a, **k: _scipy_linalg().solve_sylvester(*a, **k),
    "int": int, "float": float,
}


def _scipy_linalg():
    import scipy.linalg   # only for matrix functions: importing SciPy costs more than most plans
    return scipy.linalg


CUBIC = frozenset({"np.linalg.inv", "np.linalg.det", "np.linalg.slogdet", "np.linalg.solve", "np.linalg.eigh",
                   "np.linalg.svd", "np.linalg.pinv", "scipy.linalg.expm", "scipy.linalg.expm_frechet", "scipy.linalg.sqrtm",
                   "scipy.linalg.logm", "scipy.linalg.solve_sylvester"})
# how many times n³ a call costs (else n³): an LU is a third, a Fréchet derivative of e^X ten exponentials,
# a Schur form or a symmetric eigen- or singular value decomposition about ten
CUBIC_FACTOR = {"np.linalg.det": 1 / 3, "np.linalg.slogdet": 1 / 3, "np.linalg.solve": 1 / 3,
                "scipy.linalg.expm_frechet": 10, "scipy.linalg.sqrtm": 10, "scipy.linalg.logm": 10,
                "scipy.linalg.solve_sylvester": 10, "np.linalg.eigh": 10, "np.linalg.svd": 10, "np.linalg.pinv": 10}
METHODS = frozenset({"reshape", "ravel", "sum", "swapaxes"})
MODULES = frozenset({"np", "scipy"})
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.MatMult: operator.matmul, ast.Pow: operator.pow}
COMPARE = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Eq: operator.eq}


class PlanError(Exception):
    """The source uses something this runner does not understand (a bug of the exporter, or a
    backend other than NumPy): never the user's input."""


class Tally:
    """Work and allocations of one run (only when counted)."""
    __slots__ = ("entries", "what")

    def __init__(self, what: str):
        self.entries = 0
        self.what = what

    def charge(self, multiply_adds: int, entries: int) -> None:
        self.entries += entries
        check_entries(self.entries, self.what)
        tick(1 + multiply_adds // MULTIPLY_ADDS_PER_UNIT + entries // ENTRIES_PER_UNIT)


def _entries(x) -> int:
    return int(np.size(x)) if isinstance(x, np.ndarray) else 1


def _shape(x) -> tuple:
    return np.shape(x) if isinstance(x, np.ndarray) else ()


TALLY = "\0tally"   # the frame's entry for the run's Tally (no identifier can take this name)


class Function:
    """One function of the source, as closures of its frame (a dict of names to values, the run's
    ``Tally`` under ``TALLY``): ``run(args, tally)`` returns what it returns."""

    def __init__(self, node: ast.FunctionDef, program: "Program"):
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs:
            raise PlanError(f"{node.name}: only plain positional parameters are understood")
        self.name = node.name
        self.params = [p.arg for p in a.args]
        self.doc = ast.get_docstring(node)
        self.program = program
        self.steps = []
        self.result = None
        self.assigned = set(self.params)
        for stmt in node.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue   # the docstring
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.steps.append((stmt.targets[0].id, self.expr(stmt.value)))
                self.assigned.add(stmt.targets[0].id)
            elif isinstance(stmt, ast.Return) and stmt.value is not None and self.result is None:
                self.result = self.expr(stmt.value)
            else:
                raise PlanError(f"{node.name}: statement {type(stmt).__name__} at line {stmt.lineno} is not understood")
        if self.result is None:
            raise PlanError(f"{node.name} returns nothing")

    def run(self, args, tally=None):
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments ({', '.join(self.params)}), "
                            f"not {len(args)}")
        frame = dict(zip(self.params, args))
        frame[TALLY] = tally
        for target, step in self.steps:
            frame[target] = step(frame)
        return self.result(frame)

    # ---------------------------------------------------------------- expressions to closures
    def expr(self, e: ast.expr):
        known, value = _constant(e)
        if known:
            return lambda f: value
        if isinstance(e, ast.Name):
            return self.name_ref(e.id)
        if isinstance(e, ast.Constant) and (isinstance(e.value, (int, float)) or e.value is None):
            value = e.value
            return lambda f: value
        if isinstance(e, ast.Tuple):
            items = [self.expr(x) for x in e.elts]
            return lambda f: tuple(x(f) for x in items)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            inner = self.expr(e.operand)

            def negative(f):
                t = f[TALLY]
                x = inner(f)
                if t is not None:
                    t.charge(0, _entries(x))
                return -x
            return negative
        if isinstance(e, ast.BinOp) and type(e.op) in BINARY:
            return self.binary(BINARY[type(e.op)], self.expr(e.left), self.expr(e.right))
        if isinstance(e, ast.Compare) and len(e.ops) == 1 and type(e.ops[0]) in COMPARE:
            return self.binary(COMPARE[type(e.ops[0])], self.expr(e.left), self.expr(e.comparators[0]))
        if isinstance(e, ast.Attribute) and e.attr in ("T", "shape"):
            inner = self.expr(e.value)
            return (lambda f: inner(f).T) if e.attr == "T" else (lambda f: np.shape(inner(f)))
        if isinstance(e, ast.Subscript):
            return self.subscript(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        raise PlanError(f"{self.name}: {ast.dump(e)[:80]} is not understood")

    def name_ref(self, name: str):
        if name in self.program.functions or name in CALLS:
            raise PlanError(f"{self.name}: the function {name} used as a value")
        if name not in self.assigned:
            raise PlanError(f"{self.name}: {name} is used before it is assigned")
        return operator.itemgetter(name)

    @staticmethod
    def binary(op, left, right):
        matmul = op is operator.matmul

        def run(f):
            t = f[TALLY]
            a, b = left(f), right(f)
            if t is not None:
                if matmul:
                    sa, sb = _shape(a), _shape(b)
                    r, k = sa if len(sa) == 2 else (1, _entries(a))
                    c = sb[-1] if len(sb) == 2 else 1
                    t.charge(r * k * c, r * c)
                else:
                    t.charge(0, max(_entries(a), _entries(b),
                                    math.prod(np.broadcast_shapes(_shape(a), _shape(b)))))
            return op(a, b)
        return run

    def subscript(self, e: ast.Subscript):
        value = self.expr(e.value)
        parts = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        index = [self.index(p) for p in parts]   # each a function of the frame
        if isinstance(e.slice, ast.Tuple):
            return lambda f: value(f)[tuple(i(f) for i in index)]
        one = index[0]
        return lambda f: value(f)[one(f)]

    def index(self, p):
        """One position of a subscript: a whole number (``-1``), a name assigned before, or a slice of
        them (``:n``, ``-2:-1``)."""
        if isinstance(p, ast.Slice) and p.step is None:
            lower, upper = (self.bound(b) for b in (p.lower, p.upper))
            return lambda f: slice(lower(f), upper(f))
        return self.bound(p)

    def bound(self, p):
        if p is None or isinstance(p, ast.Constant) and p.value is None:
            return lambda f: None
        known, value = _constant(p)
        if known and type(value) is int:
            return lambda f: value
        if isinstance(p, ast.Name):
            ref = self.name_ref(p.id)
            return lambda f: int(ref(f))
        raise PlanError(f"{self.name}: the subscript {ast.dump(p)[:60]} is not understood")

    def call(self, e: ast.Call):
        args = [self.expr(a) for a in e.args]
        if any(k.arg is None for k in e.keywords):
            raise PlanError(f"{self.name}: ** arguments are not understood")
        keywords = {}
        for k in e.keywords:
            if isinstance(k.value, ast.Name) and k.value.id == "float":
                keywords[k.arg] = float
            elif isinstance(k.value, ast.Constant) and isinstance(k.value.value, (str, bool, int)):
                keywords[k.arg] = k.value.value
            else:
                raise PlanError(f"{self.name}: the keyword argument {k.arg} is not understood")
        dotted = _dotted(e.func)
        if dotted is not None and dotted.split(".")[0] in MODULES | {"int", "float"}:
            fn = CALLS.get(dotted)
            if fn is None:
                raise PlanError(f"{self.name}: {dotted} is not a function this runner knows")
            return self.library_call(dotted, fn, args, keywords)
        if dotted is not None and "." not in dotted:
            if keywords:
                raise PlanError(f"{self.name}: keyword arguments to {dotted} are not understood")
            program = self.program

            def local(f):
                t = f[TALLY]
                fn = program.functions.get(dotted)
                if fn is None:
                    raise PlanError(f"{self.name}: the function {dotted} is not defined")
                return fn.run([a(f) for a in args], t)
            return local
        if isinstance(e.func, ast.Attribute) and e.func.attr in METHODS:
            obj, method = self.expr(e.func.value), e.func.attr
            fixed = [_constant(a) for a in e.args]
            if method != "sum" and all(k for k, _ in fixed):   # x.reshape(-1, 1): one C call
                call = operator.methodcaller(method, *[v for _, v in fixed], **keywords)
                return lambda f: call(obj(f))

            def meth(f):
                t = f[TALLY]
                x = obj(f)
                vals = [a(f) for a in args]
                if t is not None and method == "sum":
                    t.charge(0, _entries(x))
                return getattr(x, method)(*vals, **keywords)
            return meth
        raise PlanError(f"{self.name}: the call {ast.dump(e.func)[:60]} is not understood")

    @staticmethod
    def library_call(dotted: str, fn, args, keywords):
        cubic = dotted in CUBIC

        def run(f):
            t = f[TALLY]
            vals = [a(f) for a in args]
            if t is not None:
                t.charge(*_call_cost(dotted, cubic, vals))
            return fn(*vals, **keywords)
        return run


def _call_cost(dotted: str, cubic: bool, vals) -> tuple[int, int]:
    """(multiply-adds, numbers made) of one library call, from its arguments alone."""
    if cubic:   # an LU factorization is n³/3 multiply-adds, an inverse n³ (CUBIC_FACTOR)
        n = max((max(_shape(v)) for v in vals if _shape(v)), default=1)
        factor = CUBIC_FACTOR.get(dotted, 1)
        made = n * n if dotted != "np.linalg.solve" else _entries(vals[-1])
        extra = n * _entries(vals[-1]) if dotted == "np.linalg.solve" else 0
        return int(factor * n ** 3) + extra, made
    if dotted in ("np.eye",):
        return 0, int(vals[0]) ** 2
    if dotted in ("np.ones", "np.zeros", "np.full"):
        return 0, math.prod(int(d) for d in vals[0])
    if dotted == "np.diagflat":
        return 0, _entries(vals[0]) ** 2
    if dotted == "np.kron":
        return 0, _entries(vals[0]) * _entries(vals[1])
    return 0, max((_entries(v) for v in vals), default=1)


def _constant(e) -> tuple[bool, object]:
    """(True, value) for a number, a negated number or a tuple of them, else (False, None)."""
    if isinstance(e, ast.Constant) and type(e.value) in (int, float):
        return True, e.value
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        known, value = _constant(e.operand)
        return (True, -value) if known and not isinstance(value, tuple) else (False, None)
    if isinstance(e, ast.Tuple):
        items = [_constant(x) for x in e.elts]
        return (True, tuple(v for _, v in items)) if all(k for k, _ in items) else (False, None)
    return False, None


def _dotted(node) -> str | None:
    """``np.linalg.inv`` for an attribute chain on a name, the name alone for a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class Program:
    """The functions of one generated NumPy source, ready to run."""

    def __init__(self, source: str):
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise PlanError(f"the exported source does not parse: {exc}") from None
        self.source = source
        self.functions: dict[str, Function] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                self.functions[stmt.name] = Function(stmt, self)
            elif isinstance(stmt, ast.Import) and all(a.name in ("numpy", "scipy.linalg") for a in stmt.names):
                continue
            else:
                raise PlanError(f"line {stmt.lineno}: {type(stmt).__name__} is not understood")

    def __getitem__(self, name: str) -> Function:
        return self.functions[name]

    def run(self, name: str, args, counted: bool = False, what: str = "evaluating the plan"):
        return self.functions[name].run(list(args), Tally(what) if counted else None)
