"""Readers and writers of the official file formats (never unpickling anything)."""

from optimlab.data.formats.cifar import read_cifar10_binary, write_cifar10_binary
from optimlab.data.formats.idx import parse_idx, read_idx, read_idx_bytes, write_idx

__all__ = [
    "parse_idx",
    "read_cifar10_binary",
    "read_idx",
    "read_idx_bytes",
    "write_cifar10_binary",
    "write_idx",
]
