"""One epoch of one run: the unit of work a sweep hands to a worker.

``run_epoch(config, checkpoint)`` rebuilds the run from its configuration,
restores the checkpoint of its last finished epoch (model, optimizer state,
the batch generator's state and the history), trains one more epoch and
returns the new checkpoint and the epochs so far. It is a pure function of its
arguments: it reads the data set but writes nothing, so the same code serves a
local process pool and a Dask cluster, and the coordinator alone writes the
database and the checkpoint files. Because every epoch of every run, resumed
or not, goes through this same path, a resumed sweep gives the same numbers as
an uninterrupted one, bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict
from typing import Any

import numpy as np

from optimlab.data import load_dataset
from optimlab.data.loader import ArrayDataset
from optimlab.experiments import checkpoint
from optimlab.experiments.problems import PROBLEMS
from optimlab.nn import SoftmaxCrossEntropy
from optimlab.nn.models import build_model
from optimlab.optim import create, resolve
from optimlab.optim.schedules import make_lr_schedule
from optimlab.train import History, fit

#: The validation split is part of the problem, the same for every run.
SPLIT_SEED = 0

_DATA: dict[tuple, Any] = {}


def problem_data(problem: str, val_fraction: float, train_subset: int | None) -> Any:
    """The problem's splits, loaded once per process."""
    key = (problem, val_fraction, train_subset)
    if key not in _DATA:
        spec = PROBLEMS.get(problem)
        splits = load_dataset(
            spec.dataset, val_fraction=val_fraction, seed=SPLIT_SEED, normalize=spec.normalize
        )
        if train_subset is not None and train_subset < len(splits.train.y):
            train = ArrayDataset(splits.train.x[:train_subset], splits.train.y[:train_subset])
            splits = dataclasses.replace(splits, train=train)
        _DATA[key] = splits
    return _DATA[key]


def build_run(config: dict[str, Any]) -> tuple[Any, Any, Any, np.random.Generator, Any]:
    """Model, loss, optimizer, batch generator and data of a run, at their initial state."""
    problem = PROBLEMS.get(config["problem"])
    splits = problem_data(config["problem"], config["val_fraction"], config["train_subset"])
    init_seq, batch_seq = np.random.SeedSequence(config["seed"]).spawn(2)
    options = dict(problem.model_kwargs)
    if config.get("init") is not None:
        options["init"] = config["init"]
    model = build_model(
        problem.model, splits.input_shape, splits.num_classes,
        rng=np.random.default_rng(init_seq), **options,
    )  # fmt: skip
    steps = config["epochs"] * math.ceil(len(splits.train.y) / config["batch_size"])
    hyperparameters = {
        k: tuple(v) if isinstance(v, list) else v for k, v in config["hyperparameters"].items()
    }
    if "total_steps" in resolve(config["optimizer"]).defaults:
        hyperparameters.setdefault("total_steps", steps)  # Demon: the whole run
    lr = make_lr_schedule(config["schedule"], config["lr"], steps, config["warmup"])
    optimizer = create(config["optimizer"], model.parameters(), lr=lr, **hyperparameters)
    return model, SoftmaxCrossEntropy(), optimizer, np.random.default_rng(batch_seq), splits


def run_epoch(config: dict[str, Any], saved: bytes | None) -> dict[str, Any]:
    """Train the next epoch of the run ``config`` from checkpoint ``saved`` (None: the start).

    Returns ``{"status": "running" | "done" | "diverged", "epochs": [...],
    "checkpoint": bytes, "seconds": float}`` where ``epochs`` are all the
    run's finished epochs so far (so that the store can be completed from the
    checkpoint after a crash).
    """
    model, loss, optimizer, batch_rng, splits = build_run(config)
    history = History()
    if saved is not None:
        state = checkpoint.from_bytes(saved)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(_with_groups(state["optimizer"], optimizer.state_dict()))
        batch_rng.bit_generator.state = state["rng"]
        history = History.from_dict(state["history"])
    fit(
        model, loss, optimizer, splits.train, splits.val,
        epochs=1, batch_size=config["batch_size"], rng=batch_rng, history=history,
        progress=False,
    )  # fmt: skip
    if history.diverged:
        status = "diverged"
    elif len(history.epochs) >= config["epochs"]:
        status = "done"
    else:
        status = "running"
    content = {
        "model": model.state_dict(),
        "optimizer": _without_groups(optimizer.state_dict()),
        "rng": batch_rng.bit_generator.state,
        "history": history.to_dict(),
    }
    return {
        "status": status,
        "epochs": [asdict(r) for r in history.epochs],
        "diverged_at_epoch": history.diverged_at_epoch,
        "checkpoint": checkpoint.to_bytes(content),
        "seconds": sum(r.seconds for r in history.epochs),
    }


def _without_groups(state: Any) -> Any:
    """An optimizer state dict without its ``param_groups``: those come from the config
    (schedules included), the rest is what changes while training."""
    if isinstance(state, dict):
        return {k: _without_groups(v) for k, v in state.items() if k != "param_groups"}
    return state


def _with_groups(saved: Any, fresh: Any) -> Any:
    if isinstance(fresh, dict):
        return {
            k: fresh[k] if k == "param_groups" else _with_groups(saved[k], fresh[k]) for k in fresh
        }
    return saved
