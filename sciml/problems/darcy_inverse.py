"""The inverse Darcy problem: recover the coefficient ``a`` from noisy point values of ``u``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InvalidProblemError
from .protocol import PDEProblem


class DarcyInverse(PDEProblem):
    """Find ``a`` in ``-div(a grad u) = f`` on ``(0, 1)^2``, ``u = 0`` on the boundary, from
    observations of ``u`` at scattered points.

    Parameters
    ----------
    points
        ``(n, 2)`` observation points in the closed unit square (``x``, ``y``).
    observations
        ``(n,)`` observed values of ``u`` there, with noise.
    noise_db
        Signal-to-noise ratio of the observations in decibels (> 0): the noise standard
        deviation is ``rms(observations) * 10 ** (-noise_db / 20)`` (25 dB in the DGNO paper).
    grid
        Vertices per side of the grid on which ``a`` is recovered (the model's grid).
    f
        The constant forcing, or None for the one the model was trained for.

    Notes
    -----
    Solved by ``method="dgno"`` with a trained model, which searches its latent space (Zang &
    Koutsourelakis, "DGNO", JCP 2025, Sec. 4); ``sol.x`` is the recovered ``a`` on the
    ``grid x grid`` vertices. The problem is ill-posed: the answer is a posterior summary,
    and ``sol.info`` carries its spread (``a_std``, ``phase_probability``).
    """

    name = "darcy_inverse"
    default_parameters = {"f": 10.0}

    def __init__(self, points: Any, observations: Any, noise_db: float = 25.0,
                 grid: int = 29, f: float | None = None) -> None:
        points = np.asarray(points, dtype=np.float64)
        observations = np.asarray(observations, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 1:
            raise InvalidProblemError(f"points must be an (n, 2) array of (x, y) with n >= 1; "
                                      f"got shape {points.shape}")
        if observations.shape != (len(points),):
            raise InvalidProblemError(f"observations must be an (n,) array matching the "
                                      f"{len(points)} points; got shape {observations.shape}")
        if not (np.all(np.isfinite(points)) and np.all(np.isfinite(observations))):
            raise InvalidProblemError("points and observations must be finite (no NaN or Inf)")
        outside = np.flatnonzero(np.any((points < 0) | (points > 1), axis=1))
        if outside.size:
            raise InvalidProblemError(f"{outside.size} observation point(s) lie outside the "
                                      f"unit square [0, 1]^2, e.g. {points[outside[0]]}")
        if isinstance(noise_db, bool) or not isinstance(noise_db, (int, float)) or not (
                math.isfinite(noise_db) and noise_db > 0):
            raise InvalidProblemError(f"noise_db is the signal-to-noise ratio in decibels and "
                                      f"must be a finite number > 0; got {noise_db!r}")
        if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 3:
            raise InvalidProblemError(f"grid must be an integer >= 3, got {grid!r}")
        if f is not None and not (isinstance(f, (int, float)) and math.isfinite(f)):
            raise InvalidProblemError(f"f must be a finite number or None, got {f!r}")
        if not np.any(observations):
            raise InvalidProblemError("all observations are zero: they carry no information "
                                      "about a")
        self.points = points
        self.observations = observations
        self.noise_db = float(noise_db)
        self.grid = int(grid)
        self.f = None if f is None else float(f)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """The ``grid x grid`` vertices on which ``a`` is recovered."""
        return (self.grid, self.grid)

    @property
    def noise_std(self) -> float:
        """The observation noise's standard deviation implied by :attr:`noise_db`."""
        rms = float(np.sqrt(np.mean(self.observations**2)))
        return rms * 10 ** (-self.noise_db / 20)

    def parameters(self) -> dict[str, Any]:
        """``{"f": f}`` when ``f`` was given, else nothing to check."""
        return {} if self.f is None else {"f": self.f}

    def __repr__(self) -> str:
        return (f"DarcyInverse(observations={len(self.points)}, noise_db={self.noise_db}, "
                f"grid={self.grid})")
