"""Poisson data: sources for the core's problem, with solutions that solve it."""

import numpy as np
import pytest

import sciml
from sciml.data_gen import poisson
from sciml.data import load


@pytest.mark.parametrize("kind, shape", [("random", (10, 12)), ("gaussians", (16, 16)),
                                         ("divergence", (8, 8, 8)), ("spectral", (20,))])
def test_stored_solutions_solve_the_core_poisson_problem(tmp_path, kind, shape):
    path = poisson.generate(tmp_path / "p.h5", 2, shape=shape, kind=kind, progress=False)
    arrays = load(path, split="all")
    for f, u in zip(arrays["f"], arrays["u"]):
        reference = sciml.solve(sciml.problems.Poisson(shape, rhs=f.astype(float)),
                                method="direct").x
        # float32 storage: agreement to its rounding
        assert np.abs(u - reference).max() <= 1e-5 * np.abs(reference).max()


def test_spectral_sources_have_unit_norm_and_get_smoother_with_the_power():
    shape = (24, 24)
    h = 1.0 / 25
    A = sciml.StencilOperator(shape).to_csr()
    rayleigh = []
    for power in (0.0, 1.0, 2.0):
        b = h**2 * poisson.source(shape, "spectral", np.random.default_rng(0), power=power)
        assert np.linalg.norm(b) == pytest.approx(1.0)
        rayleigh.append(b.ravel() @ (A @ b.ravel()))
    assert rayleigh[0] > 3 * rayleigh[1] > 9 * rayleigh[2]


def test_laplacian_eigenvalues_are_those_of_the_core_stencil():
    shape = (5, 7)
    dense = np.linalg.eigvalsh(sciml.StencilOperator(shape).to_csr().toarray())
    np.testing.assert_allclose(np.sort(poisson.laplacian_eigenvalues(shape).ravel()), dense)


def test_sources_only_when_solutions_are_not_wanted(tmp_path):
    path = poisson.generate(tmp_path / "f.h5", 2, shape=(6, 6, 6), kind="random", solve=False,
                            progress=False)
    assert set(load(path, "all")) == {"f"}
