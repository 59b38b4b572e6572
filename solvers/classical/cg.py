"""sciml's conjugate gradient method, one code path for NumPy and CuPy."""

from __future__ import annotations

from typing import Any, Callable

from sciml.backend import array_namespace, get_namespace
from sciml.problems.linear import LinearProblem
from sciml.linear_solver import IterationResult, LinearSolver
from sciml.solver_base import Option, one_of

from . import kernels
from .preconditioners import as_preconditioner


def conjugate_gradient(A: Any, b: Any, x0: Any = None, *, rtol: float = 1e-6,
                       atol: float = 0.0, maxiter: int | None = None, M: Any = None,
                       callback: Callable[[Any], None] | None = None) -> IterationResult:
    """Preconditioned conjugate gradients for SPD ``A`` (Hestenes-Stiefel).

    Works on whatever array namespace ``b`` lives in. Stops when the recursive residual
    satisfies ``||r|| <= max(rtol ||b||, atol)``; the caller re-checks the true residual.
    Meeting ``p . A p <= 0`` (A not SPD, or breakdown) stops with that reason.

    Notes
    -----
    1. ``r = b - A x0``, ``z = M r``, ``p = z``, ``rho = r . z``.
    2. Repeat: ``q = A p``; ``alpha = rho / p . q``; ``x += alpha p``; ``r -= alpha q``;
       stop if ``||r||`` is small; ``z = M r``; ``beta = r . z / rho``; ``p = z + beta p``.

    With the same arithmetic order as :func:`scipy.sparse.linalg.cg`, so the iterates agree
    to rounding.
    """
    xp = array_namespace(b)
    n = b.shape[0]
    maxiter = 10 * n if maxiter is None else maxiter
    precondition = as_preconditioner(M, n)
    x = xp.zeros_like(b) if x0 is None else x0.astype(b.dtype, copy=True)
    r = b - kernels.apply(A, x) if x0 is not None else b.copy()
    rr = float(xp.dot(r, r))
    threshold = max(rtol * float(xp.linalg.norm(b)), atol)
    history = [rr**0.5]
    if rr**0.5 <= threshold:
        return IterationResult(x, 0, history, "converged")
    z = r if precondition is None else precondition(r)
    rho = rr if precondition is None else float(xp.dot(r, z))
    p = xp.zeros_like(b)
    q = xp.empty_like(b)
    beta = 0.0  # the first direction is z itself
    reason = f"maxiter ({maxiter}) reached"
    iterations = 0
    for iterations in range(1, maxiter + 1):
        pq = kernels.direction_matvec_dot(A, p, z, beta, q)
        if not pq > 0.0:
            reason = (f"breakdown: p.Ap = {pq:.3e} <= 0 at iteration {iterations} "
                      "(A is not symmetric positive definite, or the iteration broke down)")
            iterations -= 1
            break
        alpha = rho / pq
        rr = kernels.update_iterate(x, r, p, q, alpha)
        history.append(rr**0.5)
        if callback is not None:
            callback(x)
        if rr**0.5 <= threshold:
            reason = "converged"
            break
        if precondition is None:
            rho_new, z = rr, r
        else:
            z = precondition(r)
            rho_new = float(xp.dot(r, z))
        beta, rho = rho_new / rho, rho_new
    return IterationResult(x, iterations, history, reason)


class CG(LinearSolver):
    """Conjugate gradients, sciml's own implementation (NumPy or CuPy, matrix-free).

    Options: ``M`` (preconditioner), ``backend`` (``None`` keeps the arrays where they are,
    ``"cupy"`` moves the system to the GPU). PDE problems are discretised matrix-free.
    """

    name = "cg"
    description = "Conjugate gradients (sciml's own; NumPy or CuPy, matrix-free, optional M)"
    options = {"M": Option(None),
               "backend": Option(None, one_of(None, "numpy", "cupy"), "None, 'numpy' or 'cupy'")}
    prefers_matrix_free = True

    def convert(self, lp: LinearProblem, options: dict[str, Any]) -> LinearProblem:
        """Move the system to ``backend``'s device when one is named."""
        return move_to_backend(lp, options["backend"])

    def iterate(self, lp: LinearProblem, state: Any, options: dict[str, Any], *, rtol: float,
                atol: float, maxiter: int | None,
                callback: Callable[[Any], None] | None) -> IterationResult:
        return conjugate_gradient(lp.A, lp.b, lp.x0, rtol=rtol, atol=atol, maxiter=maxiter,
                                  M=options["M"], callback=callback)


def move_to_backend(lp: LinearProblem, backend: str | None) -> LinearProblem:
    """``lp`` with its operator and vectors in ``backend``'s namespace ("numpy" or "cupy"),
    or unchanged for None; a :class:`~sciml.kernels.stencil.StencilOperator` moves its
    coefficient arrays, a matrix becomes a CuPy (sparse) matrix."""
    if backend is None:
        return lp
    xp = get_namespace(backend)
    A = lp.A.to(xp) if hasattr(lp.A, "to") else _move_matrix(lp.A, xp)
    x0 = None if lp.x0 is None else xp.asarray(lp.x0)
    return LinearProblem(A, xp.asarray(lp.b), x0=x0, grid_shape=lp.grid_shape)


def _move_matrix(A: Any, xp: Any) -> Any:
    """Move a SciPy sparse or dense matrix to namespace ``xp`` (CuPy: cupyx.scipy.sparse)."""
    import scipy.sparse as sp  # noqa: PLC0415

    if xp.__name__ == "cupy" and sp.issparse(A):
        import cupyx.scipy.sparse as csp  # noqa: PLC0415

        return csp.csr_matrix(A)
    return xp.asarray(A)
