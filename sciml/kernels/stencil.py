"""Matrix-free finite-difference operators on structured grids.

:class:`StencilOperator` applies the 3/5/7-point discretisation of ``-div(k grad u)`` on a
1D/2D/3D grid of unknowns with zero Dirichlet values one spacing outside the grid, scaled by
``h**2`` so that the constant-coefficient operator has the integer stencil ``2d, -1, ..., -1``.
Face coefficients are harmonic means of the two neighbouring cell values (a boundary face takes
the value of its cell). A boundary side may instead be Neumann (zero flux: its faces get
coefficient 0), and a ``mask`` of solid cells puts zero-flux walls on every fluid-solid face;
solid cells become identity rows, decoupled from the fluid.

The operator's data are the diagonal and, per axis, the *lower-face weights*
``lower[d][k]`` (the coefficient of the face between cell ``k`` and its lower neighbour along
axis ``d``, zero on the lower boundary). With those, the product is, for the flattened grid
and the flat stride ``s_d`` of axis ``d``::

    y[k] = diag[k] x[k] - sum_d (lower[d][k] x[k - s_d] + lower[d][k + s_d] x[k + s_d])

which is written once against the array namespace (:meth:`StencilOperator.apply_slab`),
and, for CuPy, as one fused CUDA kernel in :mod:`sciml.kernels.cuda_stencil`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from ..backend import array_namespace, to_numpy
from ..errors import InvalidProblemError, UnsupportedTypeError


def harmonic_face_coefficients(coefficient: Any, axis: int) -> Any:
    """Face values along ``axis``: harmonic means inside, the cell value on the two boundaries.

    Returns an array whose extent along ``axis`` is one larger than ``coefficient``'s
    (face ``i`` lies between cells ``i-1`` and ``i``).
    """
    xp = array_namespace(coefficient)
    k = coefficient
    a, b = _take_range(k, axis, None, -1), _take_range(k, axis, 1, None)
    inner = 2.0 * a * b / (a + b)
    first = _take_range(k, axis, 0, 1)
    last = _take_range(k, axis, -1, None)
    return xp.concatenate([first, inner, last], axis=axis)


BOUNDARY_KINDS = ("dirichlet", "neumann")


def normalize_bc(bc: str | Sequence[str], ndim: int) -> tuple[str, ...]:
    """Boundary kind of each side, ordered ``(axis 0 low, axis 0 high, axis 1 low, ...)``.

    ``bc`` is one kind for every side or a sequence of ``2 * ndim`` kinds, each one of
    :data:`BOUNDARY_KINDS`.
    """
    sides = (bc,) * (2 * ndim) if isinstance(bc, str) else tuple(bc)
    if len(sides) != 2 * ndim or any(side not in BOUNDARY_KINDS for side in sides):
        raise InvalidProblemError(
            f"bc must be one of {BOUNDARY_KINDS} or {2 * ndim} of them ordered (axis 0 low, "
            f"axis 0 high, axis 1 low, ...); got {bc!r}")
    return sides


def check_fluid_connected(solid: np.ndarray, bc: Sequence[str]) -> None:
    """Refuse a mask whose fluid cells make the system singular beyond the constants.

    Solid cells are walls (no flux), so a region of fluid cells sealed off by them from
    every Dirichlet side has no fixed level: the matrix is singular and most right-hand sides
    have no solution. With Dirichlet sides, every connected region of fluid (6-, 4- or
    2-neighbour connectivity) must touch one of them; with none (the pure-Neumann system,
    whose constant null space is handled), the fluid must be one region.

    Raises
    ------
    InvalidProblemError
        Saying how many cells are sealed off and where the first one is.
    """
    from scipy import ndimage  # noqa: PLC0415

    labels, count = ndimage.label(~solid)
    if "dirichlet" not in bc:
        if count > 1:
            raise InvalidProblemError(
                f"the mask splits the fluid into {count} separate regions and no side is "
                f"Dirichlet: each region is singular on its own; connect them or give a "
                f"side bc='dirichlet'")
        return
    touching = set()
    for side, kind in enumerate(bc):
        if kind == "dirichlet":
            axis, end = divmod(side, 2)
            touching.update(np.unique(np.take(labels, -end, axis=axis)).tolist())
    sealed = np.isin(labels, [k for k in range(1, count + 1) if k not in touching])
    if sealed.any():
        first = tuple(int(i) for i in np.argwhere(sealed)[0])
        raise InvalidProblemError(
            f"the mask seals {int(sealed.sum())} fluid cells (the first at index {first}) "
            f"off from every Dirichlet side: the system is singular there; mark them solid "
            f"or open a path")


def face_coefficients(coefficient: Any, mask: Any = None,
                      bc: Sequence[str] | None = None) -> list[Any]:
    """Face coefficients per axis, with walls and Neumann sides set to zero.

    Entry ``i`` along ``axis`` (one more than the grid) is the face between cells ``i - 1``
    and ``i``: the harmonic mean of ``coefficient`` inside, the cell value on a Dirichlet
    side, 0 on a Neumann side (``bc`` as from :func:`normalize_bc`) and 0 on every face that
    touches a solid cell of ``mask``.
    """
    faces = []
    for axis in range(coefficient.ndim):
        w = harmonic_face_coefficients(coefficient, axis)
        if bc is not None:
            for side, end in ((bc[2 * axis], 0), (bc[2 * axis + 1], -1)):
                if side == "neumann":
                    w[(slice(None),) * axis + (end,)] = 0.0
        if mask is not None:
            w *= _open_faces(~mask, axis)
        faces.append(w)
    return faces


def face_weights(coefficient: Any, mask: Any = None,
                 bc: Sequence[str] | None = None) -> tuple[list[Any], Any]:
    """The operator data of a cell coefficient: per-axis lower-face weights and the diagonal.

    ``lower[d]`` has the grid's shape; entry ``k`` is the face coefficient between cell ``k``
    and its lower neighbour along ``d`` and zero where ``k`` is on the lower boundary (that
    face only adds to the diagonal, the boundary value being zero). Faces come from
    :func:`face_coefficients`; solid cells of ``mask`` get diagonal 1 (identity rows).
    """
    xp = array_namespace(coefficient)
    lower, diag = [], xp.zeros_like(coefficient)
    for axis, faces in enumerate(face_coefficients(coefficient, mask, bc)):
        diag += _take_range(faces, axis, None, -1) + _take_range(faces, axis, 1, None)
        w = _take_range(faces, axis, None, -1).copy()
        index = [slice(None)] * coefficient.ndim
        index[axis] = 0
        w[tuple(index)] = 0.0
        lower.append(w)
    if mask is not None:
        diag[mask] = 1.0
    return lower, diag


class StencilOperator:
    """Matrix-free ``h**2 * (-div(k grad u))`` with Dirichlet or Neumann sides and obstacles.

    Parameters
    ----------
    grid_shape
        Number of unknowns along each axis (1, 2 or 3 axes).
    coefficient
        Optional positive cell coefficient ``k`` of shape ``grid_shape`` (NumPy or CuPy);
        ``None`` means 1.
    dtype
        Floating dtype of the operator (float32 or float64).
    mask
        Optional boolean array of shape ``grid_shape``, True on solid cells. Every face
        between a fluid and a solid cell gets coefficient 0 (a zero-flux wall); a solid cell
        becomes an identity row, decoupled from the fluid (its unknown solves ``x = b``).
    bc
        ``"dirichlet"`` (zero value one spacing outside the grid, the default) or
        ``"neumann"`` (zero flux: the boundary face gets coefficient 0), for every side or
        per side as ``(axis 0 low, axis 0 high, axis 1 low, ...)``.

    Attributes
    ----------
    singular
        True when no side is Dirichlet: the operator is then singular, with the constants on
        the fluid cells as null space (for a connected fluid region).

    Notes
    -----
    Equals :meth:`to_csr` to rounding. The constant-coefficient product reads ``x`` and
    writes ``y`` once (16 bytes per unknown in float64); a variable coefficient adds the
    diagonal and ``d`` weight arrays.
    """

    def __init__(self, grid_shape: Sequence[int], coefficient: Any = None,
                 dtype: Any = np.float64, *, mask: Any = None,
                 bc: str | Sequence[str] = "dirichlet") -> None:
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
        #: flat distance between neighbours along each axis
        self.strides = tuple(int(np.prod(grid_shape[ax + 1:])) for ax in range(self.ndim))
        self.bc = normalize_bc(bc, self.ndim)
        self.singular = "dirichlet" not in self.bc
        self.coefficient = None
        self.mask = None
        self.lower: list[Any] | None = None
        self.diag: Any = None
        xp = array_namespace(coefficient, mask)
        if mask is not None:
            solid = xp.asarray(mask)
            if solid.shape != grid_shape or solid.dtype != bool:
                raise InvalidProblemError(
                    f"mask must be a boolean array of the grid shape {grid_shape}; got "
                    f"{solid.dtype} of shape {solid.shape}")
            if bool(xp.all(solid)):
                raise InvalidProblemError("mask marks every cell solid; no fluid is left")
            check_fluid_connected(to_numpy(solid), self.bc)
            self.mask = solid if bool(xp.any(solid)) else None
        if coefficient is not None:
            k = xp.asarray(coefficient, dtype=dtype)
            if k.shape != grid_shape:
                raise InvalidProblemError(
                    f"coefficient has shape {k.shape}, expected the grid shape {grid_shape}")
            if not bool(xp.all(xp.isfinite(k))) or not bool(xp.all(k > 0)):
                raise InvalidProblemError("coefficient must be finite and strictly positive")
            self.coefficient = k
        if self.coefficient is not None or self.mask is not None or "neumann" in self.bc:
            k = self.coefficient if self.coefficient is not None else xp.ones(grid_shape, dtype)
            self.lower, self.diag = face_weights(k, self.mask, self.bc)
        self._scratch: Any = None

    @property
    def constant(self) -> bool:
        """True for the constant-coefficient (integer) stencil with Dirichlet sides."""
        return self.lower is None

    def to(self, xp: Any) -> "StencilOperator":
        """Return a copy whose coefficient arrays live in namespace ``xp`` (numpy or cupy)."""
        coefficient = None if self.coefficient is None else xp.asarray(self.coefficient)
        mask = None if self.mask is None else xp.asarray(self.mask)
        return StencilOperator(self.grid_shape, coefficient, self.dtype, mask=mask, bc=self.bc)

    # -- products ---------------------------------------------------------------------------
    def slabs(self, target_elements: int = 1 << 16) -> list[tuple[int, int]]:
        """Ranges of planes along axis 0 holding about ``target_elements`` unknowns each.

        The NumPy path works slab by slab so the operands of each step stay in cache: one
        pass over memory per product instead of one per stencil term.
        """
        step = max(1, target_elements // self.strides[0])
        n0 = self.grid_shape[0]
        return [(s, min(s + step, n0)) for s in range(0, n0, step)]

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
            from . import cuda_stencil  # noqa: PLC0415 - GPU only

            cuda_stencil.stencil_apply(self, u, y)
        else:
            for start, stop in self.slabs():
                self.apply_slab(u, y, start, stop)
        return out

    __matmul__ = matvec

    def apply_slab(self, u: Any, y: Any, start: int, stop: int) -> None:
        """Write planes ``start:stop`` (along axis 0) of ``A u`` into ``y``.

        Array-namespace code: with ``(0, n0)`` it is the whole product on NumPy or CuPy;
        NumPy calls it slab by slab (see :meth:`slabs`). Every neighbour term is one
        contiguous shifted operation on the flattened slab; for the constant stencil the
        terms that wrap around a row are undone afterwards (a 1/n-sized correction).
        """
        xp = array_namespace(u)
        ys, us = y[start:stop], u[start:stop]
        yf, uf = ys.reshape(-1), us.reshape(-1)
        if self.constant:
            xp.multiply(uf, 2.0 * self.ndim, out=yf)
            if start > 0:
                ys[0] -= u[start - 1]
            if stop < u.shape[0]:
                ys[-1] -= u[stop]
        else:
            xp.multiply(uf, self.diag[start:stop].reshape(-1), out=yf)
            if start > 0:
                ys[0] -= self.lower[0][start] * u[start - 1]
            if stop < u.shape[0]:
                ys[-1] -= self.lower[0][stop] * u[stop]
        for axis, s in enumerate(self.strides):
            if s >= yf.size:
                continue
            if self.constant:
                yf[s:] -= uf[:-s]
                yf[:-s] -= uf[s:]
                if axis > 0:  # undo the terms that wrapped into the neighbouring row
                    yb = ys.reshape(-1, self.grid_shape[axis], s)
                    ub = us.reshape(-1, self.grid_shape[axis], s)
                    yb[1:, 0] += ub[:-1, -1]
                    yb[:-1, -1] += ub[1:, 0]
            else:
                w = self.lower[axis][start:stop].reshape(-1)[s:]
                tmp = self._buffer(xp, w.size, yf.dtype)
                xp.multiply(w, uf[:-s], out=tmp)
                yf[s:] -= tmp
                xp.multiply(w, uf[s:], out=tmp)
                yf[:-s] -= tmp

    def _buffer(self, xp: Any, size: int, dtype: Any) -> Any:
        """A reusable scratch array (no allocation per slab on the hot path)."""
        buf = self._scratch
        if buf is None or array_namespace(buf) is not xp or buf.size < size or buf.dtype != dtype:
            buf = self._scratch = xp.empty(size, dtype=dtype)
        return buf[:size]

    def diagonal(self) -> Any:
        """The matrix diagonal as a flat array."""
        if self.diag is None:
            return np.full(self.shape[0], 2.0 * self.ndim, dtype=self.dtype)
        return self.diag.reshape(-1)

    # -- assembled forms --------------------------------------------------------------------
    def to_csr(self) -> sp.csr_matrix:
        """Assemble the same operator as a SciPy CSR matrix (NumPy data, for references)."""
        n = self.shape[0]
        index = np.arange(n)
        rows, cols, vals = [index], [index], [to_numpy(self.diagonal()).astype(float)]
        for axis, s in enumerate(self.strides):
            if self.constant:
                coord = (index // s) % self.grid_shape[axis]
                w = (coord > 0).astype(float)
            else:
                w = to_numpy(self.lower[axis]).reshape(-1).astype(float)
            k = np.flatnonzero(w)
            rows += [k, k - s]
            cols += [k - s, k]
            vals += [-w[k], -w[k]]
        A = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n, n))
        return A.tocsr().astype(self.dtype)

    def aslinearoperator(self) -> Any:
        """A ``scipy.sparse.linalg.LinearOperator`` view (NumPy only), e.g. for SciPy CG."""
        from scipy.sparse.linalg import LinearOperator  # noqa: PLC0415

        return LinearOperator(self.shape, matvec=lambda v: self.matvec(np.ravel(v)),
                              dtype=self.dtype)

    def __repr__(self) -> str:
        kind = "constant" if self.coefficient is None else "variable"
        solid = "" if self.mask is None else f", {int(self.mask.sum())} solid cells"
        return (f"StencilOperator(grid_shape={self.grid_shape}, {kind} coefficient, "
                f"bc={self.bc}{solid}, {self.dtype})")


def _take_range(a: Any, axis: int, start: int | None, stop: int | None) -> Any:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def _open_faces(fluid: Any, axis: int) -> Any:
    """Faces along ``axis`` with fluid on both sides (a boundary face: its cell is fluid)."""
    xp = array_namespace(fluid)
    inner = _take_range(fluid, axis, None, -1) & _take_range(fluid, axis, 1, None)
    first = _take_range(fluid, axis, 0, 1)
    last = _take_range(fluid, axis, -1, None)
    return xp.concatenate([first, inner, last], axis=axis)
