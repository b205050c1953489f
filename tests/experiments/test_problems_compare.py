"""Every problem through ``optimlab compare`` with local workers and with a Dask cluster, and
the loss problems judged on their loss (lower is better) from tuning to the report."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_rows import epoch_rows

from optimlab.experiments.analysis import summarize, tuned
from optimlab.experiments.metric import Metric
from optimlab.experiments.problems import PROBLEMS
from optimlab.experiments.store import Store

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
#: Small enough to be quick on 2 cores (the 2c2d network is the slowest: its evaluation of
#: the 16,000 validation and test images dominates).
SUBSETS = {"fmnist-2c2d": 128, "fmnist-autoencoder": 512}
NEW = ["fmnist-2c2d", "fmnist-deepmlp", "fmnist-logreg-deepobs", "quadratic-deep",
       "fmnist-autoencoder"]  # fmt: skip


def compare(out: Path, problem: str, *extra: str) -> subprocess.CompletedProcess:
    args = [
        OPTIMLAB, "compare", "--problem", problem, "--optimizers", "sgd,adam",
        "--lrs", "1e-3,1e-2" if problem == "quadratic-deep" else "1e-3", "--seeds", "0",
        "--epochs", "2" if problem == "quadratic-deep" else "1",
        "--train-subset", str(SUBSETS.get(problem, 2048)), "--quiet", "--out", str(out), *extra,
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("problem", NEW)
def test_each_problem_runs_with_workers_and_with_dask_to_the_same_numbers(problem, tmp_path):
    pytest.importorskip("distributed")
    local = compare(tmp_path / "workers", problem, "--workers", "2")
    assert local.returncode == 0, local.stderr
    cluster = compare(tmp_path / "dask", problem, "--dask", "local:2")
    assert cluster.returncode == 0, cluster.stderr
    rows = epoch_rows(tmp_path / "workers" / "results.db")
    assert rows == epoch_rows(tmp_path / "dask" / "results.db")
    spec = PROBLEMS.get(problem)
    with Store(tmp_path / "workers" / "results.db", readonly=True) as store:
        epochs = store.epochs()
        assert store.setting("metric") == spec.metric
        assert store.setting("direction") == spec.direction
    assert epochs and all(e["steps"] == e["gradient_evaluations"] > 0 for e in epochs)
    for e in epochs:
        assert e["val_loss"] is not None and e["test_loss"] is not None
        if spec.metric == "accuracy":
            assert 0 <= e["val_accuracy"] <= 1 and 0 <= e["test_accuracy"] <= 1
        else:  # no classes: no accuracy anywhere
            assert e["train_accuracy"] is None and e["val_accuracy"] is None
            assert e["test_accuracy"] is None
    figure = f"val_{spec.metric}.png"
    assert (tmp_path / "workers" / figure).is_file()
    report = (tmp_path / "workers" / "report.md").read_text()
    assert f"Metric: validation {spec.metric}" in report


def test_steps_count_the_whole_run_and_resume_where_the_checkpoint_left(tmp_path):
    proc = compare(tmp_path / "q", "quadratic-deep", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    with Store(tmp_path / "q" / "results.db", readonly=True) as store:
        steps = sorted((e["run_id"], e["epoch"], e["steps"]) for e in store.epochs())
    # 1000 samples in batches of 128: 8 steps an epoch, counted over the run
    assert {(epoch, count) for _, epoch, count in steps} == {(1, 8), (2, 16)}


@pytest.fixture(scope="module")
def quadratic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quadratic")
    proc = subprocess.run(
        [OPTIMLAB, "compare", "--problem", "quadratic-deep", "--optimizers", "sgd,momentum,adam",
         "--lrs", "1e-3,1e-2,3e-2", "--seeds", "0,1,2", "--epochs", "5", "--tune",
         "-o", "momentum=0.9", "--workers", "2", "--quiet", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_quadratic_is_tuned_and_ranked_on_its_loss_lower_is_better(quadratic):
    with Store(quadratic / "results.db", readonly=True) as store:
        cells = summarize(store)
    assert cells[0].metric == Metric("loss", "min", 86.0, 353.5)
    for name, choice in tuned(cells).items():
        own = [c for c in cells if c.optimizer == name and c.final_val.n]
        lowest = min(own, key=lambda c: (c.final_val.mean, c.lr))
        assert choice.cell is lowest, name  # the lowest mean loss, not the highest
        assert all(0 < r.score < 353.5 for r in lowest.runs)
    verdicts = json.loads((quadratic / "verdicts.json").read_text())
    assert verdicts["metric"] == "best_val_loss" and verdicts["higher_is_better"] is False
    means = {c.optimizer: c.best_val.mean for c in (t.cell for t in tuned(cells).values())}
    for c in verdicts["comparisons"]:
        # a - b in loss; "better" means lower
        assert c["difference"] == pytest.approx(means[c["a"]] - means[c["b"]], rel=1e-9)
        if c["verdict"] == "better":
            assert c["difference"] < 0
        if c["verdict"] == "worse":
            assert c["difference"] > 0
    # the default ROPE of a loss: 0.1% of the median value compared
    median = sorted(means.values())[1]
    assert verdicts["rope"] == pytest.approx(0.001 * median, rel=1e-9)


def test_the_report_of_a_loss_problem_speaks_of_loss(quadratic):
    report = (quadratic / "report.md").read_text()
    assert "Metric: validation loss (lower is better); target: 86" in report
    assert "best val loss" in report and "final test loss" in report
    assert "val accuracy" not in report and "chance" not in report
    assert "the test loss is shown at the rate chosen" in report.replace("\n", " ")
    assert (quadratic / "val_loss.png").is_file() and not (quadratic / "val_accuracy.png").exists()


def test_a_diverged_run_of_a_loss_problem_scores_the_problems_worst_loss(tmp_path):
    proc = compare(tmp_path / "d", "quadratic-deep", "--lrs", "1", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    with Store(tmp_path / "d" / "results.db", readonly=True) as store:
        statuses = {r["optimizer"]: r["status"] for r in store.runs()}
        cells = {c.optimizer: c for c in summarize(store)}
    assert statuses["sgd"] == "diverged"  # lr 1 is beyond 2 / lambda_max = 0.038
    sgd = cells["sgd"]
    assert sgd.final_val.mean == 353.5 and sgd.test.mean == 353.5
    assert math.isfinite(sgd.best_val.mean) and sgd.best_val.mean <= 353.5


def test_a_loss_problem_refuses_an_accuracy_target(tmp_path):
    proc = compare(tmp_path / "t", "quadratic-deep", "--target-accuracy", "0.9")
    assert proc.returncode != 0
    assert "--target-accuracy is for problems judged by accuracy" in proc.stderr
    assert "give --target" in proc.stderr and not (tmp_path / "t" / "results.db").exists()
    proc = compare(tmp_path / "t", "fmnist-logreg", "--target", "2")
    assert proc.returncode != 0 and "--target must be in (0, 1]" in proc.stderr
    proc = compare(tmp_path / "t2", "quadratic-deep", "--target", "87.5", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    with Store(tmp_path / "t2" / "results.db", readonly=True) as store:
        assert float(store.setting("target")) == 87.5
