"""deep_cd on two-phase coefficients of rising contrast against amg (SA-PCG) and cg.

The pressure systems of two-phase flow: the 3D 7-point Poisson operator with cell
coefficient 1 or ``c`` split by a thresholded sum of random sine waves
(:func:`coefficients.two_phase`, seed 1, which no training used), contrast c = 10 ... 10^6,
random right-hand side, every method to the same relative tolerance. Rows:

* ``cg`` (matrix-free), ``amg sa+cg`` (pyamg smoothed aggregation, setup apart);
* ``deep_cd``: the shipped network with its default ``fallback="auto"`` (pyamg SA-PCG from
  the current iterate once the network has been switched off);
* ``deep_cd fb=cg``: the same with ``fallback="cg"``;
* ``deep_cd galerkin``: the network with the linear interpolation's Galerkin levels and
  their weights (``coarsening="galerkin"``; the default, ``"auto"``, takes the smoothed
  transfers, their levels and weights at contrast above 10);
* ``deep_cd rediscretised``: the network with rediscretised coarse levels and the weights
  trained for them (``coarsening="rediscretise"``);
* ``deep_cd no-net``: ``network=False, fallback="cg"``: what deep_cd costs with the network
  disabled, as seconds per iteration against cg's (the issue's bound: <= 1.1x).

Seconds are medians of ``--repeats`` solves (one at 128^3); cg stops at ``--maxiter``.

    python benchmarks/deep_cd_contrast.py                      # 64^3, five contrasts
    python benchmarks/deep_cd_contrast.py --sizes 64 128 --repeats 3
    python benchmarks/deep_cd_contrast.py --sizes 128 --methods "amg sa+cg" deep_cd  # no cg

Writes benchmarks/results/deep_cd_contrast.{json,png} and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

import sciml
from sciml.reporting import format_table

sys.path.insert(0, str(Path(__file__).parent))
from coefficients import two_phase  # noqa: E402 - the benchmarks' shared fields

METHODS = (("cg", "cg", {}), ("amg sa+cg", "amg", {"kind": "sa"}),
           ("deep_cd", "deep_cd", {}), ("deep_cd fb=cg", "deep_cd", {"fallback": "cg"}),
           ("deep_cd galerkin", "deep_cd", {"coarsening": "galerkin"}),
           ("deep_cd rediscretised", "deep_cd", {"coarsening": "rediscretise"}),
           ("deep_cd no-net", "deep_cd", {"network": False, "fallback": "cg"}))
LABELS = [label for label, _, _ in METHODS]


def measure(problem: sciml.problems.Poisson, method: str, options: dict, rtol: float,
            maxiter: int, repeats: int) -> tuple[sciml.Solution, float, float]:
    """The first Solution and the median setup and solve seconds of ``repeats`` solves."""
    if method == "deep_cd":  # untimed: oneDNN builds its kernels per grid size
        sciml.solve(problem, method=method, **{**options, "maxiter": 1})
    sols = [sciml.solve(problem, method=method, rtol=rtol, maxiter=maxiter, **options)
            for _ in range(repeats)]
    return (sols[0], statistics.median(s.setup_time for s in sols),
            statistics.median(s.solve_time for s in sols))


def run(sizes: list[int], contrasts: list[float], rtol: float, maxiter: int,
        repeats: int, labels: list[str]) -> list[dict]:
    rows = []
    for n in sizes:
        for contrast in contrasts:
            shape = (n, n, n)
            problem = sciml.problems.Poisson(shape, rhs="random", seed=0,
                                             coefficient=two_phase(shape, contrast))
            cg_per_it = None
            for label, method, options in [m for m in METHODS if m[0] in labels]:
                sol, setup, solve = measure(problem, method, options, rtol, maxiter,
                                            1 if n >= 128 else repeats)
                per_it = solve / max(sol.iterations, 1)
                if method == "cg":
                    cg_per_it = per_it
                info = sol.info
                rows.append({
                    "size": f"{n}^3", "contrast": contrast, "method": label,
                    "converged": bool(sol.converged), "iterations": sol.iterations,
                    "net calls": info.get("network_calls"), "fallbacks": info.get("fallbacks"),
                    "net off at": info.get("network_disabled_at"),
                    "then": (f"{info['fallback']} {info['fallback_iterations']} it"
                             if "fallback" in info else None),
                    "setup s": setup, "solve s": solve, "total s": setup + solve,
                    "s / it vs cg": None if cg_per_it is None else per_it / cg_per_it,
                    "final rel. res.": info["residual_norm"] / info["b_norm"]})
                print(f"{n}^3 c={contrast:g} {label}: {sol.iterations} it, total "
                      f"{setup + solve:.3g} s", flush=True)
    return rows


def goals(rows: list[dict]) -> list[dict]:
    """The issue's goals, measured: per size and contrast, deep_cd (default) against SA."""
    by = {(r["size"], r["contrast"], r["method"]): r for r in rows}
    out = []
    for (size, contrast, method), d in by.items():
        amg = by.get((size, contrast, "amg sa+cg"))
        if method == "deep_cd" and amg is not None:
            no_net = by.get((size, contrast, "deep_cd no-net"))
            out.append({"size": size, "contrast": contrast,
                        "no fallback, converged": d["converged"] and not d["fallbacks"],
                        "it / SA it (<= 2)": d["iterations"] / amg["iterations"],
                        "time / SA time (<= 1)": d["total s"] / amg["total s"],
                        "no-net s/it / cg (<= 1.1)": None if no_net is None
                        else no_net["s / it vs cg"]})
    return out


def plot(rows: list[dict], path: Path) -> None:
    """Iterations and total seconds against contrast, one line per method and size."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for label in sorted({r["method"] for r in rows}, key=LABELS.index):
        for size in sorted({r["size"] for r in rows}):
            sel = [r for r in rows if r["method"] == label and r["size"] == size]
            c = [r["contrast"] for r in sel]
            style = dict(marker="o", label=f"{label} {size}")
            axes[0].loglog(c, [r["iterations"] for r in sel], **style)
            axes[1].loglog(c, [r["total s"] for r in sel], **style)
    for ax, what in zip(axes, ("iterations", "total seconds")):
        ax.set_xlabel("contrast")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("two-phase Poisson (sine-wave interfaces), rtol 1e-6")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64])
    parser.add_argument("--contrasts", type=float, nargs="+",
                        default=[1e1, 1e2, 1e3, 1e4, 1e6])
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--maxiter", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", nargs="+", choices=LABELS, default=LABELS,
                        help="rows to run (default: all; cg needs thousands of iterations at "
                             "high contrast)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    header = (f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"torch {torch.__version__} ({args.threads} threads), NumPy {np.__version__}, "
              f"sciml {sciml.__version__}, rtol {args.rtol:g}")
    print(header, flush=True)
    rows = run(args.sizes, args.contrasts, args.rtol, args.maxiter, args.repeats,
               args.methods)
    result = {"machine": header, "rows": rows, "goals": goals(rows)}
    print()
    print(format_table(rows))
    print()
    print(format_table(result["goals"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "deep_cd_contrast.json").write_text(json.dumps(result, indent=1))
    plot(rows, args.out / "deep_cd_contrast.png")
    print(f"\nwrote {args.out / 'deep_cd_contrast.json'} and deep_cd_contrast.png")


if __name__ == "__main__":
    main()
