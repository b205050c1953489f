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

from dataclasses import asdict
from typing import Any

import numpy as np

from optimlab.experiments import checkpoint
from optimlab.experiments.run import RunConfig, build, run_id
from optimlab.train import History, fit
from optimlab.train.diagnostics import DiagnosticsRecorder
from optimlab.train.weights import WeightTrail


def build_run(config: dict[str, Any], texts: dict[str, str] | None = None) -> Any:
    """The run ``config`` (a :meth:`RunConfig.to_dict`) at its start: see :func:`run.build`."""
    return build(RunConfig.from_dict(config), texts)


def run_epoch(
    config: dict[str, Any], saved: bytes | None, texts: dict[str, str] | None = None
) -> dict[str, Any]:
    """Train the next epoch of the run ``config`` from checkpoint ``saved`` (None: the start).

    ``texts`` are the sources of the run's file plugins (``{sha256: text}``),
    imported before the run is built.

    Returns ``{"status": "running" | "done" | "diverged", "epochs": [...],
    "checkpoint": bytes, "seconds": float, "diagnostics": [...], "weights": [...]}``
    where ``epochs`` are all the run's finished epochs so far and ``diagnostics`` all
    its diagnostics rows (so that the store can be completed from the checkpoint
    after a crash), ``weights`` the ``(step, epoch, vector)`` kept during this epoch
    (a ``landscape`` run; the checkpoint holds them too; none for an epoch that
    diverged).
    """
    run = build_run(config, texts)
    model, loss, optimizer, batch_rng = run.model, run.loss, run.optimizer, run.batch_rng
    history = History()
    identity = {"run_id": run_id(config), "config_digest": checkpoint.digest(config)}
    if saved is not None:
        state = checkpoint.from_bytes(saved)
        if {k: state.get(k) for k in identity} != identity:
            raise ValueError(
                f"the checkpoint handed to run {identity['run_id']} is run "
                f"{state.get('run_id')}'s; refusing to continue from it"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(_with_groups(state["optimizer"], optimizer.state_dict()))
        batch_rng.bit_generator.state = state["rng"]
        history = History.from_dict(state["history"])
    recorder = DiagnosticsRecorder(model) if config.get("diagnostics") else None
    trail = None
    if config.get("landscape"):
        every = RunConfig.from_dict(config).weights_every(len(run.splits.train.y))
        trail = WeightTrail(model, every)
    fit(
        model, loss, optimizer, run.splits.train, run.splits.val,
        epochs=1, batch_size=config["batch_size"], rng=batch_rng, history=history,
        progress=False, test=run.splits.test,
        observers=[o for o in (recorder, trail) if o is not None],
    )  # fmt: skip
    if recorder is not None:
        history.diagnostics.extend(recorder.rows)
    epoch = len(history.epochs)
    weights = [] if trail is None or history.diverged else [
        (step, epoch if step else 0, vector) for step, vector in trail.take()
    ]  # fmt: skip
    if history.diverged:
        status = "diverged"
    elif len(history.epochs) >= config["epochs"]:
        status = "done"
    else:
        status = "running"
    content = {
        **identity,
        "model": model.state_dict(),
        "optimizer": _without_groups(optimizer.state_dict()),
        "rng": batch_rng.bit_generator.state,
        "history": history.to_dict(),
    }
    if weights:
        content["weights"] = pack_weights(weights)
    return {
        "status": status,
        "epochs": [asdict(r) for r in history.epochs],
        "diverged_at_epoch": history.diverged_at_epoch,
        "checkpoint": checkpoint.to_bytes(content),
        "seconds": sum(r.seconds for r in history.epochs),
        "diagnostics": history.diagnostics,
        "weights": weights,
    }


def pack_weights(weights: list[tuple[int, int, np.ndarray]]) -> dict[str, np.ndarray]:
    """Kept weights as checkpoint arrays: ``steps`` (n,), ``epochs`` (n,), ``vectors`` (n, P)."""
    return {
        "steps": np.array([s for s, _, _ in weights], dtype=np.int64),
        "epochs": np.array([e for _, e, _ in weights], dtype=np.int64),
        "vectors": np.stack([v for _, _, v in weights]),
    }


def unpack_weights(packed: dict[str, np.ndarray] | None) -> list[tuple[int, int, np.ndarray]]:
    """The ``(step, epoch, vector)`` of :func:`pack_weights` (none for ``None``)."""
    if not packed:
        return []
    return [
        (int(s), int(e), v) for s, e, v in zip(packed["steps"], packed["epochs"],
                                               packed["vectors"], strict=True)
    ]  # fmt: skip


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
