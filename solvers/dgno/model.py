"""DGNO's network: an encoder to a bounded latent space and MultiONet decoders from it.

Zang & Koutsourelakis ("DGNO", arXiv 2502.06250, JCP 2025, Sec. 3): a coefficient field
``a`` is encoded to ``beta in (-1, 1)^d`` (tanh-bounded); decoders give the solution
``u(x; beta)``, the flux ``s(x; beta)`` of the mixed form and the coefficient ``a(x; beta)``
(a Bernoulli logit for two-phase media, a Gaussian mean for smooth coefficients). The
zero Dirichlet values are exact: ``u = sin(pi x) sin(pi y) * MultiONet(x; beta)``.

Where we differ from the paper (measured in benchmarks/RESULTS.md, "DGNO"): the default
encoder is a small CNN (``encoder="cnn"``) rather than the paper's MLP 841-512-256-128
(``encoder="mlp"``, ``encoder_hidden``), because with 1000 training coefficients the CNN
reconstructs unseen two-phase fields better (92.5 % against 89.3 % of test pixels in the
right phase, encoder + coefficient decoder alone, 60 s of training); and the decoders' width
is 64 rather than 100 (``width=100`` is the paper's), to train within minutes on a CPU.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from .multionet import MultiONet, check_activation

#: the network options of ``sciml.train("dgno", ...)`` and their defaults
NETWORK_DEFAULTS: dict[str, Any] = {
    "latent": 128, "encoder": "cnn", "encoder_hidden": [512, 256],
    "width": 64, "depth": 5, "sum_layers": 4, "activation": "tanh_sin",
}

#: the decoders each training objective builds (the physics-informed and supervised
#: baselines need only ``u``)
DECODERS: dict[str, tuple[str, ...]] = {"weak": ("u", "s_x", "s_y", "a"),
                                        "strong_fd": ("u",), "supervised": ("u",)}


@lru_cache(maxsize=8)
def grid_points(size: int) -> torch.Tensor:
    """The ``size^2`` vertices of the unit square, row ``i`` at ``x = i h``: ``(size^2, 2)``
    (cached: callers must not modify it)."""
    t = torch.linspace(0.0, 1.0, size)
    return torch.stack(torch.meshgrid(t, t, indexing="ij"), dim=-1).reshape(-1, 2)


class Encoder(nn.Module):
    """``a`` (normalised, ``(batch, s, s)``) -> ``beta in (-1, 1)^latent``.

    ``kind="mlp"`` flattens the pixels (the paper's choice for 29 x 29 inputs);
    ``kind="cnn"`` uses three stride-2 convolutions before a linear map.
    """

    def __init__(self, size: int, latent: int, kind: str, hidden: list[int]) -> None:
        super().__init__()
        if kind == "mlp":
            sizes = [size * size, *hidden]
            layers: list[nn.Module] = [nn.Flatten()]
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(n_in, n_out), nn.SiLU()]
            layers.append(nn.Linear(sizes[-1], latent))
        elif kind == "cnn":
            channels = [1, 16, 32, 64]
            layers = [nn.Unflatten(1, (1, size))]
            cells = size
            for c_in, c_out in zip(channels[:-1], channels[1:]):
                layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.SiLU()]
                cells = (cells + 1) // 2
            layers += [nn.Flatten(), nn.Linear(channels[-1] * cells * cells, latent)]
        else:
            raise ValueError(f"encoder must be 'mlp' or 'cnn', got {kind!r}")
        self.net = nn.Sequential(*layers)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(a))


class DGNONetwork(nn.Module):
    """Encoder + MultiONet decoders; see the module docstring.

    Parameters
    ----------
    config
        ``grid`` (pixels per side of ``a``), ``decoders`` (names of :data:`DECODERS`), and
        the options of :data:`NETWORK_DEFAULTS`.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        options = {**NETWORK_DEFAULTS, **config.get("network", {})}
        check_activation(options["activation"])
        self.grid = int(config["grid"])
        self.latent = int(options["latent"])
        self.encoder = Encoder(self.grid, self.latent, options["encoder"],
                               list(options["encoder_hidden"]))
        self.decoders = nn.ModuleDict({
            name: MultiONet(self.latent, 2, width=options["width"], depth=options["depth"],
                            sum_layers=options["sum_layers"],
                            activation=options["activation"])
            for name in config["decoders"]})
        self.register_buffer("a_shift", torch.tensor(float(config.get("a_mean", 0.0))))
        self.register_buffer("a_scale", torch.tensor(float(config.get("a_std", 1.0))))

    # -- encoder ----------------------------------------------------------------------------
    def encode(self, a: torch.Tensor) -> torch.Tensor:
        """``beta`` of raw coefficient fields ``(batch, s, s)``."""
        return self.encoder((a - self.a_shift) / self.a_scale)

    # -- decoders ---------------------------------------------------------------------------
    def solution(self, beta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``u(x; beta)``: ``(batch, points)``, exactly 0 on the boundary."""
        return _bubble(x) * self.decoders["u"](beta, x)

    def solution_and_gradient(self, beta: torch.Tensor, x: torch.Tensor
                              ) -> tuple[torch.Tensor, torch.Tensor]:
        """``u`` ``(batch, points)`` and ``grad u`` ``(2, batch, points)`` at ``x``."""
        net = self.decoders["u"]
        branch = net.branch_states(beta)
        trunk, tangents = net.trunk_states_with_tangents(x)
        raw = net.combine(branch, trunk)
        raw_grad = net.combine(branch, tangents, with_bias=False)
        bubble, bubble_grad = _bubble(x), _bubble_gradient(x)
        return bubble * raw, bubble_grad[:, None, :] * raw + bubble * raw_grad

    def flux(self, beta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``s(x; beta)``: ``(2, batch, points)``."""
        return torch.stack([self.decoders["s_x"](beta, x), self.decoders["s_y"](beta, x)])

    def coefficient_output(self, beta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The ``a`` decoder's raw output: a phase logit (two-phase) or the normalised mean."""
        return self.decoders["a"](beta, x)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """``u`` on the vertices of ``a``'s grid: ``(batch, s, s)`` from ``(batch, s, s)``."""
        points = grid_points(self.grid).to(a)
        return self.solution(self.encode(a), points).reshape(-1, self.grid, self.grid)


def _half_sine(t: torch.Tensor) -> torch.Tensor:
    # sin(pi t), evaluated as sin(pi min(t, 1 - t)) so that it is exactly 0 at t = 0 and 1
    return torch.sin(math.pi * torch.minimum(t, 1 - t))


def _bubble(x: torch.Tensor) -> torch.Tensor:
    return _half_sine(x[:, 0]) * _half_sine(x[:, 1])


def _bubble_gradient(x: torch.Tensor) -> torch.Tensor:
    sx, sy = _half_sine(x[:, 0]), _half_sine(x[:, 1])
    cx, cy = torch.cos(math.pi * x[:, 0]), torch.cos(math.pi * x[:, 1])
    return math.pi * torch.stack([cx * sy, sx * cy])


def coefficient_from_output(output: torch.Tensor, config: dict[str, Any]
                            ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The decoded coefficient and, for two-phase media, the probability of the high phase.

    Two-phase: ``a = low + (high - low) p`` with ``p = sigmoid(logit)`` (the mean of the
    Bernoulli model); smooth: ``a = mean + std * output``.
    """
    if config["coefficient"] == "bernoulli":
        low, high = config["phases"]
        p = torch.sigmoid(output)
        return low + (high - low) * p, p
    return config["a_mean"] + config["a_std"] * output, None


def coefficient_family(a: np.ndarray) -> tuple[str, list[float] | None]:
    """``("bernoulli", [low, high])`` for fields of exactly two values, else
    ``("gaussian", None)``."""
    values = np.unique(a)
    if len(values) == 2:
        return "bernoulli", [float(values[0]), float(values[1])]
    return "gaussian", None


__all__ = ["DECODERS", "DGNONetwork", "Encoder", "NETWORK_DEFAULTS",
           "coefficient_family", "coefficient_from_output", "grid_points"]
