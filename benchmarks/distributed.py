"""Data-parallel MgNO training on 64² Darcy: samples/s with 1 and 2 processes, and the
share of a step spent communicating.

The data set is made once with ``sciml datagen darcy --family smooth --resolution 127
--downsample 2`` (64² vertices). Each process count runs ``python -m
torch.distributed.run --standalone --nproc_per_node=N`` on this script in worker mode, one
thread per process (gloo): ``sciml.train("mgno", ...)`` with the default Darcy network and
the same global batch, no validation split; samples/s is the training samples over the
median epoch time (the first epoch, warm-up, left out).

Communication: after training, each worker times ``--steps`` forward + backward passes of
the DDP-wrapped network on its share of a global batch, alternately with gradient
synchronisation and inside ``no_sync()`` (no all-reduce); the share is ``(t_sync -
t_no_sync) / t_sync`` of the medians: the all-reduce time that backward does not hide,
including the wait for the slower rank. CPU ms per sample is the CPU time of all ranks
over every epoch per sample trained: equal for 1 and 2 processes means the work does not
grow with the processes, whatever else shares the cores. Run as in RESULTS.md::

    flock /tmp/sciml-cpu.lock python benchmarks/distributed.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def make_data(path: Path, samples: int) -> Path:
    """The 64² smooth Darcy set at ``path`` (made with ``sciml datagen`` when missing)."""
    if not path.exists():
        subprocess.run([sys.executable, "-m", "sciml.cli", "datagen", "darcy", "--family",
                        "smooth", "--samples", str(samples), "--resolution", "127",
                        "--downsample", "2", "--test-samples", "0", "--quiet", "--out",
                        str(path)], check=True)
    return path


def comm_share(network: Any, inputs: Any, steps: int) -> dict[str, float]:
    """Median seconds of a forward + backward step with and without the gradient all-reduce."""
    import torch  # noqa: PLC0415
    import torch.distributed as dist  # noqa: PLC0415
    from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

    ddp = DistributedDataParallel(network.train())
    times: dict[bool, list[float]] = {True: [], False: []}
    for step in range(2 * steps + 2):
        sync = step % 2 == 0
        dist.barrier()
        start = time.perf_counter()
        if sync:
            ddp(inputs).pow(2).mean().backward()
        else:
            with ddp.no_sync():
                ddp(inputs).pow(2).mean().backward()
        elapsed = time.perf_counter() - start
        ddp.zero_grad(set_to_none=True)
        if step >= 2:                       # the first pair warms up
            times[sync].append(elapsed)
    with_sync, without = statistics.median(times[True]), statistics.median(times[False])
    return {"step_sync_s": with_sync, "step_no_sync_s": without,
            "comm_share": max(with_sync - without, 0.0) / with_sync,
            "gradient_mb": sum(p.numel() * p.element_size() for p in network.parameters())
            / 1e6}


def worker(args: argparse.Namespace) -> None:
    """One rank: train, measure, and (rank 0) write the figures to ``args.result``."""
    import torch  # noqa: PLC0415

    import sciml  # noqa: PLC0415
    from sciml.data import load  # noqa: PLC0415
    from sciml.learn.distributed import all_sum, ranks  # noqa: PLC0415

    torch.set_num_threads(1)
    here = ranks()
    cpu = time.process_time()
    model = sciml.train("mgno", data=str(args.data), epochs=args.epochs,
                        batch_size=args.batch_size, val_fraction=0.0, seed=0, progress=False)
    cpu_s = all_sum([time.process_time() - cpu])[0]   # all ranks, all epochs
    history = model.provenance["history"]
    epoch_s = statistics.median(h["seconds"] for h in history[1:])
    samples = model.provenance["samples"]
    figures: dict[str, Any] = {"processes": here.world_size, "batch_size": args.batch_size,
                               "per_rank_batch": args.batch_size // here.world_size,
                               "samples": samples, "epochs": args.epochs,
                               "epoch_s": epoch_s, "samples_per_s": samples / epoch_s,
                               "cpu_ms_per_sample": 1e3 * cpu_s / (samples * args.epochs),
                               "parameters": model.num_parameters()}
    if here.distributed:
        share = args.batch_size // here.world_size
        a = torch.from_numpy(load(args.data, n=args.batch_size, fields=["a"])["a"])
        inputs = a[here.rank * share:(here.rank + 1) * share].unsqueeze(1).float()
        figures.update(comm_share(model.network, inputs, args.steps))
    if here.main:
        args.result.write_text(json.dumps(figures, indent=2) + "\n")


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of the runs (speed-up against the 1-process row)."""
    base = next(r["samples_per_s"] for r in rows if r["processes"] == 1)
    lines = ["| processes | global batch | per rank | samples/s | speed-up | efficiency | "
             "CPU ms / sample | step s (sync) | step s (no_sync) | communication share |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        speedup = r["samples_per_s"] / base
        comm = [f"{r['step_sync_s']:.3f}", f"{r['step_no_sync_s']:.3f}",
                f"{100 * r['comm_share']:.1f} %"] if "comm_share" in r else ["", "", ""]
        lines.append(f"| {r['processes']} | {r['batch_size']} | {r['per_rank_batch']} | "
                     f"{r['samples_per_s']:.1f} | {speedup:.2f}x | "
                     f"{100 * speedup / r['processes']:.0f} % | "
                     f"{r['cpu_ms_per_sample']:.0f} | " + " | ".join(comm) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse the flags; run the workers (or be one)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=256, help="training samples (64² Darcy)")
    p.add_argument("--epochs", type=int, default=4, help="epochs (the first is warm-up)")
    p.add_argument("--batch-size", type=int, default=8, help="the global batch")
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=20, help="timed steps of each kind")
    p.add_argument("--out", type=Path, default=HERE.parent / "results")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    data = make_data(args.out / f"distributed_darcy64_{args.samples}.h5", args.samples)
    rows = []
    for n in args.procs:
        result = args.out / f"distributed_{n}.json"
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={n}", str(HERE), "--worker", "--data", str(data),
                        "--result", str(result), "--epochs", str(args.epochs),
                        "--batch-size", str(args.batch_size), "--steps", str(args.steps)],
                       check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        rows.append(json.loads(result.read_text()))
    print(table(rows))


if __name__ == "__main__":
    main()
