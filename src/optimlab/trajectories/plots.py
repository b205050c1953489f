"""Pictures of trajectories: paths on a contour plot, convergence curves, a GIF.

Contours of a function bounded below are drawn on a log scale of the gap
``f - f*`` (otherwise the valley of Rosenbrock is one colour); the saddle,
unbounded below, gets linear levels. Paths that leave the window are cut at
its edge by the axes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping

import numpy as np

from optimlab.experiments.plots import colors, pyplot, save_figure
from optimlab.io import atomic_open
from optimlab.problems import Function2D
from optimlab.trajectories.runs import Trajectory

GRID = 300  # contour resolution per axis


def _label(name: str, run: Trajectory) -> str:
    tail = f", diverged at step {run.diverged_at}" if run.diverged else ""
    return f"{name} (lr={run.lr:.3g}{tail})"


def _contour(ax, function: Function2D) -> None:
    (x0, x1), (y0, y1) = function.window
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (GRID, GRID, 2)
    z = function.value(grid)
    if function.minimum_value is not None:
        gap = np.maximum(z - function.minimum_value, 0.0)
        floor = max(np.percentile(gap, 0.5), 1e-3)
        levels = np.geomspace(floor, gap.max() + floor, 30)
        ax.contourf(xs, ys, gap + floor, levels=levels, cmap="viridis", alpha=0.75, norm="log")
        ax.contour(xs, ys, gap + floor, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
    else:
        ax.contourf(xs, ys, z, levels=30, cmap="viridis", alpha=0.75)
        ax.contour(xs, ys, z, levels=30, colors="k", linewidths=0.3, alpha=0.4)
    for x, y in function.minima or function.stationary:
        ax.plot(x, y, marker="*", markersize=16, color="white", markeredgecolor="k", zorder=5)
    for x, y in function.local_minima:
        ax.plot(x, y, marker="D", markersize=7, color="white", markeredgecolor="k", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _start_marker(ax, runs: Mapping[str, Trajectory]) -> None:
    first = next(iter(runs.values()))
    ax.plot(*first.points[0], marker="o", markersize=8, color="k", zorder=6, label="start")


def _title(function: Function2D, runs: Mapping[str, Trajectory]) -> str:
    steps = next(iter(runs.values())).steps
    return f"{function.name}: {steps} steps"


def plot_trajectories(
    function: Function2D, runs: Mapping[str, Trajectory], path: str | os.PathLike[str]
) -> None:
    """Every path on the contour plot of ``function``, the minima as stars."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 6))
    _contour(ax, function)
    for (name, run), color in zip(runs.items(), colors(len(runs)), strict=True):
        ax.plot(*run.points.T, "-", color=color, linewidth=1.6, label=_label(name, run))
        ax.plot(*run.points.T, ".", color=color, markersize=2.5)
    _start_marker(ax, runs)
    ax.set_title(_title(function, runs))
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    save_figure(fig, path)


def plot_convergence(
    function: Function2D, runs: Mapping[str, Trajectory], path: str | os.PathLike[str]
) -> None:
    """Distance to the nearest minimum and the function value (or gap ``f - f*``) per step."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    bounded = function.minimum_value is not None
    for (name, run), color in zip(runs.items(), colors(len(runs)), strict=True):
        steps = np.arange(run.steps + 1)
        left.plot(steps, run.distances, color=color, label=_label(name, run))
        value = run.values - function.minimum_value if bounded else run.values
        right.plot(steps, value, color=color, label=_label(name, run))
    # Log scales where there is something positive to show (a run started at a
    # minimum has distance 0 throughout).
    if _any_positive(left):
        left.set_yscale("log")
    kind = "minimum (global or local)" if function.local_minima else function.target_kind
    left.set_ylabel(f"distance to the nearest {kind}")
    if bounded:
        if _any_positive(right):
            right.set_yscale("log")
        right.set_ylabel(f"f(x, y) - f*   (f* = {function.minimum_value:.6g})")
    else:
        right.set_yscale("symlog")
        right.set_ylabel("f(x, y)")
    for ax in (left, right):
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3, which="both")
    left.legend(fontsize=8)
    fig.suptitle(_title(function, runs))
    save_figure(fig, path)


def _any_positive(ax) -> bool:
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=np.float64)
        if np.any(np.isfinite(y) & (y > 0)):
            return True
    return False


#: GIF frame durations are whole hundredths of a second; viewers slow down faster ones.
MAX_FPS = 50


def check_animation(frames: int, fps: int) -> None:
    """``ValueError`` unless ``frames >= 2`` and ``1 <= fps <= MAX_FPS`` (integers)."""
    for name, value, low, high in (("frames", frames, 2, None), ("fps", fps, 1, MAX_FPS)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"trajectories: {name} must be an integer; received {name}={value!r}")
        if value < low or (high is not None and value > high):
            bound = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise ValueError(f"trajectories: {name} must be {bound}; received {name}={value}")


def frame_steps(steps: int, frames: int) -> list[int]:
    """The steps shown by the frames: evenly spaced from 0 to ``steps``, both included.

    ``min(frames, steps + 1)`` distinct steps; ``frames`` must be at least 2.
    """
    check_animation(frames, 1)
    count = min(frames, steps + 1)
    return sorted({round(v) for v in np.linspace(0, steps, count)})


def animate(
    function: Function2D,
    runs: Mapping[str, Trajectory],
    path: str | os.PathLike[str],
    *,
    frames: int = 100,
    fps: int = 20,
) -> int:
    """An animated GIF of the paths moving together; returns the number of frames.

    Frame ``k`` shows every path up to step ``frame_steps(steps, frames)[k]``
    with its current point as a dot. The last frame holds for a second.
    """
    from PIL import Image

    check_animation(frames, fps)
    plt = pyplot()
    steps = next(iter(runs.values())).steps
    shown = frame_steps(steps, frames)
    fig, ax = plt.subplots(figsize=(6, 5), dpi=80)
    _contour(ax, function)
    _start_marker(ax, runs)
    artists = []
    for (name, run), color in zip(runs.items(), colors(len(runs)), strict=True):
        (line,) = ax.plot([], [], "-", color=color, linewidth=1.6, label=_label(name, run))
        (head,) = ax.plot([], [], "o", color=color, markersize=6, markeredgecolor="k")
        artists.append((run, line, head))
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    ax.set_title(f"{function.name}: {steps} steps")
    clock = ax.text(
        0.02,
        0.02,
        "",
        transform=ax.transAxes,
        fontsize=9,
        zorder=7,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
    images = []
    try:
        # Blitting: the contour plot is drawn once; each frame redraws only the paths.
        fig.canvas.draw()
        background = fig.canvas.copy_from_bbox(fig.bbox)
        for t in shown:
            fig.canvas.restore_region(background)
            for run, line, head in artists:
                line.set_data(run.points[: t + 1, 0], run.points[: t + 1, 1])
                head.set_data(run.points[t : t + 1, 0], run.points[t : t + 1, 1])
                ax.draw_artist(line)
                ax.draw_artist(head)
            clock.set_text(f"step {t}")
            ax.draw_artist(clock)
            rgba = np.asarray(fig.canvas.buffer_rgba())
            images.append(Image.fromarray(rgba[..., :3].copy()).quantize(colors=128))
    finally:
        plt.close(fig)
    durations = [round(1000 / fps)] * len(images)
    durations[-1] = 1000
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
        disposal=1,
    )
    with atomic_open(path, "wb") as f:
        f.write(buffer.getvalue())
    return len(images)
