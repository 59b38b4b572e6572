"""Training and evaluation of a neural operator on input/output field pairs.

Training goes through the shared :class:`sciml.learn.trainer.Trainer`; ``cls`` is the
:class:`~.solver.OperatorSolver` subclass that supplies the network.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from sciml.errors import InvalidOptionError
from sciml.learn.losses import RelativeH1, RelativeL2
from sciml.learn.normalizers import GaussianNormalizer
from sciml.learn.operator_data import load_operator_data
from sciml.problems import PDEProblem
from sciml.learn.trained_model import TrainedModel
from sciml.learn.trainer import Trainer, split_indices
from sciml.solver_base import check_options

from .prediction import check_params, predict_fields

_LOSSES = ("l2", "h1")


def _criteria(problem: type[PDEProblem], ndim: int) -> dict[str, Any]:
    # the H1 norm's differences wrap around on a periodic grid, are one-sided at edges else
    return {"l2": RelativeL2(), "h1": RelativeH1(ndim=ndim, periodic=problem.periodic)}


def train_operator(cls: Any, data: Any = None, **options: Any) -> TrainedModel:
    """Train on ``data`` (HDF5 path or ``(a, u)`` arrays) with the shared Trainer.

    Options: ``epochs``, ``seed``, ``batch_size``, ``lr`` (the OneCycle peak),
    ``weight_decay`` (Adam's L2 penalty, as in the MgNO paper), ``schedule``
    (``"onecycle"``, ``"step"``, ``"cosine"`` or None), ``loss`` (``"h1"`` or ``"l2"``,
    relative), ``val_fraction`` (held out for best-epoch selection by relative L2),
    ``max_samples``, ``problem``, ``split`` (of a file recording train/test splits),
    ``input_key``/``output_key``, ``checkpoint``/``resume``,
    ``progress``, ``device``, and the network options of :meth:`default_network`.
    """
    import torch  # noqa: PLC0415

    if data is None:
        raise InvalidOptionError(f"{cls.name!r} trains on data: pass data='file.h5' or "
                                 "data=(a, u)")
    pairs = load_operator_data(data, split=options.get("split", "train"),
                               problem=options.get("problem"),
                               input_key=options.get("input_key"),
                               output_key=options.get("output_key"),
                               max_samples=options.get("max_samples"))
    net_defaults = cls.default_network(pairs.problem.name)
    opts = check_options(cls.name, options, {**cls.train_defaults, **net_defaults})
    if opts["loss"] not in _LOSSES:
        raise InvalidOptionError(f"loss must be one of {_LOSSES}, got {opts['loss']!r}")
    config = {"problem": pairs.problem.name, "ndim": pairs.a.ndim - 1, "in_channels": 1,
              "out_channels": 1, "params": pairs.params,
              "train_grid": list(pairs.a.shape[1:]),
              "network": {k: opts[k] for k in net_defaults}}
    min_size = cls.min_grid(config)
    if min(pairs.a.shape[1:]) < min_size:
        raise InvalidOptionError(f"{cls.name!r} with these options needs grids of at "
                                 f"least {min_size} points per axis; the data have "
                                 f"{pairs.a.shape[1:]}")
    device = torch.device(opts["device"] or "cpu")
    torch.manual_seed(opts["seed"])
    network = cls.build_network(config).to(device)
    a, u = torch.from_numpy(pairs.a), torch.from_numpy(pairs.u)
    norms = {"a": GaussianNormalizer.fit(a), "u": GaussianNormalizer.fit(u)}
    inputs, targets = norms["a"].encode(a).unsqueeze(1), u.unsqueeze(1)
    normalizers = {k: v.state_dict() for k, v in norms.items()}
    n = len(inputs)
    n_val = int(round(opts["val_fraction"] * n)) if n > 1 else 0
    train_idx, val_idx = split_indices(n, [1 - n_val / n, n_val / n], seed=opts["seed"])
    val = (inputs[val_idx], targets[val_idx]) if n_val > 0 else None
    criteria = _criteria(pairs.problem, pairs.a.ndim - 1)
    decode = norms["u"].to(device).decode

    def loss(net: Any, batch: Any) -> Any:
        return criteria[opts["loss"]](decode(net(batch[0])), batch[1])

    def metric(net: Any, batch: Any) -> Any:
        return criteria["l2"](decode(net(batch[0])), batch[1])

    schedule = None if opts["schedule"] is None else (
        (opts["schedule"], {"max_lr": opts["lr"]}) if opts["schedule"] == "onecycle"
        else (opts["schedule"], {}))
    trainer = Trainer(network, loss, epochs=opts["epochs"], batch_size=opts["batch_size"],
                      optimizer=("adam", {"lr": opts["lr"],
                                          "weight_decay": opts["weight_decay"]}),
                      schedule=schedule, metric=metric, checkpoint=opts["checkpoint"],
                      resume=opts["resume"], seed=opts["seed"], progress=opts["progress"],
                      device=device,
                      extra_state={"config": config, "normalizers": normalizers})
    report = trainer.fit((inputs[train_idx], targets[train_idx]), val)
    network.eval()
    provenance = {
        "data": pairs.source, "data_attrs": pairs.attrs, "samples": n,
        "validation_samples": n_val, "seed": opts["seed"], "command": " ".join(sys.argv),
        "options": {k: v for k, v in opts.items() if isinstance(v, (int, float, str))},
        "torch": str(torch.__version__), "history": report.history,
    }
    metrics = {"best_epoch": report.best_epoch, "val_rel_l2": report.best_metric,
               "train_seconds": report.seconds}
    return TrainedModel(cls.name, network.cpu(), config, normalizers, provenance, metrics)


def evaluate_operator(cls: Any, model: Any, data: Any, **options: Any) -> dict[str, float]:
    """Relative L2 and H1 errors (means over samples) of ``model`` on ``data``.

    Options: ``batch_size``, ``device``, ``max_samples``, ``split`` (default ``"test"``
    for a file recording splits), ``input_key``, ``output_key``.
    """
    import torch  # noqa: PLC0415

    opts = check_options(cls.name, options, {"batch_size": 32, "device": None,
                                             "max_samples": None, "split": "test",
                                             "input_key": None, "output_key": None})
    model = cls.load_model(model)
    data = load_operator_data(data, split=opts["split"], problem=model.config["problem"],
                              input_key=opts["input_key"], output_key=opts["output_key"],
                              max_samples=opts["max_samples"])
    check_params(model, data.problem.name, data.params)
    pred = torch.from_numpy(predict_fields(cls, model, data.a, batch_size=opts["batch_size"],
                                        device=opts["device"]))
    true = torch.from_numpy(data.u.astype(np.float64))
    criteria = _criteria(data.problem, data.a.ndim - 1)
    return {"rel_l2": float(criteria["l2"](pred, true)),
            "rel_h1": float(criteria["h1"](pred, true))}

