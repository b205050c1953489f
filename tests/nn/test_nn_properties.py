"""Property tests (hypothesis), the vectorised erf against ``math.erf``, doctests, line budget."""

from __future__ import annotations

import doctest
import importlib
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optimlab import nn
from optimlab.nn import functional as F

SETTINGS = settings(max_examples=40, deadline=None)
finite = st.floats(-50, 50, allow_nan=False, width=64)
matrices = hnp.array_shapes(min_dims=2, max_dims=2, max_side=8)


@SETTINGS
@given(
    logits=hnp.arrays(np.float64, matrices, elements=finite),
    data=st.data(),
)
def test_softmax_cross_entropy_gradient_rows_sum_to_zero(logits, data):
    n, k = logits.shape
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    assert value >= 0 and np.isfinite(value)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(loss.probs.sum(axis=1), 1, rtol=1e-12)
    # the only negative entry of each row is at its label
    assert np.all(grad[np.arange(n), labels] <= 0)
    np.testing.assert_allclose(np.exp(F.log_softmax(logits)), loss.probs, rtol=1e-9, atol=1e-300)


@SETTINGS
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    kind=st.sampled_from([nn.MaxPool2D, nn.AvgPool2D]),
)
def test_pooling_shapes_and_gradient_mass(n, c, h, w, kernel, stride, kind):
    if h < kernel[0] or w < kernel[1]:
        return
    layer = kind(kernel, stride)
    sh, sw = stride or kernel
    x = np.random.default_rng(0).permutation(n * c * h * w).reshape(n, c, h, w).astype(np.float64)
    y = layer.forward(x)
    assert y.shape == (n, c, (h - kernel[0]) // sh + 1, (w - kernel[1]) // sw + 1)
    assert y.shape[1:] == layer.output_shape((c, h, w))
    g = np.random.default_rng(1).normal(size=y.shape)
    dx = layer.backward(g)
    assert dx.shape == x.shape
    # every output hands its whole gradient to its window
    np.testing.assert_allclose(dx.sum(), g.sum(), rtol=1e-9, atol=1e-9)
    if kind is nn.MaxPool2D:
        windows = F.pool_windows(x, kernel, (sh, sw))
        np.testing.assert_array_equal(y, windows.max(axis=(4, 5)))
    else:
        np.testing.assert_allclose(layer.forward(np.ones_like(x)), 1.0)


@SETTINGS
@given(
    hw=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
)
def test_conv_is_linear_and_its_adjoint_is_backward(hw, kernel, stride, padding):
    """<conv(x), g> == <x, dx(g)> + <w, dw(g)> - (bias part): backward is the exact adjoint."""
    h, w = hw
    if h + 2 * padding[0] < kernel[0] or w + 2 * padding[1] < kernel[1]:
        return
    r = np.random.default_rng(0)
    layer = nn.Conv2D(2, 3, kernel, stride=stride, padding=padding, rng=r, dtype=np.float64)
    layer.bias.data[...] = 0
    x = r.normal(size=(2, 2, h, w))
    y = layer.forward(x)
    assert y.shape[1:] == layer.output_shape((2, h, w))
    g = r.normal(size=y.shape)
    dx = layer.backward(g)
    inner = float(np.sum(y * g))
    assert float(np.sum(x * dx)) == pytest.approx(inner, rel=1e-9, abs=1e-9)
    assert float(np.sum(layer.weight.data * layer.weight.grad)) == pytest.approx(
        inner, rel=1e-9, abs=1e-9
    )


def test_erf_and_erfc_are_double_precision_accurate():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.linspace(-27, 27, 2001), [0.0, 0.46875]])
    got_erf, got_erfc = F.erf(x), F.erfc(x)
    want_erf = np.array([math.erf(v) for v in x])
    want_erfc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(got_erf, want_erf, rtol=2e-15, atol=1e-300)
    np.testing.assert_allclose(got_erfc, want_erfc, rtol=5e-15, atol=1e-300)
    assert F.erf(np.array([np.inf, -np.inf, np.nan]))[:2].tolist() == [1.0, -1.0]
    assert np.isnan(F.erf(np.array([np.nan]))[0]) and np.isnan(F.erfc(np.array([np.nan]))[0])
    assert F.erfc(np.array([40.0, -40.0])).tolist() == [0.0, 2.0]
    assert F.erf(x.astype(np.float32)).dtype == np.float32


def test_normal_cdf_tails_keep_relative_precision():
    x = np.array([-30.0, -10.0, -3.0, 0.0, 3.0])
    want = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(F.normal_cdf(x), want, rtol=1e-14)
    y = nn.GELU().forward(np.array([-30.0]))
    assert y[0] < 0 and np.isfinite(y[0])  # tiny, not rounded to 0


def test_extreme_inputs_raise_no_floating_point_warnings():
    x = np.array([[-1e4, -80.0, 0.0, 80.0, 1e4]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        for layer in [nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU("tanh"), nn.ReLU()]:
            assert np.all(np.isfinite(layer.backward(np.ones_like(layer.forward(x)))))
        nn.SoftmaxCrossEntropy().forward(x * 1e30, np.array([0]))


MODULES = [
    "optimlab.nn",
    "optimlab.nn.gradcheck",
    "optimlab.nn.models",
    "optimlab.nn.losses",
    "optimlab.nn.sequential",
    "optimlab.nn.functional.special",
    "optimlab.nn.layers.dense",
    "optimlab.nn.layers.flatten",
    "optimlab.nn.layers.activations",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_every_nn_module_stays_short():
    root = Path(nn.__file__).parent
    lengths = {
        str(p.relative_to(root)): len(p.read_text().splitlines()) for p in root.rglob("*.py")
    }
    assert {k: v for k, v in lengths.items() if v > 300} == {}


def test_float32_erf_is_within_seven_ulp():
    x = np.linspace(-6, 6, 100_001, dtype=np.float32)
    want = np.array([math.erf(float(v)) for v in x])
    got = F.erf(x)
    assert got.dtype == np.float32
    error = np.abs(got.astype(np.float64) - want)
    assert error.max() <= 5e-7
    assert (error / np.spacing(np.abs(want).astype(np.float32))).max() <= 7
    np.testing.assert_array_equal(F.erf(np.array([np.inf, -np.inf], np.float32)), [1, -1])
