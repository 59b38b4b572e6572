"""Memory estimates made before allocating, and the refusal when they cannot fit.

A solve that cannot fit should fail at once with the numbers, not after minutes of swapping
or with an allocator's message mistaken for something else (SuperLU's failure to grow its
work arrays surfaced as "the matrix is singular"). :func:`require_memory` compares an
estimate with :func:`available_memory` and raises
:class:`~sciml.errors.InsufficientMemoryError`; :func:`out_of_memory_as_error` turns a
``MemoryError`` that still happens (an estimate is a model, not a promise) into the same
error, saying that memory ran out.

The estimators are peak resident memory beyond what already exists when the step starts,
calibrated on this project's own code: each step was run in a fresh process on a few small
sizes and its peak ``ru_maxrss`` compared with the resident size just before
(``tests/test_memory.py`` repeats that measurement and checks the estimates stay within a
factor 2.5 of it). The calibration figures are in each estimator's docstring.
"""

from __future__ import annotations

import functools
import math
import os
import resource
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from .errors import InsufficientMemoryError

F = TypeVar("F", bound=Callable[..., Any])

#: bytes a SuperLU factor entry costs at peak: 8 (value) + 4 (row index), doubled because
#: SuperLU grows its work arrays by copying (measured 22.5-24.4 B per entry of L + U on 3D and
#: 2D Poisson matrices, 8e3-6e5 unknowns)
FACTOR_ENTRY_BYTES = 24
#: fill model nnz(L + U) = c * n ** (1 + p) of SuperLU with COLAMD on 1D/2D/3D grid matrices
#: (3/5/7-point), fitted to nnz(L + U) at 198^2, 398^2, 798^2 (2D) and 20^3, 30^3, 40^3 (3D):
#: 2D 3.47e6, 1.75e7, 8.58e7; 3D 3.72e6, 2.58e7, 9.57e7 (within 4 % of the fit)
FILL_MODEL: dict[int, tuple[float, float]] = {1: (3.0, 0.0), 2: (18.0, 0.1505),
                                              3: (2.98, 0.562)}
#: peak bytes per unknown of assembling a grid operator to CSR (StencilOperator.to_csr:
#: measured 448 and 438 B at 40^3 and 80^3; the final matrix is about 88 B)
CSR_ASSEMBLY_BYTES = 450
#: peak bytes per unknown of a deep_cd solve with the shipped multigrid network, beyond the
#: problem (network activations of the V-cycle, coarse operators, the search directions):
#: measured 215 and 230 B at 32^3 and 64^3, float32 network on the CPU
DEEP_CD_BYTES = 240
#: the same with Galerkin coarse levels (``coarsening="galerkin"``: the coarse stencils in
#: float64 while the next level is built, their torch CSR copies): measured 649, 516 and
#: 411 B at 48^3, 64^3 and 128^3 (1.17 GiB peak resident for the whole 128^3 solve)
DEEP_CD_GALERKIN_BYTES = 650
#: the same with smoothed transfers (``coarsening="smoothed"``: SciPy's products of the
#: interpolation and the levels, float64, and the torch copies): measured 568, 477 and 388 B
#: at 48^3, 64^3 and 128^3 (1.12 GiB peak resident for the whole 128^3 solve)
DEEP_CD_SMOOTHED_BYTES = 600
#: peak bytes per grid point of one Darcy sample with AMG-CG (GRF draw, assembly, hierarchy,
#: CG vectors): measured 557 B at 200^2 and 400^2
DARCY_AMG_BYTES = 560
#: bytes per grid point of one Darcy sample besides the direct solver's factors (GRF draw,
#: assembly, the sample's fields): measured 2236 and 2711 B per point in all at 200^2 and
#: 400^2, of which the factors are 2000 and 2530
DARCY_SAMPLE_BYTES = 300


def _read_int(path: str | Path) -> int | None:
    try:
        text = Path(path).read_text().split()[0]
    except (OSError, IndexError):
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2, else v1), None if unlimited."""
    v2 = Path("/sys/fs/cgroup")
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        own = []
    rel = next((line.split(":", 2)[2] for line in own if line.startswith("0::")), "/")
    for folder in (v2 / rel.lstrip("/"), v2):
        limit = _read_int(folder / "memory.max")
        if limit is not None:
            used = _read_int(folder / "memory.current") or 0
            return max(limit - used, 0)
    v1 = Path("/sys/fs/cgroup/memory")
    limit = _read_int(v1 / "memory.limit_in_bytes")
    if limit is not None and limit < 2**60:  # v1 writes a huge number for "no limit"
        return max(limit - (_read_int(v1 / "memory.usage_in_bytes") or 0), 0)
    return None


def _address_space_room() -> int | None:
    """RLIMIT_AS minus this process's current virtual size, None if unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    pages = _read_int("/proc/self/statm") or 0
    return max(soft - pages * os.sysconf("SC_PAGE_SIZE"), 0)


def available_memory() -> int:
    """Bytes this process can still allocate: the smallest of the kernel's ``MemAvailable``,
    the room left under the memory cgroup's limit and under ``RLIMIT_AS``.

    Where none of them can be read (not Linux), returns a very large number, so that checks
    never refuse on a guess.
    """
    rooms = [r for r in (_meminfo_available(), _cgroup_room(), _address_space_room())
             if r is not None]
    return min(rooms) if rooms else 2**62


def format_bytes(nbytes: float) -> str:
    """``nbytes`` in binary units, e.g. ``'3.2 GiB'``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024.0:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024.0
    return f"{value:.1f} PiB"


def require_memory(nbytes: float, what: str) -> None:
    """Raise :class:`~sciml.errors.InsufficientMemoryError` when ``nbytes`` (an estimate of
    what ``what`` will allocate) exceeds :func:`available_memory`.

    Examples
    --------
    >>> require_memory(1024, "a small array")  # fits: returns None
    """
    available = available_memory()
    if nbytes > available:
        raise InsufficientMemoryError(
            f"{what} needs about {format_bytes(nbytes)} of memory, but only "
            f"{format_bytes(available)} is available; use a smaller size, fewer workers or a "
            f"method that needs less memory")


def out_of_memory_as_error(what: str) -> Callable[[F], F]:
    """Decorator: a ``MemoryError`` raised inside becomes an
    :class:`~sciml.errors.InsufficientMemoryError` saying that ``what`` ran out of memory."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except InsufficientMemoryError:
                raise
            except MemoryError as exc:
                detail = f" ({exc})" if str(exc) else ""
                raise InsufficientMemoryError(
                    f"{what} ran out of memory{detail}; {format_bytes(available_memory())} "
                    f"is available now; use a smaller size or a method that needs less "
                    f"memory") from exc
        return wrapper  # type: ignore[return-value]
    return decorate


def _unknowns(shape: Sequence[int]) -> int:
    return math.prod(int(s) for s in shape)


def poisson_bytes(shape: Sequence[int], matrix_free: bool = True,
                  dtype: Any = np.float64) -> int:
    """Peak bytes of building a grid problem and solving it with the leanest method.

    The right-hand side is drawn in float64 and stored in ``dtype``; matrix-free CG then
    keeps ``x, r, p, A p`` beside ``b``. With ``matrix_free=False`` the assembly to CSR is
    added (:data:`CSR_ASSEMBLY_BYTES` per unknown). Measured: 44 and 40 B per unknown for a
    random 64^3 and 128^3 Poisson problem solved by ``cg`` (the estimate: 48).
    """
    n = _unknowns(shape)
    per_unknown = 8 + 5 * np.dtype(dtype).itemsize
    return n * (per_unknown + (0 if matrix_free else CSR_ASSEMBLY_BYTES))


def direct_factor_bytes(n: int, ndim: int) -> int:
    """Peak bytes of SuperLU's LU factors of an ``n``-unknown 1D/2D/3D grid matrix.

    ``nnz(L + U) = c n^(1 + p)`` with ``(c, p)`` from :data:`FILL_MODEL`, fitted to the fill
    SuperLU's COLAMD ordering produces on 3/5/7-point matrices (nested dissection would give
    ``n log n`` in 2D and ``n^(4/3)`` in 3D; COLAMD's fill grows faster, as measured), times
    :data:`FACTOR_ENTRY_BYTES`. Orderings other than COLAMD mostly fill less (MMD_AT_PLUS_A
    about half in 3D), so the estimate is an upper bound for them, except ``NATURAL``.
    An ``ndim`` above 3 (a wider stencil) uses the 3D model.
    """
    c, p = FILL_MODEL[min(max(int(ndim), 1), 3)]
    return int(FACTOR_ENTRY_BYTES * c * float(n) ** (1.0 + p))


def direct_setup_bytes(A: Any, grid_shape: Sequence[int] | None) -> int:
    """Peak bytes of :class:`~sciml.solvers.classical.direct.Direct`'s setup of ``A``.

    The factors (:func:`direct_factor_bytes`), the CSC copy of the matrix, and the CSR
    assembly when ``A`` is a grid operator. The grid dimension is that of ``grid_shape`` or,
    for a bare matrix, read from its entries per row (3, 5, 7 for 1D, 2D, 3D stencils); a
    dense matrix factors to ``n^2`` entries.
    """
    from .kernels.stencil import StencilOperator  # noqa: PLC0415

    n = int(A.shape[0])
    if isinstance(A, StencilOperator):
        return direct_factor_bytes(n, A.ndim) + n * CSR_ASSEMBLY_BYTES
    if isinstance(A, np.ndarray):
        return 3 * n * n * A.itemsize
    nnz = int(getattr(A, "nnz", 0))
    ndim = len(grid_shape) if grid_shape else max(1, round((nnz / max(n, 1) - 1) / 2))
    return direct_factor_bytes(n, ndim) + 2 * 12 * nnz


def deep_cd_bytes(grid_shape: Sequence[int], coarsening: str = "rediscretise") -> int:
    """Peak bytes of a ``deep_cd`` solve on ``grid_shape`` beyond the problem itself.

    :data:`DEEP_CD_BYTES` per unknown for the shipped multigrid network (its V-cycle's
    activations, the coarse operators, ``k = 2`` stored directions and the CG vectors),
    :data:`DEEP_CD_GALERKIN_BYTES` with Galerkin coarse levels, :data:`DEEP_CD_SMOOTHED_BYTES`
    with smoothed transfers; a network run on the GPU
    keeps its activations there, so the estimate is then an upper bound of the host's share.
    """
    per_unknown = {"galerkin": DEEP_CD_GALERKIN_BYTES,
                   "smoothed": DEEP_CD_SMOOTHED_BYTES}.get(coarsening, DEEP_CD_BYTES)
    return _unknowns(grid_shape) * per_unknown


def darcy_datagen_bytes(resolution: int, method: str = "direct", workers: int = 1) -> int:
    """Peak bytes of generating Darcy samples at ``resolution``^2 with ``workers`` processes.

    Each worker holds one sample at a time: with ``"direct"`` the LU factors of the
    ``(resolution - 2)^2`` interior system (:func:`direct_factor_bytes`, 2D) plus
    :data:`DARCY_SAMPLE_BYTES` per point; with an iterative method :data:`DARCY_AMG_BYTES`
    per point (measured with ``"amg"``).
    """
    points = int(resolution) ** 2
    if method == "direct":
        one = direct_factor_bytes(max(int(resolution) - 2, 1) ** 2, 2) + \
            points * DARCY_SAMPLE_BYTES
    else:
        one = points * DARCY_AMG_BYTES
    return int(workers) * one
