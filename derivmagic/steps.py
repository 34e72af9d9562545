"""Steps of a derivation as data: the rule, the expression, its differential, the shapes.

Every step states an equality ``d(node) = differential`` (a differential in the direction
``dvar``), or, for the final identification, ``d f = <result, dX>``; ``check.check_step``
verifies either numerically."""
from __future__ import annotations

from dataclasses import dataclass, field

from .expr import Expr, Sym


@dataclass(frozen=True)
class Step:
    rule: str
    node: Expr                # the expression being differentiated
    differential: Expr        # its differential, linear in dvar
    var: Sym | None = None
    dvar: Expr | None = None
    children: tuple = ()      # (argument, its differential) pairs the rule used
    note: str = ""
    result: Expr | None = None  # for identification steps: the derivative read off
    moves: tuple = ()           # every (variable, its differential) when several move at once
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def shapes(self) -> str:
        """For the chain rule, the shapes of the Jacobians it multiplies: (1×m)(m×n) = 1×n."""
        from .rules import Add, Mul, Transpose
        if len(self.children) != 1 or self.var is None or isinstance(self.node, (Add, Mul, Transpose)):
            return ""
        arg = self.children[0][0]
        out, mid, var = _numel(self.node), _numel(arg), _numel(self.var)
        if None in (out, mid, var) or arg == self.var:
            return ""
        return f"({out}×{mid})({mid}×{var}) = {out}×{var}"

    @property
    def latex(self) -> str:
        from .report import step_latex
        return step_latex(self)

    @property
    def text(self) -> str:
        from .report import step_text
        return step_text(self)


def _numel(e: Expr):
    r, c = e.shape
    if r == 1:
        return c
    if c == 1:
        return r
    return None
