"""``sciml demo``: every available method on one 3D Poisson problem, one tolerance.

The learned ``deep_cd`` runs with the multigrid-structured network shipped in
``solvers/deep_cd/weights`` (trained at 32^3; the same weights run at any size)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .api import solve
from .problems import Poisson
from .reporting import format_table, plot_convergence, solution_row
from .solution import Solution

#: (label, method, options); direct is only run on small systems
DEMO_RUNS: list[tuple[str, str, dict[str, Any]]] = [
    ("cg (matrix-free)", "cg", {}),
    ("scipy_cg (CSR)", "scipy_cg", {"history": False}),
    ("amg sa + CG", "amg", {"kind": "sa"}),
    ("amg rs + CG", "amg", {"kind": "rs"}),
    ("direct (SuperLU)", "direct", {}),
    ("deep_cd (shipped net)", "deep_cd", {}),
]
DIRECT_LIMIT = 40_000  # unknowns; SuperLU's fill-in in 3D makes larger solves slow


def run_demo(shape: Sequence[int] = (64, 64, 64), rtol: float = 1e-6, seed: int = 0,
             plot: str | None = "sciml_demo.png", verbose: bool = True) -> list[tuple[str, Solution]]:
    """Solve a zero-Dirichlet 3D Poisson problem with every method; print a table; plot.

    Returns the (label, Solution) pairs. Methods that cannot run here (direct on a large
    system) are listed as skipped rather than silently dropped.
    """
    problem = Poisson(shape=shape, rhs="random", seed=seed)
    n = problem.b.size
    results: list[tuple[str, Solution]] = []
    skipped: list[str] = []
    for label, method, options in DEMO_RUNS:
        if method == "direct" and n > DIRECT_LIMIT:
            skipped.append(f"{label}: {n} unknowns is above the demo's direct-solve limit "
                           f"({DIRECT_LIMIT})")
            continue
        results.append((label, solve(problem, method=method, rtol=rtol, **options)))
    if verbose:
        print(f"3D Poisson, shape {tuple(shape)} ({n:,} unknowns), zero Dirichlet, 7-point, "
              f"random right-hand side (seed {seed}); every method to relative residual {rtol:g}")
        print(format_table([solution_row(label, sol) for label, sol in results]))
        for line in skipped:
            print(f"skipped {line}")
    if plot:
        curves = [(label, sol.residuals) for label, sol in results if len(sol.residuals) > 2]
        path = plot_convergence(curves, plot, title=f"3D Poisson {tuple(shape)}, rtol {rtol:g}",
                                tolerance=rtol)
        if verbose:
            print(f"convergence plot: {Path(path).resolve()}")
    return results
