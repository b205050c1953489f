"""Atomic file writes and versioned ``.npz`` state files (never pickled).

A killed process never leaves a half-written file: everything is written to a
temporary file in the destination folder, flushed, fsynced, then renamed over
the destination (``os.replace`` is atomic on POSIX).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

STATE_FORMAT_VERSION = 1


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w"):
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb'; received mode={mode!r}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from exc
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; results are not
    try:
        try:
            with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:  # full disk, file-size limit, read-only file system...
            if getattr(exc, "names_the_file", False):
                raise
            raise _unwritable(path, exc) from exc
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _unwritable(path: Path, exc: OSError) -> OSError:
    """The same error, saying which file could not be written and why."""
    error = OSError(exc.errno, f"{path} could not be written: {exc.strerror or exc}")
    error.names_the_file = True  # type: ignore[attr-defined]
    return error


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(
    path: str | os.PathLike[str], writer: Callable[[IO[Any]], None], *, binary: bool = False
) -> None:
    """Call ``writer(file)`` on a temporary file, then rename it to ``path``."""
    with atomic_open(path, "wb" if binary else "w") as f:
        writer(f)


def ensure_writable_dir(out: str | os.PathLike[str]) -> Path:
    """Create ``out`` if needed and prove it can hold files; ``ValueError`` if not."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ValueError(
            f"--out {str(out)!r} cannot be written: {exc.strerror or exc}; "
            "expected a folder that can be created and written"
        ) from exc
    return out


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write(path, lambda f: (json.dump(obj, f, indent=2, allow_nan=True), f.write("\n")))


def save_arrays(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays to ``path`` (``.npz``) atomically, with a format version."""
    payload = {"__version__": np.array(STATE_FORMAT_VERSION), **arrays}
    atomic_write(path, lambda f: np.savez(f, **payload), binary=True)


def load_arrays(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Load arrays saved by :func:`save_arrays` (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    version = int(arrays.pop("__version__", -1))
    if version != STATE_FORMAT_VERSION:
        raise ValueError(
            f"{path}: state format version must be {STATE_FORMAT_VERSION}; received {version}"
        )
    return arrays
