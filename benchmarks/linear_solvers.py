"""Classical linear solvers on 3D Poisson: iterations, time, memory, bandwidth bound.

Every method solves the same zero-Dirichlet 7-point Poisson system (random right-hand side)
to the same relative tolerance; each configuration is repeated and the median wall time is
reported. In the same run the machine's copy bandwidth is measured, and each CG-type
method's seconds per iteration are compared with the bandwidth bound of matrix-free CG
(about 112 N bytes moved per iteration in float64).

    python benchmarks/linear_solvers.py                 # 32^3, 64^3, 128^3; rtol 1e-6, 1e-8
    python benchmarks/linear_solvers.py --large         # adds 256^3 (matrix-free cg only)
    python benchmarks/linear_solvers.py --sizes 32 --repeats 1   # quick look

Writes benchmarks/results/linear_solvers.{json,png} and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

import sciml
from sciml.reporting import format_table, plot_convergence

BYTES_PER_CG_ITERATION = 112  # per unknown: matvec 16, p.q 16, two axpys 48, r.r 8, p 24

METHODS = [  # (label, method, options, largest size it runs at)
    ("cg (matrix-free)", "cg", {}, 256),
    ("cg (CSR)", "cg", {"matrix_free": False}, 128),
    ("scipy_cg (CSR)", "scipy_cg", {"history": False}, 128),
    ("amg sa + CG", "amg", {"kind": "sa"}, 128),
    ("amg rs + CG", "amg", {"kind": "rs"}, 128),
    ("direct (SuperLU)", "direct", {}, 32),
]


def copy_bandwidth(megabytes: int = 256, repeats: int = 7) -> float:
    """Median copy bandwidth in bytes/s (bytes read + bytes written) of a large array."""
    src = np.random.default_rng(0).random(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return 2 * src.nbytes / statistics.median(times)


def peak_python_memory(problem: sciml.problems.Poisson, method: str, options: dict,
                       rtol: float) -> float:
    """Peak bytes allocated through Python/NumPy during one solve (tracemalloc, untimed)."""
    tracemalloc.start()
    try:
        sciml.solve(problem, method=method, rtol=rtol, **options)
        return float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def run(sizes: list[int], rtols: list[float], repeats: int, out: Path) -> dict:
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s (256 MiB arrays, median of 7)")
    rows, curves = [], {}
    for n in sizes:
        problem = sciml.problems.Poisson(shape=(n, n, n), rhs="random", seed=0)
        unknowns = n**3
        bound = BYTES_PER_CG_ITERATION * unknowns / bandwidth
        for rtol in rtols:
            for label, method, options, largest in METHODS:
                if n > largest:
                    continue
                sols = [sciml.solve(problem, method=method, rtol=rtol, **options)
                        for _ in range(repeats)]
                sol = sols[0]
                setup = statistics.median(s.setup_time for s in sols)
                solve = statistics.median(s.solve_time for s in sols)
                per_iteration = solve / max(sol.iterations, 1)
                cg_like = method in ("cg", "scipy_cg")
                row = {
                    "size": f"{n}^3", "rtol": rtol, "method": label,
                    "converged": all(s.converged for s in sols), "iterations": sol.iterations,
                    "setup s": setup, "solve s": solve, "total s": setup + solve,
                    "s/iteration": per_iteration,
                    "x bound": per_iteration / bound if cg_like else None,
                    "peak MiB": peak_python_memory(problem, method, options, rtol) / 2**20,
                    "final rel. residual": sol.info["residual_norm"] / sol.info["b_norm"],
                }
                rows.append(row)
                print(f"{n}^3 rtol {rtol:g} {label}: {sol.iterations} it, setup {setup:.3g} s, "
                      f"solve {solve:.3g} s", flush=True)
                if rtol == min(rtols) and len(sol.residuals) > 2:
                    curves.setdefault(n, []).append((label, sol.residuals.tolist()))
    return {"bandwidth_bytes_per_s": bandwidth, "rows": rows, "curves": curves}


def huge_cg(n: int) -> dict:
    """Matrix-free cg at n^3 with the process's peak resident memory (the 24 GiB check)."""
    problem = sciml.problems.Poisson(shape=(n, n, n), rhs="random", seed=0)
    sol = sciml.solve(problem, method="cg", rtol=1e-6)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"size": f"{n}^3", "unknowns": n**3, "converged": sol.converged,
            "iterations": sol.iterations, "solve s": sol.solve_time,
            "s/iteration": sol.solve_time / sol.iterations, "peak RSS GiB": peak_gib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--rtols", type=float, nargs="+", default=[1e-6, 1e-8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="also solve 256^3 with cg")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    header = (f"machine: {platform.processor() or platform.machine()}, "
              f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}, "
              f"NumPy {np.__version__}, sciml {sciml.__version__}")
    print(header)
    results = run(args.sizes, args.rtols, args.repeats, args.out)
    results["machine"] = header
    columns = ["size", "rtol", "method", "converged", "iterations", "setup s", "solve s",
               "total s", "s/iteration", "x bound", "peak MiB", "final rel. residual"]
    print()
    print(format_table(results["rows"], columns))

    by = {(r["size"], r["rtol"], r["method"]): r for r in results["rows"]}
    summary = []
    for n in args.sizes:
        for rtol in args.rtols:
            ours = by.get((f"{n}^3", rtol, "cg (matrix-free)"))
            ref = by.get((f"{n}^3", rtol, "scipy_cg (CSR)"))
            if ours and ref:
                summary.append({"size": f"{n}^3", "rtol": rtol, "cg s/it": ours["s/iteration"],
                                "scipy_cg s/it": ref["s/iteration"],
                                "scipy_cg / cg": ref["s/iteration"] / ours["s/iteration"],
                                "cg / bandwidth bound": ours["x bound"]})
    results["summary"] = summary
    print()
    print(format_table(summary))

    if args.large:
        big = huge_cg(256)
        results["large"] = big
        print()
        print(format_table([big]))

    (args.out / "linear_solvers.json").write_text(json.dumps(results, indent=1))
    for n, curves in results["curves"].items():
        plot_convergence(curves, args.out / f"linear_solvers_{n}.png",
                         title=f"3D Poisson {n}^3, rtol {min(args.rtols):g}",
                         tolerance=min(args.rtols))
    print(f"\nwrote {args.out / 'linear_solvers.json'} and residual plots in {args.out}")


if __name__ == "__main__":
    main()
