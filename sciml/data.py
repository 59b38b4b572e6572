"""Data sets for training: arrays from sciml HDF5 files, a torch dataset, and normalisers.

:func:`load` returns NumPy arrays of a named split. :func:`operator_dataset` turns input
and target fields into channel-first tensors ``(samples, channels, *grid)`` in a
``torch.utils.data.TensorDataset`` for :class:`sciml.training.Trainer` or a ``DataLoader``.
The normalisers follow the FNO code's ``UnitGaussianNormalizer`` (Li et al. 2021):
statistics are fitted on the training split and reused on the test split; :meth:`Normalizer.state_dict` gives plain tensors and numbers
that a model checkpoint stores and ``torch.load(..., weights_only=True)`` reads back.

torch is imported inside the functions that need it, so ``import sciml`` does not import it.

References
----------
Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
ICLR 2021.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from .errors import DataFileError
from .io import read_arrays, read_info

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch


def load(path: str | os.PathLike, split: str = "train", n: int | None = None,
         fields: Sequence[str] | None = None, stride: int = 1) -> dict[str, np.ndarray]:
    """Read the fields of a split of a sciml data set.

    Parameters
    ----------
    path
        A file written by :mod:`sciml.io` (e.g. by ``sciml datagen``).
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


class Normalizer:
    """Affine map ``x -> (x - mean) / (std + eps)`` with statistics fitted on data.

    Subclasses choose over which axes the statistics are taken (:meth:`_statistics`).
    """

    kind: ClassVar[str] = ""

    def __init__(self, mean: "torch.Tensor", std: "torch.Tensor", eps: float = 1e-5) -> None:
        self.mean = mean
        self.std = std
        self.eps = float(eps)

    @classmethod
    def fit(cls, x: Any, eps: float = 1e-5) -> "Normalizer":
        """Fit the statistics on ``x`` (tensor or array, samples along axis 0)."""
        import torch  # noqa: PLC0415

        x = torch.as_tensor(x)
        if x.ndim < 1 or x.shape[0] < 2:
            raise ValueError(f"fitting a normaliser needs at least 2 samples along axis 0, "
                             f"got shape {tuple(x.shape)}")
        mean, std = cls._statistics(x)
        return cls(mean, std, eps)

    @staticmethod
    def _statistics(x: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        raise NotImplementedError

    def encode(self, x: "torch.Tensor") -> "torch.Tensor":
        """Normalise ``x``."""
        return (x - self.mean) / (self.std + self.eps)

    def decode(self, x: "torch.Tensor") -> "torch.Tensor":
        """Undo :meth:`encode`."""
        return x * (self.std + self.eps) + self.mean

    def to(self, device: Any) -> "Normalizer":
        """Move the statistics to ``device`` (in place); returns ``self``."""
        self.mean = self.mean.to(device)
        self.std = self.std.to(device)
        return self

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and numbers; rebuild with :func:`normalizer_from_state`."""
        return {"kind": self.kind, "mean": self.mean.detach().cpu(),
                "std": self.std.detach().cpu(), "eps": self.eps}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={tuple(self.mean.shape)}, eps={self.eps})"


class UnitGaussianNormalizer(Normalizer):
    """Pointwise statistics: mean and standard deviation of every grid value over samples.

    As in the FNO code, the standard deviation is the unbiased sample one.
    """

    kind = "unit_gaussian"

    @staticmethod
    def _statistics(x: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        return x.mean(dim=0), x.std(dim=0)


class GaussianNormalizer(Normalizer):
    """One scalar mean and standard deviation over all samples and grid points."""

    kind = "gaussian"

    @staticmethod
    def _statistics(x: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        return x.mean(), x.std()


_NORMALIZERS: dict[str, type[Normalizer]] = {
    cls.kind: cls for cls in (UnitGaussianNormalizer, GaussianNormalizer)}


def normalizer_from_state(state: dict[str, Any]) -> Normalizer:
    """Rebuild a normaliser from :meth:`Normalizer.state_dict`.

    Raises
    ------
    ValueError
        An unknown ``kind`` or missing entries.
    """
    kind = state.get("kind")
    if kind not in _NORMALIZERS:
        raise ValueError(f"unknown normaliser kind {kind!r}; known: {sorted(_NORMALIZERS)}")
    missing = [k for k in ("mean", "std", "eps") if k not in state]
    if missing:
        raise ValueError(f"normaliser state lacks {missing}")
    return _NORMALIZERS[kind](state["mean"], state["std"], state["eps"])


@dataclass
class OperatorData:
    """A split as a torch dataset of ``(input, target)`` pairs, with its normalisers.

    Attributes
    ----------
    dataset
        ``torch.utils.data.TensorDataset`` of inputs ``(samples, channels, *grid)``, encoded
        when :attr:`x_normalizer` is set, and targets in physical units; what
        :class:`sciml.training.Trainer` and ``DataLoader`` take.
    x_normalizer, y_normalizer
        Fitted normalisers or None. Targets stay in physical units: a model may predict
        normalised values and decode them with :attr:`y_normalizer` (the FNO recipe).
    provenance
        Where the data came from: path, generator, parameters, seed, split, samples.
    """

    dataset: Any
    x_normalizer: Normalizer | None
    y_normalizer: Normalizer | None
    provenance: dict[str, Any]

    @property
    def x(self) -> "torch.Tensor":
        """The (encoded) inputs."""
        return self.dataset.tensors[0]

    @property
    def y(self) -> "torch.Tensor":
        """The targets."""
        return self.dataset.tensors[1]

    @property
    def normalizers(self) -> tuple[Normalizer | None, Normalizer | None]:
        """``(x_normalizer, y_normalizer)``, to reuse on another split."""
        return self.x_normalizer, self.y_normalizer

    def normalizer_state(self) -> dict[str, Any]:
        """``{"x": ..., "y": ...}`` state dicts of the set normalisers, for a checkpoint
        (``TrainedModel(normalizers=...)``); rebuild each with :func:`normalizer_from_state`."""
        return {key: norm.state_dict() for key, norm in zip("xy", self.normalizers)
                if norm is not None}


def operator_dataset(path: str | os.PathLike, split: str = "train", n: int | None = None, *,
                     inputs: Sequence[str] = ("a",), targets: Sequence[str] = ("u",),
                     stride: int = 1, normalizer: str | None = "unit_gaussian",
                     normalizers: tuple[Normalizer | None, Normalizer | None] | None = None,
                     ) -> OperatorData:
    """Read a split of a sciml data set as channel-first tensors for operator learning.

    Parameters
    ----------
    path, split, n, stride
        As :func:`load`.
    inputs, targets
        Fields stacked as input and target channels.
    normalizer
        Kind of normaliser fitted on this split when ``normalizers`` is None
        (``"unit_gaussian"``, ``"gaussian"``, or None for none).
    normalizers
        ``(x_normalizer, y_normalizer)`` fitted elsewhere, e.g. the training split's
        :attr:`OperatorData.normalizers` for the test split.

    Returns
    -------
    OperatorData
        The dataset, its normalisers and its provenance.

    Examples
    --------
    >>> train = operator_dataset("darcy.h5", "train", n=1000)                    # doctest: +SKIP
    >>> test = operator_dataset("darcy.h5", "test", normalizers=train.normalizers)  # doctest: +SKIP
    >>> trainer.fit(train.dataset, test.dataset)                                 # doctest: +SKIP
    """
    import torch  # noqa: PLC0415

    arrays = load(path, split, n, fields=[*inputs, *targets], stride=stride)
    x = torch.from_numpy(np.stack([arrays[k] for k in inputs], axis=1))
    y = torch.from_numpy(np.stack([arrays[k] for k in targets], axis=1))
    if normalizers is None:
        if normalizer is not None and normalizer not in _NORMALIZERS:
            raise ValueError(f"unknown normalizer {normalizer!r}; known: "
                             f"{sorted(_NORMALIZERS)} or None")
        kind = None if normalizer is None else _NORMALIZERS[normalizer]
        normalizers = (None, None) if kind is None else (kind.fit(x), kind.fit(y))
    x_normalizer, y_normalizer = normalizers
    if x_normalizer is not None:
        x = x_normalizer.encode(x)
    spec = read_info(path).spec
    provenance = {"path": str(path), "generator": spec.generator,
                  "parameters": spec.parameters, "seed": spec.seed, "split": split,
                  "samples": int(x.shape[0]), "stride": stride, "inputs": list(inputs),
                  "targets": list(targets)}
    return OperatorData(torch.utils.data.TensorDataset(x, y), x_normalizer, y_normalizer,
                        provenance)
