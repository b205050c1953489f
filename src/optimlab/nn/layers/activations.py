"""Elementwise activations and the ``ACTIVATIONS`` registry.

Every activation maps an array of any shape to one of the same shape and dtype;
backward multiplies the upstream gradient by the derivative, computed from what
the forward pass cached (never by running the forward pass again).
"""

from __future__ import annotations

import math

import numpy as np

from optimlab._registry import Registry
from optimlab._validation import check_choice
from optimlab.nn import functional as F
from optimlab.nn.layers._checks import check_grad, floating_input
from optimlab.nn.module import Module

__all__ = ["ACTIVATIONS", "GELU", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "activation"]


class _Elementwise(Module):
    """Shared plumbing: input conversion, the backward-before-forward and shape checks."""

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = floating_input(type(self).__name__, x)
        self._shape = x.shape
        return self._forward(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return self._backward(check_grad(type(self).__name__, grad_out, self._shape))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Elementwise):
    """``y = max(x, 0)``; ``dx = g * [x > 0]`` (zero gradient at 0, like PyTorch)."""

    def _forward(self, x):
        self._mask = x > 0  # bool, 1 byte per element
        return np.maximum(x, 0)

    def _backward(self, g):
        return g * self._mask


class LeakyReLU(_Elementwise):
    """``y = x`` for ``x > 0``, else ``negative_slope * x``; ``dx = g`` or ``negative_slope * g``.

    Parameters
    ----------
    negative_slope : float, default 0.01
        As ``torch.nn.LeakyReLU``.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, int | float):
            raise ValueError(
                f"LeakyReLU: negative_slope must be a real number; "
                f"received negative_slope={negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)  # Python float: keeps float32 arrays float32

    def _forward(self, x):
        self._mask = x > 0
        return np.where(self._mask, x, x * self.negative_slope)

    def _backward(self, g):
        return np.where(self._mask, g, g * self.negative_slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Tanh(_Elementwise):
    """``y = tanh(x)``; ``dx = g (1 - y^2)``."""

    def _forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def _backward(self, g):
        y = self._y
        return g * (1 - y * y)


class Sigmoid(_Elementwise):
    """``y = 1 / (1 + exp(-x))``; ``dx = g y (1 - y)``.

    Computed as ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``
    with ``e = exp(-|x|) <= 1``: nothing overflows and small outputs keep their
    relative precision.
    """

    def _forward(self, x):
        e = np.exp(-np.abs(x))
        r = 1 / (1 + e)
        self._y = np.where(x >= 0, r, e * r)
        return self._y

    def _backward(self, g):
        y = self._y
        return g * (y * (1 - y))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


class GELU(_Elementwise):
    """Gaussian Error Linear Unit (Hendrycks & Gimpel 2016, arXiv:1606.08415).

    ``approximate="none"`` (default, as ``torch.nn.GELU``)::

        y  = x Phi(x),          Phi(x) = (1 + erf(x / sqrt(2))) / 2
        dx = g (Phi(x) + x phi(x)),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)

    ``approximate="tanh"``, with ``u = sqrt(2/pi) (x + 0.044715 x^3)``, ``t = tanh(u)``::

        y  = x (1 + t) / 2
        dx = g [(1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2]

    Notes
    -----
    NumPy has no ``erf`` (and optimlab does not depend on SciPy):
    :func:`optimlab.nn.functional.normal_cdf` evaluates, vectorised, Cody's
    rational approximations for float64 input (relative error ~1e-16, tested
    against ``math.erf``, so float64 gradient checks of the exact-derivative
    backward pass are meaningful), and for float32 input a single fitted
    rational function (<= 7 ulp; 3x faster, no interval selection). Float32
    GELU is still about 10x slower than PyTorch's; prefer ReLU where speed
    matters.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))

    def _forward(self, x):
        self._x = x
        if self.approximate == "tanh":
            self._t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            return 0.5 * x * (1 + self._t)
        self._cdf = F.normal_cdf(x)
        return x * self._cdf

    def _backward(self, g):
        x = self._x
        if self.approximate == "tanh":
            t = self._t
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        return g * (self._cdf + x * F.normal_pdf(x))

    def __repr__(self) -> str:
        return f"GELU(approximate={self.approximate!r})"


#: Activation names (as in ``mlp(activation=...)``) to their classes.
ACTIVATIONS: Registry[type[Module]] = Registry("activation")
ACTIVATIONS.register("relu", ReLU)
ACTIVATIONS.register("leaky_relu", LeakyReLU, aliases=("leakyrelu", "leaky-relu"))
ACTIVATIONS.register("tanh", Tanh)
ACTIVATIONS.register("sigmoid", Sigmoid)
ACTIVATIONS.register("gelu", GELU)


def activation(name: str) -> Module:
    """A new activation layer with default arguments, by registered name.

    Raises
    ------
    ValueError
        For an unknown name, e.g. ``unknown activation 'rleu'; did you mean 'relu'? (known: ...)``.

    Examples
    --------
    >>> activation("relu")
    ReLU()
    """
    return ACTIVATIONS.get(name)()
