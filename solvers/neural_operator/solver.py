"""The learned-solver base of every neural operator: its face, delegating by job.

A subclass supplies the network only: ``name``, ``networks`` (its options and their
defaults per problem), :meth:`OperatorSolver.build_network` and, where the network limits
the grid, :meth:`OperatorSolver.min_grid`. Training and evaluation live in
:mod:`.training`, prediction in :mod:`.prediction`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from sciml.learn.trained_model import TrainedModel
from sciml.solution import Solution
from sciml.solver_base import LearnedSolver, Option, check_options, is_count

from .prediction import PreparedOperator, predict_fields, prepare_operator
from .training import evaluate_operator, train_operator


class OperatorSolver(LearnedSolver):
    """A neural operator mapping an input field ``a`` to the solution ``u`` on the same grid.

    Problems: :class:`~sciml.problems.DarcyFlow` (``a`` -> ``u``) and
    :class:`~sciml.problems.Burgers1D` (``u0`` -> ``u(., t)``). Inputs and outputs are
    normalised by one mean and standard deviation each, fitted on the training set and saved
    with the model.
    """

    #: the options of a prediction (``sciml.solve(problem, method=..., **options)``)
    options: ClassVar[dict[str, Option]] = {
        "model": Option(None), "device": Option(None),
        "batch_size": Option(32, is_count(1), "an integer >= 1")}

    # -- what a network family supplies ---------------------------------------------------
    #: problem name -> the network options (with defaults); the keys are all it accepts
    networks: ClassVar[dict[str, dict[str, Any]]] = {}
    #: problem name -> training defaults that replace the shared ones of
    #: :data:`.training.TRAIN_DEFAULTS` for that problem (options the caller passes win)
    training_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def default_network(cls, problem: str) -> dict[str, Any]:
        """A copy of the network options (with defaults) for ``problem``."""
        return dict(cls.networks[problem])

    @classmethod
    def min_grid(cls, config: dict[str, Any]) -> int:
        """Smallest grid extent the network described by ``config`` can take."""
        return 1

    @classmethod
    def train(cls, data: Any = None, **options: Any) -> TrainedModel:
        """Train on ``data``; see :func:`.training.train_operator` for the options."""
        return train_operator(cls, data, **options)

    @classmethod
    def evaluate(cls, model: Any, data: Any, **options: Any) -> dict[str, float]:
        """Relative L2 and H1 errors; see :func:`.training.evaluate_operator`."""
        return evaluate_operator(cls, model, data, **options)

    @classmethod
    def predict(cls, model: TrainedModel, a: Any, *, batch_size: int = 32,
                device: Any = None) -> np.ndarray:
        """Apply ``model`` to fields ``a``; see :func:`.prediction.predict_fields`."""
        return predict_fields(cls, model, a, batch_size=batch_size, device=device)

    def prepare(self, problem: Any, **options: Any) -> PreparedOperator:
        """Load the model once (a path is cached per process) and check ``problem`` (one
        PDE problem, or a list of problems of one kind and grid) against it."""
        return prepare_operator(type(self), problem,
                                check_options(self.name, options, self.options))

    def solve(self, problem: Any, **options: Any) -> Solution | list[Solution]:
        """Predict ``problem``'s solution (a list of Solutions for a list of problems, from
        batched forward passes of ``batch_size``); options: ``model``, ``device``, ``batch_size``.

        No tolerance applies to a prediction: ``converged`` is None (False for non-finite
        output); for a guaranteed tolerance solve the discrete system with a classical
        method (``"amg"``, ``"cg"``, ``"direct"``).
        """
        prepared = self.prepare(problem, **options)
        result = prepared.solve()
        for sol in result if isinstance(result, list) else [result]:
            sol.setup_time = prepared.setup_time
        return result
