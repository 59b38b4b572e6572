"""Convection-diffusion: the Fourier-multiplier reference is exact."""

import numpy as np

from sciml.data_gen import convection
from sciml.data import load


def test_another_period_is_rescaled_to_the_same_exact_solution():
    x = np.arange(64) * 3.0 / 64
    u = convection.solve(np.sin(2 * np.pi * x / 3.0), [0.0, 0.5], beta=2.0, nu=0.01,
                         length=3.0)
    exact = np.exp(-0.01 * (2 * np.pi / 3.0) ** 2 * 0.5) * np.sin(2 * np.pi * (x - 1.0) / 3.0)
    np.testing.assert_allclose(u[0], np.sin(2 * np.pi * x / 3.0), atol=1e-13)
    np.testing.assert_allclose(u[1], exact, atol=1e-12)


def test_solutions_compose_in_time_for_random_initial_states():
    u0 = np.random.default_rng(0).standard_normal(64)
    once = convection.solve(u0, 0.7, beta=5.0, nu=0.01)
    twice = convection.solve(convection.solve(u0, 0.3, beta=5.0, nu=0.01), 0.4, beta=5.0,
                             nu=0.01)
    np.testing.assert_allclose(once, twice, atol=1e-12)


def test_pinn_benchmark_file_holds_the_space_time_grid(tmp_path):
    path = convection.generate(tmp_path / "c.h5", beta=30.0, nx=64, nt=5, progress=False)
    arrays = load(path, "all")
    assert arrays["a"].shape == (1, 64) and arrays["u"].shape == (1, 5, 64)
    x = np.arange(64) * 2 * np.pi / 64
    np.testing.assert_allclose(arrays["u"][0, -1], np.sin(x - 30.0), atol=1e-6)


def test_random_initial_states_have_unit_variance(tmp_path):
    path = convection.generate(tmp_path / "g.h5", 200, initial="grf", nx=64, nt=2,
                               progress=False)
    a = load(path, "all")["a"]
    assert abs(float(np.mean(a.astype(float) ** 2)) - 1.0) < 0.15
