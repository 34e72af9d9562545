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
    node: Expr                # the expression being differentiated (a definition's name for its step)
    differential: Expr        # its differential, linear in dvar
    var: Sym | None = None
    dvar: Expr | None = None
    children: tuple = ()      # (argument, its differential) pairs the rule used
    note: str = ""
    result: Expr | None = None  # for identification steps: the derivative read off
    moves: tuple = ()           # every (variable, its differential) when several move at once
    extra: dict = field(default_factory=dict, compare=False)
    meanings: tuple = ()        # (name, what it stands for): a step written with the cell's definitions

    def meaning(self) -> tuple[Expr, Expr]:
        """``(node, differential)`` with every name of a definition and its differential (``h``,
        ``dh``) replaced by what it stands for: the equality the step states, in the cell's symbols."""
        if not self.meanings:
            return self.node, self.differential
        from .expr import substitute
        names = dict(self.meanings)
        return substitute(self.node, names), substitute(self.differential, names)

    @property
    def shapes(self) -> str:
        """For the chain rule, the shapes of the Jacobians it multiplies: (1×m)(m×n) = 1×n. Given
        only when the differential is in the direction of one variable, the step's own ``dvar``."""
        from .rules import Add, Mul, Transpose
        if len(self.children) != 1 or self.var is None or isinstance(self.node, (Add, Mul, Transpose, Sym)):
            return ""
        var = self._moving_variable()
        arg = self.children[0][0]
        if var is None or arg == var:
            return ""
        out, mid, n = _numel(self.node), _numel(arg), _numel(var)
        if None in (out, mid, n):
            return ""
        return f"({out}×{mid})({mid}×{n}) = {out}×{n}"

    def _moving_variable(self):
        """The one variable whose direction the differential is written in, when it is ``dvar``."""
        moves = self.moves or ((self.var, self.dvar),)
        free = self.differential.free
        moving = [(v, dv) for v, dv in moves if dv is not None and dv.free & free]
        if len(moving) != 1 or moving[0][1] != self.dvar or not self.node.depends(moving[0][0]):
            return None
        return moving[0][0]

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
