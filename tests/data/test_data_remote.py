"""``mnist`` and ``cifar10`` end to end from a loopback mirror, with tiny files."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.data import DATASETS, cache_dir, load_dataset, load_raw
from optimlab.data.datasets import IDX_FILES


def mnist_spec(tiny):
    return DATASETS.get("mnist").with_checksums(md5=tiny.md5)


def test_mnist_end_to_end_then_from_cache(mirror, tiny_mnist):
    spec = mnist_spec(tiny_mnist)
    splits = load_dataset(spec, mirror=mirror.url, val_fraction=0.25, seed=0, normalize="scale")
    assert sorted(mirror.requests) == sorted(f"/{name}" for name in IDX_FILES)
    assert sorted(p.name for p in (cache_dir() / "mnist").iterdir()) == sorted(IDX_FILES)
    assert splits.name == "mnist" and splits.num_classes == 10
    assert splits.input_shape == (1, 28, 28)
    assert splits.train.x.shape == (15, 1, 28, 28) and splits.val.x.shape == (5, 1, 28, 28)
    assert splits.test.x.shape == (7, 1, 28, 28) and splits.train.x.dtype == np.float32
    assert splits.train.y.dtype == np.int64
    np.testing.assert_array_equal(splits.test.x[:, 0] * np.float32(255), tiny_mnist.x_test)
    np.testing.assert_array_equal(splits.test.y, tiny_mnist.y_test)
    # train and val together are the official training set, each image once.
    rows = np.concatenate([splits.train.x, splits.val.x]).reshape(20, -1) * np.float32(255)
    labels = np.concatenate([splits.train.y, splits.val.y])
    order = np.lexsort(rows.T[::-1])
    ref = tiny_mnist.x_train.reshape(20, -1).astype(np.float32)
    ref_order = np.lexsort(ref.T[::-1])
    np.testing.assert_array_equal(rows[order], ref[ref_order])
    np.testing.assert_array_equal(labels[order], tiny_mnist.y_train[ref_order])

    mirror.stop()  # the second load must not need the network
    again = load_dataset(spec, mirror=mirror.url, val_fraction=0.25, seed=0, normalize="scale")
    np.testing.assert_array_equal(again.train.x, splits.train.x)
    assert len(mirror.requests) == 4


def test_mirror_from_environment(mirror, tiny_mnist, monkeypatch, tmp_path):
    monkeypatch.setenv("OPTIMLAB_MIRROR", mirror.url)
    x_train, y_train, x_test, _ = load_raw(mnist_spec(tiny_mnist), root=tmp_path / "here")
    assert sorted(p.name for p in (tmp_path / "here").iterdir()) == sorted(IDX_FILES)
    np.testing.assert_array_equal(x_train[:, 0], tiny_mnist.x_train)
    assert x_test.shape == (7, 1, 28, 28) and y_train.dtype == np.int64


def test_official_checksum_rejects_other_files(mirror, tiny_mnist):
    """Without the test checksums the tiny files fail the official MD5."""
    with pytest.raises(ValueError) as info:
        load_dataset("mnist", mirror=mirror.url)
    message = str(info.value)
    assert f"{mirror.url}train-images-idx3-ubyte.gz" in message
    assert "expected md5 f68b3c2dcbeaaa9fbdd348bbdeb94873" in message
    assert tiny_mnist.md5["train-images-idx3-ubyte.gz"] in message
    assert list((cache_dir() / "mnist").iterdir()) == []


def test_cut_transfer_leaves_nothing_in_cache(mirror, tiny_mnist):
    with pytest.raises(OSError, match=r"cut/train-images-idx3-ubyte\.gz was cut short"):
        load_dataset(mnist_spec(tiny_mnist), mirror=mirror.url + "cut/")
    assert list((cache_dir() / "mnist").iterdir()) == []


def test_short_file_on_the_mirror(mirror, tiny_mnist):
    spec = mnist_spec(tiny_mnist)
    labels = mirror.root / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-8])  # served whole, but the file is short
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz downloaded from .* md5"):
        load_dataset(spec, mirror=mirror.url)
    assert [p.name for p in (cache_dir() / "mnist").iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_corrupt_cached_file(mirror, tiny_mnist):
    spec = mnist_spec(tiny_mnist)
    load_raw(spec, mirror=mirror.url)
    cached = cache_dir() / "mnist" / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(cached.read_bytes())
    data[-1] ^= 0xFF
    cached.write_bytes(bytes(data))
    expected = tiny_mnist.md5["t10k-labels-idx1-ubyte.gz"]
    with pytest.raises(ValueError, match=rf"t10k-labels.*expected md5 {expected}.*delete it"):
        load_raw(spec, mirror=mirror.url)


def test_default_addresses_are_never_reached_in_tests():
    """No mirror override: the official URLs are tried, and the guard refuses them."""
    with pytest.raises(OSError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz" in message
    assert "must not reach the network" in message


def test_cifar10_end_to_end(mirror, tiny_cifar):
    md5 = {"cifar-10-binary.tar.gz": tiny_cifar_md5(tiny_cifar)}
    spec = DATASETS.get("cifar-10").with_checksums(md5=md5)
    splits = load_dataset(spec, mirror=mirror.url, val_fraction=0.25, normalize="standardize")
    assert splits.name == "cifar10" and splits.input_shape == (3, 32, 32)
    assert splits.class_names[0] == "airplane" and splits.num_classes == 10
    assert splits.train.x.shape == (9, 3, 32, 32) and splits.val.x.shape == (3, 3, 32, 32)
    assert splits.test.x.shape == (4, 3, 32, 32) and splits.test.x.dtype == np.float32
    # Standardized with the training split's per-channel statistics.
    np.testing.assert_allclose(splits.train.x.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(splits.train.x.std(axis=(0, 2, 3)), 1, atol=1e-5)
    raw = tiny_cifar.x_test.astype(np.float64)
    np.testing.assert_allclose(
        splits.test.x, (raw - splits.mean[:, None, None]) / splits.std[:, None, None], atol=1e-6
    )
    np.testing.assert_array_equal(splits.test.y, tiny_cifar.y_test)
    mirror.stop()
    assert load_dataset(spec, val_fraction=0.25).train.x.shape == (9, 3, 32, 32)


def tiny_cifar_md5(tiny):
    import hashlib

    return hashlib.md5(tiny.path.read_bytes(), usedforsecurity=False).hexdigest()


def test_cifar10_official_checksum(mirror, tiny_cifar):
    with pytest.raises(ValueError, match="expected md5 c32a1d4ab5d03f1284b67883e8d87530"):
        load_dataset("cifar10", mirror=mirror.url)
    assert list((cache_dir() / "cifar10").iterdir()) == []


def test_with_checksums_rejects_unknown_files():
    with pytest.raises(ValueError, match=r"no file named nope\.gz; known: t10k-images"):
        DATASETS.get("mnist").with_checksums(md5={"nope.gz": "0" * 32})


def test_with_checksums_replaces_the_check():
    spec = DATASETS.get("fashion-mnist").with_checksums(md5={IDX_FILES[0]: "1" * 32})
    assert spec.files[0].md5 == "1" * 32 and spec.files[0].sha256 is None
    assert spec.files[1] == DATASETS.get("fashion-mnist").files[1]
