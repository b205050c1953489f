"""``optimlab study deepobs``: its sweeps, the protocol's second stage and the generated page."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from PIL import Image
from sweep_rows import add_run

from optimlab.cli import main
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.store import Store
from optimlab.experiments.studies import deepobs
from optimlab.experiments.studies.deepobs_page import write_page

GRID = [10 ** (-5 + k / 5) for k in range(36)]


def test_the_study_sweeps_are_deepobs_protocol_on_its_grid():
    configs = deepobs.study_configs()
    assert set(configs) == set(deepobs.PROBLEMS)
    for problem, config in configs.items():
        config.validate()
        assert config.problem == problem and config.batch_size == 128 and config.tune
        assert config.optimizers == ["sgd", "momentum", "adam"]
        assert config.hyperparameters_of("momentum")["momentum"] == 0.99
        for name in config.optimizers:
            for lr in config.grid(name):  # every rate a point of DeepOBS's grid
                assert any(math.isclose(lr, g, rel_tol=1e-12) for g in GRID), (problem, lr)
    assert len(configs["quadratic-deep"].grid("sgd")) == 36  # the whole grid
    assert configs["quadratic-deep"].epochs == 100 and configs["fmnist-logreg-deepobs"].epochs == 50
    for name, published in deepobs.PUBLISHED_2C2D.items():  # at the published tuned rates
        assert configs["fmnist-2c2d"].grid(name) == [pytest.approx(published["lr"], rel=1e-9)]


def test_the_second_stage_reruns_the_best_rates_with_ten_seeds():
    config = deepobs.study_configs()["quadratic-deep"]
    staged = deepobs.final_stage(config, {"sgd": GRID[17], "momentum": GRID[12], "adam": GRID[22]})
    staged.validate()
    assert staged.seeds == list(range(10)) and staged.epochs == config.epochs
    assert staged.grid("sgd") == [GRID[17]] and staged.grid("adam") == [GRID[22]]
    assert staged.hyperparameters_of("momentum") == config.hyperparameters_of("momentum")


def rows(accuracies: dict[int, float], epochs: int) -> list[dict]:
    return [{"epoch": e, "train_loss": 0.5, "train_accuracy": 0.9, "val_loss": 0.3,
             "val_accuracy": accuracies.get(e, 0.88), "seconds": 10.0, "test_loss": 0.3,
             "test_accuracy": accuracies.get(e, 0.88), "steps": 422 * e,
             "gradient_evaluations": 422 * e} for e in range(1, epochs + 1)]  # fmt: skip


def fake_2c2d(out: Path, shift: float) -> None:
    """A 2c2d store whose test accuracies are DeepOBS's published means plus ``shift``."""
    folder = out / "fmnist-2c2d"
    folder.mkdir(parents=True)
    with Store(folder / "results.db") as store:
        store.set_settings({"problem": "fmnist-2c2d", "num_classes": 10, "metric": "accuracy",
                            "direction": "max", "tune": True})  # fmt: skip
        for name, published in deepobs.PUBLISHED_2C2D.items():
            seeds = list(published["seeds"].values())
            for seed in range(3):
                acc = {e: sum(s[e] for s in seeds) / 2 + shift + 0.001 * (seed - 1)
                       for e in deepobs.CHECKPOINTS}  # fmt: skip
                add_run(store, f"{name}-{seed}", name, published["lr"], seed, "done",
                        rows(acc, 10), epochs=10, problem="fmnist-2c2d")  # fmt: skip


def test_the_page_puts_the_published_numbers_beside_the_stored_ones(tmp_path):
    fake_2c2d(tmp_path / "out", shift=0.0)
    page, note = write_page(tmp_path / "out", tmp_path / "docs" / "deepobs.md")
    text = page.read_text()
    # DeepOBS's two seeds of SGD after epoch 1, and their mean, beside optimlab's three
    assert "| sgd | 0.158 | 1 | 84.77 ± 0.10 (n=3) | 83.36, 86.17 | 84.77 |" in text
    assert "+0.00 (within noise" in text
    assert "quadratic-deep" in text and "*Not run yet.*" in text  # the others: not run
    assert len(note) == 3 * len(deepobs.CHECKPOINTS)
    assert note[0] == "sgd epoch 1: optimlab 84.77% (n=3) vs DeepOBS 84.77%"
    with Image.open(tmp_path / "docs" / "deepobs" / "fmnist_2c2d_test_accuracy.png") as image:
        assert image.format == "PNG"


def test_a_clear_gap_is_called_a_gap(tmp_path):
    fake_2c2d(tmp_path / "out", shift=-0.03)
    text = write_page(tmp_path / "out", tmp_path / "page.md")[0].read_text()
    assert "-3.00 (lower;" in text and "within noise" not in text


def test_page_only_through_the_command_with_a_real_quadratic_and_logreg_sweep(tmp_path, capsys):
    out = tmp_path / "out"
    three = ["sgd", "momentum", "adam"]
    quadratic = SweepConfig(problem="quadratic-deep", optimizers=three, lrs=[GRID[12], GRID[16]],
                            seeds=[0, 1], epochs=3, tune=True)  # fmt: skip
    logreg = SweepConfig(problem="fmnist-logreg-deepobs", optimizers=three, lrs=[GRID[10]],
                         seeds=[0, 1], epochs=1, train_subset=2000, tune=True)  # fmt: skip
    from optimlab.experiments.sweep import run_sweep

    run_sweep(quadratic, out / "quadratic-deep", workers=1, progress=False)
    run_sweep(logreg, out / "fmnist-logreg-deepobs", workers=1, progress=False)
    page = tmp_path / "deepobs.md"
    assert main(["study", "deepobs", "--page-only", "--out", str(out), "--page", str(page)]) == 0
    text = page.read_text()
    section = text.split("## quadratic-deep")[1].split("##")[0]
    assert "| sgd | 0.0158 | 0.0158 |" in section  # our tuned rate beside DeepOBS's
    assert "(n=2)" in section and "43: 87.528" in section
    baseline = text.split("## fmnist-logreg-deepobs")[1]
    assert "| adam | 0.001 | 0.001 (" in baseline and "Verdicts on test accuracy" in baseline
    assert "wrote" in capsys.readouterr().out


def test_the_published_page_is_complete():
    root = Path(__file__).resolve().parents[2]
    page = root / "docs" / "deepobs.md"
    text = page.read_text()
    assert "*Generated by `optimlab study deepobs` from " in text
    assert "*Not run yet.*" not in text  # every problem of the study has numbers
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (page.parent / figure).is_file(), figure
    section = text.split("## fmnist-2c2d")[1].split("\n## ")[0]
    for name in deepobs.PUBLISHED_2C2D:
        for epoch in deepobs.CHECKPOINTS[:3]:  # at least the first epochs were run
            assert re.search(rf"\| {name} \| [0-9.]+ \| {epoch} \| [0-9.]+ ± [0-9.]+ \(n=3\)",
                             section), (name, epoch)  # fmt: skip


def test_the_second_stage_leaves_the_first_stage_config_alone():
    config = SweepConfig(problem="quadratic-deep", optimizers=["sgd"], lrs=GRID[10:13], seeds=[0])
    staged = deepobs.final_stage(config, {"sgd": GRID[11]})
    assert staged.seeds == list(deepobs.FINAL_SEEDS) and staged.grid("sgd") == [GRID[11]]
    assert config.seeds == [0] and config.grid("sgd") == GRID[10:13] and not config.per_optimizer
