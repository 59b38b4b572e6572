"""Fourier spectral reference solver of periodic 1-D evolution problems (``"spectral"``).

Two algorithms, chosen by what the problem states (:mod:`sciml.problems.evolution`):

* a constant speed (``problem.constant_speed``, e.g. :class:`~sciml.problems.Convection1D`):
  the exact Fourier multiplier. Each mode ``exp(i k x)`` of ``u0`` is multiplied by
  ``exp(-(i c k + nu k^2) t)``, so a band-limited ``u0`` (``sin x``) gets the exact solution
  on the grid, to rounding.
* a speed that depends on ``u`` (e.g. :class:`~sciml.problems.Burgers1D`,
  ``u_t + F(u)_x = nu u_xx``): Fourier pseudo-spectral in space, the stiff diffusion
  integrated exactly and the flux term explicitly by the fourth-order exponential
  time-differencing Runge-Kutta scheme ETDRK4 of Cox and Matthews, with the phi-function
  coefficients from Kassam and Trefethen's contour integrals (which avoid their cancellation
  for small ``dt * L``); the flux is dealiased by the 2/3 rule.

Notes
-----
ETDRK4 with the default ``dt = 1/200`` reaches about 4e-8 relative L2 at ``t = 1`` against an
exact Cole-Hopf Burgers solution of amplitude 2 with ``nu = 0.1`` (tests/solvers/
test_spectral.py); halving ``dt`` divides the error by 16. Fronts steeper than the grid
resolves (small ``nu``, few points) are not resolved: use enough points.

References
----------
S. M. Cox, P. C. Matthews, "Exponential time differencing for stiff systems",
J. Comput. Phys. 176 (2002).
A.-K. Kassam, L. N. Trefethen, "Fourth-order time-stepping for stiff PDEs", SIAM J. Sci.
Comput. 26 (2005).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import scipy.fft

from sciml.errors import InvalidProblemError, UnsupportedTypeError
from sciml.problems.evolution import PeriodicEvolution
from sciml.solution import Solution
from sciml.solver_base import Option, Prepared, Solver, check_options

#: points on the contour integral of the ETDRK4 coefficients (Kassam & Trefethen use 32)
CONTOUR_POINTS = 32


def is_times(value: Any) -> bool:
    """A validity test of ``times=``: an int >= 2 or a 1-D array of time values."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return value >= 2
    return not isinstance(value, (str, bool)) and np.ndim(value) == 1


#: the ``times`` option every space-time method shares
TIMES_OPTION = Option(100, is_times, "an int >= 2 (levels from 0 to t) or a 1-D increasing "
                                     "array of times in [0, t] ending at t")


def wavenumbers(n: int, period: float) -> np.ndarray:
    """The ``rfft`` wavenumbers ``2 pi m / period`` of ``n`` points."""
    return 2 * math.pi / period * np.fft.rfftfreq(n, 1.0 / n)


def fourier_multiplier(u0: np.ndarray, times: np.ndarray, *, speed: float, nu: float,
                       period: float) -> np.ndarray:
    """Exact ``u_t + speed u_x = nu u_xx`` from ``u0`` (last axis) at each of ``times``.

    Returns shape ``(len(times), *u0.shape)``.
    """
    n = u0.shape[-1]
    k = wavenumbers(n, period)
    symbol = -(1j * speed * k + nu * k**2)
    if n % 2 == 0:
        # the Nyquist mode is real on the grid: advecting it would need its lost sine part,
        # so keep only its (exact) decay
        symbol[-1] = -nu * k[-1] ** 2
    multiplier = np.exp(np.multiply.outer(times, symbol))
    multiplier = multiplier.reshape(len(times), *([1] * (u0.ndim - 1)), -1)
    return scipy.fft.irfft(scipy.fft.rfft(u0) * multiplier, n=n)


@lru_cache(maxsize=16)
def _etdrk4(n: int, nu: float, dt: float, period: float) -> tuple[np.ndarray, ...]:
    """ETDRK4 coefficients for ``rfft`` modes of ``n`` points, and the dealiased ``-ik``."""
    m = np.fft.rfftfreq(n, 1.0 / n)
    k = 2 * math.pi / period * m
    lin = -nu * k**2 * dt
    # mean over a circle of radius 1 around each dt*L of the phi functions (K&T eq. 2.5)
    r = np.exp(1j * math.pi * (np.arange(1, CONTOUR_POINTS + 1) - 0.5) / CONTOUR_POINTS)
    z = lin[:, None] + r[None, :]
    ez = np.exp(z)
    q = dt * np.real(np.mean((np.exp(z / 2) - 1) / z, axis=1))
    f1 = dt * np.real(np.mean((-4 - z + ez * (4 - 3 * z + z**2)) / z**3, axis=1))
    f2 = dt * np.real(np.mean((2 + z + ez * (z - 2)) / z**3, axis=1))
    f3 = dt * np.real(np.mean((-4 - 3 * z - z**2 + ez * (4 - z)) / z**3, axis=1))
    derivative = np.where(m < n / 3, -1j * k, 0.0)   # 2/3 rule: drop the top third
    return np.exp(lin), np.exp(lin / 2), q, f1, f2, f3, derivative


def etdrk4(u0: np.ndarray, times: np.ndarray, *, flux: Callable[[np.ndarray], np.ndarray],
           nu: float, period: float, dt: float) -> tuple[np.ndarray, int]:
    """``u_t + flux(u)_x = nu u_xx`` from ``u0`` (at time 0, last axis) to each of ``times``.

    Each interval between output times is split into ``ceil(interval / dt)`` equal steps.
    Returns the states ``(len(times), *u0.shape)`` (non-finite after a blow-up) and the
    number of steps taken.
    """
    n = u0.shape[-1]
    if n < 4:
        raise InvalidProblemError(f"spectral: ETDRK4 needs at least 4 grid points, got {n}")
    v = scipy.fft.rfft(u0)
    states, now, steps_taken = [], 0.0, 0
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported by the caller
        for target in times:
            steps = math.ceil((target - now) / dt - 1e-9) if target > now else 0
            if steps:
                e, e2, q, f1, f2, f3, g = _etdrk4(n, float(nu), (target - now) / steps,
                                                  float(period))

                def nonlinear(w: np.ndarray) -> np.ndarray:
                    return g * scipy.fft.rfft(flux(scipy.fft.irfft(w, n=n)))

                for _ in range(steps):
                    nv = nonlinear(v)
                    a = e2 * v + q * nv
                    na = nonlinear(a)
                    b = e2 * v + q * na
                    nb = nonlinear(b)
                    c = e2 * a + q * (2 * nb - nv)
                    v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nonlinear(c)
                steps_taken += steps
                now = float(target)
            states.append(scipy.fft.irfft(v, n=n) if now > 0 else np.array(u0, dtype=float))
    return np.stack(states), steps_taken


@dataclass
class PreparedSpectral(Prepared):
    """A spectral solve of one problem with checked options; :meth:`solve` runs it."""

    problem: PeriodicEvolution
    options: dict[str, Any]
    setup_time: float = 0.0
    method: str = "spectral"

    def solve(self) -> Solution:
        """Solve to every output time; ``x`` is ``u(., t)``.

        Returns
        -------
        Solution
            ``info["t"]`` (the output times), ``info["u_tx"]`` (``(len(t), points)``),
            ``info["algorithm"]`` and ``info["accuracy"]`` (what holds for the result).
            ``converged`` is True for a finite result (a reference solve: no tolerance is
            iterated to; ``info["accuracy"]`` says what the algorithm guarantees) and False
            with a RuntimeWarning when it blew up (reduce ``dt``).
        """
        t0 = time.perf_counter()
        p = self.problem
        times = p.time_levels(self.options["times"])
        if p.constant_speed is not None:
            u_tx = fourier_multiplier(p.u0, times, speed=p.constant_speed, nu=p.nu,
                                      period=p.period)
            steps, algorithm = 1, "fourier multiplier"
            accuracy = ("exact for the grid's trigonometric interpolant of u0 (to rounding); "
                        "a band-limited u0 gets the exact solution")
        else:
            u_tx, steps = etdrk4(p.u0, times, flux=p.flux, nu=p.nu, period=p.period,
                                 dt=self.options["dt"])
            algorithm = "ETDRK4"
            accuracy = (f"fourth order in time (dt <= {self.options['dt']}: about 4e-8 rel. L2 "
                        "on a smooth nu = 0.1 Burgers solution), spectral in space, 2/3 "
                        "dealiased; unresolved fronts are not")
        finite = bool(np.all(np.isfinite(u_tx)))
        info: dict[str, Any] = {"t": times, "u_tx": u_tx, "algorithm": algorithm,
                                "accuracy": accuracy, "steps": steps}
        if finite:
            info["reason"] = f"reference solve ({algorithm}) to t = {p.t}"
        else:
            info["reason"] = (f"failed: the {algorithm} solve blew up (non-finite values) with "
                              f"dt={self.options['dt']}; use a smaller dt or more points")
            warnings.warn(f"spectral: {info['reason']}", RuntimeWarning, stacklevel=3)
        return Solution(x=u_tx[-1], converged=finite, iterations=steps,
                        residuals=np.zeros(0), setup_time=0.0,
                        solve_time=time.perf_counter() - t0, method=self.method,
                        options={k: v for k, v in self.options.items() if k != "times"},
                        info=info)


class Spectral(Solver):
    """The classical reference of periodic evolution problems (``u_t + F(u)_x = nu u_xx``).

    Options
    -------
    times
        Output times: an int (equispaced levels from 0 to ``t``, default 100) or an array.
    dt
        Largest ETDRK4 step (default 5e-3; unused by the exact Fourier multiplier).

    Examples
    --------
    >>> import numpy as np, sciml
    >>> p = sciml.problems.Convection1D(beta=30.0, points=64)
    >>> sol = sciml.solve(p, method="spectral", times=11)
    >>> bool(np.allclose(sol.x, np.sin(p.x - 30.0))), sol.info["u_tx"].shape
    (True, (11, 64))
    """

    name = "spectral"
    description = ("Fourier spectral reference of periodic 1-D evolution: exact multiplier "
                   "(convection-diffusion), ETDRK4 (Burgers)")
    options = {"times": TIMES_OPTION,
               "dt": Option(5e-3, lambda v: isinstance(v, (int, float))
                            and not isinstance(v, bool) and math.isfinite(v) and v > 0,
                            "a finite number > 0")}

    def prepare(self, problem: Any, **options: Any) -> PreparedSpectral:
        """Check the problem (a periodic evolution problem) and the options."""
        if not getattr(problem, "has_convective_form", False):
            raise UnsupportedTypeError(
                f"spectral solves periodic evolution problems u_t + F(u)_x = nu u_xx "
                f"(Convection1D, Burgers1D); got {type(problem).__name__}")
        checked = check_options(self.name, options, self.options)
        problem.time_levels(checked["times"])
        return PreparedSpectral(problem, checked)

    def solve(self, problem: Any, **options: Any) -> Solution:
        """Solve ``problem`` (see :meth:`PreparedSpectral.solve`)."""
        return self.prepare(problem, **options).solve()
