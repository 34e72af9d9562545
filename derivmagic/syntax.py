"""The syntax tree of a cell, shared by the reading stages: ``Node`` (one immutable node of a
formula, with its position in the cell), and the statements a cell is made of."""
from __future__ import annotations

from dataclasses import dataclass, field


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
    kind: str                 # "gradient", "hessian", "jacobian", "directional", "higher", "mixed"
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
    order: int = 1                  # ∇^3, ∂²f/∂x∂y, D^2 f(X)[U, V]: how many times it differentiates
    directions: list[Node] = field(default_factory=list)   # D^2 f(X)[U, V]: every direction, in order


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
    bilinear: bool = False     # "B(·, ·) a bilinear map": two arguments, shapes and values from use


@dataclass
class Indexed:
    """Names whose entries a line uses by free indices (z in ∂z_i/∂x_j): z_1, z_2 are z's entries."""
    names: set


@dataclass
class Remark:
    """How the cell was read, in words (e.g. index notation turned into matrix form)."""
    text: str


def walk(node):
    """Every node under ``node`` (itself first), depth first, without recursion: a left-deep sum of
    k terms is walked in O(k), where nested generators take O(k²)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Node):
            yield n
            stack.extend(reversed(n.args))
