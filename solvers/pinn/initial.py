"""The initial state as a differentiable function: the trigonometric interpolant of ``u0``."""

from __future__ import annotations

import math

import numpy as np
import torch


class TrigInterpolant:
    """``u0(x)`` between the grid points: the sum of ``u0``'s discrete Fourier modes.

    Exact at the grid points and for band-limited data (``sin x`` on >= 3 points); smooth
    and periodic, so the Lagrangian branch can take ``u0(x0)`` at any ``x0`` and autograd can
    differentiate it. Modes below ``1e-13`` of the largest are dropped (``sin x`` keeps one).
    """

    def __init__(self, u0: np.ndarray, period: float) -> None:
        n = u0.size
        coeffs = np.fft.rfft(u0) / n
        weights = np.full(coeffs.size, 2.0)
        weights[0] = 1.0
        if n % 2 == 0:
            weights[-1] = 1.0   # the Nyquist mode is counted once
        amplitude = np.abs(coeffs) * weights
        keep = np.flatnonzero(amplitude > 1e-13 * max(amplitude.max(), 1e-300))
        self.k = 2 * math.pi / period * keep
        self.cos = (weights * coeffs.real)[keep]
        self.sin = -(weights * coeffs.imag)[keep]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``u0`` at ``x`` (any shape), in ``x``'s dtype and device."""
        k, a, b = (torch.as_tensor(v, dtype=x.dtype, device=x.device)
                   for v in (self.k, self.cos, self.sin))
        phase = x[..., None] * k
        return torch.cos(phase) @ a + torch.sin(phase) @ b
