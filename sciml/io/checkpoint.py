"""Safe, atomic persistence of torch state (weights, optimiser state, configs).

Files are written with ``torch.save`` to a temporary file in the target folder and published
with ``os.replace``, so a killed job leaves either the old file or the new one, never half a
file. They are read with ``torch.load(weights_only=True)``: only tensors, dicts, lists,
strings and numbers come back, never arbitrary pickled objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
        The file is truncated, not a torch file, holds pickled code, or is not a sciml
        checkpoint.
    """
    import torch  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError (truncated zip), EOFError
        raise DataFileError(f"{path} is not a readable sciml checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataFileError(f"{path} is a torch file but not a sciml checkpoint "
                            f"(expected format {FORMAT!r})")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise DataFileError(f"{path} has checkpoint format version {state['format_version']}; "
                            f"this sciml reads up to {FORMAT_VERSION}")
    return state
