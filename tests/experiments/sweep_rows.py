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


def add_run(
    store, run_id: str, optimizer: str, lr: float, seed: int, status: str, records=(), *,
    error: str | None = None, seconds: float = 0.0, **config,
) -> str:  # fmt: skip
    """Put one synthetic run (its ``runs`` row, epoch rows and status) into ``store``.

    ``config`` overrides the run configuration's defaults (``hyperparameters``,
    ``epochs``, ``batch_size``, ``schedule``, ``warmup``).
    """
    config = {
        "problem": "toy", "optimizer": optimizer, "lr": lr, "seed": seed,
        "hyperparameters": {}, "epochs": 3, "batch_size": 32, "schedule": "constant",
        "warmup": 0, **config,
    }  # fmt: skip
    row = {key: config[key] for key in ("problem", "optimizer", "lr", "seed", "hyperparameters")}
    store.add_runs([{**row, "run_id": run_id, "epochs": config["epochs"], "config": config}])
    if records:
        store.record(run_id, records)
    if status != "pending":
        store.set_status(run_id, status, error=error, seconds=seconds)
    return run_id
