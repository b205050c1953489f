"""Scores, statistics over seeds and tuning of a sweep, checked against hand numbers."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys

import pytest
import sweep_rows

from optimlab.experiments.analysis import (
    Stat,
    curve,
    final_val_accuracy,
    summarize,
    summarize_run,
    sweep_settings,
    tuned,
)
from optimlab.experiments.store import Store


def add_run(store, optimizer, lr, seed, status, vals=(), losses=None, error=None):
    """One run with an epoch per validation accuracy in ``vals`` (2 s each)."""
    losses = losses or [1.0 / (i + 1) for i in range(len(vals))]
    records = [
        {
            "epoch": i + 1,
            "train_loss": loss,
            "train_accuracy": v,
            "val_loss": 1 - v,
            "val_accuracy": v,
            "seconds": 2.0,
        }
        for i, (v, loss) in enumerate(zip(vals, losses, strict=True))
    ]
    return sweep_rows.add_run(
        store, f"{optimizer}-{lr:g}-{seed}", optimizer, lr, seed, status, records,
        error=error, seconds=2.0 * len(vals),
    )  # fmt: skip


@pytest.fixture
def sweep(tmp_path):
    """adam: 3 rates (a diverged and a failed run at 0.1); sgd: 2 rates and a pending run;
    rmsprop: a single rate. 10 classes, target 0.85."""
    store = Store(tmp_path / "results.db")
    store.claim_problem("toy")
    store.set_settings({"num_classes": 10, "target_accuracy": 0.85, "tune": True})
    for seed, final in enumerate([0.80, 0.82, 0.84]):
        add_run(store, "adam", 0.001, seed, "done", [final - 0.1, final - 0.05, final])
    add_run(store, "adam", 0.01, 0, "done", [0.78, 0.83, 0.88], losses=[1.0, 0.5, 0.30])
    add_run(store, "adam", 0.01, 1, "done", [0.80, 0.85, 0.90], losses=[1.0, 0.5, 0.20])
    add_run(store, "adam", 0.01, 2, "done", [0.80, 0.89, 0.86], losses=[1.0, 0.5, 0.40])
    add_run(store, "adam", 0.1, 0, "diverged", [0.5])
    add_run(store, "adam", 0.1, 1, "done", [0.6, 0.8, 0.87], losses=[1.0, 0.6, 0.35])
    add_run(store, "adam", 0.1, 2, "failed", [0.7], error="MemoryError: out of memory")
    for seed, final in enumerate([0.70, 0.72, 0.74]):
        add_run(store, "sgd", 0.01, seed, "done", [final - 0.1, final])
    for seed, final in enumerate([0.80, 0.81, 0.79]):
        add_run(store, "sgd", 0.1, seed, "done", [final - 0.1, final])
    add_run(store, "sgd", 0.1, 3, "pending")
    for seed, final in enumerate([0.75, 0.76, 0.77]):
        add_run(store, "rmsprop", 0.01, seed, "done", [final])
    yield store
    store.close()


def cell_of(cells, optimizer, lr):
    (cell,) = [c for c in cells if c.optimizer == optimizer and c.lr == lr]
    return cell


# -- scores ---------------------------------------------------------------------------
def test_final_val_accuracy_rules():
    epochs = [{"epoch": 2, "val_accuracy": 0.7}, {"epoch": 1, "val_accuracy": 0.9}]
    assert final_val_accuracy({"status": "done"}, epochs, 10) == 0.7  # the last epoch, not best
    assert final_val_accuracy({"status": "diverged"}, epochs, 10) == pytest.approx(0.1)
    assert final_val_accuracy({"status": "diverged"}, [], 4) == 0.25
    assert final_val_accuracy({"status": "diverged"}, epochs, None) == 0.0
    for status in ("failed", "pending", "running"):
        assert final_val_accuracy({"status": status}, epochs, 10) is None
    assert final_val_accuracy({"status": "done"}, [], 10) is None


def test_diverged_in_first_epoch_scores_chance_for_best_and_final():
    run = {
        "run_id": "r",
        "optimizer": "sgd",
        "lr": 1.0,
        "seed": 0,
        "status": "diverged",
        "error": None,
        "seconds": 0.5,
    }
    summary = summarize_run(run, [], num_classes=5, target_accuracy=0.8)
    assert (summary.score, summary.best_val_accuracy) == (0.2, 0.2)
    assert summary.diverged_at == 1 and summary.final_train_loss is None
    assert summary.epochs_to_target is None


def test_settings_are_decoded_and_typed(sweep):
    sweep.set_settings({"command": "optimlab compare --tune", "target_accuracy": "0.9"})
    settings = sweep_settings(sweep)
    assert settings["problem"] == "toy" and settings["command"] == "optimlab compare --tune"
    assert settings["num_classes"] == 10 and settings["target_accuracy"] == 0.9
    assert settings["tune"] is True


# -- cells ----------------------------------------------------------------------------
def test_cells_cover_every_optimizer_and_rate(sweep):
    cells = summarize(sweep)
    assert [(c.optimizer, c.lr) for c in cells] == [
        ("adam", 0.001),
        ("adam", 0.01),
        ("adam", 0.1),
        ("rmsprop", 0.01),
        ("sgd", 0.01),
        ("sgd", 0.1),
    ]
    assert cell_of(cells, "sgd", 0.1).counts == {
        "pending": 1,
        "running": 0,
        "done": 3,
        "diverged": 0,
        "failed": 0,
    }


def test_statistics_of_a_clean_cell(sweep):
    cell = cell_of(summarize(sweep), "adam", 0.01)
    assert cell.final_train_loss.mean == pytest.approx(0.3)
    assert cell.final_train_loss.std == pytest.approx(0.1)
    assert cell.best_val_accuracy.mean == pytest.approx(0.89)  # seed 2 peaked at 0.89
    assert cell.best_val_accuracy.std == pytest.approx(0.01)
    assert cell.final_val_accuracy.mean == pytest.approx(0.88)
    assert cell.final_val_accuracy.std == pytest.approx(0.02)
    # 0.85 is reached at epoch 3, 2 (exactly 0.85 counts) and 2.
    assert cell.epochs_to_target.values == (3.0, 2.0, 2.0)
    assert cell.epochs_to_target.mean == pytest.approx(7 / 3) and cell.reached == 3
    assert cell.seconds.mean == 6.0


def test_diverged_run_counts_at_chance_and_failed_run_is_not_scored(sweep):
    cell = cell_of(summarize(sweep), "adam", 0.1)
    assert cell.counts["done"] == cell.counts["diverged"] == cell.counts["failed"] == 1
    assert cell.scored == 2
    assert cell.final_val_accuracy.values == pytest.approx((0.1, 0.87))
    assert cell.final_val_accuracy.mean == pytest.approx(0.485)
    assert cell.final_val_accuracy.std == pytest.approx(math.sqrt(2 * 0.385**2))
    assert cell.best_val_accuracy.values == pytest.approx((0.5, 0.87))  # max(chance, 0.5)
    assert cell.final_train_loss.values == (0.35,)  # done runs only
    assert cell.final_train_loss.std is None
    assert cell.epochs_to_target.values == (3.0,) and cell.reached == 1
    diverged = next(r for r in cell.runs if r.status == "diverged")
    assert diverged.diverged_at == 2 and diverged.score == pytest.approx(0.1)


def test_unfinished_runs_do_not_change_the_statistics(sweep):
    cell = cell_of(summarize(sweep), "sgd", 0.1)
    assert cell.final_val_accuracy.values == pytest.approx((0.80, 0.81, 0.79))
    assert cell.final_val_accuracy.std == pytest.approx(0.01)


def test_target_and_classes_can_be_overridden(sweep):
    cell = cell_of(summarize(sweep, num_classes=2, target_accuracy=0.95), "adam", 0.1)
    assert cell.final_val_accuracy.values == pytest.approx((0.5, 0.87))
    assert cell.reached == 0 and cell.epochs_to_target.mean is None


def test_curve_averages_the_seeds_that_have_the_epoch(sweep):
    cell = cell_of(summarize(sweep), "adam", 0.1)
    runs = [r for r in cell.runs if r.status in ("done", "diverged")]
    points = curve(runs, "val_accuracy")
    assert [e for e, _ in points] == [1, 2, 3]
    assert points[0][1].values == pytest.approx((0.5, 0.6))
    assert points[1][1].values == pytest.approx((0.8,))
    assert [s.mean for _, s in curve(runs, "cumulative_seconds")] == [2.0, 4.0, 6.0]


# -- tuning ---------------------------------------------------------------------------
def test_tuned_rate_position_and_edge(sweep):
    choices = tuned(summarize(sweep))
    adam, sgd, rmsprop = choices["adam"], choices["sgd"], choices["rmsprop"]
    assert (adam.lr, adam.index, adam.grid, adam.on_edge) == (0.01, 1, (0.001, 0.01, 0.1), False)
    assert (sgd.lr, sgd.index, sgd.on_edge, sgd.edge) == (0.1, 1, True, "largest")
    assert (rmsprop.lr, rmsprop.untuned, rmsprop.on_edge) == (0.01, True, False)


def test_diverged_seed_can_cost_a_rate_the_tuning(tmp_path):
    # 0.1 has the best done runs, but a diverged seed at chance pulls its mean below 0.01.
    with Store(tmp_path / "r.db") as store:
        store.set_settings({"num_classes": 10})
        for seed, final in enumerate([0.80, 0.80, 0.80]):
            add_run(store, "sgd", 0.01, seed, "done", [final])
        add_run(store, "sgd", 0.1, 0, "done", [0.9])
        add_run(store, "sgd", 0.1, 1, "done", [0.9])
        add_run(store, "sgd", 0.1, 2, "diverged", [])
        add_run(store, "sgd", 1.0, 0, "failed", error="boom")
        choice = tuned(summarize(store))["sgd"]
    assert (choice.lr, choice.index, choice.grid, choice.edge) == (
        0.01,
        0,
        (0.01, 0.1, 1.0),
        "smallest",
    )


def test_no_scored_run_means_no_choice(tmp_path):
    with Store(tmp_path / "r.db") as store:
        add_run(store, "sgd", 0.1, 0, "pending")
        add_run(store, "sgd", 0.2, 0, "failed", error="x")
        choice = tuned(summarize(store))["sgd"]
    assert choice.cell is None and choice.lr is None and not choice.on_edge


def test_stat_of_nothing_and_of_one_value():
    assert (Stat().n, Stat().mean, Stat().std, Stat().min) == (0, None, None, None)
    assert (Stat((2.0,)).mean, Stat((2.0,)).std) == (2.0, None)
    assert Stat((1.0, 2.0, 3.0, 4.0)).std == pytest.approx(statistics.stdev([1, 2, 3, 4]))


def test_analysis_does_not_import_matplotlib():
    code = "import sys, optimlab.experiments.analysis;print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
