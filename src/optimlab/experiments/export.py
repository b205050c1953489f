"""Export a sweep's results database as flat files for other tools.

``runs.csv`` has every column of the ``runs`` table; ``epochs.csv`` every
column of ``epochs`` (``test_loss`` and ``test_accuracy`` empty where the
problem has no test set or the store predates them) plus the run's
``optimizer``, ``lr`` and ``seed`` (a join), so that one file is enough to
plot curves. Floats are written with ``repr`` (they read back exactly); NULL
is an empty field. ``fmt="json"`` writes ``runs.json`` and ``epochs.json``
instead: lists of records, NULL as ``null``, and the JSON columns
``hyperparameters`` and ``config`` decoded.

A tuning protocol's sweep adds ``trials.<fmt>``: which run is trial ``trial`` of
study ``study`` of each optimizer (and of which ``kind``), with its rate, seed,
hyperparameters and status.

A sweep with ``--diagnostics`` adds ``diagnostics.<fmt>``: a row per run, epoch,
layer and diagnostic (``run_id``, the run's ``optimizer``, ``lr`` and ``seed``,
``epoch``, ``layer``, ``name``, ``value``).

Both formats add the verdicts of every pair of optimizers
(:mod:`optimlab.experiments.sweep_verdicts`): ``verdicts.csv`` has a row per
comparison (the interval as ``ci_low`` and ``ci_high``, and the options that
made it: ``rope``, ``confidence``); ``verdicts.json`` is the file
``optimlab compare`` writes, ``{"metric", "rope", "confidence", "comparisons"}``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import results_db
from optimlab.experiments.store import EPOCH_COLUMNS, Store
from optimlab.experiments.sweep_verdicts import (
    SweepVerdicts,
    check_options,
    store_verdicts,
    write_verdicts,
)
from optimlab.io import atomic_open

FORMATS = ("csv", "json")
JSON_COLUMNS = ("hyperparameters", "config")
EPOCHS = ("epoch", *EPOCH_COLUMNS)


def _queries(store: Store) -> dict[str, str]:
    """The two tables' queries; a test column that an older store lacks reads as NULL."""
    have = set(store.epoch_columns())
    columns = ", ".join(f"e.{c}" if c in have else f"NULL AS {c}" for c in EPOCHS)
    trials = {
        "trials": "SELECT t.optimizer, t.kind, t.study, t.trial, t.run_id, r.lr, r.seed, "
        "r.hyperparameters, r.status FROM trials t JOIN runs r USING (run_id) "
        "ORDER BY t.optimizer, t.kind, t.study, t.trial"
    } if store.trials() else {}  # fmt: skip
    diagnostics = {
        "diagnostics": "SELECT d.run AS run_id, r.optimizer, r.lr, r.seed, d.epoch, d.layer, "
        "d.name, d.value FROM diagnostics d JOIN runs r ON r.run_id = d.run "
        "ORDER BY r.optimizer, r.lr, r.seed, d.run, d.epoch, d.rowid"
    } if store.diagnostics() else {}  # fmt: skip
    return {
        **trials,
        **diagnostics,
        "runs": "SELECT * FROM runs ORDER BY optimizer, lr, seed, run_id",
        "epochs": (
            f"SELECT e.run_id, r.optimizer, r.lr, r.seed, {columns} FROM epochs e "
            "JOIN runs r USING (run_id) ORDER BY r.optimizer, r.lr, r.seed, e.run_id, e.epoch"
        ),
    }


def export(out_dir: str | os.PathLike[str], fmt: str = "csv", **options: Any) -> list[Path]:
    """Write ``runs.<fmt>``, ``epochs.<fmt>`` and ``verdicts.<fmt>`` next to the sweep's
    ``results.db``.

    Parameters
    ----------
    out_dir : path-like
        The sweep's output folder (holding ``results.db``) or the database itself.
    fmt : {"csv", "json"}
        The file format.
    **options
        ``metric``, ``rope``, ``confidence`` of the verdicts (as for
        :func:`~optimlab.experiments.sweep_verdicts.sweep_verdicts`).

    Returns
    -------
    list of Path
        The files written (atomically): trials (a protocol's), diagnostics (a sweep's
        with them), runs, epochs, verdicts.
    """
    if fmt not in FORMATS:
        raise ValueError(f"export: fmt must be one of {', '.join(FORMATS)}; received fmt={fmt!r}")
    check_options(**options)  # before any file is written
    db = results_db(out_dir)
    paths = []
    with Store(db, readonly=True) as store:
        for table, query in _queries(store).items():
            cursor = store.db.execute(query)
            columns = [d[0] for d in cursor.description]
            rows = [tuple(r) for r in cursor]
            path = db.parent / f"{table}.{fmt}"
            (_write_csv if fmt == "csv" else _write_json)(path, columns, rows)
            paths.append(path)
        verdicts = store_verdicts(store, **options)
    path = db.parent / f"verdicts.{fmt}"
    if fmt == "json":
        paths.append(write_verdicts(verdicts, path))
    else:
        _write_csv(path, VERDICT_COLUMNS, _verdict_rows(verdicts))
        paths.append(path)
    return paths


#: The columns of verdicts.csv.
VERDICT_COLUMNS = (
    "a", "b", "lr_a", "lr_b", "metric", "difference", "ci_low", "ci_high", "p", "p_adjusted",
    "p_permutation", "verdict", "seeds", "seeds_needed", "paired", "p_improvement",
    "ci_method", "note", "rope", "confidence",
)  # fmt: skip


def _verdict_rows(verdicts: SweepVerdicts) -> list[tuple[Any, ...]]:
    rows = []
    for c in verdicts.comparisons:
        record = c.record()
        record["ci_low"], record["ci_high"] = record.pop("ci")
        record["rope"], record["confidence"] = verdicts.rope, verdicts.confidence
        rows.append(tuple(record[k] for k in VERDICT_COLUMNS))
    return rows


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    with atomic_open(path, "w") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)


#: A cell a spreadsheet would run as a formula when it starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """Numbers as they are (floats exactly, by ``repr``); text that a spreadsheet would
    take for a formula (``=``, ``+``, ``-``, ``@``...) behind a ``'``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _write_json(path: Path, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    records = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        for column in JSON_COLUMNS:
            if isinstance(record.get(column), str):
                record[column] = json.loads(record[column])
        records.append(record)
    with atomic_open(path, "w") as f:
        json.dump(records, f, indent=1)
        f.write("\n")
