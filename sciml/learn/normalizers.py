"""Normalisers of operator-learning data, saved with a model.

The normalisers follow the FNO code's ``UnitGaussianNormalizer`` (Li et al. 2021):
statistics are fitted on the training split and reused on the test split;
:meth:`Normalizer.state_dict` gives plain tensors and numbers that a model checkpoint stores
and ``torch.load(..., weights_only=True)`` reads back. torch is imported inside the functions
that need it.

References
----------
Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
ICLR 2021.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch


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
