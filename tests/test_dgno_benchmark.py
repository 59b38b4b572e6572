"""The DGNO benchmark's parts run end to end at tiny sizes and its AUROC is right."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("dgno")


def test_auroc_counts_the_ordered_pairs(bench):
    score = np.array([0.9, 0.8, 0.3, 0.1, 0.5])
    wrong = np.array([True, False, True, False, False])
    # pairs (wrong, right) ordered correctly: 0.9 beats all 3, 0.3 beats 0.1 only -> 4 of 6
    assert bench.auroc(score, wrong) == pytest.approx(4 / 6)
    assert bench.auroc(np.array([1.0, 1.0]), np.array([True, False])) == pytest.approx(0.5)
    assert np.isnan(bench.auroc(score, np.zeros(5, dtype=bool)))


def test_forward_inverse_and_report_run_on_a_tiny_set(bench, tmp_path, monkeypatch):
    from sciml.data_gen.darcy import generate

    data = tmp_path / "twophase.h5"
    generate(data, 14, family="two-phase", resolution=49, test_samples=4, seed=0, workers=1,
             progress=False)
    monkeypatch.setattr(bench, "OBSERVATIONS", 20)
    tiny = {"width": 8, "depth": 2, "sum_layers": 1, "latent": 4, "centres": 10}
    original = bench.train_and_test
    monkeypatch.setattr(bench, "train_and_test",
                        lambda method, d, **o: original(method, d, **{**o, **tiny}))
    bench.part_forward(data, tmp_path, epochs=2, seed=0)
    bench.part_inverse(data, tmp_path, cases=2)
    record = json.loads((tmp_path / "dgno.json").read_text())
    assert {"dgno", "pi_deeponet", "inverse", "inverse_no_pde"} <= set(record)
    assert record["pi_deeponet"]["options"]["objective"] == "strong_fd"
    assert 0 <= record["inverse"]["right_phase"] <= 1
    table = bench.report(tmp_path)
    assert "DGNO (weak form, no labels)" in table and "with the PDE term" in table
