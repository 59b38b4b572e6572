"""Each process's share of a linear system: its rows, assembled without the global matrix.

The rows are split in contiguous blocks. A system on a grid is split along its first axis
in whole planes, so a process's share of ``x`` is a slab of the grid; a stencil operator's
rows are assembled from the slab and one ghost plane on each side, never from the global
matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from sciml.backend import to_numpy
from sciml.errors import InvalidOptionError
from sciml.kernels.stencil import StencilOperator
from sciml.problems.linear import LinearProblem


@dataclass(frozen=True)
class Share:
    """The rows ``start:stop`` one process owns, and their grid shape (None: no grid)."""

    start: int
    stop: int
    shape: tuple[int, ...] | None

    @property
    def size(self) -> int:
        """How many rows."""
        return self.stop - self.start


def share_of(lp: LinearProblem, rank: int, ranks: int) -> Share:
    """Process ``rank``'s rows of ``lp`` among ``ranks``: whole planes of the grid's first
    axis when ``lp`` has a grid, else an even split of the rows."""
    grid = lp.grid_shape
    if grid is None:
        return Share(lp.n * rank // ranks, lp.n * (rank + 1) // ranks, None)
    planes, plane = grid[0], int(np.prod(grid[1:], dtype=np.int64))
    first, last = planes * rank // ranks, planes * (rank + 1) // ranks
    return Share(first * plane, last * plane, (last - first, *grid[1:]))


def local_rows(lp: LinearProblem, share: Share) -> sp.csr_matrix:
    """Rows ``share.start:share.stop`` of ``lp.A`` as CSR with global column indices.

    A stencil operator is assembled for the share alone (:func:`stencil_rows`); a sparse
    or dense matrix, which the caller already holds whole, is sliced.

    Raises
    ------
    InvalidOptionError
        ``lp.A`` is a ``LinearOperator``: PETSc's preconditioners need the entries.
    """
    A = lp.A
    if isinstance(A, StencilOperator):
        return stencil_rows(A, share)
    if sp.issparse(A):
        return sp.csr_matrix(A[share.start:share.stop])
    if isinstance(A, np.ndarray) or hasattr(A, "__cuda_array_interface__"):
        return sp.csr_matrix(to_numpy(A[share.start:share.stop]))
    raise InvalidOptionError("petsc needs the matrix entries: pass a sparse or dense matrix "
                             "or a StencilOperator, not a LinearOperator")


def stencil_rows(op: StencilOperator, share: Share) -> sp.csr_matrix:
    """The share's rows of a stencil operator, from its slab and one ghost plane per side.

    The slab with its ghost planes is itself a stencil operator; its rows on the slab equal
    the global operator's (every neighbour of a slab cell is in the extended slab, and face
    coefficients depend only on the two cells of the face), so they are taken from its CSR
    form with the columns shifted to global numbering. The boundary kind given to a cut
    side only changes the ghost planes' own rows, which are dropped.
    """
    n = op.shape[0]
    plane = op.strides[0]
    first, last = share.start // plane, share.stop // plane
    if first == last:
        return sp.csr_matrix((0, n), dtype=op.dtype)
    lo, hi = max(first - 1, 0), min(last + 1, op.grid_shape[0])
    mask = None if op.mask is None else to_numpy(op.mask[lo:hi])
    if mask is not None and mask[first - lo:last - lo].all():  # a slab of solid cells only
        return sp.csr_matrix(sp.eye(share.size, n, k=share.start, dtype=op.dtype))
    bc = list(op.bc)
    bc[0] = bc[0] if lo == 0 else "dirichlet"
    bc[1] = bc[1] if hi == op.grid_shape[0] else "dirichlet"
    coefficient = None if op.coefficient is None else to_numpy(op.coefficient[lo:hi])
    slab = StencilOperator((hi - lo, *op.grid_shape[1:]), coefficient, op.dtype, mask=mask,
                           bc=bc)
    rows = slab.to_csr()[(first - lo) * plane:(last - lo) * plane]
    return sp.csr_matrix((rows.data, rows.indices + lo * plane, rows.indptr),
                         shape=(share.size, n))
