"""The gradient by a symmetric matrix variable (``S \\in \\mathbb{S}^n``): which one is meant.

The entries of a symmetric S are not independent (S_ij = S_ji), so "the gradient" of a scalar f(S)
needs a convention, and derivmagic states the one it uses:

- ``"independent"`` (the default, as the contract says): every entry treated as independent, the G
  of df = tr(Gᵀ dS) that the derivation reads off (for ``log det S``, S⁻¹; for ``aᵀSb``, abᵀ, which
  is not symmetric).
- ``"sym"``: the gradient on the space of symmetric matrices with the trace inner
  product, the one symmetric G_s with df = tr(G_sᵀ dS) for every symmetric dS. Any G with
  df = tr(Gᵀ dS) gives it as its symmetric part, G_s = sym(G) = (G + Gᵀ)/2.
- ``"cookbook"``: the Matrix Cookbook's (Petersen & Pedersen, §2.8 "structured matrices"), the
  partial derivatives by the independent entries S_ij, i ≤ j: df = Σ_{i≤j} C_ij dS_ij. As
  tr(G_sᵀ dS) = Σ_i (G_s)_ii dS_ii + 2 Σ_{i<j} (G_s)_ij dS_ij, C = 2G_s − G_s ∘ I.

The convention is chosen per derivation (``derive(..., symmetric=…)``, ``--symmetric``) and held in
a context variable while it runs, so every derivative of the cell (inside a line, in a claim) uses it.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from fractions import Fraction

import numpy as np

from .expr import SCALAR, Expr, Identity, Num, Sym
from .rules import Diag, Mul, add, hadamard, mul, trace, transpose
from .render import to_text
from .simplify import simplify

CONVENTIONS = ("independent", "sym", "cookbook")
DEFAULT = "independent"
_CURRENT: ContextVar[str] = ContextVar("derivmagic_symmetric", default=DEFAULT)


def option(value) -> str:
    """The ``symmetric`` option as given: None is the default; anything but a convention's name is
    refused in words."""
    if value is None:
        return DEFAULT
    if value not in CONVENTIONS:
        raise ValueError(f"symmetric must be 'independent' (every entry of S independent, the default), 'sym' (the "
                         f"gradient on symmetric matrices, (G + Gᵀ)/2) or 'cookbook' (the Matrix Cookbook's 2G − G∘I), "
                         f"not {value!r}")
    return value


@contextmanager
def using(convention: str):
    token = _CURRENT.set(option(convention))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> str:
    return _CURRENT.get()


def convention_for(f: Expr, var: Sym) -> str:
    """The convention a first derivative of ``f`` by ``var`` follows: "" unless ``f`` is a scalar
    and ``var`` a symmetric matrix (larger than 1×1)."""
    square = var.shape[0] == var.shape[1] and var.shape != SCALAR
    return current() if f.shape == SCALAR and square and var.symmetric else ""


# --------------------------------------------------------------------------- the forms
def sym_part(g: Expr) -> Expr:
    """(G + Gᵀ)/2, simplified (G itself when it is symmetric: S⁻¹ for symmetric S)."""
    half = Num(Fraction(1, 2))
    return simplify(add(mul(half, g), mul(half, transpose(g))))


def diagonal_part(g: Expr) -> Expr:
    """G ∘ I: G itself when it is diagonal (a multiple of I, diag(v)), else the Hadamard product."""
    core = mul(*g.chain) if isinstance(g, Mul) and g.chain and not g.scalars else g
    if isinstance(core, (Identity, Diag)):
        return g
    return hadamard(g, Identity(g.shape[0]))


def cookbook(g_sym: Expr) -> Expr:
    """The Matrix Cookbook's form 2G − G∘I of the symmetric gradient G."""
    return simplify(add(mul(Num(2), g_sym), mul(Num(-1), diagonal_part(g_sym))))


def from_cookbook(c: Expr) -> Expr:
    """The symmetric gradient back from the Cookbook's form: G = (C + C∘I)/2."""
    half = Num(Fraction(1, 2))
    return simplify(add(mul(half, c), mul(half, diagonal_part(c))))


def gradient(g: Expr, dx: Expr, convention: str) -> tuple[Expr, Expr]:
    """(the gradient in ``convention``, df written with it) from any G with df = tr(Gᵀ dX) for
    symmetric dX (G shaped like the variable)."""
    if convention == "independent":
        return g, trace(mul(transpose(g), dx))
    g_sym = sym_part(g)
    if convention == "cookbook":
        c = cookbook(g_sym)
        return c, UpperPairing(c, dx)
    return g_sym, trace(mul(transpose(g_sym), dx))


def other_forms(result: Expr, convention: str) -> dict[str, Expr]:
    """The result in each other convention, from ``result`` in ``convention``."""
    g_sym = from_cookbook(result) if convention == "cookbook" else sym_part(result)
    forms = {"sym": g_sym, "cookbook": cookbook(g_sym)}
    return {name: form for name, form in forms.items() if name != convention}


# --------------------------------------------------------------------------- words
def identify_rule(convention: str, x: str, df: str) -> str:
    """The identification step's rule for a symmetric variable, with its defining relation."""
    if convention == "independent":
        return f"identify the gradient, every entry of {x} independent: {df} = tr(Gᵀ d{x})"
    if convention == "cookbook":
        return (f"identify the gradient by the independent entries {x}_{{ij}}, i ≤ j (Matrix Cookbook): "
                f"{df} = Σ_{{i≤j}} G_{{ij}} d{x}_{{ij}}")
    return f"identify the gradient on symmetric matrices: {df} = tr(Gᵀ d{x}), G = Gᵀ"


def description(convention: str, var: Sym) -> str:
    """What the result line says of the convention, briefly."""
    x = to_text(var)
    if convention == "independent":
        return f"{x} symmetric, its entries taken as independent"
    if convention == "cookbook":
        return f"{x} symmetric: the Matrix Cookbook's 2G − G∘I"
    return f"{x} symmetric: the gradient on symmetric matrices, (G + Gᵀ)/2"


def note(convention: str, var: Sym) -> str:
    """The Interpretation's sentence on the convention, and how to ask for the other."""
    x = to_text(var)
    if convention == "independent":
        return (f"{x} is symmetric, and ∇ treats its entries as independent (the G with df = tr(Gᵀ d{x}), which need "
                f"not be symmetric); the option symmetric = sym gives the gradient on symmetric matrices, (G + Gᵀ)/2, "
                f"and symmetric = cookbook the Matrix Cookbook's 2G − G∘I")
    if convention == "cookbook":
        return (f"{x} is symmetric: ∇ in the Matrix Cookbook's convention, by the independent entries {x}_{{ij}}, "
                f"i ≤ j: df = Σ_{{i≤j}} C_{{ij}} d{x}_{{ij}} with C = 2G − G∘I, G the gradient on symmetric matrices; "
                f"the option symmetric = sym gives G itself")
    return (f"{x} is symmetric: ∇ is the gradient on the symmetric matrices, (G + Gᵀ)/2 for any G with "
            f"df = tr(Gᵀ d{x}); the option symmetric = cookbook gives the Matrix Cookbook's 2G − G∘I instead")


_NAMES = {"independent": "with every entry independent", "sym": "in the symmetric-gradient convention ((G + Gᵀ)/2)",
          "cookbook": "in the Matrix Cookbook's convention (2G − G∘I)"}


def other_convention_reason(other: str, convention: str, var: Sym, result: Expr):
    """The reason for a claim that is the result in the ``other`` convention, as ``claims.say`` pieces."""
    from .claims import math, say
    what = {"sym": "the gradient on symmetric matrices, (G + Gᵀ)/2,", "cookbook": "the Matrix Cookbook's 2G − G∘I"}
    return say(f"this is {what[other]} for symmetric ", math(var), f"; {_NAMES[convention]} it is ", math(result),
               "; use ", _option(other))


def _option(convention: str):
    from .claims import Math
    return Math(f"--symmetric {convention}", rf"\texttt{{-{{}}-symmetric {convention}}}")


def independent_entries_reason(convention: str, var: Sym, result: Expr):
    """The reason for a claim that is a gradient with the entries of S taken as independent (it
    gives df for symmetric dS, but it is not symmetric)."""
    from .claims import math, say
    head = ("this gradient treats the entries of ", math(var), " as independent (it is not symmetric); ")
    if convention == "cookbook":
        return say(*head, "in the Matrix Cookbook's convention it is 2G − G∘I of its symmetric part G: ", math(result))
    return say(*head, "the gradient on symmetric matrices is its symmetric part (G + Gᵀ)/2: ", math(result))


def diagnose(judge, claim, answer) -> None:
    """A false claim of the derivative by a symmetric variable that is right in the other convention,
    or right with the entries taken as independent, is said to be one."""
    convention = getattr(answer, "convention", "")
    claimed = claim.claimed
    if not convention or claim.holds or claimed is None or claimed.shape != answer.result.shape:
        return
    other = next((name for name, form in other_forms(answer.result, convention).items()
                  if judge.agree(form, claimed)), None)
    if other is not None:
        claim.diagnosis, claim.said = "convention", other_convention_reason(other, convention, answer.var, answer.result)
    elif convention != "independent" and judge.agree(_in(convention, sym_part(claimed)), answer.result):
        claim.diagnosis, claim.said = "independent", independent_entries_reason(convention, answer.var, answer.result)
    else:
        return
    claim.reason = claim.said[0]


def _in(convention: str, g_sym: Expr) -> Expr:
    return cookbook(g_sym) if convention == "cookbook" else g_sym


# --------------------------------------------------------------------------- the Cookbook's pairing
class UpperPairing(Expr):
    """Σ_{i≤j} A_ij B_ij: the differential in the Cookbook's convention, df = Σ_{i≤j} C_ij dS_ij
    (bilinear; a scalar)."""
    __slots__ = ()
    prec = 15
    rule = "sum over i ≤ j"

    def __init__(self, a: Expr, b: Expr):
        super().__init__((a, b), SCALAR)

    def differential(self, ds):
        a, b = self.args
        terms = [UpperPairing(ds[0], b) if ds[0] is not None else None,
                 UpperPairing(a, ds[1]) if ds[1] is not None else None]
        return add(*[t for t in terms if t is not None])

    def evaluate(self, vals):
        return np.full((1, 1), float(np.sum(np.triu(vals[0] * vals[1]))))

    def rebuild(self, args):
        return UpperPairing(*args)

    def print_with(self, p) -> str:
        a, b = (p(x) for x in self.args)
        if p.latex:
            return rf"\sum_{{i \le j}} \left({a}\right)_{{ij}} \left({b}\right)_{{ij}}"
        return f"Σ_{{i≤j}} ({a})_{{ij}} ({b})_{{ij}}"
