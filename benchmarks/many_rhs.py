"""Many right-hand sides with one operator: ``sciml.prepare`` + solves vs ``sciml.solve`` calls.

The use case of pyamg's ``ml.solve(b)`` loop and of DCDM's pressure solve per time step: one
3D Poisson operator (zero Dirichlet, 7-point), ``--rhs`` random right-hand sides, every solve
to relative residual ``--rtol``. For each method, in the same run:

* **plain**: one ``sciml.solve(problem_i, method)`` per right-hand side (each rebuilds the
  set-up: AMG hierarchy, SuperLU factors, deep_cd's network and coarse operators);
* **prepared**: ``prepared = sciml.prepare(problem, method)`` once, then
  ``prepared.solve(b_i)`` per right-hand side.

Reported per method: the set-up time, the median solve phase (``Solution.solve_time``),
the prepared run's total wall time, the **rebuild check** ``prepared total / (median plain
set-up + N x median plain solve phase)`` (1.00 means no hidden rebuild; goal within 5 %), and
the **saving** ``plain total / prepared total``. For ``deep_cd`` also the **per-solve
overhead**: the share of a prepared solve's wall time spent outside the method's iteration
(checking and moving ``b``, the recomputed true residual, building the Solution), goal
<= 5 %.

    python benchmarks/many_rhs.py                       # 128^3 (amg, deep_cd), direct at 32^3
    python benchmarks/many_rhs.py --methods direct      # re-measure one method's row
    python benchmarks/many_rhs.py --quick               # 32^3 / 16^3, 3 right-hand sides

Writes benchmarks/results/many_rhs.{json,png} and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import sciml
from sciml.reporting import format_table

RESULTS = Path(__file__).resolve().parent / "results"


def right_hand_sides(shape: tuple[int, ...], count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` random right-hand sides ``b`` of the discrete system, flat."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(int(np.prod(shape))) for _ in range(count)]


def measure(method: str, shape: tuple[int, ...], count: int, rtol: float) -> dict[str, Any]:
    """The plain and the prepared run of ``method`` on ``count`` right-hand sides."""
    rhs = right_hand_sides(shape, count)
    base = sciml.problems.Poisson(shape=shape, rhs="random")
    problems = [sciml.problems.Poisson(shape=shape, rhs=b.reshape(shape) / base.h**2)
                for b in rhs]
    sciml.solve(sciml.problems.Poisson(shape=(8,) * len(shape)), method=method)  # imports

    plain, plain_walls = [], []
    for problem in problems:
        t0 = time.perf_counter()
        plain.append(sciml.solve(problem, method=method, rtol=rtol))
        plain_walls.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    prepared = sciml.prepare(base, method=method)
    walls, sols = [], []
    for b in rhs:
        t1 = time.perf_counter()
        sols.append(prepared.solve(b, rtol=rtol))
        walls.append(time.perf_counter() - t1)
    prepared_total = time.perf_counter() - t0

    A = base.to_linear_problem().A
    for b, sol, ref in zip(rhs, sols, plain):
        relative = np.linalg.norm(b - A @ sol.x.ravel()) / np.linalg.norm(b)
        if not (sol.converged and ref.converged and relative <= rtol * (1 + 1e-9)):
            raise RuntimeError(f"{method}: a solve missed rtol {rtol} ({sol.info['reason']}, "
                               f"recomputed relative residual {relative:.3e})")
    expected = (statistics.median(s.setup_time for s in plain)
                + count * statistics.median(s.solve_time for s in plain))
    overhead = [(w - s.solve_time) / w for w, s in zip(walls, sols)]
    return {"method": method, "size": "x".join(map(str, shape)), "rhs": count,
            "iterations": statistics.median(s.iterations for s in sols),
            "setup s": prepared.setup_time,
            "solve s (median)": statistics.median(s.solve_time for s in sols),
            "plain total s": sum(plain_walls), "prepared total s": prepared_total,
            "rebuild check": prepared_total / expected,
            "saving x": sum(plain_walls) / prepared_total,
            "per-solve overhead %": 100 * statistics.median(overhead)}


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Bars of the plain and prepared totals per method."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    labels = [f"{r['method']}\n{r['size']}" for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.bar(x - 0.2, [r["plain total s"] for r in rows], 0.4, label="sciml.solve per rhs")
    ax.bar(x + 0.2, [r["prepared total s"] for r in rows], 0.4, label="prepare + solve(b)")
    for xi, r in zip(x, rows):
        ax.text(xi + 0.2, r["prepared total s"], f"{r['saving x']:.1f}x", ha="center",
                va="bottom")
    ax.set_xticks(x, labels)
    ax.set_ylabel(f"wall seconds for {rows[0]['rhs']} right-hand sides")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=128, help="grid extent for amg, deep_cd")
    parser.add_argument("--direct-size", type=int, default=32,
                        help="grid extent for direct (SuperLU's 3D fill: 6 s per factor at 32^3)")
    parser.add_argument("--rhs", type=int, default=20, help="right-hand sides")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--methods", nargs="+", default=["amg", "direct", "deep_cd"])
    parser.add_argument("--quick", action="store_true", help="32^3 / 16^3, 3 rhs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.direct_size, args.rhs = 32, 16, 3
    args.out.mkdir(parents=True, exist_ok=True)
    header = (f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.2f} at start, Python {platform.python_version()}, "
              f"NumPy {np.__version__}, sciml {sciml.__version__}")
    print(header)
    rows = []
    for method in args.methods:
        n = args.direct_size if method == "direct" else args.size
        rows.append(measure(method, (n, n, n), args.rhs, args.rtol))
        print(format_table(rows[-1:]))
    print()
    print(format_table(rows))
    path = args.out / "many_rhs.json"
    record = json.loads(path.read_text()) if path.is_file() else {"runs": {}}
    for row in rows:  # a method's row replaces its earlier one; the others are kept
        record["runs"][row["method"]] = {"machine": header, "rtol": args.rtol,
                                         "load_at_end": os.getloadavg()[0], **row}
    path.write_text(json.dumps(record, indent=1))
    rows = list(record["runs"].values())
    print(f"\nwrote {path} and {plot(rows, args.out / 'many_rhs.png')}")


if __name__ == "__main__":
    main()
