"""What a sweep compares optimizers on: its problem's metric, and which way is better.

A classifier is judged by accuracy (higher is better); an autoencoder or a
noisy quadratic by its loss (lower is better). Every consumer (tuning, "epochs
to target", ranking and verdicts, plots, the report) goes through a
:class:`Metric`, so loss problems need no special case.

A sweep's store records the metric in its settings (``metric``, ``direction``,
``target``, ``worst``); a store written before problems had metrics holds
accuracy (``target_accuracy``, chance ``1 / num_classes``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from optimlab.experiments.problems import DIRECTIONS, Problem

#: How the report names a split.
SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}


@dataclass(frozen=True)
class Metric:
    """A problem's metric.

    Attributes
    ----------
    name : {"accuracy", "loss"}
        The epoch columns it reads: ``val_<name>``, ``test_<name>``.
    direction : {"max", "min"}
    target : float or None
        The validation value whose "epochs to reach" is counted.
    worst : float
        The score of a diverged run: chance accuracy ``1 / num_classes`` (0 when
        unknown) for a classifier; the problem's ``worst`` loss for a loss problem.
    """

    name: str = "accuracy"
    direction: str = "max"
    target: float | None = None
    worst: float = 0.0

    def __post_init__(self) -> None:
        if DIRECTIONS.get(self.name) != self.direction:
            raise ValueError(
                f"metric {self.name!r} with direction {self.direction!r}; expected "
                + ", ".join(f"{m} ({d})" for m, d in DIRECTIONS.items())
            )

    @classmethod
    def of_problem(cls, problem: Problem, num_classes: int | None = None,
                   target: float | None = None) -> Metric:  # fmt: skip
        """The metric of ``problem`` (``target`` overrides the problem's)."""
        if problem.metric == "accuracy":
            worst = 1.0 / num_classes if num_classes else 0.0
        else:
            worst = float(problem.worst)  # type: ignore[arg-type]
        return cls(problem.metric, problem.direction,
                   problem.target if target is None else target, worst)  # fmt: skip

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Metric:
        """The metric recorded in a store's settings (decoded by ``sweep_settings``)."""
        name = settings.get("metric", "accuracy")
        if name not in DIRECTIONS:
            name = "accuracy"
        direction = DIRECTIONS[name]
        target = _number(settings.get("target"))
        if name == "accuracy":
            if target is None:
                target = _number(settings.get("target_accuracy"))
            classes = _number(settings.get("num_classes"))
            worst = _number(settings.get("worst"))
            if worst is None:
                worst = 1.0 / classes if classes else 0.0
        else:
            worst = _number(settings.get("worst"))
            worst = math.inf if worst is None else worst
        return cls(name, direction, target, worst)

    def settings(self) -> dict[str, Any]:
        """What :meth:`from_settings` reads back."""
        return {"metric": self.name, "direction": self.direction, "target": self.target,
                "worst": self.worst}  # fmt: skip

    # -- comparing ----------------------------------------------------------------
    @property
    def higher_is_better(self) -> bool:
        return self.direction == "max"

    @property
    def is_accuracy(self) -> bool:
        return self.name == "accuracy"

    def column(self, split: str = "val") -> str:
        """The epoch column of ``split`` ("train", "val" or "test")."""
        return f"{split}_{self.name}"

    def sign(self) -> float:
        """+1 when higher is better, -1 otherwise: ``sign * value`` is "goodness"."""
        return 1.0 if self.higher_is_better else -1.0

    def best(self, values: Iterable[float]) -> float:
        """The best of ``values`` (at least one)."""
        return max(values) if self.higher_is_better else min(values)

    def reached(self, value: float, target: float | None = None) -> bool:
        """Whether ``value`` is at or beyond the target (``target`` or this one's)."""
        target = self.target if target is None else target
        if target is None:
            return False
        return value >= target if self.higher_is_better else value <= target

    # -- words ----------------------------------------------------------------------
    def label(self, split: str = "val") -> str:
        """``"validation accuracy"``, ``"test loss"``..."""
        return f"{SPLIT_WORDS[split]} {self.name}"

    def format(self, value: float | None) -> str:
        """A value as the report writes it: accuracy in percent, a loss with 4 significant
        digits."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if self.is_accuracy:
            return f"{100 * value:.2f}%"
        return f"{value:.4g}"

    @property
    def worst_word(self) -> str:
        """What a diverged run scores, in words."""
        return "chance" if self.is_accuracy else f"the problem's worst loss ({self.worst:.4g})"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
