"""``sciml.solve``: one entry point for every method."""

from __future__ import annotations

from typing import Any

from .errors import InvalidOptionError
from .registry import get_solver_class
from .solver_base import Prepared


def prepare(problem: Any, method: str = "cg", **options: Any) -> Prepared:
    """Set ``method`` up for ``problem``'s operator once; solve many right-hand sides after.

    Parameters
    ----------
    problem
        A :class:`~sciml.LinearProblem`, a PDE problem, or for learned operators a list of
        PDE problems of one kind and grid.
    method
        A name from :func:`sciml.methods`.
    **options
        The method's set-up options (e.g. ``kind="rs"`` for ``amg``, ``model=`` for a
        learned method); the tolerances go to :meth:`Prepared.solve`.

    Returns
    -------
    Prepared
        ``.solve(b=None, *, rtol, atol, maxiter, x0, callback) -> Solution`` (learned
        operators: ``.solve()``) and, for ``amg`` and ``direct``, ``.aspreconditioner()``,
        a ``LinearOperator`` usable as ``M=`` of ``cg``/``scipy_cg``. Each Solution reports
        ``setup_time`` 0 and the set-up in ``info["prepared_setup_time"]``.

    Examples
    --------
    >>> import sciml
    >>> prob = sciml.problems.Poisson(shape=(24, 24, 24))
    >>> amg = sciml.prepare(prob, method="amg")
    >>> sol = sciml.solve(prob, method="cg", M=amg.aspreconditioner(), rtol=1e-8)
    >>> bool(sol.converged), sol.iterations < 20
    (True, True)
    """
    return get_solver_class(method)().prepare(problem, **options)


def solve(problem: Any, method: str = "cg", **options: Any) -> Any:
    """Solve ``problem`` with the registered ``method``: :func:`prepare` and one solve.

    Parameters
    ----------
    problem
        A :class:`~sciml.LinearProblem` or a PDE problem from :mod:`sciml.problems` (for a
        learned operator also a list of them: batched predictions, a list of Solutions).
    method
        A name from :func:`sciml.methods`, e.g. ``"cg"``, ``"amg"``, ``"deep_cd"``.
    **options
        Method options; linear solvers share ``rtol``, ``atol``, ``maxiter``, ``x0``,
        ``callback`` (keyword-only, SciPy's names).

    Returns
    -------
    Solution
        ``x``, ``converged``, ``iterations``, ``residuals``, timings and ``info["reason"]``.

    Raises
    ------
    UnknownMethodError
        ``method`` is not registered; the message lists the known names.
    InvalidOptionError
        An option the method does not take, or ``tol=`` (use ``rtol=``).

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np, sciml
    >>> A = sp.diags([-1, 2, -1], [-1, 0, 1], shape=(50, 50))
    >>> sol = sciml.solve(sciml.LinearProblem(A, np.ones(50)), method="cg", rtol=1e-10)
    >>> bool(sol.converged)
    True
    """
    solver = get_solver_class(method)()
    return solver.solve(problem, **options)


def _learned_solver_class(method: str) -> Any:
    from .solver_base import LearnedSolver  # noqa: PLC0415

    cls = get_solver_class(method)
    if not issubclass(cls, LearnedSolver):
        raise InvalidOptionError(f"method {method!r} is not a learned method; nothing to train")
    return cls


def train(method: str, data: Any = None, **options: Any) -> Any:
    """Train the learned ``method`` on ``data`` (an HDF5 path, arrays, or None where the
    method generates its own data) and return a :class:`~sciml.learn.trained_model.TrainedModel`.

    Options (``epochs``, ``seed``, ``batch_size``, optimiser settings, ...) pass through to
    the method; every learned method trains with the shared :class:`~sciml.learn.trainer.Trainer`.
    """
    return _learned_solver_class(method).train(data=data, **options)


def load_model(path: Any) -> Any:
    """Load a saved :class:`~sciml.learn.trained_model.TrainedModel` whatever its method
    (the method's name is read from the file, its network builder from the registry)."""
    from .learn.trained_model import TrainedModel  # noqa: PLC0415

    return get_solver_class(TrainedModel.read_method(path)).load_model(path)


def evaluate(model: Any, data: Any, **options: Any) -> dict[str, float]:
    """Error metrics of a trained ``model`` (a TrainedModel or a path to a saved one) on
    ``data``, e.g. ``{"rel_l2": .., "rel_h1": ..}``."""
    from .learn.trained_model import TrainedModel  # noqa: PLC0415

    method = model.method if isinstance(model, TrainedModel) else TrainedModel.read_method(model)
    return _learned_solver_class(method).evaluate(model, data, **options)
