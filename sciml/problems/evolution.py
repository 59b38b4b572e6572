"""Time-dependent problems on a periodic interval: ``u_t + c(u) u_x = nu u_xx``.

:class:`PeriodicEvolution` is what :class:`~.burgers.Burgers1D` and
:class:`~.convection.Convection1D` share: the initial state on an equispaced periodic grid,
the viscosity ``nu``, the final time ``t``, and the *convective form* a Lagrangian method
asks for: the characteristic speed ``c(u)`` (``beta`` for convection, ``u`` for Burgers).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidOptionError, InvalidProblemError
from .protocol import PDEProblem


def check_initial_state(u0: Any, points: int | None = None) -> np.ndarray:
    """``u0`` as a finite 1-D float array of >= 2 values (exactly ``points`` if given)."""
    u0 = np.asarray(u0, dtype=np.float64)
    if u0.ndim != 1 or u0.size < 2:
        raise InvalidProblemError(f"u0 must be a 1-D array of >= 2 grid values, got shape "
                                  f"{u0.shape}")
    if points is not None and u0.size != points:
        raise InvalidProblemError(f"u0 has {u0.size} values but the grid has points={points}; "
                                  "pass u0 on the problem's grid (x_j = j 2 pi / points)")
    if not np.all(np.isfinite(u0)):
        raise InvalidProblemError("u0 contains NaN or Inf entries; expected finite values")
    return u0


def check_coefficient(name: str, value: Any, *, positive: bool = False,
                      nonnegative: bool = False) -> float:
    """A finite real coefficient (``> 0`` or ``>= 0`` where asked), as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InvalidProblemError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    bound = " > 0" if positive else " >= 0" if nonnegative else ""
    if not math.isfinite(value) or (positive and value <= 0) or (nonnegative and value < 0):
        raise InvalidProblemError(f"{name} must be finite{bound}, got {value}")
    return value


class PeriodicEvolution(PDEProblem):
    """Base of ``u_t + c(u) u_x = nu u_xx`` on the periodic ``[0, period)`` up to time ``t``.

    Subclasses set ``period`` and :meth:`characteristic_speed` and store ``u0`` (the initial
    state at ``x_j = j period / n``), ``nu`` and ``t``.
    """

    periodic = True
    #: the spatial period (the domain is ``[0, period)``)
    period: ClassVar[float] = 1.0
    has_convective_form: ClassVar[bool] = True
    u0: np.ndarray
    nu: float
    t: float

    @property
    def grid_shape(self) -> tuple[int]:
        """The points of ``u0`` and of the solution."""
        return self.u0.shape

    @property
    def x(self) -> np.ndarray:
        """The grid ``x_j = j period / n``, ``j = 0..n-1`` (the end point is not repeated)."""
        return np.arange(self.u0.size) * (self.period / self.u0.size)

    def operator_input(self) -> np.ndarray:
        """The initial condition ``u0``."""
        return self.u0

    def characteristic_speed(self, u: Any) -> Any:
        """The speed ``c(u) = F'(u)`` of the convective form (NumPy arrays or torch tensors)."""
        raise NotImplementedError

    def flux(self, u: Any) -> Any:
        """The flux ``F(u)`` of the conservative form ``u_t + F(u)_x = nu u_xx``."""
        raise NotImplementedError

    @property
    def constant_speed(self) -> float | None:
        """``c`` when the speed does not depend on ``u`` (a linear problem), else None."""
        return None

    def time_levels(self, times: Any) -> np.ndarray:
        """The output times: ``times`` equispaced levels from 0 to ``t`` (an int >= 2), or
        a 1-D increasing array of times in ``[0, t]`` ending at ``t``.

        Raises
        ------
        InvalidOptionError
            Anything else (the message says what is expected).
        """
        if isinstance(times, (int, np.integer)) and not isinstance(times, bool):
            if times < 2:
                raise InvalidOptionError(f"times={times}: expected at least 2 levels (0 and t)")
            return np.linspace(0.0, self.t, int(times))
        levels = np.asarray(times, dtype=np.float64)
        if (levels.ndim != 1 or levels.size < 1 or not np.all(np.isfinite(levels))
                or np.any(np.diff(levels) <= 0) or levels[0] < 0
                or not math.isclose(levels[-1], self.t, rel_tol=1e-12, abs_tol=1e-14)):
            raise InvalidOptionError(f"times must be an int >= 2 or a 1-D increasing array in "
                                     f"[0, t={self.t}] ending at t; got {times!r}")
        levels[-1] = self.t
        return levels
