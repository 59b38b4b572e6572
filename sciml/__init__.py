"""sciml: learned and classical solvers for PDEs and sparse SPD systems, one interface.

>>> import sciml
>>> prob = sciml.problems.Poisson(shape=(32, 32, 32), rhs="random", seed=0)
>>> sol = sciml.solve(prob, method="amg", rtol=1e-8)

``import sciml`` imports neither torch nor CuPy; methods are imported on first use.
"""

from . import errors, problems
from .api import evaluate, solve, train
from .problems import LinearProblem
from .registry import methods, register
from .solution import Solution
from .solver import LearnedSolver, LinearSolver, Solver
from .stencil import StencilOperator

__version__ = "0.1.0"

__all__ = ["LearnedSolver", "LinearProblem", "LinearSolver", "Solution", "Solver",
           "StencilOperator", "__version__", "errors", "evaluate", "methods", "problems",
           "register", "solve", "train"]
