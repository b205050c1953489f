"""What a tuning protocol found: the trials' outcomes, the chosen configuration, the budget
spent, and expected-best-of-k curves.

Pure functions over run summaries (:func:`optimlab.experiments.analysis.summarize_run`)
and the store's ``trials`` rows; the coordinator uses :func:`choose` to start the
final stage, the report the rest, so both pick the same trial.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimlab.experiments.protocol import Outcome, Plan, best_index


@dataclass(frozen=True)
class TrialResult:
    """One trial: where it sits in the protocol, and its run's summary (None: not stored)."""

    optimizer: str
    study: int
    trial: int
    run_id: str
    summary: Any = None

    @property
    def score(self) -> float | None:
        return None if self.summary is None else self.summary.score

    @property
    def steps_to_target(self) -> int | None:
        return None if self.summary is None else self.summary.steps_to_target


@dataclass(frozen=True)
class Choice:
    """One optimizer's protocol outcome.

    ``trials``: every trial of the current budget, by study then trial.
    ``study_best``: per study, the best trial (None while none is scored).
    ``chosen``: the best of the study bests, the configuration the final
    stage re-runs (None while no trial is scored). ``finished``: every trial
    has ended (done, diverged or failed), so the choice is final.
    """

    optimizer: str
    trials: tuple[TrialResult, ...]
    study_best: tuple[TrialResult | None, ...]
    chosen: TrialResult | None
    finished: bool
    sign: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def time_to_target(self, measure: str = "steps") -> float:
        """The median over studies of the best trial's time to the target (``steps``,
        ``epochs`` or ``seconds``); infinite for a study that never reaches it
        (AlgoPerf's per-workload score)."""
        values = [_time(best, measure) for best in self.study_best]
        return statistics.median(values) if values else math.inf


def _time(trial: TrialResult | None, measure: str) -> float:
    if trial is None or trial.summary is None:
        return math.inf
    value = {
        "steps": trial.summary.steps_to_target, "epochs": trial.summary.epochs_to_target,
        "seconds": trial.summary.seconds_to_target,
    }[measure]  # fmt: skip
    return math.inf if value is None else float(value)


def choose(
    plan: Plan, rows: Sequence[Mapping[str, Any]], summaries: Mapping[str, Any], sign: float
) -> dict[str, Choice]:
    """Per optimizer, the protocol's choice from the store's ``trials`` ``rows`` and the
    run summaries by run id (``sign``: +1 when higher is better)."""
    by_optimizer: dict[str, list[TrialResult]] = {}
    for row in rows:
        if row["kind"] != plan.kind or row["study"] >= plan.studies or row["trial"] >= plan.budget:
            continue  # another kind of trials, or a larger budget, of an earlier run
        result = TrialResult(row["optimizer"], int(row["study"]), int(row["trial"]),
                             row["run_id"], summaries.get(row["run_id"]))  # fmt: skip
        by_optimizer.setdefault(result.optimizer, []).append(result)
    choices = {}
    for name, trials in by_optimizer.items():
        trials.sort(key=lambda t: (t.study, t.trial))
        bests: list[TrialResult | None] = []
        for study in range(plan.studies):
            in_study = [t for t in trials if t.study == study]
            index = best_index(plan, [_outcome(t, sign) for t in in_study])
            bests.append(None if index is None else in_study[index])
        found = [b for b in bests if b is not None]
        index = best_index(plan, [_outcome(t, sign) for t in found])
        done = all(t.summary is not None and t.summary.status in ("done", "diverged", "failed")
                   for t in trials)  # fmt: skip
        choices[name] = Choice(name, tuple(trials), tuple(bests),
                               None if index is None else found[index], done, sign)  # fmt: skip
    return choices


def _outcome(trial: TrialResult, sign: float) -> Outcome:
    return Outcome(trial.score, trial.steps_to_target, sign)


# -- expected best of k -------------------------------------------------------------------
@dataclass(frozen=True)
class BestOfK:
    """Expected best validation value after ``k`` trials, for k = 1..n (Dodge et al.)."""

    optimizer: str
    k: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


def expected_best_of_k(values: Sequence[float], higher_is_better: bool = True) -> BestOfK:
    """Dodge et al., 'Show Your Work' (EMNLP 2019, arXiv:1909.03004): with the n observed
    trial values sorted so that v_(n) is the best, k trials drawn with replacement
    have best value v_(i) with probability p_i = (i/n)^k - ((i-1)/n)^k, so

        E[best of k] = sum_i p_i v_(i),  sd = sqrt(sum_i p_i (v_(i) - E)^2),

    and the band is E -/+ sd clipped to the observed range (as their code draws it).
    k = 1 is the mean of the trials; large k tends to the best one observed.
    """
    ordered = sorted(float(v) for v in values)
    if not higher_is_better:
        ordered = ordered[::-1]  # v_(n) is the lowest loss
    n = len(ordered)
    ks, means, sds, lows, highs = [], [], [], [], []
    lo, hi = min(ordered, default=0.0), max(ordered, default=0.0)
    for k in range(1, n + 1):
        p = [(i / n) ** k - ((i - 1) / n) ** k for i in range(1, n + 1)]
        mean = sum(pi * v for pi, v in zip(p, ordered, strict=True))
        spread = sum(pi * (v - mean) ** 2 for pi, v in zip(p, ordered, strict=True))
        sd = math.sqrt(max(0.0, spread))
        ks.append(k)
        means.append(mean)
        sds.append(sd)
        lows.append(max(lo, mean - sd))
        highs.append(min(hi, mean + sd))
    return BestOfK("", tuple(ks), tuple(means), tuple(sds), tuple(lows), tuple(highs))


# -- budget ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Spent:
    """What one optimizer's protocol cost: its trials of the current budget and its final
    re-runs that ended, and the epochs and seconds trained over all of them (a run counted
    once). Runs of an earlier, different plan in the same store are not counted."""

    trials: int
    finals: int
    epochs: int
    seconds: float


def spent(choice: Choice, final_summaries: Sequence[Any]) -> Spent:
    """The budget spent by ``choice``'s trials and the final runs (``final_summaries``)."""
    runs = {t.run_id: t.summary for t in choice.trials if t.summary is not None}
    trial_ids = set(runs)
    runs.update({s.run_id: s for s in final_summaries})
    return Spent(
        trials=sum(1 for t in choice.trials if t.summary is not None
                   and t.summary.status in ("done", "diverged", "failed")),
        finals=sum(1 for s in final_summaries
                   if s.run_id not in trial_ids and s.status in ("done", "diverged")),
        epochs=sum(len(s.epochs) for s in runs.values()),
        seconds=sum(float(s.seconds) for s in runs.values()),
    )  # fmt: skip
