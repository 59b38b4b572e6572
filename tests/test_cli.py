"""The sciml command, run as a user would (a subprocess)."""

import json
import subprocess
import sys

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sciml.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_methods_prints_each_builtin():
    out = run("methods")
    assert out.returncode == 0
    assert all(name in out.stdout for name in ("cg", "scipy_cg", "amg", "direct"))


def test_solve_poisson_json_reports_a_converged_amg_solve():
    out = run("solve", "poisson", "--shape", "12", "12", "12", "--method", "amg",
              "--rtol", "1e-8", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["converged"] and result["method"] == "amg"
    assert result["final_residual"] <= 1e-8


def test_solve_with_a_method_option():
    out = run("solve", "poisson", "--shape", "10", "10", "--method", "amg",
              "--option", 'kind="rs"', "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["options"]["kind"] == "rs"


@pytest.mark.parametrize("args, message", [
    (("solve", "poisson", "--shape", "8", "8", "--method", "nope"), "known methods"),
    (("solve", "poisson", "--shape", "8", "8", "--option", "tol=1e-3"), "rtol"),
])
def test_bad_requests_fail_with_a_message_not_a_traceback(args, message):
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_demo_prints_a_table_and_writes_the_plot(tmp_path):
    out = run("demo", "--shape", "10", "10", "10", "--plot", str(tmp_path / "demo.png"))
    assert out.returncode == 0, out.stderr
    for label in ("cg (matrix-free)", "scipy_cg", "amg sa", "direct", "deep_cd"):
        assert label in out.stdout
    assert (tmp_path / "demo.png").stat().st_size > 10_000
