"""Data sets in their official formats, verified by checksum, split and batched.

``optimlab.data`` knows nothing of models or optimizers. Only
:mod:`optimlab.data.download` touches the network.

>>> import numpy as np
>>> from optimlab.data import load_dataset, iterate_batches
>>> splits = load_dataset("fashion-mnist", seed=0)  # doctest: +SKIP
>>> rng = np.random.default_rng(0)
>>> for xb, yb in iterate_batches(splits.train, 128, rng=rng):  # doctest: +SKIP
...     pass  # xb: (128, 1, 28, 28) float32, yb: (128,) int64
"""

from optimlab.data.datasets import (
    CACHE_ENV,
    DATA_ENV,
    DATASETS,
    MIRROR_ENV,
    DataFile,
    DatasetSpec,
    Splits,
    cache_dir,
    dataset_dir,
    fetch,
    load_dataset,
    load_raw,
)
from optimlab.data.formats import (
    read_cifar10_binary,
    read_idx,
    write_cifar10_binary,
    write_idx,
)
from optimlab.data.loader import (
    ArrayDataset,
    BatchLoader,
    channel_stats,
    iterate_batches,
    num_batches,
    split_indices,
)

__all__ = [
    "CACHE_ENV",
    "DATASETS",
    "DATA_ENV",
    "MIRROR_ENV",
    "ArrayDataset",
    "BatchLoader",
    "DataFile",
    "DatasetSpec",
    "Splits",
    "cache_dir",
    "channel_stats",
    "dataset_dir",
    "fetch",
    "iterate_batches",
    "load_dataset",
    "load_raw",
    "num_batches",
    "read_cifar10_binary",
    "read_idx",
    "split_indices",
    "write_cifar10_binary",
    "write_idx",
]
