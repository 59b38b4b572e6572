"""The training vocabulary every learned method shares, declared and checked once.

:class:`TrainingOptions` holds the common options (``epochs, batch_size, seed, samples,
val_fraction, optimizer, schedule, ema, network, checkpoint, resume, keep_checkpoint,
progress, device``); a method declares only its own extra options and its network kinds, and
:func:`parse_training_options` splits the keyword arguments of ``sciml.train`` into the
three, validated, with a specific :class:`~sciml.errors.InvalidOptionError` for each mistake.

Two conveniences, and only these:

* ``lr=`` and ``weight_decay=`` are shorthands for the optimiser's options
  (``optimizer=("adam", {"lr": ...})``); a string ``optimizer="sgd"`` or ``schedule="step"``
  means ``(name, {})``; ``schedule=None`` (or ``"none"``) keeps the rate constant.
* A keyword that names an option of the chosen network kind goes into that kind's options:
  ``channels=32`` means ``network=(kind, {"channels": 32})``.

The device default is the same for every method: CUDA when torch sees a GPU, else CPU
(:func:`sciml.backend.torch_device`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from ..errors import InvalidOptionError
from .averaging import check_decay

Spec = tuple[str, dict[str, Any]]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("onecycle", "step", "cosine")
#: optimiser options that may be given flat (``lr=1e-3``)
OPTIMIZER_SHORTHANDS = ("lr", "weight_decay")


@dataclass(frozen=True)
class TrainingOptions:
    """The common training options (see the module docstring for their conventions).

    Attributes
    ----------
    epochs, batch_size
        Passes over the training data (>= 1) and samples per optimiser step (>= 1).
    seed
        Seeds data order, initialisation and any generated data.
    samples
        Use (or generate) this many samples (>= 1), or None for all.
    val_fraction
        Part of the samples held out for best-epoch selection, ``0 <= f < 1``.
    optimizer, schedule
        ``(name, {options})`` pairs; ``schedule`` None keeps the rate constant.
    ema
        Decay of the moving average of the weights that validation and the final model
        use (:class:`~sciml.learn.averaging.WeightAverage`), or None for the raw weights.
    network
        ``(kind, {options})`` of the network; the kind's declared defaults fill the rest.
    checkpoint, resume, keep_checkpoint
        Checkpoint path written each epoch; resume it when its settings and data match
        (``resume=False`` starts afresh); keep it after success instead of removing it.
    progress
        Show a progress bar.
    device
        Torch device name, or None for CUDA when available, else CPU.
    """

    epochs: int = 20
    batch_size: int = 8
    seed: int = 0
    samples: int | None = None
    val_fraction: float = 0.1
    optimizer: Spec = ("adam", {"lr": 1e-3})
    schedule: Spec | None = ("onecycle", {})
    ema: float | None = None
    network: Spec = ("", {})
    checkpoint: str | None = None
    resume: bool = True
    keep_checkpoint: bool = False
    progress: bool = True
    device: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lr(self) -> float:
        """The optimiser's (peak) learning rate."""
        return float(self.optimizer[1].get("lr", 1e-3))

    def torch_device(self) -> Any:
        """The resolved ``torch.device`` (see :func:`sciml.backend.torch_device`); under
        torchrun a CUDA device is this process's GPU (:func:`~sciml.learn.distributed.rank_device`)."""
        from ..backend import torch_device  # noqa: PLC0415
        from .distributed import rank_device  # noqa: PLC0415

        return rank_device(torch_device(self.device))

    def build_network(self, cls: Any, config: dict[str, Any]) -> Any:
        """``cls.build_network(config)`` seeded with :attr:`seed`, on :meth:`torch_device`;
        a network option the builder rejects becomes an :class:`InvalidOptionError`."""
        import torch  # noqa: PLC0415

        torch.manual_seed(self.seed)
        try:
            return cls.build_network(config).to(self.torch_device())
        except (TypeError, ValueError) as exc:
            raise InvalidOptionError(f"bad network options {config.get('network')}: "
                                     f"{exc}") from exc

    def validation_split(self, n: int) -> tuple[Any, Any]:
        """Indices of the training and validation samples of ``n``: :attr:`val_fraction` of
        them (rounded, none when ``n == 1``) held out, shuffled with :attr:`seed`."""
        from .trainer import split_indices  # noqa: PLC0415

        n_val = int(round(self.val_fraction * n)) if n > 1 else 0
        train_idx, val_idx = split_indices(n, [1 - n_val / n, n_val / n], seed=self.seed)
        return train_idx, val_idx

    def as_record(self) -> dict[str, Any]:
        """Plain data for provenance and checkpoint settings."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out


COMMON = tuple(f.name for f in fields(TrainingOptions) if f.name != "extra")


def _spec(name: str, value: Any, known: tuple[str, ...] | None) -> Spec | None:
    if value is None or value == "none":
        return None
    if isinstance(value, str):
        value = (value, {})
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not isinstance(value[0], str) or not isinstance(value[1], Mapping)):
        raise InvalidOptionError(f"{name} must be (name, {{options}}) or a name; got {value!r}")
    if known is not None and value[0] not in known:
        raise InvalidOptionError(f"unknown {name} {value[0]!r}; expected one of {list(known)}")
    return value[0], dict(value[1])


def _integer(name: str, value: Any, minimum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOptionError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidOptionError(f"{name} must be >= {minimum}, got {value}")
    return value


def _finite(name: str, value: Any, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise InvalidOptionError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _check_type(name: str, value: Any, default: Any) -> None:
    """A value of the declared default's kind (bool, int, float or str); others unchecked."""
    if value is None or default is None:
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value))
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, (tuple, list)):
        ok = isinstance(value, (tuple, list))
    else:
        return
    if not ok:
        raise InvalidOptionError(f"{name} must be {type(default).__name__} like its default "
                                 f"{default!r}; got {value!r}")


def _validate(o: TrainingOptions) -> TrainingOptions:
    _integer("epochs", o.epochs, 1)
    _integer("batch_size", o.batch_size, 1)
    _integer("seed", o.seed, 0)
    if o.samples is not None:
        _integer("samples", o.samples, 1)
    if (isinstance(o.val_fraction, bool) or not isinstance(o.val_fraction, (int, float))
            or not 0 <= o.val_fraction < 1):
        raise InvalidOptionError(f"val_fraction must be in [0, 1), got {o.val_fraction!r} "
                                 "(at least one sample must stay for training)")
    for key in OPTIMIZER_SHORTHANDS:
        if key in o.optimizer[1]:
            _finite(f"{key} (learning rate)" if key == "lr" else key, o.optimizer[1][key],
                    positive=key == "lr")
    if o.schedule is not None and "max_lr" in o.schedule[1]:
        _finite("max_lr", o.schedule[1]["max_lr"], positive=True)
    check_decay(o.ema)
    for key in ("resume", "keep_checkpoint", "progress"):
        if not isinstance(getattr(o, key), bool):
            raise InvalidOptionError(f"{key} must be True or False, got {getattr(o, key)!r}")
    if o.checkpoint is not None and not isinstance(o.checkpoint, (str, os.PathLike)):
        raise InvalidOptionError(f"checkpoint must be a path or None, got {o.checkpoint!r}")
    if o.device is not None and not isinstance(o.device, str):
        raise InvalidOptionError(f"device must be a name such as 'cpu' or 'cuda', got "
                                 f"{o.device!r}")
    return o


def parse_training_options(method: str, options: Mapping[str, Any], *,
                           defaults: Mapping[str, Any],
                           extras: Mapping[str, Any],
                           networks: Mapping[str, Mapping[str, Any]]) -> TrainingOptions:
    """Split and check ``sciml.train`` keywords of ``method``.

    Parameters
    ----------
    method
        The method's registry name (for messages).
    options
        The user's keywords: common options, their shorthands, the method's ``extras``
        and (flat) options of the network kind.
    defaults
        The method's defaults of common options (e.g. ``{"schedule": ("cosine", {})}``).
    extras
        The method's own options and their defaults (e.g. ``{"loss": "h1"}``).
    networks
        Network kind -> its options and defaults; the first kind is the default.

    Returns
    -------
    TrainingOptions
        With ``network`` completed by the kind's defaults and ``extra`` holding the
        method's own options.
    """
    options = dict(options)
    base = replace(TrainingOptions(), **{k: v for k, v in defaults.items() if k != "extra"})
    common = {k: options.pop(k) for k in COMMON if k in options}
    optimizer = _spec("optimizer", common.pop("optimizer", base.optimizer), OPTIMIZERS)
    if optimizer is None:
        raise InvalidOptionError("optimizer cannot be None; expected one of "
                                 f"{list(OPTIMIZERS)}")
    if optimizer[0] == base.optimizer[0]:       # the method's defaults fill the rest
        optimizer = (optimizer[0], {**base.optimizer[1], **optimizer[1]})
    for key in OPTIMIZER_SHORTHANDS:
        if key in options:
            optimizer[1][key] = options.pop(key)
    schedule = _spec("schedule", common.pop("schedule", base.schedule), SCHEDULES)
    kind, net_options = _spec("network", common.pop("network", (next(iter(networks)), {})),
                              tuple(networks)) or (None, {})
    if kind is None:
        raise InvalidOptionError(f"network cannot be None; {method!r} has kinds "
                                 f"{list(networks)}")
    declared = dict(networks[kind])
    for key in list(options):
        if key in declared:
            net_options[key] = options.pop(key)
    unknown = sorted(set(net_options) - set(declared))
    if unknown:
        raise InvalidOptionError(f"network {kind!r} of {method!r} has no option "
                                 f"{unknown[0]!r}; its options are: {', '.join(declared)}")
    extra = dict(extras)
    for key in list(options):
        if key in extra:
            extra[key] = options.pop(key)
    for key, value in net_options.items():
        _check_type(f"network {kind!r} option {key!r}", value, declared[key])
    for key in extras:
        _check_type(f"option {key!r}", extra[key], extras[key])
    if options:
        accepted = sorted({*COMMON, *OPTIMIZER_SHORTHANDS, *extras, *declared})
        raise InvalidOptionError(
            f"method {method!r} does not accept training option {next(iter(options))!r}; its "
            f"options are: {', '.join(accepted)}")
    if "checkpoint" in common and common["checkpoint"] is not None:
        common["checkpoint"] = os.fspath(common["checkpoint"])
    result = replace(base, **common, optimizer=optimizer, schedule=schedule,
                     network=(kind, {**declared, **net_options}), extra=extra)
    return _validate(result)


#: the command line of the running ``sciml train`` (set by :mod:`sciml.learn.train_cli`)
_COMMAND_LINE: list[str] = []


def training_command(method: str, data: Any, options: Mapping[str, Any]) -> str:
    """The command that made a model, for its provenance.

    The ``sciml train ...`` command line when run from the CLI, else a reconstruction of the
    Python call, e.g. ``sciml.train('mgno', data='d.h5', epochs=20)`` (arrays show as
    ``<array (8, 9, 9)>``).
    """
    if _COMMAND_LINE:
        return _COMMAND_LINE[-1]

    def shown(value: Any) -> str:
        if hasattr(value, "shape"):
            return f"<array {tuple(value.shape)}>"
        if isinstance(value, (tuple, list)) and any(hasattr(v, "shape") for v in value):
            return "(" + ", ".join(shown(v) for v in value) + ")"
        return repr(os.fspath(value) if isinstance(value, os.PathLike) else value)

    args = [repr(method), f"data={shown(data)}",
            *(f"{key}={shown(value)}" for key, value in options.items())]
    return f"sciml.train({', '.join(args)})"


def plain_record(options: TrainingOptions) -> dict[str, Any]:
    """The options as JSON-able plain data (for provenance)."""
    import json  # noqa: PLC0415

    return json.loads(json.dumps(options.as_record(), default=str))


def finish_checkpoint(options: TrainingOptions) -> None:
    """Remove the training checkpoint after success unless ``keep_checkpoint`` (rank 0
    alone, the process that writes it, when several train)."""
    from .distributed import ranks  # noqa: PLC0415

    if options.checkpoint is not None and not options.keep_checkpoint and ranks().main:
        from pathlib import Path  # noqa: PLC0415

        Path(options.checkpoint).unlink(missing_ok=True)
