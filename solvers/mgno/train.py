"""Training entry point of ``mgno``: ``sciml train mgno --data train.h5 --out mgno.pt``.

Data, loss (relative H1 by default) and optimiser settings are those every neural operator
shares (:class:`sciml.solvers.neural_operator.solver.OperatorSolver`); the loop is the shared
:class:`sciml.learn.trainer.Trainer`.
"""

from __future__ import annotations

from sciml.solvers.neural_operator.cli import train_main


def main(argv: list[str]) -> int:
    """Run ``sciml train mgno ARGS`` (``argv`` is ARGS); returns the exit status."""
    return train_main("mgno", argv)
