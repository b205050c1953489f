"""SophiaH's closure: finite-difference Hessian-vector products through the model's own
backward, checked against torch's exact ones; the same function on every call
(dropout masks, BatchNorm statistics); the errors; the counts of ``fit``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optimlab import nn, optim
from optimlab.data import ArrayDataset
from optimlab.optim.closure import Evaluator
from optimlab.train import fit


def tanh_mlp(rng: np.random.Generator) -> nn.Sequential:
    f64 = np.float64
    return nn.Sequential(
        nn.Dense(6, 5, rng=rng, dtype=f64), nn.Tanh(), nn.Dense(5, 3, rng=rng, dtype=f64)
    )


def test_hvp_matches_torch_double_backward_on_a_network():
    """Hz for every parameter of a tanh MLP with softmax cross-entropy: central differences
    of optimlab's backward against torch.autograd's second backward, float64."""
    rng = np.random.default_rng(0)
    model, loss = tanh_mlp(rng), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    params = model.parameters()

    def closure() -> float:
        model.zero_grad()
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        return value

    evaluator = Evaluator(closure, params)
    evaluator.first()
    grads_before = [p.grad.copy() for p in params]
    data_before = [p.data.copy() for p in params]
    zs = [rng.standard_normal(p.shape) for p in params]
    ours = evaluator.hvp([p.data for p in params], zs)

    w1, b1, w2, b2 = (torch.tensor(p.data, requires_grad=True) for p in params)
    logits = torch.tanh(torch.tensor(x) @ w1 + b1) @ w2 + b2
    value = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    grads = torch.autograd.grad(value, [w1, b1, w2, b2], create_graph=True)
    exact = torch.autograd.grad(grads, [w1, b1, w2, b2], grad_outputs=[torch.tensor(z) for z in zs])
    for a, b in zip(ours, exact, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-6, atol=1e-8)
    # the parameters and the step's gradients are back, bit for bit
    for p, d, g in zip(params, data_before, grads_before, strict=True):
        np.testing.assert_array_equal(p.data, d)
        np.testing.assert_array_equal(p.grad, g)
    assert evaluator.evaluations == 3


def test_a_hessian_step_without_closure_is_refused_and_other_steps_are_not():
    p = nn.Parameter(np.ones(3))
    opt = optim.create("sophia", [p], update_period=2)
    assert opt.needs_closure
    p.grad = np.ones(3)
    needs = r"sophia: step 1 updates the Hessian estimate.*step\(closure\)"
    with pytest.raises(ValueError, match=needs):
        opt.step()
    np.testing.assert_array_equal(p.data, np.ones(3))  # nothing moved

    def closure() -> float:
        p.grad = 2.0 * p.data
        return float(np.sum(p.data**2))

    assert opt.step(closure) == 3.0  # the first call's loss
    p.grad = 2.0 * p.data
    opt.step()  # step 2 needs no Hessian
    with pytest.raises(ValueError, match="step 3 updates"):
        opt.step()
    with pytest.raises(TypeError, match="closure must be callable"):
        opt.step(3.0)


def test_other_optimizers_call_the_closure_once():
    p = nn.Parameter(np.ones(3))
    opt = optim.create("adam", [p], lr=0.1)
    calls = []

    def closure() -> float:
        calls.append(1)
        p.grad = 2.0 * p.data
        return 1.0

    assert not opt.needs_closure
    assert opt.step(closure) == 1.0 and len(calls) == 1
    assert opt.gradient_evaluations == 1


def test_the_closure_sees_the_same_dropout_masks_and_batchnorm_statistics():
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Dense(4, 6, rng=rng, dtype=np.float64), nn.BatchNorm1D(6, dtype=np.float64),
        nn.Dropout(0.5, rng=np.random.default_rng(1)), nn.Dense(6, 2, rng=rng, dtype=np.float64),
    )  # fmt: skip
    x = rng.standard_normal((16, 4))
    first = model.forward(x).copy()
    stats = [b.copy() for _, b in model.named_buffers()]
    with nn.same_randomness(model):
        again = model.forward(x)
    np.testing.assert_array_equal(first, again)
    for (_, b), s in zip(model.named_buffers(), stats, strict=True):
        np.testing.assert_array_equal(b, s)
    assert not model.layers[2].frozen
    assert not np.array_equal(model.forward(x), first)  # a fresh mask outside


def test_fit_passes_a_closure_and_counts_its_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((6, 3)), axis=1)  # learnable labels
    model = nn.Sequential(
        nn.Dense(6, 8, rng=rng), nn.Tanh(), nn.Dropout(0.2, rng=np.random.default_rng(2)),
        nn.Dense(8, 3, rng=rng),
    )  # fmt: skip
    opt = optim.create("sophia", model.parameters(), lr=0.05, p=1.0, update_period=3, num_samples=2)
    history = fit(
        model, nn.SoftmaxCrossEntropy(), opt, ArrayDataset(x, y), None, epochs=3, batch_size=16,
        rng=np.random.default_rng(3), progress=False,
    )  # fmt: skip
    steps = 3 * 4
    hessian_steps = len(range(0, steps, 3))  # group steps 1, 4, 7, 10
    assert history.epochs[-1].steps == steps
    assert history.epochs[-1].gradient_evaluations == steps + 2 * 2 * hessian_steps
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    assert not history.diverged
