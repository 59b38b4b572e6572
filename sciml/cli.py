"""The ``sciml`` command: ``methods``, ``solve``, ``demo``, ``datagen``, ``train``, ``bench``.

Import arrows: the core imports no generator and no method at import time. ``datagen``
imports :mod:`sciml.data_gen.cli` when the command runs (the only arrow from the core to
the generators); ``train`` reaches a method through the registry; ``bench`` runs a script of
the source tree's ``benchmarks/`` folder (benchmarks are not installed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import runpy
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import InvalidOptionError, SciMLError, UsageError

#: exceptions that are a user's mistake (a bad value, a missing or unwritable file, too little
#: memory), printed as one line with exit code 2; anything else is a bug and keeps its
#: traceback. ``--debug`` shows the traceback of a user error too.
USER_ERRORS = (SciMLError, ValueError, OSError, MemoryError)
USER_ERROR_EXIT = 2


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
            raise UsageError(f"--option expects KEY=VALUE, got {pair!r}")
        options[key] = _parse_value(value)
    return options


def _cmd_methods(args: argparse.Namespace) -> int:
    from .registry import methods  # noqa: PLC0415

    listing = methods()
    width = max(map(len, listing))
    for name, description in listing.items():
        print(f"{name.ljust(width)}  {description}")
    return 0


def _check_solve_arguments(args: argparse.Namespace) -> None:
    """Refuse what ``sciml solve poisson`` cannot do before building the problem."""
    from .linear_solver import LinearSolver  # noqa: PLC0415
    from .registry import get_solver_class  # noqa: PLC0415

    if not issubclass(get_solver_class(args.method), LinearSolver):
        raise UsageError(f"{args.method} learns an operator: it solves DarcyFlow/Burgers "
                         f"problems from the Python API (sciml.solve(DarcyFlow(a), "
                         f"method={args.method!r}, model=...)), not `sciml solve poisson`")
    if not (math.isfinite(args.rtol) and args.rtol >= 0
            and math.isfinite(args.atol) and args.atol >= 0):
        raise InvalidOptionError(f"--rtol and --atol must be finite and >= 0, got "
                                 f"{args.rtol} and {args.atol}")
    if args.maxiter is not None and args.maxiter < 0:
        raise InvalidOptionError(f"--maxiter must be >= 0, got {args.maxiter}")


def _cmd_solve(args: argparse.Namespace) -> int:
    import numpy as np  # noqa: PLC0415

    from .api import solve  # noqa: PLC0415
    from .io.atomic import atomic_write, check_output_path  # noqa: PLC0415
    from .problems import Poisson  # noqa: PLC0415
    from .registry import get_solver_class  # noqa: PLC0415

    _check_solve_arguments(args)
    save = None if args.save is None else check_output_path(args.save)
    problem = Poisson(shape=args.shape, rhs=args.rhs, seed=args.seed)
    options = {"rtol": args.rtol, "atol": args.atol, **_options(args.option)}
    if args.maxiter is not None:
        options["maxiter"] = args.maxiter
    options.update({key: value for key, value in (("ksp_type", args.ksp), ("pc_type", args.pc))
                    if value is not None})
    if save is not None and "gather" in get_solver_class(args.method).options:
        options["gather"] = True  # the file holds the whole solution
    sol = solve(problem, method=args.method, **options)
    if sol.info.get("rank", 0) != 0:  # one of several MPI processes: rank 0 reports
        return 0 if sol.converged else 1
    if save is not None:
        atomic_write(save, lambda fh: np.save(fh, sol.x))
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
    from .data_gen.cli import run_command  # noqa: PLC0415 - the one arrow core -> generators

    return run_command(argv)


def _cmd_train(argv: list[str]) -> int:
    from .api import _learned_solver_class  # noqa: PLC0415

    if not argv or argv[0].startswith("-"):
        raise UsageError("usage: sciml train METHOD [options]  (e.g. sciml train mgno --help)")
    return _learned_solver_class(argv[0]).train_cli(argv[1:])


def _cmd_bench(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise UsageError("usage: sciml bench NAME [options]  (NAME: a script in benchmarks/, "
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
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (also: SCIML_DEBUG=1)")
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
    solve.add_argument("--ksp", help="petsc: the Krylov method (ksp_type, default cg)")
    solve.add_argument("--pc", help="petsc: the preconditioner (pc_type, default gamg)")
    solve.add_argument("--save", metavar="FILE.npy",
                       help="write the solution u (whole, gathered from every MPI process) "
                            "to a new .npy file")
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


def split_debug(argv: Sequence[str]) -> tuple[list[str], bool]:
    """``argv`` without its ``--debug`` flags, and whether there was one (or SCIML_DEBUG=1)."""
    rest = [a for a in argv if a != "--debug"]
    return rest, len(rest) < len(argv) or os.environ.get("SCIML_DEBUG", "") not in ("", "0")


def report_user_errors(command: Callable[[], int], prog: str, debug: bool) -> int:
    """Run ``command``; a user error (:data:`USER_ERRORS`) is one line on stderr, ``prog:
    error: ...``, and exit code 2, unless ``debug`` (then it propagates with its traceback).
    Other exceptions are bugs and propagate."""
    try:
        return command()
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return USER_ERROR_EXIT


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError) and not isinstance(exc, SciMLError):
        detail = f" ({exc})" if str(exc) else ""
        return (f"out of memory{detail}: the problem does not fit in this machine's memory; "
                "use a smaller size")
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciml`` console script.

    Every user error (:data:`USER_ERRORS`) ends in one ``sciml: error: ...`` line and exit
    code 2; ``--debug`` anywhere on the command line shows its traceback instead.
    """
    argv, debug = split_debug(sys.argv[1:] if argv is None else argv)

    def command() -> int:
        if argv and argv[0] in PASSTHROUGH:
            # datagen reports its own errors, so it is told about --debug; train and bench
            # parse their own flags, and their user errors reach report_user_errors below
            forward = ["--debug"] if debug and argv[0] == "datagen" else []
            return PASSTHROUGH[argv[0]]([*argv[1:], *forward])
        args = build_parser().parse_args(argv)
        return args.func(args)

    return report_user_errors(command, "sciml", debug)


if __name__ == "__main__":
    sys.exit(main())
