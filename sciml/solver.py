"""The face every method shows: :class:`Solver`, and the shared linear-solver machinery.

:class:`LinearSolver` holds what every method for ``A x = b`` shares, so each method writes
only its own algorithm: option checking, conversion of PDE problems to their discretisation,
timing split into setup and solve, and the single stopping rule recomputed at exit::

    ||b - A x|| <= max(rtol * ||b||, atol)
"""

from __future__ import annotations

import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from .backend import array_namespace
from .errors import InvalidOptionError, ModelMismatchError
from .problems.linear import LinearProblem
from .solution import Solution

DEFAULT_RTOL = 1e-6

_REMOVED_OPTIONS = {
    "tol": "'tol' is not accepted (SciPy removed it in 1.14); use rtol= for the relative "
           "tolerance and atol= for the absolute one",
}


class Solver(ABC):
    """A method that turns a problem into a :class:`~sciml.Solution`.

    Subclasses set ``name`` (their registry name) and ``description`` (one line).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def solve(self, problem: Any, **options: Any) -> Solution:
        """Solve ``problem``; options are method specific."""


class LearnedSolver(Solver):
    """A method with a trained network: adds training, evaluation and model loading.

    Subclasses implement :meth:`build_network` (config -> ``torch.nn.Module``), :meth:`train`
    (data -> :class:`~sciml.model.TrainedModel`) and :meth:`evaluate`; ``default_weights``
    names weights shipped with the package, used when ``model=`` is not given.
    """

    default_weights: ClassVar[str | None] = None

    @classmethod
    @abstractmethod
    def build_network(cls, config: dict[str, Any]) -> Any:
        """Rebuild the untrained network described by ``config``."""

    @classmethod
    @abstractmethod
    def train(cls, data: Any = None, **options: Any) -> Any:
        """Train a model (a :class:`~sciml.model.TrainedModel`) on ``data``."""

    @classmethod
    def evaluate(cls, model: Any, data: Any, **options: Any) -> dict[str, float]:
        """Error metrics of ``model`` on ``data`` (e.g. ``{"rel_l2": ..., "rel_h1": ...}``)."""
        raise NotImplementedError(f"{cls.name!r} has no evaluate()")

    @classmethod
    def train_cli(cls, argv: list[str]) -> int:
        """``sciml train <name> ...``: by convention ``main(argv)`` of the method's
        ``train`` module (``solvers/<family>/train.py``)."""
        import importlib  # noqa: PLC0415

        package = cls.__module__.rsplit(".", 1)[0]
        return importlib.import_module(f"{package}.train").main(argv)

    @classmethod
    def load_model(cls, model: Any = None) -> Any:
        """Resolve ``model=``: a TrainedModel, a path, or None for the shipped weights."""
        from .model import TrainedModel  # noqa: PLC0415

        if isinstance(model, TrainedModel):
            if model.method != cls.name:
                raise ModelMismatchError(
                    f"this is a {model.method!r} model; method {cls.name!r} cannot use it")
            return model
        if model is None:
            if cls.default_weights is None:
                raise InvalidOptionError(
                    f"{cls.name!r} ships no weights; pass model=<path or TrainedModel> "
                    f"(train one with sciml.train({cls.name!r}, ...))")
            model = cls.default_weights
        return TrainedModel.load(model, method=cls.name)


@dataclass
class IterationResult:
    """What a linear method's iteration hands back to :class:`LinearSolver`."""

    x: Any
    iterations: int
    residual_norms: list[float]
    reason: str
    info: dict[str, Any] = field(default_factory=dict)


def check_options(method: str, options: dict[str, Any], allowed: dict[str, Any]) -> dict[str, Any]:
    """Reject removed or unknown options; return ``allowed`` updated with ``options``."""
    for key in options:
        if key in _REMOVED_OPTIONS:
            raise InvalidOptionError(_REMOVED_OPTIONS[key])
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidOptionError(
                f"method {method!r} does not accept option {key!r}; its options are: {known}")
    return {**allowed, **options}


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
