"""``Conv2D``: 2-D convolution on NCHW input, laid out like ``torch.nn.Conv2d``."""

from __future__ import annotations

import numpy as np

from optimlab.nn import functional as F
from optimlab.nn.init import INITIALIZERS, as_generator, bias_for, initialize
from optimlab.nn.layers._checks import (
    check_grad,
    float_dtype,
    floating_input,
    pair,
    positive_int,
    shape_error,
)
from optimlab.nn.module import Module, Parameter


class Conv2D(Module):
    """2-D convolution (cross-correlation, as every deep-learning library computes it).

    With input ``x`` (N, C, H, W), weight ``w`` (F, C, kh, kw) and bias ``b`` (F,)::

        y[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] xp[n, c, i sh + p, j sw + q]

    where ``xp`` is ``x`` zero-padded by ``padding``; ``y`` has shape
    (N, F, OH, OW), ``OH = (H + 2 ph - kh) // sh + 1``. See
    :mod:`optimlab.nn.functional.conv` for the backward equations and how they
    are vectorised (one matrix product per pass, a loop over kernel taps only).

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and ``F``.
    kernel_size, stride, padding : int or pair of int
        ``(kh, kw)``, ``(sh, sw)`` (default 1) and ``(ph, pw)`` (default 0, zeros).
    rng : numpy.random.Generator or None
        Source of the initial weights; pass a seeded Generator for reproducibility.
    dtype : floating dtype, default float32
        Dtype of the parameters, the output and the gradients; inputs of
        another dtype are cast to it.
    init : {"torch", "he", "glorot"} or another name of ``init.INITIALIZERS``
        ``"torch"`` (default) matches ``torch.nn.Conv2d``:
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with ``fan_in = C kh kw`` for
        weight and bias.

    Attributes
    ----------
    weight : Parameter, shape (out_channels, in_channels, kh, kw), as in PyTorch
    bias : Parameter, shape (out_channels,)

    Notes
    -----
    The forward pass caches the unfolded input (C*kh*kw, N*OH*OW), i.e.
    ``kh * kw / (sh * sw)`` times the input's size, so that backward reuses it.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
        init: str = "torch",
    ) -> None:
        super().__init__()
        self.in_channels = positive_int("Conv2D", "in_channels", in_channels)
        self.out_channels = positive_int("Conv2D", "out_channels", out_channels)
        self.kernel_size = pair("Conv2D", "kernel_size", kernel_size, minimum=1)
        self.stride = pair("Conv2D", "stride", stride, minimum=1)
        self.padding = pair("Conv2D", "padding", padding, minimum=0)
        dtype = float_dtype("Conv2D", dtype)
        INITIALIZERS.get(init)
        self.init = init
        rng = as_generator(rng, "Conv2D")
        kh, kw = self.kernel_size
        fan_in, fan_out = self.in_channels * kh * kw, self.out_channels * kh * kw
        shape = (self.out_channels, self.in_channels, kh, kw)
        self.weight = Parameter(
            initialize(init, shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=dtype), "weight"
        )
        self.bias = Parameter(
            bias_for(init, self.out_channels, fan_in=fan_in, rng=rng, dtype=dtype), "bias"
        )
        self._cache: F.Conv2dCache | None = None
        self._out_shape: tuple[int, ...] | None = None

    def output_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(F, OH, OW) for one input sample of shape (C, H, W)."""
        _, h, w = input_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        oh, ow = F.conv_output_size(h, kh, sh, ph), F.conv_output_size(w, kw, sw, pw)
        return self.out_channels, oh, ow

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, C, H, W) -> ``y`` (N, F, OH, OW)."""
        x = floating_input("Conv2D", x, self.weight.dtype)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise shape_error("Conv2D", f"(N, {self.in_channels}, H, W)", x.shape)
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
            raise ValueError(
                f"Conv2D: padded input height and width must be >= kernel_size {(kh, kw)}; "
                f"received input {x.shape} with padding {self.padding}"
            )
        y, self._cache = F.conv2d_forward(
            x, self.weight.data, self.bias.data, self.stride, self.padding
        )
        self._out_shape = y.shape
        return y

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """``grad_out`` (N, F, OH, OW) -> ``dx`` (N, C, H, W); accumulates dW, db.

        ``input_grad=False`` skips ``dx`` (returns None): the first layer of a
        network needs no gradient with respect to the data.
        """
        g = check_grad("Conv2D", grad_out, self._out_shape)
        dx, dw, db = F.conv2d_backward(g, self._cache, input_grad=input_grad)
        self.weight.accumulate(dw)
        self.bias.accumulate(db)
        return dx

    def __repr__(self) -> str:
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dtype={self.weight.dtype})"
        )
