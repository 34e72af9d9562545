"""Operations and their differentiation rules, one family per module."""
from .elementwise import Diag, DiagonalOf, Func, FUNCTIONS, Hadamard, Pow, diag, diagonal, func, hadamard, power
from .linear import Add, Mul, Transpose, add, mul, neg, transpose
from .matrix import Det, Inverse, PseudoInverse, Trace, det, inverse, pinv, trace
from .matfunc import ExpFrechet, MatExp, exp_frechet, matexp, matrix_function, trace_matrix_function
from .sqrtlog import LogFrechet, MatLog, MatSqrt, SqrtFrechet, log_frechet, matlog, matsqrt, sqrt_frechet
from .norms import InfNorm, InfSubgradient, Norm, SquaredNorm, inf_norm, norm, squared_norm
from .softmax import Softmax, softmax
from .spectral import (Eigenvalue, Eigenvector, NuclearNorm, SingularValue, SingularVector, SVDPolar, eigenvalue,
                       nuclear_norm, singular_value)

__all__ = [
    "Add", "Mul", "Transpose", "add", "mul", "neg", "transpose",
    "Det", "Inverse", "Trace", "det", "inverse", "trace", "PseudoInverse", "pinv",
    "Diag", "DiagonalOf", "diagonal", "Func", "FUNCTIONS", "Hadamard", "Pow", "diag", "func", "hadamard", "power",
    "Norm", "norm", "SquaredNorm", "squared_norm", "Softmax", "softmax",
    "MatExp", "ExpFrechet", "matrix_function", "trace_matrix_function", "matexp", "exp_frechet",
    "MatSqrt", "SqrtFrechet", "MatLog", "LogFrechet", "matsqrt", "sqrt_frechet", "matlog", "log_frechet",
    "InfNorm", "InfSubgradient", "inf_norm",
    "Eigenvalue", "Eigenvector", "SingularValue", "SingularVector", "NuclearNorm", "SVDPolar", "eigenvalue",
    "singular_value", "nuclear_norm",
]
