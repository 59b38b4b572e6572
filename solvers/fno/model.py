"""The FNO network of the neuraloperator library, imported only when used.

References
----------
Z. Li, N. Kovachki, K. Azizzadenesheli, B. Liu, K. Bhattacharya, A. Stuart, A. Anandkumar,
"Fourier Neural Operator for Parametric Partial Differential Equations", ICLR 2021,
arXiv:2010.08895.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class FNONetwork(nn.Module):
    """neuraloperator's FNO with a state dict of tensors only.

    ``neuralop`` models add their constructor arguments (functions included) to
    ``state_dict()`` under ``"_metadata"``; a file holding them cannot be read with
    ``torch.load(weights_only=True)``, so this wrapper leaves them out (the sciml config
    rebuilds the network instead).
    """

    def __init__(self, fno: nn.Module) -> None:
        super().__init__()
        self.fno = fno

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the FNO to ``x`` of shape ``(batch, channels, *grid)``."""
        return self.fno(x)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The tensors of :meth:`torch.nn.Module.state_dict` (no ``_metadata``)."""
        state = super().state_dict(*args, **kwargs)
        for key in [k for k, v in state.items() if not isinstance(v, torch.Tensor)]:
            del state[key]
        return state


def build_fno(ndim: int, in_channels: int, out_channels: int, *, modes: int, width: int,
              layers: int, **fno_options: Any) -> FNONetwork:
    """``neuralop.models.FNO`` with ``modes`` Fourier modes kept per axis, wrapped.

    ``modes`` counts frequencies as neuraloperator does: ``modes`` in total on every axis
    but the last (``|k| < modes / 2``) and ``modes // 2 + 1`` on the last (real FFT), so
    ``modes=24`` matches the classic FNO2d with 12 modes. ``fno_options`` pass through.

    Raises
    ------
    ImportError
        neuraloperator is not installed (``pip install "sciml[fno]"``).
    """
    try:
        from neuralop.models import FNO  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError("method 'fno' needs the neuraloperator library: "
                          'pip install "sciml[fno]"') from exc
    return FNONetwork(FNO(n_modes=(modes,) * ndim, in_channels=in_channels,
                          out_channels=out_channels, hidden_channels=width, n_layers=layers,
                          **fno_options))
