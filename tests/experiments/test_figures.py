"""What every figure of a report shares: y axes fitted to the data, a log axis for a loss
spanning a wide range, one colour per optimizer, and a captioned place in report.md and
report.html."""

from __future__ import annotations

import base64
import math
import re

import pytest
import sweep_rows
from matplotlib.colors import to_hex

from optimlab.experiments import plots, sweep_plots, verdict_plots
from optimlab.experiments.plots import (
    PALETTE,
    fitted_limits,
    log_scale_helps,
    optimizer_colors,
    pyplot,
)
from optimlab.experiments.report import write_report
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_plots import sweep_colors, sweep_figures, sweep_optimizers

PNG = b"\x89PNG\r\n\x1a\n"


def add_run(store, optimizer, lr, seed, status, accuracies=(), losses=None):
    """A run whose validation accuracy is ``accuracies`` and training loss ``losses``
    (``1 - accuracy`` by default)."""
    losses = [1.0 - a for a in accuracies] if losses is None else losses
    records = [
        {"epoch": i + 1, "train_loss": loss, "train_accuracy": a, "val_loss": loss,
         "val_accuracy": a, "seconds": 1.0}
        for i, (a, loss) in enumerate(zip(accuracies, losses, strict=True))
    ]  # fmt: skip
    sweep_rows.add_run(store, f"{optimizer}-{lr:g}-s{seed}", optimizer, lr, seed, status,
                       records, seconds=float(len(records)))  # fmt: skip


def accuracy_store(path, *, diverged=False):
    """Configured order nadam, sgd, adam; nadam never ran; accuracies in 0.8-0.9."""
    with Store(path / "results.db") as store:
        store.claim_problem("toy")
        store.set_settings({"num_classes": 10, "target_accuracy": 0.85, "tune": True})
        add_run(store, "nadam", 0.01, 0, "pending")
        for seed in range(2):
            d = 0.01 * seed
            add_run(store, "sgd", 0.01, seed, "done", [0.80 + d, 0.82 + d, 0.84 + d])
            add_run(store, "sgd", 0.1, seed, "done", [0.81 + d, 0.84 + d, 0.86 + d])
            add_run(store, "adam", 0.01, seed, "done", [0.82 + d, 0.86 + d, 0.88 + d])
        if diverged:
            add_run(store, "adam", 0.1, 0, "diverged", [0.85])
    return path


def close(figures):
    for fig in figures.values():
        pyplot().close(fig)


# -- the rules -----------------------------------------------------------------------
def test_fitted_limits_widen_the_range_by_the_margin():
    assert fitted_limits([0.8, 0.9, None, math.nan]) == pytest.approx((0.795, 0.905))
    # log: 1 .. 100 is 0 .. 2 in log10, widened by 0.1 on each side
    assert fitted_limits([1.0, 100.0, 0.0], log=True) == pytest.approx((10**-0.1, 10**2.1))
    assert fitted_limits([2.0]) == pytest.approx((1.9, 2.1))
    assert fitted_limits([math.inf, None]) is None


def test_log_scale_only_for_positive_values_spanning_more_than_three():
    assert not log_scale_helps([0.5, 1.4])  # a factor 2.8
    assert log_scale_helps([0.5, 1.6, None, math.inf])  # 3.2
    assert not log_scale_helps([-0.1, 10.0])
    assert not log_scale_helps([])


def test_optimizer_colors_depend_on_the_whole_list_only():
    names = [f"opt{i}" for i in range(22)]
    colors = optimizer_colors([*names, "opt3"])
    assert list(colors) == names
    assert colors["opt0"] == PALETTE[0] and colors["opt21"] == PALETTE[1]  # wraps at 20
    assert len(set(list(colors.values())[:20])) == 20
    assert optimizer_colors(["b", "a"]) == {"b": PALETTE[0], "a": PALETTE[1]}


def test_sweep_optimizers_keep_the_configured_order(tmp_path):
    with Store(accuracy_store(tmp_path) / "results.db", readonly=True) as store:
        assert sweep_optimizers(store) == ["nadam", "sgd", "adam"]
        assert sweep_colors(store) == dict(zip(["nadam", "sgd", "adam"], PALETTE, strict=False))


# -- the sweep's figures --------------------------------------------------------------
def test_accuracy_axis_fits_the_curves_and_notes_chance(tmp_path):
    with Store(accuracy_store(tmp_path) / "results.db", readonly=True) as store:
        figures = sweep_figures(store)
    ax = figures["val_accuracy.png"].axes[0]
    low, high = ax.get_ylim()
    # plotted: every seed of sgd at 0.1 and of adam at 0.01, 0.81 .. 0.89
    assert (low, high) == pytest.approx(fitted_limits([0.81, 0.89]))
    assert ax.get_yscale() == "linear"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "chance 0.1: below the range shown" in legend and "target 0.85" in legend
    horizontal = [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"]
    assert horizontal == [0.85]  # the target, inside the range, is a line
    sensitivity = figures["lr_sensitivity.png"].axes[0]
    assert sensitivity.get_ylim()[0] > 0.5
    close(figures)


def test_chance_is_a_line_when_a_diverged_run_brings_it_into_range(tmp_path):
    with Store(accuracy_store(tmp_path, diverged=True) / "results.db", readonly=True) as store:
        figures = sweep_figures(store)
    ax = figures["lr_sensitivity.png"].axes[0]
    assert ax.get_ylim()[0] < 0.1 < ax.get_ylim()[1]
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == ":"] == [0.1]
    close(figures)


def loss_store(path, losses):
    with Store(path / "results.db") as store:
        store.set_settings({"num_classes": 10})
        for seed in range(2):
            add_run(store, "sgd", 0.1, seed, "done", [0.5] * len(losses), losses)
    return path


@pytest.mark.parametrize(
    ("losses", "scale"), [((2.0, 0.2, 0.01), "log"), ((0.18, 0.12, 0.09), "linear")]
)
def test_loss_axis_is_logarithmic_when_the_values_span_decades(tmp_path, losses, scale):
    with Store(loss_store(tmp_path, losses) / "results.db", readonly=True) as store:
        figures = sweep_figures(store)
    for name in ("loss.png", "time.png"):
        ax = figures[name].axes[0]
        assert ax.get_yscale() == scale
        assert ax.get_ylim() == pytest.approx(fitted_limits(losses, log=scale == "log"))
    assert figures["val_accuracy.png"].axes[0].get_yscale() == "linear"
    close(figures)


# -- one report -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report of the accuracy store, with the line and tick colours of every figure it
    saved: ``(folder, {file name: {optimizer: colour}})``."""
    seen: dict[str, dict[str, str]] = {}
    original = plots.save_figure

    def capture(fig, path, **kwargs):
        found = {}
        for ax in fig.axes:
            for line in ax.lines:
                name = line.get_label().split(" ")[0]
                if name in ("nadam", "sgd", "adam"):
                    found.setdefault(name, to_hex(line.get_color()))
            for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
                if label.get_text() in ("nadam", "sgd", "adam"):
                    found.setdefault(label.get_text(), to_hex(label.get_color()))
        seen[path.name] = found
        original(fig, path, **kwargs)

    patch = pytest.MonkeyPatch()
    for module in (plots, sweep_plots, verdict_plots):
        patch.setattr(module, "save_figure", capture)
    try:
        out = accuracy_store(tmp_path_factory.mktemp("report"))
        write_report(out)
    finally:
        patch.undo()
    return out, seen


def test_an_optimizer_has_one_colour_in_every_figure_of_a_report(report):
    _, seen = report
    assert set(seen) == {"loss.png", "val_accuracy.png", "lr_sensitivity.png", "time.png",
                         "verdicts.png"}  # fmt: skip
    # nadam never ran: sgd and adam keep the second and third colours of the sweep's list.
    expected = {"sgd": PALETTE[1], "adam": PALETTE[2]}
    assert all(colors == expected for colors in seen.values()), seen


def test_every_figure_is_in_both_reports_with_a_caption(report):
    out, _ = report
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 5
    html = (out / "report.html").read_text(encoding="utf-8")
    figures = re.findall(
        r'<figure><a href="([^"]+)"><img src="data:image/png;base64,([A-Za-z0-9+/=]+)" '
        r'alt="[^"]+"></a><figcaption>(.+?)</figcaption></figure>',
        html,
    )
    assert sorted(name for name, _, _ in figures) == pngs
    for name, data, caption in figures:
        assert base64.b64decode(data) == (out / name).read_bytes()  # full resolution
        assert re.fullmatch(r"<strong>[^<]+\.</strong> \S.{40,}", caption), caption
    assert "img{max-width:100%" in html
    md = (out / "report.md").read_text(encoding="utf-8")
    for name in pngs:
        assert re.search(rf"!\[[^\]]+\]\({re.escape(name)}\)\n\n\*[^*]+\.\* \S.{{40,}}", md), name


def test_report_figures_are_saved_at_the_report_resolution(report):
    from PIL import Image

    out, _ = report
    with Image.open(out / "val_accuracy.png") as image:
        assert image.info["dpi"] == pytest.approx((plots.REPORT_DPI, plots.REPORT_DPI), abs=0.1)
        assert image.width > 6 * plots.REPORT_DPI  # a 7-inch figure, cropped to its content


def test_captions_of_a_loss_problem_name_its_log_axis():
    from optimlab.experiments.metric import Metric

    loss = Metric("loss", "min", None, 100.0)
    assert "logarithmic" in sweep_plots.caption("val_loss.png", loss)
    assert "logarithmic" not in sweep_plots.caption("val_accuracy.png", Metric())
    with pytest.raises(ValueError, match=r"unknown figure 'x\.png'"):
        sweep_plots.caption("x.png", loss)
