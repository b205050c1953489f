"""The IDX format of MNIST and Fashion-MNIST: a reader and a writer.

An IDX file is a 4-byte magic number, ``ndim`` big-endian ``uint32`` sizes,
then the payload in C order, big-endian::

    0x00 0x00 <dtype code> <ndim>  dim_0 ... dim_{ndim-1}  payload

The dtype codes are ``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C``
int32, ``0x0D`` float32 and ``0x0E`` float64 (http://yann.lecun.com/exdb/mnist/).

Files may be gzipped; :func:`read_idx` tells by the gzip magic bytes
``1f 8b``, never by the file name, so a raw file named ``.gz`` (or a gzipped one
without the suffix) reads the same.
"""

from __future__ import annotations

import gzip as gzip_module
import hashlib
import math
import os
import zlib
from pathlib import Path

import numpy as np

from optimlab.io import atomic_open

GZIP_MAGIC = b"\x1f\x8b"

#: IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}


def read_idx_bytes(path: str | os.PathLike[str]) -> bytes:
    """The content of ``path``, decompressed if it is gzipped (told by magic bytes).

    Raises
    ------
    ValueError
        The gzip stream is truncated or corrupt (``EOFError``, ``zlib.error``,
        ``gzip.BadGzipFile`` are turned into a ``ValueError`` naming the file).
    """
    path = Path(path)
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip_module.decompress(raw)
    except (EOFError, zlib.error, gzip_module.BadGzipFile) as exc:
        raise ValueError(
            f"{path}: the gzip stream is truncated or corrupt ({type(exc).__name__}: {exc}); "
            f"expected a complete gzip file of {len(raw)} bytes or more"
        ) from exc


def parse_idx(data: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Decode the (decompressed) bytes of an IDX file into a native-endian array.

    Parameters
    ----------
    data : bytes
        A whole IDX file, header and payload.
    source : str
        What to call the data in error messages (normally the file name).

    Returns
    -------
    numpy.ndarray, shape ``(dim_0, ..., dim_{ndim-1})``
        A new, writable, native-endian array.

    Raises
    ------
    ValueError
        Bad magic number, unknown dtype code, a header shorter than ``ndim``
        sizes, or a payload whose length is not ``prod(dims) * itemsize``; the
        message names ``source``, what was expected and what was found.
    """
    if len(data) < 4:
        raise ValueError(
            f"{source}: not an IDX file: expected a 4-byte magic number, found {len(data)} bytes"
        )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{source}: not an IDX file: expected magic bytes 0x00 0x00 <dtype> <ndim>, "
            f"found {data[:4].hex(' ')}"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{source}: unknown IDX dtype code 0x{code:02X}; expected one of {known}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{source}: truncated IDX header: expected {header} bytes for {ndim} dimensions, "
            f"found {len(data)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        what = "truncated" if found < expected else "corrupt (trailing bytes)"
        raise ValueError(
            f"{source}: {what} IDX payload: expected {expected} bytes for shape {dims} "
            f"of {dtype.newbyteorder('=').name}, found {found}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=header)
    # astype copies: the result is writable and owns its memory, not the bytes object.
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def read_idx(path: str | os.PathLike[str], *, sha256: str | None = None) -> np.ndarray:
    """Read an IDX file, gzipped or raw.

    Parameters
    ----------
    path : path-like
        The file; gzip is detected by its magic bytes, not by the name.
    sha256 : str, optional
        The expected SHA-256 (hex) of the *decompressed* content. It is the
        same for the official ``.gz``, a recompressed ``.gz`` (Debian's) and
        the raw file, so one checksum covers every way the file is shipped.

    Returns
    -------
    numpy.ndarray, shape ``dims`` from the header, native byte order

    Raises
    ------
    ValueError
        Truncated or corrupt file (gzip or IDX), or a checksum mismatch; the
        message names the file, the expected and the found value.
    """
    data = read_idx_bytes(path)
    if sha256 is not None:
        received = hashlib.sha256(data).hexdigest()
        if received != sha256.lower():
            raise ValueError(
                f"{path}: checksum mismatch: expected sha256 {sha256} of the decompressed "
                f"content, received {received}; the file is corrupt or not the expected one"
            )
    return parse_idx(data, source=str(path))


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, gzip: bool = False) -> None:
    """Write ``array`` as an IDX file (atomically), gzipped if ``gzip``.

    Parameters
    ----------
    path : path-like
    array : array_like, ``ndim >= 1``
        dtype uint8, int8, int16, int32, float32 or float64 (any byte order);
        stored big-endian as the format says.
    gzip : bool
        Compress with gzip (modification time 0, so equal arrays give equal files).

    Raises
    ------
    ValueError
        Unsupported dtype, ``ndim`` outside 1..255 or a size above ``2**32 - 1``.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        supported = ", ".join(d.newbyteorder("=").name for d in IDX_DTYPES.values())
        raise ValueError(
            f"write_idx: dtype must be one of {supported}; received dtype={array.dtype}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: ndim must be in 1..255; received ndim={array.ndim}")
    if max(array.shape) > 0xFFFFFFFF:
        raise ValueError(f"write_idx: sizes must be < 2**32; received shape={array.shape}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    data = header + payload
    if gzip:
        data = gzip_module.compress(data, mtime=0)
    with atomic_open(path, "wb") as f:
        f.write(data)
