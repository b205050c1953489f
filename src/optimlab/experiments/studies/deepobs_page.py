"""``docs/deepobs.md``: the DeepOBS study's page, generated from its databases.

Nothing on the page is typed by hand except DeepOBS's published numbers
(:data:`~optimlab.experiments.studies.deepobs.PUBLISHED_2C2D`,
:data:`~optimlab.experiments.studies.deepobs.PUBLISHED_QUADRATIC`) and the list of what
differs from DeepOBS's setup; every optimlab number and figure comes from
``OUT/<problem>/results.db``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from optimlab.experiments.analysis import Cell, curve, summarize, sweep_settings, tuned
from optimlab.experiments.plots import fit_y_axis, optimizer_colors, pyplot, save_figure
from optimlab.experiments.stats import Stat
from optimlab.experiments.store import Store
from optimlab.experiments.studies.deepobs import (
    CHECKPOINTS,
    PROBLEMS,
    PUBLISHED_2C2D,
    PUBLISHED_QUADRATIC,
)
from optimlab.experiments.sweep_verdicts import sweep_verdicts
from optimlab.io import atomic_write

#: The study's optimizers in its order, one colour each in every figure of the page.
COLORS = optimizer_colors(("sgd", "momentum", "adam"))
#: What differs from DeepOBS's fmnist_2c2d runs, and could move the numbers.
DIFFERENCES_2C2D = (
    "DeepOBS 1.1 (which made the baselines) trained on all 60,000 training images and had no "
    "validation set; optimlab holds out 6,000 for validation (tuning never sees the test "
    "set) and trains on 54,000, so an epoch here has 422 steps instead of 468.",
    "DeepOBS drops the last partial batch everywhere and so tests on 9,984 of the 10,000 "
    "test images; optimlab tests on all 10,000.",
    "DeepOBS shuffles through a 20,000-image buffer; optimlab permutes the whole training "
    "set each epoch.",
    "Same architecture, initialisation (truncated normal 0.05, biases 0.05), input scaling "
    "(/255), batch size, optimizers and rates; TensorFlow 1 in float32 there, NumPy in "
    "float32 here.",
    "DeepOBS's means are over the 2 of its 10 seeds stored in the index this project could "
    "read; optimlab's over its own seeds.",
)


def _cells(folder: Path) -> tuple[list[Cell], dict] | None:
    db = folder / "results.db"
    if not db.is_file():
        return None
    with Store(db, readonly=True) as store:
        return summarize(store), sweep_settings(store)


def _at_epoch(cell: Cell, column: str, epoch: int) -> Stat:
    values = [r.epochs[epoch - 1][column] for r in cell.runs if len(r.epochs) >= epoch]
    return Stat(tuple(float(v) for v in values if v is not None))


def _mean_sd(stat: Stat, scale: float = 100.0, digits: int = 2) -> str:
    if not stat.n:
        return "—"
    sd = f" ± {scale * stat.std:.{digits}f}" if stat.std is not None else ""
    return f"{scale * stat.mean:.{digits}f}{sd} (n={stat.n})"


def _consistent(ours: Stat, theirs: Sequence[float]) -> str:
    """Whether DeepOBS's seeds and optimlab's could be one distribution: the difference of
    the means within two standard errors (each side's sample spread)."""
    published = Stat(tuple(theirs))
    if ours.n < 2 or published.n < 2:
        return "—"
    se = math.sqrt((ours.std or 0.0) ** 2 / ours.n + (published.std or 0.0) ** 2 / published.n)
    diff = ours.mean - published.mean
    word = "within noise" if abs(diff) <= 2 * se else ("higher" if diff > 0 else "lower")
    return f"{100 * diff:+.2f} ({word}; 2 s.e. = {200 * se:.2f})"


def _section_2c2d(folder: Path, figures: Path) -> tuple[list[str], list[str]]:
    """The page's fmnist-2c2d section and the note's lines."""
    loaded = _cells(folder)
    if loaded is None:
        return ["*Not run yet.*", ""], []
    cells, _ = loaded
    by_name = {c.optimizer: c for c in cells}
    seeds, epochs = _runs_and_epochs(cells)
    text = [
        f"optimlab: each optimizer at DeepOBS's published tuned rate, seeds "
        f"{', '.join(map(str, seeds))}, {epochs} epochs so far (of the protocol's 100; an "
        "epoch of this network takes about 100 s per worker on two cores). Test accuracy "
        "after each epoch, in percent, mean ± standard deviation over seeds; DeepOBS: its "
        "two stored seeds and their mean.",
        "",
        "| optimizer | rate | epoch | optimlab | DeepOBS seeds | DeepOBS mean | optimlab − "
        "DeepOBS (points) |",
        "|---|---|---|---|---|---|---|",
    ]
    note = []
    beyond: list[str] = []
    compared = 0
    for name, published in PUBLISHED_2C2D.items():
        cell = by_name.get(name)
        for epoch in CHECKPOINTS:
            theirs = [v[epoch] for v in published["seeds"].values()]
            ours = _at_epoch(cell, "test_accuracy", epoch) if cell else Stat(())
            mean_t = sum(theirs) / len(theirs)
            rate = f"{cell.lr:.3g}" if cell else "—"
            verdict = _consistent(ours, theirs)
            text.append(
                f"| {name} | {rate} | {epoch} | {_mean_sd(ours)} | "
                f"{', '.join(f'{100 * v:.2f}' for v in theirs)} | {100 * mean_t:.2f} | "
                f"{verdict} |"
            )
            if verdict != "—":
                compared += 1
                if "within noise" not in verdict:
                    beyond.append(f"{name} after epoch {epoch} ({verdict.split(' (')[0]} points)")
            if ours.n:
                note.append(f"{name} epoch {epoch}: optimlab {100 * ours.mean:.2f}% "
                            f"(n={ours.n}) vs DeepOBS {100 * mean_t:.2f}%")  # fmt: skip
    text.append("")
    if compared:
        text += [
            f"**What matches:** {compared - len(beyond)} of {compared} comparisons lie within "
            "two standard errors of the difference (each side's seed-to-seed spread; "
            "DeepOBS's from two seeds, so the bound is itself rough)."
            + (f" **Beyond it:** {'; '.join(beyond)}. With two and three seeds a few of a "
               "dozen such comparisons are expected to fall outside by chance; the "
               "differences listed below are the candidates for a systematic gap (fewer "
               "training images and steps per epoch here would make optimlab *slower* per "
               "epoch, not faster)." if beyond else ""),
            "",
        ]  # fmt: skip
    _plot_2c2d(by_name, figures / "fmnist_2c2d_test_accuracy.png")
    text += [f"![fmnist-2c2d test accuracy]({figures.name}/fmnist_2c2d_test_accuracy.png)", "",
             "What differs from DeepOBS's runs:", ""]  # fmt: skip
    text += [f"- {d}" for d in DIFFERENCES_2C2D] + [""]
    return text, note


def _plot_2c2d(by_name: dict[str, Cell], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted: list[float] = []
    for name, published in PUBLISHED_2C2D.items():
        color = COLORS.get(name, "C3")
        cell = by_name.get(name)
        if cell is not None:
            points = curve(cell.runs, "test_accuracy")
            x = [e for e, _ in points]
            ax.plot(x, [s.mean for _, s in points], color=color, marker="o", markersize=3,
                    label=f"{name} optimlab ({cell.scored} seeds)")  # fmt: skip
            ax.fill_between(x, [s.min for _, s in points], [s.max for _, s in points],
                            color=color, alpha=0.2)  # fmt: skip
            plotted += [v for _, s in points for v in (s.min, s.max)]
        for i, values in enumerate(published["seeds"].values()):
            shown = [(e, v) for e, v in values.items() if 1 <= e <= 10]
            ax.plot([e for e, _ in shown], [v for _, v in shown], linestyle="none", marker="x",
                    color=color, label=f"{name} DeepOBS (2 seeds)" if i == 0 else None)  # fmt: skip
            plotted += [v for _, v in shown]
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    fit_y_axis(ax, plotted)
    _finish(
        fig,
        path,
        "fmnist-2c2d at DeepOBS's tuned rates: optimlab (mean, band = min-max "
        "over seeds) and DeepOBS's published runs (x)",
    )


def _finish(fig, path: Path, title: str) -> None:
    ax = fig.axes[0]
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def _runs_and_epochs(cells: Sequence[Cell]) -> tuple[list[int], int]:
    """The seeds of the cells' runs and the most epochs any run has."""
    seeds = sorted({r.seed for c in cells for r in c.runs})
    return seeds, max((len(r.epochs) for c in cells for r in c.runs), default=0)


def _section_quadratic(folder: Path, figures: Path) -> list[str]:
    loaded = _cells(folder)
    if loaded is None:
        return ["*Not run yet.*", ""]
    cells, _ = loaded
    chosen = _first_stage_choice(cells)
    grid = sorted({c.lr for c in cells})
    _, epochs = _runs_and_epochs(cells)
    at_best = sorted({c.scored for c in chosen.values()})
    elsewhere = sorted({c.scored for c in cells} - set(at_best)) or at_best
    text = [
        f"DeepOBS's protocol, as stored: a grid of {len(grid)} rates with "
        f"{'/'.join(map(str, elsewhere))} seed(s), each optimizer's best rate (lowest final "
        f"validation loss) with {'/'.join(map(str, at_best))} seeds; {epochs} epochs (DeepOBS: "
        "36 rates, one seed, then ten at the best; 100 epochs). The loss is "
        "1/2 (θ − x)ᵀ Q (θ − x) averaged over the 1,000 test "
        "samples (its floor, at θ = their mean, is about 86.9); DeepOBS picked the rate on "
        "its test loss, optimlab on the validation loss (a third noise sample, seed 44).",
        "",
        "| optimizer | rate (optimlab) | rate (DeepOBS) | final test loss, optimlab | "
        "DeepOBS (seed: final test loss) |",
        "|---|---|---|---|---|",
    ]
    for name, published in PUBLISHED_QUADRATIC.items():
        cell = chosen.get(name)
        theirs = ", ".join(f"{s}: {v[1]:.3f}" for s, v in published["seeds"].items())
        ours = _mean_sd(cell.test, 1.0, 3) if cell else "—"
        rate = f"{cell.lr:.3g}" if cell else "—"
        text.append(f"| {name} | {rate} | {published['lr']:.3g} | {ours} | {theirs} |")
    text.append("")
    _plot_quadratic(cells, figures / "quadratic_deep_grid.png")
    text += [f"![quadratic-deep grid]({figures.name}/quadratic_deep_grid.png)", ""]
    return text


def _first_stage_choice(cells: Sequence[Cell]) -> dict[str, Cell]:
    """Per optimizer, the cell the protocol's first stage picks: the lowest final validation
    loss of its seed-0 run (the second stage re-runs that rate with more seeds; choosing
    again on the mixed seed counts would favour a lucky single seed)."""
    chosen: dict[str, Cell] = {}
    for cell in cells:
        first = [r.score for r in cell.runs if r.seed == 0 and r.score is not None]
        if not first:
            continue
        value = cell.metric.sign() * first[0]
        best = chosen.get(cell.optimizer)
        if best is None or value > cell.metric.sign() * next(
            r.score for r in best.runs if r.seed == 0
        ):
            chosen[cell.optimizer] = cell
    return chosen


def _plot_quadratic(cells: Sequence[Cell], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in PUBLISHED_QUADRATIC:
        own = sorted((c for c in cells if c.optimizer == name and c.test.n), key=lambda c: c.lr)
        finite = [c for c in own if c.counts.get("diverged", 0) < c.scored]
        if finite:
            ax.plot([c.lr for c in finite], [c.test.mean for c in finite], marker="o",
                    markersize=3, color=COLORS[name], label=f"{name} (optimlab)")  # fmt: skip
        ax.axvline(PUBLISHED_QUADRATIC[name]["lr"], color=COLORS[name], linestyle=":",
                   linewidth=1)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate (dotted: DeepOBS's tuned rate)")
    ax.set_ylabel("final test loss (diverged rates left out)")
    _finish(fig, path, "quadratic-deep: final test loss after 100 epochs against the rate")


def _section_baseline(folder: Path, problem: str) -> list[str]:
    loaded = _cells(folder)
    if loaded is None:
        return ["*Not run yet.*", ""]
    cells, _ = loaded
    choices = tuned(cells)
    seeds, epochs = _runs_and_epochs(cells)
    text = [
        f"{len(seeds)} seeds, {epochs} epochs, {len({c.lr for c in cells})} rates of DeepOBS's "
        "grid in all; each optimizer at the rate with the best mean final validation "
        "accuracy. Test accuracy at that rate (never used to choose it), percent.",
        "",
        "| optimizer | grid | tuned rate | final val accuracy | test accuracy | diverged |",
        "|---|---|---|---|---|---|",
    ]
    for name, choice in choices.items():
        cell = choice.cell
        if cell is None:
            continue
        where = "edge of the grid" if choice.on_edge else "inside the grid"
        text.append(
            f"| {name} | {', '.join(f'{lr:.3g}' for lr in choice.grid)} | {cell.lr:.3g} "
            f"({where}) | {_mean_sd(cell.final_val)} | {_mean_sd(cell.test)} | "
            f"{cell.counts.get('diverged', 0)} of {cell.scored} |"
        )
    text.append("")
    result = (
        sweep_verdicts(cells, tune=True, metric="test") if any(c.test.n for c in cells) else None
    )
    if result is not None and result.groups:
        group = result.groups[0]
        text += ["Verdicts on test accuracy at the tuned rates (paired by seed, Holm-adjusted; "
                 f"ROPE {100 * result.rope:g} points):", ""]  # fmt: skip
        text += [f"- {result.sentence(name, group)}" for name in group.cells] + [""]
    return text


def write_page(
    out: str | os.PathLike[str], page: str | os.PathLike[str], *,
    command: str = "optimlab study deepobs",
) -> tuple[Path, list[str]]:  # fmt: skip
    """Write ``page`` and its figures (``<page stem>/*.png``) from ``OUT/<problem>/``; returns
    the page and the lines comparing fmnist-2c2d's test accuracy with DeepOBS's."""
    out, page = Path(out), Path(page)
    figures = page.with_suffix("")
    figures.mkdir(parents=True, exist_ok=True)
    found = [p for p in PROBLEMS if (out / p / "results.db").is_file()]
    hours = 0.0
    for problem in found:
        cells, _ = _cells(out / problem)  # type: ignore[misc]
        hours += sum(r.seconds for c in cells for r in c.runs) / 3600
    section, note = _section_2c2d(out / "fmnist-2c2d", figures)
    text = [
        "# DeepOBS's problems, re-run beside its published baselines",
        "",
        f"*Generated by `{command}` from `{out}/<problem>/results.db` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; do not edit by hand.*",
        "",
        "DeepOBS (Schneider, Balles & Hennig, ICLR 2019) specifies its test problems exactly "
        "and publishes the runs of its baselines: SGD, momentum (heavy ball, 0.99) and Adam, "
        "tuned on the grid 10^(−5 + k/5), k = 0..35, with one seed, the best final setting "
        "re-run with ten seeds. optimlab builds the problems as DeepOBS's TensorFlow code "
        "does (`optimlab compare --list-problems` says where each choice comes from) and runs "
        "the protocol as far as two CPU cores allow. Training time summed over the runs on "
        f"this page: {hours:.1f} h.",
        "",
        "## fmnist-2c2d",
        "",
        *section,
        "## quadratic-deep",
        "",
        *_section_quadratic(out / "quadratic-deep", figures),
        "## fmnist-deepmlp: a first multi-seed baseline",
        "",
        "DeepOBS published no baseline for `fmnist_mlp` (784-1000-500-100-10 ReLU).",
        "",
        *_section_baseline(out / "fmnist-deepmlp", "fmnist-deepmlp"),
        "## fmnist-logreg-deepobs: a first multi-seed baseline",
        "",
        "DeepOBS published no baseline for `fmnist_logreg` (zero-initialised, 50 epochs).",
        "",
        *_section_baseline(out / "fmnist-logreg-deepobs", "fmnist-logreg-deepobs"),
    ]
    atomic_write(page, lambda f: f.write("\n".join(text).rstrip() + "\n"))
    return page, note
