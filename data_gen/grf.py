"""Gaussian random fields ``N(0, sigma^2 (-Laplacian + tau^2 I)^(-alpha))`` on uniform grids.

A sample is the truncated Karhunen-Loeve expansion ``g = sum_k sqrt(lambda_k) xi_k phi_k``
over the Laplacian's eigenfunctions ``phi_k`` on the unit box, with
``lambda_k = sigma^2 (mu_k + tau^2)^(-alpha)`` and i.i.d. standard normal ``xi_k``:

* ``"neumann"`` (zero normal derivative, FNO's ``GRF.m``): ``phi_k = prod_i c_ki cos(pi k_i
  x_i)``, ``mu_k = pi^2 |k|^2``, ``k_i = 0..n_i-1``, evaluated at ``x = (j + 1/2) / n`` by
  the orthonormal inverse DCT-II;
* ``"periodic"`` (FNO's ``GRF1.m`` for Burgers): Fourier modes ``exp(2 pi i k x)``,
  ``mu_k = 4 pi^2 |k|^2``, evaluated at ``x = j / n`` by the inverse FFT of filtered white
  noise.

``tau`` sets the inverse correlation length, ``alpha`` the smoothness (samples have about
``alpha - d/2`` derivatives in ``d`` dimensions) and ``sigma`` the amplitude. FNO's Darcy
field uses ``sigma = tau^(alpha - 1)``; its Burgers field ``sigma = 25, tau = 5, alpha = 2``
(covariance ``625 (-Laplacian + 25 I)^(-2)``). Both drop the constant mode (zero mean).

References
----------
Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
ICLR 2021 (data generation scripts ``GRF.m``, ``GRF1.m``).
C. E. Rasmussen, C. K. I. Williams, "Gaussian Processes for Machine Learning", MIT Press
2006 (Karhunen-Loeve expansions).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import scipy.fft

BOUNDARY_CONDITIONS = ("neumann", "periodic")


def _check(shape: Sequence[int], alpha: float, tau: float, sigma: float,
           bc: str) -> tuple[int, ...]:
    shape = tuple(int(n) for n in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"shape must have at least one positive extent, got {shape}")
    if bc not in BOUNDARY_CONDITIONS:
        raise ValueError(f"bc must be one of {BOUNDARY_CONDITIONS}, got {bc!r}")
    if not (alpha > 0 and tau >= 0 and sigma >= 0):
        raise ValueError(f"need alpha > 0, tau >= 0, sigma >= 0; got alpha={alpha}, "
                         f"tau={tau}, sigma={sigma}")
    return shape


def sqrt_eigenvalues(shape: Sequence[int], *, alpha: float, tau: float, sigma: float = 1.0,
                     bc: str = "neumann", zero_mean: bool = True) -> np.ndarray:
    """Square roots ``sqrt(lambda_k)`` of the covariance eigenvalues on a grid of ``shape``.

    Returns an array indexed like the transform a sample is built from: the DCT-II
    coefficients (``shape``) for ``"neumann"``, the ``rfftn`` coefficients (last axis
    ``n // 2 + 1``) for ``"periodic"``. With ``zero_mean`` the constant mode is 0.
    """
    shape = _check(shape, alpha, tau, sigma, bc)
    if bc == "neumann":
        axes = [math.pi * np.arange(n) for n in shape]
    else:
        axes = [2 * math.pi * np.fft.fftfreq(n, 1.0 / n) for n in shape[:-1]]
        axes.append(2 * math.pi * np.fft.rfftfreq(shape[-1], 1.0 / shape[-1]))
    mu = sum(w**2 for w in np.meshgrid(*axes, indexing="ij", sparse=True))
    root = sigma * (mu + tau**2) ** (-alpha / 2)
    if zero_mean:
        root[(0,) * len(shape)] = 0.0
    return root


def mean_variance(shape: Sequence[int], *, alpha: float, tau: float, sigma: float = 1.0,
                  bc: str = "neumann", zero_mean: bool = True) -> float:
    """Grid average of the pointwise variance of :func:`sample`, ``sum_k lambda_k``.

    For ``"periodic"`` every point has this variance; for ``"neumann"`` it is the average
    (the eigenfunctions have unit mean square).
    """
    root = sqrt_eigenvalues(shape, alpha=alpha, tau=tau, sigma=sigma, bc=bc,
                            zero_mean=zero_mean)
    if bc == "periodic":  # rfft layout: modes 1..(n-1)//2 stand for themselves and -k
        n = int(shape[-1])
        root = root.copy()
        root[..., 1:(n + 1) // 2] *= math.sqrt(2.0)
    return float(np.sum(root**2))


def sample(shape: Sequence[int], rng: np.random.Generator, *, alpha: float = 2.0,
           tau: float = 3.0, sigma: float = 1.0, bc: str = "neumann",
           zero_mean: bool = True, n: int | None = None) -> np.ndarray:
    """Draw Gaussian random field samples on a grid.

    Parameters
    ----------
    shape
        Grid points per axis (any number of axes).
    rng
        Source of the standard normal variables.
    alpha, tau, sigma
        Covariance ``sigma^2 (-Laplacian + tau^2 I)^(-alpha)``.
    bc
        ``"neumann"`` (cosine modes, FNO's Darcy) or ``"periodic"`` (Fourier modes).
    zero_mean
        Drop the constant mode, as FNO does.
    n
        Number of samples; None gives one sample of shape ``shape``.

    Returns
    -------
    numpy.ndarray
        float64, ``shape`` or ``(n, *shape)``.

    Examples
    --------
    >>> g = sample((64, 64), np.random.default_rng(0), alpha=2, tau=3, sigma=3)
    >>> g.shape, bool(abs(g.mean()) < 1e-12)
    ((64, 64), True)
    """
    shape = _check(shape, alpha, tau, sigma, bc)
    root = sqrt_eigenvalues(shape, alpha=alpha, tau=tau, sigma=sigma, bc=bc,
                            zero_mean=zero_mean)
    batch = () if n is None else (int(n),)
    axes = tuple(range(-len(shape), 0))
    scale = math.sqrt(math.prod(shape))  # orthonormal transforms -> unit-L2 eigenfunctions
    if bc == "neumann":
        xi = rng.standard_normal(batch + shape)
        return scale * scipy.fft.idctn(root * xi, type=2, norm="ortho", axes=axes)
    # periodic: white noise has unit-variance Fourier coefficients (after 1/sqrt(N)) and the
    # right Hermitian symmetry, so filtering it by sqrt(lambda) gives the KL expansion
    noise = rng.standard_normal(batch + shape)
    spectrum = scipy.fft.rfftn(noise, axes=axes, norm="ortho") * root
    return scale * scipy.fft.irfftn(spectrum, s=shape, axes=axes, norm="ortho")


#: the contrasts :func:`two_phase_coefficient` draws from by default (log-uniformly)
CONTRAST_RANGE = (1.0, 1e6)


def two_phase_coefficient(shape: Sequence[int], rng: np.random.Generator, *,
                          contrast: float | None = None,
                          contrast_range: tuple[float, float] = CONTRAST_RANGE,
                          alpha: float = 2.0, tau: float = 3.0) -> tuple[np.ndarray, float]:
    """A two-phase cell coefficient: 1 where a GRF is negative, ``contrast`` elsewhere.

    The pressure operator ``-div((1/rho) grad p)`` of two immiscible fluids (or of a porous
    medium of two materials) on a grid of any dimension: the field is :func:`sample` with
    ``alpha``, ``tau`` (large connected blobs, the two-phase Darcy family's generator)
    thresholded at 0. ``contrast`` None draws it log-uniformly from ``contrast_range``.

    Returns
    -------
    coefficient, contrast
        The float64 field of ``shape`` and the contrast used.

    Examples
    --------
    >>> k, c = two_phase_coefficient((16, 16, 16), np.random.default_rng(0))
    >>> sorted(set(np.unique(k)) - {1.0}) == [c], 1.0 <= c <= 1e6
    (True, True)
    """
    low, high = contrast_range
    if not 0.0 < low <= high:
        raise ValueError(f"contrast_range must be 0 < low <= high, got {contrast_range}")
    if contrast is None:
        contrast = float(10.0 ** rng.uniform(math.log10(low), math.log10(high)))
    if not (math.isfinite(contrast) and contrast > 0.0):
        raise ValueError(f"contrast must be a positive finite number, got {contrast}")
    field = sample(shape, rng, alpha=alpha, tau=tau)
    return np.where(field >= 0.0, contrast, 1.0), contrast
