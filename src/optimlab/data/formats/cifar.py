"""The CIFAR-10 *binary* version (``cifar-10-binary.tar.gz``): a reader and a writer.

The archive holds ``cifar-10-batches-bin/data_batch_1.bin`` .. ``data_batch_5.bin``
and ``test_batch.bin`` (10000 images each in the official file). Every record is
3073 bytes: one label byte (0..9), then 3072 pixel bytes, the 1024 red, 1024
green and 1024 blue values of a 32x32 image in row-major order
(https://www.cs.toronto.edu/~kriz/cifar.html).

The members are read straight from the tar stream with :mod:`tarfile`; nothing is
extracted to disk and nothing is unpickled (the binary version needs no pickle).
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from optimlab.io import atomic_open

FOLDER = "cifar-10-batches-bin"
TRAIN_MEMBERS = tuple(f"{FOLDER}/data_batch_{i}.bin" for i in range(1, 6))
TEST_MEMBER = f"{FOLDER}/test_batch.bin"
META_MEMBER = f"{FOLDER}/batches.meta.txt"
CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32  # label byte + pixels


def decode_records(data: bytes, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Split CIFAR-10 binary records into images and labels.

    Parameters
    ----------
    data : bytes
        ``n * 3073`` bytes, ``n >= 1``.
    source : str
        What to call the data in error messages (archive and member).

    Returns
    -------
    x : numpy.ndarray, uint8, shape (n, 3, 32, 32)
    y : numpy.ndarray, int64, shape (n,)

    Raises
    ------
    ValueError
        A length that is not a whole, non-zero number of records, or a label above 9.
    """
    if len(data) == 0 or len(data) % RECORD_BYTES:
        raise ValueError(
            f"{source}: truncated or corrupt: expected a whole number of {RECORD_BYTES}-byte "
            f"records (1 label byte + 3072 pixel bytes), found {len(data)} bytes "
            f"({len(data) // RECORD_BYTES} records and {len(data) % RECORD_BYTES} bytes over)"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)  # (n, 3073)
    y = records[:, 0].astype(np.int64)
    if y.max() >= len(CLASS_NAMES):
        bad = int(np.argmax(y >= len(CLASS_NAMES)))
        raise ValueError(
            f"{source}: corrupt: expected labels 0..9, found {int(y[bad])} in record {bad}"
        )
    x = records[:, 1:].reshape(-1, *IMAGE_SHAPE).copy()  # (n, 3072) -> (n, 3, 32, 32)
    return x, y


def read_cifar10_binary(
    path: str | os.PathLike[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read ``cifar-10-binary.tar.gz`` (or an uncompressed tar in the same layout).

    Returns
    -------
    x_train : numpy.ndarray, uint8, shape (N_train, 3, 32, 32)
        The five training batches in order (50000 images in the official file).
    y_train : numpy.ndarray, int64, shape (N_train,)
    x_test : numpy.ndarray, uint8, shape (N_test, 3, 32, 32)
    y_test : numpy.ndarray, int64, shape (N_test,)

    Raises
    ------
    ValueError
        Not a (complete) tar archive, a missing member, or a member that is not a
        whole number of 3073-byte records; the message names the file and member.
    """
    path = Path(path)
    wanted = (*TRAIN_MEMBERS, TEST_MEMBER)
    contents: dict[str, bytes] = {}
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; expected cifar-10-binary.tar.gz")
    try:
        with tarfile.open(path, mode="r:*") as tar:
            names = set(tar.getnames())
            missing = [m for m in wanted if m not in names]
            if missing:
                raise ValueError(
                    f"{path}: not the CIFAR-10 binary layout: missing members "
                    f"{', '.join(missing)}; expected {', '.join(wanted)}"
                )
            for name in wanted:
                f = tar.extractfile(name)
                if f is None:
                    raise ValueError(f"{path}: member {name} is not a regular file")
                contents[name] = f.read()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(
            f"{path}: truncated or corrupt archive ({type(exc).__name__}: {exc}); "
            "expected a complete cifar-10-binary.tar.gz"
        ) from exc
    train = [decode_records(contents[m], source=f"{path}:{m}") for m in TRAIN_MEMBERS]
    x_test, y_test = decode_records(contents[TEST_MEMBER], source=f"{path}:{TEST_MEMBER}")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test


def write_cifar10_binary(
    path: str | os.PathLike[str],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
) -> None:
    """Write a ``.tar.gz`` in the official CIFAR-10 binary layout (for tests and tools).

    The training set is split into five batches as evenly as possible (the
    official file has 10000 images in each), so ``N_train >= 5``.

    Parameters
    ----------
    path : path-like
    x_train : array_like, uint8, shape (N_train, 3, 32, 32)
    y_train : array_like, integers 0..9, shape (N_train,)
    x_test : array_like, uint8, shape (N_test, 3, 32, 32), ``N_test >= 1``
    y_test : array_like, integers 0..9, shape (N_test,)
    """
    batches = []
    for split, x, y, n_batches in (("train", x_train, y_train, 5), ("test", x_test, y_test, 1)):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype != np.uint8 or x.shape[1:] != IMAGE_SHAPE or x.shape[0] < n_batches:
            raise ValueError(
                f"write_cifar10_binary: x_{split} must be uint8 of shape (N, 3, 32, 32) "
                f"with N >= {n_batches}; received {x.dtype} {x.shape}"
            )
        if y.shape != (len(x),) or y.min() < 0 or y.max() > 9:
            raise ValueError(
                f"write_cifar10_binary: y_{split} must hold {len(x)} labels in 0..9; "
                f"received shape {y.shape}, range [{y.min()}, {y.max()}]"
            )
        records = np.empty((len(x), RECORD_BYTES), dtype=np.uint8)  # (n, 1 + 3072)
        records[:, 0] = y
        records[:, 1:] = x.reshape(len(x), -1)  # (n, 3, 32, 32) -> (n, 3072)
        batches.extend(np.array_split(records, n_batches))
    members = dict(zip((*TRAIN_MEMBERS, TEST_MEMBER), batches, strict=True))
    files = {name: rec.tobytes() for name, rec in members.items()}
    files[META_MEMBER] = ("\n".join(CLASS_NAMES) + "\n").encode()
    with atomic_open(path, "wb") as f, tarfile.open(fileobj=f, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
