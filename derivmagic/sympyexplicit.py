"""SymPy matrix expressions of ``Derivation.result`` that ``doit()`` makes explicit once the
matrices and sizes in them are numbers (the contract: substitute explicit matrices, ``doit()``,
get the numbers).

SymPy 1.14 leaves its ``OneMatrix`` unevaluated beside explicit matrices (``(𝟏ᵀ x).subs(x, Matrix(...))
.doit()`` is ``1*Matrix(...)``, and ``x + 𝟏`` stays ``Matrix(...) + 1``), and ``DiagMatrix.doit`` does
not evaluate its vector (``DiagMatrix(exp.(Matrix(...)))`` stays as it is). This module imports
SymPy; import it only where SymPy is used."""
from __future__ import annotations

import sympy
from sympy.matrices.expressions import diagonal
from sympy.matrices.expressions.special import OneMatrix


class Ones(OneMatrix):
    """``OneMatrix`` whose ``doit()`` is ``ImmutableMatrix.ones`` when both sizes are integers; its
    transpose and adjoint stay ``Ones``. Prints as SymPy prints ``OneMatrix``."""

    def doit(self, **hints):
        rows, cols = (a.doit(**hints) for a in self.args) if hints.get("deep", True) else self.args
        if rows.is_Integer and cols.is_Integer:
            return sympy.ImmutableMatrix.ones(int(rows), int(cols))
        return Ones(rows, cols)

    def _eval_transpose(self):
        return Ones(self.cols, self.rows)

    def _eval_adjoint(self):
        return Ones(self.cols, self.rows)


class DiagMatrix(diagonal.DiagMatrix):
    """SymPy's ``DiagMatrix`` (the same name, so it prints the same) whose ``doit()`` evaluates
    its vector first."""

    def doit(self, **hints):
        vector = self._vector.doit(**hints) if hints.get("deep", True) else self._vector
        return diagonal.DiagMatrix(vector).doit(**hints)
