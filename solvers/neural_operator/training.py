"""Training and evaluation of a neural operator on input/output field pairs.

Training goes through the shared :class:`sciml.learn.trainer.Trainer`; ``cls`` is the
:class:`~.solver.OperatorSolver` subclass that supplies the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sciml.errors import InvalidOptionError
from sciml.learn.losses import FourierH1, RelativeH1, RelativeL2
from sciml.learn.normalizers import GaussianNormalizer
from sciml.learn.operator_data import load_operator_data
from sciml.problems import PDEProblem
from sciml.learn.trained_model import TrainedModel, check_params
from sciml.learn.trainer import Trainer
from sciml.learn.vocabulary import (
    finish_checkpoint,
    parse_training_options,
    plain_record,
    training_command,
)
from sciml.solver_base import check_options

from .prediction import exact_boundary, predict_fields

_LOSSES = ("l2", "h1", "h1_fd")


def _criteria(problem: type[PDEProblem], ndim: int) -> dict[str, Any]:
    # the finite-difference H1 norm's differences wrap around on a periodic grid, are
    # one-sided at edges else; it is also the reported ``rel_h1`` metric
    return {"l2": RelativeL2(), "h1": FourierH1(ndim=ndim),
            "h1_fd": RelativeH1(ndim=ndim, periodic=problem.periodic)}


#: the options of operator training beyond the shared vocabulary, with their defaults
TRAIN_EXTRAS: dict[str, Any] = {"loss": "l2", "problem": None, "split": "train",
                                "input_key": None, "output_key": None,
                                "exact_boundary": True}
#: the shared options' defaults of every operator (the MgNO paper's recipe, with a larger
#: peak learning rate for short CPU runs, and validation and the final model on a moving
#: average of the weights, which takes the spikes of OneCycle's high-rate epochs out of the
#: validation curve: benchmarks/RESULTS.md, "a moving average of the weights")
TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 20, "batch_size": 8, "val_fraction": 0.1,
    "optimizer": ("adam", {"lr": 1e-3, "weight_decay": 1e-4}),
    "schedule": ("onecycle", {}), "ema": 0.99,
}


def operator_networks(cls: Any, problem: str | None) -> dict[str, dict[str, Any]]:
    """The one network kind of an operator (its name) and its options for ``problem``."""
    return {cls.name: cls.default_network(problem or next(iter(cls.networks)))}


def train_operator(cls: Any, data: Any = None, **options: Any) -> TrainedModel:
    """Train on ``data`` (HDF5 path or ``(a, u)`` arrays) with the shared Trainer.

    Options: the shared vocabulary (:mod:`sciml.learn.vocabulary`; defaults
    :data:`TRAIN_DEFAULTS`: Adam with weight decay as in the MgNO paper, OneCycle peaking
    at ``lr``, validation and the returned weights on their moving average ``ema=0.99``
    (``ema=None``: the raw weights, as the papers), with the method's ``training_defaults``
    for the data's problem on top), the network's options (``network=(name, {...})`` or
    flat), and ``loss`` (``"h1"`` or ``"l2"``, relative), ``problem``, ``split`` (of a
    file recording train/test splits; an unknown name is refused),
    ``input_key``/``output_key``, and ``exact_boundary`` (default True: on a problem with
    zero Dirichlet values, such as Darcy, the prediction's outermost grid points are set to
    exactly zero, in training and in prediction; False predicts them, as the MgNO and FNO
    papers do).
    ``val_fraction`` is held out for best-epoch selection by relative L2.
    """
    import torch  # noqa: PLC0415

    if data is None:
        raise InvalidOptionError(f"{cls.name!r} trains on data: pass data='file.h5' or "
                                 "data=(a, u)")
    opts = parse_training_options(cls.name, options, defaults=TRAIN_DEFAULTS,
                                  extras=TRAIN_EXTRAS, networks=operator_networks(cls, None))
    extra = opts.extra
    pairs = load_operator_data(data, split=extra["split"],
                               problem=options.get("problem"),
                               input_key=extra["input_key"],
                               output_key=extra["output_key"],
                               max_samples=opts.samples)
    defaults = {**TRAIN_DEFAULTS, **cls.training_defaults.get(pairs.problem.name, {})}
    opts = parse_training_options(cls.name, options, defaults=defaults, extras=TRAIN_EXTRAS,
                                  networks=operator_networks(cls, pairs.problem.name))
    if extra["loss"] not in _LOSSES:
        raise InvalidOptionError(f"loss must be one of {_LOSSES}, got {extra['loss']!r}")
    config = {"problem": pairs.problem.name, "ndim": pairs.a.ndim - 1, "in_channels": 1,
              "out_channels": 1, "params": pairs.params,
              "train_grid": list(pairs.a.shape[1:]),
              "exact_boundary": bool(extra["exact_boundary"]) and pairs.problem.zero_boundary,
              "network": dict(opts.network[1])}
    min_size = cls.min_grid(config)
    if min(pairs.a.shape[1:]) < min_size:
        raise InvalidOptionError(f"{cls.name!r} with these options needs grids of at "
                                 f"least {min_size} points per axis; the data have "
                                 f"{pairs.a.shape[1:]}")
    device = opts.torch_device()
    network = opts.build_network(cls, config)
    a, u = torch.from_numpy(pairs.a), torch.from_numpy(pairs.u)
    norms = {"a": GaussianNormalizer.fit(a), "u": GaussianNormalizer.fit(u)}
    inputs, targets = norms["a"].encode(a).unsqueeze(1), u.unsqueeze(1)
    normalizers = {k: v.state_dict() for k, v in norms.items()}
    n = len(inputs)
    train_idx, val_idx = opts.validation_split(n)
    n_val = len(val_idx)
    val = (inputs[val_idx], targets[val_idx]) if n_val > 0 else None
    criteria = _criteria(pairs.problem, pairs.a.ndim - 1)
    norm_u = norms["u"].to(device)

    def decode(output: Any) -> Any:
        return exact_boundary(norm_u.decode(output), config)

    def loss(net: Any, batch: Any) -> Any:
        return criteria[extra["loss"]](decode(net(batch[0])), batch[1])

    def metric(net: Any, batch: Any) -> Any:
        return criteria["l2"](decode(net(batch[0])), batch[1])

    trainer = Trainer(network, loss, epochs=opts.epochs, batch_size=opts.batch_size,
                      optimizer=opts.optimizer, schedule=opts.schedule, ema=opts.ema,
                      metric=metric,
                      checkpoint=opts.checkpoint, resume=opts.resume, seed=opts.seed,
                      progress=opts.progress, device=device,
                      extra_state={"config": config, "normalizers": normalizers},
                      settings={"config": config, "loss": extra["loss"],
                                "val_fraction": opts.val_fraction})
    report = trainer.fit((inputs[train_idx], targets[train_idx]), val)
    finish_checkpoint(opts)
    network.eval()
    provenance = {
        "data": pairs.source, "data_attrs": pairs.attrs, "samples": n,
        "validation_samples": n_val, "seed": opts.seed,
        "command": training_command(cls.name, data, options),
        "options": plain_record(opts),
        "torch": str(torch.__version__), "history": report.history,
    }
    metrics = {"best_epoch": report.best_epoch, "val_rel_l2": report.best_metric,
               "train_seconds": report.seconds}
    return TrainedModel(cls.name, network.cpu(), config, normalizers, provenance, metrics)


def evaluate_operator(cls: Any, model: Any, data: Any, **options: Any) -> dict[str, float]:
    """Relative L2 and H1 errors (means over samples) of ``model`` on ``data``.

    Options: ``batch_size``, ``device``, ``samples`` (the first ones only), ``split``
    (default ``"test"``; an unknown name is refused), ``input_key``, ``output_key``.
    """
    import torch  # noqa: PLC0415

    opts = check_options(cls.name, options, {"batch_size": 32, "device": None,
                                             "samples": None, "split": "test",
                                             "input_key": None, "output_key": None})
    model = cls.load_model(model)
    data = load_operator_data(data, split=opts["split"], problem=model.config["problem"],
                              input_key=opts["input_key"], output_key=opts["output_key"],
                              max_samples=opts["samples"])
    check_params(model, data.problem.name, data.params)
    pred = torch.from_numpy(predict_fields(cls, model, data.a, batch_size=opts["batch_size"],
                                        device=opts["device"]))
    true = torch.from_numpy(data.u.astype(np.float64))
    criteria = _criteria(data.problem, data.a.ndim - 1)
    return {"rel_l2": float(criteria["l2"](pred, true)),
            "rel_h1": float(criteria["h1_fd"](pred, true))}

