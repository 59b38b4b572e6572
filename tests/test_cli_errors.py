"""Every user mistake on the command line: one ``... error: ...`` line on stderr, exit code 2."""

from __future__ import annotations

import os

import pytest

from sciml import cli
from sciml.errors import InvalidOptionError, UsageError

SMALL = ["--resolution", "64", "--downsample", "4", "--quiet", "--workers", "1"]


def burgers(out, *extra):
    return ["datagen", "burgers", "--samples", "2", "--out", str(out), *SMALL, *extra]


# (argv builder given tmp_path, substring the one line must contain)
CASES = {
    "rtol -1": (lambda t: ["solve", "poisson", "--shape", "4", "4", "--rtol", "-1"],
                "--rtol and --atol must be finite and >= 0, got -1.0"),
    "rtol nan": (lambda t: ["solve", "poisson", "--shape", "4", "4", "--rtol", "nan"],
                 "--rtol and --atol must be finite"),
    "maxiter -1": (lambda t: ["solve", "poisson", "--shape", "4", "4", "--maxiter", "-1"],
                   "--maxiter must be >= 0, got -1"),
    "mgno on poisson": (lambda t: ["solve", "poisson", "--method", "mgno"],
                        "mgno learns an operator: it solves DarcyFlow/Burgers problems"),
    "unknown method": (lambda t: ["solve", "poisson", "--method", "nosuch"], "nosuch"),
    "missing model": (lambda t: ["solve", "poisson", "--shape", "4", "4", "4", "--method",
                                 "deep_cd", "--option", "model=missing.pt"],
                      "model file 'missing.pt' does not exist"),
    "bad option value": (lambda t: ["solve", "poisson", "--shape", "4", "4", "4", "--method",
                                    "deep_cd", "--option", "k=abc"],
                         "option k='abc' is invalid; expected an integer >= 0"),
    "cuda without a gpu": (lambda t: ["solve", "poisson", "--shape", "4", "4", "4", "--method",
                                      "deep_cd", "--option", "device=cuda"],
                           "torch sees no CUDA GPU"),
    "option without =": (lambda t: ["solve", "poisson", "--option", "foo"],
                         "--option expects KEY=VALUE, got 'foo'"),
    "shape 0": (lambda t: ["solve", "poisson", "--shape", "0"], "positive"),
    "train without method": (lambda t: ["train"], "usage: sciml train METHOD"),
    "bench without name": (lambda t: ["bench"], "usage: sciml bench NAME"),
    "samples 0": (lambda t: ["datagen", "burgers", "--samples", "0", "--out",
                             str(t / "b.h5"), *SMALL], "samples must be >= 1, got 0"),
    "workers 0": (lambda t: burgers(t / "b.h5", "--workers", "0"), "workers must be >= 1"),
    "chunk size 0": (lambda t: burgers(t / "b.h5", "--chunk-size", "0"),
                     "chunk_size must be >= 1"),
    "test samples > samples": (lambda t: burgers(t / "b.h5", "--test-samples", "5"),
                               "test_samples must be in [0, 2], got 5"),
    "nu -1": (lambda t: burgers(t / "b.h5", "--nu", "-1"), "burgers data: need nu > 0"),
    "dt nan": (lambda t: burgers(t / "b.h5", "--dt", "nan"), "t >= 0 and dt > 0"),
    "darcy low -1": (lambda t: ["datagen", "darcy", "--samples", "1", "--resolution", "9",
                                "--low", "-1", "--out", str(t / "d.h5"), "--quiet"],
                     "darcy data: need high > 0 and low > 0"),
    "darcy resolution 2": (lambda t: ["datagen", "darcy", "--samples", "1", "--resolution",
                                      "2", "--out", str(t / "d.h5"), "--quiet"],
                           "resolution >= 3 (got 2)"),
    "poisson rtol 0": (lambda t: ["datagen", "poisson", "--samples", "1", "--shape", "4",
                                  "--rtol", "0", "--out", str(t / "p.h5"), "--quiet"],
                       "0 < rtol < 1 (got 0.0)"),
    "convection length 0": (lambda t: ["datagen", "convection", "--length", "0", "--out",
                                       str(t / "c.h5"), "--quiet"], "length > 0"),
    "out is a directory": (lambda t: burgers(t), "is a directory; give a file path"),
    "out is .": (lambda t: burgers("."), "'.' is a directory"),
    "out folder missing": (lambda t: burgers(t / "nowhere" / "b.h5"), "does not exist"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_user_error_is_one_line_and_exit_code_2(case, tmp_path, capsys):
    argv, message = CASES[case]
    if case == "cuda without a gpu" and pytest.importorskip("torch").cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    rc = cli.main(argv(tmp_path))
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sciml") and ": error: " in lines[0]
    assert message in lines[0]
    assert not list(tmp_path.glob("*.partial")), "a refused run must leave no partial folder"


def test_an_existing_output_is_refused_in_one_line(tmp_path, capsys):
    assert cli.main(burgers(tmp_path / "b.h5")) == 0
    capsys.readouterr()
    assert cli.main(burgers(tmp_path / "b.h5")) == 2
    assert "exists; pass overwrite=True" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused_before_any_work(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert cli.main(burgers(folder / "b.h5")) == 2
    finally:
        folder.chmod(0o755)
    assert "is not writable" in capsys.readouterr().err


def test_a_rejected_datagen_command_works_once_corrected(tmp_path, capsys):
    out = tmp_path / "b.h5"
    assert cli.main(burgers(out, "--nu", "-1")) == 2
    assert not out.with_name("b.h5.partial").exists()
    assert cli.main(burgers(out, "--nu", "0.1")) == 0, capsys.readouterr().err
    assert out.exists()


def test_out_of_memory_is_reported_as_memory(monkeypatch, capsys):
    import sciml.api

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(sciml.api, "solve", exhausted)
    assert cli.main(["solve", "poisson", "--shape", "4", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sciml: error: out of memory" in err


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.delenv("SCIML_DEBUG", raising=False)
    with pytest.raises(InvalidOptionError, match="--rtol and --atol"):
        cli.main(["--debug", "solve", "poisson", "--rtol", "-1"])
    with pytest.raises(UsageError, match="samples must be >= 1"):
        cli.main(["datagen", "burgers", "--samples", "0", "--out", "x.h5", "--debug"])


def test_a_real_bug_keeps_its_traceback(monkeypatch):
    import sciml.api

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(sciml.api, "solve", bug)
    with pytest.raises(ZeroDivisionError):
        cli.main(["solve", "poisson", "--shape", "4", "4"])
