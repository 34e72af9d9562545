"""derivmagic: matrix calculus from LaTeX, with shapes, steps, layouts and a numeric check.

``%load_ext derivmagic`` registers the ``%%derive`` cell magic (nothing is registered on import).
"""
from .derivation import Derivation, derive, derive_all
from .document import Statement, check_document
from .errors import DerivError, LimitError, ParseError, ShapeError

__all__ = ["derive", "derive_all", "check_document", "Statement", "Derivation", "DerivError", "ParseError", "ShapeError", "LimitError"]
__version__ = "0.1.0"


def load_ipython_extension(ipython):
    from .magic import load
    load(ipython)


def unload_ipython_extension(ipython):
    from .magic import unload
    unload(ipython)
