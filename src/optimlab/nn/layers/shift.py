"""``Shift``: the residual ``y = theta - x`` of a learnt point ``theta`` from each input."""

from __future__ import annotations

import numpy as np

from optimlab.nn.layers._checks import check_grad, float_dtype, floating_input, positive_int
from optimlab.nn.layers._checks import shape_error as _shape_error
from optimlab.nn.module import Module, Parameter


class Shift(Module):
    """One learnt point ``theta`` (D,) and, per input row, its offset from it.

    With ``x`` (N, D) and upstream gradient ``g`` (N, D)::

        y      = theta - x       (theta broadcast over rows)
        dtheta = sum_n g[n]      (D,)
        dx     = -g

    The model of a noisy quadratic (DeepOBS ``quadratic_deep``): the loss
    ``1/2 (theta - x)^T Q (theta - x)`` is :class:`~optimlab.nn.QuadraticForm`
    applied to this layer's output, and ``x`` is the noise.

    Parameters
    ----------
    dim : int
    start : float, default 1.0
        Every coordinate of ``theta`` at the start (DeepOBS: ``constant_initializer(1.0)``).
    dtype : floating dtype, default float32
    """

    def __init__(self, dim: int, *, start: float = 1.0, dtype=np.float32) -> None:
        super().__init__()
        self.dim = positive_int("Shift", "dim", dim)
        start = float(start)
        if not np.isfinite(start):
            raise ValueError(f"Shift: start must be finite; received start={start!r}")
        self.theta = Parameter(np.full(self.dim, start, dtype=float_dtype("Shift", dtype)), "theta")
        self._n: int | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, dim) -> ``theta - x`` (N, dim)."""
        x = floating_input("Shift", x, self.theta.dtype)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise _shape_error("Shift", f"(N, {self.dim})", x.shape)
        self._n = x.shape[0]
        return self.theta.data - x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        g = check_grad("Shift", grad_out, None if self._n is None else (self._n, self.dim))
        self.theta.accumulate(g.sum(axis=0))
        return -g if input_grad else None

    def __repr__(self) -> str:
        return f"Shift({self.dim}, dtype={self.theta.dtype})"
