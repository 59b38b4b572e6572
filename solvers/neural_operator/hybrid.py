"""Learned guess + Krylov: a neural operator's prediction starts CG or AMG-PCG.

``method="mgno+cg"`` (or ``"fno+amg"``, ...) asks the network for ``u``, then runs the
Krylov method on the problem's finite-difference system from that initial guess, so the
answer meets the tolerance whatever the network's error, and usually in fewer iterations.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from sciml.registry import get_solver_class
from sciml.solution import Solution
from sciml.linear_solver import DEFAULT_RTOL
from sciml.solver_base import Solver


class LearnedGuessKrylov(Solver):
    """Solve with ``krylov`` from the initial guess predicted by the learned ``network``.

    Subclasses (made by :func:`learned_guess`) name the two methods.

    Notes
    -----
    1. ``guess = sciml.solve(problem, method=network, model=model)``: one network call.
    2. ``sol = sciml.solve(problem, method=krylov, x0=guess, rtol=...)`` on
       ``problem.to_linear_problem()``; the shared stopping rule recomputes the true residual.
    3. With ``compare=True`` (default) the same Krylov solve from a zero guess runs too, and
       ``info`` reports ``iterations_zero_guess``, ``iterations_saved`` and both times.

    The network's time counts as setup time, together with the Krylov method's own setup.

    The answer meets the tolerance whatever the guess, but the saving is not guaranteed:
    the finite-difference operator amplifies an error of wavelength ``h`` by about
    ``h**-2``, so a prediction with a 1-2 % but rough error can start CG from a residual
    larger than ``||b||`` and save nothing; ``info["guess_relative_residual"]`` shows it.
    AMG-PCG removes the rough part in its first cycle and keeps more of the gain.
    """

    network: ClassVar[str] = ""
    krylov: ClassVar[str] = ""

    def solve(self, problem: Any, *, model: Any = None, rtol: float = DEFAULT_RTOL,
              atol: float = 0.0, maxiter: int | None = None, compare: bool = True,
              device: Any = None, **krylov_options: Any) -> Solution:
        """Solve ``problem`` (a PDE problem with a linear discretisation, e.g. DarcyFlow)."""
        if not hasattr(problem, "to_linear_problem"):
            raise TypeError(f"{self.name!r} needs a PDE problem with a linear discretisation "
                            f"(e.g. DarcyFlow); got {type(problem).__name__}")
        t0 = time.perf_counter()
        guess = get_solver_class(self.network)().solve(problem, model=model, device=device)
        x0 = problem.vector_from_solution(guess.x)
        network_time = time.perf_counter() - t0
        krylov = get_solver_class(self.krylov)()
        tol = {"rtol": rtol, "atol": atol, "maxiter": maxiter}
        sol = krylov.solve(problem, x0=x0, **tol, **krylov_options)
        info = {**sol.info, "network_time": network_time,
                "guess_relative_residual": float(guess.residuals[0]),
                "krylov_setup_time": sol.setup_time}
        if compare:
            zero = krylov.solve(problem, **tol, **krylov_options)
            info.update(iterations_zero_guess=zero.iterations,
                        iterations_saved=zero.iterations - sol.iterations,
                        zero_guess_converged=zero.converged, zero_guess_time=zero.total_time)
        return Solution(x=sol.x, converged=sol.converged, iterations=sol.iterations,
                        residuals=sol.residuals, setup_time=network_time + sol.setup_time,
                        solve_time=sol.solve_time, method=self.name,
                        options={**sol.options, "compare": compare}, info=info)


def learned_guess(network: str, krylov: str) -> type[LearnedGuessKrylov]:
    """The hybrid method class ``"{network}+{krylov}"`` (register it in the registry)."""
    name = f"{network}+{krylov}"
    return type(f"LearnedGuess_{network}_{krylov}", (LearnedGuessKrylov,), {
        "name": name, "network": network, "krylov": krylov, "__module__": __name__,
        "description": f"{krylov} from the {network} network's prediction (Darcy FD system)",
    })


MgNOCG = learned_guess("mgno", "cg")
MgNOAMG = learned_guess("mgno", "amg")
FNOCG = learned_guess("fno", "cg")
FNOAMG = learned_guess("fno", "amg")
