"""The report's sections for a tuning protocol: the protocol and its budget, the search
spaces, every trial, the configurations chosen, and expected-best-of-k curves.

:func:`protocol_summary` reads a store once; :func:`protocol_blocks` turns the summary
into report blocks (see :mod:`optimlab.experiments.report`), and
:func:`plot_best_of_k` draws ``best_of_k.png``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import Cell, run_summaries, sweep_metric, sweep_settings
from optimlab.experiments.metric import Metric
from optimlab.experiments.protocol import PRESETS, Plan
from optimlab.experiments.protocol_results import (
    BestOfK,
    Choice,
    Spent,
    choose,
    expected_best_of_k,
    spent,
)
from optimlab.experiments.store import Store

Block = tuple[Any, ...]
BEST_OF_K = "best_of_k.png"
#: The run settings a trial may draw besides its hyperparameters.
RUN_SETTINGS = ("schedule", "warmup")


@dataclass(frozen=True)
class ProtocolSummary:
    """A protocol sweep read from its store."""

    plan: Plan
    metric: Metric
    choices: dict[str, Choice]
    spaces: dict[str, dict[str, Any]]
    spent: dict[str, Spent]
    best_of_k: dict[str, BestOfK]
    configs: dict[str, dict[str, Any]]

    def searched(self, optimizer: str) -> list[str]:
        """The names its search space draws (not its fixed entries)."""
        return [k for k, v in self.spaces.get(optimizer, {}).items() if _drawn(v)]


def _drawn(form: Any) -> bool:
    if isinstance(form, dict):
        return True
    return isinstance(form, list) and any(_drawn(v) for v in form)


def protocol_summary(store: Store, cells: Sequence[Cell]) -> ProtocolSummary | None:
    """The protocol of ``store`` and what it found; ``None`` for a grid sweep."""
    settings = sweep_settings(store)
    record = settings.get("protocol")
    if not isinstance(record, dict):
        return None
    plan = Plan.from_record(record)
    metric = sweep_metric(store)
    summaries = run_summaries(store, metric)
    configs = {r["run_id"]: json.loads(r["config"]) for r in store.runs()}
    choices = choose(plan, store.trials(), summaries, metric.sign())
    chosen_cells = {c.optimizer: c for c in cells if c.chosen}
    budget = {
        name: spent(choice, chosen_cells[name].runs if name in chosen_cells else ())
        for name, choice in choices.items()
    }
    curves = {}
    for name, choice in choices.items():
        values = [t.score for t in choice.trials if t.score is not None]
        if values:
            found = expected_best_of_k(values, metric.higher_is_better)
            curves[name] = BestOfK(name, found.k, found.mean, found.std, found.low, found.high)
    spaces = settings.get("search_spaces")
    spaces = spaces if isinstance(spaces, dict) else {}
    return ProtocolSummary(plan, metric, choices, spaces, budget, curves, configs)


# -- blocks ---------------------------------------------------------------------------
def protocol_blocks(summary: ProtocolSummary, cells: Sequence[Cell]) -> list[Block]:
    """The protocol, its budget and search spaces, the trials and the tuned configurations."""
    return [*_protocol(summary), *_trials(summary), *_tuned(summary, cells)]


def _protocol(summary: ProtocolSummary) -> list[Block]:
    plan = summary.plan
    preset = PRESETS.get(plan.protocol)
    text = plan.describe()
    if preset is not None:
        text += f" After {preset.source}: {preset.note}"
    text += (
        " Every optimizer gets the same number of trials, each trained for the same number of "
        "epochs; every trial is a stored run (resumable; a larger budget reuses the trials "
        "already run)."
    )
    blocks: list[Block] = [("h", 2, "Tuning protocol"), ("p", text)]
    rows = []
    for name in summary.choices:
        for key, form in summary.spaces.get(name, {}).items():
            rows.append([name, key, _space_words(form)])
    if rows and plan.kind == "quasi-random":
        blocks += [("p", "Search spaces (the sweep's fixed hyperparameters are not searched):"),
                   ("table", ["optimizer", "hyperparameter", "drawn from"], rows)]  # fmt: skip
    rows = [
        [name, str(s.trials), str(s.finals), str(s.epochs), f"{s.seconds:.1f}"]
        for name, s in summary.spent.items()
    ]
    blocks += [
        ("p", "Budget spent per optimizer (trials and final re-runs that ended; epochs and "
              "seconds of training over all of them, a run counted once):"),
        ("table", ["optimizer", "trials", "final runs", "epochs", "seconds"], rows),
    ]  # fmt: skip
    return blocks


def _space_words(form: Any) -> str:
    from optimlab.optim import search

    return search.describe(search.parse_entry("search space", "value", form))


def _trials(summary: ProtocolSummary) -> list[Block]:
    metric = summary.metric
    kind = "pct" if metric.is_accuracy else "loss"
    blocks: list[Block] = [
        ("h", 2, "Trials"),
        ("p", f"Every trial at seed {summary.plan.trial_seed}, in the order drawn; its final "
              f"validation {metric.name} is what the protocol compares"
              + (" (and its steps to the target)" if summary.plan.select == "time" else "")
              + ". ★: the trial chosen; ☆: the best of its study."),
    ]  # fmt: skip
    for name, choice in summary.choices.items():
        searched = summary.searched(name)
        shown = [k for k in searched if k != "lr"]
        headers = [*(["study"] if summary.plan.studies > 1 else []), "trial", "lr", *shown,
                   "status", f"final val {metric.name}", "steps to target"]  # fmt: skip
        rows = []
        bests = {id(b) for b in choice.study_best if b is not None}
        for t in choice.trials:
            config = summary.configs.get(t.run_id, {})
            mark = " ★" if t is choice.chosen else (" ☆" if id(t) in bests else "")
            values = [setting_text(config, k) for k in shown]
            s = t.summary
            rows.append([
                *([str(t.study)] if summary.plan.studies > 1 else []), f"{t.trial}{mark}",
                f"{config.get('lr', float('nan')):.4g}", *values,
                s.status if s else "not stored",
                _value(t.score, kind), "—" if t.steps_to_target is None else str(t.steps_to_target),
            ])  # fmt: skip
        blocks += [("h", 3, name), ("table", headers, rows)]
    return blocks


def setting_text(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key) if key in RUN_SETTINGS else config.get("hyperparameters", {}).get(key)
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return _short(value)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def _value(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.2f}%" if kind == "pct" else f"{value:.4f}"


def _tuned(summary: ProtocolSummary, cells: Sequence[Cell]) -> list[Block]:
    metric = summary.metric
    kind = "pct" if metric.is_accuracy else "loss"
    chosen = {c.optimizer: c for c in cells if c.chosen}
    rows = []
    for name, choice in summary.choices.items():
        trial = choice.chosen
        if trial is None:
            rows.append([name, "—", "no trial finished yet", "—", "—", "—", "—"])
            continue
        config = summary.configs.get(trial.run_id, {})
        drawn = ", ".join(f"{k}={setting_text(config, k)}" for k in summary.searched(name)
                          if k != "lr")  # fmt: skip
        cell = chosen.get(name)
        final = _stat(cell.final_val, kind) if cell else "—"
        test = _stat(cell.test, kind) if cell else "—"
        where = f"study {trial.study}, trial {trial.trial}" if summary.plan.studies > 1 else (
            f"trial {trial.trial}")  # fmt: skip
        time = _time_words(choice) if summary.plan.select == "time" else (
            _stat(cell.steps_to_target, "n") if cell else "—")  # fmt: skip
        rows.append([name, f"lr={config.get('lr', float('nan')):.4g}"
                     + (f", {drawn}" if drawn else ""), where, _value(trial.score, kind),
                     final, test, time])  # fmt: skip
    seeds = ", ".join(map(str, summary.plan.final_seeds)) or "none: the trial alone"
    time_header = ("median steps to target over studies" if summary.plan.select == "time"
                   else "steps to target (final seeds)")  # fmt: skip
    headers = ["optimizer", "configuration", "chosen", f"trial's final val {metric.name} "
               "(chose it)", f"final val {metric.name}, final seeds", f"test {metric.name}, "
               "final seeds", time_header]  # fmt: skip
    return [
        ("h", 2, "Tuned configurations"),
        ("p", f"The configuration the protocol chose per optimizer, on validation only, and "
              f"its re-runs at the final seeds ({seeds}): mean ± sd over them. The test "
              f"{metric.name} was not used to choose anything. The ranking and verdicts below "
              "compare these re-runs."),
        ("table", headers, rows),
    ]  # fmt: skip


def _stat(stat: Any, kind: str) -> str:
    if not stat.n:
        return "—"
    if kind == "n":
        return f"{stat.mean:.0f}" + (f" ± {stat.std:.0f}" if stat.std is not None else "")
    scale, unit, digits = (100.0, "%", 2) if kind == "pct" else (1.0, "", 4)
    text = f"{scale * stat.mean:.{digits}f}{unit}"
    return text + (f" ± {scale * stat.std:.{digits}f}" if stat.std is not None else "") + (
        f" (n={stat.n})")  # fmt: skip


def _time_words(choice: Choice) -> str:
    value = choice.time_to_target("steps")
    reached = sum(1 for b in choice.study_best if b is not None and b.steps_to_target is not None)
    shown = "never" if math.isinf(value) else f"{value:.0f}"
    return f"{shown} ({reached} of {len(choice.study_best)} studies reach it)"


def best_of_k_caption(summary: ProtocolSummary) -> str:
    return (
        f"Expected best final validation {summary.metric.name} after k trials (Dodge et al., "
        "'Show Your Work', EMNLP 2019: k trials drawn with replacement from those run), band "
        "± one standard deviation of that best. A curve that reaches its plateau at small k "
        "belongs to an optimizer that is easy to tune; one still climbing at the full budget "
        "would gain from more trials."
    )


# -- figure -------------------------------------------------------------------------------
def plot_best_of_k(summary: ProtocolSummary, out: Path, colors: Mapping[str, str]) -> Path | None:
    """``best_of_k.png``: one curve per optimizer, in its ``colors`` entry
    (:func:`~optimlab.experiments.plots.optimizer_colors`); the y axis fitted to the
    curves (log for a loss spanning a wide range); ``None`` when no trial is scored."""
    if not summary.best_of_k:
        return None
    from optimlab.experiments.plots import REPORT_DPI, fit_y_axis, pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    scale = 100.0 if summary.metric.is_accuracy else 1.0
    values: list[float] = []
    for name, curve in summary.best_of_k.items():
        values += [scale * v for v in (*curve.low, *curve.mean, *curve.high)]
        color = colors.get(name)
        ax.plot(curve.k, [scale * m for m in curve.mean], marker="o", color=color, label=name)
        ax.fill_between(curve.k, [scale * v for v in curve.low], [scale * v for v in curve.high],
                        color=color, alpha=0.2)  # fmt: skip
    ax.set_xlabel("trials k")
    unit = " (%)" if summary.metric.is_accuracy else ""
    ax.set_ylabel(f"expected best val {summary.metric.name}{unit}")
    fit_y_axis(ax, values, allow_log=not summary.metric.is_accuracy)
    ax.set_title("Expected best of k trials")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    path = out / BEST_OF_K
    save_figure(fig, path, dpi=REPORT_DPI)
    return path
