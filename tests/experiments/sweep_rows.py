"""Rows of a sweep's database, for comparing two sweeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def epoch_rows(db_path: Path) -> list[tuple]:
    """Every epoch row without its wall-clock seconds (the only column that may differ)."""
    with sqlite3.connect(db_path) as db:
        return sorted(
            db.execute(
                "SELECT run_id, epoch, train_loss, train_accuracy, val_loss, val_accuracy "
                "FROM epochs"
            ).fetchall()
        )


def run_rows(db_path: Path) -> list[tuple]:
    """Every run row without its seconds."""
    with sqlite3.connect(db_path) as db:
        return sorted(
            db.execute(
                "SELECT run_id, problem, optimizer, lr, seed, hyperparameters, status, error "
                "FROM runs"
            ).fetchall()
        )
