"""examples/deepobs.toml: DeepOBS's baseline protocol on fmnist_2c2d, as far as it runs here."""

from __future__ import annotations

import math
from pathlib import Path

from optimlab import optim
from optimlab.experiments.config import SweepConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deepobs.toml"
#: DeepOBS's grid: 36 rates 10**(-5 + k/5), k = 0..35 (docs/user_guide/suggested_protocol.rst).
GRID = [10 ** (-5 + k / 5) for k in range(36)]
#: The published best rates (deepobs/baselines/fmnist_2c2d/...: lr__1.5848931925e-01 etc.).
TUNED = {"sgd": 10**-0.8, "momentum": 10**-2.6, "adam": 10**-3.6}


def test_the_example_is_deepobs_protocol_around_its_published_rates():
    config = SweepConfig.from_toml(EXAMPLE)
    config.validate()
    assert config.problem == "fmnist-2c2d" and config.batch_size == 128 and config.epochs == 100
    assert config.optimizers == ["sgd", "momentum", "adam"] and config.tune
    for name, best in TUNED.items():
        grid = config.grid(name)
        k = [min(range(36), key=lambda i, lr=lr: abs(math.log(GRID[i] / lr))) for lr in grid]
        assert all(math.isclose(lr, GRID[i], rel_tol=1e-12) for lr, i in zip(grid, k, strict=True))
        middle = GRID.index(min(GRID, key=lambda g: abs(math.log(g / best))))
        assert k == [middle - 1, middle, middle + 1], name  # one grid step either side
    assert config.hyperparameters_of("momentum")["momentum"] == 0.99
    spec = optim.resolve("momentum")
    assert not spec.defaults.get("nesterov") and spec.defaults.get("dampening", 0.0) == 0.0
    assert len(config.runs()) == 3 * 3 * 3
