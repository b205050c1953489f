r"""Adam-mini: Adam with one second moment per parameter block.

Zhang, Chen, Li, Ding, Chen, Kingma, Luo and Sun, "Adam-mini: Use Fewer Learning Rates To
Gain More", arXiv:2406.16793, as ``pytorch_optimizer.AdamMini`` (4.1) treats the
parameters that are neither embeddings, output layers nor attention projections: one
block per parameter tensor.
"""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, State, buffers, counters
from optimlab.optim.transforms._moments import bias_corrections
from optimlab.optim.transforms._torch_ops import lerp_


class ScaleByAdamMini:
    r"""Adam-mini's direction, one block per parameter tensor.

    For a parameter of :math:`n` elements, on the group's step count :math:`t`:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) \frac{1}{n}\sum_i g_{t,i}^2 \\
        d_t &= \frac{m_t}{1-\beta_1^t} \Big/ \Big(\frac{\sqrt{v_t}}{\sqrt{1-\beta_2^t}}
            + \epsilon\Big)

    :math:`v_t` is one number per parameter (a Python float, computed in float64; the
    reference keeps it in float32), both averages with ``torch.lerp``'s formula. Not
    element-wise: the mean is over the whole tensor.
    """

    elementwise = False

    def __init__(self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)

    def init(self, params: Arrays) -> State:
        return {**buffers(params, "m", "out"), "v": counters(params, 0.0)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        bc1, bc2 = bias_corrections(t, self.b1, self.b2)
        w = 1.0 - self.b2
        v = state["v"]
        for i, (g, m, out) in enumerate(zip(updates, state["m"], state["out"], strict=True)):
            lerp_(m, g, 1.0 - self.b1, scratch=out)
            np.multiply(g, g, out=out)
            mean = float(np.sum(out, dtype=np.float64)) / max(g.size, 1)
            # torch.lerp's two branches on the scalar, as the reference's v_mean.lerp_
            v[i] = v[i] + w * (mean - v[i]) if abs(w) < 0.5 else mean - (mean - v[i]) * (1.0 - w)
            step = (1.0 / bc1) / (math.sqrt(v[i]) / math.sqrt(bc2) + self.eps)
            np.multiply(m, step, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_adam_mini(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps!r})"
