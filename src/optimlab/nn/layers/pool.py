"""``MaxPool2D`` and ``AvgPool2D`` on NCHW input (no padding, floor mode, as PyTorch)."""

from __future__ import annotations

import numpy as np

from optimlab.nn import functional as F
from optimlab.nn.layers._checks import check_grad, floating_input, pair, shape_error
from optimlab.nn.module import Module


class _Pool2D(Module):
    _forward = staticmethod(F.max_pool2d_forward)
    _backward = staticmethod(F.max_pool2d_backward)

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(name, "kernel_size", kernel_size, minimum=1)
        self.stride = (
            self.kernel_size if stride is None else pair(name, "stride", stride, minimum=1)
        )
        self._cache: F.PoolCache | None = None
        self._out_shape: tuple[int, ...] | None = None

    def output_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(C, OH, OW) for one input sample of shape (C, H, W)."""
        c, h, w = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return c, (h - kh) // sh + 1, (w - kw) // sw + 1

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, C, H, W) -> ``y`` (N, C, OH, OW)."""
        name = type(self).__name__
        x = floating_input(name, x)
        if x.ndim != 4:
            raise shape_error(name, "(N, C, H, W)", x.shape)
        kh, kw = self.kernel_size
        if x.shape[2] < kh or x.shape[3] < kw:
            raise ValueError(
                f"{name}: input height and width must be >= kernel_size {(kh, kw)}; "
                f"received {x.shape}"
            )
        y, self._cache = self._forward(x, self.kernel_size, self.stride)
        self._out_shape = y.shape
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out`` (N, C, OH, OW) -> ``dx`` (N, C, H, W)."""
        g = check_grad(type(self).__name__, grad_out, self._out_shape)
        return self._backward(g, self._cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2D(_Pool2D):
    """Max pooling: ``y[n, c, i, j] = max_{p<kh, q<kw} x[n, c, i sh + p, j sw + q]``.

    The backward pass sends each output's gradient to the input that was the
    maximum of its window (the first one on ties, like PyTorch); overlapping
    windows (``stride < kernel_size``) add up.

    Parameters
    ----------
    kernel_size : int or pair of int
    stride : int or pair of int, optional
        Defaults to ``kernel_size`` (non-overlapping windows).

    Notes
    -----
    Input (N, C, H, W) -> output (N, C, (H - kh) // sh + 1, (W - kw) // sw + 1);
    rows and columns that no window covers get zero gradient.
    """


class AvgPool2D(_Pool2D):
    """Average pooling: ``y[n, c, i, j] = mean_{p<kh, q<kw} x[n, c, i sh + p, j sw + q]``.

    Backward: each input receives ``g / (kh kw)`` from every window holding it.

    Parameters
    ----------
    kernel_size : int or pair of int
    stride : int or pair of int, optional
        Defaults to ``kernel_size``.
    """

    _forward = staticmethod(F.avg_pool2d_forward)
    _backward = staticmethod(F.avg_pool2d_backward)
