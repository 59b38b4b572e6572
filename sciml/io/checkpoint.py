"""Safe, atomic persistence of torch state (weights, optimiser state, configs).

Files are written with ``torch.save`` to a temporary file in the target folder and published
with ``os.replace``, so a killed job leaves either the old file or the new one, never half a
file. They are read with ``torch.load(weights_only=True)``: only tensors, dicts, lists,
strings and numbers come back, never arbitrary pickled objects.
"""

from __future__ import annotations

import math
import os
import pickle
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from .atomic import atomic_write
from ..errors import DataFileError

FORMAT = "sciml-checkpoint"
FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Atomically write ``state`` (tensors, dicts, lists, numbers, strings) to ``path``."""
    import torch  # noqa: PLC0415 - only learned methods need torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    return atomic_write(path, lambda handle: torch.save(payload, handle))


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """Read a file written by :func:`save_checkpoint` (``weights_only=True``).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    DataFileError
        The file is truncated, not a torch file, holds pickled objects other than tensors
        and plain data, is not a sciml checkpoint, or describes a network above the bounds of
        :func:`check_network_config`.
    """
    import torch  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DataFileError(
            f"{path} holds objects other than tensors and plain data ({_refused_object(exc)}), "
            "so sciml refuses to unpickle it: unpickling can run arbitrary code. Save models "
            "with TrainedModel.save") from None
    except Exception as exc:  # RuntimeError (truncated zip), EOFError
        raise DataFileError(f"{path} is not a readable sciml checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataFileError(f"{path} is a torch file but not a sciml checkpoint "
                            f"(expected format {FORMAT!r})")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise DataFileError(f"{path} has checkpoint format version {state['format_version']}; "
                            f"this sciml reads up to {FORMAT_VERSION}")
    if isinstance(state.get("config"), dict):
        check_network_config(state["config"], path)
    return state


def _refused_object(exc: Exception) -> str:
    """The object torch's safe unpickler refused, without torch's advice to unpickle it."""
    found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
    return f"it refers to {found.group(1)}" if found else "an unsupported pickle opcode or type"


#: the largest value a size option of a network config may take in a file; a crafted or damaged
#: checkpoint above them is refused before any allocation (the largest published models of
#: these families use a few hundred channels, tens of modes and layers, and ~12 levels)
SIZE_LIMITS = {"channels": 4096, "in_channels": 4096, "out_channels": 4096, "width": 4096,
               "modes": 1024, "layers": 64, "levels": 24, "fine_pairs": 64,
               "coarse_pairs": 64, "up_pairs": 64, "smoothing": 64, "ndim": 3}
#: the most weights :func:`estimated_parameters` may give (4 GB of float32)
MAX_PARAMETERS = 10**9


def estimated_parameters(config: Mapping[str, Any]) -> int:
    """A rough upper estimate of a network config's weight count, for any sciml family.

    ``width^2 * modes^ndim * depth`` where ``width`` is the largest channel count, ``modes``
    the spectral modes (a ``4^ndim`` kernel when none), ``depth`` the sum of the layer,
    level and pair counts (1 when none): convolutional, multigrid and Fourier layers all
    hold at most ``width^2`` times their kernel or mode count weights per layer.
    """
    sizes = dict(_size_values(config))
    width = max((max(v) for k, v in sizes.items() if "channels" in k or k == "width"),
                default=1)
    ndim = max(sizes.get("ndim", [3]))
    kernel = max(sizes.get("modes", [4])) ** ndim
    depth = sum(max(v) for k, v in sizes.items() if k in ("layers", "levels") or "pairs" in k)
    return width * width * kernel * max(1, depth)


def check_network_config(config: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Refuse a checkpoint's network config whose sizes exceed :data:`SIZE_LIMITS` or whose
    :func:`estimated_parameters` exceeds :data:`MAX_PARAMETERS`, before building it.

    Raises
    ------
    DataFileError
        Naming the size and the limit.
    """
    for key, values in _size_values(config):
        for value in values:
            if not 0 <= value <= SIZE_LIMITS[key]:
                raise DataFileError(
                    f"{path}: network config has {key} = {value}, outside [0, "
                    f"{SIZE_LIMITS[key]}]; the file is damaged or crafted, sciml refuses to "
                    "build it")
    estimate = estimated_parameters(config)
    if estimate > MAX_PARAMETERS:
        raise DataFileError(f"{path}: network config describes about {estimate:.2e} weights "
                            f"(more than {MAX_PARAMETERS:.0e}); sciml refuses to build it")


def _size_values(config: Any) -> Iterator[tuple[str, list[int]]]:
    """``(key, integers)`` for every :data:`SIZE_LIMITS` key in a nested plain-data config."""
    if isinstance(config, Mapping):
        for key, value in config.items():
            if key in SIZE_LIMITS:
                numbers = [int(v) for v in _integers(value)]
                if numbers:
                    yield key, numbers
            else:
                yield from _size_values(value)
    elif isinstance(config, (list, tuple)):
        for item in config:
            yield from _size_values(item)


def _integers(value: Any) -> Iterator[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)) and math.isfinite(value):
        yield int(value)
    elif isinstance(value, (int, float)):
        yield -1  # NaN or Inf: out of every range
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _integers(item)
