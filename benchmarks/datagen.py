"""Time the data set generators: 1000 Darcy samples at 128^2 and 421^2, 1000 Burgers samples.

Runs each generator through its public ``generate`` function, as ``sciml datagen`` does, with
``--workers`` processes, into a temporary directory. Darcy at 421^2 is timed with the sparse
direct and with the AMG solver on a subset (``--darcy421-samples``, 50 by default) and
extrapolated linearly to 1000: the samples are independent and equally expensive, so the
time is linear in their number after a start-up of about a second (spawning the workers).
Prints a table, writes a JSON of the figures and a bar plot.

Usage::

    python benchmarks/datagen.py --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sciml.data_gen import burgers, darcy

TARGET = 1000
GOAL_SECONDS = 600.0   # issue 3: Darcy 128^2 + Burgers, 1000 samples each, under 10 minutes


def _time(generate, samples: int, workers: int, **options) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate(Path(tmp) / "data.h5", samples, workers=workers, progress=False, **options)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=TARGET,
                        help="samples timed for Darcy 128^2 and Burgers (1000)")
    parser.add_argument("--darcy421-samples", type=int, default=50,
                        help="samples timed for Darcy 421^2, extrapolated to 1000 (50)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/datagen.json"))
    parser.add_argument("--plot", type=Path, default=Path("benchmarks/results/datagen.png"))
    args = parser.parse_args(argv)

    cases = [
        ("Darcy smooth 128^2 (direct)", darcy.generate, args.samples,
         {"resolution": 128}),
        ("Darcy smooth 421^2 (direct)", darcy.generate, args.darcy421_samples,
         {"resolution": 421}),
        ("Darcy smooth 421^2 (amg, rtol 1e-10)", darcy.generate, args.darcy421_samples,
         {"resolution": 421, "method": "amg"}),
        ("Burgers 8192 -> 1024", burgers.generate, args.samples, {}),
    ]
    rows = []
    for name, generate, samples, options in cases:
        seconds = _time(generate, samples, args.workers, **options)
        rows.append({"case": name, "samples_timed": samples, "seconds": seconds,
                     "seconds_per_1000": seconds * TARGET / samples,
                     "extrapolated": samples != TARGET})
        print(f"  {name}: {seconds:.1f} s for {samples} samples", flush=True)
    goal = rows[0]["seconds_per_1000"] + rows[-1]["seconds_per_1000"]

    header = (f"| case | samples timed | seconds | seconds per {TARGET} |\n"
              "|---|---:|---:|---:|")
    lines = [header] + [
        f"| {r['case']} | {r['samples_timed']} | {r['seconds']:.1f} | "
        f"{r['seconds_per_1000']:.0f}{' (extrapolated)' if r['extrapolated'] else ''} |"
        for r in rows]
    lines.append(f"| **Darcy 128^2 + Burgers, {TARGET} each** | | | **{goal:.0f}** "
                 f"(goal < {GOAL_SECONDS:.0f}: {'met' if goal < GOAL_SECONDS else 'missed'}) |")
    table = "\n".join(lines)
    print(table)

    machine = {"cpus": os.cpu_count(), "workers": args.workers,
               "python": platform.python_version(), "processor": platform.processor(),
               "platform": platform.platform()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "darcy128_plus_burgers_seconds": goal,
                                     "goal_seconds": GOAL_SECONDS, "machine": machine},
                                    indent=1))
    _plot(rows, goal, args.plot)
    print(f"wrote {args.json} and {args.plot}")
    return 0


def _plot(rows: list[dict], goal: float, path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(7, 3))
    names = [r["case"] + (" *" if r["extrapolated"] else "") for r in rows]
    ax.barh(names, [r["seconds_per_1000"] for r in rows], color="tab:blue")
    ax.axvline(GOAL_SECONDS, color="tab:red", ls="--",
               label=f"goal for Darcy 128² + Burgers ({goal:.0f} s measured)")
    ax.set_xlabel(f"seconds per {TARGET} samples (* extrapolated)")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
