"""Hooks that watch a run: progress bars, checkpoints, early stopping.

A callback receives each finished :class:`~optimlab.train.history.EpochRecord`
and may stop the run by returning ``True``. Callbacks that persist something
receive a *sink* (a function) from their owner: the training loop itself
writes no files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from optimlab.train.history import EpochRecord, History


class Callback(Protocol):
    """Called by :func:`~optimlab.train.fit` after every epoch."""

    def on_epoch_end(self, record: EpochRecord, history: History) -> bool | None:
        """Return ``True`` to stop training after this epoch."""
        ...


class EpochSink:
    """Passes every finished epoch to ``sink(record)`` (e.g. a database insert)."""

    def __init__(self, sink: Callable[[EpochRecord], None]) -> None:
        self.sink = sink

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        self.sink(record)


class EarlyStopping:
    """Stop when ``val_accuracy`` has not improved for ``patience`` epochs."""

    def __init__(self, patience: int = 3) -> None:
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1; received patience={patience}")
        self.patience = patience
        self.best = -float("inf")
        self.waited = 0

    def on_epoch_end(self, record: EpochRecord, history: History) -> bool:
        if record.val_accuracy > self.best:
            self.best, self.waited = record.val_accuracy, 0
            return False
        self.waited += 1
        return self.waited >= self.patience
