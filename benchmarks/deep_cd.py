"""deep_cd against cg and amg (SA-PCG) on 3D Poisson: iterations, network calls, seconds.

Every method solves the same system to the same relative tolerance (1e-4 and 1e-6); wall
times are medians of ``--repeats`` solves (one at 128^3), setup (AMG hierarchy, model loading)
reported apart; deep_cd gets one untimed warm-up call per grid size first. Cases:

* ``train-op``: the operator deep_cd was trained on (Dirichlet box, constant coefficient),
  random right-hand side, at 32^3, 64^3, 128^3 and 100^3 (not a power of two);
* unseen, at 64^3: ``gaussians`` (another right-hand-side family), ``coef`` (smooth variable
  coefficient exp(sin sin sin), contrast ~e^2), ``obstacle`` (a sphere with zero-flux walls
  in a pure-Neumann box, singular, as the paper's smoke pressure systems), ``dirichlet-face``
  (Neumann box with one Dirichlet face);
* 2-D, at 1024^2 (``weights/multigrid_2d.pt``): ``poisson-2d`` (Dirichlet box, random
  right-hand side) and ``two-phase-2d`` (cell coefficient 1 or 10^3 split by
  :func:`coefficients.two_phase`, seed 1, which no training used).

``deep_cd`` is the shipped multigrid network; ``deep_cd ref`` the paper's network
(``--reference`` weights, at 32^3 and 64^3 and rtol 1e-6 only: one call costs seconds).

    python benchmarks/deep_cd.py                       # everything (about 85 min, 2 cores;
                                                       # cg on two-phase-2d alone takes 15)
    python benchmarks/deep_cd.py --sizes 32 --cases train-op --repeats 1   # quick look
    python benchmarks/deep_cd.py --cases poisson-2d two-phase-2d             # the 2-D rows

Writes benchmarks/results/deep_cd.{json,png} and prints Markdown tables.
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
from sciml.reporting import format_table, plot_convergence

sys.path.insert(0, str(Path(__file__).parent))
from coefficients import two_phase  # noqa: E402 - the benchmarks' shared fields

CASES = ("train-op", "gaussians", "coef", "obstacle", "dirichlet-face", "poisson-2d",
         "two-phase-2d")
UNSEEN_SIZE = 64
#: the 2-D cases' grid and the two-phase case's contrast (the issue's 2-D goals)
PLANE_SIZE, PLANE_CONTRAST = 1024, 1e3
REFERENCE_RTOL = 1e-6


def make_problem(case: str, n: int) -> sciml.problems.Poisson:
    """The Poisson problem of ``case`` on an ``n^3`` grid (``n^2`` for the 2-D cases)."""
    if case == "poisson-2d":
        return sciml.problems.Poisson((n, n), rhs="random", seed=0)
    if case == "two-phase-2d":
        return sciml.problems.Poisson((n, n), rhs="random", seed=0,
                                      coefficient=two_phase((n, n), PLANE_CONTRAST, seed=1))
    shape = (n, n, n)
    axes = np.meshgrid(*[(np.arange(n) + 1.0) / (n + 1.0)] * 3, indexing="ij")
    if case == "train-op":
        return sciml.problems.Poisson(shape, rhs="random", seed=0)
    if case == "gaussians":
        return sciml.problems.Poisson(shape, rhs="gaussians", seed=0)
    if case == "coef":
        k = np.exp(np.sin(2 * np.pi * axes[0]) * np.sin(2 * np.pi * axes[1])
                   * np.sin(2 * np.pi * axes[2]))
        return sciml.problems.Poisson(shape, rhs="random", coefficient=k, seed=0)
    if case == "obstacle":
        r2 = sum((a - c) ** 2 for a, c in zip(axes, (0.5, 0.5, 0.35)))
        return sciml.problems.Poisson(shape, rhs="gaussians", mask=r2 < 0.15**2, bc="neumann",
                                      seed=0)
    if case == "dirichlet-face":
        bc = ["neumann"] * 5 + ["dirichlet"]
        return sciml.problems.Poisson(shape, rhs="gaussians", bc=bc, seed=0)
    raise ValueError(f"unknown case {case!r}; expected one of {CASES}")


def size_label(problem: sciml.problems.Poisson) -> str:
    """``64^3`` or ``1024^2``: the grid of a cubic or square problem."""
    shape = problem.shape
    return f"{shape[0]}^{len(shape)}"


def methods(n: int, case: str, rtol: float, reference: str | None
            ) -> list[tuple[str, str, dict]]:
    """(label, method, options) of every method run on this case, size and tolerance; the
    reference network only at the tightest tolerance (its calls cost seconds)."""
    out = [("cg", "cg", {}), ("amg sa+cg", "amg", {"kind": "sa"}), ("deep_cd", "deep_cd", {})]
    if reference and n <= 64 and case == "train-op" and rtol == REFERENCE_RTOL:
        out.append(("deep_cd ref", "deep_cd", {"model": reference, "maxiter": 60}))
    return out


def run(sizes: list[int], cases: list[str], rtols: list[float], repeats: int,
        reference: str | None) -> dict:
    rows, curves = [], {}
    jobs = [("train-op", n) for n in sizes if "train-op" in cases]
    jobs += [(c, PLANE_SIZE if c.endswith("-2d") else UNSEEN_SIZE) for c in cases
             if c != "train-op"]
    for case, n in jobs:
        problem = make_problem(case, n)
        size = size_label(problem)
        cg_iterations = {}
        for rtol in rtols:
            for label, method, options in methods(n, case, rtol, reference):
                count = 1 if n >= 128 or label == "deep_cd ref" else repeats
                if method == "deep_cd":  # untimed: oneDNN builds its kernels per grid size
                    sciml.solve(problem, method=method, **{**options, "maxiter": 1})
                sols = [sciml.solve(problem, method=method, rtol=rtol, **options)
                        for _ in range(count)]
                sol = sols[0]
                setup = statistics.median(s.setup_time for s in sols)
                solve = statistics.median(s.solve_time for s in sols)
                if method == "cg":
                    cg_iterations[rtol] = sol.iterations
                    cg_per_iteration = solve / max(sol.iterations, 1)
                calls = sol.info.get("network_calls")
                per_call = (statistics.median(s.info["network_seconds"] / s.info["network_calls"]
                                              for s in sols) if calls else None)
                rows.append({
                    "case": case, "size": size, "rtol": rtol, "method": label,
                    "converged": all(s.converged for s in sols), "iterations": sol.iterations,
                    "net calls": calls, "fallbacks": sol.info.get("fallbacks"),
                    "setup s": setup, "solve s": solve, "total s": setup + solve,
                    "call s": per_call,
                    "call / cg it": per_call / cg_per_iteration if per_call else None,
                    "cg it / it": cg_iterations[rtol] / max(sol.iterations, 1),
                    "final rel. res.": sol.info["residual_norm"] / sol.info["b_norm"],
                })
                print(f"{case} {size} rtol {rtol:g} {label}: {sol.iterations} it, "
                      f"setup {setup:.3g} s, solve {solve:.3g} s", flush=True)
                if rtol == min(rtols):
                    curves.setdefault(f"{case} {size}", []).append(
                        (label, sol.residuals.tolist()))
    return {"rows": rows, "curves": curves}


def goals(rows: list[dict], rtol: float) -> list[dict]:
    """The issue's goals for the shipped network, measured."""
    by = {(r["case"], r["size"], r["rtol"], r["method"]): r for r in rows}
    get = lambda case, n, m: by.get((case, f"{n}^3", rtol, m))  # noqa: E731
    out = []
    d32, d64, d128 = (get("train-op", n, "deep_cd") for n in (32, 64, 128))
    if d64 and d128:
        worst = max(d64["iterations"], d128["iterations"])
        out.append({"goal": f"iterations to {rtol:g} <= 8 at 64^3 and 128^3",
                    "measured": f"{d64['iterations']} and {d128['iterations']}",
                    "met": worst <= 8})
    if d32 and d128:
        growth = d128["iterations"] / d32["iterations"]
        out.append({"goal": "growth 32^3 -> 128^3 <= 1.2x", "measured": f"{growth:.2f}x",
                    "met": growth <= 1.2})
    amg, cg = get("train-op", 128, "amg sa+cg"), get("train-op", 128, "cg")
    if d128 and amg and cg:
        for name, ref, bound in (("amg", amg, 1 / 3), ("cg", cg, 1 / 2), ("amg (stretch)", amg,
                                                                         1 / 5)):
            ratio = d128["total s"] / ref["total s"]
            out.append({"goal": f"128^3 total time <= {bound:.2g} of {name}",
                        "measured": f"{ratio:.2f}", "met": ratio <= bound})
    for case in ("coef", "obstacle"):
        d, c = get(case, UNSEEN_SIZE, "deep_cd"), get(case, UNSEEN_SIZE, "cg")
        if d and c:
            ratio = c["iterations"] / max(d["iterations"], 1)
            out.append({"goal": f"{case} {UNSEEN_SIZE}^3: >= 10x fewer iterations than cg",
                        "measured": f"{ratio:.1f}x", "met": ratio >= 10 and d["converged"]})
    for case in ("poisson-2d", "two-phase-2d"):
        d, amg = (by.get((case, f"{PLANE_SIZE}^2", rtol, m)) for m in ("deep_cd", "amg sa+cg"))
        if d and amg:
            out.append({"goal": f"{case} {PLANE_SIZE}^2: <= 2x SA iterations, total time <= SA",
                        "measured": f"{d['iterations']} vs {amg['iterations']} iterations, "
                                    f"{d['total s']:.2f} vs {amg['total s']:.2f} s, "
                                    f"{d['fallbacks']} fallbacks",
                        "met": d["converged"] and d["iterations"] <= 2 * amg["iterations"]
                        and d["total s"] <= amg["total s"]})
    ref, c = get("train-op", 64, "deep_cd ref"), get("train-op", 64, "cg")
    if ref and c:
        out.append({"goal": "reference net: iterations well below cg at 64^3",
                    "measured": f"{ref['iterations']} vs {c['iterations']} (converged: "
                                f"{ref['converged']})",
                    "met": ref["converged"] and ref["iterations"] * 2 <= c["iterations"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 100])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--rtols", type=float, nargs="+", default=[1e-4, 1e-6])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    default_ref = Path(__file__).resolve().parents[1] / "solvers/deep_cd/weights/reference_3d.pt"
    parser.add_argument("--reference", default=str(default_ref) if default_ref.exists() else None,
                        help="weights of the paper's network (omit to skip it)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    header = (f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"torch {torch.__version__} ({args.threads} threads), NumPy {np.__version__}, "
              f"sciml {sciml.__version__}")
    print(header)
    results = run(args.sizes, args.cases, args.rtols, args.repeats, args.reference)
    results["machine"] = header
    results["goals"] = goals(results["rows"], min(args.rtols))
    print()
    print(format_table(results["rows"]))
    print()
    print(format_table(results["goals"]))
    (args.out / "deep_cd.json").write_text(json.dumps(results, indent=1))
    for name, curves in results["curves"].items():
        if name.startswith("train-op 128") or name.startswith("obstacle"):
            plot_convergence(curves, args.out / f"deep_cd_{name.split()[0]}.png",
                             title=f"{name}, rtol {min(args.rtols):g}",
                             tolerance=min(args.rtols))
    print(f"\nwrote {args.out / 'deep_cd.json'} and plots in {args.out}")


if __name__ == "__main__":
    main()
