"""The cautious mask by hand, and the order of the prefixes."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import Parameter


def test_the_mask_and_its_rescaling_by_hand():
    p = Parameter(np.zeros(4))
    opt = optim.create("cautious-momentum", [p], lr=1.0, momentum=0.5)
    p.grad = np.array([1.0, 1.0, 1.0, 1.0])
    opt.step()  # buffer = g: every component agrees; share 4 / (4 + 1)
    np.testing.assert_allclose(p.data, -np.ones(4) * 4 / 5, rtol=1e-15)
    before = p.data.copy()
    p.grad = np.array([2.0, -2.0, -0.25, 0.0])
    opt.step()  # buffer = 0.5 b + g = [2.5, -1.5, 0.25, 0.5]; step -buffer
    # agrees with the gradient (-step * g > 0): components 0 and 1 only; share 4 / (2 + 1)
    expected = before - np.array([2.5, -1.5, 0.0, 0.0]) * 4 / 3
    np.testing.assert_allclose(p.data, expected, rtol=1e-15)


@pytest.mark.parametrize("name", ["cautious-lookahead-adam", "cautious-cautious-adam",
                                  "lookahead-cautious-lookahead-adam"])  # fmt: skip
def test_prefixes_in_another_order_are_refused(name):
    with pytest.raises(ValueError, match="lookahead-cautious-demon-<name>w"):
        optim.resolve(name)


def test_cautious_nests_with_every_prefix_and_prints_its_equations():
    spec = optim.resolve("lookahead-cautious-demon-adamw")
    assert spec.name == "lookahead-cautious-demon-adamw"
    assert "cautious mask" in optim.resolve("cautious-lion").equations
    assert "cautious-adam" in optim.available() and "cautious-adamw" in optim.available()
