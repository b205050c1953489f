"""Hooks that watch a run: progress bars, checkpoints, early stopping.

A callback receives each finished :class:`~optimlab.train.history.EpochRecord`
and may stop the run by returning ``True``. Callbacks that persist something
receive a *sink* (a function) from their owner: the training loop itself
writes no files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
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
    """Stop when the ``monitor`` column has not improved for ``patience`` epochs.

    ``monitor`` is an epoch column: ``"val_accuracy"`` (the default; higher is better)
    or a loss such as ``"val_loss"`` (a name with "loss" in it: lower is better), the
    one to watch for a problem without accuracy (an autoencoder, a quadratic).
    """

    def __init__(self, patience: int = 3, monitor: str = "val_accuracy") -> None:
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1; received patience={patience}")
        columns = [f.name for f in fields(EpochRecord) if f.name not in ("epoch", "seconds")]
        if monitor not in columns:
            raise ValueError(
                f"EarlyStopping: monitor must be one of {', '.join(columns)}; received {monitor!r}"
            )
        self.patience = patience
        self.monitor = monitor
        self.sign = -1.0 if "loss" in monitor else 1.0
        self.best = -float("inf")
        self.waited = 0

    def on_epoch_end(self, record: EpochRecord, history: History) -> bool:
        value = getattr(record, self.monitor)
        if value is None:
            raise ValueError(
                f"EarlyStopping: epoch {record.epoch} has no {self.monitor} (a problem without "
                "accuracy: monitor val_loss)"
            )
        if self.sign * value > self.best:
            self.best, self.waited = self.sign * value, 0
            return False
        self.waited += 1
        return self.waited >= self.patience
