"""The problem protocol: what a method needs to know about a PDE lives on the problem class.

Every PDE problem derives from :class:`PDEProblem` and states, as class attributes, its
``name``, whether its grid is ``periodic``, the data-set fields a learned operator maps
between (``input_fields`` -> ``output_field``), the ``generator`` of :mod:`sciml.data_gen`
whose files hold its samples, the ``default_parameters`` a model is trained for, and whether
it has a reference discretisation (``has_linear_form``) or a convective form
``u_t + c(u) u_x = nu u_xx`` (``has_convective_form``, see :mod:`.evolution`). Methods ask
the problem (or, for a data file, :func:`sciml.problems.problem_type_for_generator`); they
never guess from names or dispatch on ``isinstance``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidProblemError
from .linear import LinearProblem


class PDEProblem:
    """Base class of the PDE problems sciml solves.

    Class attributes
    ----------------
    name
        Short name (``"darcy"``), used in model configs and in the problem table.
    periodic
        Whether the grid wraps around (finite differences and padding follow it).
    zero_boundary
        Whether the solution is zero on the grid's outermost points (homogeneous Dirichlet
        values stored with the field); learned operators then make those values exact.
    input_fields, output_field
        Field names in the data sets: a learned operator maps the inputs to the output.
    generator
        The :mod:`sciml.data_gen` generator whose files hold this problem's samples, or None.
    default_parameters
        Problem parameters a learned operator is trained for, with the values the standard
        data sets use; a data file records its own values, which take precedence.
    has_linear_form
        True when :meth:`to_linear_problem`, :meth:`solution_from_vector` and
        :meth:`vector_from_solution` give a reference linear discretisation.
    has_convective_form
        True for ``u_t + c(u) u_x = nu u_xx`` on a periodic interval
        (:class:`~.evolution.PeriodicEvolution`: ``characteristic_speed``, ``period``,
        ``u0``, ``nu``, ``t``); the methods that follow characteristics (``lpinn``) and the
        space-time methods (``pinn``, ``spectral``) need it.
    """

    name: ClassVar[str] = ""
    periodic: ClassVar[bool] = False
    zero_boundary: ClassVar[bool] = False
    input_fields: ClassVar[tuple[str, ...]] = ()
    output_field: ClassVar[str] = "u"
    generator: ClassVar[str | None] = None
    default_parameters: ClassVar[dict[str, float]] = {}
    has_linear_form: ClassVar[bool] = False
    has_convective_form: ClassVar[bool] = False

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """The grid the solution lives on."""
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        """Number of grid axes."""
        return len(self.grid_shape)

    def parameters(self) -> dict[str, Any]:
        """This instance's values of :attr:`default_parameters`' keys."""
        return {key: getattr(self, key) for key in self.default_parameters}

    def operator_input(self) -> np.ndarray:
        """The input field a learned operator takes (the first of :attr:`input_fields`)."""
        raise InvalidProblemError(f"{type(self).__name__} has no input field for a learned "
                                  "operator")

    def to_linear_problem(self, matrix_free: bool = False) -> LinearProblem:
        """The reference discretisation ``A x = b`` (where :attr:`has_linear_form`)."""
        raise InvalidProblemError(f"{type(self).__name__} has no linear discretisation; "
                                  "solve it with a learned operator")

    def solution_from_vector(self, x: Any) -> Any:
        """A solver's flat answer presented as the problem's solution on its grid."""
        raise InvalidProblemError(f"{type(self).__name__} has no linear discretisation")

    def vector_from_solution(self, u: Any) -> np.ndarray:
        """The inverse of :meth:`solution_from_vector`: the unknowns of a grid solution."""
        raise InvalidProblemError(f"{type(self).__name__} has no linear discretisation")
