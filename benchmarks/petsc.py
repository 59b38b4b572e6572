"""PETSc CG (GAMG, hypre BoomerAMG, IC(0)) on 1 and 2 processes against amg, cg and deep_cd.

Every method solves the same 3D 7-point Poisson system (zero Dirichlet, random right-hand
side) to the same relative tolerance, once, for three coefficients: constant; "two-phase",
values 1 and ``--contrast`` (10^4 by default) split by a thresholded sum of random sine
waves (the field of the issue's anchors and of issue 12's table: small interleaved
inclusions); "two-phase-grf", the same values split by a Gaussian random field of
``sciml.data_gen.grf`` (the two-phase Darcy family's generator) thresholded at 0 (large
connected blobs, harder for aggregation AMG). The
PETSc rows run under ``mpiexec -n RANKS`` (one thread per process; on several processes IC(0)
is block Jacobi with IC(0) per process), each process assembling only its rows; setup is
rank 0's (assembly + preconditioner set-up), start-up of the processes is not counted. The
other rows (pyamg SA-PCG ``amg``, sciml's matrix-free ``cg``, ``deep_cd`` with its shipped
weights) run in this process with one thread and stop at ``--maxiter`` (1500) iterations,
which cg and deep_cd exceed on the two-phase case (reported as not converged).

    python benchmarks/petsc.py --sizes 64 128           # both coefficients, 1 and 2 ranks
    python benchmarks/petsc.py --sizes 32 --ranks 1 2   # quick look

Needs petsc4py and mpiexec (README "PETSc"). Writes benchmarks/results/petsc.json and prints
a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import sciml
from sciml.reporting import format_table

sys.path.insert(0, str(Path(__file__).parent))
from coefficients import two_phase  # noqa: E402 - the benchmarks' shared fields

CASES = ("constant", "two-phase", "two-phase-grf")
PCS = ("gamg", "hypre", "icc")
SERIAL_METHODS = (("amg sa+cg", "amg", {"kind": "sa"}), ("cg", "cg", {}),
                  ("deep_cd", "deep_cd", {}))


def make_problem(case: str, n: int, contrast: float) -> sciml.problems.Poisson:
    """The Poisson problem of ``case`` on an ``n^3`` grid (the same on every process)."""
    shape = (n, n, n)
    if case == "constant":
        return sciml.problems.Poisson(shape, rhs="random", seed=0)
    kind = "sines" if case == "two-phase" else "grf"
    return sciml.problems.Poisson(shape, rhs="random", seed=0,
                                  coefficient=two_phase(shape, contrast, kind))


def row(case: str, n: int, label: str, ranks: int, sol: sciml.Solution) -> dict:
    """One table row of a solve."""
    return {"case": case, "size": f"{n}^3", "method": label, "ranks": ranks,
            "converged": bool(sol.converged), "iterations": sol.iterations,
            "setup s": sol.setup_time, "solve s": sol.solve_time, "total s": sol.total_time,
            "final rel. res.": sol.info["residual_norm"] / sol.info["b_norm"],
            "reason": sol.info["reason"], "note": fallback_note(sol)}


def fallback_note(sol: sciml.Solution) -> str:
    """For deep_cd: where its network was switched off and what finished the solve."""
    if "fallback" not in sol.info:
        return ""
    return (f"network off after {sol.info['network_disabled_at']} it, then "
            f"{sol.info['fallback']} {sol.info['fallback_iterations']} it")


def worker(case: str, n: int, contrast: float, rtol: float, out: Path) -> None:
    """Run inside ``mpiexec``: PETSc CG with each preconditioner; rank 0 writes the rows."""
    problem = make_problem(case, n, contrast)
    rows = []
    for pc in PCS:
        sol = sciml.solve(problem, method="petsc", ksp_type="cg", pc_type=pc, rtol=rtol)
        label = f"petsc cg+{sol.info['pc_type']}"
        rows.append({**row(case, n, label, sol.info["ranks"], sol),
                     "assembly s": sol.info["assembly_time"]})
        if sol.info["rank"] == 0:
            print(f"{case} {n}^3 {label} x{sol.info['ranks']}: {sol.iterations} it, setup "
                  f"{sol.setup_time:.3g} s, solve {sol.solve_time:.3g} s", flush=True)
    if sol.info["rank"] == 0:
        out.write_text(json.dumps(rows))


def petsc_rows(case: str, n: int, contrast: float, rtol: float, ranks: int) -> list[dict]:
    """The PETSc rows of one case on ``ranks`` processes (a fresh ``mpiexec`` run)."""
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("benchmarks/petsc.py needs mpiexec (README 'PETSc')")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        subprocess.run([mpiexec, "-n", str(ranks), sys.executable, __file__, "--worker",
                        "--case", case, "--sizes", str(n), "--contrast", str(contrast),
                        "--rtol", str(rtol), "--out", str(out)], check=True, env=env)
        return json.loads(out.read_text())


def serial_rows(case: str, n: int, contrast: float, rtol: float, maxiter: int) -> list[dict]:
    """amg, cg and deep_cd on one process, each stopped after ``maxiter`` iterations (cg and
    deep_cd need thousands on the two-phase case)."""
    problem = make_problem(case, n, contrast)
    rows = []
    for label, method, options in SERIAL_METHODS:
        if method == "deep_cd":  # untimed warm-up: oneDNN builds its kernels per grid size
            sciml.solve(problem, method=method, maxiter=1)
        sol = sciml.solve(problem, method=method, rtol=rtol, maxiter=maxiter, **options)
        rows.append(row(case, n, label, 1, sol))
        print(f"{case} {n}^3 {label}: {sol.iterations} it, setup {sol.setup_time:.3g} s, "
              f"solve {sol.solve_time:.3g} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--contrast", type=float, default=1e4)
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--maxiter", type=int, default=1500,
                        help="iteration cap of the amg, cg and deep_cd rows")
    parser.add_argument("--no-serial", action="store_true",
                        help="only the PETSc rows (skip amg, cg, deep_cd)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.case, args.sizes[0], args.contrast, args.rtol, args.out)
        return
    import torch  # noqa: PLC0415 - deep_cd's rows; one thread like every other row

    torch.set_num_threads(1)
    header = (f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"one thread per process, NumPy {np.__version__}, sciml {sciml.__version__}, "
              f"rtol {args.rtol:g}, contrast {args.contrast:g}")
    print(header, flush=True)
    rows = []
    for case in args.cases:
        for n in args.sizes:
            for ranks in args.ranks:
                rows += petsc_rows(case, n, args.contrast, args.rtol, ranks)
            if not args.no_serial:
                rows += serial_rows(case, n, args.contrast, args.rtol, args.maxiter)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "petsc.json").write_text(json.dumps({"machine": header, "rows": rows},
                                                    indent=1))
    print()
    print(format_table(rows, columns=["case", "size", "method", "ranks", "converged",
                                      "iterations", "setup s", "solve s", "total s",
                                      "final rel. res.", "note"]))
    print(f"\nwrote {args.out / 'petsc.json'}")


if __name__ == "__main__":
    main()
