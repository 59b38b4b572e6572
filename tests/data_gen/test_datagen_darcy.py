"""Darcy flow: the finite-difference solver's order, its matrix, and the coefficient families."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

import sciml
from sciml.data_gen import darcy
from sciml.data import load
from sciml.errors import InvalidProblemError
from sciml.io.datasets import read_info


def manufactured(s):
    """u = sin(pi x) sin(pi y), a = 2 + sin(2 pi x) cos(pi y), f = -div(a grad u)."""
    x = np.linspace(0.0, 1.0, s)
    X, Y = np.meshgrid(x, x, indexing="ij")
    pi = np.pi
    u = np.sin(pi * X) * np.sin(pi * Y)
    a = 2 + np.sin(2 * pi * X) * np.cos(pi * Y)
    a_x = 2 * pi * np.cos(2 * pi * X) * np.cos(pi * Y)
    a_y = -pi * np.sin(2 * pi * X) * np.sin(pi * Y)
    u_x = pi * np.cos(pi * X) * np.sin(pi * Y)
    u_y = pi * np.sin(pi * X) * np.cos(pi * Y)
    f = -(a_x * u_x + a_y * u_y) + 2 * pi**2 * a * u
    return a, f, u


def test_manufactured_variable_coefficient_solution_converges_at_second_order():
    errors = []
    for s in (17, 33, 65, 129):          # h = 1/16 ... 1/128
        a, f, exact = manufactured(s)
        errors.append(np.abs(darcy.solve(a, f) - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.7) & (ratios < 4.3)), ratios


def test_constant_coefficient_operator_is_the_core_five_point_laplacian():
    s = 12
    h = 1.0 / (s - 1)
    core = sciml.StencilOperator((s - 2, s - 2)).to_csr() / h**2
    ours = darcy.operator(np.ones((s, s)))
    assert abs(ours - core).max() < 1e-9


def test_operator_is_symmetric_positive_definite_for_a_rough_coefficient():
    a = np.where(np.random.default_rng(0).standard_normal((10, 10)) > 0, 12.0, 3.0)
    A = darcy.operator(a).toarray()
    assert np.allclose(A, A.T)
    assert np.linalg.eigvalsh(A).min() > 0


def test_amg_and_direct_solutions_agree():
    family = dataclasses.replace(darcy.FAMILIES["smooth"], resolution=65)
    a = darcy.sample_coefficient(np.random.default_rng(3), family)
    direct = darcy.solve(a)
    amg = darcy.solve(a, method="amg")   # rtol ITERATIVE_RTOL by default
    assert np.abs(amg - direct).max() < 1e-9 * np.abs(direct).max()
    assert np.all(direct[0] == 0) and np.all(direct[:, -1] == 0)


def test_two_phase_family_is_solved_fine_and_stored_on_29_by_29_nodes(tmp_path):
    path = darcy.generate(tmp_path / "tp.h5", 3, family="two-phase", progress=False)
    arrays = load(path, split="all")
    assert arrays["a"].shape == arrays["u"].shape == (3, 29, 29)
    assert set(np.unique(arrays["a"])) <= {5.0, 10.0}
    assert np.all(arrays["u"][:, 1:-1, 1:-1] > 0)      # f = 10 > 0: maximum principle
    assert np.all(arrays["u"][:, 0] == 0)


def test_smooth_family_downsample_keeps_fno_grid_and_two_values(tmp_path):
    path = darcy.generate(tmp_path / "s.h5", 2, resolution=41, downsample=5, progress=False)
    info = read_info(path)
    assert info.spec.fields == {"a": (9, 9), "u": (9, 9)}
    assert info.spec.parameters["family"] == "smooth"
    assert info.spec.parameters["tau"] == 3.0 and info.spec.parameters["high"] == 12.0
    np.testing.assert_allclose(info.spec.coords["x"], np.linspace(0, 1, 9))
    assert set(np.unique(load(path, "all")["a"])) == {3.0, 12.0}


def test_malformed_inputs_are_rejected_with_the_expected_shapes():
    with pytest.raises(InvalidProblemError, match=r"\(s, s\)"):
        darcy.solve(np.ones((4, 5)))
    with pytest.raises(InvalidProblemError, match="strictly positive"):
        darcy.solve(-np.ones((5, 5)))
    with pytest.raises(InvalidProblemError, match=r"shape \(5, 5\)"):
        darcy.solve(np.ones((5, 5)), f=np.ones((4, 4)))
    assert sp.issparse(darcy.operator(np.ones((5, 5))))
