"""The public face: solve, methods, registry, Solution, import hygiene."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import sciml
from sciml.errors import InvalidOptionError, SciMLError, UnknownMethodError


def laplacian_1d(n):
    return sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), format="csr")


def test_import_sciml_loads_neither_torch_nor_cupy():
    code = "import sys, sciml; print('torch' in sys.modules, 'cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_methods_lists_every_builtin_with_a_description():
    listing = sciml.methods()
    for name in ("cg", "scipy_cg", "amg", "direct"):
        assert name in listing and len(listing[name]) > 10


def test_unknown_method_error_lists_known_names():
    prob = sciml.LinearProblem(laplacian_1d(5), np.ones(5))
    with pytest.raises(UnknownMethodError) as info:
        sciml.solve(prob, method="no_such_method")
    assert "cg" in str(info.value) and "amg" in str(info.value)
    assert isinstance(info.value, (SciMLError, KeyError))


def test_tol_keyword_is_refused_with_a_pointer_to_rtol():
    prob = sciml.LinearProblem(laplacian_1d(5), np.ones(5))
    with pytest.raises(InvalidOptionError, match="rtol"):
        sciml.solve(prob, method="cg", tol=1e-6)


def test_unknown_option_names_the_accepted_ones():
    prob = sciml.LinearProblem(laplacian_1d(5), np.ones(5))
    with pytest.raises(InvalidOptionError, match="kind"):
        sciml.solve(prob, method="cg", kind="sa")


@pytest.mark.parametrize("method", ["cg", "scipy_cg", "amg", "direct"])
def test_every_classical_method_meets_the_shared_stopping_rule(method):
    prob = sciml.problems.Poisson(shape=(12, 10), rhs="gaussians", seed=3)
    sol = sciml.solve(prob, method=method, rtol=1e-9)
    A = prob.to_linear_problem().A
    b = prob.b.ravel()
    residual = np.linalg.norm(b - A @ sol.x.ravel())  # recomputed here, not by sciml
    assert sol.converged
    assert residual <= 1e-9 * np.linalg.norm(b)
    assert sol.x.shape == (12, 10)
    assert sol.method == method and sol.info["reason"] == "converged"
    assert sol.setup_time >= 0 and sol.solve_time >= 0
    assert sol.residuals[0] == pytest.approx(1.0)


def test_not_converging_reports_false_with_reason_not_nan():
    prob = sciml.problems.Poisson(shape=(30, 30), rhs="random")
    sol = sciml.solve(prob, method="cg", rtol=1e-10, maxiter=3)
    assert not sol.converged
    assert "maxiter" in sol.info["reason"]
    assert np.all(np.isfinite(sol.x)) and sol.iterations == 3


def test_indefinite_matrix_stops_cg_with_breakdown_reason():
    A = sp.diags([1.0, -1.0, 2.0, 3.0], format="csr")
    sol = sciml.solve(sciml.LinearProblem(A, np.array([0.0, 1.0, 0.0, 0.0])), method="cg")
    assert not sol.converged
    assert "p.Ap" in sol.info["reason"]


def test_atol_is_honoured_when_rtol_is_zero():
    A = laplacian_1d(40)
    b = np.ones(40)
    sol = sciml.solve(sciml.LinearProblem(A, b), method="cg", rtol=0.0, atol=1e-5)
    assert sol.converged and np.linalg.norm(b - A @ sol.x) <= 1e-5


def test_x0_is_used_and_an_exact_guess_needs_no_iteration():
    A = laplacian_1d(20)
    x_true = np.linspace(0, 1, 20)
    b = A @ x_true
    sol = sciml.solve(sciml.LinearProblem(A, b, x0=x_true), method="cg", rtol=1e-8)
    assert sol.converged and sol.iterations == 0


def test_zero_rhs_returns_zero_immediately():
    sol = sciml.solve(sciml.LinearProblem(laplacian_1d(8), np.zeros(8)), method="cg")
    assert sol.converged and sol.iterations == 0 and not sol.x.any()


def test_third_party_solver_registers_and_is_found_by_name():
    class Jacobi(sciml.LinearSolver):
        name = "test_jacobi"
        description = "damped Jacobi, for the registry test"
        options = {"omega": sciml.Option(0.5)}

        def iterate(self, lp, state, options, *, rtol, atol, maxiter, callback):
            from sciml.linear_solver import IterationResult

            omega = options["omega"]
            d = lp.A.diagonal()
            x = np.zeros_like(lp.b)
            norms = [np.linalg.norm(lp.b)]
            for k in range(maxiter or 5000):
                r = lp.b - lp.A @ x
                x = x + omega * r / d
                norms.append(np.linalg.norm(lp.b - lp.A @ x))
                if norms[-1] <= rtol * norms[0]:
                    return IterationResult(x, k + 1, norms, "converged")
            return IterationResult(x, maxiter, norms, "maxiter")

    sciml.register(Jacobi)
    assert "test_jacobi" in sciml.methods()
    sol = sciml.solve(sciml.LinearProblem(laplacian_1d(6), np.ones(6)), method="test_jacobi",
                      rtol=1e-6)
    assert sol.converged


def test_solution_summary_is_json_serialisable():
    import json

    sol = sciml.solve(sciml.problems.Poisson(shape=(8, 8)), method="amg", rtol=1e-8)
    text = json.dumps(sol.summary())
    assert '"method": "amg"' in text


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch):
    """A package declaring the ``sciml.solvers`` entry-point group is found by name."""
    from sciml import registry

    (tmp_path / "plugin_mod.py").write_text(
        "import numpy as np\n"
        "import sciml\n"
        "from sciml.linear_solver import IterationResult\n"
        "class Dense(sciml.LinearSolver):\n"
        "    name = 'plugin_dense'\n"
        "    description = 'dense numpy solve from a plug-in'\n"
        "    def iterate(self, lp, state, options, *, rtol, atol, maxiter, callback):\n"
        "        x = np.linalg.solve(lp.A.toarray(), lp.b)\n"
        "        return IterationResult(x, 1, [np.linalg.norm(lp.b)], 'converged')\n")
    dist = tmp_path / "plugin_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sciml.solvers]\nplugin_dense = plugin_mod:Dense\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._entry_points.cache_clear()
    try:
        assert sciml.methods()["plugin_dense"] == "dense numpy solve from a plug-in"
        sol = sciml.solve(sciml.LinearProblem(laplacian_1d(4), np.ones(4)), method="plugin_dense")
        assert sol.converged
    finally:
        registry._entry_points.cache_clear()
        registry._registered.pop("plugin_dense", None)
