"""Every layer against its PyTorch twin holding the same weights: outputs, input gradients and
parameter gradients, in float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import nn

torch = pytest.importorskip("torch")

TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
DTYPES = [np.float32, np.float64]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def t(a: np.ndarray, grad: bool = False):
    tensor = torch.from_numpy(np.ascontiguousarray(a).copy())
    return tensor.requires_grad_(grad)


def close(ours, theirs, dtype, scale: float = 1.0):
    tol = TOL[dtype]
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, theirs, rtol=tol["rtol"], atol=tol["atol"] * scale)


def run_both(layer, twin, x, dtype, *, scale: float = 1.0):
    """Forward and backward through both; compare y and dx; return the twin for parameter checks."""
    y = layer.forward(x)  # once: BatchNorm updates its running statistics on every call
    g = rng(99).normal(size=y.shape).astype(dtype)
    dx = layer.backward(g)
    tx = t(x, grad=True)
    ty = twin(tx)
    ty.backward(t(g))
    close(y, ty, dtype, scale)
    close(dx, tx.grad, dtype, scale)
    return twin


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_matches_linear(dtype):
    layer = nn.Dense(7, 5, rng=rng(0), dtype=dtype)
    twin = torch.nn.Linear(7, 5).to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        twin.weight.copy_(t(layer.weight.data.T))  # torch keeps (out, in)
        twin.bias.copy_(t(layer.bias.data))
    x = rng(1).normal(size=(6, 7)).astype(dtype)
    run_both(layer, twin, x, dtype)
    close(layer.weight.grad, twin.weight.grad.T, dtype)
    close(layer.bias.grad, twin.bias.grad, dtype)


CONV_CONFIGS = [
    dict(cin=3, cout=4, kernel=3, stride=1, padding=1, hw=(8, 8)),
    dict(cin=2, cout=3, kernel=(2, 3), stride=2, padding=1, hw=(7, 9)),
    dict(cin=2, cout=5, kernel=(3, 2), stride=(2, 1), padding=(0, 2), hw=(9, 6)),
    dict(cin=4, cout=2, kernel=1, stride=1, padding=0, hw=(5, 5)),
    dict(cin=1, cout=2, kernel=5, stride=3, padding=2, hw=(11, 10)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", CONV_CONFIGS, ids=lambda c: f"k{c['kernel']}s{c['stride']}")
def test_conv2d_matches_torch(cfg, dtype):
    layer = nn.Conv2D(
        cfg["cin"], cfg["cout"], cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"],
        rng=rng(0), dtype=dtype,
    )  # fmt: skip
    twin = torch.nn.Conv2d(
        cfg["cin"], cfg["cout"], cfg["kernel"], stride=cfg["stride"], padding=cfg["padding"]
    ).to(TORCH_DTYPE[dtype])
    with torch.no_grad():
        twin.weight.copy_(t(layer.weight.data))  # same (F, C, kh, kw) layout
        twin.bias.copy_(t(layer.bias.data))
    x = rng(1).normal(size=(3, cfg["cin"], *cfg["hw"])).astype(dtype)
    run_both(layer, twin, x, dtype, scale=10)
    close(layer.weight.grad, twin.weight.grad, dtype, scale=10)
    close(layer.bias.grad, twin.bias.grad, dtype, scale=10)


POOL_CONFIGS = [((2, 2), None, (6, 8)), (2, None, (7, 9)), (3, 2, (7, 8)), ((2, 3), (1, 2), (5, 7))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("kernel", "stride", "hw"), POOL_CONFIGS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch(kind, kernel, stride, hw, dtype):
    ours, theirs = (
        (nn.MaxPool2D, torch.nn.MaxPool2d) if kind == "max" else (nn.AvgPool2D, torch.nn.AvgPool2d)
    )
    x = rng(2).normal(size=(2, 3, *hw)).astype(dtype)
    run_both(ours(kernel, stride), theirs(kernel, stride), x, dtype)


def test_max_pool_ties_route_to_the_same_input_as_torch():
    x = rng(3).integers(0, 3, size=(2, 2, 6, 6)).astype(np.float32)  # many ties
    run_both(nn.MaxPool2D(2), torch.nn.MaxPool2d(2), x, np.float32)
    run_both(nn.MaxPool2D(3, 1), torch.nn.MaxPool2d(3, 1), x, np.float32)


def test_max_pool_propagates_nan_like_torch():
    x = rng(3).normal(size=(1, 1, 4, 4)).astype(np.float32)
    x[0, 0, 1, 2] = np.nan
    ours = nn.MaxPool2D(2).forward(x)
    theirs = torch.nn.MaxPool2d(2)(t(x)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.isnan(ours[0, 0, 0, 1])


ACTIVATION_TWINS = [
    (nn.ReLU, torch.nn.ReLU),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (nn.LeakyReLU, torch.nn.LeakyReLU),
    (nn.Tanh, torch.nn.Tanh),
    (nn.Sigmoid, torch.nn.Sigmoid),
    (nn.GELU, torch.nn.GELU),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU(approximate="tanh")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("ours", "theirs"), ACTIVATION_TWINS, ids=lambda f: repr(f()))
def test_activations_match_torch(ours, theirs, dtype):
    r = rng(4)
    x = np.concatenate([r.normal(size=(50, 4)) * 3, [[-30.0, -8.0, 8.0, 30.0], [0.0] * 4]])
    run_both(ours(), theirs(), x.astype(dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_batchnorm_matches_torch_in_train_and_eval(kind, dtype):
    shape = (8, 3) if kind == "1d" else (4, 3, 5, 6)
    ours = (nn.BatchNorm1D if kind == "1d" else nn.BatchNorm2D)(3, momentum=0.2, dtype=dtype)
    twin = (torch.nn.BatchNorm1d if kind == "1d" else torch.nn.BatchNorm2d)(3, momentum=0.2)
    twin = twin.to(TORCH_DTYPE[dtype])
    r = rng(5)
    gamma, beta = r.uniform(0.5, 2, 3).astype(dtype), r.normal(size=3).astype(dtype)
    ours.weight.data[...] = gamma
    ours.bias.data[...] = beta
    with torch.no_grad():
        twin.weight.copy_(t(gamma))
        twin.bias.copy_(t(beta))
    for step in range(4):
        x = (r.normal(size=shape) * (step + 1) + step).astype(dtype)
        ours.zero_grad()
        twin.zero_grad()
        run_both(ours, twin, x, dtype, scale=10)
        close(ours.weight.grad, twin.weight.grad, dtype, scale=10)
        close(ours.bias.grad, twin.bias.grad, dtype, scale=10)
        close(ours.running_mean, twin.running_mean, dtype)
        close(ours.running_var, twin.running_var, dtype)  # unbiased, like torch
    ours.eval()
    twin.eval()
    ours.zero_grad()
    twin.zero_grad()
    run_both(ours, twin, (r.normal(size=shape) * 2).astype(dtype), dtype, scale=10)
    close(ours.weight.grad, twin.weight.grad, dtype, scale=10)
    close(ours.bias.grad, twin.bias.grad, dtype, scale=10)


def test_flatten_matches_torch():
    x = rng(6).normal(size=(3, 2, 4, 5)).astype(np.float32)
    run_both(nn.Flatten(), torch.nn.Flatten(), x, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_torch(dtype):
    r = rng(7)
    logits = (r.normal(size=(16, 10)) * 5).astype(dtype)
    logits[0] = [1000, -1000, 0, 5, 5, 5, 5, 5, 5, 5]  # log-sum-exp must stay finite
    labels = r.integers(0, 10, size=16)
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    tl = t(logits, grad=True)
    tv = torch.nn.CrossEntropyLoss()(tl, torch.from_numpy(labels))
    tv.backward()
    assert isinstance(value, float) and np.isfinite(value)
    assert value == pytest.approx(tv.item(), rel=TOL[dtype]["rtol"])
    close(grad, tl.grad, dtype)
    np.testing.assert_allclose(loss.probs, torch.softmax(tl, 1).detach().numpy(), **TOL[dtype])
    np.testing.assert_array_equal(loss.predictions, logits.argmax(axis=1))
    close(loss.backward(scale=3.0), 3 * tl.grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_matches_torch(dtype):
    r = rng(8)
    pred, target = r.normal(size=(6, 3)).astype(dtype), r.normal(size=(6, 3)).astype(dtype)
    loss = nn.MSELoss()
    value = loss.forward(pred, target)
    tp = t(pred, grad=True)
    tv = torch.nn.MSELoss()(tp, t(target))
    tv.backward()
    assert value == pytest.approx(tv.item(), rel=TOL[dtype]["rtol"])
    close(loss.backward(), tp.grad, dtype)


def test_mlp_and_cnn_match_their_torch_twins():
    model = nn.cnn((1, 8, 8), 4, channels=(3, 5), rng=rng(9))
    conv1, conv2, dense = model[0], model[3], model[7]
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(20, 4),
    )  # fmt: skip
    with torch.no_grad():
        for ours, theirs in [(conv1, twin[0]), (conv2, twin[3])]:
            theirs.weight.copy_(t(ours.weight.data))
            theirs.bias.copy_(t(ours.bias.data))
        twin[7].weight.copy_(t(dense.weight.data.T))
        twin[7].bias.copy_(t(dense.bias.data))
    x = rng(10).normal(size=(3, 1, 8, 8)).astype(np.float32)
    run_both(model, twin, x, np.float32, scale=10)
    close(conv1.weight.grad, twin[0].weight.grad, np.float32, scale=10)
    close(dense.weight.grad, twin[7].weight.grad.T, np.float32, scale=10)


def test_torch_init_has_torch_bounds_and_statistics():
    layer = nn.Dense(400, 300, rng=rng(11))
    conv = nn.Conv2D(8, 16, 3, rng=rng(12))
    for param, fan_in in [
        (layer.weight, 400),
        (layer.bias, 400),
        (conv.weight, 72),
        (conv.bias, 72),
    ]:
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(param.data).max() <= bound
        if param.size >= 10_000:
            assert param.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.03)
    # the same distribution as torch's own default initialisation
    theirs = torch.nn.Linear(400, 300).weight.detach().numpy()
    assert layer.weight.data.std() == pytest.approx(theirs.std(), rel=0.03)
