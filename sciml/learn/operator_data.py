"""Input/output pairs for operator learning: ``a`` (input field) -> ``u`` (solution field)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sciml.errors import DataFileError, InvalidOptionError

#: problem name -> (grid axes, names of the problem parameters a model is trained for)
PROBLEMS: dict[str, tuple[int, tuple[str, ...]]] = {
    "darcy": (2, ("f",)),
    "burgers": (1, ("nu", "t")),
}
_DEFAULT_PARAMS = {"darcy": {"f": 1.0}, "burgers": {"nu": 0.1, "t": 1.0}}


@dataclass
class OperatorPairs:
    """``a`` and ``u`` of shape ``(samples, *grid)`` with the problem they come from."""

    a: np.ndarray
    u: np.ndarray
    problem: str
    params: dict[str, float]
    source: str
    attrs: dict[str, Any] = field(default_factory=dict)


def _read_dataset(path: str, input_key: str, output_key: str,
                  split: str) -> tuple[Any, Any, dict[str, Any]]:
    """Arrays of a sciml data set (:mod:`sciml.io.datasets`) and its generator parameters."""
    from sciml.data import load  # noqa: PLC0415
    from sciml.io.datasets import read_info  # noqa: PLC0415

    spec = read_info(path).spec
    # a file without recorded splits is used whole for the default names "train"/"test";
    # any other unknown name is refused by sciml.data.load, listing the file's splits
    chosen = "all" if not spec.splits and split in ("train", "test") else split
    arrays = load(path, chosen, fields=[input_key, output_key])
    attrs = {k: v for k, v in spec.parameters.items() if isinstance(v, (int, float, str))}
    return arrays[input_key], arrays[output_key], {
        **attrs, "generator": spec.generator, "seed": spec.seed, "split": chosen}


def _infer_problem(attrs: dict[str, Any], ndim: int) -> str:
    text = " ".join(str(attrs.get(k, "")) for k in ("problem", "generator")).lower()
    for name in PROBLEMS:
        if name in text:
            return name
    return next(name for name, (axes, _) in PROBLEMS.items() if axes == ndim)


def load_operator_data(data: Any, *, split: str = "all", problem: str | None = None,
                       input_key: str = "a", output_key: str = "u",
                       max_samples: int | None = None) -> OperatorPairs:
    """Read pairs from a sciml data set (fields ``input_key``, ``output_key``) or ``(a, u)``.

    A sciml data set (:mod:`sciml.io.datasets`) records its ``"train"`` and ``"test"`` sample ranges;
    ``split`` picks one (all samples are used when the file has no split of that name). The problem
    (``"darcy"`` or ``"burgers"``) and its parameters (``f``; ``nu``, ``t``) come from the
    file attributes when present, else from the grid dimension and the FNO defaults;
    ``problem=`` overrides.
    """
    if isinstance(data, (str, os.PathLike)):
        a, u, attrs = _read_dataset(os.fspath(data), input_key, output_key, split)
        source = os.fspath(data)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        (a, u), attrs, source = data, {}, "arrays"
    else:
        raise InvalidOptionError("data must be an HDF5 path or an (a, u) pair of arrays; got "
                                 f"{type(data).__name__}")
    a, u = np.asarray(a, dtype=np.float32), np.asarray(u, dtype=np.float32)
    if a.shape != u.shape or a.ndim not in (2, 3):
        raise DataFileError(f"{source}: expected a and u of one shape (samples, *grid) with 1 "
                            f"or 2 grid axes; got {a.shape} and {u.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(u))):
        raise DataFileError(f"{source}: the data contain NaN or Inf")
    if max_samples is not None:
        a, u = a[:max_samples], u[:max_samples]
    name = problem or _infer_problem(attrs, a.ndim - 1)
    if name not in PROBLEMS:
        raise InvalidOptionError(f"unknown problem {name!r}; expected one of {sorted(PROBLEMS)}")
    if PROBLEMS[name][0] != a.ndim - 1:
        raise DataFileError(f"{source}: {name} data have {PROBLEMS[name][0]} grid axes, these "
                            f"have {a.ndim - 1}")
    params = {k: float(attrs.get(k, v)) for k, v in _DEFAULT_PARAMS[name].items()}
    return OperatorPairs(a, u, name, params, source,
                        {k: v for k, v in attrs.items() if v is not None})
