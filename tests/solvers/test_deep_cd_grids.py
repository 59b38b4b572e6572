"""deep_cd on non-cubic grids (anisotropic coarsening) and its stop at round-off stagnation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import sciml  # noqa: E402
from sciml.learn.trained_model import TrainedModel  # noqa: E402
from sciml.problems import Poisson  # noqa: E402
from sciml.solvers.deep_cd.model import (GridStencil, IdentityNet, MultigridNet,  # noqa: E402
                                         ReferenceNet)

torch.set_num_threads(1)

NETWORKS = {"multigrid": lambda d: MultigridNet(d, channels=2),
            "reference": lambda d: ReferenceNet(d, channels=4),
            "identity": IdentityNet}
shapes = st.one_of(st.lists(st.integers(1, 40), min_size=2, max_size=2),
                   st.lists(st.integers(1, 40), min_size=3, max_size=3)).map(tuple)


def _true_relres(prob: Poisson, sol: sciml.Solution) -> float:
    A = prob.operator().to_csr()
    return float(np.linalg.norm(prob.b.ravel() - A @ sol.x.ravel()) / np.linalg.norm(prob.b))


@pytest.mark.parametrize("kind", sorted(NETWORKS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes)
def test_every_network_runs_and_solves_on_any_grid(kind, shape):
    network = NETWORKS[kind](len(shape)).eval()
    grid = GridStencil.from_operator(None, shape)
    r = torch.randn((1, 1, *shape), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        out = network(r, grid)
    assert out.shape == r.shape
    assert torch.isfinite(out).all()
    prob = Poisson(shape, rhs="random", seed=1)
    model = TrainedModel("deep_cd", network, {"kind": kind, "ndim": len(shape)})
    sol = sciml.solve(prob, method="deep_cd", model=model, rtol=1e-6)
    assert sol.converged, (shape, sol.info["reason"])
    assert _true_relres(prob, sol) <= 1e-6 * (1 + 1e-6)


@pytest.mark.parametrize("shape", [(64, 64, 32), (48, 32, 16), (1, 16, 16), (5, 7, 9)])
def test_default_network_solves_the_issue_grids(shape):
    prob = Poisson(shape, rhs="random", seed=0)
    sol = sciml.solve(prob, method="deep_cd", rtol=1e-6)
    assert sol.converged, sol.info["reason"]
    assert _true_relres(prob, sol) <= 1e-6 * (1 + 1e-6)


def test_coarsening_stops_per_axis_at_one_cell():
    grid = GridStencil.from_operator(None, (1, 16, 5))
    shapes = []
    while grid is not None:
        shapes.append(grid.grid_shape)
        grid = grid.coarse
    assert shapes == [(1, 16, 5), (1, 8, 3), (1, 4, 2), (1, 2, 1), (1, 1, 1)]


def test_cubic_coarsening_halves_every_axis_and_moves_the_boundary_faces_only():
    grid = GridStencil.from_operator(None, (8, 8, 8))
    assert [grid.coarse.grid_shape, grid.coarse.coarse.grid_shape] == [(4, 4, 4), (2, 2, 2)]
    for level, boundary in ((grid.coarse, 4 / 3), (grid.coarse.coarse, 8 / 5)):
        for axis, w in enumerate(level.faces):
            n = w.shape[axis + 2]
            assert bool((w.narrow(axis + 2, 1, n - 2) == 1).all())
            for end in (0, n - 1):
                assert torch.allclose(w.narrow(axis + 2, end, 1), torch.tensor(boundary))


def test_rtol_zero_stops_at_round_off_stagnation_with_that_reason():
    prob = Poisson((8, 8, 8), rhs="random", seed=0)
    n = 8**3
    sol = sciml.solve(prob, method="deep_cd", rtol=0.0)
    assert sol.iterations < n, sol.iterations  # today: 10 n = 5,120
    assert sol.converged is False
    assert sol.info["reason"].startswith("stagnated at round-off")
    assert _true_relres(prob, sol) < 1e-12


def test_stagnation_rule_does_not_stop_a_solve_that_meets_its_tolerance():
    prob = Poisson((16, 16, 16), rhs="random", seed=0)
    sol = sciml.solve(prob, method="deep_cd", rtol=1e-13)
    assert sol.converged, sol.info["reason"]


def test_network_sizes_are_counted_exactly_and_bounded_before_building():
    from sciml.errors import InvalidOptionError
    from sciml.solvers.deep_cd.model import build_network, parameter_count

    for kind, options in [("multigrid", {"ndim": 3, "channels": 3}),
                          ("reference", {"ndim": 3}), ("reference", {"ndim": 2, "channels": 5})]:
        net = build_network({"kind": kind, **options})
        assert parameter_count(kind, options) == sum(p.numel() for p in net.parameters())
    with pytest.raises(InvalidOptionError, match="would have .* weights, more than the limit"):
        build_network({"kind": "reference", "ndim": 3, "channels": 20000})
