"""Your own optimizer everywhere: ``--plugin`` on compare (processes and Dask), train,
trajectories and study, ``plugins = [...]`` in a sweep TOML, and what a worker does
when it cannot import one. The optimizer is the docs' own ``mysignum`` example."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from optimlab.experiments import plugins
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.sweep import SINGLE_THREAD, run_sweep

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "optimizers.md"
SWEEP = ["--problem", "fmnist-logreg", "--lrs", "0.001", "--seeds", "0,1", "--epochs", "2",
         "--train-subset", "3000", "--quiet", "--no-report"]  # fmt: skip


def signum_source() -> str:
    """The docs' worked example, as a user would save it in a file."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    (block,) = [b for b in blocks if 'optim.register(\n    "mysignum"' in b]
    return block


@pytest.fixture(scope="module")
def plugin_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plugin") / "my_optimizers.py"
    path.write_text(signum_source(), encoding="utf-8")
    return path


def compare(out: Path, *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [OPTIMLAB, "compare", *SWEEP, "--out", str(out), *extra],
        capture_output=True, text=True, cwd=cwd,
    )  # fmt: skip


def stored(out: Path) -> dict[tuple, tuple]:
    """``{(optimizer, seed, epoch): (losses, accuracies)}`` of a sweep's database."""
    with sqlite3.connect(out / "results.db") as db:
        rows = db.execute(
            "SELECT r.optimizer, r.seed, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, "
            "e.val_accuracy, r.status FROM epochs e JOIN runs r USING (run_id)"
        ).fetchall()
    return {row[:3]: row[3:] for row in rows}


@pytest.fixture(scope="module")
def with_processes(plugin_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("processes")
    proc = compare(out, "--optimizers", "mysignum,demon-mysignumw,sgd", "--plugin",
                   str(plugin_file), "--workers", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "6 runs: 6 done" in proc.stdout
    return out


def test_a_plugin_optimizer_runs_in_spawned_workers(with_processes):
    numbers = stored(with_processes)
    assert {k[0] for k in numbers} == {"mysignum", "demon-mysignumw", "sgd"}
    assert len(numbers) == 12 and all(v[-1] == "done" for v in numbers.values())
    assert numbers[("mysignum", 0, 2)] != numbers[("sgd", 0, 2)]


def test_the_sweep_file_written_to_out_names_the_plugin_by_absolute_path(plugin_file, tmp_path):
    """A relative --plugin is stored absolute: OUT/config.toml is read from elsewhere."""
    out = tmp_path / "out"
    proc = compare(out, "--optimizers", "mysignum", "--plugin", plugin_file.name, "--seeds", "0",
                   "--epochs", "1", cwd=plugin_file.parent)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert SweepConfig.from_toml(out / "config.toml").plugins == [str(plugin_file)]


def test_the_run_records_the_plugin_with_its_sha256(with_processes, plugin_file):
    import hashlib

    with sqlite3.connect(with_processes / "results.db") as db:
        configs = [json.loads(c) for (c,) in db.execute("SELECT config FROM runs")]
    digest = hashlib.sha256(plugin_file.read_bytes()).hexdigest()
    for config in configs:
        assert config["plugins"] == [{"name": "my_optimizers.py", "kind": "file", "sha256": digest}]


def test_dask_workers_give_the_same_numbers(with_processes, plugin_file, tmp_path):
    proc = compare(tmp_path, "--optimizers", "mysignum,demon-mysignumw,sgd", "--plugin",
                   str(plugin_file), "--dask", "local:2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert stored(tmp_path) == stored(with_processes)


def test_train_with_a_sweep_runs_settings_gives_its_numbers(with_processes, plugin_file, tmp_path):
    """One RunConfig, one build(run): ``optimlab train`` reproduces the sweep's run exactly.
    By default it uses one BLAS thread, as a sweep worker (a float32 product's rounding
    depends on how it is split between threads), whatever the environment says."""
    env = {k: v for k, v in os.environ.items() if k not in SINGLE_THREAD}
    for optimizer, seed in (("mysignum", 1), ("demon-mysignumw", 0)):
        out = tmp_path / optimizer
        proc = subprocess.run(
            [OPTIMLAB, "train", "--problem", "fmnist-logreg", "--optimizer", optimizer,
             "--lr", "0.001", "--seed", str(seed), "--epochs", "2", "--train-subset", "3000",
             "--plugin", str(plugin_file), "--quiet", "--out", str(out)],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        history = json.loads((out / "history.json").read_text())
        sweep = stored(with_processes)
        for record in history["epochs"]:
            key = (optimizer, seed, record["epoch"])
            ours = (record["train_loss"], record["train_accuracy"], record["val_loss"],
                    record["val_accuracy"])  # fmt: skip
            assert ours == sweep[key][:4], key
        with sqlite3.connect(with_processes / "results.db") as db:
            ids = {r for (r,) in db.execute("SELECT run_id FROM runs")}
        assert history["run_id"] in ids


def test_a_sweep_file_names_plugins_relative_to_itself(plugin_file, tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "my_optimizers.py").write_text(plugin_file.read_text())
    (folder / "sweep.toml").write_text(
        'plugins = ["my_optimizers.py"]\noptimizers = ["mysignum"]\nlrs = [0.001]\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = compare(tmp_path / "out", "--config", str(folder / "sweep.toml"), "--workers", "1",
                   cwd=elsewhere)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2 runs: 2 done" in proc.stdout  # mysignum x seeds 0,1 from the command line
    written = SweepConfig.from_toml(tmp_path / "out" / "config.toml")
    assert written.plugins == [str(folder / "my_optimizers.py")]


def test_a_worker_that_cannot_import_the_plugin_fails_the_run_clearly(tmp_path, monkeypatch):
    plugin = tmp_path / "fragile.py"
    plugin.write_text(
        "import os\n"
        "from optimlab import optim\n"
        "from optimlab.optim.base import chain\n"
        "from optimlab.optim.transforms import ScaleByLearningRate\n"
        "if os.environ.get('OPTIMLAB_TEST_BREAK_PLUGIN'):\n"
        "    raise RuntimeError('this worker has no such library')\n"
        "def fragile(lr):\n"
        "    return chain(ScaleByLearningRate(lr))\n"
        "if 'fragile' not in optim.OPTIMIZERS:\n"
        "    optim.register('fragile', fragile, defaults={'lr': 0.01})\n"
    )
    config = SweepConfig(problem="fmnist-logreg", optimizers=["fragile", "sgd"], lrs=[0.01],
                         epochs=1, train_subset=500, plugins=[str(plugin)])  # fmt: skip
    config.validate()  # imported here, in the coordinator, before the environment changes
    monkeypatch.setenv("OPTIMLAB_TEST_BREAK_PLUGIN", "1")  # the spawned workers see it
    outcome = run_sweep(config, tmp_path / "out", workers=1, progress=False)
    # Every run of the sweep imports its plugins (sgd's too): each fails, the sweep ends.
    assert outcome.done == [] and len(outcome.failed) == 2
    for _, message in outcome.failed:
        assert message == (
            "PluginError: plugin fragile.py: importing it failed with RuntimeError: this worker "
            "has no such library"
        )
    with sqlite3.connect(tmp_path / "out" / "results.db") as db:
        assert {s for (s,) in db.execute("SELECT status FROM runs")} == {"failed"}


def test_a_file_named_like_a_standard_module_does_not_replace_it(tmp_path):
    plugin = tmp_path / "json.py"
    plugin.write_text("VALUE = 42\n")
    found = plugins.find(plugin)
    plugins.load([found])
    plugins.load([found])  # a second time: nothing happens
    assert sys.modules["json"] is json and json.dumps([1]) == "[1]"
    assert sys.modules[f"optimlab_plugin_{found.sha256[:16]}"].VALUE == 42


def test_a_shipped_source_is_used_where_the_file_is_missing(tmp_path):
    """A Dask worker on another machine has no copy of the file: the source travels."""
    text = "SHIPPED = 'yes'\n"
    plugin = tmp_path / "remote.py"
    plugin.write_text(text)
    found = plugins.find(plugin)
    texts = plugins.sources([found])
    plugin.unlink()
    code = (
        "import json, sys\n"
        "from optimlab.experiments import plugins\n"
        "record, texts = json.loads(sys.argv[1]), json.loads(sys.argv[2])\n"
        "p = plugins.Plugin.from_record(record)\n"
        "plugins.load([p], texts)\n"
        "print(sys.modules['optimlab_plugin_' + p.sha256[:16]].SHIPPED)\n"
        "try:\n"
        "    plugins.load([plugins.Plugin('other.py', '0' * 64, 'file')])\n"
        "except plugins.PluginError as e:\n"
        "    print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(found.record()),
                           json.dumps(texts)], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    shipped, error = proc.stdout.splitlines()
    assert shipped == "yes"
    assert error.startswith("plugin other.py (sha256 000000000000) cannot be imported here")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plugin", "missing_file.py"], "--plugin missing_file.py: cannot be read"),
        (["--plugin", "no_such_module_xyz"], "--plugin no_such_module_xyz: no module named"),
    ],
)
def test_bad_plugins_are_clear_errors_before_anything_is_written(tmp_path, args, message):
    proc = compare(tmp_path / "out", "--optimizers", "sgd", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "out").exists()


def test_study_takes_a_plugin(plugin_file, tmp_path):
    sweep = tmp_path / "tiny.toml"
    sweep.write_text(
        'problem = "fmnist-logreg"\noptimizers = ["mysignum", "sgd"]\nlrs = [0.001]\n'
        "seeds = [0, 1]\nepochs = 1\ntrain_subset = 1000\n"
    )
    page = tmp_path / "page.md"
    proc = subprocess.run(
        [OPTIMLAB, "study", "seed", "--config", str(sweep), "--plugin", str(plugin_file),
         "--out", str(tmp_path / "out"), "--page", str(page), "--quiet", "--workers", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "4 runs: 4 done" in proc.stdout
    assert "mysignum" in page.read_text()
