"""Downloads against a loopback HTTP server: progress, checksums, cut transfers, mirrors."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from optimlab.data.download import download, download_first, md5_of_file


@pytest.fixture
def blob(mirror):
    data = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    (mirror.root / "blob.bin").write_bytes(data)
    return data, hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_success_with_progress(mirror, blob, tmp_path, capsys):
    data, digest = blob
    dest = tmp_path / "cache" / "sub" / "blob.bin"
    assert download(mirror.url + "blob.bin", dest, md5=digest, progress=True) == dest
    assert dest.read_bytes() == data
    assert md5_of_file(dest) == digest
    assert [p.name for p in dest.parent.iterdir()] == ["blob.bin"]  # no temporary left
    err = capsys.readouterr().err
    assert "blob.bin" in err and "100%" in err


@pytest.mark.parametrize("progress", [False, None])  # None: a bar only on a terminal
def test_quiet_without_progress(mirror, blob, tmp_path, capsys, progress):
    download(mirror.url + "blob.bin", tmp_path / "b", md5=blob[1], progress=progress)
    assert capsys.readouterr().err == ""


def test_wrong_checksum_leaves_nothing(mirror, blob, tmp_path):
    folder = tmp_path / "cache"
    wrong = "0" * 32
    url = mirror.url + "blob.bin"
    with pytest.raises(ValueError, match=rf"blob\.bin.*{url}.*expected md5 {wrong}.*{blob[1]}"):
        download(url, folder / "blob.bin", md5=wrong)
    assert list(folder.iterdir()) == []


def test_cut_transfer_leaves_nothing(mirror, blob, tmp_path):
    folder = tmp_path / "cache"
    url = mirror.url + "cut/blob.bin"
    with pytest.raises(OSError, match=rf"{url} was cut short: expected 300000 bytes.*150000"):
        download(url, folder / "blob.bin", md5=blob[1])
    assert list(folder.iterdir()) == []


def test_http_error_names_the_url(mirror, tmp_path):
    folder = tmp_path / "cache"
    with pytest.raises(OSError, match=rf"download of {mirror.url}nothing\.bin failed.*404"):
        download(mirror.url + "nothing.bin", folder / "nothing.bin", md5=None)
    assert list(folder.iterdir()) == []


def test_existing_file_is_replaced_only_on_success(mirror, blob, tmp_path):
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    with pytest.raises(ValueError):
        download(mirror.url + "blob.bin", dest, md5="0" * 32)
    assert dest.read_bytes() == b"old"


def test_first_mirror_failing_falls_back(mirror, blob, tmp_path):
    dest = tmp_path / "blob.bin"
    download_first([mirror.url + "missing/", mirror.url], "blob.bin", dest, md5=blob[1])
    assert dest.read_bytes() == blob[0]
    assert mirror.requests == ["/missing/blob.bin", "/blob.bin"]


def test_every_mirror_failing_lists_each(mirror, blob, tmp_path):
    bases = [mirror.url + "a", mirror.url + "b/"]
    dest = tmp_path / "dl" / "blob.bin"
    with pytest.raises(OSError, match=r"(?s)blob\.bin from any mirror.*/a/blob\.bin.*/b/blob\.bin"):
        download_first(bases, "blob.bin", dest, md5=blob[1])
    with pytest.raises(ValueError, match="checksum mismatch"):
        download_first([bases[0], mirror.url], "blob.bin", dest, md5="0" * 32)
    assert list(dest.parent.iterdir()) == []
