"""One configured training run, as ``optimlab train`` performs it, and its files.

The run writes, each atomically (temporary file, then rename):

- ``history.json``: the configuration, the epochs, ``test_accuracy``;
- ``loss.png`` and ``accuracy.png``: the curves over epochs.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import optimlab
from optimlab._validation import check_nonnegative, check_positive_int
from optimlab.data import DATASETS, load_dataset
from optimlab.io import write_json
from optimlab.nn import SoftmaxCrossEntropy
from optimlab.nn.init import INITIALIZERS
from optimlab.nn.models import MODELS, build_model
from optimlab.optim import create, resolve
from optimlab.optim.optimizer import check_hyperparameter_names
from optimlab.optim.schedules import SCHEDULES, make_lr_schedule
from optimlab.train import History, evaluate, fit


@dataclass
class TrainConfig:
    """Everything that determines a run; the same config gives the same numbers."""

    dataset: str = "fashion-mnist"
    model: str = "mlp"
    hidden: tuple[int, ...] = (128, 64)
    channels: tuple[int, ...] = (16, 32)
    activation: str = "relu"
    init: str = "torch"
    optimizer: str = "sgd"
    lr: float = 0.1
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    epochs: int = 5
    batch_size: int = 128
    seed: int = 0
    val_fraction: float = 0.1
    normalize: str | None = "standardize"
    schedule: str = "constant"
    warmup: int = 0

    def validate(self) -> None:
        """Check names and ranges before any data is loaded (``ValueError``)."""
        DATASETS.get(self.dataset)
        MODELS.get(self.model)
        INITIALIZERS.get(self.init)
        spec = resolve(self.optimizer)
        if "lr" in self.hyperparameters:
            raise ValueError("train: give the learning rate with --lr, not -o lr=...")
        check_hyperparameter_names(spec, self.hyperparameters)
        check_nonnegative(self.optimizer, "lr", self.lr)
        SCHEDULES.get(self.schedule)
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(
                f"train: warmup must be an integer >= 0; received warmup={self.warmup!r}"
            )
        check_positive_int("train", "epochs", self.epochs)
        check_positive_int("train", "batch_size", self.batch_size)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"train: seed must be an integer >= 0; received seed={self.seed!r}")

    def model_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"init": self.init}
        if self.model == "mlp":
            kwargs.update(hidden=self.hidden, activation=self.activation)
        elif self.model == "cnn":
            kwargs.update(channels=self.channels)
        return kwargs


def ensure_writable_dir(out: str | os.PathLike[str]) -> Path:
    """Create ``out`` if needed and prove it can hold files; ``ValueError`` if not."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ValueError(
            f"--out {str(out)!r} cannot be written: {exc.strerror or exc}; "
            "expected a folder that can be created and written"
        ) from exc
    return out


def total_steps(n_train: int, config: TrainConfig) -> int:
    """Optimizer steps of the whole run: epochs times batches per epoch."""
    return config.epochs * math.ceil(n_train / config.batch_size)


def build_optimizer(config: TrainConfig, model: Any, steps: int) -> Any:
    """The configured optimizer; the learning-rate schedule and Demon's ``total_steps``
    default to the length of the run."""
    hyperparameters = dict(config.hyperparameters)
    if "total_steps" in resolve(config.optimizer).defaults:
        hyperparameters.setdefault("total_steps", steps)
    lr = make_lr_schedule(config.schedule, config.lr, steps, config.warmup)
    return create(config.optimizer, model.parameters(), lr=lr, **hyperparameters)


def seed_streams(seed: int, n: int) -> list[np.random.Generator]:
    """``n`` independent generators derived from one seed (model init, split, batches...)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def run_training(
    config: TrainConfig, out: str | os.PathLike[str], *, progress: bool | None = None
) -> dict[str, Any]:
    """Train as ``config`` says, evaluate on the test set, write the files into ``out``.

    Returns the content of ``history.json``.
    """
    config.validate()
    out = ensure_writable_dir(out)
    init_rng, split_rng, batch_rng = seed_streams(config.seed, 3)
    splits = load_dataset(
        config.dataset, val_fraction=config.val_fraction, rng=split_rng, normalize=config.normalize
    )
    model = build_model(
        config.model, splits.input_shape, splits.num_classes, rng=init_rng, **config.model_kwargs()
    )
    optimizer = build_optimizer(config, model, total_steps(len(splits.train.y), config))
    loss = SoftmaxCrossEntropy()
    start = time.perf_counter()
    history = fit(
        model,
        loss,
        optimizer,
        splits.train,
        splits.val if len(splits.val.y) else None,
        epochs=config.epochs,
        batch_size=config.batch_size,
        rng=batch_rng,
        progress=progress,
    )
    test_loss, test_accuracy = (
        evaluate(model, loss, splits.test) if not history.diverged else (math.nan, math.nan)
    )
    result = {
        "config": asdict(config),
        **history.to_dict(),
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "seconds": time.perf_counter() - start,
        "parameters": model.num_parameters(),
        "versions": {
            "optimlab": optimlab.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
    }
    result = _json_safe(result)
    write_json(out / "history.json", result)
    from optimlab.experiments.plots import plot_history

    title = f"{config.model} on {config.dataset}, {config.optimizer} lr={config.lr:g}"
    plot_history(history, out / "loss.png", out / "accuracy.png", title=title)
    return result


def load_history(path: str | os.PathLike[str]) -> History:
    """Read the epochs of a ``history.json`` back into a :class:`History`."""
    with open(path, encoding="utf-8") as f:
        return History.from_dict(json.load(f))


def _json_safe(obj: Any) -> Any:
    """Strict JSON: NaN and infinities become ``null``, tuples lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj
