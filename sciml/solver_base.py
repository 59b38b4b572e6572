"""The face every method shows: :class:`Solver`, :class:`LearnedSolver` and option checking.

Linear methods derive from :class:`sciml.linear_solver.LinearSolver`, which adds the shared
stopping rule; learned ones also from :class:`LearnedSolver` (training, weights).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from .errors import InvalidOptionError, ModelMismatchError
from .solution import Solution

_REMOVED_OPTIONS = {
    "tol": "'tol' is not accepted (SciPy removed it in 1.14); use rtol= for the relative "
           "tolerance and atol= for the absolute one",
}


class Solver(ABC):
    """A method that turns a problem into a :class:`~sciml.Solution`.

    Subclasses set ``name`` (their registry name) and ``description`` (one line).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def solve(self, problem: Any, **options: Any) -> Solution:
        """Solve ``problem``; options are method specific."""


class LearnedSolver(Solver):
    """A method with a trained network: adds training, evaluation and model loading.

    Subclasses implement :meth:`build_network` (config -> ``torch.nn.Module``), :meth:`train`
    (data -> :class:`~sciml.learn.trained_model.TrainedModel`) and :meth:`evaluate`; ``default_weights``
    names weights shipped with the package, used when ``model=`` is not given.
    """

    default_weights: ClassVar[str | None] = None

    @classmethod
    @abstractmethod
    def build_network(cls, config: dict[str, Any]) -> Any:
        """Rebuild the untrained network described by ``config``."""

    @classmethod
    @abstractmethod
    def train(cls, data: Any = None, **options: Any) -> Any:
        """Train a model (a :class:`~sciml.learn.trained_model.TrainedModel`) on ``data``."""

    @classmethod
    def evaluate(cls, model: Any, data: Any, **options: Any) -> dict[str, float]:
        """Error metrics of ``model`` on ``data`` (e.g. ``{"rel_l2": ..., "rel_h1": ...}``)."""
        raise NotImplementedError(f"{cls.name!r} has no evaluate()")

    @classmethod
    def train_cli(cls, argv: list[str]) -> int:
        """``sciml train <name> ...``: the shared training command line
        (:mod:`sciml.learn.train_cli`), with the options ``TRAIN_EXTRAS`` that the method's
        ``train`` module (``solvers/<family>/train.py``) declares."""
        from .learn.train_cli import main  # noqa: PLC0415

        return main(cls, argv)

    @classmethod
    def load_model(cls, model: Any = None) -> Any:
        """Resolve ``model=``: a TrainedModel, a path, or None for the shipped weights."""
        from .learn.trained_model import TrainedModel  # noqa: PLC0415

        if isinstance(model, TrainedModel):
            if model.method != cls.name:
                raise ModelMismatchError(
                    f"this is a {model.method!r} model; method {cls.name!r} cannot use it")
            return model
        if model is None:
            if cls.default_weights is None:
                raise InvalidOptionError(
                    f"{cls.name!r} ships no weights; pass model=<path or TrainedModel> "
                    f"(train one with sciml.train({cls.name!r}, ...))")
            model = cls.default_weights
        return TrainedModel.load(model, cls.build_network, method=cls.name)


def check_options(method: str, options: dict[str, Any], allowed: dict[str, Any]) -> dict[str, Any]:
    """Reject removed or unknown options; return ``allowed`` updated with ``options``."""
    for key in options:
        if key in _REMOVED_OPTIONS:
            raise InvalidOptionError(_REMOVED_OPTIONS[key])
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidOptionError(
                f"method {method!r} does not accept option {key!r}; its options are: {known}")
    return {**allowed, **options}


