"""Export a sweep's results database as flat files for other tools.

``runs.csv`` has every column of the ``runs`` table; ``epochs.csv`` every
column of ``epochs`` plus the run's ``optimizer``, ``lr`` and ``seed`` (a
join), so that one file is enough to plot curves. Floats are written with
``repr`` (they read back exactly); NULL is an empty field. ``fmt="json"``
writes ``runs.json`` and ``epochs.json`` instead: lists of records, NULL as
``null``, and the JSON columns ``hyperparameters`` and ``config`` decoded.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import results_db
from optimlab.experiments.store import Store
from optimlab.io import atomic_open

FORMATS = ("csv", "json")
JSON_COLUMNS = ("hyperparameters", "config")
QUERIES = {
    "runs": "SELECT * FROM runs ORDER BY optimizer, lr, seed, run_id",
    "epochs": (
        "SELECT e.run_id, r.optimizer, r.lr, r.seed, e.epoch, e.train_loss, e.train_accuracy, "
        "e.val_loss, e.val_accuracy, e.seconds FROM epochs e JOIN runs r USING (run_id) "
        "ORDER BY r.optimizer, r.lr, r.seed, e.run_id, e.epoch"
    ),
}


def export(out_dir: str | os.PathLike[str], fmt: str = "csv") -> list[Path]:
    """Write ``runs.<fmt>`` and ``epochs.<fmt>`` next to the sweep's ``results.db``.

    Parameters
    ----------
    out_dir : path-like
        The sweep's output folder (holding ``results.db``) or the database itself.
    fmt : {"csv", "json"}
        The file format.

    Returns
    -------
    list of Path
        The files written (atomically), runs first.
    """
    if fmt not in FORMATS:
        raise ValueError(f"export: fmt must be one of {', '.join(FORMATS)}; received fmt={fmt!r}")
    db = results_db(out_dir)
    paths = []
    with Store(db, readonly=True) as store:
        for table, query in QUERIES.items():
            cursor = store.db.execute(query)
            columns = [d[0] for d in cursor.description]
            rows = [tuple(r) for r in cursor]
            path = db.parent / f"{table}.{fmt}"
            (_write_csv if fmt == "csv" else _write_json)(path, columns, rows)
            paths.append(path)
    return paths


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
