"""The training loop on small synthetic problems (fast, exact expectations)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from optimlab import nn, optim
from optimlab.data.loader import ArrayDataset
from optimlab.train import EarlyStopping, EpochSink, History, evaluate, fit


def blobs(n: int, seed: int) -> SimpleNamespace:
    """Three well separated Gaussian blobs in 2-D: a problem any working loop solves."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]], dtype=np.float32)
    y = rng.integers(0, 3, size=n)
    x = (centers[y] + rng.standard_normal((n, 2))).astype(np.float32)
    return SimpleNamespace(x=x, y=y.astype(np.int64))


def small_model(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Dense(2, 16, rng=rng), nn.ReLU(), nn.Dense(16, 3, rng=rng))


def train(epochs: int = 5, *, lr: float = 0.1, seed: int = 0, callbacks=()) -> History:
    model = small_model(seed)
    opt = optim.create("sgd", model.parameters(), lr=lr, momentum=0.9)
    return fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        blobs(600, 1),
        blobs(200, 2),
        epochs=epochs,
        batch_size=32,
        rng=np.random.default_rng(seed),
        callbacks=callbacks,
        progress=False,
    )


def test_fit_learns_a_separable_problem():
    history = train(epochs=5)
    assert [r.epoch for r in history.epochs] == [1, 2, 3, 4, 5]
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    assert history.epochs[-1].val_accuracy > 0.95
    assert not history.diverged
    assert all(r.seconds > 0 for r in history.epochs)


def test_same_seed_same_numbers_other_seed_other_numbers():
    def numbers(h):
        return [(r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy) for r in h.epochs]

    assert numbers(train(epochs=3, seed=4)) == numbers(train(epochs=3, seed=4))
    assert numbers(train(epochs=3, seed=4)) != numbers(train(epochs=3, seed=5))


def test_divergence_guard_keeps_the_epochs_before():
    class BlowUp:
        """After epoch 2, set an absurd learning rate: the loss must become inf or NaN."""

        def __init__(self):
            self.optimizer = None

        def on_epoch_end(self, record, history):
            if record.epoch == 2:
                for group in self.optimizer.param_groups:
                    group["lr"] = 1e30

    model = small_model()
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    blow = BlowUp()
    blow.optimizer = opt
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        blobs(600, 1),
        blobs(200, 2),
        epochs=6,
        batch_size=32,
        rng=np.random.default_rng(0),
        callbacks=[blow],
        progress=False,
    )
    assert history.diverged
    assert history.diverged_at_epoch == 3
    assert [r.epoch for r in history.epochs] == [1, 2]
    assert all(math.isfinite(r.train_loss) for r in history.epochs)


def test_callbacks_see_every_epoch_and_can_stop():
    seen = []
    history = train(epochs=10, callbacks=[EpochSink(seen.append), EarlyStopping(patience=1)])
    assert seen == history.epochs
    assert len(history.epochs) < 10


def test_continuing_a_history_numbers_epochs_after_it():
    model = small_model()
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    data = blobs(300, 1)
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        data,
        None,
        epochs=2,
        batch_size=64,
        rng=np.random.default_rng(0),
        progress=False,
    )
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        data,
        None,
        epochs=2,
        batch_size=64,
        rng=np.random.default_rng(0),
        progress=False,
        history=history,
    )
    assert [r.epoch for r in history.epochs] == [1, 2, 3, 4]
    assert math.isnan(history.epochs[0].val_loss)


def test_evaluate_restores_the_mode_and_counts_every_example():
    model = small_model()
    model.train()
    data = blobs(250, 3)
    loss, acc = evaluate(model, nn.SoftmaxCrossEntropy(), data, batch_size=100)
    assert model.training
    logits = model.forward(data.x)
    assert acc == pytest.approx(np.mean(logits.argmax(1) == data.y))
    assert loss == pytest.approx(nn.SoftmaxCrossEntropy().forward(logits, data.y), rel=1e-5)


def test_no_progress_output_off_a_terminal(capsys):
    train(epochs=1)
    model = small_model()
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        opt,
        blobs(100, 1),
        None,
        epochs=1,
        batch_size=10,
        rng=np.random.default_rng(0),
    )  # progress=None: a bar only on a terminal
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"epochs": 0}, ValueError, r"fit: epochs must be an integer >= 1; received epochs=0"),
        ({"batch_size": -3}, ValueError, r"batch_size must be an integer >= 1; received batch_s"),
        ({"rng": 0}, TypeError, r"rng must be a numpy.random.Generator; received int"),
    ],
)
def test_bad_fit_arguments(kwargs, error, pattern):
    model = small_model()
    opt = optim.create("sgd", model.parameters(), lr=0.1)
    args = {"epochs": 1, "batch_size": 8, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=pattern):
        fit(model, nn.SoftmaxCrossEntropy(), opt, blobs(20, 1), None, **args)


class GrowingLoss(nn.SoftmaxCrossEntropy):
    """Cross-entropy scaled by a factor that jumps after the first epoch's batches: a loss
    that stays finite yet grows a millionfold, as a blown-up run's can."""

    def __init__(self, batches_per_epoch: int, jump: float) -> None:
        super().__init__()
        self.calls, self.per_epoch, self.jump = 0, batches_per_epoch, jump

    def forward(self, logits, y):
        self.calls += 1
        scale = 1.0 if self.calls <= self.per_epoch else self.jump
        return scale * super().forward(logits, y)


@pytest.mark.parametrize(("jump", "diverged"), [(2e6, True), (5e5, False)])
def test_a_loss_a_million_times_the_first_epochs_is_divergence(jump, diverged):
    from optimlab.train.loop import DIVERGENCE_FACTOR

    assert DIVERGENCE_FACTOR == 1e6
    model = small_model(0)
    opt = optim.create("sgd", model.parameters(), lr=1e-6)  # barely moves: the loss is the scale
    history = fit(
        model, GrowingLoss(600 // 32 + 1, jump), opt, blobs(600, 1), None, epochs=3,
        batch_size=32, rng=np.random.default_rng(0), progress=False,
    )  # fmt: skip
    assert history.diverged is diverged
    assert len(history.epochs) == (1 if diverged else 3)
    if diverged:
        assert history.diverged_at_epoch == 2


def test_the_test_set_is_measured_after_every_epoch_and_changes_nothing_else():
    """``test=``: each record gets the test metrics of the weights after its epoch (as
    ``evaluate`` gives them), and the training and validation numbers are those of a run
    without a test set, bit for bit."""
    test = blobs(300, 3)

    def run(with_test: bool, epochs: int):
        model = small_model(0)
        opt = optim.create("sgd", model.parameters(), lr=0.1, momentum=0.9)
        history = fit(model, nn.SoftmaxCrossEntropy(), opt, blobs(600, 1), blobs(200, 2),
                      epochs=epochs, batch_size=32, rng=np.random.default_rng(0),
                      progress=False, test=test if with_test else None)  # fmt: skip
        return model, history

    model, with_test = run(True, 3)
    _, without = run(False, 3)
    numbers = [(r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy) for r in without.epochs]
    assert [
        (r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy) for r in with_test.epochs
    ] == numbers
    assert all(r.test_loss is None and r.test_accuracy is None for r in without.epochs)
    last = with_test.epochs[-1]
    assert (last.test_loss, last.test_accuracy) == evaluate(model, nn.SoftmaxCrossEntropy(), test)
    _, first = run(True, 1)
    assert (first.epochs[0].test_loss, first.epochs[0].test_accuracy) == (
        with_test.epochs[0].test_loss, with_test.epochs[0].test_accuracy)  # fmt: skip
    assert 0.9 < last.test_accuracy <= 1.0
    # A checkpoint written before test metrics existed reads back without them.
    old = {"epochs": [{k: v for k, v in vars(r).items() if not k.startswith("test")}
                      for r in with_test.epochs]}  # fmt: skip
    assert History.from_dict(old).epochs[0].test_accuracy is None


def test_a_loss_that_does_not_classify_gets_no_accuracy_and_reconstructs_its_inputs():
    """An autoencoder's loss takes the batch's inputs as its targets (``targets = "inputs"``);
    a loss that does not classify leaves every accuracy None. Early stopping then watches
    the validation loss, lower is better."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, (256, 6)).astype(np.float32)
    data = ArrayDataset(x, np.zeros(256, np.int64))  # labels unused
    model = nn.autoencoder((6,), encoder=(4, 2), rng=np.random.default_rng(1), init="glorot")
    opt = optim.create("adam", model.parameters(), lr=1e-2)
    stop = EarlyStopping(patience=2, monitor="val_loss")
    history = fit(model, nn.SigmoidCrossEntropy(), opt, data, data, epochs=30, batch_size=32,
                  rng=np.random.default_rng(2), progress=False, test=data,
                  callbacks=[stop])  # fmt: skip
    records = history.epochs
    assert all(r.train_accuracy is None and r.val_accuracy is None for r in records)
    assert all(r.test_accuracy is None and r.test_loss is not None for r in records)
    assert records[-1].val_loss < records[0].val_loss  # it learnt to reconstruct
    assert [r.steps for r in records] == [8 * r.epoch for r in records]
    assert records[-1].val_loss == pytest.approx(evaluate(model, nn.SigmoidCrossEntropy(), data)[0])
    with pytest.raises(ValueError, match="has no val_accuracy"):
        fit(model, nn.SigmoidCrossEntropy(), opt, data, data, epochs=1, batch_size=32,
            rng=np.random.default_rng(3), progress=False, callbacks=[EarlyStopping()])  # fmt: skip
    with pytest.raises(ValueError, match="monitor must be one of"):
        EarlyStopping(monitor="val_acc")
