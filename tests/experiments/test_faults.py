"""``optimlab compare`` and friends under faults, signals and bad values.

Every case goes through the command line (a subprocess: exit code and message)
and, where a store exists, compares its files byte for byte before and after:
a refused command changes nothing already written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_rows import epoch_rows

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


def changed(args: list[str], change: list[str]) -> list[str]:
    """``args`` with each ``FLAG VALUE`` of ``change`` replaced, or added."""
    args = list(args)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args and flag != "-o":
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


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
    args = changed(BASE, change)
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
    reference = epochs_by_run(out)
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


def epochs_by_run(out: Path) -> list[tuple]:
    return epoch_rows(out / "results.db")


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


@pytest.mark.parametrize(
    ("sig", "code", "executor"),
    [
        (signal.SIGTERM, 143, []),
        (signal.SIGINT, 130, []),
        (signal.SIGTERM, 143, ["--dask", "local:2"]),  # the local cluster goes too
    ],
    ids=["sigterm", "sigint", "sigterm-dask"],
)
def test_a_signal_ends_the_coordinator_and_all_its_workers(tmp_path, sig, code, executor):
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [OPTIMLAB, "compare", *SLOW, "--out", str(out), *executor], stdout=subprocess.PIPE,
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


STARTUP_ABORT = """
import multiprocessing, signal, sys
from optimlab.experiments.sweep import LocalWorkers

class Stop(BaseException):
    pass

def stop(*_):
    raise Stop

if __name__ == "__main__":
    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, float(sys.argv[1]))
    try:
        workers = LocalWorkers(2)
    except Stop:
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("stopped", len(multiprocessing.active_children()))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)
        workers.close()
        print("started", len(multiprocessing.active_children()))
"""


def test_a_signal_while_the_workers_start_leaves_none_running(tmp_path):
    """SIGTERM can arrive while the spawned workers are still starting (the lock is
    already taken): they are stopped too, so the coordinator exits at once. The signal
    comes after a few delays, at least one of them inside the start-up."""
    script = tmp_path / "abort.py"
    script.write_text(STARTUP_ABORT)
    outcomes = []
    for after in (0.02, 0.1, 0.3, 0.6):
        proc = subprocess.run([sys.executable, str(script), str(after)], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        outcomes.append(proc.stdout.split())
    assert all(alive == "0" for _, alive in outcomes), outcomes
    assert ["stopped", "0"] in outcomes, outcomes


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


# -- damaged and unwritable files ----------------------------------------------------------
def damage_a_page(db: Path) -> None:
    """One whole page of the epochs table overwritten with garbage, behind the header and
    the schema (so opening the file and counting the runs still work)."""
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'epochs'").fetchone()[
            0
        ]
    data = bytearray(db.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xa5" * page_size
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("command", ["report", "export", "compare"])
def test_a_damaged_database_page_is_named_for_every_command(sweep, command):
    damage_a_page(sweep / "results.db")
    args = [str(sweep)] if command != "compare" else [*BASE, "--out", str(sweep)]
    refused(sweep, args, "damaged or unreadable results database", command=command)
    proc = optimlab(command, *args)
    assert str(sweep / "results.db") in proc.stderr
    assert "rebuilt from them" in proc.stderr
    assert "Traceback" not in proc.stderr


def immutable(path: Path, on: bool) -> None:
    """Read-only for everybody: ``chattr +i`` as root (who ignores modes), else a mode."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True)
    else:
        path.chmod(0o444 if on else 0o644)


def more_seeds(out: Path) -> list[str]:
    args = [*BASE, "--out", str(out)]
    args[args.index("--seeds") + 1] = "0,1,2"
    return args


def test_a_read_only_database_is_named(sweep):
    db = sweep / "results.db"
    immutable(db, True)
    try:
        before = snapshot(sweep)
        proc = optimlab("compare", *more_seeds(sweep))
        assert proc.returncode == 2, proc.stderr
        assert f"{db}: the results database could not be written" in proc.stderr
        assert "corrupt" not in proc.stderr and "damaged" not in proc.stderr
        assert snapshot(sweep) == before
    finally:
        immutable(db, False)


def test_a_read_only_checkpoint_folder_is_named(sweep):
    folder = sweep / "checkpoints"
    immutable(folder, True)
    try:
        proc = optimlab("compare", *more_seeds(sweep))
        assert proc.returncode == 2, proc.stderr
        assert f"{folder}/" in proc.stderr and "could not be written" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        immutable(folder, False)
    resumed = optimlab("compare", *more_seeds(sweep))
    assert resumed.returncode == 0, resumed.stderr  # and the sweep can go on


def test_a_file_size_limit_is_named(sweep):
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # < one checkpoint

    proc = subprocess.run([OPTIMLAB, "compare", *more_seeds(sweep)], capture_output=True,
                          text=True, preexec_fn=limit, timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "could not be written" in proc.stderr and str(sweep) in proc.stderr
    assert "File too large" in proc.stderr or "a file-size limit" in proc.stderr
    assert "Traceback" not in proc.stderr and "corrupt" not in proc.stderr
    resumed = optimlab("compare", *more_seeds(sweep))
    assert resumed.returncode == 0, resumed.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")
def test_a_full_disk_is_named(finished, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    size = sum(p.stat().st_size for p in finished.rglob("*") if p.is_file())
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size + 120_000}", "tmpfs", str(disk)],
                   check=True)  # fmt: skip
    try:
        out = disk / "sweep"
        shutil.copytree(finished, out)
        before = snapshot(out)
        proc = optimlab("compare", *more_seeds(out))
        assert proc.returncode == 2, proc.stderr
        assert "No space left on device" in proc.stderr or "disk is full" in proc.stderr
        assert "Traceback" not in proc.stderr
        after = snapshot(out)
        assert {k: v for k, v in after.items() if k in before} == before or (
            "results.db" in after  # rows committed before the disk filled are kept
        )
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# -- bad values, checked before anything is written ----------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--seeds", str(2**63)], "seeds must be integers from 0 to 2**63 - 1"),
        (["--epochs", str(2**64)], "epochs must be integers from 1 to 2**63 - 1"),
        (["--batch-size", str(2**63)], "batch_size must be integers from 1 to 2**63 - 1"),
        (["--train-subset", str(2**70)], "train_subset must be integers from 1 to 2**63 - 1"),
        (["--lrs", "inf"], "learning rates must be finite and > 0; received inf"),
        (["-o", "weight_decay=inf"], "weight_decay must be finite; received weight_decay=inf"),
        (["--target-accuracy", "0"], "--target-accuracy must be in (0, 1]"),
        (["--target-accuracy", "1.5"], "--target-accuracy must be in (0, 1]"),
        (["--dask", "local:0"], "--dask local:N needs N >= 1 workers; received 'local:0'"),
        (["--dask", "tcp://127.0.0.1:9"], "--dask 'tcp://127.0.0.1:9': cannot reach the scheduler"),
        (["-o", "momentun=0.9"], "did you mean 'momentum'"),
    ],
)
def test_bad_values_leave_an_existing_store_untouched(sweep, change, message):
    refused(sweep, [*changed(BASE, change), "--out", str(sweep)], message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "128,,64"], "without empty items; received '128,,64'"),
        (["--hidden", ""], "without empty items; received ''"),
        (["--lr", "0"], "train: --lr must be finite and > 0"),
        (["--epochs", str(2**63)], "train: epochs must be at most 2**63 - 1"),
        (["--seed", str(2**64)], "train: seed must be at most 2**63 - 1"),
        (["--batch-size", str(2**63)], "train: batch_size must be at most 2**63 - 1"),
        (["--threads", "0"], "argument --threads: expected an integer >= 1; received 0"),
    ],
)
def test_train_refuses_bad_values_before_writing(tmp_path, args, message):
    out = tmp_path / "out"
    proc = optimlab("train", "--epochs", "1", "--out", str(out), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("hyperparameters = 5\n", "hyperparameters must be a table; received hyperparameters = 5"),
        ("optimizer = 5\n", "optimizer must be a table of tables; received optimizer = 5"),
        (
            'optimizers = "adam"\n',
            'optimizers must be a list of strings; received optimizers = "adam"',
        ),
        ("lrs = 0.001\n", "lrs must be a list of numbers; received lrs = 0.001"),
        ("seeds = 3\n", "seeds must be a list of integers; received seeds = 3"),
        ('tune = "yes"\n', 'tune must be true or false; received tune = "yes"'),
        ('val_fraction = "0.1"\n', 'val_fraction must be a number; received val_fraction = "0.1"'),
        ('epochs = "10"\n', 'epochs must be an integer; received epochs = "10"'),
        (
            'optimizers = ["sgd"]\n[optimizer.sgd]\nlrss = [0.1]\n',
            "[optimizer.sgd]: unknown key 'lrss'; did you mean 'lrs'",
        ),
        (
            'optimizers = ["sgd"]\n[optimizer.sgd]\nlrs = 0.1\n',
            "[optimizer.sgd] lrs must be a list of numbers; received lrs = 0.1",
        ),
    ],
)
def test_sweep_files_with_values_of_the_wrong_type(sweep, tmp_path, toml, message):
    path = tmp_path / "sweep.toml"
    path.write_text(toml)
    refused(sweep, ["--config", str(path), "--out", str(sweep)], message)
    proc = optimlab("compare", "--config", str(path), "--out", str(sweep))
    assert str(path) in proc.stderr


def test_a_sweep_file_that_is_not_utf8(sweep, tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_bytes(b'problem = "fmnist-logreg"\n# caf\xe9\n')
    refused(sweep, ["--config", str(path), "--out", str(sweep)], f"{path}: not UTF-8 text")


def test_report_and_export_of_a_missing_folder_create_nothing(tmp_path):
    missing = tmp_path / "nowhere" / "sweep"
    for command in ("report", "export"):
        proc = optimlab(command, str(missing))
        assert proc.returncode == 2
        assert f"{missing}: no results database here" in proc.stderr
        assert not (tmp_path / "nowhere").exists()


# -- what comes out of the database --------------------------------------------------------
def test_report_markdown_escapes_what_the_database_holds(sweep):
    evil = "<img src=x onerror=alert(1)> [click](javascript:alert(1)) *x* | y"
    with sqlite3.connect(sweep / "results.db") as db:
        db.execute("UPDATE runs SET status = 'failed', error = ? WHERE run_id = "
                   "(SELECT run_id FROM runs LIMIT 1)", (evil,))  # fmt: skip
    proc = optimlab("report", str(sweep))
    assert proc.returncode == 0, proc.stderr
    md = (sweep / "report.md").read_text()
    assert "<img" not in md and not re.search(r"(?<!\\)\]\(javascript", md)  # no raw HTML, no link
    assert "&lt;img src=x onerror=alert(1)&gt; \\[click\\](javascript:alert(1)) \\*x\\* \\| y" in md
    html = (sweep / "report.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "1e+06 times the first epoch" in md  # the divergence rule is stated


def test_csv_export_defuses_spreadsheet_formulas(sweep):
    with sqlite3.connect(sweep / "results.db") as db:
        db.execute("UPDATE runs SET status = 'failed', error = '=HYPERLINK(\"http://x\")' "
                   "WHERE run_id = (SELECT run_id FROM runs LIMIT 1)")  # fmt: skip
    proc = optimlab("export", str(sweep))
    assert proc.returncode == 0, proc.stderr
    text = (sweep / "runs.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    import csv

    rows = list(csv.DictReader((sweep / "epochs.csv").open()))
    assert all(float(r["train_loss"]) > 0 for r in rows)  # numbers stay numbers


def test_a_plugin_named_like_a_standard_module_leaves_it_alone(sweep, tmp_path):
    """``json.py`` registers an optimizer; the store, report and export (which use the
    standard ``json``) work as before."""
    plugin = tmp_path / "json.py"
    plugin.write_text(
        "from optimlab import optim\n"
        "from optimlab.optim.base import chain\n"
        "from optimlab.optim.transforms import ScaleByLearningRate, Trace\n"
        "def jsonball(lr, momentum):\n"
        "    return chain(Trace(momentum), ScaleByLearningRate(lr))\n"
        "optim.register('jsonball', jsonball, defaults={'lr': 0.01, 'momentum': 0.5})\n"
    )
    out = tmp_path / "out"
    proc = optimlab("compare", *[a if a != "sgd,adam" else "jsonball,sgd" for a in BASE],
                    "--plugin", str(plugin), "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "4 runs: 4 done" in proc.stdout
    assert optimlab("export", str(out)).returncode == 0
    assert "jsonball" in (out / "runs.csv").read_text()
