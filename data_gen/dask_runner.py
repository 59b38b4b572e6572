"""The generation loop's chunks on a ``dask.distributed`` cluster instead of the process pool.

:func:`sciml.data_gen.runner.run` with ``dask="local:N"`` starts a ``LocalCluster`` of
``N`` single-threaded worker processes here; with ``dask="tcp://host:port"`` it joins the
scheduler of a running cluster (``dask scheduler`` + ``dask worker`` on other machines,
each with sciml installed). Either way the tasks are the pool's: one
:func:`~sciml.data_gen.runner.compute_chunk` per pending chunk, whose values depend only on
the seed and the sample indices, so the file is bit-identical to the process pool's for any
number of workers (workers started by a dask nanny run one BLAS thread, as the pool's do).
This process saves each result as it arrives through the same
:class:`~sciml.io.datasets.ChunkedWriter` (atomic chunks, resumable, one shard per chunk),
so a task that the scheduler re-runs after losing its worker is still saved once.

dask is an optional dependency (``pip install "sciml-solve[dask]"``), imported here only.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from sciml.errors import DistributedError, UsageError
from sciml.io.datasets import ChunkedWriter
from sciml.learn.distributed import env_seconds

#: environment variable of the time to wait for a scheduler to answer, in seconds
TIMEOUT_VARIABLE = "SCIML_DASK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
INSTALL_HINT = 'pip install "sciml-solve[dask]"'


def parse_target(target: str) -> int | str:
    """The worker count of ``"local:N"``, or a scheduler address such as ``tcp://host:port``.

    Raises
    ------
    UsageError
        Neither form, or ``N < 1``.
    """
    if not isinstance(target, str):
        raise UsageError(f"dask must be 'local:N' or a scheduler address, got {target!r}")
    if target.startswith("local:"):
        count = target[len("local:"):]
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"dask {target!r}: expected local:N with N >= 1 worker "
                             "processes, e.g. local:2")
        return int(count)
    scheme, sep, rest = target.partition("://")
    if not sep or not scheme or not rest:
        raise UsageError(f"dask {target!r}: expected local:N or a scheduler address such as "
                         "tcp://host:8786")
    return target


def timeout_seconds() -> float:
    """How long to wait for a scheduler: ``SCIML_DASK_TIMEOUT`` seconds, default 10 (see
    :func:`sciml.learn.distributed.env_seconds`)."""
    return env_seconds(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT)


def _import_distributed() -> Any:
    try:
        import distributed  # noqa: PLC0415
    except ImportError:
        raise UsageError(f"generating on a Dask cluster needs dask.distributed: "
                         f"{INSTALL_HINT}") from None
    return distributed


def _client(distributed: Any, target: int | str, stack: ExitStack) -> Any:
    """A client of a new local cluster of ``target`` workers, or of the scheduler at it."""
    from .runner import _single_threaded_children  # noqa: PLC0415

    seconds = timeout_seconds()
    if isinstance(target, int):
        with _single_threaded_children():
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=target, threads_per_worker=1, processes=True,
                dashboard_address=None))
        address = cluster.scheduler_address
    else:
        address = target
    try:
        client = distributed.Client(address, timeout=seconds, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise DistributedError(
            f"no Dask scheduler answered at {address} within {seconds:g} s ({exc}); check "
            f"the address, start the scheduler ('dask scheduler'), or use --dask local:N "
            f"({TIMEOUT_VARIABLE} sets the wait)") from exc
    return stack.enter_context(client)


def compute_on_dask(writer: ChunkedWriter, recipe: Any, seed: int, pending: list[int],
                    target: str, bar: Any) -> None:
    """Compute the ``pending`` chunks on the cluster ``target``; save each as it finishes.

    Raises
    ------
    UsageError
        dask.distributed is not installed, or ``target`` is malformed.
    DistributedError
        The scheduler does not answer within :func:`timeout_seconds`, or a chunk's task
        was lost with more workers than the scheduler allows (``KilledWorker``).
    """
    parsed = parse_target(target)
    distributed = _import_distributed()
    from .runner import compute_chunk  # noqa: PLC0415

    with ExitStack() as stack:
        client = _client(distributed, parsed, stack)
        futures = {client.submit(compute_chunk, recipe, seed, *writer.chunk_range(index),
                                 pure=False): index for index in pending}
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                index = futures[future]
                try:
                    arrays = future.result()
                except distributed.KilledWorker as exc:
                    raise DistributedError(
                        f"chunk {index} was lost with every worker that ran it ({exc}); the "
                        "finished chunks are kept: run the same command again to resume"
                    ) from exc
                writer.write_chunk(index, arrays)
                bar.update(len(range(*writer.chunk_range(index))))
                future.release()
        except BaseException:
            client.cancel(list(futures))
            raise
