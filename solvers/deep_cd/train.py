"""Training data, loss and command line of deep_cd, on the shared :class:`~sciml.learn.trainer.Trainer`.

``sciml train deep_cd --shape 32 32 32 --epochs 20 --out model.pt`` (the shared training
command line, :mod:`sciml.learn.train_cli`) trains the default multigrid network on smoothed noise;
``--data FILE`` trains on the paper's Ritz-vector samples written by :mod:`sciml.data_gen.deep_cd`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.fft
import torch

from sciml.backend import to_numpy
from sciml.errors import DataFileError, InvalidOptionError
from sciml.kernels.stencil import StencilOperator
from sciml.learn.trained_model import TrainedModel
from sciml.learn.trainer import Trainer, split_indices
from sciml.learn.vocabulary import (
    finish_checkpoint,
    parse_training_options,
    plain_record,
    training_command,
)

from .model import COARSENINGS, GridStencil, build_network

NOISE_POWERS = (0.0, 0.5, 1.0, 1.5)


def smoothed_noise(shape: Sequence[int], count: int, powers: Sequence[float] = NOISE_POWERS,
                   seed: int = 0) -> np.ndarray:
    """Unit-norm training vectors: white noise with each Laplacian eigenmode divided by
    ``lambda^p``, ``p`` drawn from ``powers`` per sample (Dirichlet box, type-I DST modes).

    Returns a float32 array of shape ``(count, 1, *shape)``. Small ``p`` gives rough vectors,
    large ``p`` smooth ones, so the samples cover the spectrum the way errors and residuals
    of an iteration do (the paper weights the low end of the spectrum 9x for the same
    reason). :class:`DCDMLoss` takes them as errors (``"energy"``) or residuals.
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


#: the one-step objectives of :class:`DCDMLoss` (the first is the default)
OBJECTIVES = ("energy", "residual")


def checked_objective(objective: Any) -> str:
    """``objective`` if it is one of :data:`OBJECTIVES`, else an InvalidOptionError."""
    if objective not in OBJECTIVES:
        raise InvalidOptionError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return objective


class DCDMLoss:
    """The one-step loss of a search direction: what is left after an exact line search.

    For a sample ``v`` and the network's direction ``f``, the step ``alpha f`` with
    ``alpha = f . r / f . A f`` is the conjugate-direction method's step (it minimises the
    energy norm of the error). Two measures of what it leaves:

    * ``"energy"`` (the default): the sample is an error ``e``, the network sees its residual
      ``r = A e``, and the loss is ``||e - alpha f||_A^2 / ||e||_A^2`` (in [0, 1]; 0 when
      ``f`` is parallel to ``e``), the norm the conjugate-direction iteration minimises;
    * ``"residual"``: the paper's loss, ``||r - alpha A f||^2 / ||r||^2`` with the sample
      the residual ``r`` (Kaneda et al. 2023; their samples have unit norm, where this
      equals their loss).

    Both are scale-invariant. Where we differ from the paper: the energy norm is the
    default because the residual norm rewards the wrong networks. An exact step in the
    energy norm can leave a residual *larger* than the one it started from: the 2-D
    multigrid start scores 1.9 / 24 at 64^2 / 128^2 (smoothed noise; more on finer grids)
    although it solves every 2-D size in 8-10 iterations, and training on it traded the
    multigrid cycle for worse ones (5-98 iterations at 64^2-512^2). Trained on the energy
    norm, where the start scores 0.03-0.05 at every size, the same network takes 4
    iterations at 64^2-512^2, and the 3-D one 3-4 instead of 5-7 (``benchmarks/RESULTS.md``,
    "deep_cd: the training objective, 2-D weights").

    Parameters
    ----------
    grids
        The operators of the training problems; a batch is ``(v,)`` (all on ``grids[0]``) or
        ``(v, index)`` with the operator index of each sample.
    objective
        ``"energy"`` or ``"residual"``.
    """

    def __init__(self, grids: Sequence[GridStencil], objective: str = OBJECTIVES[0]) -> None:
        self.grids = list(grids)
        self.objective = checked_objective(objective)

    def per_sample(self, model: Any, v: torch.Tensor, grid: GridStencil) -> torch.Tensor:
        """The loss of each sample of ``v`` on one operator."""
        def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (a * b).flatten(1).sum(1)

        r = grid.apply(v) if self.objective == "energy" else v
        f = model(r, grid)
        af = grid.apply(f)
        alpha = (dot(f, r) / dot(f, af).clamp_min(1e-30)).view(-1, *(1,) * (r.dim() - 1))
        if self.objective == "energy":
            return dot(v - alpha * f, r - alpha * af) / dot(v, r).clamp_min(1e-30)
        return (r - alpha * af).flatten(1).pow(2).sum(1) / r.flatten(1).pow(2).sum(1)

    def __call__(self, model: Any, batch: Any) -> torch.Tensor:
        if not isinstance(batch, (tuple, list)):
            batch = (batch,)
        v = batch[0]
        if len(batch) == 1:
            return self.per_sample(model, v, self.grids[0]).mean()
        total = v.new_zeros(())
        for index in batch[1].unique().tolist():
            chosen = batch[1] == index
            total = total + self.per_sample(model, v[chosen], self.grids[index]).sum()
        return total / len(v)


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


#: deep_cd's network kinds and their options (the first is the default)
NETWORK_KINDS: dict[str, dict[str, Any]] = {
    "multigrid": {"channels": 4, "omega": 2.0 / 3.0, "coarsening": "rediscretise"},
    "reference": {"channels": 16, "fine_pairs": 1, "coarse_pairs": 3, "up_pairs": 2},
}
#: deep_cd's own training options: the grid of generated data, the training operators (a
#: list of StencilOperator or of names from TRAINING_OPERATORS), the cube sizes on which to
#: count iterations to 1e-6 right after training (into ``metrics``) and the loss's
#: objective (:data:`OBJECTIVES`)
TRAIN_EXTRAS: dict[str, Any] = {"shape": (32, 32, 32), "operators": None, "measure": (),
                                "objective": OBJECTIVES[0]}
#: the shared options' defaults of deep_cd: Adam 1e-3 with a cosine schedule, 256 samples
TRAIN_DEFAULTS: dict[str, Any] = {"samples": 256, "optimizer": ("adam", {"lr": 1e-3}),
                                  "schedule": ("cosine", {})}


def train(data: Any = None, **options: Any) -> TrainedModel:
    """Train a deep_cd network with the DCDM loss, on the Dirichlet box by default.

    Parameters
    ----------
    data
        None: ``samples`` smoothed-noise vectors on ``shape`` (:func:`smoothed_noise`); or the
        path of an HDF5 file of training vectors (:mod:`sciml.data_gen.deep_cd`, the paper's
        data; ``samples`` then takes the first ones).
    **options
        The shared vocabulary (:mod:`sciml.learn.vocabulary`, defaults
        :data:`TRAIN_DEFAULTS`), ``network=(kind, {...})`` with the kinds and options of
        :data:`NETWORK_KINDS` (flat ``channels=`` too), and deep_cd's own
        :data:`TRAIN_EXTRAS`: ``shape`` (training grid, 2 or 3 axes, ignored for a file),
        ``operators`` (train on these operators of one grid instead of the Dirichlet box,
        e.g. a target problem's or a mix of boundary kinds, :func:`training_operators`;
        sample ``i`` belongs to operator ``i mod len(operators)``; samples are zeroed on
        solid cells and made mean-free for a singular operator), ``measure`` (cube sizes
        on which iterations to 1e-6 are counted after training) and ``objective``
        (:class:`DCDMLoss`: ``"energy"``, the default, takes each sample as an error and
        its residual as the network's input; ``"residual"``, the paper's, takes it as the
        residual).

    Returns
    -------
    TrainedModel
        The best-validation-epoch network with config, provenance and metrics.
    """
    opts = parse_training_options("deep_cd", options, defaults=TRAIN_DEFAULTS,
                                  extras=TRAIN_EXTRAS, networks=NETWORK_KINDS)
    shape = _grid_shape(opts.extra["shape"])
    measure = opts.extra["measure"]
    objective = checked_objective(opts.extra["objective"])  # before any data is made
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 2 for n in measure):
        raise InvalidOptionError(f"measure must be cube sizes >= 2, got {measure!r}")
    operators = opts.extra["operators"]
    if isinstance(operators, str):
        operators = [operators]
    if operators and all(isinstance(op, str) for op in operators):
        operators = training_operators(operators, shape, seed=opts.seed)
    if operators:
        shape = operators[0].grid_shape
    samples = opts.samples
    if data is None:
        vectors = smoothed_noise(shape, samples, seed=opts.seed)
        data_info: dict[str, Any] = {"kind": "smoothed_noise", "shape": list(shape),
                                     "samples": samples, "powers": list(NOISE_POWERS),
                                     "seed": opts.seed}
    elif isinstance(data, (str, Path)):
        vectors, attrs = load_training_vectors(data)
        vectors = vectors[:samples] if "samples" in options else vectors
        shape = tuple(vectors.shape[2:])
        data_info = {"kind": "ritz_vectors", "file": str(data), "shape": list(shape),
                     "samples": len(vectors),
                     **{k: v for k, v in attrs.items() if isinstance(v, (int, float, str))}}
    else:
        raise InvalidOptionError("deep_cd trains on data=None (smoothed noise) or the path of "
                                 f"an HDF5 file of training vectors; got {type(data).__name__}")
    kind, net_options = opts.network
    config = {"kind": kind, "ndim": len(shape), **net_options}
    if kind == "multigrid":
        config["seed"] = opts.seed
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
    device = opts.torch_device()
    torch.manual_seed(opts.seed)
    net = build_network(config).to(device)
    coarsening = getattr(net, "coarsening", COARSENINGS[0])
    loss = DCDMLoss([GridStencil.from_operator(op, shape, device=device, coarsening=coarsening)
                     for op in operators], objective)
    n_val = max(int(round(opts.val_fraction * len(vectors))), 1 if opts.val_fraction else 0)
    train_idx, val_idx = split_indices(len(vectors), (1 - n_val / len(vectors),
                                                      n_val / len(vectors)), seed=opts.seed)
    tensor, ids = torch.from_numpy(vectors), torch.from_numpy(index)
    val = (tensor[val_idx], ids[val_idx]) if n_val else None
    trainer = Trainer(net, loss, epochs=opts.epochs, batch_size=opts.batch_size,
                      optimizer=opts.optimizer, schedule=opts.schedule, ema=opts.ema,
                      checkpoint=opts.checkpoint, resume=opts.resume,
                      extra_state={"config": config, "data": data_info},
                      settings={"config": config, "data": data_info,
                                "val_fraction": opts.val_fraction, "objective": objective},
                      seed=opts.seed, progress=opts.progress, device=device)
    report = trainer.fit((tensor[train_idx], ids[train_idx]), val)
    finish_checkpoint(opts)
    net = net.cpu().eval()
    provenance = {"command": training_command("deep_cd", data, options), "seed": opts.seed,
                  "data": data_info, "options": plain_record(opts),
                  "optimizer": {"name": opts.optimizer[0], "lr": opts.lr,
                                "schedule": None if opts.schedule is None else opts.schedule[0],
                                "batch_size": opts.batch_size, "epochs": opts.epochs},
                  "train_seconds": report.seconds, "torch": str(torch.__version__)}
    metrics = {"val_dcdm_loss": report.best_metric, "objective": objective,
               "best_epoch": report.best_epoch,
               "history": [{k: float(v) for k, v in h.items()} for h in report.history]}
    model = TrainedModel("deep_cd", net, config, provenance=provenance, metrics=metrics)
    if measure:
        model.metrics.update(measure_iterations(model, measure))
    model.metrics["parameters"] = model.num_parameters()
    return model


def _grid_shape(shape: Any) -> tuple[int, ...]:
    if (not isinstance(shape, (tuple, list)) or len(shape) not in (2, 3)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                       for n in shape)):
        raise InvalidOptionError(f"shape must be 2 or 3 positive integers, got {shape!r}")
    return tuple(shape)


TRAINING_OPERATORS = ("dirichlet", "neumann", "one-dirichlet-face", "obstacle", "two-phase")


def training_operators(kinds: Sequence[str], shape: Sequence[int],
                       seed: int = 0) -> list[StencilOperator]:
    """Operators on ``shape`` for :func:`train`: the Dirichlet box, the pure-Neumann box, a
    Neumann box with a Dirichlet high side on the last axis, a Neumann box around a
    sphere of solid cells (radius a quarter of the box), and a Dirichlet box with a
    two-phase coefficient (:func:`~sciml.data_gen.grf.two_phase_coefficient`, a new field
    for each ``"two-phase"`` in ``kinds``, from ``seed``, with contrasts log-uniform in
    [1, 10^6], :func:`~sciml.data_gen.grf.stratified_contrasts`)."""
    from sciml.data_gen.grf import stratified_contrasts, two_phase_coefficient  # noqa: PLC0415

    shape = tuple(shape)
    ndim = len(shape)
    rng = np.random.default_rng([seed, 12])
    contrasts = iter(stratified_contrasts(list(kinds).count("two-phase"), rng))
    out = []
    for kind in kinds:
        if kind == "two-phase":
            k = two_phase_coefficient(shape, rng, next(contrasts))
            out.append(StencilOperator(shape, coefficient=k))
        elif kind == "dirichlet":
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
                                     f"{TRAINING_OPERATORS}")
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
