import json
import os

import numpy as np
import pytest

from optimlab.io import atomic_open, load_arrays, save_arrays, write_json


def test_atomic_open_leaves_old_file_on_error(tmp_path):
    path = tmp_path / "a.json"
    write_json(path, {"x": 1})
    with pytest.raises(RuntimeError), atomic_open(path) as f:
        f.write('{"x": 2, "half')
        raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"x": 1}
    assert os.listdir(tmp_path) == ["a.json"]  # no temporary left behind


def test_arrays_round_trip_without_pickle(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(4)}
    save_arrays(tmp_path / "s.npz", arrays)
    back = load_arrays(tmp_path / "s.npz")
    assert set(back) == {"w", "step"}
    np.testing.assert_array_equal(back["w"], arrays["w"])
    assert back["w"].dtype == np.float32


def test_arrays_without_version_are_refused(tmp_path):
    np.savez(tmp_path / "old.npz", w=np.ones(2))
    with pytest.raises(ValueError, match="state format version must be 1; received -1"):
        load_arrays(tmp_path / "old.npz")


def test_atomic_files_get_the_usual_permissions(tmp_path):
    write_json(tmp_path / "r.json", {})
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~mask
