"""Matrix-free finite-difference operators on structured grids.

:class:`StencilOperator` applies the 3/5/7-point discretisation of ``-div(k grad u)`` on a
1D/2D/3D grid of unknowns with zero Dirichlet values one spacing outside the grid, scaled by
``h**2`` so that the constant-coefficient operator has the integer stencil ``2d, -1, ..., -1``.
Face coefficients are harmonic means of the two neighbouring cell values (a boundary face takes
the value of its cell). The operator is written once against the array namespace of its data,
so it runs on NumPy and, after :meth:`StencilOperator.to`, on CuPy (which uses a fused
CUDA kernel from :mod:`sciml.cuda_kernels`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from .backend import array_namespace
from .errors import InvalidProblemError, UnsupportedTypeError


def harmonic_face_coefficients(coefficient: Any, axis: int) -> Any:
    """Face values along ``axis``: harmonic means inside, the cell value on the two boundaries.

    Returns an array whose extent along ``axis`` is one larger than ``coefficient``'s
    (face ``i`` lies between cells ``i-1`` and ``i``).
    """
    xp = array_namespace(coefficient)
    k = coefficient
    lo = [slice(None)] * k.ndim
    hi = [slice(None)] * k.ndim
    lo[axis], hi[axis] = slice(None, -1), slice(1, None)
    a, b = k[tuple(lo)], k[tuple(hi)]
    inner = 2.0 * a * b / (a + b)
    first = xp.take(k, [0], axis=axis)
    last = xp.take(k, [k.shape[axis] - 1], axis=axis)
    return xp.concatenate([first, inner, last], axis=axis)


class StencilOperator:
    """Matrix-free ``h**2 * (-div(k grad u))`` with zero Dirichlet boundaries.

    Parameters
    ----------
    grid_shape
        Number of unknowns along each axis (1, 2 or 3 axes).
    coefficient
        Optional positive cell coefficient ``k`` of shape ``grid_shape``; ``None`` means 1.
    dtype
        Floating dtype of the operator (float32 or float64).

    Notes
    -----
    Equals :meth:`to_csr` exactly; it moves about 16 bytes per unknown per product in float64
    (read ``x``, write ``y``) plus the face coefficients when ``k`` varies.
    """

    def __init__(self, grid_shape: Sequence[int], coefficient: Any = None,
                 dtype: Any = np.float64) -> None:
        grid_shape = tuple(int(n) for n in grid_shape)
        if not 1 <= len(grid_shape) <= 3 or min(grid_shape) < 1:
            raise InvalidProblemError(
                f"grid_shape must have 1-3 positive extents, got {grid_shape}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise UnsupportedTypeError(f"stencil dtype must be float32 or float64, got {dtype}")
        self.grid_shape = grid_shape
        self.ndim = len(grid_shape)
        self.dtype = dtype
        n = int(np.prod(grid_shape))
        self.shape = (n, n)
        self.coefficient = None
        self.faces: list[Any] | None = None
        self.diag: Any = None
        if coefficient is not None:
            xp = array_namespace(coefficient)
            k = xp.asarray(coefficient, dtype=dtype)
            if k.shape != grid_shape:
                raise InvalidProblemError(
                    f"coefficient has shape {k.shape}, expected the grid shape {grid_shape}")
            if not bool(xp.all(xp.isfinite(k))) or not bool(xp.all(k > 0)):
                raise InvalidProblemError("coefficient must be finite and strictly positive")
            self.coefficient = k
            self.faces = [harmonic_face_coefficients(k, ax) for ax in range(self.ndim)]
            diag = xp.zeros(grid_shape, dtype=dtype)
            for ax, w in enumerate(self.faces):
                diag += _take_range(w, ax, 0, -1) + _take_range(w, ax, 1, None)
            self.diag = diag

    # -- construction helpers -------------------------------------------------------------
    @property
    def xp(self) -> Any:
        """The array namespace the operator's data lives in (NumPy if it has no data)."""
        return array_namespace(self.coefficient) if self.coefficient is not None else np

    def to(self, xp: Any) -> "StencilOperator":
        """Return a copy whose coefficient arrays live in namespace ``xp`` (numpy or cupy)."""
        coefficient = None if self.coefficient is None else xp.asarray(self.coefficient)
        return StencilOperator(self.grid_shape, coefficient, self.dtype)

    # -- products ---------------------------------------------------------------------------
    def matvec(self, x: Any, out: Any = None) -> Any:
        """Return ``A @ x`` for a flat vector ``x`` (or ``x`` on the grid); writes into ``out``."""
        xp = array_namespace(x)
        n = self.shape[0]
        if x.size != n:
            raise InvalidProblemError(f"vector has {x.size} entries, operator needs {n}")
        if out is None:
            out = xp.empty(n, dtype=np.result_type(x.dtype, self.dtype))
        u = x.reshape(self.grid_shape)
        y = out.reshape(self.grid_shape)
        if xp is not np:
            from . import cuda_kernels  # noqa: PLC0415 - GPU only
            cuda_kernels.stencil_apply(self, u, y)
        else:
            self._apply_slab(u, y, 0, self.grid_shape[0])
        return out

    __matmul__ = matvec

    def _apply_slab(self, u: Any, y: Any, start: int, stop: int) -> None:
        """Write rows ``start:stop`` (along axis 0) of ``A u`` into ``y``; array-namespace code.

        Working on a slab of planes at a time keeps every operand in cache, which is what
        makes the NumPy path close to memory bandwidth (see :mod:`solvers.classical.kernels`).
        """
        xp = array_namespace(u)
        ys, us = y[start:stop], u[start:stop]
        if self.faces is None:
            xp.multiply(us, 2.0 * self.ndim, out=ys)
        else:
            xp.multiply(us, self.diag[start:stop], out=ys)
        # axis 0 couples the slab to its neighbouring planes
        if start > 0:
            ys[0] -= _weighted(self, 0, start, u[start - 1])
        if stop < u.shape[0]:
            ys[-1] -= _weighted(self, 0, stop, u[stop])
        if stop - start > 1:
            ys[1:] -= _weighted(self, 0, slice(start + 1, stop), us[:-1])
            ys[:-1] -= _weighted(self, 0, slice(start + 1, stop), us[1:])
        for ax in range(1, self.ndim):
            if u.shape[ax] < 2:
                continue
            lo = (slice(None),) * ax + (slice(None, -1),)
            hi = (slice(None),) * ax + (slice(1, None),)
            if self.faces is None:
                ys[hi] -= us[lo]
                ys[lo] -= us[hi]
            else:
                w = self.faces[ax][start:stop][(slice(None),) * ax + (slice(1, -1),)]
                ys[hi] -= w * us[lo]
                ys[lo] -= w * us[hi]

    def diagonal(self) -> Any:
        """The matrix diagonal as a flat array."""
        if self.diag is None:
            return np.full(self.shape[0], 2.0 * self.ndim, dtype=self.dtype)
        return self.diag.reshape(-1)

    # -- assembled forms --------------------------------------------------------------------
    def to_csr(self) -> sp.csr_matrix:
        """Assemble the same operator as a SciPy CSR matrix (NumPy data, for references)."""
        from .backend import to_numpy  # noqa: PLC0415

        shape = self.grid_shape
        n = self.shape[0]
        index = np.arange(n).reshape(shape)
        diag = np.full(shape, 2.0 * self.ndim) if self.faces is None else to_numpy(self.diag)
        rows, cols, vals = [index.ravel()], [index.ravel()], [diag.ravel()]
        for ax in range(self.ndim):
            if shape[ax] < 2:
                continue
            lo = (slice(None),) * ax + (slice(None, -1),)
            hi = (slice(None),) * ax + (slice(1, None),)
            if self.faces is None:
                w = np.ones(index[lo].shape)
            else:
                w = to_numpy(self.faces[ax])[(slice(None),) * ax + (slice(1, -1),)]
            for a, b in ((lo, hi), (hi, lo)):
                rows.append(index[a].ravel())
                cols.append(index[b].ravel())
                vals.append(-w.ravel())
        A = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n, n), dtype=self.dtype)
        return A.tocsr()

    def aslinearoperator(self) -> Any:
        """A ``scipy.sparse.linalg.LinearOperator`` view (NumPy only), e.g. for SciPy CG."""
        from scipy.sparse.linalg import LinearOperator  # noqa: PLC0415

        return LinearOperator(self.shape, matvec=lambda v: self.matvec(np.ravel(v)),
                              dtype=self.dtype)

    def __repr__(self) -> str:
        kind = "constant" if self.faces is None else "variable"
        return f"StencilOperator(grid_shape={self.grid_shape}, {kind} coefficient, {self.dtype})"


def _take_range(a: Any, axis: int, start: int | None, stop: int | None) -> Any:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def _weighted(op: StencilOperator, axis: int, faces: Any, values: Any) -> Any:
    """``values`` times the face coefficients ``faces`` along ``axis`` (1 if constant)."""
    if op.faces is None:
        return values
    return op.faces[axis][faces] * values
