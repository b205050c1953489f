"""Classification metrics."""

from __future__ import annotations

import numpy as np


def correct_count(logits: np.ndarray, labels: np.ndarray) -> int:
    """How many rows of ``logits`` (N, K) have their largest entry at ``labels`` (N,)."""
    return int(np.count_nonzero(logits.argmax(axis=1) == labels))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows of ``logits`` (N, K) whose arg-max equals ``labels`` (N,)."""
    if len(labels) == 0:
        raise ValueError("accuracy: labels must hold at least one example; received 0")
    return correct_count(logits, labels) / len(labels)
