"""The two-phase contrast benchmark of deep_cd runs end to end and its goals read its rows."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def contrast(load_benchmark):
    return load_benchmark("deep_cd_contrast")


def test_the_two_phase_field_has_both_phases_and_is_reproducible(load_benchmark):
    coefficients = load_benchmark("coefficients")
    for kind in ("sines", "grf"):
        k = coefficients.two_phase((12, 12, 12), 1e3, kind, seed=5)
        assert set(np.unique(k)) == {1.0, 1e3}
        assert 0.2 < (k > 1).mean() < 0.8
        np.testing.assert_array_equal(k, coefficients.two_phase((12, 12, 12), 1e3, kind, 5))
    with pytest.raises(ValueError, match="'sines' or 'grf'"):
        coefficients.two_phase((4, 4, 4), 10.0, "layers")


def test_rows_goals_and_plot_on_a_small_grid(contrast, tmp_path):
    rows = contrast.run([10], [1e1, 1e4], 1e-6, 2000, 1, contrast.LABELS)
    assert len(rows) == 2 * len(contrast.METHODS)
    by = {(r["contrast"], r["method"]): r for r in rows}
    assert all(r["converged"] and r["final rel. res."] <= 1e-6 for r in rows)
    no_net = by[(1e1, "deep_cd no-net")]
    assert no_net["net calls"] == 0 and no_net["iterations"] == by[(1e1, "cg")]["iterations"]
    goals = contrast.goals(rows)
    assert [g["contrast"] for g in goals] == [1e1, 1e4]
    assert all("no-net s/it / cg (<= 1.1)" in g for g in goals)
    contrast.plot(rows, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0


def test_a_subset_of_methods_runs_alone_and_its_goals_skip_the_missing_rows(contrast):
    rows = contrast.run([8], [1e3], 1e-6, 2000, 1, ["amg sa+cg", "deep_cd"])
    assert [r["method"] for r in rows] == ["amg sa+cg", "deep_cd"]
    assert rows[1]["s / it vs cg"] is None
    (goal,) = contrast.goals(rows)
    assert goal["no-net s/it / cg (<= 1.1)"] is None and goal["it / SA it (<= 2)"] > 0
