"""In-memory data sets and mini-batches.

Shuffling makes one permuted copy of the arrays per epoch (``np.take`` into a
fresh contiguous array) and yields contiguous slices of it. Fancy-indexing
every batch would gather scattered rows ``N / batch_size`` times; one gather
per epoch does the same work once, and each batch is then a view.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral

import numpy as np


@dataclass(frozen=True, eq=False)
class ArrayDataset:
    """Inputs and labels held in memory.

    Attributes
    ----------
    x : numpy.ndarray, shape (N, ...)
        Inputs, e.g. (N, C, H, W) float32 images.
    y : numpy.ndarray, shape (N,)
        Integer class labels (int64).
    """

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if self.x.ndim < 1 or self.y.ndim != 1 or len(self.x) != len(self.y):
            raise ValueError(
                "ArrayDataset: x must have shape (N, ...) and y shape (N,); "
                f"received x.shape={self.x.shape}, y.shape={self.y.shape}"
            )

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return f"ArrayDataset(x={self.x.dtype}{self.x.shape}, y={self.y.dtype}{self.y.shape})"


def _as_arrays(data: object) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(data, tuple) and len(data) == 2:
        x, y = np.asarray(data[0]), np.asarray(data[1])
    elif hasattr(data, "x") and hasattr(data, "y"):
        x, y = np.asarray(data.x), np.asarray(data.y)
    else:
        raise TypeError(
            "iterate_batches: data must be an ArrayDataset (anything with .x and .y) or an "
            f"(x, y) tuple; received {type(data).__name__}"
        )
    if x.ndim < 1 or len(x) != len(y):
        raise ValueError(
            "iterate_batches: x and y must hold the same number of examples; "
            f"received x.shape={x.shape}, y.shape={y.shape}"
        )
    return x, y


def _check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise ValueError(
            "iterate_batches: batch_size must be an integer >= 1; "
            f"received batch_size={batch_size!r}"
        )
    return int(batch_size)


def _as_generator(rng: object) -> np.random.Generator:
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        "iterate_batches: rng must be a numpy.random.Generator, an int seed or None; "
        f"received {type(rng).__name__}"
    )


#: Shuffle buffers by ``id`` of the input array (arrays are unhashable); an
#: entry leaves with its array.
_BUFFERS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _buffers(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shuffle buffers of the arrays ``x``, ``y`` (made once, freed with ``x``)."""
    kept = _BUFFERS.get(id(x))
    if kept is None:
        weakref.finalize(x, _BUFFERS.pop, id(x), None)
    if kept is None or kept[0].shape != x.shape or kept[1].shape != y.shape:
        kept = _BUFFERS[id(x)] = (np.empty_like(x), np.empty_like(y))
    return kept


def num_batches(n: int, batch_size: int, *, drop_last: bool = False) -> int:
    """How many batches :func:`iterate_batches` yields for ``n`` examples."""
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def iterate_batches(
    data: ArrayDataset | tuple[np.ndarray, np.ndarray],
    batch_size: int,
    *,
    rng: np.random.Generator | int | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    reuse_buffer: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x_batch, y_batch)`` for one epoch.

    Parameters
    ----------
    data : ArrayDataset or (x, y)
        ``x`` of shape (N, ...), ``y`` of shape (N,).
    batch_size : int
        Examples per batch, ``>= 1``; the last batch may be smaller.
    rng : numpy.random.Generator, int or None
        Draws the permutation when ``shuffle``. Pass the run's Generator: the
        same generator state gives the same batches. An int seeds a new
        Generator; ``None`` draws fresh OS entropy (not reproducible).
    shuffle : bool
        Permute the examples (one copy per epoch). Without it the batches are
        views of ``data`` in order and nothing is copied.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.
    reuse_buffer : bool
        Shuffle into the same buffer every epoch (per ``x`` array) instead of a
        new one: a fresh 170 MB array per epoch costs the kernel up to 0.4 s
        of page mapping on some machines (measured on Fashion-MNIST). The
        batches of an epoch are then overwritten by the next shuffled epoch
        over the same arrays, so only one such iteration may be in progress
        at a time; ``fit`` uses it.

    Yields
    ------
    x_batch : numpy.ndarray, shape (B, ...)
        A C-contiguous slice (a view) of the epoch's array; do not keep it
        past the epoch if you modify ``data``.
    y_batch : numpy.ndarray, shape (B,)
    """
    x, y = _as_arrays(data)
    batch_size = _check_batch_size(batch_size)
    if shuffle:
        order = _as_generator(rng).permutation(len(y))
        x_out, y_out = _buffers(x, y) if reuse_buffer else (None, None)
        # One gather per epoch; mode="clip" avoids the buffered copy that mode="raise" makes.
        x = np.take(x, order, axis=0, mode="clip", out=x_out)
        y = np.take(y, order, axis=0, mode="clip", out=y_out)
    stop = len(y) - len(y) % batch_size if drop_last else len(y)
    for start in range(0, stop, batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


class BatchLoader:
    """Re-iterable :func:`iterate_batches`: each ``iter()`` is a new epoch.

    Parameters
    ----------
    data : ArrayDataset or (x, y)
    batch_size : int
    rng : numpy.random.Generator or int, optional
        One generator for all epochs, so epoch ``k`` is reproducible from the seed.
    shuffle, drop_last : bool
        As in :func:`iterate_batches`.
    """

    def __init__(
        self,
        data: ArrayDataset | tuple[np.ndarray, np.ndarray],
        batch_size: int,
        *,
        rng: np.random.Generator | int | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
    ) -> None:
        self.x, self.y = _as_arrays(data)
        self.batch_size = _check_batch_size(batch_size)
        self.rng = _as_generator(rng)
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return iterate_batches(
            (self.x, self.y),
            self.batch_size,
            rng=self.rng,
            shuffle=self.shuffle,
            drop_last=self.drop_last,
        )

    def __len__(self) -> int:
        return num_batches(len(self.y), self.batch_size, drop_last=self.drop_last)


def split_indices(
    y: np.ndarray, val_fraction: float, rng: np.random.Generator, *, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation split of ``len(y)`` examples.

    Parameters
    ----------
    y : numpy.ndarray, shape (N,)
        Labels (only used with ``stratify``).
    val_fraction : float in [0, 1)
        ``round(val_fraction * N)`` examples go to validation (at least one when
        ``val_fraction > 0``), the rest to training.
    rng : numpy.random.Generator
    stratify : bool
        Keep the class proportions: each class gives its share (largest
        remainders settle the rounding), so the total is the same as without.

    Returns
    -------
    train_idx, val_idx : numpy.ndarray of int64, sorted
    """
    n = len(y)
    n_val = round(val_fraction * n)
    if val_fraction > 0:
        n_val = max(n_val, 1)
    if n_val >= n:
        raise ValueError(
            f"val_fraction={val_fraction!r} of {n} examples leaves no training examples"
        )
    perm = rng.permutation(n)
    if stratify and n_val > 0:
        _, counts = np.unique(y, return_counts=True)
        quota = counts * n_val / n
        take = np.floor(quota).astype(np.int64)
        # Largest remainders get the examples the floors left over (stable: ties by class).
        extra = np.argsort(-(quota - take), kind="stable")[: n_val - take.sum()]
        take[extra] += 1
        grouped = perm[np.argsort(y[perm], kind="stable")]  # by class, random within class
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        val = np.concatenate([grouped[s : s + k] for s, k in zip(starts, take, strict=True)])
    else:
        val = perm[:n_val]
    mask = np.ones(n, dtype=bool)
    mask[val] = False
    return np.flatnonzero(mask).astype(np.int64), np.sort(val).astype(np.int64)


_HISTOGRAM_CHUNK = 1 << 20  # pixels per bincount: an 8 MB int64 copy


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation (float64) of images ``x`` (N, C, H, W).

    For ``uint8`` images they come exactly from a 256-bin histogram per channel
    (no float copy of the data). The histogram is counted in chunks: ``bincount``
    converts its input to ``int64``, and one such copy of a whole data set
    (340 MB for Fashion-MNIST) costs more than the counting.
    """
    if x.dtype == np.uint8:
        values = np.arange(256, dtype=np.float64)
        mean, std = np.empty(x.shape[1]), np.empty(x.shape[1])
        for c in range(x.shape[1]):
            pixels = x[:, c].reshape(-1)  # (N, H, W) -> (N*H*W,)
            counts = np.zeros(256, dtype=np.int64)
            for start in range(0, pixels.size, _HISTOGRAM_CHUNK):
                chunk = pixels[start : start + _HISTOGRAM_CHUNK]
                counts += np.bincount(chunk, minlength=256)
            mean[c] = counts @ values / counts.sum()
            std[c] = np.sqrt(counts @ (values - mean[c]) ** 2 / counts.sum())
        return mean, std
    axes = (0, *range(2, x.ndim))
    return x.mean(axis=axes, dtype=np.float64), x.std(axis=axes, dtype=np.float64)
