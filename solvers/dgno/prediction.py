"""Forward predictions of a trained DGNO model: ``a -> (u, reconstructed a)`` in batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from sciml.backend import torch_device
from sciml.errors import ModelMismatchError
from sciml.learn.trained_model import TrainedModel

from .model import coefficient_from_output, grid_points


def check_grid(model: TrainedModel, shape: tuple[int, ...]) -> None:
    """The coefficient grid must be the one the model's encoder was trained on."""
    grid = model.config["grid"]
    if tuple(shape) != (grid, grid):
        raise ModelMismatchError(
            f"this dgno model encodes coefficients on its training grid {grid} x {grid}; got "
            f"a grid of shape {tuple(shape)} (resample a to {grid} x {grid} or train on it)")


def predict(model: TrainedModel, a: Any, *, batch_size: int = 256,
            device: Any = None) -> dict[str, np.ndarray]:
    """Apply ``model`` to coefficients ``(samples, s, s)``.

    Returns
    -------
    dict
        ``u`` ``(samples, s, s)``; with a coefficient decoder also ``a`` (the reconstructed
        coefficient: the more probable phase for two-phase media, the mean else) and, for
        two-phase media, ``phase_probability`` (of the high phase) and ``a_mean``.
    """
    import torch  # noqa: PLC0415

    config = model.config
    a = np.asarray(a, dtype=np.float32)
    check_grid(model, a.shape[1:])
    device = torch_device(device)
    network = model.network.to(device).eval()
    size = config["grid"]
    points = grid_points(size).to(device)
    parts: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for start in range(0, len(a), batch_size):
            beta = network.encode(torch.from_numpy(a[start:start + batch_size]).to(device))
            fields = {"u": network.solution(beta, points)}
            if "a" in network.decoders:
                fields.update(decode_coefficient(network, beta, points, config))
            for name, value in fields.items():
                parts.setdefault(name, []).append(
                    value.reshape(-1, size, size).double().cpu().numpy())
    return {name: np.concatenate(value) for name, value in parts.items()}


def decode_coefficient(network: Any, beta: Any, points: Any, config: dict[str, Any]
                       ) -> dict[str, Any]:
    """The coefficient decoded from ``beta`` at ``points`` (see :func:`predict`)."""
    import torch  # noqa: PLC0415

    mean, probability = coefficient_from_output(network.coefficient_output(beta, points),
                                                config)
    if probability is None:
        return {"a": mean}
    low, high = config["phases"]
    hard = torch.where(probability > 0.5, high, low)
    return {"a": hard, "a_mean": mean, "phase_probability": probability}
