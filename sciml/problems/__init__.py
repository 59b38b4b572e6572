"""Problems sciml solves: linear systems and PDE instances.

A PDE problem knows its reference discretisation (``to_linear_problem()``) so that classical
linear solvers apply to it as well as learned methods.
"""

from .burgers import Burgers1D
from .darcy import DarcyFlow, assemble_darcy
from .linear import LinearProblem
from .poisson import Poisson

__all__ = ["Burgers1D", "DarcyFlow", "LinearProblem", "Poisson", "assemble_darcy"]
