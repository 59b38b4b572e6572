"""What every method for ``A x = b`` shares: :class:`LinearSolver` and the stopping rule.

:class:`LinearSolver` holds what every linear method shares, so each method writes only its
own algorithm: option checking, conversion of PDE problems to their discretisation, timing
split into setup and solve, and the single stopping rule recomputed at exit::

    ||b - A x|| <= max(rtol * ||b||, atol)
"""

from __future__ import annotations

import time
import warnings
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from .backend import array_namespace
from .problems.linear import LinearProblem
from .solution import Solution
from .solver_base import Solver, check_options

DEFAULT_RTOL = 1e-6


@dataclass
class IterationResult:
    """What a linear method's iteration hands back to :class:`LinearSolver`."""

    x: Any
    iterations: int
    residual_norms: list[float]
    reason: str
    info: dict[str, Any] = field(default_factory=dict)


class LinearSolver(Solver):
    """Base class of methods for ``A x = b``.

    Subclasses define ``defaults`` (their own options and default values), ``setup`` (work
    done once per matrix, timed as setup) and ``iterate`` (timed as solve). The common
    keyword-only tail is ``rtol, atol, maxiter, x0, callback`` as in SciPy.
    """

    defaults: ClassVar[dict[str, Any]] = {}
    #: whether a PDE problem is discretised matrix-free when the user does not say
    prefers_matrix_free: ClassVar[bool] = False

    def solve(self, problem: Any, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
              maxiter: int | None = None, x0: Any = None,
              callback: Callable[[Any], None] | None = None,
              matrix_free: bool | None = None, **options: Any) -> Solution:
        """Solve ``problem`` (a LinearProblem or a PDE problem with ``to_linear_problem``)."""
        opts = check_options(self.name, options, self.defaults)
        if rtol < 0 or atol < 0 or not np.isfinite(rtol) or not np.isfinite(atol):
            raise ValueError(f"rtol and atol must be finite and >= 0, got {rtol}, {atol}")
        if maxiter is not None and maxiter < 0:
            raise ValueError(f"maxiter must be >= 0, got {maxiter}")
        if isinstance(problem, LinearProblem):
            lp = problem
        elif hasattr(problem, "to_linear_problem"):
            mf = self.prefers_matrix_free if matrix_free is None else matrix_free
            lp = problem.to_linear_problem(matrix_free=mf)
        else:
            raise TypeError(
                f"{self.name!r} solves a LinearProblem or a PDE problem with a linear "
                f"discretisation; got {type(problem).__name__}")
        if x0 is not None:
            lp = LinearProblem(lp.A, lp.b, x0=x0, grid_shape=lp.grid_shape)

        t0 = time.perf_counter()
        lp = self.prepare(lp, **opts)
        state = self.setup(lp, **opts)
        t1 = time.perf_counter()
        result = self.iterate(lp, state, rtol=rtol, atol=atol, maxiter=maxiter,
                              callback=callback, **opts)
        t2 = time.perf_counter()
        used = {"rtol": rtol, "atol": atol, "maxiter": maxiter, **opts}
        return finalize(problem, lp, result, method=self.name, options=used, rtol=rtol,
                        atol=atol, setup_time=t1 - t0, solve_time=t2 - t1)

    def prepare(self, lp: LinearProblem, **options: Any) -> LinearProblem:
        """Convert the system to the form the method works on (e.g. move it to the GPU)."""
        return lp

    def setup(self, lp: LinearProblem, **options: Any) -> Any:
        """Work done once per matrix (factorisation, hierarchy); returns the method's state."""
        return None

    @abstractmethod
    def iterate(self, lp: LinearProblem, state: Any, *, rtol: float, atol: float,
                maxiter: int | None, callback: Callable[[Any], None] | None,
                **options: Any) -> IterationResult:
        """Run the method from ``lp.x0`` (or zero)."""


def finalize(problem: Any, lp: LinearProblem, result: IterationResult, *, method: str,
             options: dict[str, Any], rtol: float, atol: float, setup_time: float,
             solve_time: float) -> Solution:
    """Apply the shared stopping rule to a method's answer and build the Solution.

    The true residual is recomputed here, independent of the method, so a method's own
    recursive residual can never claim a convergence that did not happen; a non-finite ``x``
    is reported (converged False, with a warning), never returned quietly.
    """
    xp = array_namespace(result.x, lp.b)
    bnorm = float(xp.linalg.norm(lp.b))
    finite = bool(xp.all(xp.isfinite(result.x)))
    rnorm = lp.residual_norm(result.x) if finite else float("nan")
    threshold = max(rtol * bnorm, atol)
    converged = finite and rnorm <= threshold
    reason = result.reason
    if not finite:
        reason = f"non-finite iterate ({result.reason})"
        warnings.warn(f"{method}: the iterate contains NaN or Inf; {result.reason}",
                      RuntimeWarning, stacklevel=3)
    elif not converged and result.reason == "converged":
        reason = (f"the method's residual met the tolerance but the true residual "
                  f"{rnorm:.3e} exceeds {threshold:.3e}")
    scale = bnorm if bnorm > 0 else 1.0
    residuals = np.asarray(result.residual_norms, dtype=float) / scale
    info = {**result.info, "reason": reason, "residual_norm": rnorm, "b_norm": bnorm,
            "threshold": threshold}
    return Solution(x=problem.solution_from_vector(result.x), converged=converged,
                    iterations=result.iterations, residuals=residuals, setup_time=setup_time,
                    solve_time=solve_time, method=method, options=options, info=info)
