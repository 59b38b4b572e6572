"""What the operator examples share: training flags, and train + evaluate + table.

Each example (``darcy.py``, ``burgers.py``) makes its data and its figure; this module
trains every requested operator on that data with the same loop and settings, evaluates it
on the test split, saves it, and prints one comparison table.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import sciml
from sciml.reporting import format_table


def add_training_arguments(parser: argparse.ArgumentParser, *, train: int, test: int,
                           epochs: int) -> None:
    """The flags every operator example takes, with that example's defaults."""
    parser.add_argument("--train", type=int, default=train)
    parser.add_argument("--test", type=int, default=test)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--lr", type=float, default=None,
                        help="peak learning rate (default: each method's own for the problem)")
    parser.add_argument("--methods", nargs="+", default=["mgno", "fno"])
    parser.add_argument("--out", default="examples/out")


def train_and_compare(args: argparse.Namespace, data: str | Path, tag: str) -> dict[str, Any]:
    """Train each method in ``args.methods`` on ``data``, evaluate, save ``<method>_<tag>.pt``,
    print the table, and return ``{method: TrainedModel}``."""
    models, rows = {}, []
    for method in args.methods:
        rate = {} if args.lr is None else {"lr": args.lr}
        model = sciml.train(method, data=str(data), epochs=args.epochs, seed=0,
                            samples=args.train, **rate)
        metrics = sciml.evaluate(model, data=str(data))
        model.save(Path(args.out) / f"{method}_{tag}.pt")
        models[method] = model
        rows.append({"method": method, "parameters": f"{model.num_parameters():,}",
                     "train s": model.metrics["train_seconds"], "rel L2": metrics["rel_l2"],
                     "rel H1": metrics["rel_h1"]})
    print()
    print(format_table(rows, floatfmt=".4g"))
    return models
