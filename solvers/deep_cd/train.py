"""Training data, loss and command line of deep_cd, on the shared :class:`~sciml.learn.trainer.Trainer`.

``python -m sciml.solvers.deep_cd.train --shape 32 32 32 --epochs 20 --out model.pt`` (or
``sciml train deep_cd ...``) trains the default multigrid network on smoothed noise;
``--data FILE`` trains on the paper's Ritz-vector samples written by :mod:`sciml.data_gen.deep_cd`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.fft
import torch

from sciml.backend import to_numpy
from sciml.errors import DataFileError, InvalidOptionError
from sciml.learn.trained_model import TrainedModel
from sciml.kernels.stencil import StencilOperator
from sciml.learn.trainer import Trainer, split_indices

from .model import GridStencil, build_network

NOISE_POWERS = (0.0, 0.5, 1.0, 1.5)


def smoothed_noise(shape: Sequence[int], count: int, powers: Sequence[float] = NOISE_POWERS,
                   seed: int = 0) -> np.ndarray:
    """Unit-norm residual-like vectors: white noise with each Laplacian eigenmode divided by
    ``lambda^p``, ``p`` drawn from ``powers`` per sample (Dirichlet box, type-I DST modes).

    Returns a float32 array of shape ``(count, 1, *shape)``. Small ``p`` gives rough vectors,
    large ``p`` smooth ones, so the samples cover the spectrum the way residuals of an
    iteration do (the paper weights the low end of the spectrum 9x for the same reason).
    """
    rng = np.random.default_rng(seed)
    lam = sum(np.meshgrid(*[2.0 - 2.0 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1))
                            for n in shape], indexing="ij"))
    out = np.empty((count, 1, *shape), dtype=np.float32)
    for i in range(count):
        coeff = rng.standard_normal(tuple(shape)) / lam ** rng.choice(powers)
        v = scipy.fft.idstn(coeff, type=1, norm="ortho")
        out[i, 0] = v / np.linalg.norm(v)
    return out


class DCDMLoss:
    """The scale-invariant one-step loss of Kaneda et al. (2023).

    ``mean_i ||r_i - (f_i . r_i / f_i . A f_i) A f_i||^2 / ||r_i||^2`` with ``f_i = f(r_i)``:
    the residual left after an exact line search along the network's direction. The paper's
    samples have unit norm, where this equals its loss.

    Parameters
    ----------
    grids
        The operators of the training problems; a batch is ``(r,)`` (all on ``grids[0]``) or
        ``(r, index)`` with the operator index of each sample.
    """

    def __init__(self, grids: Sequence[GridStencil]) -> None:
        self.grids = list(grids)

    @staticmethod
    def per_sample(model: Any, r: torch.Tensor, grid: GridStencil) -> torch.Tensor:
        """The loss of each sample of ``r`` on one operator."""
        f = model(r, grid)
        af = grid.apply(f)
        alpha = (f * r).flatten(1).sum(1) / (f * af).flatten(1).sum(1).clamp_min(1e-30)
        left = r - alpha.view(-1, *(1,) * (r.dim() - 1)) * af
        return left.flatten(1).pow(2).sum(1) / r.flatten(1).pow(2).sum(1)

    def __call__(self, model: Any, batch: Any) -> torch.Tensor:
        if not isinstance(batch, (tuple, list)):
            batch = (batch,)
        r = batch[0]
        if len(batch) == 1:
            return self.per_sample(model, r, self.grids[0]).mean()
        total = r.new_zeros(())
        for index in batch[1].unique().tolist():
            chosen = batch[1] == index
            total = total + self.per_sample(model, r[chosen], self.grids[index]).sum()
        return total / len(r)


def load_training_vectors(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read the ``r`` samples and generator parameters of a data set written by
    :func:`sciml.data_gen.deep_cd.generate` (validated by :mod:`sciml.io.datasets`)."""
    from sciml.io.datasets import read_arrays, read_info  # noqa: PLC0415

    info = read_info(path)
    if "r" not in info.spec.fields:
        raise DataFileError(f"{path} has no field 'r' of deep_cd training vectors; its "
                            f"fields are {sorted(info.spec.fields)}")
    r = read_arrays(path, ["r"])["r"]
    return r[:, None], {**info.spec.parameters, "seed": info.spec.seed,
                        "generator": info.spec.generator}


def train(data: Any = None, *, shape: Sequence[int] = (32, 32, 32),
          network: tuple[str, dict[str, Any]] = ("multigrid", {"channels": 4}),
          samples: int = 256, epochs: int = 20, batch_size: int = 8, lr: float = 1e-3,
          seed: int = 0, checkpoint: str | Path | None = None, progress: bool = True,
          command: str | None = None,
          operators: Sequence[StencilOperator] | None = None) -> TrainedModel:
    """Train a deep_cd network with the DCDM loss, on the Dirichlet box by default.

    Parameters
    ----------
    data
        None: ``samples`` smoothed-noise vectors on ``shape`` (:func:`smoothed_noise`); or the
        path of an HDF5 file of training vectors (:mod:`sciml.data_gen.deep_cd`, the paper's data).
    shape
        Training grid (2 or 3 axes), ignored when ``data`` is a file (its grid is used).
    network
        ``(kind, options)``: ``("multigrid", {"channels": 4})`` or ``("reference", {})``.
    samples, epochs, batch_size, lr, seed
        Data size, passes, Adam step size (cosine schedule), seed of data and weights.
    checkpoint
        Checkpoint path, written each epoch; an existing one is resumed.
    command
        The command line recorded in the provenance.
    operators
        Train on these operators (one grid) instead of the constant-coefficient Dirichlet box:
        e.g. a target problem's, with its coefficient, obstacle and sides, or a mix of
        boundary kinds (:func:`training_operators`). Sample ``i`` belongs to operator
        ``i mod len(operators)``; samples are zeroed on solid cells and made mean-free for a
        singular operator.

    Returns
    -------
    TrainedModel
        The best-validation-epoch network with config, provenance and metrics.
    """
    if operators:
        shape = operators[0].grid_shape
    if data is None:
        shape = tuple(int(n) for n in shape)
        vectors = smoothed_noise(shape, samples, seed=seed)
        data_info: dict[str, Any] = {"kind": "smoothed_noise", "shape": list(shape),
                                     "samples": samples, "powers": list(NOISE_POWERS),
                                     "seed": seed}
    elif isinstance(data, (str, Path)):
        vectors, attrs = load_training_vectors(data)
        shape = tuple(vectors.shape[2:])
        data_info = {"kind": "ritz_vectors", "file": str(data), "shape": list(shape),
                     "samples": len(vectors),
                     **{k: v for k, v in attrs.items() if isinstance(v, (int, float, str))}}
    else:
        raise InvalidOptionError("deep_cd trains on data=None (smoothed noise) or the path of "
                                 f"an HDF5 file of training vectors; got {type(data).__name__}")
    kind, options = network
    config = {"kind": kind, "ndim": len(shape), **options}
    if kind == "multigrid":
        config.setdefault("seed", seed)
    operators = list(operators or [None])
    index = np.arange(len(vectors)) % len(operators)
    for i, op in enumerate(operators):
        if op is None:
            continue
        if tuple(vectors.shape[2:]) != op.grid_shape:
            raise InvalidOptionError(f"training vectors on {vectors.shape[2:]} do not fit the "
                                     f"operator's grid {op.grid_shape}")
        vectors[index == i] = _restricted(vectors[index == i], op)
    if operators != [None]:
        data_info["operators"] = [repr(op) for op in operators]
    torch.manual_seed(seed)
    net = build_network(config)
    loss = DCDMLoss([GridStencil.from_operator(op, shape) for op in operators])
    train_idx, val_idx = split_indices(len(vectors), (0.9, 0.1), seed=seed)
    tensor, ids = torch.from_numpy(vectors), torch.from_numpy(index)
    trainer = Trainer(net, loss, epochs=epochs, batch_size=batch_size,
                      optimizer=("adam", {"lr": lr}), schedule=("cosine", {}),
                      checkpoint=checkpoint, extra_state={"config": config, "data": data_info},
                      seed=seed, progress=progress)
    report = trainer.fit((tensor[train_idx], ids[train_idx]), (tensor[val_idx], ids[val_idx]))
    net.eval()
    provenance = {"command": command or "", "seed": seed, "data": data_info,
                  "optimizer": {"name": "adam", "lr": lr, "schedule": "cosine",
                                "batch_size": batch_size, "epochs": epochs},
                  "train_seconds": report.seconds, "torch": str(torch.__version__)}
    metrics = {"val_dcdm_loss": report.best_metric, "best_epoch": report.best_epoch,
               "history": [{k: float(v) for k, v in h.items()} for h in report.history]}
    return TrainedModel("deep_cd", net, config, provenance=provenance, metrics=metrics)


BOUNDARY_MIXES = ("dirichlet", "neumann", "one-dirichlet-face", "obstacle")


def training_operators(kinds: Sequence[str], shape: Sequence[int]) -> list[StencilOperator]:
    """Operators on ``shape`` for :func:`train`: the Dirichlet box, the pure-Neumann box, a
    Neumann box with a Dirichlet high side on the last axis, and a Neumann box around a
    sphere of solid cells (radius a quarter of the box)."""
    shape = tuple(shape)
    ndim = len(shape)
    out = []
    for kind in kinds:
        if kind == "dirichlet":
            out.append(StencilOperator(shape))
        elif kind == "neumann":
            out.append(StencilOperator(shape, bc="neumann"))
        elif kind == "one-dirichlet-face":
            out.append(StencilOperator(shape, bc=["neumann"] * (2 * ndim - 1) + ["dirichlet"]))
        elif kind == "obstacle":
            axes = np.meshgrid(*[np.arange(n) + 0.5 for n in shape], indexing="ij")
            r2 = sum((a - n / 2) ** 2 for a, n in zip(axes, shape))
            out.append(StencilOperator(shape, mask=r2 < (min(shape) / 4) ** 2, bc="neumann"))
        else:
            raise InvalidOptionError(f"unknown training operator {kind!r}; expected one of "
                                     f"{BOUNDARY_MIXES}")
    return out


def _restricted(vectors: np.ndarray, operator: StencilOperator) -> np.ndarray:
    """Samples as residuals of ``operator`` can be: zero on solid cells, mean-free on the
    fluid when the operator is singular, unit norm."""
    fluid = np.ones(operator.grid_shape, bool) if operator.mask is None else ~to_numpy(
        operator.mask)
    out = vectors * fluid
    if operator.singular:
        out[:, :, fluid] -= out[:, :, fluid].mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(out.reshape(len(out), -1), axis=1)
    return (out / norms.reshape(-1, *(1,) * (out.ndim - 1))).astype(np.float32)


def measure_iterations(model: TrainedModel, sizes: Sequence[int], rtol: float = 1e-6
                       ) -> dict[str, int]:
    """deep_cd iterations to ``rtol`` on random-rhs Dirichlet Poisson cubes of ``sizes``."""
    import sciml  # noqa: PLC0415

    out = {}
    for n in sizes:
        prob = sciml.problems.Poisson((n,) * model.config["ndim"], rhs="random", seed=1)
        out[f"iterations_{n}"] = sciml.solve(prob, method="deep_cd", model=model,
                                             rtol=rtol).iterations
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: train, save the model (``--out``) and a JSON report beside it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="sciml train deep_cd",
        description="Train a deep_cd network with the DCDM loss; save it (--out) with a JSON "
                    "report beside it. Resumes from its checkpoint after a kill.")
    parser.add_argument("--shape", type=int, nargs="+", default=[32, 32, 32])
    parser.add_argument("--network", choices=("multigrid", "reference"), default="multigrid")
    parser.add_argument("--channels", type=int, default=None,
                        help="channels of the network (multigrid: 4, reference: 16)")
    parser.add_argument("--data", default=None, help="HDF5 training vectors (sciml.data_gen.deep_cd)")
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--operators", nargs="+", choices=BOUNDARY_MIXES, default=["dirichlet"],
                        help="training operators on --shape, samples split evenly")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--checkpoint", default=None, help="default: OUT + '.ckpt'")
    parser.add_argument("--measure", type=int, nargs="*", default=[32],
                        help="cube sizes on which to count iterations to 1e-6 after training")
    parser.add_argument("--out", required=True, help="where to write the model (.pt)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    channels = args.channels or (4 if args.network == "multigrid" else 16)
    options = {"channels": channels}
    out = Path(args.out)
    start = time.perf_counter()
    model = train(args.data, shape=args.shape, network=(args.network, options),
                  samples=args.samples, epochs=args.epochs, batch_size=args.batch_size,
                  lr=args.lr, seed=args.seed,
                  checkpoint=args.checkpoint or out.with_suffix(out.suffix + ".ckpt"),
                  progress=not args.no_progress,
                  operators=training_operators(args.operators, args.shape),
                  command="sciml train deep_cd " + shlex.join(argv))
    model.metrics.update(measure_iterations(model, args.measure))
    model.metrics["parameters"] = model.num_parameters()
    model.save(out)
    summary = {"config": model.config, "provenance": model.provenance,
               "metrics": {k: v for k, v in model.metrics.items() if k != "history"},
               "wall_seconds": time.perf_counter() - start}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["metrics"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
