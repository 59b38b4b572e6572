"""Two-phase coefficient fields the solver benchmarks share (petsc.py, deep_cd_contrast.py)."""

from __future__ import annotations

import numpy as np

from sciml.data_gen import grf


def sine_waves(shape: tuple[int, ...], rng: np.random.Generator, waves: int = 8,
               max_wavenumber: int = 4) -> np.ndarray:
    """A sum of ``waves`` plane sine waves with random integer wave vectors (entries up to
    ``max_wavenumber`` periods across the unit cube), amplitudes and phases, on the grid's
    cell centres; thresholded at 0 it is the two-phase field of the issues' anchors (small
    interleaved inclusions)."""
    axes = np.meshgrid(*[(np.arange(m) + 0.5) / m for m in shape], indexing="ij")
    field = np.zeros(shape)
    for _ in range(waves):
        k = rng.integers(-max_wavenumber, max_wavenumber + 1, size=len(shape))
        phase = 2 * np.pi * (sum(ki * x for ki, x in zip(k, axes)) + rng.random())
        field += rng.standard_normal() * np.sin(phase)
    return field


def two_phase(shape: tuple[int, ...], contrast: float, kind: str = "sines",
              seed: int = 1) -> np.ndarray:
    """Cell coefficient 1 or ``contrast``, split at 0 by :func:`sine_waves` (``kind="sines"``)
    or by a Gaussian random field (``"grf"``: :func:`sciml.data_gen.grf.two_phase_coefficient`,
    large connected blobs, the generator deep_cd's Galerkin weights were trained on)."""
    rng = np.random.default_rng(seed)
    if kind == "grf":
        return grf.two_phase_coefficient(shape, rng, contrast)
    if kind != "sines":
        raise ValueError(f"kind must be 'sines' or 'grf', got {kind!r}")
    return np.where(sine_waves(shape, rng) >= 0, contrast, 1.0)
