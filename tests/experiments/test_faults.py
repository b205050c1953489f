"""``optimlab compare`` and friends under faults, signals and bad values.

Every case goes through the command line (a subprocess: exit code and message)
and, where a store exists, compares its files byte for byte before and after:
a refused command changes nothing already written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
BASE = ["--problem", "fmnist-logreg", "--optimizers", "sgd,adam", "--lrs", "0.01",
        "--seeds", "0,1", "--epochs", "2", "--train-subset", "2000", "--quiet", "--no-report",
        "--workers", "1"]  # fmt: skip


def optimlab(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([OPTIMLAB, *args], capture_output=True, text=True, timeout=600, **kwargs)


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file of a sweep folder that holds results: results.db (with its write-ahead
    log when that holds anything), config.toml, checkpoints, report files. SQLite's -shm
    index and an empty -wal (made by any reader of a WAL database) hold no data."""
    found = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file() or p.name.startswith(".") or p.name.endswith("-shm"):
            continue
        data = p.read_bytes()
        if p.name.endswith("-wal") and not data:
            continue
        found[str(p.relative_to(out))] = data
    return found


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "sweep"
    proc = optimlab("compare", *BASE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def sweep(finished, tmp_path) -> Path:
    """A private copy of a finished 4-run sweep."""
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    return out


def refused(out: Path, args: list[str], message: str, *, command: str = "compare") -> None:
    """The command exits 2 with ``message`` and leaves ``out``'s files as they were."""
    before = snapshot(out) if out.exists() else None
    proc = optimlab(command, *args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert message in proc.stderr, proc.stderr
    if before is None:
        assert not out.exists() or snapshot(out) == {}
    else:
        assert snapshot(out) == before


# -- unlike runs are never pooled as seeds --------------------------------------------------
@pytest.mark.parametrize(
    ("change", "what"),
    [
        (["--epochs", "3"], "epochs: stored 2, asked 3"),
        (["-o", "weight_decay=0.1"], 'hyperparameters: stored {}, asked {"weight_decay": 0.1}'),
        (["--schedule", "cosine"], 'schedule: stored "constant", asked "cosine"'),
        (["--batch-size", "64"], "batch_size: stored 128, asked 64"),
        (["--train-subset", "1000"], "train_subset: stored 2000, asked 1000"),
        (["--init", "he"], 'init: stored null, asked "he"'),
    ],
)
def test_another_setting_into_the_same_out_is_refused(sweep, change, what):
    args = [a for a in BASE]
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    refused(sweep, [*args, "--out", str(sweep)], what)
    proc = optimlab("compare", *args, "--out", str(sweep))
    assert "start a new --out" in proc.stderr and "Nothing was changed" in proc.stderr


def test_more_seeds_and_optimizers_still_extend_the_sweep(sweep):
    args = [*BASE, "--out", str(sweep)]
    args[args.index("--seeds") + 1] = "0,1,2"
    proc = optimlab("compare", *args)
    assert proc.returncode == 0, proc.stderr
    assert "6 runs: 6 done" in proc.stdout


def test_an_old_store_with_pooled_runs_is_not_analysed_as_seeds(sweep):
    """A store made before the refusal existed: the report names the clash."""
    with sqlite3.connect(sweep / "results.db") as db:
        run_id, config = db.execute("SELECT run_id, config FROM runs LIMIT 1").fetchone()
        config = json.loads(config)
        config["epochs"] = 7
        db.execute(
            "INSERT INTO runs SELECT 'ffffffffffffffff', problem, optimizer, lr, seed, "
            "hyperparameters, status, error, seconds, 7, ? FROM runs WHERE run_id = ?",
            (json.dumps(config), run_id),
        )
    proc = optimlab("report", str(sweep))
    assert proc.returncode == 2
    assert "two configurations" in proc.stderr and "epochs" in proc.stderr


# -- checkpoints ---------------------------------------------------------------------------
def run_ids(out: Path) -> list[str]:
    with sqlite3.connect(out / "results.db") as db:
        return [r for (r,) in db.execute("SELECT run_id FROM runs ORDER BY optimizer, seed")]


def test_a_checkpoint_copied_from_another_run_is_refused(tmp_path):
    out = tmp_path / "sweep"
    args = [*BASE, "--epochs", "3", "--out", str(out)]
    first = [*args]
    first[first.index("--epochs") + 1] = "3"
    proc = optimlab("compare", *args)
    assert proc.returncode == 0, proc.stderr
    reference = {r: rows for r, rows in epochs_by_run(out).items()}
    a, b = run_ids(out)[:2]
    # Make run b resumable from epoch 1, then give it run a's checkpoint.
    with sqlite3.connect(out / "results.db") as db:
        db.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > 1", (b,))
        db.execute("UPDATE runs SET status = 'running' WHERE run_id = ?", (b,))
    shutil.copy(out / "checkpoints" / f"{a}.npz", out / "checkpoints" / f"{b}.npz")
    proc = optimlab("compare", *args)
    assert proc.returncode == 0, proc.stderr
    assert f"checkpoint {out / 'checkpoints' / (b + '.npz')} belongs to run {a}" in proc.stderr
    assert f"run {b} starts from scratch" in proc.stderr
    assert epochs_by_run(out) == reference  # b's own numbers, not a's


def test_an_unreadable_checkpoint_restarts_its_run(sweep):
    reference = epochs_by_run(sweep)
    a = run_ids(sweep)[0]
    with sqlite3.connect(sweep / "results.db") as db:
        db.execute("DELETE FROM epochs WHERE run_id = ?", (a,))
        db.execute("UPDATE runs SET status = 'running' WHERE run_id = ?", (a,))
    (sweep / "checkpoints" / f"{a}.npz").write_bytes(b"garbage")
    proc = optimlab("compare", *BASE, "--out", str(sweep))
    assert proc.returncode == 0, proc.stderr
    assert "is not a readable checkpoint" in proc.stderr
    assert epochs_by_run(sweep) == reference


def epochs_by_run(out: Path) -> dict[str, list]:
    with sqlite3.connect(out / "results.db") as db:
        rows = db.execute(
            "SELECT run_id, epoch, train_loss, val_loss, val_accuracy FROM epochs "
            "ORDER BY run_id, epoch"
        ).fetchall()
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[1:])
    return found


# -- signals, locks, leftovers -------------------------------------------------------------
SLOW = [
    "--problem", "fmnist-mlp", "--optimizers", "sgd,adam", "--lrs", "0.01", "--seeds", "0,1,2",
    "--epochs", "6", "--quiet", "--no-report", "--workers", "2",
]  # fmt: skip


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout
    pairs = [tuple(map(int, line.split())) for line in out.splitlines() if line.strip()]
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in pairs if pp == parent]
        found += kids
        frontier += kids
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (reparented, not yet reaped) counts as gone.
    status = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return status.stdout.strip().startswith("Z") or not status.stdout.strip()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_the_coordinator_and_all_its_workers(tmp_path, sig, code):
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [OPTIMLAB, "compare", *SLOW, "--out", str(out)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline:
        workers = children(proc.pid)
        if len(workers) >= 2 and (out / "results.db").exists():
            break
        time.sleep(0.1)
    time.sleep(1.0)  # the workers are training
    assert len(workers) >= 2, "the sweep never started its workers"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "optimlab: interrupted; run the same command again to resume" in err
    deadline = time.monotonic() + 20
    while not all(gone(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(gone(p) for p in workers), "workers outlived the coordinator"
    assert not (out / ".optimlab.lock").exists()
    assert not list(out.rglob("*.tmp"))


def test_a_second_coordinator_on_the_same_out_is_refused(tmp_path):
    out = tmp_path / "sweep"
    first = subprocess.Popen([OPTIMLAB, "compare", *SLOW, "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (out / ".optimlab.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc = optimlab("compare", *SLOW, "--out", str(out))
        assert proc.returncode == 2
        assert f"is in use by another optimlab compare (process {first.pid}" in proc.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)


def test_a_stale_lock_and_leftover_temporary_files_are_cleaned_up(sweep):
    (sweep / ".optimlab.lock").write_text(json.dumps(
        {"pid": 2**22 + 12345, "host": os.uname().nodename, "since": 0.0}))  # fmt: skip
    leftovers = [sweep / ".config.toml.abc123.tmp", sweep / "checkpoints" / ".x.npz.def456.tmp"]
    for path in leftovers:
        path.write_bytes(b"half")
    proc = optimlab("compare", *BASE, "--out", str(sweep))
    assert proc.returncode == 0, proc.stderr
    assert not any(p.exists() for p in leftovers)
    assert not (sweep / ".optimlab.lock").exists()


# -- odd paths and repeated values ---------------------------------------------------------
@pytest.mark.parametrize("name", ["a%b", "what?", "hash#tag", "x%20y"])
def test_odd_characters_in_out(finished, tmp_path, name):
    out = tmp_path / name
    shutil.copytree(finished, out)
    if name == "x%20y":  # the sibling a bad URI would read instead
        (tmp_path / "x y").mkdir()
    report = optimlab("report", str(out))
    assert report.returncode == 0, report.stderr
    exported = optimlab("export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert (out / "runs.csv").read_text().count("\n") == 5  # header and 4 runs


@pytest.mark.parametrize(
    ("flag", "values", "message"),
    [
        ("--seeds", "1,1", "--seeds lists 1 twice"),
        ("--lrs", "0.01,0.01", "the learning-rate grid of 'sgd' lists 0.01 twice"),
        ("--optimizers", "sgd,sgd", "--optimizers lists a name twice"),
    ],
)
def test_repeated_values_are_refused(tmp_path, flag, values, message):
    args = [*BASE, "--out", str(tmp_path / "out")]
    args[args.index(flag) + 1] = values
    refused(tmp_path / "out", args, message)
