"""LaProp: momentum over RMSprop-normalised gradients."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, State, buffers, counters, zero_buffers
from optimlab.optim.transforms._moments import ema_square_
from optimlab.optim.transforms._torch_ops import lerp_

#: pytorch_optimizer's ``apply_ams_bound`` adds this inside the square root.
SQRT_EPS = 1e-15


class ScaleByLaProp:
    r"""LaProp (Ziyin, Wang and Ueda, "LaProp: Separating Momentum and Adaptivity in Adam",
    arXiv:2002.04839), as ``pytorch_optimizer.LaProp`` (its per-parameter path).

    .. math::

        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        d_t = \frac{\sqrt{v_t + 10^{-15}} + \epsilon}{\sqrt{1-\beta_2^t}} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, \eta_t \frac{g_t}{d_t}, \qquad
        c_t = \beta_1 c_{t-1} + (1-\beta_1)\, \eta_t \\
        \theta_t &= \theta_{t-1} - \frac{\eta_t}{c_t} m_t

    The learning rate enters the momentum (the paper's form, so that a schedule
    changes the step smoothly), and the first moment is debiased by the running
    average :math:`c_t` of the rates (:math:`1-\beta_1^t` for a constant rate).
    ``centered``: :math:`v_t - \mu_t^2` with :math:`\mu_t` the average gradient,
    from step ``steps_before_using_centered + 1`` on. ``ams_bound``: the running
    maximum of that. :math:`t` in the second correction is the group's count
    (pytorch_optimizer's ``group["step"]``); :math:`c` is each parameter's. The
    step it returns is :math:`-\eta_t m_t / c_t` itself (no learning rate after it).
    """

    elementwise = True

    def __init__(
        self, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-15, *,
        centered: bool = False, steps_before_using_centered: int = 10, ams_bound: bool = False,
    ) -> None:  # fmt: skip
        self.lr, self.b1, self.b2, self.eps = float(lr), float(b1), float(b2), float(eps)
        self.centered, self.ams_bound = bool(centered), bool(ams_bound)
        self.steps_before_using_centered = int(steps_before_using_centered)

    def init(self, params: Arrays) -> State:
        state = {**buffers(params, "m", "v", "out"), "lr_average": counters(params, 0.0)}
        if self.centered:
            state.update(zero_buffers(params, "mean"))
        if self.ams_bound:
            state.update(zero_buffers(params, "v_max"))
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2, lr = self.b1, self.b2, self.lr
        state["count"] = t = state["count"] + 1
        bc2_sqrt = math.sqrt(1.0 - b2**t)
        averages = state["lr_average"]
        for i, (g, m, v, out) in enumerate(
            zip(updates, state["m"], state["v"], state["out"], strict=True)
        ):
            ema_square_(v, g, b2, scratch=out)
            averages[i] = averages[i] * b1 + (1.0 - b1) * lr
            step_size = 1.0 / (averages[i] / lr if lr != 0.0 else 1.0)
            second = v
            if self.centered:
                mean = state["mean"][i]
                lerp_(mean, g, 1.0 - b2, scratch=out)
                if t > self.steps_before_using_centered:
                    second = v - mean**2
            if self.ams_bound:
                np.maximum(state["v_max"][i], second, out=state["v_max"][i])
                second = state["v_max"][i]
            np.add(second, SQRT_EPS, out=out)
            np.sqrt(out, out=out)
            out += self.eps
            out /= bc2_sqrt
            np.divide(g, out, out=out)
            out *= (1.0 - b1) * lr
            m *= b1
            m += out
            np.multiply(m, -step_size, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_laprop(lr={self.lr!r}, b1={self.b1!r}, b2={self.b2!r}, eps={self.eps!r}, "
            f"centered={self.centered}, ams_bound={self.ams_bound})"
        )


class ShrinkStep:
    r"""The step times :math:`1 - c`: with :math:`\theta \leftarrow (1-c)\theta` applied
    before it, the step of a decay applied *after* the update, as pytorch_optimizer's
    LaProp does it: :math:`(\theta + u)(1 - c) = (1-c)\theta + (1-c)u`. Written this way
    the decay stays out of what the cautious mask sees (the mask of :math:`(1-c)u` is
    that of :math:`u`).
    """

    elementwise = True

    def __init__(self, factor: float) -> None:
        self.factor = float(factor)

    def init(self, params: Arrays) -> State:
        return zero_buffers(params, "out")

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        if self.factor == 1.0:
            return updates
        for u, out in zip(updates, state["out"], strict=True):
            np.multiply(u, self.factor, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return f"shrink_step({self.factor!r})"
