"""Max and average pooling on NCHW arrays, no padding, floor mode (as PyTorch).

Input ``x`` (N, C, H, W), kernel ``(kh, kw)``, stride ``(sh, sw)``, output
(N, C, OH, OW) with ``OH = (H - kh) // sh + 1`` (likewise ``OW``)::

    max:  y[n, c, i, j] = max_{p, q} x[n, c, i*sh + p, j*sw + q]
    avg:  y[n, c, i, j] = mean_{p, q} x[n, c, i*sh + p, j*sw + q]

Both reduce the same read-only window view (N, C, OH, OW, kh, kw). When the
kernel equals the stride and divides the image it is a plain reshape; otherwise
``sliding_window_view`` (windows may overlap). The reduction runs over the
``kh * kw`` kernel taps, each a strided (N, C, OH, OW) slice of the view: for
small kernels this is 3-4x faster than copying the windows out to reduce them
along one axis. Max pooling keeps the argmax of each window (the tap index
``p * kw + q``), so its backward routes the gradient to exactly one input (the
first maximum in row-major order on ties, like PyTorch; NaN propagates to the
output). Backward passes loop over the taps too, never over pixels.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "PoolCache",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "pool_windows",
]


class PoolCache(NamedTuple):
    """What the pooling backward passes need from the forward pass."""

    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    argmax: np.ndarray | None  # (N, C, OH, OW) flat tap index p*kw + q; None for avg


def _tiles(x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]) -> bool:
    """Whether the windows tile the image exactly (kernel == stride, sizes divide)."""
    _, _, h, w = x_shape
    return kernel == stride and h % kernel[0] == 0 and w % kernel[1] == 0


def pool_windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Read-only view of every pooling window.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    ndarray, shape (N, C, OH, OW, kh, kw)
        A view sharing memory with ``x`` (no copy).
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    if _tiles(x.shape, kernel, stride):
        tiles = x.reshape(n, c, oh, kh, ow, kw)  # (N, C, OH, kh, OW, kw)
        return tiles.transpose(0, 1, 2, 4, 3, 5)  # (N, C, OH, OW, kh, kw)
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, H-kh+1, W-kw+1, kh, kw)
    return windows[:, :, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw]


def max_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]
) -> tuple[np.ndarray, PoolCache]:
    """Max pooling; returns ``y`` (N, C, OH, OW) and a cache holding each window's argmax."""
    windows = pool_windows(x, kernel, stride)  # (N, C, OH, OW, kh, kw)
    kh, kw = kernel
    y = windows[..., 0, 0].copy()  # (N, C, OH, OW), running maximum
    argmax = np.zeros(y.shape, dtype=np.min_scalar_type(kh * kw - 1))  # tap index p*kw + q
    for tap in range(1, kh * kw):
        values = windows[..., tap // kw, tap % kw]  # (N, C, OH, OW) strided view
        better = values > y  # strict: the first maximum wins ties
        np.maximum(y, values, out=y)  # (maximum, not where: NaN propagates)
        # taps only grow, so "argmax = tap where better" is a maximum (and 80x faster
        # than np.copyto(..., where=better))
        np.maximum(argmax, better * argmax.dtype.type(tap), out=argmax)
    return y, PoolCache(x.shape, kernel, stride, argmax)


def max_pool2d_backward(grad_out: np.ndarray, cache: PoolCache) -> np.ndarray:
    """``dx[window argmax] += g``; every other input gets zero.

    Parameters
    ----------
    grad_out : ndarray, shape (N, C, OH, OW)

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    (kh, kw), (sh, sw) = cache.kernel, cache.stride
    _, _, oh, ow = grad_out.shape
    overlapping = sh < kh or sw < kw
    dx = np.zeros(cache.x_shape, dtype=grad_out.dtype)
    for p in range(kh):
        for q in range(kw):
            target = dx[:, :, p : p + sh * oh : sh, q : q + sw * ow : sw]  # (N, C, OH, OW) view
            hit = cache.argmax == p * kw + q
            if overlapping:
                target += grad_out * hit
            else:  # each input belongs to one window: write in place, no temporary
                np.multiply(grad_out, hit, out=target)
    return dx


def avg_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]
) -> tuple[np.ndarray, PoolCache]:
    """Average pooling; returns ``y`` (N, C, OH, OW) and the cache (shapes only)."""
    windows = pool_windows(x, kernel, stride)  # (N, C, OH, OW, kh, kw)
    kh, kw = kernel
    y = windows[..., 0, 0].copy()  # (N, C, OH, OW), running sum
    for tap in range(1, kh * kw):
        y += windows[..., tap // kw, tap % kw]
    y *= 1.0 / (kh * kw)  # a Python float keeps the dtype
    return y, PoolCache(x.shape, kernel, stride, None)


def avg_pool2d_backward(grad_out: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Each input of a window receives ``g / (kh kw)``, summed over the windows holding it.

    Parameters
    ----------
    grad_out : ndarray, shape (N, C, OH, OW)

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    (kh, kw), (sh, sw) = cache.kernel, cache.stride
    _, _, oh, ow = grad_out.shape
    share = grad_out * (1.0 / (kh * kw))  # (N, C, OH, OW); a Python float keeps the dtype
    overlapping = sh < kh or sw < kw
    # exact tiles cover every input once; otherwise uncovered inputs must stay zero
    tiles = _tiles(cache.x_shape, cache.kernel, cache.stride)
    dx = (np.empty if tiles else np.zeros)(cache.x_shape, dtype=grad_out.dtype)
    for p in range(kh):
        for q in range(kw):
            target = dx[:, :, p : p + sh * oh : sh, q : q + sw * ow : sw]  # (N, C, OH, OW) view
            if overlapping:
                target += share
            else:
                target[...] = share
    return dx
