"""A sweep with diagnostics and kept weights: stored, exported, resumed, numbers unchanged."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from optimlab.experiments import checkpoint
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.export import export
from optimlab.experiments.runner import build_run, run_epoch
from optimlab.experiments.store import Store
from optimlab.experiments.sweep import run_sweep
from optimlab.train.diagnostics import DIAGNOSTIC_NAMES
from optimlab.train.weights import flat_parameters

SUBSET = 1280  # 10 steps of 128 per epoch: diagnostics at steps 0 and 10, weights every 2


def small(**overrides) -> SweepConfig:
    values = dict(
        problem="fmnist-logreg", optimizers=["adam", "nesterov"], lrs=[1e-2], seeds=[0],
        epochs=2, train_subset=SUBSET, diagnostics=True, landscape=True,
    )  # fmt: skip
    values.update(overrides)
    return SweepConfig(**values)


def _numbers(db: Path) -> list[tuple]:
    """The epoch rows by (optimizer, lr, seed, epoch), without run ids and seconds."""
    with sqlite3.connect(db) as con:
        return sorted(con.execute(
            "SELECT r.optimizer, r.lr, r.seed, e.epoch, e.train_loss, e.val_loss, "
            "e.val_accuracy, e.test_loss FROM epochs e JOIN runs r USING (run_id)"
        ).fetchall())  # fmt: skip


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("observed")
    outcome = run_sweep(small(), out, workers=1, progress=False)
    assert len(outcome.done) == 2 and not outcome.failed
    return out


def test_every_run_has_its_diagnostics_per_epoch_layer_and_name(observed):
    with sqlite3.connect(observed / "results.db") as con:
        columns = [r[1] for r in con.execute("PRAGMA table_xinfo(diagnostics)")]
        assert columns[:5] == ["run", "epoch", "layer", "name", "value"]
        rows = con.execute("SELECT run, epoch, layer, name, value FROM diagnostics").fetchall()
    store = Store(observed / "results.db", readonly=True)
    runs = {r["run_id"] for r in store.runs()}
    assert {r[0] for r in rows} == runs
    layers = {r[2] for r in rows}
    assert len(layers) == 1  # logistic regression: one Dense layer
    assert {(r[0], r[1], r[3]) for r in rows} == {
        (run, epoch, name) for run in runs for epoch in (1, 2) for name in DIAGNOSTIC_NAMES
    }
    assert len(rows) == len(runs) * 2 * len(DIAGNOSTIC_NAMES)
    values = {(r[0], r[1], r[3]): r[4] for r in rows}
    for run in runs:
        assert values[run, 1, "grad_rms"] > 0 and values[run, 1, "update_rms"] > 0
        assert -1.0 <= values[run, 2, "cosine"] <= 1.0
    assert store.diagnostics(next(iter(runs)))[0]["run_id"] in runs


def test_every_run_keeps_its_weights_from_the_start_to_the_end(observed):
    store = Store(observed / "results.db", readonly=True)
    for run in store.runs():
        kept = store.weights(run["run_id"])
        assert [s for s, _, _ in kept] == list(range(0, 21, 2))  # the start, every 2nd step
        assert [e for _, e, _ in kept] == [0] + [1] * 5 + [2] * 5
        saved = checkpoint.from_bytes(
            (observed / "checkpoints" / f"{run['run_id']}.npz").read_bytes()
        )
        model = build_run(json.loads(run["config"])).model
        model.load_state_dict(saved["model"])  # the run's final weights
        np.testing.assert_array_equal(kept[-1][2], flat_parameters(model))
        assert kept[-1][2].dtype == np.float32
        assert not np.array_equal(kept[0][2], kept[-1][2])


def test_observing_leaves_the_numbers_alone_and_is_part_of_the_run_id(observed, tmp_path):
    run_sweep(small(diagnostics=False, landscape=False), tmp_path, workers=1, progress=False)
    assert _numbers(tmp_path / "results.db") == _numbers(observed / "results.db")
    plain = {r["run_id"] for r in Store(tmp_path / "results.db", readonly=True).runs()}
    seen = {r["run_id"] for r in Store(observed / "results.db", readonly=True).runs()}
    assert plain.isdisjoint(seen)
    assert Store(tmp_path / "results.db", readonly=True).diagnostics() == []


def test_a_resumed_sweep_stores_what_an_uninterrupted_one_does(observed, tmp_path):
    """Epoch 1 of each run as the coordinator leaves it when killed, then the same
    command again: every table the same as the uninterrupted sweep's."""
    specs = small().runs()
    with Store(tmp_path / "results.db") as store:
        store.claim_problem("fmnist-logreg")
        store.add_runs(spec.row() for spec in specs)
        (tmp_path / "checkpoints").mkdir()
        for spec in specs:
            result = run_epoch(spec.config, None)
            (tmp_path / "checkpoints" / f"{spec.run_id}.npz").write_bytes(result["checkpoint"])
            store.record(spec.run_id, result["epochs"], "running", result["seconds"],
                         diagnostics=result["diagnostics"], weights=result["weights"])  # fmt: skip
    run_sweep(small(), tmp_path, workers=1, progress=False)

    def tables(db: Path) -> tuple[list, list]:
        with sqlite3.connect(db) as con:
            diagnostics = sorted(con.execute("SELECT * FROM diagnostics").fetchall())
            weights = sorted(con.execute("SELECT run_id, step, epoch, vector FROM weights"))
        return diagnostics, weights

    assert tables(tmp_path / "results.db") == tables(observed / "results.db")
    assert _numbers(tmp_path / "results.db") == _numbers(observed / "results.db")


def test_a_crash_before_the_rows_were_committed_is_repaired_from_the_checkpoint(observed, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(observed, out)
    with sqlite3.connect(out / "results.db") as con:  # the last epoch's rows never landed
        con.execute("DELETE FROM epochs WHERE epoch = 2")
        con.execute("DELETE FROM diagnostics WHERE epoch = 2")
        con.execute("DELETE FROM weights WHERE epoch = 2")
        con.execute("UPDATE runs SET status = 'running'")
    run_sweep(small(), out, workers=1, progress=False)
    store, reference = (Store(p / "results.db", readonly=True) for p in (out, observed))
    for run in reference.runs():
        assert store.diagnostics(run["run_id"]) == reference.diagnostics(run["run_id"])
        assert [s for s, _, _ in store.weights(run["run_id"])] == list(range(0, 21, 2))
        np.testing.assert_array_equal(
            store.weights(run["run_id"])[-1][2], reference.weights(run["run_id"])[-1][2]
        )


def test_the_diagnostics_are_exported(observed):
    paths = export(observed, "csv")
    assert observed / "diagnostics.csv" in paths
    lines = (observed / "diagnostics.csv").read_text().splitlines()
    assert lines[0] == "run_id,optimizer,lr,seed,epoch,layer,name,value"
    assert len(lines) == 1 + 2 * 2 * len(DIAGNOSTIC_NAMES)


def test_the_sweep_file_takes_both_settings(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('problem = "fmnist-logreg"\noptimizers = ["adam"]\nlrs = [0.01]\n'
                    "diagnostics = true\nlandscape = true\n")  # fmt: skip
    config = SweepConfig.from_toml(path)
    assert config.diagnostics and config.landscape
    assert config.runs()[0].config["diagnostics"] is True
    assert SweepConfig.from_toml(path).runs() == config.runs()
    path.write_text('problem = "fmnist-logreg"\ndiagnostics = "yes"\n')
    with pytest.raises(ValueError, match=r'diagnostics must be true or false; received '
                                         r'diagnostics = "yes"'):  # fmt: skip
        SweepConfig.from_toml(path)


def test_flat_parameters_order_matches_the_checkpoint_model_order(observed):
    """The kept vectors use the model's parameter order (what landscape loads back)."""
    store = Store(observed / "results.db", readonly=True)
    run = store.runs()[0]
    built = build_run(json.loads(run["config"]))
    np.testing.assert_array_equal(flat_parameters(built.model), store.weights(run["run_id"])[0][2])
