"""The plain (Eulerian) physics-informed network, with optional causal weighting."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from sciml.problems.evolution import PeriodicEvolution
from sciml.solver_base import Option, is_count

from .networks import PeriodicMLP
from .sampling import time_slices
from .solver import COMMON_OPTIONS, PhysicsInformedSolver, gradient


def _is_causal(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and math.isfinite(value) and value > 0)


class PINN(PhysicsInformedSolver):
    """A PINN for ``u_t + c(u) u_x = nu u_xx`` on a periodic interval.

    The network ``u(x, t)`` takes ``(cos(2 pi x / L), sin(2 pi x / L), t / T)``, so it is
    exactly periodic; the residual ``u_t + c(u) u_x - nu u_xx`` comes from autograd at
    collocation points, the initial condition is a penalty at the grid points::

        loss = w_residual * mean(r^2) + w_initial * mean((u(x_j, 0) - u0_j)^2)

    Options (besides the shared ones: ``width``, ``depth``, ``points``, ``sampling``,
    ``resample``, ``stages``, ``steps``, ``weights``, ``times``, ``seed``, ``device``,
    ``dtype``, ``progress``)
    -------
    causal
        None, or the causality parameter ``eps > 0`` of Wang, Sankaran and Perdikaris: the
        residual loss ``L_i`` of each of ``time_slices`` equal time slices is weighted by
        ``exp(-eps sum_{k<i} L_k)`` (not differentiated), so later times are fitted only
        once earlier ones are.
    time_slices
        Slices of the causal weighting (default 32).

    Notes
    -----
    Plain PINNs fail on convection for large speeds (rel. L2 ~ 1 at beta >= 30, Krishnapriyan
    et al. 2021): the loss landscape favours the trivial constant solution. Causal weighting
    is the strong PINN baseline; Wang et al. also use Fourier features, weight factorisation,
    loss balancing and 200k steps on a GPU, which this baseline leaves out. The eps schedule
    of their paper (annealed eps) is replaced by a single eps.

    References
    ----------
    M. Raissi, P. Perdikaris, G. E. Karniadakis, "Physics-informed neural networks", J.
    Comput. Phys. 378 (2019).
    S. Wang, S. Sankaran, P. Perdikaris, "Respecting causality is all you need for training
    physics-informed neural networks", arXiv 2203.07404 (2022).
    A. Krishnapriyan et al., "Characterizing possible failure modes in physics-informed
    neural networks", NeurIPS 2021.
    """

    name = "pinn"
    description = ("Physics-informed network on (cos x, sin x, t), optional causal weighting "
                   "(Raissi et al. 2019; Wang et al. 2022)")
    options = {**COMMON_OPTIONS,
               "causal": Option(None, _is_causal, "None or a number eps > 0"),
               "time_slices": Option(32, is_count(1), "an integer >= 1")}
    loss_terms = {"residual": 1.0, "initial": 1.0}

    def build(self, problem: PeriodicEvolution, options: dict[str, Any]) -> torch.nn.Module:
        model = PeriodicMLP(problem.period, problem.t, options["width"], options["depth"])
        return model.double()

    def loss(self, model: Any, problem: PeriodicEvolution, points: Any,
             options: dict[str, Any]) -> torch.Tensor:
        x, t = (p.detach().requires_grad_(True) for p in points)
        u = model(x, t)[..., 0]
        u_x = gradient(u, x)
        r = gradient(u, t) + problem.characteristic_speed(u) * u_x
        if problem.nu:
            r = r - problem.nu * gradient(u_x, x)
        w = options["weights"]
        if options["causal"] is None:
            residual = r.pow(2).mean()
        else:
            slices = options["time_slices"]
            index = time_slices(t.detach(), problem.t, slices)
            sums = torch.zeros(slices, dtype=r.dtype, device=r.device).index_add(
                0, index, r.pow(2))
            counts = torch.bincount(index, minlength=slices).clamp(min=1)
            per_slice = sums / counts
            earlier = torch.cumsum(per_slice.detach(), 0) - per_slice.detach()
            residual = (torch.exp(-options["causal"] * earlier) * per_slice).mean()
        x0 = torch.as_tensor(problem.x, dtype=x.dtype, device=x.device)
        u0 = torch.as_tensor(problem.u0, dtype=x.dtype, device=x.device)
        initial = (model(x0, torch.zeros_like(x0))[..., 0] - u0).pow(2).mean()
        return w["residual"] * residual + w["initial"] * initial

    def fields(self, model: Any, problem: PeriodicEvolution, times: np.ndarray,
               options: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        parameter = next(model.parameters())
        tt, xx = np.meshgrid(times, problem.x, indexing="ij")
        with torch.no_grad():
            u = model(*(torch.as_tensor(a, dtype=parameter.dtype, device=parameter.device)
                        for a in (xx, tt)))[..., 0]
        return u.cpu().double().numpy(), {}
