"""The vector kernels of a CG iteration, written once against the array namespace.

CG needs two fused steps per iteration; keeping them as named kernels lets each backend do
them in as few passes over memory as it can:

* :func:`direction_matvec_dot` ``p = z + beta p``, ``q = A p`` and ``p . q``;
* :func:`update_iterate` ``x += alpha p``, ``r -= alpha q`` and ``r . r``.

NumPy works block by block so that each block's operands stay in cache (for a
:class:`~sciml.stencil.StencilOperator` the direction update, the stencil and the dot product
share one sweep over slabs of planes), and splits large sweeps over ``SCIML_NUM_THREADS``
threads (default: the CPU count, at most 2; NumPy releases the GIL inside each block
operation). CuPy uses fused element-wise CUDA kernels (:mod:`sciml.cuda_kernels`). The
arithmetic is the same on both, and the same as SciPy's CG.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from sciml.backend import array_namespace
from sciml.stencil import StencilOperator

#: elements per block on the NumPy path (512 KiB of float64: a few blocks fit in L2)
BLOCK = 1 << 16
#: below this many unknowns a sweep runs on one thread (thread hand-off costs more)
THREADED_MIN_SIZE = 1 << 18


def num_threads() -> int:
    """Threads for NumPy sweeps: ``SCIML_NUM_THREADS`` or min(2, CPU count)."""
    value = os.environ.get("SCIML_NUM_THREADS")
    return max(1, int(value)) if value else min(2, os.cpu_count() or 1)


@lru_cache(maxsize=None)
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sciml-sweep")


def _parallel_sum(work: Callable[[Sequence[int]], float], items: int, size: int) -> float:
    """Run ``work`` on contiguous index ranges covering ``range(items)``; sum the results.

    One range per thread when the data are large enough, in a fixed order, so the sum is
    the same for the same thread count.
    """
    threads = min(num_threads(), items) if size >= THREADED_MIN_SIZE else 1
    if threads == 1:
        return work(range(items))
    cuts = np.linspace(0, items, threads + 1).astype(int)
    parts = [range(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    return sum(_pool(threads).map(work, parts))


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
        from sciml import cuda_kernels  # noqa: PLC0415 - GPU only

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
    which reads a plane of halo on each side.

    With several threads each takes a contiguous run of slabs; the first and last slab of
    every run are updated before the threads start, so no thread reads a halo plane that
    another thread has still to update.
    """
    pg, zg, qg = (v.reshape(A.grid_shape) for v in (p, z, q))
    slabs = A.slabs()

    def update(k: int) -> None:
        start, stop = slabs[k]
        pg[start:stop] *= beta
        pg[start:stop] += zg[start:stop]

    threads = min(num_threads(), len(slabs)) if p.size >= THREADED_MIN_SIZE else 1
    cuts = np.linspace(0, len(slabs), threads + 1).astype(int)
    done = sorted({int(c) for c in cuts[:-1]} | {int(c) - 1 for c in cuts[1:]})
    for k in done:
        update(k)
    ready = set(done)

    def sweep(ks: Sequence[int]) -> float:
        total = 0.0
        for k in ks:
            if k + 1 in ks and k + 1 not in ready:
                update(k + 1)
            start, stop = slabs[k]
            A.apply_slab(pg, qg, start, stop)
            total += float(np.dot(pg[start:stop].reshape(-1), qg[start:stop].reshape(-1)))
        return total

    if threads == 1:
        return sweep(range(len(slabs)))
    parts = [range(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    return sum(_pool(threads).map(sweep, parts))


def update_iterate(x: Any, r: Any, p: Any, q: Any, alpha: float) -> float:
    """``x += alpha p``; ``r -= alpha q``; return ``r . r``."""
    xp = array_namespace(x)
    if xp is not np:
        from sciml import cuda_kernels  # noqa: PLC0415 - GPU only

        cuda_kernels.cg_update_iterate(x, r, p, q, alpha)
        return float(xp.dot(r, r))
    blocks = _blocks(x.size)

    def sweep(ks: Sequence[int]) -> float:
        total = 0.0
        scratch = np.empty(min(BLOCK, x.size), dtype=x.dtype)  # no per-block allocation
        for k in ks:
            b = blocks[k]
            tmp = scratch[: b.stop - b.start]
            np.multiply(p[b], alpha, out=tmp)
            x[b] += tmp
            np.multiply(q[b], alpha, out=tmp)
            r[b] -= tmp
            total += float(np.dot(r[b], r[b]))
        return total

    return _parallel_sum(sweep, len(blocks), x.size)
