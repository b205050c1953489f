"""SCION's norms per parameter, and what NorMuon and AdaMuon do to each kind of parameter.

The step-by-step comparison with pytorch_optimizer is ``test_reference_orthogonal``;
these check the rules and the properties the papers state, on the equations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import Parameter
from optimlab.optim.transforms.muon_variants import ScaleByAdaMuon, ScaleByNorMuon
from optimlab.optim.transforms.scion import NORM_OPTIONS, lmo, norm_of


def params_of(*shapes: tuple[int, ...], seed: int = 0) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s), f"p{i}") for i, s in enumerate(shapes)]


def one_step(name: str, params: list[Parameter], seed: int = 1, **kwargs) -> list[np.ndarray]:
    """The step each parameter takes from a fresh state, for a random gradient."""
    rng = np.random.default_rng(seed)
    start = [p.data.copy() for p in params]
    opt = optim.create(name, params, **kwargs)
    for p in params:
        p.grad = rng.standard_normal(p.shape)
    opt.step()
    return [p.data - s for p, s in zip(params, start, strict=True)]


def rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a * a)))


# -- SCION ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("norm_type", "expected"),
    [
        ("auto", ["bias", "bias", "spectral", "spectral_conv", "spectral_conv"]),
        ("spectral", ["bias", "bias", "spectral", "spectral_conv", "spectral_conv"]),
        ("sign", ["bias", "bias", "sign", "sign", "sign"]),
        ("col", ["bias", "bias", "col", "spectral_conv", "spectral_conv"]),
        ("row", ["bias", "bias", "row", "row", "row"]),
        ("spectral_conv", ["bias", "bias", "spectral_conv", "spectral_conv", "spectral_conv"]),
        ("bias", ["bias"] * 5),
        ("none", ["none"] * 5),
    ],
)
def test_each_norm_applies_where_it_is_defined_and_auto_elsewhere(norm_type, expected):
    assert [norm_of(norm_type, ndim) for ndim in range(5)] == expected


def test_auto_refuses_more_than_four_dimensions():
    with pytest.raises(ValueError, match="norm_type='auto' takes parameters of 0 to 4"):
        optim.create("scion", params_of((2, 2, 2, 2, 2)))
    optim.create("scion", params_of((2, 2, 2, 2, 2)), norm_type="sign")  # a norm that takes it


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"norm_type": "spectral", "norm_kwargs": {"transpose": True}},
         r"scion: norm_kwargs 'transpose' is not an option of norm_type='spectral'"),
        ({"norm_kwargs": {"num_steps": 3}},
         r"not an option of norm_type='auto' \(it takes: none\)"),
        ({"norm_type": "spectral", "norm_kwargs": {"num_steps": 0}},
         r"num_steps must be an integer >= 1; received 0"),
        ({"norm_type": "sign", "norm_kwargs": {"normalize": 1}},
         r"norm_kwargs normalize must be true or false; received 1"),
        ({"norm_type": "frobenius"}, r"scion: norm_type must be one of 'auto', 'spectral'"),
        ({"norm_kwargs": "spectral"}, r"scion: norm_kwargs must be a dict or None"),
        ({"momentum": 0.0}, r"scion: momentum must be in \(0, 1\] \(the weight of the new"),
        ({"momentum": 1.5}, r"scion: momentum must be in \[0, 1\]; received momentum=1.5"),
        ({"scale": 0.0}, r"scion: scale must be > 0; received scale=0.0"),
    ],
)  # fmt: skip
def test_scion_refuses_bad_norm_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.create("scion", params_of((3, 2), (2,)), **kwargs)


def test_a_group_may_have_a_norm_and_a_radius_of_its_own():
    """The paper's per-layer norms: groups, each with its norm_type and scale."""
    hidden, head = params_of((4, 3), (3, 2))
    rng = np.random.default_rng(1)
    start = [hidden.data.copy(), head.data.copy()]
    opt = optim.create("scion", [{"params": [hidden]},
                                 {"params": [head], "norm_type": "sign", "scale": 3.0}],
                       lr=0.1, momentum=1.0)  # fmt: skip
    hidden.grad, head.grad = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    opt.step()
    sign_step = head.data - start[1]
    np.testing.assert_allclose(np.abs(sign_step), 0.1 * 3.0 / 2)  # lr * scale / in (shape[1])
    s = np.linalg.svd(hidden.data - start[0], compute_uv=False) / (0.1 * math.sqrt(4 / 3))
    assert 0.6 < s.min() and s.max() < 1.25  # the original quintic's spread around 1


def test_each_oracle_lands_on_its_unit_ball():
    rng = np.random.default_rng(3)
    d = rng.standard_normal((6, 4))
    out = np.empty_like(d)
    lmo(d, "sign", NORM_OPTIONS["sign"], out)
    np.testing.assert_array_equal(out, np.sign(d) / 4)
    lmo(d, "col", NORM_OPTIONS["col"], out)
    np.testing.assert_allclose(np.sqrt(np.mean(out**2, axis=0)), 1.0, rtol=1e-7)
    lmo(d, "col", {"normalized": True, "transpose": True}, out)
    np.testing.assert_allclose(np.sqrt(np.mean(out**2, axis=1)) * 6, 1.0, rtol=1e-7)
    lmo(d, "row", NORM_OPTIONS["row"], out)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1) * math.sqrt(4), 1.0, rtol=1e-7)
    lmo(d, "bias", NORM_OPTIONS["bias"], out)
    np.testing.assert_allclose(np.sqrt(np.mean(out**2, axis=0)), 1.0, rtol=1e-7)
    kernel = rng.standard_normal((4, 3, 2, 2))
    conv = np.empty_like(kernel)
    lmo(kernel, "spectral_conv", NORM_OPTIONS["spectral_conv"], conv)
    s = np.linalg.svd(conv.reshape(4, -1), compute_uv=False) / (math.sqrt(4 / 3) / 4)
    assert 0.6 < s.min() and s.max() < 1.25


def test_the_constraint_shrinks_the_weights_towards_the_ball():
    """With zero gradients the oracle is 0 and only theta <- (1 - lr) theta remains."""
    params = params_of((4, 3), (3,))
    start = [p.data.copy() for p in params]
    opt = optim.create("scion", params, lr=0.1, constraint=True, weight_decay=0.5)
    for _ in range(5):
        for p in params:
            p.grad = np.zeros_like(p.data)
        opt.step()
    for p, s in zip(params, start, strict=True):
        np.testing.assert_allclose(p.data, 0.9**5 * s, rtol=1e-14)


# -- NorMuon and AdaMuon ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["normuon", "adamuon"])
def test_matrices_and_kernels_are_orthogonalised_vectors_get_adamw(name):
    params = params_of((4, 3, 2, 2), (5, 4), (6,), ())
    steps = one_step(name, params, lr=0.0, adamw_lr=0.01)
    np.testing.assert_array_equal(steps[0], 0.0)  # the kernel: orthogonalised, lr = 0
    np.testing.assert_array_equal(steps[1], 0.0)
    # AdamW's first step: lr * m / (sqrt(v) + eps) = lr * sign(g) (up to eps)
    np.testing.assert_allclose(np.abs(steps[2]), 0.01, rtol=1e-6)
    np.testing.assert_allclose(np.abs(steps[3]), 0.01, rtol=1e-6)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (4, 3, 2, 2)])
def test_adamuon_steps_have_an_rms_of_a_fifth_of_the_learning_rate(shape):
    """The paper's RMS-aligned rescaling (use_adjusted_lr, the default)."""
    (step,) = one_step("adamuon", params_of(shape), lr=0.01)
    assert rms(step) == pytest.approx(0.2 * 0.01, rel=1e-8)


@pytest.mark.parametrize("shape", [(6, 4), (4, 3, 2, 2)])
def test_normuon_match_rms_steps_have_an_rms_of_a_fifth_of_the_learning_rate(shape):
    (step,) = one_step("normuon", params_of(shape), lr=0.01, update_scale="match_rms")
    assert rms(step) == pytest.approx(0.2 * 0.01, rel=1e-8)


def test_normuon_balances_the_rows():
    """After the first step, v = mean of the squared row, so every row of the
    normalised update has the same norm before the global rescaling."""
    (step,) = one_step("normuon", params_of((6, 4)), lr=0.01, momentum=0.0, beta2=0.0)
    norms = np.linalg.norm(step, axis=1)
    np.testing.assert_allclose(norms, norms[0], rtol=1e-6)


def test_sign_stabilized_orthogonalises_the_sign_of_the_momentum():
    g = np.random.default_rng(4).standard_normal((5, 3))
    plain, signed = ScaleByAdaMuon(), ScaleByAdaMuon(sign_stabilized=True)
    p = [np.zeros((5, 3))]
    a = plain.update([np.sign(g)], plain.init(p), p)[0]
    b = signed.update([g * 3.7], signed.init(p), p)[0]  # sign(m_1) = sign(g)
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("transform", [ScaleByNorMuon(), ScaleByAdaMuon()])
def test_the_orthogonalising_transforms_refuse_vectors(transform):
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(3,\); it orthogonalises"):
        transform.init([np.zeros(3)])
