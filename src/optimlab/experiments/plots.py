"""Figures of training runs (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from optimlab.io import atomic_open
from optimlab.train.history import History


def pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def colors(n: int) -> list:
    """``n`` distinct line colours (tab10, tab20 beyond ten; repeating beyond twenty)."""
    cmap = pyplot().get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def save_figure(fig, path: str | os.PathLike[str]) -> None:
    """Save ``fig`` as PNG atomically (temporary file, then rename) and close it."""
    plt = pyplot()
    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)


def _curves(
    history: History, columns: Sequence[tuple[str, str]], ylabel: str, title: str, *, log: bool
):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = history.column("epoch")
    for column, label in columns:
        ax.plot(epochs, history.column(column), marker="o", label=label)
    if log:
        ax.set_yscale("log")
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
    """Draw the loss curves (log scale) and the accuracy curves of one run (a run without
    accuracies, of a loss problem, gets no accuracy figure)."""
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
