"""Convection u_t + beta u_x = 0 at beta = 30 and 50: plain PINN against Lagrangian PINN.

    OMP_NUM_THREADS=1 python examples/convection_lpinn.py        # ~3 min on one CPU core
    python examples/convection_lpinn.py --betas 30 --steps 500 500 --out /tmp/quick

For each beta, the exact solution sin(x - beta t) (``spectral``), the PINN and the LPINN are
computed on the 256 x 100 space-time grid with the same network size and optimiser steps;
the figure ``convection_lpinn.png`` in ``--out`` shows the three fields and the two errors.
An existing figure is kept unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import sciml  # noqa: E402
from sciml.errors import UsageError  # noqa: E402
from sciml.io.atomic import check_output_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--betas", type=float, nargs="+", default=[30.0, 50.0])
    parser.add_argument("--steps", type=int, nargs=2, default=[1000, 1000],
                        metavar=("ADAM", "LBFGS"), help="optimiser steps of both methods")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=".", help="folder of the figure")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing figure")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    figure = Path(args.out) / "convection_lpinn.png"
    try:                                                  # refuse before minutes of training
        check_output_path(figure, overwrite=args.overwrite)
    except UsageError as exc:
        parser.error(str(exc))
    torch.set_num_threads(1)

    fig, axes = plt.subplots(len(args.betas), 5, figsize=(19, 3.4 * len(args.betas)),
                             squeeze=False)
    for row, beta in zip(axes, args.betas):
        problem = sciml.problems.Convection1D(beta=beta)
        exact = sciml.solve(problem, method="spectral", times=100)
        fields = {"exact": exact.info["u_tx"]}
        errors = {}
        for method in ("pinn", "lpinn"):
            t0 = time.perf_counter()
            sol = sciml.solve(problem, method=method, steps=tuple(args.steps), seed=args.seed,
                              times=100)
            fields[method] = sol.info["u_tx"]
            errors[method] = (np.linalg.norm(sol.info["u_tx"] - fields["exact"])
                              / np.linalg.norm(fields["exact"]))
            print(f"beta={beta:g} {method}: rel. L2 {errors[method]:.2e} in "
                  f"{time.perf_counter() - t0:.0f} s")
        extent = (0, 2 * np.pi, 0, problem.t)
        panels = [(fields["exact"], f"exact, beta={beta:g}", "RdBu_r"),
                  (fields["pinn"], "PINN", "RdBu_r"), (fields["lpinn"], "LPINN", "RdBu_r"),
                  (np.abs(fields["pinn"] - fields["exact"]),
                   f"|PINN error| (rel L2 {errors['pinn']:.2f})", "viridis"),
                  (np.abs(fields["lpinn"] - fields["exact"]),
                   f"|LPINN error| (rel L2 {errors['lpinn']:.1e})", "viridis")]
        for ax, (field, title, cmap) in zip(row, panels):
            image = ax.imshow(field, origin="lower", aspect="auto", extent=extent, cmap=cmap)
            ax.set_title(title)
            ax.set_xlabel("x")
            ax.set_ylabel("t")
            fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(figure, dpi=100)
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
