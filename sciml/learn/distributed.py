"""Data-parallel training across processes: the ranks, the process group and its collectives.

A run launched by ``torchrun --nproc_per_node=N`` (or ``python -m torch.distributed.run``)
sees ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` in its environment; :func:`ranks` reads
them and :func:`setup` joins the process group (gloo on CPU, NCCL on CUDA, one GPU per
local rank). Without those variables (or with ``WORLD_SIZE=1``) nothing here talks to
another process and the shared :class:`~sciml.learn.trainer.Trainer` runs as before.

Every collective waits at most :func:`timeout_seconds` (``SCIML_DIST_TIMEOUT``, default
60 s): a rank that died or hangs makes the others fail with a
:class:`~sciml.errors.DistributedError` (exit code 2 from the command line), never hang.

The batches: every rank forms the same global batches (the single-process loader's order
for the seed and epoch) and takes its contiguous share of each (:class:`RankBatches`), so
``N`` processes with a global batch ``B`` take the same optimiser steps as one process with
batch ``B``. torch's ``DistributedSampler`` would instead pad the last batch with repeated
samples.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterator, TypeVar

from ..errors import DistributedError, SciMLError, UsageError

#: environment variable of the collective timeout in seconds
TIMEOUT_VARIABLE = "SCIML_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    """Where this process stands among the training processes.

    Attributes
    ----------
    world_size
        Number of training processes (1 without torchrun).
    rank
        This process's global rank, ``0 <= rank < world_size``; rank 0 writes the files.
    local_rank
        Its rank on this machine (its GPU index on CUDA).
    """

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        """More than one process trains together."""
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """This process writes checkpoints, models and reports and shows the progress."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"environment variable {name}={text!r} is not an integer (torchrun "
                         "sets it; unset it to train in one process)") from None


def ranks() -> Ranks:
    """The ranks of this process, from torchrun's ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``.

    Raises
    ------
    UsageError
        Values that are not integers or out of range.
    """
    world, rank = _env_int("WORLD_SIZE", 1), _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world or local < 0:
        raise UsageError(f"WORLD_SIZE={world}, RANK={rank}, LOCAL_RANK={local} do not "
                         "describe a process group (expected 0 <= RANK < WORLD_SIZE)")
    return Ranks(world, rank, local)


def env_seconds(variable: str, default: float) -> float:
    """A timeout from the environment: ``variable`` seconds, ``default`` when unset.

    Raises
    ------
    UsageError
        A value that is not a positive, finite number.
    """
    text = os.environ.get(variable, "")
    if text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise UsageError(f"{variable}={text!r}: expected a positive number of seconds")
    return value


def timeout_seconds() -> float:
    """The collective timeout: ``SCIML_DIST_TIMEOUT`` seconds, default 60 (see
    :func:`env_seconds`)."""
    return env_seconds(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT)


def rank_device(device: Any) -> Any:
    """``device`` for this rank: a CUDA device without an index becomes ``cuda:LOCAL_RANK``
    when several processes train; any other device is returned unchanged."""
    import torch  # noqa: PLC0415

    here = ranks()
    if here.distributed and device.type == "cuda" and device.index is None:
        return torch.device("cuda", here.local_rank)
    return device


def setup(device: Any) -> Ranks:
    """Join the process group of a multi-process run (once; later calls only return).

    The backend is NCCL for a CUDA ``device``, gloo otherwise; the timeout of every
    collective is :func:`timeout_seconds`. A single-process run joins nothing.

    Raises
    ------
    DistributedError
        The other processes did not join within the timeout, or the group cannot be formed.
    """
    here = ranks()
    if not here.distributed:
        return here
    import torch  # noqa: PLC0415
    import torch.distributed as dist  # noqa: PLC0415

    if dist.is_initialized():
        if dist.get_world_size() != here.world_size:
            raise DistributedError(f"a process group of {dist.get_world_size()} processes is "
                                   f"already set up, but WORLD_SIZE is {here.world_size}")
        return here
    device = torch.device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(rank_device(device))
    seconds = timeout_seconds()
    try:
        dist.init_process_group(backend, timeout=timedelta(seconds=seconds))
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(
            f"rank {here.rank}: could not form the group of {here.world_size} training "
            f"processes ({backend}, timeout {seconds:g} s; {TIMEOUT_VARIABLE} sets it): "
            f"{_first_line(exc)}") from exc
    atexit.register(_teardown)
    return here


def _teardown() -> None:
    import torch.distributed as dist  # noqa: PLC0415

    if dist.is_initialized():
        dist.destroy_process_group()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _collective(what: str, call: Callable[[], T]) -> T:
    """Run one collective; a failure or timeout becomes a :class:`DistributedError`."""
    try:
        return call()
    except RuntimeError as exc:  # torch.distributed.DistError derives from RuntimeError
        raise collective_failure(what, exc) from exc


def collective_failure(what: str, exc: BaseException) -> DistributedError:
    """The error of a collective ``what`` that failed with ``exc`` (a dead or hung rank)."""
    here = ranks()
    return DistributedError(
        f"rank {here.rank} of {here.world_size}: {what} with the other training processes "
        f"failed (a process died or did not answer within {timeout_seconds():g} s; "
        f"{TIMEOUT_VARIABLE} sets the timeout): {_first_line(exc)}")


def all_sum(values: list[float]) -> list[float]:
    """The element-wise sum of ``values`` over all ranks (float64; itself in one process)."""
    if not ranks().distributed:
        return list(values)
    import torch  # noqa: PLC0415
    import torch.distributed as dist  # noqa: PLC0415

    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    _collective("summing the epoch's metrics", lambda: dist.all_reduce(tensor))
    return tensor.cpu().tolist()


def gather(value: Any) -> list[Any]:
    """``value`` of every rank (small and picklable), in rank order; ``[value]`` in one
    process."""
    if not ranks().distributed:
        return [value]
    import torch.distributed as dist  # noqa: PLC0415

    out: list[Any] = [None] * dist.get_world_size()
    _collective("exchanging the run's settings", lambda: dist.all_gather_object(out, value))
    return out


def agree(check: Callable[[], T], *, main_only: bool = False) -> T:
    """Run ``check`` on every rank (or on rank 0 only) and fail on every rank if it fails on one.

    A user error (:class:`~sciml.errors.SciMLError`, ``ValueError``, ``OSError``) raised by
    ``check`` is raised again where it happened; the other ranks raise a
    :class:`DistributedError` naming the rank and the message, so no rank is left waiting.
    With ``main_only`` rank 0 alone runs ``check`` and its result is sent to every rank.
    """
    here = ranks()
    result, message = None, None
    if here.main or not main_only:
        try:
            result = check()
        except (SciMLError, ValueError, OSError) as exc:
            if not here.distributed:
                raise
            failure, message = exc, f"{type(exc).__name__}: {exc}"
    if not here.distributed:
        return result  # type: ignore[return-value]
    reports = gather(message)
    if message is not None:
        raise failure
    failed = [(rank, text) for rank, text in enumerate(reports) if text is not None]
    if failed:
        rank, text = failed[0]
        raise DistributedError(f"rank {rank} failed, so rank {here.rank} stops too: {text}")
    return broadcast(result) if main_only else result  # type: ignore[return-value]


def broadcast(value: Any) -> Any:
    """Rank 0's ``value`` (picklable) on every rank; ``value`` itself in one process."""
    if not ranks().distributed:
        return value
    import torch.distributed as dist  # noqa: PLC0415

    box = [value]
    _collective("receiving rank 0's state", lambda: dist.broadcast_object_list(box, src=0))
    return box[0]


def data_parallel(model: Any, loss: Callable[[Any, Any], Any], device: Any
                  ) -> Callable[[Any], Any]:
    """``batch -> loss(model, batch)`` whose backward averages the gradients over ranks.

    The loss runs inside a ``DistributedDataParallel`` module, so a method's loss may call
    any method of its network (DGNO's encoder and decoders, deep_cd's ``(r, grid)`` call).
    In one process this is the plain call.
    """
    if not ranks().distributed:
        return lambda batch: loss(model, batch)
    import torch  # noqa: PLC0415
    from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

    class LossModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, batch: Any) -> Any:
            return loss(self.model, batch)

    device = torch.device(device)
    ids = [device] if device.type == "cuda" else None
    wrapped = _collective("sending rank 0's initial weights",
                          lambda: DistributedDataParallel(LossModule(), device_ids=ids))
    return wrapped


@dataclass(frozen=True)
class Share:
    """One rank's part of a global batch: ``indices`` to load, ``count`` of them real.

    ``count`` is 0 where the global batch has fewer samples than there are ranks; the rank
    then loads one sample of the batch, and its loss is weighted by zero (it must still
    take part in the gradient average).
    """

    indices: list[int]
    count: int
    global_size: int


class RankBatches:
    """This rank's shares of the global batches of ``n`` samples, epoch by epoch.

    The global batches are those of ``torch.utils.data.DataLoader(range(n), batch_size,
    shuffle, generator=torch.Generator().manual_seed(seed + epoch))``; rank ``r`` of ``W``
    takes samples ``[m r / W, m (r + 1) / W)`` of a batch of ``m``.
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool, seed: int,
                 here: Ranks | None = None) -> None:
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.here = here or ranks()
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the batch order of ``epoch``."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[Share]:
        import torch  # noqa: PLC0415
        from torch.utils.data import DataLoader  # noqa: PLC0415

        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        world, rank = self.here.world_size, self.here.rank
        for batch in DataLoader(range(self.n), batch_size=self.batch_size,
                                shuffle=self.shuffle, generator=generator):
            m = len(batch)
            lo, hi = m * rank // world, m * (rank + 1) // world
            indices = batch[lo:hi] if hi > lo else batch[:1]
            yield Share(indices.tolist(), hi - lo, m)
