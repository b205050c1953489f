"""Prodigy and D-Adaptation Adam match pytorch_optimizer 4.1 step by step, in float64.

The reference keeps its group-wide sums in tensors made with ``torch.tensor([0.0])``
(Prodigy's ``d_numerator`` and ``d_de_nom``, DAdaptAdam's ``sk_l1``, ``numerator_acc``
and ``numerator_weighted``): of torch's default dtype, float32 unless set, so that the
estimate of d would be rounded to float32 whatever the parameters' dtype. The fixture
patches that ``torch.tensor`` (in the two reference modules only) to make float64, so
that the comparison checks the algorithm rather than that rounding (the harness also
sets the default dtype to float64 during the steps; the patch does not depend on it).
Every row runs with the gradient patterns of the harness (a parameter that skips
steps, one that starts late), on a 0-d parameter, and once with a conv kernel.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import pytorch_optimizer as po
import pytorch_optimizer.optimizer.dadapt as po_dadapt
import pytorch_optimizer.optimizer.prodigy as po_prodigy
import torch
from optim_db_lr_free import ROWS
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair

from optimlab import optim
from optimlab.nn import Parameter

#: A conv kernel (out, in, kh, kw) beside a vector and a matrix.
CONV_SHAPES = [(3, 2, 3, 3), (4,), (5, 4)]


def float64_torch() -> types.SimpleNamespace:
    """``torch`` with ``tensor`` making float64 unless told otherwise."""

    def tensor(data, *args, **kwargs):
        kwargs.setdefault("dtype", torch.float64)
        return torch.tensor(data, *args, **kwargs)

    namespace = types.SimpleNamespace(**{k: getattr(torch, k) for k in dir(torch)
                                         if not k.startswith("__")})  # fmt: skip
    namespace.tensor = tensor
    return namespace


@pytest.fixture
def float64_reference(monkeypatch):
    shim = float64_torch()
    monkeypatch.setattr(po_prodigy, "torch", shim)
    monkeypatch.setattr(po_dadapt, "torch", shim)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row, pattern, float64_reference):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{row.id} {pattern}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference_on_a_0d_parameter(row, float64_reference):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 0-d: relative error {error:.3e} after {STEPS} steps"


#: The first three rows of each base name (defaults, the other code path, new values).
BASE_ROWS = [
    r for name in ("prodigy", "dadapt-adam") for r in [x for x in ROWS if x.name == name][:3]
]


@pytest.mark.parametrize("row", BASE_ROWS, ids=[r.id for r in BASE_ROWS])
def test_matches_reference_with_a_conv_kernel(row, float64_reference):
    """A 4-D parameter is flattened like any other (element-wise moments, one d)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=CONV_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 4-D: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize(
    ("cls", "keys"),
    [(po.Prodigy, ("d_numerator",)), (po.DAdaptAdam, ("numerator_weighted",))],
    ids=["prodigy", "dadapt-adam"],
)
def test_unpatched_reference_keeps_its_sums_in_the_default_dtype(cls, keys):
    """Why the fixture: without it the sums are float32 beside float64 parameters."""
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ref = cls([p])
    p.grad = torch.ones(3, dtype=torch.float64)
    assert torch.get_default_dtype() == torch.float32
    ref.step()
    for key in keys:
        assert ref.param_groups[0][key].dtype == torch.float32


def test_the_estimate_of_d_grows_from_d0():
    """On a quadratic far from its minimum d grows by orders of magnitude from d0 = 1e-6
    (the distance is about 3 here), and the state keeps it as a plain float."""
    for name in ("prodigy", "dadapt-adam"):
        p = Parameter(np.full(4, 3.0))
        opt = optim.create(name, [p])
        for _ in range(100):
            p.grad = p.data.copy()
            opt.step()
        d = opt.state_dict()["state"][0]["0"]["d"]
        assert isinstance(d, float) and 0.1 < d < 100.0, f"{name}: d = {d}"
        assert np.all(np.abs(p.data) < 3.0), name
