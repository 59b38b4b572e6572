"""The Lagrangian PINN: learn the characteristics and the state along them."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.problems.evolution import PeriodicEvolution
from sciml.solver_base import Option, is_count, one_of

from .grid import to_eulerian
from .initial import TrigInterpolant
from .networks import PeriodicMLP
from .solver import COMMON_OPTIONS, PhysicsInformedSolver, gradient, rms

#: the paper's loss weights of the penalty form (Mojgani et al. 2023)
PENALTY_WEIGHTS = {"x": 10.0, "u": 1.0, "ic": 1000.0}
EXACT_WEIGHTS = {"x": 1.0, "u": 1.0}


class LagrangianNetwork(nn.Module):
    """The two branches: characteristics ``X(x0, t)`` and the state ``u(x0, t)``.

    ``ic="exact"``: ``X = x0 + t s N_x``, ``u = u0(x0) + t N_u`` (the initial condition holds
    by construction). ``ic="penalty"``: ``X = x0 + s N_x``, ``u = N_u`` (the initial
    condition is a loss term). ``s`` is the largest initial speed ``max |c(u0)|``, so
    ``N_x`` is of order one for any speed; its output layer starts at zero (the identity
    map).
    """

    def __init__(self, problem: PeriodicEvolution, width: int, depth: int, x_depth: int,
                 ic: str) -> None:
        super().__init__()
        self.x_branch = PeriodicMLP(problem.period, problem.t, width, x_depth)
        # start from the identity map X = x0: its Jacobian X_x0 = 1 divides u_XX, and a
        # random start folds the map (X_x0 <= 0) where the gradient explodes
        nn.init.zeros_(self.x_branch.mlp.layers[-1].weight)
        self.u_branch = PeriodicMLP(problem.period, problem.t, width, depth)
        self.u0 = TrigInterpolant(problem.u0, problem.period)
        speed = float(np.max(np.abs(problem.characteristic_speed(problem.u0))))
        self.speed = speed if speed > 0 else 1.0
        self.exact = ic == "exact"

    def forward(self, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nx = self.x_branch(x0, t)[..., 0]
        nu = self.u_branch(x0, t)[..., 0]
        if self.exact:
            return x0 + t * self.speed * nx, self.u0(x0) + t * nu
        return x0 + self.speed * nx, nu


class LPINN(PhysicsInformedSolver):
    """Lagrangian PINN for ``u_t + c(u) u_x = nu u_xx`` on a periodic interval.

    Along the characteristics ``X_t = c(u)`` the equation is ``du/dt = nu u_XX``, so two
    branches (each an MLP of ``(cos x0, sin x0, t)``) learn ``X(x0, t)`` and
    ``u(x0, t)``; the residuals are::

        r_x = X_t - c(u),   r_u = u_t - nu u_XX,   u_X = u_x0 / X_x0

    (time derivatives at fixed ``x0``). ``r_x`` stays in the units of ``x``: an error ``dX``
    in the characteristics costs ``|u0'| dX`` in ``u``, so the two residuals weigh alike in
    the error (dividing ``r_x`` by the speed made the error grow with the speed). The
    prediction is mapped back
    to the Eulerian grid by interpolating ``u`` at ``X mod period`` at each output time.

    Options (besides the shared ``width``, ``depth`` (the u branch), ``points``,
    ``sampling``, ``resample``, ``stages``, ``steps``, ``weights``, ``times``, ``seed``,
    ``device``, ``dtype``, ``progress``)
    -------
    ic
        ``"exact"`` (default): ``X = x0 + t s N_x``, ``u = u0(x0) + t N_u``, loss
        ``w_x mean(r_x^2) + w_u mean(r_u^2)``. ``"penalty"``: the paper's form, ``X`` and
        ``u`` free, loss ``10 |r_x| + |r_u| + 1000 (|X(x0,0) - x0| + |u(x0,0) - u0|)`` with
        root-mean-square norms.
    x_depth
        Hidden layers of the characteristics branch (default 2, the paper's).
    refine
        Lagrangian samples per grid point used for the interpolation back to the grid
        (default 4).

    Raises
    ------
    InvalidProblemError
        A problem without a convective form (e.g. Poisson, Darcy).

    Notes
    -----
    Where we differ from the paper: the initial condition is exact by construction by
    default (the penalty form needs ~1e6 Adam steps in the reference code; the exact form
    converges in a few thousand), the characteristics branch is scaled by ``s`` and its
    output layer starts at zero (the identity map), mean squares replace the norms in the
    exact form, and ``u0(x0)`` between grid points is the
    trigonometric interpolant of the grid values (differentiable, exact for ``sin x``). The
    paper's boundary term vanishes identically here, the periodic input embedding making
    ``u`` periodic in ``x0``. Where characteristics cross (a Burgers shock at small ``nu``),
    ``X`` stops being monotone in ``x0``: the Lagrangian description breaks down and the
    Eulerian interpolation mixes both sides of the shock.

    References
    ----------
    R. Mojgani, M. Balajewicz, P. Hassanzadeh, "Lagrangian PINNs: A causality-conforming
    solution to failure modes of physics-informed neural networks", Comput. Methods Appl.
    Mech. Engrg. 404 (2023), arXiv 2205.02902.
    """

    name = "lpinn"
    description = ("Lagrangian PINN: characteristics and the state along them "
                   "(Mojgani et al. 2023)")
    options = {**COMMON_OPTIONS,
               "ic": Option("exact", one_of("exact", "penalty"), "'exact' or 'penalty'"),
               "x_depth": Option(2, is_count(1), "an integer >= 1"),
               "refine": Option(4, is_count(1), "an integer >= 1")}

    def weights(self, options: dict[str, Any]) -> dict[str, float]:
        return dict(EXACT_WEIGHTS if options["ic"] == "exact" else PENALTY_WEIGHTS)

    def build(self, problem: PeriodicEvolution, options: dict[str, Any]) -> nn.Module:
        return LagrangianNetwork(problem, options["width"], options["depth"],
                                 options["x_depth"], options["ic"]).double()

    def loss(self, model: Any, problem: PeriodicEvolution, points: Any,
             options: dict[str, Any]) -> torch.Tensor:
        x0, t = (p.detach().requires_grad_(True) for p in points)
        X, u = model(x0, t)
        r_x = gradient(X, t) - problem.characteristic_speed(u)
        r_u = gradient(u, t)
        if problem.nu:
            jacobian = gradient(X, x0)
            u_X = gradient(u, x0) / jacobian
            r_u = r_u - problem.nu * gradient(u_X, x0) / jacobian
        w = options["weights"]
        if options["ic"] == "exact":
            return w["x"] * r_x.pow(2).mean() + w["u"] * r_u.pow(2).mean()
        grid = torch.as_tensor(problem.x, dtype=x0.dtype, device=x0.device)
        X0, u0 = model(grid, torch.zeros_like(grid))
        initial = rms(X0 - grid) + rms(u0 - model.u0(grid))
        return w["x"] * rms(r_x) + w["u"] * rms(r_u) + w["ic"] * initial

    def fields(self, model: Any, problem: PeriodicEvolution, times: np.ndarray,
               options: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        parameter = next(model.parameters())
        refine = options["refine"]
        n = problem.u0.size * refine
        x0 = np.arange(n) * (problem.period / n)
        tt, xx = np.meshgrid(times, x0, indexing="ij")
        with torch.no_grad():
            X, u = model(*(torch.as_tensor(a, dtype=parameter.dtype, device=parameter.device)
                           for a in (xx, tt)))
        X, u = X.cpu().double().numpy(), u.cpu().double().numpy()
        order = np.diff(X, axis=1)
        crossed = int(np.sum(np.any(order <= 0, axis=1)))
        return to_eulerian(X, u, problem.x, problem.period), {
            "x0": problem.x, "characteristics": X[:, ::refine],
            "crossed_levels": crossed}
