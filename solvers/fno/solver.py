"""``method="fno"``: neuraloperator's Fourier neural operator as a sciml learned solver."""

from __future__ import annotations

from typing import Any

from sciml.solvers.neural_operator.solver import OperatorSolver

from .model import build_fno

#: classic FNO2d (12 modes per quadrant, width 32) and FNO1d (16 modes, width 64)
NETWORKS = {
    "darcy": {"modes": 24, "width": 32, "layers": 4},
    "burgers": {"modes": 32, "width": 64, "layers": 4},
}


class FNOSolver(OperatorSolver):
    """The FNO baseline (Li et al., ICLR 2021), the network of the neuraloperator library.

    Network options: ``modes`` (per axis, neuraloperator's count), ``width`` (hidden
    channels), ``layers``. Needs the ``fno`` extra: ``pip install "sciml[fno]"``.

    Notes
    -----
    The network is ``neuralop.models.FNO`` with its defaults (grid positional embedding,
    channel MLPs, lifting/projection ratio 2), not the 2021 code; it trains with the same
    loop, loss and optimiser settings as MgNO so that the two compare on equal terms,
    including validation and the returned network on a moving average of the weights
    (``ema=0.99``; the FNO paper keeps the raw weights, ``ema=None``; on Darcy the final
    errors are the same within 1 %).

    References
    ----------
    Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
    ICLR 2021, arXiv:2010.08895; J. Kossaifi et al., "A Library for Learning Neural
    Operators", arXiv:2412.10354 (neuraloperator).
    """

    name = "fno"
    description = "Fourier neural operator baseline (neuraloperator library; extra 'fno')"
    networks = NETWORKS

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> Any:
        return build_fno(config["ndim"], config["in_channels"], config["out_channels"],
                         **config["network"])
