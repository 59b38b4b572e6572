"""Training and evaluating DGNO models with the shared Trainer and training vocabulary.

``sciml.train("dgno", data="twophase_train.h5", epochs=..., seed=0)`` reads only the
coefficients ``a`` of the file for the default objective (``"weak"``, DGNO itself) and for
``"strong_fd"`` (the physics-informed baseline); ``"supervised"`` reads the solutions too.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from sciml.errors import DataFileError, InvalidOptionError
from sciml.learn.losses import RelativeL2
from sciml.learn.trained_model import TrainedModel
from sciml.learn.trainer import Trainer
from sciml.learn.vocabulary import (
    finish_checkpoint,
    parse_training_options,
    plain_record,
    training_command,
)
from sciml.problems import DarcyFlow, problem_type_for_generator
from sciml.solver_base import check_options

from .model import DECODERS, NETWORK_DEFAULTS, DGNONetwork, coefficient_family
from .objectives import WeakFormSettings, make_objective

#: the shared options' defaults for DGNO (batch 25 and Adam as in the paper; the paper's
#: constant 5e-4 over 1000 epochs is replaced by a cosine decay from 2e-3 for short runs)
TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 200, "batch_size": 25, "val_fraction": 0.05,
    "optimizer": ("adam", {"lr": 2e-3}), "schedule": ("cosine", {}),
}
#: DGNO's own training options and their defaults
TRAIN_EXTRAS: dict[str, Any] = {
    "objective": "weak", "split": "train", "centres": 100, "radius": 0.02, "quadrature": 7,
    "w_pde": 1.0, "w_data": 1.0, "augment": True, "f": None,
}
OBJECTIVES = tuple(DECODERS)
#: the validation metric's test functions are drawn once from this seed
VALIDATION_SEED = 12345


def _read_training_data(data: Any, split: str, objective: str, f: float | None,
                        samples: int | None) -> tuple[np.ndarray, np.ndarray | None, float,
                                                      str, dict[str, Any]]:
    """``a`` (and ``u`` for supervised training), the forcing, the source and its attrs.

    Only the fields the objective needs are read from a file: DGNO never opens ``u``.
    """
    from sciml.data import load  # noqa: PLC0415
    from sciml.io.datasets import read_info  # noqa: PLC0415
    from sciml.learn.operator_data import resolve_split  # noqa: PLC0415

    wanted = ["a", "u"] if objective == "supervised" else ["a"]
    if isinstance(data, (str, os.PathLike)):
        source = os.fspath(data)
        spec = read_info(source).spec
        if problem_type_for_generator(spec.generator, source) is not DarcyFlow:
            raise DataFileError(f"{source} holds {spec.generator!r} samples; DGNO trains on "
                                "Darcy data (sciml datagen darcy --family two-phase)")
        arrays = load(source, resolve_split(spec, split, source), n=None, fields=wanted)
        file_f = spec.parameters.get("f")
        if f is None:
            f = file_f
        elif file_f is not None and not np.isclose(f, file_f):
            raise InvalidOptionError(f"f={f} differs from the data's f={file_f}")
        attrs = {k: v for k, v in spec.parameters.items() if isinstance(v, (int, float, str))}
        attrs["seed"] = spec.seed
        a, u = arrays["a"], arrays.get("u")
    else:
        source, attrs = "arrays", {}
        if objective == "supervised":
            if not (isinstance(data, (tuple, list)) and len(data) == 2):
                raise InvalidOptionError("supervised training needs data=(a, u) arrays or a "
                                         "file")
            a, u = (np.asarray(x, dtype=np.float32) for x in data)
        else:
            a, u = np.asarray(data, dtype=np.float32), None
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] < 3:
        raise DataFileError(f"{source}: DGNO needs coefficients of shape (samples, s, s) "
                            f"with s >= 3; got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise DataFileError(f"{source}: the coefficients must be finite and positive")
    if u is not None and u.shape != a.shape:
        raise DataFileError(f"{source}: u has shape {u.shape}, a has {a.shape}")
    if samples is not None:
        a, u = a[:samples], None if u is None else u[:samples]
    f = DarcyFlow.default_parameters["f"] if f is None else float(f)
    return a, u, f, source, attrs


def train_dgno(cls: Any, data: Any = None, **options: Any) -> TrainedModel:
    """Train a DGNO model (or a baseline of its family) on Darcy coefficients.

    Parameters
    ----------
    data
        A sciml Darcy data set (only its ``a`` is read unless ``objective="supervised"``),
        or an array ``(samples, s, s)`` of coefficients (``(a, u)`` for supervised).
    **options
        The shared vocabulary (:mod:`sciml.learn.vocabulary`, defaults
        :data:`TRAIN_DEFAULTS`), the network options (:data:`.model.NETWORK_DEFAULTS`,
        flat or as ``network=("dgno", {...})``), and :data:`TRAIN_EXTRAS`:
        ``objective`` (``"weak"``: DGNO; ``"strong_fd"``: physics-informed DeepONet or
        MultiONet, with ``sum_layers=1`` for DeepONet; ``"supervised"``), ``split``,
        ``centres``, ``radius``, ``quadrature`` (n_c, R, m of the weak form), ``w_pde``,
        ``w_data`` (loss weights), ``augment`` (map each batch by a random rotation or
        reflection of the square, under which the problem is invariant; default True),
        ``f`` (the forcing for arrays; a file records its own).

    Returns
    -------
    TrainedModel
        Whose normalisers hold the mean and spread of the training set's latent codes
        (the inverse solver starts its restarts from them).
    """
    import torch  # noqa: PLC0415

    if data is None:
        raise InvalidOptionError("'dgno' trains on coefficients: pass data='file.h5' or "
                                 "data=a_array")
    opts = parse_training_options(cls.name, options, defaults=TRAIN_DEFAULTS,
                                  extras=TRAIN_EXTRAS, networks={"dgno": NETWORK_DEFAULTS})
    extra = opts.extra
    if extra["objective"] not in OBJECTIVES:
        raise InvalidOptionError(f"objective must be one of {OBJECTIVES}, got "
                                 f"{extra['objective']!r}")
    settings = WeakFormSettings(centres=extra["centres"], radius=extra["radius"],
                                quadrature=extra["quadrature"])
    _check_weak_settings(settings)
    a, u, f, source, attrs = _read_training_data(data, extra["split"], extra["objective"],
                                                 extra["f"], opts.samples)
    family, phases = coefficient_family(a)
    config = {"problem": "darcy", "grid": a.shape[1], "train_grid": list(a.shape[1:]),
              "objective": extra["objective"], "decoders": list(DECODERS[extra["objective"]]),
              "coefficient": family, "phases": phases, "a_mean": float(a.mean()),
              "a_std": float(a.std()) or 1.0, "params": {"f": f},
              "weak_form": dict(vars(settings)),
              "network": dict(opts.network[1])}
    device = opts.torch_device()
    network = opts.build_network(cls, config)
    tensors = [torch.from_numpy(a)] + ([] if u is None else [torch.from_numpy(u)])
    n = len(a)
    train_idx, val_idx = opts.validation_split(n)
    n_val = len(val_idx)
    fixed = settings.test_functions(torch.Generator().manual_seed(VALIDATION_SEED))
    weights = {"w_pde": extra["w_pde"], "w_data": extra["w_data"]}
    trainer = Trainer(network, make_objective(config, settings, **weights,
                                              augment=extra["augment"]),
                      metric=make_objective(config, settings, **weights, fixed_tests=fixed),
                      epochs=opts.epochs, batch_size=opts.batch_size,
                      optimizer=opts.optimizer, schedule=opts.schedule, ema=opts.ema,
                      checkpoint=opts.checkpoint, resume=opts.resume, seed=opts.seed,
                      progress=opts.progress, device=device,
                      extra_state={"config": config},
                      settings={"config": config, **weights, "augment": extra["augment"]})
    report = trainer.fit(tuple(t[train_idx] for t in tensors),
                         tuple(t[val_idx] for t in tensors) if n_val else None)
    finish_checkpoint(opts)
    network.eval()
    with torch.no_grad():
        codes = network.encode(tensors[0][train_idx].to(device)).cpu()
    provenance = {
        "data": source, "data_attrs": attrs, "samples": n, "validation_samples": n_val,
        "fields_read": ["a", "u"] if u is not None else ["a"], "seed": opts.seed,
        "command": training_command(cls.name, data, options), "options": plain_record(opts),
        "torch": str(torch.__version__), "history": report.history,
    }
    metrics = {"best_epoch": report.best_epoch, "val_loss": report.best_metric,
               "train_seconds": report.seconds}
    return TrainedModel(cls.name, network.cpu(), config,
                        {"latent": {"mean": codes.mean(0), "std": codes.std(0)}},
                        provenance, metrics)


def _check_weak_settings(settings: WeakFormSettings) -> None:
    if isinstance(settings.centres, bool) or not isinstance(settings.centres, int) \
            or settings.centres < 1:
        raise InvalidOptionError(f"centres must be an integer >= 1, got {settings.centres!r}")
    if not 0 < settings.radius < 0.5:
        raise InvalidOptionError(f"radius must be in (0, 0.5) so that the disks fit in the "
                                 f"unit square, got {settings.radius!r}")
    if isinstance(settings.quadrature, bool) or not isinstance(settings.quadrature, int) \
            or settings.quadrature < 2:
        raise InvalidOptionError(f"quadrature must be an integer >= 2 (points per side of "
                                 f"the grid in the unit disk), got {settings.quadrature!r}")


def evaluate_dgno(cls: Any, model: Any, data: Any, **options: Any) -> dict[str, float]:
    """Errors of ``model`` on a Darcy data set's split (default ``"test"``).

    Returns ``rel_l2`` (mean per-sample relative L2 of ``u`` against the stored reference)
    and, for models with a coefficient decoder, ``a_rel_l2`` of the reconstructed ``a`` and,
    for two-phase media, ``phase_accuracy`` (share of pixels in the right phase).
    Options: ``split``, ``samples``, ``batch_size``, ``device``.
    """
    import torch  # noqa: PLC0415

    from sciml.data import load  # noqa: PLC0415
    from sciml.io.datasets import read_info  # noqa: PLC0415
    from sciml.learn.operator_data import resolve_split  # noqa: PLC0415

    from .prediction import check_grid, predict  # noqa: PLC0415

    opts = check_options(cls.name, options, {"split": "test", "samples": None,
                                             "batch_size": 256, "device": None})
    model = cls.load_model(model)
    if not isinstance(data, (str, os.PathLike)):
        raise InvalidOptionError("evaluate needs a data set path (its stored u is the "
                                 "reference)")
    spec = read_info(data).spec
    arrays = load(data, resolve_split(spec, opts["split"], os.fspath(data)), n=opts["samples"],
                  fields=["a", "u"])
    check_grid(model, arrays["a"].shape[1:])
    file_f = spec.parameters.get("f")
    if file_f is not None and not np.isclose(file_f, model.config["params"]["f"]):
        raise InvalidOptionError(f"the model was trained for f={model.config['params']['f']}, "
                                 f"the data have f={file_f}")
    out = predict(model, arrays["a"], batch_size=opts["batch_size"], device=opts["device"])
    rel = RelativeL2()
    metrics = {"rel_l2": float(rel(torch.from_numpy(out["u"]),
                                   torch.from_numpy(arrays["u"].astype(np.float64))))}
    if "a" in out:
        true_a = torch.from_numpy(arrays["a"].astype(np.float64))
        metrics["a_rel_l2"] = float(rel(torch.from_numpy(out["a"]), true_a))
        if "phase_probability" in out:
            low, high = model.config["phases"]
            right = (out["phase_probability"] > 0.5) == (arrays["a"] > 0.5 * (low + high))
            metrics["phase_accuracy"] = float(right.mean())
    return metrics
