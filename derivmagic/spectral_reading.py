"""Reading eigenvalues, singular values, the norms built on them, the ∞-norm, the matrix square
root and logarithm and the pseudo-inverse: their shapes (``type_spectral``), their expressions
(``build_spectral``, ``build_norm``, ``build_matrix_function``, ``build_pinv``) and what the
Interpretation says of each (the assumptions their derivatives rest on: a simple eigenvalue, full
rank, the principal branch, the choice at ties)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ParseError
from .expr import Expr, Sym
from .syntax import Node

if TYPE_CHECKING:
    from .build import Builder
    from .shapes import Typer

FAMILIES = ("lambda_", "sigma_")


def is_spectral(name) -> bool:
    """``lambda_max``, ``sigma_2``, ``lambda_i`` (the parser's names for λ_max(X), σ_2(X), λ_i(X))."""
    return isinstance(name, str) and name.startswith(FAMILIES)


def _split(name: str) -> tuple[str, str]:
    family, _, which = name.partition("_")
    return family, which


def _written(name: str) -> str:
    family, which = _split(name)
    return ("λ" if family == "lambda" else "σ") + "_" + which


# ---------------------------------------------------------------- shapes
def type_spectral(t: "Typer", node: Node):
    """λ_k(X) of a square X, σ_k(X) of any matrix: a scalar. An undeclared matrix written alone under
    λ is read as symmetric (an eigenvalue is taken of a symmetric matrix)."""
    from .shapes import ONE_DIM, Mismatch
    arg = node.args[0]
    a = t.type(arg)
    family, _ = _split(node.value)
    if family == "lambda":
        def err():
            return Mismatch(f"{_written(node.value)}({t.show(arg)}) is an eigenvalue: {t.show(arg)} ({t.fmt(a)}) is "
                            "not square", node)
        t.unify(a[0], a[1], err)
        if arg.kind == "name" and arg.value not in t.declared and arg.value not in t.defs:
            t.symmetric_use.add(arg.value)
    return (ONE_DIM, ONE_DIM)


# ---------------------------------------------------------------- expressions
def build_spectral(b: "Builder", node: Node, a: Expr) -> Expr:
    from .render import to_text
    from .rules.spectral import Eigenvalue, eigenvalue, eigenvector_of, is_symmetric, singular_value
    family, which = _split(node.value)
    if family == "sigma":
        value = singular_value(a, which)
        if not a.is_scalar:
            u, v = value.vectors
            b.notes.append(f"{to_text(value)} is {_rank_words(value.order, which)} singular value of {to_text(a)}, "
                           f"assumed simple and nonzero; {to_text(u)} and {to_text(v)} are its unit singular vectors"
                           + _index_check(value.order, which))
        return value
    if not is_symmetric(a):
        shown = to_text(a)
        declared = [s for s in sorted(a.free, key=lambda s: s.name) if isinstance(s, Sym) and not s.is_scalar
                    and s.shape[0] == s.shape[1] and not s.symmetric]
        fix = (f"; declare {', '.join(s.name for s in declared)} \\in \\mathbb{{S}}^n if "
               f"{'it is' if len(declared) == 1 else 'they are'} symmetric") if declared else ""
        raise ParseError(f"{_written(node.value)}({shown}) is read as an eigenvalue of a symmetric matrix, and "
                         f"{shown} is not symmetric as written{fix}", text=b.t.cell, pos=node.pos, end=node.end)
    value = eigenvalue(a, which)
    if isinstance(a, Sym) and a.name in b.t.symmetric_use and not a.is_scalar:
        b.notes.append(f"read {to_text(a)} as symmetric: its eigenvalues are read as those of a symmetric matrix")
    if isinstance(value, Eigenvalue):
        b.notes.append(f"{to_text(value)} is {_rank_words(value.order, which)} eigenvalue of {to_text(a)}, assumed "
                       f"simple; {to_text(eigenvector_of(value))} is a unit eigenvector of it"
                       + _index_check(value.order, which))
    return value


def _entry(x: Expr) -> str:
    from .render import to_text
    return f"{to_text(x)}_k" if isinstance(x, Sym) else f"({to_text(x)})_k"


def _rank_words(order, which: str) -> str:
    if order == "max":
        return "the largest"
    if order == "min":
        return "the smallest"
    if order == "index":
        return f"the {which}-th largest"
    k = int(order)
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(k % 10 if k % 100 not in (11, 12, 13) else 0, "th")
    return "the largest" if k == 1 else f"the {k}{suffix} largest"


def _index_check(order, which: str) -> str:
    from .rules.spectral import CHECK_INDEX
    return f" (the 1st the largest); the check takes {which} = {CHECK_INDEX}" if order == "index" else ""


def build_norm(b: "Builder", node: Node, a: Expr, p: str | None) -> Expr | None:
    """‖X‖₂ of a matrix (the spectral norm), ‖X‖_* (the nuclear norm) and ‖x‖_∞; None for the norms
    ``rules.norms`` builds as they are (‖x‖₂, ‖x‖₁, ‖X‖_F)."""
    from .render import to_text
    from .rules.norms import inf_norm
    from .rules.spectral import nuclear_norm, singular_value
    matrix = a.shape[0] != 1 and a.shape[1] != 1
    if p == "inf":
        if matrix:
            raise ParseError("the matrix ∞-norm (the largest row sum) is not supported; for the largest entry "
                             "write it of a vector", text=b.t.cell, pos=node.pos, end=node.end)
        value = inf_norm(a)
        if not a.is_scalar:
            xk = _entry(a)
            b.notes.append(f"{to_text(value)} = max_k |{xk}|: its gradient is sign({xk}) e_k at the k of the largest "
                           f"|{xk}|; where several tie (or {to_text(a)} = 0) the first such k is taken, a subgradient")
        return value
    if p == "*":
        if not matrix:
            raise ParseError("the nuclear norm ‖·‖_* is of a matrix; of a vector write \\|x\\|_1 or \\|x\\|_2",
                             text=b.t.cell, pos=node.pos, end=node.end)
        value = nuclear_norm(a)
        x = to_text(a)
        b.notes.append(f"{to_text(value)} is the nuclear norm (the sum of the singular values), differentiable where "
                       f"{x} has full rank; U({x}) Σ V({x})ᵀ is the thin SVD of {x}")
        return value
    if p == "2" and matrix:
        value = singular_value(a, "max", norm=True)
        u, v = value.vectors
        b.notes.append(f"{to_text(value)} is the spectral norm, the largest singular value of {to_text(a)}, assumed "
                       f"simple and nonzero; {to_text(u)} and {to_text(v)} are its unit singular vectors")
        return value
    return None


def build_matrix_function(b: "Builder", name: str, a: Expr) -> Expr:
    """e^X, X^{1/2} or log X of a square matrix (``rules.matfunc``), with what the Interpretation
    says of the principal square root and logarithm."""
    from .render import to_text
    from .rules import matrix_function
    from .rules.sqrtlog import MatLog, MatSqrt
    value = matrix_function(name, a)
    if isinstance(value, (MatSqrt, MatLog)) or any(isinstance(n, (MatSqrt, MatLog)) for n in value.args):
        x = to_text(a)
        what = "square root" if name == "sqrt" else "logarithm"
        drawn = (f"; the check draws {x} symmetric positive definite" if isinstance(a, Sym) and "spd" not in a.props
                 else "")
        b.notes.append(f"{to_text(value)} is the principal matrix {what} of {x} (defined where {x} has no eigenvalue "
                       f"in (-∞, 0]){drawn}")
    return value


def build_pinv(b: "Builder", a: Expr) -> Expr:
    """X⁺, with what the Interpretation says of it: full rank is assumed (a square one is then invertible)."""
    from .render import to_text
    from .rules.matrix import PseudoInverse, pinv
    value = pinv(a)
    if isinstance(value, PseudoInverse) or any(isinstance(n, PseudoInverse) for n in value.args):
        b.notes.append(f"{to_text(value)} is the Moore-Penrose pseudo-inverse of {to_text(a)}, differentiated where "
                       f"{to_text(a)} has full rank")
    elif not a.is_scalar:
        b.notes.append(f"{to_text(a)}⁺ of a square matrix of full rank is its inverse {to_text(value)}")
    return value


def refuse_matrix_power(b: "Builder", node: Node, base: Node, q) -> None:
    from .build import node_text
    raise ParseError(f"{node_text(b.t.cell, base)}^{{{q}}} of a square matrix is a fractional matrix power, which is "
                     "not supported (of the fractional powers X^{1/2} and X^{-1/2} are read, the principal square "
                     "root and its inverse)", text=b.t.cell, pos=node.pos, end=node.end)


__all__ = ["is_spectral", "type_spectral", "build_spectral", "build_norm", "build_matrix_function", "build_pinv",
           "refuse_matrix_power"]
