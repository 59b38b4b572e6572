"""Losses for operator learning: relative L2 and relative H1 over a batch.

Both are per-sample relative norms averaged over the batch (as in the FNO and MgNO papers).
Fields have shape ``(batch, channels, *grid)`` or ``(batch, *grid)``; the grid has 1 or 2
axes. Gradients in H1 are central finite differences on the unit-length grid, periodic (with
wrap-around) or not (one-sided at the edges, for Dirichlet problems).
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
