"""What every method for ``A x = b`` shares: :class:`LinearSolver` and the stopping rule.

:class:`LinearSolver` holds what every linear method shares, so each method writes only its
own algorithm: option checking, conversion of PDE problems to their discretisation, the
split into set-up (once per operator, :meth:`LinearSolver.prepare`) and iteration (once per
right-hand side, :meth:`PreparedLinear.solve`), and the single stopping rule recomputed at
exit::

    ||b - A x|| <= max(rtol * ||b||, atol)

A method subclass declares ``options`` and implements :meth:`LinearSolver.setup` (work once
per matrix, returns a state) and :meth:`LinearSolver.iterate`; :meth:`LinearSolver.convert`
(move the system to a device) and :meth:`LinearSolver.preconditioner` are optional.
"""

from __future__ import annotations

import time
import warnings
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from .errors import InvalidOptionError, UnsupportedTypeError
from .problems.linear import LinearProblem
from .problems.protocol import PDEProblem
from .solution import Solution
from .solver_base import Prepared, Solver, check_options, is_nonnegative_number

DEFAULT_RTOL = 1e-6


@dataclass
class IterationResult:
    """What a linear method's iteration hands back to :class:`LinearSolver`."""

    x: Any
    iterations: int
    residual_norms: list[float]
    reason: str
    info: dict[str, Any] = field(default_factory=dict)


def check_tolerances(rtol: Any, atol: Any, maxiter: Any) -> None:
    """The shared keyword tail: finite ``rtol, atol >= 0``, ``maxiter`` an integer >= 0."""
    if not (is_nonnegative_number(rtol) and is_nonnegative_number(atol)):
        raise InvalidOptionError(f"rtol and atol must be finite numbers >= 0, got rtol={rtol!r}"
                                 f", atol={atol!r}")
    if maxiter is not None and (not isinstance(maxiter, (int, np.integer))
                                or isinstance(maxiter, bool) or maxiter < 0):
        raise InvalidOptionError(f"maxiter must be an integer >= 0 or None, got {maxiter!r}")


def as_linear_problem(method: str, problem: Any, matrix_free: bool) -> LinearProblem:
    """The system a linear method works on: a LinearProblem itself, or a PDE problem's
    reference discretisation (the problem protocol's ``has_linear_form``)."""
    if isinstance(problem, LinearProblem):
        return problem
    if isinstance(problem, PDEProblem) and problem.has_linear_form:
        return problem.to_linear_problem(matrix_free=matrix_free)
    raise UnsupportedTypeError(
        f"{method!r} solves a LinearProblem or a PDE problem with a linear discretisation; "
        f"got {type(problem).__name__}")


class LinearSolver(Solver):
    """Base class of methods for ``A x = b``.

    Subclasses declare ``options`` (their own set-up options, :class:`~sciml.solver_base.
    Option`), and define :meth:`setup` (work done once per matrix, timed as setup) and
    :meth:`iterate` (timed as solve). The common keyword-only tail of every solve is
    ``rtol, atol, maxiter, x0, callback`` as in SciPy.
    """

    #: whether a PDE problem is discretised matrix-free when the user does not say
    prefers_matrix_free: ClassVar[bool] = False

    def prepare(self, problem: Any, *, matrix_free: bool | None = None,
                **options: Any) -> "PreparedLinear":
        """Check the options, discretise ``problem`` and run :meth:`setup` once.

        Parameters
        ----------
        problem
            A LinearProblem or a PDE problem with a linear discretisation.
        matrix_free
            Discretise a PDE problem as a stencil operator (default: the method's choice).
        **options
            The method's declared options.
        """
        opts = check_options(self.name, options, self.options)
        mf = self.prefers_matrix_free if matrix_free is None else matrix_free
        lp = as_linear_problem(self.name, problem, mf)
        t0 = time.perf_counter()
        lp = self.convert(lp, opts)
        state = self.setup(lp, opts)
        return PreparedLinear(self, problem, lp, state, opts, time.perf_counter() - t0)

    def solve(self, problem: Any, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
              maxiter: int | None = None, x0: Any = None,
              callback: Callable[[Any], None] | None = None,
              matrix_free: bool | None = None, **options: Any) -> Solution:
        """Solve ``problem``: :meth:`prepare` and one :meth:`PreparedLinear.solve`; the
        Solution's ``setup_time`` is the set-up's."""
        check_tolerances(rtol, atol, maxiter)
        prepared = self.prepare(problem, matrix_free=matrix_free, **options)
        sol = prepared.solve(rtol=rtol, atol=atol, maxiter=maxiter, x0=x0, callback=callback)
        sol.setup_time = prepared.setup_time
        sol.info.pop("prepared_setup_time", None)
        return sol

    def convert(self, lp: LinearProblem, options: dict[str, Any]) -> LinearProblem:
        """Convert the system to the form the method works on (e.g. move it to the GPU)."""
        return lp

    def setup(self, lp: LinearProblem, options: dict[str, Any]) -> Any:
        """Work done once per matrix (factorisation, hierarchy); returns the method's state."""
        return None

    @abstractmethod
    def iterate(self, lp: LinearProblem, state: Any, options: dict[str, Any], *, rtol: float,
                atol: float, maxiter: int | None,
                callback: Callable[[Any], None] | None) -> IterationResult:
        """Run the method on ``lp`` from ``lp.x0`` (or zero) with the set-up ``state``."""

    def preconditioner(self, lp: LinearProblem, state: Any, options: dict[str, Any]) -> Any:
        """The set-up as a ``LinearOperator`` approximating ``A^-1`` (``M=`` of ``cg``)."""
        raise InvalidOptionError(f"method {self.name!r} gives no preconditioner; amg and "
                                 "direct do")


class PreparedLinear(Prepared):
    """A linear method set up for one operator (what :func:`sciml.prepare` returns).

    Examples
    --------
    >>> import sciml
    >>> prob = sciml.problems.Poisson(shape=(32, 32, 32))
    >>> ml = sciml.prepare(prob, method="amg")
    >>> sols = [ml.solve(b, rtol=1e-8) for b in (prob.b, 2 * prob.b)]
    >>> all(s.converged for s in sols), sols[0].setup_time
    (True, 0.0)
    """

    def __init__(self, solver: LinearSolver, problem: Any, lp: LinearProblem, state: Any,
                 options: dict[str, Any], setup_time: float) -> None:
        self.solver = solver
        self.method = solver.name
        self.problem = problem
        self.system = lp
        self.state = state
        self.options = options
        self.setup_time = setup_time

    def solve(self, b: Any = None, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
              maxiter: int | None = None, x0: Any = None,
              callback: Callable[[Any], None] | None = None) -> Solution:
        """Solve ``A x = b`` with the prepared set-up.

        Parameters
        ----------
        b
            Right-hand side of the discrete system: ``n`` values, flat or on the problem's
            grid; None for the problem's own.
        rtol, atol, maxiter, x0, callback
            SciPy's keyword tail; ``x0`` as ``b``.

        Returns
        -------
        Solution
            ``setup_time`` is 0; ``info["prepared_setup_time"]`` is the set-up's.
        """
        check_tolerances(rtol, atol, maxiter)
        lp = self.system.with_vectors(b, x0)
        t0 = time.perf_counter()
        result = self.solver.iterate(lp, self.state, self.options, rtol=rtol, atol=atol,
                                     maxiter=maxiter, callback=callback)
        solve_time = time.perf_counter() - t0
        used = {"rtol": rtol, "atol": atol, "maxiter": maxiter, **self.options}
        return finalize(self.problem, lp, result, method=self.method, options=used,
                        rtol=rtol, atol=atol, setup_time=0.0, solve_time=solve_time,
                        extra_info={"prepared_setup_time": self.setup_time})

    def aspreconditioner(self) -> Any:
        """The set-up as a ``scipy.sparse.linalg.LinearOperator`` approximating ``A^-1``
        (one V-cycle for ``amg``, the exact solve for ``direct``), usable as ``M=``."""
        return self.solver.preconditioner(self.system, self.state, self.options)


def finalize(problem: Any, lp: LinearProblem, result: IterationResult, *, method: str,
             options: dict[str, Any], rtol: float, atol: float, setup_time: float,
             solve_time: float, extra_info: dict[str, Any] | None = None) -> Solution:
    """Apply the shared stopping rule to a method's answer and build the Solution.

    The true residual is recomputed here, independent of the method, so a method's own
    recursive residual can never claim a convergence that did not happen; a non-finite ``x``
    is reported (converged False, with a warning), never returned quietly.
    """
    bnorm = lp.norm(lp.b)
    finite = lp.all_finite(result.x)
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
    info = {**(extra_info or {}), **result.info, "reason": reason, "residual_norm": rnorm, "b_norm": bnorm,
            "threshold": threshold}
    return Solution(x=problem.solution_from_vector(result.x), converged=converged,
                    iterations=result.iterations, residuals=residuals, setup_time=setup_time,
                    solve_time=solve_time, method=method, options=options, info=info)
