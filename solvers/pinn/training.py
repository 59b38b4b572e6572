"""The optimiser stages of a physics-informed fit: Adam (resampling points), then L-BFGS."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

#: the optimisers a stage may name, with the settings each accepts
STAGE_SETTINGS = {"adam": ("lr", "amsgrad"), "lbfgs": ("lr", "history_size", "restart")}
STAGE_DEFAULTS = {"adam": {"lr": 1e-3, "amsgrad": False},
                  "lbfgs": {"lr": 1.0, "history_size": 50, "restart": 0}}


def is_stages(value: Any) -> bool:
    """A validity test of ``stages=``: a non-empty sequence of ``(name, {settings})``."""
    if not isinstance(value, (list, tuple)) or not value:
        return False
    for stage in value:
        if not (isinstance(stage, (list, tuple)) and len(stage) == 2
                and stage[0] in STAGE_SETTINGS and isinstance(stage[1], dict)
                and set(stage[1]) <= set(STAGE_SETTINGS[stage[0]])):
            return False
    return True


def is_steps(value: Any) -> bool:
    """A validity test of ``steps=``: an int >= 0 or a sequence of them (one per stage)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return bool(items) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                               for v in items)


def _optimiser(name: str, parameters: Sequence[torch.nn.Parameter],
               options: dict[str, Any]) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(parameters, lr=options["lr"], amsgrad=options["amsgrad"])
    return torch.optim.LBFGS(parameters, lr=options["lr"], max_iter=1, max_eval=25,
                             history_size=options["history_size"], tolerance_grad=0.0,
                             tolerance_change=0.0, line_search_fn="strong_wolfe")


@dataclass
class Fit:
    """What a fit did: the loss of every step and where it stopped."""

    history: list[float] = field(default_factory=list)
    stage_ends: list[int] = field(default_factory=list)
    stopped: str = "all steps done"


def fit(parameters: Sequence[torch.nn.Parameter], loss: Callable[[Any], torch.Tensor],
        sample: Callable[[], Any], stages: Sequence[tuple[str, dict[str, Any]]],
        steps: Sequence[int], *, resample: int, progress: bool = False) -> Fit:
    """Minimise ``loss(points)`` over ``parameters`` stage by stage.

    Parameters
    ----------
    loss
        The training loss at a set of collocation points.
    sample
        Draws a new set of collocation points.
    stages, steps
        ``(name, settings)`` per stage (``"adam"`` or ``"lbfgs"``) and its step count.
    resample
        Adam draws new points every ``resample`` steps (0: once per stage). L-BFGS keeps
        one set of points for ``restart`` steps (its stage setting; 0: the whole stage),
        then starts afresh on new points (its curvature pairs belong to one objective); it
        runs its ``steps`` iterations whatever the gradient (its own tolerances are off).
    progress
        Show a tqdm bar with the loss.

    Returns
    -------
    Fit
        The loss per step; a non-finite loss stops the fit (``stopped`` says so).
    """
    result = Fit()
    bar = None
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        bar = tqdm(total=sum(steps), desc="training", leave=False)
    for (name, settings), count in zip(stages, steps):
        options = {**STAGE_DEFAULTS[name], **settings}
        points = sample()
        optimiser = _optimiser(name, parameters, options)
        every = resample if name == "adam" else options["restart"]
        for step in range(count):
            if every and step and step % every == 0:
                points = sample()
                if name == "lbfgs":   # its curvature pairs belong to the old points
                    optimiser = _optimiser(name, parameters, options)

            def closure(points: Any = points) -> torch.Tensor:
                optimiser.zero_grad(set_to_none=True)
                value = loss(points)
                value.backward()
                return value

            value = float(optimiser.step(closure).detach())
            result.history.append(value)
            if bar is not None:
                bar.update()
                bar.set_postfix(loss=f"{value:.3e}", refresh=False)
            if not math.isfinite(value):
                result.stopped = f"stopped: non-finite loss at step {len(result.history)}"
                break
        result.stage_ends.append(len(result.history))
        if result.stopped != "all steps done":
            break
    if bar is not None:
        bar.close()
    return result
