"""Weak residuals of Darcy's mixed form with compactly supported radial test functions.

DGNO (Zang & Koutsourelakis, arXiv 2502.06250, Sec. 3.3) writes ``-div(a grad u) = f`` as
the mixed system ``s = a grad u``, ``-div s = f`` and tests the second equation with
Wendland C^4 functions on small disks ``B(c, R)`` inside the domain:

    integral s . grad v = integral f v        (v vanishes on the disk's boundary)

so ``a`` is never differentiated and only first derivatives of ``u`` appear. Each disk's
integrals are means over the same quadrature points (a uniform ``m x m`` grid of ``[-1, 1]^2``
kept where it falls inside the unit disk, scaled by ``R``), with equal weights;
centres are drawn by Latin hypercube sampling inside ``[R, 1 - R]^2`` at every step.

Where we differ from the paper: the default radius is 0.02 rather than 1e-4 (the
reference notes state that 0.02 works as well); at 1e-4 the terms ``s . grad v`` are
``O(1/R)`` and cancel to ``O(1)`` in float32.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def wendland_c4(r: torch.Tensor) -> torch.Tensor:
    """Wendland's C^4 function in 2D, ``(1 - r)^6 (35 r^2 + 18 r + 3) / 3`` for ``r <= 1``."""
    r = r.clamp(max=1.0)
    return (1 - r) ** 6 * (35 * r**2 + 18 * r + 3) / 3


def wendland_c4_gradient(z: torch.Tensor, radius: float) -> torch.Tensor:
    """``grad_x v((x - c) / R)`` at unit-disk offsets ``z = (x - c) / R``: ``(..., 2)``.

    ``dv/dr = -(56/3) r (1 - r)^5 (5 r + 1)``, so the gradient
    ``-(56/3) (1 - r)^5 (5 r + 1) z / R`` is smooth at the centre.
    """
    r = z.norm(dim=-1, keepdim=True).clamp(max=1.0)
    return -(56.0 / 3.0) * (1 - r) ** 5 * (5 * r + 1) * z / radius


def disk_quadrature(m: int) -> np.ndarray:
    """Points of the uniform ``m x m`` grid of ``[-1, 1]^2`` strictly inside the unit disk
    (points on the circle, where every test function vanishes, are left out).

    Returns
    -------
    numpy.ndarray
        ``(q, 2)`` offsets (``m = 7`` gives 25 points, 8 gives 32, 9 gives 45).
    """
    if m < 2:
        raise ValueError(f"the quadrature grid needs m >= 2 points per side, got {m}")
    t = np.linspace(-1.0, 1.0, m)
    z = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
    return z[np.einsum("ij,ij->i", z, z) < 1.0 - 1e-12]


def latin_hypercube(n: int, low: float, high: float, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` points in ``[low, high]^2``, one in each of ``n`` strata of either axis."""
    columns = []
    for _ in range(2):
        strata = torch.randperm(n, generator=generator)
        offsets = torch.rand(n, generator=generator, dtype=torch.float64)
        columns.append((strata + offsets) / n)
    unit = torch.stack(columns, dim=1)
    return (low + (high - low) * unit).to(dtype)


class DiskTestFunctions:
    """Test functions on ``n_c`` disks: their quadrature points, values and gradients.

    Parameters
    ----------
    centres
        ``(n_c, 2)`` disk centres inside the domain.
    radius
        Disk radius ``R``.
    offsets
        ``(q, 2)`` unit-disk quadrature offsets (:func:`disk_quadrature`).
    """

    def __init__(self, centres: torch.Tensor, radius: float, offsets: torch.Tensor) -> None:
        offsets = offsets.to(centres)
        self.n_centres, self.n_quadrature = len(centres), len(offsets)
        #: ``(n_c * q, 2)``: all quadrature points, disk by disk
        self.points = (centres[:, None, :] + radius * offsets[None, :, :]).reshape(-1, 2)
        self.values = wendland_c4(offsets.norm(dim=-1))                  # (q,)
        self.gradients = wendland_c4_gradient(offsets, radius)           # (q, 2)

    def to(self, like: torch.Tensor) -> "DiskTestFunctions":
        """These test functions with their tensors on ``like``'s device and dtype."""
        for name in ("points", "values", "gradients"):
            setattr(self, name, getattr(self, name).to(like))
        return self

    def residuals(self, s: torch.Tensor, f: torch.Tensor | float) -> torch.Tensor:
        """Per disk, ``mean_q(s . grad v) - mean_q(f v)``: ``(batch, n_c)``.

        ``s`` is ``(2, batch, n_c * q)`` (flux components at :attr:`points`); ``f`` a number
        or ``(batch, n_c * q)``.
        """
        batch = s.shape[1]
        s = s.reshape(2, batch, self.n_centres, self.n_quadrature)
        flux = torch.einsum("dbcq,qd->bc", s, self.gradients) / self.n_quadrature
        if isinstance(f, torch.Tensor):
            f = f.reshape(batch, self.n_centres, self.n_quadrature)
            source = (f * self.values).mean(dim=-1)
        else:
            source = f * self.values.mean()
        return flux - source


def mixed_form_loss(s: torch.Tensor, a_grad_u: torch.Tensor, weak: torch.Tensor
                    ) -> torch.Tensor:
    """DGNO's PDE loss ``mean |s - a grad u|^2 + sqrt(n_c) mean(weak^2)``.

    ``s`` and ``a_grad_u`` are ``(2, batch, points)``; ``weak`` the ``(batch, n_c)`` disk
    residuals of :meth:`DiskTestFunctions.residuals`.
    """
    constitutive = (s - a_grad_u).pow(2).sum(dim=0).mean()
    return constitutive + math.sqrt(weak.shape[1]) * weak.pow(2).mean()


def bilinear_sampler(points: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and weights that interpolate vertex values of an ``size x size`` grid of the
    unit square (row ``i`` at ``x = i h``, column ``j`` at ``y = j h``) at ``points``.

    Returns
    -------
    index, weight
        ``(points, 4)`` flat vertex indices and their bilinear weights; the values at the
        points are ``(field.reshape(batch, -1)[:, index] * weight).sum(-1)``.
    """
    h = 1.0 / (size - 1)
    scaled = (points / h).clamp(0, size - 1 - 1e-6)
    lower = scaled.floor().long()
    frac = scaled - lower
    i, j = lower[:, 0], lower[:, 1]
    fx, fy = frac[:, 0], frac[:, 1]
    index = torch.stack([i * size + j, (i + 1) * size + j, i * size + j + 1,
                         (i + 1) * size + j + 1], dim=1)
    weight = torch.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], dim=1)
    return index, weight


def interpolate(field: torch.Tensor, index: torch.Tensor, weight: torch.Tensor
                ) -> torch.Tensor:
    """Values of ``(batch, s, s)`` vertex fields at the points of :func:`bilinear_sampler`."""
    flat = field.reshape(field.shape[0], -1)
    return (flat[:, index] * weight).sum(dim=-1)
