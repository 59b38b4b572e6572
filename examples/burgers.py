"""Burgers' equation with neural operators: learn u0 -> u(., 1), MgNO against FNO.

    python examples/burgers.py                     # ~5 min on 2 CPU cores
    python examples/burgers.py --train 1000 --test 100 --resolution 8192 --downsample 8 \\
        --epochs 500 --lr 5e-4                     # the FNO paper's 1024-point setting (GPU)

Writes ``burgers.png`` (initial state, truth and predictions on a test sample, and the
errors) and the models (``mgno_burgers.pt``, ``fno_burgers.pt``) to ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import sciml  # noqa: E402
from sciml.data import load  # noqa: E402
from operator_comparison import add_training_arguments, train_and_compare  # noqa: E402
from sciml.data_gen import burgers  # noqa: E402


def main() -> None:
    """Generate, train, evaluate, plot (data_gen's worker processes need the __main__ guard)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="an existing Burgers data set (skips generation)")
    parser.add_argument("--resolution", type=int, default=4096, help="grid solved on")
    parser.add_argument("--downsample", type=int, default=16, help="stride stored (4096/16: 256)")
    add_training_arguments(parser, train=400, test=50, epochs=20)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. data: u0 a periodic Gaussian random field, u = u(., 1) with nu = 0.1 (FNO's recipe)
    data = args.data or burgers.generate(out / "burgers.h5", args.train + args.test,
                                         resolution=args.resolution, downsample=args.downsample,
                                         test_samples=args.test, seed=0, overwrite=True)

    # 2. train each operator with the same loop and settings, evaluate on the test split
    models = train_and_compare(args, data, "burgers")

    # 3. one test problem through sciml.solve
    test = load(data, split="test", n=1)
    problem = sciml.problems.Burgers1D(u0=test["a"][0], nu=0.1, t=1.0)
    x = np.arange(problem.u0.size) / problem.u0.size
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.plot(x, problem.u0, "k:", label="u0 (input)")
    top.plot(x, test["u"][0], "k", lw=2, label="u(., 1) truth")
    for method, model in models.items():
        u = sciml.solve(problem, method=method, model=model).x
        top.plot(x, u, "--", label=f"{method} prediction")
        bottom.plot(x, u - test["u"][0], label=f"{method} error")
    top.legend()
    bottom.set(xlabel="x", ylabel="prediction - truth")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(out / "burgers.png", dpi=110)
    print(f"figure: {out / 'burgers.png'}")


if __name__ == "__main__":
    main()
