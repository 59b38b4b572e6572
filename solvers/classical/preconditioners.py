"""Turning the ways users pass a preconditioner ``M`` into one callable ``r -> M r``."""

from __future__ import annotations

from typing import Any, Callable

import scipy.sparse as sp

from sciml.errors import UnsupportedTypeError


def as_preconditioner(M: Any, n: int) -> Callable[[Any], Any] | None:
    """Accept None, a callable, a LinearOperator, a sparse/dense matrix or a pyamg solver.

    Returns a function applying ``M`` (an approximation of ``A^-1``) or None.
    """
    if M is None:
        return None
    if hasattr(M, "aspreconditioner"):  # a pyamg multilevel_solver
        M = M.aspreconditioner()
    shape = getattr(M, "shape", None)
    if shape is not None and tuple(shape) != (n, n):
        raise UnsupportedTypeError(f"M has shape {tuple(shape)}, expected {(n, n)}")
    if hasattr(M, "matvec"):
        return M.matvec
    if sp.issparse(M) or hasattr(M, "__matmul__"):
        return lambda r: M @ r
    if callable(M):
        return M
    raise UnsupportedTypeError(
        "M must be a LinearOperator, a matrix, a callable r -> M r or a pyamg solver; "
        f"got {type(M).__name__}")
