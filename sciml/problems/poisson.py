"""Poisson-type problems ``-div(k grad u) = f`` on structured 1D/2D/3D grids."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import InvalidProblemError
from ..kernels.stencil import StencilOperator, normalize_bc
from ..memory import poisson_bytes, require_memory
from .linear import LinearProblem
from .protocol import PDEProblem

RHS_KINDS = ("random", "ones", "gaussians")


def gaussian_sources(shape: Sequence[int], rng: np.random.Generator,
                     count: int = 8) -> np.ndarray:
    """A smooth source: a sum of ``count`` Gaussian bumps with random centres, widths and signs.

    Coordinates are cell centres in the unit cube; widths are between 0.05 and 0.15.
    """
    axes = [(np.arange(n) + 1.0) / (n + 1.0) for n in shape]
    grids = np.meshgrid(*axes, indexing="ij")
    f = np.zeros(tuple(shape))
    for _ in range(count):
        centre = rng.uniform(0.15, 0.85, size=len(shape))
        width = rng.uniform(0.05, 0.15)
        sign = rng.choice([-1.0, 1.0])
        r2 = sum((g - c) ** 2 for g, c in zip(grids, centre))
        f += sign * np.exp(-r2 / (2.0 * width**2))
    return f


class Poisson(PDEProblem):
    """``-div(k grad u) = f`` on the unit box, Dirichlet or Neumann sides, optional obstacles.

    The unknowns sit on a ``shape`` grid of interior points with spacing
    ``h = 1 / (max(shape) + 1)``; the discretisation is the 3/5/7-point stencil scaled by
    ``h**2`` (see :class:`~sciml.kernels.stencil.StencilOperator`), so ``b = h**2 f``.

    Parameters
    ----------
    shape
        Interior grid points per axis, 1 to 3 axes (an int means 1D).
    rhs
        ``"random"`` (white noise ``b ~ N(0, 1)``, the usual solver test), ``"ones"``
        (``f = 1``), ``"gaussians"`` (a smooth sum of Gaussian sources) or an array of
        ``f`` values on the grid.
    coefficient
        Optional positive cell coefficient ``k`` on the grid (harmonic-mean face values).
    mask
        Optional boolean array on the grid, True on solid cells: zero-flux walls on every
        fluid-solid face; a solid cell's unknown is decoupled and its ``b`` (and ``u``) is 0.
    bc
        ``"dirichlet"`` (zero ``u``, default) or ``"neumann"`` (zero flux), one for every side
        or per side ``(axis 0 low, axis 0 high, axis 1 low, ...)``. With no Dirichlet side the
        system is singular (constants on the fluid are its null space); ``b`` is then made
        consistent by removing its mean over the fluid cells, and ``u`` is defined up to a
        constant.
    seed
        Seed of the random right-hand sides.
    dtype
        float64 (default) or float32.

    Examples
    --------
    >>> import sciml
    >>> prob = sciml.problems.Poisson(shape=(16, 16), rhs="ones")
    >>> sol = sciml.solve(prob, method="cg", rtol=1e-8)
    >>> bool(sol.converged), sol.x.shape
    (True, (16, 16))
    """

    name = "poisson"
    input_fields = ("f",)
    generator = "poisson"
    has_linear_form = True

    def __init__(self, shape: int | Sequence[int], rhs: str | Any = "random",
                 coefficient: Any = None, seed: int | None = 0,
                 dtype: Any = np.float64, *, mask: Any = None,
                 bc: str | Sequence[str] = "dirichlet") -> None:
        shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        if not 1 <= len(shape) <= 3 or min(shape) < 1:
            raise InvalidProblemError(f"shape must have 1-3 positive extents, got {shape}")
        require_memory(poisson_bytes(shape, True, dtype), f"a Poisson problem on {shape}")
        self.shape = shape
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.h = 1.0 / (max(shape) + 1.0)
        self.coefficient = None if coefficient is None else np.asarray(coefficient, self.dtype)
        self.mask = None if mask is None else np.asarray(mask)
        if self.mask is not None and (self.mask.shape != shape or self.mask.dtype != bool):
            raise InvalidProblemError(f"mask must be a boolean array of shape {shape}, got "
                                      f"{self.mask.dtype} of shape {self.mask.shape}")
        self.bc = normalize_bc(bc, len(shape))
        self.rhs_kind = rhs if isinstance(rhs, str) else "array"
        b = self._make_rhs(rhs)
        if self.mask is not None:
            b[self.mask] = 0.0
        if "dirichlet" not in self.bc:
            fluid = np.ones(shape, bool) if self.mask is None else ~self.mask
            b[fluid] -= b[fluid].mean()
        self.b = b.astype(self.dtype)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """The grid of unknowns (same as ``shape``)."""
        return self.shape

    def _make_rhs(self, rhs: str | Any) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        if isinstance(rhs, str):
            if rhs == "random":
                return rng.standard_normal(self.shape)
            if rhs == "ones":
                return np.full(self.shape, self.h**2)
            if rhs == "gaussians":
                return self.h**2 * gaussian_sources(self.shape, rng)
            raise InvalidProblemError(
                f"unknown rhs {rhs!r}; expected one of {RHS_KINDS} or an array of shape "
                f"{self.shape}")
        f = np.array(rhs, dtype=float)
        if f.shape != self.shape:
            raise InvalidProblemError(f"rhs has shape {f.shape}, expected {self.shape}")
        return self.h**2 * f

    def operator_input(self) -> np.ndarray:
        """The source ``f = b / h**2`` on the grid (the data sets' field ``"f"``)."""
        return self.b.reshape(self.shape) / self.h**2

    def operator(self) -> StencilOperator:
        """The matrix-free operator of this problem."""
        return StencilOperator(self.shape, self.coefficient, self.dtype, mask=self.mask,
                               bc=self.bc)

    def to_linear_problem(self, matrix_free: bool = False) -> LinearProblem:
        """The discrete system: CSR matrix by default, stencil operator if ``matrix_free``."""
        if not matrix_free:
            require_memory(poisson_bytes(self.shape, False, self.dtype),
                           f"the CSR matrix of a Poisson problem on {self.shape}")
        op = self.operator()
        A = op if matrix_free else op.to_csr()
        return LinearProblem(A, self.b.reshape(-1), grid_shape=self.shape)

    def solution_from_vector(self, x: Any) -> Any:
        """Present a flat solution vector as ``u`` on the grid."""
        return x.reshape(self.shape)

    def vector_from_solution(self, u: Any) -> Any:
        """``u`` on the grid -> the flat vector of unknowns."""
        if tuple(u.shape) != self.shape:
            raise InvalidProblemError(f"u has shape {tuple(u.shape)}, expected {self.shape}")
        return u.reshape(-1)

    def __repr__(self) -> str:
        kind = "constant" if self.coefficient is None else "variable"
        extra = "" if self.mask is None else f", {int(self.mask.sum())} solid cells"
        return (f"Poisson(shape={self.shape}, rhs={self.rhs_kind!r}, {kind} coefficient, "
                f"bc={self.bc}{extra})")
