"""The numeric check: concrete sizes (distinct per dimension, so a transposition cannot
hide), random values that respect declarations and domains, and central finite
differences along a few random directions (O(1) evaluations, whatever the size).

Sizes are checked before anything is allocated (``LIMITS['check_entries']``), every
evaluation counts as work (its nodes and the numbers it computes), and NumPy's warnings
never leave the check: a value that overflows is sampled again at a smaller scale (square
matrices scaled to spectral radius 1, then every symbol scaled down), and the check says
so; only a function not finite at any of them is reported "not finite".

At scale the check is matrix-free: a large evaluation runs the export plan (``PLAN_ABOVE``), so
a Hessian is probed as wᵀHv without forming H, a Kronecker product is applied to vec V, and
log det is ``slogdet``; inputs of more than ``DRAW_ONCE_ABOVE`` numbers are drawn once per check."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import structure
from .errors import DerivError
from .expr import Expr, Identity, Num, Ones, Sym, Zero, postorder
from .limits import LIMITS, check_entries, scoped, tick
from .rules import Det, Func, Inverse, MatLog, MatSqrt, Pow, mul, transpose

SIZES = [3, 4, 5, 2, 6, 7, 8, 9, 10, 11, 12, 13]
TOLERANCE = 1e-6         # first derivatives: central differences with h = 1e-6
TOLERANCE_SECOND = 1e-4  # Hessians: second differences with h = 1e-4
PROBES = 3


@dataclass
class Check:
    passed: bool
    max_error: float
    dims: dict
    probes: int = 0
    message: str = ""
    details: list = field(default_factory=list)
    note: str = ""        # how the values were sampled, when not as usual (scaled down to stay finite)

    def __bool__(self):
        return self.passed

    @property
    def summary(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in sorted(self.dims.items()))
        mark = "✓" if self.passed else "✗"
        if self.message and not self.passed:
            return f"{mark} unverified: {self.message}"
        note = f" ({self.note})" if self.note else ""
        return (f"{mark} finite differences at random points ({sizes or 'scalars'}; {self.probes} probes): "
                f"max error {self.max_error:.1e}{note}")


def choose_sizes(dim_names, fixed=(), overrides=None, reverse: bool = False) -> dict:
    overrides = dict(overrides or {})
    taken = {int(v) for v in fixed} | set(overrides.values())
    pool = [s for s in SIZES if s not in taken] + [s for s in SIZES if s in taken]
    out = {}
    for name in sorted(dim_names, reverse=reverse):
        out[name] = overrides[name] if name in overrides else pool.pop(0) if pool else 3
    return out


def concrete(shape, sizes) -> tuple[int, int]:
    return tuple(_size(d, sizes) for d in shape)


def _size(d, sizes) -> int:
    if isinstance(d, int):
        return d
    out = 1
    for factor in d.split("*"):  # a product of dimensions, as Kronecker products have
        out *= int(factor) if factor.isdigit() else sizes[factor]
    return out


def entries(order, sizes: dict) -> int:
    """How many numbers the arrays of these nodes hold at ``sizes`` (dimensions without a size
    count as 1)."""
    total = 0
    for node in order:
        r, c = (_size_or_one(d, sizes) for d in node.shape)
        total += r * c
    return total


# NumPy's arithmetic per unit of work (a unit is about a microsecond of the engine): entries of
# elementwise operations, and the much faster multiply-adds of products and factorizations
ENTRIES_PER_UNIT = 1024
MULTIPLY_ADDS_PER_UNIT = 16384
# operations of about n³ multiply-adds on n×n (n the largest dimension of their arguments), and how
# many times n³: a determinant is one LU (n³/3); an eigen- or singular value decomposition, a Schur
# form (the square root, the logarithm, a Sylvester equation) about ten n³; a Fréchet derivative of
# e^X ten exponentials; of log X the logarithm of a 2n×2n matrix (eight times n³, times ten)
_CUBIC = {"Inverse": 1, "Det": Fraction(1, 3), "MatExp": 1, "Softmax": 1, "ExpFrechet": 10,
          "MatSqrt": 10, "SqrtFrechet": 10, "MatLog": 10, "LogFrechet": 80,
          "Eigenvalue": 10, "Eigenvector": 10, "SingularValue": 10, "SingularVector": 10, "NuclearNorm": 10,
          "SVDPolar": 10, "PseudoInverse": 10}


def cost(order, sizes: dict) -> int:
    """Units of work of evaluating these nodes at ``sizes``: a product of a chain r×k·k×c costs
    r·k·c multiply-adds, an operation of ``_CUBIC`` its multiple of n³, anything else its entries."""
    dense = elementwise = 0
    for node in order:
        r, c = (_size_or_one(d, sizes) for d in node.shape)
        name = type(node).__name__
        if name == "Mul" and len(node.args) > 1:
            shapes = [tuple(_size_or_one(d, sizes) for d in a.shape) for a in node.args]
            rows = shapes[0][0]
            for (_, k), (_, c2) in zip(shapes, shapes[1:]):
                dense += rows * k * c2
        elif name in _CUBIC:
            n = max(_size_or_one(d, sizes) for a in node.args for d in a.shape)
            dense += int(n ** 3 * _CUBIC[name])
        elementwise += r * c
    return dense // MULTIPLY_ADDS_PER_UNIT + elementwise // ENTRIES_PER_UNIT


def sampling_cost(symbols, sizes: dict, kinds: dict | None = None) -> int:
    """Units of work of drawing values: each entry, and for a square matrix with a domain the
    factorizations that give it (m mᵀ: n³; a determinant: n³/3; a symmetric one's eigenvalues
    and the product back: a few n³)."""
    dense = elementwise = 0
    for s in symbols:
        r, c = (_size_or_one(d, sizes) for d in s.shape)
        elementwise += r * c
        kind = (kinds or {}).get(s.name)
        if r == c and r > 1 and ("spd" in s.props or kind == "spd"):
            dense += r ** 3
        elif r == c and r > 1 and kind == "posdet":
            dense += (4 * r ** 3) if s.symmetric else r ** 3 // 3
    return dense // MULTIPLY_ADDS_PER_UNIT + elementwise // ENTRIES_PER_UNIT


def _size_or_one(d, sizes) -> int:
    try:
        return max(1, _size(d, sizes))
    except (KeyError, ValueError):
        return 1


def _where(sizes: dict) -> str:
    return (" at " + ", ".join(f"{k}={v:,}" for k, v in sorted(sizes.items()))) if sizes else ""


# above this much work (in units) an expression is evaluated by the export plan (codegen.planned):
# products in the cheapest order, diagonals as broadcasts, sums distributed over vectors, Kronecker
# products applied as vec(Q V Pᵀ), log det by slogdet; below it, node by node
PLAN_ABOVE = 64


def evaluate(root: Expr, env: dict, sizes: dict, memo: dict | None = None) -> np.ndarray:
    """Numbers for an expression: ``env`` maps symbol names to 2-D arrays. The arrays it needs
    are counted before any is allocated (``LIMITS['check_entries']``), and count as work. An
    expression whose arrays would be large is evaluated by its export plan (``PLAN_ABOVE``), which
    counts each step before it runs and never forms what the plan does not need (an n×n Hessian
    paired with two vectors, a Kronecker product applied to vec V, a determinant under a log)."""
    vals = memo if memo is not None else {}
    order = postorder(root)
    todo = [n for n in order if n not in vals]
    numbers, units = entries(todo, sizes), cost(todo, sizes)
    if memo is None and (units > PLAN_ABOVE or numbers > (LIMITS["check_entries"] or numbers)):
        run = _plan(root, sizes)
        if run is not None:
            from .program import PlanError, Tally
            fn, symbols = run
            tick(len(order))
            try:
                return fn.run([env[s.name] for s in symbols], Tally("evaluating this expression" + _where(sizes)))[0]
            except PlanError:   # a plan the runner cannot follow: the trees, as below
                pass
    check_entries(numbers, "evaluating this expression" + _where(sizes))
    tick(len(order) + units)   # before any array is allocated
    for node in order:
        if node in vals:
            continue
        if isinstance(node, Sym):
            v = env[node.name]
        elif isinstance(node, Identity):
            v = np.eye(concrete(node.shape, sizes)[0])
        elif isinstance(node, Ones):
            v = np.ones(concrete(node.shape, sizes))
        elif isinstance(node, Zero):
            v = np.zeros(concrete(node.shape, sizes))
        elif isinstance(node, Num):
            v = node.evaluate([])
        elif getattr(node, "sized", False):   # a value whose size is a named dimension (f(x) ∈ ℝᵐ)
            v = node.evaluate([vals[a] for a in node.args], sizes)
        else:
            v = node.evaluate([vals[a] for a in node.args])
        vals[node] = v
    return vals[root]


def _plan(root: Expr, sizes: dict):
    """The export plan of ``root`` at ``sizes`` and the symbols it takes, or None where the plan
    cannot be written (an arbitrary function, a size given by the evaluation); kept for the cell."""
    from .codegen import planned
    from .program import PlanError
    memo = scoped("check-plans")
    key = (root, tuple(sorted(sizes.items())))
    if memo is not None and key in memo:
        return memo[key]
    symbols = sorted(root.free, key=lambda s: s.name)
    try:
        out = (planned([root], symbols, sizes), symbols)
    except (NotImplementedError, KeyError, PlanError):
        out = None
    if memo is not None:
        memo[key] = out
    return out


def domains(root: Expr) -> dict[str, str]:
    """How to sample each symbol so the function is defined, and nothing more: positive under
    log and roots, nonzero under a negative power, a positive determinant under log det,
    invertible under an inverse, symmetric positive definite under a matrix square root or logarithm
    (X^{1/2}, log X: defined where X has no eigenvalue in (−∞, 0]). Symmetry comes only from a declaration (``\\mathbb{S}^n``,
    ``\\mathbb{S}^n_{++}``), never from a domain: ``log det A`` alone does not make A symmetric.
    Where a domain is a condition on a compound (``log det(A + B)``, ``log(aᵀx)``), the symbols are
    sampled as usual and a sample outside the domain is drawn again (``sample_env``)."""
    out: dict[str, str] = {}
    spd: set[str] = set()
    for node in postorder(root):
        arg = node.args[0] if node.args else None
        if isinstance(node, Func) and node.spec.positive_domain or isinstance(node, Pow) and node.exponent.denominator != 1:
            if isinstance(arg, Sym):
                out.setdefault(arg.name, "positive")
            elif isinstance(arg, Det):  # log det M: det M > 0 (each square part with a positive determinant)
                for s in arg.args[0].free:
                    if s.shape[0] == s.shape[1] and s.shape != (1, 1):
                        out[s.name] = "posdet"
        if isinstance(node, Pow) and node.exponent < 0 and isinstance(arg, Sym):
            out.setdefault(arg.name, "nonzero")
        if isinstance(node, (Inverse, Det)) and isinstance(arg, Sym):
            out.setdefault(arg.name, "invertible")
        if isinstance(node, (MatSqrt, MatLog)) and isinstance(arg, Sym):
            spd.add(arg.name)
    out.update(dict.fromkeys(spd, "spd"))   # the principal root and logarithm: X drawn positive definite
    return out


def sample(sym: Sym, sizes: dict, kind: str | None, rng) -> np.ndarray:
    """Random values for one symbol: from its declaration (symmetric, positive definite) and the
    domain ``kind`` of ``domains()``."""
    r, c = concrete(sym.shape, sizes)
    given = structure.sample(sym, r, c, rng)
    if given is not None:   # a probability or one-hot vector, as declared
        return given
    m = rng.standard_normal((r, c))
    if "spd" in sym.props or kind == "spd":
        return m @ m.T + r * np.eye(r)
    if sym.symmetric:
        m = (m + m.T) / 2
    if kind == "positive":
        return np.abs(m) + 0.5
    if kind == "nonzero":
        return np.where(m < 0, -1.0, 1.0) * (np.abs(m) + 0.5)
    if kind == "posdet" and r == c:
        if sym.symmetric:
            return positive_determinant(m, True)
        # m + 3√r I: m's eigenvalues lie within about √r of 0 and its norm is about 2√r, so the
        # eigenvalues have positive real parts (det > 0) and the singular values lie between about
        # √r and 5√r: well conditioned, not symmetric, and no factorization beyond one determinant
        return positive_determinant(m + 3 * np.sqrt(r) * np.eye(r))
    if kind == "invertible" and r == c:
        return m + 3 * np.eye(r)
    return m


def positive_determinant(m: np.ndarray, symmetric: bool = False) -> np.ndarray:
    """``m`` with its determinant made positive without imposing anything else: a row's sign
    flipped (or, for a symmetric matrix, one negative eigenvalue's sign)."""
    m = np.array(m, dtype=float)
    if m.size == 0 or (np.linalg.slogdet(m)[0] > 0 and not symmetric):   # the sign, never overflowing
        return m
    if symmetric:  # eigenvalues kept away from 0; an odd count of negative ones: one flipped (definite or not)
        lam, q = np.linalg.eigh(m)
        lam = np.where(lam < 0, -1.0, 1.0) * np.maximum(np.abs(lam), 0.5)
        neg = np.flatnonzero(lam < 0)
        if neg.size % 2:
            lam[neg[np.argmin(np.abs(lam[neg]))]] *= -1
        out = (q * lam) @ q.T
        return (out + out.T) / 2
    m[0] = -m[0]
    if np.linalg.slogdet(m)[0] <= 0:  # singular: move away from it
        m = m + np.eye(len(m))
        return positive_determinant(m) if np.linalg.slogdet(m)[0] != 0 else np.eye(len(m))
    return m


DOMAIN_TRIES = 20


def defined_at(exprs, env: dict, sizes: dict) -> bool:
    """Whether every expression evaluates to finite numbers at ``env``."""
    try:
        with np.errstate(all="ignore"):
            return all(np.all(np.isfinite(evaluate(e, env, sizes))) for e in exprs)
    except DerivError:
        raise
    except (np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError, OverflowError):
        return False


def sample_env(symbols, sizes, kinds, rng, defined=(), sampler=None, tries: int = DOMAIN_TRIES) -> dict:
    """Values for every symbol; with ``defined``, drawn again (a few times) until those expressions
    are finite there, so a domain on a compound (``det(A + B) > 0``) is met without biasing the symbols."""
    sampler = sampler or sample
    env = {}
    units = sampling_cost(symbols, sizes, kinds)
    for _ in range(max(1, tries)):
        tick(len(symbols) + units)   # before the values are drawn (a QR of n×n is n³)
        env = {s.name: sampler(s, sizes, kinds.get(s.name), rng) for s in symbols}
        if not defined or defined_at(defined, env, sizes):
            return env
    return env


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        return float("inf")
    return float(np.max(np.abs(got - want)) / (1.0 + np.max(np.abs(want)))) if want.size else 0.0


def directional_fd(f: Expr, var: Sym, env: dict, sizes: dict, v: np.ndarray, h: float = 1e-6) -> np.ndarray:
    plus, minus = dict(env), dict(env)
    plus[var.name] = env[var.name] + h * v
    minus[var.name] = env[var.name] - h * v
    return (evaluate(f, plus, sizes) - evaluate(f, minus, sizes)) / (2 * h)


def second_fd(f: Expr, var: Sym, env: dict, sizes: dict, v, w, h: float = 1e-4) -> float:
    def at(a, b):
        e = dict(env)
        e[var.name] = env[var.name] + a * h * v + b * h * w
        return evaluate(f, e, sizes)
    return (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)


# the two directions of a Hessian probe, as symbols no cell can name
_W, _V = "·w", "·v"


def hessian_pairing(H: Expr, env: dict, sizes: dict, w: np.ndarray, v: np.ndarray):
    """wᵀ H v, evaluated as one expression: at scale, by its plan, a Hessian-vector product
    (``diag(s) - s sᵀ`` applied to v is O(n); the n×n matrix is never formed)."""
    if H.is_scalar:
        return evaluate(H, env, sizes) * v * w
    if w.shape[1] != 1 or H.shape[0] != H.shape[1]:
        return w.T @ evaluate(H, env, sizes) @ v
    ws, vs = Sym(_W, (H.shape[0], 1)), Sym(_V, (H.shape[1], 1))
    env = dict(env)
    env[_W], env[_V] = w, v
    return evaluate(mul(transpose(ws), H, vs), env, sizes)


def unit_direction(shape, rng, symmetric=False) -> np.ndarray:
    v = rng.standard_normal(shape)
    if symmetric:
        v = (v + v.T) / 2
    return v / max(np.linalg.norm(v), 1e-12)


def valid_dims(dims: dict | None) -> dict:
    """``dims`` as given to ``derive``: every size a positive integer (a size of 0 would make a
    vacuous check)."""
    out = {}
    for name, value in (dims or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DerivError(f"dims: the size {name} = {value!r} is not a positive integer (sizes are at least 1)")
        out[str(name)] = int(value)
    return out


def verify(answer, reading, seed: int = 0, dims: dict | None = None) -> Check:
    """The numeric check of one answer. Sizes are distinct per dimension; when the function
    cannot be evaluated at one assignment of sizes (``det(XᵀX)`` with X wide is singular),
    the sizes are tried in the other order before the check is declared impossible.
    NumPy's warnings (overflow, invalid values) are the check's to report, never the caller's."""
    dims = valid_dims(dims)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _verify_sizes(answer, reading, seed, dims)


def _verify_sizes(answer, reading, seed: int, dims: dict) -> Check:
    fixed = [d for s in reading.symbols.values() for d in s.shape if isinstance(d, int) and d > 1]
    first = None
    for reverse in (False, True):
        verdict = _verify(answer, reading, choose_sizes(reading.dims, fixed, dims, reverse), seed)
        if verdict.passed or not verdict.message:
            return verdict
        first = first or verdict
        if dims or len(reading.dims) < 2:
            break
    return first


# how values are sampled, in turn, while the function or the error is not finite at them
SCALES = [
    ("", None),
    ("square matrices scaled to spectral radius 1, as unscaled the values overflow", "spectral"),
    ("square matrices scaled to spectral radius 1 and every value by 1/10, as larger values overflow", 0.1),
    ("square matrices scaled to spectral radius 1 and every value by 1/1000, as larger values overflow", 0.001),
]


def _scaled(sampler, how):
    """``sampler`` with its values made smaller: square matrices divided by their spectral radius
    (their powers stay bounded; definiteness and the sign of the determinant are kept), then
    every value multiplied by a factor."""
    if how is None:
        return sampler

    def scaled(sym, sizes, kind, rng):
        m = sampler(sym, sizes, kind, rng)
        if m.ndim == 2 and m.shape[0] == m.shape[1] and m.shape[0] > 1:
            radius = float(np.max(np.abs(np.linalg.eigvals(m)))) if np.all(np.isfinite(m)) else 0.0
            if radius > 0:
                m = m / radius
        if isinstance(how, float) and kind not in ("positive", "nonzero"):
            m = m * how
        return m
    return scaled


def _verify(answer, reading, sizes: dict, seed: int) -> Check:
    symbols = list(reading.symbols.values())
    check_entries(entries(symbols, sizes), "sampling the symbols" + _where(sizes))
    kinds = domains(answer.function)
    first = None
    for note, how in SCALES:
        verdict = _verify_at(answer, symbols, kinds, sizes, seed, _scaled(sample, how))
        if verdict.message != NOT_FINITE:
            if note and verdict.passed:
                verdict.note = note
            return verdict
        first = first or verdict
    return first


NOT_FINITE = "the function is not finite at a random point (check its domain)"
# values of more numbers than this in all are drawn once per check (a QR of 1000×1000 is about a
# second), and the probes differ by their directions; smaller ones are drawn again for each probe
DRAW_ONCE_ABOVE = 65_536


def _verify_at(answer, symbols, kinds, sizes: dict, seed: int, sampler) -> Check:
    rng = np.random.default_rng(seed)
    second = answer.kind == "hessian"
    tolerance, h = (TOLERANCE_SECOND, 1e-4) if second else (TOLERANCE, 1e-6)
    worst, passed, probes = 0.0, True, 0
    once = entries(symbols, sizes) > DRAW_ONCE_ABOVE
    env = None
    try:
        for _ in range(PROBES):
            if env is None or not once:
                env = sample_env(symbols, sizes, kinds, rng, defined=[answer.function], sampler=sampler)
                size_of_f = None
            err = probe(answer, env, sizes, rng)
            if not np.isfinite(err):
                return Check(False, float("inf"), sizes, probes, NOT_FINITE)
            # rounding in the differences themselves: about eps·|f|/h (eps·|f|/h² for Hessians)
            if size_of_f is None:
                size_of_f = float(np.max(np.abs(evaluate(answer.function, env, sizes))))
            if not np.isfinite(size_of_f):
                return Check(False, float("inf"), sizes, probes, NOT_FINITE)
            rounding = 50 * np.finfo(float).eps * size_of_f / (h * h if second else h)
            passed = passed and bool(err <= tolerance + rounding)
            worst, probes = max(worst, err), probes + 1
    except (np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError, OverflowError) as exc:
        if isinstance(exc, DerivError):
            raise
        return Check(False, float("inf"), sizes, probes, f"could not evaluate: {_short(exc)}")
    return Check(passed, worst, sizes, probes)


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def probe(answer, env: dict, sizes: dict, rng) -> float:
    """Error of the answer against finite differences along one random direction."""
    var = answer.var
    shape = concrete(var.shape, sizes)
    symmetric = var.symmetric
    with np.errstate(all="ignore"):
        v = unit_direction(shape, rng, symmetric)
        if answer.kind == "directional":
            env = dict(env)
            direction = answer.dsym
            if isinstance(direction, Sym) and direction != var:
                env[direction.name] = v if direction.shape == var.shape else v.T
            # a direction that is an expression (2v, Av, v + w) is evaluated at the sampled values
            d = np.asarray(evaluate(direction, env, sizes), dtype=float)
            if d.shape != shape and d.T.shape == shape:
                d = d.T
            pred = evaluate(answer.result, env, sizes)
            fd = directional_fd(answer.function, var, env, sizes, d.reshape(shape))
            return relative_error(pred, fd)
        if answer.kind == "multilinear":
            return multilinear_error(answer, env, sizes, rng)
        dsym_val = v if answer.dsym.shape == var.shape else v.T
        env = dict(env)
        env[answer.dsym.name] = dsym_val
        if answer.kind == "hessian":
            w = unit_direction(shape, rng)
            pred = hessian_pairing(answer.result, env, sizes, w, v)
            fd = second_fd(answer.function, var, env, sizes, v, w)
            return relative_error(np.asarray(pred).reshape(-1), np.asarray(fd).reshape(-1))
        pred = evaluate(answer.pairing, env, sizes)
        fd = directional_fd(answer.function, var, env, sizes, v)
        if answer.vectorized:
            fd = fd.reshape(-1, 1, order="F")
        elif fd.size == pred.size:
            fd = fd.reshape(pred.shape)
        err = relative_error(pred, fd)
        if getattr(answer, "convention", "") in ("sym", "cookbook"):
            # by a symmetric matrix: the pairing is the convention's defining relation (tr(Gᵀ V), or
            # Σ_{i≤j} C_ij V_ij for the Cookbook's C) along a symmetric V, and either gradient is symmetric
            g = np.asarray(evaluate(answer.result, env, sizes), dtype=float)
            err = max(err, relative_error(g.T, g))
        return err


def multilinear_error(answer, env: dict, sizes: dict, rng) -> float:
    """Every order of a multilinear form against finite differences of the order below it, along
    its direction (the directions drawn once and held); the form as shown, its matrix and its
    tensor in index notation against the form."""
    env, values = dict(env), []
    held = dict(answer.held)
    for var, d in answer.passes:
        shape = concrete(var.shape, sizes)
        if d in held:   # a direction written as an expression (x, 2u, v + w): its value at the point
            env[d.name] = np.asarray(evaluate(held[d], env, sizes), dtype=float).reshape(shape)
        elif isinstance(d, Sym) and d.name not in env:   # a direction derivmagic named
            env[d.name] = unit_direction(shape, rng, var.symmetric)
        values.append(np.asarray(evaluate(d, env, sizes), dtype=float).reshape(shape))
    err, forms = 0.0, answer.forms
    for k, ((var, _), value) in enumerate(zip(answer.passes, values), start=1):
        pred = np.asarray(evaluate(forms[k], env, sizes), dtype=float)
        fd = directional_fd(forms[k - 1], var, env, sizes, value)
        err = max(err, relative_error(pred, fd.reshape(pred.shape)))
    form = np.asarray(evaluate(forms[-1], env, sizes), dtype=float)
    shown = answer.form if answer.as_matrix else answer.result   # the result is the form, or its matrix
    err = max(err, relative_error(np.asarray(evaluate(shown, env, sizes), dtype=float).reshape(form.shape), form))
    if answer.matrix is not None:
        u, v = (w if w.shape[1] == 1 else w.reshape(-1, 1, order="F") for w in values[-2:])
        M = answer.result if answer.as_matrix else answer.matrix[0]
        paired = hessian_pairing(M, env, sizes, u, v)   # uᵀ M v, H applied by its plan
        err = max(err, relative_error(np.asarray(paired).reshape(1, 1), form.reshape(1, 1)))
    from .indexform import index_form, index_values
    tensor = index_form(answer)
    if tensor is not None:
        T = index_values(tensor, env, sizes, values[0].shape[0])
        for w in values:
            T = np.tensordot(T, w[:, 0], axes=([0], [0]))
        err = max(err, relative_error(np.asarray(T).reshape(1, 1), form.reshape(1, 1)))
    return err
