"""The linear system ``A x = b`` as a problem every linear solver accepts."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ..backend import array_namespace, is_cupy_sparse
from ..errors import InvalidProblemError, UnsupportedTypeError
from ..kernels.stencil import StencilOperator

_ACCEPTED = ("a SciPy sparse matrix or array, a dense 2-D array, a "
             "scipy.sparse.linalg.LinearOperator or a sciml StencilOperator")


def _check_dtype(dtype: np.dtype, what: str) -> None:
    if dtype.kind not in "biuf":
        raise UnsupportedTypeError(
            f"{what} has dtype {dtype}; sciml solves real systems (float32 or float64, "
            "integers are converted to float64)")


def _as_float(dtype: np.dtype) -> np.dtype:
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


class LinearProblem:
    """A square linear system ``A x = b`` with an optional initial guess and grid shape.

    Parameters
    ----------
    A
        The matrix: a SciPy sparse matrix or array, a dense 2-D NumPy/CuPy array, a
        ``scipy.sparse.linalg.LinearOperator`` or a :class:`~sciml.kernels.stencil.StencilOperator`.
    b
        Right-hand side with ``A.shape[0]`` entries (any shape with that many entries).
    x0
        Optional initial guess, same size as ``b``; zero when omitted.
    grid_shape
        Optional structured-grid shape of the unknowns (taken from a StencilOperator), needed
        by grid-based methods such as ``deep_cd``.

    Raises
    ------
    InvalidProblemError
        Non-square or empty ``A``, NaN/Inf in ``A`` or ``b``, or ``b``/``x0`` of the wrong size.
    UnsupportedTypeError
        ``A`` of an unsupported type, or a complex/object dtype.
    """

    def __init__(self, A: Any, b: Any, x0: Any = None,
                 grid_shape: Sequence[int] | None = None) -> None:
        self.A = self._validate_matrix(A)
        n = self.A.shape[0]
        self.b = self._validate_vector(b, n, "b")
        self.x0 = None if x0 is None else self._validate_vector(x0, n, "x0")
        if grid_shape is None and isinstance(self.A, StencilOperator):
            grid_shape = self.A.grid_shape
        if grid_shape is not None:
            grid_shape = tuple(int(s) for s in grid_shape)
            if int(np.prod(grid_shape)) != n:
                raise InvalidProblemError(
                    f"grid_shape {grid_shape} has {int(np.prod(grid_shape))} points, "
                    f"but A has {n} rows")
        self.grid_shape = grid_shape

    @property
    def n(self) -> int:
        """Number of unknowns."""
        return self.A.shape[0]

    @property
    def dtype(self) -> np.dtype:
        """Floating dtype of the system."""
        return np.dtype(self.b.dtype)

    def matvec(self, x: Any) -> Any:
        """``A @ x`` for a flat vector, whatever the type of ``A``."""
        return self.A @ x

    def residual_norm(self, x: Any) -> float:
        """``||b - A x||_2``, recomputed from scratch."""
        return self.norm(self.b - self.matvec(x))

    def norm(self, v: Any) -> float:
        """The 2-norm of a vector of this system (a system split across processes, such as
        the PETSc method's share of one, reduces it over them)."""
        return float(array_namespace(v).linalg.norm(v))

    def all_finite(self, v: Any) -> bool:
        """Whether every entry of a vector of this system is finite (on every process)."""
        xp = array_namespace(v)
        return bool(xp.all(xp.isfinite(v)))

    def with_vectors(self, b: Any = None, x0: Any = None) -> "LinearProblem":
        """The same operator with another right-hand side and/or initial guess.

        ``b`` (None: this one's) and ``x0`` (None: this one's) are validated and moved to the
        array namespace of this system's ``b``; the operator is shared, not checked again.
        """
        xp = array_namespace(self.b)
        other = object.__new__(LinearProblem)
        other.A, other.grid_shape = self.A, self.grid_shape
        other.b = self.b if b is None else xp.asarray(
            self._validate_vector(b, self.n, "b"), dtype=self.b.dtype)
        other.x0 = self.x0 if x0 is None else xp.asarray(
            self._validate_vector(x0, self.n, "x0"), dtype=self.b.dtype)
        return other

    def to_linear_problem(self, **_: Any) -> "LinearProblem":
        """A linear problem is its own discretisation."""
        return self

    def solution_from_vector(self, x: Any) -> Any:
        """Shape a solver's flat answer as this problem presents solutions (a flat vector)."""
        return x

    @staticmethod
    def _validate_matrix(A: Any) -> Any:
        if isinstance(A, StencilOperator):
            return A
        if sp.issparse(A) or is_cupy_sparse(A):
            _check_dtype(np.dtype(A.dtype), "A")
            A = A.tocsr()
            if A.dtype != _as_float(np.dtype(A.dtype)):
                A = A.astype(np.float64)
            data = A.data
        elif isinstance(A, LinearOperator):
            _check_dtype(np.dtype(A.dtype), "A")
            data = None
        elif hasattr(A, "shape") and hasattr(A, "dtype") and hasattr(A, "ndim"):
            xp = array_namespace(A)
            if A.ndim != 2:
                raise InvalidProblemError(f"A must be 2-D, got an array with shape {A.shape}")
            _check_dtype(np.dtype(A.dtype), "A")
            A = xp.asarray(A, dtype=_as_float(np.dtype(A.dtype)))
            data = A
        else:
            raise UnsupportedTypeError(f"A must be {_ACCEPTED}; got {type(A).__name__}")
        rows, cols = A.shape
        if rows != cols:
            raise InvalidProblemError(f"expected a square matrix, A has shape {A.shape}")
        if rows == 0:
            raise InvalidProblemError("the system is empty (A has shape (0, 0))")
        if data is not None:
            xp = array_namespace(data)
            if not bool(xp.all(xp.isfinite(data))):
                raise InvalidProblemError("A contains NaN or Inf entries")
        return A

    @staticmethod
    def _validate_vector(v: Any, n: int, name: str) -> Any:
        if sp.issparse(v):
            v = v.toarray()
        xp = array_namespace(v)
        v = xp.asarray(v)
        _check_dtype(np.dtype(v.dtype), name)
        v = v.astype(_as_float(np.dtype(v.dtype)), copy=False).reshape(-1)
        if v.size != n:
            raise InvalidProblemError(f"{name} has {v.size} entries, but A has {n} rows")
        if not bool(xp.all(xp.isfinite(v))):
            raise InvalidProblemError(f"{name} contains NaN or Inf entries")
        return v

    def __repr__(self) -> str:
        return (f"LinearProblem(n={self.n}, A={type(self.A).__name__}, dtype={self.dtype}, "
                f"grid_shape={self.grid_shape})")
