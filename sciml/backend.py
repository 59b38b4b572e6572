"""Array-namespace and device selection.

sciml writes its array kernels once against an *array namespace* ``xp`` with the NumPy API;
the same code then runs on NumPy (CPU) or CuPy (GPU). CuPy is never imported at
``import sciml``: :func:`array_namespace` only recognises CuPy arrays when the user has
already imported CuPy, and :func:`cupy_available` imports it on demand.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np


def array_namespace(*arrays: Any) -> ModuleType:
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``.

    Only arrays of a CuPy that is already imported are recognised, so this never triggers an
    import. Mixing CuPy and NumPy arrays is allowed here; CuPy raises later if they meet.
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None and any(isinstance(a, cupy.ndarray) for a in arrays):
        return cupy
    return np


def is_cupy_sparse(A: Any) -> bool:
    """True for a ``cupyx.scipy.sparse`` matrix (without importing CuPy)."""
    cupyx_sparse = sys.modules.get("cupyx.scipy.sparse")
    return cupyx_sparse is not None and bool(cupyx_sparse.issparse(A))


@lru_cache(maxsize=1)
def cupy_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy  # noqa: PLC0415 - lazy on purpose
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, CUDARuntimeError, missing driver libraries
        return False


def get_namespace(name: str) -> ModuleType:
    """Return the array module for ``name`` in {"numpy", "cupy"}.

    Raises
    ------
    MissingDependencyError
        ``"cupy"`` where CuPy or a CUDA GPU is missing.
    """
    if name == "numpy":
        return np
    if name == "cupy":
        if not cupy_available():
            from .errors import MissingDependencyError  # noqa: PLC0415

            raise MissingDependencyError("backend='cupy' needs CuPy and a CUDA GPU; none was "
                                         "found (pip install 'sciml[gpu]' on a GPU machine, "
                                         "or leave backend unset)")
        import cupy  # noqa: PLC0415
        return cupy
    raise ValueError(f"unknown array backend {name!r}; expected 'numpy' or 'cupy'")


def to_numpy(x: Any) -> np.ndarray:
    """Copy a NumPy or CuPy array to host memory as a NumPy array."""
    xp = array_namespace(x)
    return x.get() if xp is not np else np.asarray(x)


def torch_device(device: Any = None) -> "Any":
    """Return a ``torch.device``: the one named, else CUDA when available, else CPU.

    The one device default of every learned method (training and solving).

    Raises
    ------
    InvalidOptionError
        An unknown device name, or a CUDA device asked for where torch sees no GPU.
    """
    import torch  # noqa: PLC0415 - torch is only needed by learned methods

    from .errors import InvalidOptionError  # noqa: PLC0415

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidOptionError(f"device {device!r} is not a torch device name (expected "
                                 "e.g. 'cpu', 'cuda', 'cuda:1')") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidOptionError(f"device {device!r} asked for, but torch sees no CUDA GPU "
                                 "here; use device='cpu' (or leave it unset)")
    return dev
