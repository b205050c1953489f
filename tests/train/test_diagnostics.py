"""DiagnosticsRecorder: per-layer step diagnostics against hand-computed values."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from optimlab import nn, optim
from optimlab.train import fit
from optimlab.train.diagnostics import (
    CHUNK,
    DIAGNOSTIC_DESCRIPTIONS,
    DIAGNOSTIC_EVERY,
    DIAGNOSTIC_NAMES,
    DiagnosticsRecorder,
    step_diagnostics,
)

SIGNS = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])  # (3, 2), mixed signs


def dense(weight, bias) -> nn.Sequential:
    """A Sequential of one float64 Dense 3->2 holding ``weight`` (3, 2) and ``bias`` (2,)."""
    model = nn.Sequential(nn.Dense(3, 2, rng=np.random.default_rng(0), dtype=np.float64))
    model[0].weight.data[...] = weight
    model[0].bias.data[...] = bias
    return model


def set_grads(model: nn.Module, *grads) -> None:
    for p, g in zip(model.parameters(), grads, strict=True):
        p.grad = None if g is None else np.array(g, dtype=p.dtype)


def step(recorder: DiagnosticsRecorder, optimizer, index: int) -> None:
    """One optimizer step watched as ``fit`` watches it."""
    assert recorder.wants(index)
    recorder.before_step(index)
    optimizer.step()
    recorder.after_step(index)


def values(recorder: DiagnosticsRecorder, epoch: int, layer: str) -> dict[str, float]:
    return {
        r["name"]: r["value"] for r in recorder.rows if r["epoch"] == epoch and r["layer"] == layer
    }


def test_names_and_descriptions():
    assert DIAGNOSTIC_NAMES == (
        "grad_rms", "update_rms", "weight_rms", "update_to_weight", "effective_lr", "cosine",
        "sign_agreement",
    )  # fmt: skip
    assert set(DIAGNOSTIC_DESCRIPTIONS) == set(DIAGNOSTIC_NAMES)
    assert DIAGNOSTIC_EVERY == 10


def test_plain_sgd_by_hand():
    # w = +-1 everywhere: RMS(w) = 1; g = +-2 everywhere: RMS(g) = 2; u = -0.1 g: RMS(u) = 0.2
    model = dense(SIGNS, [1.0, -1.0])
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    recorder = DiagnosticsRecorder(model, every=1)
    set_grads(model, -2 * SIGNS, [2.0, 2.0])
    step(recorder, opt, 0)
    recorder.end_epoch(1)
    assert [(r["epoch"], r["layer"], r["name"]) for r in recorder.rows] == [
        (1, "0 Dense 3x2", name) for name in DIAGNOSTIC_NAMES
    ]
    assert all(type(r["value"]) is float for r in recorder.rows)
    assert values(recorder, 1, "0 Dense 3x2") == pytest.approx(
        {
            "grad_rms": 2.0,
            "update_rms": 0.2,
            "weight_rms": 1.0,
            "update_to_weight": 0.2,
            "effective_lr": 0.1,
            "cosine": 1.0,
            "sign_agreement": 1.0,
        },
        rel=1e-12,
    )


def test_momentum_second_step_by_hand():
    mu, lr = 0.9, 0.1
    model = dense(np.ones((3, 2)), np.ones(2))
    opt = optim.create("sgd", model.parameters(), lr=lr, momentum=mu)
    recorder = DiagnosticsRecorder(model, every=1)
    set_grads(model, np.ones((3, 2)), np.ones(2))
    step(recorder, opt, 0)  # buffer = g0 = 1; w1 = 1 - 0.1 = 0.9
    recorder.end_epoch(1)
    # g1: three components -0.5 (weight row 0 and weight[1, 0]), five components 2
    set_grads(model, [[-0.5, -0.5], [-0.5, 2.0], [2.0, 2.0]], [2.0, 2.0])
    step(recorder, opt, 1)
    recorder.end_epoch(2)
    # buffer = 0.9 * 1 + g1 = 0.4 (three) and 2.9 (five); u = -0.1 buffer = -0.04, -0.29
    uu = 3 * 0.04**2 + 5 * 0.29**2  # 0.4253
    gg = 3 * 0.5**2 + 5 * 2.0**2  # 20.75
    ug = 3 * (-0.04 * -0.5) + 5 * (-0.29 * 2.0)  # -2.84
    expected = {
        "grad_rms": math.sqrt(gg / 8),
        "update_rms": math.sqrt(uu / 8),
        "weight_rms": 0.9,
        "update_to_weight": math.sqrt(uu / 8) / 0.9,
        "effective_lr": math.sqrt(uu / gg),
        "cosine": 2.84 / math.sqrt(uu * gg),
        # all u < 0; -g1 > 0 for the three (disagree), < 0 for the five (agree)
        "sign_agreement": 5 / 8,
    }
    assert -ug == pytest.approx(2.84)
    assert values(recorder, 2, "0 Dense 3x2") == pytest.approx(expected, rel=1e-12)
    assert values(recorder, 1, "0 Dense 3x2")["effective_lr"] == pytest.approx(lr, rel=1e-12)


def two_layers() -> nn.Sequential:
    rng = np.random.default_rng(1)
    return nn.Sequential(
        nn.Dense(3, 2, rng=rng, dtype=np.float64), nn.Dense(2, 2, rng=rng, dtype=np.float64)
    )


def test_zero_gradient_gives_nan_without_warnings():
    model = two_layers()
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    recorder = DiagnosticsRecorder(model)
    set_grads(model, np.ones((3, 2)), np.ones(2), np.zeros((2, 2)), np.zeros(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step(recorder, opt, 0)
        recorder.end_epoch(1)
    dead = values(recorder, 1, "1 Dense 2x2")
    assert dead["grad_rms"] == 0.0 and dead["update_rms"] == 0.0 and dead["weight_rms"] > 0
    assert dead["update_to_weight"] == 0.0
    assert all(math.isnan(dead[n]) for n in ("effective_lr", "cosine", "sign_agreement"))
    live = values(recorder, 1, "0 Dense 3x2")
    assert all(math.isfinite(v) for v in live.values())


def test_zero_weights_give_nan_update_to_weight():
    model = dense(np.zeros((3, 2)), np.zeros(2))
    opt = optim.create("sgd", model.parameters(), lr=0.5)
    recorder = DiagnosticsRecorder(model)
    set_grads(model, SIGNS, [1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step(recorder, opt, 0)
        recorder.end_epoch(1)
    got = values(recorder, 1, "0 Dense 3x2")
    assert got["weight_rms"] == 0.0 and math.isnan(got["update_to_weight"])
    assert got["effective_lr"] == pytest.approx(0.5, rel=1e-12)


def test_parameters_without_gradient_are_skipped():
    model = two_layers()
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    recorder = DiagnosticsRecorder(model)
    weight = model[0].weight.data.astype(np.float64)  # before the step
    grad = np.array([[3.0, -3.0], [3.0, 3.0], [-3.0, 3.0]])
    set_grads(model, grad, None, None, None)  # bias of layer 0 and all of layer 1: no gradient
    step(recorder, opt, 0)
    recorder.end_epoch(1)
    assert {r["layer"] for r in recorder.rows} == {"0 Dense 3x2"}
    got = values(recorder, 1, "0 Dense 3x2")
    assert got["grad_rms"] == pytest.approx(3.0, rel=1e-12)  # the weight's gradient alone
    assert got["weight_rms"] == pytest.approx(math.sqrt(np.mean(weight**2)), rel=1e-12)
    assert got["update_rms"] == pytest.approx(0.3, rel=1e-12)


def test_epoch_values_are_means_over_its_sampled_steps():
    model = dense(SIGNS, [1.0, -1.0])
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    recorder = DiagnosticsRecorder(model, every=1)
    set_grads(model, 2 * SIGNS, [2.0, 2.0])
    step(recorder, opt, 0)
    set_grads(model, 4 * SIGNS, [4.0, 4.0])
    step(recorder, opt, 1)
    recorder.end_epoch(1)
    got = values(recorder, 1, "0 Dense 3x2")
    assert got["grad_rms"] == pytest.approx(3.0, rel=1e-12)  # (2 + 4) / 2
    assert got["update_rms"] == pytest.approx(0.3, rel=1e-12)
    assert got["effective_lr"] == pytest.approx(0.1, rel=1e-12)
    assert recorder.steps == [0, 1]


def test_a_layer_larger_than_a_chunk_gives_the_whole_vectors_values():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Dense(90, 100, rng=rng))  # float32, 9,100 parameters
    assert model.num_parameters() > CHUNK
    opt = optim.create("adam", model.parameters(), lr=1e-2)
    recorder = DiagnosticsRecorder(model, every=1)
    set_grads(model, rng.standard_normal((90, 100)), rng.standard_normal(100))
    flat = [np.concatenate([a.ravel() for a in arrays]).astype(np.float64) for arrays in (
        [p.data for p in model.parameters()], [p.grad for p in model.parameters()]
    )]  # fmt: skip
    step(recorder, opt, 0)
    recorder.end_epoch(1)
    new = np.concatenate([p.data.ravel() for p in model.parameters()]).astype(np.float64)
    expected = step_diagnostics(new - flat[0], flat[1], flat[0])
    got = values(recorder, 1, "0 Dense 90x100")
    assert list(got.values()) == pytest.approx(list(expected), rel=1e-12)
    assert 0.5 < got["sign_agreement"] <= 1 and 0 < got["cosine"] < 1  # Adam: not SGD's 1


def blobs(n: int, seed: int) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = (np.eye(3, 2)[y] * 3 + rng.standard_normal((n, 2))).astype(np.float32)
    return SimpleNamespace(x=x, y=y.astype(np.int64))


def train(observers=(), *, epochs=2, momentum=0.9, dtype=np.float32, n=100):
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Dense(2, 8, rng=rng, dtype=dtype), nn.ReLU(), nn.Dropout(0.3, rng=rng),
        nn.Dense(8, 3, rng=rng, dtype=dtype),
    )  # fmt: skip
    opt = optim.create("sgd", model.parameters(), lr=0.1, momentum=momentum)
    recorders = [DiagnosticsRecorder(model, every=e) for e in observers]
    history = fit(
        model, nn.SoftmaxCrossEntropy(), opt, blobs(n, 1), None, epochs=epochs, batch_size=10,
        rng=np.random.default_rng(2), progress=False, observers=recorders,
    )  # fmt: skip
    return model, history, recorders


def test_training_observed_is_bit_identical():
    plain, plain_history, _ = train()
    watched, watched_history, [every1, every10] = train((1, DIAGNOSTIC_EVERY))
    for a, b in zip(plain.parameters(), watched.parameters(), strict=True):
        assert np.array_equal(a.data, b.data)
    assert [r.train_loss for r in plain_history.epochs] == [
        r.train_loss for r in watched_history.epochs
    ]
    assert every1.steps == list(range(20)) and every10.steps == [0, 10]


def test_sampling_in_fit():
    _, _, [recorder] = train((3,))  # 10 steps per epoch, two epochs
    assert recorder.steps == [0, 3, 6, 9, 12, 15, 18]
    assert [recorder.wants(s) for s in range(7)] == [True, False, False, True, False, False, True]
    assert recorder.labels == ("0 Dense 2x8", "3 Dense 8x3")
    assert [(r["epoch"], r["layer"], r["name"]) for r in recorder.rows] == [
        (epoch, layer, name)
        for epoch in (1, 2)
        for layer in recorder.labels
        for name in DIAGNOSTIC_NAMES
    ]


def test_an_epoch_without_a_sampled_step_has_no_rows():
    _, _, [recorder] = train((15,), epochs=3)  # 10 steps an epoch: steps 0 and 15, none in 3
    assert recorder.steps == [0, 15]
    assert sorted({r["epoch"] for r in recorder.rows}) == [1, 2]


def test_plain_sgd_in_fit():
    _, _, [recorder] = train((1,), momentum=0.0, dtype=np.float64)
    for row in recorder.rows:
        if row["name"] in ("effective_lr", "cosine", "sign_agreement"):
            expected = 0.1 if row["name"] == "effective_lr" else 1.0
            assert row["value"] == pytest.approx(expected, rel=1e-9), row


def test_layer_labels():
    model = nn.Sequential(
        nn.Sequential(nn.Conv2D(1, 4, 3, rng=np.random.default_rng(0))),
        nn.Flatten(),
        nn.Dense(784, 128, rng=np.random.default_rng(0)),
        nn.ReLU(),
        nn.Dense(128, 10, rng=np.random.default_rng(0)),
    )
    assert DiagnosticsRecorder(model).labels == (
        "0.0 Conv2D 4x1x3x3",
        "2 Dense 784x128",
        "4 Dense 128x10",
    )


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="DiagnosticsRecorder: every must be an integer >= 1"):
        DiagnosticsRecorder(two_layers(), every=0)


# zero or clear of float64's underflow, so that "all zero" is what makes a value undefined
finite = st.one_of(st.just(0.0), st.floats(1e-3, 1e6), st.floats(-1e6, -1e-3))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(*(arrays(np.float64, n, elements=finite) for _ in range(3)))
    )
)
def test_step_diagnostics_bounds(arrays3):
    u, g, w = arrays3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = dict(zip(DIAGNOSTIC_NAMES, step_diagnostics(u, g, w), strict=True))
    assert got["grad_rms"] >= 0 and got["update_rms"] >= 0 and got["weight_rms"] >= 0
    for name in ("cosine", "sign_agreement"):
        assert math.isnan(got[name]) == (not u.any() or (name == "cosine" and not g.any()))
    if not math.isnan(got["cosine"]):
        assert -1.0 <= got["cosine"] <= 1.0
    if not math.isnan(got["sign_agreement"]):
        assert 0.0 <= got["sign_agreement"] <= 1.0
    if g.any():
        assert got["effective_lr"] * got["grad_rms"] == pytest.approx(got["update_rms"])
    else:
        assert math.isnan(got["effective_lr"])
