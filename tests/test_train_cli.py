"""``sciml train METHOD``: one command line, stale checkpoints, outputs, user mistakes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import sciml
from sciml.cli import main
from sciml.errors import DataFileError, InvalidOptionError, UsageError
from sciml.io.datasets import DatasetSpec, write_dataset

NET = ["--set", "channels=2", "--set", "layers=1", "--set", "levels=2", "--no-progress"]


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    a, u = rng.uniform(1, 2, (6, 9, 9)), rng.standard_normal((6, 9, 9))
    path = tmp_path / "d.h5"
    spec = DatasetSpec(generator="darcy", parameters={"f": 1.0}, seed=0, samples=6,
                       fields={"a": (9, 9), "u": (9, 9)},
                       splits={"train": (0, 4), "test": (4, 6)})
    write_dataset(path, spec, {"a": a, "u": u})
    return path


def cli(capsys, *argv):
    code = main(["train", *map(str, argv)])
    err = capsys.readouterr().err.strip()
    return code, err


def mgno(capsys, data, out, *extra):
    return cli(capsys, "mgno", "--data", data, "--epochs", 2, "--out", out, *NET, *extra)


def test_success_saves_model_and_report_removes_checkpoint_records_argv(capsys, data,
                                                                        tmp_path):
    out = tmp_path / "m.pt"
    code, err = mgno(capsys, data, out, "--test", data)
    assert code == 0, err
    assert out.is_file() and (tmp_path / "m.json").is_file()
    assert not (tmp_path / "m.pt.ckpt").exists()
    model = sciml.load_model(out)
    assert model.provenance["command"].startswith(f"sciml train mgno --data {data}")
    assert "rel_l2" in model.metrics
    assert json.loads((tmp_path / "m.json").read_text())["metrics"]["rel_l2"] > 0


@pytest.mark.parametrize("flag, ema", [([], 0.99), (["--ema", "0.9"], 0.9),
                                       (["--ema", "none"], None)])
def test_the_weight_average_is_the_operators_default_and_can_be_turned_off(
        capsys, data, tmp_path, flag, ema):
    code, err = mgno(capsys, data, tmp_path / "m.pt", *flag)
    assert code == 0, err
    assert sciml.load_model(tmp_path / "m.pt").provenance["options"]["ema"] == ema


def test_python_api_provenance_is_the_call_not_pytests_argv(data):
    model = sciml.train("mgno", data=str(data), epochs=1, progress=False, channels=2,
                        layers=1, levels=2)
    assert model.provenance["command"] == (
        f"sciml.train('mgno', data='{data}', epochs=1, progress=False, channels=2, "
        "layers=1, levels=2)")


@pytest.mark.parametrize("change, named", [
    (["--seed", "1"], "seed"), (["--lr", "0.01"], "optimizer"),
    (["--set", "channels=3"], "config"), (["--epochs", "3"], "cannot be extended")])
def test_a_kept_checkpoint_of_another_run_is_refused_naming_what_differs(
        capsys, data, tmp_path, change, named):
    out = tmp_path / "m.pt"
    assert mgno(capsys, data, out, "--keep-checkpoint")[0] == 0
    assert (tmp_path / "m.pt.ckpt").exists()
    before = out.read_bytes()
    code, err = mgno(capsys, data, out, "--overwrite", *change)
    assert code == 2 and named in err and "--no-resume" in err
    assert len(err.splitlines()) == 1
    assert out.read_bytes() == before                     # nothing trained, nothing written
    assert mgno(capsys, data, out, "--overwrite", "--no-resume", *change)[0] == 0
    assert not (tmp_path / "m.pt.ckpt").exists()


def test_a_checkpoint_on_other_data_is_refused(capsys, data, tmp_path):
    other = tmp_path / "other.h5"
    rng = np.random.default_rng(5)
    spec = DatasetSpec(generator="darcy", parameters={"f": 1.0}, seed=5, samples=6,
                       fields={"a": (9, 9), "u": (9, 9)},
                       splits={"train": (0, 4), "test": (4, 6)})
    write_dataset(other, spec, {"a": rng.uniform(1, 2, (6, 9, 9)),
                                "u": rng.standard_normal((6, 9, 9))})
    out = tmp_path / "m.pt"
    assert mgno(capsys, data, out, "--keep-checkpoint")[0] == 0
    code, err = mgno(capsys, other, out, "--overwrite")
    assert code == 2 and "training data differ" in err


def test_out_never_replaces_the_training_data_nor_an_existing_file(capsys, data, tmp_path):
    before = data.read_bytes()
    for flags in ([], ["--overwrite"]):
        code, err = mgno(capsys, data, data, *flags)
        assert code == 2 and "also an input" in err
    assert data.read_bytes() == before
    code, err = mgno(capsys, data, tmp_path / "m.pt", "--checkpoint", tmp_path / "m.pt")
    assert code == 2 and "also an input" in err
    existing = tmp_path / "x.pt"
    existing.write_text("mine")
    code, err = mgno(capsys, data, existing)
    assert code == 2 and "already exists" in err and existing.read_text() == "mine"


def test_deep_cd_trains_without_data_and_refuses_an_existing_report(capsys, tmp_path):
    out = tmp_path / "net.pt"
    (tmp_path / "net.json").write_text("{}")
    argv = ["deep_cd", "--shape", 8, 8, 8, "--samples", 8, "--epochs", 1, "--seed", 0,
            "--out", out, "--set", "channels=2", "--no-progress"]
    code, err = cli(capsys, *argv)
    assert code == 2 and "net.json already exists" in err and not out.exists()
    (tmp_path / "net.json").unlink()
    code, err = cli(capsys, *argv)
    assert code == 0, err
    model = sciml.load_model(out)
    assert model.config["channels"] == 2 and model.provenance["data"]["shape"] == [8, 8, 8]
    assert not (tmp_path / "net.pt.ckpt").exists()       # deep_cd used to keep OUT.ckpt


def test_model_is_saved_before_a_failing_evaluation(capsys, data, tmp_path):
    empty = tmp_path / "empty_test.h5"
    spec = DatasetSpec(generator="darcy", parameters={"f": 1.0}, seed=0, samples=2,
                       fields={"a": (9, 9), "u": (9, 9)},
                       splits={"train": (0, 2), "test": (2, 2)})
    write_dataset(empty, spec, {"a": np.ones((2, 9, 9)), "u": np.ones((2, 9, 9))})
    out = tmp_path / "m.pt"
    code, err = mgno(capsys, data, out, "--test", empty)
    assert code == 2 and "model is saved" in err
    assert sciml.load_model(out).method == "mgno"


@pytest.mark.parametrize("argv, message", [
    (["--data", "missing.h5"], "no such file"),
    (["--set", "channels=abc"], "channels"),
    (["--lr", "nan"], "learning rate"),
    (["--val-fraction", "1"], "val_fraction"),
    (["--samples", "0"], "samples must be >= 1"),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--set", "chanels=2"], "chanels"),
    (["--split", "trian"], "trian"),
    (["--ema", "1"], "ema must be a decay in (0, 1)"),
])
def test_user_mistakes_get_one_line_and_exit_2(capsys, data, tmp_path, argv, message):
    base = ["mgno", "--data", data, "--epochs", 1, "--out", tmp_path / "m.pt", "--no-progress"]
    if argv[0] == "--data":
        base[1:3] = []
    code, err = cli(capsys, *base, *argv)
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_is_a_clear_error(capsys, data, tmp_path):
    code, err = mgno(capsys, data, tmp_path / "m.pt", "--device", "cuda")
    assert code == 2 and "no CUDA GPU" in err


@pytest.mark.parametrize("out", [".", "folder"])
def test_out_that_is_a_directory_is_refused(capsys, data, tmp_path, out, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    code, err = mgno(capsys, data, out)
    assert code == 2 and "is a directory" in err


def test_unwritable_or_missing_folder_is_refused_before_training(capsys, data, tmp_path,
                                                                 monkeypatch):
    code, err = mgno(capsys, data, tmp_path / "nope" / "m.pt")
    assert code == 2 and "does not exist" in err
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked)
                        else real(p, mode))             # root ignores chmod; simulate it
    code, err = mgno(capsys, data, locked / "m.pt")
    assert code == 2 and "not writable" in err


def test_misspelled_split_raises_listing_the_files_splits(data):
    with pytest.raises(DataFileError, match="no split 'trian'; its splits: all, train, test"):
        sciml.train("mgno", data=str(data), split="trian", epochs=1, progress=False)
    model = sciml.train("mgno", data=str(data), split="all", epochs=1, progress=False,
                        channels=2, layers=1, levels=2)
    with pytest.raises(DataFileError, match="no split 'tset'"):
        sciml.evaluate(model, data=str(data), split="tset")
    assert set(sciml.evaluate(model, data=str(data), split="test")) == {"rel_l2", "rel_h1"}


def test_python_api_save_refuses_to_overwrite(data, tmp_path):
    model = sciml.train("mgno", data=str(data), epochs=1, progress=False, channels=2,
                        layers=1, levels=2)
    path = model.save(tmp_path / "m.pt")
    with pytest.raises(UsageError, match="already exists"):
        model.save(path)
    model.save(path, overwrite=True)
    with pytest.raises(UsageError, match="is a directory"):
        model.save(tmp_path)


def test_vocabulary_is_shared_and_checked():
    with pytest.raises(InvalidOptionError, match="unknown optimizer 'adamm'"):
        sciml.train("deep_cd", optimizer="adamm", epochs=1)
    with pytest.raises(InvalidOptionError, match="unknown schedule"):
        sciml.train("mgno", data=(np.ones((4, 9, 9)), np.ones((4, 9, 9))), schedule="cyclic")
    with pytest.raises(InvalidOptionError, match="batch_size must be >= 1"):
        sciml.train("deep_cd", batch_size=0)
    with pytest.raises(InvalidOptionError, match="network 'multigrid' of 'deep_cd' has no"):
        sciml.train("deep_cd", network=("multigrid", {"layers": 3}))
    with pytest.raises(InvalidOptionError, match="ema must be a decay"):
        sciml.train("dgno", data="unused.h5", ema=0.0)


def test_a_second_training_on_the_same_output_fails_at_once_naming_the_first(tmp_path, capsys):
    from sciml.io.datasets import RunLock

    out = tmp_path / "net.pt"
    holder = RunLock(f"{out}.lock", {"method": "deep_cd", "command": "sciml train deep_cd"},
                     what="training")
    try:
        rc = main(["train", "deep_cd", "--shape", "8", "8", "8", "--samples", "8",
                   "--epochs", "1", "--out", str(out), "--no-progress"])
    finally:
        holder.release()
    err = capsys.readouterr().err
    assert rc == 2 and "another training is writing" in err and "sciml train deep_cd" in err
    assert not out.exists()
