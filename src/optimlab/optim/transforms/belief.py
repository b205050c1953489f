"""AdaBelief: Adam with the variance of the gradient around its EMA ("belief")."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each
from optimlab.optim.transforms._moments import adam_denominator, bias_corrections, ema_square_
from optimlab.optim.transforms._torch_ops import lerp_, rectification


class ScaleByBelief:
    r"""AdaBelief (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief
    in Observed Gradients", arXiv:2010.07468), as ``pytorch_optimizer.AdaBelief``.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        s_t &= \beta_2 s_{t-1} + (1-\beta_2) (g_t - m_t)^2 + \epsilon \\
        d_t &= \frac{1}{1-\beta_1^t} \, \frac{m_t}{\sqrt{s_t} / \sqrt{1-\beta_2^t} + \epsilon}

    :math:`\epsilon` enters twice, **into the state** every step and after the
    bias-corrected square root (the paper's Algorithm 2 does both). The residual
    uses the updated :math:`m_t`. ``ams_bound`` uses :math:`\max_{s \le t} s_s`.

    ``rectify`` (RAdam's rectification, arXiv:1908.03265; see
    :func:`~optimlab.optim.transforms._torch_ops.rectification`):

    .. math::

        d_t = \frac{r_t}{1-\beta_1^t} \cdot
              \begin{cases} m_t / (\sqrt{s_t} + \epsilon) & \rho_t \ge \text{threshold} \\
                            m_t & \text{otherwise, if degenerated\_to\_sgd} \\
                            0 & \text{otherwise} \end{cases}

    (no division by :math:`\sqrt{1-\beta_2^t}` here: pytorch_optimizer puts it
    inside :math:`r_t`).

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``AdaBelief``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-16, *, rectify: bool = False,
        n_sma_threshold: float = 5, degenerated_to_sgd: bool = True, ams_bound: bool = False,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.rectify, self.threshold = bool(rectify), float(n_sma_threshold)
        self.degenerated_to_sgd, self.ams_bound = bool(degenerated_to_sgd), bool(ams_bound)

    def init(self, params: Arrays) -> State:
        state = {
            "count": 0,
            "m": zeros_like_each(params),
            "s": zeros_like_each(params),
            "out": zeros_like_each(params),
        }
        if self.ams_bound:
            state["s_max"] = zeros_like_each(params)
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        b1, b2, eps = self.b1, self.b2, self.eps
        bc1, bc2 = bias_corrections(t, b1, b2)
        rt, n_sma = rectification(t, b2, self.threshold, self.degenerated_to_sgd)
        for i, g in enumerate(updates):
            m, s, out = state["m"][i], state["s"][i], state["out"][i]
            lerp_(m, g, 1.0 - b1, scratch=out)
            np.subtract(g, m, out=out)
            ema_square_(s, out, b2, scratch=out)  # the residual's: the "belief"
            s += eps
            second = s
            if self.ams_bound:
                second = state["s_max"][i]
                np.maximum(second, s, out=second)
            if not self.rectify:
                adam_denominator(second, bc2, eps, out)
                np.divide(m, out, out=out)
                out *= 1.0 / bc1
            elif n_sma >= self.threshold:
                np.sqrt(second, out=out)
                out += eps
                np.divide(m, out, out=out)
                out *= rt / bc1
            elif rt > 0.0:
                np.multiply(m, rt / bc1, out=out)
            else:
                out.fill(0.0)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_belief(b1={self.b1}, b2={self.b2}, eps={self.eps}, rectify={self.rectify}, "
            f"n_sma_threshold={self.threshold}, degenerated_to_sgd={self.degenerated_to_sgd}, "
            f"ams_bound={self.ams_bound})"
        )
