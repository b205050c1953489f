"""One run configuration and one way to build it, for ``train``, ``compare`` and ``trajectories``.

A :class:`RunConfig` is frozen and JSON-able (:meth:`RunConfig.to_dict`,
:meth:`RunConfig.from_dict`); its digest is the run's id in a sweep's store.
:func:`build` turns it into the model, loss, optimizer, batch generator and
data of the run at its start, and :func:`build_optimizer` (which ``build`` and
the 2-D trajectories use) the optimizer alone. Because every command goes
through these two functions, ``optimlab train`` with a sweep run's settings
gives that run's numbers exactly.

Random streams, from ``seed``: ``SeedSequence(seed).spawn(2)`` gives the
weight initialisation and the batch order. The validation split is part of the
problem, not of the run: it is drawn with :data:`SPLIT_SEED` for every seed, so
that seed k of every optimizer sees the same split (and, for one model, the same
initial weights and batch order).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimlab.data import load_dataset
from optimlab.data.loader import ArrayDataset
from optimlab.data.synthetic import SYNTHETIC, deepobs_quadratic_hessian
from optimlab.experiments import plugins as plugin_files
from optimlab.experiments.plugins import Plugin
from optimlab.experiments.problems import PROBLEMS
from optimlab.nn import QuadraticForm, SigmoidCrossEntropy, SoftmaxCrossEntropy
from optimlab.nn.init import INITIALIZERS
from optimlab.nn.models import build_model
from optimlab.optim import create, resolve
from optimlab.optim.schedules import make_lr_schedule

#: The seed of every run's validation split: the split belongs to the problem.
SPLIT_SEED = 0

#: A ``landscape`` run keeps its weights this many times per epoch (evenly spaced in
#: steps), besides its initial weights and its weights at the end of every epoch.
WEIGHTS_PER_EPOCH = 4


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's numbers.

    The task is either a registered ``problem`` (which names a data set, a
    model and its options, and the input scaling) or ``dataset`` + ``model`` +
    ``model_kwargs`` + ``normalize`` given directly (``optimlab train``).
    ``init`` overrides the model's weight initialiser. A run with neither (the
    2-D trajectories) has only an optimizer: :func:`build_optimizer`, not
    :func:`build`. ``hyperparameters`` are
    the optimizer's besides ``lr``; ``schedule`` and ``warmup`` shape the
    learning rate over the run; Demon's ``total_steps`` defaults to the run's
    length. ``plugins`` are imported before the optimizer is built.

    Two observations that leave the numbers alone but belong to the run's identity
    (a store either has them for a run or not): ``diagnostics`` records per-layer
    statistics (:mod:`optimlab.train.diagnostics`, every
    :data:`~optimlab.train.diagnostics.DIAGNOSTIC_EVERY` steps), ``landscape`` keeps
    the weights :data:`WEIGHTS_PER_EPOCH` times per epoch and at every epoch's end
    (:class:`~optimlab.train.weights.WeightTrail`, for ``optimlab landscape``).
    """

    optimizer: str
    lr: float
    seed: int = 0
    epochs: int = 5
    batch_size: int = 128
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    schedule: str = "constant"
    warmup: int = 0
    problem: str | None = None
    dataset: str | None = None
    model: str | None = None
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    normalize: str | None = "standardize"
    init: str | None = None
    val_fraction: float = 0.1
    train_subset: int | None = None
    plugins: tuple[Plugin, ...] = ()
    diagnostics: bool = False
    landscape: bool = False

    def __post_init__(self) -> None:
        given = self.dataset is not None, self.model is not None
        if (self.problem is not None and any(given)) or given[0] != given[1]:
            raise ValueError(
                "a run trains either a problem or a dataset with a model; received "
                f"problem={self.problem!r}, dataset={self.dataset!r}, model={self.model!r}"
            )

    # -- what is trained ------------------------------------------------------------
    def task(self) -> tuple[str, str, dict[str, Any], str | None]:
        """``(dataset, model, model options, normalize)``, from the problem or as given."""
        if self.problem is not None:
            p = PROBLEMS.get(self.problem)
            kwargs = dict(p.model_kwargs)
            dataset, model, normalize = p.dataset, p.model, p.normalize
        elif self.dataset is None or self.model is None:
            raise ValueError(f"run of {self.optimizer!r}: no problem and no dataset to train on")
        else:
            kwargs = dict(self.model_kwargs)
            dataset, model, normalize = self.dataset, self.model, self.normalize
        if self.init is not None:
            kwargs["init"] = self.init
        return dataset, model, kwargs, normalize

    def loss_name(self) -> str:
        """The loss the run trains: its problem's, else the model's (:data:`MODEL_LOSSES`)."""
        if self.problem is not None:
            return PROBLEMS.get(self.problem).loss
        return MODEL_LOSSES.get(str(self.model), "softmax_cross_entropy")

    def steps_per_epoch(self, n_train: int) -> int:
        return math.ceil(n_train / self.batch_size)

    def weights_every(self, n_train: int) -> int:
        """The steps between two kept weight vectors of a ``landscape`` run."""
        return max(1, self.steps_per_epoch(n_train) // WEIGHTS_PER_EPOCH)

    # -- JSON ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form whose digest is the run id.

        A problem run holds the keys sweeps have always hashed (``init`` and
        ``plugins`` only when set), so the run ids of existing stores stay valid.
        """
        config: dict[str, Any] = {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "seed": self.seed,
            "hyperparameters": {k: _jsonable(v) for k, v in sorted(self.hyperparameters.items())},
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "schedule": self.schedule,
            "warmup": self.warmup,
            "val_fraction": self.val_fraction,
            "train_subset": self.train_subset,
        }
        if self.problem is not None:
            config["problem"] = self.problem
        else:
            config.update(
                dataset=self.dataset,
                model=self.model,
                model_kwargs={k: _jsonable(v) for k, v in sorted(self.model_kwargs.items())},
                normalize=self.normalize,
            )
        if self.init is not None:
            config["init"] = INITIALIZERS.canonical(self.init)
        if self.plugins:
            config["plugins"] = [p.record() for p in self.plugins]
        for observed in ("diagnostics", "landscape"):
            if getattr(self, observed):
                config[observed] = True
        return config

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> RunConfig:
        """The run of :meth:`to_dict` (lists back to tuples)."""
        data = dict(config)
        data["hyperparameters"] = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in data.get("hyperparameters", {}).items()
        }
        if "model_kwargs" in data:
            data["model_kwargs"] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in data["model_kwargs"].items()
            }
        data["plugins"] = tuple(Plugin.from_record(p) for p in data.get("plugins", ()))
        return cls(**data)

    @property
    def run_id(self) -> str:
        return run_id(self.to_dict())


def run_id(config: Mapping[str, Any]) -> str:
    """16 hex digits of the SHA-256 of the canonical JSON of a run's configuration."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# -- building ------------------------------------------------------------------------------
#: The loss of a model trained without a problem (``optimlab train --model``); others:
#: softmax cross-entropy.
MODEL_LOSSES = {"autoencoder": "sigmoid_cross_entropy"}


def make_loss(name: str) -> Any:
    """A new loss of a name of :data:`~optimlab.experiments.problems.LOSSES`."""
    if name == "softmax_cross_entropy":
        return SoftmaxCrossEntropy()
    if name == "sigmoid_cross_entropy":
        return SigmoidCrossEntropy()
    if name == "quadratic-deep":
        return QuadraticForm(deepobs_quadratic_hessian())
    raise ValueError(f"unknown loss {name!r}")


@dataclass
class Built:
    """A run at its start: what ``fit`` needs."""

    model: Any
    loss: Any
    optimizer: Any
    batch_rng: np.random.Generator
    splits: Any
    steps: int


def build_optimizer(
    run: RunConfig, params: Sequence[Any], steps: int, texts: Mapping[str, str] | None = None
) -> Any:
    """The run's optimizer over ``params`` for a run of ``steps`` steps.

    Imports the run's plugins first (``texts``: their shipped sources, on a
    worker); the learning-rate schedule and Demon's ``total_steps`` span the run.
    """
    plugin_files.load(run.plugins, texts)
    hyperparameters = dict(run.hyperparameters)
    resolve(run.optimizer).check({**hyperparameters, "lr": run.lr}, horizon=steps)
    lr = make_lr_schedule(run.schedule, run.lr, steps, run.warmup)
    return create(run.optimizer, params, lr=lr, horizon=steps, **hyperparameters)


_DATA: dict[tuple, Any] = {}


def run_data(run: RunConfig) -> Any:
    """The run's splits, loaded once per process (they depend on the task, not the seed;
    the key includes where the files are read from)."""
    dataset, _, _, normalize = run.task()
    where = tuple(os.environ.get(k) for k in ("OPTIMLAB_DATA", "OPTIMLAB_CACHE"))
    key = (dataset, normalize, run.val_fraction, run.train_subset, where)
    if key not in _DATA:
        if dataset in SYNTHETIC:  # drawn from a formula, with its own fixed splits
            splits = SYNTHETIC[dataset]()
        else:
            splits = load_dataset(
                dataset, val_fraction=run.val_fraction, seed=SPLIT_SEED, normalize=normalize
            )
        if run.train_subset is not None and run.train_subset < len(splits.train.y):
            subset = run.train_subset
            train = ArrayDataset(splits.train.x[:subset], splits.train.y[:subset])
            splits = dataclasses.replace(splits, train=train)
        _DATA[key] = splits
    return _DATA[key]


def build(run: RunConfig, texts: Mapping[str, str] | None = None) -> Built:
    """Model, loss, optimizer, batch generator and data of ``run``, at their initial state."""
    splits = run_data(run)
    _, model_name, kwargs, _ = run.task()
    init_seq, batch_seq = np.random.SeedSequence(run.seed).spawn(2)
    model = build_model(
        model_name, splits.input_shape, splits.num_classes,
        rng=np.random.default_rng(init_seq), **kwargs,
    )  # fmt: skip
    steps = run.epochs * run.steps_per_epoch(len(splits.train.y))
    optimizer = build_optimizer(run, model.parameters(), steps, texts)
    return Built(
        model, make_loss(run.loss_name()), optimizer, np.random.default_rng(batch_seq), splits,
        steps,
    )  # fmt: skip
