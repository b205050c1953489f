"""The figures of a sweep (matplotlib, imported only when a figure is drawn).

Each optimizer is drawn at its tuned rate (see :func:`~optimlab.experiments.analysis.tuned`;
its only rate when the grid has one), from its scored runs (``done`` and
``diverged``). A curve is the mean over seeds at each epoch and the band spans
the minimum to the maximum over seeds (with three seeds a ±std band would
pretend to a precision the seeds do not have). A diverged run's curve stops at
its last finished epoch (marked ×); later epochs average the seeds that have
them.

Every y axis is fitted to what it draws (:func:`~optimlab.experiments.plots.fit_y_axis`):
chance and the target are lines when they fall inside it and legend entries
otherwise, and a loss goes on a log axis when its values span more than a factor
:data:`~optimlab.experiments.plots.LOG_SPAN`. An optimizer has one colour in every figure,
from the sweep's optimizer list in its configured order (:func:`sweep_optimizers`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from optimlab.experiments.analysis import Cell, TunedChoice, curve, summarize, tuned
from optimlab.experiments.metric import Metric
from optimlab.experiments.plots import (
    REPORT_DPI,
    fit_y_axis,
    optimizer_colors,
    pyplot,
    reference_lines,
    save_figure,
)
from optimlab.experiments.store import Store

#: The figures of an accuracy problem; a loss problem draws ``val_loss.png`` instead of
#: ``val_accuracy.png`` (:func:`figure_names`).
FIGURES = ("loss.png", "val_accuracy.png", "lr_sensitivity.png", "time.png")
BAND = "mean over seeds, band = min–max over seeds"


def figure_names(metric: Metric) -> tuple[str, ...]:
    """The files :func:`plot_sweep` writes for a sweep judged by ``metric``."""
    return ("loss.png", f"{metric.column('val')}.png", "lr_sensitivity.png", "time.png")


def sweep_optimizers(store: Store) -> list[str]:
    """The sweep's optimizers in their configured order: the order of ``--optimizers``
    (or the config file's list), which is the order their runs entered the store; an
    optimizer a later invocation added comes after the others."""
    rows = store.db.execute("SELECT optimizer FROM runs ORDER BY rowid")
    return list(dict.fromkeys(row[0] for row in rows))


def sweep_colors(store: Store) -> dict[str, str]:
    """:func:`~optimlab.experiments.plots.optimizer_colors` of :func:`sweep_optimizers`:
    the colour of each optimizer in every figure of the sweep's report."""
    return optimizer_colors(sweep_optimizers(store))


def caption(name: str, metric: Metric) -> str:
    """How to read the figure ``name`` of :func:`figure_names` (one sentence)."""
    better = "higher" if metric.higher_is_better else "lower"
    axis = "a y axis fitted to the curves" + (
        "" if metric.is_accuracy else " (logarithmic when they span more than a factor 3)"
    )
    if name == "loss.png":
        return (
            "Line: the mean over seeds, band: lowest to highest seed, ×: the last epoch of a "
            "run that diverged; lower and earlier is better, on a y axis fitted to the curves "
            "(logarithmic when they span more than a factor 3)."
        )
    if name == f"{metric.column('val')}.png":
        return (
            "Line: the mean over seeds, band: lowest to highest seed; "
            f"{better} and earlier is better, on {axis}, where the target"
            + (" and chance are lines when inside it" if metric.is_accuracy else " is a line")
            + " and named in the legend otherwise."
        )
    if name == "lr_sensitivity.png":
        return (
            "Each rate an optimizer ran (mean, band: lowest to highest seed; circled: the "
            f"tuned rate; ×: diverged runs, scored at {metric.worst_word}); a flat curve is an "
            "optimizer that forgives a badly chosen rate, a sharp peak one that must be tuned."
        )
    if name == "time.png":
        return (
            "The training loss of the first figure against cumulative seconds of training "
            "(mean over seeds): the curve further left reaches a loss sooner on this machine, "
            "so compare these times within one sweep only."
        )
    raise ValueError(f"caption: unknown figure {name!r}; expected one of {figure_names(metric)}")


def sweep_figures(
    store: Store,
    *,
    cells: Sequence[Cell] | None = None,
    colors: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The figures of :func:`plot_sweep`, drawn but not saved: ``{file name: Figure}``
    (the caller saves or closes them)."""
    cells = summarize(store) if cells is None else cells
    colors = sweep_colors(store) if colors is None else colors
    order = {name: i for i, name in enumerate(colors)}  # legends in the configured order
    found = tuned(cells)
    choices = {n: found[n] for n in sorted(found, key=lambda n: (order.get(n, len(order)), n))}
    metric = cells[0].metric if cells else Metric()
    names = figure_names(metric)
    val = _curves(
        choices, colors, metric.column("val"), "epoch", metric.label("val"),
        log=not metric.is_accuracy,
    )  # fmt: skip
    _reference_lines(val.axes[0], metric)
    return {
        names[0]: _curves(choices, colors, "train_loss", "epoch", "training loss", log=True),
        names[1]: val,
        names[2]: _sensitivity(cells, choices, colors, metric),
        names[3]: _curves(
            choices, colors, "train_loss", "cumulative_seconds", "training loss", log=True
        ),
    }


def plot_sweep(
    store: Store,
    out_dir: str | os.PathLike[str],
    *,
    cells: Sequence[Cell] | None = None,
    colors: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``loss.png``, ``val_accuracy.png`` (a loss problem: ``val_loss.png``),
    ``lr_sensitivity.png`` and ``time.png``; each in the problem's metric.

    Parameters
    ----------
    store : Store
        The sweep's results (read only).
    out_dir : path-like
        Where the figures go (created when missing); each is written atomically.
    cells : sequence of Cell, optional
        ``summarize(store)``, when the caller has it already.
    colors : mapping of str to str, optional
        The colour of each optimizer; :func:`sweep_colors` by default.

    Returns
    -------
    list of Path
        The four figures, in the order above.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in sweep_figures(store, cells=cells, colors=colors).items():
        save_figure(fig, out / name, dpi=REPORT_DPI)
        paths.append(out / name)
    return paths


def _label(choice: TunedChoice) -> str:
    cell = choice.cell
    which = "only rate" if choice.untuned else "tuned"
    return f"{choice.optimizer} (lr={cell.lr:g}, {which}, {cell.scored} seeds)"


def _curves(
    choices: dict[str, TunedChoice],
    colors: Mapping[str, str],
    column: str,
    x_column: str,
    ylabel: str,
    *,
    log: bool,
):
    """One mean curve with a min–max band per optimizer; × where a diverged run stopped.
    The y axis fits the curves and bands (log when ``log`` and they span a wide range)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = diverged_drawn = False
    values: list[float | None] = []
    for name, choice in choices.items():
        if choice.cell is None:
            continue
        color = colors.get(name)
        runs = [r for r in choice.cell.runs if r.status in ("done", "diverged")]
        ys = curve(runs, column)
        if x_column == "epoch":
            xs = {epoch: float(epoch) for epoch, _ in ys}
        else:
            xs = {epoch: s.mean for epoch, s in curve(runs, x_column)}
        ys = [(epoch, s) for epoch, s in ys if epoch in xs]
        if not ys:
            continue
        x = [xs[epoch] for epoch, _ in ys]
        ax.plot(x, [s.mean for _, s in ys], marker="o", color=color, label=_label(choice))
        ax.fill_between(x, [s.min for _, s in ys], [s.max for _, s in ys], color=color, alpha=0.2)
        values += [v for _, s in ys for v in (s.min, s.mean, s.max)]
        drawn = True
        for run in runs:
            last = run.epochs[-1] if run.epochs else None
            if run.status != "diverged" or last is None or last[column] is None:
                continue
            ax.plot(
                xs.get(last["epoch"], float(last["epoch"])),
                last[column],
                marker="x",
                markersize=10,
                color=color,
                linestyle="none",
                label=None if diverged_drawn else "last epoch before a run diverged",
            )
            values.append(last[column])
            diverged_drawn = True
    if drawn:
        fit_y_axis(ax, values, allow_log=log)
    if x_column == "epoch":
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        title = f"{ylabel} at each optimizer's tuned rate"
    else:
        ax.set_xlabel("cumulative wall-clock seconds (mean over seeds)")
        title = f"{ylabel} against wall-clock time at each optimizer's tuned rate"
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\n{BAND}", fontsize=10)
    _finish(ax, drawn)
    return fig


def _sensitivity(
    cells: Sequence[Cell],
    choices: dict[str, TunedChoice],
    colors: Mapping[str, str],
    metric: Metric,
):
    """The final validation value against the rate; diverged runs as × at the metric's worst
    (chance, or a loss problem's worst loss)."""
    chance = metric.worst
    worst_word = "chance" if metric.is_accuracy else f"worst {chance:.4g}"
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = diverged_drawn = False
    values: list[float | None] = []
    cross = f"diverged run (scored at {worst_word})"
    for name, choice in choices.items():
        own = [c for c in cells if c.optimizer == name and c.final_val.n]
        if not own:
            continue
        color = colors.get(name)
        x = [c.lr for c in own]
        # A protocol's trials differ in more than the rate: points, not a curve through them.
        trials = own[0].protocol is not None
        ax.plot(x, [c.final_val.mean for c in own], marker="o", color=color, label=name,
                linestyle="none" if trials else "-")  # fmt: skip
        values += [c.final_val.mean for c in own]
        if not trials:
            lows, highs = [c.final_val.min for c in own], [c.final_val.max for c in own]
            ax.fill_between(x, lows, highs, color=color, alpha=0.2)
            values += lows + highs
        if choice.cell is not None:
            ax.plot(choice.lr, choice.cell.final_val.mean, marker="o", markersize=14,
                    markerfacecolor="none", color=color)  # fmt: skip
        drawn = True
        for cell in own:
            count = cell.counts["diverged"]
            if not count:
                continue
            ax.plot(cell.lr, chance, marker="x", markersize=10, color=color, linestyle="none",
                    label=None if diverged_drawn else cross)  # fmt: skip
            values.append(chance)
            if count > 1:
                ax.annotate(f"×{count}", (cell.lr, chance), textcoords="offset points",
                            xytext=(6, 4), color=color, fontsize=8)  # fmt: skip
            diverged_drawn = True
    if drawn:
        ax.set_xscale("log")
        fit_y_axis(ax, values, allow_log=not metric.is_accuracy)
        label = f"{worst_word.split(' ')[0]} {chance:.4g}"
        reference_lines(ax, [(chance, label, ":", "grey")])
    what = f"final {metric.label('val')}"
    ax.set_xlabel("learning rate")
    ax.set_ylabel(what)
    ax.set_title(f"{what} against the learning rate (circled: tuned)\n{BAND}", fontsize=10)
    _finish(ax, drawn)
    return fig


def _reference_lines(ax, metric: Metric) -> None:
    """The target and (a classifier's) chance: lines inside the fitted axis, else legend
    entries saying where they lie."""
    if not ax.lines:
        return
    references = []
    if metric.target is not None:
        references.append((metric.target, f"target {metric.target:g}", "--", "black"))
    if metric.is_accuracy and metric.worst > 0:
        references.append((metric.worst, f"chance {metric.worst:.3g}", ":", "grey"))
    reference_lines(ax, references)
    ax.legend(fontsize=8)


def _finish(ax, drawn: bool) -> None:
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no finished runs yet", ha="center", va="center", transform=ax.transAxes)
