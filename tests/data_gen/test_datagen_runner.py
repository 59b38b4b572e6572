"""The generation loop: same seed, same bits; interrupted runs resume without loss or repeats."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sciml.data_gen import burgers, runner
from sciml.errors import DataFileError
from sciml.io.datasets import ChunkedWriter, read_arrays

ROOT = Path(__file__).resolve().parents[2]
SMALL_BURGERS = {"resolution": 256, "downsample": 4, "progress": False}


def arrays_of(path):
    return read_arrays(path)


def assert_bit_identical(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].tobytes() == b[name].tobytes(), name


def test_output_is_bit_identical_for_any_worker_count_and_chunk_size(tmp_path):
    serial = burgers.generate(tmp_path / "serial.h5", 7, seed=3, workers=1, chunk_size=2,
                              **SMALL_BURGERS)
    parallel = burgers.generate(tmp_path / "parallel.h5", 7, seed=3, workers=2, chunk_size=3,
                                **SMALL_BURGERS)
    assert_bit_identical(arrays_of(serial), arrays_of(parallel))
    other_seed = burgers.generate(tmp_path / "other.h5", 7, seed=4, **SMALL_BURGERS)
    assert not np.array_equal(arrays_of(serial)["a"], arrays_of(other_seed)["a"])


def test_run_interrupted_after_some_chunks_resumes_to_the_uninterrupted_file(
        tmp_path, monkeypatch):
    reference = burgers.generate(tmp_path / "ref.h5", 9, chunk_size=2, **SMALL_BURGERS)
    out = tmp_path / "run.h5"
    original = ChunkedWriter.write_chunk
    written = []

    def write_then_die(self, index, arrays):
        if len(written) == 2:
            raise KeyboardInterrupt  # the kill arrives while the third chunk is computed
        written.append(index)
        original(self, index, arrays)

    monkeypatch.setattr(ChunkedWriter, "write_chunk", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        burgers.generate(out, 9, chunk_size=2, **SMALL_BURGERS)
    assert not out.exists() and len(list(out.with_name("run.h5.partial").glob("*.npz"))) == 2

    resumed = []
    monkeypatch.setattr(ChunkedWriter, "write_chunk",
                        lambda self, index, arrays: resumed.append(index)
                        or original(self, index, arrays))
    burgers.generate(out, 9, chunk_size=2, **SMALL_BURGERS)
    assert sorted(resumed) == [2, 3, 4]    # only the unfinished chunks are redone
    assert_bit_identical(arrays_of(out), arrays_of(reference))
    assert not out.with_name("run.h5.partial").exists()


def children_of(pid):
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_process_resumes_without_losing_or_duplicating_samples_or_orphans(tmp_path):
    command = [sys.executable, "-m", "sciml.data_gen", "burgers", "--samples", "16",
               "--resolution", "512", "--downsample", "4", "--dt", "1e-3", "--chunk-size", "1",
               "--workers", "1", "--quiet", "--out", str(tmp_path / "kill.h5")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")])}
    parts = tmp_path / "kill.h5.partial"
    process = subprocess.Popen(command, cwd=tmp_path, env=env)
    deadline = time.monotonic() + 60
    while len(list(parts.glob("chunk-*.npz"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = children_of(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = len(list(parts.glob("chunk-*.npz")))
    assert 3 <= finished < 16, "the kill should land mid-run"
    assert not (tmp_path / "kill.h5").exists()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "orphaned workers"

    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    reference = burgers.generate(tmp_path / "ref.h5", 16, resolution=512, downsample=4,
                                 dt=1e-3, workers=2, progress=False)
    assert_bit_identical(arrays_of(tmp_path / "kill.h5"), arrays_of(reference))


def test_resuming_with_other_settings_is_refused_naming_them(tmp_path, monkeypatch):
    out = tmp_path / "run.h5"
    monkeypatch.setattr(runner.ChunkedWriter, "finalize", lambda self: None)
    burgers.generate(out, 4, chunk_size=2, **SMALL_BURGERS)     # chunks written, never final
    monkeypatch.undo()
    with pytest.raises(DataFileError, match="differing: parameters"):
        burgers.generate(out, 4, chunk_size=2, nu=0.2, **SMALL_BURGERS)
    with pytest.raises(DataFileError, match="differing: chunk_size"):
        burgers.generate(out, 4, chunk_size=1, **SMALL_BURGERS)
    burgers.generate(out, 4, chunk_size=1, nu=0.2, overwrite=True, **SMALL_BURGERS)
    assert out.exists()


def test_an_existing_file_is_kept_unless_overwrite_is_asked(tmp_path):
    out = burgers.generate(tmp_path / "b.h5", 2, **SMALL_BURGERS)
    before = out.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        burgers.generate(out, 2, seed=1, **SMALL_BURGERS)
    assert out.read_bytes() == before


def test_per_sample_seeds_are_the_spawned_children_of_the_root_seed():
    children = np.random.SeedSequence(11).spawn(5)
    expected = np.random.default_rng(children[4]).standard_normal(3)
    np.testing.assert_array_equal(runner.sample_rng(11, 4).standard_normal(3), expected)


def test_default_split_keeps_the_last_tenth_for_testing(tmp_path):
    from sciml.io.datasets import read_info

    path = burgers.generate(tmp_path / "b.h5", 20, **SMALL_BURGERS)
    assert read_info(path).spec.splits == {"train": (0, 18), "test": (18, 20)}


# -- one run at a time: lock, run id, stale temporaries, failed runs --------------------------
def small_spec(seed):
    from sciml.io.datasets import DatasetSpec

    return DatasetSpec(generator="test", parameters={"p": 1}, seed=seed, samples=4,
                       fields={"a": (3,)})


def chunk(value, count=2):
    return {"a": np.full((count, 3), value, np.float32)}


def test_a_second_run_on_the_same_output_fails_at_once_and_leaves_the_first_intact(tmp_path):
    """The issue's replay: B (seed 1, overwrite) must neither delete A's shards nor mix."""
    out = tmp_path / "d.h5"
    with ChunkedWriter(out, small_spec(0), 2) as first:
        first.write_chunk(0, chunk(0.0))
        with pytest.raises(DataFileError, match=rf"another datagen run is writing .*d\.h5: pid "
                                                rf"{os.getpid()} on host .*, started .*'seed': 0"):
            ChunkedWriter(out, small_spec(1), 2, overwrite=True)
        assert first.pending == [1]          # B deleted nothing
        first.write_chunk(1, chunk(0.0))
        first.finalize()
    assert np.all(read_arrays(out)["a"] == 0.0)
    assert not out.with_name("d.h5.lock").exists()
    ChunkedWriter(out, small_spec(1), 2, overwrite=True).close()  # free again once A is done


def test_shards_and_folders_of_another_run_are_refused(tmp_path):
    out = tmp_path / "d.h5"
    with ChunkedWriter(out, small_spec(0), 2) as first:
        first.write_chunk(0, chunk(0.0))
    with ChunkedWriter(out, small_spec(0), 2) as foreign:  # forge a shard of another run
        foreign.run_id = "someone-else"
        foreign._check_run = lambda: None
        foreign.write_chunk(1, chunk(1.0))
    with ChunkedWriter(out, small_spec(0), 2) as resumed:
        assert resumed.pending == []
        with pytest.raises(DataFileError, match="was written by run someone-else, not by this"):
            resumed.finalize()
    assert not out.exists()
    with ChunkedWriter(out, small_spec(0), 2, overwrite=True) as writer:
        manifest = writer.parts / "manifest.json"
        manifest.write_text(manifest.read_text().replace(writer.run_id, "replaced"))
        with pytest.raises(DataFileError, match="no longer belongs to this run"):
            writer.write_chunk(0, chunk(0.0))


def test_temporaries_of_a_killed_publication_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "b.h5"
    stale = tmp_path / ".b.h5.k1l2.tmp"
    stale.write_bytes(b"half a file")
    unrelated = tmp_path / ".other.h5.k1l2.tmp"
    unrelated.write_bytes(b"")
    burgers.generate(out, 2, **SMALL_BURGERS)
    assert not stale.exists() and unrelated.exists()


def test_a_run_failing_before_its_first_chunk_does_not_block_the_next_command(tmp_path):
    recipe = runner.Recipe(generator="broken", parameters={}, fields={"a": (3,)}, sample=int)
    out = tmp_path / "x.h5"
    with pytest.raises(TypeError):
        runner.run(out, recipe, 2, progress=False)
    assert not out.with_name("x.h5.partial").exists()
    assert not out.with_name("x.h5.lock").exists()
