"""CSV and JSON exports of the results database read back as the database's rows."""

from __future__ import annotations

import csv
import json

import pytest
import sweep_rows

from optimlab.experiments.export import export
from optimlab.experiments.store import Store, StoreError


def add_run(store, optimizer, lr, seed, status, epochs=(), error=None):
    return sweep_rows.add_run(
        store, f"{optimizer}-{lr!r}-{seed}", optimizer, lr, seed, status, epochs,
        error=error, seconds=0.1 + 0.2, hyperparameters={"betas": [0.9, 0.999]}, epochs=2,
    )  # fmt: skip


def record(epoch, value):
    return {
        "epoch": epoch,
        "train_loss": value / 3,
        "train_accuracy": value,
        "val_loss": value,
        "val_accuracy": 1 / 3 + value,
        "seconds": 0.1 * epoch,
    }


@pytest.fixture
def out(tmp_path):
    with Store(tmp_path / "results.db") as store:
        for seed in range(3):
            add_run(store, "adam", 1e-3, seed, "done", [record(1, 0.1 * seed), record(2, 0.2)])
            add_run(store, "sgd", 0.1, seed, "done", [record(1, 0.3), record(2, 0.4 + seed)])
        nan = {**record(1, 0.5), "val_loss": float("nan"), "val_accuracy": float("nan")}
        add_run(store, "sgd", 10.0, 0, "diverged", [nan])
        add_run(store, "sgd", 10.0, 1, "failed", error='Traceback:\n  "quoted", comma\nBoom')
        add_run(store, "sgd", 10.0, 2, "pending")
    return tmp_path


def column_types(store, table):
    return {r["name"]: r["type"] for r in store.db.execute(f"PRAGMA table_info({table})")}


def parse(text, kind):
    if text == "":
        return None
    return {"REAL": float, "INTEGER": int}.get(kind, str)(text)


def read_csv(path, types):
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: parse(v, types[k]) for k, v in row.items()} for row in csv.DictReader(f)]


def test_csv_round_trips_to_the_database_rows(out):
    paths = export(out)
    assert paths == [out / "runs.csv", out / "epochs.csv", out / "verdicts.csv"]
    with Store(out / "results.db", readonly=True) as store:
        runs, epochs = store.runs(), store.epochs()
        run_types, epoch_types = column_types(store, "runs"), column_types(store, "epochs")
    assert len(runs) == 9 and len(epochs) == 13
    assert read_csv(paths[0], run_types) == runs  # every column, floats exact, NULL kept
    by_id = {r["run_id"]: r for r in runs}
    joined = read_csv(
        paths[1], {**epoch_types, "optimizer": "TEXT", "lr": "REAL", "seed": "INTEGER"}
    )
    assert len(joined) == len(epochs)
    for row in joined:
        run = by_id[row["run_id"]]
        assert (row.pop("optimizer"), row.pop("lr"), row.pop("seed")) == (
            run["optimizer"],
            run["lr"],
            run["seed"],
        )
    key = lambda r: (r["run_id"], r["epoch"])  # noqa: E731
    assert sorted(joined, key=key) == sorted(epochs, key=key)


def test_csv_header_order_and_nulls(out):
    export(out / "results.db")
    with open(out / "epochs.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "run_id",
        "optimizer",
        "lr",
        "seed",
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "seconds",
        "test_loss",
        "test_accuracy",
        "steps",
        "gradient_evaluations",
    ]
    diverged = [r for r in rows if r[0] == "sgd-10.0-0"]
    assert diverged == [
        ["sgd-10.0-0", "sgd", "10.0", "0", "1", repr(0.5 / 3), "0.5", "", "", "0.1", "", "", "",
         ""]
    ]  # fmt: skip


def test_json_export_decodes_json_columns(out):
    runs_path, epochs_path, verdicts_path = export(out, fmt="json")
    assert verdicts_path == out / "verdicts.json"
    assert (runs_path.name, epochs_path.name) == ("runs.json", "epochs.json")
    runs = json.loads(runs_path.read_text(encoding="utf-8"))
    with Store(out / "results.db", readonly=True) as store:
        expected = store.runs()
    for row in expected:
        row["hyperparameters"] = json.loads(row["hyperparameters"])
        row["config"] = json.loads(row["config"])
    assert runs == expected
    assert runs[0]["hyperparameters"] == {"betas": [0.9, 0.999]}
    epochs = json.loads(epochs_path.read_text(encoding="utf-8"))
    assert len(epochs) == 13 and {"optimizer", "lr", "seed"} <= set(epochs[0])
    assert [e["val_loss"] for e in epochs if e["run_id"] == "sgd-10.0-0"] == [None]


@pytest.mark.parametrize("fmt", ["xlsx", "CSV", ""])
def test_unknown_format_names_the_value_and_the_choices(out, fmt):
    with pytest.raises(ValueError, match=rf"fmt must be one of csv, json; received fmt='{fmt}'"):
        export(out, fmt=fmt)
    assert not (out / "runs.csv").exists()


def test_export_without_a_database(tmp_path):
    with pytest.raises(StoreError, match="no results database here"):
        export(tmp_path)


def test_export_replaces_old_files_and_leaves_no_temporaries(out):
    (out / "runs.csv").write_text("stale\n", encoding="utf-8")
    export(out)
    assert (out / "runs.csv").read_text(encoding="utf-8").startswith("run_id,problem,")
    assert not list(out.glob(".*.tmp"))
