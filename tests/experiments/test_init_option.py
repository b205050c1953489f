"""A sweep's ``init``: the weight initialiser of every run (the study's He-normal)."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab.experiments.config import SweepConfig, run_id
from optimlab.experiments.runner import build_run


def small(**changes) -> SweepConfig:
    config = SweepConfig(problem="fmnist-mlp", optimizers=["sgd"], lrs=[0.1], train_subset=512)
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def test_init_is_part_of_the_run_and_absent_when_unset():
    plain, he = small().runs()[0], small(init="kaiming").runs()[0]
    assert "init" not in plain.config
    assert he.config["init"] == "he"  # the canonical name of the alias
    assert he.run_id != plain.run_id
    without = {k: v for k, v in he.config.items() if k != "init"}
    assert run_id(without) == plain.run_id  # only init differs


def test_init_reaches_the_model():
    he = build_run(small(init="he").runs()[0].config).model
    default = build_run(small().runs()[0].config).model
    w_he, w_default = he.parameters()[0].data, default.parameters()[0].data
    assert w_he.shape == (784, 128) or w_he.shape == (128, 784)
    assert np.std(w_he) == pytest.approx(np.sqrt(2 / 784), rel=0.02)  # He-normal: fan_in 784
    assert np.std(w_default) == pytest.approx(np.sqrt(1 / (3 * 784)), rel=0.02)  # torch default


def test_init_round_trips_through_toml(tmp_path):
    config = small(init="he")
    config.write(tmp_path / "c.toml")
    assert SweepConfig.from_toml(tmp_path / "c.toml").init == "he"


def test_unknown_init_is_refused_with_close_matches():
    with pytest.raises(ValueError, match=r"unknown initializer 'hee'; did you mean 'he'"):
        small(init="hee").validate()
