"""MgNO: architecture, training through the shared loop, persistence, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sciml
from sciml.cli import main as cli_main
from sciml.registry import get_solver_class
from sciml.errors import InvalidOptionError, ModelMismatchError
from sciml.io.datasets import DatasetSpec, write_dataset
from sciml.learn.trained_model import TrainedModel
from sciml.solvers.mgno.model import MgConv, MgNO, _fit, minimum_grid, smoothing_schedule

from operator_data import darcy_pairs, periodic_pairs

TINY = {"channels": 4, "layers": 2, "levels": 3}


def _vcycle_parameters(c_u: int, c_f: int, smoothing: list[tuple[int, int]]) -> int:
    conv3 = 9 * c_u * c_f                       # one 3x3 convolution between u and f
    smoothers = conv3 + (sum(pre for pre, _ in smoothing) - 1) * 2 * conv3   # S; then A, S
    restrictions = (len(smoothing) - 1) * 9 * (c_u * c_u + c_f * c_f)    # Pi and R
    prolongations = (len(smoothing) - 1) * 16 * c_u * c_u                # 4x4 transposed
    return smoothers + restrictions + prolongations


def test_reference_darcy_config_has_572661_parameters() -> None:
    smoothing = [(1, 0)] * 5 + [(2, 0)]
    c_u, layers = 24, 4
    expected = (_vcycle_parameters(c_u, 1, smoothing)
                + (layers - 1) * _vcycle_parameters(c_u, c_u, smoothing)
                + (1 * c_u + c_u) + (layers - 1) * (c_u * c_u + c_u)     # W u + b
                + c_u)                                                   # head, no bias
    net = MgNO(2, channels=24, layers=4, levels=6, init="paper")
    assert expected == 572_661
    assert sum(p.numel() for p in net.parameters()) == expected
    multigrid = MgNO(2, channels=24, layers=4, levels=6, init="multigrid")
    assert sum(p.numel() for p in multigrid.parameters()) == expected


def test_multigrid_init_transfers_are_full_weighting_and_linear_interpolation(
        monkeypatch) -> None:
    import sciml.solvers.mgno.model as mgno_model

    monkeypatch.setattr(mgno_model, "_TRANSFER_NOISE", 0.0)
    cycle = MgConv(2, 3, 3, [(1, 0)] * 3, "zeros", init="multigrid")
    x = torch.linspace(0, 1, 17, dtype=torch.float32)
    plane = (2 * x[:, None] + 3 * x[None, :] + 1).expand(1, 3, 17, 17)
    with torch.no_grad():
        coarse = cycle.restrict_f[0](plane)            # 9 x 9: fine points 0, 2, ..., 16
        fine = _fit(cycle.prolong[0](coarse), (17, 17), periodic=False)
    # full weighting reproduces a linear field at interior coarse points, and linear
    # interpolation reproduces it at every interior fine point
    np.testing.assert_allclose(coarse[0, :, 1:-1, 1:-1], plane[0, :, 2:-2:2, 2:-2:2],
                               rtol=1e-6)
    np.testing.assert_allclose(fine[0, :, 2:-2, 2:-2], plane[0, :, 2:-2, 2:-2], rtol=1e-6)


def test_multigrid_init_lets_the_coarse_levels_carry_a_smooth_input_at_its_size() -> None:
    def coarse_share_and_gain(init: str) -> tuple[float, float]:
        torch.manual_seed(0)
        cycle = MgConv(1, 32, 1, [(1, 0)] * 9 + [(2, 0)], "circular", init=init)
        f = torch.sin(2 * torch.pi * torch.arange(1024) / 1024)[None, None]
        with torch.no_grad():
            full = cycle(f)
            for conv in cycle.prolong[3:]:             # cut off levels 4 and coarser
                conv.weight.zero_()
            local = cycle(f)
        gain = float(full.norm() / (f.norm() * 32 ** 0.5))
        return float((full - local).norm() / full.norm()), gain

    paper_share, _ = coarse_share_and_gain("paper")
    share, gain = coarse_share_and_gain("multigrid")
    assert paper_share < 0.05            # PyTorch's default: the far levels are silent
    assert share > 0.5 and 0.5 < gain < 2.0


@pytest.mark.parametrize("prolongation", ["transpose", "resize"])
@pytest.mark.parametrize("padding", ["zeros", "circular", "reflect"])
@pytest.mark.parametrize("ndim,size", [(1, 37), (1, 64), (2, 21), (2, 33)])
def test_output_keeps_any_grid_size(ndim: int, size: int, padding: str,
                                    prolongation: str) -> None:
    net = MgNO(ndim, levels=4, channels=3, layers=1, padding=padding,
               prolongation=prolongation)
    out = net(torch.randn(2, 1, *([size] * ndim)))
    assert out.shape == (2, 1, *([size] * ndim))


@pytest.mark.parametrize("prolongation", ["transpose", "resize"])
def test_circular_padding_commutes_with_coarse_grid_shifts(prolongation: str) -> None:
    net = MgNO(1, levels=3, channels=3, layers=2, padding="circular",
               prolongation=prolongation)
    x = torch.randn(1, 1, 32)
    shift = 4                                   # a whole cell of the coarsest grid
    out = net(torch.roll(x, shift, -1))
    assert torch.allclose(out, torch.roll(net(x), shift, -1), atol=1e-5)


def test_resize_prolongation_makes_no_checkerboard_and_starts_as_interpolation(
        monkeypatch) -> None:
    """A smooth coarse correction comes back smooth whatever the weights: the alternating
    (checkerboard) part of the fine field is zero inside; a stride-2 transposed convolution
    with its random start puts one there. With ``init="multigrid"`` the resize path starts
    as plain (bi)linear interpolation."""
    import sciml.solvers.mgno.model as mgno_model

    torch.manual_seed(0)
    coarse = torch.ones(1, 4, 16, 16)
    sign = (-1.0) ** (torch.arange(32)[:, None] + torch.arange(32)[None, :])

    def checkerboard(prolongation: str) -> float:
        cycle = MgConv(2, 4, 4, [(1, 0)] * 2, "zeros", prolongation=prolongation)
        with torch.no_grad():
            p = cycle.prolong[0]
            fine = (p(coarse, (32, 32)) if prolongation == "resize"
                    else _fit(p(coarse), (32, 32), periodic=False))
        inner = (fine * sign)[..., 4:-4, 4:-4]  # away from the zero padding's boundary
        return float(inner.mean(dim=(-2, -1)).abs().max() / fine[..., 4:-4, 4:-4].abs().mean())

    assert checkerboard("resize") < 1e-6
    assert checkerboard("transpose") > 1e-2
    monkeypatch.setattr(mgno_model, "_TRANSFER_NOISE", 0.0)
    cycle = MgConv(1, 3, 3, [(1, 0)] * 2, "circular", init="multigrid", prolongation="resize")
    wave = torch.sin(2 * torch.pi * (torch.arange(16) + 0.5) / 16)[None, None].expand(1, 3, 16)
    with torch.no_grad():
        fine = cycle.prolong[0](wave, (32,))
    exact = torch.sin(2 * torch.pi * (torch.arange(32) + 0.5) / 32)
    assert float((fine[0] - exact).abs().max()) < 0.02      # linear interpolation's error
    net = MgNO(2, channels=24, layers=4, levels=6, prolongation="resize")
    assert sum(p.numel() for p in net.parameters()) == 572_661 - 4 * 5 * 7 * 24 * 24


def test_reflect_padding_needs_two_points_on_the_coarsest_level() -> None:
    assert minimum_grid(6, "reflect") == 33
    assert minimum_grid(6, "zeros") == 1


def _reaches_antipode(levels: int) -> bool:
    """Does one MgNO layer's output at the middle of 1024 periodic points depend on point 0?"""
    torch.manual_seed(0)
    net = MgNO(1, channels=2, layers=1, levels=levels, padding="circular")
    x = torch.randn(1, 1, 1024, requires_grad=True)
    net(x)[0, 0, 512].backward()
    return bool(x.grad[0, 0, 0] != 0)


def test_burgers_default_levels_see_the_whole_period() -> None:
    # u(., 1) of Burgers is dominated by the lowest Fourier mode of u0: a global functional
    levels = get_solver_class("mgno").networks["burgers"]["levels"]
    assert _reaches_antipode(levels)
    assert not _reaches_antipode(7)       # 16 coarsest points: the V-cycle stays local


@pytest.fixture(scope="module")
def trained(darcy_data: tuple[np.ndarray, np.ndarray]) -> TrainedModel:
    return sciml.train("mgno", data=darcy_data, problem="darcy", epochs=4, seed=0, lr=3e-3, progress=False,
                       **TINY)


def test_training_steps_reduce_the_loss(trained: TrainedModel) -> None:
    history = trained.provenance["history"]
    assert len(history) == 4
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_evaluate_reports_relative_l2_and_h1(trained: TrainedModel,
                                             darcy_data: tuple[np.ndarray, np.ndarray]) -> None:
    metrics = sciml.evaluate(trained, data=darcy_data)
    assert set(metrics) == {"rel_l2", "rel_h1"}
    assert 0 < metrics["rel_l2"] < 1 and metrics["rel_h1"] > 0


def test_save_load_round_trip_with_weights_only(trained: TrainedModel, tmp_path) -> None:
    path = trained.save(tmp_path / "mgno.pt")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["method"] == "mgno" and raw["config"]["network"]["channels"] == 4
    a = darcy_pairs(1, 17, seed=3)[0][0]
    sol = sciml.solve(sciml.problems.DarcyFlow(a=a), method="mgno", model=str(path))
    assert sol.x.shape == (17, 17)
    loaded = sciml.load_model(path)
    expected = sciml.solve(sciml.problems.DarcyFlow(a=a), method="mgno", model=trained).x
    assert np.allclose(sol.x, expected, atol=1e-6)
    assert loaded.num_parameters() == trained.num_parameters()


def test_smoothing_schedules_put_the_extra_steps_on_the_coarse_levels() -> None:
    assert smoothing_schedule("paper", 6) == [(1, 0)] * 5 + [(2, 0)]
    assert smoothing_schedule("coarse", 10) == [(1, 0)] * 5 + [(2, 0)] * 4 + [(4, 0)]
    assert smoothing_schedule("coarse", 3) == [(2, 0), (2, 0), (4, 0)]
    assert MgNO(1, levels=10, smoothing="coarse").cycles[0].smoothing == \
        smoothing_schedule("coarse", 10)
    with pytest.raises(InvalidOptionError, match="'paper', 'coarse'"):
        MgNO(1, levels=4, smoothing="heavy")


def test_burgers_like_1d_data_train_a_periodic_model() -> None:
    u0, u = periodic_pairs(16, 64)
    model = sciml.train("mgno", data=(u0, u), problem="burgers", epochs=2, progress=False, **TINY)
    assert model.config["problem"] == "burgers"
    assert model.config["network"]["padding"] == "circular"
    # Burgers' own defaults: the multigrid start at the paper's peak rate; a given lr wins
    assert model.config["network"]["init"] == "multigrid"
    assert model.config["network"]["smoothing"] == "coarse"
    assert model.provenance["options"]["optimizer"][1]["lr"] == 5e-4
    faster = sciml.train("mgno", data=(u0, u), problem="burgers", epochs=1, progress=False,
                         lr=2e-3, **TINY)
    assert faster.provenance["options"]["optimizer"][1]["lr"] == 2e-3
    sol = sciml.solve(sciml.problems.Burgers1D(u0=u0[0], nu=0.1, t=1.0), method="mgno",
                      model=model)
    assert sol.x.shape == (64,)


def test_bad_input_names_what_the_model_expects(trained: TrainedModel) -> None:
    with pytest.raises(ModelMismatchError, match="darcy"):
        sciml.solve(sciml.problems.Burgers1D(u0=np.zeros(17)), method="mgno", model=trained)
    with pytest.raises(ModelMismatchError, match="f=1.0"):
        sciml.solve(sciml.problems.DarcyFlow(a=np.ones((17, 17)), f=2.0), method="mgno",
                    model=trained)
    with pytest.raises(ModelMismatchError, match="2 grid axes"):
        get_solver_class("mgno").predict(trained, np.ones((3, 4, 5, 6)))
    with pytest.raises(InvalidOptionError, match="channels"):
        sciml.train("mgno", data=darcy_pairs(4, 9), problem="darcy", epochs=1, chanels=3)
    reflect = sciml.train("mgno", data=darcy_pairs(4, 9), problem="darcy", epochs=1, progress=False,
                          channels=2, layers=1, levels=3, padding="reflect")
    with pytest.raises(ModelMismatchError, match="at least 5"):
        sciml.solve(sciml.problems.DarcyFlow(a=np.ones((4, 4))), method="mgno", model=reflect)


def test_training_command_line_reads_hdf5_and_saves(tmp_path) -> None:
    a, u = darcy_pairs(6, 9)
    data = tmp_path / "darcy.h5"
    spec = DatasetSpec(generator="darcy", parameters={"f": 1.0}, seed=0, samples=6,
                       fields={"a": (9, 9), "u": (9, 9)}, splits={"train": (0, 4),
                                                                  "test": (4, 6)})
    write_dataset(data, spec, {"a": a, "u": u})
    out = tmp_path / "model.pt"
    code = cli_main(["train", "mgno", "--data", str(data), "--epochs", "1", "--out",
                           str(out), "--test", str(data), "--set", "channels=2",
                           "--set", "layers=1", "--set", "levels=2", "--no-progress"])
    assert code == 0
    model = sciml.load_model(out)
    assert model.config["network"]["channels"] == 2 and "rel_l2" in model.metrics


def test_a_prediction_claims_no_convergence_and_reports_its_residual(trained) -> None:
    a = darcy_pairs(1, 17, seed=5)[0][0]
    problem = sciml.problems.DarcyFlow(a=a)
    sol = sciml.solve(problem, method="mgno", model=trained)
    lp = problem.to_linear_problem()
    recomputed = np.linalg.norm(lp.b - lp.A @ sol.x[1:-1, 1:-1].ravel()) / np.linalg.norm(lp.b)
    assert sol.converged is None and sol.info["reason"].startswith("no tolerance")
    assert sol.info["relative_residual"] == pytest.approx(recomputed, rel=1e-9)
    assert "no tolerance checked" in repr(sol) and sol.summary()["converged"] is None


@pytest.mark.parametrize("corrupt", [lambda w: w * np.nan, lambda w: w * 1e30])
def test_non_finite_weights_give_a_failed_solution_with_a_warning(trained, corrupt) -> None:
    broken = TrainedModel("mgno", get_solver_class("mgno").build_network(trained.config),
                          trained.config, trained.normalizers)
    broken.network.load_state_dict({k: corrupt(v) for k, v in
                                    trained.network.state_dict().items()})
    a = darcy_pairs(1, 17, seed=5)[0][0]
    with pytest.warns(RuntimeWarning, match="NaN or Inf"):
        sol = sciml.solve(sciml.problems.DarcyFlow(a=a), method="mgno", model=broken)
    assert sol.converged is False and "NaN or Inf" in sol.info["reason"]


def test_tolerance_options_are_refused_for_a_prediction_listing_the_options(trained) -> None:
    problem = sciml.problems.DarcyFlow(a=np.ones((17, 17)))
    with pytest.raises(InvalidOptionError, match="batch_size, device, model"):
        sciml.solve(problem, method="mgno", model=trained, rtol=1e-6)


def test_a_batch_of_problems_is_one_prediction_per_problem(trained) -> None:
    fields = darcy_pairs(3, 17, seed=6)[0]
    problems = [sciml.problems.DarcyFlow(a=a) for a in fields]
    batch = sciml.solve(problems, method="mgno", model=trained)
    singles = [sciml.solve(p, method="mgno", model=trained).x for p in problems]
    assert len(batch) == 3
    for sol, single in zip(batch, singles):
        np.testing.assert_allclose(sol.x, single, atol=1e-6)
    prepared = sciml.prepare(problems[0], method="mgno", model=trained)
    again = prepared.solve()
    assert again.setup_time == 0 and again.info["prepared_setup_time"] > 0


def test_a_model_path_loads_once_and_again_after_the_file_changes(trained, tmp_path,
                                                                  monkeypatch) -> None:
    import sciml.learn.trained_model as record

    path = trained.save(tmp_path / "cached.pt")
    loads = []
    original = record.load_checkpoint
    monkeypatch.setattr(record, "load_checkpoint",
                        lambda *a, **k: loads.append(1) or original(*a, **k))
    problem = sciml.problems.DarcyFlow(a=np.ones((17, 17)))
    for _ in range(3):
        sciml.solve(problem, method="mgno", model=str(path))
    assert len(loads) == 1
    import os
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    sciml.solve(problem, method="mgno", model=str(path))
    assert len(loads) == 2


def test_evaluate_accepts_a_saved_model_path(trained, darcy_data, tmp_path) -> None:
    path = trained.save(tmp_path / "eval.pt")
    assert sciml.evaluate(str(path), data=darcy_data) == pytest.approx(
        sciml.evaluate(trained, data=darcy_data))


