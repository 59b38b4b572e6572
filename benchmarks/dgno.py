"""DGNO on two-phase Darcy (29 x 29): forward error against its baselines, the inverse
problem with and without the PDE term, the uncertainty's value as a detector of wrong
pixels, and batched inference time.

Parts (each merges its figures into ``<out>/dgno.json``; ``--report`` prints the tables):

* ``forward``: DGNO (unlabelled, ``objective="weak"``) for ``--epochs`` epochs, then the
  physics-informed DeepONet (``objective="strong_fd"``, ``sum_layers=1``, no labels) for as
  many epochs as fit in DGNO's training time.
* ``supervised``: MultiONet and DeepONet (``objective="supervised"``,
  ``--supervised-epochs``), MgNO and FNO (``--operator-epochs``), all with the 1000
  labelled pairs.
* ``inverse``: ``--cases`` test coefficients, 100 noisy observations of ``u`` (25 dB) at
  random interior vertices, recovered with the saved DGNO model with and without the PDE
  term: error in ``a`` and ``u``, share of pixels in the right phase, AUROC of ``a_std`` for
  the wrong pixels.
* ``inference``: one batched forward call on 1000 coefficients (median of 5).
* ``long`` (``--long``): DGNO alone on ``--long-train`` unlabelled coefficients (10,000, as
  the paper) for ``--long-epochs`` (90, about 100 minutes on one core), recorded once as
  ``dgno_long`` and tested on that file's own 200 test samples. ``--inverse-model long``
  runs the inverse part with this model instead of the forward part's.

The classical reference is ``direct`` on the finite-difference system (the data set's
solutions, made by ``sciml datagen darcy --family two-phase``). Run one part at a time,
single-threaded, with nothing else on the cores::

    OMP_NUM_THREADS=1 flock /tmp/sciml-cpu.lock python benchmarks/dgno.py --part forward
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import sciml
from sciml.data import load
from sciml.problems import DarcyInverse

HERE = Path(__file__).resolve().parent
NOISE_DB = 25.0
OBSERVATIONS = 100
#: the saved model of each DGNO run (``forward`` part and ``long`` part)
MODEL_FILES = {"forward": "dgno_model.pt", "long": "dgno_long_model.pt"}


def data_file(folder: Path, train: int, test: int) -> Path:
    """The two-phase data set (made with ``sciml.data_gen`` when missing)."""
    from sciml.data_gen.darcy import generate  # noqa: PLC0415

    path = folder / f"twophase_{train}_{test}.h5"
    if not path.exists():
        generate(path, train + test, family="two-phase", test_samples=test, seed=0,
                 workers=1)
    return path


def merge(out: Path, key: str, figures: dict[str, Any]) -> None:
    """Merge ``figures`` under ``key`` into ``out/dgno.json`` (written atomically)."""
    path = out / "dgno.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    record[key] = figures
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, default=float))
    os.replace(tmp, path)


def train_and_test(method: str, data: Path, progress: bool = False,
                   **options: Any) -> tuple[Any, dict[str, Any]]:
    """Train, evaluate on the test split, return the model and its figures."""
    start = time.perf_counter()
    model = sciml.train(method, data=str(data), progress=progress, **options)
    seconds = time.perf_counter() - start
    errors = sciml.evaluate(model, data=str(data))
    return model, {"options": dict(options), "train_seconds": seconds,
                   "parameters": model.num_parameters(), **errors}


def part_forward(data: Path, out: Path, epochs: int, seed: int) -> None:
    model, dgno = train_and_test("dgno", data, epochs=epochs, seed=seed)
    model.save(out / MODEL_FILES["forward"], overwrite=True)
    merge(out, "dgno", dgno)
    print("dgno", dgno, flush=True)
    _, probe = train_and_test("dgno", data, epochs=2, seed=seed, objective="strong_fd",
                              sum_layers=1)
    per_epoch = probe["train_seconds"] / 2
    same_time = max(2, int(dgno["train_seconds"] / per_epoch))
    _, pi = train_and_test("dgno", data, epochs=same_time, seed=seed, objective="strong_fd",
                           sum_layers=1)
    merge(out, "pi_deeponet", pi)
    print("pi_deeponet", pi, flush=True)


def part_long(data: Path, out: Path, train: int, epochs: int, seed: int) -> None:
    model, figures = train_and_test("dgno", data, progress=True, epochs=epochs, seed=seed)
    figures["train_samples"] = train
    model.save(out / MODEL_FILES["long"], overwrite=True)
    merge(out, "dgno_long", figures)
    print("dgno_long", figures, flush=True)


def part_supervised(data: Path, out: Path, epochs: int, operator_epochs: int,
                    seed: int) -> None:
    runs = {
        "supervised_multionet": ("dgno", epochs, {"objective": "supervised"}),
        "supervised_deeponet": ("dgno", epochs, {"objective": "supervised", "sum_layers": 1}),
        "mgno": ("mgno", operator_epochs, {}),
        "fno": ("fno", operator_epochs, {}),
    }
    for name, (method, count, options) in runs.items():
        _, figures = train_and_test(method, data, epochs=count, seed=seed, **options)
        merge(out, name, figures)
        print(name, figures, flush=True)


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` as a detector of ``positive`` (ties halved)."""
    from scipy.stats import rankdata  # noqa: PLC0415

    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2)
                 / (len(pos) * len(neg)))


def inverse_cases(data: Path, cases: int) -> list[dict[str, Any]]:
    """Test cases: the true ``a`` and ``u`` and a DarcyInverse of noisy observations."""
    from sciml.solvers.dgno.inverse import observation_noise  # noqa: PLC0415

    test = load(data, "test", cases)
    size = test["a"].shape[1]
    t = np.linspace(0.0, 1.0, size)
    points = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
    interior = np.flatnonzero(np.all((points > 0) & (points < 1), axis=1))
    out = []
    for k in range(cases):
        rng = np.random.default_rng(1000 + k)
        idx = rng.choice(interior, OBSERVATIONS, replace=False)
        observed = observation_noise(test["u"][k].ravel()[idx].astype(float), NOISE_DB, rng)
        out.append({"a": test["a"][k], "u": test["u"][k],
                    "problem": DarcyInverse(points[idx], observed, noise_db=NOISE_DB,
                                            grid=size)})
    return out


def part_inverse(data: Path, out: Path, cases: int, which: str = "forward") -> None:
    model = sciml.load_model(out / MODEL_FILES[which])
    suffix = "_long" if which == "long" else ""
    for label, w_pde in ((f"inverse{suffix}", 1.0), (f"inverse_no_pde{suffix}", 0.0)):
        rows = []
        for k, case in enumerate(inverse_cases(data, cases)):
            sol = sciml.solve(case["problem"], method="dgno", model=model, w_pde=w_pde,
                              seed=k)
            wrong = (sol.x != case["a"]).ravel()
            rows.append({
                "a_error": float(np.linalg.norm(sol.x - case["a"]) / np.linalg.norm(case["a"])),
                "u_error": float(np.linalg.norm(sol.info["u"] - case["u"])
                                 / np.linalg.norm(case["u"])),
                "right_phase": float(1 - wrong.mean()),
                "auroc": auroc(sol.info["a_std"].ravel(), wrong),
                "seconds": sol.solve_time})
        figures = {key: statistics.median(r[key] for r in rows if np.isfinite(r[key]))
                   for key in rows[0]}
        figures.update({"cases": cases, "w_pde": w_pde, "model": which,
                        "auroc_cases": int(sum(np.isfinite(r["auroc"]) for r in rows))})
        merge(out, label, figures)
        print(label, figures, flush=True)


def part_inference(data: Path, out: Path) -> None:
    model = sciml.load_model(out / MODEL_FILES["forward"])
    a = load(data, "train", 1000, fields=["a"])["a"]
    problems = [sciml.problems.DarcyFlow(a=x, f=10.0) for x in a]
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        sciml.solve(problems, method="dgno", model=model, batch_size=1000)
        seconds.append(time.perf_counter() - start)
    figures = {"coefficients": len(a), "median_seconds": statistics.median(seconds)}
    merge(out, "inference", figures)
    print("inference", figures, flush=True)


ROWS = [("dgno", "DGNO (weak form, no labels)"),
        ("dgno_long", "DGNO, long run (10,000 coefficients, no labels; own test split)"),
        ("pi_deeponet", "physics-informed DeepONet (FD residual, no labels, same time)"),
        ("supervised_multionet", "supervised MultiONet (1000 labels)"),
        ("supervised_deeponet", "supervised DeepONet (1000 labels)"),
        ("mgno", "MgNO (1000 labels)"), ("fno", "FNO (1000 labels)")]


def report(out: Path) -> str:
    """The forward and inverse tables (markdown) from ``out/dgno.json``."""
    record = json.loads((out / "dgno.json").read_text())
    lines = ["| method | test rel. L2 of u | train s | epochs | parameters |",
             "|---|---|---|---|---|"]
    for key, label in ROWS:
        if key in record:
            r = record[key]
            lines.append(f"| {label} | {r['rel_l2']:.4f} | {r['train_seconds']:.0f} | "
                         f"{r['options'].get('epochs')} | {r['parameters']:,} |")
    lines.append("| direct (FD system: the reference) | 0 | — | — | — |")
    lines += ["", "| inverse (median over cases) | error in a | right phase | error in u | "
              "AUROC of a_std for wrong pixels | seconds |", "|---|---|---|---|---|---|"]
    for key, label in (("inverse", "with the PDE term"), ("inverse_no_pde", "data only"),
                       ("inverse_long", "long-run model, with the PDE term"),
                       ("inverse_no_pde_long", "long-run model, data only")):
        if key in record:
            r = record[key]
            lines.append(f"| {label} ({r['cases']} cases) | {r['a_error']:.3f} | "
                         f"{r['right_phase']:.3f} | {r['u_error']:.4f} | {r['auroc']:.3f} | "
                         f"{r['seconds']:.1f} |")
    if "inference" in record:
        r = record["inference"]
        lines += ["", f"Batched inference: {r['coefficients']} coefficients in "
                      f"{r['median_seconds']:.3f} s (median of 5)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("forward", "supervised", "inverse", "inference"),
                        action="append", default=[])
    parser.add_argument("--long", action="store_true", help="the long DGNO run (part long)")
    parser.add_argument("--long-epochs", type=int, default=90)
    parser.add_argument("--long-train", type=int, default=10000,
                        help="unlabelled training coefficients of the long run")
    parser.add_argument("--inverse-model", choices=tuple(MODEL_FILES), default="forward",
                        help="the DGNO model the inverse part uses")
    parser.add_argument("--report", action="store_true", help="print the tables")
    parser.add_argument("--epochs", type=int, default=250, help="DGNO epochs (forward)")
    parser.add_argument("--supervised-epochs", type=int, default=200,
                        help="epochs of the supervised MultiONet and DeepONet")
    parser.add_argument("--operator-epochs", type=int, default=20,
                        help="epochs of MgNO and FNO (about 12 s each on one core)")
    parser.add_argument("--cases", type=int, default=20, help="inverse test cases")
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    args = parser.parse_args()
    import torch  # noqa: PLC0415

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    args.out.mkdir(parents=True, exist_ok=True)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    data = data_file(args.data_dir, args.train, args.test)
    def long_data() -> Path:
        """The long run's file (made only by the parts that use it)."""
        return data_file(args.data_dir, args.long_train, args.test)

    if args.long:
        args.part.append("long")
    for part in args.part:
        if part == "forward":
            part_forward(data, args.out, args.epochs, args.seed)
        elif part == "supervised":
            part_supervised(data, args.out, args.supervised_epochs, args.operator_epochs,
                            args.seed)
        elif part == "long":
            part_long(long_data(), args.out, args.long_train, args.long_epochs, args.seed)
        elif part == "inverse":
            # the long model's training set holds the short set's test samples: its inverse
            # cases come from its own file's test split
            held_out = long_data() if args.inverse_model == "long" else data
            part_inverse(held_out, args.out, args.cases, args.inverse_model)
        else:
            part_inference(data, args.out)
    if args.report or not args.part:
        print(report(args.out))


if __name__ == "__main__":
    main()
