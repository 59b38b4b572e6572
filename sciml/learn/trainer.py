"""One training loop for every learned method.

:class:`Trainer` owns what all learned methods share: seeding, batching, the optimiser and
its schedule, validation with best-epoch selection, a progress bar with the loss, atomic
checkpoints each epoch and resuming after a kill. A method supplies only its model, its loss
``loss(model, batch) -> scalar tensor`` and, optionally, a validation metric of the same
form (the loss is used when none is given) and extra state to save beside the weights
(configs, normalisers).

Under ``torchrun`` the same loop trains data-parallel (:mod:`sciml.learn.distributed`):
``batch_size`` stays the global batch, each rank takes its share of every global batch,
DDP averages the gradients (each rank's loss weighted by its share, so the step is the one
of a single process), the epoch's loss and validation metric are summed over the ranks so
every rank selects the same best epoch, rank 0 alone writes checkpoints and shows progress,
and a resume loads rank 0's checkpoint on every rank.

Options follow pyamg's ``(name, {kwargs})`` convention::

    Trainer(model, loss, epochs=100,
            optimizer=("adamw", {"lr": 1e-3, "weight_decay": 1e-4}),
            schedule=("onecycle", {"max_lr": 5e-4, "pct_start": 0.2}))
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..errors import InvalidOptionError
from ..io.checkpoint import load_checkpoint, save_checkpoint
from . import distributed
from .averaging import WeightAverage

Option = tuple[str, dict[str, Any]]
LossFn = Callable[[Any, Any], Any]


@dataclass
class TrainReport:
    """What a training run did: per-epoch history and the selected (best) epoch."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_metric: float = float("inf")
    seconds: float = 0.0
    resumed_from_epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, saved inside checkpoints."""
        return asdict(self)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for a reproducible run."""
    import torch  # noqa: PLC0415

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _make_optimizer(spec: Option, params: Any) -> Any:
    import torch  # noqa: PLC0415

    name, kwargs = spec
    classes = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    if name not in classes:
        raise InvalidOptionError(f"unknown optimizer {name!r}; expected one of {sorted(classes)}")
    return classes[name](params, **kwargs)


def _make_schedule(spec: Option | None, optimizer: Any, epochs: int) -> Any:
    """An LR schedule stepped once per epoch (None keeps the rate constant)."""
    import torch  # noqa: PLC0415

    if spec is None:
        return None
    name, kwargs = spec
    if name == "onecycle":
        base_lr = optimizer.param_groups[0]["lr"]
        options = {"max_lr": base_lr, "pct_start": 0.2, "div_factor": 2.0,
                   "final_div_factor": 100.0, **kwargs}
        total = max(epochs, 3)
        # torch needs 1 < pct_start * total < total - 1 (else it divides by zero); short
        # runs get a warm-up of at least 1.5 epochs
        options["pct_start"] = min(max(options["pct_start"], 1.5 / total), 0.5)
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, total_steps=total, **options)
    if name == "step":
        options = {"step_size": max(epochs // 4, 1), "gamma": 0.5, **kwargs}
        return torch.optim.lr_scheduler.StepLR(optimizer, **options)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, **kwargs)
    raise InvalidOptionError(
        f"unknown schedule {name!r}; expected 'onecycle', 'step', 'cosine' or None")


class Trainer:
    """Train ``model`` by minimising ``loss(model, batch)``.

    Parameters
    ----------
    model
        A ``torch.nn.Module``.
    loss
        ``loss(model, batch) -> scalar tensor``; ``batch`` is what the data loader yields.
    epochs
        Number of passes over the training data.
    batch_size
        Samples per optimiser step: the global batch when several processes train (it must
        then be divisible by their number; each takes ``batch_size / world_size``).
    optimizer, schedule
        ``(name, kwargs)`` pairs, see the module docstring; schedules step once per epoch.
    metric
        Validation metric ``metric(model, batch) -> scalar`` averaged over validation
        batches (weighted by batch size); defaults to ``loss``. The epoch with the lowest
        value is selected and its weights are loaded at the end.
    checkpoint
        Path of the checkpoint written atomically after every epoch, or None.
    resume
        Continue from ``checkpoint`` when it exists. Resuming needs the checkpoint's recorded
        run to match this one: the settings (``epochs``, ``batch_size``, ``optimizer``,
        ``schedule``, ``seed``, ``grad_clip``, ``ema``, the number of processes and the
        caller's ``settings``) and the data
        fingerprint (SHA-256 of the training and validation tensors' bytes); otherwise
        :class:`~sciml.errors.InvalidOptionError` names what differs. ``False`` ignores
        (and overwrites) an existing checkpoint.
    extra_state
        Plain data saved in every checkpoint (configs, normalisers, provenance).
    settings
        Plain data describing the run beyond the loop's own settings (network config,
        loss, ...), compared on resume.
    seed
        Seeds the initialisation-independent randomness: batch order and torch's RNG.
    progress
        Show a tqdm bar with the training loss and the validation metric.
    grad_clip
        Optional maximum gradient norm.
    ema
        Optional decay of an exponential moving average of the weights
        (:class:`~sciml.learn.averaging.WeightAverage`, updated after every optimiser step):
        validation, best-epoch selection and the final model then use the averaged
        weights, and the optimiser keeps training the raw ones. Without validation data the
        epoch is still chosen by the raw weights' training loss.
    """

    def __init__(self, model: Any, loss: LossFn, *, epochs: int, batch_size: int = 8,
                 optimizer: Option = ("adam", {"lr": 1e-3}), schedule: Option | None = None,
                 metric: LossFn | None = None, checkpoint: str | os.PathLike[str] | None = None,
                 resume: bool = True, extra_state: dict[str, Any] | None = None, seed: int = 0,
                 progress: bool = True, grad_clip: float | None = None,
                 ema: float | None = None, device: Any = None,
                 settings: dict[str, Any] | None = None) -> None:
        if epochs < 1:
            raise InvalidOptionError(f"epochs must be >= 1, got {epochs}")
        if batch_size < 1:
            raise InvalidOptionError(f"batch_size must be >= 1, got {batch_size}")
        self.ranks = distributed.ranks()
        if batch_size % self.ranks.world_size:
            raise InvalidOptionError(
                f"batch_size {batch_size} is the global batch and must be divisible by the "
                f"{self.ranks.world_size} training processes (each takes an equal share); "
                f"choose a multiple of {self.ranks.world_size}")
        self.model = model
        self.loss = loss
        self.metric = metric or loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = _make_optimizer(optimizer, model.parameters())
        self.schedule = _make_schedule(schedule, self.optimizer, epochs)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.resume = resume
        self.extra_state = dict(extra_state or {})
        self.seed = seed
        self.progress = progress
        self.grad_clip = grad_clip
        self.average = None if ema is None else WeightAverage(model, ema)
        self.device = device
        self.report = TrainReport()
        self._best_state: dict[str, Any] | None = None
        self.settings = {"epochs": epochs, "batch_size": batch_size,
                         "optimizer": list(optimizer),
                         "schedule": None if schedule is None else list(schedule),
                         "seed": seed, "grad_clip": grad_clip,
                         "world_size": self.ranks.world_size, **(settings or {})}
        if ema is not None:     # absent otherwise: checkpoints from before the option resume
            self.settings["ema"] = ema
        self._run: dict[str, str] = {}

    # -- data ---------------------------------------------------------------------------
    def _batches(self, data: Any, shuffle: bool, epoch: int) -> Iterator[tuple[Any, Any]]:
        """``(batch, share)``: this rank's part of each global batch (all of it in one
        process), in the order of a shuffled ``DataLoader`` seeded by seed and epoch."""
        import torch  # noqa: PLC0415
        from torch.utils.data import Dataset, TensorDataset, default_collate  # noqa: PLC0415

        if isinstance(data, torch.Tensor):
            data = TensorDataset(data)
        elif isinstance(data, (tuple, list)):
            data = TensorDataset(*data)
        if not isinstance(data, Dataset):
            raise TypeError("training data must be a torch Dataset, a tensor or a tuple of "
                            f"tensors; got {type(data).__name__}")
        batches = distributed.RankBatches(len(data), self.batch_size, shuffle=shuffle,
                                          seed=self.seed * 100_003, here=self.ranks)
        batches.set_epoch(epoch)
        for share in batches:
            if isinstance(data, TensorDataset):
                batch = [tensor[share.indices] for tensor in data.tensors]
            else:
                batch = default_collate([data[i] for i in share.indices])
            yield batch, share

    def _to_device(self, batch: Any) -> Any:
        if self.device is None:
            return batch
        if isinstance(batch, (tuple, list)):
            return type(batch)(b.to(self.device) for b in batch)
        return batch.to(self.device)

    # -- checkpoints ----------------------------------------------------------------------
    def _state(self, epoch: int) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": None if self.schedule is None else self.schedule.state_dict(),
            "best_model": self._best_state,
            "average": None if self.average is None else self.average.state_dict(),
            "report": self.report.to_dict(),
            "extra": self.extra_state,
            "run": self._run,
        }

    def _record_run(self, train_data: Any, val_data: Any) -> None:
        """Plain-text form of the settings and the data fingerprint, kept in checkpoints."""
        digest = hashlib.sha256()
        for part in (train_data, val_data):
            for tensor in _tensors(part):
                digest.update(str(tuple(tensor.shape)).encode())
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        self._run = {key: json.dumps(value, sort_keys=True, default=str)
                     for key, value in self.settings.items()}
        self._run["data"] = digest.hexdigest()

    def _check_run(self, recorded: dict[str, str]) -> None:
        differing = [key for key in sorted(set(recorded) | set(self._run))
                     if recorded.get(key) != self._run.get(key)]
        if not differing:
            return
        described = "; ".join(
            "the training data differ (another file, split, sample count or content)"
            if key == "data" else
            f"{key}: checkpoint {recorded.get(key, 'unset')}, now {self._run.get(key, 'unset')}"
            for key in differing)
        hint = (" (a finished run cannot be extended: train again from the start)"
                if "epochs" in differing else
                " (resume with as many processes as the checkpoint's run: torchrun "
                f"--nproc_per_node={json.loads(recorded['world_size'])})"
                if "world_size" in differing and "world_size" in recorded else "")
        raise InvalidOptionError(
            f"checkpoint {self.checkpoint} was written by another training run ({described})"
            f"{hint}; pass resume=False (--no-resume) to start afresh and overwrite it, or "
            "use another checkpoint path")

    def _check_ranks_agree(self) -> None:
        """Every rank trains the same run: the settings and data of rank 0."""
        runs = distributed.gather(self._run)
        for rank, run in enumerate(runs):
            differing = sorted(key for key in set(run) | set(runs[0])
                               if run.get(key) != runs[0].get(key))
            if differing:
                raise InvalidOptionError(
                    f"training process {rank} has other settings or data than process 0 "
                    f"({', '.join(differing)} differ); every process must read the same "
                    "data with the same options")

    def _read_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint's state if resuming (None when there is none to resume)."""
        if not (self.resume and self.checkpoint is not None and self.checkpoint.exists()):
            return None
        state = load_checkpoint(self.checkpoint)
        if state.get("kind") == "model":
            raise InvalidOptionError(f"checkpoint {self.checkpoint} is a saved model, not a "
                                     "training checkpoint; give another checkpoint path")
        self._check_run(state.get("run", {}))
        return state

    def _try_resume(self) -> int:
        """Load the checkpoint if resuming (rank 0 reads it and sends it to every rank);
        return the first epoch still to run."""
        state = distributed.agree(self._read_checkpoint, main_only=True)
        if state is None:
            return 0
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.schedule is not None and state["schedule"] is not None:
            self.schedule.load_state_dict(state["schedule"])
        self._best_state = state["best_model"]
        if self.average is not None:
            self.average.load_state_dict(state["average"])
        self.report = TrainReport(**state["report"])
        self.report.resumed_from_epoch = state["epoch"]
        return state["epoch"] + 1

    # -- the loop -------------------------------------------------------------------------
    def _evaluate(self, data: Any) -> float:
        import torch  # noqa: PLC0415

        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for batch, share in self._batches(data, shuffle=False, epoch=0):
                if share.count:
                    batch = self._to_device(batch)
                    total += float(self.metric(self.model, batch)) * share.count
                    count += share.count
        total, count = distributed.all_sum([total, count])
        return total / max(count, 1)

    def fit(self, train_data: Any, val_data: Any = None) -> TrainReport:
        """Train; validate each epoch on ``val_data`` (or the training loss); keep the best.

        Returns the :class:`TrainReport`; the model holds the best epoch's weights after.
        """
        import torch  # noqa: PLC0415
        from tqdm.auto import tqdm  # noqa: PLC0415

        seed_everything(self.seed)
        distributed.setup(self.device if self.device is not None else "cpu")
        self._record_run(train_data, val_data)
        self._check_ranks_agree()
        start_epoch = self._try_resume()
        step_loss = distributed.data_parallel(self.model, self.loss, self.device or "cpu")
        start = time.perf_counter() - self.report.seconds
        bar = tqdm(range(start_epoch, self.epochs), initial=start_epoch, total=self.epochs,
                   desc="training", unit="epoch",
                   disable=not (self.progress and self.ranks.main))
        for epoch in bar:
            torch.manual_seed(self.seed * 100_003 + epoch)
            self.model.train()
            epoch_start = time.perf_counter()
            total, count = 0.0, 0
            for batch, share in self._batches(train_data, shuffle=True, epoch=epoch):
                batch = self._to_device(batch)
                self.optimizer.zero_grad(set_to_none=True)
                value = step_loss(batch)
                if not torch.isfinite(value):
                    raise FloatingPointError(
                        f"training loss became {float(value)} at epoch {epoch}; lower the "
                        "learning rate or check the data")
                self._backward(value, share)
                if self.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
                self.optimizer.step()
                if self.average is not None:
                    self.average.update(self.model)
                total += value.item() * share.count
                count += share.count
            lr = self.optimizer.param_groups[0]["lr"]
            if self.schedule is not None:
                self.schedule.step()
            total, count = distributed.all_sum([total, count])
            train_loss = total / max(count, 1)
            with self._evaluated_weights():
                val = self._evaluate(val_data) if val_data is not None else train_loss
                self.report.history.append({"epoch": epoch, "train_loss": train_loss,
                                            "val_metric": val, "lr": lr,
                                            "seconds": time.perf_counter() - epoch_start})
                if val < self.report.best_metric:
                    self.report.best_metric, self.report.best_epoch = val, epoch
                    self._best_state = copy.deepcopy(self.model.state_dict())
            self.report.seconds = time.perf_counter() - start
            bar.set_postfix(loss=f"{train_loss:.3e}", val=f"{val:.3e}")
            if self.checkpoint is not None and self.ranks.main:
                save_checkpoint(self.checkpoint, self._state(epoch))
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        return self.report

    def _evaluated_weights(self) -> Any:
        """The weights validation sees and the best epoch keeps: the average, if any."""
        return contextlib.nullcontext() if self.average is None else self.average.applied(
            self.model)

    def _backward(self, value: Any, share: Any) -> None:
        """Backpropagate this rank's loss, weighted so that DDP's gradient average over the
        ranks is the gradient of the global batch's mean loss (the weight is 1 in one
        process and whenever the shares are equal)."""
        weight = self.ranks.world_size * share.count / share.global_size
        if not self.ranks.distributed:
            value.backward()
            return
        try:
            (value if weight == 1 else value * weight).backward()
        except RuntimeError as exc:  # the gradient all-reduce lost a rank or timed out
            raise distributed.collective_failure("averaging the gradients", exc) from exc


def _tensors(data: Any) -> list[Any]:
    """The tensors of a training-data argument (a tensor, a tuple of them, a dataset)."""
    import torch  # noqa: PLC0415

    if data is None:
        return []
    if isinstance(data, torch.Tensor):
        return [data]
    if isinstance(data, (tuple, list)):
        return [t for t in data if isinstance(t, torch.Tensor)]
    return [t for t in getattr(data, "tensors", ()) if isinstance(t, torch.Tensor)]


def split_indices(n: int, fractions: Sequence[float], seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it into parts of the given fractions."""
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.cumsum([int(round(f * n)) for f in fractions[:-1]])
    return np.split(order, cuts)
