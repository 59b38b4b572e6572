"""The ``sciml`` command: ``methods``, ``solve``, ``demo``, ``datagen``, ``train``, ``bench``.

Import arrows: the core imports no generator and no method at import time. ``datagen``
imports :mod:`sciml.data_gen.cli` when the command runs (the only arrow from the core to
the generators); ``train`` reaches a method through the registry; ``bench`` runs a script of
the source tree's ``benchmarks/`` folder (benchmarks are not installed).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path
from typing import Any, Sequence

from .errors import SciMLError, UsageError


def _parse_value(text: str) -> Any:
    """Method options from the command line: JSON values, else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"sciml: --option expects KEY=VALUE, got {pair!r}")
        options[key] = _parse_value(value)
    return options


def _cmd_methods(args: argparse.Namespace) -> int:
    from .registry import methods  # noqa: PLC0415

    listing = methods()
    width = max(map(len, listing))
    for name, description in listing.items():
        print(f"{name.ljust(width)}  {description}")
    return 0


def _cmd_solve(args: argparse.Namespace) -> int:
    from .api import solve  # noqa: PLC0415
    from .problems import Poisson  # noqa: PLC0415

    problem = Poisson(shape=args.shape, rhs=args.rhs, seed=args.seed)
    options = {"rtol": args.rtol, "atol": args.atol, **_options(args.option)}
    if args.maxiter is not None:
        options["maxiter"] = args.maxiter
    sol = solve(problem, method=args.method, **options)
    if args.json:
        print(json.dumps({"problem": repr(problem), **sol.summary()}, indent=2))
    else:
        print(problem)
        print(sol)
    return 0 if sol.converged else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo  # noqa: PLC0415

    sizes = [args.shape] if args.shape else [(s, s, s) for s in args.sizes]
    result = run_demo(sizes=sizes, rtol=args.rtol, seed=args.seed, plot=args.plot,
                      progress=not args.quiet)
    return 0 if all(sol.converged is not False for sol in result.solutions()) else 1


def _cmd_datagen(argv: list[str]) -> int:
    from .data_gen.cli import main  # noqa: PLC0415 - the one arrow core -> generators

    return main(argv)


def _cmd_train(argv: list[str]) -> int:
    from .api import _learned_solver_class  # noqa: PLC0415

    if not argv or argv[0].startswith("-"):
        raise UsageError("usage: sciml train METHOD [options]  (e.g. sciml train mgno --help)")
    return _learned_solver_class(argv[0]).train_cli(argv[1:])


def _cmd_bench(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise SystemExit("usage: sciml bench NAME [options]  (NAME: a script in benchmarks/, "
                         "e.g. linear_solvers)")
    folder = benchmarks_folder()
    script = folder / f"{argv[0]}.py"
    if not script.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.py"))) or "none"
        raise UsageError(f"sciml bench: no benchmark {argv[0]!r} in {folder}; known: {known}")
    sys.argv = [str(script), *argv[1:]]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def benchmarks_folder() -> Path:
    """The ``benchmarks/`` folder of the source tree sciml runs from (an editable install or
    a checkout in the working directory); the benchmarks are not part of a wheel."""
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        if (root / "benchmarks").is_dir() and (root / "pyproject.toml").is_file():
            return root / "benchmarks"
    raise UsageError("sciml bench: the benchmarks live in the source tree, not in the "
                     "installed package; clone the sciml repository and run 'pip install -e .' "
                     "there (or run 'sciml bench' from the checkout)")


PASSTHROUGH = {"datagen": _cmd_datagen, "train": _cmd_train, "bench": _cmd_bench}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sciml`` command."""
    parser = argparse.ArgumentParser(
        prog="sciml", description="Learned and classical PDE / sparse SPD solvers.",
        epilog="Also: 'sciml datagen KIND ...', 'sciml train METHOD ...', "
               "'sciml bench NAME ...' (each has its own --help).")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("methods", help="list every registered method").set_defaults(func=_cmd_methods)

    solve = sub.add_parser("solve", help="solve a problem with one method")
    solve.add_argument("problem", choices=["poisson"], help="problem type")
    solve.add_argument("--shape", type=int, nargs="+", default=[64, 64, 64])
    solve.add_argument("--rhs", default="random", choices=["random", "ones", "gaussians"])
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--method", default="cg")
    solve.add_argument("--rtol", type=float, default=1e-6)
    solve.add_argument("--atol", type=float, default=0.0)
    solve.add_argument("--maxiter", type=int, default=None)
    solve.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="method option (JSON value), e.g. --option kind='\"rs\"'")
    solve.add_argument("--json", action="store_true", help="print the result as JSON")
    solve.set_defaults(func=_cmd_solve)

    demo = sub.add_parser("demo", help="compare every method on a 3D Poisson problem")
    grids = demo.add_mutually_exclusive_group()
    grids.add_argument("--sizes", type=int, nargs="+", default=[64, 128], metavar="N",
                       help="cube sizes N (N^3 unknowns each; default 64 128)")
    grids.add_argument("--shape", type=int, nargs="+", help="one grid shape instead")
    demo.add_argument("--rtol", type=float, default=1e-6)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--plot", default="sciml_demo.png", help="convergence plot path")
    demo.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    demo.set_defaults(func=_cmd_demo)
    for name in PASSTHROUGH:
        sub.add_parser(name, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciml`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in PASSTHROUGH:
            return PASSTHROUGH[argv[0]](argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SciMLError as exc:
        print(f"sciml: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
