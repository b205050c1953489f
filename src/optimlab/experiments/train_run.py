"""One configured training run, as ``optimlab train`` performs it, and its files.

The run writes, each atomically (temporary file, then rename):

- ``history.json``: the configuration, the epochs, ``test_accuracy``;
- ``loss.png`` and ``accuracy.png``: the curves over epochs (a loss problem, which has
  no accuracy, only ``loss.png``);
- with ``diagnostics``: the per-layer rows in ``history.json`` (``diagnostics``) and
  one ``diagnostics-<name>.png`` per diagnostic (layers as panels).
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import optimlab
from optimlab._validation import check_positive_int
from optimlab.data import DATASETS
from optimlab.experiments import plugins as plugin_files
from optimlab.experiments.config import MAX_INT
from optimlab.experiments.problems import PROBLEMS
from optimlab.experiments.run import RunConfig, build
from optimlab.io import ensure_writable_dir, write_json
from optimlab.nn.init import INITIALIZERS
from optimlab.nn.models import MODELS
from optimlab.optim import resolve
from optimlab.optim.schedules import SCHEDULES
from optimlab.train import History, evaluate, fit
from optimlab.train.diagnostics import DiagnosticsRecorder


@dataclass
class TrainConfig:
    """What ``optimlab train`` is asked for; :meth:`run` is the run every command builds.

    ``problem`` (a name of ``optimlab compare --list-problems``) stands for its
    data set, model, model options and input scaling; without it they are
    ``dataset``, ``model`` (with ``hidden``, ``channels``, ``activation``) and
    ``normalize``. ``init=None`` keeps the model's (or problem's) initialiser.
    """

    dataset: str = "fashion-mnist"
    model: str = "mlp"
    hidden: tuple[int, ...] = (128, 64)
    channels: tuple[int, ...] = (16, 32)
    activation: str = "relu"
    init: str | None = None
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
    problem: str | None = None
    train_subset: int | None = None
    plugins: tuple[str, ...] = ()
    diagnostics: bool = False

    def validate(self) -> None:
        """Check names and ranges before any data is loaded (``ValueError``)."""
        for plugin in self.plugins:
            plugin_files.load([plugin_files.find(plugin)])
        if self.problem is not None:
            PROBLEMS.get(self.problem)
        else:
            DATASETS.get(self.dataset)
            MODELS.get(self.model)
        if self.init is not None:
            INITIALIZERS.get(self.init)
        spec = resolve(self.optimizer)
        if "lr" in self.hyperparameters:
            raise ValueError("train: give the learning rate with --lr, not -o lr=...")
        if (
            isinstance(self.lr, bool)
            or not isinstance(self.lr, int | float)
            or not (0 < self.lr < math.inf)
        ):
            raise ValueError(
                f"train: --lr must be finite and > 0 (as in compare); received {self.lr!r}"
            )
        spec.check({**self.hyperparameters, "lr": self.lr})
        SCHEDULES.get(self.schedule)
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(
                f"train: warmup must be an integer >= 0; received warmup={self.warmup!r}"
            )
        check_positive_int("train", "epochs", self.epochs)
        check_positive_int("train", "batch_size", self.batch_size)
        if self.train_subset is not None:
            check_positive_int("train", "train_subset", self.train_subset)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"train: seed must be an integer >= 0; received seed={self.seed!r}")
        for name in ("epochs", "batch_size", "train_subset", "seed", "warmup"):
            value = getattr(self, name)
            if value is not None and value > MAX_INT:
                raise ValueError(
                    f"train: {name} must be at most 2**63 - 1; received {name}={value!r}"
                )

    def model_kwargs(self) -> dict[str, Any]:
        if self.model == "mlp":
            return {"hidden": tuple(self.hidden), "activation": self.activation}
        if self.model == "cnn":
            return {"channels": tuple(self.channels)}
        return {}

    def run(self) -> RunConfig:
        """The run, as ``compare`` would build it with the same settings."""
        task: dict[str, Any] = (
            {"problem": self.problem}
            if self.problem is not None
            else {
                "dataset": self.dataset, "model": self.model,
                "model_kwargs": self.model_kwargs(), "normalize": self.normalize,
            }
        )  # fmt: skip
        return RunConfig(
            optimizer=self.optimizer, lr=self.lr, seed=self.seed, epochs=self.epochs,
            batch_size=self.batch_size, hyperparameters=dict(self.hyperparameters),
            schedule=self.schedule, warmup=self.warmup, init=self.init,
            val_fraction=self.val_fraction, train_subset=self.train_subset,
            plugins=tuple(plugin_files.find(p) for p in self.plugins),
            diagnostics=self.diagnostics, **task,
        )  # fmt: skip


def run_training(
    config: TrainConfig, out: str | os.PathLike[str], *, progress: bool | None = None
) -> dict[str, Any]:
    """Train as ``config`` says, evaluate on the test set, write the files into ``out``.

    Returns the content of ``history.json``.
    """
    config.validate()
    out = ensure_writable_dir(out)
    run = config.run()
    built = build(run)
    splits = built.splits
    recorder = DiagnosticsRecorder(built.model) if config.diagnostics else None
    start = time.perf_counter()
    history = fit(
        built.model,
        built.loss,
        built.optimizer,
        splits.train,
        splits.val if len(splits.val.y) else None,
        epochs=config.epochs,
        batch_size=config.batch_size,
        rng=built.batch_rng,
        progress=progress,
        test=splits.test,
        observers=() if recorder is None else (recorder,),
    )
    if recorder is not None:
        history.diagnostics.extend(recorder.rows)
    test_loss, test_accuracy = (
        evaluate(built.model, built.loss, splits.test)
        if not history.diverged
        else (math.nan, math.nan)
    )
    result = {
        "config": asdict(config),
        "run": run.to_dict(),
        "run_id": run.run_id,
        **history.to_dict(),
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "seconds": time.perf_counter() - start,
        "parameters": built.model.num_parameters(),
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

    task = config.problem or f"{config.model} on {config.dataset}"
    title = f"{task}, {config.optimizer} lr={config.lr:g}"
    plot_history(history, out / "loss.png", out / "accuracy.png", title=title)
    if history.diagnostics:
        from optimlab.experiments.diagnostics_plots import plot_diagnostics

        plot_diagnostics({config.optimizer: history.diagnostics}, out)
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
