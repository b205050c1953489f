"""``optimlab benchmark`` and ``compare --budget`` end to end, through the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_rows import epoch_rows, run_rows

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
QUICK = ["benchmark", "--suite", "quick", "--optimizers", "sgd,adam", "--budget", "2",
         "--final-seeds", "2", "--quiet"]  # fmt: skip
PROBLEMS = ("quadratic-deep", "fmnist-logreg", "fmnist-mlp")
QUAD = ["compare", "--problem", "quadratic-deep", "--epochs", "3", "--quiet"]


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([OPTIMLAB, *args], capture_output=True, text=True, timeout=timeout)


def trials(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT * FROM trials ORDER BY optimizer, kind, study, trial"
        ).fetchall()


def committed(out: Path) -> int:
    total = 0
    for problem in PROBLEMS:
        try:
            with sqlite3.connect(f"file:{out / problem / 'results.db'}?mode=ro", uri=True,
                                 timeout=1) as conn:  # fmt: skip
                total += conn.execute("SELECT count(*) FROM epochs").fetchone()[0]
        except sqlite3.Error:
            pass
    return total


def without_seconds(record: dict) -> dict:
    """suite.json without what depends on the machine's speed."""
    problems = {p: {**v, "times": {m: t for m, t in v["times"].items() if m != "seconds"}}
                for p, v in record["problems"].items()}  # fmt: skip
    return {**record, "problems": problems, "scores": {"steps": record["scores"]["steps"]}}


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quick")
    proc = run(*QUICK, "--workers", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "report:" in proc.stdout
    return out


def test_the_quick_suite_writes_its_report_and_one_sweep_per_problem(quick):
    report = (quick / "report.md").read_text()
    for section in ("Time to target", "Performance profiles", "Integrated score",
                    "Verdicts per problem", "Tuned hyperparameters", "Budget spent"):  # fmt: skip
        assert f"## {section}" in report
    for problem in PROBLEMS:
        assert f"### {problem}" in report
        sub = (quick / problem / "report.md").read_text()
        assert "## Tuning protocol" in sub and "## Trials" in sub and "best_of_k.png" in sub
        assert (quick / problem / "best_of_k.png").read_bytes()[:4] == b"\x89PNG"
        assert len(trials(quick / problem / "results.db")) == 4  # 2 optimizers x 2 trials
    assert (quick / "profiles.png").read_bytes()[:4] == b"\x89PNG"
    html = (quick / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 1 + len(PROBLEMS)  # profiles + matrices
    record = json.loads((quick / "suite.json").read_text())
    assert set(record["problems"]) == set(PROBLEMS)
    assert set(record["scores"]["steps"]) == {"sgd", "adam"}
    assert record["protocol"]["budget"] == 2 and record["protocol"]["final_seeds"] == [0, 1]
    for value in record["scores"]["steps"].values():
        assert 0.0 <= value["low"] <= value["score"] <= value["high"] <= 1.0


def test_sigkill_mid_suite_then_resume_gives_the_same_numbers(quick, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [OPTIMLAB, *QUICK, "--workers", "2", "--out", str(out)], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # Half-way: the quadratic's final stage has begun while the others still run trials.
    total = sum(len(epoch_rows(quick / p / "results.db")) for p in PROBLEMS)
    deadline = time.monotonic() + 120
    while committed(out) < total // 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert total // 2 <= committed(out) < total, "the suite must be killed in the middle"
    assert not (out / "report.md").exists()

    resumed = run(*QUICK, "--workers", "2", "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    for problem in PROBLEMS:
        a, b = out / problem / "results.db", quick / problem / "results.db"
        assert trials(a) == trials(b)
        assert epoch_rows(a) == epoch_rows(b)
        assert run_rows(a) == run_rows(b)
    assert without_seconds(json.loads((out / "suite.json").read_text())) == without_seconds(
        json.loads((quick / "suite.json").read_text())
    )


@pytest.mark.parametrize("executor", [["--workers", "1"], ["--dask", "local:2"]])
def test_serial_and_dask_draw_and_train_the_same(quick, tmp_path, executor):
    out = tmp_path / "other"
    proc = run(*QUICK, *executor, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for problem in PROBLEMS:
        a, b = out / problem / "results.db", quick / problem / "results.db"
        assert trials(a) == trials(b)
        assert epoch_rows(a) == epoch_rows(b)


def test_benchmark_lists_suites_and_refuses_bad_ones(tmp_path):
    listed = run("benchmark", "--list-suites")
    assert listed.returncode == 0 and "quick" in listed.stdout and "deepobs-fmnist" in listed.stdout
    bad = run("benchmark", "--suite", "quik", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "did you mean 'quick'" in bad.stderr
    assert not (tmp_path / "x").exists()
    nothing = run("benchmark", "--suite", "quick")
    assert nothing.returncode == 2 and "--out are required" in nothing.stderr
    typo = run(
        "benchmark", "--suite", "quick", "--optimizers", "adma", "--out", str(tmp_path / "y")
    )
    assert typo.returncode == 2 and "unknown optimizer 'adma'; did you mean" in typo.stderr
    assert not (tmp_path / "y").exists()


def test_a_suite_file_of_ones_own(tmp_path):
    suite = tmp_path / "mine.toml"
    suite.write_text(
        'name = "mine"\noptimizers = ["sgd", "momentum"]\nbudget = 2\nfinal_seeds = 1\n'
        'epochs = 2\n[[problem]]\nproblem = "quadratic-deep"\ntarget = 300.0\n'
        "[optimizer.momentum]\nmomentum = 0.99\n"
    )
    proc = run("benchmark", "--suite", str(suite), "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Benchmark report: suite mine" in report
    with sqlite3.connect(tmp_path / "out" / "quadratic-deep" / "results.db") as db:
        hps = {
            json.loads(r[0]).get("momentum")
            for r in db.execute("SELECT hyperparameters FROM runs WHERE optimizer = 'momentum'")
        }
    assert hps == {0.99}  # fixed by the suite, not searched
    suite.write_text('name = "x"\n[[problem]]\nproblem = "quadratic-deep"\nbudgte = 2\n')
    bad = run("benchmark", "--suite", str(suite), "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "budgte" in bad.stderr


# -- compare --budget ---------------------------------------------------------------------
def test_a_larger_budget_reuses_the_trials_already_run(tmp_path):
    out = tmp_path / "grow"
    first = run(*QUAD, "--optimizers", "sgd,adam", "--budget", "2", "--final-seeds", "0",
                "--out", str(out))  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = {r[0]: r for r in epoch_rows(out / "results.db")}
    old = trials(out / "results.db")
    grown = run(*QUAD, "--optimizers", "sgd,adam", "--budget", "5", "--final-seeds", "0,1",
                "--out", str(out))  # fmt: skip
    assert grown.returncode == 0, grown.stderr
    now = trials(out / "results.db")
    assert now[:2] == old[:2] and len(now) == 10  # trials 0 and 1 of each kept, 3 more drawn
    after = epoch_rows(out / "results.db")
    assert all(r in after for r in before.values())  # nothing retrained
    with sqlite3.connect(out / "results.db") as db:
        count = db.execute("SELECT count(*) FROM runs").fetchone()[0]
        setting = json.loads(db.execute(
            "SELECT value FROM settings WHERE key = 'protocol'").fetchone()[0])  # fmt: skip
    assert setting["budget"] == 5
    # 10 trials, and each optimizer's chosen trial again at seed 1 (at seed 0 it is the trial)
    assert count == 12
    report = (out / "report.md").read_text()
    assert "5 quasi-random trials" in report and "re-run with seeds 0, 1" in report
    exported = run("export", str(out), "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    lines = (out / "trials.csv").read_text().splitlines()
    assert lines[0] == "optimizer,kind,study,trial,run_id,lr,seed,hyperparameters,status"
    assert len(lines) == 1 + 10 and [line.split(",")[4] for line in lines[1:]] == [
        r[4] for r in now
    ]


def test_another_search_seed_into_the_same_out_is_refused(tmp_path):
    out = tmp_path / "seeded"
    assert run(*QUAD, "--optimizers", "sgd", "--budget", "2", "--out", str(out)).returncode == 0
    before = epoch_rows(out / "results.db")
    other = run(*QUAD, "--optimizers", "sgd", "--budget", "2", "--search-seed", "1", "--out",
                str(out))  # fmt: skip
    assert other.returncode == 2
    assert "holds trial 0 of sgd (study 0) as another configuration (lr: stored" in other.stderr
    assert epoch_rows(out / "results.db") == before
    grid = run(*QUAD, "--optimizers", "sgd", "--lrs", "0.01", "--out", str(out))
    assert grid.returncode == 2 and "holds a tuning protocol's trials" in grid.stderr
    mixed = tmp_path / "grid"
    assert run(*QUAD, "--optimizers", "sgd", "--lrs", "0.01", "--out", str(mixed)).returncode == 0
    again = run(*QUAD, "--optimizers", "sgd", "--budget", "2", "--out", str(mixed))
    assert again.returncode == 2 and "holds a grid sweep" in again.stderr


def test_algoperf_studies_and_their_median_time(tmp_path):
    out = tmp_path / "algoperf"
    proc = run(*QUAD, "--optimizers", "sgd,momentum", "--protocol", "algoperf", "--studies",
               "2", "--budget", "3", "--target", "200", "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = trials(out / "results.db")
    assert len(rows) == 2 * 2 * 3 and {r[2] for r in rows} == {0, 1}
    report = (out / "report.md").read_text()
    assert "2 studies of 3 quasi-random trials" in report
    assert "median steps to target over studies" in report
    assert "| study | trial |" in report


def test_deepobs_protocol_runs_its_grid_then_ten_seeds(tmp_path):
    out = tmp_path / "deepobs"
    proc = run(
        "compare",
        "--problem",
        "quadratic-deep",
        "--epochs",
        "1",
        "--optimizers",
        "sgd",
        "--protocol",
        "deepobs",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(out / "results.db") as db:
        seeds = db.execute("SELECT seed, count(*) FROM runs GROUP BY seed").fetchall()
    assert dict(seeds) == {0: 36, **{s: 1 for s in range(1, 10)}}
    assert len(trials(out / "results.db")) == 36


def test_one_shot_and_a_schedule_in_the_search_space(tmp_path):
    out = tmp_path / "oneshot"
    proc = run(*QUAD, "--optimizers", "adam", "--protocol", "crowded-valley", "--budget",
               "one-shot", "--final-seeds", "2", "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(out / "results.db") as db:
        lrs = {r[0] for r in db.execute("SELECT lr FROM runs")}
    assert lrs == {1e-3}  # Adam's default
    sweep = tmp_path / "sched.toml"
    sweep.write_text(
        'problem = "quadratic-deep"\noptimizers = ["sgd"]\nepochs = 2\nbudget = 6\n'
        "final_seeds = [0]\n[optimizer.sgd.search]\nlr = {log = [1e-3, 1e-2]}\n"
        'schedule = {choice = ["constant", "cosine", "warmup-cosine", "step"]}\n'
    )
    out = tmp_path / "sched"
    proc = run("compare", "--config", str(sweep), "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(out / "results.db") as db:
        used = {json.loads(r[0])["schedule"] for r in db.execute("SELECT config FROM runs")}
    assert used == {"constant", "cosine", "warmup-cosine", "step"}
    assert "| trial | lr | schedule |" in (out / "report.md").read_text()


def test_one_shot_then_a_small_budget_into_the_same_out(tmp_path):
    out = tmp_path / "cv"
    base = [*QUAD, "--optimizers", "adam", "--protocol", "crowded-valley", "--out", str(out)]
    assert run(*base, "--budget", "one-shot", "--final-seeds", "1").returncode == 0
    grown = run(*base, "--budget", "3", "--final-seeds", "1")
    assert grown.returncode == 0, grown.stderr
    kinds = [(r[1], r[3]) for r in trials(out / "results.db")]
    assert kinds == [("defaults", 0), ("quasi-random", 0), ("quasi-random", 1),
                     ("quasi-random", 2)]  # fmt: skip
    report = (out / "report.md").read_text()
    assert "3 quasi-random trials" in report
    listed = report.split("## Trials")[1].split("## Tuned configurations")[0]
    assert len(re.findall(r"^\| [0-9]( ★| ☆)? \| ", listed, flags=re.M)) == 3
    assert "one trial at each optimizer's defaults" not in report


FRAGILE = """
from optimlab import optim
from optimlab.optim.transforms import ScaleByLearningRate


def fragile(lr):
    \"\"\"Plain SGD, p -= lr g, that refuses rates above 0.01 when built (a failing trial).\"\"\"
    if lr > 0.01:
        raise RuntimeError(f"fragile: lr={lr} is too large")
    return optim.chain(ScaleByLearningRate(lr))


if "fragile" not in optim.OPTIMIZERS:
    optim.register("fragile", fragile, defaults={"lr": 1e-3},
                   search={"lr": {"log": [1e-4, 1e-1]}})
"""


def test_a_failed_trial_holds_back_its_optimizers_final_seeds(tmp_path):
    plugin = tmp_path / "fragile.py"
    plugin.write_text(FRAGILE)
    out = tmp_path / "failing"
    proc = run(*QUAD, "--optimizers", "fragile,sgd", "--budget", "4", "--final-seeds", "2",
               "--plugin", str(plugin), "--out", str(out))  # fmt: skip
    assert proc.returncode == 1  # a run failed
    assert "trial(s) of fragile failed" in proc.stderr and "run the same command again" in (
        proc.stderr)  # fmt: skip
    with sqlite3.connect(out / "results.db") as db:
        seeds = dict(db.execute("SELECT optimizer, group_concat(DISTINCT seed) FROM runs "
                                "GROUP BY optimizer").fetchall())  # fmt: skip
        failed = db.execute("SELECT count(*) FROM runs WHERE status = 'failed'").fetchone()[0]
    assert failed >= 1
    assert seeds == {"fragile": "0", "sgd": "0,1"}  # sgd's finals ran, fragile's wait
