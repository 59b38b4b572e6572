"""Reading sciml data sets: the fields of a named split as NumPy arrays.

``sciml.data.load(path, split="train", n=100)`` is the user-facing reader of the HDF5 files
that ``sciml datagen`` writes (:mod:`sciml.io.datasets` holds the format).
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from .errors import DataFileError
from .io.datasets import read_arrays, read_info


def load(path: str | os.PathLike, split: str = "train", n: int | None = None,
         fields: Sequence[str] | None = None, stride: int = 1) -> dict[str, np.ndarray]:
    """Read the fields of a split of a sciml data set.

    Parameters
    ----------
    path
        A file written by :mod:`sciml.io.datasets` (e.g. by ``sciml datagen``).
    split
        A split recorded in the file (``"train"``, ``"test"``) or ``"all"``.
    n
        Read only the first ``n`` samples of the split (all by default).
    fields
        Field names to read (all by default).
    stride
        Keep every ``stride``-th grid point on each axis (FNO's ``r``: 421 -> 85 with 5).

    Returns
    -------
    dict
        ``{name: float32 array (samples, *grid)}``.

    Raises
    ------
    DataFileError
        An invalid file, an unknown split or field, or ``n`` larger than the split.

    Examples
    --------
    >>> arrays = sciml.data.load("darcy.h5", split="train", n=1000)  # doctest: +SKIP
    >>> arrays["a"].shape, arrays["u"].shape                          # doctest: +SKIP
    ((1000, 85, 85), (1000, 85, 85))
    """
    spec = read_info(path).spec
    start, stop = spec.split_range(split)
    if n is not None:
        if not 0 <= n <= stop - start:
            raise DataFileError(f"{path}: asked for n={n} samples, but split {split!r} has "
                                f"{stop - start}")
        stop = start + n
    return read_arrays(path, None if fields is None else list(fields), start=start, stop=stop,
                       stride=stride)


