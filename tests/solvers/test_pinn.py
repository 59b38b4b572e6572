"""pinn and lpinn: exact initial condition, the way back to the grid, training, seeds."""

import math

import numpy as np
import pytest
import torch

import sciml
from sciml.errors import InvalidOptionError
from sciml.problems import Burgers1D, Convection1D
from sciml.solvers.pinn.grid import to_eulerian
from sciml.solvers.pinn.initial import TrigInterpolant
from sciml.solvers.pinn.lpinn import LagrangianNetwork

torch.set_num_threads(1)
#: a few seconds of training: enough to see the loss move, far from converged
TINY = {"width": 12, "depth": 2, "points": 128, "steps": (40, 10), "times": 5}


def rel_l2(u, v):
    return np.linalg.norm(u - v) / np.linalg.norm(v)


@pytest.mark.parametrize("ic", ["exact", "penalty"])
def test_the_exact_initial_condition_holds_by_construction(ic):
    u0 = np.random.default_rng(1).standard_normal(32)
    p = Convection1D(beta=40.0, u0=u0, points=32)
    torch.manual_seed(0)
    model = LagrangianNetwork(p, width=8, depth=2, x_depth=2, ic=ic).double()
    x0 = torch.tensor(p.x)
    X, u = model(x0, torch.zeros_like(x0))
    errors = (np.abs(X.detach().numpy() - p.x).max(), np.abs(u.detach().numpy() - u0).max())
    if ic == "exact":
        assert max(errors) < 1e-12
    else:                                 # the paper's form has to learn it
        assert max(errors) > 1e-3


def test_the_initial_state_is_interpolated_exactly_between_grid_points_when_band_limited():
    interpolant = TrigInterpolant(np.sin(np.arange(16) * 2 * np.pi / 16) + 0.5, 2 * np.pi)
    x = torch.linspace(0, 7, 50, dtype=torch.float64)
    np.testing.assert_allclose(interpolant(x).numpy(), np.sin(x.numpy()) + 0.5, atol=1e-13)


def test_the_identity_map_is_interpolated_back_to_the_grid_exactly():
    x = np.arange(64) * 2 * np.pi / 64
    u = np.random.default_rng(0).standard_normal((3, 64))
    X = np.stack([x, x + 2 * np.pi, x - 4 * np.pi])   # the same points, a period or two away
    back = to_eulerian(X, u, x, 2 * np.pi)
    np.testing.assert_array_equal(back[0], u[0])
    np.testing.assert_allclose(back[1:], u[1:], rtol=0, atol=1e-12)  # rounding of the modulo


@pytest.mark.parametrize("method, options", [
    ("lpinn", {}), ("lpinn", {"ic": "penalty"}), ("pinn", {}), ("pinn", {"causal": 1.0})])
def test_a_few_steps_of_training_lower_the_loss(method, options):
    p = Convection1D(beta=10.0, points=32)
    sol = sciml.solve(p, method=method, **TINY, **options)
    history = sol.info["history"]
    assert len(history) == sol.iterations == 50 and sol.info["stage_ends"] == [40, 50]
    assert history[-1] < 0.5 * history[0]
    assert sol.converged is None and sol.x.shape == (32,)
    assert sol.info["u_tx"].shape == (5, 32) and sol.info["t"][-1] == 1.0


def test_lpinn_learns_the_characteristics_of_convection():
    p = Convection1D(beta=10.0, points=64)
    sol = sciml.solve(p, method="lpinn", width=20, depth=2, points=256, steps=(300, 150),
                      times=11)
    exact = sciml.solve(p, method="spectral", times=11)
    assert rel_l2(sol.info["u_tx"], exact.info["u_tx"]) < 1e-2
    t = sol.info["t"][:, None]
    np.testing.assert_allclose(sol.info["characteristics"], p.x + 10.0 * t, atol=0.1)


def test_lpinn_on_viscous_burgers_follows_its_characteristics_with_speed_u():
    p = Burgers1D(-np.sin(2 * np.pi * np.arange(32) / 32), nu=0.05, t=0.2)
    sol = sciml.solve(p, method="lpinn", **TINY)
    assert np.all(np.isfinite(sol.info["u_tx"])) and sol.info["characteristics"].shape == (5, 32)
    assert sol.info["history"][-1] < sol.info["history"][0]


@pytest.mark.parametrize("method", ["pinn", "lpinn"])
def test_a_seed_reproduces_the_solution_and_another_seed_does_not(method):
    p = Convection1D(beta=5.0, points=16)
    options = {**TINY, "steps": (15, 5)}
    a, b = (sciml.solve(p, method=method, seed=3, **options) for _ in range(2))
    c = sciml.solve(p, method=method, seed=4, **options)
    np.testing.assert_array_equal(a.info["u_tx"], b.info["u_tx"])
    assert a.info["history"] == b.info["history"]
    assert not np.array_equal(a.info["u_tx"], c.info["u_tx"])


def test_a_non_finite_loss_fails_the_solution_with_a_warning(monkeypatch):
    from sciml.solvers.pinn.pinn import PINN

    monkeypatch.setattr(PINN, "loss", lambda self, model, problem, points, options:
                        math.nan * sum(q.sum() for q in model.parameters()))
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        sol = sciml.solve(Convection1D(beta=1.0, points=16), method="pinn", **TINY)
    assert sol.converged is False and sol.iterations == 1


@pytest.mark.parametrize("options, message", [
    ({"steps": (10, 10, 10)}, "3 counts for 2 stages"),
    ({"weights": {"ic": 1.0}}, r"weights \['ic'\] are not loss terms"),
    ({"stages": (("sgd", {}),)}, "option stages="),
    ({"stages": (("adam", {"momentum": 0.9}),)}, "option stages="),
    ({"causal": -1.0}, "eps > 0"),
    ({"sampling": "sobol"}, "one of"),
    ({"times": 1}, "option times=1 is invalid"),
    ({"widht": 10}, "does not accept option 'widht'"),
])
def test_bad_options_are_refused_before_training(options, message):
    with pytest.raises(InvalidOptionError, match=message):
        sciml.solve(Convection1D(beta=1.0, points=16), method="pinn", **options)


def test_lpinn_accepts_the_initial_condition_weight_only_in_the_penalty_form():
    p = Convection1D(beta=1.0, points=16)
    with pytest.raises(InvalidOptionError, match=r"weights \['ic'\] are not loss terms here"):
        sciml.prepare(p, method="lpinn", weights={"ic": 10.0})
    prepared = sciml.prepare(p, method="lpinn", ic="penalty", weights={"ic": 10.0})
    assert prepared.options["weights"] == {"x": 10.0, "u": 1.0, "ic": 10.0}
