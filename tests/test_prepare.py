"""sciml.prepare: set up once, solve many right-hand sides, precondition other methods."""

from __future__ import annotations

import numpy as np
import pytest

import sciml
from sciml.errors import InvalidOptionError, InvalidProblemError


def _true_relative_residual(problem, x):
    lp = problem.to_linear_problem()
    return np.linalg.norm(lp.b - lp.A @ np.asarray(x).ravel()) / np.linalg.norm(lp.b)


@pytest.mark.parametrize("method, options", [("amg", {}), ("amg", {"kind": "rs"}),
                                             ("direct", {}), ("deep_cd", {}), ("cg", {})])
def test_a_prepared_solve_matches_a_plain_solve_for_each_rhs(method, options):
    problem = sciml.problems.Poisson(shape=(12, 12, 12), rhs="random", seed=1)
    prepared = sciml.prepare(problem, method=method, **options)
    rng = np.random.default_rng(0)
    for b in (None, rng.standard_normal(problem.b.shape)):
        sol = prepared.solve(b, rtol=1e-8)
        target = problem if b is None else sciml.problems.Poisson(
            shape=(12, 12, 12), rhs=b / problem.h**2)
        plain = sciml.solve(target, method=method, rtol=1e-8, **options)
        assert sol.converged and _true_relative_residual(target, sol.x) <= 1e-8
        np.testing.assert_allclose(sol.x, plain.x, rtol=1e-6, atol=1e-9)
        assert sol.setup_time == 0.0
        assert sol.info["prepared_setup_time"] == prepared.setup_time
    assert "prepared_setup_time" not in plain.info and plain.setup_time > 0


def test_the_setup_runs_once_for_many_solves(monkeypatch):
    import pyamg

    import sciml.solvers.classical.amg as amg_module

    builds = []
    original = pyamg.smoothed_aggregation_solver
    monkeypatch.setitem(amg_module._BUILDERS, "sa",
                        lambda *a, **k: builds.append(1) or original(*a, **k))
    problem = sciml.problems.Poisson(shape=(16, 16), rhs="random")
    prepared = sciml.prepare(problem, method="amg")
    hierarchy = prepared.state
    for seed in range(4):
        b = np.random.default_rng(seed).standard_normal(problem.b.size)
        assert prepared.solve(b, rtol=1e-10).converged
    assert len(builds) == 1 and prepared.state is hierarchy


def test_the_right_hand_side_may_be_given_on_the_grid_and_is_checked():
    problem = sciml.problems.Poisson(shape=(8, 9), rhs="ones")
    prepared = sciml.prepare(problem, method="direct")
    on_grid = prepared.solve(problem.b.reshape(8, 9))
    assert on_grid.x.shape == (8, 9) and on_grid.converged
    with pytest.raises(InvalidProblemError, match="b has 10 entries, but A has 72 rows"):
        prepared.solve(np.ones(10))
    with pytest.raises(InvalidOptionError, match="rtol and atol"):
        prepared.solve(rtol=-1.0)


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_aspreconditioner_cuts_cg_iterations(method):
    problem = sciml.problems.Poisson(shape=(20, 20, 20), rhs="random")
    M = sciml.prepare(problem, method=method).aspreconditioner()
    plain = sciml.solve(problem, method="cg", rtol=1e-8)
    for cg in ("cg", "scipy_cg"):
        sol = sciml.solve(problem, method=cg, M=M, rtol=1e-8)
        assert sol.converged and _true_relative_residual(problem, sol.x) <= 1e-8
        assert sol.iterations <= (2 if method == "direct" else plain.iterations // 5)


@pytest.mark.parametrize("method, why", [("deep_cd", "nonlinear function"),
                                         ("cg", "no preconditioner")])
def test_methods_without_a_fixed_preconditioner_say_why(method, why):
    prepared = sciml.prepare(sciml.problems.Poisson(shape=(8, 8, 8)), method=method)
    with pytest.raises(InvalidOptionError, match=why):
        prepared.aspreconditioner()


def test_setup_options_are_checked_before_any_work():
    problem = sciml.problems.Poisson(shape=(8, 8))
    with pytest.raises(InvalidOptionError, match=r"kind='ml' is invalid; expected one of"):
        sciml.prepare(problem, method="amg", kind="ml")
    with pytest.raises(InvalidOptionError, match="k=-1 is invalid; expected an integer >= 0"):
        sciml.prepare(sciml.problems.Poisson(shape=(8, 8, 8)), method="deep_cd", k=-1)
    with pytest.raises(InvalidOptionError, match="does not accept option 'rtol'"):
        sciml.prepare(problem, method="amg", rtol=1e-6)  # a solve option, not a set-up one
