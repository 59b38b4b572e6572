"""PINN, causal PINN and Lagrangian PINN on convection, convection-diffusion and Burgers.

Metric: relative L2 (Frobenius) error of the space-time field on the 256 x 100 grid
(``points=256``, ``times=100``: x_j = 2 pi j / 256, t_k = k / 99) against the ``spectral``
reference (the exact Fourier multiplier; ETDRK4 on a fine grid for Burgers), per seed, with
the wall time of the whole training + prediction. Every learned method gets the same budget:
the solvers' default network sizes, ``points`` collocation points, ``steps`` Adam then L-BFGS
steps (``--steps``, default 1000 + 1500); the causal PINN spends the same number of steps in
Adam alone (L-BFGS's line search cannot follow its moving weights).

Parts (each merges its rows into ``benchmarks/results/pinns_<part>.json`` as they finish, a
rerun of a case/method/seed replacing the old row; ``--betas`` and ``--seeds`` split a part;
``--report`` builds the tables and the beta-sweep plot ``benchmarks/results/pinns_sweep.png``
from what is there)::

    python benchmarks/pinns.py --part lpinn        # beta 30, 50, 100 and conv-diff, 3 seeds
    python benchmarks/pinns.py --part pinn         # plain and causal PINN, beta 30, 50, 100
    python benchmarks/pinns.py --part sweep        # beta 10, 20, 70, both methods, seed 0
    python benchmarks/pinns.py --part deepxde      # DeepXDE's PINN (extra 'bench'), beta 30, 50
    python benchmarks/pinns.py --part burgers      # u0 = -sin(2 pi x), nu = 0.01/pi
    python benchmarks/pinns.py --report

Run each part with ``OMP_NUM_THREADS=1`` (the script also sets one torch thread).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import sciml
from sciml.reporting import format_table

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = (0, 1, 2)
GRID = {"points": 256, "times": 100}
#: the Burgers case of the issue: a front forms at t = 1 / (2 pi) ~ 0.16 and steepens
BURGERS_NU = 0.01 / math.pi
#: the Burgers reference: 16x finer grid and a step far below the explicit limit
BURGERS_FINE, BURGERS_DT = 16, 2e-5


def rel_l2(u: np.ndarray, exact: np.ndarray) -> float:
    """Frobenius-norm relative error of a space-time field."""
    return float(np.linalg.norm(u - exact) / np.linalg.norm(exact))


def convection(beta: float, nu: float = 0.0) -> tuple[Any, np.ndarray]:
    """The problem on the 256-point grid and its exact 100 x 256 field."""
    problem = sciml.problems.Convection1D(beta=beta, nu=nu, points=GRID["points"])
    return problem, sciml.solve(problem, method="spectral", times=GRID["times"]).info["u_tx"]


def burgers() -> tuple[Any, np.ndarray]:
    """Burgers with u0 = -sin(2 pi x) on 256 points, and its reference on the same grid.

    The reference is ``spectral`` on 16 x 256 points with ``dt = 2e-5``, sampled back;
    :func:`burgers_reference_check` compares it with 8 x 256 points and twice the step.
    """
    x = np.arange(GRID["points"]) / GRID["points"]
    problem = sciml.problems.Burgers1D(-np.sin(2 * np.pi * x), nu=BURGERS_NU, t=1.0)
    return problem, burgers_reference(BURGERS_FINE, BURGERS_DT)


def burgers_reference(fine: int, dt: float) -> np.ndarray:
    """``spectral`` on ``fine`` x 256 points, sampled at the 256-point grid."""
    n = GRID["points"] * fine
    u0 = -np.sin(2 * np.pi * np.arange(n) / n)
    sol = sciml.solve(sciml.problems.Burgers1D(u0, nu=BURGERS_NU, t=1.0), method="spectral",
                      times=GRID["times"], dt=dt)
    return sol.info["u_tx"][:, ::fine]


def run(method: str, problem: Any, exact: np.ndarray, seed: int,
        options: dict[str, Any]) -> dict[str, Any]:
    """One training run: error, wall seconds, steps, final loss."""
    t0 = time.perf_counter()
    sol = sciml.solve(problem, method=method, seed=seed, times=GRID["times"], **options)
    seconds = time.perf_counter() - t0
    row = {"method": method + (" causal" if options.get("causal") else ""),
           "seed": seed, "rel_l2": rel_l2(sol.info["u_tx"], exact), "seconds": seconds,
           "steps": sol.iterations, "final_loss": sol.info["history"][-1]}
    if "crossed_levels" in sol.info:
        row["crossed_levels"] = sol.info["crossed_levels"]
    print(json.dumps(row), flush=True)
    return row


def deepxde_run(beta: float, seed: int, steps: tuple[int, int], points: int,
                exact: np.ndarray) -> dict[str, Any] | None:
    """DeepXDE's PINN (PyTorch backend) on the same convection problem, or None if absent."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    try:
        import deepxde as dde  # noqa: PLC0415 - optional extra 'bench'
    except ImportError as exc:
        print(f"deepxde row skipped: deepxde is not installed ({exc}); "
              "pip install 'sciml-solve[bench]'")
        return None
    t0 = time.perf_counter()
    dde.config.set_random_seed(seed)
    geometry = dde.geometry.GeometryXTime(dde.geometry.Interval(0, 2 * np.pi),
                                          dde.geometry.TimeDomain(0, 1))

    def residual(xt: Any, u: Any) -> Any:
        return (dde.grad.jacobian(u, xt, i=0, j=1)
                + beta * dde.grad.jacobian(u, xt, i=0, j=0))

    conditions = [dde.icbc.PeriodicBC(geometry, 0, lambda _, on: on),
                  dde.icbc.IC(geometry, lambda xt: np.sin(xt[:, :1]), lambda _, on: on)]
    data = dde.data.TimePDE(geometry, residual, conditions, num_domain=points,
                            num_boundary=128, num_initial=256)
    model = dde.Model(data, dde.nn.FNN([2] + [50] * 4 + [1], "tanh", "Glorot normal"))
    model.compile("adam", lr=1e-3)
    model.train(iterations=steps[0], display_every=10**9, verbose=0)
    dde.optimizers.config.set_LBFGS_options(maxiter=steps[1])
    model.compile("L-BFGS")
    model.train(display_every=10**9, verbose=0)
    x = np.arange(GRID["points"]) * 2 * np.pi / GRID["points"]
    tt, xx = np.meshgrid(np.linspace(0, 1, GRID["times"]), x, indexing="ij")
    u = model.predict(np.stack([xx.ravel(), tt.ravel()], 1)).reshape(tt.shape)
    row = {"method": "deepxde pinn", "seed": seed, "rel_l2": rel_l2(u, exact),
           "seconds": time.perf_counter() - t0, "steps": sum(steps), "final_loss": None}
    print(json.dumps(row), flush=True)
    return row


#: the betas of each convection part (``--betas`` overrides)
PART_BETAS = {"lpinn": (30.0, 50.0, 100.0), "pinn": (30.0, 50.0, 100.0),
              "sweep": (10.0, 20.0, 70.0), "deepxde": (30.0, 50.0)}


def part_rows(part: str, args: argparse.Namespace,
              record: Callable[[dict[str, Any]], None]) -> None:
    """Run every case of ``part``, handing each finished row (tagged with its case) to
    ``record``."""
    budget = {"steps": tuple(args.steps), "points": args.points}
    betas = tuple(args.betas or PART_BETAS.get(part, ()))
    seeds = tuple(args.seeds)

    def case(label: str, problem_and_exact: tuple[Any, np.ndarray], beta: float | None,
             runs: list[tuple[str, dict[str, Any]]]) -> None:
        problem, exact = problem_and_exact
        for method, options in runs:
            for seed in seeds:
                record({"case": label, "beta": beta,
                        **run(method, problem, exact, seed, {**budget, **options})})

    # the causal weights move with the parameters, so L-BFGS's line search (which needs
    # one fixed objective) takes its 25 evaluations a step: the causal PINN spends the same
    # number of steps in Adam alone, as Wang et al. do
    causal = {"causal": args.causal, "stages": (("adam", {"lr": 1e-3}),),
              "steps": (sum(args.steps),)}
    if part == "lpinn":
        for beta in betas:
            case(f"convection beta={beta:g}", convection(beta), beta, [("lpinn", {})])
        if not args.betas:
            case("conv-diff beta=30 nu=0.1", convection(30.0, 0.1), 30.0, [("lpinn", {})])
    elif part == "pinn":
        for beta in betas:
            case(f"convection beta={beta:g}", convection(beta), beta,
                 [("pinn", options) for kind, options in (("plain", {}), ("causal", causal))
                  if kind in args.pinns])
    elif part == "sweep":
        for beta in betas:
            case(f"convection beta={beta:g}", convection(beta), beta,
                 [("lpinn", {}), ("pinn", {})])
    elif part == "deepxde":
        for beta in betas:
            for seed in seeds:
                row = deepxde_run(beta, seed, tuple(args.steps), args.points,
                                  convection(beta)[1])
                if row is not None:
                    record({"case": f"convection beta={beta:g}", "beta": beta, **row})
    elif part == "burgers":
        check = rel_l2(burgers_reference(BURGERS_FINE // 2, 2 * BURGERS_DT),
                       burgers()[1])
        print(f"Burgers reference: 8x256 points, dt={2 * BURGERS_DT:g} differs from "
              f"16x256, dt={BURGERS_DT:g} by {check:.2e} rel. L2")
        record({"case": "burgers reference check", "method": "spectral", "seed": None,
                "rel_l2": check})
        case("burgers nu=0.01/pi", burgers(), None, [("lpinn", {}), ("pinn", {})])


def machine() -> str:
    """The machine in words: CPU, cores, torch threads and load at the start."""
    cpu = platform.processor() or platform.machine()
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with "
            f"{torch.get_num_threads()} thread(s), load average {os.getloadavg()[0]:.2f}")


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (case, method): median, min-max over seeds, median seconds."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if "seconds" in row:
            groups.setdefault((row["case"], row["method"]), []).append(row)
    table = []
    for (label, method), runs in groups.items():
        errors = [r["rel_l2"] for r in runs]
        table.append({"case": label, "method": method, "seeds": len(runs),
                      "median rel L2": statistics.median(errors),
                      "min": min(errors), "max": max(errors),
                      "median s": statistics.median(r["seconds"] for r in runs),
                      "steps": runs[0]["steps"]})
    return table


def plot_sweep(rows: list[dict[str, Any]], path: Path) -> None:
    """Error against beta (seed 0 of every convection run with nu = 0), both methods."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for method, marker in (("lpinn", "o"), ("pinn", "s"), ("pinn causal", "^"),
                           ("deepxde pinn", "x")):
        points = sorted((r["beta"], r["rel_l2"]) for r in rows
                        if r.get("method") == method and r.get("seed") == 0
                        and str(r.get("case", "")).startswith("convection"))
        if points:
            ax.semilogy(*zip(*points), marker=marker, label=method)
    ax.set_xlabel("beta")
    ax.set_ylabel("rel. L2 error (256 x 100)")
    ax.set_title("u_t + beta u_x = 0, u0 = sin x, seed 0")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report() -> None:
    """Print the tables of every part present and write the sweep plot."""
    rows: list[dict[str, Any]] = []
    for path in sorted(RESULTS.glob("pinns_*.json")):
        record = json.loads(path.read_text())
        for entry in record["runs"]:
            print(f"{path.name}: {entry['machine']}; {entry['command']}")
        rows += record["rows"]
    print(format_table(summarise(rows)))
    for row in rows:
        if row.get("case") == "burgers reference check":
            print(f"Burgers reference self-check: {row['rel_l2']:.2e}")
    burgers_rows = [r for r in rows if r.get("case", "").startswith("burgers nu")]
    if burgers_rows:
        print(format_table(burgers_rows, ["method", "seed", "rel_l2", "seconds",
                                          "crossed_levels"]))
    plot_sweep(rows, RESULTS / "pinns_sweep.png")
    print(f"plot: {RESULTS / 'pinns_sweep.png'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("lpinn", "pinn", "sweep", "deepxde", "burgers"))
    parser.add_argument("--report", action="store_true", help="tables and plot from results")
    parser.add_argument("--steps", type=int, nargs=2, default=(1000, 1500),
                        metavar=("ADAM", "LBFGS"))
    parser.add_argument("--points", type=int, default=1024, help="collocation points")
    parser.add_argument("--causal", type=float, default=1.0, help="eps of the causal PINN")
    parser.add_argument("--pinns", nargs="+", choices=("plain", "causal"),
                        default=["plain", "causal"], help="part pinn: which PINNs to run")
    parser.add_argument("--betas", type=float, nargs="+", help="override the part's betas")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.part:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"pinns_{args.part}.json"
        saved = json.loads(path.read_text()) if path.exists() else {"runs": [], "rows": []}
        saved["runs"].append({"machine": machine(), "command": "python benchmarks/pinns.py "
                              + " ".join(argv or sys.argv[1:])})

        def record(row: dict[str, Any]) -> None:
            """Merge a finished row (a later run of the same case, method and seed replaces
            the earlier one) and write the file at once, so a stopped part keeps its rows."""
            key = (row["case"], row["method"], row.get("seed"))
            saved["rows"] = [r for r in saved["rows"]
                             if (r["case"], r["method"], r.get("seed")) != key] + [row]
            path.write_text(json.dumps(saved, indent=1))

        part_rows(args.part, args, record)
    if args.report:
        report()
    if not (args.part or args.report):
        parser.error("give --part PART and/or --report")


if __name__ == "__main__":
    main()
