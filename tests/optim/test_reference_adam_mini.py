"""Adam-mini matches pytorch_optimizer 4.1 step by step, in float64.

pytorch_optimizer's AdamMini computes in float32 whatever the parameters' dtype: it casts
the gradient to float32 and keeps ``m`` (and the block size it divides by) in float32.
Those casts are patched to float64 here (the module's ``torch.float32`` reads
``torch.float64``), so that the comparison checks the algorithm rather than float32
rounding; its scalar second moment is made in the default dtype, float64 in the harness.

Also checked: the rule by which the reference blocks parameters, applied to the names
optimlab's models give (``named_parameters``): every one is a single block, decayed.
"""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_optimizer as po
import pytorch_optimizer.optimizer.adam_mini as po_adam_mini
import torch
from optim_db_adam_mini import EQUATION_ROWS, ROWS, NamedTensors
from reference_harness import PATTERNS, SCALAR_SHAPES, STEPS, TOLERANCE, run_pair

from optimlab import nn

SHAPES_4D = [(4, 2, 3, 3), (6,), (5, 3)]
ALL = ROWS + EQUATION_ROWS


class _Float64Torch:
    """``torch`` as pytorch_optimizer's adam_mini module sees it, with float32 -> float64."""

    float32 = torch.float64

    def __getattr__(self, name: str):
        return getattr(torch, name)


@pytest.fixture
def float64_reference(monkeypatch):
    monkeypatch.setattr(po_adam_mini, "torch", _Float64Torch())


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", ALL, ids=[r.id for r in ALL])
def test_matches_reference(row, pattern, float64_reference):
    """Also when a parameter skips steps or starts late (``PATTERNS``)."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern])
    assert error <= TOLERANCE, f"{row.id} {pattern}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("row", ALL, ids=[r.id for r in ALL])
def test_matches_reference_on_a_0d_parameter(row, float64_reference):
    """A 0-d parameter whose gradients are NumPy scalars (``0.5 * p.data + noise``)."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES)
    assert error <= TOLERANCE, f"{row.id} 0-d: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("row", ALL, ids=[r.id for r in ALL])
def test_matches_reference_with_a_4d_parameter(row, float64_reference):
    """A convolution kernel is one block, like any other tensor."""
    error = run_pair(row.name, row.kwargs, row.reference, shapes=SHAPES_4D)
    assert error <= TOLERANCE, f"{row.id} 4-D: relative error {error:.3e} after {STEPS} steps"


def test_the_float32_reference_is_close(monkeypatch):
    """Unpatched, the reference's float32 arithmetic differs by float32 rounding only."""
    row = ROWS[1]
    error = run_pair(row.name, row.kwargs, row.reference, steps=50)
    assert 0 < error < 1e-4


MODELS = [
    ("mlp", (784,)),
    ("logreg", (784,)),
    ("cnn", (1, 28, 28)),
    ("deepobs_2c2d", (1, 28, 28)),
    ("autoencoder", (784,)),
    ("noisy_quadratic", (10,)),
]


@pytest.mark.parametrize(("model", "shape"), MODELS, ids=[m for m, _ in MODELS])
def test_optimlab_model_names_are_single_decayed_blocks_for_the_reference(model, shape):
    """pytorch_optimizer's AdamMini, given the names of an optimlab model, puts every
    parameter on its one-block-per-tensor path with the group's weight decay."""
    built = nn.build_model(model, shape, 10, rng=np.random.default_rng(0))
    named = list(built.named_parameters())
    tensors = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for _, p in named]
    ref = po.AdamMini(NamedTensors(tensors, [n for n, _ in named]), weight_decay=0.1)
    special = ref.embed_blocks | ref.qk_blocks | {"attn.attn.weight", "attn.qkv.weight"}
    for group in ref.param_groups:
        assert not any(block in group["name"] for block in special), group["name"]
        assert "parameter_per_head" not in group
        assert group["weight_decay"] == 0.1, group["name"]
