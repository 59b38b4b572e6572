"""``sciml demo``: the methods on 3D Poisson problems of two sizes, one tolerance.

The learned ``deep_cd`` runs with the multigrid-structured network shipped in
``solvers/deep_cd/weights`` (trained at 32^3; the same weights run at any size). What a
process pays once -- importing torch, the first weights load, the first network call -- is
timed apart by a warm-up solve on a tiny grid and reported on its own line, so each row's
setup is what every further solve costs. The larger size shows where each method wins: the
network's iteration count stays nearly flat while CG's grows with the grid.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .api import solve
from .problems import Poisson
from .reporting import format_table, plot_convergence_panels, solution_row
from .solution import Solution


@dataclass(frozen=True)
class DemoRun:
    """One method of the demo and the largest system (unknowns) it is run on."""

    label: str
    method: str
    options: dict[str, Any]
    max_unknowns: int | None = None
    why_not_larger: str = ""


#: above this many unknowns only the three methods that tell the story run, so the demo
#: takes under 2 minutes on 2 cores
STORY_LIMIT = 300_000
_SHORT = "kept to the smaller sizes so that the demo takes under 2 minutes"
DEMO_RUNS: list[DemoRun] = [
    DemoRun("cg (matrix-free)", "cg", {}),
    DemoRun("scipy_cg (CSR)", "scipy_cg", {"history": False}, STORY_LIMIT, _SHORT),
    DemoRun("amg sa + CG", "amg", {"kind": "sa"}),
    DemoRun("amg rs + CG", "amg", {"kind": "rs"}, STORY_LIMIT, _SHORT),
    DemoRun("direct (SuperLU)", "direct", {}, 40_000,
            "SuperLU's fill-in in 3D makes larger solves slow"),
    DemoRun("deep_cd (shipped net)", "deep_cd", {}),
]
DEFAULT_SIZES: tuple[tuple[int, ...], ...] = ((64, 64, 64), (128, 128, 128))
WARMUP_SHAPE = (8, 8, 8)
BASELINE = "cg (matrix-free)"


@dataclass
class DemoResult:
    """What :func:`run_demo` measured.

    Attributes
    ----------
    warmup_seconds
        The one-time cost of the process's first ``deep_cd`` solve (torch import, weights
        load, first network call), measured on a tiny grid before any timed row.
    runs
        Per grid shape, the ``(label, Solution)`` pairs in :data:`DEMO_RUNS` order.
    skipped
        Per grid shape, ``"label: reason"`` for every method not run there.
    """

    warmup_seconds: float
    runs: dict[tuple[int, ...], list[tuple[str, Solution]]] = field(default_factory=dict)
    skipped: dict[tuple[int, ...], list[str]] = field(default_factory=dict)

    def solutions(self) -> list[Solution]:
        """Every solve of the demo."""
        return [sol for pairs in self.runs.values() for _, sol in pairs]


def warm_up() -> float:
    """Pay the one-time costs of ``deep_cd`` on a tiny grid; return the wall seconds."""
    start = time.perf_counter()
    solve(Poisson(shape=WARMUP_SHAPE, rhs="random", seed=0), method="deep_cd")
    return time.perf_counter() - start


def table_rows(pairs: Sequence[tuple[str, Solution]]) -> list[dict[str, Any]]:
    """The rows of one size's table: :func:`~sciml.reporting.solution_row` plus the speed-up
    of each method's total time over matrix-free CG's."""
    baseline = next((sol.total_time for label, sol in pairs if label == BASELINE), None)
    rows = []
    for label, sol in pairs:
        row = solution_row(label, sol)
        speedup = baseline / sol.total_time if baseline and sol.total_time > 0 else None
        row["speed-up vs cg"] = None if speedup is None else f"{speedup:.2f}x"
        rows.append(row)
    return rows


def run_demo(sizes: Sequence[Sequence[int]] = DEFAULT_SIZES, rtol: float = 1e-6,
             seed: int = 0, plot: str | None = "sciml_demo.png", verbose: bool = True,
             progress: bool = True) -> DemoResult:
    """Solve zero-Dirichlet 3D Poisson problems of each size with the demo's methods.

    Parameters
    ----------
    sizes
        Grid shapes of the unknowns, smallest first.
    rtol
        Relative residual every method must reach.
    seed
        Seed of the random right-hand sides.
    plot
        Path of the convergence plot (one panel per size), or None for no plot.
    verbose
        Print the one-time cost, one table per size and the skipped methods to stdout.
    progress
        Print one status line per solve to stderr as it runs.

    Returns
    -------
    DemoResult
        The one-time warm-up seconds, the solutions and the skipped methods per size.
    """
    def status(text: str, end: str = "\n") -> None:
        if progress:
            print(text, end=end, file=sys.stderr, flush=True)

    status("warming up deep_cd (torch import, weights load, first network call) ...", end=" ")
    result = DemoResult(warmup_seconds=warm_up())
    status(f"{result.warmup_seconds:.1f} s")
    for shape in (tuple(int(s) for s in size) for size in sizes):
        problem = Poisson(shape=shape, rhs="random", seed=seed)
        n = problem.b.size
        pairs: list[tuple[str, Solution]] = []
        skipped: list[str] = []
        for run in DEMO_RUNS:
            if run.max_unknowns is not None and n > run.max_unknowns:
                skipped.append(f"{run.label}: {n:,} unknowns is above its limit in the demo "
                               f"({run.max_unknowns:,}): {run.why_not_larger}")
                continue
            status(f"{shape}: {run.label} ...", end=" ")
            sol = solve(problem, method=run.method, rtol=rtol, **run.options)
            status(f"{sol.iterations} iterations, {sol.total_time:.2f} s")
            pairs.append((run.label, sol))
        result.runs[shape], result.skipped[shape] = pairs, skipped
    if verbose:
        print_report(result, rtol, seed)
    if plot:
        panels = [(f"3D Poisson {shape}, rtol {rtol:g}",
                   [(label, sol.residuals) for label, sol in pairs if len(sol.residuals) > 2])
                  for shape, pairs in result.runs.items()]
        path = plot_convergence_panels(panels, plot, tolerance=rtol)
        if verbose:
            print(f"convergence plot: {Path(path).resolve()}")
    return result


def print_report(result: DemoResult, rtol: float, seed: int) -> None:
    """Print the one-time cost line, then per size its heading, table and skipped methods."""
    print(f"3D Poisson, zero Dirichlet, 7-point, random right-hand side (seed {seed}); every "
          f"method to relative residual {rtol:g}")
    print(f"one-time: torch import + weights load + first network call "
          f"{result.warmup_seconds:.1f} s (paid once per process, before timing; in no row)")
    for shape, pairs in result.runs.items():
        print(f"\nshape {shape} ({math.prod(shape):,} unknowns)")
        print(format_table(table_rows(pairs)))
        for line in result.skipped[shape]:
            print(f"skipped {line}")
