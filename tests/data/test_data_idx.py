"""The IDX reader and writer: round trips, detection by magic bytes, broken files."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optimlab.data import read_idx, write_idx
from optimlab.data.formats.idx import parse_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, dtype=">u4").tobytes() + payload


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, dtype, shape, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / "a.idx"
    write_idx(path, array, gzip=compress)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.flags.c_contiguous


def test_header_is_the_official_layout(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    # magic 0x00000801 (uint8, 1 dim), then size 3, then the bytes
    assert path.read_bytes() == bytes.fromhex("00000801 00000003 070201")


def test_multibyte_values_are_big_endian(tmp_path):
    path = tmp_path / "a"
    write_idx(path, np.array([1, -2], dtype="<i4"))
    assert path.read_bytes()[8:] == bytes.fromhex("00000001 fffffffe")
    np.testing.assert_array_equal(read_idx(path), [1, -2])


def test_gzip_is_detected_by_magic_bytes_not_by_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    raw_named_gz, gz_named_raw = tmp_path / "raw.gz", tmp_path / "gzipped-idx3-ubyte"
    write_idx(raw_named_gz, array)
    write_idx(gz_named_raw, array, gzip=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)


@settings(max_examples=40, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(DTYPES),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    ),
    compress=st.booleans(),
)
def test_round_trip_property(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / "x"
    write_idx(path, array, gzip=compress)
    back = read_idx(path)
    assert back.shape == array.shape and back.dtype == array.dtype
    # Bitwise equality also covers NaN payloads and signed zeros.
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload_names_file_expected_and_found(tmp_path, compress):
    data = idx_bytes(0x08, (4, 5), bytes(19))
    path = tmp_path / "short-idx2-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(
        ValueError, match=r"short-idx2-ubyte.*truncated.*expected 20 bytes.*found 19"
    ):
        read_idx(path)


def test_trailing_bytes_are_rejected(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(0x0C, (2,), bytes(9)))
    with pytest.raises(ValueError, match=r"long.*expected 8 bytes.*found 9"):
        read_idx(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"expected a 4-byte magic number, found 0 bytes"),
        (
            bytes.fromhex("01000801 00000001 00"),
            r"expected magic bytes 0x00 0x00.*found 01 00 08 01",
        ),
        (bytes.fromhex("00000701 00000001 00"), r"unknown IDX dtype code 0x07"),
        (
            bytes.fromhex("00000803 00000002 0000"),
            r"truncated IDX header: expected 16 bytes.*found 10",
        ),
    ],
)
def test_corrupt_header(tmp_path, data, message):
    path = tmp_path / "bad"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    compressed = gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) - 10])
    with pytest.raises(ValueError, match=r"cut\.gz.*gzip stream is truncated or corrupt"):
        read_idx(path)


def test_corrupt_gzip_stream(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(0x08, (100,), bytes(range(100)))))
    compressed[-6] ^= 0xFF  # inside the CRC-32 trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(ValueError, match=r"crc\.gz.*gzip stream is truncated or corrupt"):
        read_idx(path)


def test_sha256_of_decompressed_content(tmp_path):
    array = np.arange(30, dtype=np.uint8)
    raw, packed = tmp_path / "raw", tmp_path / "packed.gz"
    write_idx(raw, array)
    write_idx(packed, array, gzip=True)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    # The same checksum passes for the raw and the gzipped file.
    np.testing.assert_array_equal(read_idx(raw, sha256=digest), array)
    np.testing.assert_array_equal(read_idx(packed, sha256=digest.upper()), array)
    with pytest.raises(ValueError, match=rf"packed\.gz.*expected sha256 {'0' * 64}.*{digest}"):
        read_idx(packed, sha256="0" * 64)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(3, dtype=np.int64), "dtype must be one of"),
        (np.zeros(3, dtype=bool), "dtype must be one of"),
        (np.array(5, dtype=np.uint8), "ndim must be in 1..255"),
    ],
)
def test_write_rejects(tmp_path, array, message):
    with pytest.raises(ValueError, match=message):
        write_idx(tmp_path / "x", array)
    assert list(tmp_path.iterdir()) == []


def test_parse_idx_from_bytes():
    out = parse_idx(idx_bytes(0x0B, (2, 2), np.array([1, 2, 3, -4], ">i2").tobytes()))
    np.testing.assert_array_equal(out, [[1, 2], [3, -4]])
