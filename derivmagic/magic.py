"""The ``%%derive`` cell magic and the ``%derive_config`` and ``%derive_check`` line magics.

``%load_ext derivmagic`` calls :func:`load`; nothing is registered on import, and
:func:`unload` takes the magics away again, so ``%reload_ext derivmagic`` works.

A cell shows each of its derivations, in order, with the interpretation, the steps, the result and
the numeric check as one display: ``text/plain`` (Unicode) and ``text/latex``
(``$$\\begin{aligned}…\\end{aligned}$$``). ``%derive_check FILE`` shows a table of every derivative
statement of a document, judged.
An error in the cell (a :class:`~derivmagic.errors.DerivError`) is shown as its message with a
caret under the offending text, without a traceback; anything unexpected keeps its traceback.
"""
from __future__ import annotations

import argparse
import difflib
import glob
import keyword
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from . import report
from .check import evaluate
from .cli import SYMMETRIC_HELP, visible
from .codegen import BACKENDS
from .derivation import DEFAULTS, LAYOUTS, Derivation, derive_all
from .symmetric import CONVENTIONS, DEFAULT as SYMMETRIC_DEFAULT
from .errors import DerivError
from .expr import fmt_shape, postorder
from .tex import GREEK_UNICODE

SESSION_DEFAULTS = {"layout": None, "check": True, "steps": True, "symmetric": None}


def _options(parser) -> list[str]:
    return sorted({s for a in parser._actions for s in a.option_strings})


def parse_line(func, line: str, magic: str):
    """``magic_arguments`` parsing, with a list of the valid options (and the closest one)
    when an option is unknown or misspelled; abbreviations are never accepted."""
    parser = func.parser
    try:
        return parser.parse_argstring(line)
    except UsageError as exc:
        valid = _options(parser)
        options = [t.split("=")[0] for t in line.split() if re.match(r"--?[A-Za-z]", t)]
        unknown = [t for t in options if t not in valid]
        hints = []
        for token in unknown:
            close = difflib.get_close_matches(token, valid, n=1)
            hints.append(f"unknown option {token}" + (f" (did you mean {close[0]}?)" if close else ""))
        message = "; ".join(hints) if hints else str(exc)
        raise UsageError(f"{magic}: {message}\nvalid options: {', '.join(valid)} (see {magic}? for help)") from None


def parse_dims(text: str | None) -> dict:
    """``m=3,n=4`` as ``{"m": 3, "n": 4}``."""
    dims = {}
    for item in (text or "").replace(" ", "").split(","):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or not name or not value.isdigit() or int(value) < 1:
            raise UsageError(f"--dims expects name=size pairs like m=3,n=4 (a size is a positive integer), not {item!r}")
        dims[name] = int(value)
    return dims


def _check_name(name: str | None) -> None:
    """``--name``: a plain Python variable name, never a keyword, a builtin or a dunder name (storing
    into ``__builtins__`` would break every later cell)."""
    import builtins
    if name is None:
        return
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"--name needs a Python variable name, not {name!r}")
    if name.startswith("__") or hasattr(builtins, name):
        raise UsageError(f"--name {name} would replace Python's own {name}; choose another name")


def show_error(exc: DerivError) -> None:
    """The message and the caret under the offending text, on stderr: no traceback."""
    print(visible(f"{type(exc).__name__}: {exc}"), file=sys.stderr)


class Shown:
    """What a cell displays: the derivation as text/plain and text/latex; ``title`` (a cell with
    several derivations: "Derivation 2 of 3") heads both."""

    def __init__(self, d: Derivation, steps: bool = True, vec: bool = False, title: str | None = None):
        self.d, self.steps, self.vec, self.title = d, steps, vec, title

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = report.derivation_text(self.d, self.steps, self.vec)
        latex = report.derivation_latex(self.d, self.steps, self.vec)
        if self.title:
            text = f"{self.title}: {report.target_text(self.d)}\n{text}"
            head = "\\begin{aligned}\n"
            latex = f"{head}&\\textbf{{{self.title}}} \\\\\n{latex[len(head):]}"
        return {"text/plain": visible(text), "text/latex": f"$${latex}$$"}


@magics_class
class DeriveMagics(Magics):
    """``%%derive``, ``%derive_config`` and ``%derive_check``; the session defaults live on this object."""

    def __init__(self, shell):
        super().__init__(shell)
        self.defaults = dict(SESSION_DEFAULTS)

    @magic_arguments.magic_arguments(name="%derive")
    @magic_arguments.argument("--layout", choices=LAYOUTS, default=None,
                              help="numerator (∂f/∂x is 1×n) or denominator (n×1); default: the session's")
    @magic_arguments.argument("--check", action="store_true", default=None,
                              help="run the numeric check (the default unless %%derive_config --no-check)")
    @magic_arguments.argument("--no-check", dest="check", action="store_false", default=None,
                              help="skip the numeric check")
    @magic_arguments.argument("--steps", action="store_true", default=None, help="show the steps (the default)")
    @magic_arguments.argument("--no-steps", dest="steps", action="store_false", default=None,
                              help="show only the interpretation, the result and the check")
    @magic_arguments.argument("--dims", metavar="m=3,n=4", default=None, help="sizes for the numeric check")
    @magic_arguments.argument("--seed", type=int, default=0, metavar="N", help="seed of the numeric check")
    @magic_arguments.argument("--name", metavar="VAR", default=None,
                              help="store the Derivation in the notebook as VAR (the list of them when the cell "
                                   "has several)")
    @magic_arguments.argument("--latex", action="store_true", help="also print the LaTeX, to copy")
    @magic_arguments.argument("--at", nargs="?", const="", default=None, metavar="SYMBOL=VAR,...",
                              help="evaluate the result at the notebook's NumPy arrays of the same names "
                                   "(\\lambda is lam, lambda_ or λ; SYMBOL=VAR takes a symbol from another "
                                   "variable)")
    @magic_arguments.argument("--vec", action="store_true",
                              help="for a matrix function of a matrix: also the Jacobian of vec F by vec X (Kronecker form)")
    @magic_arguments.argument("--code", choices=BACKENDS, default=None,
                              help="print Python code computing the function and its derivative (numpy, jax or torch)")
    @magic_arguments.argument("--expand", action="store_true",
                              help="write the steps and the result with every definition substituted "
                                   "(default: with the definitions' names)")
    @magic_arguments.argument("--symmetric", choices=CONVENTIONS, default=None,
                              help=SYMMETRIC_HELP + "; default: the session's")
    @cell_magic("derive")
    def derive_cell(self, line, cell):
        """Differentiate the matrix-calculus LaTeX of the cell, with steps and a numeric check.

        A cell holds a target (\\nabla_x f, \\frac{\\partial f}{\\partial x}, \\nabla^2_x f, D f(X)[V]),
        optionally definitions (f(x) = ...) and declarations (A \\in \\mathbb{R}^{m \\times n}).
        Each target starts a derivation; a cell with several shows them in order (--name then
        keeps the list of Derivations).
        """
        args = parse_line(self.derive_cell, line, "%%derive")
        layout = args.layout or self.defaults["layout"]
        check = self.defaults["check"] if args.check is None else args.check
        steps = self.defaults["steps"] if args.steps is None else args.steps
        dims = parse_dims(args.dims)
        if args.seed < 0:
            raise UsageError(f"--seed needs a non-negative integer, not {args.seed}")
        _check_name(args.name)
        try:
            ds = derive_all(cell, layout=layout, check=check, seed=args.seed, dims=dims, expand=args.expand,
                            symmetric=args.symmetric or self.defaults["symmetric"])
            known = set().union(*(d.reading.dims for d in ds))
            unknown = sorted(set(dims) - known)
            if unknown:
                have = ", ".join(sorted(known)) or "none"
                raise UsageError(f"--dims: this cell has no dimension {', '.join(unknown)} (its dimensions: {have})")
            at = None if args.at is None else parse_at(args.at, ds, self.shell.user_ns)
            values = [[(a, evaluate_at(d, self.shell.user_ns, dims, a, at=at)) for a in report.answers(d)]
                      if at is not None else [] for d in ds]
        except DerivError as exc:
            show_error(exc)
            return None
        if args.name is not None:   # the Derivation, or the list of them when the cell has several
            self.shell.user_ns[args.name] = ds[0] if len(ds) == 1 else ds
        several = len(ds) > 1
        for i, (d, evaluated) in enumerate(zip(ds, values), 1):
            display(Shown(d, steps, args.vec, title=f"Derivation {i} of {len(ds)}" if several else None))
            for answer, value in evaluated:
                display(Evaluated(d, value, answer))
        if args.latex:
            print("\n\n".join(report.derivation_latex(d, steps, args.vec) for d in ds))
        if args.code:
            from .codegen import function_source
            for i, d in enumerate(ds, 1):
                print(function_source(d, args.code, name=f"f_and_derivative_{i}" if several else "f_and_derivative"))
        return None

    @magic_arguments.magic_arguments(name="derive_check")
    @magic_arguments.argument("files", nargs="+", metavar="FILE", help=".md, .tex, .txt or .ipynb (its Markdown cells)")
    @magic_arguments.argument("--layout", choices=LAYOUTS, default=None,
                              help="layout of \\frac{\\partial}{\\partial x}; default: the session's")
    @magic_arguments.argument("--seed", type=int, default=0, metavar="N", help="seed of the numeric checks")
    @magic_arguments.argument("--no-context", action="store_true",
                              help="read each statement on its own (earlier definitions do not apply)")
    @magic_arguments.argument("--name", metavar="VAR", default=None,
                              help="keep the list of statements in the notebook as VAR")
    @magic_arguments.argument("--symmetric", choices=CONVENTIONS, default=None,
                              help=SYMMETRIC_HELP + "; default: the session's")
    @line_magic("derive_check")
    def derive_check(self, line):
        """Judge every derivative statement of documents: a table with one row per statement
        (where, ✓ holds / ✗ false / · derived / – not read, the formula, why and the correct
        expression) and a summary."""
        from .document import DocumentReport, check_document
        args = parse_line(self.derive_check, line, "%derive_check")
        _check_name(args.name)
        statements, paths = [], []
        for pattern in args.files:   # a notebook does not expand globs as a shell does
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) and not Path(pattern).exists() else []
            paths += matches or [pattern]
        for path in paths:
            try:
                statements += check_document(Path(path), layout=args.layout or self.defaults["layout"],
                                             seed=args.seed, context=not args.no_context,
                                             symmetric=args.symmetric or self.defaults["symmetric"])
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise UsageError(f"%derive_check: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        if args.name is not None:
            self.shell.user_ns[args.name] = statements
        display(DocumentReport(statements, len(paths)))

    @magic_arguments.magic_arguments(name="derive_config")
    @magic_arguments.argument("--layout", choices=LAYOUTS, default=None, help="default layout of %%derive")
    @magic_arguments.argument("--check", action="store_true", default=None, help="check numerically (the default)")
    @magic_arguments.argument("--no-check", dest="check", action="store_false", default=None,
                              help="do not check by default")
    @magic_arguments.argument("--steps", action="store_true", default=None, help="show the steps (the default)")
    @magic_arguments.argument("--no-steps", dest="steps", action="store_false", default=None,
                              help="hide the steps by default")
    @magic_arguments.argument("--symmetric", choices=CONVENTIONS, default=None,
                              help="default convention of gradients by a symmetric matrix (independent, sym or cookbook)")
    @magic_arguments.argument("--reset", action="store_true", help="back to the defaults")
    @line_magic("derive_config")
    def derive_config(self, line):
        """Set the session defaults of %%derive; with no options, print them."""
        args = parse_line(self.derive_config, line, "%derive_config")
        if args.reset:
            self.defaults = dict(SESSION_DEFAULTS)
        for key in ("layout", "check", "steps", "symmetric"):
            if getattr(args, key) is not None:
                self.defaults[key] = getattr(args, key)
        print(self.describe())

    def describe(self) -> str:
        d = self.defaults
        return (f"%%derive defaults: layout={d['layout'] or DEFAULTS['layout']}, "
                f"check={'on' if d['check'] else 'off'}, steps={'on' if d['steps'] else 'off'}, "
                f"symmetric={d['symmetric'] or SYMMETRIC_DEFAULT}")


# --------------------------------------------------------------------------- --at
# short names a program gives a Greek letter whose own name is long or a Python keyword
_SHORT = {"lambda": ("lam", "lmbda"), "Lambda": ("Lam",), "epsilon": ("eps",), "varepsilon": ("eps",)}
_REAL = "biuf"   # dtype kinds --at accepts: booleans, integers and floats (not complex, text, objects, dates)
_KINDS = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects", "M": "dates",
          "m": "time spans", "V": "records"}


def shown(name: str) -> str:
    """A symbol's name as the cell writes it: ``lambda_1`` is λ_1."""
    head, sep, tail = name.partition("_")
    return GREEK_UNICODE[head] + sep + tail if head in GREEK_UNICODE else name


def notebook_names(name: str) -> list[str]:
    """The Python names that stand for the cell's symbol ``name`` in the notebook: the name itself
    (``lambda_`` for a Python keyword), the Greek letter as Python spells it (``λ``, ``λ_1``) and
    the usual short forms (``lam``, ``eps``)."""
    head, sep, tail = name.partition("_")
    names = [name + "_" if keyword.iskeyword(name) else name]
    if head in GREEK_UNICODE:
        names.append(unicodedata.normalize("NFKC", GREEK_UNICODE[head]) + sep + tail)
        names += [short + sep + tail for short in _SHORT.get(head, ())]
    return [n for n in dict.fromkeys(names) if n.isidentifier() and not keyword.iskeyword(n)]


def _spellings(symbols) -> dict[str, list[str]]:
    """``notebook_names`` of each symbol, less the names two symbols of the cell share (ε for both
    \\epsilon and \\varepsilon, l for \\ell beside l): such a name is only the symbol it spells exactly."""
    names = {n: notebook_names(n) for n in symbols}
    owners: dict[str, list[str]] = {}
    for n, spelled in names.items():
        for alias in spelled:
            owners.setdefault(alias, []).append(n)
    return {n: [a for a in spelled if a == n or len(owners[a]) == 1] for n, spelled in names.items()}


def _as_names(spelled: list[str]) -> str:
    return spelled[0] if len(spelled) == 1 else ", ".join(spelled[:-1]) + " or " + spelled[-1]


def parse_at(text: str, ds, namespace: dict) -> dict:
    """``--at lambda=lam2,x=x0``: the notebook variable that gives each named symbol. A symbol is
    named by any of its ``notebook_names``; a name that is no symbol of the cell is refused with
    the names the cell's symbols go by."""
    symbols = {n: s for d in ds for n, s in d.reading.symbols.items()}
    spellings = _spellings(symbols)
    owners: dict[str, set] = {}
    for n, aliases in spellings.items():
        for alias in [n, unicodedata.normalize("NFKC", shown(n)), *aliases]:
            owners.setdefault(alias, set()).add(n)
    # a spelling is a symbol's when it is that symbol's own name, or no other symbol's
    spelled = {a: a if a in symbols else next(iter(ns)) for a, ns in owners.items() if a in symbols or len(ns) == 1}
    chosen = {}
    for item in text.split(","):
        if not item.strip():
            continue
        symbol, sep, variable = (part.strip() for part in item.partition("="))
        if not (sep and symbol and variable):
            raise UsageError(f"--at expects SYMBOL=VARIABLE pairs like lambda=lam2,x=x0, not {item.strip()!r}")
        name = spelled.get(unicodedata.normalize("NFKC", symbol))
        if name is None:
            close = difflib.get_close_matches(symbol, list(spelled), n=1)
            labels = {n: shown(n) if spelled.get(unicodedata.normalize("NFKC", shown(n))) == n else n for n in symbols}
            listing = "; ".join(f"{labels[n]} ({_as_names(spellings[n])})" if spellings[n] not in ([n], []) else labels[n]
                                for n in sorted(symbols))
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"--at: the cell has no symbol {symbol}{hint}; its symbols: {listing}")
        if variable not in namespace:
            raise UsageError(f"--at: the notebook has no variable {variable} (for {shown(name)})")
        chosen[name] = variable
    return chosen


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeio" else "a ") + noun


def _as_2d(name: str, value, shape) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise UsageError(f"--at: {name} in the notebook is {_a(type(value).__name__)}, not a numeric array") from None
    if np.ma.is_masked(value):
        masked = int(np.ma.count_masked(value))
        raise UsageError(f"--at: {name} in the notebook is a masked array with {masked:,} masked "
                         f"value{'s' if masked > 1 else ''}; --at needs every value (e.g. {name}.filled(0))")
    if arr.dtype.kind == "O" and arr.ndim == 0 and isinstance(value, int):
        raise UsageError(f"--at: {name} in the notebook is an integer too large for a float ({len(str(value)):,} "
                         f"digits)")
    if arr.dtype.kind not in _REAL:
        kind = _KINDS.get(arr.dtype.kind, "values that are not real numbers")
        noun = "NumPy array" if isinstance(value, np.ndarray) else type(value).__name__
        what = _a(noun) + (f" of {kind}" if arr.ndim else "")
        raise UsageError(f"--at: {name} in the notebook is {what} (dtype {arr.dtype}); --at needs real numbers "
                         f"(integers or floats)")
    arr = arr.astype(float)
    if arr.size == 0:
        shape = "×".join(map(str, arr.shape))
        raise UsageError(f"--at: {name} in the notebook is empty (shape {shape}); a size is at least 1")
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    if arr.ndim == 1:  # vectors as columns, unless the cell reads the symbol as a row
        return arr.reshape(1, -1) if shape[0] == 1 and shape[1] != 1 else arr.reshape(-1, 1)
    if arr.ndim == 2:
        return arr
    raise UsageError(f"--at: {name} in the notebook has {arr.ndim} dimensions; a symbol is a scalar, vector or matrix")


def _sources(d: Derivation, namespace: dict, needed: list[str], at: dict) -> dict[str, str]:
    """The notebook variable of each symbol found there: the one ``at`` names, else the one of its
    ``notebook_names`` the notebook has. Two different values for a symbol the result needs are
    refused; a symbol it does not need (it only gives sizes) is then left out."""
    spellings = _spellings(d.reading.symbols)
    sources, missing = {}, []
    for name in d.reading.symbols:
        found = [at[name]] if name in at else [n for n in spellings[name] if n in namespace]
        if any(namespace[f] is not namespace[found[0]] for f in found[1:]):
            if name in needed:
                raise UsageError(f"--at: the notebook has both {' and '.join(found)}, which may stand for "
                                 f"{shown(name)}; say which with --at {name}={found[0]}")
            continue
        if found:
            sources[name] = found[0]
        elif name in needed:
            missing.append(_named(name, spellings[name]))
    if missing:
        what = "them as NumPy arrays" if len(missing) > 1 else "it as a NumPy array"
        raise UsageError(f"--at: the result depends on {', '.join(map(shown, needed))}; the notebook has no "
                         f"{', '.join(missing)} (define {what})")
    return sources


def _named(name: str, spelled: list[str]) -> str:
    """A symbol the notebook lacks, with the Python names it could have had."""
    if spelled == [name]:
        return name
    if not spelled:
        return f"{shown(name)} (it has no Python name: give it with --at {shown(name)}=VARIABLE)"
    return f"{shown(name)} (named {_as_names(spelled)} in Python)"


def evaluate_at(d: Derivation, namespace: dict, dims: dict | None = None, answer=None, at: dict | None = None
                ) -> np.ndarray:
    """The result's numbers at the notebook's arrays of the cell's symbols (vectors as columns);
    the sizes are read from the arrays (``dims`` may give the others). ``answer``: one of
    ``d.answers`` for a cell with several variables. A symbol is looked up under its
    ``notebook_names`` (\\lambda as lam, lambda_ or λ), or under the variable ``at`` gives it."""
    result = (answer or d.answer).result
    needed = sorted(s.name for s in result.free)
    sizes, origin, env = dict(dims or {}), {}, {}
    for name, variable in _sources(d, namespace, needed, at or {}).items():
        value, sym = namespace[variable], d.reading.symbols[name]
        if name not in needed and not _numeric(value):
            continue
        arr = _as_2d(variable, value, sym.shape)
        _declared(d, name, variable, arr)
        for want, got in zip(sym.shape, arr.shape):
            if isinstance(want, int) or (sym.shape[0] == sym.shape[1] and arr.shape[0] != arr.shape[1]):
                if want != got:
                    raise UsageError(f"--at: {variable} is {fmt_shape(arr.shape)}, but the cell reads {shown(name)} "
                                     f"as {fmt_shape(sym.shape)}")
            elif want in origin and sizes[want] != got:
                other, other_variable, other_shape = origin[want]
                raise UsageError(f"--at: the shapes disagree: {other_variable} is {fmt_shape(other_shape)} and "
                                 f"{variable} is {fmt_shape(arr.shape)}, but the cell gives both the dimension {want} "
                                 f"({shown(other)} ∈ {_space(d, other)}, {shown(name)} ∈ {_space(d, name)})")
            else:
                sizes[want], origin[want] = got, (name, variable, arr.shape)
        env[name] = arr
    unknown = sorted({dim for node in postorder(result) for dim in node.shape if isinstance(dim, str)} - set(sizes))
    if unknown:
        raise UsageError(f"--at: the size {', '.join(unknown)} is unknown: define an array that has it, or give --dims")
    with np.errstate(all="ignore"):
        try:
            return np.asarray(evaluate(result, env, sizes), dtype=float)
        except np.linalg.LinAlgError as exc:
            raise UsageError(f"--at: the result cannot be evaluated at the notebook's values: {str(exc).lower()} "
                             f"(a matrix it inverts or factors is singular or not positive definite there)") from None


def _declared(d: Derivation, name: str, variable: str, arr: np.ndarray) -> None:
    """A notebook value that breaks the cell's declaration is refused: the result was simplified
    with it (2Ax for A ∈ 𝕊ⁿ), so its numbers there would not be the derivative's."""
    sym = d.reading.symbols[name]
    if not sym.symmetric or arr.shape[0] != arr.shape[1]:
        return
    space = f"{shown(name)} ∈ {_space(d, name)}"
    if np.abs(arr - arr.T).max() > 1e-10 * max(1.0, np.abs(arr).max()):
        raise UsageError(f"--at: the cell declares {space}, but the notebook's {variable} is not symmetric; "
                         f"the result assumes {shown(name)} = {shown(name)}ᵀ")
    if "spd" in sym.props:
        try:
            np.linalg.cholesky(arr)
        except np.linalg.LinAlgError:
            raise UsageError(f"--at: the cell declares {space}, but the notebook's {variable} is not positive "
                             f"definite") from None


def _numeric(value) -> bool:
    """A value of the notebook that can give a symbol its size: a real number or array."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray, np.number)):
        return False
    return np.asarray(value).dtype.kind in _REAL


def _space(d: Derivation, name: str) -> str:
    from .report import _space_text
    return _space_text(d.reading.symbols[name])


def _number_tex(v: float) -> str:
    s = f"{v:.4g}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s


def matrix_tex(a: np.ndarray, limit: int = 8) -> str:
    """A small array as a ``bmatrix`` (at most ``limit`` rows and columns, then dots)."""
    if a.shape == (1, 1):
        return _number_tex(a[0, 0])
    rows, cols = a.shape
    ri = list(range(min(rows, limit))) + ([None] if rows > limit else [])
    ci = list(range(min(cols, limit))) + ([None] if cols > limit else [])
    out = []
    for i in ri:
        cells = []
        for j in ci:
            if i is None:
                cells.append(r"\vdots" if j is not None else r"\ddots")
            else:
                cells.append(_number_tex(a[i, j]) if j is not None else r"\cdots")
        out.append(" & ".join(cells))
    return r"\begin{bmatrix}" + r" \\ ".join(out) + r"\end{bmatrix}"


class Evaluated:
    """The result evaluated at the notebook's arrays."""

    def __init__(self, d: Derivation, value: np.ndarray, answer=None):
        self.d, self.value, self.answer = d, value, answer or d.answer

    def _names(self) -> list[str]:
        return sorted(s.name for s in self.answer.result.free)

    def _repr_mimebundle_(self, include=None, exclude=None):
        names = self._names()
        at = f" at the notebook's {', '.join(map(shown, names))}" if names else ""
        body = np.array2string(self.value, precision=4, suppress_small=True)
        text = f"{report.target_text(self.d, self.answer)}{at} ({fmt_shape(self.value.shape)}) =\n{body}"
        where = ""
        if names:
            syms = [self.d.reading.symbols[n].tex for n in names if n in self.d.reading.symbols]
            where = r"\quad \text{at the notebook's }" + ",\\ ".join(syms)
        latex = rf"$${report.target_latex(self.d, self.answer)} = {matrix_tex(self.value)}{where}$$"
        return {"text/plain": text, "text/latex": latex}


# --------------------------------------------------------------------------- the extension
def load(ip) -> None:
    ip.register_magics(DeriveMagics(ip))


def unload(ip) -> None:
    manager = ip.magics_manager
    manager.magics["cell"].pop("derive", None)
    manager.magics["line"].pop("derive_config", None)
    manager.magics["line"].pop("derive_check", None)
    manager.registry.pop(DeriveMagics.__name__, None)


class _PlainHelp(magic_arguments.MagicHelpFormatter):
    """The help of ``%%derive?`` as plain text: IPython writes the usage as a reStructuredText block
    (a stray ``::`` above it) and the values of an option in ``<…>``."""

    def _format_action_invocation(self, action):
        return argparse.HelpFormatter._format_action_invocation(self, action)

    def add_usage(self, usage, actions, groups, prefix="usage: %"):
        argparse.HelpFormatter.add_usage(self, usage, actions, groups, prefix)


for _func in (DeriveMagics.derive_cell, DeriveMagics.derive_config, DeriveMagics.derive_check):
    _func.parser.allow_abbrev = False
    _func.parser.formatter_class = _PlainHelp
    _func.__doc__ = _func.parser.format_help()
del _func

__all__ = ["DeriveMagics", "load", "unload", "evaluate_at", "Evaluated", "Shown"]
