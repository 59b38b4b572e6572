"""Viscous Burgers ``u_t + (u^2/2)_x = nu u_xx`` on the periodic interval ``[0, 1)``.

:func:`solve` is a Fourier pseudo-spectral method: the stiff diffusion is integrated exactly
and the nonlinear term explicitly by the fourth-order exponential time-differencing
Runge-Kutta scheme ETDRK4 of Cox and Matthews, with the phi-function coefficients computed
by Kassam and Trefethen's contour integrals (which avoid their cancellation for small
``dt * L``); the quadratic term is dealiased by the 2/3 rule.

FNO's data set: ``u0 ~ N(0, 625 (-Laplacian + 25 I)^(-2))`` with periodic modes and zero
mean (:mod:`sciml.data_gen.grf` with ``sigma = 25, tau = 5, alpha = 2``), ``nu = 0.1``, solved at
8192 points to ``t = 1`` and stored every 8th point (1024), fields ``a = u0`` and
``u = u(., 1)``.

Notes
-----
With the default ``dt = 1/200`` the error at ``t = 1`` is about 4e-8 relative L2 against
an exact Cole-Hopf solution of amplitude 2 (tests/data_gen/test_burgers.py); halving ``dt``
divides it by 16. With ``nu = 0.1`` the diffusion is strong: the first Fourier mode decays
by ``exp(-0.1 (2 pi)^2) = 0.02`` by ``t = 1``, so ``u(., 1)`` is about 1% of ``u0`` in size.

References
----------
S. M. Cox, P. C. Matthews, "Exponential time differencing for stiff systems",
J. Comput. Phys. 176 (2002).
A.-K. Kassam, L. N. Trefethen, "Fourth-order time-stepping for stiff PDEs", SIAM J. Sci.
Comput. 26 (2005).
Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
ICLR 2021.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft

from sciml.errors import InvalidProblemError

from . import grf
from .runner import Recipe, finite, require, run

#: points on the contour integral of the ETDRK4 coefficients (Kassam & Trefethen use 32)
CONTOUR_POINTS = 32


@lru_cache(maxsize=8)
def _etdrk4(n: int, nu: float, dt: float) -> tuple[np.ndarray, ...]:
    """ETDRK4 coefficients for ``rfft`` modes of ``n`` points, and the dealiased ``-ik/2``."""
    m = np.fft.rfftfreq(n, 1.0 / n)
    k = 2 * math.pi * m
    lin = -nu * k**2 * dt
    # mean over a circle of radius 1 around each dt*L of the phi functions (K&T eq. 2.5)
    r = np.exp(1j * math.pi * (np.arange(1, CONTOUR_POINTS + 1) - 0.5) / CONTOUR_POINTS)
    z = lin[:, None] + r[None, :]
    ez = np.exp(z)
    q = dt * np.real(np.mean((np.exp(z / 2) - 1) / z, axis=1))
    f1 = dt * np.real(np.mean((-4 - z + ez * (4 - 3 * z + z**2)) / z**3, axis=1))
    f2 = dt * np.real(np.mean((2 + z + ez * (z - 2)) / z**3, axis=1))
    f3 = dt * np.real(np.mean((-4 - 3 * z - z**2 + ez * (4 - z)) / z**3, axis=1))
    nonlinear = np.where(m < n / 3, -0.5j * k, 0.0)   # 2/3 rule: drop the top third
    return np.exp(lin), np.exp(lin / 2), q, f1, f2, f3, nonlinear


def solve(u0: np.ndarray, nu: float = 0.1, t: float = 1.0, *, dt: float = 5e-3,
          snapshots: int = 0) -> np.ndarray:
    """Evolve ``u0`` under viscous Burgers on the periodic unit interval.

    Parameters
    ----------
    u0
        Initial values at ``x_j = j / n`` (last axis; leading axes are independent states).
    nu
        Viscosity (> 0).
    t
        Final time.
    dt
        Largest time step; the step used is ``t / ceil(t / dt)`` (per snapshot interval).
    snapshots
        0 returns ``u(., t)``; ``K > 0`` returns ``K + 1`` states at times ``t k / K``,
        stacked on a new axis before the last (``u0`` first).

    Returns
    -------
    numpy.ndarray
        ``u(., t)`` with the shape of ``u0``, or the snapshots.

    Raises
    ------
    InvalidProblemError
        Bad arguments, or a blow-up (non-finite values: reduce ``dt``).

    Examples
    --------
    >>> x = np.arange(256) / 256
    >>> u = solve(np.sin(2 * np.pi * x), nu=0.1, t=0.5)
    >>> bool(np.abs(u).max() < np.exp(-0.1 * (2 * np.pi) ** 2 * 0.5))
    True
    """
    u0 = np.asarray(u0, dtype=float)
    if u0.ndim < 1 or u0.shape[-1] < 4:
        raise InvalidProblemError(f"u0 needs at least 4 points on its last axis, got "
                                  f"shape {u0.shape}")
    if not (nu > 0 and t >= 0 and dt > 0 and snapshots >= 0):
        raise InvalidProblemError(f"need nu > 0, t >= 0, dt > 0, snapshots >= 0; got nu={nu}, "
                                  f"t={t}, dt={dt}, snapshots={snapshots}")
    n = u0.shape[-1]
    intervals = max(snapshots, 1)
    steps = max(1, math.ceil(t / intervals / dt))
    e, e2, q, f1, f2, f3, g = _etdrk4(n, float(nu), t / intervals / steps)

    def nonlinear(v: np.ndarray) -> np.ndarray:
        return g * scipy.fft.rfft(scipy.fft.irfft(v, n=n) ** 2)

    v = scipy.fft.rfft(u0)
    states = [u0]
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported below
        for _ in range(intervals):
            for _ in range(steps):
                nv = nonlinear(v)
                a = e2 * v + q * nv
                na = nonlinear(a)
                b = e2 * v + q * na
                nb = nonlinear(b)
                c = e2 * a + q * (2 * nb - nv)
                v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nonlinear(c)
            states.append(scipy.fft.irfft(v, n=n))
    if not np.all(np.isfinite(states[-1])):
        raise InvalidProblemError(f"Burgers solve blew up with dt={dt}; use a smaller dt")
    return np.stack(states, axis=-2) if snapshots else states[-1]


def _sample(rng: np.random.Generator, resolution: int, downsample: int, nu: float, t: float,
            dt: float, alpha: float, tau: float, sigma: float,
            snapshots: int) -> dict[str, np.ndarray]:
    u0 = grf.sample((resolution,), rng, alpha=alpha, tau=tau, sigma=sigma, bc="periodic")
    path = solve(u0, nu, t, dt=dt, snapshots=max(snapshots, 1))
    out = {"a": u0[::downsample], "u": path[-1, ::downsample]}
    if snapshots:
        out["trajectory"] = path[:, ::downsample]
    return out


def generate(out: str | os.PathLike, samples: int, *, resolution: int = 8192,
             downsample: int = 8, nu: float = 0.1, t: float = 1.0, dt: float = 5e-3,
             alpha: float = 2.0, tau: float = 5.0, sigma: float = 25.0, snapshots: int = 0,
             **run_options: Any) -> Path:
    """Write FNO's Burgers data set ``u0 -> u(., t)`` to ``out``.

    Parameters
    ----------
    out
        HDF5 file to create: fields ``a`` (``u0``) and ``u`` (``u(., t)``), coordinate
        ``x``; with ``snapshots = K > 0`` also ``trajectory`` ``(K + 1, points)`` and
        coordinate ``t``.
    samples
        Number of samples.
    resolution, downsample
        Points solved on and the stride stored (8192 and 8 give FNO's 1024).
    nu, t, dt
        Viscosity, final time, time step (see :func:`solve`).
    alpha, tau, sigma
        Covariance ``sigma^2 (-Laplacian + tau^2 I)^(-alpha)`` of ``u0``.
    **run_options
        ``seed``, ``workers``, ``chunk_size``, ``test_samples``, ``overwrite``, ``progress``
        of :func:`sciml.data_gen.runner.run`.
    """
    require("burgers", {
        f"resolution >= 4 divisible by downsample >= 1 (got {resolution}, {downsample})":
            resolution >= 4 and downsample >= 1 and resolution % downsample == 0,
        f"nu > 0 (got {nu})": finite(nu) and nu > 0,
        f"t >= 0 and dt > 0 (got {t}, {dt})": finite(t, dt) and t >= 0 and dt > 0,
        f"snapshots >= 0 (got {snapshots})": snapshots >= 0,
        f"alpha > 0, tau >= 0, sigma >= 0 (got {alpha}, {tau}, {sigma})":
            finite(alpha, tau, sigma) and alpha > 0 and tau >= 0 and sigma >= 0})
    params = {"resolution": resolution, "downsample": downsample, "nu": nu, "t": t, "dt": dt,
              "alpha": alpha, "tau": tau, "sigma": sigma, "snapshots": snapshots}
    x = np.arange(resolution)[::downsample] / resolution
    fields = {"a": (x.size,), "u": (x.size,)}
    coords = {"x": x}
    if snapshots:
        fields["trajectory"] = (snapshots + 1, x.size)
        coords["t"] = np.linspace(0.0, t, snapshots + 1)
    recipe = Recipe(generator="burgers",
                    parameters={**params, "equation": "u_t + (u^2/2)_x = nu u_xx, periodic "
                                                      "[0,1); u0 ~ GRF(alpha, tau, sigma)"},
                    fields=fields, coords=coords, sample=partial(_sample, **params))
    return run(out, recipe, samples, **run_options)
