"""``sciml train METHOD ...``: one command line for every learned method.

The common flags are the training vocabulary (:mod:`sciml.learn.vocabulary`); a method's
own options (declared as ``TRAIN_EXTRAS`` in its ``train`` module, e.g. deep_cd's
``shape``, an operator's ``loss``) get a flag each (``--shape 32 32 32``, ``--loss l2``:
values read as JSON where they parse, several values make a list) and everything else,
network options included, goes through ``--set KEY=VALUE`` (JSON value, else the string),
checked against the method's declared options before any training.

Before training, the output (``--out``, its JSON report ``OUT`` with suffix ``.json``, and
the checkpoint, by default ``OUT.ckpt``) is checked: an existing file is refused unless
``--overwrite``, an input (``--data``, ``--test``) is never overwritten, and the folder
must be writable. After training the model is saved first, then evaluated on ``--test``
(the metrics are then added to the saved model), then the checkpoint is removed unless
``--keep-checkpoint``.

Under ``torchrun --nproc_per_node=N sciml train ...`` every process trains its share
(:mod:`sciml.learn.distributed`); the outputs are checked and written by rank 0 alone, the
inputs are checked on every rank, and a rank whose check fails stops all of them with its
message.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import time
from pathlib import Path
from typing import Any

from ..errors import DataFileError, SciMLError, UsageError
from . import distributed, vocabulary
from ..io.atomic import check_output_path
from ..io.datasets import RunLock
from ..solver_base import LearnedSolver


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, _json_value(value)


def train_extras(cls: Any) -> dict[str, Any]:
    """A learned method's own training options: ``TRAIN_EXTRAS`` of its ``train`` module."""
    package = cls.__module__.rsplit(".", 1)[0]
    return dict(getattr(importlib.import_module(f"{package}.train"), "TRAIN_EXTRAS", {}))


def build_parser(method: str, extras: dict[str, Any]) -> argparse.ArgumentParser:
    """The parser of ``sciml train METHOD``: common flags, one flag per method option."""
    p = argparse.ArgumentParser(
        prog=f"sciml train {method}",
        description=f"Train {method!r}, save the model (--out) and a JSON report beside it.",
        epilog="Network and other options: --set KEY=VALUE (JSON value), e.g. --set "
               "channels=32. A kill resumes from the checkpoint when the settings and data "
               "match.")
    p.add_argument("--data", help="training data (HDF5), where the method needs a file")
    p.add_argument("--test", help="HDF5 file to evaluate the saved model on")
    p.add_argument("--out", required=True, help="where to save the model (.pt)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--samples", type=int, help="use (or generate) this many samples")
    p.add_argument("--val-fraction", type=float)
    p.add_argument("--optimizer", choices=vocabulary.OPTIMIZERS)
    p.add_argument("--lr", type=float, help="(peak) learning rate")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--schedule", choices=(*vocabulary.SCHEDULES, "none"))
    p.add_argument("--ema", type=decay_flag,
                   help="validate and keep a moving average of the weights with this decay "
                        "(e.g. 0.99), or 'none' for the raw weights")
    p.add_argument("--network", help="network kind")
    p.add_argument("--checkpoint", help="training checkpoint (default: OUT.ckpt)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="resume a matching checkpoint (--no-resume: start afresh)")
    p.add_argument("--keep-checkpoint", action="store_true",
                   help="keep the checkpoint after success")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    for name in extras:
        p.add_argument(f"--{name.replace('_', '-')}", dest=f"extra_{name}", nargs="+",
                       type=_json_value, metavar="VALUE", help=f"{method} option {name}")
    p.add_argument("--set", dest="settings", action="append", type=_key_value, default=[],
                   metavar="KEY=VALUE", help="any other option (JSON value)")
    return p


def decay_flag(value: str) -> float | str:
    """An ``--ema`` flag's value: a number, or "none" (the raw weights); also the
    benchmarks' flag."""
    if value == "none":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a decay in (0, 1) such as 0.99, or 'none'; got {value!r}") from None


def _options(args: argparse.Namespace, extras: dict[str, Any]) -> dict[str, Any]:
    """The ``sciml.train`` keywords of the parsed flags (only those given)."""
    options: dict[str, Any] = {}
    for key in ("epochs", "batch_size", "seed", "samples", "val_fraction", "lr",
                "weight_decay", "checkpoint", "device"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.ema is not None:
        options["ema"] = None if args.ema == "none" else args.ema
    if args.optimizer is not None:
        options["optimizer"] = args.optimizer
    if args.schedule is not None:
        options["schedule"] = None if args.schedule == "none" else args.schedule
    if args.network is not None:
        options["network"] = args.network
    for name, default in extras.items():
        values = getattr(args, f"extra_{name}")
        if values is not None:
            many = isinstance(default, (tuple, list)) or default is None and len(values) > 1
            options[name] = list(values) if many else values[0]
    options.update(dict(args.settings))
    options.update(resume=args.resume, progress=not args.no_progress, keep_checkpoint=True)
    return options


def main(cls: Any, argv: list[str]) -> int:
    """Run ``sciml train <cls.name> ARGV``; returns the exit status (0 on success).

    Raises
    ------
    sciml.errors.SciMLError
        A user mistake (bad option, unwritable or existing output, unusable data, stale
        checkpoint), before training where it can be detected then.
    """
    from ..api import evaluate, train  # noqa: PLC0415

    extras = train_extras(cls)
    args = build_parser(cls.name, extras).parse_args(argv)
    from ..backend import torch_device  # noqa: PLC0415

    here = distributed.setup(torch_device(args.device))   # one process: joins nothing
    inputs = [x for x in (args.data, args.test) if x is not None]
    out = Path(args.out)
    checkpoint = Path(args.checkpoint or f"{out}.ckpt")

    def check_outputs() -> None:   # rank 0 writes them
        check_output_path(out, overwrite=args.overwrite, inputs=inputs)
        check_output_path(out.with_suffix(".json"), overwrite=args.overwrite, inputs=inputs)
        check_output_path(checkpoint, overwrite=True, inputs=[*inputs, out])

    def check_inputs() -> None:    # every rank reads them
        if args.data is not None and not Path(args.data).is_file():
            raise UsageError(f"--data {args.data}: no such file")
        if args.test is not None and not Path(args.test).is_file():
            raise UsageError(f"--test {args.test}: no such file")
        if args.test is not None and cls.evaluate.__func__ is LearnedSolver.evaluate.__func__:
            raise UsageError(f"--test: {cls.name!r} has no evaluation on a data file")
        if args.threads is not None and args.threads < 1:
            raise UsageError(f"--threads must be >= 1, got {args.threads}")

    distributed.agree(check_outputs, main_only=True)
    distributed.agree(check_inputs)
    report = out.with_suffix(".json")
    if args.threads is not None:
        import torch  # noqa: PLC0415

        torch.set_num_threads(args.threads)
    options = {**_options(args, extras), "checkpoint": str(checkpoint)}
    start = time.perf_counter()
    command = shlex.join(["sciml", "train", cls.name, *argv])
    # one training per output at a time: a second one fails at once, naming the first
    locks: list[RunLock] = []      # rank 0's; its failure stops every rank
    distributed.agree(lambda: locks.append(RunLock(
        f"{out}.lock", {"method": cls.name, "command": command}, what="training")),
        main_only=True)
    vocabulary._COMMAND_LINE.append(command)
    try:
        model = train(cls.name, data=args.data, **options)
        if here.main:
            model.save(out, overwrite=args.overwrite)   # before the evaluation: never lost
    finally:
        vocabulary._COMMAND_LINE.pop()
        for lock in locks:
            lock.release()
    if not here.main:
        return 0   # rank 0 evaluates and writes the report
    if args.test is not None:
        try:
            model.metrics.update(evaluate(model, data=args.test, device=args.device))
        except (SciMLError, ValueError) as exc:
            raise DataFileError(f"the model is saved to {out}, but evaluating it on "
                                f"{args.test} failed: {exc}") from exc
        model.save(out, overwrite=True)
    summary = {"config": model.config, "provenance": model.provenance,
               "metrics": {k: v for k, v in model.metrics.items() if k != "history"},
               "wall_seconds": time.perf_counter() - start}
    from ..io.atomic import atomic_write  # noqa: PLC0415

    text = (json.dumps(summary, indent=2, default=str) + "\n").encode()
    atomic_write(report, lambda handle: handle.write(text))
    if not args.keep_checkpoint:
        checkpoint.unlink(missing_ok=True)
    print(f"saved {model!r} to {out} (report {report})")
    return 0
