"""The ``datagen`` command: ``sciml datagen <generator> [options]`` or ``python -m sciml.data_gen``.

Examples
--------
::

    sciml datagen darcy --family smooth --samples 1024 --resolution 421 --downsample 5 \\
        --out darcy.h5 --seed 0 --workers 2
    sciml datagen burgers --samples 1100 --out burgers.h5
    sciml datagen poisson --shape 64 64 64 --kind spectral --power 1 --no-solve \\
        --samples 2000 --out rhs.h5
    sciml datagen convection --beta 30 --out convection.h5
    sciml datagen darcy --samples 1024 --out darcy.h5 --dask local:2   # or:
    sciml datagen darcy --samples 1024 --out darcy.h5 --scheduler tcp://host:8786

An interrupted run resumes when the same command is run again.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable

from sciml.io.atomic import check_output_path

from . import burgers, convection, darcy, poisson

_RUN_OPTIONS = ("seed", "workers", "chunk_size", "test_samples", "overwrite", "dask")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _common(parser: argparse.ArgumentParser, samples: int | None) -> None:
    group = parser.add_argument_group("run")
    group.add_argument("--out", type=Path, required=True, help="HDF5 file to write")
    if samples is None:
        group.add_argument("--samples", type=int, required=True, help="number of samples")
    else:
        group.add_argument("--samples", type=int, default=samples,
                           help=f"number of samples (default {samples})")
    group.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    group.add_argument("--workers", type=int, default=_cpu_count(),
                       help="worker processes (default: all cores, %(default)s here)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="local:N",
                       help="run the chunks on a new local Dask cluster of N worker "
                            "processes instead (needs the dask extra)")
    where.add_argument("--scheduler", dest="dask", metavar="ADDRESS",
                       help="run the chunks on the Dask cluster of this scheduler, e.g. "
                            "tcp://host:8786")
    group.add_argument("--chunk-size", type=int, default=None,
                       help="samples per saved chunk (default: about samples/64, at most 64)")
    group.add_argument("--test-samples", type=int, default=None,
                       help="last samples forming the 'test' split (default: a tenth)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace an existing file and discard an interrupted run")
    group.add_argument("--quiet", action="store_true", help="no progress bar")
    group.add_argument("--debug", action="store_true", help="show the traceback of an error")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``datagen`` command."""
    parser = argparse.ArgumentParser(
        prog="sciml datagen",
        description="Generate PDE data sets as self-describing HDF5 files (resumable: rerun "
                    "an interrupted command to continue it).")
    sub = parser.add_subparsers(dest="generator", required=True, metavar="GENERATOR")

    p = sub.add_parser("darcy", help="-div(a grad u) = f with thresholded-GRF coefficients",
                       description=darcy.__doc__.split("\n")[0])
    p.add_argument("--family", choices=sorted(darcy.FAMILIES), default="smooth",
                   help="coefficient family; its defaults apply unless overridden")
    p.add_argument("--resolution", type=int, help="vertices per side solved on")
    p.add_argument("--downsample", type=int, help="stride of the stored vertices")
    p.add_argument("--alpha", type=float, help="GRF smoothness")
    p.add_argument("--tau", type=float, help="GRF inverse length scale")
    p.add_argument("--high", type=float, help="a where the GRF is >= 0")
    p.add_argument("--low", type=float, help="a where the GRF is < 0")
    p.add_argument("--f", type=float, help="constant source")
    p.add_argument("--method", choices=("direct", "amg"), default="direct",
                   help="linear solver (default direct)")
    _common(p, None)
    p.set_defaults(func=darcy.generate, keys=("family", "resolution", "downsample", "alpha",
                                              "tau", "high", "low", "f", "method"))

    p = sub.add_parser("burgers", help="u_t + (u^2/2)_x = nu u_xx, periodic, u0 -> u(t)",
                       description=burgers.__doc__.split("\n")[0])
    p.add_argument("--resolution", type=int, default=8192, help="points solved on (8192)")
    p.add_argument("--downsample", type=int, default=8, help="stored stride (8 -> 1024)")
    p.add_argument("--nu", type=float, default=0.1, help="viscosity (0.1)")
    p.add_argument("--time", type=float, default=1.0, dest="t", help="final time (1)")
    p.add_argument("--dt", type=float, default=5e-3, help="time step (0.005)")
    p.add_argument("--alpha", type=float, default=2.0, help="u0 GRF smoothness (2)")
    p.add_argument("--tau", type=float, default=5.0, help="u0 GRF inverse length (5)")
    p.add_argument("--sigma", type=float, default=25.0, help="u0 GRF amplitude (25)")
    p.add_argument("--snapshots", type=int, default=0,
                   help="also store K+1 states at times t k/K (0: none)")
    _common(p, None)
    p.set_defaults(func=burgers.generate, keys=("resolution", "downsample", "nu", "t", "dt",
                                                "alpha", "tau", "sigma", "snapshots"))

    p = sub.add_parser("poisson", help="sources (and solutions) for sciml.problems.Poisson",
                       description=poisson.__doc__.split("\n")[0])
    p.add_argument("--shape", type=int, nargs="+", default=[64, 64],
                   help="interior grid, 1-3 numbers (64 64)")
    p.add_argument("--kind", choices=poisson.KINDS, default="gaussians",
                   help="source kind (gaussians)")
    p.add_argument("--no-solve", dest="solve", action="store_false",
                   help="store sources only, no AMG solutions")
    p.add_argument("--rtol", type=float, default=1e-10, help="solution tolerance (1e-10)")
    p.add_argument("--count", type=int, default=8, help="bumps per 'gaussians' source (8)")
    p.add_argument("--alpha", type=float, default=2.0, help="'divergence' field smoothness")
    p.add_argument("--tau", type=float, default=3.0, help="'divergence' inverse length")
    p.add_argument("--power", type=float, default=1.0, help="'spectral' decay power (1)")
    _common(p, None)
    p.set_defaults(func=poisson.generate, keys=("shape", "kind", "solve", "rtol", "count",
                                                "alpha", "tau", "power"))

    p = sub.add_parser("convection", help="u_t + beta u_x = nu u_xx, exact periodic solution",
                       description=convection.__doc__.split("\n")[0])
    p.add_argument("--beta", type=float, default=30.0, help="velocity (30)")
    p.add_argument("--nu", type=float, default=0.0, help="diffusivity (0)")
    p.add_argument("--nx", type=int, default=256, help="grid points (256)")
    p.add_argument("--nt", type=int, default=100, help="time levels incl. 0 and t (100)")
    p.add_argument("--time", type=float, default=1.0, dest="t", help="final time (1)")
    p.add_argument("--length", type=float, default=2 * math.pi, help="period (2 pi)")
    p.add_argument("--initial", choices=convection.INITIAL_STATES, default="sin",
                   help="initial state (sin)")
    p.add_argument("--alpha", type=float, default=2.0, help="'grf' smoothness (2)")
    p.add_argument("--tau", type=float, default=5.0, help="'grf' inverse length (5)")
    _common(p, 1)
    p.set_defaults(func=convection.generate, keys=("beta", "nu", "nx", "nt", "t", "length",
                                                   "initial", "alpha", "tau"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``datagen`` command; returns the exit status (0 on success).

    Errors a user can fix (bad values, an existing or unwritable output, an interrupted run
    with other settings, another run on the same output, a damaged file, too little memory)
    are printed as one line with exit code 2, not a traceback; ``--debug`` shows it.
    """
    return run_command(sys.argv[1:] if argv is None else argv)


def run_command(argv: list[str]) -> int:
    """:func:`main` on an explicit argument list (what ``sciml datagen`` calls)."""
    from sciml.cli import report_user_errors, split_debug  # noqa: PLC0415

    argv, debug = split_debug(argv)
    generator = next((a for a in argv if not a.startswith("-")), "")
    return report_user_errors(lambda: _generate(argv), f"sciml datagen {generator}".rstrip(),
                              debug)


def _generate(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[..., Path] = args.func
    options: dict[str, Any] = {k: getattr(args, k) for k in (*args.keys, *_RUN_OPTIONS)}
    check_output_path(args.out, overwrite=True)  # an existing file: the runner decides
    try:
        path = func(args.out, args.samples, progress=not args.quiet, **options)
    except KeyboardInterrupt:
        print(f"interrupted; finished chunks are kept in {args.out}.partial/ - run the same "
              "command again to resume", file=sys.stderr)
        return 130
    from sciml.io.datasets import read_info  # noqa: PLC0415

    spec = read_info(path).spec
    shapes = ", ".join(f"{name} {grid}" for name, grid in spec.fields.items())
    print(f"wrote {path}: {spec.samples} samples ({shapes}); splits "
          f"{ {k: list(v) for k, v in spec.splits.items()} }")
    return 0
