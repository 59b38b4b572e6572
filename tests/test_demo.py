"""``sciml demo`` (issue 9 part 6): one-time costs apart, speed-ups, sizes, progress."""

import re
import subprocess
import sys

from sciml.demo import BASELINE, DEMO_RUNS, run_demo, table_rows


def demo(*args):
    return subprocess.run([sys.executable, "-m", "sciml.cli", "demo", *args],
                          check=False, capture_output=True, text=True)


def column(stdout, label, name):
    header = next(line for line in stdout.splitlines() if line.startswith("| method"))
    names = [c.strip() for c in header.strip("|").split("|")]
    row = next(line for line in stdout.splitlines() if line.startswith(f"| {label}"))
    return [c.strip() for c in row.strip("|").split("|")][names.index(name)]


def test_the_one_time_import_is_reported_apart_from_deep_cds_setup(tmp_path):
    out = demo("--shape", "10", "10", "10", "--quiet", "--plot", str(tmp_path / "d.png"))
    assert out.returncode == 0, out.stderr
    one_time = re.search(r"one-time: torch import \+ weights load .* ([0-9.]+) s", out.stdout)
    assert one_time, out.stdout
    setup = float(column(out.stdout, "deep_cd", "setup s"))
    # a fresh process: importing torch alone takes far longer than a warm 10^3 setup
    assert setup < 0.5 * float(one_time.group(1)), (setup, one_time.group(1))
    assert out.stderr == ""  # --quiet: no progress lines


def test_progress_lines_go_to_stderr_one_per_solve(tmp_path):
    out = demo("--shape", "6", "6", "6", "--plot", str(tmp_path / "d.png"))
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("(6, 6, 6):")]
    assert len(lines) == len(DEMO_RUNS)
    assert "warming up deep_cd" in out.stderr and "warming up" not in out.stdout


def test_sizes_give_one_table_each_and_skip_slow_methods_at_the_larger(monkeypatch):
    import sciml.demo as demo_module

    monkeypatch.setattr(demo_module, "DEMO_RUNS", [
        run if run.max_unknowns is None else
        type(run)(run.label, run.method, run.options, 500, run.why_not_larger)
        for run in DEMO_RUNS])
    result = run_demo(sizes=[(6, 6, 6), (9, 9, 9)], plot=None, verbose=False,
                      progress=False)
    assert [label for label, _ in result.runs[(6, 6, 6)]] == [r.label for r in DEMO_RUNS]
    larger = [label for label, _ in result.runs[(9, 9, 9)]]
    assert larger == ["cg (matrix-free)", "amg sa + CG", "deep_cd (shipped net)"]
    assert any(line.startswith("direct (SuperLU): 729 unknowns is above its limit")
               for line in result.skipped[(9, 9, 9)])
    assert result.warmup_seconds > 0
    assert all(sol.converged for sol in result.solutions())


def test_speed_up_is_cg_total_over_each_total():
    result = run_demo(sizes=[(6, 6, 6)], plot=None, verbose=False, progress=False)
    pairs = result.runs[(6, 6, 6)]
    cg_total = next(sol.total_time for label, sol in pairs if label == BASELINE)
    for (label, sol), row in zip(pairs, table_rows(pairs)):
        assert row["speed-up vs cg"] == f"{cg_total / sol.total_time:.2f}x", label


def test_a_prediction_without_a_tolerance_check_shows_an_empty_converged_cell():
    from sciml.reporting import format_table

    _, sol = run_demo(sizes=[(6, 6, 6)], plot=None, verbose=False,
                      progress=False).runs[(6, 6, 6)][0]
    sol.converged = None
    table = format_table(table_rows([("net", sol)]))
    assert table.splitlines()[2].split("|")[2].strip() == ""
