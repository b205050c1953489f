"""The verdict matrix of a sweep: optimizer x optimizer, coloured by verdict.

Row A, column B holds the verdict of A against B (``better`` means A is better),
so the matrix reads along its rows and is mirrored across the diagonal. Cells
show the verdict and the mean paired difference, in points of accuracy or in units of a
loss (beyond
ten optimizers, a symbol: + better, − worse, = equivalent, ? undetermined). One
figure per group of :func:`~optimlab.experiments.sweep_verdicts.groups`. The optimizers'
names are written in their colours of the report's other figures
(:func:`~optimlab.experiments.plots.optimizer_colors`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from optimlab.experiments.plots import REPORT_DPI, optimizer_colors, pyplot, save_figure
from optimlab.experiments.sweep_verdicts import Group, SweepVerdicts

#: Verdict -> colour (shared with the HTML matrix of the report).
COLORS = {
    "better": "#4daf4a",
    "worse": "#e41a1c",
    "equivalent": "#80b1d3",
    "undetermined": "#dddddd",
}


#: Beyond this many optimizers a cell shows a symbol only.
COMPACT = 10
SYMBOLS = {"better": "+", "worse": "−", "equivalent": "=", "undetermined": "?"}


#: How to read a verdict matrix (the caption of its figure in a report).
CAPTION = (
    "Read along a row: each cell is the verdict of the row's optimizer against the "
    "column's (green: better, red: worse, blue: equivalent within the ROPE, grey: "
    "undetermined), with the mean paired difference beneath it up to ten optimizers (beyond, "
    "a symbol: + better, − worse, = equivalent, ? undetermined); the names are in each "
    "optimizer's colour of the other figures."
)


def verdict_grid(result: SweepVerdicts, group: Group) -> list[list[str]]:
    """``grid[i][j]``: the verdict of the i-th optimizer of ``group`` against the j-th
    (``""`` on the diagonal)."""
    names = list(group.cells)
    grid = [["" for _ in names] for _ in names]
    for i, name in enumerate(names):
        for other, verdict, _ in result.against(name, group):
            grid[i][names.index(other)] = verdict
    return grid


def figure_name(group: Group, several: bool) -> str:
    """``verdicts.png``, or ``verdicts_lr_<rate>.png`` when there is a group per rate."""
    return f"verdicts_lr_{group.lr:g}.png" if several and group.lr is not None else "verdicts.png"


def plot_verdicts(
    result: SweepVerdicts,
    out_dir: str | os.PathLike[str],
    *,
    colors: Mapping[str, str] | None = None,
) -> list[Path]:
    """Draw one verdict matrix per group of ``result`` into ``out_dir``; the paths.

    ``colors``: each optimizer's colour (its tick labels are written in it), from
    :func:`~optimlab.experiments.plots.optimizer_colors` of the sweep's optimizer list;
    by default, of the order the groups list them in.
    """
    if colors is None:
        colors = optimizer_colors(name for group in result.groups for name in group.cells)
    out = Path(out_dir)
    paths = []
    several = len(result.groups) > 1
    for group in result.groups:
        if len(group.cells) < 2:
            continue
        path = out / figure_name(group, several)
        save_figure(_matrix(result, group, colors), path, dpi=REPORT_DPI)
        paths.append(path)
    return paths


def _matrix(result: SweepVerdicts, group: Group, colors: Mapping[str, str]):
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    plt = pyplot()
    names = list(group.cells)
    n = len(names)
    grid = verdict_grid(result, group)
    differences = {
        (name, other): c.difference if c.a == name else 0.0 - c.difference
        for name in names
        for other, _, c in result.against(name, group)
        if c.difference is not None
    }
    size = min(16.0, max(3.5, 0.9 * n + 1.5))
    font = 8 if n <= COMPACT else 7
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = [[to_rgb(COLORS.get(v, "#ffffff")) for v in row] for row in grid]
    ax.imshow(image, aspect="equal")
    accuracy = result.metric.endswith("accuracy")
    for i, name in enumerate(names):
        for j, other in enumerate(names):
            if i == j:
                ax.text(j, i, "—", ha="center", va="center", color="#888888")
                continue
            text = grid[i][j] if n <= COMPACT else SYMBOLS.get(grid[i][j], "")
            if (name, other) in differences and n <= COMPACT:
                value = differences[name, other]
                text += f"\n{100 * value:+.2f}" if accuracy else f"\n{value:+.3g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=font)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_color(colors.get(label.get_text(), "black"))
    ax.set_xlabel("against (column)")
    ax.set_ylabel("optimizer (row)")
    unit = "points" if accuracy else "units of the loss"
    rope = f"{100 * result.rope:g}" if accuracy else f"{result.rope:.3g}"
    ax.set_title(
        f"{result.metric}, {group.label}: row against column\n"
        f"{100 * result.confidence:g}% interval, Holm-adjusted, ROPE ±{rope} {unit}"
        + (f"; numbers: mean paired difference ({unit})" if n <= COMPACT else ""),
        fontsize=9,
    )
    ax.legend(
        handles=[Patch(color=c, label=v if n <= COMPACT else f"{SYMBOLS[v]} {v}")
                 for v, c in COLORS.items()],
        loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
    )  # fmt: skip
    return fig
