"""Collocation points in the space-time box ``[0, period) x [0, t_end]``."""

from __future__ import annotations

import torch

#: the point sets :func:`collocation` draws
SAMPLINGS = ("random", "lhs")


def collocation(n: int, period: float, t_end: float, kind: str, generator: torch.Generator,
                *, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points ``(x, t)``: uniform random, or a Latin hypercube (``"lhs"``: one point
    in each of ``n`` equal strata of each axis, the strata paired at random).

    Points are drawn on the CPU from ``generator`` (so a seed gives the same points on every
    device) and moved to ``device``.
    """
    if kind == "random":
        unit = torch.rand(n, 2, generator=generator, dtype=torch.float64)
    elif kind == "lhs":
        strata = torch.stack([torch.randperm(n, generator=generator) for _ in range(2)], 1)
        unit = (strata + torch.rand(n, 2, generator=generator, dtype=torch.float64)) / n
    else:
        raise ValueError(f"unknown sampling {kind!r}; expected one of {SAMPLINGS}")
    unit = unit.to(dtype=dtype, device=device)
    return unit[:, 0] * period, unit[:, 1] * t_end


def time_slices(t: torch.Tensor, t_end: float, slices: int) -> torch.Tensor:
    """The index of the equal time slice of ``[0, t_end]`` each of ``t`` falls in."""
    return torch.clamp((t / t_end * slices).long(), max=slices - 1)
