"""``scipy.sparse.linalg.cg`` wrapped as the reference baseline."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.sparse.linalg as spla

from sciml.problems.linear import LinearProblem
from sciml.linear_solver import IterationResult, LinearSolver
from sciml.solver_base import Option, one_of
from sciml.kernels.stencil import StencilOperator


class ScipyCG(LinearSolver):
    """SciPy's CG, unchanged, on CSR (or a LinearOperator view of a stencil operator).

    The residual history is recomputed from SciPy's iterates through its callback (one extra
    product per iteration, which is not counted in ``iterations`` but is in ``solve_time``;
    pass ``history=False`` for timing runs).
    """

    name = "scipy_cg"
    description = "scipy.sparse.linalg.cg, the reference CG baseline"
    options = {"M": Option(None), "history": Option(True, one_of(True, False), "True or False")}

    def iterate(self, lp: LinearProblem, state: Any, options: dict[str, Any], *, rtol: float,
                atol: float, maxiter: int | None,
                callback: Callable[[Any], None] | None) -> IterationResult:
        history = options["history"]
        A = lp.A.aslinearoperator() if isinstance(lp.A, StencilOperator) else lp.A
        x0 = np.zeros_like(lp.b) if lp.x0 is None else lp.x0
        norms = [float(np.linalg.norm(lp.b - lp.matvec(x0)))]
        count = [0]

        def on_iterate(xk: np.ndarray) -> None:
            count[0] += 1
            if history:
                norms.append(float(np.linalg.norm(lp.b - lp.matvec(xk))))
            if callback is not None:
                callback(xk)

        x, status = spla.cg(A, lp.b, x0=x0.copy(), rtol=rtol, atol=atol, maxiter=maxiter,
                            M=options["M"], callback=on_iterate)
        if status == 0:
            reason = "converged"
        elif status > 0:
            reason = f"maxiter ({status}) reached"
        else:
            reason = f"scipy cg reported illegal input or breakdown (info={status})"
        return IterationResult(x, count[0], norms, reason, {"scipy_info": int(status)})
