"""What a sweep measured: scores per run, statistics per (optimizer, rate), tuning.

Pure functions over the rows of a :class:`~optimlab.experiments.store.Store`
(no plotting, no matplotlib).

Rules
-----
Scored runs
    Only runs that finished training are scored: ``done`` and ``diverged``.
    A ``failed`` run (an error) or a ``pending`` / ``running`` one has no score;
    it is counted in :attr:`Cell.counts` and listed separately by the report.
The metric
    Every score is the problem's metric (:class:`~optimlab.experiments.metric.Metric`):
    validation accuracy, higher is better, for a classifier; validation loss,
    lower is better, for an autoencoder or a quadratic. Below, "best" means the
    metric's direction.
Diverged runs
    A diverged run's weights are NaN and predict a constant class, so its
    *final* validation accuracy (the tuning score) is chance, ``1 / num_classes``
    (a loss problem: its declared ``worst`` loss). It is counted at that score
    in every mean, never dropped: dropping it would make an unstable rate look
    as good as its lucky seeds. Its *best* validation value is the better of
    that score and the best of the epochs it finished. Its final training loss
    is infinite, so the training-loss statistics cover ``done`` runs only
    (:attr:`Cell.counts` says how many diverged). When the number of classes
    is unknown, chance is taken as 0.
Statistics over seeds
    Mean and sample standard deviation (``ddof=1``; none with a single value).
Tuning
    Per optimizer, the rate with the best mean final validation value (ties:
    the smaller rate). An optimum at the smallest or largest rate of a grid of
    two or more rates is *on the edge*: the best rate may lie outside the grid.
    The test value at the rate chosen is reported beside, never used to choose.
Ranking and verdicts
    :mod:`optimlab.experiments.sweep_verdicts`: every pair of optimizers,
    paired by seed, with Holm's adjustment (the engine is
    :mod:`optimlab.experiments.verdicts`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optimlab.experiments.metric import Metric
from optimlab.experiments.stats import Stat
from optimlab.experiments.store import STATUSES, Store, StoreError

SCORED = ("done", "diverged")


# -- the store ------------------------------------------------------------------------
def results_db(source: str | os.PathLike[str]) -> Path:
    """``OUT/results.db`` for an output folder ``OUT``; a file path as it is.

    ``StoreError`` (creating nothing) when there is no such database.
    """
    path = Path(source)
    db = path / "results.db" if path.is_dir() else path
    if not db.is_file():
        raise StoreError(
            f"{source}: no results database here (expected a sweep's folder holding "
            "results.db, written by optimlab compare)"
        )
    return db


def sweep_settings(store: Store) -> dict[str, Any]:
    """The settings table, JSON-decoded where possible, with typed well-known keys.

    ``num_classes`` becomes an ``int``, ``target_accuracy`` a ``float`` and
    ``tune`` a ``bool`` when they parse; otherwise they are left out.
    """
    settings: dict[str, Any] = {}
    for key, text in store.settings().items():
        try:
            settings[key] = json.loads(text)
        except ValueError:
            settings[key] = text
    for key, kind in (("num_classes", int), ("target_accuracy", float), ("target", float),
                      ("worst", float)):  # fmt: skip
        try:
            settings[key] = kind(settings[key])
        except (KeyError, TypeError, ValueError):
            settings.pop(key, None)
    if isinstance(settings.get("tune"), str):
        settings["tune"] = settings["tune"].strip().lower() in ("true", "1", "yes")
    return settings


def run_config(run: Mapping[str, Any]) -> dict[str, Any]:
    """The run's ``config`` column decoded (an empty dict when missing or unreadable)."""
    try:
        config = json.loads(run.get("config") or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def chance_accuracy(num_classes: int | None) -> float:
    """``1 / num_classes``; 0 (the lowest accuracy) when the number of classes is unknown."""
    return 1.0 / num_classes if num_classes else 0.0


def final_score(
    run: Mapping[str, Any], epochs: Sequence[Mapping[str, Any]], metric: Metric,
    split: str = "val",
) -> float | None:  # fmt: skip
    """The tuning score of a run: the metric of its last epoch on ``split``.

    A ``diverged`` run scores ``metric.worst`` (chance accuracy, or a loss
    problem's worst loss; for ``split="test"`` only when the store measured a
    test value at all): it counts in every mean at that score, never dropped. A
    ``failed``, ``pending`` or ``running`` run, or a ``done`` run without that
    value at its last epoch, has no score (``None``).
    """
    column = metric.column(split)
    if run["status"] == "diverged":
        if split != "val" and not any(e.get(column) is not None for e in epochs):
            return None
        return metric.worst
    if run["status"] != "done" or not epochs:
        return None
    last = max(epochs, key=lambda e: e["epoch"])
    return last.get(column)


def final_val_accuracy(
    run: Mapping[str, Any], epochs: Sequence[Mapping[str, Any]], num_classes: int | None
) -> float | None:
    """:func:`final_score` of an accuracy problem (a diverged run: ``1 / num_classes``)."""
    return final_score(run, epochs, Metric(worst=chance_accuracy(num_classes)))


@dataclass(frozen=True)
class RunSummary:
    """One run reduced to the numbers the report needs (``epochs``: its epoch rows).

    ``best_val``, ``score`` (the final validation value) and ``test_score`` (the
    last epoch's test value) are in the problem's metric; ``epochs_to_target``,
    ``steps_to_target`` and ``seconds_to_target`` say when the validation value
    first reached the target.
    """

    run_id: str
    optimizer: str
    lr: float
    seed: int
    status: str
    error: str | None
    diverged_at: int | None
    final_train_loss: float | None
    best_val: float | None
    score: float | None
    epochs_to_target: int | None
    seconds: float
    epochs: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    #: The last epoch's test value (the metric's worst when diverged); None without one.
    test_score: float | None = None
    steps_to_target: int | None = None
    seconds_to_target: float | None = None

    @property
    def best_val_accuracy(self) -> float | None:
        """``best_val`` (its name from when every problem was a classifier)."""
        return self.best_val

    @property
    def test_accuracy(self) -> float | None:
        """``test_score`` (its name from when every problem was a classifier)."""
        return self.test_score


def summarize_run(
    run: Mapping[str, Any],
    epochs: Sequence[Mapping[str, Any]],
    num_classes: int | None,
    target_accuracy: float | None,
    metric: Metric | None = None,
) -> RunSummary:
    """Score one run (see the module docstring for the rules).

    ``metric`` defaults to accuracy with chance ``1 / num_classes`` and target
    ``target_accuracy``.
    """
    if metric is None:
        metric = Metric(target=target_accuracy, worst=chance_accuracy(num_classes))
    rows = tuple(dict(e) for e in sorted(epochs, key=lambda e: e["epoch"]))
    scored = run["status"] in SCORED
    column = metric.column("val")
    val = [e[column] for e in rows if e.get(column) is not None]
    best = metric.best(val) if val and scored else None
    if run["status"] == "diverged":
        best = metric.worst if best is None else metric.best((best, metric.worst))
    reached = None
    if scored and metric.target is not None:
        reached = next(
            (e for e in rows if e.get(column) is not None and metric.reached(e[column])), None
        )
    elapsed = 0.0
    seconds_to = None
    for e in rows:
        elapsed += float(e.get("seconds") or 0.0)
        if reached is not None and e is reached:
            seconds_to = elapsed
    return RunSummary(
        run_id=run["run_id"],
        optimizer=run["optimizer"],
        lr=float(run["lr"]),
        seed=int(run["seed"]),
        status=run["status"],
        error=run.get("error"),
        # Divergence is detected inside an epoch, which is not stored.
        diverged_at=(rows[-1]["epoch"] + 1 if rows else 1) if run["status"] == "diverged" else None,
        final_train_loss=rows[-1]["train_loss"] if rows and run["status"] == "done" else None,
        best_val=best,
        score=final_score(run, rows, metric),
        epochs_to_target=None if reached is None else reached["epoch"],
        seconds=float(run.get("seconds") or 0.0),
        epochs=rows,
        test_score=final_score(run, rows, metric, "test"),
        steps_to_target=None if reached is None else reached.get("steps"),
        seconds_to_target=seconds_to,
    )


@dataclass(frozen=True)
class Cell:
    """One (optimizer, learning rate) with its seeds' runs and their statistics.

    ``final_train_loss`` covers ``done`` runs; the others cover scored runs
    (``done`` and ``diverged``), diverged ones at the metric's worst;
    ``epochs_to_target`` (and the steps and seconds) cover the runs that
    reached the target (``reached`` of ``scored``). ``best_val``, ``final_val``
    and ``test`` are in the problem's metric.
    """

    optimizer: str
    lr: float
    runs: tuple[RunSummary, ...]
    metric: Metric
    counts: dict[str, int]
    final_train_loss: Stat
    best_val: Stat
    final_val: Stat
    test: Stat
    epochs_to_target: Stat
    steps_to_target: Stat
    seconds_to_target: Stat
    seconds: Stat
    #: A protocol's cell: its configuration (the runs' config without the seed), whether
    #: it is the optimizer's chosen one, and the protocol's name. A grid's: empty, None.
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)
    chosen: bool = False
    protocol: str | None = None

    @property
    def scored(self) -> int:
        return self.counts["done"] + self.counts["diverged"]

    @property
    def reached(self) -> int:
        return self.epochs_to_target.n

    # The names from when every problem was a classifier:
    @property
    def chance(self) -> float:
        return self.metric.worst

    @property
    def target_accuracy(self) -> float | None:
        return self.metric.target

    @property
    def best_val_accuracy(self) -> Stat:
        return self.best_val

    @property
    def final_val_accuracy(self) -> Stat:
        return self.final_val


def make_cell(
    runs: Sequence[RunSummary], chance: float | Metric, target_accuracy: float | None = None
) -> Cell:
    """Aggregate the runs of one (optimizer, lr) over seeds.

    ``chance`` is the sweep's :class:`Metric` (or, for an accuracy problem, chance
    accuracy with ``target_accuracy``).
    """
    metric = chance if isinstance(chance, Metric) else Metric(target=target_accuracy, worst=chance)
    scored = [r for r in runs if r.status in SCORED]

    def stat(values: Iterable[float | None]) -> Stat:
        return Stat(tuple(float(v) for v in values if v is not None))

    return Cell(
        optimizer=runs[0].optimizer,
        lr=runs[0].lr,
        runs=tuple(sorted(runs, key=lambda r: (r.seed, r.run_id))),
        metric=metric,
        counts={s: sum(r.status == s for r in runs) for s in STATUSES},
        final_train_loss=stat(r.final_train_loss for r in scored),
        best_val=stat(r.best_val for r in scored),
        final_val=stat(r.score for r in scored),
        test=stat(r.test_score for r in scored),
        epochs_to_target=stat(r.epochs_to_target for r in scored),
        steps_to_target=stat(r.steps_to_target for r in scored),
        seconds_to_target=stat(r.seconds_to_target for r in scored),
        seconds=stat(r.seconds for r in scored),
    )


def sweep_metric(
    store: Store, *, num_classes: int | None = None, target: float | None = None
) -> Metric:
    """The metric a store's sweep is judged by (its settings; ``num_classes`` and
    ``target`` override them)."""
    settings = sweep_settings(store)
    if num_classes is not None:
        settings["num_classes"] = num_classes
    metric = Metric.from_settings(settings)
    if num_classes is not None and metric.is_accuracy:
        metric = Metric(metric.name, metric.direction, metric.target, chance_accuracy(num_classes))
    if target is not None:
        metric = Metric(metric.name, metric.direction, target, metric.worst)
    return metric


def summarize(
    store: Store, *, num_classes: int | None = None, target_accuracy: float | None = None
) -> list[Cell]:
    """One :class:`Cell` per (optimizer, lr) of the store, sorted by optimizer then rate.

    The metric, its target (``target_accuracy`` overrides it, in the metric's
    units) and, for a classifier, ``num_classes`` come from the store's settings.
    """
    metric = sweep_metric(store, num_classes=num_classes, target=target_accuracy)
    summaries = run_summaries(store, metric)
    protocol = sweep_settings(store).get("protocol")
    if isinstance(protocol, dict):
        return _protocol_cells(store, summaries, metric, protocol)
    groups: dict[tuple[str, float], list[RunSummary]] = {}
    for summary in summaries.values():
        groups.setdefault((summary.optimizer, summary.lr), []).append(summary)
    _one_configuration_per_cell(store)
    return [make_cell(groups[key], metric) for key in sorted(groups)]


def run_summaries(store: Store, metric: Metric) -> dict[str, RunSummary]:
    """Every run of the store scored by ``metric``, by run id, in the store's order."""
    by_run: dict[str, list[dict[str, Any]]] = {}
    for row in store.epochs():
        by_run.setdefault(row["run_id"], []).append(row)
    return {
        r["run_id"]: summarize_run(r, by_run.get(r["run_id"], []), None, None, metric)
        for r in store.runs()
    }


def without_seed(run: Mapping[str, Any]) -> dict[str, Any]:
    """A run's configuration without its seed: what the seeds of one cell share."""
    return {k: v for k, v in run_config(run).items() if k != "seed"}


def _protocol_cells(
    store: Store, summaries: Mapping[str, RunSummary], metric: Metric,
    record: Mapping[str, Any],
) -> list[Cell]:  # fmt: skip
    """A protocol's cells: one per configuration (a trial with its seeds), the chosen
    one per optimizer holding the final seeds (the trial itself when there are none)."""
    from optimlab.experiments.protocol import Plan
    from optimlab.experiments.protocol_results import choose

    plan = Plan.from_record(record)
    runs = store.runs()
    choices = choose(plan, store.trials(), summaries, metric.sign())
    chosen_ids = {c.chosen.run_id for c in choices.values() if c.chosen is not None}
    # The plan's runs only: its trials, and the chosen configurations at any seed (the
    # final seeds are picked below); runs of an earlier budget or kind stay out.
    current = {t.run_id for c in choices.values() for t in c.trials}
    chosen_configs = {json.dumps(without_seed(r), sort_keys=True)
                      for r in runs if r["run_id"] in chosen_ids}  # fmt: skip
    groups: dict[tuple[str, float, str], list[RunSummary]] = {}
    configs: dict[tuple[str, float, str], dict[str, Any]] = {}
    chosen_keys = set()
    for r in runs:
        if r["run_id"] not in current and (
            json.dumps(without_seed(r), sort_keys=True) not in chosen_configs
        ):
            continue
        config = without_seed(r)
        key = (r["optimizer"], float(r["lr"]), json.dumps(config, sort_keys=True))
        groups.setdefault(key, []).append(summaries[r["run_id"]])
        configs[key] = config
        if r["run_id"] in chosen_ids:
            chosen_keys.add(key)
    cells = []
    for key in sorted(groups):
        members = groups[key]
        chosen = key in chosen_keys
        if chosen and plan.final_seeds:
            members = [m for m in members if m.seed in plan.final_seeds] or members
        cell = make_cell(members, metric)
        cells.append(replace(cell, config=configs[key], chosen=chosen, protocol=plan.protocol))
    return cells


def _one_configuration_per_cell(store: Store) -> None:
    """``StoreError`` if two runs of one (optimizer, lr) differ in more than their seed.

    ``optimlab compare`` refuses to add such runs; a store made before it did
    may hold them, and averaging them as seeds would be wrong.
    """
    seen: dict[tuple[str, float], dict[str, Any]] = {}
    for run in store.runs():
        config = {k: v for k, v in json.loads(run["config"]).items() if k != "seed"}
        key = (run["optimizer"], float(run["lr"]))
        first = seen.setdefault(key, config)
        if first != config:
            differ = sorted(k for k in set(first) | set(config) if first.get(k) != config.get(k))
            raise StoreError(
                f"{store.path}: {key[0]} at lr={key[1]:g} holds runs of two configurations "
                f"(they differ in {', '.join(differ)}), which are not seeds of one setting; "
                "the store was made before optimlab compare refused such runs: rerun each "
                "setting into its own --out"
            )


# -- tuning ---------------------------------------------------------------------
@dataclass(frozen=True)
class TunedChoice:
    """The rate ``--tune`` picks for one optimizer and where it sits in the grid.

    ``cell`` is ``None`` (and ``index``, ``lr`` too) when no rate has a scored
    run yet. ``untuned``: the grid has a single rate. ``on_edge``: the optimum
    is the smallest or largest rate of a grid of two or more rates.
    """

    optimizer: str
    grid: tuple[float, ...]
    cell: Cell | None
    index: int | None
    #: The tuning protocol that chose ``cell`` (None: the rate of a grid).
    protocol: str | None = None

    @property
    def lr(self) -> float | None:
        return None if self.cell is None else self.cell.lr

    @property
    def untuned(self) -> bool:
        return len(self.grid) == 1 and self.protocol is None

    @property
    def on_edge(self) -> bool:
        return (
            self.protocol is None and self.index is not None and len(self.grid) >= 2
            and self.index in (0, len(self.grid) - 1)
        )  # fmt: skip

    @property
    def edge(self) -> str | None:
        """``"smallest"`` or ``"largest"`` when on the edge, else ``None``."""
        if not self.on_edge:
            return None
        return "smallest" if self.index == 0 else "largest"


def tuned(cells: Iterable[Cell]) -> dict[str, TunedChoice]:
    """Per optimizer, the rate with the best mean final validation value (the metric's
    direction; ties: the smaller rate). A protocol's cells: the cell it chose (on its
    trials, one seed each), holding the final seeds."""
    by_optimizer: dict[str, list[Cell]] = {}
    for cell in cells:
        by_optimizer.setdefault(cell.optimizer, []).append(cell)
    choices = {}
    for optimizer in sorted(by_optimizer):
        grid_cells = sorted(by_optimizer[optimizer], key=lambda c: c.lr)
        protocol = grid_cells[0].protocol
        if protocol is not None:  # chosen by the protocol, on its first stage
            chosen = next((c for c in grid_cells if c.chosen), None)
            choices[optimizer] = TunedChoice(
                optimizer, tuple(c.lr for c in grid_cells), chosen,
                None if chosen is None else grid_cells.index(chosen), protocol,
            )  # fmt: skip
            continue
        candidates = [(i, c) for i, c in enumerate(grid_cells) if c.final_val.n]
        best = max(
            candidates,
            key=lambda ic: (ic[1].metric.sign() * ic[1].final_val.mean, -ic[1].lr),
            default=None,
        )
        choices[optimizer] = TunedChoice(
            optimizer=optimizer,
            grid=tuple(c.lr for c in grid_cells),
            cell=None if best is None else best[1],
            index=None if best is None else best[0],
        )
    return choices


def curve(runs: Iterable[RunSummary], column: str) -> list[tuple[int, Stat]]:
    """Per epoch, the values of ``column`` over the runs that have that epoch.

    A diverged run stops at its last finished epoch, so later epochs average
    the remaining seeds only. ``column`` is an epoch column or
    ``"cumulative_seconds"`` (the wall-clock time up to the end of the epoch;
    unknown from the first epoch without a time). NULL values are skipped.
    """
    by_epoch: dict[int, list[float]] = {}
    for run in runs:
        elapsed: float | None = 0.0
        for row in run.epochs:
            if elapsed is not None:
                elapsed = None if row["seconds"] is None else elapsed + row["seconds"]
            value = elapsed if column == "cumulative_seconds" else row[column]
            if value is not None:
                by_epoch.setdefault(row["epoch"], []).append(float(value))
    return [(epoch, Stat(tuple(by_epoch[epoch]))) for epoch in sorted(by_epoch)]
