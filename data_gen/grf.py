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
from typing import Iterator, Sequence

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


#: the contrast range of deep_cd's two-phase training coefficients
CONTRAST_RANGE = (1.0, 1e6)


def stratified_contrasts(count: int, rng: np.random.Generator,
                         contrast_range: tuple[float, float] = CONTRAST_RANGE
                         ) -> Iterator[float]:
    """``count`` contrasts log-uniform in ``contrast_range``, stratified: the ``j``-th is
    drawn from the ``j``-th of ``count`` equal parts of the log range, so that a few of them
    still span it. Each is drawn from ``rng`` only when asked for, so draws of other
    things from ``rng`` in between keep their order.

    Examples
    --------
    >>> c = list(stratified_contrasts(3, np.random.default_rng(0)))
    >>> [bool(10.0 ** (2 * j) <= cj <= 10.0 ** (2 * j + 2)) for j, cj in enumerate(c)]
    [True, True, True]
    """
    low, high = contrast_range
    if not 0.0 < low <= high:
        raise ValueError(f"contrast_range must be 0 < low <= high, got {contrast_range}")
    width = math.log10(high / low) / max(count, 1)
    for j in range(count):
        yield low * 10.0 ** (width * (j + rng.uniform()))


def two_phase_coefficient(shape: Sequence[int], rng: np.random.Generator, contrast: float, *,
                          alpha: float = 2.0, tau: float = 3.0) -> np.ndarray:
    """A two-phase cell coefficient: 1 where a GRF is negative, ``contrast`` elsewhere.

    The pressure operator ``-div((1/rho) grad p)`` of two immiscible fluids (or of a porous
    medium of two materials) on a grid of any dimension: the field is :func:`sample` with
    ``alpha``, ``tau`` (large connected blobs, the two-phase Darcy family's generator)
    thresholded at 0. Returns the float64 field of ``shape``.

    Examples
    --------
    >>> k = two_phase_coefficient((16, 16, 16), np.random.default_rng(0), 1e3)
    >>> sorted(np.unique(k).tolist())
    [1.0, 1000.0]
    """
    if not (math.isfinite(contrast) and contrast > 0.0):
        raise ValueError(f"contrast must be a positive finite number, got {contrast}")
    return np.where(sample(shape, rng, alpha=alpha, tau=tau) >= 0.0, float(contrast), 1.0)
