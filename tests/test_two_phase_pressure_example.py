"""examples/two_phase_pressure.py: its projection is exact to the tolerance, its three
methods agree, and it writes its outputs once."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import sciml

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

RTOL = 1e-6


@pytest.fixture(scope="module")
def example():
    """The example script imported as a module (examples are scripts, not a package)."""
    path = Path(__file__).resolve().parents[1] / "examples" / "two_phase_pressure.py"
    spec = importlib.util.spec_from_file_location("example_two_phase_pressure", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass resolves annotations in its module
    spec.loader.exec_module(module)
    return module


def test_the_assembled_matrix_is_the_stencil_operator_and_projects_exactly(example):
    n, dt = 8, 1e-3
    density = example.bubble_density(n, 1000.0)
    assert set(np.unique(density)) == {1.0, 1000.0}
    faces = example.inverse_density_faces(density)
    matrix = example.pressure_matrix(faces, 1.0 / n)
    operator = sciml.StencilOperator(density.shape, 1.0 / density, bc=example.BOUNDARIES)
    x = np.random.default_rng(0).standard_normal(n**3)
    np.testing.assert_allclose(matrix @ x, operator @ x, rtol=1e-12, atol=1e-14)
    u_star = example.predict([np.zeros(f.shape) for f in faces], faces, dt)
    assert all(np.all(c[f == 0] == 0) for c, f in zip(u_star, faces))  # closed walls
    p = spla.spsolve(matrix.tocsc(), example.pressure_rhs(u_star, dt)).reshape(density.shape)
    u = example.project(u_star, p, faces, dt)
    before, after = (np.linalg.norm(example.divergence(v, 1.0 / n)) for v in (u_star, u))
    assert after <= 1e-10 * before
    assert example.cell_velocity(u)[example.VERTICAL][density == 1.0].mean() > 0  # it rises...
    top = u[example.VERTICAL][:, :, -1]
    assert abs(top.sum()) < 1e-10 * np.abs(top).sum()  # ...through a closed box, open on top


def test_a_small_run_checks_out_and_refuses_to_overwrite(example, tmp_path, capsys):
    args = ["--size", "16", "--steps", "2", "--rtol", str(RTOL), "--out", str(tmp_path)]
    result = example.main(args)
    records = result.records
    assert [r["method"] for r in records] == list(example.METHODS) * 2
    for r in records:
        assert r["converged"], r
        assert r["true rel. residual"] <= 2 * RTOL, r  # recomputed from the assembled matrix
        assert r["rel. diff to amg"] <= 1e-5, r
    deep_cd = [r for r in records if r["method"] == "deep_cd"]
    assert all(r["network_calls"] is not None and r["fallbacks"] is not None for r in deep_cd)
    assert all(s["div reduction"] >= 1e4 for s in result.steps)
    assert result.steps[-1]["rhs change"] > 0  # the flow changes the right-hand side
    assert 0 < result.steps[-1]["rise cells"] < 1  # the frozen density holds
    assert set(result.fields) == {"density", "pressure", "u", "w"}
    out = capsys.readouterr().out
    assert "per method over the sequence" in out and "agree to 1e-5" in out
    written = json.loads((tmp_path / "two_phase_pressure.json").read_text())
    assert len(written["records"]) == len(records) and written["config"]["size"] == 16
    assert (tmp_path / "two_phase_pressure.png").stat().st_size > 10_000

    with pytest.raises(SystemExit) as refused:
        example.main(args)
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    assert example.output_paths(tmp_path, overwrite=True)[0].name == example.OUTPUTS[0]
