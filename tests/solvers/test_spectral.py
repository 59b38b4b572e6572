"""The spectral reference: exact Fourier multiplier (convection) and ETDRK4 (Burgers)."""

import numpy as np
import pytest

import sciml
from sciml.errors import InvalidOptionError, UnsupportedTypeError
from sciml.problems import Burgers1D, Convection1D

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


@pytest.mark.parametrize("beta", [30.0, 100.0, -7.5])
def test_convection_equals_the_shifted_sine_to_1e_12(beta):
    p = Convection1D(beta=beta)
    sol = sciml.solve(p, method="spectral")
    t = sol.info["t"]
    exact = np.sin(p.x[None, :] - beta * t[:, None])
    assert sol.info["u_tx"].shape == (100, 256) and t[0] == 0 and t[-1] == 1
    assert np.abs(sol.info["u_tx"] - exact).max() < 1e-12
    assert np.abs(sol.x - exact[-1]).max() < 1e-12 and sol.converged


def test_convection_diffusion_damps_the_sine_exactly():
    p = Convection1D(beta=30.0, nu=0.05)
    sol = sciml.solve(p, method="spectral", times=[0.0, 0.4, 1.0])
    t = np.array([0.0, 0.4, 1.0])
    exact = np.exp(-0.05 * t)[:, None] * np.sin(p.x[None, :] - 30.0 * t[:, None])
    assert np.abs(sol.info["u_tx"] - exact).max() < 1e-12


def test_burgers_agrees_with_cole_hopf_to_1e_6_at_every_output_time():
    x = np.arange(1024) / 1024
    u0 = cole_hopf(x, 0.0)
    assert np.abs(u0).max() > 1.5          # a steep, strongly nonlinear start
    sol = sciml.solve(Burgers1D(u0, NU, 1.0), method="spectral", times=5)
    for row, t in zip(sol.info["u_tx"], sol.info["t"]):
        assert rel_l2(row, cole_hopf(x, t)) < 1e-6
    assert sol.converged and sol.info["algorithm"] == "ETDRK4"


def test_burgers_time_stepping_is_fourth_order():
    x = np.arange(256) / 256
    u0, exact = cole_hopf(x, 0.0), cole_hopf(x, 1.0)
    errors = [rel_l2(sciml.solve(Burgers1D(u0, NU), method="spectral", times=2, dt=dt).x,
                     exact) for dt in (0.04, 0.02)]
    assert 12 < errors[0] / errors[1] < 20


def test_a_blow_up_is_a_failed_solution_with_a_warning():
    x = np.arange(64) / 64
    with pytest.warns(RuntimeWarning, match="smaller dt"):
        sol = sciml.solve(Burgers1D(50 * np.sin(2 * np.pi * x), nu=1e-3), method="spectral",
                          dt=0.5, times=2)
    assert sol.converged is False


def test_bad_times_and_problems_are_refused():
    p = Convection1D(beta=1.0, points=16)
    for times in (1, [0.0, 0.5], [0.5, 0.2, 1.0], "ten"):
        with pytest.raises(InvalidOptionError, match="times"):
            sciml.solve(p, method="spectral", times=times)
    with pytest.raises(UnsupportedTypeError, match="periodic evolution"):
        sciml.solve(sciml.problems.Poisson(shape=(8,)), method="spectral")
