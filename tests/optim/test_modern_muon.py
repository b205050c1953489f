"""Muon: Newton-Schulz for ndim >= 2, AdamW for the rest; shapes beyond the table's."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import pytorch_optimizer.optimizer.muon.base as po_muon_base
import torch
from optim_db_modern import muon_ref
from pytorch_optimizer.optimizer.utils.matrix import zero_power_via_newton_schulz_5
from reference_harness import TOLERANCE, run_pair

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.transforms.muon import NS_COEFFICIENTS, newton_schulz


@pytest.fixture
def float64_newton_schulz(monkeypatch):
    ns64 = functools.partial(zero_power_via_newton_schulz_5, dtype=torch.float64)
    monkeypatch.setattr(po_muon_base, "zero_power_via_newton_schulz_5", ns64)


# tall, wide, a convolution kernel, a vector, a scalar, two equal shapes (batched by the reference)
SHAPES = [(8, 3), (3, 8), (4, 2, 3, 3), (6,), (), (5, 4), (5, 4)]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lr": 0.01, "use_adjusted_lr": True, "weight_decay": 0.1, "adamw_wd": 0.2}],
    ids=["defaults", "adjusted"],
)
def test_every_shape_matches_the_reference(kwargs, float64_newton_schulz):
    error = run_pair("muon", kwargs, muon_ref(**kwargs), shapes=SHAPES)
    assert error <= TOLERANCE, f"relative error {error:.3e}"


def test_each_kind_of_parameter_has_its_own_learning_rate():
    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal(s), f"p{i}") for i, s in enumerate([(4, 3), (3,)])]
    start = [p.data.copy() for p in params]
    opt = optim.create("muon", params, lr=0.0, adamw_lr=0.01)
    for _ in range(3):
        for p in params:
            p.grad = rng.standard_normal(p.shape)
        opt.step()
    np.testing.assert_array_equal(params[0].data, start[0])  # Muon, lr = 0
    assert not np.array_equal(params[1].data, start[1])  # AdamW, adamw_lr > 0


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (32, 64)])
def test_newton_schulz_orthogonalises(shape):
    g = np.random.default_rng(1).standard_normal(shape)
    s = np.linalg.svd(newton_schulz(g, 5, NS_COEFFICIENTS["original"]), compute_uv=False)
    assert 0.6 < s.min() and s.max() < 1.25  # the original quintic: about [0.68, 1.13], not 1
    s = np.linalg.svd(newton_schulz(g, 8, NS_COEFFICIENTS["polar_express"]), compute_uv=False)
    np.testing.assert_allclose(s, 1.0, atol=1e-9)


def test_newton_schulz_runs_in_the_dtype_of_its_input():
    g = np.random.default_rng(2).standard_normal((5, 7)).astype(np.float32)
    assert newton_schulz(g).dtype == np.float32


def test_coefficient_presets_are_the_references():
    from pytorch_optimizer.optimizer.utils.matrix import NS_COEFFICIENTS as REFERENCE

    assert {k: list(v) for k, v in REFERENCE.items()} == NS_COEFFICIENTS
