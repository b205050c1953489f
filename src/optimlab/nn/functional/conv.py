"""2-D convolution (cross-correlation, as in PyTorch) on NCHW arrays.

Notation: input ``x`` (N, C, H, W), weight ``w`` (F, C, kh, kw), bias ``b``
(F,), stride ``(sh, sw)``, padding ``(ph, pw)``, output ``y`` (N, F, OH, OW)
with ``OH = (H + 2 ph - kh) // sh + 1`` (likewise ``OW``)::

    y[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xp[n, c, i*sh + p, j*sw + q]

where ``xp`` is ``x`` zero-padded by ``ph`` rows and ``pw`` columns each side.

How (no loop over samples or output pixels):

- forward: a read-only strided window view of ``xp`` (``sliding_window_view``),
  copied once into a column matrix ``cols`` (C*kh*kw, N*OH*OW), then ONE
  matrix product with ``w`` viewed as (F, C*kh*kw). (Rows of ``cols`` are
  kernel taps so that the copy moves whole output rows at a time: 5x faster
  than one row per output pixel, measured on 128x16x14x14 input);
- ``dw`` = ONE product ``g @ cols^T`` with the cached ``cols``;
- ``dx``: ONE product gives every tap's contribution ``dcols`` (C, kh, kw, N, OH, OW);
  a loop over the ``kh * kw`` kernel taps adds each strided slice into a padded
  buffer (2.7-4.7x faster than ``np.add.at``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["Conv2dCache", "conv2d_backward", "conv2d_forward", "conv_output_size"]


class Conv2dCache(NamedTuple):
    """What :func:`conv2d_backward` needs from the forward pass."""

    cols: np.ndarray  # (C*kh*kw, N*OH*OW), the unfolded input
    weight: np.ndarray  # (F, C, kh, kw)
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    stride: tuple[int, int]
    padding: tuple[int, int]


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Output length along one axis: ``(size + 2 padding - kernel) // stride + 1`` (floor)."""
    return (size + 2 * padding - kernel) // stride + 1


def _pad(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Zero-pad the last two axes; ``x`` itself when there is nothing to pad."""
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)  # (N, C, Hp, Wp)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    return xp


def conv2d_forward(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, Conv2dCache]:
    """Convolve ``x`` with ``weight``; returns ``y`` and the cache for the backward pass.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    weight : ndarray, shape (F, C, kh, kw)
    bias : ndarray, shape (F,), or None
    stride, padding : pair of int

    Returns
    -------
    y : ndarray, shape (N, F, OH, OW), C-contiguous, dtype of ``x``
    cache : Conv2dCache
    """
    n, c, h, w = x.shape
    f, _, kh, kw = weight.shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    xp = _pad(x, ph, pw)
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    windows = windows[:, :, ::sh, ::sw]  # (N, C, OH, OW, kh, kw), still a read-only view
    # The single copy of the forward pass: one row per kernel tap (c, p, q).
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)  # (CKK, N*OH*OW)
    y2d = weight.reshape(f, c * kh * kw) @ cols  # (F, CKK) @ (CKK, N*OH*OW) -> (F, N*OH*OW)
    y = np.empty((n, f, oh, ow), dtype=y2d.dtype)
    y_fnhw = y2d.reshape(f, n, oh, ow).transpose(1, 0, 2, 3)  # (N, F, OH, OW) view
    if bias is None:
        np.copyto(y, y_fnhw)
    else:
        np.add(y_fnhw, bias.reshape(f, 1, 1), out=y)  # bias: (F, 1, 1)
    return y, Conv2dCache(cols, weight, (n, c, h, w), (sh, sw), (ph, pw))


def conv2d_backward(
    grad_out: np.ndarray, cache: Conv2dCache, *, input_grad: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of a convolution.

    With ``g = dL/dy`` (N, F, OH, OW), ``G`` its (F, N*OH*OW) matrix and ``Wm``
    the (F, C*kh*kw) weight matrix: ``dw = G cols^T``, ``db = sum_{n,i,j} g``,
    and ``dx`` gathers ``Wm^T G`` back through the windows:
    ``dxp[n, c, i*sh + p, j*sw + q] += (Wm^T G)[c,p,q; n,i,j]``.

    Parameters
    ----------
    grad_out : ndarray, shape (N, F, OH, OW)
    cache : Conv2dCache
        From :func:`conv2d_forward`.
    input_grad : bool
        ``False`` skips ``dx`` (returned as None).

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dw : ndarray, shape (F, C, kh, kw)
    db : ndarray, shape (F,)
    """
    cols, weight = cache.cols, cache.weight
    n, c, h, w = cache.x_shape
    (sh, sw), (ph, pw) = cache.stride, cache.padding
    f, _, kh, kw = weight.shape
    _, _, oh, ow = grad_out.shape
    g2d = grad_out.transpose(1, 0, 2, 3).reshape(f, n * oh * ow)  # (F, N*OH*OW), a copy
    dw = (g2d @ cols.T).reshape(f, c, kh, kw)  # (F, CKK) -> (F, C, kh, kw)
    db = g2d.sum(axis=1)  # (F,)
    if not input_grad:
        return None, dw, db
    w2d = weight.reshape(f, c * kh * kw)  # (F, CKK)
    dcols = (w2d.T @ g2d).reshape(c, kh, kw, n, oh, ow)  # (CKK, N*OH*OW) -> per tap
    dxp = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=dcols.dtype)  # (C, N, Hp, Wp)
    for p in range(kh):
        for q in range(kw):
            # tap (p, q) touched rows p, p + sh, ..., p + sh (OH - 1), likewise columns
            dxp[:, :, p : p + sh * oh : sh, q : q + sw * ow : sw] += dcols[:, p, q]
    dx = dxp.transpose(1, 0, 2, 3)[:, :, ph : ph + h, pw : pw + w]  # (N, C, H, W), a view
    return dx, dw, db
