"""The viscous Burgers equation on the periodic unit interval (the FNO Burgers problem)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidProblemError
from .protocol import PDEProblem


class Burgers1D(PDEProblem):
    """``u_t + (u^2 / 2)_x = nu u_xx`` on the periodic ``[0, 1)``; find ``u(., t)`` from ``u0``.

    Parameters
    ----------
    u0
        Initial condition on ``s`` equispaced points ``x_j = j / s`` (periodic, so ``x = 1``
        is not repeated).
    nu
        Viscosity, > 0 (the FNO data use 0.1).
    t
        Final time, > 0 (the FNO data use 1).

    Notes
    -----
    The problem is nonlinear and has no linear discretisation here: operator-learning methods
    (``"mgno"``, ``"fno"``) trained on data with the same ``nu`` and ``t`` map ``u0`` to
    ``u(., t)``; the solution is an array of ``s`` values. See Li et al., "Fourier Neural
    Operator for Parametric Partial Differential Equations", ICLR 2021.
    """

    name = "burgers"
    periodic = True
    input_fields = ("a",)  # the data sets store u0 as field "a"
    generator = "burgers"
    default_parameters = {"nu": 0.1, "t": 1.0}

    def __init__(self, u0: Any, nu: float = 0.1, t: float = 1.0) -> None:
        u0 = np.asarray(u0, dtype=np.float64)
        if u0.ndim != 1 or u0.size < 2:
            raise InvalidProblemError(f"u0 must be a 1-D array of >= 2 grid values, got shape "
                                      f"{u0.shape}")
        if not np.all(np.isfinite(u0)):
            raise InvalidProblemError("u0 contains NaN or Inf entries")
        if not (np.isfinite(nu) and nu > 0 and np.isfinite(t) and t > 0):
            raise InvalidProblemError(f"nu and t must be finite and positive, got {nu}, {t}")
        self.u0 = u0
        self.nu = float(nu)
        self.t = float(t)

    @property
    def grid_shape(self) -> tuple[int]:
        """The ``s`` grid points of ``u0`` and of the solution."""
        return self.u0.shape

    def operator_input(self) -> np.ndarray:
        """The initial condition ``u0``, the input of a learned Burgers operator."""
        return self.u0

    def __repr__(self) -> str:
        return f"Burgers1D(grid={self.grid_shape}, nu={self.nu}, t={self.t})"
