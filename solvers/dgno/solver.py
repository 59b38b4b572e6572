"""``method="dgno"``: the deep generative neural operator for forward and inverse Darcy.

Zang & Koutsourelakis, "DGNO: A Novel Physics-aware Neural Operator for Solving Forward and
Inverse PDE Problems based on Deep, Generative Probabilistic Modeling", arXiv 2502.06250,
J. Comput. Phys. 2025. It trains on unlabelled coefficients only (:mod:`.train`), predicts
``u`` for :class:`~sciml.problems.DarcyFlow` problems and recovers ``a`` for
:class:`~sciml.problems.DarcyInverse` problems through its latent space (:mod:`.inverse`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sciml.errors import (
    InvalidOptionError,
    InvalidProblemError,
    ModelMismatchError,
    UnsupportedTypeError,
)
from sciml.learn.trained_model import TrainedModel, check_params
from sciml.problems import DarcyFlow, DarcyInverse
from sciml.solution import Solution
from sciml.solver_base import (
    LearnedSolver,
    Option,
    Prepared,
    check_options,
    is_count,
    is_nonnegative_number,
)
from sciml.solvers.neural_operator.prediction import prediction_solution

from .inverse import recover_coefficient
from .model import DGNONetwork
from .prediction import check_grid, predict
from .train import evaluate_dgno, train_dgno

#: the options that apply to inverse problems only
INVERSE_OPTIONS = ("restarts", "steps", "lr", "w_pde", "seed")


def _positive(value: Any) -> bool:
    return is_nonnegative_number(value) and value > 0


class DGNOSolver(LearnedSolver):
    """DGNO: ``sciml.solve(DarcyFlow(a=...) | DarcyInverse(...), method="dgno", model=...)``.

    Options: ``model`` (a TrainedModel or a saved path), ``device``, ``batch_size`` (forward
    problems); for inverse problems also ``restarts`` (latent codes optimised in one batch),
    ``steps``, ``lr`` (Adam), ``w_pde`` (weight of the weak PDE term; 0 uses the data
    alone) and ``seed``.
    """

    name = "dgno"
    description = ("DGNO deep generative neural operator (Zang & Koutsourelakis 2025): "
                   "unlabelled training, forward and inverse Darcy")
    options: ClassVar[dict[str, Option]] = {
        "model": Option(None), "device": Option(None),
        "batch_size": Option(256, is_count(1), "an integer >= 1"),
        "restarts": Option(16, is_count(1), "an integer >= 1"),
        "steps": Option(300, is_count(1), "an integer >= 1"),
        "lr": Option(0.05, _positive, "a finite number > 0"),
        "w_pde": Option(1.0, is_nonnegative_number, "a finite number >= 0"),
        "seed": Option(0, is_count(0), "an integer >= 0"),
    }

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> DGNONetwork:
        """The untrained network of ``config`` (see :class:`.model.DGNONetwork`)."""
        return DGNONetwork(config)

    @classmethod
    def train(cls, data: Any = None, **options: Any) -> TrainedModel:
        """Train on coefficients; see :func:`.train.train_dgno`."""
        return train_dgno(cls, data, **options)

    @classmethod
    def evaluate(cls, model: Any, data: Any, **options: Any) -> dict[str, float]:
        """Test errors; see :func:`.train.evaluate_dgno`."""
        return evaluate_dgno(cls, model, data, **options)

    def prepare(self, problem: Any, **options: Any) -> Prepared:
        """Load the model once and check the problem(s) against it."""
        t0 = time.perf_counter()
        opts = check_options(self.name, options, self.options)
        model = self.load_model(opts["model"])
        if isinstance(problem, DarcyInverse):
            check_params(model, model.config["problem"], problem.parameters())
            return PreparedInverse(model, problem, opts, time.perf_counter() - t0)
        given = [k for k in INVERSE_OPTIONS if k in options]
        if given:
            raise InvalidOptionError(f"option {given[0]!r} applies to DarcyInverse problems "
                                     "only")
        single = not isinstance(problem, (list, tuple))
        problems = [problem] if single else list(problem)
        if not problems:
            raise InvalidProblemError("an empty list of problems: nothing to solve")
        for p in problems:
            _check_forward_problem(model, p)
        return PreparedForward(model, problems, single, opts, time.perf_counter() - t0)

    def solve(self, problem: Any, **options: Any) -> Solution | list[Solution]:
        """Predict ``u`` (DarcyFlow, or a list of them, in batched passes) or recover ``a``
        (DarcyInverse). A prediction claims no tolerance: ``converged`` is None (False for
        non-finite output)."""
        prepared = self.prepare(problem, **options)
        result = prepared.solve()
        for sol in result if isinstance(result, list) else [result]:
            sol.setup_time = prepared.setup_time
        return result


def _check_forward_problem(model: TrainedModel, problem: Any) -> None:
    if not isinstance(problem, DarcyFlow):
        raise UnsupportedTypeError(f"'dgno' solves DarcyFlow and DarcyInverse problems; got "
                                   f"{type(problem).__name__}")
    check_grid(model, problem.grid_shape)
    check_params(model, model.config["problem"], problem.parameters())
    if model.config["coefficient"] == "bernoulli":
        phases = model.config["phases"]
        values = np.unique(problem.a)
        foreign = values[~np.isclose(values[:, None], phases).any(axis=1)]
        if foreign.size:
            raise ModelMismatchError(
                f"this dgno model was trained on two-phase coefficients with values {phases}; "
                f"this a takes other values (e.g. {foreign[0]:g})")


@dataclass
class PreparedForward(Prepared):
    """A DGNO model with checked DarcyFlow problems: :meth:`solve` predicts ``u``."""

    trained: TrainedModel
    problems: list[DarcyFlow]
    single: bool
    options: dict[str, Any]
    setup_time: float
    method: str = "dgno"

    def solve(self) -> Solution | list[Solution]:
        """One Solution per problem: ``x`` the predicted ``u``; ``info`` the reconstructed
        ``a`` (and ``phase_probability``) and the relative residual of the FD system."""
        t0 = time.perf_counter()
        out = predict(self.trained, np.stack([p.a for p in self.problems]),
                      batch_size=self.options["batch_size"], device=self.options["device"])
        seconds = (time.perf_counter() - t0) / len(self.problems)
        solutions = []
        for i, problem in enumerate(self.problems):
            info = {"network_calls": 1, "prepared_setup_time": self.setup_time}
            if "a" in out:
                info["a_reconstructed"] = out["a"][i]
            if "phase_probability" in out:
                info["phase_probability"] = out["phase_probability"][i]
            solutions.append(prediction_solution(problem, out["u"][i], method=self.method,
                                                 seconds=seconds, options={}, info=info))
        return solutions[0] if self.single else solutions


@dataclass
class PreparedInverse(Prepared):
    """A DGNO model with a checked DarcyInverse problem: :meth:`solve` recovers ``a``."""

    trained: TrainedModel
    problem: DarcyInverse
    options: dict[str, Any]
    setup_time: float
    method: str = "dgno"

    def solve(self) -> Solution:
        """``x`` the recovered ``a`` on the model's grid (the more probable phase for
        two-phase media); ``info``: ``a_mean``, ``a_std``, ``phase_probability``, ``u``,
        ``misfit`` (mean squared noise-scaled misfit; about 1 at the noise level) and the
        optimisation ``history``. ``converged`` is None: no tolerance applies."""
        from sciml.backend import torch_device  # noqa: PLC0415

        t0 = time.perf_counter()
        opts = {k: self.options[k] for k in INVERSE_OPTIONS}
        result = recover_coefficient(self.trained, self.problem,
                                     device=torch_device(self.options["device"]), **opts)
        finite = bool(np.all(np.isfinite(result.a_mean)) and np.all(np.isfinite(result.u)))
        info: dict[str, Any] = {
            "a_mean": result.a_mean, "a_std": result.a_std, "u": result.u,
            "misfit": result.misfit, "history": result.history,
            "prepared_setup_time": self.setup_time,
            "reason": ("no tolerance: a posterior summary of latent-space optimisations"
                       if finite else "failed: the recovered fields contain NaN or Inf")}
        if result.phase_probability is not None:
            info["phase_probability"] = result.phase_probability
        if not finite:
            warnings.warn(f"dgno: {info['reason']}", RuntimeWarning, stacklevel=3)
        return Solution(x=result.a, converged=None if finite else False,
                        iterations=opts["steps"], residuals=np.asarray(result.history),
                        setup_time=0.0, solve_time=time.perf_counter() - t0, method="dgno",
                        options=opts, info=info)
