"""Dtypes kept, modes, state dicts, dropout, initialisers, model builders and registries."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import nn


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def layer_cases(dtype):
    r = rng(0)
    return {
        "Dense": (nn.Dense(6, 4, rng=r, dtype=dtype), (5, 6)),
        "Conv2D": (nn.Conv2D(2, 3, 3, stride=2, padding=1, rng=r, dtype=dtype), (2, 2, 6, 6)),
        "MaxPool2D": (nn.MaxPool2D(2), (2, 3, 4, 4)),
        "MaxPool2D-overlap": (nn.MaxPool2D(3, 2), (2, 3, 7, 7)),
        "AvgPool2D": (nn.AvgPool2D(2), (2, 3, 4, 4)),
        "AvgPool2D-overlap": (nn.AvgPool2D(3, 1), (2, 3, 5, 5)),
        "BatchNorm1D": (nn.BatchNorm1D(4, dtype=dtype), (5, 4)),
        "BatchNorm2D": (nn.BatchNorm2D(3, dtype=dtype), (2, 3, 4, 4)),
        "ReLU": (nn.ReLU(), (3, 4)),
        "LeakyReLU": (nn.LeakyReLU(), (3, 4)),
        "Tanh": (nn.Tanh(), (3, 4)),
        "Sigmoid": (nn.Sigmoid(), (3, 4)),
        "GELU": (nn.GELU(), (3, 4)),
        "GELU-tanh": (nn.GELU("tanh"), (3, 4)),
        "Dropout": (nn.Dropout(0.5, rng=r), (3, 4)),
        "Flatten": (nn.Flatten(), (2, 3, 4)),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(layer_cases(np.float32)))
def test_dtype_is_kept_through_forward_and_backward(name, dtype):
    layer, shape = layer_cases(dtype)[name]
    x = rng(1).normal(size=shape).astype(dtype)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype
    assert dx.shape == x.shape
    for p in layer.parameters():
        assert p.data.dtype == dtype and p.grad.dtype == dtype
    for _, buffer in layer.named_buffers():
        assert buffer.dtype == dtype


def test_losses_keep_float32():
    logits = rng(0).normal(size=(4, 3)).astype(np.float32)
    ce = nn.SoftmaxCrossEntropy()
    assert isinstance(ce.forward(logits, np.array([0, 1, 2, 0])), float)
    assert ce.backward().dtype == np.float32 and ce.probs.dtype == np.float32
    mse = nn.MSELoss()
    mse.forward(logits, np.zeros((4, 3)))  # a float64 target does not upcast
    assert mse.backward().dtype == np.float32


def test_layers_with_parameters_compute_in_their_own_dtype():
    layer = nn.Dense(3, 2, rng=rng(0))
    assert layer.forward(np.ones((2, 3))).dtype == np.float32  # float64 data, float32 model
    assert layer.forward(np.ones((2, 3), dtype=np.uint8)).dtype == np.float32


def test_parameter_gradients_accumulate_until_zeroed():
    layer = nn.Dense(3, 2, rng=rng(0))
    x = rng(1).normal(size=(4, 3)).astype(np.float32)
    g = np.ones((4, 2), dtype=np.float32)
    layer.forward(x)
    layer.backward(g)
    first = layer.weight.grad.copy()
    layer.forward(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * first, rtol=1e-6)
    layer.zero_grad()
    assert layer.weight.grad is None


def bn_model(seed):
    r = rng(seed)
    return nn.Sequential(
        nn.Conv2D(1, 2, 3, padding=1, rng=r),
        nn.BatchNorm2D(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.5, rng=r),
        nn.Dense(32, 3, rng=r),
        nn.BatchNorm1D(3),
    )


def test_state_dict_round_trip_includes_batchnorm_buffers():
    model = bn_model(0)
    for seed in range(3):
        model.forward(rng(seed).normal(size=(4, 1, 4, 4)).astype(np.float32))
    state = model.state_dict()
    assert {"1.running_mean", "1.running_var", "6.running_mean", "6.running_var"} <= set(state)
    assert {"0.weight", "0.bias", "5.weight", "6.weight", "6.bias"} <= set(state)
    assert not np.allclose(state["1.running_mean"], 0)

    other = bn_model(1)
    other.load_state_dict(state)
    x = rng(9).normal(size=(2, 1, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.eval().forward(x), other.eval().forward(x))
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
        assert value.dtype == state[key].dtype

    # the saved state is a copy: training on does not rewrite it
    saved = state["1.running_mean"].copy()
    model.train().forward(rng(3).normal(size=(4, 1, 4, 4)).astype(np.float32))
    np.testing.assert_array_equal(state["1.running_mean"], saved)


def test_train_and_eval_propagate_to_every_layer():
    model = bn_model(0)
    layers = list(model.layers)
    assert all(layer.training for layer in layers)
    model.eval()
    assert not any(layer.training for layer in layers)
    x = rng(1).normal(size=(4, 1, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.forward(x), model.forward(x))  # deterministic in eval
    model.train()
    assert all(layer.training for layer in layers)


def test_dropout_is_inverted_and_identity_in_eval():
    drop = nn.Dropout(0.25, rng=rng(0))
    x = np.ones((200, 500), dtype=np.float32)
    y = drop.forward(x)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert drop.mask.mean() == pytest.approx(0.75, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)
    g = rng(1).normal(size=x.shape).astype(np.float32)
    np.testing.assert_allclose(drop.backward(g), g * drop.mask / 0.75, rtol=1e-6)
    drop.eval()
    assert drop.forward(x) is x and drop.backward(g) is g
    # reproducible with a seeded generator; fresh masks otherwise
    a = nn.Dropout(0.5, rng=rng(7)).forward(x)
    b = nn.Dropout(0.5, rng=rng(7)).forward(x)
    np.testing.assert_array_equal(a, b)
    drop.train()
    assert not np.array_equal(drop.forward(x), drop.forward(x))
    drop.freeze_mask()
    np.testing.assert_array_equal(drop.forward(x), drop.forward(x))
    drop.unfreeze_mask()
    assert not drop.frozen


def test_explicit_generators_make_weights_reproducible():
    a, b = nn.mlp((4,), 3, rng=rng(5)), nn.mlp((4,), 3, rng=rng(5))
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    c = nn.mlp((4,), 3, rng=rng(6))
    assert not np.array_equal(a[1].weight.data, c[1].weight.data)


@pytest.mark.parametrize(
    ("fn", "args", "std"),
    [
        (nn.init.he_normal, (500,), np.sqrt(2 / 500)),
        (nn.init.he_uniform, (500,), np.sqrt(2 / 500)),
        (nn.init.glorot_uniform, (500, 300), np.sqrt(2 / 800)),
        (nn.init.glorot_normal, (500, 300), np.sqrt(2 / 800)),
        (nn.init.torch_default, (500,), 1 / np.sqrt(500) / np.sqrt(3)),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_initialisers_have_the_documented_spread(fn, args, std):
    w = fn((500, 300), *args, rng(0), np.float64)
    assert w.shape == (500, 300) and w.dtype == np.float64
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.05 * std
    assert fn((3, 4), *args, rng(0)).dtype == np.float32


def test_init_names_choose_the_bias_too():
    names = {"he", "he_uniform", "glorot", "glorot_normal", "torch", "deepobs_conv",
             "deepobs_mlp", "zeros", "sparse"}  # fmt: skip
    assert set(nn.INITIALIZERS.names()) == names
    he = nn.Dense(50, 20, rng=rng(0), init="he")
    np.testing.assert_array_equal(he.bias.data, 0)
    np.testing.assert_array_equal(nn.Dense(50, 20, rng=rng(0), init="sparse").bias.data, 0)
    assert he.weight.data.std() == pytest.approx(np.sqrt(2 / 50), rel=0.1)
    torch_like = nn.Dense(50, 20, rng=rng(0))
    assert np.abs(torch_like.bias.data).max() > 0


def test_activation_registry():
    assert set(nn.ACTIVATIONS.names()) == {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"}
    kinds = {name: type(nn.activation(name)) for name in nn.ACTIVATIONS.names()}
    assert kinds == {
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "gelu": nn.GELU,
    }
    assert nn.activation("relu") is not nn.activation("relu")  # a new layer each time


def test_mlp_structure_and_shapes():
    model = nn.build_model("mlp", (1, 28, 28), 10, rng=rng(0), hidden=[32, 16], activation="gelu")
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [nn.Flatten, nn.Dense, nn.GELU, nn.Dense, nn.GELU, nn.Dense]
    assert [model[i].weight.shape for i in (1, 3, 5)] == [(784, 32), (32, 16), (16, 10)]
    y = model.forward(np.zeros((3, 1, 28, 28), dtype=np.float32))
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert model.num_parameters() == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10


def test_cnn_structure_and_shapes():
    model = nn.build_model("cnn", (3, 32, 32), 10, rng=rng(0))
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [nn.Conv2D, nn.ReLU, nn.MaxPool2D] * 2 + [nn.Flatten, nn.Dense]
    assert model[0].weight.shape == (16, 3, 3, 3) and model[0].padding == (1, 1)
    assert model[7].weight.shape == (32 * 8 * 8, 10)
    assert model.forward(np.zeros((2, 3, 32, 32), dtype=np.float32)).shape == (2, 10)
    odd = nn.cnn((1, 7, 9), 4, channels=(2, 3), rng=rng(0), dtype=np.float64)
    assert odd.forward(np.zeros((2, 1, 7, 9))).dtype == np.float64  # 7x9 -> 3x4 -> 1x2


def test_logreg_and_registry():
    model = nn.build_model("logreg", (4, 5), 3, rng=rng(0))
    assert [type(layer) for layer in model.layers] == [nn.Flatten, nn.Dense]
    assert set(nn.MODELS.names()) == {"mlp", "cnn", "logreg", "deepobs_2c2d", "autoencoder",
                                      "noisy_quadratic"}  # fmt: skip
    assert nn.mlp((4,), 2, hidden=(), rng=rng(0)).num_parameters() == 10


def test_a_small_mlp_learns():
    """Plain gradient descent on two Gaussian blobs: the loss must fall well below log(2)."""
    r = rng(0)
    x = np.concatenate([r.normal(-1, 1, (100, 2)), r.normal(1, 1, (100, 2))]).astype(np.float32)
    y = np.repeat([0, 1], 100)
    model, loss = nn.mlp((2,), 2, hidden=(16,), rng=r), nn.SoftmaxCrossEntropy()
    first = loss.forward(model.forward(x), y)
    for _ in range(200):
        loss.forward(model.forward(x), y)
        model.zero_grad()
        model.backward(loss.backward())
        for p in model.parameters():
            p.data -= 0.5 * p.grad
    last = loss.forward(model.forward(x), y)
    assert first > 0.5 and last < 0.3
    assert (loss.predictions == y).mean() > 0.85


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-2)])
@pytest.mark.parametrize(
    "layer, shape", [(nn.BatchNorm2D, (64, 8, 14, 14)), (nn.BatchNorm1D, (512, 8))]
)
def test_batchnorm_keeps_its_precision_when_the_mean_is_far_above_the_spread(
    layer, shape, dtype, tolerance
):
    """Inputs with mean 1e4 and spread 1: the two-pass variance normalises them to
    float64's answer (1e-12) or within 1e-2 of the spread in float32 (the inputs are
    quantised at ~1e-3 there); E[x^2] - E[x]^2 would lose every digit (10^8 - 10^8)."""
    rng = np.random.default_rng(0)
    x = (1e4 + rng.standard_normal(shape)).astype(dtype)
    y = layer(shape[1], dtype=dtype).forward(x)
    x64 = x.astype(np.float64)
    axes = (0, *range(2, x.ndim))
    centred = x64 - x64.mean(axis=axes, keepdims=True)
    expected = centred / np.sqrt((centred**2).mean(axis=axes, keepdims=True) + 1e-5)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=0, atol=tolerance)
