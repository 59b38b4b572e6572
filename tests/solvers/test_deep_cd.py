"""deep_cd: the deep conjugate-direction solver, its operators, networks and safeguard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

import sciml  # noqa: E402
from sciml.errors import InvalidOptionError, InvalidProblemError, ModelMismatchError  # noqa: E402
from sciml.learn.trained_model import TrainedModel  # noqa: E402
from sciml.problems import LinearProblem, Poisson  # noqa: E402
from sciml.kernels.stencil import StencilOperator  # noqa: E402
from sciml.solvers.deep_cd.model import GridStencil, MultigridNet, ReferenceNet  # noqa: E402
from sciml.solvers.deep_cd.solver import DeepCD  # noqa: E402
from sciml.solvers.deep_cd.train import DCDMLoss, smoothed_noise, train  # noqa: E402

torch.set_num_threads(1)


def _model(network: torch.nn.Module, **config: object) -> TrainedModel:
    return TrainedModel("deep_cd", network, {"ndim": 3, **config})


def _identity(ndim: int = 3) -> TrainedModel:
    from sciml.solvers.deep_cd.model import IdentityNet

    return TrainedModel("deep_cd", IdentityNet(ndim), {"kind": "identity", "ndim": ndim})


def _multigrid(ndim: int = 3, channels: int = 2) -> TrainedModel:
    return TrainedModel("deep_cd", MultigridNet(ndim, channels),
                        {"kind": "multigrid", "ndim": ndim, "channels": channels})


def _true_relres(prob: Poisson, sol: sciml.Solution) -> float:
    A = prob.operator().to_csr()
    return float(np.linalg.norm(prob.b.ravel() - A @ sol.x.ravel()) / np.linalg.norm(prob.b))


def _obstacle(shape: tuple[int, ...]) -> np.ndarray:
    grids = np.meshgrid(*[np.arange(n) + 0.5 for n in shape], indexing="ij")
    r2 = sum((g - n / 2) ** 2 for g, n in zip(grids, shape))
    return r2 < (min(shape) / 4) ** 2


@pytest.mark.parametrize("shape", [(7, 6), (6, 5, 4)])
def test_mask_and_neumann_operator_equals_csr_and_is_symmetric(shape):
    rng = np.random.default_rng(0)
    mask = _obstacle(shape)
    bc = ["neumann", "dirichlet"] * len(shape)
    op = StencilOperator(shape, coefficient=rng.uniform(0.5, 2, shape), mask=mask, bc=bc)
    A = op.to_csr()
    x = rng.standard_normal(op.shape[0])
    assert np.allclose(op @ x, A @ x, atol=1e-13)
    assert abs(A - A.T).max() == 0
    solid = np.flatnonzero(mask)
    assert np.all(A[solid][:, solid].toarray() == np.eye(len(solid)))  # identity rows
    assert A[solid].nnz == len(solid)  # ... decoupled from the fluid


def test_pure_neumann_poisson_is_consistent_and_singular_on_fluid():
    shape = (8, 8, 8)
    mask = _obstacle(shape)
    prob = Poisson(shape, rhs="gaussians", mask=mask, bc="neumann")
    op = prob.operator()
    assert op.singular
    fluid = ~mask
    assert abs(prob.b[fluid].sum()) < 1e-12 and np.all(prob.b[mask] == 0)
    assert np.abs(op @ fluid.ravel().astype(float)).max() < 1e-12  # constants: null space
    sol = sciml.solve(prob, method="deep_cd", model=_multigrid(), rtol=1e-8)
    assert sol.converged and _true_relres(prob, sol) <= 1e-8


class _Negated(torch.nn.Module):
    """``f(r) = -r``: as good as the identity, since the line search ignores the sign."""

    ndim = 3

    def forward(self, r: torch.Tensor, grid: object = None) -> torch.Tensor:
        return -r


def test_identity_network_reproduces_cg():
    prob = Poisson((12, 10, 9), rhs="random", seed=3)
    cg = sciml.solve(prob, method="cg", rtol=1e-10)
    dcd = sciml.solve(prob, method="deep_cd", model=_identity(), rtol=1e-10)
    assert dcd.iterations == cg.iterations
    np.testing.assert_allclose(dcd.residuals, cg.residuals, rtol=1e-6)
    np.testing.assert_allclose(dcd.x, cg.x, rtol=0, atol=1e-9 * np.abs(cg.x).max())
    assert dcd.info["network_calls"] == dcd.iterations and dcd.info["fallbacks"] == 0
    negated = sciml.solve(prob, method="deep_cd", model=_model(_Negated()), rtol=1e-10)
    assert negated.iterations == cg.iterations and negated.info["fallbacks"] == 0


class _Constant(torch.nn.Module):
    """A deliberately broken network: returns ``value`` everywhere (NaN, 0, ...)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.ndim = 3

    def forward(self, r: torch.Tensor, grid: object = None) -> torch.Tensor:
        return torch.full_like(r, self.value)


class _Rough(torch.nn.Module):
    """A descent direction swamped by the roughest mode: ``r`` plus a checkerboard
    orthogonal to it, so ``q.r = r.r`` but the step barely lowers the error."""

    ndim = 3

    def forward(self, r: torch.Tensor, grid: object = None) -> torch.Tensor:
        index = torch.meshgrid(*[torch.arange(n) for n in r.shape[2:]], indexing="ij")
        checker = (-1.0) ** sum(index).to(r.dtype)
        checker = checker - (checker * r).sum() / (r * r).sum() * r
        return r + checker


@pytest.mark.parametrize("network, reason", [(_Constant(float("nan")), "fallbacks_non_finite"),
                                             (_Constant(0.0), "fallbacks_non_descent"),
                                             (_Rough(), "fallbacks_stall")])
def test_safeguard_converges_with_a_bad_network_like_cg(network, reason):
    prob = Poisson((10, 10, 10), rhs="random", seed=1)
    cg = sciml.solve(prob, method="cg", rtol=1e-8)
    sol = sciml.solve(prob, method="deep_cd", model=_model(network), rtol=1e-8)
    assert sol.converged and np.all(np.isfinite(sol.x))
    assert _true_relres(prob, sol) <= 1e-8
    assert sol.info[reason] >= 1 and sol.info["network_disabled_at"] == 3
    assert sol.info["network_calls"] == 3
    assert sol.iterations <= cg.iterations + 3


def test_without_safeguard_a_nan_network_stops_and_reports_it():
    prob = Poisson((6, 6, 6), rhs="random")
    sol = sciml.solve(prob, method="deep_cd", model=_model(_Constant(float("nan"))),
                      safeguard=False)
    assert not sol.converged and "non-finite" in sol.info["reason"]
    assert np.all(np.isfinite(sol.x))


@pytest.mark.parametrize("shape, bc, obstacle", [
    ((16, 16, 16), "dirichlet", False),
    ((13, 10, 9), ("neumann", "dirichlet", "dirichlet", "neumann", "dirichlet", "dirichlet"),
     False),
    ((16, 12, 14), "dirichlet", True),
])
def test_multigrid_network_beats_cg_on_odd_sizes_neumann_and_obstacles(shape, bc, obstacle):
    mask = _obstacle(shape) if obstacle else None
    prob = Poisson(shape, rhs="random", seed=2, mask=mask, bc=bc)
    cg = sciml.solve(prob, method="cg", rtol=1e-6)
    sol = sciml.solve(prob, method="deep_cd", model=_multigrid(), rtol=1e-6)
    assert sol.converged and _true_relres(prob, sol) <= 1e-6
    assert sol.iterations * 3 <= cg.iterations
    assert sol.info["fallbacks"] == 0


def test_multigrid_network_in_2d_and_on_a_csr_matrix_with_grid_shape():
    prob = Poisson((33, 20), rhs="gaussians")
    sol = sciml.solve(prob, method="deep_cd", model=_multigrid(ndim=2), rtol=1e-8)
    assert sol.converged and sol.iterations <= 15
    lp = prob.to_linear_problem(matrix_free=False)
    sol2 = sciml.solve(lp, method="deep_cd", model=_multigrid(ndim=2), rtol=1e-8)
    assert sol2.iterations == sol.iterations


@pytest.mark.parametrize("ndim, sizes", [(2, (16, 128, 127)), (3, (8, 32))])
def test_the_initial_v_cycle_contracts_alike_on_every_grid_size(ndim, sizes):
    # the network starts as geometric multigrid: as a stationary iteration e <- e - f(A e)
    # it must contract the error by a factor that does not grow with the grid (before the
    # coarse boundary faces were moved, the 2-D cycle diverged from 128^2 on)
    net = MultigridNet(ndim=ndim, channels=1).double()
    for n in sizes:
        grid = GridStencil.from_operator(None, (n,) * ndim, torch.float64)
        e = torch.randn(1, 1, *(n,) * ndim, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            for _ in range(25):
                e_next = e - net(grid.apply(e), grid)
                rate, e = float(e_next.norm() / e.norm()), e_next / e_next.norm()
        assert rate < 0.65, (n, rate)


def test_coarse_operator_keeps_walls_and_has_ceil_half_size():
    op = StencilOperator((9, 6, 5), mask=_obstacle((9, 6, 5)), bc="neumann")
    grid = GridStencil.from_operator(op, op.grid_shape)
    coarse = grid.coarse
    assert coarse.grid_shape == (5, 3, 3)
    u = torch.randn(1, 1, *op.grid_shape, dtype=torch.float64)
    A = GridStencil.from_operator(op, op.grid_shape, torch.float64)
    fluid = torch.from_numpy(~op.mask)
    expected = torch.from_numpy((op @ u.numpy().ravel()).reshape(op.grid_shape))
    assert torch.allclose(A.apply(u)[0, 0][fluid], expected[fluid])
    assert torch.allclose(coarse.apply(torch.ones(1, 1, 5, 3, 3)), torch.zeros(1), atol=1e-6)


def test_reference_network_has_the_papers_parameter_counts():
    assert sum(p.numel() for p in ReferenceNet().parameters()) == 97_457
    big = ReferenceNet(fine_pairs=2, coarse_pairs=5, up_pairs=3)
    assert sum(p.numel() for p in big.parameters()) == 152_881
    out = ReferenceNet()(torch.randn(2, 1, 9, 8, 7))
    assert out.shape == (2, 1, 9, 8, 7)


@pytest.mark.parametrize("objective", ["energy", "residual"])
def test_dcdm_loss_is_zero_for_the_exact_inverse_and_scale_invariant(objective):
    grid = GridStencil.from_operator(None, (8, 8, 8), torch.float64)
    r = torch.from_numpy(smoothed_noise((8, 8, 8), 3, seed=0)).double()
    loss = DCDMLoss([grid], objective)
    identity = lambda x, g: x  # noqa: E731
    value = loss(identity, r)
    assert 0 < float(value) < 1
    assert torch.allclose(loss(identity, 5.0 * r), value)
    eigen = torch.from_numpy(smoothed_noise((8, 8, 8), 1, powers=(40.0,), seed=1)).double()
    assert float(loss(identity, eigen)) < 1e-6  # a single eigenmode: r is A^-1 r up to scale


def test_energy_loss_is_the_energy_norm_left_by_an_exact_line_search():
    """Recomputed with the CSR matrix: e - alpha f in the A-norm, alpha = f.r / f.Af."""
    rng = np.random.default_rng(3)
    op = StencilOperator((9, 7), coefficient=rng.uniform(0.1, 10.0, (9, 7)))
    A = op.to_csr()
    grid = GridStencil.from_operator(op, op.grid_shape, torch.float64)
    net = MultigridNet(2, channels=2).double()
    e = torch.from_numpy(rng.standard_normal((2, 1, 9, 7)))
    with torch.no_grad():
        value = DCDMLoss([grid], "energy").per_sample(net, e, grid)
    for i in range(2):
        ei = e[i, 0].numpy().ravel()
        ri = A @ ei
        with torch.no_grad():
            f = net(torch.from_numpy(ri.reshape(1, 1, 9, 7)), grid)[0, 0].numpy().ravel()
        alpha = f @ ri / (f @ (A @ f))
        left = ei - alpha * f
        assert float(value[i]) == pytest.approx(left @ (A @ left) / (ei @ ri), rel=1e-10)
        assert 0 <= float(value[i]) <= 1


def test_the_residual_loss_punishes_the_2d_multigrid_start_the_energy_loss_does_not():
    """Why ``"energy"`` is the default: the multigrid start solves 2-D grids of any size in
    a few iterations, yet after its exact step the residual grows (the paper's loss > 1,
    more so on finer grids) while the energy left stays small at every size."""
    net = MultigridNet(2)
    values = {}
    for n in (32, 64):
        grid = GridStencil.from_operator(None, (n, n))
        v = torch.from_numpy(smoothed_noise((n, n), 16, seed=5))
        with torch.no_grad():
            values[n] = {o: float(DCDMLoss([grid], o)(net, v)) for o in ("energy", "residual")}
    assert values[64]["residual"] > 1 and values[64]["residual"] > 2 * values[32]["residual"]
    assert values[32]["energy"] < 0.1 and values[64]["energy"] < 0.1


def test_an_unknown_objective_is_refused_naming_the_choices():
    with pytest.raises(InvalidOptionError, match="objective must be one of"):
        train(shape=(8, 8), objective="l2", samples=4, epochs=1, progress=False)
    with pytest.raises(InvalidOptionError, match="objective must be one of"):
        DCDMLoss([], "l2")


def test_train_saves_weights_that_load_safely_and_solve_the_same(tmp_path):
    model = train(shape=(8, 8, 8), network=("multigrid", {"channels": 2}), samples=8, epochs=2,
                  batch_size=4, checkpoint=tmp_path / "ckpt.pt", progress=False)
    path = model.save(tmp_path / "m.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["method"] == "deep_cd" and raw["config"]["kind"] == "multigrid"
    prob = Poisson((10, 10, 10), rhs="random")
    a = sciml.solve(prob, method="deep_cd", model=model, rtol=1e-8)
    b = sciml.solve(prob, method="deep_cd", model=str(path), rtol=1e-8)
    assert a.iterations == b.iterations and np.array_equal(a.x, b.x)
    assert not (tmp_path / "ckpt.pt").exists()     # removed after success (issue 15)


def test_default_weights_solve_poisson():
    if not Path(DeepCD.default_weights).exists():
        pytest.skip("no shipped weights")
    prob = Poisson((20, 20, 20), rhs="gaussians")
    sol = sciml.solve(prob, method="deep_cd", rtol=1e-6)
    assert sol.converged and sol.iterations <= 10 and _true_relres(prob, sol) <= 1e-6


def test_default_2d_weights_solve_poisson_and_darcy_out_of_the_box():
    from sciml.problems import DarcyFlow
    from sciml.solvers.deep_cd.solver import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "multigrid_2d.pt").exists():
        pytest.skip("no shipped 2-D weights")
    prob = Poisson((96, 96), rhs="gaussians")
    sol = sciml.solve(prob, method="deep_cd", rtol=1e-6)
    assert sol.converged and sol.iterations <= 8 and sol.info["fallbacks"] == 0
    assert _true_relres(prob, sol) <= 1e-6
    rng = np.random.default_rng(0)
    a = np.where(rng.random((31, 31)) < 0.5, 12.0, 3.0)
    darcy = DarcyFlow(a=a)
    sol = sciml.solve(darcy, method="deep_cd", rtol=1e-6)
    system = darcy.to_linear_problem()
    x = darcy.vector_from_solution(sol.x)
    assert sol.converged
    assert np.linalg.norm(system.b - system.A @ x) <= 1e-6 * np.linalg.norm(system.b)


def test_missing_default_weights_are_named_with_the_way_out(monkeypatch, tmp_path):
    from sciml.solvers.deep_cd import solver as deep_cd_solver

    monkeypatch.setattr(deep_cd_solver, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(InvalidOptionError, match=r"no shipped weights for 2-D.*model="):
        sciml.solve(Poisson((8, 8), rhs="random"), method="deep_cd")


def test_problem_without_grid_shape_is_rejected_clearly():
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(20, 20))
    with pytest.raises(InvalidProblemError, match="structured grid"):
        sciml.solve(LinearProblem(A, np.ones(20)), method="deep_cd", model=_identity())


def test_weights_for_another_dimension_are_rejected_naming_both():
    prob = Poisson((8, 8), rhs="random")
    with pytest.raises(ModelMismatchError, match=r"3-D.*7-point.*2-D.*5-point"):
        sciml.solve(prob, method="deep_cd", model=_multigrid(ndim=3))


@pytest.mark.parametrize("bc", ["dirichlet", "neumann"])
def test_lanczos_ritz_pairs_are_eigenpairs_and_skip_the_null_space(bc):
    from sciml.data_gen.deep_cd import ritz_vectors

    op = StencilOperator((6, 5, 4), bc=bc)
    values, vectors = ritz_vectors(op.matvec, 120, 120, seed=0)
    residual = np.array([np.linalg.norm(op @ v - lam * v) for lam, v in zip(values, vectors)])
    assert residual.max() < 1e-8 and values.min() > 1e-8
    # every distinct non-zero eigenvalue is found (a repeated one may appear once or more:
    # how often depends on rounding, so the count is not asserted)
    dense = np.stack([op.matvec(e) for e in np.eye(120)])
    exact = np.linalg.eigvalsh(dense)
    distinct = np.unique(np.round(exact[exact > 1e-8], 8))
    assert np.abs(distinct[:, None] - values[None, :]).min(axis=1).max() < 1e-7
    assert len(values) <= (119 if bc == "neumann" else 120)


def test_training_on_ritz_vector_file(tmp_path):
    from sciml.data_gen.deep_cd import generate
    from sciml.io.datasets import read_arrays, read_info

    path = generate(tmp_path / "ritz.h5", (8, 8, 8), lanczos=60, samples=12, seed=0)
    assert read_info(path).spec.parameters["lanczos"] == 60
    r = read_arrays(path, ["r"])["r"]
    assert r.shape == (12, 8, 8, 8)
    assert np.allclose(np.linalg.norm(r.reshape(12, -1), axis=1), 1, atol=1e-5)
    model = train(str(path), network=("reference", {"channels": 4}), epochs=1, batch_size=6,
                  progress=False)
    assert model.provenance["data"]["kind"] == "ritz_vectors"
    assert np.isfinite(model.metrics["val_dcdm_loss"])


def test_training_on_several_operators_uses_their_walls_and_sides():
    from sciml.solvers.deep_cd.train import TRAINING_OPERATORS, training_operators

    ops = training_operators(TRAINING_OPERATORS, (8, 8, 8))
    model = train(operators=ops, network=("multigrid", {"channels": 2}), samples=8, epochs=1,
                  batch_size=4, progress=False)
    assert "solid cells" in model.provenance["data"]["operators"][3]
    assert np.isfinite(model.metrics["val_dcdm_loss"])


def test_bad_mask_and_bc_are_rejected_clearly():
    with pytest.raises(InvalidProblemError, match="mask must be a boolean"):
        Poisson((4, 4), mask=np.zeros((4, 5), bool))
    with pytest.raises(InvalidProblemError, match="bc must be one of"):
        Poisson((4, 4), bc=("neumann", "robin", "dirichlet", "dirichlet"))
    with pytest.raises(InvalidProblemError, match="every cell solid"):
        StencilOperator((3, 3), mask=np.ones((3, 3), bool))


def test_sealed_fluid_and_split_neumann_fluid_are_refused_as_singular():
    mask = np.zeros((8, 8, 8), bool)
    mask[2:6, 2:6, 2:6] = True
    mask[3:5, 3:5, 3:5] = False  # a pocket of fluid inside a solid box
    with pytest.raises(InvalidProblemError, match=r"seals 8 fluid cells .*\(3, 3, 3\)"):
        sciml.solve(Poisson((8, 8, 8), mask=mask), method="deep_cd")
    with pytest.raises(InvalidProblemError, match="2 separate regions"):
        StencilOperator((8, 8, 8), mask=mask, bc="neumann")
    open_box = mask.copy()
    open_box[3:5, 3:5, 2] = False  # a path from the pocket to the outer fluid
    sol = sciml.solve(Poisson((8, 8, 8), mask=open_box, rhs="random"), method="deep_cd")
    assert sol.converged and np.all(np.isfinite(sol.x))


@pytest.mark.parametrize("fallback", ["cg", "amg"])
def test_a_disabled_network_hands_the_iterate_to_the_fallback(fallback):
    prob = Poisson((10, 10, 10), rhs="random", seed=1)
    sol = sciml.solve(prob, method="deep_cd", model=_model(_Constant(float("nan"))),
                      rtol=1e-8, fallback=fallback)
    assert sol.converged and _true_relres(prob, sol) <= 1e-8
    assert sol.info["fallback"] == fallback and sol.info["network_calls"] == 3
    assert sol.iterations == 3 + sol.info["fallback_iterations"]
    assert len(sol.residuals) == sol.iterations + 1
    cg = sciml.solve(prob, method="cg", rtol=1e-8)
    if fallback == "amg":  # smoothed-aggregation PCG needs a fraction of CG's iterations
        assert sol.info["fallback_iterations"] * 4 <= cg.iterations
        assert sol.info["fallback_setup_time"] > 0
    else:
        assert sol.iterations <= cg.iterations + 3


def test_without_the_network_deep_cd_is_plain_cg_iterate_for_iterate():
    prob = Poisson((12, 11, 10), rhs="random", seed=3)
    cg = sciml.solve(prob, method="cg", rtol=1e-9)
    sol = sciml.solve(prob, method="deep_cd", network=False, fallback="cg", rtol=1e-9)
    assert sol.info["network_calls"] == 0 and sol.info["network_disabled_at"] == 0
    assert sol.iterations == cg.iterations
    np.testing.assert_allclose(sol.residuals, cg.residuals, rtol=1e-12)
    np.testing.assert_allclose(sol.x, cg.x, rtol=0, atol=1e-12 * np.abs(cg.x).max())


def test_fallback_auto_picks_amg_with_entries_and_cg_for_singular_or_matrix_free_systems():
    from scipy.sparse.linalg import aslinearoperator

    nan = _model(_Constant(float("nan")))
    dirichlet = sciml.solve(Poisson((8, 8, 8), rhs="random"), method="deep_cd", model=nan)
    assert dirichlet.info["fallback"] == "amg"
    neumann = sciml.solve(Poisson((8, 8, 8), rhs="random", bc="neumann"), method="deep_cd",
                          model=nan)
    assert neumann.converged and neumann.info["fallback"] == "cg"
    lp = Poisson((8, 8, 8), rhs="random").to_linear_problem(matrix_free=False)
    op = LinearProblem(aslinearoperator(lp.A), lp.b, grid_shape=lp.grid_shape)
    assert sciml.solve(op, method="deep_cd", model=nan).info["fallback"] == "cg"
    with pytest.raises(InvalidOptionError, match="fallback='amg' needs the"):
        sciml.solve(op, method="deep_cd", model=nan, fallback="amg")
    with pytest.raises(InvalidOptionError, match=r"\['auto', 'amg', 'cg'\]"):
        sciml.solve(Poisson((4, 4, 4)), method="deep_cd", fallback="jacobi")


def test_a_prepared_operator_builds_the_fallback_hierarchy_once():
    prob = Poisson((10, 10, 10), rhs="random")
    prepared = sciml.prepare(prob, method="deep_cd", model=_model(_Constant(float("nan"))))
    first = prepared.solve(prob.b.ravel(), rtol=1e-8)
    second = prepared.solve(2 * prob.b.ravel(), rtol=1e-8)
    assert first.converged and second.converged
    assert first.info["fallback_setup_time"] > 0 and second.info["fallback_setup_time"] == 0
    np.testing.assert_allclose(second.x, 2 * first.x, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("coefficient, words", [
    (np.zeros((6, 6, 6)), "finite and strictly positive"),
    (-np.ones((6, 6, 6)), "finite and strictly positive"),
    (np.full((6, 6, 6), np.nan), "finite and strictly positive"),
    (np.ones((5, 6, 6)), r"shape \(5, 6, 6\), expected the grid shape \(6, 6, 6\)"),
])
def test_a_bad_coefficient_is_refused_before_any_work(coefficient, words):
    with pytest.raises(InvalidProblemError, match=words):
        sciml.solve(Poisson((6, 6, 6), coefficient=coefficient), method="deep_cd")


class _EveryOtherNaN(torch.nn.Module):
    """A network that fails every other call (NaN), else returns ``r`` (the CG direction):
    never three failures in a row."""

    ndim = 3

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, r: torch.Tensor, grid: object = None) -> torch.Tensor:
        self.calls += 1
        return torch.full_like(r, float("nan")) if self.calls % 2 else r


def test_a_network_rejected_too_often_is_switched_off_by_the_rate_rule():
    from sciml.solvers.deep_cd.solver import RATE_CHECK_FROM

    prob = Poisson((12, 12, 12), rhs="random", seed=4)
    sol = sciml.solve(prob, method="deep_cd", model=_model(_EveryOtherNaN()), rtol=1e-8)
    assert sol.converged and _true_relres(prob, sol) <= 1e-8
    assert sol.info["network_disabled_at"] == RATE_CHECK_FROM
    assert sol.info["network_calls"] == RATE_CHECK_FROM
    assert sol.info["fallbacks"] == RATE_CHECK_FROM // 2
    kept = sciml.solve(prob, method="deep_cd", model=_model(_EveryOtherNaN()), rtol=1e-8,
                       max_fallback_rate=1.0, handover_rate=None)
    assert kept.converged and kept.info["network_disabled_at"] is None
    assert kept.info["network_calls"] == kept.iterations
    with pytest.raises(InvalidOptionError, match=r"in \(0, 1\]"):
        sciml.solve(prob, method="deep_cd", max_fallback_rate=0)


def test_a_network_converging_slowly_hands_over_to_amg_by_the_handover_rate():
    from sciml.solvers.deep_cd.solver import HANDOVER_WINDOW, _too_slow

    assert _too_slow([0.9 ** i for i in range(HANDOVER_WINDOW + 1)], 0.8)
    assert not _too_slow([0.5 ** i for i in range(HANDOVER_WINDOW + 1)], 0.8)
    assert not _too_slow([0.9 ** i for i in range(HANDOVER_WINDOW)], 0.8)  # too short
    assert not _too_slow([1.0] * 20, None)
    assert not _too_slow([1e-20] * 20, 0.8, floor=1e-15)  # round-off: _stagnated's call
    # the identity network makes the iteration CG's, which crawls on a contrast of 10^4
    cells = np.indices((12, 12, 12)).sum(axis=0)
    prob = Poisson((12, 12, 12), rhs="random", seed=2,
                   coefficient=np.where((cells // 4) % 2 == 0, 1e4, 1.0))
    sol = sciml.solve(prob, method="deep_cd", model=_identity(), rtol=1e-8)
    assert sol.converged and _true_relres(prob, sol) <= 1e-8
    assert sol.info["network_disabled_by"] == "slow" and sol.info["fallback"] == "amg"
    assert sol.info["network_disabled_at"] == HANDOVER_WINDOW
    kept = sciml.solve(prob, method="deep_cd", model=_identity(), rtol=1e-8,
                       handover_rate=None)
    assert kept.converged and kept.info["network_disabled_by"] is None
    assert kept.iterations > 2 * sol.iterations
    by_cg = sciml.solve(prob, method="deep_cd", model=_identity(), rtol=1e-8, fallback="cg")
    assert by_cg.info["network_disabled_by"] is None  # CG is no faster than the network
    with pytest.raises(InvalidOptionError, match=r"None or a number in \(0, 1\)"):
        sciml.solve(prob, method="deep_cd", handover_rate=1.0)


def test_backend_numpy_is_the_default_path_and_cupy_is_refused_without_a_gpu():
    from sciml.backend import cupy_available
    from sciml.errors import MissingDependencyError
    from sciml.solvers.deep_cd.solver import _fallback_method

    prob = Poisson((12, 12, 12), rhs="random", seed=3)
    default = sciml.solve(prob, method="deep_cd", rtol=1e-8)
    moved = sciml.solve(prob, method="deep_cd", rtol=1e-8, backend="numpy")
    assert moved.iterations == default.iterations and np.array_equal(moved.x, default.x)
    op = prob.to_linear_problem(matrix_free=True).A
    assert _fallback_method(op, "auto", False, on_gpu=True) == "cg"  # pyamg is CPU-only
    with pytest.raises(InvalidOptionError, match="fallback='amg' runs pyamg on the CPU"):
        _fallback_method(op, "amg", False, on_gpu=True)
    if not cupy_available():
        with pytest.raises(MissingDependencyError, match="needs CuPy and a CUDA GPU"):
            sciml.solve(prob, method="deep_cd", backend="cupy")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_deep_cd_on_cupy_vectors_gives_the_numpy_answer():
    from sciml.backend import cupy_available

    if not cupy_available():
        pytest.skip("needs CuPy")
    cells = np.indices((24, 24, 24)).sum(axis=0)
    for coefficient in (None, np.where((cells // 6) % 2 == 0, 1e3, 1.0)):
        prob = Poisson((24, 24, 24), rhs="random", seed=1, coefficient=coefficient)
        host = sciml.solve(prob, method="deep_cd", rtol=1e-8, device="cuda", fallback="cg")
        gpu = sciml.solve(prob, method="deep_cd", rtol=1e-8, device="cuda", backend="cupy")
        assert gpu.converged and abs(gpu.iterations - host.iterations) <= 1
        x = gpu.x.get().reshape(-1)
        A, b = prob.to_linear_problem().A, prob.b.reshape(-1)
        assert np.linalg.norm(b - A @ x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-6)
        assert np.allclose(x, host.x.reshape(-1), rtol=1e-5, atol=1e-8)
