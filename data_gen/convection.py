"""Convection-diffusion ``u_t + beta u_x = nu u_xx`` on a periodic interval, solved exactly.

The solver is ``sciml``'s ``"spectral"`` method: each Fourier mode ``exp(i k x)`` of the
initial state is multiplied by ``exp(-(i beta k + nu k^2) t)``, so a band-limited ``u0``
(such as ``sin x``) gets the exact solution on the grid, to rounding. The PINN benchmark
(Krishnapriyan et al. 2021) is ``u0 = sin x`` on ``[0, 2 pi)``, ``t`` in ``[0, 1]``,
``nu = 0``, with ``u = sin(x - beta t)``; plain PINNs fail from about ``beta = 30``.

References
----------
A. Krishnapriyan et al., "Characterizing possible failure modes in physics-informed neural
networks", NeurIPS 2021.
"""

from __future__ import annotations

import math
import os
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import sciml
from sciml.errors import InvalidProblemError
from sciml.problems import Convection1D

from . import grf
from .runner import Recipe, finite, require, run

INITIAL_STATES = ("sin", "grf")


def solve(u0: np.ndarray, times: np.ndarray | float, *, beta: float, nu: float = 0.0,
          length: float = 2 * math.pi) -> np.ndarray:
    """Exact periodic solution at ``times`` from ``u0`` sampled at ``x_j = j length / n``.

    Each state is solved by ``sciml.solve(Convection1D(...), method="spectral")`` (the exact
    Fourier multiplier) after rescaling the period to ``2 pi`` (``beta`` and ``nu`` scale
    with it).

    Parameters
    ----------
    u0
        Initial values on the last axis.
    times
        A time or a 1-D increasing array of times (>= 0).
    beta, nu
        Velocity and diffusivity (``nu >= 0``).
    length
        Period of the domain.

    Returns
    -------
    numpy.ndarray
        ``u0``'s shape for a scalar time, else ``(len(times), *u0.shape)``.

    Examples
    --------
    >>> x = np.arange(64) * 2 * np.pi / 64
    >>> u = solve(np.sin(x), 1.0, beta=3.0)
    >>> bool(np.allclose(u, np.sin(x - 3.0)))
    True
    """
    u0 = np.asarray(u0, dtype=float)
    t = np.asarray(times, dtype=float)
    levels = np.atleast_1d(t)
    if (u0.ndim < 1 or t.ndim > 1 or np.any(levels < 0) or np.any(np.diff(levels) <= 0)
            or nu < 0 or length <= 0):
        raise InvalidProblemError(f"need u0 with a grid axis, increasing times >= 0 (scalar "
                                  f"or 1-D), nu >= 0 and length > 0; got u0 {u0.shape}, times "
                                  f"{t.shape}, nu={nu}, length={length}")
    n = u0.shape[-1]
    rows = u0.reshape(-1, n)
    if levels[-1] == 0:
        out = np.broadcast_to(rows, (len(levels), *rows.shape)).copy()
    else:
        scale = 2 * math.pi / length
        out = np.stack([sciml.solve(Convection1D(beta * scale, nu * scale**2, u0=row,
                                                 t=levels[-1], points=n),
                                    method="spectral", times=levels).info["u_tx"]
                        for row in rows], axis=1)
    out = out.reshape(len(levels), *u0.shape)
    return out if t.ndim else out[0]


def _sample(rng: np.random.Generator, nx: int, times: np.ndarray, beta: float, nu: float,
            length: float, initial: str, alpha: float, tau: float) -> dict[str, np.ndarray]:
    if initial == "sin":
        u0 = np.sin(2 * math.pi * np.arange(nx) / nx)
    else:
        sigma = grf.mean_variance((nx,), alpha=alpha, tau=tau, bc="periodic") ** -0.5
        u0 = grf.sample((nx,), rng, alpha=alpha, tau=tau, sigma=sigma, bc="periodic")
    return {"a": u0, "u": solve(u0, times, beta=beta, nu=nu, length=length)}


def generate(out: str | os.PathLike, samples: int = 1, *, beta: float = 30.0,
             nu: float = 0.0, nx: int = 256, nt: int = 100, t: float = 1.0,
             length: float = 2 * math.pi, initial: str = "sin", alpha: float = 2.0,
             tau: float = 5.0, **run_options: Any) -> Path:
    """Write exact convection-diffusion solutions on an ``nt x nx`` space-time grid.

    Parameters
    ----------
    out
        HDF5 file to create: fields ``a`` (``u0``, ``(nx,)``) and ``u`` (``(nt, nx)`` at
        times ``linspace(0, t, nt)``), coordinates ``x`` and ``t``.
    samples
        Number of samples (all equal for ``initial="sin"``).
    beta, nu, length
        Velocity, diffusivity, period.
    nx, nt, t
        Grid points, time levels (including 0 and ``t``), final time.
    initial
        ``"sin"`` (``sin(2 pi x / length)``, the PINN benchmark) or ``"grf"`` (periodic
        Gaussian random field with ``alpha``, ``tau``, scaled to unit variance).
    **run_options
        ``seed``, ``workers``, ``chunk_size``, ``test_samples``, ``overwrite``, ``progress``
        and ``dask`` (a Dask cluster) of :func:`sciml.data_gen.runner.run`.
    """
    require("convection", {
        f"initial one of {INITIAL_STATES} (got {initial!r})": initial in INITIAL_STATES,
        f"nx >= 2 and nt >= 2 (got {nx}, {nt})": nx >= 2 and nt >= 2,
        f"finite beta, nu >= 0, t >= 0, length > 0 (got {beta}, {nu}, {t}, {length})":
            finite(beta, nu, t, length) and nu >= 0 and t >= 0 and length > 0,
        f"alpha > 0 and tau >= 0 (got {alpha}, {tau})":
            initial != "grf" or (finite(alpha, tau) and alpha > 0 and tau >= 0)})
    times = np.linspace(0.0, t, nt)
    params = {"nx": nx, "beta": beta, "nu": nu, "length": length, "initial": initial,
              "alpha": alpha, "tau": tau}
    recipe = Recipe(generator="convection",
                    parameters={**params, "nt": nt, "t": t,
                                "equation": "u_t + beta u_x = nu u_xx, periodic [0, length)"},
                    fields={"a": (nx,), "u": (nt, nx)},
                    coords={"x": np.arange(nx) * length / nx, "t": times},
                    sample=partial(_sample, times=times, **params))
    return run(out, recipe, samples, **run_options)
