"""The viscous Burgers equation on the periodic unit interval (the FNO Burgers problem)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .evolution import PeriodicEvolution, check_coefficient, check_initial_state


class Burgers1D(PeriodicEvolution):
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
    ``u(., t)``; ``"spectral"`` solves it (ETDRK4), ``"pinn"`` and ``"lpinn"`` learn its
    space-time field. Its convective form is ``u_t + u u_x = nu u_xx``: characteristics move
    with speed ``u``. See Li et al., "Fourier Neural Operator for Parametric Partial
    Differential Equations", ICLR 2021.
    """

    name = "burgers"
    input_fields = ("a",)  # the data sets store u0 as field "a"
    generator = "burgers"
    default_parameters = {"nu": 0.1, "t": 1.0}
    period = 1.0

    def __init__(self, u0: Any, nu: float = 0.1, t: float = 1.0) -> None:
        self.u0 = check_initial_state(u0)
        self.nu = check_coefficient("nu", nu, positive=True)
        self.t = check_coefficient("t", t, positive=True)

    def characteristic_speed(self, u: Any) -> Any:
        """``c(u) = u``."""
        return u

    def flux(self, u: Any) -> Any:
        """``F(u) = u^2 / 2``."""
        return 0.5 * u * u

    def __repr__(self) -> str:
        return f"Burgers1D(grid={self.grid_shape}, nu={self.nu}, t={self.t})"
