"""``sciml train METHOD ...`` for every neural operator (``mgno``, ``fno``).

Network options go through ``--set KEY=VALUE`` (the value is read as JSON when it parses,
else kept as a string), e.g. ``--set channels=32 --set padding=circular``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def _key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def train_main(method: str, argv: list[str]) -> int:
    """Train ``method`` on an HDF5 file, save the model, optionally evaluate on a test file.

    Returns the process exit status (0 on success).
    """
    import sciml  # noqa: PLC0415

    from .solver import OperatorSolver  # noqa: PLC0415

    d = OperatorSolver.train_defaults
    parser = argparse.ArgumentParser(prog=f"sciml train {method}",
                                     description=f"Train the {method!r} neural operator.")
    parser.add_argument("--data", required=True, help="training HDF5 file (arrays a, u)")
    parser.add_argument("--out", required=True, help="where to save the model (.pt)")
    parser.add_argument("--test", help="HDF5 file to evaluate the trained model on")
    parser.add_argument("--epochs", type=int, default=d["epochs"])
    parser.add_argument("--seed", type=int, default=d["seed"])
    parser.add_argument("--batch-size", type=int, default=d["batch_size"])
    parser.add_argument("--lr", type=float, default=d["lr"], help="peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=d["weight_decay"])
    parser.add_argument("--loss", choices=("h1", "l2"), default=d["loss"])
    parser.add_argument("--schedule", choices=("onecycle", "step", "cosine", "none"),
                        default=d["schedule"])
    parser.add_argument("--val-fraction", type=float, default=d["val_fraction"])
    parser.add_argument("--max-samples", type=int)
    parser.add_argument("--split", default=d["split"], help="split of a sciml data set")
    parser.add_argument("--checkpoint", help="training checkpoint, resumed if present")
    parser.add_argument("--device", help="torch device, e.g. cuda")
    parser.add_argument("--set", dest="network", action="append", type=_key_value,
                        default=[], metavar="KEY=VALUE", help="network option")
    args = parser.parse_args(argv)
    model = sciml.train(method, data=args.data, epochs=args.epochs, seed=args.seed,
                        batch_size=args.batch_size, lr=args.lr,
                        weight_decay=args.weight_decay, loss=args.loss,
                        schedule=None if args.schedule == "none" else args.schedule,
                        val_fraction=args.val_fraction, max_samples=args.max_samples,
                        split=args.split,
                        checkpoint=args.checkpoint, device=args.device,
                        **dict(args.network))
    if args.test:
        model.metrics.update(sciml.evaluate(model, data=args.test, device=args.device))
    model.save(args.out)
    print(f"saved {model!r} to {args.out}")
    return 0
