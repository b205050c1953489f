"""Error wording: each bad call raises a clear error naming the owner, what was expected and
what was received (a table of ``call, exception, regex`` rows)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optimlab import nn

RNG = np.random.default_rng(0)


def z(*shape):
    return np.zeros(shape, dtype=np.float32)


ERROR_CASES = [
    # wrong input shapes, per layer
    (lambda: nn.Dense(784, 10).forward(z(32, 100)), ValueError,
     r"Dense: input must have shape \(N, 784\); received \(32, 100\)"),
    (lambda: nn.Dense(4, 2).forward(z(4)), ValueError,
     r"Dense: input must have shape \(N, 4\); received \(4,\)"),
    (lambda: nn.Conv2D(3, 8, 3).forward(z(2, 3, 8)), ValueError,
     r"Conv2D: input must have shape \(N, 3, H, W\); received \(2, 3, 8\)"),
    (lambda: nn.Conv2D(3, 8, 3).forward(z(2, 1, 8, 8)), ValueError,
     r"Conv2D: input must have shape \(N, 3, H, W\); received \(2, 1, 8, 8\)"),
    (lambda: nn.Conv2D(1, 2, 5, padding=1).forward(z(1, 1, 2, 9)), ValueError,
     r"Conv2D: padded input height and width must be >= kernel_size \(5, 5\)"),
    (lambda: nn.MaxPool2D(2).forward(z(2, 8, 8)), ValueError,
     r"MaxPool2D: input must have shape \(N, C, H, W\); received \(2, 8, 8\)"),
    (lambda: nn.AvgPool2D(3).forward(z(1, 1, 2, 5)), ValueError,
     r"AvgPool2D: input height and width must be >= kernel_size \(3, 3\); received \(1, 1, 2, 5\)"),
    (lambda: nn.BatchNorm1D(10).forward(z(4, 12)), ValueError,
     r"BatchNorm1D: input must have shape \(N, 10\); received \(4, 12\)"),
    (lambda: nn.BatchNorm2D(3).forward(z(4, 3, 5)), ValueError,
     r"BatchNorm2D: input must have shape \(N, 3, H, W\); received \(4, 3, 5\)"),
    (lambda: nn.BatchNorm1D(3).forward(z(1, 3)), ValueError,
     r"BatchNorm1D: training needs more than 1 value per feature"),
    (lambda: nn.Flatten().forward(z(5)), ValueError,
     r"Flatten: input must have shape \(N, \.\.\.\) with at least 2 axes; received \(5,\)"),
    # losses
    (lambda: nn.SoftmaxCrossEntropy().forward(z(3, 10), np.array([1, 12, 0])), ValueError,
     r"labels must be in \[0, 10\) for 10 classes; received label 12 at index 1"),
    (lambda: nn.SoftmaxCrossEntropy().forward(z(3, 4), np.array([1, -1, 0])), ValueError,
     r"received label -1 at index 1"),
    (lambda: nn.SoftmaxCrossEntropy().forward(z(3, 4), np.array([1, 2])), ValueError,
     r"labels must have shape \(3,\) to match logits \(3, 4\); received \(2,\)"),
    (lambda: nn.SoftmaxCrossEntropy().forward(z(3, 4), np.array([1.0, 2.0, 0.0])), TypeError,
     r"labels must be integers; received dtype float64"),
    (lambda: nn.SoftmaxCrossEntropy().forward(z(12), np.arange(12)), ValueError,
     r"logits must have shape \(N, K\)"),
    (lambda: nn.MSELoss().forward(z(3, 2), z(2, 3)), ValueError,
     r"MSELoss: target must have the shape of pred \(3, 2\); received \(2, 3\)"),
    (lambda: nn.SoftmaxCrossEntropy().backward(), RuntimeError, r"backward called before forward"),
    # constructor arguments
    (lambda: nn.Dropout(1.0), ValueError, r"Dropout: p must be in \[0, 1\); received p=1.0"),
    (lambda: nn.Dropout(-0.1), ValueError, r"Dropout: p must be in \[0, 1\); received p=-0.1"),
    (lambda: nn.Dense(0, 3), ValueError, r"Dense: in_features must be an integer >= 1"),
    (lambda: nn.Dense(3, 2, dtype=np.int32), ValueError, r"Dense: dtype must be a floating"),
    (lambda: nn.Dense(3, 2, rng=42), TypeError, r"Dense: rng must be a numpy.random.Generator"),
    (lambda: nn.Dense(3, 2, init="he_nromal"), ValueError,
     r"unknown initializer 'he_nromal'; did you mean 'he_normal'"),
    (lambda: nn.Conv2D(1, 2, (3, 0)), ValueError,
     r"Conv2D: kernel_size must be an integer >= 1 or a pair of them; "
     r"received kernel_size=\(3, 0\)"),
    (lambda: nn.Conv2D(1, 2, 3, padding=-1), ValueError,
     r"Conv2D: padding must be an integer >= 0"),
    (lambda: nn.MaxPool2D(2, stride=0), ValueError, r"MaxPool2D: stride must be an integer >= 1"),
    (lambda: nn.BatchNorm2D(3, momentum=1.5), ValueError,
     r"BatchNorm2D: momentum must be in \[0, 1\]"),
    (lambda: nn.BatchNorm1D(3, eps=0.0), ValueError, r"BatchNorm1D: eps must be > 0"),
    (lambda: nn.GELU("fast"), ValueError, r"GELU: approximate must be one of 'none', 'tanh'"),
    # names
    (lambda: nn.activation("rleu"), ValueError, r"unknown activation 'rleu'; did you mean 'relu'"),
    (lambda: nn.activation("gelu2"), ValueError, r"did you mean 'gelu'"),
    (lambda: nn.build_model("mpl", (4,), 2, rng=RNG), ValueError,
     r"unknown model 'mpl'; did you mean 'mlp'"),
    (lambda: nn.init.initialize("glorrot", (2, 2), fan_in=2, fan_out=2, rng=RNG), ValueError,
     r"did you mean 'glorot'"),
    # model options
    (lambda: nn.build_model("cnn", (1, 8, 8), 3, rng=RNG, hidden=(4,)), ValueError,
     r"model 'cnn': unknown option\(s\) 'hidden'; accepted: channels, init, dtype"),
    (lambda: nn.build_model("mlp", (4,), 3, rng=RNG, hidden=(8, 0)), ValueError,
     r"mlp: hidden must be a sequence of integers >= 1; received hidden=\(8, 0\)"),
    (lambda: nn.build_model("mlp", (4,), 3, rng=RNG, activation="rleu"), ValueError,
     r"unknown activation 'rleu'"),
    (lambda: nn.build_model("cnn", (28, 28), 10, rng=RNG), ValueError,
     r"cnn: input_shape must be \(C, H, W\)"),
    (lambda: nn.build_model("cnn", (1, 4, 4), 10, rng=RNG, channels=(2, 2, 2)), ValueError,
     r"cnn: 3 pooling blocks need a larger image"),
    (lambda: nn.build_model("logreg", (4,), 0, rng=RNG), ValueError,
     r"num_classes must be an integer >= 1; received num_classes=0"),
    (lambda: nn.build_model("mlp", (4, -1), 3, rng=RNG), ValueError,
     r"mlp: input_shape must be a tuple of integers >= 1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    ERROR_CASES,
    ids=[re.sub(r"\W+", "_", pattern)[:50] for _, _, pattern in ERROR_CASES],
)
def test_error_message(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_backward_before_forward_and_wrong_gradient_shape():
    layer = nn.Dense(3, 2)
    with pytest.raises(RuntimeError, match=re.escape("Dense.backward called before forward")):
        layer.backward(np.zeros((4, 2), dtype=np.float32))
    layer.forward(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"grad_out must have the output shape \(4, 2\)"):
        layer.backward(np.zeros((4, 3), dtype=np.float32))


def test_dropout_frozen_mask_shape_is_checked():
    drop = nn.Dropout(0.5)
    drop.freeze_mask(np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"frozen mask's shape \(2, 3\); received \(4, 3\)"):
        drop.forward(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="mask must be a bool array"):
        drop.freeze_mask(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="no mask yet"):
        nn.Dropout(0.5).freeze_mask()
