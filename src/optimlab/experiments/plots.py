"""Figures of training runs, and what every figure of optimlab shares: one colour per
optimizer, y axes fitted to the data, a log axis where the values span a wide range.

matplotlib is imported only when a figure is drawn (:func:`pyplot`); the colours
(:func:`optimizer_colors`) and the axis rules (:func:`log_scale_helps`,
:func:`fitted_limits`) need no matplotlib.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

from optimlab.io import atomic_open
from optimlab.train.history import History

#: Resolution of a saved figure, in dots per inch.
DPI = 120
#: Resolution of the figures of a report (sweep, verdicts, protocol, suite): a 7 x 4.5 inch
#: figure is about 1050 x 675 pixels, sharp at the width of the HTML page.
REPORT_DPI = 150

#: The optimizer colours, by position in the sweep's optimizer list: matplotlib's tab10,
#: then the lighter halves of tab20 (repeating beyond twenty optimizers).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

#: Positive values whose largest is more than this many times their smallest are drawn on a
#: log axis (where a linear one would squash all but the first epochs into a flat line).
LOG_SPAN = 3.0

#: The share of the data's range left free above and below it (of the log range on a log
#: axis).
MARGIN = 0.05


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def colors(n: int) -> list:
    """``n`` distinct line colours (tab10, tab20 beyond ten; repeating beyond twenty).

    For lines that stand for optimizers use :func:`optimizer_colors` instead: it gives an
    optimizer the same colour in every figure of a report.
    """
    cmap = pyplot().get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def optimizer_colors(names: Iterable[str]) -> dict[str, str]:
    """One fixed colour per optimizer: ``{name: "#rrggbb"}``, the i-th distinct name taking
    ``PALETTE[i % len(PALETTE)]``.

    Pass the whole optimizer list of the sweep (or suite, or study), in its configured
    order (a sweep's: :func:`~optimlab.experiments.sweep_plots.sweep_optimizers`), never
    the subset one figure draws: the colour of an optimizer then depends on that list
    alone, and is the same in the curves, the sensitivity figure, the verdict matrices,
    the profiles and any other figure drawn from the same list. Every figure module of
    optimlab takes its optimizer colours from here.

    Parameters
    ----------
    names : iterable of str
        The optimizers in their configured order; repeats keep their first position.

    Returns
    -------
    dict of str to str
        Hex colours (usable by matplotlib and in HTML), in the order of ``names``.

    Examples
    --------
    >>> optimizer_colors(["sgd", "adam", "sgd"])
    {'sgd': '#1f77b4', 'adam': '#ff7f0e'}
    """
    order = list(dict.fromkeys(names))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}


def _finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def log_scale_helps(values: Iterable[float | None], span: float = LOG_SPAN) -> bool:
    """Whether ``values`` (``None``, NaN and infinities left out) belong on a log axis: all
    positive, the largest more than ``span`` times the smallest."""
    finite = _finite(values)
    return bool(finite) and min(finite) > 0 and max(finite) > span * min(finite)


def fitted_limits(
    values: Iterable[float | None], *, log: bool = False, margin: float = MARGIN
) -> tuple[float, float] | None:
    """The y limits that fit ``values``: their range widened by ``margin`` of it on each
    side (on a log axis, of the range of their logarithms); ``None`` without a finite value.

    A single value (or a range of zero) is widened by ``margin`` of its size (by a factor
    ``10**margin`` on a log axis; by ``margin`` itself around 0). With ``log`` the
    non-positive values are left out, as a log axis cannot show them.

    Examples
    --------
    >>> fitted_limits([0.8, 0.9])
    (0.795, 0.905)
    """
    finite = _finite(values)
    if log:
        finite = [v for v in finite if v > 0]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    if log:
        a, b = math.log10(low), math.log10(high)
        pad = margin * (b - a) if b > a else margin
        return 10 ** (a - pad), 10 ** (b + pad)
    pad = margin * (high - low) if high > low else margin * (abs(high) or 1.0)
    return low - pad, high + pad


def fit_y_axis(ax, values: Iterable[float | None], *, allow_log: bool = False) -> bool:
    """Set ``ax``'s y axis to the data: a log scale when ``allow_log`` and
    :func:`log_scale_helps`, and :func:`fitted_limits`; whether the axis is logarithmic."""
    values = list(values)
    log = allow_log and log_scale_helps(values)
    if log:
        ax.set_yscale("log")
    limits = fitted_limits(values, log=log)
    if limits is not None:
        ax.set_ylim(*limits)
    return log


def reference_lines(ax, references: Sequence[tuple[float, str, str, str]]) -> None:
    """Draw each ``(value, label, linestyle, colour)`` as a horizontal line when it lies
    within ``ax``'s (fitted) y limits; otherwise only name it in the legend, as
    "label: below (above) the range shown", without stretching the axis to it."""
    low, high = ax.get_ylim()
    for value, label, linestyle, color in references:
        if low <= value <= high:
            ax.axhline(value, color=color, linestyle=linestyle, linewidth=1, label=label)
        else:
            where = "below" if value < low else "above"
            ax.plot([], [], linestyle="none", label=f"{label}: {where} the range shown")


def save_figure(fig, path: str | os.PathLike[str], *, dpi: int = DPI) -> None:
    """Save ``fig`` as PNG atomically (temporary file, then rename) and close it."""
    plt = pyplot()
    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)


def _curves(
    history: History, columns: Sequence[tuple[str, str]], ylabel: str, title: str, *, log: bool
):
    """One line per column; the y axis fitted to them (log when ``log`` and it helps)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = history.column("epoch")
    values: list[float | None] = []
    for column, label in columns:
        ys = history.column(column)
        ax.plot(epochs, ys, marker="o", label=label)
        values += ys
    fit_y_axis(ax, values, allow_log=log)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(
        title + (f" (diverged at epoch {history.diverged_at_epoch})" if history.diverged else "")
    )
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_history(
    history: History,
    loss_path: str | os.PathLike[str],
    accuracy_path: str | os.PathLike[str],
    *,
    title: str = "",
) -> None:
    """Draw the loss curves (log scale when they span more than :data:`LOG_SPAN`) and the
    accuracy curves of one run (a run without accuracies, of a loss problem, gets no
    accuracy figure); each y axis fitted to its curves."""
    fig = _curves(
        history,
        [("train_loss", "train"), ("val_loss", "validation")],
        "loss",
        title or "loss",
        log=True,
    )
    save_figure(fig, loss_path)
    if all(value is None for value in history.column("val_accuracy")):
        return
    fig = _curves(
        history,
        [("train_accuracy", "train"), ("val_accuracy", "validation")],
        "accuracy",
        title or "accuracy",
        log=False,
    )
    save_figure(fig, accuracy_path)
