"""Training vectors of the deep conjugate-direction method, as in Kaneda et al. (2023).

Lanczos with full re-orthogonalisation on the Poisson matrix gives Ritz vectors; each training
sample is a unit-norm random combination of them in which the low end of the spectrum is
weighted 9x (the paper: 10,000 Ritz vectors, the lowest 5,500 weighted). Written as a sciml
data set (:mod:`sciml.io.datasets`) with the samples in the field ``r`` (``(samples, *grid)``) and the
kept Ritz values as the shared array ``ritz_values``::

    python -m sciml.data_gen.deep_cd --shape 16 16 16 --lanczos 400 --samples 800 --out ritz.h5

References
----------
A. Kaneda et al., "A Deep Conjugate Direction Method for Iteratively Solving Linear Systems",
ICML 2023, arXiv:2205.10763, section 3.2.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.linalg

#: Ritz values below this are dropped (the null space of a Neumann problem and noise)
MIN_RITZ_VALUE = 1e-8


def ritz_vectors(matvec: Callable[[np.ndarray], np.ndarray], n: int, m: int,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ritz pairs of a symmetric operator from ``m`` Lanczos steps, fully re-orthogonalised.

    The start vector is ``A g`` for Gaussian ``g``, so it has no component in the null space
    of a singular (pure Neumann) operator. Ritz values below :data:`MIN_RITZ_VALUE` are
    dropped.

    Returns
    -------
    values, vectors
        Ascending Ritz values ``(k,)`` and the matching unit Ritz vectors ``(k, n)``.
    """
    rng = np.random.default_rng(seed)
    v = matvec(rng.standard_normal(n))
    v /= np.linalg.norm(v)
    basis = np.zeros((m, n))
    alpha, beta = np.zeros(m), np.zeros(m)
    steps = m
    for j in range(m):
        basis[j] = v
        w = matvec(v)
        alpha[j] = w @ v
        for _ in range(2):  # classical Gram-Schmidt twice: orthogonal to rounding
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        if beta[j] < 1e-10 * max(abs(alpha[j]), 1.0):  # an invariant subspace: stop early
            steps = j + 1
            break
        v = w / beta[j]
    values, coeffs = scipy.linalg.eigh_tridiagonal(alpha[:steps], beta[: steps - 1])
    keep = values > MIN_RITZ_VALUE
    return values[keep], coeffs[:, keep].T @ basis[:steps]


def training_vectors(vectors: np.ndarray, count: int, low_fraction: float = 0.55,
                     low_weight: float = 9.0, seed: int = 0) -> np.ndarray:
    """``count`` unit-norm random combinations of Ritz ``vectors`` (ascending values), the
    lowest ``low_fraction`` of them weighted ``low_weight`` times (the paper: 0.55, 9)."""
    rng = np.random.default_rng(seed)
    coeffs = rng.standard_normal((count, len(vectors)))
    coeffs[:, : int(round(low_fraction * len(vectors)))] *= low_weight
    samples = coeffs @ vectors
    return samples / np.linalg.norm(samples, axis=1, keepdims=True)


def generate(path: str | os.PathLike[str], shape: Sequence[int], *, lanczos: int = 400,
             samples: int = 800, seed: int = 0, bc: str = "dirichlet") -> Path:
    """Write ``samples`` training vectors for the Poisson operator on ``shape`` to ``path``.

    The data set (written atomically by :func:`sciml.io.write_dataset`) holds the field ``r``
    of shape ``(samples, *shape)`` and the kept Ritz values as the shared array
    ``ritz_values``; its attributes record the generator, parameters and seed.
    """
    from sciml.io.datasets import DatasetSpec, write_dataset  # noqa: PLC0415
    from sciml.kernels.stencil import StencilOperator  # noqa: PLC0415

    shape = tuple(int(s) for s in shape)
    op = StencilOperator(shape, bc=bc)
    n = op.shape[0]
    values, vectors = ritz_vectors(op.matvec, n, min(lanczos, n), seed=seed)
    r = training_vectors(vectors, samples, seed=seed + 1).reshape(samples, *shape)
    spec = DatasetSpec(
        generator="deep_cd", seed=seed, samples=samples, fields={"r": shape},
        coords={"ritz_values": values},
        parameters={"shape": list(shape), "lanczos": lanczos, "ritz_vectors": len(values),
                    "bc": bc, "low_fraction": 0.55, "low_weight": 9.0,
                    "min_ritz_value": MIN_RITZ_VALUE})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_dataset(path, spec, {"r": r})


def main(argv: list[str] | None = None) -> int:
    """Command line of :func:`generate`."""
    parser = argparse.ArgumentParser(prog="python -m sciml.data_gen.deep_cd", description=__doc__)
    parser.add_argument("--shape", type=int, nargs="+", default=[16, 16, 16])
    parser.add_argument("--lanczos", type=int, default=400, help="Lanczos steps (paper 10,000)")
    parser.add_argument("--samples", type=int, default=800, help="vectors (paper 20,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bc", choices=("dirichlet", "neumann"), default="dirichlet")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    path = generate(args.out, args.shape, lanczos=args.lanczos, samples=args.samples,
                    seed=args.seed, bc=args.bc)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
