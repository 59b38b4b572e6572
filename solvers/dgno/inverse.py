"""The inverse Darcy problem in DGNO's latent space, with a spread over restarts.

Zang & Koutsourelakis ("DGNO", JCP 2025, Sec. 4) recover ``a`` from noisy observations of
``u`` by optimising the latent code ``beta`` with the decoders frozen: the data misfit of
``u(x_obs; beta)`` plus the weak PDE residual of the decoded ``(u, s, a)``. The paper gives a
point estimate. Here several restarts from the training set's latent distribution run in one
batch; their decoded phase probabilities are averaged into a posterior predictive
probability per pixel, whose Bernoulli spread is reported as ``a_std`` (two-phase media), or
the restarts' spread of the decoded mean (smooth media). This is an ensemble approximation of
the posterior, not a sampler: it captures the ambiguity the optimisations find.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sciml.errors import InvalidProblemError
from sciml.learn.trained_model import TrainedModel
from sciml.problems import DarcyInverse

from .model import coefficient_from_output, grid_points
from .objectives import WeakFormSettings
from .weak_form import mixed_form_loss


@dataclass
class InverseResult:
    """What :func:`recover_coefficient` found (all on the ``grid x grid`` vertices)."""

    a: np.ndarray
    a_mean: np.ndarray
    a_std: np.ndarray
    phase_probability: np.ndarray | None
    u: np.ndarray
    misfit: float
    history: list[float]


def recover_coefficient(model: TrainedModel, problem: DarcyInverse, *, restarts: int = 16,
                        steps: int = 300, lr: float = 0.05, w_pde: float = 1.0, seed: int = 0,
                        device: Any = None) -> InverseResult:
    """Optimise ``restarts`` latent codes against ``problem``'s observations.

    Each restart minimises ``0.5 mean(((u(x_obs) - obs) / sigma)^2) + w_pde * L_pde`` with
    Adam over ``steps`` (``L_pde`` the mixed-form weak loss with the decoded ``a``; ``w_pde=0``
    uses the data alone). Codes are ``tanh(z)``, so they stay in the latent box.
    """
    config = model.config
    if "a" not in config["decoders"]:
        raise InvalidProblemError(
            f"this dgno model was trained with objective={config['objective']!r} and has no "
            "coefficient decoder; the inverse problem needs a model trained with "
            "objective='weak'")
    if problem.grid != config["grid"]:
        raise InvalidProblemError(f"the model recovers a on its {config['grid']} x "
                                  f"{config['grid']} training grid; the problem asks for grid="
                                  f"{problem.grid}")
    f = float(config["params"]["f"])
    network = model.network.to(device).eval()
    for p in network.parameters():
        p.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    latent = model.normalizers["latent"]
    start = latent["mean"] + latent["std"] * torch.randn(restarts, network.latent,
                                                         generator=generator)
    z = torch.atanh(start.clamp(-0.99, 0.99)).to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    x_obs = torch.as_tensor(problem.points, dtype=torch.float32, device=device)
    obs = torch.as_tensor(problem.observations, dtype=torch.float32, device=device)
    sigma = problem.noise_std
    settings = WeakFormSettings(**config.get("weak_form", {}))
    history = []
    try:
        for _ in range(steps):
            optimizer.zero_grad()
            beta = torch.tanh(z)
            misfit = 0.5 * (((network.solution(beta, x_obs) - obs) / sigma) ** 2).mean(1)
            loss = misfit.sum()
            if w_pde > 0:
                tests = settings.test_functions(generator).to(obs)
                a_pts = coefficient_from_output(network.coefficient_output(beta, tests.points),
                                                config)[0]
                _, grad_u = network.solution_and_gradient(beta, tests.points)
                s = network.flux(beta, tests.points)
                loss = loss + w_pde * restarts * mixed_form_loss(
                    s, a_pts * grad_u, tests.residuals(s, f))
            loss.backward()
            optimizer.step()
            history.append(float(misfit.detach().mean()))
    finally:
        for p in network.parameters():
            p.requires_grad_(True)
    return _summarise(network, torch.tanh(z.detach()), config, x_obs, obs, sigma, history)


def _summarise(network: Any, beta: torch.Tensor, config: dict[str, Any], x_obs: torch.Tensor,
               obs: torch.Tensor, sigma: float, history: list[float]) -> InverseResult:
    size = config["grid"]
    points = grid_points(size).to(beta)
    with torch.no_grad():
        mean, probability = coefficient_from_output(network.coefficient_output(beta, points),
                                                    config)
        u = network.solution(beta, points).mean(0)
        misfit = float((((network.solution(beta, x_obs) - obs) / sigma) ** 2).mean())

    def grid(t: torch.Tensor) -> np.ndarray:
        return t.reshape(size, size).double().cpu().numpy()

    if probability is not None:
        low, high = config["phases"]
        p = probability.mean(0)
        hard = torch.where(p > 0.5, high, low)
        a_mean = low + (high - low) * p
        a_std = (high - low) * torch.sqrt(p * (1 - p))
        return InverseResult(grid(hard), grid(a_mean), grid(a_std), grid(p), grid(u), misfit,
                             history)
    a_mean = mean.mean(0)
    return InverseResult(grid(a_mean), grid(a_mean), grid(mean.std(0)), None, grid(u), misfit,
                         history)


def observation_noise(u: np.ndarray, noise_db: float, rng: np.random.Generator) -> np.ndarray:
    """``u`` plus Gaussian noise at a signal-to-noise ratio of ``noise_db`` decibels."""
    sigma = math.sqrt(float(np.mean(u**2))) * 10 ** (-noise_db / 20)
    return u + sigma * rng.standard_normal(u.shape)
