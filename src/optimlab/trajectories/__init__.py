"""Optimizers on 2-D test functions: paths, convergence curves and animations.

>>> from optimlab import trajectories
>>> runs = trajectories.run("rosenbrock", ["sgd", "adam"], steps=100, lrs=[1e-3, 1e-2])
>>> runs["adam"].points.shape, runs["adam"].values.shape
((101, 2), (101,))

:func:`run` returns arrays a notebook can draw itself; :func:`save_outputs`
writes the pictures and ``summary.json`` that ``optimlab trajectories`` makes.
"""

from optimlab.trajectories.outputs import save_outputs
from optimlab.trajectories.runs import (
    ESCAPE_RADIUS,
    Runs,
    Trajectory,
    Tuning,
    default_grid,
    run,
    trajectory,
    tune,
)

__all__ = [
    "ESCAPE_RADIUS",
    "Runs",
    "Trajectory",
    "Tuning",
    "default_grid",
    "run",
    "save_outputs",
    "trajectory",
    "tune",
]
