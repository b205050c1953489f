"""``load_dataset`` on the real Fashion-MNIST, on tiny local specs, and its errors."""

from __future__ import annotations

import gzip
import hashlib
import math

import numpy as np
import pytest

from optimlab.data import DATASETS, DataFile, DatasetSpec, dataset_dir, load_dataset
from optimlab.data.datasets import FASHION_MNIST_DIR, IDX_FILES
from optimlab.data.loader import channel_stats, split_indices


@pytest.fixture(scope="module")
def fashion(real_fashion_dir):
    return load_dataset("fashion-mnist", root=real_fashion_dir, normalize="scale")


def test_fashion_mnist_shapes_counts_and_range(fashion):
    assert fashion.name == "fashion-mnist" and fashion.num_classes == 10
    assert fashion.input_shape == (1, 28, 28)
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    assert fashion.train.x.shape == (54000, 1, 28, 28)
    assert fashion.val.x.shape == (6000, 1, 28, 28)
    assert fashion.test.x.shape == (10000, 1, 28, 28)
    for part in (fashion.train, fashion.val, fashion.test):
        assert part.x.dtype == np.float32 and part.y.dtype == np.int64
        assert part.x.flags.c_contiguous
        assert part.x.min() == 0.0 and part.x.max() == 1.0
        assert part.y.min() == 0 and part.y.max() == 9
    # The official sets are balanced: 6000 and 1000 images per class.
    assert np.bincount(np.concatenate([fashion.train.y, fashion.val.y])).tolist() == [6000] * 10
    assert np.bincount(fashion.test.y).tolist() == [1000] * 10
    np.testing.assert_allclose(fashion.train.x.mean(), 0.2860, atol=2e-3)


def test_fashion_mnist_split_is_seeded(fashion, real_fashion_dir):
    same = load_dataset(root=real_fashion_dir, rng=np.random.default_rng(0), normalize=None)
    np.testing.assert_array_equal(same.val.y, fashion.val.y)
    np.testing.assert_array_equal(same.val.x, fashion.val.x * np.float32(255))
    other = load_dataset(root=real_fashion_dir, seed=1, val_fraction=0.0, normalize="scale")
    assert len(other.train) == 60000 and other.val.x.shape == (0, 1, 28, 28)
    np.testing.assert_array_equal(other.test.x, fashion.test.x)


def test_default_folder_and_environment(monkeypatch, tmp_path):
    assert dataset_dir("fashion-mnist") == FASHION_MNIST_DIR
    monkeypatch.setenv("OPTIMLAB_DATA", str(tmp_path))
    assert dataset_dir("fashion-mnist") == tmp_path
    assert dataset_dir("fashion-mnist", root=tmp_path / "r") == tmp_path / "r"
    monkeypatch.setenv("OPTIMLAB_CACHE", str(tmp_path / "c"))
    assert dataset_dir("mnist") == tmp_path / "c" / "mnist"


def test_corrupt_file_in_data_folder(fashion_copy, monkeypatch):
    labels = fashion_copy / "train-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[100] = (content[100] + 1) % 10  # one label changed: still a valid IDX file
    labels.write_bytes(gzip.compress(bytes(content)))
    monkeypatch.setenv("OPTIMLAB_DATA", str(fashion_copy))
    received = hashlib.sha256(content).hexdigest()
    expected = DATASETS.get("fashion-mnist").files[1].sha256
    with pytest.raises(ValueError, match=rf"train-labels-idx1-ubyte\.gz: checksum mismatch: "
                       rf"expected sha256 {expected}.*received {received}"):  # fmt: skip
        load_dataset()


def test_raw_and_recompressed_files_are_accepted(fashion_copy, monkeypatch):
    """The checksum is of the decompressed content: official, Debian or raw files pass."""
    for name in ("t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        packed = fashion_copy / name
        (fashion_copy / name.removesuffix(".gz")).write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    labels = fashion_copy / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes()), compresslevel=1))
    monkeypatch.setenv("OPTIMLAB_DATA", str(fashion_copy))
    splits = load_dataset(val_fraction=0.5)
    assert len(splits.train) == len(splits.val) == 30000 and len(splits.test) == 10000


def test_missing_folder_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("OPTIMLAB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError) as info:
        load_dataset()
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message
    assert "apt-get install -y dataset-fashion-mnist" in message and "OPTIMLAB_DATA" in message


def test_missing_file_is_named(fashion_copy):
    (fashion_copy / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"neither t10k-images-idx3-ubyte\.gz nor t10k-im"):
        load_dataset(root=fashion_copy)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(
        ValueError, match=r"unknown dataset 'fashion-mnst'; did you mean 'fashion-mnist'"
    ):
        load_dataset("fashion-mnst")
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar100'.*'cifar10'"):
        load_dataset("cifar100")


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, math.nan, math.inf])
def test_val_fraction_out_of_range(value):
    expected = r"(in \[0, 1\)|a number)"
    with pytest.raises(
        ValueError, match=rf"val_fraction must be {expected}; received val_fraction={value!r}"
    ):
        load_dataset(val_fraction=value)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"val_fraction": "0.1"}, TypeError, "val_fraction must be a real number"),
        (
            {"normalize": "minmax"},
            ValueError,
            "normalize must be one of 'scale', 'standardize', None",
        ),
        ({"dtype": np.int32}, ValueError, "dtype must be a floating dtype; received dtype=int32"),
        ({"rng": np.random.RandomState(0)}, TypeError, "rng must be a numpy.random.Generator"),
        ({"mirror": "http://127.0.0.1:1/"}, ValueError, "local data set, never downloaded"),
    ],
)
def test_argument_errors(kwargs, error, message, tmp_path):
    with pytest.raises(error, match=message):
        load_dataset(root=tmp_path, **kwargs)


@pytest.fixture
def tiny_local(tmp_path, make_tiny_idx):
    """A local IDX spec over tiny files, checked by decompressed SHA-256 like Fashion-MNIST."""
    tiny = make_tiny_idx(tmp_path / "tiny", n_train=40, n_test=10)
    spec = DatasetSpec(
        name="tiny",
        format="idx",
        files=tuple(DataFile(name, sha256=tiny.sha256[name]) for name in IDX_FILES),
        class_names=tuple("abcdefghij"),
        input_shape=(1, 28, 28),
        local_dir=tiny.folder,
    )
    return spec, tiny


def test_standardize_uses_training_split_only(tiny_local):
    spec, tiny = tiny_local
    splits = load_dataset(spec, normalize="standardize", val_fraction=0.25, seed=5)
    train_idx, _ = split_indices(tiny.y_train, 0.25, np.random.default_rng(5))
    mean, std = channel_stats(tiny.x_train[train_idx][:, None])
    np.testing.assert_allclose(splits.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(splits.std, std, rtol=1e-12)
    full_mean, _ = channel_stats(tiny.x_train[:, None])
    assert not np.allclose(splits.mean, full_mean)  # val pixels did not leak in
    np.testing.assert_allclose(splits.train.x.mean(), 0, atol=1e-5)
    np.testing.assert_allclose(splits.train.x.std(), 1, atol=1e-5)
    assert abs(float(splits.val.x.mean())) > 1e-4


def test_dtype_float64_and_raw_values(tiny_local):
    spec, tiny = tiny_local
    splits = load_dataset(spec, normalize=None, dtype=np.float64, val_fraction=0)
    assert splits.train.x.dtype == np.float64
    np.testing.assert_array_equal(splits.train.x[:, 0], tiny.x_train)
    assert splits.mean.tolist() == [0.0] and splits.std.tolist() == [1.0]


def test_stratified_split(tiny_local):
    spec, _ = tiny_local
    splits = load_dataset(spec, val_fraction=0.25, stratify=True, seed=3)
    assert np.bincount(splits.val.y, minlength=10).tolist() == [1] * 10


def test_tiny_local_corrupt(tiny_local):
    spec, tiny = tiny_local
    path = tiny.folder / IDX_FILES[2]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-1] + b"\x01"))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: checksum mismatch"):
        load_dataset(spec)


def test_shapes_checked_against_the_spec(tmp_path, make_tiny_idx):
    tiny = make_tiny_idx(tmp_path / "t")
    spec = DatasetSpec(
        "odd", "idx",
        tuple(DataFile(n, sha256=tiny.sha256[n]) for n in IDX_FILES),
        tuple("0123456789"), (1, 32, 32), local_dir=tiny.folder,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"expected uint8 images of shape \(N, 32, 32\), found"):
        load_dataset(spec)


def test_spec_needs_checksums():
    with pytest.raises(ValueError, match="needs a checksum"):
        DatasetSpec("x", "cifar10-binary", (DataFile("a.tar.gz"),), ("a",), (3, 32, 32))
    with pytest.raises(ValueError, match="format 'idx' takes 4 files"):
        DatasetSpec("x", "idx", (DataFile("a", md5="0" * 32),), ("a",), (1, 28, 28))


def test_registry_names():
    assert DATASETS.names() == ["cifar10", "fashion-mnist", "mnist"]
    assert DATASETS.get("fashion_mnist") is DATASETS.get("fashion-mnist")
