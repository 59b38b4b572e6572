"""The answer of every solver, with the evidence to trust it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Solution:
    """What :func:`sciml.solve` returns.

    Attributes
    ----------
    x
        The solution: a flat vector for a :class:`~sciml.LinearProblem`, ``u`` on the grid
        for a PDE problem. On the device of the inputs (NumPy or CuPy).
    converged
        True when the true residual at exit meets ``||b - A x|| <= max(rtol ||b||, atol)``;
        False when it does not or the answer is not finite; None when no tolerance was
        checked (a learned operator's prediction: ``info["reason"]`` says so).
    iterations
        Iterations taken (network calls or epochs where that is the unit, see ``info``).
    residuals
        Relative residual history ``||r_k|| / ||b||``, starting with the initial guess.
    setup_time, solve_time
        Wall seconds spent before the first iteration (e.g. AMG hierarchy) and iterating.
    method
        Registry name of the method used.
    options
        The options the method ran with, defaults filled in.
    info
        Free-form facts; always contains ``"reason"`` (why the method stopped) and, for linear
        problems, ``"residual_norm"`` (the recomputed true residual norm at exit).
    """

    x: Any
    converged: bool | None
    iterations: int
    residuals: np.ndarray
    setup_time: float
    solve_time: float
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def total_time(self) -> float:
        """Setup plus solve wall time in seconds."""
        return self.setup_time + self.solve_time

    @property
    def final_residual(self) -> float:
        """The last relative residual (NaN if none was recorded)."""
        return float(self.residuals[-1]) if len(self.residuals) else float("nan")

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly dict of everything but ``x``."""
        return {
            "method": self.method,
            "converged": None if self.converged is None else bool(self.converged),
            "iterations": int(self.iterations), "final_residual": self.final_residual,
            "setup_time": self.setup_time, "solve_time": self.solve_time,
            "total_time": self.total_time, "reason": self.info.get("reason"),
            "options": {k: v for k, v in self.options.items() if _jsonable(v)},
            "info": {k: v for k, v in self.info.items() if _jsonable(v)},
        }

    def __repr__(self) -> str:
        status = {True: "converged", False: "NOT converged",
                  None: "no tolerance checked"}[None if self.converged is None
                                                  else bool(self.converged)]
        return (f"Solution(method={self.method!r}, {status} in {self.iterations} iterations, "
                f"final relative residual {self.final_residual:.2e}, setup {self.setup_time:.3g}"
                f" s, solve {self.solve_time:.3g} s, reason={self.info.get('reason')!r})")


def _jsonable(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str, type(None))) or (
        isinstance(value, (list, tuple)) and all(_jsonable(v) for v in value))
