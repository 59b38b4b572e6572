"""The face ``pinn`` and ``lpinn`` share: options, seeding, training, the Solution.

A physics-informed method trains a network for one problem instance and reads the solution
off it, so :meth:`PhysicsInformedSolver.prepare` only checks the problem and the options and
:meth:`PreparedPhysicsInformed.solve` does the work. A subclass supplies the network
(:meth:`~PhysicsInformedSolver.build`), the loss at collocation points
(:meth:`~PhysicsInformedSolver.loss`) and the space-time field on the grid
(:meth:`~PhysicsInformedSolver.fields`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sciml.backend import torch_device
from sciml.errors import InvalidOptionError, InvalidProblemError
from sciml.problems.evolution import PeriodicEvolution
from sciml.solution import Solution
from sciml.solver_base import (Option, Prepared, Solver, check_options, is_count,
                               is_nonnegative_number, one_of)
from sciml.solvers.classical.spectral import TIMES_OPTION

from .sampling import SAMPLINGS, collocation
from .training import Fit, fit, is_stages, is_steps

#: the options both methods declare (a subclass adds its own and may change defaults)
COMMON_OPTIONS: dict[str, Option] = {
    "width": Option(50, is_count(1), "an integer >= 1"),
    "depth": Option(4, is_count(1), "an integer >= 1 (hidden layers)"),
    "points": Option(1024, is_count(1), "an integer >= 1 (collocation points per step)"),
    "sampling": Option("lhs", one_of(*SAMPLINGS), f"one of {SAMPLINGS}"),
    "resample": Option(100, is_count(0), "an integer >= 0 (Adam steps per point set; 0: "
                                         "one set per stage)"),
    "stages": Option((("adam", {"lr": 1e-3}), ("lbfgs", {"restart": 300})), is_stages,
                     "a sequence of (name, {settings}): 'adam' with lr, amsgrad; 'lbfgs' with "
                     "lr, history_size, restart"),
    "steps": Option((1000, 1500), is_steps, "an int >= 0 or one per stage"),
    "weights": Option(None, lambda v: v is None or (
        isinstance(v, dict) and all(is_nonnegative_number(w) for w in v.values())),
        "None or a dict of loss-term names to numbers >= 0"),
    "times": TIMES_OPTION,
    "seed": Option(0, is_count(0), "an integer >= 0"),
    "device": Option(None),
    "dtype": Option("float64", one_of("float32", "float64"), "'float32' or 'float64'"),
    "progress": Option(False, one_of(True, False), "True or False"),
}


def rms(r: Any) -> Any:
    """The root mean square of a tensor (the paper's norms, independent of the count); the
    smallest positive float under the root keeps its gradient finite at zero."""
    import torch  # noqa: PLC0415

    return (r.pow(2).mean() + torch.finfo(r.dtype).tiny).sqrt()


def gradient(y: Any, x: Any) -> Any:
    """``dy/dx`` pointwise (``y`` a function of ``x`` elementwise), keeping the graph."""
    import torch  # noqa: PLC0415

    return torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)[0]


class PhysicsInformedSolver(Solver):
    """Base of the methods that fit a network to one periodic evolution problem.

    Subclasses set ``name``, ``description``, ``options`` (:data:`COMMON_OPTIONS` plus their
    own), ``loss_terms`` (the names ``weights=`` may give, with defaults) and implement
    :meth:`build`, :meth:`loss` and :meth:`fields`.
    """

    loss_terms: ClassVar[dict[str, float]] = {}

    def weights(self, options: dict[str, Any]) -> dict[str, float]:
        """The default loss weights of these options (their keys: what ``weights=`` may set)."""
        return dict(self.loss_terms)

    def build(self, problem: PeriodicEvolution, options: dict[str, Any]) -> Any:
        """The untrained network (a ``torch.nn.Module``), on the CPU in float64."""
        raise NotImplementedError

    def loss(self, model: Any, problem: PeriodicEvolution, points: Any,
             options: dict[str, Any]) -> Any:
        """The training loss at collocation points ``(x, t)``."""
        raise NotImplementedError

    def fields(self, model: Any, problem: PeriodicEvolution, times: np.ndarray,
               options: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        """``u`` on ``(times, problem.x)`` and any extra ``info`` entries."""
        raise NotImplementedError

    def check_problem(self, problem: Any) -> None:
        """Refuse a problem without the convective form ``u_t + c(u) u_x = nu u_xx``."""
        if not getattr(problem, "has_convective_form", False):
            raise InvalidProblemError(
                f"{self.name} needs a periodic evolution problem with a convective form "
                f"u_t + c(u) u_x = nu u_xx (Convection1D, Burgers1D); "
                f"{type(problem).__name__} has none")

    def prepare(self, problem: Any, **options: Any) -> PreparedPhysicsInformed:
        """Check the problem and the options; nothing is trained yet."""
        self.check_problem(problem)
        checked = check_options(self.name, options, self.options)
        stages = tuple(checked["stages"])
        steps = checked["steps"]
        steps = tuple(steps) if isinstance(steps, (list, tuple)) else (steps,) * len(stages)
        if len(steps) != len(stages):
            raise InvalidOptionError(f"method {self.name!r}: steps={checked['steps']!r} gives "
                                     f"{len(steps)} counts for {len(stages)} stages; expected "
                                     "one int or one per stage")
        terms = self.weights(checked)
        unknown = set(checked["weights"] or {}) - set(terms)
        if unknown:
            raise InvalidOptionError(f"method {self.name!r}: weights {sorted(unknown)} are not "
                                     f"loss terms here; expected keys among {sorted(terms)}")
        checked.update(stages=stages, steps=steps)
        checked["weights"] = {**terms, **(checked["weights"] or {})}
        problem.time_levels(checked["times"])
        torch_device(checked["device"])
        return PreparedPhysicsInformed(self, problem, checked)

    def solve(self, problem: Any, **options: Any) -> Solution:
        """Train on ``problem`` and return its solution (see
        :meth:`PreparedPhysicsInformed.solve`)."""
        return self.prepare(problem, **options).solve()


@dataclass
class PreparedPhysicsInformed(Prepared):
    """One problem and checked options; :meth:`solve` trains and predicts."""

    solver: PhysicsInformedSolver
    problem: PeriodicEvolution
    options: dict[str, Any]
    setup_time: float = 0.0

    def __post_init__(self) -> None:
        self.method = self.solver.name

    def solve(self) -> Solution:
        """Train a network from ``seed`` and read ``u`` off it on the problem's grid.

        Returns
        -------
        Solution
            ``x``: ``u(., t)`` on the grid; ``info["t"]``, ``info["u_tx"]`` (``(len(t),
            points)``), ``info["history"]`` (the loss of every step), ``info["stage_ends"]``
            and the method's own entries. ``converged`` is None: no tolerance is checked (a
            trained network's prediction); False with a RuntimeWarning when the loss or the
            prediction is not finite. ``iterations`` counts optimiser steps.
        """
        import torch  # noqa: PLC0415

        t0 = time.perf_counter()
        opts, problem = self.options, self.problem
        device = torch_device(opts["device"])
        dtype = getattr(torch, opts["dtype"])
        generator = torch.Generator().manual_seed(opts["seed"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(opts["seed"])
            model = self.solver.build(problem, opts)
        model = model.to(device=device, dtype=dtype)

        def sample() -> Any:
            return collocation(opts["points"], problem.period, problem.t, opts["sampling"],
                               generator, dtype=dtype, device=device)

        result: Fit = fit(list(model.parameters()),
                          lambda points: self.solver.loss(model, problem, points, opts),
                          sample, opts["stages"], opts["steps"], resample=opts["resample"],
                          progress=opts["progress"])
        times = problem.time_levels(opts["times"])
        u_tx, extra = self.solver.fields(model, problem, times, opts)
        finite = bool(np.all(np.isfinite(u_tx))) and result.stopped == "all steps done"
        info: dict[str, Any] = {"t": times, "u_tx": u_tx, "history": result.history,
                                "stage_ends": result.stage_ends, **extra}
        if finite:
            info["reason"] = (f"no tolerance: a trained network's prediction "
                              f"({len(result.history)} optimiser steps)")
        else:
            info["reason"] = (f"failed: {result.stopped}; the prediction is not trustworthy "
                              "(NaN/Inf); try a smaller learning rate or float64")
            warnings.warn(f"{self.method}: {info['reason']}", RuntimeWarning, stacklevel=3)
        shown = {k: v for k, v in opts.items() if k not in ("times", "device")}
        shown["device"] = str(device)
        return Solution(x=u_tx[-1], converged=None if finite else False,
                        iterations=len(result.history), residuals=np.zeros(0),
                        setup_time=0.0, solve_time=time.perf_counter() - t0,
                        method=self.method, options=shown, info=info)
