"""Float64 gradient checks of every layer, loss and model through the public ``nn.gradcheck``,
and checks that ``gradcheck`` itself catches broken layers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optimlab import nn

F64 = np.float64


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def away_from_zero(shape, seed=0, low=0.1):
    """Random values with |x| >= low, so kinks at 0 are farther than eps."""
    r = rng(seed)
    return r.uniform(low, 2.0, size=shape) * r.choice([-1.0, 1.0], size=shape)


def distinct(shape, seed=0):
    """A permutation of well-separated values: no ties in max pooling."""
    return rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


LAYER_CASES = {
    "dense": (lambda: nn.Dense(5, 3, rng=rng(1), dtype=F64), lambda: rng(2).normal(size=(4, 5))),
    "dense_he": (
        lambda: nn.Dense(3, 4, rng=rng(1), dtype=F64, init="he"),
        lambda: rng(2).normal(size=(2, 3)),
    ),
    "relu": (nn.ReLU, lambda: away_from_zero((3, 4))),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda: away_from_zero((3, 4))),
    "tanh": (nn.Tanh, lambda: rng(3).normal(size=(3, 4)) * 2),
    "sigmoid": (nn.Sigmoid, lambda: rng(3).normal(size=(3, 4)) * 4),
    "gelu": (nn.GELU, lambda: rng(4).normal(size=(3, 5)) * 3),
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda: rng(4).normal(size=(3, 5)) * 3),
    "flatten": (nn.Flatten, lambda: rng(5).normal(size=(2, 3, 2, 2))),
    "conv_3x3_pad1": (
        lambda: nn.Conv2D(2, 3, 3, padding=1, rng=rng(6), dtype=F64),
        lambda: rng(7).normal(size=(2, 2, 5, 5)),
    ),
    "conv_stride2_pad1_nonsquare": (
        lambda: nn.Conv2D(3, 4, (2, 3), stride=2, padding=1, rng=rng(6), dtype=F64),
        lambda: rng(7).normal(size=(2, 3, 6, 7)),
    ),
    "conv_mixed_stride_padding": (
        lambda: nn.Conv2D(2, 2, (3, 2), stride=(2, 1), padding=(0, 1), rng=rng(8), dtype=F64),
        lambda: rng(9).normal(size=(1, 2, 7, 5)),
    ),
    "maxpool_tiles": (lambda: nn.MaxPool2D(2), lambda: distinct((2, 2, 4, 6))),
    "maxpool_floor_mode": (lambda: nn.MaxPool2D(2), lambda: distinct((1, 2, 5, 7), seed=1)),
    "maxpool_overlapping": (lambda: nn.MaxPool2D(3, stride=2), lambda: distinct((2, 1, 7, 6))),
    "avgpool_tiles": (lambda: nn.AvgPool2D(2), lambda: rng(10).normal(size=(2, 2, 4, 4))),
    "avgpool_overlapping": (
        lambda: nn.AvgPool2D((3, 2), stride=(1, 2)),
        lambda: rng(11).normal(size=(2, 2, 5, 5)),
    ),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_gradients_match_central_differences(case):
    make_layer, make_x = LAYER_CASES[case]
    result = nn.gradcheck(make_layer(), make_x())
    assert result.passed
    # every argument was checked, and the check is not vacuous
    layer = make_layer()
    assert set(result.numeric) == {"input"} | {n for n, _ in layer.named_parameters()}
    assert np.abs(result.numeric["input"]).max() > 1e-3


def with_random_affine(bn, seed):
    r = rng(seed)
    bn.weight.data[...] = r.uniform(0.5, 2.0, size=bn.weight.shape)
    bn.bias.data[...] = r.normal(size=bn.bias.shape)
    return bn


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: nn.BatchNorm1D(4, dtype=F64), (6, 4)),
        (lambda: nn.BatchNorm2D(3, dtype=F64), (2, 3, 3, 4)),
    ],
    ids=["1d", "2d"],
)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_gradients(make, shape, mode):
    bn = with_random_affine(make(), 12)
    x = rng(13).normal(loc=1.5, scale=2.0, size=shape)
    for seed in range(3):  # move the running statistics away from (0, 1)
        bn.forward(rng(seed).normal(loc=1.0, scale=3.0, size=shape))
    bn.train(mode == "train")
    result = nn.gradcheck(bn, x)
    assert result.passed
    assert set(result.numeric) == {"input", "weight", "bias"}


def test_dropout_gradients_with_a_frozen_mask():
    drop = nn.Dropout(0.4, rng=rng(0))
    x = rng(1).normal(size=(5, 6))
    drop.forward(x)
    drop.freeze_mask()
    result = nn.gradcheck(drop, x)
    assert result.passed
    kept = drop.mask
    assert 0 < kept.sum() < kept.size
    # the input gradient is exactly the mask scaled by 1 / (1 - p), times the projection
    assert np.all((result.numeric["input"] == 0) | kept)


def test_dropout_with_an_explicit_mask_in_gradcheck():
    drop = nn.Dropout(0.5, rng=rng(0))
    mask = rng(2).random((3, 4)) > 0.5
    drop.freeze_mask(mask)
    assert nn.gradcheck(drop, rng(3).normal(size=(3, 4))).passed


def test_softmax_cross_entropy_gradients():
    logits = rng(0).normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    assert nn.gradcheck(nn.SoftmaxCrossEntropy(), logits, target=labels).passed


def test_mse_gradients():
    pred = rng(0).normal(size=(4, 3))
    target = rng(1).normal(size=(4, 3))
    assert nn.gradcheck(nn.MSELoss(), pred, target=target).passed


def test_whole_mlp_in_float64():
    model = nn.mlp((2, 3), 3, hidden=(5, 4), activation="tanh", rng=rng(0), dtype=F64)
    result = nn.gradcheck(model, rng(1).normal(size=(4, 2, 3)))
    assert result.passed
    assert len(result.numeric) == 1 + 6  # input and three (weight, bias) pairs


def test_whole_relu_mlp_with_dropout_and_batchnorm():
    r = rng(0)
    model = nn.Sequential(
        nn.Dense(4, 6, rng=r, dtype=F64),
        nn.BatchNorm1D(6, dtype=F64),
        nn.GELU(),
        nn.Dropout(0.3, rng=r),
        nn.Dense(6, 2, rng=r, dtype=F64),
    )
    x = rng(1).normal(size=(5, 4))
    model.forward(x)
    model[3].freeze_mask()
    assert nn.gradcheck(model, x).passed


def test_whole_cnn_in_float64():
    model = nn.cnn((1, 6, 6), 3, channels=(2, 3), rng=rng(0), dtype=F64)
    result = nn.gradcheck(model, rng(1).normal(size=(2, 1, 6, 6)))
    assert result.passed
    assert {"0.weight", "3.bias", "7.weight"} <= set(result.numeric)


def test_cnn_with_loss_end_to_end():
    """The model's input gradient through the loss, checked against the loss itself."""
    model = nn.cnn((1, 4, 4), 3, channels=(2,), rng=rng(0), dtype=F64)
    loss = nn.SoftmaxCrossEntropy()
    x, y = rng(1).normal(size=(3, 1, 4, 4)), np.array([0, 2, 1])
    loss.forward(model.forward(x), y)
    dx = model.backward(loss.backward())
    eps, numeric = 1e-6, np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        numeric[i] = (loss.forward(model.forward(xp), y) - loss.forward(model.forward(xm), y)) / (
            2 * eps
        )
    np.testing.assert_allclose(dx, numeric, rtol=1e-5, atol=1e-8)


# -- gradcheck catches mistakes ------------------------------------------------------------------


class WrongInputGrad(nn.ReLU):
    """A ReLU whose backward is wrong at exactly one entry."""

    def backward(self, grad_out):
        dx = super().backward(grad_out).copy()
        dx[1, 2] += 0.5
        return dx


class WrongWeightGrad(nn.Dense):
    """A Dense layer that forgets the transpose-free scaling: dW doubled."""

    def backward(self, grad_out):
        self.weight.accumulate(self._x.T @ grad_out)  # counted twice
        return super().backward(grad_out)


class ForgetsBias(nn.Dense):
    def backward(self, grad_out):
        self.weight.accumulate(self._x.T @ grad_out)
        return grad_out @ self.weight.data.T


def test_gradcheck_names_the_input_index_got_and_expected():
    x = away_from_zero((3, 4))
    with pytest.raises(AssertionError) as info:
        nn.gradcheck(WrongInputGrad(), x)
    message = str(info.value)
    assert "gradient w.r.t. input wrong at index (1, 2)" in message
    assert "1 of 12 entries wrong" in message
    got = float(re.search(r"got (\S+) \(analytic", message).group(1))
    expected = float(re.search(r"expected (\S+) \(central", message).group(1))
    assert got == pytest.approx(expected + 0.5, abs=1e-6)


def test_gradcheck_names_the_parameter():
    layer = WrongWeightGrad(3, 2, rng=rng(0), dtype=F64)
    with pytest.raises(AssertionError, match=r"parameter 'weight' wrong at index \(\d, \d\)"):
        nn.gradcheck(layer, rng(1).normal(size=(4, 3)))
    result = nn.gradcheck(layer, rng(1).normal(size=(4, 3)), raise_on_failure=False)
    assert not result.passed and not result
    np.testing.assert_allclose(result.analytic["weight"], 2 * result.numeric["weight"], rtol=1e-6)
    assert result.max_abs_error["bias"] < 1e-8


def test_gradcheck_reports_a_missing_parameter_gradient():
    with pytest.raises(AssertionError, match=r"parameter 'bias' received no gradient"):
        nn.gradcheck(ForgetsBias(3, 2, rng=rng(0), dtype=F64), rng(1).normal(size=(2, 3)))


def test_gradcheck_finds_the_wrong_entry_inside_a_model():
    model = nn.Sequential(nn.Dense(3, 4, rng=rng(0), dtype=F64), WrongInputGrad())
    with pytest.raises(AssertionError, match=r"parameter '0\.weight' wrong at index"):
        nn.gradcheck(model, away_from_zero((2, 3)))


def test_gradcheck_rejects_an_undrozen_dropout():
    with pytest.raises(ValueError, match="freeze_mask"):
        nn.gradcheck(nn.Dropout(0.5, rng=rng(0)), rng(1).normal(size=(4, 4)))


class Float32Only(nn.ReLU):
    def forward(self, x):
        return super().forward(np.asarray(x, dtype=np.float32))


def test_gradcheck_rejects_a_layer_that_does_not_compute_in_float64():
    with pytest.raises(TypeError, match="float32 output from float64"):
        nn.gradcheck(Float32Only(), np.ones((2, 2)))


def test_gradcheck_uses_a_float64_copy_and_leaves_the_module_alone():
    layer = nn.Dense(3, 2, rng=rng(0))  # float32
    before = layer.state_dict()
    result = nn.gradcheck(layer, rng(1).normal(size=(4, 3)))
    assert result.passed
    assert layer.weight.dtype == np.float32 and layer.weight.grad is None
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
