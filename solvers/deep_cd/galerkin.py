"""Galerkin coarse operators for deep_cd's multigrid network: ``A_c = 2^(2-d) P^T A P``.

Rediscretising ``-div(k grad u)`` on a coarse grid (:attr:`GridStencil.coarse
<sciml.solvers.deep_cd.model.GridStencil.coarse>`) averages the fine face coefficients, which
misrepresents a coefficient that jumps by orders of magnitude inside a coarse cell (the
classic upscaling trap). The Galerkin product with the cycle's own interpolation ``P``
builds the coarse operator from the fine one algebraically instead, as algebraic multigrid
does, so walls, Neumann sides, odd sizes and any contrast enter it without a rule of their
own. With a 4-tap cell-centred linear ``P`` the coarse stencils grow from 7 to at most 125
points (5 per axis) and stay there; they are computed axis by axis on the stencils' arrays
and applied as sparse matrices.

Measured with a plain V(1,1)-cycle (damped Jacobi) as PCG preconditioner, 64³ two-phase
coefficient, contrast 1 ... 10^6, rtol 1e-6: 17 ... 300+ iterations with rediscretised
coarse operators, 8 ... 19 with Galerkin ones (benchmarks/RESULTS.md).

The linear ``P`` is fixed, so it cannot follow a jump: from contrast 10^3 on the cycle
needs 1.6-2.3x SA's iterations. The ``"smoothed"`` transfers take smoothed aggregation's
operator-dependent interpolation instead, ``P = (I - w D^-1 A) P_0`` on blocks of ``2^d``
cells (:func:`smoothed_interpolation`), with SciPy products (:func:`smoothed_galerkin_product`;
the stencils grow to ~500 points on the middle levels, so the axis-by-axis product does not
apply) and per-level Jacobi scales (:func:`jacobi_scale`); the network applies the same
``P`` in its transfers. On sine-wave two-phase fields that gives SA's iteration counts up to
contrast 10^6.

This is ours, not Kaneda et al.'s (whose network sees only the residual): the learned
cycle keeps its weights and gets algebraic coarse operators and, with the smoothed
transfers, operator-dependent interpolation, as black-box multigrid (Alcouffe, Brandt,
Dendy, Painter 1981) and smoothed aggregation (Vanek, Mandel, Brezina 1996) pair them.

References
----------
R. E. Alcouffe, A. Brandt, J. E. Dendy, J. W. Painter, "The multi-grid method for the
diffusion equation with strongly discontinuous coefficients", SIAM J. Sci. Stat. Comput. 2
(1981) 430-454. U. Trottenberg, C. W. Oosterlee, A. Schüller, "Multigrid", Academic Press
(2001), section 2.3 (Galerkin coarse grid operators). P. Vanek, J. Mandel, M. Brezina,
"Algebraic multigrid by smoothed aggregation for second and fourth order elliptic
problems", Computing 56 (1996) 179-196.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch

#: the cell-centred linear interpolation: coarse cell ``i`` gives fine cells ``2i - 1 .. 2i + 2``
#: these weights (the network's initial prolongation kernel, channel 0)
INTERPOLATION_TAPS = (0.25, 0.75, 0.75, 0.25)


def coarse_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """``ceil(n / 2)`` cells per axis; an axis of one cell stays one cell."""
    return tuple((n + 1) // 2 for n in shape)


def interpolation_1d(n: int, closed: tuple[bool, bool]) -> sp.csr_matrix:
    """The ``(n, ceil(n / 2))`` cell-centred linear interpolation along one axis.

    Fine cell ``2i`` takes ``3/4`` of coarse cell ``i`` and ``1/4`` of ``i - 1``, fine cell
    ``2i + 1`` ``3/4`` of ``i`` and ``1/4`` of ``i + 1``. Behind a Dirichlet side the missing
    coarse neighbour is 0; behind a closed (Neumann) side it is the edge value, as the
    network's prolongation pads. For odd ``n`` the last coarse cell's second fine cell lies
    outside the grid and is dropped. An axis of one cell is not coarsened (identity).
    """
    if n == 1:
        return sp.identity(1, format="csr")
    m = (n + 1) // 2
    fine = np.arange(n)
    home = fine // 2
    neighbour = np.where(fine % 2 == 0, home - 1, home + 1)
    rows, cols = [fine], [home]
    vals = [np.full(n, INTERPOLATION_TAPS[1])]
    inside = (neighbour >= 0) & (neighbour < m)
    rows.append(fine[inside])
    cols.append(neighbour[inside])
    vals.append(np.full(int(inside.sum()), INTERPOLATION_TAPS[0]))
    for side, ghost in ((0, 0), (1, m - 1)):  # the ghost's weight goes to the edge cell
        outside = (neighbour < 0) if side == 0 else (neighbour >= m)
        if closed[side] and outside.any():
            rows.append(fine[outside])
            cols.append(np.full(int(outside.sum()), ghost))
            vals.append(np.full(int(outside.sum()), INTERPOLATION_TAPS[0]))
    P = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, m))
    return P.tocsr()


#: a structured-grid operator as a stencil: offset ``o`` (one int per axis) -> the array of
#: ``A[x, x + o]`` over the cells ``x`` (0 where ``x + o`` lies outside the grid)
Stencil = dict[tuple[int, ...], np.ndarray]

#: the widest offset along an axis that the coarse stencils reach (5 points per axis)
STENCIL_REACH = 2


def stencil_from_faces(faces: Sequence[np.ndarray], shape: Sequence[int]) -> Stencil:
    """The stencil of the face-coefficient operator (see :class:`GridStencil
    <sciml.solvers.deep_cd.model.GridStencil>`): ``(A u)_i = sum_faces w (u_i - u_j)``, a
    boundary face adding to the diagonal only."""
    shape = tuple(int(n) for n in shape)
    d = len(shape)
    diag = np.zeros(shape)
    stencil: Stencil = {}
    for ax, w in enumerate(faces):
        m = shape[ax]
        diag += np.take(w, range(m), axis=ax) + np.take(w, range(1, m + 1), axis=ax)
        if m < 2:
            continue
        inner = -np.take(w, range(1, m), axis=ax)
        for step, cells in ((1, slice(0, m - 1)), (-1, slice(1, m))):
            coupling = np.zeros(shape)
            coupling[(slice(None),) * ax + (cells,)] = inner
            stencil[tuple(step if a == ax else 0 for a in range(d))] = coupling
    stencil[(0,) * d] = diag
    return stencil


def _index_dtype(entries: int) -> type:
    """32-bit sparse indices (twice as fast in torch's CSR product on one core), 64-bit
    from 2^31 entries on."""
    return np.int32 if entries < 2**31 else np.int64


def csr_arrays(stencil: Stencil, shape: Sequence[int], dtype: np.dtype | type = np.float64
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stencil's CSR arrays ``(indptr, indices, data)`` in C order, with values of
    ``dtype`` and 32-bit indices (64-bit beyond 2^31 entries); zero couplings are left out,
    so a cell without open faces gets an empty row."""
    shape = tuple(int(n) for n in shape)
    n = int(np.prod(shape))
    # lexicographic offsets: the in-grid neighbours of a cell in C order, so columns come sorted
    offsets = sorted(stencil)
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    index = _index_dtype(n * len(offsets))
    shifts = np.array([int(np.dot(o, strides)) for o in offsets], dtype=index)
    values = np.empty((n, len(offsets)), dtype=dtype)
    for j, o in enumerate(offsets):
        values[:, j] = stencil[o].ravel()
    present = values != 0  # a coupling out of the grid is 0 by the stencil's definition
    columns = (np.arange(n, dtype=index)[:, None] + shifts[None, :])[present]
    indptr = np.zeros(n + 1, dtype=index)
    np.cumsum(present.sum(axis=1, dtype=index), out=indptr[1:])
    return indptr, columns, values[present]


def stencil_to_csr(stencil: Stencil, shape: Sequence[int]) -> sp.csr_matrix:
    """The stencil as a SciPy CSR matrix (float64, see :func:`csr_arrays`)."""
    indptr, indices, data = csr_arrays(stencil, shape)
    n = len(indptr) - 1
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def _axis_transfers(P: np.ndarray) -> dict[tuple[int, int], sp.csr_matrix]:
    """For the ``(n, m)`` interpolation ``P`` of one axis, the matrices ``R[s, t]`` with
    ``R[s, t][I, i] = P[i, I] P[i + s, I + t]``: the coarse coupling ``I -> I + t`` that a
    fine coupling ``i -> i + s`` contributes to ``P^T A P`` (those that are not all zero)."""
    n, m = P.shape
    transfers = {}
    for s in range(-STENCIL_REACH, STENCIL_REACH + 1):
        shifted = np.zeros_like(P)  # shifted[i] = P[i + s]
        shifted[max(0, -s):min(n, n - s)] = P[max(0, s):min(n, n + s)]
        for t in range(-STENCIL_REACH, STENCIL_REACH + 1):
            target = np.zeros_like(P)  # target[i, I] = P[i + s, I + t]
            target[:, max(0, -t):min(m, m - t)] = shifted[:, max(0, t):min(m, m + t)]
            R = (P * target).T
            if R.any():
                transfers[s, t] = sp.csr_matrix(R)
    return transfers


def _coarsen_axis(stencil: Stencil, shape: tuple[int, ...], ax: int,
                  closed: tuple[bool, bool]) -> tuple[Stencil, tuple[int, ...]]:
    """``P_ax^T A P_ax`` with the interpolation of axis ``ax`` alone: every coupling keeps its
    offset along the other axes, and its offset along ``ax`` goes from ``s`` to ``t``."""
    n = shape[ax]
    transfers = _axis_transfers(interpolation_1d(n, closed).toarray())
    m = (n + 1) // 2
    rest = shape[:ax] + shape[ax + 1:]
    coarse: dict[tuple[int, ...], np.ndarray] = {}
    for offset, values in stencil.items():
        if abs(offset[ax]) > STENCIL_REACH:
            raise ValueError(f"a stencil offset {offset} reaches beyond {STENCIL_REACH} cells "
                             f"along axis {ax}; the Galerkin product expects at most that")
        columns = np.ascontiguousarray(np.moveaxis(values, ax, 0).reshape(n, -1))
        for t in range(-STENCIL_REACH, STENCIL_REACH + 1):
            if (offset[ax], t) in transfers:
                key = offset[:ax] + (t,) + offset[ax + 1:]
                part = transfers[offset[ax], t] @ columns
                coarse[key] = part if key not in coarse else coarse[key] + part
    new_shape = shape[:ax] + (m,) + shape[ax + 1:]
    return ({key: np.ascontiguousarray(np.moveaxis(v.reshape((m,) + rest), 0, ax))
             for key, v in coarse.items() if v.any()}, new_shape)


def galerkin_stencil(stencil: Stencil, shape: Sequence[int],
                     closed: Sequence[tuple[bool, bool]]) -> Stencil:
    """``2^(2 - d') P^T A P`` for the operator ``A`` on ``shape``, ``d'`` the coarsened axes.

    ``P`` is the tensor product of :func:`interpolation_1d` over the axes, so the product
    is taken one axis at a time on the stencil's arrays (a sparse ``(m, n)`` matrix times
    each coupling's ``(n, rest)`` array), never as a sparse matrix-matrix product: the
    whole 128³ hierarchy, torch copies included, takes about 2.5 s on one core against 6-7 s
    with SciPy's product of the assembled matrices, which it equals.
    The factor keeps the integer scaling of the rediscretised coarse operator (for a
    constant coefficient ``P^T A P`` is ``2^(d' - 2)`` times it), so the network's learned
    restriction, trained against that scale, sees the same sizes.
    """
    shape = tuple(int(n) for n in shape)
    if max(shape) == 1:
        raise ValueError("a grid of one cell has no coarser level")
    coarsened = 0
    for ax, sides in enumerate(closed):
        if shape[ax] > 1:
            stencil, shape = _coarsen_axis(stencil, shape, ax, tuple(sides))
            coarsened += 1
    for values in stencil.values():  # the arrays are the product's own, not the input's
        values *= 2.0 ** (2 - coarsened)
    return stencil


#: damping of the Jacobi step that smooths the piecewise-constant interpolation of the
#: ``"smoothed"`` transfers (smoothed aggregation's ``4 / (3 rho(D^-1 A))`` with ``rho = 2``)
TRANSFER_OMEGA = 2.0 / 3.0


def aggregation_1d(n: int) -> sp.csr_matrix:
    """The ``(n, ceil(n / 2))`` piecewise-constant interpolation along one axis: fine cells
    ``2i`` and ``2i + 1`` take coarse cell ``i`` (an axis of one cell: the identity)."""
    m = (n + 1) // 2
    return sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n) // 2)), shape=(n, m))


def jacobi_scale(A: sp.csr_matrix, iterations: int = 20) -> float:
    """``max(1, 1.05 rho / 2)``, ``rho`` the largest eigenvalue of ``D^-1 A`` by power
    iteration from a fixed start: the factor by which a level's Jacobi steps divide their
    ``D^-1``, so that ``w = 2/3`` damps every mode. A 7-point M-matrix has ``rho <= 2``
    (scale 1); the dense Galerkin levels of the smoothed transfers reach ``rho > 3``, where
    an undamped-enough Jacobi step would amplify the top modes (seen at 128³, contrast 10³:
    the cycle stalled at 1e-5)."""
    d = A.diagonal()
    inv_sqrt = np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0)
    v = np.random.default_rng(0).standard_normal(A.shape[0])
    rho = 0.0
    for _ in range(iterations):
        w = inv_sqrt * (A @ (inv_sqrt * v))
        rho = float(np.linalg.norm(w) / max(np.linalg.norm(v), 1e-300))
        v = w
    return max(1.0, 1.05 * rho / 2.0)


def smoothed_interpolation(A: sp.csr_matrix, shape: Sequence[int],
                           scale: float = 1.0) -> sp.csr_matrix:
    """``P = (I - w (s D)^-1 A) P_0``: the piecewise-constant interpolation from blocks of
    ``2^d`` cells (:func:`aggregation_1d` per axis) smoothed by one damped Jacobi step of
    the operator, ``w`` = :data:`TRANSFER_OMEGA`, ``s`` the level's :func:`jacobi_scale`
    (a cell without open faces, ``D = 0``, keeps ``P_0``'s row).

    This is smoothed aggregation (Vanek, Mandel, Brezina 1996) with geometric aggregates:
    the interpolation follows the coefficient, which the fixed linear ``P`` cannot.
    """
    P0 = sp.identity(1, format="csr")
    for n in shape:
        P0 = sp.kron(P0, aggregation_1d(int(n)), format="csr")
    d = A.diagonal()
    inv_diag = np.divide(1.0, scale * d, out=np.zeros_like(d), where=d > 0)
    P = (P0 - TRANSFER_OMEGA * (sp.diags(inv_diag) @ (A @ P0))).tocsr()
    P.eliminate_zeros()
    return P


def smoothed_galerkin_product(A: sp.csr_matrix, shape: Sequence[int],
                              scale: float = 1.0) -> sp.csr_matrix:
    """``2^(2 - d') P^T A P`` with :func:`smoothed_interpolation`'s ``P`` (SciPy products,
    sorted indices), ``d'`` the coarsened axes, the scale of :func:`galerkin_stencil`;
    ``scale`` is ``A``'s :func:`jacobi_scale` (1 on the finest level)."""
    if max(shape) == 1:
        raise ValueError("a grid of one cell has no coarser level")
    P = smoothed_interpolation(A, shape, scale)
    coarsened = sum(int(n) > 1 for n in shape)
    Ac = (2.0 ** (2 - coarsened) * (P.T.tocsr() @ (A @ P))).tocsr()
    Ac.sort_indices()
    return Ac


class _SymmetricProduct(torch.autograd.Function):
    """``A x`` for a symmetric sparse ``A``, whose gradient is ``A g`` again: torch's own
    backward of a CSR product transposes ``A`` on every call (a sort, most of the time)."""

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.matrix = matrix
        return matrix @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor]:  # noqa: D102
        return None, ctx.matrix @ grad.contiguous()


def pad_ghosts(u: torch.Tensor, closed: Sequence[tuple[bool, bool]],
               high_extra: Sequence[int] | None = None) -> torch.Tensor:
    """``u`` with one ghost cell per side (plus ``high_extra[axis]`` at the high end): the
    edge value behind a closed (Neumann) side, 0 behind a Dirichlet side; channels-last."""
    ndim = u.dim() - 2
    for ax in range(ndim):
        dim, n = ax + 2, u.shape[ax + 2]
        lo, hi = u.narrow(dim, 0, 1), u.narrow(dim, n - 1, 1)
        lo = lo if closed[ax][0] else torch.zeros_like(lo)
        hi = hi if closed[ax][1] else torch.zeros_like(hi)
        extra = 0 if high_extra is None else high_extra[ax]
        u = torch.cat([lo, u] + [hi] * (1 + extra), dim)
    return u.contiguous(memory_format=torch.channels_last_3d if ndim == 3
                        else torch.channels_last)


class GalerkinStencil:
    """A coarse level of the network's cycle whose operator is a Galerkin product.

    It has the face of :class:`~sciml.solvers.deep_cd.model.GridStencil` that
    :class:`~sciml.solvers.deep_cd.model.MultigridNet` uses (``grid_shape``, ``ndim``,
    ``closed``, ``diag``, ``inv_diag``, ``apply``, ``pad``, ``coarse``); ``apply`` is a sparse
    matrix product (torch CSR with 32-bit indices, twice as fast as 64-bit ones on one core)
    instead of a face stencil.

    Parameters
    ----------
    level
        The level's operator in float64 (the torch copy has ``dtype``): a stencil, for
        the linear interpolation's levels, or a SciPy CSR matrix, for the smoothed one's
        (:func:`smoothed_galerkin_product`). It is kept until the next coarser level has
        been built from it.
    shape
        Its grid.
    closed
        Per axis, whether the low and high sides are closed (Neumann), as on the finest
        level.
    """

    def __init__(self, level: Stencil | sp.csr_matrix, shape: Sequence[int],
                 closed: Sequence[tuple[bool, bool]], dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        self.grid_shape = tuple(int(n) for n in shape)
        self.ndim = len(self.grid_shape)
        self.closed = [tuple(sides) for sides in closed]
        self.dtype, self.device = dtype, device
        #: ``"linear"`` (a stencil, coarsened by :func:`galerkin_stencil`) or ``"smoothed"``
        #: (a SciPy matrix, coarsened by :func:`smoothed_galerkin_product`)
        self.transfer = "smoothed" if sp.issparse(level) else "linear"
        numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
        if self.transfer == "smoothed":
            index = _index_dtype(level.nnz)
            indptr, indices = level.indptr.astype(index), level.indices.astype(index)
            data, diag = level.data.astype(numpy_dtype), level.diagonal()
        else:
            indptr, indices, data = csr_arrays(level, self.grid_shape, numpy_dtype)
            diag = level[(0,) * self.ndim]
        self.diag = torch.as_tensor(diag.reshape(1, 1, *self.grid_shape), dtype=dtype,
                                    device=device)
        #: the level's Jacobi steps use ``(s D)^-1`` (:func:`jacobi_scale`; 1 on the linear
        #: interpolation's levels, whose weights were trained without it)
        self.jacobi_scale = jacobi_scale(level) if self.transfer == "smoothed" else 1.0
        self.inv_diag = torch.where(self.diag > 0,
                                    1.0 / (self.jacobi_scale * self.diag.clamp_min(1e-30)), 0.0)
        n = len(indptr) - 1
        with warnings.catch_warnings():  # torch flags its CSR support as beta
            warnings.simplefilter("ignore", UserWarning)
            self._torch = torch.sparse_csr_tensor(
                torch.from_numpy(indptr), torch.from_numpy(indices), torch.from_numpy(data),
                size=(n, n), device=device, check_invariants=False)
        self._level: Stencil | sp.csr_matrix | None = level
        self._coarse: GalerkinStencil | None = None

    @classmethod
    def coarsen(cls, level: Stencil | sp.csr_matrix, shape: Sequence[int],
                closed: Sequence[tuple[bool, bool]], dtype: torch.dtype = torch.float32,
                device: torch.device | str = "cpu", scale: float = 1.0) -> "GalerkinStencil":
        """The Galerkin coarse level of the operator ``level`` on the grid ``shape``: with the
        linear ``P`` for a stencil, the smoothed one for a SciPy matrix (``scale``: the
        Jacobi scale of ``level``'s own steps, 1 on the finest level)."""
        coarse = (smoothed_galerkin_product(level, shape, scale) if sp.issparse(level)
                  else galerkin_stencil(level, shape, closed))
        return cls(coarse, coarse_shape(shape), closed, dtype, device)

    @property
    def coarse(self) -> "GalerkinStencil | None":
        """The next coarser Galerkin level (None when the grid is a single cell)."""
        if self._coarse is None and max(self.grid_shape) > 1:
            self._coarse = GalerkinStencil.coarsen(self._level, self.grid_shape, self.closed,
                                                   self.dtype, self.device, self.jacobi_scale)
            self._level = None  # the float64 copy is the size of the matrix itself
        return self._coarse

    def matrix(self) -> sp.csr_matrix:
        """The level's operator as a SciPy CSR matrix (float64, from the torch copy)."""
        return sp.csr_matrix((self._torch.values().double().cpu().numpy(),
                              self._torch.col_indices().cpu().numpy(),
                              self._torch.crow_indices().cpu().numpy()),
                             shape=tuple(self._torch.shape))

    def apply(self, u: torch.Tensor) -> torch.Tensor:
        """``A u`` channel by channel for ``u`` of shape ``(batch, channels, *grid)``."""
        flat = u.reshape(u.shape[0] * u.shape[1], -1).transpose(0, 1).contiguous()
        out = _SymmetricProduct.apply(self._torch, flat).transpose(0, 1)
        return out.reshape(u.shape)

    def pad(self, u: torch.Tensor, high_extra: Sequence[int] | None = None) -> torch.Tensor:
        """``u`` with ghost cells (:func:`pad_ghosts`)."""
        return pad_ghosts(u, self.closed, high_extra)
