"""Fixtures for optimlab.data: tiny official-format files, a loopback HTTP mirror.

No test reaches the internet: name resolution and connections to anything but
the loopback address fail (``_no_network``), and every download is served by a
``http.server`` on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from optimlab.data import dataset_dir, write_cifar10_binary, write_idx
from optimlab.data.datasets import IDX_FILES

# The real Fashion-MNIST folder, taken before any test changes the environment.
REAL_FASHION_DIR = dataset_dir("fashion-mnist")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """A fresh cache per test; no data, mirror or cache variables from outside."""
    monkeypatch.delenv("OPTIMLAB_DATA", raising=False)
    monkeypatch.delenv("OPTIMLAB_MIRROR", raising=False)
    monkeypatch.setenv("OPTIMLAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Resolving or connecting to anything but loopback raises ``OSError``."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK:
            raise OSError(f"tests must not reach the network (resolving {host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise OSError(f"tests must not reach the network (connecting to {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; under ``/cut/`` it promises the whole file but sends half."""

    requests: list[str]

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self.requests.append(self.path)
        if not self.path.startswith("/cut/"):
            return super().do_GET()
        path = Path(self.directory) / self.path.removeprefix("/cut/")
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True
        return None


@dataclass
class Mirror:
    """A running loopback server; ``url`` is its base address."""

    root: Path
    server: http.server.ThreadingHTTPServer
    thread: threading.Thread
    requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
            self.server.server_close()


@pytest.fixture
def mirror(tmp_path):
    """Serve ``tmp_path / "www"`` on 127.0.0.1 (a free port); stopped after the test."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    running = Mirror(root, server, thread, requests)
    yield running
    running.stop()


@dataclass
class TinyIdx:
    """Four tiny MNIST-format files and their content."""

    folder: Path
    x_train: np.ndarray  # (N, 28, 28) uint8
    y_train: np.ndarray  # (N,) uint8
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def md5(self) -> dict[str, str]:
        return {name: md5(self.folder / name) for name in IDX_FILES}

    @property
    def sha256(self) -> dict[str, str]:
        """SHA-256 of the decompressed files."""
        import gzip

        return {
            name: hashlib.sha256(gzip.decompress((self.folder / name).read_bytes())).hexdigest()
            for name in IDX_FILES
        }


def write_tiny_idx(folder: Path, *, n_train: int = 20, n_test: int = 7, seed: int = 0) -> TinyIdx:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tiny = TinyIdx(
        folder,
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        (np.arange(n_train) % 10).astype(np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        (np.arange(n_test) % 10).astype(np.uint8),
    )
    arrays = (tiny.x_train, tiny.y_train, tiny.x_test, tiny.y_test)
    for name, array in zip(IDX_FILES, arrays, strict=True):
        write_idx(folder / name, array, gzip=True)
    return tiny


@pytest.fixture
def tiny_mnist(mirror) -> TinyIdx:
    """Tiny MNIST-format ``.gz`` files in the mirror's folder."""
    return write_tiny_idx(mirror.root)


@dataclass
class TinyCifar:
    path: Path
    x_train: np.ndarray  # (N, 3, 32, 32) uint8
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    y_test: np.ndarray


def write_tiny_cifar(path: Path, *, n_train: int = 12, n_test: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    tiny = TinyCifar(
        path,
        rng.integers(0, 256, (n_train, 3, 32, 32), dtype=np.uint8),
        rng.integers(0, 10, n_train).astype(np.int64),
        rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8),
        rng.integers(0, 10, n_test).astype(np.int64),
    )
    write_cifar10_binary(path, tiny.x_train, tiny.y_train, tiny.x_test, tiny.y_test)
    return tiny


@pytest.fixture
def make_tiny_cifar():
    """``make_tiny_cifar(path, n_train=12, n_test=4, seed=0) -> TinyCifar``."""
    return write_tiny_cifar


@pytest.fixture
def make_tiny_idx():
    """``make_tiny_idx(folder, n_train=20, n_test=7, seed=0) -> TinyIdx``."""
    return write_tiny_idx


@pytest.fixture
def tiny_cifar(mirror) -> TinyCifar:
    """A tiny ``cifar-10-binary.tar.gz`` in the mirror's folder."""
    return write_tiny_cifar(mirror.root / "cifar-10-binary.tar.gz")


@pytest.fixture(scope="session")
def real_fashion_dir() -> Path:
    """The Fashion-MNIST folder of this machine (``$OPTIMLAB_DATA`` or the Debian one)."""
    return REAL_FASHION_DIR


@pytest.fixture
def fashion_copy(tmp_path) -> Path:
    """A copy of the real Fashion-MNIST folder (to corrupt or convert)."""
    folder = tmp_path / "fashion"
    shutil.copytree(REAL_FASHION_DIR, folder)
    return folder
