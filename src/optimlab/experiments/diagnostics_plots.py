"""Figures of the per-layer step diagnostics (:mod:`optimlab.train.diagnostics`).

One small-multiple figure per diagnostic, ``diagnostics-<name>.png``: a panel per layer
(in the model's order), the epoch on x, one line per optimizer, each point the mean over
that optimizer's runs of the epoch's value (runs where it is undefined, NaN, left out).
The RMS quantities and their ratios span decades and are drawn on a log axis; the
cosine and the sign agreement on a linear one, with their reference values (0 and 1;
chance, 0.5) marked.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from optimlab.experiments.plots import colors as default_colors
from optimlab.experiments.plots import pyplot, save_figure
from optimlab.train.diagnostics import DIAGNOSTIC_DESCRIPTIONS, DIAGNOSTIC_NAMES

#: Drawn on a log y axis: the RMS quantities and their ratios.
LOG_SCALE = frozenset(DIAGNOSTIC_NAMES[:5])

LABELS = {
    "grad_rms": "RMS of the gradient",
    "update_rms": "RMS of the update",
    "weight_rms": "RMS of the weights",
    "update_to_weight": "update-to-weight ratio",
    "effective_lr": "effective learning rate",
    "cosine": "cosine(update, -gradient)",
    "sign_agreement": "sign agreement of update and -gradient",
}

#: ``{name: {layer: {optimizer: (epochs, means)}}}``
Curves = dict[str, dict[str, dict[str, tuple[list[int], list[float]]]]]


def diagnostic_curves(rows_by_optimizer: Mapping[str, Sequence[Mapping]]) -> Curves:
    """The curves the figures draw: for each diagnostic, layer and optimizer, the epochs
    and the mean over the optimizer's rows at each (NaN values left out; NaN if all are).

    Each row holds ``epoch``, ``layer``, ``name`` and ``value`` (the rows of
    :class:`~optimlab.train.diagnostics.DiagnosticsRecorder`, of one run or several); the
    diagnostics come in :data:`DIAGNOSTIC_NAMES` order (others after them), the layers and
    optimizers in the order first seen.
    """
    sums: dict[tuple[str, str, str], dict[int, list[float]]] = {}
    names: dict[str, None] = {}
    for optimizer, rows in rows_by_optimizer.items():
        for row in rows:
            name, layer = str(row["name"]), str(row["layer"])
            names.setdefault(name)
            total = sums.setdefault((name, layer, optimizer), {}).setdefault(
                int(row["epoch"]), [0.0, 0]
            )
            value = float(row["value"])
            if value == value:  # not NaN
                total[0] += value
                total[1] += 1
    order = [n for n in DIAGNOSTIC_NAMES if n in names] + [
        n for n in names if n not in DIAGNOSTIC_NAMES
    ]
    curves: Curves = {name: {} for name in order}
    for (name, layer, optimizer), by_epoch in sums.items():
        epochs = sorted(by_epoch)
        means = [s / c if c else math.nan for s, c in (by_epoch[e] for e in epochs)]
        curves[name].setdefault(layer, {})[optimizer] = (epochs, means)
    return curves


def diagnostic_figure(
    name: str,
    by_layer: Mapping[str, Mapping[str, tuple[Sequence[int], Sequence[float]]]],
    colors: Mapping[str, object],
):
    """The figure of one diagnostic: one panel (axes) per layer of ``by_layer``
    (``{layer: {optimizer: (epochs, means)}}``), one line per optimizer coloured by
    ``colors``; ``len(fig.axes)`` is the number of layers."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    layers = list(by_layer)
    columns = min(4, len(layers))
    rows = math.ceil(len(layers) / columns)
    fig, grid = plt.subplots(
        rows, columns, figsize=(3.4 * columns, 2.8 * rows + 0.6), squeeze=False
    )
    axes = grid.ravel()
    for ax in axes[len(layers) :]:
        fig.delaxes(ax)
    log = name in LOG_SCALE
    for ax, layer in zip(axes, layers, strict=False):
        positive = False
        for optimizer, (epochs, means) in by_layer[layer].items():
            if log:  # a log axis cannot show 0; a gap says "not positive here"
                means = [m if m > 0 and math.isfinite(m) else math.nan for m in means]
                positive = positive or any(m == m for m in means)
            ax.plot(epochs, means, marker="o", ms=3, color=colors[optimizer], label=optimizer)
        if log and positive:
            ax.set_yscale("log")
        if name == "cosine":
            ax.axhline(0.0, color="grey", lw=0.8, ls=":")
            ax.axhline(1.0, color="grey", lw=0.8, ls="--")
        elif name == "sign_agreement":
            ax.axhline(0.5, color="grey", lw=0.8, ls=":")
            ax.set_ylim(-0.03, 1.03)
        ax.set_title(layer, fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(True, alpha=0.3)
    for index in range(max(0, len(layers) - columns), len(layers)):  # each column's lowest
        axes[index].set_xlabel("epoch")
    handles, labels = axes[0].get_legend_handles_labels()
    # beside the panels, outside them (save_figure's tight bounding box takes it in)
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.9), fontsize=8)
    fig.suptitle(LABELS.get(name, name))
    # fixed margins: tight_layout would double the time of a figure
    fig.subplots_adjust(wspace=0.35, hspace=0.45, top=1 - 0.6 / (2.8 * rows + 0.6))
    return fig


def caption(name: str) -> str:
    """One sentence saying how to read ``diagnostics-<name>.png``."""
    scale = "log" if name in LOG_SCALE else "linear"
    what = DIAGNOSTIC_DESCRIPTIONS.get(name, name)
    return (
        f"{LABELS.get(name, name)} against the epoch, one panel per layer and one line per "
        f"optimizer (the mean over its runs), on a {scale} axis: {what}"
    )


def plot_diagnostics(
    rows_by_optimizer: Mapping[str, Sequence[Mapping]],
    folder: str | os.PathLike[str],
    *,
    colors: Mapping[str, object] | None = None,
) -> list[tuple[Path, str]]:
    """Write ``diagnostics-<name>.png`` for each diagnostic in the rows.

    Parameters
    ----------
    rows_by_optimizer : mapping of str to sequence of rows
        Per optimizer, the rows (``epoch``, ``layer``, ``name``, ``value``) of its runs.
    folder : path-like
        Where the figures go (created when missing); each is written atomically.
    colors : mapping of str to colour, optional
        A colour per optimizer (the same in every figure of a report); by default
        :func:`optimlab.experiments.plots.colors` in the order of ``rows_by_optimizer``.

    Returns
    -------
    list of (Path, str)
        Each figure and its caption, in :data:`DIAGNOSTIC_NAMES` order; empty without rows.
    """
    optimizers = list(rows_by_optimizer)
    if colors is None:
        colors = dict(zip(optimizers, default_colors(len(optimizers)), strict=True))
    missing = [o for o in optimizers if o not in colors]
    if missing:
        raise ValueError(
            f"plot_diagnostics: colors must give a colour for every optimizer; received none "
            f"for {', '.join(map(repr, missing))}"
        )
    curves = diagnostic_curves(rows_by_optimizer)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, by_layer in curves.items():
        path = out / f"diagnostics-{name}.png"
        save_figure(diagnostic_figure(name, by_layer, colors), path)
        written.append((path, caption(name)))
    return written
