"""The classic examples, and the demo notebook built from them.

``python -m derivmagic.examples`` prints the derivations in a terminal;
``python -m derivmagic.examples --notebook demo.ipynb`` rebuilds the demo notebook from
``NOTEBOOK`` and executes it in a real kernel (nbclient), so it is stored with its outputs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import derive

EXAMPLES = [
    ("least squares", r"\nabla_x \|Ax - b\|_2^2"),
    ("quadratic form", r"\nabla_x x^T A x"),
    ("the same, numerator layout", r"\frac{\partial}{\partial x} x^T A x"),
    ("log-determinant", "\\nabla_\\Sigma \\log\\det\\Sigma\n\\Sigma \\in \\mathbb{S}^n_{++}"),
    ("softmax cross-entropy", "\\hat{y} = \\operatorname{softmax}(\\theta)\nJ = -y^T \\log \\hat{y}\n\\nabla_\\theta J"),
    ("a Hessian", r"\nabla^2_x \left(x^T A x + b^T x\right)"),
    ("a matrix variable", r"\nabla_X \operatorname{tr}(X^T A X)"),
    ("logistic regression", r"\nabla_w \mathbf{1}^T \log(1 + \exp(-y \odot Xw))"),
]

# The demo notebook: (cell type, source, tags). A code cell tagged "derive-error" shows an
# error a user made (its message on stderr, no traceback); every other %%derive cell shows
# a derivation (text/latex). Keep the cells self-contained: they run top to bottom.
NOTEBOOK = [
    ("markdown", """# derivmagic: matrix calculus from LaTeX

Write the derivative the way lecture notes do, under `%%derive`. Each cell shows

1. **Interpretation**: every symbol with the shape it was read with;
2. **Steps**: the differential of each piece, the rule beside it, and for the chain rule the two
   Jacobians it multiplies with their shapes under the braces;
3. **Result**: boxed, with its shape and layout;
4. **Check**: finite differences at random points, the sizes used and the largest error.""", ()),
    ("code", "%load_ext derivmagic", ()),
    ("markdown", """## Least squares

Declarations are optional (shapes are inferred from use); here they fix the names of the sizes.""", ()),
    ("code", """%%derive
\\nabla_x \\|Ax - b\\|_2^2
A \\in \\mathbb{R}^{m \\times n},\\; x \\in \\mathbb{R}^n,\\; b \\in \\mathbb{R}^m""", ()),
    ("markdown", """## A quadratic form

Nothing declared: `A` is read as a square matrix because $x^T A x$ must be a scalar.""", ()),
    ("code", """%%derive
\\nabla_x x^T A x""", ()),
    ("markdown", """## The same derivative in both layouts, side by side

$\\partial f / \\partial x$ of a scalar $f$ is a row $1 \\times n$ in numerator layout and a column
$n \\times 1$ in denominator layout (the gradient). `--layout` picks one in a cell; the Python API
gives both.""", ()),
    ("code", """from derivmagic import derive
from derivmagic.report import side_by_side

cell = r"\\frac{\\partial}{\\partial x} \\|Ax - b\\|_2^2"
side_by_side(derive(cell, layout="numerator"), derive(cell, layout="denominator"))""", ()),
    ("code", """%%derive --layout denominator
\\frac{\\partial}{\\partial x} \\|Ax - b\\|_2^2""", ()),
    ("markdown", """## $\\log\\det\\Sigma$

$\\Sigma$ declared symmetric positive definite, so the check samples such matrices.""", ()),
    ("code", """%%derive
\\nabla_\\Sigma \\log\\det\\Sigma
\\Sigma \\in \\mathbb{S}^n_{++}""", ()),
    ("markdown", """## Softmax cross-entropy

Definitions can come before the target, like the *where* clauses of lecture notes.""", ()),
    ("code", """%%derive
\\hat{y} = \\operatorname{softmax}(\\theta)
J = -y^T \\log \\hat{y}
\\nabla_\\theta J""", ()),
    ("markdown", "## A Hessian", ()),
    ("code", """%%derive
\\nabla^2_x \\left(x^T A x + b^T x\\right)""", ()),
    ("markdown", """## A matrix variable

For a matrix variable the steps stay in differential form, $\\mathrm{d}f = \\operatorname{tr}(G^T \\mathrm{d}X)$.""", ()),
    ("code", """%%derive
\\nabla_X \\|AX - B\\|_F^2""", ()),
    ("markdown", """## A shape error caught

$A$ is $3 \\times 4$ but $x$ has 3 entries: the message names both operands and their shapes, and the
caret points at the product.""", ()),
    ("code", """%%derive
\\nabla_x \\|Ax - b\\|_2^2
A \\in \\mathbb{R}^{3 \\times 4}, x \\in \\mathbb{R}^3""", ("derive-error",)),
    ("markdown", """## A wrong answer from lecture notes caught

Write the notes' answer after `=`: each claimed equality is judged, and a false one gets the reason,
a small counterexample and the correct expression. (These notes give $2A^TAx + A^Tb$; the factor 2 is
missing on the second term.)""", ()),
    ("code", """%%derive
\\nabla_x \\|Ax + b\\|_2^2 = 2A^TAx + A^Tb""", ()),
    ("markdown", """A pasted derivation is judged line by line: $2Ax$ holds only for a symmetric $A$.""", ()),
    ("code", """%%derive --no-steps
\\begin{aligned}
\\nabla_x x^T A x &= (A + A^T) x \\\\
&= 2Ax
\\end{aligned}""", ()),
    ("markdown", """## The numbers at your own arrays

`--at` evaluates the result at the notebook's NumPy arrays of the same names (sizes come from the
arrays; vectors are columns). `--name` keeps the derivation as a Python object.""", ()),
    ("code", """import numpy as np

rng = np.random.default_rng(0)
A, b, x = rng.standard_normal((4, 2)), rng.standard_normal(4), rng.standard_normal(2)""", ()),
    ("code", """%%derive --at --no-steps --name ls
\\nabla_x \\|Ax - b\\|_2^2""", ()),
    ("code", """2 * A.T @ (A @ x - b)  # by hand: the numbers --at showed""", ()),
    ("code", """ls.result  # the result as a SymPy expression in the cell's own symbols""", ()),
    ("markdown", """## A matrix-valued function of a matrix

The differential is always shown; `--vec` adds the Jacobian of $\\operatorname{vec} F$ by
$\\operatorname{vec} X$ as a Kronecker expression.""", ()),
    ("code", """%%derive --vec --no-steps
\\frac{\\partial}{\\partial X} X^{-1}""", ()),
    ("markdown", """## Index notation

Sums over indices are read into matrix form, and the interpretation says how: here the $x_i$ are
the rows of a data matrix $X$.""", ()),
    ("code", """%%derive --no-steps
\\nabla_w \\sum_i (y_i - w^T x_i)^2""", ()),
    ("markdown", """## Several variables at once

One differential, every variable moving; each gradient is read off it.""", ()),
    ("code", """%%derive --no-steps
\\nabla_{W,b} \\|\\sigma(Wx + b) - y\\|^2""", ()),
    ("markdown", """## Read as you wrote it

TeX's argument rule (`\\frac12` is ½, `\\sqrt2` is √2), and letters read by convention: here `c` is
a scalar constant. Where another reading would give a derivative of another shape, the result says
so and how to declare the letter otherwise.""", ()),
    ("code", """%%derive --no-steps
\\nabla_x \\frac12 x^T Q x + c""", ()),
    ("markdown", """## A derivation pasted from notes

Formulas as pasted (`$$…$$` blocks, prose around them); a block that begins with `=` continues the
derivation, and every link is judged, intermediate derivatives included.""", ()),
    ("code", """%%derive --no-steps
Least squares, as in the notes:
$$\\nabla_\\theta J(\\theta) = \\nabla_\\theta \\frac{1}{2}(X\\theta - y)^T(X\\theta - y)$$
$$= \\frac{1}{2}\\nabla_\\theta \\left(\\theta^T X^T X\\theta - 2\\theta^T X^T y + y^T y\\right)$$
$$= X^T X\\theta - X^T y$$
where $J(\\theta) = \\frac12\\|X\\theta - y\\|^2$.""", ()),
    ("markdown", """## Rules over arbitrary functions

A letter with no definition is an arbitrary differentiable function; a rule stated with its
derivatives is checked as a rule, on random smooth functions of the right signature.""", ()),
    ("code", """%%derive --no-steps
\\frac{\\partial z}{\\partial x} = \\frac{\\partial z}{\\partial y}\\frac{\\partial y}{\\partial x}""", ()),
    ("code", """%%derive --no-steps
\\nabla_x u^T v = \\left(\\frac{\\partial u}{\\partial x}\\right)^T v + \\left(\\frac{\\partial v}{\\partial x}\\right)^T u""", ()),
    ("markdown", """## Code export

`--code numpy|jax|torch` prints a function computing the value and the derivative from arrays;
`Derivation.to_function()` returns it, ready to call.""", ()),
    ("code", """%%derive --no-steps --code numpy --name layer
\\nabla_W \\|V \\tanh(W x) - y\\|^2""", ()),
    ("code", """f = layer.to_function()
V, W, x, y = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2), rng.standard_normal(3)
value, grad = f(W, V, x, y)
grad.shape""", ()),
    ("markdown", """## Session defaults and homework export

`%derive_config` sets the defaults of every later cell; `--latex` prints the LaTeX to copy, and
`Derivation.to_tex()` is a whole document that compiles with pdflatex.""", ()),
    ("code", "%derive_config --layout denominator --no-steps", ()),
    ("code", """%%derive --latex
\\frac{\\partial}{\\partial x} x^T A x""", ()),
    ("code", """%derive_config --reset
print(ls.to_tex()[:400])""", ()),
]


def build_notebook():
    """The demo notebook (unexecuted) as an ``nbformat`` node."""
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source, tags) in enumerate(NOTEBOOK):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source)
        cell["id"] = f"cell-{i:02d}"
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    return nb


def execute_notebook(nb, cwd: str | Path = ".", timeout: int = 300):
    """Run every cell in a fresh ipykernel (nbclient); the outputs are stored in ``nb``."""
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def write_notebook(path: str | Path) -> None:
    import nbformat
    path = Path(path)
    nb = execute_notebook(build_notebook(), cwd=path.resolve().parent)
    for cell in nb.cells:       # no run-dependent noise in the stored file
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m derivmagic.examples", allow_abbrev=False)
    ap.add_argument("--notebook", metavar="PATH", help="write the demo notebook, executed, to PATH")
    args = ap.parse_args(argv)
    if args.notebook:
        write_notebook(args.notebook)
        print(f"wrote {args.notebook}")
        return 0
    for title, cell in EXAMPLES:
        print(f"── {title}: {cell}")
        print(derive(cell).text)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
