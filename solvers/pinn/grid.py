"""From Lagrangian samples (characteristics ``X(x0, t)``, values ``u(x0, t)``) to the grid."""

from __future__ import annotations

import numpy as np


def to_eulerian(X: np.ndarray, u: np.ndarray, x: np.ndarray, period: float) -> np.ndarray:
    """Interpolate, at each time, the values ``u`` at positions ``X`` onto the grid ``x``.

    Parameters
    ----------
    X, u
        ``(times, samples)``: where each Lagrangian sample sits and its value.
    x
        The Eulerian grid (1-D).
    period
        Positions are taken modulo ``period``; interpolation is linear and wraps around.

    Returns
    -------
    numpy.ndarray
        ``(times, len(x))``. Exact at samples that sit on grid points (the identity map).
        Where characteristics have crossed (a shock), ``X`` no longer orders the samples and
        the interpolant mixes both sides: the result there is not a solution.
    """
    out = np.empty((X.shape[0], x.size))
    for k, (positions, values) in enumerate(zip(np.mod(X, period), u)):
        out[k] = np.interp(x, positions, values, period=period)
    return out
