"""Learned guess + Krylov: a neural operator's prediction starts CG or AMG-PCG.

``method="mgno+cg"`` (or ``"fno+amg"``, ...) asks the network for ``u``, then runs the
Krylov method on the problem's finite-difference system from that initial guess, so the
answer meets the tolerance whatever the network's error, and usually in fewer iterations.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, ClassVar

import numpy as np

from sciml.errors import InvalidOptionError, UnsupportedTypeError
from sciml.linear_solver import DEFAULT_RTOL, check_tolerances
from sciml.problems import PDEProblem
from sciml.registry import get_solver_class
from sciml.solution import Solution
from sciml.solver_base import Prepared, Solver


class LearnedGuessKrylov(Solver):
    """Solve with ``krylov`` from the initial guess predicted by the learned ``network``.

    Subclasses (made by :func:`learned_guess`) name the two methods.

    Notes
    -----
    1. ``guess = sciml.solve(problem, method=network, model=model)``: one network call.
    2. ``sol = sciml.solve(problem, method=krylov, x0=guess, rtol=...)`` on
       ``problem.to_linear_problem()``; the shared stopping rule recomputes the true residual.
    3. With ``compare=True`` (default) the same Krylov solve from a zero guess runs too, with
       the same set-up (one assembly, one AMG hierarchy), and ``info`` reports
       ``iterations_zero_guess``, ``iterations_saved`` and the zero-guess solve time.

    The network's time counts as setup time, together with the Krylov method's own setup.

    The answer meets the tolerance whatever the guess, but the saving is not guaranteed:
    the finite-difference operator amplifies an error of wavelength ``h`` by about
    ``h**-2``, so a prediction with a 1-2 % but rough error can start CG from a residual
    larger than ``||b||`` and save nothing; ``info["guess_relative_residual"]`` shows it.
    AMG-PCG removes the rough part in its first cycle and keeps more of the gain.
    """

    network: ClassVar[str] = ""
    krylov: ClassVar[str] = ""

    def prepare(self, problem: Any, *, model: Any = None, device: Any = None,
                compare: bool = True, **krylov_options: Any) -> "PreparedGuess":
        """Predict the guess (one network call) and set the Krylov method up, once each.

        ``krylov_options`` are the Krylov method's declared set-up options (e.g. ``kind`` of
        ``amg``). A non-finite prediction is not used: the Krylov method starts from zero and
        ``info["guess_rejected"]`` says why.
        """
        if not (isinstance(problem, PDEProblem) and problem.has_linear_form):
            raise UnsupportedTypeError(f"{self.name!r} needs a PDE problem with a linear "
                                       f"discretisation (e.g. DarcyFlow); got "
                                       f"{type(problem).__name__}")
        if compare not in (True, False):
            raise InvalidOptionError(f"compare must be True or False, got {compare!r}")
        krylov = get_solver_class(self.krylov)().prepare(problem, **krylov_options)
        t0 = time.perf_counter()
        network = get_solver_class(self.network)().prepare(problem, model=model, device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported as guess_rejected
            guess = network.solve(residuals=False)  # its residual: on krylov's one assembly
        network_time = time.perf_counter() - t0
        return PreparedGuess(self, guess, krylov, compare, network_time)

    def solve(self, problem: Any, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
              maxiter: int | None = None, callback: Any = None, **options: Any) -> Solution:
        """Solve ``problem`` (a PDE problem with a linear discretisation, e.g. DarcyFlow)."""
        check_tolerances(rtol, atol, maxiter)
        prepared = self.prepare(problem, **options)
        sol = prepared.solve(rtol=rtol, atol=atol, maxiter=maxiter, callback=callback)
        sol.setup_time = prepared.setup_time
        return sol


class PreparedGuess(Prepared):
    """The network's guess and the Krylov method's set-up, both made once."""

    def __init__(self, method: LearnedGuessKrylov, guess: Solution, krylov: Any,
                 compare: bool, network_time: float) -> None:
        self.method = method.name
        self.guess = guess
        self.krylov = krylov
        self.compare = compare
        self.network_time = network_time
        self.setup_time = network_time + krylov.setup_time

    def solve(self, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0,
              maxiter: int | None = None, callback: Any = None) -> Solution:
        """The Krylov solve from the guess (and, with ``compare``, from zero) to ``rtol``."""
        problem = self.krylov.problem
        tol = {"rtol": rtol, "atol": atol, "maxiter": maxiter}
        info: dict[str, Any] = {"network_time": self.network_time,
                                "krylov_setup_time": self.krylov.setup_time}
        if self.guess.converged is False:
            x0 = None
            info["guess_rejected"] = (f"the {self.guess.method} prediction is not finite "
                                      f"({self.guess.info['reason']}); started from zero")
        else:
            x0 = problem.vector_from_solution(self.guess.x)
            system = self.krylov.system
            info["guess_relative_residual"] = (system.residual_norm(x0)
                                               / float(np.linalg.norm(system.b)))
        sol = self.krylov.solve(x0=x0, callback=callback, **tol)
        if self.compare:
            zero = self.krylov.solve(**tol)
            info.update(iterations_zero_guess=zero.iterations,
                        iterations_saved=zero.iterations - sol.iterations,
                        zero_guess_converged=zero.converged, zero_guess_time=zero.solve_time)
        sol.info.pop("prepared_setup_time", None)
        return Solution(x=sol.x, converged=sol.converged, iterations=sol.iterations,
                        residuals=sol.residuals, setup_time=0.0, solve_time=sol.solve_time,
                        method=self.method, options={**sol.options, "compare": self.compare},
                        info={**sol.info, **info, "prepared_setup_time": self.setup_time})


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
