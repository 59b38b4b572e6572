"""The datagen command line."""

import numpy as np

from sciml.data_gen.cli import main
from sciml.io.datasets import read_arrays, read_info


def test_darcy_command_records_family_flags_and_seed_in_the_file(tmp_path, capsys):
    out = tmp_path / "d.h5"
    status = main(["darcy", "--family", "two-phase", "--samples", "3", "--out", str(out),
                   "--seed", "5", "--workers", "1", "--test-samples", "1", "--quiet"])
    assert status == 0
    assert "wrote" in capsys.readouterr().out
    info = read_info(out)
    assert info.spec.generator == "darcy" and info.spec.seed == 5
    assert info.spec.parameters["family"] == "two-phase"
    assert info.spec.parameters["resolution"] == 113 and info.spec.parameters["f"] == 10.0
    assert info.spec.splits == {"train": (0, 2), "test": (2, 3)}


def test_overrides_reach_the_generator(tmp_path):
    out = tmp_path / "d.h5"
    assert main(["darcy", "--samples", "2", "--resolution", "21", "--downsample", "5",
                 "--tau", "5", "--low", "2", "--out", str(out), "--workers", "1",
                 "--quiet"]) == 0
    assert read_info(out).spec.parameters["tau"] == 5.0
    assert set(np.unique(read_arrays(out)["a"])) <= {2.0, 12.0}
    assert read_arrays(out)["a"].shape == (2, 5, 5)


def test_user_errors_print_one_line_and_exit_with_status_2(tmp_path, capsys):
    out = tmp_path / "c.h5"
    assert main(["convection", "--out", str(out), "--quiet"]) == 0
    assert main(["convection", "--out", str(out), "--quiet"]) == 2
    assert "exists; pass overwrite" in capsys.readouterr().err
    assert main(["burgers", "--samples", "2", "--resolution", "100", "--downsample", "8",
                 "--out", str(tmp_path / "b.h5"), "--quiet"]) == 2
    assert "divisible" in capsys.readouterr().err
