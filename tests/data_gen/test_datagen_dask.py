"""Data generation on a dask.distributed cluster: the process pool's bits and guarantees."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import sys
import time

import pytest

from sciml.cli import main
from sciml.data_gen import burgers, dask_runner, runner
from sciml.errors import DistributedError, UsageError
from sciml.io.datasets import ChunkedWriter, read_arrays

needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason='dask.distributed is not installed (pip install '
                                       '"sciml-solve[dask]")')
SAMPLES = 12
RUN = {"resolution": 128, "downsample": 4, "seed": 5, "chunk_size": 1,
       "progress": False}


def assert_bit_identical(path, reference):
    got, expected = read_arrays(path), read_arrays(reference)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].tobytes() == expected[name].tobytes(), name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The process pool's file."""
    return burgers.generate(tmp_path_factory.mktemp("pool") / "pool.h5", SAMPLES,
                            workers=2, **RUN)


@pytest.fixture(scope="module")
def cluster():
    """A running 2-worker cluster (nanny processes, one thread each), joined by address."""
    distributed = pytest.importorskip("distributed")
    with runner._single_threaded_children():
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
    with local, distributed.Client(local.scheduler_address, set_as_default=False) as client:
        yield local.scheduler_address, client


def recording_writes(monkeypatch, then=None):
    """Record the chunk indices written; call ``then(count)`` after each write."""
    original, written = ChunkedWriter.write_chunk, []

    def write(self, index, arrays):
        original(self, index, arrays)
        written.append(index)
        if then is not None:
            then(len(written))

    monkeypatch.setattr(ChunkedWriter, "write_chunk", write)
    return written


@needs_dask
@pytest.mark.parametrize("workers", [1, 2])
def test_a_local_cluster_writes_the_process_pools_bits(tmp_path, reference, workers):
    out = burgers.generate(tmp_path / "dask.h5", SAMPLES, dask=f"local:{workers}", **RUN)
    assert_bit_identical(out, reference)


@needs_dask
def test_a_killed_run_resumes_on_the_cluster_to_the_same_file(tmp_path, reference, cluster,
                                                                monkeypatch):
    address, _ = cluster
    out = tmp_path / "run.h5"

    def interrupt(count):
        if count == 3:
            raise KeyboardInterrupt  # the kill arrives after the third chunk is saved

    recording_writes(monkeypatch, interrupt)
    with pytest.raises(KeyboardInterrupt):
        burgers.generate(out, SAMPLES, dask=address, **RUN)
    assert not out.exists() and len(list(tmp_path.glob("run.h5.partial/*.npz"))) == 3
    written = recording_writes(monkeypatch)
    burgers.generate(out, SAMPLES, dask=address, **RUN)
    assert len(written) == SAMPLES - 3 and len(set(written)) == len(written)
    assert_bit_identical(out, reference)


@needs_dask
def test_a_worker_killed_mid_task_is_replaced_without_a_lost_or_repeated_sample(
        tmp_path, reference, cluster, monkeypatch):
    address, client = cluster
    killed = []

    def kill_a_busy_worker(count):
        if count != 2:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        assert busy, "no task was running when the worker was to be killed"
        pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    written = recording_writes(monkeypatch, kill_a_busy_worker)
    out = burgers.generate(tmp_path / "killed.h5", SAMPLES, dask=address, **RUN)
    assert killed and sorted(written) == list(range(SAMPLES))   # each chunk saved once
    assert_bit_identical(out, reference)
    client.wait_for_workers(2, timeout=30)                      # the nanny restarted it
    assert killed[0] not in client.run(os.getpid).values()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@needs_dask
def test_a_scheduler_that_does_not_answer_is_an_error_within_the_timeout(tmp_path, capsys,
                                                                         monkeypatch):
    monkeypatch.setenv(dask_runner.TIMEOUT_VARIABLE, "2")
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    code = main(["datagen", "burgers", "--samples", "2", "--resolution", "64",
                 "--downsample", "2", "--quiet", "--out", str(tmp_path / "x.h5"),
                 "--scheduler", address])
    assert code == 2 and time.monotonic() - start < 10
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"no Dask scheduler answered at {address}" in err
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "x.h5.partial").exists()
    with pytest.raises(DistributedError, match="within 2 s"):
        burgers.generate(tmp_path / "y.h5", 2, resolution=64, downsample=2, progress=False,
                         dask=address)


@pytest.mark.parametrize("target", ["local:0", "local:two", "localhost:8786", ""])
def test_a_malformed_dask_target_is_refused_before_any_work(tmp_path, target):
    with pytest.raises(UsageError, match="local:N"):
        burgers.generate(tmp_path / "x.h5", 2, resolution=64, downsample=2, progress=False,
                         dask=target)
    assert not (tmp_path / "x.h5.partial").exists()


def test_without_dask_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)   # import distributed fails
    with pytest.raises(UsageError, match=r'pip install "sciml-solve\[dask\]"'):
        burgers.generate(tmp_path / "x.h5", 2, resolution=64, downsample=2, progress=False,
                         dask="local:1")
