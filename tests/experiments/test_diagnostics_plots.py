"""The figures of the per-layer diagnostics: one per diagnostic, a panel per layer."""

from __future__ import annotations

import math
import warnings

import matplotlib.image
import numpy as np
import pytest

from optimlab.experiments.diagnostics_plots import (
    diagnostic_curves,
    diagnostic_figure,
    plot_diagnostics,
)
from optimlab.experiments.plots import pyplot
from optimlab.train.diagnostics import DIAGNOSTIC_NAMES

LAYERS = ("1 Dense 784x128", "3 Dense 128x64", "5 Dense 64x10")


def rows(scale: float, names=DIAGNOSTIC_NAMES, epochs=(1, 2, 3)) -> list[dict]:
    """One run's rows: every value ``scale * epoch * (layer index + 1)`` (cosine: 0.5)."""
    return [
        {
            "epoch": e,
            "layer": layer,
            "name": name,
            "value": 0.5 if name == "cosine" else scale * e * (i + 1),
        }
        for e in epochs
        for i, layer in enumerate(LAYERS)
        for name in names
    ]


def test_curves_are_means_over_each_optimizers_runs():
    nan_run = [{**r, "value": math.nan} for r in rows(1.0, ("grad_rms",))]
    curves = diagnostic_curves(
        {"sgd": rows(1.0) + rows(3.0) + nan_run, "adam": rows(10.0, ("grad_rms", "cosine"))}
    )
    assert list(curves) == list(DIAGNOSTIC_NAMES)
    assert list(curves["grad_rms"]) == list(LAYERS)
    assert curves["grad_rms"][LAYERS[1]]["sgd"] == ([1, 2, 3], [4.0, 8.0, 12.0])  # (1+3) e 2 / 2
    assert curves["grad_rms"][LAYERS[0]]["adam"] == ([1, 2, 3], [10.0, 20.0, 30.0])
    assert "adam" not in curves["update_rms"][LAYERS[0]]
    only_nan = diagnostic_curves({"sgd": nan_run})["grad_rms"][LAYERS[2]]["sgd"]
    assert only_nan[0] == [1, 2, 3] and all(math.isnan(v) for v in only_nan[1])


def test_plot_diagnostics_writes_one_figure_per_diagnostic(tmp_path):
    names = ("grad_rms", "cosine")
    data = {"sgd": rows(1.0, names) + rows(2.0, names), "adam": rows(5.0, names)}
    data["adam"][0]["value"] = 0.0  # not drawable on a log axis: a gap, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = plot_diagnostics(data, tmp_path / "figs", colors={"sgd": "C0", "adam": "C1"})
    assert [p.name for p, _ in written] == [f"diagnostics-{n}.png" for n in names]
    for path, caption in written:
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert np.ptp(image[..., :3]) > 0.5  # not blank: dark lines on white
        assert caption.endswith(".") and "one panel per layer" in caption
    assert "log axis" in written[0][1] and "linear axis" in written[1][1]
    assert not list((tmp_path / "figs").glob(".*.tmp"))


def test_default_colours_and_empty_input(tmp_path):
    written = plot_diagnostics({"sgd": rows(1.0, ("weight_rms",))}, tmp_path)
    assert [p.name for p, _ in written] == ["diagnostics-weight_rms.png"]
    assert plot_diagnostics({}, tmp_path / "none") == []


def test_missing_colour_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"colors must give a colour for every optimizer.*'adam'"):
        plot_diagnostics({"sgd": [], "adam": []}, tmp_path, colors={"sgd": "C0"})


@pytest.mark.parametrize(("layers", "scale"), [(3, "log"), (5, "log"), (1, "linear")])
def test_a_panel_per_layer(layers, scale):
    name = "grad_rms" if scale == "log" else "cosine"
    by_layer = {f"{i} Dense": {"sgd": ([1, 2], [0.1, 0.2])} for i in range(layers)}
    fig = diagnostic_figure(name, by_layer, {"sgd": "C0"})
    try:
        assert len(fig.axes) == layers
        assert [ax.get_title() for ax in fig.axes] == list(by_layer)
        assert {ax.get_yscale() for ax in fig.axes} == {scale}
        assert all(len(ax.get_lines()) >= 1 for ax in fig.axes)
    finally:
        pyplot().close(fig)
