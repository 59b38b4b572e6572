"""The Burgers generator: ``sciml.solve(..., method="spectral")`` per state, files, errors.

The solver's accuracy (against Cole-Hopf) is tested in tests/solvers/test_spectral.py."""

import numpy as np
import pytest

import sciml
from sciml.data_gen import burgers
from sciml.errors import InvalidProblemError
from sciml.problems import Burgers1D

NU = 0.1


def test_the_generator_solves_with_sciml_spectral():
    x = np.arange(128) / 128
    u0 = np.sin(2 * np.pi * x) + 0.5 * np.cos(4 * np.pi * x)
    path = burgers.solve(u0, NU, 0.5, snapshots=2)
    sol = sciml.solve(Burgers1D(u0, NU, 0.5), method="spectral", times=3)
    assert path.shape == (3, 128)
    np.testing.assert_array_equal(path, sol.info["u_tx"])


def test_batched_states_evolve_independently():
    x = np.arange(128) / 128
    u0 = np.stack([np.cos(2 * np.pi * x) ** 3, np.sin(2 * np.pi * x)])
    batch = burgers.solve(u0, NU, 0.3)
    for row, start in zip(batch, u0):
        np.testing.assert_allclose(row, burgers.solve(start, NU, 0.3), rtol=0, atol=1e-13)


def test_fno_data_set_is_stored_downsampled_with_its_parameters(tmp_path):
    from sciml.io.datasets import read_info

    path = burgers.generate(tmp_path / "b.h5", 3, resolution=256, downsample=4,
                            progress=False)
    spec = read_info(path).spec
    assert spec.fields == {"a": (64,), "u": (64,)}
    assert spec.parameters["sigma"] == 25.0 and spec.parameters["nu"] == 0.1
    np.testing.assert_allclose(spec.coords["x"], np.arange(64) / 64)


def test_blow_up_and_bad_arguments_are_reported():
    x = np.arange(64) / 64
    with pytest.raises(InvalidProblemError, match="nu > 0"):
        burgers.solve(np.sin(2 * np.pi * x), nu=0.0)
    with pytest.raises(InvalidProblemError, match="smaller dt"):
        burgers.solve(50 * np.sin(2 * np.pi * x), nu=1e-3, t=1.0, dt=0.5)
