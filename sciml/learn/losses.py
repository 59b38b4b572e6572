"""Losses for operator learning: relative L2 and two relative H1 norms over a batch.

All are per-sample relative norms averaged over the batch (as in the FNO and MgNO papers).
Fields have shape ``(batch, channels, *grid)`` or ``(batch, *grid)``; the grid has 1 or 2
axes. :class:`RelativeH1` takes gradients by central finite differences on the unit-length
grid, periodic (with wrap-around) or not (one-sided at the edges, for Dirichlet problems);
:class:`FourierH1` weights Fourier coefficients, as the MgNO authors' code does.
"""

from __future__ import annotations

from typing import Any


class RelativeL2:
    """``mean_i ||pred_i - true_i||_2 / ||true_i||_2``."""

    def __call__(self, pred: Any, true: Any) -> Any:
        diff = (pred - true).flatten(1).norm(dim=1)
        return (diff / true.flatten(1).norm(dim=1).clamp_min(1e-12)).mean()


class RelativeH1:
    """``mean_i |pred_i - true_i|_H1 / |true_i|_H1`` with ``|u|^2 = ||u||^2 + ||grad u||^2``.

    Parameters
    ----------
    ndim
        Number of grid axes (the trailing ``ndim`` axes of a field).
    periodic
        Wrap-around differences (periodic problems) or one-sided ones at the edges.
    """

    def __init__(self, ndim: int = 2, periodic: bool = False) -> None:
        if ndim not in (1, 2, 3):
            raise ValueError(f"RelativeH1 needs ndim in 1..3, got {ndim}")
        self.ndim = ndim
        self.periodic = periodic

    def _h1_sq(self, u: Any) -> Any:
        import torch  # noqa: PLC0415

        total = u.flatten(1).pow(2).sum(dim=1)
        for axis in range(u.dim() - self.ndim, u.dim()):
            n = u.shape[axis]
            if self.periodic:
                grad = (torch.roll(u, -1, axis) - torch.roll(u, 1, axis)) * (n / 2.0)
            else:
                grad = torch.gradient(u, spacing=1.0 / max(n - 1, 1), dim=axis)[0]
            total = total + grad.flatten(1).pow(2).sum(dim=1)
        return total

    def __call__(self, pred: Any, true: Any) -> Any:
        err = self._h1_sq(pred - true).sqrt()
        return (err / self._h1_sq(true).sqrt().clamp_min(1e-12)).mean()


class FourierH1:
    """``mean_i ||w (F pred_i - F true_i)|| / ||w F true_i||``, ``w(k) = sqrt(1 + (a |k|)^2)``.

    The relative H1 norm of the MgNO authors' training code: ``F`` is the discrete Fourier
    transform over the grid axes and ``k`` the integer wavenumbers of each axis, whatever
    the grid spacing.

    Parameters
    ----------
    ndim
        Number of grid axes (the trailing ``ndim`` axes of a field).
    a
        Weight of the derivative term; the authors use 2.

    Notes
    -----
    Unlike :class:`RelativeH1`, whose central differences vanish on the grid-scale
    (checkerboard) mode, this norm weights that mode most. It treats the field as periodic;
    on Darcy's zero-Dirichlet fields the periodic extension is continuous, so the
    transform sees no jump at the edges.

    References
    ----------
    J. He, X. Liu, J. Xu, "MgNO: Efficient Parameterization of Linear Operators via
    Multigrid", ICLR 2024 (training code: the ``HsLoss`` of the FNO utilities, ``k = 1``,
    ``a = [2]``).
    """

    def __init__(self, ndim: int = 2, a: float = 2.0) -> None:
        if ndim not in (1, 2, 3):
            raise ValueError(f"FourierH1 needs ndim in 1..3, got {ndim}")
        self.ndim = ndim
        self.a = a

    def _weights(self, shape: Any, like: Any) -> Any:
        import torch  # noqa: PLC0415

        total = torch.ones((), dtype=like.dtype, device=like.device)
        for axis, n in enumerate(shape):
            k = torch.fft.fftfreq(n, d=1.0 / n, dtype=like.dtype, device=like.device)
            view = [1] * len(shape)
            view[axis] = n
            total = total + (self.a * k.reshape(view)) ** 2
        return total.sqrt()

    def __call__(self, pred: Any, true: Any) -> Any:
        import torch  # noqa: PLC0415

        dims = tuple(range(pred.dim() - self.ndim, pred.dim()))
        weights = self._weights(pred.shape[-self.ndim:], pred)
        err = (torch.fft.fftn(pred - true, dim=dims) * weights).abs().flatten(1).norm(dim=1)
        ref = (torch.fft.fftn(true, dim=dims) * weights).abs().flatten(1).norm(dim=1)
        return (err / ref.clamp_min(1e-12)).mean()
