"""Tiny operator-learning data made in the tests: Darcy pairs and a 1D periodic stand-in."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.sparse.linalg import spsolve

from sciml.problems.darcy import assemble_darcy


def darcy_pairs(samples: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-valued coefficients (12 / 3, thresholded smoothed noise) and their solutions."""
    rng = np.random.default_rng(seed)
    a = np.empty((samples, size, size))
    u = np.zeros((samples, size, size))
    for i in range(samples):
        g = gaussian_filter(rng.standard_normal((size, size)), 2.0, mode="nearest")
        a[i] = np.where(g >= 0, 12.0, 3.0)
        A, b = assemble_darcy(a[i])
        u[i, 1:-1, 1:-1] = spsolve(A.tocsc(), b).reshape(size - 2, size - 2)
    return a, u


def periodic_pairs(samples: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random smooth periodic ``u0`` and its heat-equation solution at ``t = 0.1``.

    A linear stand-in for Burgers data with the same shapes (``nu = 0.1``, ``t = 1`` are the
    parameters recorded by default).
    """
    rng = np.random.default_rng(seed)
    k = np.fft.rfftfreq(size, 1.0 / size)
    coeffs = (rng.standard_normal((samples, k.size)) + 1j * rng.standard_normal(
        (samples, k.size))) / (1.0 + k**2)
    u0 = np.fft.irfft(coeffs, n=size) * size
    u = np.fft.irfft(coeffs * np.exp(-0.1 * (2 * np.pi * k) ** 2 * 0.1), n=size) * size
    return u0, u
