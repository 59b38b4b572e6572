"""Applying a trained neural operator: batched prediction and the prepared Solution(s)."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sciml.backend import torch_device
from sciml.errors import InvalidProblemError, ModelMismatchError, UnsupportedTypeError
from sciml.learn.normalizers import normalizer_from_state
from sciml.learn.trained_model import TrainedModel, check_params
from sciml.problems import PDEProblem
from sciml.solution import Solution
from sciml.solver_base import Prepared


def exact_boundary(u: Any, config: dict[str, Any]) -> Any:
    """``u`` (a ``(batch, channels, *grid)`` tensor) with its outermost grid points set to
    zero when the model makes its problem's zero Dirichlet values exact (config
    ``exact_boundary``; models saved before the option existed predict them)."""
    if not config.get("exact_boundary", False):
        return u
    from torch.nn.functional import pad  # noqa: PLC0415

    interior = (Ellipsis,) + (slice(1, -1),) * config["ndim"]
    return pad(u[interior], (1, 1) * config["ndim"])


def predict_fields(cls: Any, model: TrainedModel, a: Any, *, batch_size: int = 32,
                   device: Any = None) -> np.ndarray:
    """Apply ``model`` to input fields ``a`` of shape ``(samples, *grid)`` or ``grid``.

    Raises
    ------
    ModelMismatchError
        ``a`` has another number of grid axes than the model, or a grid the network
        cannot take.
    """
    import torch  # noqa: PLC0415

    config = model.config
    a = np.asarray(a, dtype=np.float32)
    single = a.ndim == config["ndim"]
    batch = a[None] if single else a
    expected = f"(samples, *grid) with {config['ndim']} grid axes"
    if batch.ndim != config["ndim"] + 1:
        raise ModelMismatchError(
            f"this {model.method!r} model takes {config['problem']} inputs of shape "
            f"{expected} (trained on grid {tuple(config['train_grid'])}); got {a.shape}")
    min_size = cls.min_grid(config)
    if min(batch.shape[1:]) < min_size:
        raise ModelMismatchError(f"this {model.method!r} model needs at least {min_size} "
                                 f"grid points per axis; got grid {batch.shape[1:]}")
    device = torch_device(device)
    norm_a = normalizer_from_state(model.normalizers["a"]).to(device)
    norm_u = normalizer_from_state(model.normalizers["u"]).to(device)
    network = model.network.to(device).eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(batch), batch_size):
            x = torch.from_numpy(batch[start:start + batch_size]).to(device)
            y = exact_boundary(norm_u.decode(network(norm_a.encode(x).unsqueeze(1))),
                               config)[:, 0]
            outputs.append(y.cpu().numpy())
    out = np.concatenate(outputs).astype(np.float64)
    return out[0] if single else out


@dataclass
class PreparedOperator(Prepared):
    """A trained operator loaded once, with its problems checked: :meth:`solve` predicts.

    Made by :meth:`~.solver.OperatorSolver.prepare` for one problem or a list of problems of
    one kind and grid (then forward passes of ``batch_size`` problems give every prediction).
    """

    solver_cls: Any
    trained: TrainedModel
    problems: list[PDEProblem]
    single: bool
    options: dict[str, Any]
    setup_time: float

    def __post_init__(self) -> None:
        self.method = self.solver_cls.name

    def solve(self, *, residuals: bool = True) -> Solution | list[Solution]:
        """Predict every prepared problem's solution in batched forward passes.

        ``residuals=False`` skips the reference residual (a caller that holds the assembled
        system computes it there, as the learned guess + Krylov methods do).

        Returns
        -------
        Solution or list of Solution
            One per problem (a list when a list was prepared). ``converged`` is None: no
            tolerance is checked for a prediction (``info["reason"]`` says so), and False
            when the network's output is not finite (with a RuntimeWarning). Where the
            problem has a reference discretisation, ``residuals`` and
            ``info["relative_residual"]`` hold the relative residual ``||b - A u|| / ||b||``
            of the prediction in it.
        """
        t0 = time.perf_counter()
        fields = np.stack([p.operator_input() for p in self.problems])
        u = predict_fields(self.solver_cls, self.trained, fields,
                           batch_size=self.options["batch_size"], device=self.options["device"])
        seconds = (time.perf_counter() - t0) / len(self.problems)
        solutions = [self._solution(p, ui, seconds, residuals)
                     for p, ui in zip(self.problems, u)]
        return solutions[0] if self.single else solutions

    def _solution(self, problem: PDEProblem, u: np.ndarray, seconds: float,
                  residuals_wanted: bool) -> Solution:
        options = {"device": None if self.options["device"] is None
                   else str(self.options["device"]), "batch_size": self.options["batch_size"]}
        return prediction_solution(
            problem, u, method=self.method, seconds=seconds, options=options,
            info={"network_calls": 1, "prepared_setup_time": self.setup_time,
                  "train_grid": self.trained.config["train_grid"]},
            residuals=residuals_wanted, stacklevel=5)


def prediction_solution(problem: PDEProblem, u: np.ndarray, *, method: str, seconds: float,
                        options: dict[str, Any], info: dict[str, Any], residuals: bool = True,
                        stacklevel: int = 4) -> Solution:
    """The Solution of a network's prediction ``u`` of ``problem`` (shared by every learned
    operator): no tolerance is claimed (``converged`` None, ``info["reason"]`` says so); a
    non-finite ``u`` is ``converged=False`` with a RuntimeWarning; where the problem has a
    reference discretisation (and ``residuals``), the relative residual ``||b - A u|| /
    ||b||`` is ``residuals`` and ``info["relative_residual"]``."""
    finite = bool(np.all(np.isfinite(u)))
    info = dict(info)
    found: list[float] = []
    if not finite:
        info["reason"] = ("failed: the network's prediction contains NaN or Inf (the "
                          "weights or the input are outside what the model handles)")
        warnings.warn(f"{method}: {info['reason']}", RuntimeWarning, stacklevel=stacklevel)
    else:
        info["reason"] = NO_TOLERANCE
        if problem.has_linear_form and residuals:
            lp = problem.to_linear_problem()
            rnorm = lp.residual_norm(problem.vector_from_solution(u))
            bnorm = float(np.linalg.norm(lp.b))
            found = [rnorm / bnorm if bnorm > 0 else rnorm]
            info["relative_residual"] = found[0]
    return Solution(x=u, converged=None if finite else False, iterations=1,
                    residuals=np.asarray(found), setup_time=0.0, solve_time=seconds,
                    method=method, options=options, info=info)


#: the reason a prediction's Solution gives: nothing was checked against a tolerance
NO_TOLERANCE = "no tolerance: a network prediction (one forward pass)"


def prepare_operator(solver_cls: Any, problem: Any, options: dict[str, Any]) -> PreparedOperator:
    """Load the model once and check the problem(s) against it (kind, parameters, grid)."""
    t0 = time.perf_counter()
    single = not isinstance(problem, (list, tuple))
    problems = [problem] if single else list(problem)
    if not problems:
        raise InvalidProblemError("an empty list of problems: nothing to solve")
    trained = solver_cls.load_model(options["model"])
    kind = trained.config["problem"]
    for p in problems:
        if not isinstance(p, PDEProblem) or not p.input_fields:
            raise UnsupportedTypeError(f"{solver_cls.name!r} solves PDE problems with an input "
                                       f"field (e.g. DarcyFlow, Burgers1D); got "
                                       f"{type(p).__name__}")
        if p.name != kind:
            raise ModelMismatchError(
                f"this {solver_cls.name!r} model was trained for {kind} problems, not "
                f"{p.name} ({type(p).__name__})")
        check_params(trained, kind, p.parameters())
    grids = {p.grid_shape for p in problems}
    if len(grids) > 1:
        raise InvalidProblemError(f"a batch of problems must share one grid; got grids "
                                  f"{sorted(grids)}")
    return PreparedOperator(solver_cls, trained, problems, single, options,
                            time.perf_counter() - t0)
