"""The sweep's figures and its Markdown and HTML report, from a synthetic store."""

from __future__ import annotations

import base64
import re

import matplotlib.image
import pytest
import sweep_rows

from optimlab.experiments.report import write_report
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_plots import FIGURES, plot_sweep

PNG = b"\x89PNG\r\n\x1a\n"


def add_run(store, optimizer, lr, seed, status, vals=(), error=None):
    records = [
        {
            "epoch": i + 1,
            "train_loss": 1.0 - v,
            "train_accuracy": v,
            "val_loss": 1.1 - v,
            "val_accuracy": v,
            "seconds": 1.5,
        }
        for i, v in enumerate(vals)
    ]
    return sweep_rows.add_run(
        store, f"{optimizer}-{lr:g}-s{seed}", optimizer, lr, seed, status, records,
        error=error, seconds=1.5 * len(vals), hyperparameters={"momentum": 0.9},
        batch_size=64, schedule="cosine", warmup=1,
    )  # fmt: skip


@pytest.fixture
def out(tmp_path):
    """A sweep folder: adam tuned inside its grid, sgd on the edge, a diverged, a failed and
    a pending run."""
    with Store(tmp_path / "results.db") as store:
        store.claim_problem("toy")
        store.set_settings(
            {
                "num_classes": 10,
                "target_accuracy": 0.85,
                "tune": True,
                "command": "optimlab compare --problem toy --tune",
            }
        )
        store.record_invocation(["optimlab", "compare", "--problem", "toy", "--tune"])
        for seed in range(3):
            d = 0.01 * seed
            add_run(store, "adam", 0.001, seed, "done", [0.5 + d, 0.6 + d, 0.7 + d])
            add_run(store, "adam", 0.01, seed, "done", [0.7 + d, 0.85 + d, 0.88 + d])
            add_run(store, "sgd", 0.01, seed, "done", [0.4 + d, 0.5 + d, 0.6 + d])
            add_run(store, "sgd", 0.1, seed, "done", [0.6 + d, 0.7 + d, 0.8 + d])
        add_run(store, "adam", 0.1, 0, "diverged", [0.3])
        add_run(store, "adam", 0.1, 1, "failed", error="ValueError: bad | pipe\nsecond line")
        add_run(store, "adam", 0.1, 2, "done", [0.5, 0.6, 0.65])
        add_run(store, "sgd", 0.1, 3, "pending")
    return tmp_path


def test_plot_sweep_writes_four_valid_pngs(out):
    with Store(out / "results.db", readonly=True) as store:
        paths = plot_sweep(store, out / "figures")
    assert [p.name for p in paths] == list(FIGURES)
    for path in paths:
        assert path.read_bytes()[:8] == PNG
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert not list((out / "figures").glob(".*.tmp"))


def test_plot_sweep_of_a_sweep_without_finished_runs(tmp_path):
    with Store(tmp_path / "results.db") as store:
        add_run(store, "sgd", 0.1, 0, "pending")
        paths = plot_sweep(store, tmp_path)
    assert all(p.read_bytes()[:8] == PNG for p in paths)


def test_report_files_and_figures(out):
    md, html = write_report(out)
    assert (md, html) == (out / "report.md", out / "report.html")
    assert all((out / name).read_bytes()[:8] == PNG for name in FIGURES)
    assert not list(out.glob(".*.tmp"))


def test_html_is_self_contained_with_five_embedded_images(out):
    """The four figures of the sweep and the verdict matrix."""
    text = write_report(out / "results.db", out / "elsewhere")[1].read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 5
    assert all(base64.b64decode(data)[:8] == PNG for data in images)
    assert len(re.findall(r"<img\b", text)) == 5
    assert (out / "elsewhere" / "verdicts.png").read_bytes()[:8] == PNG
    assert not re.search(r"https?:", text)
    assert not re.search(r"<(link|script)\b", text)
    assert "<style>" in text and "<table>" in text


def test_markdown_lists_diverged_and_failed_runs(out):
    md = write_report(out)[0].read_text(encoding="utf-8")
    section = md.split("## Diverged and failed runs")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| adam")]
    assert len(rows) == 2
    assert rows[0].startswith("| adam-0.1-s0 | adam | 0.1 | 0 | diverged | diverged in epoch 2")
    # The error keeps its text, on one line, with the pipe escaped for the table.
    assert rows[1] == (
        "| adam-0.1-s1 | adam | 0.1 | 1 | failed | ValueError: bad \\| pipe second line |"
    )


def test_markdown_configuration_tables_tuning_and_ranking(out):
    md = write_report(out)[0].read_text(encoding="utf-8")
    assert md.startswith("# Sweep report: toy\n")
    for fact in (
        "Grid of adam: 0.001, 0.01, 0.1",
        "Seeds: 0, 1, 2, 3",
        "Batch size: 64",
        "Schedule: cosine, warmup 1",
        "`optimlab compare --problem toy --tune`",
        "1 pending and 0 running (this report is partial)",
        "Metric: validation accuracy (higher is better); target: 85%",
        'Hyperparameters of sgd: {"momentum": 0.9}',
    ):
        assert fact in md, fact
    assert re.search(r"\| [0-9.]+ \| [0-9.]+ \| 3\.11\.\d+ \|", md)  # the versions table
    # adam at 0.01: best and final val accuracy 0.88, 0.89, 0.90 -> 89.00 ± 1.00 %;
    # train loss 0.12, 0.11, 0.10; 0.85 reached at epoch 2 by all seeds.
    adam = next(line for line in md.splitlines() if line.startswith("| 0.01 (tuned)"))
    cells = [c.strip() for c in adam.strip("|").split("|")]
    assert cells[1:7] == [
        "3 done",
        "0.1100 ± 0.0100",
        "89.00 ± 1.00 %",
        "89.00 ± 1.00 %",
        "—",  # no test accuracy stored
        "2.0 (3 of 3 reached)",
    ]
    # adam at 0.1: the diverged run counts at chance 0.1 in the final accuracy, the failed
    # one not at all: (0.1 + 0.65) / 2.
    line = next(x for x in md.splitlines() if x.startswith("| 0.1 |") and "diverged" in x)
    assert "1 done, 1 diverged, 1 failed" in line and "| 37.50 ± 38.89 % |" in line
    assert "| adam | 0.01 | 2 of 3 | 89.00 ± 1.00 % | — | inside the grid |" in md
    assert "| sgd | 0.1 | 2 of 2 | 81.00 ± 1.00 % | — | ⚠ on the edge: the largest rate" in md
    ranking = md.split("## Ranking and verdicts")[1].split("\n## ")[0]
    assert "| 1 | adam | 0.01 | 89.00 ± 1.00 % | 3 | — |" in ranking
    assert "| 2 | sgd | 0.1 | 81.00 ± 1.00 % | 3 | worse than adam |" in ranking
    # Every seed is 8 points apart: no spread, an exact difference, better at any level.
    assert (
        "| adam | sgd | +8.000 | \\[+8.000, +8.000\\] | 0 | 0 | 0.25 | 1.00 | better | 3 | — |"
        in ranking
    )
    assert "First: adam, better than every other optimizer." in ranking
    assert "- adam: better than sgd\n- sgd: worse than adam" in ranking
    assert "| adam | — | better |" in ranking and "| sgd | worse | — |" in ranking


def test_single_seed_ranking_says_noise_cannot_be_judged(tmp_path):
    with Store(tmp_path / "results.db") as store:
        add_run(store, "adam", 0.01, 0, "done", [0.9])
        add_run(store, "sgd", 0.01, 0, "done", [0.8])
    md = write_report(tmp_path)[0].read_text(encoding="utf-8")
    assert "adam: undetermined against sgd (fewer than two seeds)" in md
    assert "| adam | sgd | +10.000 | — | — | — | — | — | undetermined | 1 | — |" in md
    assert "a single rate: not tuned" in md
    assert "Metric: validation accuracy (higher is better); target: unknown" in md


def test_report_of_a_missing_store_names_the_path(tmp_path):
    with pytest.raises(ValueError, match="no results database here"):
        write_report(tmp_path)


def test_curves_stop_where_a_diverged_run_stopped(tmp_path):
    from optimlab.experiments.analysis import summarize, tuned
    from optimlab.experiments.sweep_plots import _curves

    with Store(tmp_path / "results.db") as store:
        add_run(store, "sgd", 0.1, 0, "done", [0.5, 0.6, 0.7])
        add_run(store, "sgd", 0.1, 1, "done", [0.7, 0.8, 0.9])
        add_run(store, "sgd", 0.1, 2, "diverged", [0.3])
        choices = tuned(summarize(store))
    fig = _curves(choices, {"sgd": "C0"}, "val_accuracy", "epoch", "accuracy", log=False)
    mean, cross = fig.axes[0].lines
    # Epoch 1 averages three seeds, epochs 2 and 3 the two that have them.
    assert list(mean.get_xdata()) == [1.0, 2.0, 3.0]
    assert list(mean.get_ydata()) == pytest.approx([0.5, 0.7, 0.8])
    assert cross.get_marker() == "x" and (cross.get_xdata()[0], cross.get_ydata()[0]) == (1, 0.3)
    (band,) = fig.axes[0].collections
    lows_highs = band.get_paths()[0].vertices[:, 1]
    assert min(lows_highs) == pytest.approx(0.3) and max(lows_highs) == pytest.approx(0.9)
    import matplotlib.pyplot as plt

    plt.close(fig)
