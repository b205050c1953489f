"""``optimlab compare`` end to end: SIGKILL and resume, failed runs, report, export."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_rows import epoch_rows, run_rows

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
SWEEP = [
    "compare", "--problem", "fmnist-logreg", "--optimizers", "adam,nesterov,demon-qhadamw",
    "--lrs", "1e-3,1e-2", "--seeds", "0,1", "--epochs", "4", "--batch-size", "64",
    "--train-subset", "30000", "--workers", "2", "--quiet",
]  # fmt: skip
TOTAL_EPOCHS = 3 * 2 * 2 * 4


def compare(out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [OPTIMLAB, *SWEEP, "--out", str(out), *extra], capture_output=True, text=True,
        env=env, timeout=600,
    )  # fmt: skip


def committed_epochs(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM epochs").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    proc = compare(out)
    assert proc.returncode == 0, proc.stderr
    assert "report:" in proc.stdout
    return out


def test_sigkill_mid_sweep_then_resume_gives_the_uninterrupted_rows(uninterrupted, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [OPTIMLAB, *SWEEP, "--out", str(out)], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while committed_epochs(out / "results.db") < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, mid-epoch
    proc.wait()
    done_at_kill = committed_epochs(out / "results.db")
    assert 4 <= done_at_kill < TOTAL_EPOCHS, "the sweep must be killed in the middle"
    with sqlite3.connect(out / "results.db") as db:
        statuses = {r[0] for r in db.execute("SELECT status FROM runs")}
    assert statuses & {"running", "pending"}

    resumed = compare(out)
    assert resumed.returncode == 0, resumed.stderr
    assert epoch_rows(out / "results.db") == epoch_rows(uninterrupted / "results.db")
    assert run_rows(out / "results.db") == run_rows(uninterrupted / "results.db")
    assert len(epoch_rows(out / "results.db")) == TOTAL_EPOCHS


def test_outputs_of_a_sweep(uninterrupted):
    for name in ("loss.png", "val_accuracy.png", "lr_sensitivity.png", "time.png"):
        assert (uninterrupted / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    report = (uninterrupted / "report.md").read_text()
    for name in ("adam", "nesterov", "demon-qhadamw"):
        assert name in report
    assert (uninterrupted / "report.html").read_text().count("data:image/png;base64,") >= 4
    assert (
        'optimizers = ["adam", "nesterov", "demon-qhadamw"]'
        in (uninterrupted / "config.toml").read_text()
    )


def test_report_is_rebuilt_from_the_database_alone(uninterrupted, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(uninterrupted / "results.db", copy / "results.db")
    proc = subprocess.run([OPTIMLAB, "report", str(copy)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (copy / "report.html").exists() and (copy / "lr_sensitivity.png").exists()


def test_export_csv(uninterrupted, tmp_path):
    import csv
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(uninterrupted, copy)
    proc = subprocess.run(
        [OPTIMLAB, "export", str(copy), "--format", "csv"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    with open(copy / "epochs.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == TOTAL_EPOCHS
    bad = subprocess.run(
        [OPTIMLAB, "export", str(copy), "--format", "xls"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "xls" in bad.stderr


def test_failed_runs_are_named_and_the_exit_status_is_nonzero(tmp_path):
    env = {
        **os.environ,
        "OPTIMLAB_CACHE": str(tmp_path / "cache"),
        "OPTIMLAB_MIRROR": "http://127.0.0.1:9/",  # nothing listens there: the download fails
    }
    proc = subprocess.run(
        [OPTIMLAB, "compare", "--problem", "mnist-mlp", "--optimizers", "sgd", "--lrs", "0.1",
         "--seeds", "0,1", "--epochs", "1", "--workers", "1", "--quiet", "--out",
         str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.count("failed run ") == 2
    with sqlite3.connect(tmp_path / "out" / "results.db") as db:
        rows = db.execute("SELECT status, error FROM runs").fetchall()
    assert [r[0] for r in rows] == ["failed", "failed"] and all(r[1] for r in rows)


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (
            ["--problem", "cifar-cnn", "--optimizers", "adam", "--lrs", "1e-3"],
            "unknown problem 'cifar-cnn'; did you mean 'cifar10-cnn'",
        ),
        (["--optimizers", "adam,nesterv", "--lrs", "1e-3"], "unknown optimizer 'nesterv'"),
        (["--optimizers", "adam", "--lrs", "0"], "rates must be finite and > 0; received 0.0"),
        (
            ["--optimizers", "adam", "--lrs", "1e-3", "-o", "nu=0.7"],
            "hyperparameter 'nu' \\(-o\\) is taken by none of the optimizers adam",
        ),
        (["--optimizers", "adam"], "the learning-rate grid of 'adam' is empty"),
    ],
)
def test_bad_command_lines_exit_2_with_the_reason(tmp_path, args, pattern):
    import re

    proc = subprocess.run(
        [OPTIMLAB, "compare", *args, "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert re.search(pattern, proc.stderr), proc.stderr
    assert not (tmp_path / "out").exists()


def test_out_is_required(capsys):
    from optimlab.cli import main

    assert main(["compare", "--optimizers", "adam", "--lrs", "1e-3"]) == 2
    assert "--out is required" in capsys.readouterr().err


def test_no_report_stores_the_sweep_only(tmp_path):
    args = ["compare", "--problem", "fmnist-logreg", "--optimizers", "sgd", "--lrs", "0.1",
            "--epochs", "1", "--train-subset", "2000", "--workers", "1", "--quiet", "--no-report",
            "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run([OPTIMLAB, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "results.db").exists() and not (tmp_path / "report.md").exists()
    assert "report:" not in proc.stdout
