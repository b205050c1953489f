"""The sweep coordinator: runs, store, resume, workers, Dask, errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_rows import epoch_rows, run_rows

from optimlab.experiments.config import SweepConfig, run_id
from optimlab.experiments.store import Store
from optimlab.experiments.sweep import run_sweep

SUBSET = 3000  # training examples per run: the tests check mechanics, not accuracy


def small(**overrides) -> SweepConfig:
    values = dict(
        problem="fmnist-logreg", optimizers=["adam", "nesterov"], lrs=[1e-3, 1e-2], seeds=[0, 1],
        epochs=2, train_subset=SUBSET,
    )  # fmt: skip
    values.update(overrides)
    return SweepConfig(**values)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    outcome = run_sweep(small(), out, workers=1, progress=False, command_line=["test"])
    assert outcome.total == 8 and len(outcome.done) == 8 and not outcome.failed
    return out


def test_store_holds_every_run_and_epoch(serial):
    store = Store(serial / "results.db", readonly=True)
    runs = store.runs()
    assert len(runs) == 8 and {r["status"] for r in runs} == {"done"}
    assert {(r["optimizer"], r["lr"], r["seed"]) for r in runs} == {
        (o, lr, s) for o in ("adam", "nesterov") for lr in (1e-3, 1e-2) for s in (0, 1)
    }
    assert len(store.epochs()) == 16
    assert all(1 <= e["epoch"] <= 2 and e["val_accuracy"] > 0.5 for e in store.epochs())
    (invocation,) = store.db.execute("SELECT * FROM invocations").fetchall()
    assert invocation["numpy_version"] and invocation["command_line"] == "test"
    assert store.setting("problem") == "fmnist-logreg"
    with sqlite3.connect(serial / "results.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert SweepConfig.from_toml(serial / "config.toml").runs() == small().runs()


def test_numbers_do_not_depend_on_the_number_of_workers(serial, tmp_path):
    run_sweep(small(), tmp_path, workers=2, progress=False)
    assert epoch_rows(tmp_path / "results.db") == epoch_rows(serial / "results.db")
    assert run_rows(tmp_path / "results.db") == run_rows(serial / "results.db")


def test_a_local_dask_cluster_gives_the_serial_numbers(serial, tmp_path):
    pytest.importorskip("distributed")
    run_sweep(small(), tmp_path, dask="local:2", progress=False)
    assert epoch_rows(tmp_path / "results.db") == epoch_rows(serial / "results.db")


def test_running_again_does_nothing_and_adding_runs_extends_the_store(serial, tmp_path):
    import shutil

    shutil.copytree(serial, tmp_path / "s")
    before = epoch_rows(tmp_path / "s" / "results.db")
    outcome = run_sweep(small(), tmp_path / "s", workers=1, progress=False)
    assert len(outcome.done) == 8
    assert epoch_rows(tmp_path / "s" / "results.db") == before
    run_sweep(small(optimizers=["adam", "nesterov", "sgd"], seeds=[0, 1, 2]), tmp_path / "s",
              workers=2, progress=False)  # fmt: skip
    rows = run_rows(tmp_path / "s" / "results.db")
    assert len(rows) == 3 * 2 * 3
    assert set(before) <= set(epoch_rows(tmp_path / "s" / "results.db"))


def test_a_diverging_run_is_kept_and_the_sweep_goes_on(tmp_path):
    outcome = run_sweep(
        small(optimizers=["sgd", "adam"], lrs=[1e38], seeds=[0], epochs=3), tmp_path,
        workers=1, progress=False,
    )  # fmt: skip
    store = Store(tmp_path / "results.db", readonly=True)
    status = {r["optimizer"]: r["status"] for r in store.runs()}
    assert status["sgd"] == "diverged"
    assert len(outcome.diverged) >= 1 and len(outcome.diverged) + len(outcome.done) == 2


def test_run_ids_follow_the_configuration():
    a, b = small().runs()[0], small(epochs=3).runs()[0]
    assert a.run_id == run_id(a.config) and len(a.run_id) == 16
    assert a.run_id != b.run_id
    assert len({r.run_id for r in small().runs()}) == 8


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"problem": "fmnist-mpl"}, r"unknown problem 'fmnist-mpl'; did you mean 'fmnist-mlp'"),
        ({"optimizers": ["adma"]}, r"unknown optimizer 'adma'"),
        ({"lrs": [1e-3, 0.0]}, r"learning rates must be finite and > 0; received 0.0"),
        ({"lrs": [-1.0]}, r"learning rates must be finite and > 0; received -1.0"),
        ({"lrs": []}, r"the learning-rate grid of 'adam' is empty"),
        ({"optimizers": []}, r"--optimizers must name at least one optimizer"),
        ({"seeds": []}, r"--seeds must hold at least one seed"),
        (
            {"hyperparameters": {"nu": 0.7}},
            r"hyperparameter 'nu' \(-o\) is taken by none of the optimizers",
        ),
        (
            {"hyperparameters": {"momentum": 1.5}},
            r"nesterov: momentum must be in \[0, 1\); received momentum=1.5",
        ),
        ({"epochs": 0}, r"epochs must be integers from 1 to 2\*\*63 - 1; received 0"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path, overrides, pattern):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=pattern):
        run_sweep(small(**overrides), out, workers=1, progress=False)
    assert not out.exists()


def test_a_store_of_another_problem_is_left_as_it_was(serial, tmp_path):
    import shutil

    shutil.copytree(serial, tmp_path / "s")
    db = tmp_path / "s" / "results.db"
    before = (db.read_bytes(), run_rows(db))
    with pytest.raises(
        ValueError,
        match=r"holds a sweep of problem 'fmnist-logreg'; received --problem 'fmnist-mlp'",
    ):
        run_sweep(small(problem="fmnist-mlp"), tmp_path / "s", workers=1, progress=False)
    assert (db.read_bytes(), run_rows(db)) == before


def test_a_corrupt_database_is_reported_and_left_alone(tmp_path):
    db = tmp_path / "results.db"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match=r"damaged or unreadable results database"):
        run_sweep(small(), tmp_path, workers=1, progress=False)
    assert db.read_bytes() == b"this is not sqlite" * 100


def test_list_problems():
    out = subprocess.run(
        [sys.executable, "-m", "optimlab.cli", "compare", "--list-problems"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for name in ("fmnist-mlp", "fmnist-cnn", "fmnist-logreg", "mnist-mlp", "cifar10-cnn"):
        assert name in out.stdout
    lines = {line.split()[0]: line for line in out.stdout.splitlines()}
    assert "[loss, lower" in lines["quadratic-deep"] and "DeepOBS" in lines["quadratic-deep"]
    assert "[accuracy, higher" in lines["fmnist-2c2d"]


def test_toml_round_trip_with_per_optimizer_grids_schedules_and_hyperparameters(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'problem = "fmnist-logreg"\noptimizers = ["adam", "nesterov"]\nlrs = [0.001]\n'
        "seeds = [0, 1]\nepochs = 2\ntrain_subset = 3000\n"
        "[hyperparameters]\nweight_decay = 0.01\n"
        '[optimizer.nesterov]\nlrs = [0.01, 0.1]\nmomentum = 0.95\nschedule = "cosine"\n'
        "warmup = 10\n[optimizer.adam]\nbetas = [0.8, 0.99]\n"
    )
    config = SweepConfig.from_toml(path)
    config.validate()
    runs = config.runs()
    assert [(r.optimizer, r.lr) for r in runs[::2]] == [
        ("adam", 1e-3),
        ("nesterov", 0.01),
        ("nesterov", 0.1),
    ]
    nesterov = runs[2].config
    assert nesterov["schedule"] == "cosine" and nesterov["warmup"] == 10
    assert nesterov["hyperparameters"] == {"momentum": 0.95, "weight_decay": 0.01}
    assert runs[0].config["hyperparameters"] == {"betas": [0.8, 0.99], "weight_decay": 0.01}
    assert runs[0].config["schedule"] == "constant"
    config.write(tmp_path / "again.toml")
    assert SweepConfig.from_toml(tmp_path / "again.toml").runs() == runs


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("problme = 'x'\n", r"unknown key\(s\) 'problme'"),
        ("problem = \n", r"not valid TOML"),
    ],
)
def test_bad_toml(tmp_path, text, pattern):
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=pattern):
        SweepConfig.from_toml(path)


def test_run_ids_of_existing_stores_are_unchanged():
    """The ids computed by the code before RunConfig existed (a store made then resumes)."""
    config = SweepConfig(
        problem="fmnist-mlp", optimizers=["adam", "demon-qhadamw"], lrs=[1e-3], seeds=[2],
        epochs=3, hyperparameters={"weight_decay": 0.01}, schedule="cosine", warmup=10,
    )  # fmt: skip
    assert [r.run_id for r in config.runs()] == ["ec0665db4d23e98e", "8f7bd5f7f359431d"]
    config.init = "he"
    assert [r.run_id for r in config.runs()] == ["e1fcf2f26c98bccf", "5c3765beebecb73b"]


def test_a_sweep_passes_sophia_a_closure_and_stores_its_gradient_evaluations(tmp_path):
    """SophiaH's Hessian-vector products need ``step(closure)``: the sweep runner gives
    one, the store counts its extra evaluations (2 per probe, every ``update_period``
    steps), and two workers give the serial numbers."""
    config = small(optimizers=["sophia", "adam"], lrs=[0.05], seeds=[0], epochs=1,
                   train_subset=1000)  # fmt: skip
    outcome = run_sweep(config, tmp_path / "serial", workers=1, progress=False)
    assert len(outcome.done) == 2 and not outcome.failed
    store = Store(tmp_path / "serial" / "results.db", readonly=True)
    by_optimizer = {r["optimizer"]: store.epochs(r["run_id"])[-1] for r in store.runs()}
    steps = by_optimizer["adam"]["steps"]
    hessian_steps = -(-steps // 10)  # steps 1, 11, 21, ... (update_period 10)
    assert by_optimizer["adam"]["gradient_evaluations"] == steps
    assert by_optimizer["sophia"]["steps"] == steps
    assert by_optimizer["sophia"]["gradient_evaluations"] == steps + 2 * hessian_steps
    run_sweep(config, tmp_path / "two", workers=2, progress=False)
    assert epoch_rows(tmp_path / "two" / "results.db") == epoch_rows(
        tmp_path / "serial" / "results.db"
    )
