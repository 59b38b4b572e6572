"""DGNO: its parts against independent computations, training, saving, forward and inverse."""

import math

import h5py
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import sciml  # noqa: E402
from sciml.errors import (  # noqa: E402
    DataFileError,
    InvalidOptionError,
    InvalidProblemError,
    ModelMismatchError,
)
from sciml.problems import DarcyFlow, DarcyInverse, assemble_darcy  # noqa: E402
from sciml.solvers.dgno.model import grid_points  # noqa: E402
from sciml.solvers.dgno.multionet import ACTIVATIONS, MLP, MultiONet  # noqa: E402
from sciml.solvers.dgno.objectives import darcy_fd_residual  # noqa: E402
from sciml.solvers.dgno.weak_form import (  # noqa: E402
    DiskTestFunctions,
    disk_quadrature,
    latin_hypercube,
    mixed_form_loss,
    wendland_c4,
    wendland_c4_gradient,
)

TINY = {"width": 16, "depth": 3, "sum_layers": 2, "latent": 8, "encoder_hidden": [32],
        "progress": False, "centres": 20}


@pytest.fixture(scope="module")
def twophase(tmp_path_factory):
    """A small two-phase Darcy file (13 x 13 nodes from a 4x refined grid)."""
    from sciml.data_gen.darcy import generate

    path = tmp_path_factory.mktemp("dgno") / "twophase.h5"
    generate(path, 24, family="two-phase", resolution=49, seed=0, workers=1,
             test_samples=4, progress=False)
    return path


@pytest.fixture(scope="module")
def model(twophase):
    return sciml.train("dgno", data=twophase, epochs=3, seed=0, **TINY)


# -- the parts ----------------------------------------------------------------------------
def test_wendland_value_and_gradient_match_the_formula_and_finite_differences():
    r = torch.tensor([0.0, 0.3, 0.7, 1.0, 1.5], dtype=torch.float64)
    expected = [(1 - x) ** 6 * (35 * x**2 + 18 * x + 3) / 3 if x < 1 else 0.0 for x in r]
    assert torch.allclose(wendland_c4(r), torch.tensor(expected, dtype=torch.float64))
    radius, eps = 0.05, 1e-6
    z = torch.tensor([[0.2, -0.4], [0.0, 0.0], [-0.6, 0.5]], dtype=torch.float64)
    grad = wendland_c4_gradient(z, radius)
    for axis in range(2):
        step = torch.zeros(2, dtype=torch.float64)
        step[axis] = eps / radius        # x moves by eps, so z moves by eps / R
        fd = (wendland_c4((z + step).norm(dim=1)) - wendland_c4((z - step).norm(dim=1))) / (
            2 * eps)
        assert torch.allclose(grad[:, axis], fd, atol=1e-5 * (1 / radius))


@pytest.mark.parametrize("m, count", [(7, 25), (8, 32), (9, 45)])
def test_disk_quadrature_counts_the_grid_points_inside_the_unit_disk(m, count):
    z = disk_quadrature(m)
    assert len(z) == count and np.all(np.hypot(z[:, 0], z[:, 1]) < 1)


def test_latin_hypercube_puts_one_point_in_each_stratum():
    pts = latin_hypercube(10, 0.0, 1.0, torch.Generator().manual_seed(3), torch.float64)
    for axis in range(2):
        assert sorted((pts[:, axis] * 10).floor().long().tolist()) == list(range(10))


def _manufactured(points, perturb=0.0):
    """u = sin(pi x) sin(pi y) (+ a perturbation), a = 1 + x^2 y, s = a grad u, f = -div s."""
    x, y = points[:, 0], points[:, 1]
    pi = math.pi
    a = 1 + x**2 * y
    u_x = pi * torch.cos(pi * x) * torch.sin(pi * y)
    u_y = pi * torch.sin(pi * x) * torch.cos(pi * y)
    lap = -2 * pi**2 * torch.sin(pi * x) * torch.sin(pi * y)
    f = -(a * lap + 2 * x * y * u_x + x**2 * u_y)
    d_x = perturb * 3 * pi * torch.cos(3 * pi * x) * torch.sin(2 * pi * y)
    d_y = perturb * 2 * pi * torch.sin(3 * pi * x) * torch.cos(2 * pi * y)
    grad = torch.stack([u_x + d_x, u_y + d_y])
    return a, grad, f


@pytest.mark.parametrize("radius", [0.02, 0.1])
def test_weak_residual_of_a_manufactured_solution_is_small_and_grows_when_perturbed(radius):
    centres = latin_hypercube(50, radius, 1 - radius, torch.Generator().manual_seed(0),
                              torch.float64)
    tests = DiskTestFunctions(centres, radius, torch.from_numpy(disk_quadrature(9)))
    residual = {}
    for perturb in (0.0, 0.05):
        a, grad, f = _manufactured(tests.points, perturb)
        s = (a * grad).unsqueeze(1)                        # (2, batch=1, points)
        weak = tests.residuals(s, f.unsqueeze(0))
        residual[perturb] = float(weak.abs().max())
        # the mixed loss is exactly the weak part when s = a grad u
        assert float(mixed_form_loss(s, a * grad.unsqueeze(1), weak)) == pytest.approx(
            math.sqrt(50) * float(weak.pow(2).mean()))
    scale = float(_manufactured(tests.points)[2].abs().max())
    assert residual[0.0] < 1e-2 * scale
    assert residual[0.05] > 10 * residual[0.0]


def test_multionet_with_one_layer_in_the_sum_is_deeponet():
    torch.manual_seed(0)
    net = MultiONet(6, 2, width=12, depth=3, sum_layers=1).double()
    with torch.no_grad():
        net.weights.fill_(1.7)
        net.bias.fill_(0.3)
    beta, x = torch.rand(4, 6, dtype=torch.float64), torch.rand(9, 2, dtype=torch.float64)
    deeponet = 1.7 * net.branch(beta)[-1] @ net.trunk(x)[-1].T + 0.3
    assert torch.allclose(net(beta, x), deeponet)
    assert torch.equal(MultiONet(6, 2, width=12, depth=3, sum_layers=2)(beta.float(), x.float()),
                       torch.zeros(4, 9))  # w_k and b start at zero


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_hand_propagated_trunk_gradients_equal_autograd(activation):
    torch.manual_seed(1)
    mlp = MLP(2, 10, 3, activation).double()
    x = torch.rand(7, 2, dtype=torch.float64, requires_grad=True)
    _, tangents = mlp.forward_with_tangents(x)
    out = mlp(x)[-1]
    for axis in range(2):
        auto = torch.stack([torch.autograd.grad(out[:, j].sum(), x, retain_graph=True)[0][:, axis]
                            for j in range(10)], dim=1)
        assert torch.allclose(tangents[-1][axis], auto, atol=1e-12)


def test_fd_residual_equals_the_assembled_darcy_system():
    rng = np.random.default_rng(0)
    a = rng.uniform(1, 3, (2, 9, 9))
    u = rng.standard_normal((2, 9, 9))
    u[:, 0], u[:, -1], u[:, :, 0], u[:, :, -1] = 0, 0, 0, 0
    residual = darcy_fd_residual(torch.from_numpy(u), torch.from_numpy(a), 2.0).numpy()
    for i in range(2):
        A, b = assemble_darcy(a[i], 2.0)
        assert np.allclose(residual[i].ravel(), A @ u[i, 1:-1, 1:-1].ravel() - b)


# -- training, saving, the forward problem --------------------------------------------------
def test_two_epochs_lower_the_loss(twophase):
    m = sciml.train("dgno", data=twophase, epochs=2, seed=1, schedule=None, **TINY)
    history = m.provenance["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_dgno_never_opens_u(twophase, tmp_path, monkeypatch):
    stripped = tmp_path / "no_u.h5"
    stripped.write_bytes(twophase.read_bytes())
    with h5py.File(stripped, "r+") as f:
        f["u"][...] = np.nan           # any use of u would poison training with NaN
    opened = []                        # datasets whose values were read
    real_getitem = h5py.Dataset.__getitem__

    def spy(dataset, selection, *args, **kwargs):
        opened.append(dataset.name.strip("/"))
        return real_getitem(dataset, selection, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    m = sciml.train("dgno", data=stripped, epochs=1, seed=0, **TINY)
    assert "a" in opened and "u" not in opened
    assert m.provenance["fields_read"] == ["a"]
    assert all(np.isfinite(h["train_loss"]) for h in m.provenance["history"])
    opened.clear()
    with pytest.raises(DataFileError, match="NaN"):
        sciml.train("mgno", data=stripped, epochs=1, progress=False)
    assert "u" in opened               # the spy sees a method that does read u


def test_train_save_load_gives_identical_predictions(model, twophase, tmp_path):
    a = sciml.data.load(twophase, "test", fields=["a"])["a"]
    problem = DarcyFlow(a=a[0], f=10.0)
    before = sciml.solve(problem, method="dgno", model=model)
    path = model.save(tmp_path / "dgno.pt")
    after = sciml.solve(problem, method="dgno", model=path)
    assert np.array_equal(before.x, after.x)
    assert before.x.shape == (13, 13) and before.converged is None
    assert np.all(before.x[0] == 0) and np.all(before.x[:, -1] == 0)   # exact Dirichlet
    assert set(np.unique(before.info["a_reconstructed"])) <= {5.0, 10.0}
    lp = problem.to_linear_problem()
    expected = lp.residual_norm(problem.vector_from_solution(before.x)) / np.linalg.norm(lp.b)
    assert before.info["relative_residual"] == pytest.approx(expected)
    assert sciml.evaluate(path, data=twophase) == sciml.evaluate(model, data=twophase)


def test_saved_model_loads_with_weights_only(model, tmp_path, monkeypatch):
    path = model.save(tmp_path / "dgno.pt")
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    sciml.load_model(path)
    assert calls and all(flag is True for flag in calls)


def test_evaluate_reports_errors_against_the_stored_solutions(model, twophase):
    metrics = sciml.evaluate(model, data=twophase)
    data = sciml.data.load(twophase, "test")
    pred = np.stack([sciml.solve(DarcyFlow(a=a, f=10.0), method="dgno", model=model).x
                     for a in data["a"]])
    rel = np.linalg.norm((pred - data["u"]).reshape(4, -1), axis=1) / np.linalg.norm(
        data["u"].reshape(4, -1), axis=1)
    assert metrics["rel_l2"] == pytest.approx(rel.mean(), rel=1e-5)
    assert 0 <= metrics["phase_accuracy"] <= 1


def test_batched_forward_solve_matches_single_solves(model, twophase):
    a = sciml.data.load(twophase, "test", fields=["a"])["a"]
    batch = sciml.solve([DarcyFlow(a=x, f=10.0) for x in a], method="dgno", model=model)
    single = sciml.solve(DarcyFlow(a=a[2], f=10.0), method="dgno", model=model)
    assert np.allclose(batch[2].x, single.x, atol=1e-6)


# -- baselines of the family ----------------------------------------------------------------
def test_physics_informed_deeponet_baseline_lowers_the_fd_residual(twophase):
    m = sciml.train("dgno", data=twophase, epochs=2, seed=0, objective="strong_fd",
                    schedule=None, **{**TINY, "sum_layers": 1})
    assert m.config["decoders"] == ["u"] and m.provenance["fields_read"] == ["a"]
    history = m.provenance["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_supervised_baseline_reads_the_solutions(twophase):
    m = sciml.train("dgno", data=twophase, epochs=2, seed=0, objective="supervised", **TINY)
    assert m.provenance["fields_read"] == ["a", "u"]


# -- the inverse problem --------------------------------------------------------------------
def _inverse_problem(twophase, n=40, noise_db=25.0, seed=0):
    data = sciml.data.load(twophase, "test")
    rng = np.random.default_rng(seed)
    idx = rng.choice(13 * 13, n, replace=False)
    points = grid_points(13).numpy()[idx]
    from sciml.solvers.dgno.inverse import observation_noise

    obs = observation_noise(data["u"][0].ravel()[idx].astype(float), noise_db, rng)
    return DarcyInverse(points, obs, noise_db=noise_db, grid=13), data


def test_inverse_lowers_the_misfit_and_reports_its_spread(model, twophase):
    problem, _ = _inverse_problem(twophase)
    sol = sciml.solve(problem, method="dgno", model=model, steps=40, restarts=4)
    history = sol.info["history"]
    assert history[-1] < history[0]
    assert sol.x.shape == (13, 13) and set(np.unique(sol.x)) <= {5.0, 10.0}
    p = sol.info["phase_probability"]
    assert np.all((0 <= p) & (p <= 1))
    assert np.allclose(sol.info["a_std"], 5.0 * np.sqrt(p * (1 - p)))
    assert sol.converged is None
    data_only = sciml.solve(problem, method="dgno", model=model, steps=5, restarts=2,
                            w_pde=0.0)
    assert data_only.x.shape == (13, 13)


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("points, obs, noise, match", [
    ([[0.5, 1.2]], [1.0], 25.0, "outside the unit square"),
    ([[0.5, 0.5], [0.2, 0.2]], [1.0], 25.0, "matching the 2 points"),
    ([[0.5, np.nan]], [1.0], 25.0, "finite"),
    ([[0.5, 0.5]], [np.inf], 25.0, "finite"),
    ([[0.5, 0.5]], [1.0], -5.0, "noise_db"),
    ([0.5, 0.5], [1.0], 25.0, r"\(n, 2\)"),
])
def test_bad_inverse_problems_are_refused(points, obs, noise, match):
    with pytest.raises(InvalidProblemError, match=match):
        DarcyInverse(points, obs, noise_db=noise)


def test_models_of_another_grid_family_or_method_are_refused(model, twophase, tmp_path):
    with pytest.raises(ModelMismatchError, match="13 x 13"):
        sciml.solve(DarcyFlow(a=np.full((17, 17), 5.0), f=10.0), method="dgno", model=model)
    with pytest.raises(ModelMismatchError, match="two-phase"):
        sciml.solve(DarcyFlow(a=np.full((13, 13), 7.0), f=10.0), method="dgno", model=model)
    with pytest.raises(ModelMismatchError, match="f=10"):
        sciml.solve(DarcyFlow(a=np.full((13, 13), 5.0)), method="dgno", model=model)
    problem, _ = _inverse_problem(twophase)
    with pytest.raises(InvalidProblemError, match="grid"):
        sciml.solve(DarcyInverse(problem.points, problem.observations, grid=29),
                    method="dgno", model=model)
    with pytest.raises(ModelMismatchError, match="'dgno' model"):
        sciml.solve(DarcyFlow(a=np.full((13, 13), 5.0)), method="mgno", model=model)
    path = model.save(tmp_path / "m.pt")
    with pytest.raises(ModelMismatchError, match="dgno"):
        sciml.solve(DarcyFlow(a=np.full((13, 13), 5.0)), method="fno", model=path)
    baseline = sciml.train("dgno", data=twophase, epochs=1, objective="strong_fd", **TINY)
    with pytest.raises(InvalidProblemError, match="objective='weak'"):
        sciml.solve(problem, method="dgno", model=baseline)


def test_a_neural_operator_model_is_refused_by_dgno(twophase):
    mgno = sciml.train("mgno", data=twophase, epochs=1, progress=False, channels=4, levels=2)
    with pytest.raises(ModelMismatchError, match="'mgno' model"):
        sciml.solve(DarcyFlow(a=np.full((13, 13), 5.0), f=10.0), method="dgno", model=mgno)


def test_inverse_options_on_a_forward_problem_are_refused(model):
    with pytest.raises(InvalidOptionError, match="restarts.*DarcyInverse"):
        sciml.solve(DarcyFlow(a=np.full((13, 13), 5.0), f=10.0), method="dgno", model=model,
                    restarts=3)


def test_bad_training_options_are_refused(twophase):
    with pytest.raises(InvalidOptionError, match="objective"):
        sciml.train("dgno", data=twophase, objective="strong", **TINY)
    with pytest.raises(InvalidOptionError, match="radius"):
        sciml.train("dgno", data=twophase, radius=0.7, **TINY)
    with pytest.raises(InvalidOptionError, match="activation"):
        sciml.train("dgno", data=twophase, activation="relu", **TINY)


def test_train_command_line_saves_a_model_with_its_test_metrics(twophase, tmp_path):
    from sciml.cli import main as cli_main

    out = tmp_path / "dgno.pt"
    code = cli_main(["train", "dgno", "--data", str(twophase), "--epochs", "1", "--out",
                     str(out), "--test", str(twophase), "--centres", "10", "--set", "width=8",
                     "--set", "depth=2", "--set", "sum_layers=1", "--set", "latent=4",
                     "--no-progress"])
    assert code == 0
    model = sciml.load_model(out)
    assert model.method == "dgno" and model.config["network"]["width"] == 8
    assert {"rel_l2", "phase_accuracy"} <= set(model.metrics)


def test_smooth_coefficients_get_a_gaussian_decoder_and_a_restart_spread():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 13)
    modes = rng.standard_normal((10, 3))
    a = np.exp(0.3 * (modes[:, :1, None] * np.sin(np.pi * x)[None, :, None]
                      + modes[:, 1:2, None] * np.cos(np.pi * x)[None, None, :]
                      + modes[:, 2:, None] * np.outer(x, x)[None]))
    m = sciml.train("dgno", data=a, epochs=1, seed=0, **TINY)
    assert m.config["coefficient"] == "gaussian" and m.config["phases"] is None
    problem = DarcyFlow(a=a[0])
    forward = sciml.solve(problem, method="dgno", model=m)
    assert "phase_probability" not in forward.info and forward.x.shape == (13, 13)
    u = sciml.solve(problem, method="direct").x
    inverse = DarcyInverse(grid_points(13).numpy()[::7], u.ravel()[::7], grid=13)
    sol = sciml.solve(inverse, method="dgno", model=m, steps=3, restarts=3)
    assert "phase_probability" not in sol.info and np.all(sol.info["a_std"] >= 0)
    assert np.array_equal(sol.x, sol.info["a_mean"])
