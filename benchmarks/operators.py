"""MgNO against the FNO baseline on Darcy (smooth and rough) and Burgers: same data, same
optimiser and schedule (each at its own default peak rate unless ``--lr``), several seeds;
errors, parameters, seconds per epoch, error-vs-time.

Each problem trains MgNO and FNO for ``--epochs`` epochs (equal epochs) and FNO once more
for as many epochs as fit in MgNO's training time (equal time, its own OneCycle schedule;
times are median epoch seconds, which other jobs on a shared machine disturb least).
Each finished seed is merged into ``<out>/operators_<problem>.json``; the table of every
problem present there is printed and the error-versus-time plot written to
``<out>/operators.png``.

Defaults: the issue's data size (1000 training / 100 test samples), 20 epochs, seeds 0 and
1. With a GPU present it runs there and switches to the paper-size recipe (``--paper``:
500 epochs, 3 seeds, peak lr 5e-4; ``--no-paper`` keeps the flags). On the 2-core CPU of
RESULTS.md each seed ran as its own single-threaded job, both at once::

    python benchmarks/operators.py --problem burgers darcy-rough darcy-smooth \\
        --seeds 0 --threads 1 &       # and the same with --seeds 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import sciml
from sciml.learn.train_cli import decay_flag

#: problem -> (data_gen module, generator arguments); 64^2 Darcy solved at 127^2, stride 2.
#: "burgers" is the FNO paper's stated nu = 0.1 (u(., 1) is about one Fourier mode);
#: "burgers-1e-3" the nu = 1/1000 of the FNO repository's generator script (gamma 2.5,
#: tau 7, sigma 49), with fronts, solved at 4096 points (dt 5e-3: 1e-7 from a 16384-point,
#: dt 1e-4 solution)
PROBLEMS: dict[str, tuple[str, dict[str, Any]]] = {
    "darcy-smooth": ("darcy", {"family": "smooth", "resolution": 127, "downsample": 2}),
    "darcy-rough": ("darcy", {"family": "rough", "resolution": 127, "downsample": 2}),
    "burgers": ("burgers", {"resolution": 8192, "downsample": 8}),
    "burgers-1e-3": ("burgers", {"resolution": 4096, "downsample": 4, "nu": 1e-3,
                                 "alpha": 2.5, "tau": 7.0, "sigma": 49.0}),
}


def data_file(problem: str, folder: Path, train: int, test: int) -> Path:
    """The problem's data set in ``folder`` (made with data_gen when missing; concurrent
    jobs wait for the one that makes it)."""
    import fcntl  # noqa: PLC0415
    import importlib  # noqa: PLC0415

    path = folder / f"{problem}.h5"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            module, kwargs = PROBLEMS[problem]
            generator = importlib.import_module(f"sciml.data_gen.{module}")
            generator.generate(path, train + test, test_samples=test, seed=0, **kwargs)
    return path


def run_one(method: str, path: Path, *, epochs: int, seed: int, train: int, test: int,
            device: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    """Train and evaluate one model; return its figures and its validation curve."""
    start = time.perf_counter()
    model = sciml.train(method, data=str(path), epochs=epochs, seed=seed, samples=train,
                        device=device, progress=False, **settings)
    seconds = time.perf_counter() - start
    metrics = sciml.evaluate(model, data=str(path), device=device, samples=test)
    history = model.provenance["history"]
    elapsed = np.cumsum([h["seconds"] for h in history]).tolist()
    return {"method": method, "seed": seed, "epochs": epochs, "parameters":
            model.num_parameters(), "seconds": seconds,
            # the median resists the other jobs of a shared machine
            "seconds_per_epoch": float(np.median([h["seconds"] for h in history])),
            **metrics, "curve": {"seconds": elapsed,
                                 "val_rel_l2": [h["val_metric"] for h in history]}}


def run_problem(problem: str, args: argparse.Namespace, out: Path) -> None:
    """Every seed of ``args.methods`` (MgNO, FNO) and FNO at MgNO's time on ``problem``.

    The equal-time FNO run needs MgNO's epoch time, so it runs when one job trains both
    (and ``--equal-time`` is on). Each finished seed is merged into
    ``out/operators_<problem>.json`` at once (a method and seed run again replaces its
    earlier run), so seeds, or methods, can run as separate or concurrent jobs.
    """
    path = data_file(problem, Path(args.data_dir), args.train, args.test)
    settings = {"batch_size": args.batch_size, "weight_decay": 1e-4, "loss": args.loss,
                "schedule": "onecycle", **({} if args.lr is None else {"lr": args.lr}),
                **({} if args.ema is None else {"ema": None if args.ema == "none"
                                                else args.ema})}
    record = out / f"operators_{problem}.json"
    header = {"problem": problem, "data": str(path), "settings": settings,
              "train": args.train, "test": args.test, "epochs": args.epochs,
              "device": args.device or "cpu", "threads": args.threads, "runs": []}
    check_record(record, header)            # before hours of training, not after
    for seed in args.seeds:
        common = {"seed": seed, "train": args.train, "test": args.test, "device": args.device,
                  "settings": settings}
        runs = {m: run_one(m, path, epochs=args.epochs, **common) for m in args.methods}
        if args.equal_time and {"mgno", "fno"} <= runs.keys():
            equal = max(1, round(args.epochs * runs["mgno"]["seconds_per_epoch"]
                                 / runs["fno"]["seconds_per_epoch"]))
            runs["fno (equal time)"] = {**run_one("fno", path, epochs=equal, **common),
                                        "method": "fno (equal time)"}
        print(f"{problem} seed {seed}: " + "; ".join(
            f"{r['method']} {r['epochs']} ep {r['seconds']:.0f} s L2 {r['rel_l2']:.4f}"
            for r in runs.values()), flush=True)
        merge_runs(record, list(runs.values()), header)


def check_record(record: Path, header: dict[str, Any]) -> dict[str, Any]:
    """The runs already in ``record`` (a new record from ``header`` if missing).

    Raises SystemExit when ``record`` holds runs of another size (train, test, epochs):
    the tables would mix them.
    """
    result = json.loads(record.read_text()) if record.exists() else header
    mine = (header["train"], header["test"], header["epochs"])
    if (result["train"], result["test"], result["epochs"]) != mine:
        raise SystemExit(f"{record} holds runs with other settings (train, test, epochs) "
                         f"than {mine}; use another --out")
    return result


def merge_runs(record: Path, runs: list[dict[str, Any]], header: dict[str, Any]) -> None:
    """Put ``runs`` into the JSON ``record`` (made from ``header`` if missing), replacing
    earlier runs of the same method and seed.

    The read-merge-write holds an exclusive lock beside the record and publishes the file
    atomically, so jobs may run concurrently (one per core) and a kill loses nothing.
    """
    import fcntl  # noqa: PLC0415

    from sciml.io.atomic import atomic_write  # noqa: PLC0415

    with open(record.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = check_record(record, header)
        new = {(r["method"], r["seed"]) for r in runs}
        result["runs"] = [r for r in result["runs"] if (r["method"], r["seed"]) not in new]
        result["runs"] += runs
        result["seeds"] = sorted({r["seed"] for r in result["runs"]})
        text = json.dumps(result, indent=1).encode()
        atomic_write(record, lambda fh: fh.write(text))


def _epoch_seconds(run: dict[str, Any]) -> float:
    """Median seconds of one epoch (robust to other jobs on a shared machine)."""
    return float(np.median(np.diff([0.0, *run["curve"]["seconds"]])))


def _ratio(runs: list[dict[str, Any]], num: str, den: str, key: str) -> str:
    by = {(r["method"], r["seed"]): r[key] for r in runs}
    ratios = [by[num, s] / by[den, s] for s in sorted({r["seed"] for r in runs})
              if (num, s) in by and (den, s) in by]
    return f"{np.mean(ratios):.2f} ± {np.std(ratios):.2f}" if ratios else "–"


def _worst_curve_ratio(runs: list[dict[str, Any]], first_epoch: int = 3) -> str:
    """The largest MgNO / FNO ratio of the validation curves (means over seeds) over the
    epochs from ``first_epoch`` on, and the epoch where it occurs."""
    curves = {}
    for method in ("mgno", "fno"):
        rs = [r["curve"]["val_rel_l2"] for r in runs if r["method"] == method]
        if not rs or len({len(c) for c in rs}) != 1:
            return "–"
        curves[method] = np.mean(rs, axis=0)
    ratio = (curves["mgno"] / curves["fno"])[first_epoch - 1:]
    if not len(ratio):
        return "–"
    worst = int(np.argmax(ratio))
    return f"{ratio[worst]:.2f} (epoch {worst + first_epoch})"


def table(results: list[dict[str, Any]]) -> str:
    """Markdown tables: per method means over seeds, then the MgNO / FNO ratios."""
    lines = ["| problem | method | params | epochs | s/epoch | rel L2 (mean ± sd) | "
             "rel H1 (mean ± sd) |", "|---|---|---|---|---|---|---|"]
    ratio_lines = ["| problem | L2 ratio, equal epochs | H1 ratio, equal epochs | "
                   "L2 ratio, equal time | H1 ratio, equal time | worst validation ratio, "
                   "epochs 3 to end |", "|---|---|---|---|---|---|"]
    for res in results:
        runs = res["runs"]
        for method in ("mgno", "fno", "fno (equal time)"):
            rs = [r for r in runs if r["method"] == method]
            if not rs:
                continue
            l2, h1 = np.array([r["rel_l2"] for r in rs]), np.array([r["rel_h1"] for r in rs])
            lines.append(
                f"| {res['problem']} | {method} | {rs[0]['parameters']:,} | "
                f"{'/'.join(str(r['epochs']) for r in rs)} | "
                f"{np.mean([_epoch_seconds(r) for r in rs]):.1f} | "
                f"{l2.mean():.4f} ± {l2.std():.4f} | {h1.mean():.4f} ± {h1.std():.4f} |")
        ratio_lines.append(
            f"| {res['problem']} | {_ratio(runs, 'mgno', 'fno', 'rel_l2')} | "
            f"{_ratio(runs, 'mgno', 'fno', 'rel_h1')} | "
            f"{_ratio(runs, 'mgno', 'fno (equal time)', 'rel_l2')} | "
            f"{_ratio(runs, 'mgno', 'fno (equal time)', 'rel_h1')} | "
            f"{_worst_curve_ratio(runs)} |")
    return "\n".join(lines + [""] + ratio_lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Validation relative L2 against epochs (top) and training seconds (bottom), one
    column per problem, every seed drawn."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(2, len(results), figsize=(5 * len(results), 8), squeeze=False)
    colours = {"mgno": "C0", "fno": "C1", "fno (equal time)": "C2"}
    for column, res in zip(axes.T, results):
        for run in res["runs"]:
            curve = run["curve"]["val_rel_l2"]
            label = run["method"] if run["seed"] == res["seeds"][0] else None
            style = {"color": colours[run["method"]], "alpha": 0.8, "label": label}
            column[0].semilogy(np.arange(1, len(curve) + 1), curve, marker=".", **style)
            column[1].semilogy(run["curve"]["seconds"], curve, **style)
        column[0].set(title=res["problem"], xlabel="epoch", ylabel="validation relative L2")
        column[1].set(xlabel="training seconds", ylabel="validation relative L2")
        column[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for the chosen problems, then print and plot everything in --out."""
    import torch  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", nargs="+", choices=sorted(PROBLEMS),
                        default=sorted(PROBLEMS))
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--methods", nargs="+", choices=("mgno", "fno"),
                        default=["mgno", "fno"])
    parser.add_argument("--equal-time", action=argparse.BooleanOptionalAction, default=True,
                        help="also train FNO for MgNO's training time (needs both methods)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=None,
                        help="peak learning rate of both methods (default: each method's "
                             "own for the problem, 1e-3 except MgNO on Burgers, 5e-4)")
    parser.add_argument("--ema", default=None, type=decay_flag,
                        help="decay of the weight average both methods validate and keep, "
                             "or 'none' for the raw weights (default: the shared default)")
    parser.add_argument("--loss", choices=("l2", "h1", "h1_fd"), default="l2",
                        help="training loss of both methods (default: the shared default)")
    parser.add_argument("--paper", action=argparse.BooleanOptionalAction, default=None,
                        help="1000 train / 100 test samples, 500 epochs, 3 seeds, lr 5e-4 "
                             "(default: on when a GPU is present)")
    parser.add_argument("--data-dir", default="benchmarks/data")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    args.device = "cuda" if torch.cuda.is_available() else None
    if args.paper if args.paper is not None else args.device == "cuda":
        args.train, args.test, args.epochs, args.seeds, args.lr = 1000, 100, 500, [0, 1, 2], 5e-4
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    for problem in args.problem:
        run_problem(problem, args, out)
    results = [json.loads(p.read_text()) for p in sorted(out.glob("operators_*.json"))]
    print(table(results))
    plot(results, out / "operators.png")


if __name__ == "__main__":
    main()
