"""Data-parallel training (torch DDP, gloo) with two local processes of one thread each.

The processes are started the way torchrun starts them (``MASTER_ADDR``, ``MASTER_PORT``,
``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), without its agent, so that a test can give each
rank its own working folder or arguments and can kill one rank itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available():
    pytest.skip("torch was built without torch.distributed", allow_module_level=True)

import sciml  # noqa: E402
from sciml.cli import main  # noqa: E402
from sciml.errors import InvalidOptionError  # noqa: E402
from sciml.io.checkpoint import load_checkpoint  # noqa: E402
from sciml.io.datasets import DatasetSpec, write_dataset  # noqa: E402
from sciml.learn.distributed import Ranks, RankBatches  # noqa: E402
from sciml.learn.trainer import Trainer  # noqa: E402

NET = {"channels": 2, "layers": 1, "levels": 2}
NET_FLAGS = [f"--set={key}={value}" for key, value in NET.items()]
TIMEOUT = 6.0


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """10 Darcy-shaped pairs on 9x9: 8 train (7 after validation), 2 test."""
    rng = np.random.default_rng(0)
    a, u = rng.uniform(1, 2, (10, 9, 9)), rng.standard_normal((10, 9, 9))
    path = tmp_path_factory.mktemp("ddp") / "d.h5"
    spec = DatasetSpec(generator="darcy", parameters={"f": 1.0}, seed=0, samples=10,
                       fields={"a": (9, 9), "u": (9, 9)},
                       splits={"train": (0, 8), "test": (8, 10)})
    write_dataset(path, spec, {"a": a, "u": u})
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(commands, folders, **env):
    """Start one process per command (a ``python`` argument list), rank = position."""
    port = free_port()
    procs = []
    for rank, (command, folder) in enumerate(zip(commands, folders)):
        environ = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                   "WORLD_SIZE": str(len(commands)), "RANK": str(rank),
                   "LOCAL_RANK": str(rank), "OMP_NUM_THREADS": "1",
                   "SCIML_DIST_TIMEOUT": str(TIMEOUT), **env}
        procs.append(subprocess.Popen([sys.executable, *command], cwd=folder, env=environ,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    return procs


def finish(procs, limit=60.0):
    """``[(returncode, stderr)]`` of every process, killing all after ``limit`` seconds."""
    out = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"a training process still ran after {limit} s: it hangs")
        out.append((proc.returncode, err))
    return out


def train_cli(*argv):
    return ["-m", "sciml.cli", "train", *map(str, argv)]


def weights(model):
    return {k: v.detach().double() for k, v in model.network.state_dict().items()}


def assert_same_weights(got, expected):
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-7,
                                   err_msg=key)


def test_rank_shares_cover_each_global_batch_once_in_the_one_process_order():
    one = [s.indices for s in RankBatches(11, 4, shuffle=True, seed=7, here=Ranks(1, 0, 0))]
    assert [len(b) for b in one] == [4, 4, 3]
    shares = [list(RankBatches(11, 4, shuffle=True, seed=7, here=Ranks(2, r, r)))
              for r in range(2)]
    for k, batch in enumerate(one):
        assert shares[0][k].indices + shares[1][k].indices == batch
        assert shares[0][k].count + shares[1][k].count == len(batch)
    # a last batch smaller than the world: a rank without samples loads one at weight 0
    four = [list(RankBatches(5, 4, shuffle=False, seed=0, here=Ranks(4, r, r)))[-1]
            for r in range(4)]
    assert [s.count for s in four] == [0, 0, 0, 1] and all(s.indices == [4] for s in four)


def test_global_batch_not_divisible_by_the_world_size_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(InvalidOptionError, match="divisible by the 2 training processes"):
        Trainer(torch.nn.Linear(2, 1), lambda m, b: m(b[0]).sum(), epochs=1, batch_size=5)


#: one run of each rank: ``sciml train mgno ARGV`` in its own folder, then deep_cd through
#: the Python API (rank 0 saves its weights to the file named first)
SCRIPT = """
import sys, torch, sciml
from sciml.cli import main
from sciml.learn.distributed import ranks
torch.set_num_threads(1)
code = main(["train", *sys.argv[2:]])
model = sciml.train("deep_cd", shape=(8, 8), samples=13, epochs=2, batch_size=4, seed=0,
                    progress=False)
if ranks().main:
    torch.save(model.network.state_dict(), sys.argv[1])
sys.exit(code)
"""


def test_two_processes_train_mgno_and_deep_cd_like_one_and_only_rank_0_writes(
        data, tmp_path, capsys):
    folders = [tmp_path / "rank0", tmp_path / "rank1"]
    for folder in folders:
        folder.mkdir()
    deep_cd = tmp_path / "deep_cd.pt"
    argv = ["mgno", "--data", data, "--epochs", 2, "--batch-size", 4, "--seed", 0,
            *NET_FLAGS, "--keep-checkpoint", "--no-progress", "--out", folders[0] / "m.pt"]
    commands = [["-c", SCRIPT, deep_cd, *map(str, argv[:-1]), "m.pt"]] * 2
    results = finish(launch(commands, folders))
    assert [code for code, _ in results] == [0, 0], results
    assert sorted(p.name for p in folders[0].iterdir()) == ["m.json", "m.pt", "m.pt.ckpt"]
    assert list(folders[1].iterdir()) == []          # rank 1 wrote nothing
    single = sciml.train("mgno", data=str(data), epochs=2, batch_size=4, seed=0,
                         progress=False, **NET)
    two = sciml.load_model(folders[0] / "m.pt")
    assert_same_weights(weights(two), weights(single))
    assert two.metrics["best_epoch"] == single.metrics["best_epoch"]
    np.testing.assert_allclose(two.metrics["val_rel_l2"], single.metrics["val_rel_l2"],
                               rtol=1e-5)
    single = sciml.train("deep_cd", shape=(8, 8), samples=13, epochs=2, batch_size=4,
                         seed=0, progress=False)
    two = {k: v.double() for k, v in torch.load(deep_cd, weights_only=True).items()}
    assert_same_weights(two, weights(single))
    # resuming the 2-process checkpoint in one process is refused, naming the world size
    assert main(["train", *map(str, argv), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "world_size: checkpoint 2, now 1" in err and "--nproc_per_node=2" in err


def signal_rank_1_mid_run(argv, folders, how):
    """Start 2 ranks, send ``how`` to rank 1 once rank 0 saved a checkpoint; return rank
    0's exit code, its stderr and the seconds it took to exit after the signal."""
    procs = launch([train_cli(*argv)] * 2, folders)
    checkpoint = folders[0] / "m.pt.ckpt"
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert checkpoint.exists(), "the run never finished an epoch"
        procs[1].send_signal(how)
        signalled = time.monotonic()
        code, err = finish(procs[:1], limit=TIMEOUT + 20)[0]
        return code, err, time.monotonic() - signalled
    finally:
        procs[1].kill()
        procs[1].communicate()


def assert_collective_failure(code, err, seconds):
    assert code == 2 and seconds < TIMEOUT + 10
    last = err.strip().splitlines()[-1]
    assert "rank 0 of 2" in last and "failed" in last, err


def test_a_killed_rank_stops_the_other_and_the_rerun_resumes_from_rank_0s_checkpoint(
        data, tmp_path):
    folders = [tmp_path / "rank0", tmp_path / "rank1"]
    for folder in folders:
        folder.mkdir()
    argv = ["mgno", "--data", data, "--epochs", 20, "--batch-size", 2, *NET_FLAGS,
            "--no-progress", "--out", "m.pt"]
    assert_collective_failure(*signal_rank_1_mid_run(argv, folders, signal.SIGKILL))
    assert not (folders[0] / "m.pt").exists()
    saved = load_checkpoint(folders[0] / "m.pt.ckpt")["report"]["history"]
    assert 1 <= len(saved) < 20
    # the rerun resumes: rank 0 reads the checkpoint (rank 1's folder has none) and sends it
    results = finish(launch([train_cli(*argv)] * 2, folders))
    assert [code for code, _ in results] == [0, 0], results
    resumed = sciml.load_model(folders[0] / "m.pt")
    history = resumed.provenance["history"]
    assert len(history) == 20 and history[:len(saved)] == saved   # not trained again
    single = sciml.train("mgno", data=str(data), epochs=20, batch_size=2, progress=False,
                         **NET)
    assert_same_weights(weights(resumed), weights(single))


def test_a_hung_rank_makes_the_other_exit_with_an_error_within_the_timeout(data, tmp_path):
    argv = ["mgno", "--data", data, "--epochs", 100_000, "--batch-size", 2, *NET_FLAGS,
            "--no-progress", "--out", "m.pt"]
    assert_collective_failure(*signal_rank_1_mid_run(argv, [tmp_path] * 2, signal.SIGSTOP))


def test_a_missing_data_file_on_one_rank_stops_both_with_its_message(data, tmp_path):
    missing = tmp_path / "not_here.h5"
    commands = [train_cli("mgno", "--data", path, "--epochs", 1, *NET_FLAGS, "--out",
                          tmp_path / "m.pt") for path in (data, missing)]
    start = time.monotonic()
    (code0, err0), (code1, err1) = finish(launch(commands, [tmp_path] * 2), limit=30)
    assert time.monotonic() - start < 30
    assert (code0, code1) == (2, 2)
    assert f"--data {missing}: no such file" in err1
    assert "rank 1 failed" in err0 and "no such file" in err0
    assert not (tmp_path / "m.pt").exists()
