"""Exported code for the matrix functions and the spectral operations (``codegen`` asks here for
e^X, X^{1/2}, log X and their Fréchet derivatives, eigen- and singular values and vectors, the
nuclear and ∞-norms, the pseudo-inverse), for NumPy, JAX and PyTorch.

NumPy calls SciPy (``expm``, ``sqrtm``, ``logm``, ``solve_sylvester``), which the plan runner
(``program.py``) knows; what a library lacks is a small helper function written into the source:
the Fréchet derivative of log through the logarithm of [[X, E], [0, X]] (NumPy), and for JAX and
PyTorch functions of a diagonalizable matrix through its eigendecomposition X = V diag(w) V⁻¹
(f(X) = V diag(f(w)) V⁻¹, Fréchet derivatives by the divided differences of f on w, Sylvester
equations by V⁻¹EV / (w_i + w_j)). Symmetric eigenproblems take the symmetric part (X + Xᵀ)/2, as
the numeric check does."""
from __future__ import annotations

from .errors import DerivError
from .expr import Expr, postorder
from .rules.matfunc import ExpFrechet, MatExp
from .rules.matrix import PseudoInverse
from .rules.norms import InfNorm, InfSubgradient
from .rules.spectral import Eigenvalue, Eigenvector, NuclearNorm, SingularValue, SingularVector, SVDPolar
from .rules.sqrtlog import LogFrechet, MatLog, MatSqrt, SqrtFrechet

CODE = {
    "numpy": {
        "expm": "scipy.linalg.expm({x})", "expm_frechet": "scipy.linalg.expm_frechet({x}, {e}, compute_expm=False)",
        "sqrtm": "scipy.linalg.sqrtm({x})", "logm": "scipy.linalg.logm({x})",
        "sylvester": "scipy.linalg.solve_sylvester({s}, {s}, {e})", "logm_frechet": "_logm_frechet({x}, {e})",
        "eigh": "np.linalg.eigh(({x} + {x}.T) / 2)", "svd": "np.linalg.svd({x}, full_matrices=False)",
        "svdvals": "np.linalg.svd({x}, compute_uv=False)",
        "argmax": "np.arange(np.size({x})).reshape(np.shape({x})) == np.argmax(np.abs({x}))",
    },
    "jax": {
        "expm": "jax.scipy.linalg.expm({x})",
        "expm_frechet": "jax.scipy.linalg.expm_frechet({x}, {e}, compute_expm=False)",
        "sqrtm": "jnp.real(jax.scipy.linalg.sqrtm({x}))", "logm": "_logm({x})",
        "sylvester": "jax.scipy.linalg.solve_sylvester({s}, {s}, {e})", "logm_frechet": "_logm_frechet({x}, {e})",
        "eigh": "jnp.linalg.eigh(({x} + {x}.T) / 2)", "svd": "jnp.linalg.svd({x}, full_matrices=False)",
        "svdvals": "jnp.linalg.svd({x}, compute_uv=False)",
        "argmax": "jnp.arange(jnp.size({x})).reshape(jnp.shape({x})) == jnp.argmax(jnp.abs({x}))",
    },
    "torch": {
        "expm": "torch.linalg.matrix_exp({x})", "expm_frechet": "_expm_frechet({x}, {e})",
        "sqrtm": "_sqrtm({x})", "logm": "_logm({x})", "sylvester": "_sylvester({s}, {e})",
        "logm_frechet": "_logm_frechet({x}, {e})",
        "eigh": "torch.linalg.eigh(({x} + {x}.T) / 2)", "svd": "torch.linalg.svd({x}, full_matrices=False)",
        "svdvals": "torch.linalg.svdvals({x})",
        "argmax": "torch.arange({x}.numel()).reshape({x}.shape) == torch.argmax(torch.abs({x}))",
    },
}
IMPORTS = {"numpy": "import scipy.linalg", "jax": "import jax.scipy.linalg", "torch": ""}
LIBRARY_CALLS = ("scipy.linalg.", "jax.scipy.linalg.")


def linalg_code(em, e: Expr, a: list[str]) -> str | None:
    """The code of one of these operations from its arguments' names ``a``; None for any other node.
    A decomposition shared by a value and its vectors (one ``eigh``, one ``svd``) is computed once."""
    c, m = CODE[em.backend], em.b["m"]
    if isinstance(e, MatExp):
        return c["expm"].format(x=a[0])
    if isinstance(e, ExpFrechet):
        return c["expm_frechet"].format(x=a[0], e=a[1])
    if isinstance(e, MatSqrt):
        return c["sqrtm"].format(x=a[0])
    if isinstance(e, MatLog):
        return c["logm"].format(x=a[0])
    if isinstance(e, SqrtFrechet):
        return c["sylvester"].format(s=a[0], e=a[1])
    if isinstance(e, LogFrechet):
        return c["logm_frechet"].format(x=a[0], e=a[1])
    if isinstance(e, PseudoInverse):
        return f"{m}.linalg.pinv({a[0]})"
    if isinstance(e, InfNorm):
        return f"{m}.max({m}.abs({a[0]})).reshape(1, 1)"
    if isinstance(e, InfSubgradient):
        return f"{m}.sign({a[0]}) * ({c['argmax'].format(x=a[0])})"
    if isinstance(e, NuclearNorm):
        return f"{m}.sum({c['svdvals'].format(x=a[0])}).reshape(1, 1)"
    if isinstance(e, SVDPolar):
        svd = em.tmp(c["svd"].format(x=a[0]))
        return f"{svd}[0] @ {svd}[2]"
    if isinstance(e, (Eigenvalue, Eigenvector)):
        k = _index(e, "eigen")
        pair = em.tmp(c["eigh"].format(x=a[0]))
        return f"{pair}[0][{k}].reshape(1, 1)" if isinstance(e, Eigenvalue) else f"{pair}[1][:, {_slice(k)}]"
    if isinstance(e, SingularValue):
        return f"{c['svdvals'].format(x=a[0])}[{_index(e, 'singular')}].reshape(1, 1)"
    if isinstance(e, SingularVector):
        k = _index(e, "singular")
        svd = em.tmp(c["svd"].format(x=a[0]))
        return f"{svd}[0][:, {_slice(k)}]" if e.side == "u" else f"{svd}[2][{_slice(k)}, :].T"
    return None


def _index(e, kind: str) -> int:
    """Where the value is in the library's order: eigenvalues increase (the largest is -1), singular
    values decrease (the largest is 0); a position counted from the end needs no size."""
    if e.order == "index":
        raise NotImplementedError("an eigen- or singular value with a letter as its index")
    if kind == "eigen":
        return 0 if e.order == "min" else -(1 if e.order == "max" else int(e.order))
    return -1 if e.order == "min" else (0 if e.order == "max" else int(e.order) - 1)


def _slice(k: int) -> str:
    """The slice of one position that keeps the axis: -1 → ``-1:``, 0 → ``0:1``."""
    return f"{k}:" if k == -1 else f"{k}:{k + 1}"


def check_exportable(roots) -> None:
    """A ``DerivError`` for what the export cannot write: λ_i(X) with a letter for i."""
    for root in roots:
        for node in postorder(root):
            if isinstance(node, (Eigenvalue, Eigenvector, SingularValue, SingularVector)) and node.order == "index":
                raise DerivError(f"no code for {'λ' if isinstance(node, (Eigenvalue, Eigenvector)) else 'σ'}"
                                 f"_{node.which}(…) with the letter {node.which} as its index: write the index as a "
                                 "number (λ_2(X)), or λ_max / λ_min, to export code")


def linalg_preamble(em, source: str) -> tuple[list[str], list[str]]:
    """(imports, helper functions) the body ``source`` needs."""
    imports = [IMPORTS[em.backend]] if IMPORTS[em.backend] and any(lib in source for lib in LIBRARY_CALLS) else []
    helpers: list[str] = []
    for name, lines in HELPERS[em.backend].items():
        if f"{name}(" in source:
            helpers += ["", *lines, ""]
    return imports, helpers


_EIG = {  # for JAX and PyTorch: f(X) through X = V diag(w) V⁻¹ (complex, as eig gives), the real part returned
    "jax": ("jnp", "jnp.linalg.eig", "jnp.linalg.inv", "jnp.diag", ".astype(v.dtype)"),
    "torch": ("torch", "torch.linalg.eig", "torch.linalg.inv", "torch.diag", ".to(v.dtype)"),
}


def _eig_helpers(backend: str) -> dict:
    m, eig, inv, diag, cast = _EIG[backend]
    divided = [
        "    d = w[:, None] - w[None, :]",
        f"    same = {m}.abs(d) <= 1e-12 * {m}.abs(w)[None, :]",
        f"    f = {m}.where(same, 1.0 / w[None, :] + 0.0 * d, (lw[:, None] - lw[None, :]) / {m}.where(same, 1.0, d))",
    ]
    out = {
        "_logm": ["def _logm(x):", f"    w, v = {eig}(x)",
                  f"    return {m}.real(v @ {diag}({m}.log(w)) @ {inv}(v))"],
        "_logm_frechet": ["def _logm_frechet(x, e):", f"    w, v = {eig}(x)", f"    vi = {inv}(v)",
                          f"    lw = {m}.log(w)", *divided,
                          f"    return {m}.real(v @ (f * (vi @ e{cast} @ v)) @ vi)"],
    }
    if backend == "torch":
        out["_sqrtm"] = ["def _sqrtm(x):", f"    w, v = {eig}(x)",
                         f"    return {m}.real(v @ {diag}({m}.sqrt(w)) @ {inv}(v))"]
        out["_sylvester"] = ["def _sylvester(s, e):", "    # the L with s L + L s = e", f"    w, v = {eig}(s)",
                             f"    vi = {inv}(v)", f"    return {m}.real(v @ ((vi @ e{cast} @ v) / (w[:, None] + w[None, :])) @ vi)"]
        out["_expm_frechet"] = ["def _expm_frechet(x, e):", "    # the upper right block of exp([[x, e], [0, x]])",
                                "    n = x.shape[0]", "    z = torch.zeros_like(x)",
                                "    return torch.linalg.matrix_exp(torch.cat([torch.cat([x, e], 1), "
                                "torch.cat([z, x], 1)], 0))[:n, n:]"]
    return out


HELPERS = {
    "numpy": {
        "_logm_frechet": ["def _logm_frechet(x, e):",
                          "    # the upper right block of log([[x, e], [0, x]])",
                          "    n = x.shape[0]",
                          "    top = np.concatenate((x, e), axis=1)",
                          "    bottom = np.concatenate((np.zeros_like(x), x), axis=1)",
                          "    block = scipy.linalg.logm(np.concatenate((top, bottom), axis=0))",
                          "    return block[:n, n:]"],
    },
    "jax": _eig_helpers("jax"),
    "torch": _eig_helpers("torch"),
}


__all__ = ["linalg_code", "linalg_preamble", "check_exportable"]
