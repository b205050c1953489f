"""The verdicts of a sweep: every pair of optimizers, paired by seed, Holm-adjusted.

:func:`sweep_verdicts` takes the cells of a sweep (:func:`~optimlab.experiments.
analysis.summarize`) and compares every unordered pair of optimizers with the
engine of :mod:`optimlab.experiments.verdicts`, on one value per seed:

Which rates
    With ``--tune`` (the sweep's ``tune`` setting), each optimizer at its tuned
    rate (chosen on the final validation value, :func:`~optimlab.experiments.
    analysis.tuned`): one group. Without it, at each rate both optimizers ran:
    one group per rate; when every optimizer ran a single rate, they are compared
    at those rates (one group). A pair that shares no rate is listed as not
    compared.
Which value (``metric``)
    In the problem's metric (accuracy, higher is better; or a loss, lower is
    better): ``best``: the run's best validation value over its epochs (the
    default); ``final``: its last epoch's validation value (a diverged run at
    the metric's worst: chance, or the problem's worst loss); ``test``: its
    last epoch's test value (where the problem has a test set and the store
    holds it).
The region of practical equivalence (``rope``)
    In the metric's units (accuracy as a fraction). Default for accuracy
    :data:`~optimlab.experiments.verdicts.ROPE_ACCURACY`, 0.001 = 0.1 points of
    accuracy: smaller than the seed-to-seed standard deviation of every
    Fashion-MNIST problem here (0.14 to 0.8 points over 5 seeds), so that
    "equivalent" needs an interval narrower than the noise of one seed, and ten
    times smaller than the 1-point gaps papers call a real improvement. A loss
    has no scale shared by problems (a quadratic's floor is 85.5, an
    autoencoder's cross-entropy over 200), so its default is relative:
    :data:`ROPE_LOSS_RELATIVE` (0.1%) of the median absolute mean value of the
    cells compared, the same share of the value as 0.1 points are of an
    accuracy near 100%.
Multiple comparisons
    Holm's adjustment over every comparison made (all groups together).

:func:`write_verdicts` writes them as ``OUT/verdicts.json``:
``{"metric", "rope", "confidence", "comparisons": [...]}`` plus the rules used.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import (
    Cell,
    RunSummary,
    results_db,
    summarize,
    sweep_settings,
    tuned,
)
from optimlab.experiments.metric import Metric
from optimlab.experiments.store import Store
from optimlab.experiments.verdicts import ALPHA, ROPE_ACCURACY, Comparison, compare_pairs
from optimlab.io import atomic_write

#: ``--metric`` choices: the per-run value each compares (a field of ``RunSummary``).
METRICS = {
    "best": "best_val",
    "final": "score",
    "test": "test_score",
}
#: How each is named in ``verdicts.json`` and the report: ``best_val_accuracy``...
NAMES = {"best": "best_val_{}", "final": "final_val_{}", "test": "test_{}"}
#: A loss problem's default ROPE, relative to the size of the values compared.
ROPE_LOSS_RELATIVE = 0.001
DEFAULT_METRIC = "best"
DEFAULT_CONFIDENCE = 0.95
#: The seed of the bootstrap and permutation draws: the same store gives the same file.
DRAW_SEED = 0
#: Verdicts seen from the other side of a pair.
MIRROR = {"better": "worse", "worse": "better", "equivalent": "equivalent",
          "undetermined": "undetermined"}  # fmt: skip


@dataclass(frozen=True)
class Group:
    """Optimizers compared with one another: ``cells`` by optimizer, in ranking order."""

    label: str
    lr: float | None
    cells: dict[str, Cell]


@dataclass(frozen=True)
class SweepVerdicts:
    """All comparisons of a sweep, with the options that made them.

    ``rates``: ``"tuned"`` (each optimizer at its tuned rate), ``"shared"`` (at each
    rate both ran) or ``"only"`` (each optimizer at the single rate it ran).
    """

    metric: str
    rope: float
    confidence: float
    rates: str
    groups: tuple[Group, ...]
    comparisons: tuple[Comparison, ...]
    not_compared: tuple[tuple[str, str], ...]
    higher_is_better: bool = True
    #: The ``--metric`` choice (a key of :data:`METRICS`); ``metric`` is its name.
    key: str = DEFAULT_METRIC

    def record(self) -> dict[str, Any]:
        """The content of ``verdicts.json``."""
        return {
            "metric": self.metric,
            "rope": self.rope,
            "confidence": self.confidence,
            "higher_is_better": self.higher_is_better,
            "alpha": ALPHA,
            "adjustment": "holm",
            "rates": self.rates,
            "comparisons": [c.record() for c in self.comparisons],
            "not_compared": [
                {"a": a, "b": b, "reason": "no rate in common"} for a, b in self.not_compared
            ],
        }

    def against(self, name: str, group: Group) -> list[tuple[str, str, Comparison]]:
        """``(other, verdict of name against other, comparison)`` for every other optimizer
        of ``group``, in the group's order."""
        found = []
        for c in self.comparisons:
            if in_group(c, group) and name in (c.a, c.b):
                other, verdict = (c.b, c.verdict) if c.a == name else (c.a, MIRROR[c.verdict])
                found.append((other, verdict, c))
        order = list(group.cells)
        return sorted(found, key=lambda f: order.index(f[0]))

    def sentence(self, name: str, group: Group) -> str:
        """``"qhadamw: better than sgd; equivalent to adam; undetermined against nesterov
        (about 9 seeds would tell)"``."""
        parts = []
        for verdict in ("better", "worse", "equivalent", "undetermined"):
            others = [(o, c) for o, v, c in self.against(name, group) if v == verdict]
            if not others:
                continue
            if verdict == "undetermined":
                parts.append("undetermined against " + ", ".join(_why(o, c) for o, c in others))
            else:
                word = {"better": "better than", "worse": "worse than",
                        "equivalent": "equivalent to"}[verdict]  # fmt: skip
                parts.append(f"{word} {', '.join(o for o, _ in others)}")
        return f"{name}: {'; '.join(parts) if parts else 'nothing to compare with'}"


def _why(other: str, c: Comparison) -> str:
    if c.p is None:
        return f"{other} (fewer than two seeds)"
    if c.seeds_needed is None:
        return f"{other} (more than 10,000 seeds would be needed)"
    return f"{other} (about {c.seeds_needed} seeds would tell)"


def in_group(c: Comparison, group: Group) -> bool:
    cells = group.cells
    return c.a in cells and c.b in cells and c.lr_a == cells[c.a].lr and c.lr_b == cells[c.b].lr


def per_seed(cell: Cell, metric: str) -> dict[int, float]:
    """``{seed: value}`` of a cell's scored runs for ``metric`` (a key of :data:`METRICS`)."""
    return seed_values(cell, METRICS[metric])


def seed_values(cell: Cell, field: str) -> dict[int, float]:
    """``{seed: value}`` of a cell's scored runs for a per-run number: a field of
    :class:`~optimlab.experiments.analysis.RunSummary` (``final_train_loss``,
    ``best_val``, ``score``...; ``final_val_accuracy`` and ``final_val`` mean
    ``score``; its accuracy-era names are properties); runs without that number are
    left out."""
    values = {}
    for run in cell.runs:
        value = _value(run, field)
        if value is not None:
            values[run.seed] = float(value)
    return values


def _value(run: RunSummary, field: str) -> float | None:
    if run.status not in ("done", "diverged"):
        return None
    if field in ("final_val", "final_val_accuracy"):
        return run.score
    return getattr(run, field)


def check_options(
    metric: str = DEFAULT_METRIC, rope: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> None:  # fmt: skip
    """``ValueError`` naming a bad ``--metric``, ``--rope`` or ``--confidence``."""
    if metric not in METRICS:
        raise ValueError(f"--metric must be one of {', '.join(METRICS)}; received {metric!r}")
    if rope is not None and not (rope >= 0 and rope < float("inf")):
        raise ValueError(
            f"--rope must be a finite number >= 0 in the metric's units (accuracy as a "
            f"fraction: 0.001 is 0.1 points); received {rope!r}"
        )
    if not 0 < confidence < 1:
        raise ValueError(
            f"--confidence must be in (0, 1), e.g. 0.95 for 95%; received {confidence!r}"
        )


def groups(cells: Sequence[Cell], *, tune: bool, metric: str = DEFAULT_METRIC) -> list[Group]:
    """The groups of optimizers to compare (see the module docstring), each ranked by
    the mean of ``metric`` (best first; optimizers without a value last)."""
    by_optimizer: dict[str, list[Cell]] = {}
    for cell in cells:
        by_optimizer.setdefault(cell.optimizer, []).append(cell)
    if tune or all(len(cs) == 1 for cs in by_optimizer.values()):
        label = "at each optimizer's tuned rate" if tune else "at each optimizer's only rate"
        chosen = {n: c.cell for n, c in tuned(cells).items() if c.cell is not None}
        return [Group(label, None, _ranked(chosen, metric))] if chosen else []
    rates = sorted({c.lr for c in cells})
    found = []
    for lr in rates:
        at = {c.optimizer: c for c in cells if c.lr == lr}
        found.append(Group(f"at lr {lr:g}", lr, _ranked(at, metric)))
    return found


def _ranked(cells: Mapping[str, Cell], metric: str) -> dict[str, Cell]:
    def key(name: str) -> tuple[bool, float, str]:
        values = list(per_seed(cells[name], metric).values())
        mean = sum(values) / len(values) if values else 0.0
        return (not values, -cells[name].metric.sign() * mean, name)

    return {name: cells[name] for name in sorted(cells, key=key)}


def sweep_verdicts(
    cells: Sequence[Cell],
    *,
    tune: bool,
    metric: str = DEFAULT_METRIC,
    rope: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> SweepVerdicts:
    """Compare every pair of optimizers of the sweep (see the module docstring)."""
    check_options(metric, rope, confidence)
    measure = cells[0].metric if cells else Metric()
    if metric == "test" and cells and not any(per_seed(c, metric) for c in cells):
        raise ValueError(
            f"--metric test: this sweep holds no test {measure.name} (its problem has no test "
            "set, or its store was written before optimlab recorded test metrics); use best "
            "or final"
        )
    found = groups(cells, tune=tune, metric=metric)
    if rope is None:
        rope = default_rope(measure, [c for g in found for c in g.cells.values()], metric)
    pairs, rates = [], []
    for group in found:
        for a, b in combinations(group.cells, 2):
            ca, cb = group.cells[a], group.cells[b]
            pairs.append(((a, b), per_seed(ca, metric), per_seed(cb, metric)))
            rates.append((ca.lr, cb.lr))
    name = NAMES[metric].format(measure.name)
    compared = compare_pairs(
        pairs, metric=name, rope=float(rope), confidence=confidence, seed=DRAW_SEED,
        higher_is_better=measure.higher_is_better,
    )  # fmt: skip
    comparisons = tuple(
        replace(c, lr_a=lr_a, lr_b=lr_b) for c, (lr_a, lr_b) in zip(compared, rates, strict=True)
    )
    names = sorted({c.optimizer for c in cells})
    met = {frozenset((c.a, c.b)) for c in comparisons}
    apart = tuple((a, b) for a, b in combinations(names, 2) if frozenset((a, b)) not in met)
    return SweepVerdicts(
        metric=name, rope=float(rope), confidence=confidence,
        rates=_rates(tune, found), groups=tuple(found), comparisons=comparisons, not_compared=apart,
        higher_is_better=measure.higher_is_better, key=metric,
    )  # fmt: skip


def default_rope(measure: Metric, cells: Sequence[Cell], metric: str = DEFAULT_METRIC) -> float:
    """The default ROPE (see the module docstring): 0.1 points for accuracy; for a loss,
    :data:`ROPE_LOSS_RELATIVE` of the median absolute mean of the cells' values."""
    if measure.is_accuracy:
        return ROPE_ACCURACY
    values = [list(per_seed(c, metric).values()) for c in cells]
    means = [abs(sum(v) / len(v)) for v in values if v]
    return ROPE_LOSS_RELATIVE * statistics.median(means) if means else 0.0


def _rates(tune: bool, found: Sequence[Group]) -> str:
    if tune:
        return "tuned"
    return "shared" if any(g.lr is not None for g in found) else "only"


def store_verdicts(store: Store, **options: Any) -> SweepVerdicts:
    """:func:`sweep_verdicts` of a store's cells, ``tune`` from its settings."""
    cells = summarize(store)
    return sweep_verdicts(cells, tune=bool(sweep_settings(store).get("tune")), **options)


def verdicts_of_sweep(source: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``verdicts.json`` next to the sweep's ``results.db``; its path.

    ``source``: the sweep's folder or its database. ``options``: those of
    :func:`sweep_verdicts` (``metric``, ``rope``, ``confidence``).
    """
    check_options(**options)
    db = results_db(source)
    with Store(db, readonly=True) as store:
        result = store_verdicts(store, **options)
    return write_verdicts(result, db.parent / "verdicts.json")


def write_verdicts(result: SweepVerdicts, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` as JSON to ``path`` (atomically); returns the path."""
    path = Path(path)
    text = json.dumps(result.record(), indent=1, allow_nan=False) + "\n"
    atomic_write(path, lambda f: f.write(text))
    return path
