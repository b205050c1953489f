"""``docs/seed-study.md``: the seed study's page, generated from its database.

Nothing on the page is typed by hand except the original's printed numbers
(:data:`~optimlab.experiments.studies.seed.ORIGINAL`) and the list of what
differs from it; every optimlab number, figure and verdict comes from
``OUT/results.db``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from optimlab.experiments.analysis import Cell, curve, tuned
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.plots import fit_y_axis, optimizer_colors, pyplot, save_figure
from optimlab.experiments.studies.seed import (
    FIXED_LR,
    ORIGINAL,
    UNMATCHED,
    drop_one_decade,
    load_cells,
    near_best,
    verdicts,
)
from optimlab.experiments.sweep_verdicts import MIRROR, sweep_verdicts
from optimlab.experiments.verdict_plots import plot_verdicts
from optimlab.io import atomic_write

#: Panels of the figures: families of optimizers.
FAMILIES: dict[str, tuple[str, ...]] = {
    "SGD, momentum, QHM": (
        "sgd", "momentum", "nesterov", "demon-momentum", "demon-nesterov", "qhm", "qhmw",
        "demon-qhm",
    ),
    "Adagrad, RMSprop, Adadelta": ("adagrad", "rmsprop", "adadelta"),
    "Adam, NAdam": ("adam", "adamw", "nadam", "nadamw", "demon-adam", "demon-adamw"),
    "Adamax, QHAdam": (
        "adamax", "adamaxw", "demon-adamax", "demon-adamaxw", "qhadam", "qhadamw",
        "demon-qhadam", "demon-qhadamw",
    ),
}  # fmt: skip

DATA_NOTE = {
    "fmnist-mlp": (
        "**The data set differs.** The original trained on MNIST; MNIST cannot be downloaded "
        "on the machine this page was made on, so this run uses Fashion-MNIST (same image "
        "size, same 10 classes, same 60,000/10,000 split), read from Debian's "
        "`dataset-fashion-mnist`. Fashion-MNIST is harder: a well-trained MLP reaches about "
        "89% instead of 98%, and the gaps between optimizers are larger. Absolute numbers "
        "cannot be compared with the original's; orderings and sensitivities can, with care. "
        "With the MNIST files in `~/.cache/optimlab/mnist/`, `optimlab study seed` runs on "
        "MNIST instead."
    ),
    "mnist-mlp": (
        "**The data set is the original's (MNIST).** The validation set is carved from the "
        "training set here, where the original validated on the test set."
    ),
}

DIFFERENCES = """\
- **Seeds.** 5 seeds per configuration instead of one; every number is a mean ± sample
  standard deviation, and "best" is decided by paired comparisons over seeds (the verdict
  engine: a bootstrap interval and a paired t-test, Holm-adjusted), not by one run.
- **Validation.** 10% of the official training set (6,000 images, the same split for every
  run) is held out for validation; the original validated on the test set.
- **Inputs.** Standardized with the training set's mean and standard deviation; the
  original divided by 255.
- **Momentum.** A constant 0.9; the original's SGDM and Nesterov started at 0.5 and
  multiplied it by 1.2 every epoch up to 0.99.
- **Adam's step counter** counts every step of the run; the original's restarted every
  epoch, so its bias correction restarted too.
- **Weight decay** is decoupled (`p <- p - lr * wd * p`, Loshchilov & Hutter), 0.01 for every
  W variant; the original added a tiny term (1e-5, decaying) to the denominator of the step.
- **Demon** decays the momentum at every step over the whole run, reaching 0 only at the
  last step; the original decayed it per epoch and ran the whole last epoch at 0.
- **QHM and QHAdam** use the values of their paper (QHM nu = 0.7, beta = 0.999; QHAdam
  nus = (0.7, 1.0)); the original passed the learning rate into nu, which made its QHM
  plain gradient descent (its QHM and SGD rows are identical) and its QHAdam almost Adam.
- **Adagrad, RMSprop, Adadelta** get their usual hyperparameters; in the original the
  learning rate landed on eps (Adagrad), the decay rate (RMSprop) and gamma (Adadelta).
- **DemonNAdam(W)** have no optimlab counterpart (Demon's running bias correction does not
  apply to NAdam's momentum schedule); demon-qhm and qhmw take their places, so the
  configurations are 25 as in the original.
"""


def _pct(stat, *, scale: float = 100.0, digits: int = 2) -> str:
    if not stat.n:
        return "-"
    spread = f" ± {scale * stat.std:.{digits}f}" if stat.std is not None else ""
    return f"{scale * stat.mean:.{digits}f}{spread}"


def _loss(stat) -> str:
    return _pct(stat, scale=1.0, digits=4)


def _diverged(cell: Cell | None) -> str:
    if cell is None or not cell.counts.get("diverged"):
        return ""
    return f" ({cell.counts['diverged']} of {cell.scored} diverged)"


def _table(order: Sequence[str], fixed: Mapping[str, Cell], choices: Mapping) -> list[str]:
    lines = [
        "| optimizer | original (1 seed) train loss | original val acc (%) "
        "| lr 1e-3: train loss | lr 1e-3: val acc (%) | tuned lr | tuned: train loss "
        "| tuned: val acc (%) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in order:
        original = ORIGINAL.get(name)
        o_loss, o_acc = (f"{original[1]:.4f}", f"{original[2]:.2f}") if original else ("-", "-")
        cell = fixed.get(name)
        choice = choices.get(name)
        t = choice.cell if choice is not None else None
        edge = f" ({choice.edge} of grid)" if choice is not None and choice.on_edge else ""
        lines.append(
            f"| {name} | {o_loss} | {o_acc} "
            f"| {_loss(cell.final_train_loss) if cell else '-'} "
            f"| {_pct(cell.final_val_accuracy) if cell else '-'}{_diverged(cell)} "
            f"| {f'{t.lr:g}' if t else '-'}{edge} "
            f"| {_loss(t.final_train_loss) if t else '-'} "
            f"| {_pct(t.final_val_accuracy) if t else '-'}{_diverged(t)} |"
        )
    for name, (loss, acc) in UNMATCHED.items():
        lines.append(f"| ({name}) | {loss:.4f} | {acc:.2f} | not run | | | | |")
    return lines


def _family_colors(colors: Mapping[str, str] | None) -> Mapping[str, str]:
    """The given colours, or each optimizer's by its place in :data:`FAMILIES`."""
    if colors is not None:
        return colors
    return optimizer_colors(n for names in FAMILIES.values() for n in names)


def plot_family_curves(
    cells: Mapping[str, Cell], column: str, ylabel: str, path: Path, *, log: bool, title: str,
    colors: Mapping[str, str] | None = None,
) -> None:  # fmt: skip
    """Mean (line) and ± one standard deviation (band) per epoch, one panel per family;
    ``colors``: each optimizer's (:func:`~optimlab.experiments.plots.optimizer_colors` of the
    study's list); the shared y axis fitted to every panel's curves (log when ``log`` and
    they span a wide range)."""
    colors = _family_colors(colors)
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True, sharey=True)
    values: list[float] = []
    for ax, (family, names) in zip(axes.flat, FAMILIES.items(), strict=True):
        present = [n for n in names if n in cells]
        for name in present:
            color = colors.get(name)
            points = curve(cells[name].runs, column)
            if not points:
                continue
            epochs = [e for e, _ in points]
            mean = [s.mean for _, s in points]
            std = [s.std or 0.0 for _, s in points]
            label = f"{name} (lr {cells[name].lr:g})"
            ax.plot(epochs, mean, color=color, label=label)
            low = [m - s for m, s in zip(mean, std, strict=True)]
            high = [m + s for m, s in zip(mean, std, strict=True)]
            values += [v for v in (*mean, *low, *high) if not log or v > 0]
            if log:
                low = [max(v, 1e-6) for v in low]
            ax.fill_between(epochs, low, high, color=color, alpha=0.2)
        ax.set_title(family)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fit_y_axis(axes[0, 0], values, allow_log=log)  # the axes share y
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    fig.suptitle(title)
    save_figure(fig, path)


def plot_sensitivity(
    by_optimizer: Mapping[str, Sequence[Cell]], path: Path,
    colors: Mapping[str, str] | None = None,
) -> None:  # fmt: skip
    """Mean final validation accuracy ± one standard deviation against the learning rate
    (``colors`` as in :func:`plot_family_curves`)."""
    colors = _family_colors(colors)
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True, sharey=True)
    for ax, (family, names) in zip(axes.flat, FAMILIES.items(), strict=True):
        present = [n for n in names if n in by_optimizer]
        for name in present:
            color = colors.get(name)
            cells = [c for c in sorted(by_optimizer[name], key=lambda c: c.lr)
                     if c.final_val_accuracy.n]  # fmt: skip
            ax.errorbar(
                [c.lr for c in cells],
                [100 * c.final_val_accuracy.mean for c in cells],
                yerr=[100 * (c.final_val_accuracy.std or 0.0) for c in cells],
                color=color, marker="o", capsize=3, label=name,
            )  # fmt: skip
        ax.axvline(FIXED_LR, color="k", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_title(family)
        ax.grid(True, alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("final validation accuracy (%)")
    for ax in axes[-1]:
        ax.set_xlabel("learning rate (dotted: the study's 1e-3)")
    fig.suptitle("Learning-rate sensitivity: mean over seeds, bars one standard deviation")
    save_figure(fig, path)


def _sensitivity_table(
    order: Sequence[str], by_optimizer: Mapping[str, Sequence[Cell]], choices: Mapping
) -> list[str]:
    lines = [
        "| optimizer | best lr | points lost one decade away | rates within 1 point of the best |",
        "|---|---:|---:|---:|",
    ]
    for name in order:
        cells = by_optimizer.get(name, [])
        choice = choices.get(name)
        if choice is None or choice.cell is None:  # no scored run
            continue
        scored = sum(1 for c in cells if c.final_val_accuracy.n)
        drop = drop_one_decade(cells)
        lost = "-" if drop is None else f"{100 * drop:.1f}"
        lines.append(f"| {name} | {choice.lr:g} | {lost} | {near_best(cells)} of {scored} |")
    return lines


def write_page(
    out: str | os.PathLike[str],
    page: str | os.PathLike[str],
    *,
    command: str = "optimlab study seed",
) -> Path:
    """Write the page ``page`` and its figures (``<page stem>/*.png`` beside it) from ``out``.

    Raises ``FileNotFoundError`` when ``OUT/results.db`` does not exist.
    """
    cells, settings = load_cells(out)
    page = Path(page)
    figures = page.with_suffix("")
    figures.mkdir(parents=True, exist_ok=True)
    saved = Path(out) / "config.toml"  # the sweep as last run: its optimizers in order
    names = {c.optimizer for c in cells}
    listed = SweepConfig.from_toml(saved).optimizers if saved.is_file() else []
    order = [n for n in listed if n in names] + sorted(names - set(listed))
    problem = str(settings.get("problem") or "fmnist-mlp")
    fixed = {c.optimizer: c for c in cells if math.isclose(c.lr, FIXED_LR)}
    by_optimizer: dict[str, list[Cell]] = {}
    for cell in cells:
        by_optimizer.setdefault(cell.optimizer, []).append(cell)
    choices = tuned(cells)
    tuned_cells = {n: c.cell for n, c in choices.items() if c.cell is not None}
    judged = verdicts(cells)
    ranked = sweep_verdicts(cells, tune=True)
    colors = optimizer_colors([*listed, *order])  # the study's order, as its sweep's report
    plot_verdicts(ranked, figures, colors=colors)

    plot_family_curves(fixed, "train_loss", "training loss (mean over the epoch)",
                       figures / "loss_fixed_lr.png", log=True, colors=colors,
                       title="Training loss at the study's learning rate 1e-3")  # fmt: skip
    plot_family_curves(fixed, "val_accuracy", "validation accuracy",
                       figures / "val_accuracy_fixed_lr.png", log=False, colors=colors,
                       title="Validation accuracy at the study's learning rate 1e-3")  # fmt: skip
    plot_family_curves(tuned_cells, "val_accuracy", "validation accuracy",
                       figures / "val_accuracy_tuned_lr.png", log=False, colors=colors,
                       title="Validation accuracy at each optimizer's tuned rate")  # fmt: skip
    plot_sensitivity(by_optimizer, figures / "lr_sensitivity.png", colors)

    runs = sum(len(c.runs) for c in cells)
    done = sum(c.counts.get("done", 0) for c in cells)
    diverged = sum(c.counts.get("diverged", 0) for c in cells)
    unfinished = runs - done - diverged
    hours = sum(r.seconds for c in cells for r in c.runs) / 3600
    seeds = sorted({r.seed for c in cells for r in c.runs})
    grid = sorted({c.lr for c in cells})
    rel = figures.name
    text = [
        "# The from-scratch study, re-run with five seeds",
        "",
        f"*Generated by `{command}` from `{Path(out) / 'results.db'}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; do not edit by hand.*",
        "",
        "optimlab grew out of a well-known from-scratch NumPy study "
        "([timvvvht/Neural-Networks-and-Optimizers-from-scratch]"
        "(https://github.com/timvvvht/Neural-Networks-and-Optimizers-from-scratch)): a "
        "784-128-64-10 ReLU network, He-normal initialisation, batch 128, 20 epochs, "
        "learning rate 1e-3 for every optimizer, one seed, 25 optimizer configurations. "
        "This page re-runs it with the defects fixed and "
        f"{len(seeds)} seeds, on the same log grid of rates for every optimizer "
        f"({', '.join(f'{lr:g}' for lr in grid)}), and checks its three conclusions.",
        "",
        DATA_NOTE.get(problem, f"Problem: `{problem}`."),
        "",
        f"The sweep: problem `{problem}`, {len(order)} optimizers x {len(grid)} rates x "
        f"{len(seeds)} seeds = {runs} runs; {done} finished, {diverged} diverged"
        + (
            f", **{unfinished} not finished yet** (the numbers below are partial)"
            if unfinished
            else ""
        )
        + f". Training time summed over runs: {hours:.1f} h (one BLAS thread per run).",
        "",
        "## The three conclusions",
        "",
    ]
    for v in judged:
        text += [f"- **{v.claim}: {v.verdict}.** {v.evidence}", ""]
    if ranked.groups:
        group = ranked.groups[0]
        first = next(iter(group.cells))
        versus = {o: MIRROR[v] for o, v, _ in ranked.against(first, group)}
        equal = [o for o, v in versus.items() if v == "equivalent"]
        open_ = [o for o, v in versus.items() if v == "undetermined"]
        worse = [o for o, v in versus.items() if v == "worse"]
        made = sum(c.p is not None for c in ranked.comparisons)
        text += [
            "Ranked at each optimizer's tuned rate by its best epoch's validation accuracy "
            f"(the report's ranking, with its verdicts: every pair paired by seed, Holm over "
            f"the {made} comparisons, ROPE ±{100 * ranked.rope:g} points), {first} comes "
            f"first ({_pct(group.cells[first].best_val_accuracy)}%). Equivalent to it: "
            f"{', '.join(equal) or 'none'}. Undetermined against it: "
            f"{', '.join(open_) or 'none'}. Worse than it: {', '.join(worse) or 'none'}.",
            "",
            f"![Verdicts at the tuned rates]({rel}/verdicts.png)",
            "",
        ]
    text += [
        "## The original's numbers beside optimlab's",
        "",
        "Final training loss (mean minibatch loss of the last epoch) and final validation "
        "accuracy, mean ± standard deviation over seeds. *Tuned*: the rate of the grid with "
        "the best mean final validation accuracy (a rate on the edge of the grid is marked). "
        "A diverged run counts at chance accuracy (10%) and has no training loss.",
        "",
        *_table(order, fixed, choices),
        "",
        "## Curves",
        "",
        f"![Training loss at lr 1e-3]({rel}/loss_fixed_lr.png)",
        "",
        f"![Validation accuracy at lr 1e-3]({rel}/val_accuracy_fixed_lr.png)",
        "",
        f"![Validation accuracy at the tuned rates]({rel}/val_accuracy_tuned_lr.png)",
        "",
        "## Learning-rate sensitivity",
        "",
        f"![Learning-rate sensitivity]({rel}/lr_sensitivity.png)",
        "",
        "Points of mean final validation accuracy lost one decade away from each optimizer's "
        "best rate (the mean over the neighbours the grid has), and how many rates of the "
        "grid come within one point of the best (the width of the good range):",
        "",
        *_sensitivity_table(order, by_optimizer, choices),
        "",
        "## What differs from the original",
        "",
        DIFFERENCES,
        "## Reproduce",
        "",
        "```sh",
        "optimlab study seed                 # runs or resumes the sweep, then writes this page",
        "optimlab study seed --page-only     # rewrites the page from the database as it is",
        "```",
        "",
        "The sweep is `examples/seed_study.toml` (the same as `optimlab compare --config "
        "examples/seed_study.toml --out results/seed-study`); like any sweep it can be killed "
        "and resumed, and `optimlab report results/seed-study` gives its full report.",
        "",
    ]
    atomic_write(page, lambda f: f.write("\n".join(text)))
    return page
