"""DarcyFlow and its finite-difference system."""

from __future__ import annotations

import numpy as np
import pytest

import sciml
from sciml.errors import InvalidProblemError
from sciml.problems.darcy import assemble_darcy


def _loop_assembly(a: np.ndarray) -> np.ndarray:
    s = a.shape[0]
    m = s - 2
    A = np.zeros((m * m, m * m))
    for i in range(1, s - 1):
        for j in range(1, s - 1):
            row = (i - 1) * m + (j - 1)
            for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                face = 0.5 * (a[i, j] + a[i + di, j + dj])
                A[row, row] += face
                ni, nj = i + di, j + dj
                if 1 <= ni <= s - 2 and 1 <= nj <= s - 2:
                    A[row, (ni - 1) * m + (nj - 1)] -= face
    return A


def test_assembly_matches_the_vertex_mean_five_point_stencil() -> None:
    a = np.random.default_rng(0).uniform(1.0, 5.0, (7, 7))
    A, b = assemble_darcy(a, f=2.0)
    assert np.allclose(A.toarray(), _loop_assembly(a) * 36.0)    # 1 / h^2, h = 1/6
    assert np.allclose(b, 2.0)


def test_constant_coefficient_solution_is_symmetric_and_positive() -> None:
    sol = sciml.solve(sciml.problems.DarcyFlow(a=np.ones((17, 17))), method="direct")
    assert sol.x.shape == (17, 17) and np.all(sol.x[1:-1, 1:-1] > 0)
    assert np.allclose(sol.x, sol.x.T) and np.all(sol.x[0] == 0)


@pytest.mark.parametrize("a", [np.ones((5, 6)), -np.ones((5, 5)), np.ones((2, 2))])
def test_bad_coefficients_are_refused(a: np.ndarray) -> None:
    with pytest.raises(InvalidProblemError):
        sciml.problems.DarcyFlow(a=a)


def test_burgers_problem_validates_its_initial_condition() -> None:
    with pytest.raises(InvalidProblemError):
        sciml.problems.Burgers1D(u0=np.ones((4, 4)))
    with pytest.raises(InvalidProblemError):
        sciml.problems.Burgers1D(u0=np.ones(8), nu=0.0)
