"""``method="petsc"``: PETSc's Krylov solvers and preconditioners, on one or many processes.

Under ``mpiexec -n N`` every process runs the same program; each assembles only its own rows
of the matrix (:mod:`.assembly`) into one parallel AIJ matrix, and the solve is PETSc's. The
stopping rule is sciml's: PETSc stops on the unpreconditioned residual norm at
``max(rtol ||b||, atol)``, and :func:`sciml.linear_solver.finalize` recomputes the true
residual (with SciPy on one process, with a fresh matrix-vector product reduced over the
processes on several).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sciml.errors import InvalidOptionError
from sciml.linear_solver import (DEFAULT_RTOL, IterationResult, LinearSolver, PreparedLinear,
                                 check_tolerances, finalize)
from sciml.problems.linear import LinearProblem
from sciml.solution import Solution
from sciml.solver_base import Option, one_of

from .assembly import Share, local_rows, share_of
from .runtime import petsc, reason_name

#: Krylov methods that stop on the unpreconditioned residual norm; CG and pipelined CG with
#: the preconditioner on the left, the others with it on the right
KSP_TYPES = ("cg", "pipecg", "gmres", "fgmres", "bcgs")
_LEFT_PRECONDITIONED = ("cg", "pipecg")
#: preconditioners; "icc" on several processes is block Jacobi with IC(0) in each block
PC_TYPES = ("gamg", "hypre", "icc", "jacobi", "sor", "none")
#: PETSc options sciml sets itself (the stopping rule, the choice of method)
_OWN_OPTIONS = ("ksp_type", "pc_type", "ksp_rtol", "ksp_atol", "ksp_max_it", "ksp_norm_type",
                "ksp_pc_side", "ksp_initial_guess_nonzero",
                "ksp_converged_use_initial_residual_norm")
#: the prefixes of PETSc's own option names that ``sciml.solve(..., method="petsc", **kw)``
#: passes on to PETSc (``pc_gamg_threshold=0.02``, ``mg_levels_ksp_type="chebyshev"``, ...)
PETSC_PREFIXES = ("ksp_", "pc_", "mg_", "sub_", "mat_", "fieldsplit_")
_OPTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
_prefixes = itertools.count()


def _valid_petsc_options(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(k, str) and _OPTION_NAME.fullmatch(k) and k not in _OWN_OPTIONS
        and (v is None or isinstance(v, (str, int, float))) for k, v in value.items()))


def split_petsc_options(options: dict[str, Any]) -> dict[str, Any]:
    """Move the keyword options named like PETSc's (:data:`PETSC_PREFIXES`, other than
    ``ksp_type`` and ``pc_type``) into ``petsc_options``; the others are left for
    :func:`~sciml.solver_base.check_options`.

    Raises
    ------
    InvalidOptionError
        One name given both as a keyword and in ``petsc_options``.
    """
    declared = PETScSolver.options
    flat = {k: v for k, v in options.items()
            if k not in declared and k.startswith(PETSC_PREFIXES)}
    if not flat:
        return options
    given = options.get("petsc_options")
    merged = dict(given) if isinstance(given, dict) else {}
    twice = sorted(set(flat) & set(merged))
    if twice:
        raise InvalidOptionError(f"petsc: {twice} given both as keywords and in "
                                 f"petsc_options; give each once")
    if given is not None and not isinstance(given, dict):
        return options  # check_options reports the bad petsc_options
    rest = {k: v for k, v in options.items() if k not in flat}
    return {**rest, "petsc_options": {**merged, **flat}}


@dataclass
class PETScState:
    """What :meth:`PETScSolver.setup` builds once per operator."""

    comm: Any
    mat: Any
    ksp: Any
    share: Share
    pc: str
    assembly_time: float

    @property
    def ranks(self) -> int:
        """Number of processes."""
        return int(self.comm.getSize())

    @property
    def rank(self) -> int:
        """This process's rank."""
        return int(self.comm.getRank())


class PETScSolver(LinearSolver):
    """PETSc's Krylov methods and preconditioners through petsc4py.

    Options: ``ksp_type`` (default "cg"), ``pc_type`` ("gamg" default, "hypre" BoomerAMG,
    "icc" IC(0), "jacobi", "sor", "none"), ``gather`` (on several processes, collect the
    whole ``x`` on every process), and any further PETSc option as a keyword named as on
    PETSc's command line without the dash (``pc_gamg_threshold=0.02``,
    ``pc_hypre_boomeramg_strong_threshold=0.5``, ``mg_levels_ksp_max_it=3``: every keyword
    starting with one of :data:`PETSC_PREFIXES`), collected in ``options["petsc_options"]``
    of the Solution (also accepted as that dict). The options sciml sets itself
    (``ksp_rtol``, ``ksp_norm_type``, ...: the stopping rule) are refused.

    On one process the Solution is the usual one. Under ``mpiexec -n N`` every process
    calls ``sciml.solve`` with the same problem; each assembles only its rows (whole planes
    of the grid's first axis) and gets a Solution whose ``converged``, ``iterations`` and
    residuals are global, and whose ``x`` is its own slab of the unknowns
    (``info["rows"]``) unless ``gather=True``. ``info["reason"]`` is PETSc's converged
    reason (``CONVERGED_ATOL``: the stopping rule met; ``DIVERGED_MAX_IT``,
    ``DIVERGED_INDEFINITE_PC``, ...); setup (assembly and the preconditioner's set-up) and
    solve are timed apart, the assembly also in ``info["assembly_time"]``.

    Notes
    -----
    1. Each process assembles its rows as CSR with global columns (a stencil operator from
       its slab plus one ghost plane; a given sparse matrix is sliced) into an MPIAIJ matrix.
    2. The KSP reads ``ksp_type``, ``pc_type`` and ``petsc_options`` under a prefix of its
       own (the global options database is left as it was) and sets up the preconditioner.
    3. Each solve sets the unpreconditioned norm, ``rtol=0`` and ``atol=max(rtol ||b||,
       atol)``, so PETSc's test is sciml's whatever the initial guess; ``maxiter`` defaults
       to ``10 n``.

    PETSc ignores option names it does not know, as on its command line.

    References
    ----------
    S. Balay et al., "PETSc/TAO Users Manual", ANL-21/39, Argonne National Laboratory;
    L. Dalcin et al., "Parallel distributed computing using Python", Adv. Water Resour. 2011.
    """

    name = "petsc"
    description = ("PETSc Krylov solvers (ksp_type='cg') with gamg, hypre, icc, ...; MPI "
                   "processes under mpiexec (petsc4py, optional)")
    options = {
        "ksp_type": Option("cg", one_of(*KSP_TYPES), f"one of {list(KSP_TYPES)}"),
        "pc_type": Option("gamg", one_of(*PC_TYPES), f"one of {list(PC_TYPES)}"),
        "petsc_options": Option(None, _valid_petsc_options,
                                "None or a dict of PETSc option names (lower case, no "
                                "leading dash) to strings or numbers, not one of "
                                f"{list(_OWN_OPTIONS)} (set by sciml)"),
        "gather": Option(False, one_of(False, True), "True or False"),
    }
    prefers_matrix_free = True  # a grid problem stays a stencil until its rows are assembled

    def prepare(self, problem: Any, *, matrix_free: bool | None = None,
                **options: Any) -> "PreparedPETSc":
        """Check the options, assemble this process's rows and set the KSP up once (see
        :meth:`sciml.linear_solver.LinearSolver.prepare`); petsc4py is imported then."""
        prepared = super().prepare(problem, matrix_free=matrix_free,
                                   **split_petsc_options(options))
        return PreparedPETSc(self, prepared.problem, prepared.system, prepared.state,
                             prepared.options, prepared.setup_time)

    def setup(self, lp: LinearProblem, options: dict[str, Any]) -> PETScState:
        PETSc_ = petsc()
        comm = PETSc_.COMM_WORLD
        t0 = time.perf_counter()
        share = share_of(lp, comm.getRank(), comm.getSize())
        rows = local_rows(lp, share)
        mat = PETSc_.Mat().createAIJ(
            size=((share.size, lp.n), (share.size, lp.n)), comm=comm,
            csr=(rows.indptr.astype(PETSc_.IntType), rows.indices.astype(PETSc_.IntType),
                 rows.data.astype(PETSc_.ScalarType)))
        mat.assemble()
        assembly_time = time.perf_counter() - t0
        ksp, pc = _make_ksp(PETSc_, comm, mat, options)
        return PETScState(comm, mat, ksp, share, pc, assembly_time)

    def iterate(self, lp: LinearProblem, state: PETScState, options: dict[str, Any], *,
                rtol: float, atol: float, maxiter: int | None,
                callback: Callable[[Any], None] | None) -> IterationResult:
        ksp, share = state.ksp, state.share
        b = state.mat.createVecLeft()
        b.setArray(lp.b[share.start:share.stop])
        x = state.mat.createVecRight()
        guess = lp.x0 is not None
        if guess:
            x.setArray(lp.x0[share.start:share.stop])
        threshold = max(rtol * b.norm(), atol)
        maxiter = 10 * lp.n if maxiter is None else maxiter
        info = {"ksp_type": ksp.getType(), "pc_type": state.pc, "ranks": state.ranks,
                "rank": state.rank, "rows": [share.start, share.stop],
                "assembly_time": state.assembly_time}
        if maxiter == 0:  # PETSc would take one iteration; sciml's maxiter=0 takes none
            r0 = _residual(state.mat, b, x).norm()
            met = r0 <= threshold
            return IterationResult(x.getArray().copy(), 0, [r0], "the initial guess meets the"
                                   " tolerance" if met else "maxiter (0) reached", info)
        ksp.setInitialGuessNonzero(guess)
        ksp.setTolerances(rtol=0.0, atol=threshold, max_it=maxiter)
        ksp.setConvergenceHistory(length=maxiter + 1, reset=True)
        if callback is not None:
            ksp.setMonitor(_iterate_monitor(callback))
        try:
            ksp.solve(b, x)
        finally:
            if callback is not None:
                ksp.cancelMonitor()
        reason = reason_name(int(ksp.getConvergedReason()))
        history = [float(r) for r in ksp.getConvergenceHistory()]
        return IterationResult(x.getArray().copy(), int(ksp.getIterationNumber()), history,
                               reason, info)


class PreparedPETSc(PreparedLinear):
    """The ``petsc`` method set up for one operator on this process's rows."""

    def solve(self, b: Any = None, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
              maxiter: int | None = None, x0: Any = None,
              callback: Callable[[Any], None] | None = None) -> Solution:
        """Solve ``A x = b`` (``b`` and ``x0`` whole, the same on every process).

        Returns
        -------
        Solution
            On several processes without ``gather``, ``x`` is this process's slab (rows
            ``info["rows"]``): its planes of the grid, or a flat block without a grid.
        """
        check_tolerances(rtol, atol, maxiter)
        lp = self.system.with_vectors(b, x0)
        state: PETScState = self.state
        t0 = time.perf_counter()
        result = self.solver.iterate(lp, state, self.options, rtol=rtol, atol=atol,
                                     maxiter=maxiter, callback=callback)
        solve_time = time.perf_counter() - t0
        used = {"rtol": rtol, "atol": atol, "maxiter": maxiter, **self.options}
        share = state.share
        if state.ranks == 1:
            problem, system = self.problem, lp
        else:
            problem = system = RankShare(state, lp.b[share.start:share.stop])
        sol = finalize(problem, system, result, method=self.method, options=used, rtol=rtol,
                       atol=atol, setup_time=0.0, solve_time=solve_time,
                       extra_info={"prepared_setup_time": self.setup_time})
        if state.ranks > 1 and self.options["gather"]:
            sol.x = self.problem.solution_from_vector(gather(state, result.x))
        if result.reason.startswith("CONVERGED") and not sol.converged:
            sol.info["reason"] = (f"{result.reason}, but the true residual "
                                  f"{sol.info['residual_norm']:.3e} exceeds "
                                  f"{sol.info['threshold']:.3e}")
        return sol


class RankShare:
    """One process's share of a system split across processes, as the stopping rule sees
    it: norms and finiteness are reduced over every process, the residual is recomputed with
    a fresh product of the assembled matrix, ``x`` is presented as this process's slab."""

    def __init__(self, state: PETScState, b: np.ndarray) -> None:
        self.state = state
        self.b = b

    def _vec(self, values: np.ndarray) -> Any:
        return petsc().Vec().createWithArray(np.ascontiguousarray(values, dtype=float),
                                             size=(values.size, None), comm=self.state.comm)

    def norm(self, v: np.ndarray) -> float:
        """The global 2-norm of the vector whose share is ``v``."""
        return float(self._vec(v).norm())

    def all_finite(self, v: np.ndarray) -> bool:
        """Whether every process's share is finite."""
        return self._vec(np.array([float(np.count_nonzero(~np.isfinite(v)))])).sum() == 0

    def residual_norm(self, x: np.ndarray) -> float:
        """``||b - A x||`` over every process, from a new product with the matrix."""
        return float(_residual(self.state.mat, self._vec(self.b), self._vec(x)).norm())

    def solution_from_vector(self, x: np.ndarray) -> np.ndarray:
        """This process's slab of the grid of unknowns (flat without a grid)."""
        shape = self.state.share.shape
        return x if shape is None else x.reshape(shape)


def gather(state: PETScState, x: np.ndarray) -> np.ndarray:
    """The whole vector on every process, from each process's share ``x``."""
    PETSc_ = petsc()
    local = PETSc_.Vec().createWithArray(np.ascontiguousarray(x), size=(x.size, None),
                                         comm=state.comm)
    scatter, whole = PETSc_.Scatter.toAll(local)
    scatter.scatter(local, whole, addv=PETSc_.InsertMode.INSERT_VALUES,
                    mode=PETSc_.ScatterMode.FORWARD)
    return whole.getArray().copy()


def _iterate_monitor(callback: Callable[[Any], None]) -> Callable[..., None]:
    """A KSP monitor that hands ``callback`` a copy of the iterate after each iteration."""
    def monitor(ksp: Any, iteration: int, _rnorm: float) -> None:
        if iteration > 0:
            callback(ksp.buildSolution().getArray().copy())
    return monitor


def _residual(mat: Any, b: Any, x: Any) -> Any:
    """``b - A x`` as a new vector."""
    r = mat.createVecLeft()
    mat.mult(x, r)
    r.aypx(-1.0, b)
    return r


def _make_ksp(PETSc_: Any, comm: Any, mat: Any, options: dict[str, Any]) -> tuple[Any, str]:
    """A KSP on ``mat`` from the method's options, set up once; its preconditioner in words.

    The options go to the database under a prefix of this KSP's own and are removed after
    the set-up (the preconditioner reads some of them there).
    """
    prefix = f"sciml_petsc_{next(_prefixes)}_"
    pc_type, pc = options["pc_type"], options["pc_type"]
    settings: dict[str, Any] = {"ksp_type": options["ksp_type"], "pc_type": pc_type}
    if pc_type == "icc" and comm.getSize() > 1:  # PETSc's ICC is sequential
        settings.update(pc_type="bjacobi", sub_pc_type="icc")
        pc = "bjacobi+icc"
    settings.update(options["petsc_options"] or {})
    database = PETSc_.Options()
    for key, value in settings.items():
        database[prefix + key] = "" if value is None else value
    ksp = PETSc_.KSP().create(comm)
    try:
        ksp.setOptionsPrefix(prefix)
        ksp.setOperators(mat)
        try:
            ksp.setFromOptions()
        except PETSc_.Error as exc:
            raise InvalidOptionError(f"petsc: PETSc refused the options {settings}: "
                                     f"{_last_line(exc)}") from exc
        if options["ksp_type"] not in _LEFT_PRECONDITIONED:
            ksp.setPCSide(PETSc_.PC.Side.RIGHT)
        ksp.setNormType(PETSc_.KSP.NormType.UNPRECONDITIONED)
        ksp.setUp()
    finally:
        for key in settings:
            database.delValue(prefix + key)
    return ksp, pc


def _last_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
