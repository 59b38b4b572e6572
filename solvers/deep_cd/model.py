"""Networks of the deep conjugate-direction method: ``f(r) ~ A^-1 r`` on a structured grid.

Every network here maps a batch of residuals ``(batch, 1, *grid)`` and the problem's
:class:`GridStencil` to search directions of the same shape, in 2D or 3D:

* :class:`MultigridNet` (the default): a linear learned V-cycle with the same few-channel
  weights on every level, whose residuals use the problem's own operator rediscretised on
  each level, so coefficients, obstacles and Neumann sides enter through the operator;
* :class:`ReferenceNet`: the convolutional network of Kaneda et al. (2023), which sees only
  the residual;
* :class:`IdentityNet`: ``f(r) = r``, with which deep_cd is exactly CG (a baseline and a test).

References
----------
A. Kaneda, O. Akar, J. Chen, V. A. Trevino Kala, D. Hyde, J. Teran, "A Deep Conjugate
Direction Method for Iteratively Solving Linear Systems", ICML 2023, arXiv:2205.10763.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from sciml.errors import InvalidOptionError, InvalidProblemError
from sciml.backend import to_numpy
from sciml.kernels.stencil import StencilOperator, face_coefficients

from .galerkin import (TRANSFER_OMEGA, GalerkinStencil, Stencil, pad_ghosts,
                       stencil_from_faces, stencil_to_csr)

_CONV = {2: F.conv2d, 3: F.conv3d}
_CONV_T = {2: F.conv_transpose2d, 3: F.conv_transpose3d}
_POOL = {2: F.avg_pool2d, 3: F.avg_pool3d}


#: how :attr:`GridStencil.coarse` builds the coarse levels
COARSENINGS = ("rediscretise", "galerkin", "smoothed")


def transfer_width(coarsening: str) -> int:
    """Taps per axis of the network's transfer kernels: the linear interpolation's 4, or the
    smoothed transfers' 2 (their Jacobi step with the level's operator is not a weight)."""
    return 2 if coarsening == "smoothed" else 4


def checked_coarsening(coarsening: str) -> str:
    """``coarsening`` if it is one of :data:`COARSENINGS`, else an InvalidOptionError."""
    if coarsening not in COARSENINGS:
        raise InvalidOptionError(f"coarsening must be one of {list(COARSENINGS)}, got "
                                 f"{coarsening!r}")
    return coarsening


def _check_ndim(ndim: int) -> int:
    if ndim not in (2, 3):
        raise InvalidOptionError(f"deep_cd networks work on 2-D or 3-D grids, got ndim={ndim}")
    return ndim


class GridStencil:
    """The operator of a structured-grid problem as torch tensors, with its coarse levels.

    The operator is the integer-scaled ``-div(k grad u)`` of
    :class:`~sciml.kernels.stencil.StencilOperator`: face coefficients per axis (0 on walls and on
    Neumann sides) and the diagonal they sum to. :attr:`coarse` rediscretises it on the grid
    of ``ceil(n / 2)`` cells per axis: a coarse face takes the mean of the fine faces it
    covers, so walls and coefficient jumps survive coarsening. A Dirichlet boundary face is
    rescaled to the distance from the coarse cell's centre to the boundary
    (:func:`_coarse_boundary_face`); for odd ``n`` the last coarse cell reaches half a cell
    past the boundary and its boundary face is scaled by 3 instead.

    Parameters
    ----------
    faces
        One tensor per axis of shape ``(1, 1, *grid)`` with one more entry along that axis
        (face ``i`` lies between cells ``i - 1`` and ``i``).
    coarsening
        How :attr:`coarse` builds the next level: ``"rediscretise"`` (the mean of the fine
        faces, above) or ``"galerkin"`` (:mod:`~sciml.solvers.deep_cd.galerkin`: the
        product ``2^(2-d) P^T A P`` with the cycle's initial interpolation ``P``, which
        represents coefficient jumps inside coarse cells, at the price of coarse stencils
        of up to 125 points kept as sparse matrices) or ``"smoothed"`` (the same product
        with the smoothed-aggregation interpolation ``(I - w D^-1 A) P_0`` from blocks of
        ``2^d`` cells, :func:`~sciml.solvers.deep_cd.galerkin.smoothed_interpolation`,
        which follows the coefficient; SciPy products).
    """

    def __init__(self, faces: list[torch.Tensor], coarsening: str = "rediscretise") -> None:
        self.coarsening = checked_coarsening(coarsening)
        self.faces = faces
        self.ndim = len(faces)
        shape = list(faces[0].shape[2:])
        shape[0] -= 1
        self.grid_shape = tuple(shape)
        #: all faces 1 (the Dirichlet box): scalar diagonal, no face products in apply
        self.uniform = all(bool((w == 1).all()) for w in faces)
        if self.uniform:
            self.diag: torch.Tensor | float = 2.0 * self.ndim
            self.inv_diag: torch.Tensor | float = 1.0 / self.diag
            self.inner: list[torch.Tensor | None] = [None] * self.ndim
        else:
            diag = torch.zeros((1, 1, *self.grid_shape), dtype=faces[0].dtype,
                               device=faces[0].device)
            for ax, w in enumerate(faces):
                n = self.grid_shape[ax]
                diag = diag + w.narrow(ax + 2, 0, n) + w.narrow(ax + 2, 1, n)
            self.diag = diag
            # a cell without open faces (inside an obstacle) is left alone by the smoothers
            self.inv_diag = torch.where(diag > 0, 1.0 / diag.clamp_min(1e-30), 0.0)
            self.inner = [w.narrow(ax + 2, 1, self.grid_shape[ax] - 1)
                          for ax, w in enumerate(faces)]
        #: per axis, (low side, high side) closed: every boundary face 0 (a Neumann side)
        self.closed = [tuple(bool((w.narrow(ax + 2, end, 1) == 0).all())
                             for end in (0, self.grid_shape[ax]))
                       for ax, w in enumerate(faces)]
        self._coarse: GridStencil | GalerkinStencil | None = None

    @classmethod
    def from_operator(cls, op: StencilOperator | None, grid_shape: tuple[int, ...],
                      dtype: torch.dtype = torch.float32, device: Any = "cpu",
                      coarsening: str = "rediscretise") -> "GridStencil":
        """Build from a :class:`~sciml.kernels.stencil.StencilOperator`, or the constant-coefficient
        Dirichlet operator on ``grid_shape`` when ``op`` is None."""
        _check_ndim(len(grid_shape))
        if op is None or op.constant:
            faces = face_coefficients(np.ones(grid_shape))
        else:
            k = np.ones(grid_shape) if op.coefficient is None else to_numpy(op.coefficient)
            faces = face_coefficients(k, None if op.mask is None else to_numpy(op.mask), op.bc)
        return cls([torch.as_tensor(w, dtype=dtype, device=device)[None, None]
                    for w in faces], coarsening)

    @property
    def coarse(self) -> "GridStencil | GalerkinStencil | None":
        """The operator on the next coarser grid (None when the grid is a single cell).

        Each axis is coarsened on its own: an axis of ``n > 1`` cells goes to ``ceil(n / 2)``,
        an axis already at one cell stays at one (anisotropic coarsening, e.g. ``64 x 64 x 32``
        or ``1 x 16 x 16``). A kept axis keeps the fine spacing ``h`` while the coarsened ones
        go to ``2h``; the integer scaling of the coarse operator is by the coarse spacing
        ``(2h)^2``, so the faces along a kept axis are multiplied by ``(2h / h)^2 = 4``. On a
        cubic grid every axis is coarsened, as before.
        """
        galerkin = self.coarsening != "rediscretise"
        if self._coarse is None and max(self.grid_shape) > 1 and galerkin:
            w = self.faces[0]
            level = self.stencil() if self.coarsening == "galerkin" else self.matrix()
            self._coarse = GalerkinStencil.coarsen(level, self.grid_shape, self.closed,
                                                   w.dtype, w.device)
        if self._coarse is None and max(self.grid_shape) > 1:
            coarsened = [n > 1 for n in self.grid_shape]
            faces = []
            for ax, w in enumerate(self.faces):
                n = self.grid_shape[ax]
                if coarsened[ax]:
                    index = torch.tensor([min(2 * i, n) for i in range((n + 1) // 2 + 1)],
                                         device=w.device)
                    fine, w = w, w.index_select(ax + 2, index)
                    last = w.shape[ax + 2] - 1
                    w.narrow(ax + 2, 0, 1).copy_(_coarse_boundary_face(
                        fine.narrow(ax + 2, 0, 1), fine.narrow(ax + 2, 1, 1)))
                    if n % 2:  # the last coarse cell is half outside: its boundary is 3x closer
                        w.narrow(ax + 2, last, 1).mul_(3.0)
                    else:
                        w.narrow(ax + 2, last, 1).copy_(_coarse_boundary_face(
                            fine.narrow(ax + 2, n, 1), fine.narrow(ax + 2, n - 1, 1)))
                else:
                    w = 4.0 * w
                kernel = [2 if coarsened[a] and a != ax else 1 for a in range(self.ndim)]
                faces.append(_POOL[self.ndim](w, kernel, stride=kernel, ceil_mode=True))
            self._coarse = GridStencil(faces)
        return self._coarse

    def apply(self, u: torch.Tensor) -> torch.Tensor:
        """``A u`` channel by channel for ``u`` of shape ``(batch, channels, *grid)``."""
        y = self.diag * u
        for ax in range(self.ndim):
            dim, n = ax + 2, self.grid_shape[ax]
            if n < 2:
                continue
            lo, hi = u.narrow(dim, 0, n - 1), u.narrow(dim, 1, n - 1)
            w = self.inner[ax]
            y.narrow(dim, 1, n - 1).sub_(lo if w is None else w * lo)
            y.narrow(dim, 0, n - 1).sub_(hi if w is None else w * hi)
        return y

    def pad(self, u: torch.Tensor, high_extra: Sequence[int] | None = None) -> torch.Tensor:
        """``u`` with ghost cells (:func:`~sciml.solvers.deep_cd.galerkin.pad_ghosts`): the
        edge value behind a closed (Neumann) side, 0 behind a Dirichlet side."""
        return pad_ghosts(u, self.closed, high_extra)

    def stencil(self) -> Stencil:
        """The operator as a stencil of float64 arrays, e.g. for Galerkin products."""
        return stencil_from_faces([w[0, 0].detach().cpu().double().numpy() for w in self.faces],
                                  self.grid_shape)

    def matrix(self) -> sp.csr_matrix:
        """The operator as a SciPy CSR matrix (float64)."""
        return stencil_to_csr(self.stencil(), self.grid_shape)

    def to(self, dtype: torch.dtype) -> "GridStencil":
        """The same operator in another floating dtype (coarse levels rebuilt on demand)."""
        return GridStencil([w.to(dtype) for w in self.faces], self.coarsening)


def _coarse_boundary_face(boundary: torch.Tensor, inner: torch.Tensor) -> torch.Tensor:
    """The coarse boundary face of two fine cells next to a Dirichlet side.

    The operator's boundary face ``w_b`` puts the zero boundary value ``h / w_b`` (in units of
    the coefficient) from the first cell's centre (``w_b = 1``: one spacing, the standard
    7-point matrix). The coarse cell's centre lies half a fine spacing further in, behind
    half of the inner face ``w_i``; the two resistances in series, in units of the coarse
    spacing ``2h``, give ``4 w_b w_i / (2 w_i + w_b)``: ``4/3`` for the box, then ``8/5``,
    ``16/9``, ... towards 2 on coarser levels. Keeping ``w_b`` instead puts the coarse
    boundary half a fine spacing too far out on every level; the smoothest error mode is
    then over-corrected more on each coarser level, and the 2-D V-cycle diverged from 128^2
    on (contraction 1.07 at 128^2, 1.44 at 256^2; 0.49 at every size with this rule). Where
    the inner face is closed (a wall), ``w_b`` is kept; Neumann sides (``w_b = 0``) stay 0.
    """
    series = 4.0 * boundary * inner / (2.0 * inner + boundary).clamp_min(1e-30)
    return torch.where(inner > 0, series, boundary)


def _memory_format(ndim: int) -> torch.memory_format:
    return torch.channels_last_3d if ndim == 3 else torch.channels_last


#: grids at least this large are convolved by oneDNN directly during inference on the CPU
_ONEDNN_MIN_SIZE = 16**3


def _conv(x: torch.Tensor, weight: torch.Tensor, stride: int = 1,
          padding: int = 1) -> torch.Tensor:
    """A bias-free convolution; at inference on mid-size and large CPU grids it calls oneDNN
    directly, because torch's heuristic picks its ~10x slower reference kernel for some of
    them (e.g. 2 channels at 64^3)."""
    d = x.dim() - 2
    if (x.device.type == "cpu" and not torch.is_grad_enabled() and x.dtype == torch.float32
            and torch.backends.mkldnn.is_available() and x[0, 0].numel() >= _ONEDNN_MIN_SIZE):
        return torch.mkldnn_convolution(x, weight, None, [padding] * d, [stride] * d, [1] * d, 1)
    return _CONV[d](x, weight, stride=stride, padding=padding)


class MultigridNet(nn.Module):
    """A linear learned V-cycle with the same weights on every level (the default network).

    On a level with input ``f`` (``channels`` fields) and operator ``A`` (the problem's own,
    rediscretised, applied to each channel) with diagonal ``D``::

        u = D^-1 S1 f                          # learned pre-smoother (3^d convolution)
        u = u + P V(R (f - A u))               # stride-2 4^d restriction, recursion,
                                               # transposed-convolution prolongation
        u = u + D^-1 S2 (f - A u)              # learned post-smoother

    down to a single cell; a ``1^d`` lift takes the residual to ``channels`` fields and a
    ``1^d`` projection returns one. No bias and no activation: the network is a linear map.

    Parameters
    ----------
    ndim
        2 or 3.
    channels
        Fields carried through the cycle (the pilot used 2-4).
    omega
        Damping of the Jacobi smoother the network starts as.
    seed
        Seed of the small random weights that break the symmetry between channels.
    coarsening
        The coarse operators the network is trained for and runs with by default
        (:data:`COARSENINGS`, see :class:`GridStencil`): ``"rediscretise"``,
        ``"galerkin"`` (both with the 4-tap linear transfers) or ``"smoothed"`` (2-tap
        transfers, each followed or preceded by a damped Jacobi step of the level's
        operator: :meth:`smoothed_restriction`, :meth:`smoothed_prolongation`; smoothed
        aggregation's interpolation, on which its Galerkin levels are built). deep_cd
        builds each problem's levels this way.

    Notes
    -----
    Initialised as geometric multigrid: channel 0 runs a cell-centred V(1,1) cycle with damped
    Jacobi, trilinear prolongation and ``R = 2^(2-d) P^T`` (the integer-scaled coarse operator
    needs ``4x`` the averaged residual); the other channels start near zero. Because the weights
    are shared across levels and the operator enters through ``A`` and ``D``, the same weights
    run on any grid size (odd sizes coarsen to ``ceil(n / 2)``), boundary kind, coefficient or
    obstacle. The convolutions pad with zeros behind Dirichlet sides and with the edge value
    behind Neumann sides (:meth:`GridStencil.pad`); walls inside the grid enter only through
    ``A`` and ``D``. This replaces the paper's network as default; see :class:`ReferenceNet`.
    With ``coarsening="smoothed"`` channel 0 starts as smoothed aggregation on ``2^d`` blocks
    instead (``P = (I - w D^-1 A) P_0``, ``R = 2^(2-d) P^T``): the operator enters the
    transfers too, so they follow coefficient jumps, which the fixed linear interpolation
    cannot (ours, not Kaneda et al.'s; Vanek, Mandel, Brezina 1996 for the interpolation).
    """

    def __init__(self, ndim: int = 3, channels: int = 4, omega: float = 2.0 / 3.0,
                 seed: int = 0, coarsening: str = "rediscretise") -> None:
        super().__init__()
        self.ndim = _check_ndim(ndim)
        self.coarsening = checked_coarsening(coarsening)
        self.channels = channels
        c, d = channels, ndim
        self.lift = nn.Parameter(torch.zeros((c, 1) + (1,) * d))
        self.pre = nn.Parameter(torch.zeros((c, c) + (3,) * d))
        self.post = nn.Parameter(torch.zeros((c, c) + (3,) * d))
        width = transfer_width(self.coarsening)
        self.restrict = nn.Parameter(torch.zeros((c, c) + (width,) * d))
        self.prolong = nn.Parameter(torch.zeros((c, c) + (width,) * d))
        self.project = nn.Parameter(torch.zeros((1, c) + (1,) * d))
        self.reset_to_multigrid(omega, seed)

    @torch.no_grad()
    def reset_to_multigrid(self, omega: float = 2.0 / 3.0, seed: int = 0) -> None:
        """Set the weights to geometric multigrid in channel 0 plus small noise elsewhere."""
        d = self.ndim
        gen = torch.Generator().manual_seed(seed)
        for p in self.parameters():
            p.copy_(1e-2 * torch.randn(p.shape, generator=gen))
        centre = (0, 0) + (1,) * d
        taps = torch.tensor([1.0, 1.0] if self.coarsening == "smoothed"
                            else [0.25, 0.75, 0.75, 0.25])
        kernel = taps
        for _ in range(d - 1):
            kernel = kernel[..., None] * taps
        for p in (self.pre, self.post):
            p[0, 0].zero_()
            p[centre] = omega
        self.prolong[0, 0] = kernel
        self.restrict[0, 0] = kernel * 2.0 ** (2 - d)
        self.lift[0] = 1.0
        self.project[0, 0] = 1.0

    def forward(self, r: torch.Tensor, grid: GridStencil) -> torch.Tensor:
        """Search directions for residuals ``r`` of shape ``(batch, 1, *grid)``."""
        # the 1^d lift and projection as broadcasts: torch's 1^d convolutions are slow on CPU
        f = (r * self.lift.view(1, -1, *(1,) * self.ndim)).contiguous(
            memory_format=_memory_format(self.ndim))
        u = self._cycle(f, grid)
        return (u * self.project.view(1, -1, *(1,) * self.ndim)).sum(dim=1, keepdim=True)

    def _cycle(self, f: torch.Tensor, grid: GridStencil) -> torch.Tensor:
        d = self.ndim
        # zero padding is the Dirichlet ghost; a Neumann side needs the edge value instead
        ghosts = any(any(sides) for sides in grid.closed)

        def smooth(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
            if ghosts:
                return grid.inv_diag * _conv(grid.pad(x), weight, padding=0)
            return grid.inv_diag * _conv(x, weight)

        u = smooth(f, self.pre)
        coarse = grid.coarse
        if coarse is not None and self.coarsening == "smoothed":
            u = u + self._smoothed_correction(f - grid.apply(u), grid, coarse)
        elif coarse is not None:
            residual = f - grid.apply(u)
            odd = [n % 2 for n in grid.grid_shape]  # one more cell: ceil(n / 2) coarse cells
            if ghosts:
                fc = _conv(grid.pad(residual, odd), self.restrict, stride=2, padding=0)
            else:
                if any(odd):
                    residual = F.pad(residual, [p for extra in reversed(odd) for p in (0, extra)])
                fc = _conv(residual, self.restrict, stride=2)
            uc = self._cycle(fc.contiguous(memory_format=_memory_format(d)), coarse)
            if ghosts:  # one coarse ghost is two fine cells
                up = _CONV_T[d](coarse.pad(uc), self.prolong, stride=2, padding=1)
                u = u + up[(...,) + tuple(slice(2, 2 + n) for n in grid.grid_shape)]
            else:
                up = _CONV_T[d](uc, self.prolong, stride=2, padding=1)
                u = u + up[(...,) + tuple(slice(0, n) for n in grid.grid_shape)]
        return u + smooth(f - grid.apply(u), self.post)

    def _smoothed_correction(self, residual: torch.Tensor, grid: GridStencil,
                             coarse: GalerkinStencil) -> torch.Tensor:
        """The coarse-grid correction with smoothed transfers (:meth:`smoothed_restriction`,
        :meth:`smoothed_prolongation`)."""
        fc = self.smoothed_restriction(residual, grid)
        uc = self._cycle(fc.contiguous(memory_format=_memory_format(self.ndim)), coarse)
        return self.smoothed_prolongation(uc, grid)

    def smoothed_restriction(self, residual: torch.Tensor, grid: GridStencil) -> torch.Tensor:
        """``R_w (I - w A D^-1) r``: ``R_w`` the learned stride-2 ``2^d`` convolution
        (``2^(2-d) P_0^T`` at the start), ``w`` =
        :data:`~sciml.solvers.deep_cd.galerkin.TRANSFER_OMEGA`; no ghost cells, since the
        ``2^d`` blocks do not reach across the boundary (``coarsening="smoothed"``)."""
        residual = residual - TRANSFER_OMEGA * grid.apply(grid.inv_diag * residual)
        odd = [n % 2 for n in grid.grid_shape]  # one more cell: ceil(n / 2) coarse cells
        if any(odd):
            residual = F.pad(residual, [p for extra in reversed(odd) for p in (0, extra)])
        return _conv(residual, self.restrict, stride=2, padding=0)

    def smoothed_prolongation(self, uc: torch.Tensor, grid: GridStencil) -> torch.Tensor:
        """``(I - w D^-1 A) P_w u_c``: ``P_w`` the learned stride-2 ``2^d`` transposed
        convolution (``P_0`` at the start), cropped to the fine grid."""
        up = _CONV_T[self.ndim](uc, self.prolong, stride=2)
        up = up[(...,) + tuple(slice(0, n) for n in grid.grid_shape)]
        return up - TRANSFER_OMEGA * grid.inv_diag * grid.apply(up)


class ReferenceNet(nn.Module):
    """The network of Kaneda et al. (2023): 3^d convolutions, ReLU, skips, one coarse level.

    ``c0`` = linear convolution 1 -> ``channels``; on the fine grid ``a = relu(conv(c0))``
    followed by ``fine_pairs`` residual pairs and ``b = relu(conv(a))``; ``2^d`` average pool
    of ``b``, ``coarse_pairs`` residual pairs; nearest upsampling plus ``b``, ``up_pairs``
    residual pairs; a ``1^d`` linear convolution to one channel. A residual pair is
    ``t = relu(conv(a)); a = relu(conv(t)) + a``. All convolutions have a bias.

    The defaults give the paper's 64^3 model (15 convolutions, 97,457 parameters in 3D);
    ``fine_pairs=2, coarse_pairs=5, up_pairs=3`` give its 128^3 model (152,881).

    Notes
    -----
    It sees the residual only, not the operator, so it is tied to the operator it was trained
    on; odd sizes pool with a partial last window and upsample back to the fine size; an
    axis of one cell is not pooled.
    """

    def __init__(self, ndim: int = 3, channels: int = 16, fine_pairs: int = 1,
                 coarse_pairs: int = 3, up_pairs: int = 2) -> None:
        super().__init__()
        self.ndim = _check_ndim(ndim)
        conv = nn.Conv3d if ndim == 3 else nn.Conv2d

        def convs(count: int) -> nn.ModuleList:
            return nn.ModuleList(conv(channels, channels, 3, padding=1) for _ in range(count))

        self.first = conv(1, channels, 3, padding=1)
        self.fine = convs(2 * fine_pairs + 2)
        self.coarse = convs(2 * coarse_pairs)
        self.up = convs(2 * up_pairs)
        self.last = conv(channels, 1, 1)

    @staticmethod
    def _pairs(a: torch.Tensor, layers: nn.ModuleList) -> torch.Tensor:
        for i in range(0, len(layers), 2):
            a = F.relu(layers[i + 1](F.relu(layers[i](a)))) + a
        return a

    def forward(self, r: torch.Tensor, grid: GridStencil | None = None) -> torch.Tensor:
        """Search directions for residuals ``r`` of shape ``(batch, 1, *grid)``."""
        a = F.relu(self.fine[0](self.first(r)))
        a = self._pairs(a, self.fine[1:-1])
        b = F.relu(self.fine[-1](a))
        window = [min(2, n) for n in b.shape[2:]]  # an axis of one cell is not pooled
        a = self._pairs(_POOL[self.ndim](b, window, ceil_mode=True), self.coarse)
        a = F.interpolate(a, size=b.shape[2:], mode="nearest") + b
        return self.last(self._pairs(a, self.up))


class IdentityNet(nn.Module):
    """``f(r) = r``: deep_cd with this network is conjugate gradients, step for step."""

    def __init__(self, ndim: int = 3) -> None:
        super().__init__()
        self.ndim = _check_ndim(ndim)

    def forward(self, r: torch.Tensor, grid: GridStencil | None = None) -> torch.Tensor:
        """Return ``r`` unchanged."""
        return r


NETWORKS: dict[str, type[nn.Module]] = {
    "multigrid": MultigridNet, "reference": ReferenceNet, "identity": IdentityNet}


#: the most weights a deep_cd network config may describe (the shipped ones have < 200,000)
MAX_PARAMETERS = 10**8


def parameter_count(kind: str, options: dict[str, Any]) -> int:
    """The number of weights the network ``kind`` with ``options`` would have, without
    building it (so a crafted config is refused before any allocation)."""
    d = int(options.get("ndim", 3))
    if kind == "multigrid":
        c = int(options.get("channels", 4))
        width = transfer_width(options.get("coarsening", COARSENINGS[0]))
        return 2 * c + 2 * c * c * (3**d + width**d)
    if kind == "reference":
        c = int(options.get("channels", 16))
        convs = sum(2 * int(options.get(name, default)) for name, default in
                    (("fine_pairs", 1), ("coarse_pairs", 3), ("up_pairs", 2))) + 2
        return (c * 3**d + c) + convs * (c * c * 3**d + c) + (c + 1)
    return 0


def build_network(config: dict[str, Any]) -> nn.Module:
    """Rebuild a network from its plain-data ``config`` (``{"kind": ..., **kwargs}``).

    Raises
    ------
    InvalidOptionError
        An unknown kind, bad options, or more than :data:`MAX_PARAMETERS` weights
        (:func:`parameter_count`, checked before building).
    """
    options = dict(config)
    kind = options.pop("kind", None)
    if kind not in NETWORKS:
        raise InvalidOptionError(
            f"unknown deep_cd network kind {kind!r}; expected one of {sorted(NETWORKS)}")
    try:
        count = parameter_count(kind, options)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(f"bad options for the {kind!r} network: {exc}") from exc
    if count > MAX_PARAMETERS:
        raise InvalidOptionError(f"the {kind!r} network with {options} would have {count:,} "
                                 f"weights, more than the limit {MAX_PARAMETERS:,}")
    try:
        return NETWORKS[kind](**options)
    except TypeError as exc:
        raise InvalidOptionError(f"bad options for the {kind!r} network: {exc}") from exc


def stencil_name(ndim: int) -> str:
    """The finite-difference stencil of the Poisson operator in ``ndim`` dimensions."""
    if not 1 <= ndim <= 3:
        raise InvalidProblemError(f"no stencil for {ndim} dimensions")
    return f"{2 * ndim + 1}-point"
