"""What ``optimlab trajectories`` writes into its output folder.

``trajectories.png`` (paths on the contour plot), ``convergence.png``
(distance and value per step), ``trajectories.gif`` (the paths moving
together) and ``summary.json`` (the function, the settings and, per optimizer,
its rate, final value and distance, and the tuning grid if any). Every file
is written to a temporary name and renamed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimlab.io import write_json
from optimlab.problems import Function2D, NoisyFunction
from optimlab.trajectories.plots import (
    animate,
    check_animation,
    plot_convergence,
    plot_trajectories,
)
from optimlab.trajectories.runs import Runs, Trajectory, Tuning, _number

FILES = ("trajectories.png", "convergence.png", "trajectories.gif", "summary.json")


def summary(
    function: Function2D,
    runs: Mapping[str, Trajectory],
    tunings: Mapping[str, Tuning] | None = None,
) -> dict[str, Any]:
    """The JSON record of one invocation (what ``summary.json`` holds)."""
    first = next(iter(runs.values()))
    record: dict[str, Any] = {
        "function": function.name,
        "formula": function.formula,
        "minima": [list(m) for m in function.minima],
        "minimum_value": function.minimum_value,
        "start": [float(v) for v in first.points[0]],
        "steps": first.steps,
        "noise": function.scale if isinstance(function, NoisyFunction) else 0.0,
        "seed": function.seed if isinstance(function, NoisyFunction) else None,
        "tuned": bool(tunings),
        "optimizers": {name: run.summary() for name, run in runs.items()},
    }
    if tunings:
        for name, tuning in tunings.items():
            record["optimizers"][name]["tuning"] = {
                "grid": list(tuning.grid),
                "final_values": {f"{lr:g}": _number(v) for lr, v in tuning.final_values.items()},
                "best_lr": tuning.best_lr,
                "best_at_grid_edge": tuning.at_edge,
            }
    return record


def save_outputs(
    out: str | os.PathLike[str], runs: Runs, *, frames: int = 100, fps: int = 20
) -> dict[str, Path]:
    """Write the four files of :func:`optimlab.trajectories.run`'s result into ``out``.

    ``out`` is created if needed; returns the paths by file name.
    """
    check_animation(frames, fps)  # before any file is written
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in FILES}
    function = runs.function
    plot_trajectories(function, runs, paths["trajectories.png"])
    plot_convergence(function, runs, paths["convergence.png"])
    record = summary(function, runs, runs.tunings)
    if runs.plugins:
        record["plugins"] = [p.record() for p in runs.plugins]
    record["frames"] = animate(function, runs, paths["trajectories.gif"], frames=frames, fps=fps)
    write_json(paths["summary.json"], record)
    return paths
