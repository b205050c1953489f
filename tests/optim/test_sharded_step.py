"""Large parameters of element-wise optimizers are updated in parallel slices:
the numbers must be exactly those of a single-threaded step."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim import optimizer as facade

NAMES = ["adam", "adamw", "momentum", "nesterov", "lion", "rmsprop", "adagrad", "qhadamw",
         "demon-nesterovw", "adadelta", "nadam", "radam", "adamax", "qhm"]  # fmt: skip


def run(name: str, threads: int, monkeypatch) -> tuple[list[np.ndarray], int]:
    monkeypatch.setenv("OPTIMLAB_NUM_THREADS", str(threads))
    calls = {"n": 0}
    original = facade._sharded_step

    def counting(*args):
        calls["n"] += 1
        return original(*args)

    monkeypatch.setattr(facade, "_sharded_step", counting)
    rng = np.random.default_rng(0)
    shapes = [(600, 500), (1000,), (7, 3)]  # 300,000 elements: above SHARD_MIN_SIZE
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    kwargs = {"lr": 1e-3, **({"total_steps": 5} if "demon" in name else {})}
    opt = optim.create(name, params, **kwargs)
    for _ in range(8):
        for p in params:
            p.grad = (0.5 * p.data + rng.standard_normal(p.shape)).astype(np.float32)
        opt.step()
    return [p.data.copy() for p in params], calls["n"]


@pytest.mark.parametrize("name", NAMES)
def test_parallel_slices_give_the_single_threaded_numbers(name, monkeypatch):
    one, slices_one = run(name, 1, monkeypatch)
    two, slices_two = run(name, 2, monkeypatch)
    three, _ = run(name, 3, monkeypatch)
    assert slices_one == 0 and slices_two >= 7  # the first step of a momentum buffer is whole
    for a, b, c in zip(one, two, three, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_norm_based_optimizers_are_never_sliced(monkeypatch):
    _, slices = run("lamb", 2, monkeypatch)
    assert slices == 0
