"""The vector kernels of a CG iteration, written once against the array namespace.

CG needs three fused steps per iteration; keeping them as named kernels lets each backend
do them in as few passes over memory as it can:

* :func:`matvec_dot` ``q = A p`` and ``p . q``;
* :func:`update_iterate` ``x += alpha p``, ``r -= alpha q`` and ``r . r``;
* :func:`update_direction` ``p = z + beta p``.

On CuPy the updates are single fused element-wise kernels (:mod:`sciml.cuda_kernels`).
"""

from __future__ import annotations

from typing import Any

from sciml.backend import array_namespace


def apply(A: Any, x: Any, out: Any = None) -> Any:
    """``A @ x`` for any accepted operator type, into ``out`` when the operator supports it."""
    if out is not None and hasattr(A, "matvec") and hasattr(A, "grid_shape"):
        return A.matvec(x, out=out)
    y = A @ x
    if out is None:
        return y
    out[...] = y
    return out


def matvec_dot(A: Any, p: Any, q: Any) -> float:
    """Write ``A p`` into ``q`` and return ``p . q``."""
    xp = array_namespace(p)
    apply(A, p, out=q)
    return float(xp.dot(p, q))


def update_iterate(x: Any, r: Any, p: Any, q: Any, alpha: float) -> float:
    """``x += alpha p``; ``r -= alpha q``; return ``r . r``."""
    xp = array_namespace(x)
    if xp.__name__ == "cupy":
        from sciml import cuda_kernels  # noqa: PLC0415

        cuda_kernels.cg_update_iterate(x, r, p, q, alpha)
    else:
        x += alpha * p
        r -= alpha * q
    return float(xp.dot(r, r))


def update_direction(p: Any, z: Any, beta: float) -> None:
    """``p = z + beta p`` in place."""
    xp = array_namespace(p)
    if xp.__name__ == "cupy":
        from sciml import cuda_kernels  # noqa: PLC0415

        cuda_kernels.cg_update_direction(p, z, beta)
    else:
        p *= beta
        p += z
