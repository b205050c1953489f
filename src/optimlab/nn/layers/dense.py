"""``Dense``: the fully connected layer ``y = x W + b``."""

from __future__ import annotations

import numpy as np

from optimlab.nn.init import INITIALIZERS, as_generator, bias_for, initialize
from optimlab.nn.layers._checks import check_grad, float_dtype, floating_input, positive_int
from optimlab.nn.layers._checks import shape_error as _shape_error
from optimlab.nn.module import Module, Parameter


class Dense(Module):
    """Fully connected layer.

    Forward and backward, with ``x`` (N, in), ``W`` (in, out), ``b`` (out,) and
    upstream gradient ``g = dL/dy`` (N, out)::

        y  = x W + b            (N, out)
        dW = x^T g              (in, out)
        db = sum_n g[n]         (out,)
        dx = g W^T              (N, in)

    Parameters
    ----------
    in_features, out_features : int
    rng : numpy.random.Generator or None
        Source of the initial weights. Pass a seeded Generator for reproducible
        weights; ``None`` uses ``np.random.default_rng()`` (fresh entropy).
    dtype : floating dtype, default float32
        Dtype of the parameters, the output and the gradients. Inputs of
        another dtype are cast to it.
    init : {"torch", "he", "glorot"} or another name of ``init.INITIALIZERS``
        ``"torch"`` (default) draws weight and bias from
        ``U(-1/sqrt(in), 1/sqrt(in))`` like ``torch.nn.Linear``; the others
        start the bias at zero.

    Attributes
    ----------
    weight : Parameter, shape (in_features, out_features)
        Note: the **transpose** of ``torch.nn.Linear.weight`` (out, in), so
        that the forward pass is ``x @ W`` without a transpose.
    bias : Parameter, shape (out_features,)

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(4, 3, rng=np.random.default_rng(0))
    >>> layer.forward(np.ones((2, 4), dtype=np.float32)).shape
    (2, 3)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
        init: str = "torch",
    ) -> None:
        super().__init__()
        self.in_features = positive_int("Dense", "in_features", in_features)
        self.out_features = positive_int("Dense", "out_features", out_features)
        dtype = float_dtype("Dense", dtype)
        INITIALIZERS.get(init)  # unknown names fail here, with close matches
        self.init = init
        rng = as_generator(rng, "Dense")
        fans = {"fan_in": self.in_features, "fan_out": self.out_features}
        shape = (self.in_features, self.out_features)
        self.weight = Parameter(initialize(init, shape, rng=rng, dtype=dtype, **fans), "weight")
        self.bias = Parameter(
            bias_for(init, self.out_features, fan_in=self.in_features, rng=rng, dtype=dtype),
            "bias",
        )
        self._x: np.ndarray | None = None  # (N, in), the last input, by reference

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, in_features) -> ``y`` (N, out_features)."""
        x = floating_input("Dense", x, self.weight.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise _shape_error("Dense", f"(N, {self.in_features})", x.shape)
        self._x = x  # not copied: do not modify x in place before backward
        y = np.matmul(x, self.weight.data)  # (N, out)
        y += self.bias.data  # (out,) broadcast over rows
        return y

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """``grad_out`` (N, out_features) -> ``dx`` (N, in_features); accumulates dW, db.

        ``input_grad=False`` skips ``dx`` (returns None): the first layer of a
        network needs no gradient with respect to the data.
        """
        x = self._x
        g = check_grad("Dense", grad_out, None if x is None else (x.shape[0], self.out_features))
        self.weight.accumulate(np.matmul(x.T, g))  # (in, N) @ (N, out)
        self.bias.accumulate(g.sum(axis=0))
        if not input_grad:
            return None
        return np.matmul(g, self.weight.data.T)  # (N, out) @ (out, in)

    def __repr__(self) -> str:
        return (
            f"Dense({self.in_features}, {self.out_features}, dtype={self.weight.dtype}, "
            f"init={self.init!r})"
        )
