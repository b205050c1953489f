"""The losses and layers of the loss problems (autoencoder, noisy quadratic): gradient checks in
float64, PyTorch twins, and the models built as their sources specify."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optimlab import nn
from optimlab.data.synthetic import (
    deepobs_quadratic_hessian,
    expected_quadratic_loss,
    haar_rotation,
    quadratic_noise,
)
from optimlab.experiments.problems import PROBLEMS
from optimlab.nn.init import SPARSE_CONNECTIONS, sparse


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def unit(shape, seed=0):
    return rng(seed).uniform(0.05, 0.95, shape)


# -- gradient checks ----------------------------------------------------------------------
def test_sigmoid_cross_entropy_gradients():
    logits = rng(1).normal(0, 2, (5, 7))
    assert nn.gradcheck(nn.SigmoidCrossEntropy(), logits, target=unit((5, 7))).passed


def test_sigmoid_cross_entropy_gradients_with_an_image_shaped_target():
    logits = rng(2).normal(size=(3, 12))
    assert nn.gradcheck(nn.SigmoidCrossEntropy(), logits, target=unit((3, 1, 3, 4))).passed


def test_squared_error_gradients():
    pred = rng(3).normal(size=(4, 6))
    assert nn.gradcheck(nn.SquaredError(), pred, target=rng(4).normal(size=(4, 6))).passed


def test_quadratic_form_gradients():
    a = rng(5).normal(size=(6, 6))
    loss = nn.QuadraticForm(a @ a.T + np.eye(6))
    assert nn.gradcheck(loss, rng(6).normal(size=(4, 6)), target=np.zeros(4, np.int64)).passed


def test_shift_gradients():
    layer = nn.Shift(5, start=0.3, dtype=np.float64)
    assert nn.gradcheck(layer, rng(7).normal(size=(3, 5))).passed


def test_whole_autoencoder_in_float64():
    model = nn.autoencoder((12,), encoder=(6, 4, 2), rng=rng(8), dtype=np.float64, init="glorot")
    result = nn.gradcheck(model, unit((3, 12), 9))
    assert result.passed
    assert {"1.weight", "5.bias", "10.weight"} <= set(result.numeric)


def test_gradcheck_catches_a_wrong_sigmoid_cross_entropy_gradient():
    class Halved(nn.SigmoidCrossEntropy):
        def backward(self, scale=1.0):
            return super().backward(scale) / 2

    result = nn.gradcheck(
        Halved(), rng(10).normal(size=(2, 3)), target=unit((2, 3)), raise_on_failure=False
    )
    assert not result.passed


# -- the PyTorch twins -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_cross_entropy_matches_bce_with_logits(dtype):
    logits = rng(11).normal(0, 3, (6, 9)).astype(dtype)
    logits[0, 0], logits[1, 1] = 40.0, -40.0  # saturated: still finite and exact
    target = unit((6, 9), 12).astype(dtype)
    loss = nn.SigmoidCrossEntropy()
    value = loss.forward(logits, target)
    tl = torch.from_numpy(logits.copy()).requires_grad_(True)
    tv = (
        torch.nn.functional.binary_cross_entropy_with_logits(
            tl, torch.from_numpy(target), reduction="sum"
        )
        / logits.shape[0]
    )
    tv.backward()
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert value == pytest.approx(tv.item(), rel=tol)
    grad = loss.backward()
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, tl.grad.numpy(), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_error_matches_summed_mse(dtype):
    pred, target = (
        rng(13).normal(size=(5, 4)).astype(dtype),
        rng(14).normal(size=(5, 4)).astype(dtype),
    )
    loss = nn.SquaredError()
    value = loss.forward(pred, target)
    tp = torch.from_numpy(pred.copy()).requires_grad_(True)
    tv = torch.nn.functional.mse_loss(tp, torch.from_numpy(target), reduction="sum") / 5
    tv.backward()
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert value == pytest.approx(tv.item(), rel=tol)
    np.testing.assert_allclose(loss.backward(), tp.grad.numpy(), rtol=tol * 10, atol=tol)


def test_shift_and_quadratic_form_match_torch():
    q = deepobs_quadratic_hessian()
    x = quadratic_noise("train", np.float64)[:128]
    model = nn.noisy_quadratic((100,), dtype=np.float64)
    loss = nn.QuadraticForm(q)
    value = loss.forward(model.forward(x), np.zeros(128, np.int64))
    model.backward(loss.backward())
    theta = torch.ones(100, dtype=torch.float64, requires_grad=True)
    r = theta - torch.from_numpy(x)
    tv = 0.5 * torch.einsum("ni,ij,nj->n", r, torch.from_numpy(q.copy()), r).mean()
    tv.backward()
    assert value == pytest.approx(tv.item(), rel=1e-12)
    np.testing.assert_allclose(model[1].theta.grad, theta.grad.numpy(), rtol=1e-10)


def torch_autoencoder() -> torch.nn.Sequential:
    """Hinton & Salakhutdinov's autoencoder as written in PyTorch (linear code, logits out)."""
    sizes = [784, 1000, 500, 250, 30, 250, 500, 1000, 784]
    layers: list[torch.nn.Module] = [torch.nn.Flatten()]
    for i, (a, b) in enumerate(itertools.pairwise(sizes), start=1):
        layers.append(torch.nn.Linear(a, b))
        if i not in (4, 8):
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers).double()


def test_autoencoder_matches_its_torch_build_forward_and_gradients_in_float64():
    model = nn.autoencoder((1, 28, 28), rng=rng(15), dtype=np.float64)
    assert model.num_parameters() == 2_837_314
    twin = torch_autoencoder()
    ours = [m for m in model if isinstance(m, nn.Dense)]
    theirs = [m for m in twin if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in ours] == [
        (m.in_features, m.out_features) for m in theirs
    ]
    with torch.no_grad():
        for a, b in zip(ours, theirs, strict=True):
            b.weight.copy_(torch.from_numpy(np.ascontiguousarray(a.weight.data.T)))
            b.bias.copy_(torch.from_numpy(a.bias.data))
    x = unit((4, 1, 28, 28), 16)
    loss = nn.SigmoidCrossEntropy()
    value = loss.forward(model.forward(x), x)
    model.backward(loss.backward())
    tx = torch.from_numpy(x)
    tv = (
        torch.nn.functional.binary_cross_entropy_with_logits(
            twin(tx), tx.flatten(1), reduction="sum"
        )
        / 4
    )
    tv.backward()
    assert value == pytest.approx(tv.item(), rel=1e-12)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.weight.grad, b.weight.grad.numpy().T, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(a.bias.grad, b.bias.grad.numpy(), rtol=1e-8, atol=1e-12)


# -- the specifications ----------------------------------------------------------------------
def test_the_autoencoder_layers_are_as_hinton_and_salakhutdinov_built_them():
    model = nn.autoencoder((1, 28, 28), rng=rng(17))
    kinds = [type(m).__name__ for m in model]
    dense = [i for i, k in enumerate(kinds) if k == "Dense"]
    assert [model[i].out_features for i in dense] == [1000, 500, 250, 30, 250, 500, 1000, 784]
    after = [kinds[i + 1] if i + 1 < len(kinds) else None for i in dense]
    # logistic hidden units; the code layer (30) and the output (logits) are linear
    assert after == ["Sigmoid", "Sigmoid", "Sigmoid", "Dense", "Sigmoid", "Sigmoid", "Sigmoid",
                     None]  # fmt: skip


def test_sparse_init_gives_each_unit_fifteen_gaussian_inputs_and_zero_biases():
    w = sparse((784, 1000), 784, rng(18), np.float64)
    assert (np.count_nonzero(w, axis=0) == SPARSE_CONNECTIONS).all()
    nonzero = w[w != 0]
    assert abs(nonzero.mean()) < 0.03 and abs(nonzero.std() - 1) < 0.03  # N(0, 1)
    small = sparse((4, 3), 4, rng(19))
    assert (np.count_nonzero(small, axis=0) == 4).all()  # fewer inputs than 15: all of them
    layer = nn.Dense(784, 10, rng=rng(20), init="sparse")
    assert not layer.bias.data.any()
    with pytest.raises(ValueError, match="sparse initialisation is for Dense weights"):
        nn.Conv2D(1, 4, 3, rng=rng(21), init="sparse")


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 12), st.integers(0, 2**32 - 1))
def test_haar_rotations_are_rotations(dim, seed):
    r = haar_rotation(dim, np.random.RandomState(seed))
    np.testing.assert_allclose(r @ r.T, np.eye(dim), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-9)


def test_the_quadratic_reproduces_deepobs_initial_test_loss():
    """DeepOBS's published epoch-0 test loss of quadratic_deep (every baseline file:
    353.44676426478793) is the loss at theta = 1 on its first 896 test points: the same
    Hessian, drawn in DeepOBS's order, and the same test noise."""
    q = deepobs_quadratic_hessian()
    x = quadratic_noise("test")[:896].astype(np.float64)  # DeepOBS casts the noise to float32
    r = 1.0 - x
    assert 0.5 * np.mean(np.einsum("ni,ij,nj->n", r, q, r)) == pytest.approx(353.44676426478793,
                                                                             rel=1e-7)  # fmt: skip
    eigenvalues = np.linalg.eigvalsh(q)
    assert (eigenvalues[:90] < 1).all() and (eigenvalues[90:] > 30).all()
    assert eigenvalues[-1] < 60


def test_the_loss_problems_declare_their_worst_scores():
    quadratic, autoencoder = PROBLEMS.get("quadratic-deep"), PROBLEMS.get("fmnist-autoencoder")
    assert quadratic.worst == pytest.approx(expected_quadratic_loss(np.ones(100)), abs=0.05)
    zero_logits = nn.SigmoidCrossEntropy().forward(np.zeros((2, 784)), unit((2, 784), 22))
    assert autoencoder.worst == pytest.approx(zero_logits, rel=1e-12)
    assert autoencoder.worst == pytest.approx(784 * math.log(2))
    for p in (quadratic, autoencoder):
        assert (p.metric, p.direction) == ("loss", "min")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"target must hold 4 values for each of the 2"):
        nn.SigmoidCrossEntropy().forward(np.zeros((2, 4)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="must be symmetric"):
        nn.QuadraticForm(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"residuals must have shape \(N, 2\)"):
        nn.QuadraticForm(np.eye(2)).forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"Shift: input must have shape \(N, 3\)"):
        nn.Shift(3).forward(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.SigmoidCrossEntropy().backward()
