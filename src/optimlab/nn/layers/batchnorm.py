"""Batch normalisation (Ioffe & Szegedy 2015, arXiv:1502.03167), as ``torch.nn.BatchNorm*d``."""

from __future__ import annotations

import numpy as np

from optimlab._validation import check_positive, check_unit_interval
from optimlab.nn.layers._checks import (
    check_grad,
    float_dtype,
    floating_input,
    positive_int,
    shape_error,
)
from optimlab.nn.module import Module, Parameter


class _BatchNorm(Module):
    """Normalise each feature (channel) over the batch (and spatial) axes.

    Subclasses fix the input layout: ``_axes`` are the reduced axes and
    ``_index`` the einsum letters of the input (per-feature sums of products
    run as one fused ``np.einsum``, without a temporary array).
    """

    _axes: tuple[int, ...]
    _layout: str
    _index: str

    def __init__(
        self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(name, "num_features", num_features)
        self.eps = check_positive(name, "eps", eps)
        self.momentum = check_unit_interval(name, "momentum", momentum, closed_right=True)
        dtype = float_dtype(name, dtype)
        self.weight = Parameter(np.ones(num_features, dtype=dtype), "weight")  # gamma
        self.bias = Parameter(np.zeros(num_features, dtype=dtype), "bias")  # beta
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
        self._centred: np.ndarray | None = None  # x - mean, input shape
        self._inv_std: np.ndarray | None = None  # 1 / sqrt(var + eps), (C,)
        self._batch_stats = True  # which statistics the last forward pass used

    def _per_feature(self, a: np.ndarray) -> np.ndarray:
        """A (C,) array shaped to broadcast against the input: (C,) or (C, 1, 1)."""
        return a.reshape((self.num_features,) + (1,) * (len(self._axes) - 1))  # (C, 1, ...)

    def _dot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per-feature ``sum(a * b)`` over the reduced axes, shape (C,)."""
        return np.einsum(f"{self._index},{self._index}->c", a, b)

    def _check(self, x: np.ndarray) -> None:
        if x.ndim != len(self._axes) + 1 or x.shape[1] != self.num_features:
            expected = self._layout.replace("C", str(self.num_features))
            raise shape_error(type(self).__name__, expected, x.shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Normalise ``x``; see the class docstring for the equations and shapes."""
        x = floating_input(type(self).__name__, x, self.weight.dtype)
        self._check(x)
        count = x.size // self.num_features  # m: values per feature
        self._batch_stats = self.training
        if self.training:
            if count < 2:
                raise ValueError(
                    f"{type(self).__name__}: training needs more than 1 value per feature; "
                    f"received input {x.shape}"
                )
            mean = x.mean(axis=self._axes)  # (C,)
            centred = x - self._per_feature(mean)
            var = self._dot(centred, centred) * (1.0 / count)  # (C,), biased: used to normalise
            # running = (1 - momentum) running + momentum batch, with unbiased variance
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mean
            self.running_var *= 1.0 - m
            self.running_var += (m * count / (count - 1)) * var
        else:
            centred = x - self._per_feature(self.running_mean)
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)  # (C,)
        self._centred, self._inv_std = centred, inv_std
        # y = gamma xhat + beta with xhat = centred * inv_std, in one product
        y = centred * self._per_feature(self.weight.data * inv_std)
        y += self._per_feature(self.bias.data)
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out`` (input shape) -> ``dx``; accumulates d(gamma), d(beta)."""
        centred, inv_std = self._centred, self._inv_std
        g = check_grad(type(self).__name__, grad_out, None if centred is None else centred.shape)
        dbeta = g.sum(axis=self._axes)  # (C,)
        dgamma = self._dot(g, centred) * inv_std  # (C,) = sum(g * xhat)
        scale = self.weight.data * inv_std  # (C,), gamma / sigma
        dx = g * self._per_feature(scale)
        if self._batch_stats:
            # mean and variance depend on x too: subtract their paths,
            # scale * (dbeta / m + xhat * dgamma / m), with xhat = centred * inv_std
            count = centred.size // self.num_features
            dx -= self._per_feature(scale * dbeta * (1.0 / count))
            dx -= centred * self._per_feature(scale * inv_std * dgamma * (1.0 / count))
        self.weight.accumulate(dgamma)
        self.bias.accumulate(dbeta)
        return dx

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.num_features}, eps={self.eps}, "
            f"momentum={self.momentum}, dtype={self.weight.dtype})"
        )


_DOC = """Batch normalisation over {what}.

    Training mode, per feature ``c`` with ``m`` values (N{m}) and upstream gradient ``g``::

        mu = mean(x),  var = mean((x - mu)^2)          (biased, for normalising)
        xhat = (x - mu) / sqrt(var + eps)
        y = gamma xhat + beta
        dgamma = sum(g xhat),  dbeta = sum(g)
        dx = gamma / sqrt(var + eps) * (g - dbeta / m - xhat dgamma / m)

    and the running statistics (buffers, saved in the state dict) move as in
    PyTorch, with the **unbiased** batch variance ``var * m / (m - 1)``::

        running_mean <- (1 - momentum) running_mean + momentum mu
        running_var  <- (1 - momentum) running_var  + momentum var m / (m - 1)

    Evaluation mode normalises with ``running_mean`` and ``running_var``
    instead (then ``dx = g gamma / sqrt(running_var + eps)``).

    Parameters
    ----------
    num_features : int
        ``C``.
    eps : float, default 1e-5
    momentum : float in [0, 1], default 0.1
        Weight of the new batch in the running statistics (PyTorch's
        convention; Keras uses ``1 - momentum``).
    dtype : floating dtype, default float32

    Attributes
    ----------
    weight, bias : Parameter, shape (C,)
        ``gamma`` (starts at 1) and ``beta`` (starts at 0).
    running_mean, running_var : ndarray, shape (C,)
        Buffers (start at 0 and 1), updated in place.

    Notes
    -----
    Input {layout}; output the same shape. Training with a single value per
    feature raises ``ValueError`` (as PyTorch does): its variance is undefined.
    """


class BatchNorm1D(_BatchNorm):
    __doc__ = _DOC.format(what="the batch of (N, C) features", m="", layout="(N, C)")
    _axes = (0,)
    _layout = "(N, C)"
    _index = "nc"


class BatchNorm2D(_BatchNorm):
    __doc__ = _DOC.format(
        what="the batch and spatial axes of (N, C, H, W) images", m=" H W", layout="(N, C, H, W)"
    )
    _axes = (0, 2, 3)
    _layout = "(N, C, H, W)"
    _index = "nchw"
