"""Tables and plots shared by the demo, the CLI, examples and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from .solution import Solution


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None,
                 floatfmt: str = ".3g") -> str:
    """A Markdown table of ``rows`` (dicts), floats formatted with ``floatfmt``."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return format(value, floatfmt)
        return "" if value is None else str(value)

    body = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(columns)]
    line = lambda items: "| " + " | ".join(s.ljust(w) for s, w in zip(items, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(columns), sep, *(line(r) for r in body)])


def solution_row(label: str, sol: Solution) -> dict[str, Any]:
    """The comparison-table row of one solve."""
    return {"method": label, "converged": sol.converged, "iterations": sol.iterations,
            "setup s": sol.setup_time, "solve s": sol.solve_time, "total s": sol.total_time,
            "final rel. residual": sol.info.get("residual_norm", float("nan"))
            / (sol.info.get("b_norm") or 1.0)}


Curves = Iterable[tuple[str, Sequence[float]]]


def plot_convergence(curves: Curves, path: str | os.PathLike[str], title: str = "",
                     tolerance: float | None = None) -> Path:
    """Save a semilogy plot of relative residual histories (label, history) to ``path``,
    with the target ``tolerance`` as a dashed line when given."""
    return plot_convergence_panels([(title, curves)], path, tolerance)


def plot_convergence_panels(panels: Sequence[tuple[str, Curves]],
                            path: str | os.PathLike[str],
                            tolerance: float | None = None) -> Path:
    """Save one semilogy panel of residual histories per ``(title, curves)`` side by side;
    a label keeps its colour in every panel."""
    import matplotlib  # noqa: PLC0415 - plotting is optional work

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    panels = [(title, list(curves)) for title, curves in panels]
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours: dict[str, str] = {}
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels):
        for label, history in curves:
            colour = colours.setdefault(label, palette[len(colours) % len(palette)])
            ax.semilogy(range(len(history)), history, color=colour,
                        marker="." if len(history) < 40 else None, label=label)
        if tolerance:
            ax.axhline(tolerance, color="grey", linestyle="--", linewidth=1,
                       label="tolerance")
        ax.set_xlabel("iteration")
        ax.set_ylabel("relative residual ||b - Ax|| / ||b||")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
