"""The figures of a sweep (matplotlib, imported only when a figure is drawn).

Each optimizer is drawn at its tuned rate (see :func:`~optimlab.experiments.analysis.tuned`;
its only rate when the grid has one), from its scored runs (``done`` and
``diverged``). A curve is the mean over seeds at each epoch and the band spans
the minimum to the maximum over seeds (with three seeds a ±std band would
pretend to a precision the seeds do not have). A diverged run's curve stops at
its last finished epoch (marked ×); later epochs average the seeds that have
them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from optimlab.experiments.analysis import Cell, TunedChoice, curve, summarize, tuned
from optimlab.experiments.metric import Metric
from optimlab.experiments.plots import pyplot, save_figure
from optimlab.experiments.store import Store

#: The figures of an accuracy problem; a loss problem draws ``val_loss.png`` instead of
#: ``val_accuracy.png`` (:func:`figure_names`).
FIGURES = ("loss.png", "val_accuracy.png", "lr_sensitivity.png", "time.png")
BAND = "mean over seeds, band = min–max over seeds"


def figure_names(metric: Metric) -> tuple[str, ...]:
    """The files :func:`plot_sweep` writes for a sweep judged by ``metric``."""
    return ("loss.png", f"{metric.column('val')}.png", "lr_sensitivity.png", "time.png")


def plot_sweep(
    store: Store, out_dir: str | os.PathLike[str], *, cells: Sequence[Cell] | None = None
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

    Returns
    -------
    list of Path
        The four figures, in the order above.
    """
    cells = summarize(store) if cells is None else cells
    choices = tuned(cells)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    colors = {name: f"C{i % 10}" for i, name in enumerate(sorted(choices))}
    metric = cells[0].metric if cells else Metric()
    paths = [out / name for name in figure_names(metric)]
    save_figure(
        _curves(choices, colors, "train_loss", "epoch", "training loss", log=True), paths[0]
    )
    fig = _curves(
        choices, colors, metric.column("val"), "epoch", metric.label("val"),
        log=not metric.is_accuracy,
    )  # fmt: skip
    _reference_lines(fig.axes[0], metric)
    save_figure(fig, paths[1])
    save_figure(_sensitivity(cells, choices, colors, metric), paths[2])
    save_figure(
        _curves(choices, colors, "train_loss", "cumulative_seconds", "training loss", log=True),
        paths[3],
    )
    return paths


def _label(choice: TunedChoice) -> str:
    cell = choice.cell
    which = "only rate" if choice.untuned else "tuned"
    return f"{choice.optimizer} (lr={cell.lr:g}, {which}, {cell.scored} seeds)"


def _curves(
    choices: dict[str, TunedChoice],
    colors: dict[str, str],
    column: str,
    x_column: str,
    ylabel: str,
    *,
    log: bool,
):
    """One mean curve with a min–max band per optimizer; × where a diverged run stopped."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = diverged_drawn = False
    for name, choice in choices.items():
        if choice.cell is None:
            continue
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
        ax.plot(x, [s.mean for _, s in ys], marker="o", color=colors[name], label=_label(choice))
        ax.fill_between(
            x, [s.min for _, s in ys], [s.max for _, s in ys], color=colors[name], alpha=0.2
        )
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
                color=colors[name],
                linestyle="none",
                label=None if diverged_drawn else "last epoch before a run diverged",
            )
            diverged_drawn = True
    if log and drawn:
        ax.set_yscale("log")
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
    cells: Sequence[Cell], choices: dict[str, TunedChoice], colors: dict[str, str], metric: Metric
):
    """The final validation value against the rate; diverged runs as × at the metric's worst
    (chance, or a loss problem's worst loss)."""
    chance = metric.worst
    worst_word = "chance" if metric.is_accuracy else f"worst {chance:.4g}"
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = diverged_drawn = False
    for name, choice in choices.items():
        own = [c for c in cells if c.optimizer == name and c.final_val.n]
        if not own:
            continue
        x = [c.lr for c in own]
        # A protocol's trials differ in more than the rate: points, not a curve through them.
        trials = own[0].protocol is not None
        ax.plot(x, [c.final_val.mean for c in own], marker="o", color=colors[name], label=name,
                linestyle="none" if trials else "-")  # fmt: skip
        if not trials:
            ax.fill_between(
                x,
                [c.final_val.min for c in own],
                [c.final_val.max for c in own],
                color=colors[name],
                alpha=0.2,
            )
        if choice.cell is not None:
            ax.plot(
                choice.lr,
                choice.cell.final_val.mean,
                marker="o",
                markersize=14,
                markerfacecolor="none",
                color=colors[name],
            )
        drawn = True
        for cell in own:
            count = cell.counts["diverged"]
            if not count:
                continue
            ax.plot(
                cell.lr,
                chance,
                marker="x",
                markersize=10,
                color=colors[name],
                linestyle="none",
                label=None if diverged_drawn else f"diverged run (scored at {worst_word})",
            )
            if count > 1:
                ax.annotate(
                    f"×{count}",
                    (cell.lr, chance),
                    textcoords="offset points",
                    xytext=(6, 4),
                    color=colors[name],
                    fontsize=8,
                )
            diverged_drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1,
                   label=f"{worst_word.split(' ')[0]} {chance:.4g}")  # fmt: skip
        if not metric.is_accuracy:
            ax.set_yscale("log")
    what = f"final {metric.label('val')}"
    ax.set_xlabel("learning rate")
    ax.set_ylabel(what)
    ax.set_title(f"{what} against the learning rate (circled: tuned)\n{BAND}", fontsize=10)
    _finish(ax, drawn)
    return fig


def _reference_lines(ax, metric: Metric) -> None:
    if not ax.lines:
        return
    target = metric.target
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
    if metric.is_accuracy and metric.worst > 0:
        ax.axhline(metric.worst, color="grey", linestyle=":", linewidth=1,
                   label=f"chance {metric.worst:.3g}")  # fmt: skip
    ax.legend(fontsize=8)


def _finish(ax, drawn: bool) -> None:
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no finished runs yet", ha="center", va="center", transform=ax.transAxes)
