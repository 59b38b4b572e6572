"""Right-hand sides (and solutions) for the core's :class:`sciml.problems.Poisson`.

A sample is a source ``f`` on the problem's grid of interior points, ready for
``Poisson(shape, rhs=f)`` (whose system right-hand side is ``b = h^2 f``), and optionally the
solution ``u`` of that problem from ``sciml.solve(..., method="amg")``. Source kinds:

``random``
    White noise ``b ~ N(0, 1)``, the core's ``rhs="random"`` (the usual solver test).
``gaussians``
    A smooth sum of Gaussian bumps (:func:`sciml.problems.poisson.gaussian_sources`).
``divergence``
    ``f = div v`` of a random vector field whose components are independent Neumann
    Gaussian random fields (:mod:`sciml.data_gen.grf`), by central differences.
``spectral``
    Noise shaped in the eigenbasis of the discrete Laplacian: sine-transform coefficients
    ``xi_k / lambda_k^power`` with the stencil's eigenvalues ``lambda_k``, normalised to
    ``||b|| = 1``. ``power = 0`` is white noise, larger powers weigh the smooth,
    low-eigenvalue modes that Krylov methods resolve last (the training vectors of the
    learned-preconditioner pilot in REFERENCES.md, after DCDM, Kaneda et al. 2023).

References
----------
A. Kaneda et al., "A Deep Conjugate Direction Method for Iteratively Solving Linear
Systems", ICML 2023.
"""

from __future__ import annotations

import math
import os
from functools import partial
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.fft

import sciml
from sciml.problems.poisson import gaussian_sources

from . import grf
from .runner import Recipe, finite, require, run

KINDS = ("random", "gaussians", "divergence", "spectral")


def laplacian_eigenvalues(shape: Sequence[int]) -> np.ndarray:
    """Eigenvalues of the core's ``h^2``-scaled Dirichlet stencil, indexed like ``dstn``.

    ``lambda_k = sum_i 4 sin^2(pi k_i / (2 (n_i + 1)))`` for ``k_i = 1..n_i``.
    """
    axes = [4 * np.sin(math.pi * np.arange(1, n + 1) / (2 * (n + 1))) ** 2 for n in shape]
    return sum(np.meshgrid(*axes, indexing="ij", sparse=True))


def source(shape: Sequence[int], kind: str, rng: np.random.Generator, *, count: int = 8,
           alpha: float = 2.0, tau: float = 3.0, power: float = 1.0) -> np.ndarray:
    """One source ``f`` of ``kind`` on the interior grid ``shape`` of a core Poisson problem.

    Parameters
    ----------
    shape
        Interior points per axis (as ``Poisson(shape=...)``); spacing
        ``h = 1 / (max(shape) + 1)``.
    kind
        One of :data:`KINDS` (see the module notes).
    rng
        Random generator.
    count
        Number of bumps for ``"gaussians"``.
    alpha, tau
        Field parameters of the ``"divergence"`` vector field.
    power
        Spectral decay of ``"spectral"``.
    """
    shape = tuple(int(n) for n in shape)
    h = 1.0 / (max(shape) + 1.0)
    if kind == "random":
        return rng.standard_normal(shape) / h**2
    if kind == "gaussians":
        return gaussian_sources(shape, rng, count=count)
    if kind == "divergence":
        components = grf.sample(shape, rng, alpha=alpha, tau=tau,
                                sigma=tau ** (alpha - 1), n=len(shape))
        return sum(np.gradient(components[i], h, axis=i) for i in range(len(shape)))
    if kind == "spectral":
        coefficients = rng.standard_normal(shape) / laplacian_eigenvalues(shape) ** power
        b = scipy.fft.idstn(coefficients, type=1, norm="ortho")
        return b / np.linalg.norm(b) / h**2
    raise ValueError(f"unknown source kind {kind!r}; known: {KINDS}")


def _sample(rng: np.random.Generator, shape: tuple[int, ...], kind: str, with_solution: bool,
            rtol: float, **source_options: Any) -> dict[str, np.ndarray]:
    f = source(shape, kind, rng, **source_options)
    if not with_solution:
        return {"f": f}
    solution = sciml.solve(sciml.problems.Poisson(shape, rhs=f), method="amg", rtol=rtol)
    if not solution.converged:
        raise RuntimeError(f"Poisson solve failed: {solution.info['reason']}")
    return {"f": f, "u": solution.x}


def generate(out: str | os.PathLike, samples: int, *, shape: Sequence[int] = (64, 64),
             kind: str = "gaussians", solve: bool = True, rtol: float = 1e-10, count: int = 8,
             alpha: float = 2.0, tau: float = 3.0, power: float = 1.0,
             **run_options: Any) -> Path:
    """Write Poisson sources ``f`` (and solutions ``u`` if ``solve``) to ``out``.

    Parameters
    ----------
    out
        HDF5 file to create; fields ``f`` (and ``u``), coordinates ``x``, ``y``, ``z`` (one
        per axis, interior points ``(j + 1) h``).
    samples
        Number of samples.
    shape
        Interior grid (1 to 3 axes).
    kind, count, alpha, tau, power
        Source kind and its options (see :func:`source`).
    solve, rtol
        Also store ``u`` solved by AMG-PCG to relative residual ``rtol``.
    **run_options
        ``seed``, ``workers``, ``chunk_size``, ``test_samples``, ``overwrite``, ``progress``
        and ``dask`` (a Dask cluster) of :func:`sciml.data_gen.runner.run`.
    """
    shape = tuple(int(n) for n in shape)
    require("poisson", {
        f"a shape of 1-3 positive extents (got {shape})":
            1 <= len(shape) <= 3 and min(shape) >= 1,
        f"kind one of {KINDS} (got {kind!r})": kind in KINDS,
        f"0 < rtol < 1 (got {rtol})": not solve or (finite(rtol) and 0 < rtol < 1),
        f"count >= 1 (got {count})": kind != "gaussians" or count >= 1,
        f"alpha > 0 and tau >= 0 (got {alpha}, {tau})":
            kind != "divergence" or (finite(alpha, tau) and alpha > 0 and tau >= 0),
        f"a finite power (got {power})": finite(power)})
    options = {"count": count, "alpha": alpha, "tau": tau, "power": power}
    h = 1.0 / (max(shape) + 1.0)
    coords = {name: (np.arange(n) + 1.0) * h for name, n in zip("xyz", shape)}
    fields = {"f": shape, **({"u": shape} if solve else {})}
    recipe = Recipe(generator="poisson",
                    parameters={"shape": list(shape), "kind": kind, "solve": solve,
                                "rtol": rtol, **options,
                                "equation": "-laplace(u) = f on the unit box, u = 0 on the "
                                            "boundary; sciml.problems.Poisson(shape, rhs=f)"},
                    fields=fields, coords=coords,
                    sample=partial(_sample, shape=shape, kind=kind, with_solution=solve,
                                   rtol=rtol, **options))
    return run(out, recipe, samples, **run_options)
