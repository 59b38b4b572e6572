"""The CUDA kernel (through CuPy) of the stencil product ``y = A u``.

Used only when an array is a CuPy array; CuPy itself is imported inside the functions, so
the kernel source can be compiled and checked on a machine without a GPU. The kernel
evaluates exactly the formula of :mod:`sciml.kernels.stencil` (diagonal and lower-face
weights; 1D and 2D grids are run as 3D grids with leading extents 1), one thread per
unknown, reading ``x`` and writing ``y`` once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

_STENCIL_SOURCE = r"""
extern "C" __global__ void stencil_apply(
        const T* __restrict__ x, T* __restrict__ y,
        const T* __restrict__ diag, const T* __restrict__ w0,
        const T* __restrict__ w1, const T* __restrict__ w2,
        const long long n0, const long long n1, const long long n2,
        const int variable, const T centre) {
    const long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long s1 = n2, s0 = n1 * n2;
    if (k >= n0 * s0) return;
    const long long i2 = k % n2, i1 = (k / n2) % n1, i0 = k / s0;
    T acc;
    if (variable) {
        acc = diag[k] * x[k];
        if (i0 > 0)      acc -= w0[k] * x[k - s0];
        if (i0 < n0 - 1) acc -= w0[k + s0] * x[k + s0];
        if (i1 > 0)      acc -= w1[k] * x[k - s1];
        if (i1 < n1 - 1) acc -= w1[k + s1] * x[k + s1];
        if (i2 > 0)      acc -= w2[k] * x[k - 1];
        if (i2 < n2 - 1) acc -= w2[k + 1] * x[k + 1];
    } else {
        acc = centre * x[k];
        if (i0 > 0)      acc -= x[k - s0];
        if (i0 < n0 - 1) acc -= x[k + s0];
        if (i1 > 0)      acc -= x[k - s1];
        if (i1 < n1 - 1) acc -= x[k + s1];
        if (i2 > 0)      acc -= x[k - 1];
        if (i2 < n2 - 1) acc -= x[k + 1];
    }
    y[k] = acc;
}
"""

_THREADS = 256


def stencil_source(dtype: Any) -> str:
    """The CUDA C source of the stencil kernel for ``dtype`` (float32 or float64)."""
    ctype = {"float32": "float", "float64": "double"}[np.dtype(dtype).name]
    return f"typedef {ctype} T;\n" + _STENCIL_SOURCE


@lru_cache(maxsize=None)
def _stencil_kernel(dtype_name: str) -> Any:
    import cupy  # noqa: PLC0415

    return cupy.RawKernel(stencil_source(dtype_name), "stencil_apply")


def stencil_apply(op: Any, u: Any, y: Any) -> None:
    """``y = A u`` on the GPU for a :class:`~sciml.kernels.stencil.StencilOperator` ``op``."""
    import cupy  # noqa: PLC0415

    dtype = cupy.dtype(y.dtype)
    if u.dtype != dtype:
        u = u.astype(dtype)
    shape = (1,) * (3 - op.ndim) + op.grid_shape
    if op.constant:
        dummy = cupy.empty(1, dtype=dtype)
        diag, weights = dummy, [dummy] * 3
    else:
        diag = cupy.asarray(op.diag, dtype=dtype)
        padded = [None] * (3 - op.ndim) + list(op.lower)
        weights = [cupy.empty(1, dtype=dtype) if w is None else cupy.asarray(w, dtype=dtype)
                   for w in padded]
    n = u.size
    blocks = (n + _THREADS - 1) // _THREADS
    _stencil_kernel(dtype.name)(
        (blocks,), (_THREADS,),
        (cupy.ascontiguousarray(u), y, diag, *weights,
         cupy.int64(shape[0]), cupy.int64(shape[1]), cupy.int64(shape[2]),
         cupy.int32(0 if op.constant else 1), dtype.type(2.0 * op.ndim)))
