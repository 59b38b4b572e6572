"""The vector kernels of a CG iteration, written once against the array namespace.

CG needs two fused steps per iteration; keeping them as named kernels lets each backend do
them in as few passes over memory as it can:

* :func:`direction_matvec_dot` ``p = z + beta p``, ``q = A p`` and ``p . q``;
* :func:`update_iterate` ``x += alpha p``, ``r -= alpha q`` and ``r . r``.

NumPy works block by block so that each block's operands stay in cache (for a
:class:`~sciml.kernels.stencil.StencilOperator` the direction update, the stencil and the dot product
share one sweep over slabs of planes). CuPy uses fused element-wise CUDA kernels
(:mod:`sciml.kernels.cuda_stencil`, :mod:`.cuda_kernels`). The arithmetic is the same on both, and the same as SciPy's CG.

Splitting the NumPy sweeps over two threads was measured and rejected: at 128^3 on the
2-core machine it was 1.2x slower than one thread (the sweep is memory-bound).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sciml.backend import array_namespace
from sciml.kernels.stencil import StencilOperator

#: elements per block on the NumPy path (512 KiB of float64: a few blocks fit in L2)
BLOCK = 1 << 16
def apply(A: Any, x: Any, out: Any = None) -> Any:
    """``A @ x`` for any accepted operator type, into ``out`` when given."""
    if isinstance(A, StencilOperator):
        return A.matvec(x, out=out)
    y = A @ x
    if out is None:
        return y
    out[...] = y
    return out


def _blocks(n: int) -> list[slice]:
    return [slice(s, min(s + BLOCK, n)) for s in range(0, n, BLOCK)]


def direction_matvec_dot(A: Any, p: Any, z: Any, beta: float, q: Any) -> float:
    """``p = z + beta p`` in place, ``q = A p``; return ``p . q``."""
    xp = array_namespace(p)
    if xp is not np:
        from . import cuda_kernels  # noqa: PLC0415 - GPU only

        cuda_kernels.cg_update_direction(p, z, beta)
        apply(A, p, out=q)
        return float(xp.dot(p, q))
    if not isinstance(A, StencilOperator):
        for b in _blocks(p.size):
            p[b] *= beta
            p[b] += z[b]
        apply(A, p, out=q)
        return float(np.dot(p, q))
    return _stencil_sweep(A, p, z, beta, q)


def _stencil_sweep(A: StencilOperator, p: Any, z: Any, beta: float, q: Any) -> float:
    """One sweep over slabs: each slab's direction is updated one slab ahead of the stencil,
    which reads a plane of halo on each side."""
    pg, zg, qg = (v.reshape(A.grid_shape) for v in (p, z, q))
    slabs = A.slabs()

    def update(k: int) -> None:
        start, stop = slabs[k]
        pg[start:stop] *= beta
        pg[start:stop] += zg[start:stop]

    update(0)
    total = 0.0
    for k, (start, stop) in enumerate(slabs):
        if k + 1 < len(slabs):
            update(k + 1)
        A.apply_slab(pg, qg, start, stop)
        total += float(np.dot(pg[start:stop].reshape(-1), qg[start:stop].reshape(-1)))
    return total


def update_iterate(x: Any, r: Any, p: Any, q: Any, alpha: float) -> float:
    """``x += alpha p``; ``r -= alpha q``; return ``r . r``."""
    xp = array_namespace(x)
    if xp is not np:
        from . import cuda_kernels  # noqa: PLC0415 - GPU only

        cuda_kernels.cg_update_iterate(x, r, p, q, alpha)
        return float(xp.dot(r, r))
    total = 0.0
    scratch = np.empty(min(BLOCK, x.size), dtype=x.dtype)  # no per-block allocation
    for b in _blocks(x.size):
        tmp = scratch[: b.stop - b.start]
        np.multiply(p[b], alpha, out=tmp)
        x[b] += tmp
        np.multiply(q[b], alpha, out=tmp)
        r[b] -= tmp
        total += float(np.dot(r[b], r[b]))
    return total
