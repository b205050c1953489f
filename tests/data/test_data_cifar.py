"""The CIFAR-10 binary reader on tiny archives in the official layout."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from optimlab.data import read_cifar10_binary, write_cifar10_binary
from optimlab.data.formats.cifar import RECORD_BYTES, TEST_MEMBER, TRAIN_MEMBERS


def write_tar(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def records(n: int, label: int = 3) -> bytes:
    rec = np.zeros((n, RECORD_BYTES), dtype=np.uint8)
    rec[:, 0] = label
    rec[:, 1:] = np.arange(3072) % 251
    return rec.tobytes()


def test_round_trip(tmp_path, make_tiny_cifar):
    tiny = make_tiny_cifar(tmp_path / "c.tar.gz", n_train=12, n_test=4)
    x_train, y_train, x_test, y_test = read_cifar10_binary(tiny.path)
    assert x_train.shape == (12, 3, 32, 32) and x_train.dtype == np.uint8
    assert y_train.shape == (12,) and y_train.dtype == np.int64
    np.testing.assert_array_equal(x_train, tiny.x_train)
    np.testing.assert_array_equal(y_train, tiny.y_train)
    np.testing.assert_array_equal(x_test, tiny.x_test)
    np.testing.assert_array_equal(y_test, tiny.y_test)


def test_official_layout_and_channel_order(tmp_path):
    """Record = label byte, then 1024 red, 1024 green, 1024 blue bytes, row-major."""
    x = np.zeros((5, 3, 32, 32), dtype=np.uint8)
    x[:, 0, 0, 1] = 11  # red, row 0, column 1
    x[:, 2, 31, 31] = 22  # blue, last pixel
    path = tmp_path / "c.tar.gz"
    write_cifar10_binary(path, x, np.arange(5), x[:1], np.array([9]))
    with tarfile.open(path) as tar:
        assert set(tar.getnames()) >= {*TRAIN_MEMBERS, TEST_MEMBER}
        first = tar.extractfile(TRAIN_MEMBERS[0]).read()
    assert len(first) == RECORD_BYTES  # five training images over five batches
    assert first[0] == 0 and first[1 + 1] == 11 and first[-1] == 22


def test_truncated_record(tmp_path):
    members = {m: records(2) for m in TRAIN_MEMBERS}
    members[TRAIN_MEMBERS[2]] = records(2)[:-100]
    members[TEST_MEMBER] = records(1)
    path = tmp_path / "cut.tar.gz"
    write_tar(path, members)
    with pytest.raises(
        ValueError, match=r"cut\.tar\.gz:.*data_batch_3\.bin: truncated.*6046 bytes"
    ):
        read_cifar10_binary(path)


def test_label_out_of_range(tmp_path):
    members = {m: records(1) for m in TRAIN_MEMBERS}
    members[TEST_MEMBER] = records(2, label=10)
    write_tar(tmp_path / "c.tgz", members)
    with pytest.raises(
        ValueError, match=r"test_batch\.bin: corrupt: expected labels 0\.\.9, found 10"
    ):
        read_cifar10_binary(tmp_path / "c.tgz")


def test_missing_member(tmp_path):
    write_tar(tmp_path / "c.tgz", {m: records(1) for m in TRAIN_MEMBERS})
    with pytest.raises(ValueError, match=r"missing members cifar-10-batches-bin/test_batch\.bin"):
        read_cifar10_binary(tmp_path / "c.tgz")


def test_truncated_archive(tmp_path, make_tiny_cifar):
    tiny = make_tiny_cifar(tmp_path / "full.tar.gz")
    data = tiny.path.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.tar\.gz: truncated or corrupt archive"):
        read_cifar10_binary(cut)


def test_not_an_archive(tmp_path):
    path = tmp_path / "junk.tar.gz"
    path.write_bytes(b"not a tar file at all" * 50)
    with pytest.raises(ValueError, match=r"junk\.tar\.gz: truncated or corrupt archive"):
        read_cifar10_binary(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.tar\.gz"):
        read_cifar10_binary(tmp_path / "nothing.tar.gz")
