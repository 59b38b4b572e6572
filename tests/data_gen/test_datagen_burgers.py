"""Burgers: the ETDRK4 pseudo-spectral solver against an exact Cole-Hopf solution."""

import numpy as np
import pytest

from sciml.data_gen import burgers
from sciml.errors import InvalidProblemError

NU = 0.1
#: heat-equation modes (wavenumber, amplitude, phase) of phi; 1 + sum|amplitude| < 2 keeps phi > 0
MODES = ((1, 0.6, 0.0), (2, 0.25, 1.0), (3, 0.1, 2.0))


def cole_hopf(x, t, nu=NU):
    """u = -2 nu phi_x / phi with phi = 1 + sum_k c_k exp(-nu (2 pi k)^2 t) cos(2 pi k x + p_k).

    phi solves phi_t = nu phi_xx, so u solves u_t + u u_x = nu u_xx (Cole-Hopf); periodic.
    """
    phi, phi_x = np.ones_like(x), np.zeros_like(x)
    for k, c, p in MODES:
        w = 2 * np.pi * k
        decay = c * np.exp(-nu * w**2 * t)
        phi += decay * np.cos(w * x + p)
        phi_x -= decay * w * np.sin(w * x + p)
    return -2 * nu * phi_x / phi


def rel_l2(u, v):
    return np.linalg.norm(u - v) / np.linalg.norm(v)


def test_agrees_with_exact_cole_hopf_solution_to_1e_6_at_t_1():
    x = np.arange(1024) / 1024
    u0 = cole_hopf(x, 0.0)
    assert np.abs(u0).max() > 1.5          # a steep, strongly nonlinear start
    assert rel_l2(burgers.solve(u0, NU, 1.0), cole_hopf(x, 1.0)) < 1e-6


def test_snapshots_agree_with_cole_hopf_at_every_time():
    x = np.arange(512) / 512
    path = burgers.solve(cole_hopf(x, 0.0), NU, 1.0, snapshots=4)
    assert path.shape == (5, 512)
    for k, t in enumerate(np.linspace(0, 1, 5)):
        assert rel_l2(path[k], cole_hopf(x, t)) < 1e-6


def test_time_stepping_is_fourth_order():
    x = np.arange(256) / 256
    u0, exact = cole_hopf(x, 0.0), cole_hopf(x, 1.0)
    errors = [rel_l2(burgers.solve(u0, NU, 1.0, dt=dt), exact) for dt in (0.04, 0.02)]
    assert 12 < errors[0] / errors[1] < 20


def test_batched_states_evolve_independently():
    x = np.arange(128) / 128
    u0 = np.stack([cole_hopf(x, 0.0), np.sin(2 * np.pi * x)])
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
