"""Fused CUDA element-wise kernels (through CuPy) of the CG vector updates.

Each update is a single pass over memory. CuPy is imported inside the functions, so this
module imports on a machine without a GPU; :mod:`.kernels` calls it only for CuPy arrays.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def _update_iterate_kernel() -> Any:
    import cupy  # noqa: PLC0415

    return cupy.ElementwiseKernel("T p, T q, T alpha", "T x, T r",
                                  "x += alpha * p; r -= alpha * q", "sciml_cg_update_iterate")


@lru_cache(maxsize=None)
def _update_direction_kernel() -> Any:
    import cupy  # noqa: PLC0415

    return cupy.ElementwiseKernel("T z, T beta", "T p", "p = z + beta * p",
                                  "sciml_cg_update_direction")


def cg_update_iterate(x: Any, r: Any, p: Any, q: Any, alpha: float) -> None:
    """``x += alpha p`` and ``r -= alpha q`` in one pass."""
    _update_iterate_kernel()(p, q, x.dtype.type(alpha), x, r)


def cg_update_direction(p: Any, z: Any, beta: float) -> None:
    """``p = z + beta p`` in one pass."""
    _update_direction_kernel()(z, p.dtype.type(beta), p)
