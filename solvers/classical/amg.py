"""pyamg algebraic multigrid, as a solver or as a CG preconditioner."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyamg

from sciml.errors import InvalidOptionError
from sciml.problems.linear import LinearProblem
from sciml.linear_solver import IterationResult, LinearSolver
from sciml.solver_base import Option, one_of
from sciml.kernels.stencil import StencilOperator

_BUILDERS = {
    "sa": pyamg.smoothed_aggregation_solver,
    "rs": pyamg.ruge_stuben_solver,
}


class AMG(LinearSolver):
    """pyamg multigrid: ``kind`` "sa" (smoothed aggregation) or "rs" (Ruge-Stuben).

    ``accel="cg"`` (default) uses one V-cycle as the CG preconditioner (AMG-PCG);
    ``accel=None`` iterates V-cycles alone. Building the hierarchy is reported as setup time.
    ``amg_options`` passes keyword arguments to the pyamg constructor, e.g.
    ``{"strength": "symmetric"}``. A stencil operator is assembled to CSR first (AMG needs
    the entries).

    References
    ----------
    L. N. Olson, J. B. Schroder, "PyAMG: Algebraic Multigrid Solvers in Python", JOSS 2018.
    """

    name = "amg"
    description = ("pyamg algebraic multigrid (kind='sa'|'rs'), as a CG preconditioner by "
                   "default")
    options = {
        "kind": Option("sa", one_of(*_BUILDERS), f"one of {sorted(_BUILDERS)}"),
        "accel": Option("cg", one_of("cg", None), "'cg' or None"),
        "cycle": Option("V", one_of("V", "W", "F", "AMLI"), "'V', 'W', 'F' or 'AMLI'"),
        "amg_options": Option(None, lambda v: v is None or isinstance(v, dict),
                              "None or a dict of pyamg constructor arguments"),
    }

    def setup(self, lp: LinearProblem, options: dict[str, Any]) -> Any:
        A = lp.A.to_csr() if isinstance(lp.A, StencilOperator) else lp.A
        if not hasattr(A, "tocsr"):
            raise InvalidOptionError("amg needs the matrix entries: pass a sparse or dense "
                                     "matrix, not a LinearOperator")
        return _BUILDERS[options["kind"]](A.tocsr(), **(options["amg_options"] or {}))

    def iterate(self, lp: LinearProblem, state: Any, options: dict[str, Any], *, rtol: float,
                atol: float, maxiter: int | None,
                callback: Callable[[Any], None] | None) -> IterationResult:
        ml = state
        bnorm = float(np.linalg.norm(lp.b))
        # pyamg's tol is relative to ||b||; fold atol in so the shared rule is what stops it
        tol = max(rtol, atol / bnorm) if bnorm > 0 else rtol
        norms: list[float] = []
        x = ml.solve(lp.b, x0=None if lp.x0 is None else lp.x0.copy(), tol=tol,
                     maxiter=100 if maxiter is None else maxiter, cycle=options["cycle"],
                     accel=options["accel"],
                     residuals=norms, callback=callback)
        its = len(norms) - 1
        reason = "converged" if norms and norms[-1] <= tol * max(bnorm, 1e-300) else (
            f"maxiter ({its}) reached")
        info = {"levels": len(ml.levels), "operator_complexity": ml.operator_complexity(),
                "grid_complexity": ml.grid_complexity()}
        return IterationResult(x, its, norms, reason, info)

    def preconditioner(self, lp: LinearProblem, state: Any, options: dict[str, Any]) -> Any:
        """One multigrid cycle of the hierarchy (pyamg's ``aspreconditioner``)."""
        return state.aspreconditioner(cycle=options["cycle"])
