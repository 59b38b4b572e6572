"""The many-right-hand-sides benchmark's measurement runs and checks its answers."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def many_rhs(load_benchmark):
    return load_benchmark("many_rhs")


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_the_measurement_compares_prepared_and_plain_runs(many_rhs, method):
    row = many_rhs.measure(method, (10, 10, 10), 3, 1e-8)
    assert row["rhs"] == 3 and row["setup s"] > 0
    assert row["prepared total s"] > 0 and row["plain total s"] > 0
    assert 0 <= row["per-solve overhead %"] < 100
