"""Darcy flow with neural operators: generate data, train MgNO and FNO, compare, plot.

    python examples/darcy.py                       # ~5 min on 2 CPU cores
    python examples/darcy.py --train 1000 --test 100 --resolution 421 --downsample 5 \\
        --epochs 500 --lr 5e-4                     # the FNO paper's 85 x 85 setting (GPU)

Writes ``darcy.png`` (input, truth, prediction and error of each model on a test sample)
and the two models (``mgno_darcy.pt``, ``fno_darcy.pt``) to ``--out``.
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
from sciml.data_gen import darcy  # noqa: E402


def main() -> None:
    """Generate, train, evaluate, plot (data_gen's worker processes need the __main__ guard)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="an existing Darcy data set (skips generation)")
    parser.add_argument("--family", default="smooth", choices=sorted(darcy.FAMILIES))
    parser.add_argument("--resolution", type=int, default=127, help="grid solved on")
    parser.add_argument("--downsample", type=int, default=2, help="stride stored (127/2: 64)")
    add_training_arguments(parser, train=200, test=50, epochs=15)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. data: thresholded Gaussian random field coefficients a and solutions u (FNO's recipe)
    data = args.data or darcy.generate(out / f"darcy_{args.family}.h5", args.train + args.test,
                                       family=args.family, resolution=args.resolution,
                                       downsample=args.downsample, test_samples=args.test,
                                       seed=0, overwrite=True)

    # 2. train each operator with the same loop and settings, evaluate on the test split
    models = train_and_compare(args, data, "darcy")

    # 3. one test problem: each operator's prediction and its error map
    test = load(data, split="test", n=1)
    problem = sciml.problems.DarcyFlow(a=test["a"][0])
    truth = test["u"][0]
    fig, axes = plt.subplots(len(models), 4, figsize=(14, 3.4 * len(models)), squeeze=False)
    for row, (method, model) in zip(axes, models.items()):
        u = sciml.solve(problem, method=method, model=model).x
        error = np.linalg.norm(u - truth) / np.linalg.norm(truth)
        for ax, field, title in zip(row, (problem.a, truth, u, np.abs(u - truth)),
                                    ("input a", "truth u", f"{method} prediction",
                                     f"|error| (rel L2 {error:.3f})")):
            image = ax.imshow(field, origin="lower", cmap="viridis")
            ax.set_title(title)
            ax.axis("off")
            fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(out / "darcy.png", dpi=110)
    print(f"figure: {out / 'darcy.png'}")


if __name__ == "__main__":
    main()
