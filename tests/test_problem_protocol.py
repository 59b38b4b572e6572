"""The problem protocol: methods ask the problem, never guess; a new PDE needs no other file."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import sciml
from sciml.errors import DataFileError, InvalidOptionError
from sciml.io.datasets import DatasetSpec, write_dataset
from sciml.learn.operator_data import load_operator_data
from sciml.problems import PROBLEM_TYPES, PDEProblem, problem_type_for_generator


class Reaction1D(PDEProblem):
    """``-u'' + c u = f`` on (0, 1), zero Dirichlet: a PDE added without touching sciml."""

    name = "reaction"
    input_fields = ("f",)
    has_linear_form = True

    def __init__(self, f, c=10.0):
        self.f, self.c = np.asarray(f, float), c

    @property
    def grid_shape(self):
        return self.f.shape

    def to_linear_problem(self, matrix_free=False):
        n = self.f.size
        h = 1.0 / (n + 1)
        A = sp.diags([-1.0, 2.0 + self.c * h * h, -1.0], [-1, 0, 1], shape=(n, n)) / h**2
        return sciml.LinearProblem(A.tocsr(), self.f, grid_shape=(n,))

    def solution_from_vector(self, x):
        return np.asarray(x).reshape(self.grid_shape)

    def vector_from_solution(self, u):
        return np.asarray(u).ravel()


@pytest.mark.parametrize("method", ["cg", "scipy_cg", "amg", "direct"])
def test_a_new_pde_class_is_solved_by_every_linear_method(method):
    problem = Reaction1D(np.sin(np.linspace(0, 3, 200)))
    sol = sciml.solve(problem, method=method, rtol=1e-10)
    lp = problem.to_linear_problem()
    assert sol.converged and sol.x.shape == (200,)
    assert np.linalg.norm(lp.b - lp.A @ sol.x) <= 1e-10 * np.linalg.norm(lp.b)


def test_every_registered_problem_states_the_protocol():
    assert set(PROBLEM_TYPES) == {"poisson", "darcy", "burgers", "convection"}
    for name, cls in PROBLEM_TYPES.items():
        assert cls.name == name and issubclass(cls, PDEProblem)
        assert cls.input_fields and cls.output_field == "u"
        assert problem_type_for_generator(cls.generator) is cls
    assert PROBLEM_TYPES["burgers"].periodic and not PROBLEM_TYPES["darcy"].periodic
    darcy = sciml.problems.DarcyFlow(a=np.ones((9, 9)))
    u = np.random.default_rng(0).standard_normal((9, 9))
    u[0], u[-1], u[:, 0], u[:, -1] = 0, 0, 0, 0
    assert np.array_equal(darcy.solution_from_vector(darcy.vector_from_solution(u)), u)
    assert darcy.parameters() == {"f": 1.0}


def test_a_problem_without_a_linear_form_is_refused_by_linear_methods():
    with pytest.raises(TypeError, match="linear discretisation; got Burgers1D"):
        sciml.solve(sciml.problems.Burgers1D(u0=np.zeros(16)), method="cg")


def _file(tmp_path, generator, splits=None):
    rng = np.random.default_rng(0)
    spec = DatasetSpec(generator, {}, 0, 6, {"a": (8, 8), "u": (8, 8)},
                       splits={} if splits is None else splits)
    return write_dataset(tmp_path / f"{generator}.h5", spec,
                         {"a": rng.random((6, 8, 8)) + 1, "u": rng.random((6, 8, 8))})


def test_the_problem_of_a_data_file_is_its_generators_never_a_substring(tmp_path):
    pairs = load_operator_data(_file(tmp_path, "darcy"))
    assert pairs.problem is sciml.problems.DarcyFlow and pairs.params == {"f": 1.0}
    with pytest.raises(DataFileError, match="generator 'darcy_like', which holds no problem"):
        load_operator_data(_file(tmp_path, "darcy_like"))
    assert load_operator_data(_file(tmp_path, "other"), problem="darcy").a.shape == (6, 8, 8)
    with pytest.raises(InvalidOptionError, match="pass problem=NAME"):
        load_operator_data((np.ones((2, 8, 8)), np.ones((2, 8, 8))))


def test_a_misspelled_split_is_an_error_listing_the_files_splits(tmp_path):
    path = _file(tmp_path, "darcy", splits={"train": (0, 4), "test": (4, 6)})
    assert load_operator_data(path, split="test").a.shape == (2, 8, 8)
    for wrong in ("trian", "tset"):
        with pytest.raises(DataFileError, match=f"no split '{wrong}'; its splits: all, train"):
            load_operator_data(path, split=wrong)
    unsplit = _file(tmp_path, "darcy")
    assert load_operator_data(unsplit, split="train").a.shape == (6, 8, 8)
    with pytest.raises(DataFileError, match="no split 'trian'"):
        load_operator_data(unsplit, split="trian")
