"""deep_cd's Galerkin coarse operators: the product, its levels, and what they buy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

import sciml  # noqa: E402
from sciml.data_gen.grf import two_phase_coefficient  # noqa: E402
from sciml.errors import InvalidOptionError  # noqa: E402
from sciml.kernels.stencil import StencilOperator  # noqa: E402
from sciml.learn.trained_model import TrainedModel  # noqa: E402
from sciml.problems import LinearProblem  # noqa: E402
from sciml.solvers.deep_cd.galerkin import (  # noqa: E402
    GalerkinStencil,
    INTERPOLATION_TAPS,
    TRANSFER_OMEGA,
    coarse_shape,
    galerkin_stencil,
    interpolation_1d,
    jacobi_scale,
    smoothed_interpolation,
    stencil_from_faces,
    stencil_to_csr,
)
from sciml.solvers.deep_cd.model import GridStencil, MultigridNet, parameter_count  # noqa: E402

torch.set_num_threads(1)


def _two_phase_operator(shape, contrast, seed=1, bc="dirichlet"):
    k = two_phase_coefficient(shape, np.random.default_rng(seed), contrast)
    return StencilOperator(shape, coefficient=k, bc=bc)


def interpolation(shape, closed):
    """The assembled ``P``: the Kronecker product of the axes' interpolations (C order)."""
    P = sp.identity(1, format="csr")
    for n, sides in zip(shape, closed):
        P = sp.kron(P, interpolation_1d(n, sides), format="csr")
    return P


MIXED_3D = ["neumann", "dirichlet", "dirichlet", "neumann", "neumann", "dirichlet"]


@pytest.mark.parametrize("shape, bc", [((12, 10, 8), "dirichlet"), ((7, 5, 9), MIXED_3D),
                                       ((1, 9, 6), "dirichlet"),
                                       ((11, 6), ["neumann", "neumann", "dirichlet", "neumann"])])
def test_the_axis_by_axis_product_equals_the_assembled_one_on_every_level(shape, bc):
    """``galerkin_stencil`` against ``2^(2-d') P^T A P`` from SciPy's sparse products of the
    assembled matrices, level after level down to one cell (odd sizes, Neumann sides, an
    axis of one cell)."""
    op = _two_phase_operator(shape, 1e4, bc=bc)
    grid = GridStencil.from_operator(op, shape, torch.float64)
    stencil, level_shape, A = grid.stencil(), shape, op.to_csr()
    while max(level_shape) > 1:
        P = interpolation(level_shape, grid.closed)
        A = 2.0 ** (2 - sum(n > 1 for n in level_shape)) * (P.T @ A @ P)
        stencil = galerkin_stencil(stencil, level_shape, grid.closed)
        level_shape = coarse_shape(level_shape)
        assert abs(stencil_to_csr(stencil, level_shape) - A).max() <= 1e-12 * abs(A).max()
        assert max(max(abs(o) for o in offset) for offset in stencil) <= 2  # 5 per axis


@pytest.mark.parametrize("bc", ["dirichlet", ["neumann", "dirichlet", "dirichlet", "neumann"]])
def test_the_face_matrix_is_the_stencil_operators_own_assembly(bc):
    op = _two_phase_operator((9, 12), 1e3, bc=bc)
    grid = GridStencil.from_operator(op, op.grid_shape, torch.float64)
    assert abs(grid.matrix() - op.to_csr()).max() < 1e-9 * 1e3
    assert grid.matrix().nnz == op.to_csr().nnz


@pytest.mark.parametrize("shape", [(8, 8), (7, 10), (5, 6, 3)])
def test_interpolation_is_the_networks_initial_prolongation(shape):
    """P of the Galerkin product is what the untrained cycle's transposed convolution does
    behind Dirichlet sides: 4 taps per axis, cropped to the fine grid (odd sizes too)."""
    d = len(shape)
    coarse = tuple((n + 1) // 2 for n in shape)
    v = np.random.default_rng(0).standard_normal(coarse)
    kernel = torch.tensor(INTERPOLATION_TAPS, dtype=torch.float64)
    for _ in range(d - 1):
        kernel = kernel[..., None] * torch.tensor(INTERPOLATION_TAPS, dtype=torch.float64)
    conv_t = {2: torch.nn.functional.conv_transpose2d, 3: torch.nn.functional.conv_transpose3d}
    up = conv_t[d](torch.from_numpy(v)[None, None], kernel[None, None], stride=2, padding=1)
    expected = up[(0, 0) + tuple(slice(0, n) for n in shape)].numpy()
    P = interpolation(shape, [(False, False)] * d)
    np.testing.assert_allclose((P @ v.ravel()).reshape(shape), expected, atol=1e-12)


def test_interpolation_takes_the_edge_value_behind_a_neumann_side():
    P = interpolation((6,), [(True, False)])
    assert P.toarray().sum(axis=1)[0] == pytest.approx(1.0)       # closed side: rows sum to 1
    assert P.toarray().sum(axis=1)[-1] == pytest.approx(0.75)     # Dirichlet side: the 0 ghost


def test_galerkin_apply_is_the_matrix_product_channel_by_channel():
    op = _two_phase_operator((8, 8, 8), 100.0)
    level = GridStencil.from_operator(op, op.grid_shape, torch.float64,
                                      coarsening="galerkin").coarse
    u = torch.randn(2, 3, *level.grid_shape, dtype=torch.float64)
    out = level.apply(u).numpy()
    for b in range(2):
        for c in range(3):
            np.testing.assert_allclose(out[b, c].ravel(), level.matrix() @ u[b, c].numpy().ravel(),
                                       atol=1e-10)


def test_galerkin_levels_make_the_untrained_cycle_robust_to_contrast():
    """The property Galerkin coarsening is for: the multigrid start (no training) keeps its
    iteration count at contrast 10^6 where rediscretised coarse levels lose it (field seed
    2: seed 1 holds nearly isolated inclusions, on which the Galerkin start needs 91
    iterations, still 17x fewer than rediscretised levels)."""
    model = TrainedModel("deep_cd", MultigridNet(3, 4), {"kind": "multigrid", "ndim": 3,
                                                          "channels": 4})
    b = np.random.default_rng(0).standard_normal(16**3)
    its = {}
    for coarsening in ("rediscretise", "galerkin"):
        for contrast in (1.0, 1e6):
            op = _two_phase_operator((16, 16, 16), contrast, seed=2)
            sol = sciml.solve(LinearProblem(op, b, grid_shape=op.grid_shape),
                              method="deep_cd", model=model, coarsening=coarsening,
                              fallback="cg", rtol=1e-6)
            assert sol.converged and sol.info["coarsening"] == coarsening
            np.testing.assert_array_less(np.linalg.norm(b - op.matvec(sol.x)),
                                         1e-6 * np.linalg.norm(b) * 1.0001)
            its[coarsening, contrast] = sol.iterations
    assert its["galerkin", 1e6] <= 2.5 * its["galerkin", 1.0]  # 19 and 9 when written
    assert its["rediscretise", 1e6] > 3 * its["galerkin", 1e6]


def test_auto_coarsening_follows_the_coefficients_contrast():
    b = np.random.default_rng(0).standard_normal(12**3)
    for contrast, expected in ((1.0, "rediscretise"), (5.0, "rediscretise"), (1e3, "smoothed")):
        op = _two_phase_operator((12, 12, 12), contrast)
        sol = sciml.solve(LinearProblem(op, b, grid_shape=op.grid_shape),
                          method="deep_cd", rtol=1e-6)
        assert sol.info["coarsening"] == expected and sol.converged


def test_a_bad_coarsening_is_refused_with_the_choices():
    prob = sciml.problems.Poisson(shape=(8, 8, 8), rhs="random")
    with pytest.raises(InvalidOptionError, match="rediscretise.*galerkin"):
        sciml.solve(prob, method="deep_cd", coarsening="algebraic")
    with pytest.raises(InvalidOptionError, match="coarsening must be one of"):
        MultigridNet(3, 2, coarsening="mean")


def test_the_face_stencil_leaves_a_walled_in_cell_empty():
    faces = [np.ones((4, 3)), np.ones((3, 4))]
    faces[0][1:3, 1] = 0.0   # cell (1, 1) loses every face
    faces[1][1, 1:3] = 0.0
    A = stencil_to_csr(stencil_from_faces(faces, (3, 3)), (3, 3))
    assert A[4].nnz == 0 and A[:, 4].nnz == 0


def test_two_phase_training_operators_span_the_contrast_range_and_reproduce():
    from sciml.solvers.deep_cd.train import training_operators

    ops = training_operators(["two-phase"] * 3 + ["dirichlet"], (8, 8, 8), seed=3)
    contrasts = [float(op.coefficient.max()) for op in ops[:3]]
    for j, c in enumerate(contrasts):  # the j-th of three equal parts of log10 [1, 10^6]
        assert 10.0 ** (2 * j) <= c <= 10.0 ** (2 * j + 2)
        assert set(np.unique(ops[j].coefficient)) == {1.0, c}
    again = training_operators(["two-phase"] * 3 + ["dirichlet"], (8, 8, 8), seed=3)
    np.testing.assert_array_equal(again[1].coefficient, ops[1].coefficient)
    assert ops[3].coefficient is None


def test_a_galerkin_network_trains_and_records_its_coarsening(tmp_path):
    from sciml.solvers.deep_cd.train import train

    model = train(shape=(8, 8, 8), operators=["two-phase", "dirichlet"], samples=8, epochs=2,
                  batch_size=4, channels=2, coarsening="galerkin", progress=False)
    history = model.metrics["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert model.config["coarsening"] == "galerkin"
    path = model.save(tmp_path / "g.pt")
    loaded = sciml.load_model(path)
    assert loaded.network.coarsening == "galerkin"
    op = _two_phase_operator((8, 8, 8), 1e4)
    b = np.random.default_rng(0).standard_normal(8**3)
    sol = sciml.solve(LinearProblem(op, b, grid_shape=op.grid_shape), method="deep_cd",
                      model=loaded, rtol=1e-6)
    assert sol.converged and sol.info["coarsening"] == "galerkin"


def test_a_single_cell_has_no_galerkin_level():
    with pytest.raises(ValueError, match="one cell"):
        galerkin_stencil({(0, 0, 0): np.ones((1, 1, 1))}, (1, 1, 1), [(False, False)] * 3)


# -- smoothed transfers (coarsening="smoothed") ----------------------------------------------

def _assembled_smoothed_interpolation(op):
    """``(I - w D^-1 A) P_0`` assembled here: ``P_0`` maps each cell to its 2^d block."""
    shape = op.grid_shape
    cells = np.indices(shape).reshape(len(shape), -1)
    blocks = np.ravel_multi_index(cells // 2, coarse_shape(shape))
    P0 = sp.csr_matrix((np.ones(cells.shape[1]), (np.arange(cells.shape[1]), blocks)),
                       shape=(cells.shape[1], int(np.prod(coarse_shape(shape)))))
    A = op.to_csr()
    return P0 - TRANSFER_OMEGA * sp.diags(1.0 / A.diagonal()) @ A @ P0


@pytest.mark.parametrize("shape, bc", [((8, 6, 5), "dirichlet"), ((7, 9), MIXED_3D[:4])])
def test_smoothed_interpolation_is_one_jacobi_step_on_the_block_interpolation(shape, bc):
    op = _two_phase_operator(shape, 1e4, bc=bc)
    P = smoothed_interpolation(op.to_csr(), shape)
    assert abs(P - _assembled_smoothed_interpolation(op)).max() < 1e-12


@pytest.mark.parametrize("coarsening, transfer", [("galerkin", "linear"),
                                                  ("smoothed", "smoothed")])
def test_coarse_levels_are_the_variational_product_and_stay_spd(coarsening, transfer):
    """v^T A_c v = 2^(2-d) (P v)^T A (P v), with ``P`` assembled here and A applied by the
    stencil kernel (not the matrix the product used), and every level is symmetric positive
    definite; odd sizes."""
    op = _two_phase_operator((12, 10, 7), 1e6)
    grid = GridStencil.from_operator(op, op.grid_shape, torch.float64, coarsening=coarsening)
    coarse = grid.coarse
    assert isinstance(coarse, GalerkinStencil) and coarse.grid_shape == (6, 5, 4)
    assert coarse.transfer == transfer
    P = (interpolation(op.grid_shape, grid.closed) if transfer == "linear"
         else _assembled_smoothed_interpolation(op))
    v = np.random.default_rng(2).standard_normal(int(np.prod(coarse.grid_shape)))
    fine = P @ v
    assert v @ (coarse.matrix() @ v) == pytest.approx(0.5 * fine @ op.matvec(fine), rel=1e-10)
    level = coarse
    while level is not None:
        dense = level.matrix().toarray()
        np.testing.assert_allclose(dense, dense.T, atol=1e-9 * abs(dense).max())
        assert np.linalg.eigvalsh(dense).min() > 0
        level = level.coarse


def test_the_untrained_smoothed_transfers_are_the_interpolation_and_its_transpose():
    """Channel 0 of the untrained network restricts by 2^(2-d) P^T and prolongs by P, the P
    its Galerkin levels are built with (cross-channel noise switched off; odd sizes)."""
    op = _two_phase_operator((9, 8, 7), 1e3)
    net = MultigridNet(3, 2, coarsening="smoothed").double()
    with torch.no_grad():
        for weight in (net.restrict, net.prolong):
            kept = weight[0, 0].clone()
            weight.zero_()
            weight[0, 0] = kept
    grid = GridStencil.from_operator(op, op.grid_shape, torch.float64, coarsening="smoothed")
    P = _assembled_smoothed_interpolation(op)
    r = torch.randn(1, 2, *op.grid_shape, dtype=torch.float64)
    uc = torch.randn(1, 2, *coarse_shape(op.grid_shape), dtype=torch.float64)
    with torch.no_grad():
        restricted = net.smoothed_restriction(r, grid)[0, 0].numpy().ravel()
        prolonged = net.smoothed_prolongation(uc, grid)[0, 0].numpy().ravel()
    np.testing.assert_allclose(restricted, 0.5 * P.T @ r[0, 0].numpy().ravel(), atol=1e-10)
    np.testing.assert_allclose(prolonged, P @ uc[0, 0].numpy().ravel(), atol=1e-10)


def test_smoothed_transfers_keep_the_untrained_cycle_flat_in_contrast():
    """What the smoothed transfers are for: the untrained cycle needs about as many
    iterations at contrast 10^6 as at 1, and fewer than with the linear Galerkin levels."""
    b = np.random.default_rng(0).standard_normal(16**3)
    its = {}
    for coarsening in ("galerkin", "smoothed"):
        model = TrainedModel("deep_cd", MultigridNet(3, 4, coarsening=coarsening),
                             {"kind": "multigrid", "ndim": 3, "channels": 4,
                              "coarsening": coarsening})
        for contrast in (1.0, 1e6):
            op = _two_phase_operator((16, 16, 16), contrast, seed=2)
            sol = sciml.solve(LinearProblem(op, b, grid_shape=op.grid_shape),
                              method="deep_cd", model=model, fallback="cg", rtol=1e-6)
            assert sol.converged and sol.info["fallbacks"] == 0
            assert np.linalg.norm(b - op.matvec(sol.x)) <= 1e-6 * np.linalg.norm(b) * 1.0001
            its[coarsening, contrast] = sol.iterations
    assert its["smoothed", 1e6] <= 1.5 * its["smoothed", 1.0]
    assert its["smoothed", 1e6] < its["galerkin", 1e6]


def test_smoothed_networks_and_levels_go_together():
    op = _two_phase_operator((8, 8, 8), 1e3)
    b = np.ones(8**3)
    for built, asked in (("smoothed", "galerkin"), ("galerkin", "smoothed")):
        model = TrainedModel("deep_cd", MultigridNet(3, 2, coarsening=built),
                             {"kind": "multigrid", "ndim": 3, "channels": 2,
                              "coarsening": built})
        with pytest.raises(InvalidOptionError, match="smoothed transfers and their levels"):
            sciml.solve(LinearProblem(op, b, grid_shape=op.grid_shape), method="deep_cd",
                        model=model, coarsening=asked)


def test_the_smoothed_network_has_2_tap_transfers():
    net = MultigridNet(3, 4, coarsening="smoothed")
    assert net.restrict.shape[2:] == (2, 2, 2) and net.prolong.shape[2:] == (2, 2, 2)
    count = sum(p.numel() for p in net.parameters())
    assert count == parameter_count("multigrid", {"ndim": 3, "channels": 4,
                                                  "coarsening": "smoothed"}) == 1128


def test_jacobi_scale_follows_the_largest_eigenvalue_of_d_inv_a():
    n = 50
    laplacian = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    rho = 1 + np.cos(np.pi / (n + 1))   # the largest eigenvalue of D^-1 A
    assert jacobi_scale(laplacian.tocsr()) == pytest.approx(1.05 * rho / 2, rel=1e-2)
    dense = sp.csr_matrix(np.ones((n, n)) + np.eye(n))   # D^-1 A has rho = (n + 1) / 2
    assert jacobi_scale(dense) == pytest.approx(1.05 * (n + 1) / 4, rel=1e-6)


def test_a_smoothed_level_scales_its_jacobi_steps_to_damp_the_top_modes():
    """A dense SPD level (``rho(D^-1 A) = 32.5``, as the deep smoothed levels can be well
    above 3): ``I - (2/3) D^-1 A`` amplifies its top mode, the level's scaled step
    ``I - (2/3) (s D)^-1 A`` damps every mode."""
    A = np.ones((64, 64)) + np.eye(64)
    level = GalerkinStencil(sp.csr_matrix(A), (4, 4, 4), [(False, False)] * 3, torch.float64)
    plain = np.eye(64) - TRANSFER_OMEGA * A / np.diag(A)[:, None]
    scaled = np.eye(64) - TRANSFER_OMEGA * level.inv_diag.numpy().reshape(-1, 1) * A
    assert abs(np.linalg.eigvals(plain)).max() > 1.0
    assert abs(np.linalg.eigvals(scaled)).max() < 1.0
