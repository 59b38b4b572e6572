"""A trained network together with everything needed to use and trust it.

:class:`TrainedModel` is what :func:`sciml.train` returns and what ``model=`` accepts in
:func:`sciml.solve`: the method name, the network, the plain-data config that rebuilds it,
data normalisers, provenance (command, seed, data parameters) and measured metrics. It
saves to one checkpoint file and loads back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import DataFileError, ModelMismatchError
from ..io.atomic import check_output_path
from ..io.checkpoint import load_checkpoint, save_checkpoint


class TrainedModel:
    """A learned method's network plus config, normalisers, provenance and metrics.

    Parameters
    ----------
    method
        Registry name of the method that built and uses the network (e.g. ``"mgno"``).
    network
        The ``torch.nn.Module``.
    config
        Plain data from which the method's ``build_network(config)`` rebuilds ``network``.
    normalizers
        Plain data (tensors, numbers) for input/output normalisation, or empty.
    provenance
        How the weights were made: command, seed, data set and its parameters, versions.
    metrics
        Measured figures (validation loss, test errors, ...).
    """

    def __init__(self, method: str, network: Any, config: dict[str, Any],
                 normalizers: dict[str, Any] | None = None,
                 provenance: dict[str, Any] | None = None,
                 metrics: dict[str, Any] | None = None) -> None:
        self.method = method
        self.network = network
        self.config = dict(config)
        self.normalizers = dict(normalizers or {})
        self.provenance = dict(provenance or {})
        self.metrics = dict(metrics or {})

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the model atomically to ``path`` (a ``.pt`` file).

        An existing file is replaced only with ``overwrite=True``; see
        :func:`check_output_path` for what else is refused (:class:`~sciml.errors.UsageError`).
        """
        check_output_path(path, overwrite=overwrite)
        return save_checkpoint(path, {
            "kind": "model", "method": self.method, "config": self.config,
            "weights": self.network.state_dict(), "normalizers": self.normalizers,
            "provenance": self.provenance, "metrics": self.metrics,
        })

    @staticmethod
    def read_method(path: str | os.PathLike[str]) -> str:
        """The registry name of the method a saved model belongs to."""
        state = load_checkpoint(path)
        if state.get("kind") != "model" or not isinstance(state.get("method"), str):
            raise DataFileError(f"{path} is not a saved sciml model (TrainedModel.save)")
        return state["method"]

    @classmethod
    def load(cls, path: str | os.PathLike[str],
             build_network: Callable[[dict[str, Any]], Any], *, method: str | None = None,
             map_location: Any = "cpu") -> "TrainedModel":
        """Read a model saved by :meth:`save`; check it belongs to ``method`` if given.

        ``build_network(config)`` rebuilds the untrained network (a method's
        :meth:`~sciml.solver_base.LearnedSolver.build_network`), so this record needs no
        registry; :func:`sciml.load_model` finds the builder from the file's method name.
        """
        state = load_checkpoint(path, map_location=map_location)
        if state.get("kind") != "model":
            raise DataFileError(f"{path} is a training checkpoint, not a saved model; "
                                "save the model with TrainedModel.save")
        if method is not None and state["method"] != method:
            raise ModelMismatchError(
                f"{path} holds a {state['method']!r} model, but method {method!r} was asked "
                "for")
        network = build_network(state["config"])
        try:
            network.load_state_dict(state["weights"])
        except RuntimeError as exc:
            raise ModelMismatchError(f"{path}: the weights do not fit the network their "
                                     f"config describes ({exc})") from exc
        network.eval()
        return cls(state["method"], network, state["config"], state["normalizers"],
                   state["provenance"], state["metrics"])

    def num_parameters(self) -> int:
        """Number of trainable real parameters of the network (a complex weight counts 2)."""
        return sum(p.numel() * (2 if p.is_complex() else 1)
                   for p in self.network.parameters() if p.requires_grad)

    def __repr__(self) -> str:
        return (f"TrainedModel(method={self.method!r}, parameters={self.num_parameters():,}, "
                f"metrics={self.metrics})")


def check_params(model: TrainedModel, problem: str, params: dict[str, Any]) -> None:
    """The problem's parameters must be those the model was trained for."""
    trained = model.config["params"]
    for key, value in params.items():
        if np.ndim(value) != 0 or not np.isclose(float(value), trained[key], rtol=1e-6):
            shown = "an array" if np.ndim(value) else value
            raise ModelMismatchError(
                f"this {model.method!r} model was trained for {problem} with {key}="
                f"{trained[key]}; got {key}={shown}")
