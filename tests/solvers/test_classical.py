"""Classical solvers: sciml's CG against SciPy's, preconditioning, AMG, property tests."""

import numpy as np
import pyamg
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

import sciml
from sciml.backend import cupy_available
from sciml.solvers.classical.cg import conjugate_gradient


def iterates_of(solver_call):
    seen = []
    solver_call(lambda xk: seen.append(np.array(xk, copy=True)))
    return seen


@pytest.mark.parametrize("matrix_free", [False, True])
def test_cg_matches_scipy_cg_iterate_for_iterate(matrix_free):
    prob = sciml.problems.Poisson(shape=(9, 8, 7), rhs="random", seed=4)
    lp = prob.to_linear_problem(matrix_free=matrix_free)
    A_csr = prob.to_linear_problem().A
    ours = iterates_of(lambda cb: conjugate_gradient(lp.A, lp.b, rtol=1e-10, callback=cb))
    theirs = iterates_of(lambda cb: spla.cg(A_csr, lp.b, rtol=1e-10, callback=cb))
    assert len(ours) == len(theirs) > 20
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-12 * np.abs(b).max()), k


def test_preconditioned_cg_matches_scipy_with_the_same_amg_preconditioner():
    A = pyamg.gallery.poisson((20, 20), format="csr")
    b = np.random.default_rng(0).standard_normal(400)
    M = pyamg.smoothed_aggregation_solver(A).aspreconditioner()
    ours = iterates_of(lambda cb: conjugate_gradient(A, b, rtol=1e-10, M=M, callback=cb))
    theirs = iterates_of(lambda cb: spla.cg(A, b, rtol=1e-10, M=M, callback=cb))
    assert len(ours) == len(theirs) < 20
    assert np.allclose(ours[-1], theirs[-1], rtol=1e-8)


def test_cg_accepts_a_callable_preconditioner_and_jacobi_helps_a_badly_scaled_system():
    rng = np.random.default_rng(2)
    scale = sp.diags(10.0 ** rng.uniform(-3, 3, 200))
    A = (scale @ pyamg.gallery.poisson((200,), format="csr") @ scale).tocsr()
    b = rng.standard_normal(200)
    d = A.diagonal()
    plain = sciml.solve(sciml.LinearProblem(A, b), method="cg", rtol=1e-8, maxiter=20000)
    jacobi = sciml.solve(sciml.LinearProblem(A, b), method="cg", rtol=1e-8,
                         M=lambda r: r / d)
    assert jacobi.converged and jacobi.iterations < plain.iterations


@pytest.mark.parametrize("kind, accel", [("sa", "cg"), ("rs", "cg"), ("sa", None)])
def test_amg_converges_in_few_iterations_on_3d_poisson(kind, accel):
    prob = sciml.problems.Poisson(shape=(16, 16, 16), rhs="random")
    sol = sciml.solve(prob, method="amg", rtol=1e-8, kind=kind, accel=accel)
    assert sol.converged and sol.iterations <= 30
    assert sol.setup_time > 0 and sol.info["levels"] >= 2


def test_amg_rejects_an_unknown_kind():
    with pytest.raises(sciml.errors.InvalidOptionError, match="kind"):
        sciml.solve(sciml.problems.Poisson((8, 8)), method="amg", kind="magic")


def test_direct_solve_of_singular_matrix_raises_clearly():
    A = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(sciml.errors.InvalidProblemError, match="singular"):
        sciml.solve(sciml.LinearProblem(A, np.ones(2)), method="direct")


@st.composite
def spd_systems(draw):
    n = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, n))
    A = G @ G.T + n * np.eye(n) * draw(st.floats(0.05, 2.0))
    return A, rng.standard_normal(n)


@settings(max_examples=50, deadline=None)
@given(system=spd_systems(), method=st.sampled_from(["cg", "scipy_cg", "direct"]))
def test_random_spd_systems_are_solved_to_tolerance(system, method):
    A, b = system
    sol = sciml.solve(sciml.LinearProblem(sp.csr_matrix(A), b), method=method, rtol=1e-10)
    assert sol.converged
    assert np.linalg.norm(b - A @ sol.x) <= 1e-10 * np.linalg.norm(b) * (1 + 1e-9)


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA GPU")
def test_cg_on_cupy_gives_the_numpy_answer():
    prob = sciml.problems.Poisson(shape=(24, 20, 16), rhs="gaussians")
    cpu = sciml.solve(prob, method="cg", rtol=1e-8)
    gpu = sciml.solve(prob, method="cg", rtol=1e-8, backend="cupy")
    assert gpu.converged and abs(gpu.iterations - cpu.iterations) <= 1
    assert np.allclose(gpu.x.get(), cpu.x, rtol=1e-6, atol=1e-9)

