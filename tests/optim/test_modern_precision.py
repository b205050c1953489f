"""How far the *unpatched* reference is: its global-norm clipping factor is float32.

pytorch_optimizer's ``get_global_gradient_norm`` casts the norms to float32,
so Adan's ``max_grad_norm`` and Lamb's ``pre_norm`` scale float64 gradients by
a float32-rounded factor; optimlab computes it in float64.
``test_reference_modern`` compares with that function patched to float64
(<= 1e-9); unpatched, the gap is the float32 rounding, measured at 5e-9 to 1e-8
(Adan) and 3e-8 to 8e-8 (Lamb) after 200 steps over seeds 0-3.
"""

from __future__ import annotations

import pytest
import pytorch_optimizer as po
from reference_harness import run_pair

FLOAT32_GAP = 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_adan_global_clip_is_float32_in_the_reference(seed):
    kwargs = {"lr": 0.01, "max_grad_norm": 1.0}
    error = run_pair("adan", kwargs, lambda p: (po.Adan(p, **kwargs), None), seed=seed)
    assert error <= FLOAT32_GAP, f"relative error {error:.3e}"


@pytest.mark.parametrize("seed", [0, 1])
def test_lamb_pre_norm_is_float32_in_the_reference(seed):
    kwargs = {"lr": 0.01, "pre_norm": True}
    error = run_pair("lamb", kwargs, lambda p: (po.Lamb(p, **kwargs), None), seed=seed)
    assert error <= FLOAT32_GAP, f"relative error {error:.3e}"
