"""Input/output field pairs for operator learning, read from a data set or given as arrays.

The problem the pairs belong to is never guessed: a sciml data set names its generator,
which :func:`sciml.problems.problem_type_for_generator` maps to a problem class (exact
names); arrays need ``problem=``. The problem class gives the field names and the
parameters a model is trained for (:class:`sciml.problems.PDEProblem`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataFileError, InvalidOptionError
from ..problems import PDEProblem, problem_type, problem_type_for_generator

#: the split names a file without recorded splits answers with all its samples
DEFAULT_SPLITS = ("train", "test")


@dataclass
class OperatorPairs:
    """Inputs ``a`` and outputs ``u`` of shape ``(samples, *grid)`` and their problem."""

    a: np.ndarray
    u: np.ndarray
    problem: type[PDEProblem]
    params: dict[str, float]
    source: str
    attrs: dict[str, Any] = field(default_factory=dict)


def resolve_split(spec: Any, split: str, source: str) -> str:
    """The split to read: ``split`` itself, or ``"all"`` for a default split name of a file
    that records no splits. A name the file does not have is an error listing its splits."""
    if split == "all" or split in spec.splits:
        return split
    if not spec.splits and split in DEFAULT_SPLITS:
        return "all"
    known = ", ".join(["all", *spec.splits])
    raise DataFileError(f"{source}: the data set has no split {split!r}; its splits: {known}")


def _read_dataset(path: str, problem: str | None, input_key: str | None,
                  output_key: str | None, split: str) -> tuple[Any, Any, type[PDEProblem],
                                                               dict[str, Any]]:
    from ..data import load  # noqa: PLC0415
    from ..io.datasets import read_info  # noqa: PLC0415

    spec = read_info(path).spec
    kind = problem_type(problem) if problem else problem_type_for_generator(spec.generator,
                                                                             path)
    inputs = input_key or kind.input_fields[0]
    output = output_key or kind.output_field
    chosen = resolve_split(spec, split, path)
    arrays = load(path, chosen, fields=[inputs, output])
    attrs = {k: v for k, v in spec.parameters.items() if isinstance(v, (int, float, str))}
    return arrays[inputs], arrays[output], kind, {
        **attrs, "generator": spec.generator, "seed": spec.seed, "split": chosen}


def load_operator_data(data: Any, *, split: str = "all", problem: str | None = None,
                       input_key: str | None = None, output_key: str | None = None,
                       max_samples: int | None = None) -> OperatorPairs:
    """Read pairs from a sciml data set or from ``(a, u)`` arrays.

    Parameters
    ----------
    data
        A path to a sciml data set (:mod:`sciml.io.datasets`) or an ``(a, u)`` pair of
        arrays ``(samples, *grid)``.
    split
        ``"train"``, ``"test"`` (as recorded in the file) or ``"all"``. A file without
        recorded splits answers ``"train"`` and ``"test"`` with all its samples; any other
        unknown name raises.
    problem
        A name of :data:`sciml.problems.PROBLEM_TYPES`; needed for arrays, and overrides the
        file's generator.
    input_key, output_key
        Field names; the problem's ``input_fields[0]`` and ``output_field`` by default.
    max_samples
        Keep the first samples only.

    Raises
    ------
    DataFileError
        An unknown split, a generator that maps to no problem, mismatched or non-finite
        arrays, a grid of the wrong dimension for the problem.
    """
    if isinstance(data, (str, os.PathLike)):
        source = os.fspath(data)
        a, u, kind, attrs = _read_dataset(source, problem, input_key, output_key, split)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        if problem is None:
            raise InvalidOptionError("arrays carry no problem name: pass problem=NAME with "
                                     "(a, u) arrays, e.g. problem='darcy'")
        (a, u), attrs, source, kind = data, {}, "arrays", problem_type(problem)
    else:
        raise InvalidOptionError("data must be an HDF5 path or an (a, u) pair of arrays; got "
                                 f"{type(data).__name__}")
    a, u = np.asarray(a, dtype=np.float32), np.asarray(u, dtype=np.float32)
    if a.shape != u.shape or a.ndim not in (2, 3, 4):
        raise DataFileError(f"{source}: expected a and u of one shape (samples, *grid) with 1 "
                            f"to 3 grid axes; got {a.shape} and {u.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(u))):
        raise DataFileError(f"{source}: the data contain NaN or Inf")
    if max_samples is not None:
        a, u = a[:max_samples], u[:max_samples]
    params = {k: float(attrs.get(k, v)) for k, v in kind.default_parameters.items()}
    return OperatorPairs(a, u, kind, params, source,
                         {k: v for k, v in attrs.items() if v is not None})
