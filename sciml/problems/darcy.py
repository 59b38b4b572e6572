"""Darcy flow ``-div(a grad u) = f`` on the unit square with ``u = 0`` on the boundary.

The reference discretisation is the one of the FNO data sets (Li et al., ICLR 2021): an
``s x s`` grid of vertices including the boundary, spacing ``h = 1 / (s - 1)``, the 5-point
finite-difference stencil with the coefficient on a face taken as the arithmetic mean of its
two vertex values. :func:`assemble_darcy` builds that system; :class:`DarcyFlow` and the
Darcy generator (:mod:`sciml.data_gen.darcy`) share it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import InvalidProblemError
from .linear import LinearProblem
from .protocol import PDEProblem


def _check_coefficient(a: Any) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 3:
        raise InvalidProblemError(
            f"the Darcy coefficient a must be an (s, s) array of vertex values with s >= 3 "
            f"(boundary included); got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InvalidProblemError("the Darcy coefficient a must be finite and strictly "
                                  "positive")
    return a


def _check_forcing(f: Any, shape: tuple[int, int]) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if f.ndim == 0:
        f = np.full(shape, float(f))
    if f.shape != shape:
        raise InvalidProblemError(f"f must be a number or an array of shape {shape}, "
                                  f"got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise InvalidProblemError("f contains NaN or Inf entries")
    return f


def assemble_darcy(a: Any, f: Any = 1.0) -> tuple[sp.csr_matrix, np.ndarray]:
    """The 5-point system ``A u = b`` of ``-div(a grad u) = f``, zero Dirichlet boundary.

    Parameters
    ----------
    a
        Positive coefficient on the ``s x s`` vertices of the unit square, boundary included.
    f
        Forcing: a number or an ``s x s`` array of vertex values.

    Returns
    -------
    A, b
        ``A`` is the SPD CSR matrix of ``-div(a grad .)`` on the ``(s - 2)**2`` interior
        vertices (row-major, entries face coefficients over ``h**2``); ``b`` is ``f`` there.

    Notes
    -----
    Face coefficients are arithmetic means of the two adjacent vertex values, as in the FNO
    Darcy data (Li et al., "Fourier Neural Operator for Parametric Partial Differential
    Equations", ICLR 2021). Boundary values are zero, so boundary neighbours only add their
    face coefficient to the diagonal.
    """
    a = _check_coefficient(a)
    s = a.shape[0]
    f = _check_forcing(f, (s, s))
    h = 1.0 / (s - 1)
    m = s - 2
    ax = 0.5 * (a[1:, 1:-1] + a[:-1, 1:-1])   # faces between rows i and i+1, (s-1, m)
    ay = 0.5 * (a[1:-1, 1:] + a[1:-1, :-1])   # faces between columns j and j+1, (m, s-1)
    north, south = ax[:-1], ax[1:]            # faces above / below each interior vertex
    west, east = ay[:, :-1], ay[:, 1:]
    diag = (north + south + west + east).ravel()
    idx = np.arange(m * m).reshape(m, m)
    rows = [idx.ravel(), idx[1:].ravel(), idx[:-1].ravel(), idx[:, 1:].ravel(),
            idx[:, :-1].ravel()]
    cols = [idx.ravel(), idx[:-1].ravel(), idx[1:].ravel(), idx[:, :-1].ravel(),
            idx[:, 1:].ravel()]
    vals = [diag, -north[1:].ravel(), -north[1:].ravel(), -west[:, 1:].ravel(),
            -west[:, 1:].ravel()]
    A = sp.csr_matrix((np.concatenate(vals) / h**2,
                       (np.concatenate(rows), np.concatenate(cols))), shape=(m * m, m * m))
    return A, f[1:-1, 1:-1].ravel()


class DarcyFlow(PDEProblem):
    """``-div(a grad u) = f`` on ``(0, 1)^2``, ``u = 0`` on the boundary (the FNO Darcy problem).

    Parameters
    ----------
    a
        Positive coefficient on an ``s x s`` vertex grid, boundary included (as in the data
        sets: ``a`` of shape ``(samples, s, s)``, one sample per problem).
    f
        Forcing, a number (default 1, as in the FNO data) or an ``s x s`` array.

    Notes
    -----
    Solutions are ``u`` on the same ``s x s`` grid, boundary (zeros) included. Classical
    methods solve :meth:`to_linear_problem` (see :func:`assemble_darcy`); operator-learning
    methods (``"mgno"``, ``"fno"``) map ``a`` to ``u`` directly.

    Examples
    --------
    >>> import numpy as np, sciml
    >>> prob = sciml.problems.DarcyFlow(a=np.ones((33, 33)))
    >>> sol = sciml.solve(prob, method="direct")
    >>> sol.x.shape, float(sol.x[16, 16]) > 0
    ((33, 33), True)
    """

    name = "darcy"
    zero_boundary = True
    input_fields = ("a",)
    generator = "darcy"
    default_parameters = {"f": 1.0}
    has_linear_form = True

    def __init__(self, a: Any, f: Any = 1.0) -> None:
        self.a = _check_coefficient(a)
        forcing = _check_forcing(f, self.a.shape)
        #: a float for a constant forcing, else the ``s x s`` array
        self.f = float(forcing[0, 0]) if np.ndim(f) == 0 else forcing

    @property
    def grid_shape(self) -> tuple[int, int]:
        """The ``s x s`` vertex grid of ``a`` and ``u`` (boundary included)."""
        return self.a.shape

    def operator_input(self) -> np.ndarray:
        """The coefficient ``a``, the input of a learned Darcy operator."""
        return self.a

    def to_linear_problem(self, matrix_free: bool = False) -> LinearProblem:
        """The finite-difference system on the interior vertices (always a CSR matrix)."""
        A, b = assemble_darcy(self.a, self.f)
        m = self.a.shape[0] - 2
        return LinearProblem(A, b, grid_shape=(m, m))

    def solution_from_vector(self, x: Any) -> Any:
        """Interior values (flat) -> ``u`` on the full grid with its zero boundary."""
        x = np.asarray(x)
        m = self.a.shape[0] - 2
        u = np.zeros(self.a.shape, dtype=x.dtype)
        u[1:-1, 1:-1] = x.reshape(m, m)
        return u

    def vector_from_solution(self, u: Any) -> np.ndarray:
        """``u`` on the full grid -> the flat vector of interior values (the unknowns)."""
        u = np.asarray(u, dtype=np.float64)
        if u.shape != self.a.shape:
            raise InvalidProblemError(f"u has shape {u.shape}, expected {self.a.shape}")
        return u[1:-1, 1:-1].ravel()

    def __repr__(self) -> str:
        forcing = f"f={float(self.f)}" if np.ndim(self.f) == 0 else "f=array"
        return f"DarcyFlow(grid={self.grid_shape}, {forcing})"
