"""Convection-diffusion ``u_t + beta u_x = nu u_xx`` on the periodic ``[0, 2 pi)``."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..errors import InvalidProblemError
from .evolution import PeriodicEvolution, check_coefficient, check_initial_state


class Convection1D(PeriodicEvolution):
    """``u_t + beta u_x = nu u_xx`` on the periodic ``[0, 2 pi)``, ``0 <= t' <= t``.

    Parameters
    ----------
    beta
        Convection speed (finite; any sign).
    nu
        Diffusivity, >= 0 (0: pure convection, exact solution ``u0(x - beta t)``).
    u0
        ``"sin"`` (``sin x``, the PINN failure-mode benchmark of Krishnapriyan et al. 2021),
        a callable ``u0(x)`` evaluated on the grid, or an array of ``points`` grid values.
    t
        Final time, > 0.
    points
        Grid points ``x_j = 2 pi j / points``, >= 2.

    Raises
    ------
    InvalidProblemError
        Non-finite ``beta``, negative or non-finite ``nu``, ``t <= 0``, ``points < 2``, an
        unknown ``u0`` name, or ``u0`` values of the wrong length or not finite.

    Examples
    --------
    >>> import sciml
    >>> p = sciml.problems.Convection1D(beta=30.0)
    >>> p.grid_shape, p.period == 2 * math.pi
    ((256,), True)
    """

    name = "convection"
    input_fields = ("a",)  # the data sets store u0 as field "a"
    generator = "convection"
    default_parameters = {"beta": 30.0, "nu": 0.0, "t": 1.0}
    period = 2 * math.pi

    def __init__(self, beta: float, nu: float = 0.0,
                 u0: str | Callable[[np.ndarray], Any] | Any = "sin", t: float = 1.0,
                 points: int = 256) -> None:
        self.beta = check_coefficient("beta", beta)
        self.nu = check_coefficient("nu", nu, nonnegative=True)
        self.t = check_coefficient("t", t, positive=True)
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
            raise InvalidProblemError(f"points must be an integer >= 2, got {points!r}")
        x = np.arange(points) * (self.period / points)
        if isinstance(u0, str):
            if u0 != "sin":
                raise InvalidProblemError(f"u0={u0!r} is not a known initial state; expected "
                                          "'sin', a callable u0(x) or an array of grid values")
            values = np.sin(x)
        elif callable(u0):
            values = u0(x)
        else:
            values = u0
        self.u0 = check_initial_state(values, int(points))
        self.initial = u0 if isinstance(u0, str) else "array" if not callable(u0) else "callable"

    def characteristic_speed(self, u: Any) -> Any:
        """``c(u) = beta``, whatever ``u``."""
        return self.beta + 0 * u

    def flux(self, u: Any) -> Any:
        """``F(u) = beta u``."""
        return self.beta * u

    @property
    def constant_speed(self) -> float:
        """``beta``: the problem is linear, solved exactly by a Fourier multiplier."""
        return self.beta

    def __repr__(self) -> str:
        return (f"Convection1D(beta={self.beta}, nu={self.nu}, u0={self.initial!r}, t={self.t}, "
                f"points={self.u0.size})")
