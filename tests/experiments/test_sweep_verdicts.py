"""The verdicts of a sweep: synthetic stores with known truth, verdicts.json, the command line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sweep_rows

from optimlab import cli
from optimlab.experiments.analysis import summarize
from optimlab.experiments.export import export
from optimlab.experiments.report import write_report
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_verdicts import (
    METRICS,
    sweep_verdicts,
    verdicts_of_sweep,
)
from optimlab.experiments.verdicts import compare_pair

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
CONTRACT = {"a", "b", "metric", "difference", "ci", "p", "p_adjusted", "p_permutation",
            "verdict", "seeds", "seeds_needed"}  # fmt: skip


def add(store, optimizer, lr, seed, vals, status="done"):
    records = [
        {"epoch": i + 1, "train_loss": 1.0 - v, "train_accuracy": v, "val_loss": 1.0 - v,
         "val_accuracy": v, "seconds": 1.0}
        for i, v in enumerate(vals)
    ]  # fmt: skip
    sweep_rows.add_run(store, f"{optimizer}-{lr:g}-{seed}", optimizer, lr, seed, status, records)


def sweep(path: Path, finals: dict, *, tune: bool = True) -> Path:
    """``{(optimizer, lr): [best accuracy per seed]}`` as a store (two epochs per run: the
    second is the best)."""
    path.mkdir(parents=True, exist_ok=True)
    with Store(path / "results.db") as store:
        store.set_settings({"num_classes": 10, "tune": tune})
        for (optimizer, lr), values in finals.items():
            for seed, v in enumerate(values):
                add(store, optimizer, lr, seed, [v - 0.05, v])
    return path


def cells_of(path: Path):
    with Store(path / "results.db", readonly=True) as store:
        return summarize(store)


NOISE = np.array([0.003, -0.002, 0.001, -0.004, 0.002])


def test_identical_runs_are_equivalent_and_a_large_shift_is_better(tmp_path):
    base = 0.85 + NOISE
    out = sweep(tmp_path, {("adam", 1e-3): base, ("adamw", 1e-3): base,
                           ("sgd", 1e-5): base - 0.3 + NOISE[::-1] / 3})  # fmt: skip
    result = sweep_verdicts(cells_of(out), tune=True)
    by = {(c.a, c.b): c for c in result.comparisons}
    assert set(by) == {("adam", "adamw"), ("adam", "sgd"), ("adamw", "sgd")}
    same = by[("adam", "adamw")]
    assert same.verdict == "equivalent" and same.difference == 0.0 and same.ci == (0.0, 0.0)
    assert by[("adam", "sgd")].verdict == "better" and by[("adam", "sgd")].ci[0] > 0.25
    assert by[("adamw", "sgd")].paired and by[("adamw", "sgd")].seeds == 5
    group = result.groups[0]
    assert result.sentence("sgd", group) == "sgd: worse than adam, adamw"
    assert result.sentence("adam", group) == "adam: better than sgd; equivalent to adamw"


def test_a_small_shift_with_three_seeds_is_undetermined_and_says_how_many_would_tell(tmp_path):
    out = sweep(tmp_path, {("a", 0.1): [0.856, 0.850, 0.862], ("b", 0.1): [0.850, 0.852, 0.850]})
    (c,) = sweep_verdicts(cells_of(out), tune=True, rope=0.0).comparisons
    assert c.verdict == "undetermined" and c.seeds_needed is not None and c.seeds_needed > 3
    assert sweep_verdicts(cells_of(out), tune=True).groups[0].cells.keys() == {"a", "b"}
    sentence = sweep_verdicts(cells_of(out), tune=True, rope=0.0).sentence("a", _group(out))
    assert sentence == f"a: undetermined against b (about {c.seeds_needed} seeds would tell)"


def _group(out):
    return sweep_verdicts(cells_of(out), tune=True, rope=0.0).groups[0]


def test_the_seeds_needed_resolve_about_80_percent_of_simulated_sweeps():
    """An undetermined pair's seeds-needed estimate, taken as the truth (its observed mean
    difference and spread), resolves the difference in about 80% of simulated sweeps of
    that many seeds, judged by the whole engine (t-test and bootstrap interval)."""
    rng = np.random.default_rng(1)
    a = {s: 0.85 + rng.normal(0, 0.004) for s in range(4)}
    b = {s: v - 0.002 + rng.normal(0, 0.003) for s, v in a.items()}
    observed = compare_pair(a, b, rope=0.0)
    assert observed.verdict == "undetermined"
    n = observed.seeds_needed
    diffs = np.array([a[s] - b[s] for s in a])
    mean, spread = diffs.mean(), diffs.std(ddof=1)
    resolved, draws = 0, 300
    for draw in range(draws):
        d = rng.normal(mean, spread, n)
        base = {s: 0.85 for s in range(n)}
        shifted = {s: 0.85 + d[s] for s in range(n)}
        resolved += compare_pair(shifted, base, rope=0.0, seed=draw).verdict == "better"
    assert 0.70 <= resolved / draws <= 0.90, (n, resolved / draws)


def test_without_tune_each_shared_rate_is_a_group_and_holm_counts_them_all(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE, ("adam", 0.1): 0.80 + NOISE,
                           ("sgd", 0.01): 0.75 + NOISE[::-1], ("sgd", 0.1): 0.80 + NOISE[::-1],
                           ("sgd", 1.0): 0.5 + NOISE}, tune=False)  # fmt: skip
    result = sweep_verdicts(cells_of(out), tune=False)
    assert result.rates == "shared" and [g.label for g in result.groups] == [
        "at lr 0.01", "at lr 0.1", "at lr 1"]  # fmt: skip
    assert [(c.a, c.b, c.lr_a, c.lr_b) for c in result.comparisons] == [
        ("adam", "sgd", 0.01, 0.01), ("adam", "sgd", 0.1, 0.1)]  # fmt: skip
    alone = compare_pair(*[dict(enumerate(v)) for v in (0.85 + NOISE, 0.75 + NOISE[::-1])])
    first = result.comparisons[0]
    assert first.p == pytest.approx(alone.p) and first.p_adjusted == pytest.approx(
        min(1.0, max(2 * min(first.p, result.comparisons[1].p), first.p))
    )
    assert first.verdict == "better"


def test_a_pair_with_no_rate_in_common_is_listed_and_single_rates_are_compared(tmp_path):
    out = sweep(tmp_path / "apart", {("adam", 0.01): 0.85 + NOISE, ("adam", 0.1): 0.8 + NOISE,
                                     ("sgd", 0.5): 0.7 + NOISE}, tune=False)  # fmt: skip
    result = sweep_verdicts(cells_of(out), tune=False)
    assert result.comparisons == () and result.not_compared == (("adam", "sgd"),)
    record = result.record()
    assert record["not_compared"] == [{"a": "adam", "b": "sgd", "reason": "no rate in common"}]
    only = sweep(tmp_path / "only", {("adam", 0.01): 0.85 + NOISE, ("sgd", 0.5): 0.7 + NOISE},
                 tune=False)  # fmt: skip
    result = sweep_verdicts(cells_of(only), tune=False)
    assert result.rates == "only" and len(result.comparisons) == 1
    assert result.comparisons[0].verdict == "better"


def test_a_single_seed_is_undetermined_without_statistics(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): [0.9], ("sgd", 0.01): [0.8, 0.81]})
    (c,) = sweep_verdicts(cells_of(out), tune=True).comparisons
    assert c.verdict == "undetermined" and c.p is None and c.ci == (None, None)
    assert c.difference == pytest.approx(0.095) and c.seeds == 1 and "fewer than two" in c.note


def test_seeds_that_differ_are_compared_unpaired(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE, ("sgd", 0.01): 0.80 + NOISE})
    with Store(out / "results.db") as store:  # one more seed of sgd only
        add(store, "sgd", 0.01, 7, [0.75, 0.8])
    (c,) = sweep_verdicts(cells_of(out), tune=True).comparisons
    assert not c.paired and c.seeds == 5 and c.verdict == "better"


def test_failed_and_pending_runs_have_no_value_and_diverged_ones_count(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE[:3], ("sgd", 0.01): 0.80 + NOISE[:3]})
    with Store(out / "results.db") as store:
        add(store, "adam", 0.01, 3, [], status="failed")
        add(store, "sgd", 0.01, 3, [0.3], status="diverged")
    cells = cells_of(out)
    (c,) = sweep_verdicts(cells, tune=True).comparisons
    assert not c.paired  # adam: seeds 0-2; sgd: 0-3 (its diverged seed at 0.3)


def test_metric_final_and_test_and_bad_options(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE, ("sgd", 0.01): 0.8 + NOISE})
    final = sweep_verdicts(cells_of(out), tune=True, metric="final")
    assert final.metric == "final_val_accuracy" and final.comparisons[0].verdict == "better"
    with pytest.raises(ValueError, match="--metric test: this sweep holds no test accuracy"):
        sweep_verdicts(cells_of(out), tune=True, metric="test")
    with pytest.raises(ValueError, match="--metric must be one of best, final, test; received"):
        sweep_verdicts(cells_of(out), tune=True, metric="val")
    with pytest.raises(ValueError, match="--rope must be a finite number >= 0"):
        sweep_verdicts(cells_of(out), tune=True, rope=-0.1)
    with pytest.raises(ValueError, match=r"--confidence must be in \(0, 1\)"):
        sweep_verdicts(cells_of(out), tune=True, confidence=1.5)


def test_verdicts_json_follows_the_contract_and_reads_back(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE, ("adamw", 0.01): 0.85 + NOISE,
                           ("sgd", 0.01): [0.9]})  # fmt: skip
    path = verdicts_of_sweep(out, rope=0.002, confidence=0.9)
    assert path == out / "verdicts.json"
    data = json.loads(path.read_text())  # strict JSON: no NaN
    assert {"metric", "rope", "confidence", "comparisons"} <= set(data)
    assert (data["metric"], data["rope"], data["confidence"]) == ("best_val_accuracy", 0.002, 0.9)
    assert len(data["comparisons"]) == 3  # one per unordered pair
    for c in data["comparisons"]:
        assert CONTRACT <= set(c) and len(c["ci"]) == 2
        assert c["verdict"] in ("better", "worse", "equivalent", "undetermined")
    by = {frozenset((c["a"], c["b"])): c for c in data["comparisons"]}
    assert by[frozenset(("adam", "adamw"))]["verdict"] == "equivalent"
    single = by[frozenset(("adam", "sgd"))]  # sgd: one seed, its best mean ranks it first
    assert (single["a"], single["p"], single["ci"]) == ("sgd", None, [None, None])
    assert verdicts_of_sweep(out, rope=0.002, confidence=0.9).read_text() == path.read_text()


def test_export_and_report_include_the_verdicts(tmp_path):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE, ("sgd", 0.01): 0.8 + NOISE})
    paths = export(out, "csv", rope=0.003)
    with open(paths[-1], newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["a"], row["b"], row["verdict"], row["rope"]) == ("adam", "sgd", "better", "0.003")
    assert float(row["ci_low"]) > 0 and row["seeds"] == "5" and row["seeds_needed"] == ""
    json_paths = export(out, "json")
    assert json.loads(json_paths[-1].read_text())["comparisons"][0]["verdict"] == "better"
    md, html = write_report(out, confidence=0.8)
    text = md.read_text()
    assert "- adam: better than sgd" in text and "| 80% interval |" in text
    assert json.loads((out / "verdicts.json").read_text())["confidence"] == 0.8
    assert 'class="verdict" style="background:#4daf4a">better</td>' in html.read_text()


def test_cli_metric_names_are_the_engines():
    assert cli.VERDICT_METRICS == tuple(METRICS)


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--confidence", "120"], "expected a confidence level in (0, 1) or a percentage"),
     (["--rope", "-1"], "--rope must be a finite number >= 0"),
     (["--metric", "loss"], "invalid choice: 'loss'")],
)  # fmt: skip
def test_report_refuses_bad_verdict_options(tmp_path, flags, message):
    out = sweep(tmp_path, {("adam", 0.01): 0.85 + NOISE, ("sgd", 0.01): 0.8 + NOISE})
    proc = subprocess.run([OPTIMLAB, "report", str(out), *flags], capture_output=True, text=True)
    assert proc.returncode != 0 and message in proc.stderr
    assert not (out / "verdicts.json").exists()


def test_a_real_sweep_through_the_command_line(tmp_path):
    """adam and adamw without weight decay train identically: equivalent; sgd at a rate far
    too small: worse than both."""
    config = tmp_path / "sweep.toml"
    config.write_text(
        'problem = "fmnist-logreg"\noptimizers = ["adam", "adamw", "sgd"]\nseeds = [0, 1, 2]\n'
        "epochs = 2\nlrs = [0.001]\ntrain_subset = 2000\n"
        "[optimizer.adamw]\nweight_decay = 0.0\n[optimizer.sgd]\nlrs = [1e-6]\n"
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [OPTIMLAB, "compare", "--config", str(config), "--out", str(out), "--quiet",
         "--workers", "1", "--confidence", "90"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "verdicts.json").read_text())
    assert data["confidence"] == 0.9 and data["rope"] == 0.001
    by = {frozenset((c["a"], c["b"])): c for c in data["comparisons"]}
    same = by[frozenset(("adam", "adamw"))]
    assert same["verdict"] == "equivalent" and same["difference"] == 0.0 and same["seeds"] == 3
    for name in ("adam", "adamw"):
        c = by[frozenset((name, "sgd"))]
        assert c["verdict"] == ("better" if c["a"] == name else "worse"), c
    report = (out / "report.md").read_text()
    assert "sgd: worse than adam, adamw" in report and (out / "verdicts.png").is_file()


def test_an_older_store_gains_the_test_columns_and_reads_without_them(tmp_path):
    import sqlite3

    db = tmp_path / "results.db"
    with Store(db) as store:
        add(store, "adam", 0.01, 0, [0.8, 0.9])
    with sqlite3.connect(db) as raw:  # as a store from before test metrics
        raw.execute("ALTER TABLE epochs DROP COLUMN test_loss")
        raw.execute("ALTER TABLE epochs DROP COLUMN test_accuracy")
    with Store(db, readonly=True) as store:
        assert "test_accuracy" not in store.epoch_columns()
        assert summarize(store)[0].runs[0].test_accuracy is None
    paths = export(tmp_path)  # read-only: the missing columns are empty
    with open(paths[1], newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["test_accuracy"] for r in rows] == ["", ""]
    with Store(db) as store:  # opened for writing: the columns are added, old rows NULL
        assert {"test_loss", "test_accuracy"} <= set(store.epoch_columns())
        assert store.epochs()[0]["test_accuracy"] is None


def test_the_test_metric_compares_the_last_epochs_test_accuracy(tmp_path):
    with Store(tmp_path / "results.db") as store:
        store.set_settings({"num_classes": 10, "tune": True})
        for name, level in (("adam", 0.85), ("sgd", 0.80)):
            for seed, noise in enumerate(NOISE):
                records = [
                    {"epoch": e, "train_loss": 1.0, "train_accuracy": 0.5, "val_loss": 1.0,
                     "val_accuracy": 0.8 + noise, "seconds": 1.0,
                     "test_loss": 0.5, "test_accuracy": level + noise - 0.01 * (2 - e)}
                    for e in (1, 2)
                ]  # fmt: skip
                sweep_rows.add_run(store, f"{name}-{seed}", name, 0.01, seed, "done", records)
        cells = summarize(store)
    result = sweep_verdicts(cells, tune=True, metric="test")
    (c,) = result.comparisons
    assert result.metric == "test_accuracy" and c.metric == "test_accuracy"
    assert c.difference == pytest.approx(0.05) and c.verdict == "better"  # the last epoch's
    best = sweep_verdicts(cells, tune=True, metric="best").comparisons[0]
    assert best.verdict == "equivalent"  # the validation accuracies are identical
