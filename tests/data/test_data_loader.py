"""Batches, splits and per-channel statistics on small in-memory arrays."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.data import (
    ArrayDataset,
    BatchLoader,
    channel_stats,
    iterate_batches,
    num_batches,
    split_indices,
)


@pytest.fixture
def data():
    x = np.arange(23 * 2 * 3, dtype=np.float32).reshape(23, 2, 3)  # row i starts at 6 i
    return ArrayDataset(x, np.arange(23, dtype=np.int64))


@pytest.mark.parametrize(("batch_size", "drop_last", "sizes"), [
    (5, False, [5, 5, 5, 5, 3]),
    (5, True, [5, 5, 5, 5]),
    (23, False, [23]),
    (50, False, [23]),
    (50, True, []),
    (1, False, [1] * 23),
])  # fmt: skip
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_sizes_and_coverage(data, batch_size, drop_last, sizes, shuffle):
    rng = np.random.default_rng(0)
    batches = list(iterate_batches(data, batch_size, rng=rng, shuffle=shuffle, drop_last=drop_last))
    assert [len(y) for _, y in batches] == sizes
    assert num_batches(23, batch_size, drop_last=drop_last) == len(sizes)
    seen = np.concatenate([y for _, y in batches]) if batches else np.array([], dtype=np.int64)
    assert len(np.unique(seen)) == len(seen) == sum(sizes)
    for xb, yb in batches:  # inputs stay paired with their labels
        np.testing.assert_array_equal(xb[:, 0, 0], yb * 6)


def test_without_shuffle_batches_are_ordered_views(data):
    batches = list(iterate_batches(data, 10, shuffle=False))
    np.testing.assert_array_equal(batches[1][1], np.arange(10, 20))
    assert all(np.shares_memory(xb, data.x) for xb, _ in batches)


def test_shuffled_batches_are_contiguous_views_of_one_epoch_copy(data):
    batches = list(iterate_batches(data, 4, rng=np.random.default_rng(1)))
    assert all(xb.base is not None for xb, _ in batches)
    assert len({id(xb.base) for xb, _ in batches}) == 1
    assert all(np.shares_memory(xb, batches[0][0].base) for xb, _ in batches)
    assert all(xb.flags.c_contiguous and yb.flags.c_contiguous for xb, yb in batches)
    assert not any(np.shares_memory(xb, data.x) for xb, _ in batches)
    order = np.concatenate([y for _, y in batches])
    assert not np.array_equal(order, np.arange(23))


def test_same_seed_same_batches(data):
    def epoch(seed):
        return [y.tolist() for _, y in iterate_batches(data, 4, rng=np.random.default_rng(seed))]

    assert epoch(3) == epoch(3)
    assert epoch(3) != epoch(4)
    assert [y.tolist() for _, y in iterate_batches(data, 4, rng=3)] == epoch(3)


def test_tuple_input(data):
    (xb, yb), *_ = iterate_batches((data.x, data.y), 7, shuffle=False)
    assert xb.shape == (7, 2, 3) and yb.tolist() == list(range(7))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "8", None])
def test_batch_size_validated(data, batch_size):
    with pytest.raises(
        ValueError, match=rf"batch_size must be an integer >= 1; received batch_size={batch_size!r}"
    ):
        next(iterate_batches(data, batch_size))
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(data, batch_size)


def test_numpy_integer_batch_size(data):
    assert len(next(iterate_batches(data, np.int64(4), shuffle=False))[1]) == 4


def test_bad_inputs(data):
    with pytest.raises(ValueError, match=r"same number of examples.*\(23, 2, 3\).*\(22,\)"):
        next(iterate_batches((data.x, data.y[:-1]), 4))
    with pytest.raises(TypeError, match="ArrayDataset"):
        next(iterate_batches([1, 2, 3], 4))
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        next(iterate_batches(data, 4, rng=np.random.RandomState(0)))
    with pytest.raises(ValueError, match=r"x.shape=\(3,\), y.shape=\(2,\)"):
        ArrayDataset(np.zeros(3), np.zeros(2))


def test_batch_loader_epochs(data):
    loader = BatchLoader(data, 5, rng=np.random.default_rng(0))
    assert len(loader) == 5
    first, second = [[y.tolist() for _, y in loader] for _ in range(2)]
    assert first != second  # a new permutation each epoch
    replay = BatchLoader(data, 5, rng=np.random.default_rng(0))
    assert [[y.tolist() for _, y in replay] for _ in range(2)] == [first, second]
    assert len(BatchLoader(data, 5, drop_last=True)) == 4


def test_split_indices():
    y = np.repeat(np.arange(4), 25)
    train, val = split_indices(y, 0.2, np.random.default_rng(0))
    assert len(train) == 80 and len(val) == 20
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(100))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    again = split_indices(y, 0.2, np.random.default_rng(0))
    assert np.array_equal(again[1], val)
    assert not np.array_equal(split_indices(y, 0.2, np.random.default_rng(1))[1], val)


def test_stratified_split_keeps_proportions():
    y = np.concatenate([np.zeros(60), np.ones(30), np.full(10, 2)]).astype(np.int64)
    rng = np.random.default_rng(0)
    for _ in range(5):
        train, val = split_indices(y, 0.1, rng, stratify=True)
        assert np.bincount(y[val]).tolist() == [6, 3, 1]
        assert len(np.intersect1d(train, val)) == 0 and len(train) == 90
    # Rounding: shares 2.4 / 1.2 / 0.4 of 4 -> the largest remainder gives class 2 one.
    _, val = split_indices(y, 0.04, rng, stratify=True)
    assert np.bincount(y[val], minlength=3).tolist() == [2, 1, 1]


def test_split_edges():
    y = np.zeros(10)
    assert len(split_indices(y, 0.0, np.random.default_rng(0))[1]) == 0
    assert len(split_indices(y, 0.01, np.random.default_rng(0))[1]) == 1  # at least one
    with pytest.raises(ValueError, match=r"val_fraction=0.99 of 10 examples leaves no training"):
        split_indices(y, 0.99, np.random.default_rng(0))


def test_channel_stats_uint8_matches_float():
    x = np.random.default_rng(0).integers(0, 256, (7, 3, 5, 4), dtype=np.uint8)
    mean, std = channel_stats(x)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, x.astype(np.float64).std(axis=(0, 2, 3)), rtol=1e-12)
    mean_f, std_f = channel_stats(x.astype(np.float32))
    np.testing.assert_allclose(mean_f, mean, rtol=1e-6)
    np.testing.assert_allclose(std_f, std, rtol=1e-6)


def test_channel_stats_uint8_counts_across_histogram_chunks():
    # 2 channels of 1.2M pixels each: each channel's histogram takes two chunks.
    x = np.random.default_rng(1).integers(0, 256, (750, 2, 40, 40), dtype=np.uint8)
    x[:, 1] //= 3  # different statistics per channel
    mean, std = channel_stats(x)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, x.astype(np.float64).std(axis=(0, 2, 3)), rtol=1e-12)


def test_reused_shuffle_buffer_gives_the_same_batches_and_no_new_array():
    x = np.arange(200, dtype=np.float32).reshape(50, 4)
    y = np.arange(50)
    fresh = [
        (a.copy(), b.copy()) for a, b in iterate_batches((x, y), 8, rng=np.random.default_rng(3))
    ]
    first = list(iterate_batches((x, y), 8, rng=np.random.default_rng(3), reuse_buffer=True))
    copies = [(a.copy(), b.copy()) for a, b in first]
    again = list(iterate_batches((x, y), 8, rng=np.random.default_rng(3), reuse_buffer=True))
    for (a, b), (c, d), (e, f) in zip(fresh, copies, again, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        np.testing.assert_array_equal(a, e)
        np.testing.assert_array_equal(b, f)
    assert np.shares_memory(first[0][0], again[0][0])  # the same buffer, reused
