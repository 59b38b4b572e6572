"""Problems: validation of bad input and the Poisson discretisation."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import sciml
from sciml.errors import InvalidProblemError, SciMLError, UnsupportedTypeError

A5 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(5, 5), format="csr")


@pytest.mark.parametrize("A, b, error, message", [
    (sp.csr_matrix(np.ones((3, 4))), np.ones(3), InvalidProblemError, "square"),
    (sp.csr_matrix((0, 0)), np.ones(0), InvalidProblemError, "empty"),
    (A5, np.ones(4), InvalidProblemError, "4 entries"),
    (A5, np.array([1, 2, np.nan, 4, 5.0]), InvalidProblemError, "NaN"),
    (A5, np.array([1, 2, np.inf, 4, 5.0]), InvalidProblemError, "NaN or Inf"),
    (sp.csr_matrix(np.diag([1.0, np.nan])), np.ones(2), InvalidProblemError, "NaN"),
    (np.array([[1.0, np.inf], [0, 1]]), np.ones(2), InvalidProblemError, "NaN"),
    (A5.astype(complex), np.ones(5), UnsupportedTypeError, "complex"),
    (A5, np.array(["a"] * 5), UnsupportedTypeError, "dtype"),
    ("not a matrix", np.ones(5), UnsupportedTypeError, "LinearOperator"),
    (np.ones((2, 2, 2)), np.ones(2), InvalidProblemError, "2-D"),
])
def test_bad_linear_problems_raise_specific_errors(A, b, error, message):
    with pytest.raises(error, match=message) as info:
        sciml.LinearProblem(A, b)
    assert isinstance(info.value, SciMLError)
    assert isinstance(info.value, (ValueError, TypeError))


@pytest.mark.parametrize("A", [A5, A5.toarray(), aslinearoperator(A5), sp.csr_array(A5),
                               A5.astype(np.int64)])
def test_every_accepted_matrix_type_solves(A):
    b = np.arange(5.0)
    sol = sciml.solve(sciml.LinearProblem(A, b), method="cg", rtol=1e-10)
    assert sol.converged
    assert np.linalg.norm(b - A5 @ sol.x) <= 1e-10 * np.linalg.norm(b)


def test_x0_of_wrong_length_is_rejected():
    with pytest.raises(InvalidProblemError, match="x0"):
        sciml.LinearProblem(A5, np.ones(5), x0=np.ones(3))


@pytest.mark.parametrize("shape", [(9,), (6, 7), (4, 5, 3)])
def test_poisson_matrix_is_the_symmetric_integer_stencil(shape):
    lp = sciml.problems.Poisson(shape=shape).to_linear_problem()
    A = lp.A
    d = len(shape)
    assert abs(A - A.T).max() == 0
    assert np.all(A.diagonal() == 2 * d)
    assert set(np.unique(A.data)) <= {2.0 * d, -1.0}
    # each row sums to the number of Dirichlet neighbours it has
    boundary = np.zeros(shape)
    for ax in range(d):
        index = [slice(None)] * d
        for end in (0, -1):
            index[ax] = end
            boundary[tuple(index)] += 1
    assert np.allclose(np.asarray(A.sum(axis=1)).ravel(), boundary.ravel())


def test_poisson_solution_converges_at_second_order_to_the_pde():
    """u = sin(pi x) sin(pi y): error of the 5-point scheme falls ~4x per halving of h."""
    errors = []
    for n in (15, 31, 63):
        h = 1.0 / (n + 1)
        x = np.arange(1, n + 1) * h
        X, Y = np.meshgrid(x, x, indexing="ij")
        exact = np.sin(np.pi * X) * np.sin(np.pi * Y)
        f = 2 * np.pi**2 * exact
        sol = sciml.solve(sciml.problems.Poisson(shape=(n, n), rhs=f), method="direct")
        errors.append(np.abs(sol.x - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.6) & (ratios < 4.4)), ratios


def test_variable_coefficient_uses_harmonic_face_means():
    k = np.array([1.0, 3.0, 2.0])
    A = sciml.problems.Poisson(shape=3, coefficient=k).to_linear_problem().A.toarray()
    h01, h12 = 2 * 1 * 3 / 4, 2 * 3 * 2 / 5
    expected = np.array([[1 + h01, -h01, 0], [-h01, h01 + h12, -h12], [0, -h12, h12 + 2]])
    assert np.allclose(A, expected)


@pytest.mark.parametrize("kwargs, message", [
    ({"shape": (4, 4), "rhs": "bogus"}, "unknown rhs"),
    ({"shape": (4, 4), "rhs": np.ones((3, 3))}, "rhs has shape"),
    ({"shape": (0, 4)}, "positive"),
    ({"shape": (2, 2, 2, 2)}, "1-3"),
    ({"shape": (3, 3), "coefficient": -np.ones((3, 3))}, "positive"),
    ({"shape": (3, 3), "coefficient": np.ones((2, 3))}, "grid shape"),
])
def test_bad_poisson_input_is_rejected(kwargs, message):
    with pytest.raises(InvalidProblemError, match=message):
        sciml.problems.Poisson(**kwargs).to_linear_problem(matrix_free=True)


def test_rhs_kinds_are_seeded_and_distinct():
    a = sciml.problems.Poisson((6, 6), rhs="gaussians", seed=1).b
    b = sciml.problems.Poisson((6, 6), rhs="gaussians", seed=1).b
    c = sciml.problems.Poisson((6, 6), rhs="gaussians", seed=2).b
    assert np.array_equal(a, b) and not np.array_equal(a, c)
