"""The seed study: its sweep file, its verdicts on known numbers, its generated page."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sweep_rows import add_run

from optimlab import optim
from optimlab.cli import main
from optimlab.experiments.analysis import summarize
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.store import Store
from optimlab.experiments.studies import seed
from optimlab.experiments.studies.seed import ORIGINAL, study_config, verdicts
from optimlab.experiments.studies.seed_page import write_page

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "seed_study.toml"


def test_the_example_is_the_shipped_study():
    assert EXAMPLE.read_bytes() == seed.CONFIG.read_bytes()


def test_the_study_is_the_original_setup_with_five_seeds(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTIMLAB_CACHE", str(tmp_path))  # no MNIST there
    config = study_config()
    config.validate()
    assert config.problem == "fmnist-mlp" and config.init == "he"
    assert (config.epochs, config.batch_size, config.seeds) == (20, 128, [0, 1, 2, 3, 4])
    assert len(config.optimizers) == len(set(config.optimizers)) == 25
    assert set(ORIGINAL) <= set(config.optimizers)
    for name in config.optimizers:
        optim.resolve(name)
        assert 1e-3 in config.grid(name)
        assert config.grid(name) == config.grid("sgd")  # one grid for all: sensitivity is fair
    assert config.tune and len(config.runs()) == 25 * 5 * 5


def test_the_study_switches_to_mnist_when_its_files_are_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTIMLAB_CACHE", str(tmp_path))
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz"):  # fmt: skip
        (folder / name).write_bytes(b"x")
    assert study_config().problem == "fmnist-mlp"  # three of four files: not there
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"x")
    assert study_config().problem == "mnist-mlp"


def records(val: float, loss: float, epochs: int = 3) -> list[dict]:
    return [
        {"epoch": e, "train_loss": loss * (epochs - e + 1), "train_accuracy": val,
         "val_loss": 1.0, "val_accuracy": val - 0.01 * (epochs - e), "seconds": 1.0}
        for e in range(1, epochs + 1)
    ]  # fmt: skip


def fill(store: Store, table: dict[tuple[str, float], tuple[float, float, float]]) -> None:
    """``{(optimizer, lr): (val accuracy, train loss, spread)}``, five seeds each."""
    jitter = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) / 2.0
    for (name, lr), (val, loss, spread) in table.items():
        for s, j in enumerate(jitter):
            add_run(
                store, f"{name}-{lr:g}-{s}", name, lr, s, "done",
                records(val + spread * j, loss * (1 + spread * j)),
            )  # fmt: skip


def judged(tmp_path: Path, table) -> list:
    with Store(tmp_path / "results.db") as store:
        fill(store, table)
        return verdicts(summarize(store, num_classes=10))


BASE = {
    ("qhadamw", 1e-3): (0.88, 0.010, 0.001),
    ("adam", 1e-3): (0.87, 0.030, 0.001),
    ("nesterov", 1e-3): (0.89, 0.050, 0.001),
    ("momentum", 1e-3): (0.86, 0.060, 0.001),
}


def test_verdicts_hold_when_the_claimed_winner_is_clearly_best(tmp_path):
    loss, acc, sensitivity = judged(tmp_path, BASE)
    assert (
        loss.verdict == "holds"
        and "qhadamw has the lowest mean final training loss" in loss.evidence
    )
    assert acc.verdict == "holds" and "the runner-up is qhadamw 88.00" in acc.evidence
    assert "At each optimizer's tuned rate nesterov leads too" in acc.evidence
    assert sensitivity.verdict == "not measured"  # one rate only


def test_verdicts_do_not_hold_when_another_is_clearly_best(tmp_path):
    table = dict(BASE)
    table[("adam", 1e-3)] = (0.95, 0.001, 0.001)
    loss, acc, _ = judged(tmp_path, table)
    assert loss.verdict == "does not hold" and loss.evidence.startswith("adam has the lowest")
    assert acc.verdict == "does not hold" and "nesterov ranks 2 of 4" in acc.evidence
    assert "At each optimizer's tuned rate, adam leads (adam 95.00" in acc.evidence
    assert "and nesterov ranks 2 (nesterov 89.00" in acc.evidence


def test_verdicts_are_undetermined_when_seeds_overlap(tmp_path):
    table = dict(BASE)
    table[("adam", 1e-3)] = (0.8905, 0.0101, 0.05)  # a hair better on average, very noisy
    loss, acc, _ = judged(tmp_path, table)
    assert loss.verdict == "undetermined" and acc.verdict == "undetermined"
    # Losses 0.0101 +- 5% against 0.0100: inside the loss ROPE of 0.001, not the best alone.
    assert "equivalent to adam" in loss.evidence
    assert "undetermined against adam (" in acc.evidence and "seeds would tell)" in acc.evidence


def sensitivity_table(momentum_drop: float, adam_drop: float, spread: float = 0.002):
    table = {}
    for name in ("momentum", "nesterov", "demon-momentum"):
        for lr, drop in ((1e-3, momentum_drop), (1e-2, 0.0), (1e-1, momentum_drop)):
            table[(name, lr)] = (0.88 - drop + spread * len(name) / 10, 0.05, 0.001)
    for name in ("adam", "adamw", "qhadam"):
        for lr, drop in ((1e-4, adam_drop), (1e-3, 0.0), (1e-2, adam_drop)):
            table[(name, lr)] = (0.88 - drop + spread * len(name) / 10, 0.05, 0.001)
    table[("qhadamw", 1e-3)] = (0.8, 0.01, 0.001)
    return table


@pytest.mark.parametrize(
    ("momentum_drop", "adam_drop", "expected"),
    [(0.30, 0.02, "holds"), (0.06, 0.04, "does not hold"),
     (0.02, 0.30, "does not hold"), (0.05, 0.05, "does not hold")],
)  # fmt: skip
def test_sensitivity_verdict(tmp_path, momentum_drop, adam_drop, expected):
    *_, sensitivity = judged(tmp_path, sensitivity_table(momentum_drop, adam_drop))
    assert sensitivity.verdict == expected, sensitivity.evidence


def test_sensitivity_is_undetermined_when_the_families_overlap(tmp_path):
    """Drops of 2, 10 and 6 points against 3, 5 and 4: means 6 and 4, too noisy to tell."""
    table = {}
    for name, drop in (("momentum", 0.02), ("nesterov", 0.10), ("demon-momentum", 0.06),
                       ("adam", 0.03), ("adamw", 0.05), ("qhadam", 0.04)):  # fmt: skip
        for lr, d in ((1e-3, drop), (1e-2, 0.0), (1e-1, drop)):
            table[(name, lr)] = (0.88 - d, 0.05, 0.001)
    table[("qhadamw", 1e-3)] = (0.8, 0.01, 0.001)
    *_, sensitivity = judged(tmp_path, table)
    assert sensitivity.verdict == "undetermined", sensitivity.evidence
    assert "difference +2.00 points" in sensitivity.evidence


def test_the_page_is_generated_from_the_database(tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    with Store(out / "results.db") as store:
        fill(store, sensitivity_table(0.3, 0.02))
        add_run(store, "pending-1", "sgd", 1e-3, 0, "pending")
    SweepConfig(optimizers=["sgd", "momentum", "nesterov", "demon-momentum", "adam", "adamw",
                            "qhadam", "qhadamw"]).write(out / "config.toml")  # fmt: skip
    page = write_page(out, tmp_path / "docs" / "seed-study.md")
    text = page.read_text()
    assert "**Momentum methods are much more sensitive" in text and ": holds.**" in text
    assert "1 not finished yet" in text
    assert "| qhadamw | 0.0077 | 97.69 |" in text  # the original's numbers beside ours
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ")]
    assert rows.index("| sgd") < rows.index("| momentum") < rows.index("| qhadamw")  # config order
    assert "Fashion-MNIST" in text and "The data set differs" in text
    figures = tmp_path / "docs" / "seed-study"
    for name in ("loss_fixed_lr.png", "val_accuracy_fixed_lr.png", "val_accuracy_tuned_lr.png",
                 "lr_sensitivity.png"):  # fmt: skip
        assert f"(seed-study/{name})" in text
        with Image.open(figures / name) as image:
            assert image.format == "PNG"
    assert "(seed-study/verdicts.png)" in text and "Undetermined against it:" in text


def test_study_page_only_through_the_command(tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    with Store(out / "results.db") as store:
        fill(store, BASE)
    page = tmp_path / "page.md"
    assert main(["study", "seed", "--page-only", "--out", str(out), "--page", str(page)]) == 0
    assert "QHAdamW reaches the lowest training loss (at lr 1e-3): holds." in page.read_text()
    assert main(["study", "seed", "--page-only", "--out", str(tmp_path / "none"),
                 "--page", str(page)]) != 0  # fmt: skip
    assert "run the study first" in capsys.readouterr().err


def test_near_best_counts_the_rates_within_one_point(tmp_path):
    table = {("adam", lr): (acc, 0.1, 0.0) for lr, acc in
             ((1e-4, 0.880), (1e-3, 0.889), (1e-2, 0.8795), (1e-1, 0.5))}  # fmt: skip
    with Store(tmp_path / "results.db") as store:
        fill(store, table)
        cells = summarize(store, num_classes=10)
    assert seed.near_best(cells) == 3  # 0.889, 0.880 and 0.8795 are within one point
    assert seed.near_best(cells, within=0.0092) == 2  # 0.8795 is 0.95 points below
    assert seed.near_best(cells, within=0.4) == 4


def test_the_published_page_is_complete():
    page = ROOT / "docs" / "seed-study.md"
    text = page.read_text()
    assert "*Generated by `optimlab study seed` from " in text
    verdicts_found = re.findall(
        r"^- \*\*(.+?): (holds|does not hold|undetermined)\.\*\*", text, re.M
    )
    assert [claim.split()[0] for claim, _ in verdicts_found] == ["QHAdamW", "Nesterov", "Momentum"]
    assert "not finished yet" not in text  # generated from the finished sweep
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (page.parent / figure).is_file(), figure
    rows = [line for line in text.splitlines() if line.startswith("| ") and " ± " in line]
    assert len({row.split(" | ")[0] for row in rows}) == 25  # every configuration has numbers
