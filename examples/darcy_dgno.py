"""DGNO on two-phase Darcy: train without solutions, predict u, recover a from 100 noisy points.

    python examples/darcy_dgno.py                  # about 8 minutes on one CPU core

Generates (or reads, ``--data``) the two-phase data set of ``sciml datagen darcy --family
two-phase`` (a in {5, 10}, f = 10, 29 x 29 nodes), trains DGNO on the coefficients alone,
prints the forward test error (against the stored finite-difference solutions, which DGNO
never saw), recovers one test coefficient from 100 observations of u at 25 dB, and writes
``darcy_dgno.png`` (true a, recovered a, phase probability, u, forward error) and the model
``dgno_twophase.pt`` to ``--out``. Existing outputs are kept unless ``--overwrite``.
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
from sciml.data_gen import darcy  # noqa: E402
from sciml.errors import UsageError  # noqa: E402
from sciml.io.atomic import check_output_path  # noqa: E402
from sciml.problems import DarcyFlow, DarcyInverse  # noqa: E402


def observe(u: np.ndarray, count: int, noise_db: float, seed: int) -> DarcyInverse:
    """A DarcyInverse of ``count`` noisy values of ``u`` at random interior vertices."""
    from sciml.solvers.dgno.inverse import observation_noise  # noqa: PLC0415

    size = u.shape[0]
    t = np.linspace(0.0, 1.0, size)
    points = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
    interior = np.flatnonzero(np.all((points > 0) & (points < 1), axis=1))
    rng = np.random.default_rng(seed)
    idx = rng.choice(interior, count, replace=False)
    values = observation_noise(u.ravel()[idx].astype(float), noise_db, rng)
    return DarcyInverse(points[idx], values, noise_db=noise_db, grid=size)


def main() -> None:
    """Generate, train, evaluate, invert, plot (data_gen's workers need the __main__ guard)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="an existing two-phase Darcy data set")
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="examples/out")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure, model_path = out / "darcy_dgno.png", out / "dgno_twophase.pt"
    try:
        for path in (figure, model_path):
            check_output_path(path, overwrite=args.overwrite)
    except UsageError as exc:
        parser.error(str(exc))      # one line, exit code 2

    data = args.data or out / f"twophase_{args.train}_{args.test}.h5"
    if not Path(data).exists():
        darcy.generate(data, args.train + args.test, family="two-phase",
                       test_samples=args.test, seed=0)

    # 1. train on the coefficients only (the weak form needs no solutions)
    model = sciml.train("dgno", data=str(data), epochs=args.epochs, seed=args.seed)
    model.save(model_path, overwrite=args.overwrite)
    print(f"trained in {model.metrics['train_seconds']:.0f} s; saved {model_path}")
    metrics = sciml.evaluate(model, data=str(data))
    print(f"forward test error (rel. L2 of u): {metrics['rel_l2']:.4f}; reconstructed a: "
          f"{metrics['phase_accuracy']:.1%} of pixels in the right phase")

    # 2. one test case, forward and inverse
    test = load(data, split="test", n=1)
    a_true, u_true = test["a"][0], test["u"][0]
    forward = sciml.solve(DarcyFlow(a=a_true, f=10.0), method="dgno", model=model)
    observed = observe(u_true, 100, 25.0, args.seed)
    inverse = sciml.solve(observed, method="dgno", model=model)
    a_error = np.linalg.norm(inverse.x - a_true) / np.linalg.norm(a_true)
    u_error = np.linalg.norm(inverse.info["u"] - u_true) / np.linalg.norm(u_true)
    right = np.mean(inverse.x == a_true)
    print(f"inverse from 100 points at 25 dB: error in a {a_error:.3f} ({right:.1%} of pixels "
          f"in the right phase), error in u {u_error:.4f}, {inverse.solve_time:.1f} s")

    low, high = model.config["phases"]
    panels = [(a_true, "true a", "viridis", (low, high)),
              (inverse.x, f"recovered a (error {a_error:.3f})", "viridis", (low, high)),
              (inverse.info["phase_probability"], "P(high phase)", "coolwarm", (0, 1)),
              (u_true, "u (finite differences)", "magma", (None, None)),
              (np.abs(forward.x - u_true), "|DGNO u - u|", "magma", (None, None))]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.2))
    for ax, (field, title, cmap, (vmin, vmax)) in zip(axes, panels):
        image = ax.imshow(field.T, origin="lower", cmap=cmap, extent=(0, 1, 0, 1), vmin=vmin,
                          vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
        fig.colorbar(image, ax=ax, fraction=0.046)
    axes[1].plot(observed.points[:, 0], observed.points[:, 1], "k.", markersize=2)
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
