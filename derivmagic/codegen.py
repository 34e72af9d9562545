"""Code export: the source of a Python function computing the function and its derivative
from arrays, for NumPy, JAX or PyTorch (shared sub-expressions computed once, one line
each), and a ready NumPy function that runs the NumPy source's plan.

The source is written from the expression tree: it contains only validated identifiers for
the cell's symbols and numeric literals, and derivmagic itself never compiles it: the ready
function reads it with ``program.Program`` into closures over NumPy calls."""
from __future__ import annotations

import builtins
import keyword
import re
from fractions import Fraction

from .expr import Expr, Identity, Num, Ones, Sym, Zero, postorder
from .rules.entries import Basis, Entry, Stack
from .rules.kron import Commutation, Kron, Vec
from .export_linalg import check_exportable, linalg_code, linalg_preamble
from .rules import (Add, Det, Diag, DiagonalOf, Func, Hadamard, Inverse, Mul, Norm, Pow, Softmax, SquaredNorm, Trace,
                    Transpose)

BACKENDS = {
    "numpy": {"import": "import numpy as np", "m": "np", "inv": "np.linalg.inv", "det": "np.linalg.det", "slogdet": "np.linalg.slogdet",
              "eye": "np.eye({n})", "ones": "np.ones(({r}, {c}))", "zeros": "np.zeros(({r}, {c}))",
              "asarray": "np.asarray({x}, dtype=float)", "shape": "np.shape({x})", "diag": "np.diagflat({x})", "sign": "np.sign",
              "abs": "np.abs", "sum": "np.sum", "sqrt": "np.sqrt", "max": "np.max"},
    "jax": {"import": "import jax.numpy as jnp", "m": "jnp", "inv": "jnp.linalg.inv", "det": "jnp.linalg.det", "slogdet": "jnp.linalg.slogdet",
            "eye": "jnp.eye({n})", "ones": "jnp.ones(({r}, {c}))", "zeros": "jnp.zeros(({r}, {c}))",
            "asarray": "jnp.asarray({x}, dtype=float)", "shape": "jnp.shape({x})", "diag": "jnp.diagflat({x})", "sign": "jnp.sign",
            "abs": "jnp.abs", "sum": "jnp.sum", "sqrt": "jnp.sqrt", "max": "jnp.max"},
    "torch": {"import": "import torch", "m": "torch", "inv": "torch.linalg.inv", "det": "torch.linalg.det", "slogdet": "torch.linalg.slogdet",
              "eye": "torch.eye({n}, dtype=torch.float64)", "ones": "torch.ones(({r}, {c}), dtype=torch.float64)",
              "zeros": "torch.zeros(({r}, {c}), dtype=torch.float64)",
              "asarray": "torch.as_tensor({x}, dtype=torch.float64)", "shape": "torch.as_tensor({x}, dtype=torch.float64).shape",
              "diag": "torch.diagflat({x})",
              "sign": "torch.sign", "abs": "torch.abs", "sum": "torch.sum", "sqrt": "torch.sqrt", "max": "torch.max"},
}


def identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    if not ident.isidentifier() or keyword.iskeyword(ident):
        ident = "v_" + ident
    return ident


# names the generated code uses for itself: modules, helpers, builtins
RESERVED = frozenset({"np", "jnp", "jax", "torch", "scipy", "math", "_softmax_parts", "_expm_frechet", "_logm",
                      "_logm_frechet", "_sqrtm", "_sylvester"}
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
        self.products: dict = {}   # code (or key) -> the temporary holding it
        self.dry = False

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        if "*" in d:  # a product of dimensions (Kronecker forms)
            return "(" + " * ".join(self.dim(int(f) if f.isdigit() else f) for f in d.split("*")) + ")"
        return self.dims[d]

    # ------------------------------------------------------------ the plan
    # Nodes are written in two passes over the DAG of every root. The first (parents before
    # children) finds which nodes need an array of their own: a diagonal folded into a product,
    # a transpose folded into a BLAS call, a sum distributed over a vector or a determinant
    # under a logarithm never does. The second (children first) writes one line per needed
    # node; products are multiplied in the cheapest order their shapes allow, and a product
    # of the same operands is computed once for the value and every derivative.
    def emit(self, root: Expr) -> str:
        return self.emit_all([root])[0]

    def emit_all(self, roots: list) -> list[str]:
        order, seen = [], set()
        for r in roots:
            for node in postorder(r):
                if node not in seen:
                    seen.add(node)
                    order.append(node)
        needed = set(roots)

        def want(c):
            needed.add(c)
            return "_"
        saved = (self.lines, self.products, self.namer.count, set(self.namer.taken))
        self.dry = True
        for node in reversed(order):       # parents before children
            if node in needed and node not in self.names and not isinstance(node, Sym):
                self.lines, self.products = [], {}
                self.build(node, want)
        self.lines, self.products, self.namer.count, self.namer.taken = saved
        self.dry = False
        for node in order:
            if node in self.names or node not in needed:
                continue
            if isinstance(node, Sym):
                self.names[node] = self.code(node, [])
                continue
            code = self.build(node, self.names.__getitem__)
            self.names[node] = self.tmp(code)
        return [self.names[r] for r in roots]

    def tmp(self, code: str, key=None) -> str:
        """A line ``name = code`` (once per key), or nothing on the dry pass."""
        if self.dry:
            return "_"
        key = code if key is None else key
        if key in self.products:
            return self.products[key]
        if re.fullmatch(r"[A-Za-z_]\w*", code):   # already a name
            return code
        name = self.namer.temporary()
        self.lines.append(f"    {name} = {code}")
        self.products[key] = name
        return name

    def build(self, e: Expr, name) -> str:
        """The code of ``e`` from the names of the nodes it needs (``name(child)``)."""
        b = self.b
        if isinstance(e, Mul):
            return self.product(e, name)
        if isinstance(e, Add):
            vec = self.diag_vector(e, name)
            if vec is not None:
                return b["diag"].format(x=vec)
            return self.sum_code(e.args, name)
        if isinstance(e, Diag):
            return b["diag"].format(x=name(e.args[0]))
        if isinstance(e, Norm) and e.p != "1":
            return f"{b['sqrt']}({self.squared_norm(e.args[0], name)})"
        if isinstance(e, Pow) and e.exponent == 2 and isinstance(e.args[0], Norm) and e.args[0].p != "1":
            return self.squared_norm(e.args[0].args[0], name)
        if isinstance(e, SquaredNorm):
            return self.squared_norm(e.args[0], name)
        if isinstance(e, Trace) and isinstance(e.args[0], Mul) and len(e.args[0].chain) == 2 \
                and e.args[0].chain[0].shape[0] != 1:
            # tr(AB) = Σ A ∘ Bᵀ: n² multiplications, not the n³ of the product
            p = e.args[0]
            scal = ([_literal(p.coeff)] if p.coeff != 1 else []) + [name(s) for s in p.scalars]
            a, bt = (self.dense(self.factor(f, name), name) for f in p.chain)
            other = bt.tbase if bt.tbase is not None else f"{bt.code}.T"
            return " * ".join(scal + [f"{b['sum']}({a.code} * {other}).reshape(1, 1)"])
        if isinstance(e, Softmax) or (isinstance(e, Func) and e.name == "log" and isinstance(e.args[0], Softmax)):
            # softmax and its log from one pass: z - max z, its exponentials and their sum (log
            # softmax is z - max z - log Σ, no logarithm per entry)
            s = e if isinstance(e, Softmax) else e.args[0]
            parts = self.tmp(f"_softmax_parts({name(s.args[0])})")
            return f"{parts}[1] / {parts}[2]" if e is s else f"{parts}[0] - {b['m']}.log({parts}[2])"
        if isinstance(e, Func) and e.name == "log" and isinstance(e.args[0], Det):
            # log det X = log(sign) + log|det X|: no overflow for large X (log of a negative
            # determinant stays nan, as log(det X) is)
            s = self.tmp(f"{b['slogdet']}({name(e.args[0].args[0])})")
            return f"({b['m']}.log({s}[0]) + {s}[1]).reshape(1, 1)"
        return self.code(e, [name(a) for a in e.args])

    def sum_code(self, terms, name) -> str:
        """``a + b - c``: a term ``-1 * c`` (or ``k * c``) written in the sum, not as an array of its own."""
        out = []
        whole = any(not isinstance(t, (Ones, Num)) for t in terms)
        for t in terms:
            if isinstance(t, Ones) and whole:   # 𝟏 + v as 1.0 + v: broadcast, no array of ones
                out.append(("+", "1.0"))
            elif isinstance(t, Mul) and t.coeff != 1 and not t.scalars and len(t.chain) == 1 \
                    and not self.is_diagonal(t.chain[0]):
                c = name(t.chain[0])
                if t.coeff == -1:
                    out.append(("-", c))
                else:
                    out.append(("+", f"{_literal(t.coeff)} * {c}"))
            else:
                out.append(("+", name(t)))
        code = ("-" if out[0][0] == "-" else "") + out[0][1]
        for sign, c in out[1:]:
            code += f" {sign} {c}"
        return code

    def squared_norm(self, r: Expr, name) -> str:
        a = name(r)
        rows, cols = r.shape
        if cols == 1:
            code = f"{a}.T @ {a}"
        elif rows == 1:
            code = f"{a} @ {a}.T"
        else:
            code = f"({a}.ravel() @ {a}.ravel()).reshape(1, 1)"
        return self.tmp(code, key=("sq", a))

    def diag_vector(self, e: Expr, name):
        """The code of the vector ``d`` when ``e`` is a diagonal matrix diag(d) built from
        ``Diag`` nodes (sums and scaled products of them), else None."""
        if not self.is_diagonal(e):
            return None
        if isinstance(e, Diag):
            return name(e.args[0])
        if isinstance(e, Add):
            return self.tmp(" + ".join(self.diag_vector(t, name) for t in e.args))
        parts = ([_literal(e.coeff)] if e.coeff != 1 else []) + [name(s) for s in e.scalars]
        parts += [self.diag_vector(f, name) for f in e.chain]
        return self.tmp(" * ".join(parts))

    def is_diagonal(self, e: Expr) -> bool:
        if isinstance(e, Diag):
            return True
        if isinstance(e, Add):
            return all(self.is_diagonal(t) for t in e.args)
        if isinstance(e, Mul):
            return bool(e.chain) and all(self.is_diagonal(f) for f in e.chain)
        return False

    def product(self, e: Mul, name) -> str:
        parts = ([_literal(e.coeff)] if e.coeff not in (1, -1) else []) + [name(s) for s in e.scalars]
        if e.chain:
            if len(e.chain) == 1 and not self.is_diagonal(e.chain[0]):
                parts.append(name(e.chain[0]))
            else:
                fs = [self.factor(f, name) for f in e.chain]
                dense = [f for f in fs if f.kind == "dense"]
                smallest = min(dense, key=lambda f: _size(f.shape), default=None)
                if parts and smallest is not None and _size(smallest.shape) < _size(e.shape):
                    # 2 (g xᵀ) as (2 g) xᵀ: the numbers scale the smallest factor, not the product
                    scaled = _Factor("dense", smallest.shape, code=self.tmp(" * ".join(parts + [smallest.code])))
                    fs[fs.index(smallest)] = scaled
                    parts = []
                parts.append(self.chain(fs, name))
        if e.coeff == -1:   # -1 * t written as -t
            return "-" + " * ".join(parts) if parts else "-1.0"
        return " * ".join(parts) if parts else "1.0"

    def factor(self, f: Expr, name) -> "_Factor":
        if self.is_diagonal(f):
            return _Factor("diag", f.shape, vec=self.diag_vector(f, name))
        if isinstance(f, Ones) or isinstance(f, Transpose) and isinstance(f.args[0], Ones):
            return _Factor("ones", f.shape, node=f)
        if isinstance(f, Transpose):
            base = name(f.args[0])
            return _Factor("dense", f.shape, code=f"{base}.T", tbase=base)
        if isinstance(f, Add):
            return _Factor("sum", f.shape, node=f)
        if isinstance(f, Kron):
            return _Factor("kron", f.shape, node=f)
        if isinstance(f, Commutation):
            return _Factor("commutation", f.shape, node=f)
        if isinstance(f, Identity):
            return _Factor("identity", f.shape, node=f)
        return _Factor("dense", f.shape, code=name(f))

    def dense(self, f: "_Factor", name) -> "_Factor":
        if f.kind in ("sum", "kron", "commutation", "identity", "ones"):
            return _Factor("dense", f.shape, code=name(f.node))
        if f.kind == "diag":
            return _Factor("dense", f.shape, code=self.tmp(self.b["diag"].format(x=f.vec)))
        return f

    def chain(self, fs: list, name) -> str:
        """The product of the factors: identities left out, diagonals applied as broadcasts, in the
        cheapest order."""
        fs = [f for f in fs if f.kind != "identity"] or fs[:1]
        # diagonals: multiplied into a neighbour (diag(d) X = d * X, X diag(d) = X * d^T)
        out: list = []
        for f in fs:
            if f.kind == "diag" and out and out[-1].kind == "diag":
                out[-1] = _Factor("diag", f.shape, vec=self.tmp(f"{out[-1].vec} * {f.vec}"))
            else:
                out.append(f)
        fs, out = out, []
        i = 0
        while i < len(fs):
            f = fs[i]
            if f.kind != "diag":
                out.append(f)
                i += 1
                continue
            left = out[-1] if out else None
            right = fs[i + 1] if i + 1 < len(fs) else None
            if left is None and right is None:
                out.append(self.dense(f, name))
            elif right is not None and (left is None or _size(right.shape) <= _size(left.shape)):
                r = self.dense(right, name)
                out.append(_Factor("dense", r.shape, code=self.tmp(f"{f.vec} * {r.code}")))
                i += 1
            else:
                l_ = self.dense(left, name)
                out[-1] = _Factor("dense", l_.shape, code=self.tmp(f"{l_.code} * {f.vec}.T"))
            i += 1
        return self.ordered(out, name)

    def ordered(self, fs: list, name) -> str:
        if len(fs) == 1:
            return self.dense(fs[0], name).code
        rows, cols = fs[0].shape[0], fs[-1].shape[1]
        if cols == 1:     # a column (or a number) at the end: right to left, every product a vector
            acc = fs[-1] if fs[-1].kind == "ones" else self.dense(fs[-1], name)
            for f in reversed(fs[:-1]):
                acc = self.times(f, acc, name)
            return acc.code
        if rows == 1:     # a row at the start: left to right
            acc = fs[0] if fs[0].kind == "ones" else self.dense(fs[0], name)
            for f in fs[1:]:
                acc = self.times(acc, f, name)
            return acc.code
        fs = [self.dense(f, name) for f in fs]
        return self.matrix_chain(fs).code

    def times(self, a: "_Factor", b: "_Factor", name) -> "_Factor":
        """a @ b where one side is a vector: a sum on the other side distributed over it
        ((A + B) v = A v + B v: no matrix sum is formed)."""
        shape = (a.shape[0], b.shape[1])
        for side, f in (("left", a), ("right", b)):
            if f.kind == "sum":
                terms = []
                for t in f.node.args:
                    tf = self.term_factors(t, name)
                    scal, factors = tf
                    fs = factors + [b] if side == "left" else [a] + factors
                    code = self.chain(fs, name) if len(fs) > 1 else self.dense(fs[0], name).code
                    negative = scal[:1] == ["-1.0"]
                    terms.append(("-" if negative else "+", " * ".join(scal[negative:] + [code])))
                code = ("-" if terms[0][0] == "-" else "") + terms[0][1]
                code += "".join(f" {sign} {c}" for sign, c in terms[1:])
                return _Factor("dense", shape, code=self.tmp(code))
        if a.kind == "kron" and b.shape[1] == 1:
            return self.kron_vec(a.node, self.dense(b, name), name)
        if a.kind == "commutation" and b.shape[1] == 1:   # K_{mn} vec(V) = vec(Vᵀ): no permutation matrix
            m, n = (self.dim(d) for d in a.node.dims)
            v = self.dense(b, name)
            return _Factor("dense", shape, code=self.tmp(f'{v.code}.reshape({m}, {n}, order="F").T.reshape(-1, 1, order="F")'))
        if a.kind == "ones" and a.shape[0] == 1 or b.kind == "ones" and b.shape[1] == 1:
            # 𝟏ᵀB: the sums of B's columns; A𝟏: the sums of A's rows (no array of ones)
            other, axis = (self.dense(b, name), 0) if a.kind == "ones" and a.shape[0] == 1 else (self.dense(a, name), 1)
            keep = "dim={}, keepdim=True" if self.backend == "torch" else "axis={}, keepdims=True"
            return _Factor("dense", shape, code=self.tmp(f"{other.code}.sum({keep.format(axis)})"))
        a, b = self.dense(a, name), self.dense(b, name)
        return self.pair(a, b)

    def kron_vec(self, k: Kron, v: "_Factor", name) -> "_Factor":
        """(P ⊗ Q) vec(V) as vec(Q V Pᵀ): no Kronecker product is formed."""
        p, q = k.args
        cols = f"{self.dim(q.shape[1])}, {self.dim(p.shape[1])}"
        mat = self.tmp(f'{v.code}.reshape({cols}, order="F")')
        left = mat if isinstance(q, Identity) else self.tmp(f"{name(q)} @ {mat}")
        right = left if isinstance(p, Identity) else self.tmp(f"{left} @ {name(p)}.T")
        return _Factor("dense", k.shape[:1] + (1,), code=self.tmp(f'{right}.reshape(-1, 1, order="F")'))

    def term_factors(self, t: Expr, name):
        """A term of a sum as (scalar codes, chain factors)."""
        if isinstance(t, Mul) and t.chain:
            scal = ([_literal(t.coeff)] if t.coeff != 1 else []) + [name(s) for s in t.scalars]
            return scal, [self.factor(f, name) for f in t.chain]
        return [], [self.factor(t, name)]

    def pair(self, a: "_Factor", b: "_Factor") -> "_Factor":
        shape = (a.shape[0], b.shape[1])
        if a.tbase is not None and b.shape[1] == 1 and a.shape[0] != 1:
            # A^T v as (v^T A)^T: one BLAS call on A as it is stored
            return _Factor("dense", shape, code=self.tmp(f"({b.code}.T @ {a.tbase}).T", key=(a.code, b.code)))
        if b.tbase is not None and a.shape[0] == 1 and b.shape[1] != 1:
            return _Factor("dense", shape, code=self.tmp(f"({b.tbase} @ {a.code}.T).T", key=(a.code, b.code)))
        return _Factor("dense", shape, code=self.tmp(f"{a.code} @ {b.code}", key=(a.code, b.code)))

    def matrix_chain(self, fs: list) -> "_Factor":
        """The classic matrix-chain order over the shapes (a named dimension counted as large,
        a product already computed as free)."""
        n = len(fs)
        dims = [_size_dim(fs[0].shape[0])] + [_size_dim(f.shape[1]) for f in fs]
        cost = {(i, i): 0 for i in range(n)}
        split = {}
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                j = i + length - 1
                best = None
                for k in range(j - 1, i - 1, -1):
                    c = cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1]
                    if best is None or c < best:
                        best, split[i, j] = c, k
                cost[i, j] = best

        def build(i, j):
            if i == j:
                return fs[i]
            k = split[i, j]
            return self.pair(build(i, k), build(k + 1, j))
        return build(0, n - 1)

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
        if isinstance(e, Kron):
            return f"{m}.kron({a[0]}, {a[1]})"
        if isinstance(e, Commutation):   # the rows of I_{mn} in the order of vec(Aᵀ): row i·n + j is e_{i + m·j}
            p, q = (self.dim(d) for d in e.dims)
            mn = f"{p} * {q}"
            return f"{b['eye'].format(n=mn)}.reshape({q}, {p}, {mn}).swapaxes(0, 1).reshape({mn}, {mn})"
        if isinstance(e, Diag):
            return b["diag"].format(x=a[0])
        if isinstance(e, DiagonalOf):
            return f"{m}.diagonal({a[0]}).reshape(-1, 1)"
        if isinstance(e, Vec) and self.backend != "torch":
            return f'{a[0]}.reshape(-1, 1, order="F")'
        if isinstance(e, Entry):
            i, j = e.index
            return f"{a[0]}[{i}:{i + 1}, {j}:{j + 1}]"
        if isinstance(e, Stack):
            cat, axis = ("torch.cat", "dim") if self.backend == "torch" else (f"{m}.concatenate", "axis")
            cols = e.shape[1]
            rows = [f"{cat}([{', '.join(a[r * cols:(r + 1) * cols])}], {axis}=1)" for r in range(e.shape[0])]
            return f"{cat}([{', '.join(rows)}], {axis}=0)"
        if isinstance(e, Basis):
            rows, cols = e.shape
            return f"{b['eye'].format(n=rows * cols)}[{e.index[0] * cols + e.index[1]}].reshape({rows}, {cols})"
        out = linalg_code(self, e, a)   # matrix functions, eigen- and singular values, the ∞-norm
        if out is not None:
            return out
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


class _Factor:
    """One factor of a product: a dense array (``code``, and ``tbase`` when it is the transpose
    of the array ``tbase``), a diagonal matrix kept as its vector ``vec``, or a sum ``node``
    that may be distributed over a vector."""
    __slots__ = ("kind", "shape", "code", "vec", "node", "tbase")

    def __init__(self, kind, shape, code=None, vec=None, node=None, tbase=None):
        self.kind, self.shape, self.code, self.vec, self.node, self.tbase = kind, shape, code, vec, node, tbase


LARGE = 1000   # a named dimension's size when choosing the order of a product


def _size_dim(d) -> int:
    if isinstance(d, int):
        return d
    out = 1
    for f in str(d).split("*"):
        out *= int(f) if f.isdigit() else LARGE
    return out


def _size(shape) -> int:
    return _size_dim(shape[0]) * _size_dim(shape[1])


def _literal(v: Fraction) -> str:
    return repr(float(v)) if v.denominator != 1 else f"{v.numerator}.0"


def function_source(d, backend: str = "numpy", name: str = "f_and_derivative") -> str:
    """Source of ``name(<symbols>) -> (value, derivative)`` for a Derivation ``d``; with several
    variables (``\\nabla_{W,b}``) the variables come first and it returns
    ``(value, (derivative by W, derivative by b))``, in the cell's order."""
    from .errors import DerivError
    from .rules.abstract import FunctionApply
    if d.answer.kind == "value":
        raise DerivError("no code for a line of values: it takes no derivative of its own (export the cell that "
                         "states the derivative, e.g. D f(x)[v] = …)")
    arbitrary = sorted({n.name for n in postorder(d.answer.function) if isinstance(n, FunctionApply)})
    if arbitrary:
        raise DerivError(f"no code for a result with the arbitrary function(s) {', '.join(arbitrary)}: "
                         "define them (f(x) = …) to export code")
    check_exportable([d.answer.function] + [a.result for a in _answers(d)])
    from . import limits
    with limits.within(getattr(d, "cell", None)):
        return _function_source(d, backend, name)


_KINDS = {"multilinear": "derivative of higher order"}


def _by(answer) -> str:
    """The variable (or, for a mixed derivative, the variables in order) a derivative is by."""
    return ", ".join(dict.fromkeys(v.name for v, _ in answer.passes)) or answer.var.name


def _answers(d) -> list:
    """One answer per variable (``\\nabla_{W,b}`` has two)."""
    return list(getattr(d, "answers", None) or [d.answer])


def _gradient_shaped(answer) -> bool:
    return answer.result.shape == answer.var.shape and answer.kind == "gradient"


def _function_source(d, backend: str, name: str) -> str:
    em = Emitter(backend)
    answers = _answers(d)
    answer = answers[0]
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
    from .labels import exported_doc
    labels = exported_doc(symbols, params)
    if len(answers) == 1:
        lines = [f"def {name}({', '.join(params + size_params)}):",
                 f'    """{_KINDS.get(answer.kind, answer.kind)} of the cell\'s function by {_doc(_by(answer))}: '
                 f'returns (value, derivative).',
                 f'    Vectors may be 1-D or columns; the derivative is {_doc(answer.description)}.{labels}"""']
    else:
        by = ", ".join(_doc(a.var.name) for a in answers)
        lines = [f"def {name}({', '.join(params + size_params)}):",
                 f'    """{answer.kind}s of the cell\'s function by {by}: returns (value, (derivative by '
                 + ", derivative by ".join(_doc(a.var.name) for a in answers) + ")),",
                 "    one derivative per variable, in that order. Vectors may be 1-D or columns; the derivatives are "
                 + "; ".join(_doc(a.description) for a in answers) + f'.{labels}"""']
    body: list[str] = []
    for s, p in zip(symbols, params):
        body.append(f"    {p} = {em.b['asarray'].format(x=p)}" + _reshape(s))
    for dim, p in zip(sizes, size_params):
        body.append(f"    {p} = int({p})")
    em.lines = []
    value, *derivs = em.emit_all([answer.function] + [a.result for a in answers])
    body.extend(em.lines)
    value = f"{value}.reshape(())" if answer.function.is_scalar else value
    outs = []
    for k, (a, deriv) in enumerate(zip(answers, derivs)):
        if _gradient_shaped(a):
            var = em.symbols[a.var.name]
            shape_name = em.namer.fresh(f"{var}_shape")
            body.insert(k, f"    {shape_name} = {em.b['shape'].format(x=var)}")
            deriv = f"{deriv}.reshape({shape_name})"
        elif a.kind == "multilinear" and a.result.is_scalar:
            deriv = f"{deriv}.reshape(())"
        outs.append(deriv)
    if len(answers) == 1:
        body.append(f"    return {value}, {outs[0]}")
    else:
        body.append(f"    return {value}, ({', '.join(outs)})")
    return "\n".join(_preamble(em, body) + ["", *lines, *body]) + "\n"


def _preamble(em: Emitter, body: list) -> list:
    """The imports and helper functions the body uses."""
    preamble = [em.b["import"], ""]
    source = "\n".join(body)
    imports, helpers = linalg_preamble(em, source)
    preamble[1:1] = imports
    preamble += helpers
    if "_softmax_parts(" in source:
        m = em.b["m"]
        preamble += ["", "def _softmax_parts(z):", "    \"\"\"z - max z, its exponentials and their sum.\"\"\"",
                     f"    shifted = z - {em.b['max']}(z)", f"    e = {m}.exp(shifted)", "    return shifted, e, e.sum()",
                     ""]
    return preamble


def planned(roots: list, symbols: list, sizes: dict):
    """The export plan of ``roots`` at fixed ``sizes`` (every dimension a number), for the numeric
    check: ``(program.Function, parameter names)``; the function takes the symbols' 2-D arrays,
    in the order of ``symbols``, and returns a tuple of the roots' arrays. Raises
    ``NotImplementedError``, ``KeyError`` or ``program.PlanError`` for what the plan cannot write
    (an arbitrary function, a dimension without a size)."""
    from .program import Program
    em = Emitter("numpy")
    name = "planned"
    em.namer.taken.add(name)
    params = [em.namer.fresh(s.name) for s in symbols]
    em.symbols = {s.name: p for s, p in zip(symbols, params)}
    em.dims = {d: str(int(n)) for d, n in sizes.items()}
    outs = em.emit_all(list(roots))
    body = em.lines + [f"    return ({', '.join(outs)},)"]
    source = "\n".join(_preamble(em, body) + ["", f"def {name}({', '.join(params)}):", *body]) + "\n"
    return Program(source)[name]


def _doc(text: str) -> str:
    """Text for the docstring: no backslash or quote of the cell's can end it early."""
    return "".join(c if c.isprintable() and c not in "\\\"" else "?" for c in text)[:200]


def size_parameters(d, symbols) -> list[str]:
    """The dimensions of the function and its derivative that no argument's shape gives
    (``a - a`` with ``a ∈ ℝᵏ`` is a zero vector of k entries, whatever the variable): the
    generated function takes them as integers after the arrays."""
    have = {dim for s in symbols for dim in s.shape if isinstance(dim, str)}
    need: dict[str, None] = {}
    for root in [d.answer.function] + [a.result for a in _answers(d)]:
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
    answers = _answers(d)
    free = answers[0].function.free.union(*(a.result.free for a in answers))
    symbols = [s for s in d.reading.symbols.values() if s in free]
    variables = list(dict.fromkeys(v for v, _ in answers[0].passes)) or [a.var for a in answers]
    for k, var in enumerate(variables):   # the variables first, in the order of the cell
        if var in symbols:
            symbols.remove(var)
        symbols.insert(k, var)
    for _, direction in answers[0].passes:   # a multilinear form: then the directions it is written in
        if isinstance(direction, Sym) and direction not in symbols and direction in answers[0].result.free:
            symbols.append(direction)
    return symbols


def to_function(d, backend: str = "numpy"):
    """A NumPy function ``(arrays...) -> (value, derivative)`` (``(value, (derivative, ...))``,
    one per variable in the cell's order, for ``\\nabla_{W,b}``) that runs the code of
    ``to_source("numpy")``, the same plan, statement by statement (``program.Program``: the source
    is read, never compiled). Its parameters are named as in that source, the variables first
    (``inspect.signature`` shows them; keywords work); ``.parameters`` holds the cell's names of
    the symbols and sizes, ``.sizes`` the sizes, ``.source`` the code, and
    ``function_source(d, "jax" | "torch")`` the code for those libraries."""
    if backend != "numpy":
        raise ValueError(f"to_function builds NumPy functions; for {backend}, use to_source({backend!r})")
    import inspect
    from .program import Program
    name = "f_and_derivative"
    source = function_source(d, "numpy", name)
    program = Program(source)
    planned = program[name]
    symbols = parameters(d)
    extra = size_parameters(d, symbols)
    signature = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                   for p in planned.params])

    count = len(planned.params)

    def f_and_derivative(*args, **kwargs):
        if not kwargs and len(args) == count:
            return planned.run(args)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}({', '.join(planned.params)}): {exc}") from None
        return planned.run(list(bound.args))

    f_and_derivative.__signature__ = signature
    f_and_derivative.__doc__ = planned.doc
    f_and_derivative.parameters = [s.name for s in symbols] + extra
    f_and_derivative.sizes = extra
    f_and_derivative.source = source
    return f_and_derivative
