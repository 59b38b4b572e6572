"""Convection1D: the protocol it states and the bad inputs it refuses."""

import math

import numpy as np
import pytest

import sciml
from sciml.errors import InvalidProblemError
from sciml.problems import PROBLEM_TYPES, Burgers1D, Convection1D, problem_type_for_generator


def test_states_the_protocol_and_its_convective_form():
    p = Convection1D(beta=30.0, nu=0.1, points=64)
    assert PROBLEM_TYPES["convection"] is Convection1D
    assert problem_type_for_generator("convection") is Convection1D
    assert p.periodic and p.has_convective_form and not p.has_linear_form
    assert p.grid_shape == (64,) and p.period == 2 * math.pi
    np.testing.assert_allclose(p.operator_input(), np.sin(p.x))
    np.testing.assert_allclose(p.characteristic_speed(np.arange(3.0)), 30.0)
    assert p.constant_speed == 30.0 and p.parameters() == {"beta": 30.0, "nu": 0.1, "t": 1.0}
    b = Burgers1D(np.sin(2 * np.pi * np.arange(8) / 8))
    assert b.has_convective_form and b.constant_speed is None
    np.testing.assert_array_equal(b.characteristic_speed(b.u0), b.u0)


def test_initial_state_from_a_callable_or_grid_values():
    f = Convection1D(beta=1.0, u0=lambda x: np.cos(3 * x), points=32)
    a = Convection1D(beta=1.0, u0=np.cos(3 * f.x), points=32)
    np.testing.assert_array_equal(f.u0, a.u0)


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": math.inf}, "beta must be finite"),
    ({"beta": math.nan}, "beta must be finite"),
    ({"beta": 1.0, "nu": -0.1}, "nu must be finite >= 0"),
    ({"beta": 1.0, "nu": math.inf}, "nu must be finite >= 0"),
    ({"beta": 1.0, "t": 0.0}, "t must be finite > 0"),
    ({"beta": 1.0, "t": -1.0}, "t must be finite > 0"),
    ({"beta": 1.0, "points": 1}, "points must be an integer >= 2"),
    ({"beta": 1.0, "u0": np.zeros(10)}, "u0 has 10 values but the grid has points=256"),
    ({"beta": 1.0, "u0": np.full(256, np.nan)}, "NaN or Inf"),
    ({"beta": 1.0, "u0": np.zeros((16, 16)), "points": 16}, "1-D array"),
    ({"beta": 1.0, "u0": "cos"}, "not a known initial state"),
    ({"beta": "fast"}, "beta must be a real number"),
])
def test_bad_inputs_raise_what_is_wrong(kwargs, message):
    with pytest.raises(InvalidProblemError, match=message):
        Convection1D(**kwargs)


def test_a_problem_without_a_convective_form_is_refused_by_lpinn_and_pinn():
    poisson = sciml.problems.Poisson(shape=(8, 8))
    for method in ("lpinn", "pinn"):
        with pytest.raises(InvalidProblemError, match="has none"):
            sciml.solve(poisson, method=method)
