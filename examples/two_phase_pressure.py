"""Pressure projection of an air bubble rising in water: deep_cd, amg and cg, step by step.

A real use of the linear solvers: the incompressible variable-density Euler equations on
the unit cube (metres, seconds; gravity 9.81 m/s^2 along -z), advanced by a projection
method on a staggered (MAC) grid of ``--size``^3 cells. An air bubble (a sphere of radius
0.15 at (0.5, 0.5, 0.35), density 1) sits in water of density ``--density-ratio``, both
at rest at t = 0. Each of the ``--steps`` time steps

1. predicts ``u* = advect(u) + dt g`` (semi-Lagrangian advection of the face velocities,
   zero normal velocity on the five closed walls),
2. solves the pressure equation ``-div((1/rho) grad p) = -div(u*) / dt`` with face
   coefficients ``1/rho`` (harmonic means of the cells' ``1/rho``, i.e. the inverse of the
   mean density), Neumann (closed) walls on the bottom and the four sides and an open top,
   ``p = 0`` at ``z_0 = 1 + h/2``, one cell spacing above the top cells' centres (the
   Dirichlet convention of :class:`sciml.StencilOperator`; it makes the system
   nonsingular), and
3. projects ``u = u* - dt (1/rho) grad p``, divergence-free to the solver's tolerance.

The operator is prepared once per method (``sciml.prepare``): the density is *frozen* for
the sequence, since in ``--steps`` short steps the bubble moves less than a cell (the
example sums ``dt`` times the air's mean vertical velocity and prints how far its centre
rose), while the right-hand side changes
each step as the buoyancy-driven flow evolves. Every step solves the same right-hand side
with ``deep_cd``, ``amg`` (pyamg smoothed aggregation as CG preconditioner) and ``cg`` from
a zero initial guess to ``--rtol``; amg's pressure advances the flow. Per step and method
the example records iterations, seconds, convergence, the relative residual
``||b - A p|| / ||b||`` recomputed from a SciPy matrix assembled here independently of the
package (``h^2 G^T diag(1/rho) G`` from one-dimensional difference matrices) and deep_cd's
safeguard record (rejected directions, where its network was switched off and what
finished the solve). At density ratio 1000 deep_cd takes its smoothed-aggregation
transfers and their Galerkin coarse levels with the weights trained on two-phase
coefficients (``coarsening="auto"``); its network then solves every step alone (no rejected
direction): at 64³ 20-21 iterations per step against amg's 14, and 34.6 s against 19.2 s
for the ten steps (benchmarks/RESULTS.md): the bubble is an isolated inclusion, the hard
case for these transfers. Before Galerkin levels the network was switched off after three
rejected directions and the AMG fallback finished each solve (1.3x amg's time then).
deep_cd's set-up includes the Galerkin
products, its solve seconds torch's first-call work.

    python examples/two_phase_pressure.py                      # 64^3, 10 steps, ratio 1000
    python examples/two_phase_pressure.py --size 96 --steps 12 --out out/bubble96

It prints a progress line per step (stderr), then a table of iterations per step, a summary
per method (median iterations, set-up, solve and total seconds) and the checks: the true
residuals, the agreement of the three pressures, the divergence before and after each
projection and the bubble's rise. It writes ``two_phase_pressure.json`` (every record) and
``two_phase_pressure.png`` (on the vertical slice through the bubble: the density with the
velocity, the pressure, and the pressure less still water's hydrostatic ``rho_w g (z_0 - z)``,
which shows the bubble's own disturbance; and the iterations per step) to ``--out``
(default ``out/two_phase_pressure``), atomically, refusing existing files unless
``--overwrite``. The default run took 7 minutes on one thread of a shared 2-core CPU, 6 of
them cg's (about 5,600 iterations a step; amg and deep_cd take 14-18); the times, and so the
tables' seconds, depend on the machine (iterations do not).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy import ndimage

import sciml
from sciml.errors import SciMLError
from sciml.io.atomic import atomic_write, check_output_path
from sciml.kernels.stencil import face_coefficients
from sciml.reporting import format_table

GRAVITY = 9.81
#: the vertical axis (gravity points to its low side); arrays are indexed [x, y, z]
VERTICAL = 2
#: sides ordered (x low, x high, y low, y high, z low, z high): closed walls, open top
BOUNDARIES = ("neumann",) * 5 + ("dirichlet",)
BUBBLE_CENTRE = (0.5, 0.5, 0.35)
BUBBLE_RADIUS = 0.15
METHODS = ("deep_cd", "amg", "cg")
#: the method whose pressure advances the flow (and that the others are compared with)
REFERENCE = "amg"
OUTPUTS = ("two_phase_pressure.json", "two_phase_pressure.png")
DEEP_CD_INFO = ("network_calls", "fallbacks", "network_disabled_at", "fallback",
                "fallback_iterations", "fallback_setup_time")


# -- the grid and the discrete operators ------------------------------------------------------
def bubble_density(n: int, density_ratio: float) -> np.ndarray:
    """Cell densities on an ``n``^3 grid: 1 in the bubble (cell centre inside), else the ratio.

    Parameters
    ----------
    n
        Cells per axis of the unit cube.
    density_ratio
        Density of the water relative to the air.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, n, n)``, indexed ``[x, y, z]``.
    """
    centres = (np.arange(n) + 0.5) / n
    x, y, z = np.meshgrid(centres, centres, centres, indexing="ij")
    cx, cy, cz = BUBBLE_CENTRE
    inside = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 < BUBBLE_RADIUS**2
    return np.where(inside, 1.0, float(density_ratio))


def inverse_density_faces(density: np.ndarray) -> list[np.ndarray]:
    """``1/rho`` on the faces normal to each axis, zero on the closed walls.

    Face ``i`` along an axis lies between cells ``i - 1`` and ``i`` (``n + 1`` faces): the
    harmonic mean of the two cells' ``1/rho`` inside, the cell's value on the open top.
    """
    return face_coefficients(1.0 / density, bc=BOUNDARIES)


def gradient(p: np.ndarray, axis: int, h: float) -> np.ndarray:
    """``dp/dx_axis`` on the faces normal to ``axis``, with ``p = 0`` one spacing outside.

    On the closed walls the value is irrelevant: their face coefficient is zero.
    """
    padding = [(0, 0)] * p.ndim
    padding[axis] = (1, 1)
    return np.diff(np.pad(p, padding), axis=axis) / h


def divergence(u: Sequence[np.ndarray], h: float) -> np.ndarray:
    """``div u`` on the cells of the face velocities ``u`` (one array per axis)."""
    return sum(np.diff(component, axis=axis) for axis, component in enumerate(u)) / h


def pressure_matrix(faces: Sequence[np.ndarray], h: float) -> sp.csr_matrix:
    """The pressure operator ``h^2 G^T diag(1/rho) G`` assembled from difference matrices.

    ``G`` stacks the face gradients of :func:`gradient`; ``-G^T`` is :func:`divergence`. The
    product is the operator ``h^2 (-div((1/rho) grad))`` of :class:`sciml.StencilOperator`
    with the same faces, built here independently of it to check its solutions.
    """
    n = faces[0].shape[1]
    difference = (sp.eye(n + 1, n) - sp.eye(n + 1, n, k=-1)) / h  # face i: p_i - p_(i-1)
    matrix = sp.csr_matrix((n**3, n**3))
    for axis, coefficient in enumerate(faces):
        factors = [sp.identity(n)] * 3
        factors[axis] = difference
        grad = sp.kron(sp.kron(factors[0], factors[1]), factors[2], format="csr")
        matrix = matrix + grad.T @ sp.diags(coefficient.ravel()) @ grad
    return (h * h * matrix).tocsr()


# -- one time step ------------------------------------------------------------------------------
def face_points(n: int, axis: int) -> np.ndarray:
    """Coordinates, shape ``(3, ...)``, of the centres of the faces normal to ``axis``."""
    axes = [(np.arange(n) + 0.5) / n] * 3
    axes[axis] = np.arange(n + 1) / n
    return np.stack(np.meshgrid(*axes, indexing="ij"))


def sample(component: np.ndarray, axis: int, points: np.ndarray) -> np.ndarray:
    """Trilinear interpolation, at ``points``, of the velocity on the faces normal to ``axis``.

    Points outside the domain take the nearest face's value.
    """
    n = min(component.shape)  # cells per axis (the faces along ``axis`` number n + 1)
    index = points * n - 0.5
    index[axis] += 0.5
    return ndimage.map_coordinates(component, index, order=1, mode="nearest")


def advect(u: Sequence[np.ndarray], dt: float) -> list[np.ndarray]:
    """Semi-Lagrangian advection: each face takes the velocity found ``dt`` upstream."""
    n = u[0].shape[1]
    advected = []
    for axis, component in enumerate(u):
        points = face_points(n, axis)
        velocity = np.stack([component if other == axis else sample(u[other], other, points)
                             for other in range(3)])
        advected.append(sample(component, axis, points - dt * velocity))
    return advected


def predict(u: Sequence[np.ndarray], faces: Sequence[np.ndarray],
            dt: float) -> list[np.ndarray]:
    """``u* = advect(u) + dt g``, with zero normal velocity on the closed walls."""
    predicted = advect(u, dt)
    predicted[VERTICAL] = predicted[VERTICAL] - dt * GRAVITY
    return [np.where(coefficient > 0, component, 0.0)
            for component, coefficient in zip(predicted, faces)]


def pressure_rhs(u_star: Sequence[np.ndarray], dt: float) -> np.ndarray:
    """The flat right-hand side ``b = -h^2 div(u*) / dt`` of the operator's system."""
    h = 1.0 / u_star[0].shape[1]
    return (-h * h / dt * divergence(u_star, h)).ravel()


def project(u_star: Sequence[np.ndarray], p: np.ndarray, faces: Sequence[np.ndarray],
            dt: float) -> list[np.ndarray]:
    """``u = u* - dt (1/rho) grad p``: divergence-free when ``p`` solves the system."""
    h = 1.0 / p.shape[0]
    return [component - dt * coefficient * gradient(p, axis, h)
            for axis, (component, coefficient) in enumerate(zip(u_star, faces))]


def cell_velocity(u: Sequence[np.ndarray]) -> np.ndarray:
    """The face velocities averaged to the cell centres, shape ``(3, n, n, n)``."""
    n = u[0].shape[1]
    lower, upper = np.arange(n), np.arange(1, n + 1)
    return np.stack([0.5 * (np.take(c, lower, axis=a) + np.take(c, upper, axis=a))
                     for a, c in enumerate(u)])


# -- the solvers --------------------------------------------------------------------------------
def prepare_methods(operator: sciml.StencilOperator) -> dict[str, sciml.Prepared]:
    """Each of :data:`METHODS` set up once for ``operator`` (a placeholder zero ``b``)."""
    system = sciml.LinearProblem(operator, np.zeros(operator.shape[0]))
    return {method: sciml.prepare(system, method=method) for method in METHODS}


def solve_record(step: int, method: str, solution: sciml.Solution, b: np.ndarray,
                 matrix: sp.csr_matrix) -> dict[str, Any]:
    """One row of the records: the solve's facts and its independently recomputed residual."""
    record = {"step": step, "method": method, "iterations": solution.iterations,
              "converged": bool(solution.converged), "solve s": solution.solve_time,
              "true rel. residual": float(np.linalg.norm(b - matrix @ solution.x)
                                          / np.linalg.norm(b))}
    if method == "deep_cd":
        record.update({key: solution.info.get(key) for key in DEEP_CD_INFO})
    return record


# -- the run ------------------------------------------------------------------------------------
@dataclass
class TwoPhaseRun:
    """What :func:`run` measured.

    Attributes
    ----------
    config
        The run's parameters.
    setup_seconds
        ``Prepared.setup_time`` per method (once for the whole sequence).
    records
        One dict per step and method (see :func:`solve_record`), plus ``"rel. diff to
        amg"``, the relative 2-norm difference of its pressure to amg's.
    steps
        One dict per step: ``"rhs change"`` (``||b_k - b_1|| / ||b_1||``), ``"div before"``
        and ``"div after"`` (2-norms of the divergence of ``u*`` and of the projected
        velocity), ``"div reduction"`` and ``"rise cells"`` (the bubble centre's rise so far,
        the sum of ``dt`` times the air's mean vertical velocity, in cells).
    fields
        The vertical slice ``y = const`` through the bubble centre of the last step:
        ``"density"``, ``"pressure"`` (amg's), ``"u"`` and ``"w"`` (horizontal and vertical
        velocity at the cell centres), indexed ``[x, z]``.
    """

    config: dict[str, Any]
    setup_seconds: dict[str, float]
    records: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, np.ndarray] = field(default_factory=dict)


def run(size: int = 64, steps: int = 10, density_ratio: float = 1000.0, rtol: float = 1e-6,
        dt: float = 2e-3, progress: Callable[[str], None] | None = None) -> TwoPhaseRun:
    """Advance the rising bubble ``steps`` steps, solving each pressure system three ways.

    Parameters
    ----------
    size
        Cells per axis.
    steps
        Time steps (pressure solves per method).
    density_ratio
        Water density over air density (air has density 1).
    rtol
        Relative tolerance of every solve.
    dt
        Time step in seconds.
    progress
        Called with one line per step, e.g. ``print``.

    Returns
    -------
    TwoPhaseRun
    """
    h = 1.0 / size
    density = bubble_density(size, density_ratio)
    faces = inverse_density_faces(density)
    operator = sciml.StencilOperator(density.shape, 1.0 / density, bc=BOUNDARIES)
    matrix = pressure_matrix(faces, h)
    prepared = prepare_methods(operator)
    result = TwoPhaseRun(
        config={"size": size, "steps": steps, "density_ratio": density_ratio, "rtol": rtol,
                "dt": dt, "methods": list(METHODS), "reference": REFERENCE},
        setup_seconds={m: p.setup_time for m, p in prepared.items()})
    air = density == 1.0
    u = [np.zeros(face.shape) for face in faces]
    first_rhs, rise = None, 0.0
    for step in range(1, steps + 1):
        u_star = predict(u, faces, dt)
        b = pressure_rhs(u_star, dt)
        first_rhs = b if first_rhs is None else first_rhs
        pressures = {}
        for method, solver in prepared.items():
            solution = solver.solve(b, rtol=rtol)
            pressures[method] = solution.x
            result.records.append(solve_record(step, method, solution, b, matrix))
        reference = pressures[REFERENCE]
        for record in result.records[-len(METHODS):]:
            record["rel. diff to amg"] = float(np.linalg.norm(pressures[record["method"]]
                                                              - reference)
                                               / np.linalg.norm(reference))
        p = reference.reshape(density.shape)
        u = project(u_star, p, faces, dt)
        rise += dt * float(cell_velocity(u)[VERTICAL][air].mean())
        before, after = (float(np.linalg.norm(divergence(v, h))) for v in (u_star, u))
        result.steps.append({"step": step,
                             "rhs change": float(np.linalg.norm(b - first_rhs)
                                                 / np.linalg.norm(first_rhs)),
                             "div before": before, "div after": after,
                             "div reduction": before / after, "rise cells": rise / h})
        if progress is not None:
            progress(progress_line(step, steps, result))
    result.fields = slice_fields(density, p, u)
    return result


def slice_fields(density: np.ndarray, p: np.ndarray,
                 u: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """The vertical ``[x, z]`` slice through the bubble centre of the fields to plot."""
    j = slice_index(density.shape[1])
    velocity = cell_velocity(u)
    return {"density": density[:, j], "pressure": p[:, j], "u": velocity[0][:, j],
            "w": velocity[VERTICAL][:, j]}


def slice_index(n: int) -> int:
    """The index along y of the cells whose centres lie nearest the bubble centre's y."""
    return min(int(BUBBLE_CENTRE[1] * n), n - 1)


def progress_line(step: int, steps: int, result: TwoPhaseRun) -> str:
    """``step k/N: deep_cd 14 it (net off at 3, amg 11 it) 0.3 s | amg ... | div a -> b``."""
    parts = []
    for record in result.records[-len(METHODS):]:
        note = ""
        if record.get("fallback"):
            note = (f" (net off at {record['network_disabled_at']}, {record['fallback']} "
                    f"{record['fallback_iterations']} it)")
        parts.append(f"{record['method']} {record['iterations']} it{note} "
                     f"{record['solve s']:.2f} s")
    last = result.steps[-1]
    return (f"step {step}/{steps}: " + " | ".join(parts)
            + f" | div {last['div before']:.2e} -> {last['div after']:.2e}")


# -- reports ------------------------------------------------------------------------------------
def iteration_table(result: TwoPhaseRun) -> list[dict[str, Any]]:
    """One row per step: each method's iterations, deep_cd's fallback, the step's checks."""
    rows = []
    for step in result.steps:
        records = {r["method"]: r for r in result.records if r["step"] == step["step"]}
        row: dict[str, Any] = {"step": step["step"]}
        row.update({f"{m} it": records[m]["iterations"] for m in METHODS})
        deep = records["deep_cd"]
        row["deep_cd net off at / then"] = (
            f"{deep['network_disabled_at']} / {deep['fallback']} {deep['fallback_iterations']} it"
            if deep.get("fallback") else "never")
        row["max true rel. res."] = max(records[m]["true rel. residual"] for m in METHODS)
        row["max rel. diff to amg"] = max(records[m]["rel. diff to amg"] for m in METHODS)
        row["div reduction"] = step["div reduction"]
        row["rhs change"] = step["rhs change"]
        rows.append(row)
    return rows


def summary_table(result: TwoPhaseRun) -> list[dict[str, Any]]:
    """One row per method over the sequence; total seconds include the one set-up."""
    rows = []
    for method in METHODS:
        records = [r for r in result.records if r["method"] == method]
        iterations = [r["iterations"] for r in records]
        solve = sum(r["solve s"] for r in records)
        setup = result.setup_seconds[method]
        row = {"method": method, "median it": statistics.median(iterations),
               "min-max it": f"{min(iterations)}-{max(iterations)}",
               "all converged": all(r["converged"] for r in records),
               "max true rel. res.": max(r["true rel. residual"] for r in records),
               "set-up s": setup, "solve s": solve, "total s": setup + solve}
        if method == "deep_cd":
            row["rejected directions"] = sum(r["fallbacks"] for r in records)
            row["steps handed over"] = sum(1 for r in records if r.get("fallback"))
            row["fallback set-up s (in solve s)"] = sum(r.get("fallback_setup_time") or 0.0
                                                        for r in records)
        rows.append(row)
    return rows


def checks(result: TwoPhaseRun) -> list[str]:
    """The run's verdicts as lines: residuals, agreement, divergence, the frozen density."""
    rtol = result.config["rtol"]
    worst = max(r["true rel. residual"] for r in result.records)
    diff = max(r["rel. diff to amg"] for r in result.records)
    reduction = min(s["div reduction"] for s in result.steps)
    rise = result.steps[-1]["rise cells"]
    return [
        f"true relative residuals (SciPy matrix assembled apart): max {worst:.2e} "
        f"(rtol {rtol:g}: {'all met' if worst <= rtol else 'NOT all met'})",
        f"pressures vs amg's: max relative difference {diff:.2e} "
        f"({'agree' if diff <= 1e-5 else 'DISAGREE'} to 1e-5)",
        f"divergence after / before projection: at most {1 / reduction:.2e} "
        f"(reduced at least {reduction:.3g}x)",
        f"bubble centre rose {rise:.3f} cells in {result.config['steps']} steps "
        + ("(< 1 cell: freezing the density for the sequence holds)" if rise < 1 else
           "(>= 1 cell: the frozen density is stretched; use a smaller --dt or fewer --steps)"),
    ]


def plot(result: TwoPhaseRun, path: Path) -> None:
    """The slice of density with the velocity, pressure, pressure minus the water's
    hydrostatic part, and iterations per step; written atomically to ``path`` (PNG)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    f = result.fields
    n = f["density"].shape[0]
    ratio = result.config["density_ratio"]
    centres = (np.arange(n) + 0.5) / n
    x, z = np.meshgrid(centres, centres, indexing="ij")
    hydrostatic = ratio * GRAVITY * (1.0 + 0.5 / n - z)  # z_0 = 1 + h/2, where p = 0
    fig, axes = plt.subplots(2, 2, figsize=(11, 9.5))
    step = max(1, n // 16)
    dynamic = f["pressure"] - hydrostatic
    largest = float(np.abs(dynamic).max())
    panels = ((axes[0, 0], f["density"], r"density $\rho$ (kg/m$^3$) and velocity", "Blues",
               {}),
              (axes[0, 1], f["pressure"], "pressure $p$ (Pa), amg's", "viridis", {}),
              (axes[1, 0], dynamic,
               r"$p - \rho_w g\,(z_0 - z)$ (Pa): $p$ less the water column's", "RdBu_r",
               {"vmin": -largest, "vmax": largest}))
    for ax, values, title, cmap, limits in panels:
        image = ax.pcolormesh(x, z, values, cmap=cmap, shading="nearest", **limits)
        fig.colorbar(image, ax=ax, shrink=0.85)
        ax.contour(x, z, f["density"], levels=[0.5 * (1 + ratio)], colors="k",
                   linewidths=0.8)
        ax.set(title=title, xlabel="x (m)", ylabel="z (m)", aspect="equal")
    axes[0, 0].quiver(x[::step, ::step], z[::step, ::step], f["u"][::step, ::step],
                      f["w"][::step, ::step], color="tab:red")
    ax = axes[1, 1]
    for method in METHODS:
        records = [r for r in result.records if r["method"] == method]
        ax.semilogy([r["step"] for r in records], [r["iterations"] for r in records],
                    marker="o", label=method)
    ax.set(title=f"iterations per step to rtol {result.config['rtol']:g}", xlabel="step",
           ylabel="iterations")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    c = result.config
    fig.suptitle(f"air bubble in water, density ratio {c['density_ratio']:g}, {n}^3 cells, "
                 f"slice y = {(slice_index(n) + 0.5) / n:.3f} m, after {c['steps']} steps of "
                 f"{c['dt']:g} s")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def output_paths(out: Path, overwrite: bool) -> list[Path]:
    """The output files in ``out`` (created), checked before any work.

    Raises
    ------
    sciml.errors.UsageError
        An output exists and ``overwrite`` is False.
    """
    out.mkdir(parents=True, exist_ok=True)
    return [check_output_path(out / name, overwrite=overwrite) for name in OUTPUTS]


def write_json(result: TwoPhaseRun, path: Path, machine: str) -> None:
    """Every record, the tables and the checks (not the fields), written atomically."""
    data = {"machine": machine, **{k: v for k, v in asdict(result).items() if k != "fields"},
            "summary": summary_table(result), "checks": checks(result)}
    atomic_write(path, lambda handle: handle.write(json.dumps(data, indent=1).encode()))


def main(argv: Sequence[str] | None = None) -> TwoPhaseRun:
    """The command line: parse, check the outputs, run, print, write.

    Returns
    -------
    TwoPhaseRun
        What was measured (also written to ``--out``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="cells per axis (default 64)")
    parser.add_argument("--steps", type=int, default=10, help="time steps (default 10)")
    parser.add_argument("--density-ratio", type=float, default=1000.0,
                        help="water / air density (default 1000)")
    parser.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance")
    parser.add_argument("--dt", type=float, default=2e-3, help="time step in s (2e-3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--out", type=Path, default=Path("out/two_phase_pressure"))
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    args = parser.parse_args(argv)
    if (args.size < 8 or args.steps < 1 or args.density_ratio <= 0 or args.dt <= 0
            or args.threads < 1):
        parser.error("need --size >= 8, --steps >= 1, --density-ratio > 0, --dt > 0 and "
                     "--threads >= 1")
    try:
        json_path, png_path = output_paths(args.out, args.overwrite)
    except SciMLError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    import torch  # noqa: PLC0415 - deep_cd's network runs in torch

    torch.set_num_threads(args.threads)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"torch {torch.__version__} ({args.threads} threads), NumPy {np.__version__}, "
               f"sciml {sciml.__version__}")
    print(machine, flush=True)
    result = run(args.size, args.steps, args.density_ratio, args.rtol, args.dt,
                 progress=lambda line: print(line, file=sys.stderr, flush=True))
    print("\niterations per step (zero initial guess each step):")
    print(format_table(iteration_table(result)))
    print("\nper method over the sequence (operator prepared once; total = set-up + solves):")
    print(format_table(summary_table(result), floatfmt=".4g"))
    print()
    print("\n".join(checks(result)))
    write_json(result, json_path, machine)
    plot(result, png_path)
    print(f"\nwrote {json_path} and {png_path}")
    return result


if __name__ == "__main__":
    main()
