"""Flat weight vectors and the trail of weights a run keeps for the loss landscape."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.data.loader import ArrayDataset
from optimlab.nn import SoftmaxCrossEntropy
from optimlab.nn.models import build_model
from optimlab.optim import create
from optimlab.train import fit
from optimlab.train.weights import WeightTrail, flat_parameters, load_flat_parameters


def _model(seed: int = 0):
    return build_model("mlp", (6,), 3, rng=np.random.default_rng(seed), hidden=(4,))


def _data(n: int = 50) -> ArrayDataset:
    rng = np.random.default_rng(1)
    return ArrayDataset(rng.normal(size=(n, 6)).astype(np.float32), rng.integers(0, 3, n))


def test_flat_parameters_round_trip_in_parameter_order():
    model = _model()
    vector = flat_parameters(model)
    assert vector.shape == (model.num_parameters(),) and vector.dtype == np.float32
    first = model.parameters()[0]
    np.testing.assert_array_equal(vector[: first.size], first.data.ravel())
    other = _model(seed=5)
    load_flat_parameters(other, vector)
    for a, b in zip(model.parameters(), other.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    vector[0] += 1.0  # a copy: the model is not changed through it
    assert model.parameters()[0].data.ravel()[0] != vector[0]


def test_a_vector_of_the_wrong_length_is_refused():
    model = _model()
    with pytest.raises(ValueError, match=r"shape \(43,\).*received shape \(50,\)"):
        load_flat_parameters(model, np.zeros(50))


def test_the_trail_keeps_the_start_every_kth_step_and_each_epoch_end():
    model = _model()
    trail = WeightTrail(model, every=3)
    optimizer = create("momentum", model.parameters(), lr=0.1)
    start = flat_parameters(model)
    # 50 examples, batches of 10: 5 steps per epoch, 2 epochs
    fit(model, SoftmaxCrossEntropy(), optimizer, _data(), None, epochs=2, batch_size=10,
        rng=np.random.default_rng(0), progress=False, observers=[trail])  # fmt: skip
    steps = [s for s, _ in trail.snapshots]
    assert steps == [0, 3, 5, 6, 9, 10]
    np.testing.assert_array_equal(trail.snapshots[0][1], start)
    np.testing.assert_array_equal(trail.snapshots[-1][1], flat_parameters(model))
    assert [s for s, _ in trail.take()] == steps and trail.snapshots == []


def test_observing_a_run_leaves_its_numbers_alone():
    def train(watch: bool):
        model = _model()
        optimizer = create("adam", model.parameters(), lr=0.01)
        trail = WeightTrail(model, every=1)
        history = fit(model, SoftmaxCrossEntropy(), optimizer, _data(), None, epochs=2,
                      batch_size=10, rng=np.random.default_rng(0), progress=False,
                      observers=[trail] if watch else [])  # fmt: skip
        return flat_parameters(model), history.column("train_loss"), len(trail.snapshots)

    plain, watched = train(False), train(True)
    np.testing.assert_array_equal(plain[0], watched[0])
    assert plain[1] == watched[1]
    assert (plain[2], watched[2]) == (0, 11)


def test_every_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="every must be an integer >= 1; received every=0"):
        WeightTrail(_model(), every=0)
