"""Viscous Burgers ``u_t + (u^2/2)_x = nu u_xx`` on the periodic interval ``[0, 1)``.

:func:`solve` calls ``sciml``'s ``"spectral"`` method: Fourier pseudo-spectral in space, the
stiff diffusion integrated exactly and the nonlinear term explicitly by the fourth-order
exponential time-differencing Runge-Kutta scheme ETDRK4 of Cox and Matthews (Kassam and
Trefethen's contour integrals for its coefficients); the quadratic term is dealiased by the
2/3 rule.

FNO's data set: ``u0 ~ N(0, 625 (-Laplacian + 25 I)^(-2))`` with periodic modes and zero
mean (:mod:`sciml.data_gen.grf` with ``sigma = 25, tau = 5, alpha = 2``), ``nu = 0.1``, solved at
8192 points to ``t = 1`` and stored every 8th point (1024), fields ``a = u0`` and
``u = u(., 1)``.

Notes
-----
The solver's accuracy, algorithm and references: :mod:`sciml.solvers.classical.spectral`
(about 4e-8 relative L2 at ``t = 1`` with the default ``dt = 1/200`` on a Cole-Hopf
solution). With ``nu = 0.1`` the diffusion is strong: the first Fourier mode decays by
``exp(-0.1 (2 pi)^2) = 0.02`` by ``t = 1``, so ``u(., 1)`` is about 1% of ``u0`` in size.

References
----------
Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
ICLR 2021.
"""

from __future__ import annotations

import os
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import sciml
from sciml.errors import InvalidProblemError
from sciml.problems import Burgers1D

from . import grf
from .runner import Recipe, finite, require, run


def solve(u0: np.ndarray, nu: float = 0.1, t: float = 1.0, *, dt: float = 5e-3,
          snapshots: int = 0) -> np.ndarray:
    """Evolve ``u0`` under viscous Burgers on the periodic unit interval.

    Each state is solved by ``sciml.solve(Burgers1D(...), method="spectral")`` (ETDRK4).

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
    rows = u0.reshape(-1, n)
    levels = max(snapshots, 1) + 1
    if t == 0:
        paths = np.broadcast_to(rows[:, None], (len(rows), levels, n)).copy()
    else:
        paths = []
        for row in rows:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # raised below instead
                sol = sciml.solve(Burgers1D(row, nu, t), method="spectral", times=levels,
                                  dt=dt)
            if not sol.converged:
                raise InvalidProblemError(f"Burgers solve blew up with dt={dt}; use a smaller "
                                          "dt")
            paths.append(sol.info["u_tx"])
        paths = np.stack(paths)
    paths = paths.reshape(*u0.shape[:-1], levels, n)
    return paths if snapshots else paths[..., -1, :]


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
        and ``dask`` (a Dask cluster) of :func:`sciml.data_gen.runner.run`.
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
