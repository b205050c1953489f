"""AdEMAMix: Adam plus a slow EMA of the gradient."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, State, buffers
from optimlab.optim.transforms._moments import adam_denominator, bias_corrections, ema_square_
from optimlab.optim.transforms._torch_ops import lerp_


class ScaleByAdEMAMix:
    r"""AdEMAMix (Pagliardini, Ablin and Grangier, "The AdEMAMix Optimizer: Better,
    Faster, Older", arXiv:2409.03137), as ``pytorch_optimizer.AdEMAMix``.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        s_t &= \beta_{3,t} s_{t-1} + (1-\beta_{3,t}) g_t \quad \text{(slow EMA, not debiased)} \\
        d_t &= \frac{m_t / (1-\beta_1^t) + \alpha_t s_t}{\sqrt{v_t} / \sqrt{1-\beta_2^t} + \epsilon}

    With ``t_alpha_beta3`` :math:`= T` the paper's warm-up schedulers are used:

    .. math::

        \alpha_t = \min(t \alpha / T, \alpha), \qquad
        \beta_{3,t} = \min\Big(\exp\frac{\ln\beta_1 \ln\beta_3}
                      {(1 - t/T)\ln\beta_3 + (t/T)\ln\beta_1}, \ \beta_3\Big)

    (otherwise :math:`\alpha_t = \alpha`, :math:`\beta_{3,t} = \beta_3`).

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``AdEMAMix``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.999, b3: float = 0.9999, alpha: float = 5.0,
        t_alpha_beta3: float | None = None, eps: float = 1e-8,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.b3 = float(b1), float(b2), float(b3)
        self.alpha, self.eps = float(alpha), float(eps)
        self.t_alpha_beta3 = None if t_alpha_beta3 is None else float(t_alpha_beta3)

    def init(self, params: Arrays) -> State:
        return buffers(params, "m", "v", "slow", "out")

    def schedules(self, t: int) -> tuple[float, float]:
        r"""``(alpha_t, beta3_t)`` at step ``t`` (from 1)."""
        total, alpha, b1, b3 = self.t_alpha_beta3, self.alpha, self.b1, self.b3
        if total is None:
            return alpha, b3
        log1, log3 = math.log(b1), math.log(b3)
        frac = t / total
        b3_t = min(math.exp(log1 * log3 / ((1.0 - frac) * log3 + frac * log1)), b3)
        return min(t * alpha / total, alpha), b3_t

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        b1, b2, eps = self.b1, self.b2, self.eps
        bc1, bc2 = bias_corrections(t, b1, b2)
        alpha_t, b3_t = self.schedules(t)
        for g, m, v, slow, out in zip(
            updates, state["m"], state["v"], state["slow"], state["out"], strict=True
        ):
            lerp_(m, g, 1.0 - b1, scratch=out)
            ema_square_(v, g, b2, scratch=out)
            lerp_(slow, g, 1.0 - b3_t, scratch=out)
            direction = m / bc1
            direction += alpha_t * slow
            adam_denominator(v, bc2, eps, out)
            np.divide(direction, out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_ademamix(b1={self.b1}, b2={self.b2}, b3={self.b3}, alpha={self.alpha}, "
            f"t_alpha_beta3={self.t_alpha_beta3}, eps={self.eps})"
        )
