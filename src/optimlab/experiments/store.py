"""The results database of a sweep: SQLite in WAL mode, one transaction per change.

Tables
------
``runs``
    One row per run: ``run_id`` (derived from the run's full configuration),
    ``problem``, ``optimizer``, ``lr``, ``seed``, ``hyperparameters`` (JSON),
    ``status`` (``pending``, ``running``, ``done``, ``diverged``, ``failed``),
    ``error``, ``seconds`` (training time so far), ``epochs`` (planned),
    ``config`` (the run's full configuration, JSON).
``epochs``
    One row per finished epoch (counted from 1): losses, accuracies, seconds.
``invocations``
    One row per command that touched the store: optimlab, NumPy and Python
    versions, the platform, the command line, when.
``settings``
    Key-value facts of the sweep, e.g. the problem it belongs to.
``trials``
    A tuning protocol's trials (:mod:`optimlab.experiments.protocol`): which run
    is trial ``trial`` of study ``study`` of an ``optimizer``, for each ``kind`` of
    trials (``quasi-random`` draws, DeepOBS's ``grid``, one-shot ``defaults``).
    Empty for a grid sweep.
``diagnostics``
    A sweep with diagnostics (``--diagnostics``): per run, epoch and layer, the
    statistics of :mod:`optimlab.train.diagnostics`: columns ``run`` (the run id;
    also readable as ``run_id``), ``epoch``, ``layer``, ``name``, ``value`` (NULL for
    NaN: a layer whose gradient was zero has no effective learning rate).
``weights``
    A sweep with ``--landscape``: the weights of a run along its trajectory, as
    :class:`~optimlab.train.weights.WeightTrail` keeps them: ``run_id``, ``step``
    (optimizer steps taken; 0 is the initial weights), ``epoch`` (during which they
    were kept; 0 for the initial weights), ``vector`` (float32, little-endian bytes).

Only the coordinating process writes; workers return their results to it.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import optimlab

STATUSES = ("pending", "running", "done", "diverged", "failed")
FINISHED = ("done", "diverged", "failed")
EPOCH_COLUMNS = (
    "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "test_loss",
    "test_accuracy", "steps", "gradient_evaluations",
)  # fmt: skip
#: Integer columns of ``epochs`` (the others are REAL): counts over the run so far.
INTEGER_EPOCH_COLUMNS = ("steps", "gradient_evaluations")
#: Columns added to ``epochs`` after its first version: ``(name, type)``, added on opening.
ADDED_EPOCH_COLUMNS = (
    ("test_loss", "REAL"), ("test_accuracy", "REAL"), ("steps", "INTEGER"),
    ("gradient_evaluations", "INTEGER"),
)  # fmt: skip

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    problem TEXT NOT NULL,
    optimizer TEXT NOT NULL,
    lr REAL NOT NULL,
    seed INTEGER NOT NULL,
    hyperparameters TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'diverged', 'failed')),
    error TEXT,
    seconds REAL NOT NULL DEFAULT 0,
    epochs INTEGER NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    epoch INTEGER NOT NULL CHECK (epoch >= 1),
    train_loss REAL,
    train_accuracy REAL,
    val_loss REAL,
    val_accuracy REAL,
    seconds REAL,
    test_loss REAL,
    test_accuracy REAL,
    steps INTEGER,
    gradient_evaluations INTEGER,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    optimlab_version TEXT NOT NULL,
    numpy_version TEXT NOT NULL,
    python_version TEXT NOT NULL,
    platform TEXT NOT NULL,
    command_line TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    optimizer TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quasi-random', 'grid', 'defaults')),
    study INTEGER NOT NULL CHECK (study >= 0),
    trial INTEGER NOT NULL CHECK (trial >= 0),
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    PRIMARY KEY (optimizer, kind, study, trial)
);
CREATE TABLE IF NOT EXISTS diagnostics (
    run TEXT NOT NULL REFERENCES runs(run_id),
    epoch INTEGER NOT NULL CHECK (epoch >= 1),
    layer TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    run_id TEXT GENERATED ALWAYS AS (run) VIRTUAL,
    PRIMARY KEY (run, epoch, layer, name)
);
CREATE TABLE IF NOT EXISTS weights (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    step INTEGER NOT NULL CHECK (step >= 0),
    epoch INTEGER NOT NULL CHECK (epoch >= 0),
    vector BLOB NOT NULL,
    PRIMARY KEY (run_id, step)
);
"""

TABLES = ("runs", "epochs", "invocations", "settings")


class StoreError(ValueError):
    """The database cannot be used: corrupt, of another problem, or not a results store."""


class Store:
    """A sweep's ``results.db``.

    Parameters
    ----------
    path : path-like
        The database file; created (with its tables) when missing.
    readonly : bool
        Open without creating or changing anything (reports, exports).
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise StoreError(f"{self.path}: no results database here (expected results.db)")
        try:
            if readonly:  # a URI, escaped: '%', '?' and '#' are path characters here
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            else:
                self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                with self.transaction():
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    self._add_columns()
            elif not set(TABLES) <= tables:
                raise StoreError(
                    f"{self.path}: not an optimlab results database "
                    f"(expected tables {', '.join(TABLES)})"
                )
            self.db.execute("SELECT count(*) FROM runs").fetchone()
            check = self.db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {check}")
        except sqlite3.DatabaseError as exc:
            damaged = ("malformed", "not a database", "quick_check", "corrupt")
            if isinstance(exc, sqlite3.OperationalError) and not any(
                word in str(exc) for word in damaged
            ):
                raise StoreError(_unwritable(self.path, exc)) from exc
            raise StoreError(
                f"{self.path}: damaged or unreadable results database ({exc}); expected an "
                "SQLite file written by optimlab compare. Move it aside and run the same "
                "command again: the runs whose checkpoints are in checkpoints/ are rebuilt "
                "from them, the others run again"
            ) from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception).

        A write the file system refuses (read-only file or folder, full disk,
        file-size limit) is a :class:`StoreError` naming the file and the cause.
        """
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise StoreError(_unwritable(self.path, exc)) from exc

    # -- settings and invocations ---------------------------------------------------
    def setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def settings(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM settings")}

    def check_problem(self, problem: str) -> None:
        """``StoreError`` if the store holds a sweep of another problem (reads only)."""
        existing = self.setting("problem")
        if existing is not None and existing != problem:
            raise StoreError(
                f"{self.path} holds a sweep of problem {existing!r}; received --problem "
                f"{problem!r} (use another --out for another problem)"
            )

    def claim_problem(self, problem: str) -> None:
        """Record the sweep's problem; ``StoreError`` if the store holds another one."""
        self.check_problem(problem)
        if self.setting("problem") is None:
            with self.transaction() as db:
                db.execute("INSERT INTO settings (key, value) VALUES ('problem', ?)", (problem,))

    def set_settings(self, values: Mapping[str, Any]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()],
            )

    def record_invocation(self, command_line: Iterable[str]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO invocations (started_at, optimlab_version, numpy_version, "
                "python_version, platform, command_line) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    optimlab.__version__,
                    np.__version__,
                    sys.version.split()[0],
                    platform.platform(),
                    " ".join(command_line),
                ),
            )

    # -- trials ----------------------------------------------------------------------
    def add_trials(self, rows: Iterable[tuple[str, str, int, int, str]]) -> None:
        """Record ``(optimizer, kind, study, trial, run_id)`` rows (runs already added); a
        trial already recorded keeps its run."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO trials (optimizer, kind, study, trial, run_id) "
                "VALUES (?, ?, ?, ?, ?)",
                list(rows),
            )

    def trials(self) -> list[dict[str, Any]]:
        """Every recorded trial, by optimizer, study and trial (none in a store from
        before protocols, which has no such table)."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        if "trials" not in tables:
            return []
        query = "SELECT * FROM trials ORDER BY optimizer, kind, study, trial"
        return [dict(r) for r in self.db.execute(query)]

    # -- runs ------------------------------------------------------------------------
    def add_runs(self, runs: Iterable[Mapping[str, Any]]) -> int:
        """Insert runs not yet in the store as ``pending``; returns how many were new."""
        rows = [
            (
                r["run_id"], r["problem"], r["optimizer"], float(r["lr"]), int(r["seed"]),
                json.dumps(r["hyperparameters"], sort_keys=True), int(r["epochs"]),
                json.dumps(r["config"], sort_keys=True),
            )
            for r in runs
        ]  # fmt: skip
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO runs (run_id, problem, optimizer, lr, seed, "
                "hyperparameters, status, epochs, config) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                rows,
            )
            return db.total_changes - before

    def run(self, run_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return dict(row)

    def runs(self, *, status: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs" + (" WHERE status = ?" if status else "")
        query += " ORDER BY optimizer, lr, seed, run_id"
        return [dict(r) for r in self.db.execute(query, (status,) if status else ())]

    def set_status(
        self, run_id: str, status: str, *, error: str | None = None, seconds: float | None = None
    ) -> None:
        with self.transaction() as db:
            self.update_status(db, run_id, status, error=error, seconds=seconds)

    @staticmethod
    def update_status(
        db: sqlite3.Connection, run_id: str, status: str, *, error: str | None = None,
        seconds: float | None = None,
    ) -> None:  # fmt: skip
        """The status change, inside a transaction the caller holds."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; received {status!r}")
        db.execute(
            "UPDATE runs SET status = ?, error = ?, seconds = COALESCE(?, seconds) "
            "WHERE run_id = ?",
            (status, error, seconds, run_id),
        )

    # -- epochs ---------------------------------------------------------------------
    def record(
        self, run_id: str, epochs: Iterable[Mapping[str, Any]], status: str | None = None,
        seconds: float | None = None, *, diagnostics: Iterable[Mapping[str, Any]] = (),
        weights: Iterable[tuple[int, int, np.ndarray]] = (),
    ) -> None:  # fmt: skip
        """A run's epoch rows (inserted, or replaced by identical ones on a resume), its
        diagnostics rows and kept weights (``(step, epoch, vector)``), and its new status
        and seconds, in one transaction: all of it is stored, or none."""
        with self.transaction() as db:
            self.insert_epochs(db, run_id, epochs)
            db.executemany(
                "INSERT OR REPLACE INTO diagnostics (run, epoch, layer, name, value) "
                "VALUES (?, ?, ?, ?, ?)",
                [(run_id, int(r["epoch"]), str(r["layer"]), str(r["name"]), _real(r["value"]))
                 for r in diagnostics],
            )  # fmt: skip
            db.executemany(
                "INSERT OR REPLACE INTO weights (run_id, step, epoch, vector) VALUES (?, ?, ?, ?)",
                [(run_id, int(step), int(epoch), _vector_bytes(vector))
                 for step, epoch, vector in weights],
            )  # fmt: skip
            if status is not None:
                self.update_status(db, run_id, status, seconds=seconds)
            elif seconds is not None:
                db.execute("UPDATE runs SET seconds = ? WHERE run_id = ?", (seconds, run_id))

    @staticmethod
    def insert_epochs(
        db: sqlite3.Connection, run_id: str, records: Iterable[Mapping[str, Any]]
    ) -> None:
        """The epoch rows, inside a transaction the caller holds."""
        rows = [
            (run_id, int(r["epoch"]), *(_value(c, r.get(c)) for c in EPOCH_COLUMNS))
            for r in records
        ]
        db.executemany(
            f"INSERT OR REPLACE INTO epochs (run_id, epoch, {', '.join(EPOCH_COLUMNS)}) "
            f"VALUES (?, ?, {', '.join('?' for _ in EPOCH_COLUMNS)})",
            rows,
        )

    def _add_columns(self) -> None:
        """Bring the ``epochs`` table of an older store up to date (its rows get NULL)."""
        have = set(self.epoch_columns())
        for name, kind in ADDED_EPOCH_COLUMNS:
            if name not in have:
                self.db.execute(f"ALTER TABLE epochs ADD COLUMN {name} {kind}")

    def epoch_columns(self) -> list[str]:
        """The columns of the ``epochs`` table (an older store read-only may lack some)."""
        return [r[1] for r in self.db.execute("PRAGMA table_info(epochs)")]

    def epochs(self, run_id: str | None = None) -> list[dict[str, Any]]:
        if run_id is None:
            rows = self.db.execute("SELECT * FROM epochs ORDER BY run_id, epoch")
        else:
            rows = self.db.execute(
                "SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)
            )
        return [dict(r) for r in rows]

    def _has(self, table: str) -> bool:
        """Whether the store has ``table`` (a store read-only from before it may not)."""
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.db.execute(query, (table,)).fetchone() is not None

    def diagnostics(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Diagnostics rows (``run_id``, ``epoch``, ``layer``, ``name``, ``value``; NULL
        as NaN), by run, epoch, layer and name; none in a store without them."""
        if not self._has("diagnostics"):
            return []
        query = "SELECT run AS run_id, epoch, layer, name, value FROM diagnostics"
        args: tuple[str, ...] = ()
        if run_id is not None:
            query, args = query + " WHERE run = ?", (run_id,)
        rows = self.db.execute(query + " ORDER BY run, epoch, rowid", args)
        return [
            {**dict(r), "value": float("nan") if r["value"] is None else r["value"]} for r in rows
        ]

    def weights(self, run_id: str) -> list[tuple[int, int, np.ndarray]]:
        """The kept weights of a run: ``(step, epoch, vector)`` in step order, ``vector``
        float32 of shape ``(P,)``; none for a run (or a store) without them."""
        if not self._has("weights"):
            return []
        rows = self.db.execute(
            "SELECT step, epoch, vector FROM weights WHERE run_id = ? ORDER BY step", (run_id,)
        )
        return [(r["step"], r["epoch"], np.frombuffer(r["vector"], dtype="<f4")) for r in rows]

    def epoch_count(self, run_id: str) -> int:
        row = self.db.execute("SELECT count(*) FROM epochs WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0])


def _unwritable(path: Path, exc: Exception) -> str:
    """Why ``path`` could not be written, in words (not "database is corrupt")."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        cause = "it, its folder or its journal is read-only"
    elif "full" in text:
        cause = "the disk is full"
    elif "disk I/O error" in text:
        cause = (
            "the file system refused the write (a full disk, a file-size limit or a failing device)"
        )
    elif "unable to open" in text:
        cause = "it cannot be opened (is its folder missing or not accessible?)"
    elif "locked" in text or "busy" in text:
        cause = "another process holds it"
    else:
        cause = text
    return f"{path}: the results database could not be written: {cause} ({text})"


def _vector_bytes(vector: np.ndarray) -> bytes:
    """A weight vector as stored: float32, little-endian, one dimension."""
    return np.ascontiguousarray(np.ravel(vector), dtype="<f4").tobytes()


def _value(column: str, value: Any) -> float | int | None:
    """An epoch value as stored: counts as integers, the rest through :func:`_real`."""
    if column in INTEGER_EPOCH_COLUMNS:
        return None if value is None else int(value)
    return _real(value)


def _real(value: Any) -> float | None:
    """NaN is stored as NULL (SQLite has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if value == value else None
