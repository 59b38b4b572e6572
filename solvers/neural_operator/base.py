"""The learned-solver base of every neural operator: train, evaluate, predict, solve.

A subclass supplies the network only: ``name``, ``networks`` (its options and their
defaults per problem), :meth:`OperatorSolver.build_network` and, where the
network limits the grid, :meth:`OperatorSolver.min_grid`. Training goes through the shared
:class:`sciml.learn.trainer.Trainer`.
"""

from __future__ import annotations

import sys
import time
from typing import Any, ClassVar

import numpy as np

from sciml.learn.normalizers import GaussianNormalizer, normalizer_from_state
from sciml.errors import InvalidOptionError, ModelMismatchError
from sciml.learn.losses import RelativeH1, RelativeL2
from sciml.learn.trained_model import TrainedModel
from sciml.problems.burgers import Burgers1D
from sciml.problems.darcy import DarcyFlow
from sciml.solution import Solution
from sciml.solver_base import LearnedSolver, check_options
from sciml.learn.trainer import Trainer, split_indices

from sciml.learn.operator_data import PROBLEMS, load_operator_data

_LOSSES = ("l2", "h1")


def _criteria(problem: str) -> dict[str, Any]:
    ndim = PROBLEMS[problem][0]
    # Dirichlet Darcy: one-sided differences at the edges; Burgers: periodic
    return {"l2": RelativeL2(), "h1": RelativeH1(ndim=ndim, periodic=problem == "burgers")}


class OperatorSolver(LearnedSolver):
    """A neural operator mapping an input field ``a`` to the solution ``u`` on the same grid.

    Problems: :class:`~sciml.problems.DarcyFlow` (``a`` -> ``u``) and
    :class:`~sciml.problems.Burgers1D` (``u0`` -> ``u(., t)``). Inputs and outputs are
    normalised by one mean and standard deviation each, fitted on the training set and saved
    with the model.
    """

    #: training options and defaults shared by every operator (the MgNO paper's recipe, with
    #: a larger learning rate for short CPU runs)
    train_defaults: ClassVar[dict[str, Any]] = {
        "epochs": 20, "seed": 0, "batch_size": 8, "lr": 1e-3, "weight_decay": 1e-4,
        "schedule": "onecycle", "loss": "h1", "val_fraction": 0.1, "max_samples": None,
        "problem": None, "split": "train", "input_key": "a", "output_key": "u",
        "checkpoint": None,
        "resume": True, "progress": True, "device": None,
    }

    # -- what a network family supplies ---------------------------------------------------
    #: problem name -> the network options (with defaults); the keys are all it accepts
    networks: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def default_network(cls, problem: str) -> dict[str, Any]:
        """A copy of the network options (with defaults) for ``problem``."""
        return dict(cls.networks[problem])

    @classmethod
    def min_grid(cls, config: dict[str, Any]) -> int:
        """Smallest grid extent the network described by ``config`` can take."""
        return 1

    # -- training -------------------------------------------------------------------------
    @classmethod
    def train(cls, data: Any = None, **options: Any) -> TrainedModel:
        """Train on ``data`` (HDF5 path or ``(a, u)`` arrays) with the shared Trainer.

        Options: ``epochs``, ``seed``, ``batch_size``, ``lr`` (the OneCycle peak),
        ``weight_decay`` (Adam's L2 penalty, as in the MgNO paper), ``schedule``
        (``"onecycle"``, ``"step"``, ``"cosine"`` or None), ``loss`` (``"h1"`` or ``"l2"``,
        relative), ``val_fraction`` (held out for best-epoch selection by relative L2),
        ``max_samples``, ``problem``, ``split`` (of a file recording train/test splits),
        ``input_key``/``output_key``, ``checkpoint``/``resume``,
        ``progress``, ``device``, and the network options of :meth:`default_network`.
        """
        import torch  # noqa: PLC0415

        if data is None:
            raise InvalidOptionError(f"{cls.name!r} trains on data: pass data='file.h5' or "
                                     "data=(a, u)")
        pairs = load_operator_data(data, split=options.get("split", "train"),
                                   problem=options.get("problem"),
                                   input_key=options.get("input_key", "a"),
                                   output_key=options.get("output_key", "u"),
                                   max_samples=options.get("max_samples"))
        net_defaults = cls.default_network(pairs.problem)
        opts = check_options(cls.name, options, {**cls.train_defaults, **net_defaults})
        if opts["loss"] not in _LOSSES:
            raise InvalidOptionError(f"loss must be one of {_LOSSES}, got {opts['loss']!r}")
        config = {"problem": pairs.problem, "ndim": pairs.a.ndim - 1, "in_channels": 1,
                  "out_channels": 1, "params": pairs.params,
                  "train_grid": list(pairs.a.shape[1:]),
                  "network": {k: opts[k] for k in net_defaults}}
        min_size = cls.min_grid(config)
        if min(pairs.a.shape[1:]) < min_size:
            raise InvalidOptionError(f"{cls.name!r} with these options needs grids of at "
                                     f"least {min_size} points per axis; the data have "
                                     f"{pairs.a.shape[1:]}")
        device = torch.device(opts["device"] or "cpu")
        torch.manual_seed(opts["seed"])
        network = cls.build_network(config).to(device)
        a, u = torch.from_numpy(pairs.a), torch.from_numpy(pairs.u)
        norms = {"a": GaussianNormalizer.fit(a), "u": GaussianNormalizer.fit(u)}
        inputs, targets = norms["a"].encode(a).unsqueeze(1), u.unsqueeze(1)
        normalizers = {k: v.state_dict() for k, v in norms.items()}
        n = len(inputs)
        n_val = int(round(opts["val_fraction"] * n)) if n > 1 else 0
        train_idx, val_idx = split_indices(n, [1 - n_val / n, n_val / n], seed=opts["seed"])
        val = (inputs[val_idx], targets[val_idx]) if n_val > 0 else None
        criteria = _criteria(pairs.problem)
        decode = norms["u"].to(device).decode

        def loss(net: Any, batch: Any) -> Any:
            return criteria[opts["loss"]](decode(net(batch[0])), batch[1])

        def metric(net: Any, batch: Any) -> Any:
            return criteria["l2"](decode(net(batch[0])), batch[1])

        schedule = None if opts["schedule"] is None else (
            (opts["schedule"], {"max_lr": opts["lr"]}) if opts["schedule"] == "onecycle"
            else (opts["schedule"], {}))
        trainer = Trainer(network, loss, epochs=opts["epochs"], batch_size=opts["batch_size"],
                          optimizer=("adam", {"lr": opts["lr"],
                                              "weight_decay": opts["weight_decay"]}),
                          schedule=schedule, metric=metric, checkpoint=opts["checkpoint"],
                          resume=opts["resume"], seed=opts["seed"], progress=opts["progress"],
                          device=device,
                          extra_state={"config": config, "normalizers": normalizers})
        report = trainer.fit((inputs[train_idx], targets[train_idx]), val)
        network.eval()
        provenance = {
            "data": pairs.source, "data_attrs": pairs.attrs, "samples": n,
            "validation_samples": n_val, "seed": opts["seed"], "command": " ".join(sys.argv),
            "options": {k: v for k, v in opts.items() if isinstance(v, (int, float, str))},
            "torch": str(torch.__version__), "history": report.history,
        }
        metrics = {"best_epoch": report.best_epoch, "val_rel_l2": report.best_metric,
                   "train_seconds": report.seconds}
        return TrainedModel(cls.name, network.cpu(), config, normalizers, provenance, metrics)

    # -- using a model --------------------------------------------------------------------
    @classmethod
    def predict(cls, model: TrainedModel, a: Any, *, batch_size: int = 32,
                device: Any = None) -> np.ndarray:
        """Apply ``model`` to input fields ``a`` of shape ``(samples, *grid)`` or ``grid``.

        Raises
        ------
        ModelMismatchError
            ``a`` has another number of grid axes than the model, or a grid the network
            cannot take.
        """
        import torch  # noqa: PLC0415

        config = model.config
        a = np.asarray(a, dtype=np.float32)
        single = a.ndim == config["ndim"]
        batch = a[None] if single else a
        expected = f"(samples, *grid) with {config['ndim']} grid axes"
        if batch.ndim != config["ndim"] + 1:
            raise ModelMismatchError(
                f"this {model.method!r} model takes {config['problem']} inputs of shape "
                f"{expected} (trained on grid {tuple(config['train_grid'])}); got {a.shape}")
        min_size = cls.min_grid(config)
        if min(batch.shape[1:]) < min_size:
            raise ModelMismatchError(f"this {model.method!r} model needs at least {min_size} "
                                     f"grid points per axis; got grid {batch.shape[1:]}")
        device = torch.device(device or "cpu")
        norm_a = normalizer_from_state(model.normalizers["a"]).to(device)
        norm_u = normalizer_from_state(model.normalizers["u"]).to(device)
        network = model.network.to(device).eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(batch), batch_size):
                x = torch.from_numpy(batch[start:start + batch_size]).to(device)
                y = norm_u.decode(network(norm_a.encode(x).unsqueeze(1)))[:, 0]
                outputs.append(y.cpu().numpy())
        out = np.concatenate(outputs).astype(np.float64)
        return out[0] if single else out

    @classmethod
    def evaluate(cls, model: TrainedModel, data: Any, **options: Any) -> dict[str, float]:
        """Relative L2 and H1 errors (means over samples) of ``model`` on ``data``.

        Options: ``batch_size``, ``device``, ``max_samples``, ``split`` (default ``"test"``
        for a file recording splits), ``input_key``, ``output_key``.
        """
        import torch  # noqa: PLC0415

        opts = check_options(cls.name, options, {"batch_size": 32, "device": None,
                                                 "max_samples": None, "split": "test",
                                                 "input_key": "a", "output_key": "u"})
        model = cls.load_model(model)
        data = load_operator_data(data, split=opts["split"], problem=model.config["problem"],
                                  input_key=opts["input_key"], output_key=opts["output_key"],
                                  max_samples=opts["max_samples"])
        _check_params(model, data.problem, data.params)
        pred = torch.from_numpy(cls.predict(model, data.a, batch_size=opts["batch_size"],
                                            device=opts["device"]))
        true = torch.from_numpy(data.u.astype(np.float64))
        criteria = _criteria(data.problem)
        return {"rel_l2": float(criteria["l2"](pred, true)),
                "rel_h1": float(criteria["h1"](pred, true))}

    def solve(self, problem: Any, *, model: Any = None, device: Any = None) -> Solution:
        """Predict the solution of a DarcyFlow or Burgers1D ``problem`` with one network call.

        For a problem with a linear discretisation, ``residuals`` holds the relative
        finite-difference residual of the prediction (evidence, not a stopping test).
        """
        trained = self.load_model(model)
        t0 = time.perf_counter()
        field, kind, params = _problem_input(problem)
        if trained.config["problem"] != kind:
            raise ModelMismatchError(
                f"this {self.name!r} model was trained for {trained.config['problem']} "
                f"problems, not {kind} ({type(problem).__name__})")
        _check_params(trained, kind, params)
        t1 = time.perf_counter()
        u = self.predict(trained, field, device=device)
        t2 = time.perf_counter()
        residuals: list[float] = []
        if hasattr(problem, "to_linear_problem"):
            lp = problem.to_linear_problem()
            bnorm = float(np.linalg.norm(lp.b))
            residuals = [lp.residual_norm(problem.vector_from_solution(u)) / bnorm]
        return Solution(x=u, converged=True, iterations=1, residuals=np.asarray(residuals),
                        setup_time=t1 - t0, solve_time=t2 - t1, method=self.name,
                        options={"device": None if device is None else str(device)},
                        info={"reason": "network prediction (one forward pass); no "
                                        "tolerance applies",
                              "network_calls": 1, "train_grid": trained.config["train_grid"]})


def _problem_input(problem: Any) -> tuple[np.ndarray, str, dict[str, Any]]:
    if isinstance(problem, DarcyFlow):
        return problem.a, "darcy", {"f": problem.f}
    if isinstance(problem, Burgers1D):
        return problem.u0, "burgers", {"nu": problem.nu, "t": problem.t}
    raise TypeError(f"neural operators solve DarcyFlow or Burgers1D problems; got "
                    f"{type(problem).__name__}")


def _check_params(model: TrainedModel, problem: str, params: dict[str, Any]) -> None:
    """The problem's parameters must be those the model was trained for."""
    trained = model.config["params"]
    for key, value in params.items():
        if np.ndim(value) != 0 or not np.isclose(float(value), trained[key], rtol=1e-6):
            shown = "an array" if np.ndim(value) else value
            raise ModelMismatchError(
                f"this {model.method!r} model was trained for {problem} with {key}="
                f"{trained[key]}; got {key}={shown}")
