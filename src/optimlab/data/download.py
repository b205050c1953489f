"""Downloads: the only module of optimlab that touches the network (``urllib`` only).

A download streams into a temporary file in the destination folder while its
MD5 is computed, and is renamed to its final name only once its length and
checksum are right; on any failure the temporary file is removed, so the cache
never holds a partial or wrong file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from optimlab import __version__
from optimlab.io import atomic_open

CHUNK_BYTES = 1 << 16
USER_AGENT = f"optimlab/{__version__} (+urllib)"


def md5_of_file(path: str | os.PathLike[str]) -> str:
    """MD5 (hex) of a file, read in chunks. MD5 is what the data sets publish."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def join_url(base: str, filename: str) -> str:
    """``base`` and ``filename`` joined by exactly one ``/``."""
    return base.rstrip("/") + "/" + filename


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    md5: str | None,
    progress: bool | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest``, atomically, checking length and MD5.

    Parameters
    ----------
    url : str
        ``http``, ``https`` or ``file`` address.
    dest : path-like
        Final path; its folder is created if needed.
    md5 : str or None
        Expected MD5 (hex) of the downloaded bytes; ``None`` skips the check
        (the caller then verifies the file some other way).
    progress : bool or None
        A tqdm bar on stderr; ``None`` shows it only when stderr is a terminal.
    timeout : float
        Seconds to wait for the server at each step.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    OSError
        Network failure, an HTTP error status, or a transfer cut short (fewer
        bytes than the ``Content-Length``); the message names the URL.
    ValueError
        The MD5 of the downloaded bytes differs from ``md5``; the message names
        the file, the URL, the expected and the received checksum.
    """
    from tqdm.auto import tqdm  # only downloads need it

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    # Written to a temporary sibling, renamed over ``dest`` only when every check passed.
    with atomic_open(dest, "wb") as out:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length is not None and length.isdigit() else None
                with tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=dest.name,
                    disable=None if progress is None else not progress,
                    file=sys.stderr,
                ) as bar:
                    while chunk := response.read(CHUNK_BYTES):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise OSError(f"download of {url} failed: {exc}") from exc
        if total is not None and received != total:
            raise OSError(
                f"download of {url} was cut short: expected {total} bytes "
                f"(Content-Length), received {received}; nothing was saved to {dest}"
            )
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise ValueError(
                f"checksum mismatch for {dest.name} downloaded from {url}: expected md5 {md5}, "
                f"received md5 {digest.hexdigest()} ({received} bytes); the download was "
                f"deleted and nothing was saved to {dest}"
            )
    return dest


def download_first(
    mirrors: Sequence[str],
    filename: str,
    dest: str | os.PathLike[str],
    *,
    md5: str | None,
    progress: bool | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``filename`` from the first of ``mirrors`` (base URLs) that serves it right.

    A mirror that fails (network error, cut-short transfer, wrong checksum) is
    skipped. If every mirror fails the error lists each URL and what went
    wrong; it is a ``ValueError`` if any mirror served a file with the wrong
    checksum, else an ``OSError``.
    """
    if not mirrors:
        raise ValueError(f"download_first: mirrors must not be empty (downloading {filename})")
    errors: list[Exception] = []
    for base in mirrors:
        try:
            return download(
                join_url(base, filename), dest, md5=md5, progress=progress, timeout=timeout
            )
        except (OSError, ValueError) as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    message = f"could not download {filename} from any mirror:\n" + "\n".join(
        f"  - {exc}" for exc in errors
    )
    kind = ValueError if any(isinstance(e, ValueError) for e in errors) else OSError
    raise kind(message) from errors[-1]
