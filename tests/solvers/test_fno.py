"""The FNO baseline: neuraloperator's network through sciml's training, persistence and solve."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest
import torch
from operator_data import darcy_pairs, periodic_pairs

import sciml
from sciml.learn.trained_model import TrainedModel
from sciml.solvers.fno.model import build_fno

TINY = {"modes": 6, "width": 6, "layers": 2}


def test_missing_neuraloperator_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_neuralop(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("neuralop"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_neuralop)
    monkeypatch.delitem(sys.modules, "neuralop.models", raising=False)
    with pytest.raises(ImportError, match=r"sciml\[fno\]"):
        build_fno(2, 1, 1, **TINY)


neuralop = pytest.importorskip("neuralop")


@pytest.mark.parametrize("ndim,size", [(1, 37), (2, 21), (2, 8)])
def test_output_keeps_any_grid_size(ndim: int, size: int) -> None:
    net = build_fno(ndim, 1, 1, **TINY)
    assert net(torch.randn(2, 1, *([size] * ndim))).shape == (2, 1, *([size] * ndim))


def test_default_darcy_network_is_the_classic_size() -> None:
    from sciml.solvers.fno.solver import FNOSolver  # noqa: PLC0415

    config = {"ndim": 2, "in_channels": 1, "out_channels": 1,
              "network": FNOSolver.default_network("darcy")}
    net = FNOSolver.build_network(config)
    real = sum(p.numel() * (2 if p.is_complex() else 1) for p in net.parameters())
    # 4 spectral layers of 32 x 32 x 24 x 13 complex weights dominate (classic FNO2d: 2.37M)
    assert 4 * 32 * 32 * 24 * 13 * 2 < real < 2.7e6


@pytest.fixture(scope="module")
def trained(darcy_data: tuple[np.ndarray, np.ndarray]) -> TrainedModel:
    return sciml.train("fno", data=darcy_data, problem="darcy", epochs=4, seed=0, lr=3e-3, progress=False,
                       **TINY)


def test_training_steps_reduce_the_loss(trained: TrainedModel) -> None:
    history = trained.provenance["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_save_load_round_trip_with_weights_only(trained: TrainedModel, tmp_path) -> None:
    path = trained.save(tmp_path / "fno.pt")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["method"] == "fno"
    a = darcy_pairs(1, 17, seed=3)[0][0]
    problem = sciml.problems.DarcyFlow(a=a)
    sol = sciml.solve(problem, method="fno", model=str(path))
    assert np.allclose(sol.x, sciml.solve(problem, method="fno", model=trained).x, atol=1e-6)
    metrics = sciml.evaluate(sciml.load_model(path), data=darcy_pairs(4, 17, seed=4))
    assert set(metrics) == {"rel_l2", "rel_h1"}


def test_a_model_of_another_method_is_refused(trained: TrainedModel, tmp_path) -> None:
    path = trained.save(tmp_path / "fno.pt")
    with pytest.raises(sciml.errors.ModelMismatchError, match="'fno' model"):
        sciml.solve(sciml.problems.DarcyFlow(a=np.ones((9, 9))), method="mgno", model=path)


def test_periodic_1d_data_train_a_1d_model() -> None:
    u0, u = periodic_pairs(8, 32)
    model = sciml.train("fno", data=(u0, u), problem="burgers", epochs=1, progress=False, **TINY)
    sol = sciml.solve(sciml.problems.Burgers1D(u0=u0[0]), method="fno", model=model)
    assert sol.x.shape == (32,)
