"""MultiONet: a DeepONet whose output sums branch-trunk products over several hidden layers.

Zang & Koutsourelakis ("DGNO", arXiv 2502.06250, JCP 2025, Sec. 3.2) define, for branch
and trunk MLPs of equal width and depth run in lock-step,

    u(x; beta) = (1/l) sum_{k=L-l+1}^{L} w_k <t_k(x), b_k(beta)> + b,

with ``t_k``, ``b_k`` the hidden states of layer ``k`` and the scalars ``w_k``, ``b``
initialised to 0. ``l = 1`` is DeepONet (Lu et al., Nature Machine Intelligence 2021) with a
learned output scale.

The trunk is evaluated once on a set of points shared by the whole batch, and
:meth:`MLP.forward_with_tangents` propagates the derivatives of its hidden states with
respect to the two space coordinates layer by layer (forward mode, by hand: ``dz = dh W^T``,
``dh' = sigma'(z) dz``); that costs two extra matrix products per layer instead of a
backward pass per output, and is differentiable with respect to the weights.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

def _tanh_sin(z: torch.Tensor) -> torch.Tensor:
    return torch.tanh(torch.sin(math.pi * (z + 1))) + z


def _tanh_sin_slope(z: torch.Tensor) -> torch.Tensor:
    inner = math.pi * (z + 1)
    return math.pi * torch.cos(inner) * (1 - torch.tanh(torch.sin(inner)) ** 2) + 1


def _silu_sin(z: torch.Tensor) -> torch.Tensor:
    return nn.functional.silu(torch.sin(math.pi * (z + 1))) + z


def _silu_slope(z: torch.Tensor) -> torch.Tensor:
    sig = torch.sigmoid(z)
    return sig * (1 + z * (1 - sig))


def _silu_sin_slope(z: torch.Tensor) -> torch.Tensor:
    inner = math.pi * (z + 1)
    return math.pi * torch.cos(inner) * _silu_slope(torch.sin(inner)) + 1


def _tanh_slope(z: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(z) ** 2


#: activation name -> (value, derivative); ``tanh_sin`` is the paper's
#: ``tanh(sin(pi (z + 1))) + z``, ``silu_sin`` its SiLU variant ``silu(sin(pi (z + 1))) + z``
ACTIVATIONS: dict[str, tuple[Any, Any]] = {
    "tanh_sin": (_tanh_sin, _tanh_sin_slope),
    "silu_sin": (_silu_sin, _silu_sin_slope),
    "silu": (nn.functional.silu, _silu_slope),
    "tanh": (torch.tanh, _tanh_slope),
}


def check_activation(name: str) -> str:
    """``name`` if it is a known activation, else a ValueError listing them."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return name


class MLP(nn.Module):
    """``depth`` fully connected layers of ``width``, each followed by the activation.

    :meth:`forward` returns every layer's hidden state (MultiONet reads the last ones).
    """

    def __init__(self, in_features: int, width: int, depth: int, activation: str) -> None:
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(f"an MLP needs depth >= 1 and width >= 1, got {depth}, {width}")
        self.layers = nn.ModuleList(
            [nn.Linear(in_features if i == 0 else width, width) for i in range(depth)])
        self.activation = check_activation(activation)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Hidden states of all layers, each ``(*x.shape[:-1], width)``."""
        sigma = ACTIVATIONS[self.activation][0]
        hidden = []
        for layer in self.layers:
            x = sigma(layer(x))
            hidden.append(x)
        return hidden

    def forward_with_tangents(self, x: torch.Tensor
                              ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Hidden states and their derivatives with respect to each input coordinate.

        Parameters
        ----------
        x
            ``(points, in_features)``.

        Returns
        -------
        hidden, tangents
            Per layer, ``(points, width)`` values and ``(in_features, points, width)``
            derivatives ``d hidden / d x_i``.
        """
        sigma, dsigma = ACTIVATIONS[self.activation]
        hidden, tangents = [], []
        dx = None
        for i, layer in enumerate(self.layers):
            z = layer(x)
            if i == 0:   # d z / d x_i is column i of W, the same at every point
                dz = layer.weight.T[:, None, :].expand(-1, z.shape[0], -1)
            else:
                dz = dx @ layer.weight.T
            slope = dsigma(z)
            x, dx = sigma(z), slope.unsqueeze(0) * dz
            hidden.append(x)
            tangents.append(dx)
        return hidden, tangents


class MultiONet(nn.Module):
    """A scalar field ``u(x; beta)`` from branch input ``beta`` and trunk input ``x``.

    Parameters
    ----------
    branch_features, trunk_features
        Sizes of ``beta`` and of ``x``.
    width, depth
        Of both MLPs (equal, so their layers pair up).
    sum_layers
        ``l``, the number of last hidden layers in the sum (1 <= l <= depth); 1 is DeepONet.
    activation
        A name of :data:`ACTIVATIONS` (the paper's ``"tanh_sin"`` by default).
    """

    def __init__(self, branch_features: int, trunk_features: int = 2, *, width: int = 100,
                 depth: int = 5, sum_layers: int = 4, activation: str = "tanh_sin") -> None:
        super().__init__()
        if not 1 <= sum_layers <= depth:
            raise ValueError(f"sum_layers must be between 1 and depth={depth}, got "
                             f"{sum_layers}")
        self.branch = MLP(branch_features, width, depth, activation)
        self.trunk = MLP(trunk_features, width, depth, activation)
        self.sum_layers = sum_layers
        self.weights = nn.Parameter(torch.zeros(sum_layers))
        self.bias = nn.Parameter(torch.zeros(()))

    def branch_states(self, beta: torch.Tensor) -> list[torch.Tensor]:
        """The last ``l`` branch hidden states, ``(batch, width)`` each."""
        return self.branch(beta)[-self.sum_layers:]

    def trunk_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The last ``l`` trunk hidden states, ``(points, width)`` each."""
        return self.trunk(x)[-self.sum_layers:]

    def trunk_states_with_tangents(self, x: torch.Tensor
                                   ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The last ``l`` trunk states and their ``(coords, points, width)`` derivatives."""
        hidden, tangents = self.trunk.forward_with_tangents(x)
        return hidden[-self.sum_layers:], tangents[-self.sum_layers:]

    def combine(self, branch: list[torch.Tensor], trunk: list[torch.Tensor],
                with_bias: bool = True) -> torch.Tensor:
        """``(1/l) sum_k w_k b_k t_k^T (+ b)``: ``(batch, points)`` (or ``(coords, batch,
        points)`` for trunk tangents, which take no bias)."""
        out = sum(w * (b @ t.transpose(-1, -2))
                  for w, b, t in zip(self.weights, branch, trunk)) / self.sum_layers
        return out + self.bias if with_bias else out

    def forward(self, beta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``u`` at ``points`` x for every ``beta``: ``(batch, points)``."""
        return self.combine(self.branch_states(beta), self.trunk_states(x))
