"""Yogi: Adam with an additive, sign-controlled second moment."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each
from optimlab.optim.transforms._moments import adam_denominator, bias_corrections
from optimlab.optim.transforms._torch_ops import lerp_


class ScaleByYogi:
    r"""Yogi (Zaheer, Reddi, Sachan, Kale and Kumar, "Adaptive Methods for Nonconvex
    Optimization", NeurIPS 2018), as ``pytorch_optimizer.Yogi``.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        v_t &= v_{t-1} - (1-\beta_2) \operatorname{sign}(v_{t-1} - g_t^2) \, g_t^2 \\
        d_t &= \frac{1}{1-\beta_1^t} \, \frac{m_t}{\sqrt{v_t} / \sqrt{1-\beta_2^t} + \epsilon}

    :math:`v` changes by at most :math:`(1-\beta_2) g_t^2` per step, in the
    direction of :math:`g_t^2` (Adam's :math:`v` moves by
    :math:`(1-\beta_2)(g_t^2 - v_{t-1})`). **Both** moments start at
    ``initial_accumulator`` (1e-6), not 0, yet are debiased as if they started
    at 0 (pytorch_optimizer's choice), and the default :math:`\epsilon` is 1e-3.

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``Yogi``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-3,
        initial_accumulator: float = 1e-6,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.initial = float(initial_accumulator)

    def init(self, params: Arrays) -> State:
        m, v = zeros_like_each(params), zeros_like_each(params)
        for a in (*m, *v):
            a.fill(self.initial)
        return {"count": 0, "m": m, "v": v, "out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        b1, b2, eps = self.b1, self.b2, self.eps
        bc1, bc2 = bias_corrections(t, b1, b2)
        for g, m, v, out in zip(updates, state["m"], state["v"], state["out"], strict=True):
            g2 = np.multiply(g, g, out=out)
            lerp_(m, g, 1.0 - b1)
            change = np.subtract(v, g2, out=np.empty_like(v))  # an array also when 0-d
            np.sign(change, out=change)
            change *= -(1.0 - b2)
            change *= g2
            v += change
            adam_denominator(v, bc2, eps, out)
            np.divide(m, out, out=out)
            out *= 1.0 / bc1
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_yogi(b1={self.b1}, b2={self.b2}, eps={self.eps}, "
            f"initial_accumulator={self.initial})"
        )
