"""Every CPU configuration of torch's own optimizer test table, through optimlab's names.

``torch/testing/_internal/common_optimizers.py`` holds ``optim_db``: one
``OptimizerInfo`` per optimizer whose ``optim_inputs_func(device, dtype)`` gives the
hyperparameter configurations torch tests itself with. For SGD, Adam, AdamW, NAdam,
RAdam, Adadelta, Adamax, Adagrad and RMSprop, each configuration runs 100 float64
steps in optimlab and in torch on the same gradients (also with a parameter that
skips steps and one that starts late) and must agree to 1e-9. The flags optimlab
does not take (``foreach``, ``fused``, ``capturable``, ``differentiable``,
``maximize``) are refused with the usual unknown-hyperparameter error.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from reference_harness import PATTERNS, TOLERANCE, run_pair
from torch.testing._internal.common_optimizers import optim_db

from optimlab import optim
from optimlab.nn import Parameter

NAMES = {
    torch.optim.SGD: "sgd",
    torch.optim.Adam: "adam",
    torch.optim.AdamW: "adamw",
    torch.optim.NAdam: "nadam",
    torch.optim.RAdam: "radam",
    torch.optim.Adadelta: "adadelta",
    torch.optim.Adamax: "adamax",
    torch.optim.Adagrad: "adagrad",
    torch.optim.RMSprop: "rmsprop",
}
NOT_TAKEN = ("foreach", "fused", "capturable", "differentiable", "maximize")
STEPS = 100


def plain(value: Any) -> Any:
    """A tensor hyperparameter (``lr=torch.tensor(0.001)``) as a Python float, in tuples too."""
    if isinstance(value, torch.Tensor):
        return float(value)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def as_optimlab(cls: type, kwargs: dict) -> tuple[str, dict]:
    """optimlab's name and hyperparameters for ``cls(params, **kwargs)``."""
    name = NAMES[cls]
    ours = {k: plain(v) for k, v in kwargs.items() if k != "decoupled_weight_decay"}
    if kwargs.get("decoupled_weight_decay"):
        name += "w"  # nadamw, radamw
    return name, ours


CONFIGS = [
    pytest.param(info.optim_cls, inp.kwargs, id=f"{info.optim_cls.__name__}-{inp.desc}")
    for info in optim_db
    if info.optim_cls in NAMES
    for inp in info.optim_inputs_func("cpu", torch.float64)
]
TAKEN = [c for c in CONFIGS if not set(c.values[1]) & set(NOT_TAKEN)]
REFUSED = [c for c in CONFIGS if set(c.values[1]) & set(NOT_TAKEN)]


def test_the_table_is_torchs_whole_cpu_table():
    assert {c.values[0] for c in CONFIGS} == set(NAMES)
    assert len(CONFIGS) >= 50 and len(REFUSED) >= 8


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize(("cls", "kwargs"), TAKEN)
def test_matches_torch(cls, kwargs, pattern):
    name, ours = as_optimlab(cls, kwargs)
    error = run_pair(
        name, ours, lambda params: (cls(params, **kwargs), None),
        steps=STEPS, has_grad=PATTERNS[pattern],
    )  # fmt: skip
    assert error <= TOLERANCE, f"{name}{ours} {pattern}: relative error {error:.3e}"


@pytest.mark.parametrize(("cls", "kwargs"), REFUSED)
def test_flags_optimlab_does_not_take_are_refused(cls, kwargs):
    name, ours = as_optimlab(cls, kwargs)
    flag = next(k for k in ours if k in NOT_TAKEN)
    with pytest.raises(ValueError, match=rf"{name}: unknown hyperparameter '{flag}'"):
        optim.create(name, [Parameter(torch.zeros(3).numpy(), "p")], **ours)


@pytest.mark.parametrize("flag", NOT_TAKEN)
@pytest.mark.parametrize("name", sorted(set(NAMES.values()) | {"nadamw", "radamw"}))
def test_every_torch_only_flag_is_refused_by_every_name(name, flag):
    with pytest.raises(ValueError, match=rf"{name}: unknown hyperparameter '{flag}'"):
        optim.create(name, [Parameter(torch.zeros(3).numpy(), "p")], **{flag: True})
