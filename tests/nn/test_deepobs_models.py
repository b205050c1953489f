"""DeepOBS's networks and initialisers: the specification, and a PyTorch build of it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from optimlab import nn
from optimlab.experiments.problems import PROBLEMS
from optimlab.experiments.run import RunConfig, build
from optimlab.nn.init import bias_for, initialize, truncated_normal


def torch_2c2d(classes: int = 10) -> torch.nn.Sequential:
    """DeepOBS's 2c2d written in PyTorch, as its pytorch/testproblems net_mnist_2c2d is."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2),
        torch.nn.Conv2d(32, 64, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2),
        torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 64, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, classes),
    ).double()  # fmt: skip


def copy_weights(model: nn.Sequential, twin: torch.nn.Sequential) -> None:
    ours = [m for m in model if hasattr(m, "weight")]
    theirs = [m for m in twin if hasattr(m, "weight")]
    assert len(ours) == len(theirs)
    with torch.no_grad():
        for a, b in zip(ours, theirs, strict=True):
            w = a.weight.data if a.weight.data.ndim == 4 else a.weight.data.T
            b.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            b.bias.copy_(torch.from_numpy(a.bias.data))


def test_2c2d_matches_its_torch_build_forward_and_gradients_in_float64():
    model = nn.deepobs_2c2d((1, 28, 28), 10, rng=np.random.default_rng(0), dtype=np.float64)
    assert model.num_parameters() == 3_274_634  # DeepOBS's count
    twin = torch_2c2d()
    copy_weights(model, twin)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (4, 1, 28, 28))
    y = rng.integers(0, 10, 4)
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    out = twin(torch.from_numpy(x))
    tv = torch.nn.functional.cross_entropy(out, torch.from_numpy(y))
    tv.backward()
    assert value == pytest.approx(tv.item(), rel=1e-12)
    np.testing.assert_allclose(model.forward(x), out.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours = [m for m in model if hasattr(m, "weight")]
    theirs = [m for m in twin if hasattr(m, "weight")]
    for a, b in zip(ours, theirs, strict=True):
        grad = b.weight.grad.numpy()
        np.testing.assert_allclose(a.weight.grad, grad if grad.ndim == 4 else grad.T,
                                   rtol=1e-9, atol=1e-13)  # fmt: skip
        np.testing.assert_allclose(a.bias.grad, b.bias.grad.numpy(), rtol=1e-9, atol=1e-13)


def test_deep_mlp_matches_its_torch_build():
    run = build(RunConfig(problem="fmnist-deepmlp", optimizer="sgd", lr=0.1, seed=0, epochs=1,
                          batch_size=128, train_subset=256))  # fmt: skip
    model = run.model
    assert model.num_parameters() == 1_336_610
    sizes = [784, 1000, 500, 100, 10]
    layers: list[torch.nn.Module] = [torch.nn.Flatten()]
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(a, b))
        if i < 3:
            layers.append(torch.nn.ReLU())
    twin = torch.nn.Sequential(*layers)
    copy_weights(model, twin)
    x = run.splits.train.x[:16]
    np.testing.assert_allclose(model.forward(x), twin(torch.from_numpy(x)).detach().numpy(),
                               rtol=2e-5, atol=2e-5)  # fmt: skip


def test_deepobs_initialisers_follow_tensorflows():
    rng = np.random.default_rng(2)
    w = truncated_normal((400, 500), 0.05, rng)
    assert np.abs(w).max() <= 0.1 and w.std() == pytest.approx(0.05 * 0.8796, rel=0.01)
    assert abs(w.mean()) < 1e-3
    conv = initialize("deepobs_conv", (64, 32, 5, 5), fan_in=800, fan_out=1600, rng=rng)
    assert conv.dtype == np.float32 and np.abs(conv).max() <= 0.1
    assert (bias_for("deepobs_conv", 7, fan_in=3, rng=rng) == np.float32(0.05)).all()
    mlp = initialize("deepobs_mlp", (1000, 500), fan_in=1000, fan_out=500, rng=rng)
    assert np.abs(mlp).max() <= 0.06 and mlp.std() == pytest.approx(0.03 * 0.8796, rel=0.01)
    assert not bias_for("deepobs_mlp", 7, fan_in=3, rng=rng).any()
    zeros = initialize("zeros", (3, 4), fan_in=3, fan_out=4, rng=rng)
    assert not zeros.any() and not bias_for("zeros", 4, fan_in=3, rng=rng).any()


@pytest.mark.parametrize(
    ("name", "init", "parameters"),
    [("fmnist-2c2d", "deepobs_conv", 3_274_634), ("fmnist-deepmlp", "deepobs_mlp", 1_336_610),
     ("fmnist-logreg-deepobs", "zeros", 7_850)],
)  # fmt: skip
def test_the_deepobs_problems_scale_inputs_to_0_1_and_start_as_specified(name, init, parameters):
    problem = PROBLEMS.get(name)
    assert problem.normalize == "scale" and "DeepOBS" in problem.description
    run = build(RunConfig(problem=name, optimizer="sgd", lr=0.1, seed=0, epochs=1,
                          batch_size=128, train_subset=128))  # fmt: skip
    x = run.splits.train.x
    assert x.min() == 0.0 and x.max() == 1.0 and x.dtype == np.float32
    assert run.model.num_parameters() == parameters
    first = next(m for m in run.model if hasattr(m, "weight"))
    assert first.init == init
    if init == "zeros":
        assert not first.weight.data.any() and not first.bias.data.any()
