"""Code export: the source of a Python function computing the function and its derivative
from arrays, for NumPy, JAX or PyTorch (shared sub-expressions computed once, one line
each), and a ready NumPy function that evaluates the expression trees directly.

The source is written from the expression tree: it contains only validated identifiers for
the cell's symbols and numeric literals, and derivmagic itself never compiles or runs it."""
from __future__ import annotations

import builtins
import keyword
import re
from fractions import Fraction

import numpy as np

from .expr import Expr, Identity, Num, Ones, Sym, Zero, postorder
from .rules.kron import Kron
from .rules.matfunc import ExpFrechet, MatExp
from .rules import (Add, Det, Diag, DiagonalOf, Func, Hadamard, Inverse, Mul, Norm, Pow, Softmax, Trace,
                    Transpose)

BACKENDS = {
    "numpy": {"import": "import numpy as np", "m": "np", "inv": "np.linalg.inv", "det": "np.linalg.det",
              "eye": "np.eye({n})", "ones": "np.ones(({r}, {c}))", "zeros": "np.zeros(({r}, {c}))",
              "asarray": "np.asarray({x}, dtype=float)", "diag": "np.diagflat({x})", "sign": "np.sign",
              "abs": "np.abs", "sum": "np.sum", "sqrt": "np.sqrt", "max": "np.max",
              "expm": "scipy.linalg.expm({x})", "expm_frechet": "scipy.linalg.expm_frechet({x}, {e}, compute_expm=False)",
              "linalg": "import scipy.linalg"},
    "jax": {"import": "import jax.numpy as jnp", "m": "jnp", "inv": "jnp.linalg.inv", "det": "jnp.linalg.det",
            "eye": "jnp.eye({n})", "ones": "jnp.ones(({r}, {c}))", "zeros": "jnp.zeros(({r}, {c}))",
            "asarray": "jnp.asarray({x}, dtype=float)", "diag": "jnp.diagflat({x})", "sign": "jnp.sign",
            "abs": "jnp.abs", "sum": "jnp.sum", "sqrt": "jnp.sqrt", "max": "jnp.max",
            "expm": "jax.scipy.linalg.expm({x})",
            "expm_frechet": "jax.scipy.linalg.expm_frechet({x}, {e}, compute_expm=False)",
            "linalg": "import jax.scipy.linalg"},
    "torch": {"import": "import torch", "m": "torch", "inv": "torch.linalg.inv", "det": "torch.linalg.det",
              "eye": "torch.eye({n}, dtype=torch.float64)", "ones": "torch.ones(({r}, {c}), dtype=torch.float64)",
              "zeros": "torch.zeros(({r}, {c}), dtype=torch.float64)",
              "asarray": "torch.as_tensor({x}, dtype=torch.float64)", "diag": "torch.diagflat({x})",
              "sign": "torch.sign", "abs": "torch.abs", "sum": "torch.sum", "sqrt": "torch.sqrt", "max": "torch.max",
              "expm": "torch.linalg.matrix_exp({x})", "expm_frechet": "_expm_frechet({x}, {e})", "linalg": ""},
}


def identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    if not ident.isidentifier() or keyword.iskeyword(ident):
        ident = "v_" + ident
    return ident


# names the generated code uses for itself: modules, helpers, builtins
RESERVED = frozenset({"np", "jnp", "jax", "torch", "scipy", "math", "_softmax", "_expm_frechet"}
                     | set(dir(builtins)) | set(keyword.kwlist))


class Names:
    """Every name of one generated function, distinct: the cell's symbols (``x_{shape}`` and
    ``x_shape``, ``\\mathbf{2}`` and ``v_{2}``), sizes, temporaries and the shape of the variable
    never share a name, nor take one the code itself uses."""

    def __init__(self, reserved=()):
        self.taken = set(RESERVED) | set(reserved)
        self.count = 0

    def fresh(self, base: str) -> str:
        name = identifier(base)
        if name in self.taken or name.startswith("__"):
            name = "v_" + name.lstrip("_")
        candidate, k = name, 1
        while candidate in self.taken:
            k += 1
            candidate = f"{name}_{k}"
        self.taken.add(candidate)
        return candidate

    def temporary(self) -> str:
        while True:
            name = f"t{self.count}"
            self.count += 1
            if name not in self.taken:
                self.taken.add(name)
                return name


class Emitter:
    def __init__(self, backend: str):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.b = BACKENDS[backend]
        self.backend = backend
        self.lines: list[str] = []
        self.names: dict[Expr, str] = {}
        self.dims: dict[str, str] = {}
        self.symbols: dict[str, str] = {}   # a symbol's name -> its name in the code
        self.namer = Names()

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        if "*" in d:  # a product of dimensions (Kronecker forms)
            return "(" + " * ".join(self.dim(int(f) if f.isdigit() else f) for f in d.split("*")) + ")"
        return self.dims[d]

    def emit(self, root: Expr) -> str:
        for node in postorder(root):
            if node in self.names:
                continue
            code = self.code(node, [self.names[a] for a in node.args])
            if isinstance(node, Sym):
                self.names[node] = code
                continue
            name = self.namer.temporary()
            self.lines.append(f"    {name} = {code}")
            self.names[node] = name
        return self.names[root]

    def code(self, e: Expr, a: list[str]) -> str:
        m, b = self.b["m"], self.b
        if isinstance(e, Sym):
            return self.symbols.get(e.name) or identifier(e.name)
        if isinstance(e, Num):
            return f"{m}.full((1, 1), {_literal(e.value)})" if self.backend != "torch" else \
                f"torch.full((1, 1), {_literal(e.value)}, dtype=torch.float64)"
        if isinstance(e, Identity):
            return b["eye"].format(n=self.dim(e.shape[0]))
        if isinstance(e, Ones):
            return b["ones"].format(r=self.dim(e.shape[0]), c=self.dim(e.shape[1]))
        if isinstance(e, Zero):
            return b["zeros"].format(r=self.dim(e.shape[0]), c=self.dim(e.shape[1]))
        if isinstance(e, Add):
            return " + ".join(a)
        if isinstance(e, Mul):
            ns = len(e.scalars)
            parts = ([_literal(e.coeff)] if e.coeff != 1 else []) + a[:ns]
            if e.chain:
                parts.append(" @ ".join(a[ns:]) if len(a) - ns > 1 else a[ns])
                if len(a) - ns > 1 and parts[:-1]:
                    parts[-1] = f"({parts[-1]})"
            return " * ".join(parts) if parts else "1.0"
        if isinstance(e, Transpose):
            return f"{a[0]}.T"
        if isinstance(e, Inverse):
            return f"{b['inv']}({a[0]})"
        if isinstance(e, MatExp):
            return b["expm"].format(x=a[0])
        if isinstance(e, ExpFrechet):
            return b["expm_frechet"].format(x=a[0], e=a[1])
        if isinstance(e, Trace):
            return f"{m}.trace({a[0]}).reshape(1, 1)"
        if isinstance(e, Det):
            return f"{b['det']}({a[0]}).reshape(1, 1)"
        if isinstance(e, Hadamard):
            return " * ".join(a)
        if isinstance(e, Pow):
            q = e.exponent
            return f"{b['sqrt']}({a[0]})" if q == Fraction(1, 2) else f"{a[0]} ** {_literal(q)}"
        if isinstance(e, Func):
            return self.func(e.name, a[0])
        if isinstance(e, Norm):
            if e.p == "1":
                return f"{b['sum']}({b['abs']}({a[0]})).reshape(1, 1)"
            return f"{b['sqrt']}({b['sum']}({a[0]} * {a[0]})).reshape(1, 1)"
        if isinstance(e, Softmax):
            return f"_softmax({a[0]})"
        if isinstance(e, Kron):
            return f"{m}.kron({a[0]}, {a[1]})"
        if isinstance(e, Diag):
            return b["diag"].format(x=a[0])
        if isinstance(e, DiagonalOf):
            return f"{m}.diagonal({a[0]}).reshape(-1, 1)"
        raise NotImplementedError(type(e).__name__)

    def func(self, name: str, x: str) -> str:
        m = self.b["m"]
        if name == "sigmoid":
            return f"{m}.where({x} >= 0, 1.0 / (1.0 + {m}.exp(-{m}.abs({x}))), {m}.exp(-{m}.abs({x})) / (1.0 + {m}.exp(-{m}.abs({x}))))"
        if name in ("sign", "abs"):
            return f"{self.b[name]}({x})"
        if name == "relu":
            return f"{m}.maximum({x}, 0.0)"
        if name == "step":
            return f"1.0 * ({x} > 0)"
        return f"{m}.{name}({x})"


def _literal(v: Fraction) -> str:
    return repr(float(v)) if v.denominator != 1 else f"{v.numerator}.0"


def function_source(d, backend: str = "numpy", name: str = "f_and_derivative") -> str:
    """Source of ``name(<symbols>) -> (value, derivative)`` for a Derivation ``d``."""
    from .errors import DerivError
    from .rules.abstract import FunctionApply
    arbitrary = sorted({n.name for n in postorder(d.answer.function) if isinstance(n, FunctionApply)})
    if arbitrary:
        raise DerivError(f"no code for a result with the arbitrary function(s) {', '.join(arbitrary)}: "
                         "define them (f(x) = …) to export code")
    from . import limits
    with limits.within(getattr(d, "cell", None)):
        return _function_source(d, backend, name)


def _function_source(d, backend: str, name: str) -> str:
    em = Emitter(backend)
    answer = d.answer
    symbols = parameters(d)
    em.namer.taken.add(name)
    params = [em.namer.fresh(s.name) for s in symbols]
    em.symbols = {s.name: p for s, p in zip(symbols, params)}
    for s, p in zip(symbols, params):
        for i, dim in enumerate(s.shape):
            if isinstance(dim, str) and dim not in em.dims:
                em.dims[dim] = f"{p}.shape[{i}]"
    sizes = size_parameters(d, symbols)   # dimensions no argument has: given as integers
    size_params = [em.namer.fresh(dim) for dim in sizes]
    em.dims.update(zip(sizes, size_params))
    lines = [f"def {name}({', '.join(params + size_params)}):",
             f'    """{answer.kind} of the cell\'s function by {_doc(answer.var.name)}: returns (value, derivative).',
             f'    Vectors may be 1-D or columns; the derivative is {_doc(answer.description)}."""']
    body: list[str] = []
    for s, p in zip(symbols, params):
        body.append(f"    {p} = {em.b['asarray'].format(x=p)}" + _reshape(s))
    for dim, p in zip(sizes, size_params):
        body.append(f"    {p} = int({p})")
    em.lines = []
    value = em.emit(answer.function)
    deriv = em.emit(answer.result)
    body.extend(em.lines)
    var = em.symbols[answer.var.name]
    shaped = answer.result.shape == answer.var.shape and answer.kind == "gradient"
    value = f"{value}.reshape(())" if answer.function.is_scalar else value
    shape_name = em.namer.fresh(f"{var}_shape") if shaped else None
    body.append(f"    return {value}, " + (f"{deriv}.reshape({shape_name})" if shaped else deriv))
    head = [lines[0], lines[1], lines[2]]
    if shaped:
        body.insert(0, f"    {shape_name} = {em.b['asarray'].format(x=var)}.shape")
    preamble = [em.b["import"], ""]
    source = "\n".join(body)
    if "expm" in source and em.b["linalg"]:
        preamble.insert(1, em.b["linalg"])
    if "_expm_frechet(" in source:   # the upper right block of exp([[X, E], [0, X]])
        preamble += ["", "def _expm_frechet(x, e):", "    n = x.shape[0]",
                     "    z = torch.zeros_like(x)",
                     "    return torch.linalg.matrix_exp(torch.cat([torch.cat([x, e], 1), torch.cat([z, x], 1)], 0))[:n, n:]",
                     ""]
    if "_softmax(" in "\n".join(body):
        m = em.b["m"]
        preamble += ["", "def _softmax(z):", f"    e = {m}.exp(z - {em.b['max']}(z))", "    return e / e.sum()", ""]
    return "\n".join(preamble + ["", *head, *body]) + "\n"


def _doc(text: str) -> str:
    """Text for the docstring: no backslash or quote of the cell's can end it early."""
    return "".join(c if c.isprintable() and c not in "\\\"" else "?" for c in text)[:200]


def size_parameters(d, symbols) -> list[str]:
    """The dimensions of the function and its derivative that no argument's shape gives
    (``a - a`` with ``a ∈ ℝᵏ`` is a zero vector of k entries, whatever the variable): the
    generated function takes them as integers after the arrays."""
    have = {dim for s in symbols for dim in s.shape if isinstance(dim, str)}
    need: dict[str, None] = {}
    for root in (d.answer.function, d.answer.result):
        for node in postorder(root):
            for dim in node.shape:
                if isinstance(dim, str):
                    for factor in dim.split("*"):
                        if not factor.isdigit() and factor not in have:
                            need.setdefault(factor, None)
    return list(need)


def _reshape(s: Sym) -> str:
    """Columns for vectors and 1×1 for scalars, as the expressions expect; matrices as given."""
    r, c = s.shape
    if (r, c) == (1, 1):
        return ".reshape(1, 1)"
    if c == 1:
        return ".reshape(-1, 1)"
    if r == 1:
        return ".reshape(1, -1)"
    return ""


def parameters(d) -> list[Sym]:
    """The function's arguments: the variable first, then the other symbols it needs, in the cell's order."""
    answer = d.answer
    symbols = [s for s in d.reading.symbols.values() if s in answer.function.free or s in answer.result.free]
    if answer.var not in symbols:
        symbols.insert(0, answer.var)
    return symbols


def to_function(d, backend: str = "numpy"):
    """A NumPy function ``(arrays...) -> (value, derivative)`` evaluating the expression trees
    directly (no source is compiled); ``.source`` holds the equivalent code, and
    ``function_source(d, "jax" | "torch")`` the code for those libraries."""
    if backend != "numpy":
        raise ValueError(f"to_function builds NumPy functions; for {backend}, use to_source({backend!r})")
    from .check import evaluate
    answer = d.answer
    symbols = parameters(d)
    extra = size_parameters(d, symbols)
    gradient_shaped = answer.result.shape == answer.var.shape and answer.kind == "gradient"

    def f_and_derivative(*args):
        if len(args) != len(symbols) + len(extra):
            names = [s.name for s in symbols] + [f"the size {k}" for k in extra]
            raise TypeError(f"f_and_derivative takes {len(names)} arguments ({', '.join(names)})")
        env, sizes = {}, {k: int(v) for k, v in zip(extra, args[len(symbols):])}
        for s, a in zip(symbols, args):
            arr = np.asarray(a, dtype=float)
            arr = arr.reshape(_column_shape(s, arr))
            env[s.name] = arr
            for dim, n in zip(s.shape, arr.shape):
                if isinstance(dim, str):
                    sizes.setdefault(dim, n)
        memo: dict = {}
        value = evaluate(answer.function, env, sizes, memo)
        deriv = evaluate(answer.result, env, sizes, memo)
        if gradient_shaped:
            deriv = deriv.reshape(np.shape(args[symbols.index(answer.var)]))
        return (value.reshape(()) if answer.function.is_scalar else value), deriv

    f_and_derivative.__doc__ = f"{answer.kind} of the cell's function by {answer.var.name}: (value, derivative)"
    f_and_derivative.parameters = [s.name for s in symbols] + extra
    f_and_derivative.sizes = extra
    f_and_derivative.source = function_source(d, "numpy")
    return f_and_derivative


def _column_shape(s: Sym, arr) -> tuple:
    r, c = s.shape
    if (r, c) == (1, 1):
        return (1, 1)
    if c == 1:
        return (-1, 1)
    if r == 1:
        return (1, -1)
    return arr.shape
