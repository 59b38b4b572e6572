"""The networks of the physics-informed methods: a tanh MLP on a periodic embedding."""

from __future__ import annotations

import math

import torch
from torch import nn


class MLP(nn.Module):
    """``depth`` hidden layers of ``width`` tanh units, a linear output layer.

    Parameters
    ----------
    inputs, outputs
        Feature counts in and out.
    width, depth
        Hidden layer width and count (>= 1).
    """

    def __init__(self, inputs: int, outputs: int, width: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for k in range(depth):
            layers += [nn.Linear(inputs if k == 0 else width, width), nn.Tanh()]
        layers.append(nn.Linear(width, outputs))
        self.layers = nn.Sequential(*layers)
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_normal_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


class PeriodicMLP(nn.Module):
    """An :class:`MLP` of ``(cos(2 pi x / period), sin(2 pi x / period), t / t_end)``.

    The embedding makes the output exactly periodic in ``x``; ``forward(x, t)`` takes two
    tensors of one shape and returns ``outputs`` channels on a last axis.
    """

    def __init__(self, period: float, t_end: float, width: int, depth: int,
                 outputs: int = 1) -> None:
        super().__init__()
        self.wave = 2 * math.pi / period
        self.t_end = t_end
        self.mlp = MLP(3, outputs, width, depth)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        phase = self.wave * x
        features = torch.stack([torch.cos(phase), torch.sin(phase), t / self.t_end], dim=-1)
        return self.mlp(features)
