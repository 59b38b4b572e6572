"""The MgNO network: layers of ``u <- GELU(MgConv(u) + W u + b)``, MgConv a linear V-cycle.

References
----------
J. He, X. Liu, J. Xu, "MgNO: Efficient Parameterization of Linear Operators via Multigrid",
ICLR 2024, arXiv:2310.19809.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from sciml.errors import InvalidOptionError

PADDING_MODES = ("zeros", "circular", "reflect")
#: initialisations of the V-cycle (see :class:`MgConv`)
INITS = ("paper", "multigrid")
#: named smoothing schedules (see :func:`smoothing_schedule`)
SMOOTHING_SCHEDULES = ("paper", "coarse")
#: how a V-cycle moves a correction to the finer grid (see :class:`MgConv`)
PROLONGATIONS = ("transpose", "resize")
#: standard deviation of the random part of the multigrid initialisation's transfer
#: operators, relative to PyTorch's default for the same convolution
_TRANSFER_NOISE = 0.1


def _conv(ndim: int) -> type[nn.Module]:
    return {1: nn.Conv1d, 2: nn.Conv2d}[ndim]


def _conv_transpose(ndim: int) -> type[nn.Module]:
    return {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}[ndim]


class _Smoother(nn.Module):
    """One smoothing step ``u <- u + S(f - A u)`` (``u = S f`` when ``u`` is None)."""

    def __init__(self, ndim: int, channels_u: int, channels_f: int, padding: str,
                 first: bool) -> None:
        super().__init__()
        conv = _conv(ndim)
        self.A = None if first else conv(channels_u, channels_f, 3, padding=1, bias=False,
                                         padding_mode=padding)
        self.S = conv(channels_f, channels_u, 3, padding=1, bias=False, padding_mode=padding)

    def forward(self, u: torch.Tensor | None, f: torch.Tensor) -> torch.Tensor:
        if self.A is None:
            return self.S(f)
        return u + self.S(f - self.A(u))


class _ResizeProlongation(nn.Module):
    """A learned 3-point / 3x3 convolution on the coarse grid, then fixed (bi)linear
    interpolation to twice the grid (a "resize-convolution" with the convolution first, so
    it costs no more than the transposed convolution it replaces): unlike a stride-2
    transposed convolution it cannot put different weights on even and odd fine points, the
    source of the grid-scale checkerboard."""

    def __init__(self, ndim: int, channels: int, padding: str) -> None:
        super().__init__()
        self.mode = "linear" if ndim == 1 else "bilinear"
        self.periodic = padding == "circular"
        self.conv = _conv(ndim)(channels, channels, 3, padding=1, bias=False,
                                padding_mode=padding)

    def forward(self, u: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
        u = self.conv(u)
        if self.periodic:  # interpolate across the wrap-around too
            u = F.pad(u, (1, 1) * (u.dim() - 2), mode="circular")
        fine = F.interpolate(u, scale_factor=2, mode=self.mode, align_corners=False)
        for axis, n in enumerate(shape, start=2):
            fine = fine.narrow(axis, 2 if self.periodic else 0, n)
        return fine


class MgConv(nn.Module):
    """One linear multi-channel V-cycle: the MgNO replacement of a convolution.

    Parameters
    ----------
    ndim
        Grid axes, 1 or 2.
    channels_u, channels_f
        Channels of the iterate ``u`` (output) and of the right-hand side ``f`` (input).
    smoothing
        Per level ``(pre, post)`` smoothing steps, finest level first; its length is the
        number of levels. The finest level needs ``pre >= 1`` (it starts with ``u = S f``).
    padding
        Padding mode of every 3-point / 3x3 convolution: ``"zeros"`` (Dirichlet),
        ``"circular"`` (periodic) or ``"reflect"``.
    init
        ``"paper"``: PyTorch's default for every convolution, as the authors' code.
        ``"multigrid"``: restrictions start as full weighting and the prolongation as
        linear interpolation, channel by channel, plus a small random part; the smoothers
        keep PyTorch's default scaled by ``1 / levels``.
    prolongation
        ``"transpose"``: the paper's stride-2 4x4 transposed convolution. ``"resize"``
        (ours): a learned 3x3 convolution, then fixed (bi)linear interpolation
        (:class:`_ResizeProlongation`; with ``init="multigrid"`` the convolution starts as
        the identity).

    Notes
    -----
    1. Finest level: ``u = S f``, then ``pre - 1`` steps ``u <- u + S(f - A u)``.
    2. Down to level ``l + 1``: ``f <- R f``, ``u <- Pi u`` (stride-2 3x3 convolutions), then
       ``pre`` smoothing steps there.
    3. Up: ``u_l <- u_l + P u_{l+1}`` (stride-2 4x4 transposed convolution, or with
       ``prolongation="resize"`` a 3x3 convolution and interpolation), then ``post``
       smoothing steps.

    Every convolution has its own weights and no bias. A grid of ``n`` points goes to
    ``ceil(n / 2)`` on the next level; on the way up, ``P``'s ``2 ceil(n / 2)`` points are
    cropped to ``n``, so any grid size works (the paper uses sizes divisible by
    ``2**(levels - 1)``). With circular padding ``P`` wraps around too (the paper's code
    pads ``P`` with zeros in every mode), so on grids divisible by ``2**(levels - 1)`` the
    V-cycle commutes with shifts by whole coarsest-grid cells.

    Why the multigrid initialisation: with PyTorch's default each convolution shrinks a
    signal by about ``1/sqrt(3)``, and a level ``l`` contribution passes ``2 l`` transfer
    convolutions, so the coarse levels, the only ones that see far, add almost nothing at
    the start (a 10-level 1D cycle: levels 4 and below give 1 % of the output for a
    one-wave input). Full weighting and linear interpolation pass smooth signals at full
    size (71 % from those levels), and the ``1 / levels`` smoother scale keeps the sum of
    the levels at the input's size (0.9 of it, where plain transfer operators give 10x).
    """

    def __init__(self, ndim: int, channels_u: int, channels_f: int,
                 smoothing: Sequence[Sequence[int]], padding: str = "zeros",
                 init: str = "paper", prolongation: str = "transpose") -> None:
        super().__init__()
        if padding not in PADDING_MODES:
            raise InvalidOptionError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        if init not in INITS:
            raise InvalidOptionError(f"init must be one of {INITS}, got {init!r}")
        if prolongation not in PROLONGATIONS:
            raise InvalidOptionError(f"prolongation must be one of {PROLONGATIONS}, got "
                                     f"{prolongation!r}")
        smoothing = [tuple(int(k) for k in level) for level in smoothing]
        if not smoothing or any(len(s) != 2 or min(s) < 0 for s in smoothing) \
                or smoothing[0][0] < 1:
            raise InvalidOptionError(
                "smoothing must be a non-empty list of (pre, post) counts >= 0, with pre >= 1 "
                f"on the finest level; got {smoothing}")
        conv, conv_t = _conv(ndim), _conv_transpose(ndim)
        self.smoothing = smoothing
        self.pre = nn.ModuleList(
            nn.ModuleList(_Smoother(ndim, channels_u, channels_f, padding, l == 0 and i == 0)
                          for i in range(pre))
            for l, (pre, _) in enumerate(smoothing))
        self.post = nn.ModuleList(
            nn.ModuleList(_Smoother(ndim, channels_u, channels_f, padding, False)
                          for _ in range(post))
            for _, post in smoothing[:-1])
        self.restrict_u = nn.ModuleList(
            conv(channels_u, channels_u, 3, stride=2, padding=1, bias=False,
                 padding_mode=padding) for _ in smoothing[:-1])
        self.restrict_f = nn.ModuleList(
            conv(channels_f, channels_f, 3, stride=2, padding=1, bias=False,
                 padding_mode=padding) for _ in smoothing[:-1])
        self.periodic = padding == "circular"
        self.prolong = nn.ModuleList(
            _ResizeProlongation(ndim, channels_u, padding) if prolongation == "resize"
            else conv_t(channels_u, channels_u, 4, stride=2, bias=False)
            for _ in smoothing[:-1])
        if init == "multigrid":
            self._multigrid_init()

    def _multigrid_init(self) -> None:
        """Full weighting, linear interpolation and ``1 / levels`` smoothers (class Notes)."""
        # restriction: coarse point i is fine point 2 i, weights (1/4, 1/2, 1/4) per axis;
        # prolongation: the 4 taps of coarse point i land on fine 2i-1 .. 2i+2 (see _fit)
        with torch.no_grad():
            for conv in [*self.restrict_u, *self.restrict_f]:
                _channelwise_stencil_(conv.weight, [0.25, 0.5, 0.25], conv.weight[0].numel())
            for prolong in self.prolong:
                if isinstance(prolong, _ResizeProlongation):  # the interpolation is fixed
                    weight = prolong.conv.weight
                    _channelwise_stencil_(weight, [0.0, 1.0, 0.0], weight[0].numel())
                    continue
                ndim = prolong.weight.dim() - 2
                _channelwise_stencil_(prolong.weight, [0.5, 1.0, 0.5, 0.0],
                                      prolong.weight.shape[0] * 2 ** ndim)
            for step in [s for level in [*self.pre, *self.post] for s in level]:
                step.S.weight.mul_(1.0 / self.levels)

    @property
    def levels(self) -> int:
        """Number of grid levels."""
        return len(self.smoothing)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        """Apply the V-cycle to ``f`` of shape ``(batch, channels_f, *grid)``."""
        us: list[torch.Tensor] = []
        fs: list[torch.Tensor] = []
        u = None
        for level in range(self.levels):
            if level > 0:
                f = self.restrict_f[level - 1](f)
                u = self.restrict_u[level - 1](u)
            for step in self.pre[level]:
                u = step(u, f)
            us.append(u)
            fs.append(f)
        u = us[-1]
        for level in range(self.levels - 2, -1, -1):
            fine, prolong = us[level], self.prolong[level]
            if isinstance(prolong, _ResizeProlongation):
                u = fine + prolong(u, fine.shape[2:])
            else:
                u = fine + _fit(prolong(u), fine.shape[2:], self.periodic)
            for step in self.post[level]:
                u = step(u, fs[level])
        return u


def _channelwise_stencil_(weight: torch.Tensor, taps: Sequence[float], fan_in: int) -> None:
    """Set ``weight`` (``(out, in, *kernel)``, ``out == in``) to the tensor-product stencil
    of ``taps`` on each channel plus noise of :data:`_TRANSFER_NOISE` times PyTorch's
    default scale for ``fan_in`` inputs."""
    ndim = weight.dim() - 2
    stencil = torch.tensor(taps, dtype=weight.dtype)
    for _ in range(ndim - 1):
        stencil = stencil[..., None] * torch.tensor(taps, dtype=weight.dtype)
    weight.normal_(0.0, _TRANSFER_NOISE / math.sqrt(fan_in))
    for channel in range(weight.shape[0]):
        weight[channel, channel] += stencil


def _fit(full: torch.Tensor, shape: Sequence[int], periodic: bool) -> torch.Tensor:
    """Cut the unpadded stride-2 4x4 transposed convolution to the fine grid ``shape``.

    ``full`` has ``2 m + 2`` points per axis for ``m`` coarse points; point ``k`` of it is
    fine point ``k - 1``. The two points outside the grid are dropped (zero or reflect
    padding, i.e. padding 1 of the transposed convolution) or wrapped around (periodic).
    """
    for axis, n in enumerate(shape, start=2):
        m2 = full.shape[axis] - 2
        inner = full.narrow(axis, 1, m2)
        if periodic and n == m2:
            inner = inner.clone()
            inner.narrow(axis, 0, 1).add_(full.narrow(axis, m2 + 1, 1))
            inner.narrow(axis, m2 - 1, 1).add_(full.narrow(axis, 0, 1))
        full = inner.narrow(axis, 0, n)
    return full


def smoothing_schedule(name: str, levels: int) -> list[tuple[int, int]]:
    """The ``(pre, post)`` smoothing steps per level (finest first) of a named schedule.

    ``"paper"``: one pre-smoothing step per level and two on the coarsest, no
    post-smoothing (the published configurations). ``"coarse"`` (ours, the Burgers
    default): two steps on the four levels above the coarsest and four on the coarsest,
    one elsewhere: more of the network where the lowest modes live, at almost no cost
    (those levels hold the fewest points).
    """
    if name not in SMOOTHING_SCHEDULES:
        raise InvalidOptionError(f"smoothing must be a list of (pre, post) counts or one of "
                                 f"{SMOOTHING_SCHEDULES}, got {name!r}")
    if name == "paper":
        return [(1, 0)] * (levels - 1) + [(2, 0)]
    middle = min(4, levels - 1)
    return [(1, 0)] * (levels - 1 - middle) + [(2, 0)] * middle + [(4, 0)]


class MgNO(nn.Module):
    """The multigrid neural operator: ``layers`` of ``u <- GELU(MgConv(u) + W u + b)``.

    Parameters
    ----------
    ndim
        Grid axes, 1 or 2.
    in_channels, out_channels
        Channels of the input field(s) and of the output.
    channels
        Channels of the hidden ``u`` (the paper's ``C_u``, 24 for Darcy).
    layers
        Number of MgNO layers (4; 5 for smooth Darcy in the paper).
    levels
        Grid levels of each V-cycle (6 for Darcy).
    smoothing
        ``(pre, post)`` smoothing steps per level, or the name of a schedule of
        :func:`smoothing_schedule`; default ``"paper"``: one pre-smoothing step per level
        and two on the coarsest, no post-smoothing (the published configurations).
    padding
        ``"zeros"`` (Dirichlet), ``"circular"`` (periodic) or ``"reflect"``.
    init
        ``"paper"`` or ``"multigrid"`` initialisation of every V-cycle (:class:`MgConv`).
    prolongation
        ``"transpose"`` (the paper's) or ``"resize"`` (:class:`MgConv`).

    Notes
    -----
    As in the paper there is no lifting layer: the first V-cycle takes the ``in_channels``
    input as its ``f``; ``W`` is a 1x1 convolution with bias; the head is a 1x1 convolution
    to ``out_channels`` without bias. The reference Darcy configuration (``in_channels=1``,
    ``channels=24``, ``layers=4``, ``levels=6``) has 572,661 parameters.
    """

    def __init__(self, ndim: int, in_channels: int = 1, out_channels: int = 1,
                 channels: int = 24, layers: int = 4, levels: int = 6,
                 smoothing: Sequence[Sequence[int]] | str | None = None,
                 padding: str = "zeros", init: str = "paper",
                 prolongation: str = "transpose") -> None:
        super().__init__()
        if ndim not in (1, 2):
            raise InvalidOptionError(f"MgNO supports 1 or 2 grid axes, got {ndim}")
        if min(in_channels, out_channels, channels, layers, levels) < 1:
            raise InvalidOptionError("in_channels, out_channels, channels, layers and levels "
                                     "must all be >= 1")
        if smoothing is None or isinstance(smoothing, str):
            smoothing = smoothing_schedule(smoothing or "paper", levels)
        if len(smoothing) != levels:
            raise InvalidOptionError(f"smoothing lists {len(smoothing)} levels, but levels="
                                     f"{levels}")
        conv = _conv(ndim)
        widths = [in_channels] + [channels] * layers
        self.cycles = nn.ModuleList(MgConv(ndim, channels, widths[i], smoothing, padding, init,
                                           prolongation)
                                    for i in range(layers))
        self.linears = nn.ModuleList(conv(widths[i], channels, 1) for i in range(layers))
        self.head = conv(channels, out_channels, 1, bias=False)
        self.channels_last = ndim == 2
        if self.channels_last:      # 1.5-2x faster convolutions on CPU (oneDNN)
            self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` of shape ``(batch, in_channels, *grid)`` to ``(batch, out, *grid)``."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for cycle, linear in zip(self.cycles, self.linears):
            x = F.gelu(cycle(x) + linear(x))
        return self.head(x)


def minimum_grid(levels: int, padding: str) -> int:
    """Smallest grid extent a ``levels``-level V-cycle with ``padding`` can take.

    Zero and circular padding work down to one point per level; reflect padding needs two
    points on the coarsest level, ``ceil(n / 2**(levels - 1)) >= 2``.
    """
    return 2 ** (levels - 1) + 1 if padding == "reflect" else 1
