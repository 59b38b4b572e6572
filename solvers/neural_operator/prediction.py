"""Applying a trained neural operator: batched prediction and the one-call Solution."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sciml.errors import ModelMismatchError
from sciml.learn.normalizers import normalizer_from_state
from sciml.learn.trained_model import TrainedModel
from sciml.problems.burgers import Burgers1D
from sciml.problems.darcy import DarcyFlow
from sciml.solution import Solution


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
    device = torch.device(device or "cpu")
    norm_a = normalizer_from_state(model.normalizers["a"]).to(device)
    norm_u = normalizer_from_state(model.normalizers["u"]).to(device)
    network = model.network.to(device).eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(batch), batch_size):
            x = torch.from_numpy(batch[start:start + batch_size]).to(device)
            y = norm_u.decode(network(norm_a.encode(x).unsqueeze(1)))[:, 0]
            outputs.append(y.cpu().numpy())
    out = np.concatenate(outputs).astype(np.float64)
    return out[0] if single else out


def predict_solution(solver: Any, problem: Any, *, model: Any = None,
                     device: Any = None) -> Solution:
    """Predict the solution of a DarcyFlow or Burgers1D ``problem`` with one network call.

    For a problem with a linear discretisation, ``residuals`` holds the relative
    finite-difference residual of the prediction (evidence, not a stopping test).
    """
    trained = solver.load_model(model)
    t0 = time.perf_counter()
    field, kind, params = _problem_input(problem)
    if trained.config["problem"] != kind:
        raise ModelMismatchError(
            f"this {solver.name!r} model was trained for {trained.config['problem']} "
            f"problems, not {kind} ({type(problem).__name__})")
    check_params(trained, kind, params)
    t1 = time.perf_counter()
    u = predict_fields(type(solver), trained, field, device=device)
    t2 = time.perf_counter()
    residuals: list[float] = []
    if hasattr(problem, "to_linear_problem"):
        lp = problem.to_linear_problem()
        bnorm = float(np.linalg.norm(lp.b))
        residuals = [lp.residual_norm(problem.vector_from_solution(u)) / bnorm]
    return Solution(x=u, converged=True, iterations=1, residuals=np.asarray(residuals),
                    setup_time=t1 - t0, solve_time=t2 - t1, method=solver.name,
                    options={"device": None if device is None else str(device)},
                    info={"reason": "network prediction (one forward pass); no "
                                    "tolerance applies",
                          "network_calls": 1, "train_grid": trained.config["train_grid"]})


def _problem_input(problem: Any) -> tuple[np.ndarray, str, dict[str, Any]]:
    if isinstance(problem, DarcyFlow):
        return problem.a, "darcy", {"f": problem.f}
    if isinstance(problem, Burgers1D):
        return problem.u0, "burgers", {"nu": problem.nu, "t": problem.t}
    raise TypeError(f"neural operators solve DarcyFlow or Burgers1D problems; got "
                    f"{type(problem).__name__}")


def check_params(model: TrainedModel, problem: str, params: dict[str, Any]) -> None:
    """The problem's parameters must be those the model was trained for."""
    trained = model.config["params"]
    for key, value in params.items():
        if np.ndim(value) != 0 or not np.isclose(float(value), trained[key], rtol=1e-6):
            shown = "an array" if np.ndim(value) else value
            raise ModelMismatchError(
                f"this {model.method!r} model was trained for {problem} with {key}="
                f"{trained[key]}; got {key}={shown}")
