"""``python -m derivmagic.examples``: derivations of the classic examples, printed."""
from __future__ import annotations

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


def main() -> None:
    for title, cell in EXAMPLES:
        print(f"── {title}: {cell}")
        print(derive(cell).text)
        print()


if __name__ == "__main__":
    main()
