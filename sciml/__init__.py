"""sciml: learned and classical solvers for PDEs and sparse SPD systems, one interface.

>>> import sciml
>>> prob = sciml.problems.Poisson(shape=(32, 32, 32), rhs="random", seed=0)
>>> sol = sciml.solve(prob, method="amg", rtol=1e-8)
>>> ml = sciml.prepare(prob, method="amg")     # set up once, then ml.solve(b) per rhs

``import sciml`` imports neither torch nor CuPy; methods are imported on first use.
"""

from . import data, errors, problems
from .api import evaluate, load_model, prepare, solve, train
from .problems import LinearProblem
from .registry import methods, register
from .solution import Solution
from .kernels.stencil import StencilOperator
from .linear_solver import LinearSolver
from .solver_base import LearnedSolver, Option, Prepared, Solver

__version__ = "0.1.0"

__all__ = ["LearnedSolver", "LinearProblem", "LinearSolver", "Option", "Prepared", "Solution", "Solver",
           "StencilOperator", "__version__", "data", "errors", "evaluate", "load_model",
           "methods", "prepare", "problems", "register", "solve", "train"]
