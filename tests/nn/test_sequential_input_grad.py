"""Training skips the input gradient of the first layer; the parameter gradients are unchanged."""

import numpy as np
import pytest

from optimlab import nn
from optimlab.nn.models import cnn, mlp


@pytest.mark.parametrize("build", [lambda r: mlp((1, 8, 8), 3, hidden=(5,), rng=r),
                                   lambda r: cnn((1, 8, 8), 3, channels=(2,), rng=r)])  # fmt: skip
def test_skipping_the_input_gradient_keeps_every_parameter_gradient(build):
    rng = np.random.default_rng(0)
    a, b = build(np.random.default_rng(1)), build(np.random.default_rng(1))
    x = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(a.forward(x), y)
    dx = a.backward(loss.backward())
    loss.forward(b.forward(x), y)
    assert b.backward(loss.backward(), input_grad=False) is None
    assert dx.shape == x.shape
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad)
