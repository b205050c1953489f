"""``Flatten``: (N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

from __future__ import annotations

import numpy as np

from optimlab.nn.layers._checks import check_grad, floating_input, shape_error
from optimlab.nn.module import Module


class Flatten(Module):
    """Keep the batch axis, flatten the rest; backward reshapes the gradient back.

    Both passes return views when the arrays are contiguous (no copy).

    Examples
    --------
    >>> import numpy as np
    >>> Flatten().forward(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def __init__(self) -> None:
        super().__init__()
        self._in_shape: tuple[int, ...] | None = None
        self._out_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, ...) with at least 2 axes -> (N, prod(...))."""
        x = floating_input("Flatten", x)
        if x.ndim < 2:
            raise shape_error("Flatten", "(N, ...) with at least 2 axes", x.shape)
        self._in_shape = x.shape
        y = x.reshape(x.shape[0], -1)  # (N, d1 * d2 * ...)
        self._out_shape = y.shape
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out`` (N, prod(...)) -> (N, ...), the input's shape."""
        g = check_grad("Flatten", grad_out, self._out_shape)
        return g.reshape(self._in_shape)  # (N, d1, d2, ...)

    def __repr__(self) -> str:
        return "Flatten()"
