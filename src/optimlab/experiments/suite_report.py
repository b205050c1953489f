"""The report of a suite: ``OUT/report.md``, ``OUT/report.html`` and ``OUT/suite.json``.

Read from the problems' stores (``OUT/<problem>/results.db``):

* time to each problem's target per optimizer, in steps, epochs and seconds: the
  median over the final seeds of the configuration the protocol chose (AlgoPerf:
  the median over studies of each study's best trial); never reached is infinite;
* performance profiles over the problems (:mod:`optimlab.experiments.profiles`),
  in steps and in seconds, with bootstrap bands over seeds (``profiles.png``);
* AlgoPerf's integrated score per optimizer;
* each problem's verdicts (its own verdict matrix and sentences);
* the tuned hyperparameters and the budget spent per problem.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import summarize
from optimlab.experiments.plots import optimizer_colors
from optimlab.experiments.profiles import R_MAX, ProfileBand, bootstrap_profiles, median_time
from optimlab.experiments.protocol_report import ProtocolSummary, protocol_summary, setting_text
from optimlab.experiments.report import to_html, to_markdown
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_verdicts import DEFAULT_CONFIDENCE, DEFAULT_METRIC, store_verdicts
from optimlab.experiments.verdict_plots import CAPTION as VERDICT_CAPTION
from optimlab.io import atomic_write

Block = tuple[Any, ...]
MEASURES = ("steps", "epochs", "seconds")
#: The profiles drawn: optimizer steps (what the protocol counts) and wall-clock seconds.
PROFILE_MEASURES = ("steps", "seconds")
PROFILES = "profiles.png"
DRAWS = 1000


@dataclass(frozen=True)
class ProblemResult:
    """One problem of the suite: its protocol summary, verdicts and per-seed times."""

    problem: str
    summary: ProtocolSummary
    verdicts: Any
    #: times[measure][optimizer]: per final seed (or per study), inf = never reached.
    times: dict[str, dict[str, list[float]]]
    target: float | None


def problem_times(summary: ProtocolSummary, cells: Sequence[Any]) -> dict[str, dict[str, list]]:
    """Per measure and optimizer, the times to target the suite compares (see the module
    docstring): per final seed of the chosen configuration, or per study (AlgoPerf)."""
    chosen = {c.optimizer: c for c in cells if c.chosen}
    found: dict[str, dict[str, list[float]]] = {m: {} for m in MEASURES}
    for name, choice in summary.choices.items():
        for measure in MEASURES:
            if summary.plan.select == "time":
                values = [_time_of(b.summary if b else None, measure) for b in choice.study_best]
            else:
                cell = chosen.get(name)
                runs = [r for r in cell.runs if r.status in ("done", "diverged")] if cell else []
                values = [_time_of(r, measure) for r in runs]
            found[measure][name] = values
    return found


def _time_of(run: Any, measure: str) -> float:
    if run is None:
        return math.inf
    value = {"steps": run.steps_to_target, "epochs": run.epochs_to_target,
             "seconds": run.seconds_to_target}[measure]  # fmt: skip
    return math.inf if value is None else float(value)


def read_results(problems: Sequence[str], out: Path, **options: Any) -> list[ProblemResult]:
    """Every problem's results, read only (``StoreError`` for a missing store)."""
    results = []
    for problem in problems:
        db = out / problem / "results.db"
        with Store(db, readonly=True) as store:
            cells = summarize(store)
            summary = protocol_summary(store, cells)
            if summary is None:
                raise ValueError(f"{db}: not a tuning protocol's sweep")
            verdicts = store_verdicts(store, **options)
        results.append(ProblemResult(problem, summary, verdicts, problem_times(summary, cells),
                                     summary.metric.target))  # fmt: skip
    return results


def write_suite_report(
    suite: Any,
    out: str | os.PathLike[str],
    *,
    metric: str = DEFAULT_METRIC,
    rope: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write ``report.md``, ``report.html``, ``suite.json`` and ``profiles.png`` into
    ``out`` from the problems' stores ``out/<problem>/``."""
    out = Path(out)
    results = read_results(suite.problems, out, metric=metric, rope=rope, confidence=confidence)
    bands = {m: bootstrap_profiles({r.problem: r.times[m] for r in results}, draws=DRAWS,
                                   seed=seed) for m in PROFILE_MEASURES}  # fmt: skip
    optimizers = sorted({o for r in results for o in r.summary.choices})
    # The configured order, as each problem's report colours them (see optimizer_colors).
    configured = [o for config in getattr(suite, "sweeps", ()) for o in config.optimizers]
    colors = optimizer_colors([*configured, *optimizers])
    _plot_profiles(bands, colors, out / PROFILES, len(results))
    blocks = suite_blocks(suite, results, bands, optimizers, out)
    atomic_write(out / "suite.json", lambda f: f.write(json.dumps(
        suite_record(suite, results, bands), indent=2, allow_nan=False) + "\n"))  # fmt: skip
    md, html = out / "report.md", out / "report.html"
    atomic_write(md, lambda f: f.write(to_markdown(blocks)))
    atomic_write(html, lambda f: f.write(to_html(blocks, out)))
    return md, html


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def suite_record(
    suite: Any, results: Sequence[ProblemResult], bands: Mapping[str, Mapping[str, ProfileBand]]
) -> dict[str, Any]:
    """``suite.json``: per problem and optimizer the median times (null: never), and per
    measure the integrated scores with their bands."""
    return {
        "suite": suite.name,
        "protocol": results[0].summary.plan.record() if results else None,
        "problems": {
            r.problem: {
                "target": r.target,
                "times": {m: {o: _finite(median_time(v)) for o, v in r.times[m].items()}
                          for m in MEASURES},
                "seeds": {o: len(v) for o, v in r.times["steps"].items()},
            }
            for r in results
        },
        "scores": {
            m: {o: {"score": b.score, "low": b.score_low, "high": b.score_high}
                for o, b in found.items()}
            for m, found in bands.items()
        },
        "r_max": R_MAX,
    }  # fmt: skip


# -- blocks ---------------------------------------------------------------------------
def suite_blocks(
    suite: Any, results: Sequence[ProblemResult],
    bands: Mapping[str, Mapping[str, ProfileBand]], optimizers: Sequence[str], out: Path,
) -> list[Block]:  # fmt: skip
    plan = results[0].summary.plan if results else None
    items = [f"Problems: {', '.join(r.problem for r in results)}",
             f"Optimizers: {', '.join(optimizers)}"]  # fmt: skip
    if plan is not None:
        items.append(plan.describe())
    for config in suite.sweeps:
        items.append(
            f"{config.problem}: {config.epochs} epochs, batch {config.batch_size}"
            + (f", first {config.train_subset} training examples" if config.train_subset else "")
            + f"; target {_target_words(next(r for r in results if r.problem == config.problem))}"
        )
    blocks: list[Block] = [
        ("h", 1, f"Benchmark report: suite {suite.name}"),
        ("p", suite.description or f"The suite {suite.name} ({suite.path})."),
        ("ul", items),
        *_time_table(results, optimizers),
        ("h", 2, "Performance profiles"),
        ("p", f"ρ(τ): the share of the {len(results)} problems on which an optimizer reaches "
              "the target within τ times the fastest optimizer's time (Dolan and Moré 2002, as "
              "AlgoPerf draws them), τ from 1 to 4; a problem an optimizer never solves counts "
              f"against it at every τ. Bands: {DRAWS} bootstrap draws of the seeds behind each "
              "time, 90%."),
        ("img", "Performance profiles (steps and seconds to target)", PROFILES,
         "One step curve per optimizer and measure (band: 90% bootstrap); the higher and "
         "further left a curve, the more problems the optimizer solves close to the fastest, "
         "and its height at τ = 1 is the share of problems on which it is the fastest."),
        ("h", 2, "Integrated score"),
        ("p", "AlgoPerf's benchmark score: the area under the profile from 1 to 4 over 3 "
              "(1 = fastest on every problem, 0 = never within 4 times the fastest), with its "
              "90% bootstrap interval."),
        ("table", ["optimizer", *(f"score ({m})" for m in PROFILE_MEASURES)],
         [[o, *(_score(bands[m].get(o)) for m in PROFILE_MEASURES)] for o in optimizers]),
    ]  # fmt: skip
    blocks += _verdict_blocks(results, out)
    blocks += _tuned_blocks(results)
    return blocks


def _target_words(result: ProblemResult) -> str:
    metric = result.summary.metric
    if result.target is None:
        return "none"
    if metric.is_accuracy:
        return f"{100 * result.target:.1f}% validation accuracy"
    return f"validation {metric.name} {result.target:g}"


def _time_table(results: Sequence[ProblemResult], optimizers: Sequence[str]) -> list[Block]:
    rows = []
    for r in results:
        row = [r.problem]
        for o in optimizers:
            steps = r.times["steps"].get(o)
            if steps is None:
                row.append("—")
                continue
            reached = sum(math.isfinite(v) for v in steps)
            median = {m: median_time(r.times[m][o]) for m in MEASURES}
            if math.isinf(median["steps"]):
                row.append(f"never ({reached} of {len(steps)})")
            else:
                row.append(f"{median['steps']:.0f} steps ({median['epochs']:.0f} epochs, "
                           f"{median['seconds']:.1f} s; {reached} of {len(steps)})")  # fmt: skip
        rows.append(row)
    per = ("studies" if results and results[0].summary.plan.select == "time"
           else "final seeds")  # fmt: skip
    return [
        ("h", 2, "Time to target"),
        ("p", f"Median over the {per} of the configuration each optimizer's tuning chose (the "
              "first epoch whose validation value reached the problem's target; 'k of n': how "
              "many reached it). Seconds are training time on this machine, shared by the "
              "workers: compare them within one run only."),
        ("table", ["problem", *optimizers], rows),
    ]  # fmt: skip


def _score(band: ProfileBand | None) -> str:
    if band is None:
        return "—"
    return f"{band.score:.3f} [{band.score_low:.3f}, {band.score_high:.3f}]"


def _verdict_blocks(results: Sequence[ProblemResult], out: Path) -> list[Block]:
    blocks: list[Block] = [
        ("h", 2, "Verdicts per problem"),
        ("p", "Each problem's optimizers at their tuned configurations, compared pairwise on "
              "the final seeds by the verdict engine (paired by seed, Holm-adjusted within the "
              "problem); the full tables are in each problem's report."),
    ]  # fmt: skip
    for r in results:
        blocks.append(("h", 3, r.problem))
        group = r.verdicts.groups[0] if r.verdicts.groups else None
        if group is None:
            blocks.append(("p", "No optimizer has a scored run yet."))
            continue
        blocks.append(("ul", [r.verdicts.sentence(name, group) for name in group.cells]))
        if (out / r.problem / "verdicts.png").is_file():
            blocks.append(("img", f"Verdict matrix of {r.problem}", f"{r.problem}/verdicts.png",
                           VERDICT_CAPTION))  # fmt: skip
        blocks.append(("p", f"Report: {r.problem}/report.md"))
    return blocks


def _tuned_blocks(results: Sequence[ProblemResult]) -> list[Block]:
    rows, spent_rows = [], []
    for r in results:
        s = r.summary
        for name, choice in s.choices.items():
            trial = choice.chosen
            config = s.configs.get(trial.run_id, {}) if trial else {}
            shown = [k for k in s.searched(name) if k != "lr"]
            drawn = ", ".join(f"{k}={setting_text(config, k)}" for k in shown)
            rows.append(
                [
                    r.problem,
                    name,
                    "—" if trial is None else f"{config.get('lr', float('nan')):.4g}",
                    drawn or "—",
                    "—" if trial is None else f"{trial.study}/{trial.trial}",
                ]
            )
            b = s.spent.get(name)
            if b is not None:
                spent_rows.append([r.problem, name, str(b.trials), str(b.finals), str(b.epochs),
                                   f"{b.seconds:.1f}"])  # fmt: skip
    return [
        ("h", 2, "Tuned hyperparameters"),
        ("p", "The configuration chosen per problem and optimizer (on validation), and the "
              "study/trial it came from."),
        ("table", ["problem", "optimizer", "lr", "other hyperparameters", "study/trial"], rows),
        ("h", 2, "Budget spent"),
        ("table", ["problem", "optimizer", "trials", "final runs", "epochs", "seconds"],
         spent_rows),
    ]  # fmt: skip


# -- figure -------------------------------------------------------------------------------
def _plot_profiles(
    bands: Mapping[str, Mapping[str, ProfileBand]], colors: Mapping[str, str], path: Path,
    problems: int,
) -> None:  # fmt: skip
    from optimlab.experiments.plots import REPORT_DPI, pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, len(bands), figsize=(6 * len(bands), 4.2), squeeze=False)
    for ax, (measure, found) in zip(axes[0], bands.items(), strict=True):
        for name, band in found.items():
            ax.step(band.taus, band.rho, where="post", color=colors.get(name),
                    label=f"{name} (score {band.score:.2f})")  # fmt: skip
            ax.fill_between(band.taus, band.low, band.high, step="post",
                            color=colors.get(name), alpha=0.15)  # fmt: skip
        ax.set_xlim(1.0, R_MAX)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"τ (ratio to the fastest, {measure} to target)")
        ax.set_ylabel(f"share of the {problems} problems")
        ax.set_title(f"Performance profile, {measure}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path, dpi=REPORT_DPI)
