"""The PETSc method: sciml's stopping rule on PETSc's solvers, on one and on two processes.

The PETSc tests run where petsc4py imports (Debian's python3-petsc4py in a venv of
/usr/bin/python3, see README "PETSc"; `.ci/run` builds one) and skip elsewhere with the
reason. The per-process assembly and the option and install errors need no PETSc.
"""

import builtins
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import sciml
from sciml.errors import InvalidOptionError, MissingDependencyError
from sciml.kernels.stencil import StencilOperator
from sciml.problems.linear import LinearProblem
from sciml.solvers.petsc import runtime
from sciml.solvers.petsc.assembly import local_rows, share_of


def skip(reason):
    """Skip, or fail where PETSc must run (``SCIML_REQUIRE_PETSC=1``, as `.ci/run` sets)."""
    if os.environ.get("SCIML_REQUIRE_PETSC") == "1":
        pytest.fail(f"SCIML_REQUIRE_PETSC=1 but {reason}")
    pytest.skip(reason)


def petsc_or_skip():
    try:
        return runtime.petsc()
    except MissingDependencyError as exc:
        skip(f"petsc4py is not importable in this interpreter: {str(exc)[:160]}")


def two_phase(shape, contrast, seed=0):
    """A coefficient of two values, 1 and ``contrast``, in blobs (thresholded noise)."""
    rng = np.random.default_rng(seed)
    smooth = rng.standard_normal(shape)
    for axis in range(len(shape)):
        smooth = smooth + np.roll(smooth, 1, axis) + np.roll(smooth, -1, axis)
    return np.where(smooth > 0, contrast, 1.0)


def mpi_env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # OpenMPI refuses root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def mpiexec_or_skip():
    petsc_or_skip()
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        skip("mpiexec is not on PATH")
    return mpiexec


# -- no PETSc needed ------------------------------------------------------------------------

@pytest.mark.parametrize("shape, bc, masked", [
    ((7, 5, 4), "dirichlet", False),
    ((6, 5, 3), ("neumann", "dirichlet", "neumann", "neumann", "dirichlet", "neumann"), True),
    ((9, 6), "neumann", True),
    ((11,), "dirichlet", False),
])
@pytest.mark.parametrize("ranks", [1, 2, 3, 8])
def test_each_process_assembles_exactly_its_rows_of_the_global_stencil(shape, bc, masked,
                                                                       ranks):
    rng = np.random.default_rng(1)
    coefficient = two_phase(shape, 1e4) if len(shape) > 1 else None
    mask = rng.random(shape) < 0.15 if masked else None
    if mask is not None:
        mask[:2] = True  # a whole slab of solid cells on the first process
    op = StencilOperator(shape, coefficient, mask=mask, bc=bc)
    lp = LinearProblem(op, np.ones(op.shape[0]))
    shares = [share_of(lp, rank, ranks) for rank in range(ranks)]
    assert [s.start for s in shares[1:]] == [s.stop for s in shares[:-1]]
    assert shares[0].start == 0 and shares[-1].stop == op.shape[0]
    plane = op.strides[0]
    assert all(s.start % plane == 0 and s.shape[1:] == shape[1:] for s in shares)
    pieces = [local_rows(lp, s) for s in shares]
    assert all(p.shape == (s.size, op.shape[0]) for p, s in zip(pieces, shares))
    assembled = sp.vstack(pieces).tocsr()
    assert abs(assembled - op.to_csr()).max() == 0.0


def test_a_share_is_assembled_from_its_slab_and_ghost_planes_never_the_global_matrix(
        monkeypatch):
    assembled = []
    to_csr = StencilOperator.to_csr
    monkeypatch.setattr(StencilOperator, "to_csr",
                        lambda self: assembled.append(self.grid_shape) or to_csr(self))
    op = StencilOperator((16, 6, 5), two_phase((16, 6, 5), 100.0))
    lp = LinearProblem(op, np.ones(op.shape[0]))
    rows = [local_rows(lp, share_of(lp, rank, 4)) for rank in range(4)]
    assert assembled == [(5, 6, 5), (6, 6, 5), (6, 6, 5), (5, 6, 5)]  # 4 planes + ghosts
    assert sum(r.shape[0] for r in rows) == op.shape[0]


def test_a_matrix_without_a_grid_is_split_by_rows_and_a_linear_operator_is_refused():
    A = sp.random(10, 10, density=0.3, random_state=0, format="csr") + sp.eye(10)
    lp = LinearProblem(A, np.ones(10))
    shares = [share_of(lp, r, 3) for r in range(3)]
    assert [(s.start, s.stop, s.shape) for s in shares] == [(0, 3, None), (3, 6, None),
                                                             (6, 10, None)]
    assert abs(sp.vstack([local_rows(lp, s) for s in shares]) - A).max() == 0.0
    dense = LinearProblem(A.toarray(), np.ones(10))
    assert abs(local_rows(dense, shares[2]) - A[6:]).max() == 0.0
    with pytest.raises(InvalidOptionError, match="needs the matrix entries"):
        local_rows(LinearProblem(spla.aslinearoperator(A), np.ones(10)), shares[0])


def test_import_sciml_and_the_petsc_method_class_do_not_import_petsc4py():
    code = ("import sys, sciml; from sciml.registry import get_solver_class; "
            "get_solver_class('petsc'); sciml.methods(); print('petsc4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False"]


@pytest.fixture
def without_petsc4py(monkeypatch):
    real_import = builtins.__import__

    def no_petsc(name, *args, **kwargs):
        if name.startswith("petsc4py"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    runtime.petsc.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_petsc)
    yield
    monkeypatch.undo()
    runtime.petsc.cache_clear()


def test_without_petsc4py_the_error_gives_both_install_recipes(without_petsc4py):
    with pytest.raises(MissingDependencyError) as info:
        sciml.solve(sciml.problems.Poisson((8, 8)), method="petsc")
    text = str(info.value)
    assert isinstance(info.value, ImportError)
    assert "apt-get install -y python3-petsc4py" in text and "'numpy<2'" in text
    assert "PETSC_DIR=" in text and "source build" in text


def test_without_petsc4py_the_cli_prints_one_line_and_exits_2(without_petsc4py, capsys):
    from sciml.cli import main

    assert main(["solve", "poisson", "--shape", "8", "8", "--method", "petsc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sciml: error: method 'petsc' needs petsc4py")


def test_cli_pc_on_another_method_and_an_existing_save_file_are_one_line_errors(tmp_path,
                                                                               capsys):
    from sciml.cli import main

    assert main(["solve", "poisson", "--shape", "8", "8", "--method", "cg", "--pc", "gamg"]) == 2
    assert "does not accept option 'pc_type'" in capsys.readouterr().err
    existing = tmp_path / "u.npy"
    existing.write_bytes(b"keep")
    assert main(["solve", "poisson", "--shape", "8", "8", "--save", str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err and existing.read_bytes() == b"keep"
    fresh = tmp_path / "v.npy"
    assert main(["solve", "poisson", "--shape", "8", "8", "--rtol", "1e-10", "--save",
                 str(fresh)]) == 0
    prob = sciml.problems.Poisson((8, 8))
    u = np.load(fresh)
    assert u.shape == (8, 8)
    A = prob.to_linear_problem().A
    assert np.linalg.norm(prob.b.ravel() - A @ u.ravel()) <= 1e-10 * np.linalg.norm(prob.b)


@pytest.mark.parametrize("options, words", [
    ({"pc_type": "ilu"}, "'gamg', 'hypre', 'icc', 'jacobi', 'sor', 'none'"),
    ({"ksp_type": "minres"}, "'cg', 'pipecg', 'gmres', 'fgmres', 'bcgs'"),
    ({"petsc_options": {"ksp_rtol": 1e-3}}, "set by sciml"),
    ({"ksp_rtol": 1e-3}, "set by sciml"),
    ({"pc_sor_its": 2, "petsc_options": {"pc_sor_its": 3}}, "given both as keywords"),
    ({"gamg_threshold": 0.1}, "its options are"),
    ({"petsc_options": {"-pc_gamg_threshold": 0.1}}, "no leading dash"),
    ({"gather": "yes"}, "True or False"),
])
def test_bad_options_are_refused_before_any_work_and_say_what_is_valid(options, words):
    with pytest.raises(InvalidOptionError) as info:
        sciml.solve(sciml.problems.Poisson((8, 8)), method="petsc", **options)
    assert words in str(info.value)


# -- PETSc on one process -------------------------------------------------------------------

#: most iterations each preconditioner may take at 16^3, rtol 1e-8, contrast 1 and 1e4
#: (measured: gamg 9/17, hypre 4/5, icc 23/35, none 64/1037)
ITERATION_BOUNDS = {"gamg": (15, 30), "hypre": (8, 10), "icc": (35, 60), "none": (100, 1600)}


@pytest.mark.parametrize("contrast", [1.0, 1e4])
@pytest.mark.parametrize("pc", list(ITERATION_BOUNDS))
def test_cg_with_each_preconditioner_meets_the_tolerance_on_3d_poisson(pc, contrast):
    petsc_or_skip()
    shape = (16, 16, 16)
    coefficient = None if contrast == 1.0 else two_phase(shape, contrast)
    prob = sciml.problems.Poisson(shape, coefficient=coefficient, seed=3)
    rtol = 1e-8
    sol = sciml.solve(prob, method="petsc", pc_type=pc, rtol=rtol)
    A = prob.to_linear_problem().A  # SciPy CSR, assembled apart from PETSc's rows
    b = prob.b.ravel()
    residual = np.linalg.norm(b - A @ sol.x.ravel())
    assert sol.converged and sol.info["reason"] == "CONVERGED_ATOL"
    assert residual <= rtol * np.linalg.norm(b)
    assert 1 <= sol.iterations <= ITERATION_BOUNDS[pc][contrast > 1]
    assert len(sol.residuals) == sol.iterations + 1 and sol.residuals[0] == pytest.approx(1.0)
    assert sol.residuals[-1] <= rtol
    assert sol.x.shape == shape and sol.setup_time > 0 and sol.solve_time > 0
    assert sol.info["ranks"] == 1 and sol.info["pc_type"] == pc


def test_darcy_and_a_plain_sparse_system_match_the_direct_solution():
    petsc_or_skip()
    rng = np.random.default_rng(0)
    darcy = sciml.problems.DarcyFlow(a=np.where(rng.random((41, 41)) > 0.5, 12.0, 3.0))
    ref = sciml.solve(darcy, method="direct")
    sol = sciml.solve(darcy, method="petsc", pc_type="hypre", rtol=1e-10)
    assert sol.converged and sol.x.shape == (41, 41)
    np.testing.assert_allclose(sol.x, ref.x, rtol=0, atol=1e-8 * np.abs(ref.x).max())
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(50, 50), format="csr")
    b = rng.standard_normal(50)
    plain = sciml.solve(sciml.LinearProblem(A, b), method="petsc", pc_type="icc", rtol=1e-10)
    np.testing.assert_allclose(plain.x, spla.spsolve(A.tocsc(), b), rtol=1e-8)


def test_too_few_iterations_is_not_converged_with_petscs_reason():
    petsc_or_skip()
    prob = sciml.problems.Poisson((16, 16, 16))
    sol = sciml.solve(prob, method="petsc", pc_type="none", maxiter=5, rtol=1e-8)
    assert sol.converged is False and sol.iterations == 5
    assert sol.info["reason"] == "DIVERGED_MAX_IT"
    assert sol.info["residual_norm"] > sol.info["threshold"]
    none = sciml.solve(prob, method="petsc", maxiter=0)
    assert none.converged is False and none.iterations == 0 and not np.any(none.x)


def test_a_prepared_solve_keeps_the_rule_for_another_rhs_and_a_nonzero_guess():
    petsc_or_skip()
    prob = sciml.problems.Poisson((12, 12, 12))
    ml = sciml.prepare(prob, method="petsc", pc_type="gamg")
    rng = np.random.default_rng(5)
    b, x0 = rng.standard_normal(prob.b.size), rng.standard_normal(prob.b.size)
    seen = []
    sol = ml.solve(b, x0=x0, rtol=1e-7, callback=lambda x: seen.append(x.copy()))
    A = prob.to_linear_problem().A
    assert sol.converged and np.linalg.norm(b - A @ sol.x.ravel()) <= 1e-7 * np.linalg.norm(b)
    assert len(seen) == sol.iterations and sol.setup_time == 0.0
    assert sol.info["prepared_setup_time"] > 0


def test_petsc_options_reach_petsc_and_a_bad_value_is_a_specific_error():
    petsc_or_skip()
    prob = sciml.problems.Poisson((12, 12, 12))
    one_sweep = sciml.solve(prob, method="petsc", pc_type="sor")
    three = sciml.solve(prob, method="petsc", pc_type="sor", pc_sor_its=3)
    as_dict = sciml.solve(prob, method="petsc", pc_type="sor", petsc_options={"pc_sor_its": 3})
    assert one_sweep.converged and three.converged
    assert three.iterations < one_sweep.iterations
    assert as_dict.iterations == three.iterations
    assert three.options["petsc_options"] == {"pc_sor_its": 3}
    with pytest.raises(InvalidOptionError, match="Unknown GAMG type nosuch"):
        sciml.solve(prob, method="petsc", pc_gamg_type="nosuch")
    assert not any(k.startswith("sciml_petsc") for k in runtime.petsc().Options().getAll())


# -- PETSc on two processes -----------------------------------------------------------------

def test_two_processes_solve_the_cli_problem_print_once_and_gather_the_same_x(tmp_path):
    mpiexec = mpiexec_or_skip()
    out = tmp_path / "u.npy"
    sciml_cli = [sys.executable, "-m", "sciml.cli"]
    run = subprocess.run([mpiexec, "-n", "2", *sciml_cli, "solve", "poisson", "--shape", "32",
                          "32", "32", "--method", "petsc", "--pc", "gamg", "--rtol", "1e-10",
                          "--json", "--save", str(out)], capture_output=True, text=True,
                         env=mpi_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count('"method": "petsc"') == 1
    report = json.loads(run.stdout)
    assert report["converged"] and report["info"]["ranks"] == 2
    assert report["info"]["rows"] == [0, 16 * 32 * 32]  # rank 0 printed; half the planes
    two = np.load(out)
    prob = sciml.problems.Poisson((32, 32, 32))
    one = sciml.solve(prob, method="petsc", pc_type="gamg", rtol=1e-10)
    assert two.shape == (32, 32, 32)
    np.testing.assert_allclose(two, one.x, rtol=0, atol=1e-7 * np.abs(one.x).max())


SCRIPT = """
import numpy as np, sciml
prob = sciml.problems.Poisson((12, 10, 8), coefficient=np.load({k!r}), seed=2)
for pc in ("icc", "hypre"):
    part = sciml.solve(prob, method="petsc", pc_type=pc, rtol=1e-9)
    whole = sciml.solve(prob, method="petsc", pc_type=pc, rtol=1e-9, gather=True)
    rank = part.info["rank"]
    capped = sciml.solve(prob, method="petsc", pc_type=pc, rtol=1e-9, maxiter=2)
    np.save({out!r} + f"/{{pc}}_{{rank}}.npy", part.x)
    if rank == 0:
        np.save({out!r} + f"/{{pc}}_whole.npy", whole.x)
    with open({out!r} + f"/{{pc}}_{{rank}}.txt", "w") as fh:
        print(pc, rank, part.converged, part.info["pc_type"], part.x.shape, part.info["rows"],
              capped.converged, capped.info["reason"], file=fh)
"""


def test_two_processes_own_slabs_of_a_two_phase_problem_that_gather_to_the_solution(tmp_path):
    mpiexec = mpiexec_or_skip()
    coefficient = two_phase((12, 10, 8), 1e4)
    np.save(tmp_path / "k.npy", coefficient)
    script = tmp_path / "two_phase.py"
    script.write_text(SCRIPT.format(k=str(tmp_path / "k.npy"), out=str(tmp_path)))
    run = subprocess.run([mpiexec, "-n", "2", sys.executable, str(script)],
                         capture_output=True, text=True, env=mpi_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    lines = sorted(p.read_text().strip() for p in tmp_path.glob("*.txt"))
    capped = "False DIVERGED_MAX_IT"  # on every process alike
    assert lines == [f"hypre 0 True hypre (6, 10, 8) [0, 480] {capped}",
                     f"hypre 1 True hypre (6, 10, 8) [480, 960] {capped}",
                     f"icc 0 True bjacobi+icc (6, 10, 8) [0, 480] {capped}",
                     f"icc 1 True bjacobi+icc (6, 10, 8) [480, 960] {capped}"]
    prob = sciml.problems.Poisson((12, 10, 8), coefficient=coefficient, seed=2)
    A, b = prob.to_linear_problem().A, prob.b.ravel()
    for pc in ("icc", "hypre"):
        whole = np.load(tmp_path / f"{pc}_whole.npy")
        slabs = np.concatenate([np.load(tmp_path / f"{pc}_{r}.npy") for r in (0, 1)])
        np.testing.assert_array_equal(whole, slabs)
        assert np.linalg.norm(b - A @ whole.ravel()) <= 1e-9 * np.linalg.norm(b)
