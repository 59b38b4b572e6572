"""The face every method shows: :class:`Solver`, :class:`Prepared`, declared options.

``sciml.prepare(problem, method, **setup_options)`` calls :meth:`Solver.prepare`, which does
the work that depends on the operator once and returns a :class:`Prepared`; its
:meth:`Prepared.solve` may then run many times. ``sciml.solve`` is ``prepare`` followed by one
``solve``. Linear methods derive from :class:`sciml.linear_solver.LinearSolver`, which adds
the shared stopping rule; learned ones also from :class:`LearnedSolver` (training, weights).

Every method declares its options once, as :class:`Option` entries of ``options``; they are
checked by :func:`check_options` before any work, and a method's code receives the checked
values as one mapping.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from .errors import InvalidOptionError, ModelMismatchError
from .solution import Solution

_REMOVED_OPTIONS = {
    "tol": "'tol' is not accepted (SciPy removed it in 1.14); use rtol= for the relative "
           "tolerance and atol= for the absolute one",
}


@dataclass(frozen=True)
class Option:
    """One declared option: its default and, optionally, a validity test.

    Parameters
    ----------
    default
        The value used when the caller does not pass the option.
    valid
        ``valid(value) -> bool``; a False result raises :class:`InvalidOptionError`.
    expected
        What a valid value is, in words, for that message (e.g. ``"an integer >= 0"``).
    """

    default: Any = None
    valid: Callable[[Any], bool] | None = None
    expected: str = ""


def is_count(minimum: int) -> Callable[[Any], bool]:
    """A validity test: an integer (not a bool) of at least ``minimum``."""
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def is_nonnegative_number(value: Any) -> bool:
    """A validity test: a finite real number >= 0."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def one_of(*choices: Any) -> Callable[[Any], bool]:
    """A validity test: one of ``choices``."""
    return lambda v: v in choices


def check_options(method: str, given: Mapping[str, Any],
                  declared: Mapping[str, Any]) -> dict[str, Any]:
    """Reject removed, unknown or invalid options; return every declared option's value.

    ``declared`` maps names to :class:`Option` entries (a plain value is an Option with that
    default and no validity test).

    Raises
    ------
    InvalidOptionError
        An option that was removed (``tol``), is not declared (the message lists the declared
        ones) or fails its validity test (the message says what is expected).
    """
    declared = {k: v if isinstance(v, Option) else Option(v) for k, v in declared.items()}
    for key, value in given.items():
        if key in _REMOVED_OPTIONS:
            raise InvalidOptionError(_REMOVED_OPTIONS[key])
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InvalidOptionError(
                f"method {method!r} does not accept option {key!r}; its options are: {known}")
        spec = declared[key]
        if spec.valid is not None and not spec.valid(value):
            raise InvalidOptionError(f"method {method!r}: option {key}={value!r} is invalid; "
                                     f"expected {spec.expected or 'another value'}")
    return {**{key: spec.default for key, spec in declared.items()}, **given}


class Prepared(ABC):
    """A method set up for one operator: :meth:`solve` may be called many times.

    Attributes
    ----------
    method
        Registry name of the method.
    setup_time
        Wall seconds :meth:`Solver.prepare` spent (reported in each Solution's
        ``info["prepared_setup_time"]``; the Solution's own ``setup_time`` is 0).
    """

    method: str
    setup_time: float

    @abstractmethod
    def solve(self, *args: Any, **options: Any) -> Any:
        """Solve with the prepared set-up; returns a :class:`~sciml.Solution`."""

    def aspreconditioner(self) -> Any:
        """An approximation of ``A^-1`` as a ``LinearOperator`` (``M=`` of ``cg``)."""
        raise InvalidOptionError(f"method {self.method!r} gives no preconditioner")


class Solver(ABC):
    """A method that turns a problem into a :class:`~sciml.Solution`.

    Subclasses set ``name`` (their registry name), ``description`` (one line) and
    ``options`` (their set-up options, declared once), and implement :meth:`prepare`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[dict[str, Option]] = {}

    @abstractmethod
    def prepare(self, problem: Any, **options: Any) -> Prepared:
        """Do the work that depends on ``problem``'s operator once."""

    @abstractmethod
    def solve(self, problem: Any, **options: Any) -> Solution:
        """Solve ``problem``: :meth:`prepare` then one :meth:`Prepared.solve`."""


#: (resolved path, modification time, size) -> TrainedModel, so a path loads once per process
_MODEL_CACHE: dict[tuple[str, int, int], Any] = {}


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
        """Resolve ``model=``: a TrainedModel, a path, or None for the shipped weights.

        A path is loaded once per process: the model is cached under the resolved path, its
        modification time and size, so a file written again is loaded again.
        """
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
        if not isinstance(model, (str, os.PathLike)):
            raise InvalidOptionError(f"model must be a TrainedModel or a path to a saved "
                                     f"model; got {type(model).__name__}")
        path = Path(model).resolve()
        if not path.is_file():
            raise InvalidOptionError(f"model file {os.fspath(model)!r} does not exist")
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _MODEL_CACHE:
            for stale in [k for k in _MODEL_CACHE if k[0] == key[0]]:
                del _MODEL_CACHE[stale]
            _MODEL_CACHE[key] = TrainedModel.load(path, cls.build_network, method=cls.name)
        return _MODEL_CACHE[key]
