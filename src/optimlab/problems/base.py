"""What a 2-D test function is: its value, gradient, minima and plotting window.

A point is an array whose last axis holds ``(x, y)``: one point has shape
``(2,)``, a grid of points ``(..., 2)``. :meth:`Function2D.value` and
:meth:`Function2D.gradient` take either, so the same code draws contour plots
(a whole grid at once) and drives an optimizer (one point per step).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Point = tuple[float, float]
Window = tuple[tuple[float, float], tuple[float, float]]


def as_points(point: Any, owner: str = "point") -> np.ndarray:
    """``point`` as a float64 array of shape ``(..., 2)``; ``ValueError`` otherwise."""
    array = np.asarray(point, dtype=np.float64)
    if array.ndim == 0 or array.shape[-1] != 2:
        raise ValueError(
            f"{owner}: expected points of shape (2,) or (..., 2) holding (x, y); "
            f"received shape {array.shape}"
        )
    return array


class Function2D:
    """A smooth function of two variables with known stationary points.

    Subclasses set the class attributes and implement :meth:`_value` and
    :meth:`_gradient` on the coordinate arrays ``x`` and ``y``.

    Attributes
    ----------
    name : str
        The registry name, e.g. ``"rosenbrock"``.
    formula : str
        The definition, in plain text.
    reference : str
        Where the function and its minima are published.
    minima : tuple of (x, y)
        The global minima (all of value ``minimum_value``); empty when the
        function has none (the saddle).
    local_minima : tuple of (x, y)
        Local, not global, minima inside the window, where the reference lists
        a few (Styblinski-Tang); Rastrigin's grid of them is not listed.
    minimum_value : float or None
        The global minimum value; ``None`` when unbounded below.
    stationary : tuple of (x, y)
        Where distances are measured to when there is no minimum (the saddle point).
    window : ((x_min, x_max), (y_min, y_max))
        The plotting window; a start point must lie inside it.
    start : (x, y)
        A default start that shows the function's difficulty.
    """

    name: str = ""
    formula: str = ""
    reference: str = ""
    minima: tuple[Point, ...] = ()
    local_minima: tuple[Point, ...] = ()
    minimum_value: float | None = None
    stationary: tuple[Point, ...] = ()
    window: Window = ((-1.0, 1.0), (-1.0, 1.0))
    start: Point = (0.0, 0.0)

    # -- what subclasses implement ----------------------------------------------------------

    def _value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _gradient(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # -- the public surface -----------------------------------------------------------------

    def value(self, point: Any) -> np.ndarray | float:
        """``f(x, y)`` at one point (a float) or at each point of ``(..., 2)``."""
        p = as_points(point, self.name)
        v = self._value(p[..., 0], p[..., 1])
        return float(v) if p.ndim == 1 else v

    __call__ = value

    def gradient(self, point: Any) -> np.ndarray:
        """``(df/dx, df/dy)``, the same shape as ``point``."""
        p = as_points(point, self.name)
        gx, gy = self._gradient(p[..., 0], p[..., 1])
        return np.stack([np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)], -1)

    @property
    def targets(self) -> tuple[Point, ...]:
        """Where distances are measured to: every listed minimum (global and local),
        else the stationary points."""
        return (self.minima + self.local_minima) or self.stationary

    @property
    def target_kind(self) -> str:
        """``"minimum"`` or, for a function without minima, ``"stationary point"``."""
        return "minimum" if self.minima else "stationary point"

    def distance(self, point: Any) -> np.ndarray | float:
        """Euclidean distance from ``point`` (or each of ``(..., 2)``) to the nearest target."""
        p = as_points(point, self.name)
        targets = np.asarray(self.targets, dtype=np.float64)  # (k, 2)
        d = np.linalg.norm(p[..., None, :] - targets, axis=-1).min(axis=-1)
        return float(d) if p.ndim == 1 else d

    def nearest(self, point: Any) -> Point:
        """The target (minimum, else stationary point) nearest to one point."""
        p = as_points(point, self.name).reshape(2)
        targets = np.asarray(self.targets, dtype=np.float64)
        x, y = targets[np.argmin(np.linalg.norm(targets - p, axis=-1))]
        return float(x), float(y)

    def contains(self, point: Any) -> bool:
        """Whether one point lies inside the plotting window (edges included)."""
        x, y = as_points(point, self.name).reshape(2)
        (x0, x1), (y0, y1) = self.window
        return bool(x0 <= x <= x1 and y0 <= y <= y1)

    def check_start(self, start: Sequence[float] | None) -> np.ndarray:
        """``start`` (or the default start) as a point; ``ValueError`` if outside the window."""
        point = as_points(self.start if start is None else start, f"{self.name}: start")
        if point.shape != (2,) or not np.all(np.isfinite(point)):
            raise ValueError(
                f"{self.name}: start must be one finite point (x, y); received {start!r}"
            )
        if not self.contains(point):
            (x0, x1), (y0, y1) = self.window
            raise ValueError(
                f"{self.name}: start ({point[0]:g}, {point[1]:g}) is outside the window "
                f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]; pick a start inside it"
            )
        return point.copy()

    def restarted(self) -> Function2D:
        """A copy whose random state starts over (itself: a deterministic function)."""
        return self

    def describe(self) -> str:
        """One line: name, formula and minima."""
        if self.minima:
            where = ", ".join(f"({x:.6g}, {y:.6g})" for x, y in self.minima)
            tail = f"minima at {where}; f* = {self.minimum_value:.10g}"
            if self.local_minima:
                local = ", ".join(f"({x:.6g}, {y:.6g})" for x, y in self.local_minima)
                tail += f"; local minima at {local}"
        else:
            tail = "no minimum (unbounded below)"
        return f"{self.name}: {self.formula}; {tail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoisyFunction(Function2D):
    """A function whose gradient carries Gaussian noise: ``g(p) = grad f(p) + scale * xi``.

    ``xi ~ N(0, I)`` is drawn from ``numpy.random.default_rng(seed)``, a fresh
    draw at every call, so the same seed gives the same noisy run. Values stay
    exact: the noise models a stochastic *gradient*, as minibatches give.
    :meth:`restarted` gives a copy whose noise starts over from ``seed``, so
    every optimizer of a comparison sees the same noise sequence.
    """

    def __init__(self, base: Function2D, scale: float, seed: int = 0) -> None:
        if isinstance(base, NoisyFunction):
            raise ValueError(f"{base.name} is already noisy; wrap the plain function")
        if (
            isinstance(scale, bool)
            or not isinstance(scale, int | float)
            or not (0.0 <= scale < math.inf)
        ):
            raise ValueError(f"noise: scale must be a finite number >= 0; received {scale!r}")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"noise: seed must be an integer >= 0; received {seed!r}")
        self.base = base
        self.scale = float(scale)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        for attr in (
            "minima", "local_minima", "minimum_value", "stationary", "window", "start", "reference"
        ):  # fmt: skip
            setattr(self, attr, getattr(base, attr))
        self.name = base.name
        self.formula = f"{base.formula}, gradient + N(0, {self.scale:g}^2 I) noise"

    def _value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base._value(x, y)

    def _gradient(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, gy = self.base._gradient(x, y)
        noise = self.rng.standard_normal((2, *np.shape(x)))
        return gx + self.scale * noise[0], gy + self.scale * noise[1]

    def exact_gradient(self, point: Any) -> np.ndarray:
        """The gradient without noise."""
        return self.base.gradient(point)

    def restarted(self) -> NoisyFunction:
        return NoisyFunction(self.base, self.scale, self.seed)

    def __repr__(self) -> str:
        return f"NoisyFunction({self.base!r}, scale={self.scale:g}, seed={self.seed})"
