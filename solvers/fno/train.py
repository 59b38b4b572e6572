"""Training options of ``fno``: ``sciml train fno --data train.h5 --out fno.pt``.

Data, loss (relative L2 by default) and optimiser settings are those every neural operator
shares (:mod:`sciml.solvers.neural_operator.training`); the command line is the shared one
(:mod:`sciml.learn.train_cli`), the loop the shared :class:`sciml.learn.trainer.Trainer`.
"""

from __future__ import annotations

from sciml.solvers.neural_operator.training import TRAIN_EXTRAS

__all__ = ["TRAIN_EXTRAS"]
