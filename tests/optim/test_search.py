"""Search spaces: dimensions, their TOML forms, and every registered optimizer's default."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimlab import optim
from optimlab.optim import search
from optimlab.optim.registry import OPTIMIZERS


def test_dimensions_map_the_unit_interval_onto_their_ranges():
    lr = search.log(1e-5, 1e-1)
    assert lr.value(0.0) == pytest.approx(1e-5)
    assert lr.value(0.5) == pytest.approx(1e-3)  # the geometric middle
    assert lr.value(0.999999) < 1e-1
    assert search.uniform(0.5, 1.0).value(0.5) == 0.75
    beta = search.log1m(0.9, 0.999)
    assert beta.value(0.0) == pytest.approx(0.999)  # 1 - x from 1e-3 ...
    assert beta.value(0.5) == pytest.approx(0.99)  # ... log-uniformly to 0.1
    assert beta.value(0.99999) == pytest.approx(0.9, abs=1e-5)
    assert [search.integer(1, 3).value(u) for u in (0.0, 0.34, 0.67, 0.99)] == [1, 2, 3, 3]
    flag = search.choice(True, False)
    assert (flag.value(0.2), flag.value(0.7)) == (True, False)


def test_entries_read_from_their_toml_forms_and_back():
    forms = {
        "lr": {"log": [1e-5, 0.1]}, "momentum": {"uniform": [0.5, 0.999]},
        "betas": [{"log1m": [0.5, 0.999]}, 0.999], "nesterov": {"choice": [True, False]},
        "warmup": {"int": [0, 500]},
    }  # fmt: skip
    space = {k: search.parse_entry("here", k, v) for k, v in forms.items()}
    assert {k: search.form(v) for k, v in space.items()} == forms
    assert search.dimensions(space) == 5  # betas draws one coordinate, its 0.999 is fixed
    point = search.sample(space, [0.5] * 5)
    assert point["betas"][1] == 0.999 and point["warmup"] == 250
    assert search.describe(space["betas"]) == "(1 - x log-uniform in [0.5, 0.999], fixed at 0.999)"


@pytest.mark.parametrize(
    "value, message",
    [
        ({"log": [0, 1]}, r"needs 0 < low <= high"),
        ({"log": [1e-3]}, r"needs two numbers \[low, high\]"),
        ({"log1m": [0.5, 1.0]}, r"0 <= low <= high < 1"),
        ({"uniform": [2, 1]}, r"low <= high"),
        ({"int": [0.5, 2]}, r"integers"),
        ({"choice": []}, r"non-empty list"),
        ({"logs": [1, 2]}, r"is not a dimension; expected one of"),
    ],
)
def test_bad_dimensions_name_the_place_and_the_value(value, message):
    with pytest.raises(ValueError, match=message) as info:
        search.parse_entry("sweep.toml: [optimizer.adam.search]", "lr", value)
    assert "sweep.toml: [optimizer.adam.search]" in str(info.value)


def test_sample_needs_one_coordinate_per_dimension():
    with pytest.raises(ValueError, match="has 1 coordinates; received 2"):
        search.sample({"lr": search.log(1e-3, 1)}, [0.1, 0.2])


@pytest.mark.parametrize("name", optim.available())
def test_every_name_has_a_default_space_with_lr(name):
    space = optim.resolve(name).search
    assert "lr" in space, name
    assert set(space) <= set(optim.resolve(name).defaults)
    base = name.removeprefix("lookahead-").removeprefix("cautious-").removeprefix("demon-")
    if base.endswith("w") and base not in OPTIMIZERS.names():  # a composed <name>w
        assert space["weight_decay"] == search.WEIGHT_DECAY


@settings(max_examples=30, deadline=None)
@given(u=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=8, max_size=8))
def test_every_point_of_every_default_space_passes_the_optimizers_checks(u):
    for name in (
        "sgd",
        "momentum",
        "nesterov",
        "adam",
        "adamw",
        "nadamw",
        "qhadamw",
        "qhm",
        "rmsprop",
        "adadelta",
        "adagrad",
        "lion",
        "demon-qhadamw",
        "lookahead-adam",
    ):
        spec = optim.resolve(name)
        n = search.dimensions(spec.search)
        point = search.sample(spec.search, u[:n])
        spec.check(point)  # raises on an out-of-range draw
        assert point["lr"] > 0 and math.isfinite(point["lr"])


def test_a_registered_optimizer_gets_a_default_space_or_its_own():
    from optimlab.optim.transforms import ScaleByLearningRate

    def plain(lr):
        """p -= lr g."""
        return optim.chain(ScaleByLearningRate(lr))

    if "searchtoy" not in OPTIMIZERS:
        optim.register("searchtoy", plain, defaults={"lr": 0.01})
        optim.register("searchtoy-own", plain, defaults={"lr": 0.01},
                       search={"lr": {"log": [1e-3, 1e-1]}})  # fmt: skip
    assert optim.resolve("searchtoy").search == {"lr": search.log(1e-4, 1.0)}  # 2 decades
    assert optim.resolve("searchtoyw").search["weight_decay"] == search.WEIGHT_DECAY
    assert optim.resolve("searchtoy-own").search == {"lr": search.log(1e-3, 1e-1)}
    with pytest.raises(ValueError, match="'momentum', which is not a hyperparameter"):
        optim.register("searchtoy-bad", plain, defaults={"lr": 0.01},
                       search={"momentum": {"uniform": [0, 1]}})  # fmt: skip
