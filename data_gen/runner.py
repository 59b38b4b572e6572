"""The shared generation loop: seeded per sample, chunked, resumable, parallel, with progress.

A generator describes its data set as a :class:`Recipe` (name, parameters, fields,
coordinates, and a picklable function drawing one sample from a random generator);
:func:`run` does the rest:

* sample ``i`` draws from ``np.random.default_rng(SeedSequence(seed, spawn_key=(i,)))``,
  the ``i``-th child of ``SeedSequence(seed).spawn``, so its value depends only on ``seed``
  and ``i``: the file is bit-identical whatever the number of workers, the chunk size or
  the interruptions;
* chunks of samples go to a ``ProcessPoolExecutor`` of freshly started ("spawn")
  processes with single-threaded BLAS (:data:`SINGLE_THREAD_ENV`) and are saved as they
  finish through :class:`sciml.io.ChunkedWriter`, which publishes each chunk atomically,
  resumes an interrupted run and publishes the final file atomically; a worker whose
  parent dies exits too; with ``dask=`` the same chunk tasks run on a ``dask.distributed``
  cluster instead (:mod:`sciml.data_gen.dask_runner`), with the same bits and guarantees;
* a tqdm bar shows samples done.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
from tqdm.auto import tqdm

from sciml.errors import InvalidProblemError, UsageError
from sciml.io.datasets import ChunkedWriter, DatasetSpec

#: a chunk's samples are computed in one task; the default aims at ~64 chunks per run
MAX_DEFAULT_CHUNK = 64
#: worker processes run one BLAS/OpenMP thread each: the processes already fill the cores
#: (extra threads only contend: 2 workers with 2 OpenBLAS threads each solved Darcy 128^2
#: samples 2-4x slower on 2 cores), and a fixed thread count fixes the order of the floating
#: point reductions, so the bits do not depend on the number of workers
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1"}
#: how often a worker checks that the process that started it is alive
PARENT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Recipe:
    """What a generator produces.

    Attributes
    ----------
    generator
        Name recorded in the file, e.g. ``"darcy"``.
    parameters
        Every parameter that determines the samples (recorded as JSON).
    fields
        Per-sample grid shape of each stored array.
    sample
        Picklable callable ``rng -> {field: array}`` drawing one sample (a module-level
        function, or a ``functools.partial`` of one, so worker processes can run it).
    coords
        Coordinates shared by all samples.
    """

    generator: str
    parameters: Mapping[str, Any]
    fields: Mapping[str, tuple[int, ...]]
    sample: Callable[[np.random.Generator], Mapping[str, np.ndarray]]
    coords: Mapping[str, np.ndarray] = field(default_factory=dict)


def require(generator: str, checks: Mapping[str, bool]) -> None:
    """Refuse a generator's parameters before any work: ``checks`` maps the condition each
    must meet (as the message shows it, e.g. ``"nu > 0 (got -1)"``) to whether it holds.

    Generators call this in ``generate`` so that a bad value fails at once, before the
    ``.partial/`` folder exists, instead of in the first worker.

    Raises
    ------
    sciml.errors.InvalidProblemError
        Naming every condition that fails.
    """
    failed = [text for text, ok in checks.items() if not ok]
    if failed:
        raise InvalidProblemError(f"{generator} data: need {'; '.join(failed)}")


def finite(*values: float) -> bool:
    """Whether every value is a finite number."""
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of sample ``index`` of a run seeded with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def compute_chunk(recipe: Recipe, seed: int, start: int,
                  stop: int) -> dict[str, np.ndarray]:
    """Samples ``start..stop`` of a run, stacked per field as float32."""
    draws = [recipe.sample(sample_rng(seed, i)) for i in range(start, stop)]
    return {name: np.stack([d[name] for d in draws]).astype(np.float32)
            for name in recipe.fields}


def default_chunk_size(samples: int) -> int:
    """About 64 chunks per run, at most :data:`MAX_DEFAULT_CHUNK` samples each."""
    return max(1, min(MAX_DEFAULT_CHUNK, -(-samples // 64)))


def run(out: str | os.PathLike, recipe: Recipe, samples: int, *, seed: int = 0,
        workers: int = 1, chunk_size: int | None = None, test_samples: int | None = None,
        overwrite: bool = False, progress: bool = True, dask: str | None = None) -> Path:
    """Generate ``samples`` samples of ``recipe`` into the HDF5 file ``out``.

    Parameters
    ----------
    out
        Final file; written atomically when every sample exists. Interrupted work lives in
        ``<out>.partial/`` and is resumed by running the same command again.
    recipe
        The generator's description.
    samples
        Number of samples.
    seed
        Root seed (see the module notes on per-sample seeds).
    workers
        Worker processes (each started fresh: about a second of imports).
    chunk_size
        Samples per task and per saved chunk (default :func:`default_chunk_size`); part of
        the resumption check, not of the values.
    test_samples
        The last ``test_samples`` samples form the ``"test"`` split and the others
        ``"train"`` (default: a tenth, rounded down).
    overwrite
        Replace an existing ``out`` and discard an interrupted run's chunks.
    progress
        Show a tqdm progress bar.
    dask
        Run the chunks on a ``dask.distributed`` cluster instead of the process pool:
        ``"local:N"`` (a new local cluster of ``N`` worker processes) or a scheduler
        address such as ``"tcp://host:8786"``; ``workers`` is then unused. Needs the
        ``dask`` extra.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    FileExistsError
        ``out`` exists and ``overwrite`` is false.
    sciml.errors.DataFileError
        An interrupted run with other settings is in ``<out>.partial/``, or another live run
        writes ``out`` (it holds ``<out>.lock``; see :class:`sciml.io.datasets.RunLock`).
    sciml.errors.UsageError
        ``samples``, ``workers``, ``chunk_size`` or ``test_samples`` out of range; ``dask``
        malformed or dask not installed.
    sciml.errors.DistributedError
        The Dask scheduler does not answer within the timeout
        (:func:`sciml.data_gen.dask_runner.timeout_seconds`).

    Notes
    -----
    A run that fails before its first chunk is saved (e.g. a sample function raising in the
    workers) removes its ``.partial/`` folder, so the corrected command starts cleanly.
    """
    samples = int(samples)
    if samples < 1:
        raise UsageError(f"samples must be >= 1, got {samples}")
    if workers < 1:
        raise UsageError(f"workers must be >= 1, got {workers}")
    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"chunk_size must be >= 1, got {chunk_size}")
    test = samples // 10 if test_samples is None else int(test_samples)
    if not 0 <= test <= samples:
        raise UsageError(f"test_samples must be in [0, {samples}], got {test}")
    if dask is not None:
        from .dask_runner import parse_target  # noqa: PLC0415

        parse_target(dask)
    spec = DatasetSpec(generator=recipe.generator, parameters=recipe.parameters, seed=seed,
                       samples=samples, fields=recipe.fields, coords=recipe.coords,
                       splits={"train": (0, samples - test), "test": (samples - test, samples)})
    with ChunkedWriter(out, spec, chunk_size or default_chunk_size(samples),
                       overwrite=overwrite) as writer:
        pending = writer.pending
        todo = sum(stop - start for start, stop in map(writer.chunk_range, pending))
        with tqdm(total=samples, initial=samples - todo, unit="sample", disable=not progress,
                  desc=f"{recipe.generator} -> {Path(out).name}", dynamic_ncols=True) as bar:
            if pending:
                try:
                    if dask is None:
                        _compute_in_workers(writer, recipe, seed, pending, workers, bar)
                    else:
                        from .dask_runner import compute_on_dask  # noqa: PLC0415

                        compute_on_dask(writer, recipe, seed, pending, dask, bar)
                except Exception:
                    # a run that failed before its first chunk (bad parameters met in the
                    # workers) leaves nothing to resume: do not block the corrected command
                    if len(writer.pending) == writer.n_chunks:
                        writer.discard()
                    raise
        return writer.finalize()


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Set :data:`SINGLE_THREAD_ENV` while worker processes start, then restore it."""
    saved = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: end this worker soon after its parent dies (e.g. ``kill -9``).

    Otherwise an orphaned worker would wait forever for its next task.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _compute_in_workers(writer: ChunkedWriter, recipe: Recipe, seed: int,
                        pending: list[int], workers: int, bar: Any) -> None:
    """Keep ``workers`` chunks in flight; save each as it finishes (any order)."""
    queue = list(reversed(pending))
    context = multiprocessing.get_context("spawn")
    with _single_threaded_children(), ProcessPoolExecutor(
            workers, context, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        running: dict[Future, int] = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * workers:
                    index = queue.pop()
                    running[pool.submit(compute_chunk, recipe, seed,
                                        *writer.chunk_range(index))] = index
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    writer.write_chunk(index, future.result())
                    bar.update(len(range(*writer.chunk_range(index))))
        except BaseException:
            for future in running:
                future.cancel()
            raise
