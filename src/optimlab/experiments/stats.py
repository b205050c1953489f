"""Values over seeds with their mean and spread.

The tests between optimizers live in :mod:`optimlab.experiments.verdicts`
(SciPy's ``stats``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Stat:
    """Values over seeds with their mean and sample standard deviation (``ddof=1``)."""

    values: tuple[float, ...] = ()

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return math.fsum(self.values) / self.n if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation; ``None`` with fewer than two values."""
        if self.n < 2:
            return None
        mean = math.fsum(self.values) / self.n
        return math.sqrt(math.fsum((v - mean) ** 2 for v in self.values) / (self.n - 1))

    @property
    def min(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def max(self) -> float | None:
        return max(self.values) if self.values else None
