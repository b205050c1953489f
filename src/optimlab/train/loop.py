"""``fit``: the training loop joining a model, a loss, an optimizer and data.

The loop writes no files; whatever must be persisted is handed to callbacks.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from optimlab._validation import check_positive_int
from optimlab.data.loader import iterate_batches
from optimlab.nn.module import Module
from optimlab.nn.replay import same_randomness
from optimlab.optim.optimizer import Optimizer
from optimlab.train.callbacks import Callback
from optimlab.train.history import EpochRecord, History
from optimlab.train.metrics import correct_count


class Loss(Protocol):
    """``forward(outputs, targets) -> float`` and ``backward() -> d(outputs)``.

    Two optional class attributes say how the loop feeds it: ``targets`` is
    ``"labels"`` (the batch's ``y``, the default) or ``"inputs"`` (the batch's
    ``x``: an autoencoder); ``classifies`` (default True) says the outputs are
    class scores, so the loop also measures accuracy (else the accuracies are
    ``None``).
    """

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float: ...
    def backward(self) -> np.ndarray: ...


def _targets(loss: Loss, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x if getattr(loss, "targets", "labels") == "inputs" else y


def _classifies(loss: Loss) -> bool:
    return bool(getattr(loss, "classifies", True))


class StepObserver(Protocol):
    """Watches chosen optimizer steps of :func:`fit` (diagnostics, weight snapshots).

    ``step`` is the run's step index counted from 0 over the whole run (a resumed run
    goes on counting). For each step, ``fit`` asks :meth:`wants`; only for a step it
    wants does it call :meth:`before_step` (the step's gradients are in the
    parameters' ``.grad``, the parameters still hold the weights before the update;
    for an optimizer with a closure, after the closure's first evaluation) and then
    :meth:`after_step` (the parameters hold the updated weights). :meth:`end_epoch`
    follows every epoch. An observer only reads: it must not change the parameters,
    the gradients or any random state, so that a run observed gives the numbers of
    the same run unobserved.
    """

    def wants(self, step: int) -> bool: ...
    def before_step(self, step: int) -> None: ...
    def after_step(self, step: int) -> None: ...
    def end_epoch(self, epoch: int) -> None: ...


class Dataset(Protocol):
    x: np.ndarray
    y: np.ndarray


EVAL_BATCH_SIZE = 1000


def evaluate(
    model: Module, loss: Loss, data: Dataset, *, batch_size: int = EVAL_BATCH_SIZE
) -> tuple[float, float | None]:
    """Mean loss and accuracy of ``model`` on ``data``, in evaluation mode.

    The accuracy is ``None`` for a loss that does not classify. The model's
    previous mode (train or eval) is restored afterwards.
    """
    n = len(data.y)
    if n == 0:
        raise ValueError("evaluate: data must hold at least one example; received 0")
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for xb, yb in iterate_batches(data, batch_size, shuffle=False):
            logits = model.forward(xb)
            total_loss += loss.forward(logits, _targets(loss, xb, yb)) * len(yb)
            if _classifies(loss):
                correct += correct_count(logits, yb)
    finally:
        model.train(was_training)
    return total_loss / n, correct / n if _classifies(loss) else None


def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    train: Dataset,
    val: Dataset | None,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    callbacks: Sequence[Callback] = (),
    progress: bool | None = None,
    history: History | None = None,
    test: Dataset | None = None,
    observers: Sequence[StepObserver] = (),
) -> History:
    """Train ``model`` for ``epochs`` epochs of mini-batch gradient descent.

    Each step: ``logits = model.forward(x)``, ``loss.forward(logits, y)``,
    ``optimizer.zero_grad()``, ``model.backward(loss.backward())``,
    ``optimizer.step()``. An optimizer that evaluates the loss again
    (``optimizer.needs_closure``: SophiaH) gets ``optimizer.step(closure)`` instead,
    a closure doing those four on the same batch; its calls after the first reuse
    the first's dropout masks and leave BatchNorm's running statistics alone
    (:func:`optimlab.nn.same_randomness`), and each counts as a gradient evaluation.

    Parameters
    ----------
    model, loss, optimizer
        The network, a loss with ``forward(logits, labels) -> float`` and
        ``backward() -> dlogits``, and an optimizer over ``model.parameters()``.
    train, val : dataset with ``.x`` (N, ...) and ``.y`` (N,)
        ``val`` may be ``None``: the ``val_*`` metrics are then ``nan``.
    epochs, batch_size : int
        Number of passes over ``train``; examples per step (the last batch
        may be smaller).
    rng : numpy.random.Generator
        Shuffles the training set each epoch; the only randomness the loop uses.
    callbacks : sequence of Callback
        ``on_epoch_end(record, history)`` after each epoch; ``True`` stops.
    progress : bool or None
        A tqdm bar per epoch; ``None`` shows it only on a terminal.
    history : History, optional
        Continue a run (after a checkpoint): new epochs are numbered after it.
    test : dataset, optional
        Evaluated after every epoch (``test_loss``, ``test_accuracy`` of the
        record; not counted in its ``seconds``); only reported, never used to
        stop, tune or detect divergence.
    observers : sequence of StepObserver
        Read the model at the steps they ask for (:class:`StepObserver`); they do
        not change the run's numbers.

    Returns
    -------
    History
        Per-epoch metrics. The optimizer is left in its evaluation form
        (``optimizer.eval()``, which matters for schedule-free methods whose
        parameters hold a different point while training); ``fit`` puts it
        back with ``optimizer.train()`` when it starts.

        **Divergence guard**: when a training loss (or the validation loss)
        is NaN or infinite, or an epoch's training loss exceeds
        :data:`DIVERGENCE_FACTOR` times the first epoch's, the run stops at
        once, is marked ``diverged`` with ``diverged_at_epoch``, and keeps the
        epochs before.
    """
    check_positive_int("fit", "epochs", epochs)
    check_positive_int("fit", "batch_size", batch_size)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"fit: rng must be a numpy.random.Generator; received {type(rng).__name__}")
    history = history if history is not None else History()
    model.train()
    optimizer.train()  # schedule-free optimizers: parameters back to their training form
    first = len(history.epochs) + 1
    steps = _steps_so_far(history, math.ceil(len(train.y) / batch_size))
    evaluations = _evaluations_so_far(history, steps)
    for epoch in range(first, first + epochs):
        start = time.perf_counter()
        # Overflow on the way to a NaN loss is what the guard below is for.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            before = optimizer.gradient_evaluations
            train_loss, train_acc, taken = _train_epoch(
                model, loss, optimizer, train, batch_size, rng, epoch, progress,
                _Watch(observers, steps),
            )  # fmt: skip
            steps += taken
            evaluations += optimizer.gradient_evaluations - before
            if val is not None and len(val.y) > 0 and math.isfinite(train_loss):
                val_loss, val_acc = _evaluate_at_eval_point(model, loss, optimizer, val)
            else:
                val_loss, val_acc = math.nan, math.nan if _classifies(loss) else None
        blown_up = bool(history.epochs) and train_loss > (
            DIVERGENCE_FACTOR * history.epochs[0].train_loss
        )
        if (
            not math.isfinite(train_loss)
            or (val is not None and not math.isfinite(val_loss))
            or blown_up
        ):
            history.diverged, history.diverged_at_epoch = True, epoch
            break
        for observer in observers:
            observer.end_epoch(epoch)
        seconds = time.perf_counter() - start
        test_loss = test_acc = None
        if test is not None and len(test.y) > 0:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                test_loss, test_acc = _evaluate_at_eval_point(model, loss, optimizer, test)
        record = EpochRecord(
            epoch=epoch,
            train_loss=train_loss,
            train_accuracy=train_acc,
            val_loss=val_loss,
            val_accuracy=val_acc,
            seconds=seconds,
            test_loss=test_loss,
            test_accuracy=test_acc,
            steps=steps,
            # one mini-batch gradient per step; more for an optimizer with a closure
            gradient_evaluations=evaluations,
        )
        history.epochs.append(record)
        stop = [bool(cb.on_epoch_end(record, history)) for cb in callbacks]
        if any(stop):
            break
    optimizer.eval()  # leave the model with the weights it should be evaluated with
    return history


def _steps_so_far(history: History, per_epoch: int) -> int:
    """The steps of the epochs already in ``history`` (a resumed run): its last record's
    count, or ``per_epoch`` per epoch for a history recorded without counts."""
    if not history.epochs:
        return 0
    last = history.epochs[-1].steps
    return last if last is not None else per_epoch * len(history.epochs)


def _evaluations_so_far(history: History, steps: int) -> int:
    """The gradient evaluations of the epochs already in ``history``: its last record's
    count, or one per step for a history recorded without counts."""
    if not history.epochs or history.epochs[-1].gradient_evaluations is None:
        return steps
    return history.epochs[-1].gradient_evaluations


def _evaluate_at_eval_point(
    model: Module, loss: Loss, optimizer: Optimizer, data: Dataset
) -> tuple[float, float | None]:
    """:func:`evaluate` with the optimizer in its evaluation form (schedule-free methods:
    the averaged iterate), then back to training."""
    optimizer.eval()
    try:
        return evaluate(model, loss, data)
    finally:
        optimizer.train()


#: An epoch whose mean training loss exceeds this many times the first epoch's diverged
#: (a loss that grows a millionfold has left the problem, even while still finite).
DIVERGENCE_FACTOR = 1e6


class _Watch:
    """The observers of a run at its current step: which of them want this step."""

    def __init__(self, observers: Sequence[StepObserver], step: int) -> None:
        self.observers, self.step, self.now = tuple(observers), step, ()

    def choose(self) -> None:
        self.now = tuple(o for o in self.observers if o.wants(self.step))

    def before(self) -> None:
        for observer in self.now:
            observer.before_step(self.step)

    def after(self) -> None:
        for observer in self.now:
            observer.after_step(self.step)
        self.step += 1


class _NonFinite(Exception):
    """The step's first evaluation gave a NaN or infinite loss: no update."""


def _step_with_closure(
    model: Module, loss: Loss, optimizer: Optimizer, xb: np.ndarray, targets: np.ndarray,
    skip_input_grad: bool, watch: _Watch,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """``optimizer.step(closure)`` for an optimizer that evaluates the loss again (SophiaH):
    the closure zeroes the gradients and runs forward and backward on this batch. Its
    first call is the step's own (fresh dropout masks, BatchNorm statistics updated);
    the later ones, at perturbed parameters, see the same function
    (:func:`optimlab.nn.same_randomness`). Returns the first call's loss and outputs."""
    first: list = []
    watched: list = []

    def evaluate() -> float:
        optimizer.zero_grad()
        outputs = model.forward(xb)
        value = loss.forward(outputs, targets)
        if not first:
            if not math.isfinite(value):
                raise _NonFinite
            first.append((value, outputs.copy()))  # later calls may reuse the buffer
        if skip_input_grad:
            model.backward(loss.backward(), input_grad=False)
        else:
            model.backward(loss.backward())
        if not watched:  # the step's own gradients (the first call's): the observers' view
            watched.append(True)
            watch.before()
        return value

    def closure() -> float:
        if not first:
            return evaluate()
        with same_randomness(model):
            return evaluate()

    optimizer.step(closure)
    return first[0]


def _train_epoch(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    train: Dataset,
    batch_size: int,
    rng: np.random.Generator,
    epoch: int,
    progress: bool | None,
    watch: _Watch,
) -> tuple[float, float | None, int]:
    """One pass over ``train``: mean loss, accuracy (``None`` for a loss that does not
    classify) and the steps taken; the loss is ``nan`` on divergence."""
    n = len(train.y)
    batches = iterate_batches(train, batch_size, rng=rng, shuffle=True, reuse_buffer=True)
    bar = tqdm(
        batches,
        total=math.ceil(n / batch_size),
        desc=f"epoch {epoch}",
        leave=False,
        disable=None if progress is None else not progress,
    )
    total_loss, correct, steps = 0.0, 0, 0
    classifies = _classifies(loss)
    # Training needs no gradient with respect to the data (Sequential can skip it).
    skip_input_grad = "input_grad" in inspect.signature(model.backward).parameters
    needs_closure = optimizer.needs_closure
    with bar:
        for xb, yb in bar:
            watch.choose()
            if needs_closure:
                try:
                    batch_loss, logits = _step_with_closure(
                        model, loss, optimizer, xb, _targets(loss, xb, yb), skip_input_grad,
                        watch,
                    )  # fmt: skip
                except _NonFinite:
                    return math.nan, math.nan if classifies else None, steps
            else:
                logits = model.forward(xb)
                batch_loss = loss.forward(logits, _targets(loss, xb, yb))
                if not math.isfinite(batch_loss):
                    return math.nan, math.nan if classifies else None, steps
                optimizer.zero_grad()
                if skip_input_grad:
                    model.backward(loss.backward(), input_grad=False)
                else:
                    model.backward(loss.backward())
                watch.before()
                optimizer.step()
            watch.after()
            steps += 1
            total_loss += batch_loss * len(yb)
            if classifies:
                correct += correct_count(logits, yb)
    return total_loss / n, correct / n if classifies else None, steps
