"""Darcy flow ``-div(a grad u) = f`` on the unit square, ``u = 0`` on the boundary.

:func:`solve` maps vertex values of the coefficient ``a`` on an ``s x s`` grid (boundary
included, spacing ``h = 1/(s-1)``) to the solution on the same grid with the 5-point finite
difference scheme whose face coefficient is the mean of its two vertex values (FNO's
``solve_gwf.m``); the scheme is second order for smooth ``a``. The linear system is solved
with :func:`sciml.solve` (sparse direct by default).

Coefficient families (:data:`FAMILIES`), each a thresholded Gaussian random field
``g ~ N(0, tau^(2 alpha - 2) (-Laplacian + tau^2)^(-alpha))`` with Neumann modes
(:mod:`sciml.data_gen.grf`), ``a = high`` where ``g >= 0`` and ``low`` elsewhere:

==========  =====  ===  ========  ===  ==========  ==========  =========================
family      alpha  tau  high/low  f    resolution  downsample  source
==========  =====  ===  ========  ===  ==========  ==========  =========================
smooth      2      3    12 / 3    1    421         1           FNO (Li et al. 2021)
rough       2      5    12 / 2    1    512         1           MgNO's rough Darcy
two-phase   2      3    10 / 5    10   113         4           DGNO (29 x 29 nodes)
==========  =====  ===  ========  ===  ==========  ==========  =========================

Samples are solved at ``resolution`` and stored every ``downsample``-th vertex (FNO stores
421 and trains at stride 5, i.e. 85); the two-phase family is solved on the 4x refined
113-point grid and sampled back to DGNO's 29 x 29 nodes.

Notes
-----
FNO's MATLAB draws the field on cell centres and moves the thresholded coefficient to the
vertex grid, and the solution back, with spline interpolation. Here the field's DCT grid
*is* the vertex grid, so the stored coefficient takes exactly the two values and no
interpolation overshoot enters; the field is the same up to a half-cell stretch of the
coordinates. The GRF parameters of the two-phase family are not stated in the DGNO paper;
FNO's (alpha 2, tau 3) are the default.

References
----------
Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
ICLR 2021.
J. He, X. Liu, J. Xu, "MgNO: Efficient Parameterization of Linear Operators via Multigrid",
ICLR 2024.
Y. Zang, P.-S. Koutsourelakis, "DGNO: a novel physics-aware neural operator ...",
arXiv:2502.06250, 2025.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

import sciml
from sciml.errors import InvalidProblemError
from sciml.memory import darcy_datagen_bytes, require_memory
from sciml.problems.darcy import assemble_darcy

from . import grf
from .runner import Recipe, finite, require, run


@dataclass(frozen=True)
class Family:
    """Parameters of a coefficient family (see the module table)."""

    alpha: float
    tau: float
    high: float
    low: float
    f: float
    resolution: int
    downsample: int


#: relative residual an iterative solve of a data sample must reach
ITERATIVE_RTOL = 1e-10

FAMILIES: dict[str, Family] = {
    "smooth": Family(alpha=2.0, tau=3.0, high=12.0, low=3.0, f=1.0, resolution=421,
                     downsample=1),
    "rough": Family(alpha=2.0, tau=5.0, high=12.0, low=2.0, f=1.0, resolution=512,
                    downsample=1),
    "two-phase": Family(alpha=2.0, tau=3.0, high=10.0, low=5.0, f=10.0, resolution=113,
                        downsample=4),
}


def operator(a: np.ndarray) -> sp.csr_matrix:
    """The matrix of ``-div(a grad u)`` at the ``(s-2)^2`` interior vertices.

    Row-major over the interior, scaled by ``1/h^2`` with ``h = 1/(s-1)``; the face
    coefficient between two vertices is the mean of their values. Symmetric positive
    definite for positive ``a``. The assembly is the core's
    :func:`sciml.problems.darcy.assemble_darcy`, shared with :class:`sciml.problems.DarcyFlow`.
    """
    return assemble_darcy(a)[0]


def solve(a: np.ndarray, f: float | np.ndarray = 1.0, *, method: str = "direct",
          **options: Any) -> np.ndarray:
    """Solve ``-div(a grad u) = f``, ``u = 0`` on the boundary, on the vertex grid of ``a``.

    Parameters
    ----------
    a
        ``(s, s)`` positive coefficient at the vertices, boundary included.
    f
        Source: a number or an ``(s, s)`` array of vertex values (boundary values unused).
    method
        A :func:`sciml.solve` method with access to the matrix entries: ``"direct"`` (sparse
        LU) or ``"amg"`` (pyamg AMG-CG; twice as fast as ``"direct"`` at 421^2).
    **options
        Passed to :func:`sciml.solve`; iterative methods get ``rtol`` =
        :data:`ITERATIVE_RTOL` unless given (far below float32 rounding).

    Returns
    -------
    numpy.ndarray
        ``(s, s)`` solution with zero boundary values.

    Raises
    ------
    InvalidProblemError
        A malformed ``a`` or ``f``.
    RuntimeError
        The linear solver did not converge.

    Examples
    --------
    >>> u = solve(np.ones((33, 33)))
    >>> u.shape, float(u.max()) > 0.07
    ((33, 33), True)
    """
    A = operator(a)
    s = np.shape(a)[0]
    f = np.broadcast_to(np.asarray(f, dtype=float), (s, s)) if np.ndim(f) == 0 else \
        np.asarray(f, dtype=float)
    if f.shape != (s, s):
        raise InvalidProblemError(f"f must be a number or an array of shape {(s, s)}, "
                                  f"got shape {f.shape}")
    if method != "direct":
        options.setdefault("rtol", ITERATIVE_RTOL)
    solution = sciml.solve(sciml.LinearProblem(A, f[1:-1, 1:-1].ravel()), method=method,
                           **options)
    if not solution.converged:
        raise RuntimeError(f"Darcy solve with {method!r} failed: {solution.info['reason']}")
    u = np.zeros((s, s))
    u[1:-1, 1:-1] = solution.x.reshape(s - 2, s - 2)
    return u


def sample_coefficient(rng: np.random.Generator, family: Family) -> np.ndarray:
    """One thresholded-GRF coefficient of ``family`` on its ``resolution`` grid."""
    s = family.resolution
    g = grf.sample((s, s), rng, alpha=family.alpha, tau=family.tau,
                   sigma=family.tau ** (family.alpha - 1), bc="neumann")
    return np.where(g >= 0, family.high, family.low)


def _sample(rng: np.random.Generator, family: Family, method: str) -> dict[str, np.ndarray]:
    a = sample_coefficient(rng, family)
    u = solve(a, family.f, method=method)
    r = family.downsample
    return {"a": a[::r, ::r], "u": u[::r, ::r]}


def generate(out: str | os.PathLike, samples: int, *, family: str = "smooth",
             resolution: int | None = None, downsample: int | None = None,
             alpha: float | None = None, tau: float | None = None, high: float | None = None,
             low: float | None = None, f: float | None = None, method: str = "direct",
             **run_options: Any) -> Path:
    """Write a Darcy data set ``a -> u`` of a coefficient family to ``out``.

    Parameters
    ----------
    out
        HDF5 file to create (fields ``a`` and ``u``, coordinates ``x`` and ``y``).
    samples
        Number of samples.
    family
        ``"smooth"``, ``"rough"`` or ``"two-phase"``; the other arguments override its
        defaults (see :data:`FAMILIES`).
    method
        Linear solver (``"direct"`` or ``"amg"``).
    **run_options
        ``seed``, ``workers``, ``chunk_size``, ``test_samples``, ``overwrite``, ``progress``
        and ``dask`` (a Dask cluster) of :func:`sciml.data_gen.runner.run`.

    Returns
    -------
    Path
        ``out``.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown Darcy family {family!r}; known: {sorted(FAMILIES)}")
    overrides = {"resolution": resolution, "downsample": downsample, "alpha": alpha,
                 "tau": tau, "high": high, "low": low, "f": f}
    fam = replace(FAMILIES[family], **{k: v for k, v in overrides.items() if v is not None})
    require("darcy", {
        f"resolution >= 3 (got {fam.resolution})": fam.resolution >= 3,
        f"downsample >= 1 (got {fam.downsample})": fam.downsample >= 1,
        f"alpha > 0 and tau >= 0 (got {fam.alpha}, {fam.tau})":
            finite(fam.alpha, fam.tau) and fam.alpha > 0 and fam.tau >= 0,
        f"high > 0 and low > 0 (got {fam.high}, {fam.low})":
            finite(fam.high, fam.low) and fam.high > 0 and fam.low > 0,
        f"a finite f (got {fam.f})": finite(fam.f),
        f"method 'direct' or 'amg' (got {method!r})": method in ("direct", "amg")})
    require_memory(darcy_datagen_bytes(fam.resolution, method, run_options.get("workers", 1)),
                   f"Darcy data at resolution {fam.resolution} with {method!r}")
    x = np.linspace(0.0, 1.0, fam.resolution)[::fam.downsample]
    recipe = Recipe(generator="darcy",
                    parameters={"family": family, **asdict(fam), "method": method,
                                "equation": "-div(a grad u) = f on (0,1)^2, u = 0 on the "
                                            "boundary; a = high where g >= 0 else low"},
                    fields={"a": (x.size, x.size), "u": (x.size, x.size)},
                    coords={"x": x, "y": x},
                    sample=partial(_sample, family=fam, method=method))
    return run(out, recipe, samples, **run_options)
