"""An exponential moving average of a network's weights, for validation and the final model.

Adam at the peak of a OneCycle schedule moves the weights far in single steps, and a
validation curve of the raw weights shows it as spikes; the average over the last few
hundred steps follows the same descent without them (Polyak & Juditsky 1992; the
exponential form as in TensorFlow's ``ExponentialMovingAverage``, whose warm-up
``min(decay, (1 + n) / (10 + n))`` after ``n`` updates lets the first epochs use the
recent weights instead of the random start).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Iterator

from ..errors import InvalidOptionError


def check_decay(decay: Any) -> float | None:
    """``decay`` as a float in (0, 1), or None (no averaging); anything else is refused."""
    if decay is None:
        return None
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay < 1:
        raise InvalidOptionError(
            f"ema must be a decay in (0, 1) such as 0.99 (about the last 100 steps), or None "
            f"for no averaging; got {decay!r}")
    return float(decay)


class WeightAverage:
    """Exponential moving average of every floating-point tensor of ``model.state_dict()``.

    Parameters
    ----------
    model
        The ``torch.nn.Module`` whose weights are averaged (the average starts at them).
    decay
        Weight of the old average in each update, in (0, 1); ``1 / (1 - decay)`` steps is
        the average's memory.

    Notes
    -----
    Integer buffers (counters) are copied, not averaged. The average lives on the
    model's device and takes one more copy of the weights in memory.
    """

    def __init__(self, model: Any, decay: float) -> None:
        self.decay = check_decay(decay)
        self.updates = 0
        self.shadow = {key: value.detach().clone()
                       for key, value in model.state_dict().items()}

    def update(self, model: Any) -> None:
        """Move the average towards ``model``'s current weights (after an optimiser step)."""
        import torch  # noqa: PLC0415

        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for key, value in model.state_dict().items():
                if value.is_floating_point():
                    self.shadow[key].mul_(decay).add_(value.detach(), alpha=1 - decay)
                else:
                    self.shadow[key].copy_(value)

    @contextlib.contextmanager
    def applied(self, model: Any) -> Iterator[None]:
        """Within the block ``model`` holds the averaged weights; its own come back after."""
        own = copy.deepcopy(model.state_dict())
        model.load_state_dict(self.shadow)
        try:
            yield
        finally:
            model.load_state_dict(own)

    def state_dict(self) -> dict[str, Any]:
        """Plain state for checkpoints (loadable with ``weights_only=True``)."""
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""
        self.decay = check_decay(state["decay"])
        self.updates = int(state["updates"])
        for key, value in state["shadow"].items():
            self.shadow[key].copy_(value)
