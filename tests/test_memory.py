"""Memory estimates up front (issue 15): measured peaks, refusals, allocation failures."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import sciml
from sciml import memory
from sciml.errors import InsufficientMemoryError, SciMLError
from sciml.problems import Poisson

GiB = 2**30

# peak resident bytes of one step in a fresh process, beyond the resident size just before:
# the kernel's high-water mark (VmHWM) is reset to the current size (clear_refs 5) first
_MEASURE = r"""
import json, os, sys
import numpy as np, scipy.sparse as sp, scipy.sparse.linalg as spla
from sciml.problems import Poisson
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))
def rss():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status("VmRSS")
kind, s = sys.argv[1], int(sys.argv[2])
if kind == "direct":
    A = sp.csc_matrix(Poisson((s, s, s), rhs="ones").to_linear_problem().A)
    before = rss()
    spla.splu(A)
else:
    import sciml, torch
    torch.set_num_threads(1)
    coarsening = kind.removeprefix("deep_cd_") if kind != "deep_cd" else "rediscretise"
    k = np.where(np.random.default_rng(0).random((s, s, s)) > 0.5, 1e3, 1.0)
    problem = Poisson((s, s, s), rhs="ones",
                      coefficient=None if coarsening == "rediscretise" else k)
    sciml.solve(Poisson((8, 8, 8)), method="deep_cd")
    before = rss()
    sciml.solve(problem, method="deep_cd", maxiter=3,
                coarsening=coarsening)
print(json.dumps(status("VmHWM") - before))
"""


def measured_peak(kind: str, size: int) -> int:
    out = subprocess.run([sys.executable, "-c", _MEASURE, kind, str(size)], check=True,
                         capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
@pytest.mark.parametrize("kind, sizes, estimate", [
    ("direct", (16, 24), lambda s: memory.direct_factor_bytes(s**3, 3)),
    ("deep_cd", (24, 40), lambda s: memory.deep_cd_bytes((s, s, s))),
    ("deep_cd_galerkin", (24, 40), lambda s: memory.deep_cd_bytes((s, s, s), "galerkin")),
    ("deep_cd_smoothed", (24, 40), lambda s: memory.deep_cd_bytes((s, s, s), "smoothed")),
])
def test_estimates_are_within_a_factor_of_the_measured_peak(kind, sizes, estimate):
    for size in sizes:
        peak = measured_peak(kind, size)
        ratio = estimate(size) / peak
        assert 1 / 2.5 < ratio < 2.5, (kind, size, estimate(size), peak)


def test_require_memory_refuses_with_the_estimate_and_the_available_memory(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 4 * GiB)
    memory.require_memory(3 * GiB, "a thing that fits")
    with pytest.raises(InsufficientMemoryError) as info:
        memory.require_memory(6.5 * GiB, "a big thing")
    message = str(info.value)
    assert "a big thing" in message and "6.5 GiB" in message and "4.0 GiB" in message
    assert isinstance(info.value, MemoryError) and isinstance(info.value, SciMLError)


def test_available_memory_is_at_most_memavailable_and_the_address_space_limit():
    with open("/proc/meminfo") as f:
        meminfo = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    # MemAvailable moves while other processes run: allow 2 % between the two readings
    assert 0 < memory.available_memory() <= 1.02 * meminfo["MemAvailable"]
    script = ("import resource; from sciml.memory import available_memory; "
              "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.RLIM_INFINITY)); "
              "print(available_memory())")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True)
    assert int(out.stdout) < 3 * GiB


@pytest.fixture
def four_gib(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 4 * GiB)


def test_deep_cd_on_512_cubed_is_refused_before_allocating(four_gib):
    start = time.perf_counter()
    with pytest.raises(InsufficientMemoryError, match="GiB"):
        sciml.solve(Poisson((512, 512, 512), rhs="ones"), method="deep_cd")
    assert time.perf_counter() - start < 0.5


def test_deep_cd_refuses_a_grid_whose_network_cannot_fit(monkeypatch):
    problem = Poisson((48, 48, 48), rhs="ones")  # the problem fits, the network does not
    monkeypatch.setattr(memory, "available_memory", lambda: 8 * 2**20)
    with pytest.raises(InsufficientMemoryError, match=r"deep_cd on the grid \(48, 48, 48\)"):
        sciml.solve(problem, method="deep_cd")


def test_direct_on_200_cubed_is_refused_before_factorising(four_gib):
    start = time.perf_counter()
    with pytest.raises(InsufficientMemoryError, match="direct on 8,000,000 unknowns needs "
                                                      "about .* TiB .* only 4.0 GiB"):
        sciml.solve(Poisson((200, 200, 200), rhs="ones"), method="direct")
    assert time.perf_counter() - start < 1.0  # before the CSR matrix is assembled


def test_a_csr_matrix_that_cannot_fit_is_refused_before_assembly(monkeypatch):
    problem = Poisson((64, 64, 64), rhs="ones")
    monkeypatch.setattr(memory, "available_memory", lambda: 32 * 2**20)
    with pytest.raises(InsufficientMemoryError, match="the CSR matrix of a Poisson problem"):
        problem.to_linear_problem()


def test_darcy_datagen_at_resolution_3000_is_refused_before_writing(four_gib, tmp_path):
    from sciml.data_gen import darcy

    out = tmp_path / "d.h5"
    with pytest.raises(InsufficientMemoryError, match="Darcy data at resolution 3000"):
        darcy.generate(out, 2, resolution=3000)
    assert list(tmp_path.iterdir()) == []


def test_darcy_datagen_counts_every_worker():
    one = memory.darcy_datagen_bytes(421, "direct")
    assert memory.darcy_datagen_bytes(421, "direct", workers=3) == 3 * one
    assert memory.darcy_datagen_bytes(421, "amg") < one


def test_a_memory_error_in_superlu_is_reported_as_memory_not_singular(monkeypatch):
    import scipy.sparse.linalg as spla

    def no_memory(*args, **kwargs):
        raise MemoryError("Can't expand MemType 0: jcol 40957")

    monkeypatch.setattr(spla, "splu", no_memory)
    with pytest.raises(InsufficientMemoryError, match="SuperLU factorisation.* ran out of "
                                                      "memory") as info:
        sciml.solve(Poisson((6, 6, 6)), method="direct")
    assert "singular" not in str(info.value)


def test_a_memory_error_in_the_deep_cd_iteration_is_reported_as_such(monkeypatch):
    from sciml.solvers.deep_cd import solver

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(solver, "deep_conjugate_directions", no_memory)
    with pytest.raises(InsufficientMemoryError, match=r"deep_cd \(iteration\) ran out"):
        sciml.solve(Poisson((8, 8, 8)), method="deep_cd")


def test_a_singular_matrix_is_still_reported_as_singular():
    import scipy.sparse as sp

    A = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(sciml.errors.InvalidProblemError, match="singular"):
        sciml.solve(sciml.LinearProblem(A, np.ones(2)), method="direct")


def test_format_bytes_uses_binary_units():
    assert memory.format_bytes(512) == "512 B"
    assert memory.format_bytes(3.25 * GiB) == "3.2 GiB"
    assert memory.format_bytes(5 * 2**40) == "5.0 TiB"
