"""D-Adaptation Adam: Adam whose step size is a lower bound d on the distance to the solution."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, State, zero_buffers
from optimlab.optim.transforms.prodigy import coupled_gradients


def _lerp(a: float, b: float, weight: float) -> float:
    """``torch.lerp(a, b, weight)`` of two numbers, with its two branches."""
    if abs(weight) < 0.5:
        return a + weight * (b - a)
    return b - (b - a) * (1.0 - weight)


class ScaleByDAdaptAdam:
    r"""D-Adaptation Adam (Defazio and Mishchenko, "Learning-Rate-Free Learning by
    D-Adaptation", arXiv:2301.07733; the authors' version 3), as
    ``pytorch_optimizer.DAdaptAdam`` (4.1).

    With :math:`d_t` the current estimate, :math:`\eta` the learning rate (a multiplier
    of :math:`d`, 1 by default), :math:`\gamma_t = d_t \eta / b_t`
    (:math:`b_t = (1-\beta_1^t)/\sqrt{1-\beta_2^t}` with ``bias_correction``, else 1)
    and :math:`\beta = \sqrt{\beta_2}`, over every parameter :math:`i` that has a
    gradient this step:

    .. math::

        a_t &= \gamma_t \sum_i \Big\langle g_{i,t}, \frac{s_{i,t-1}}{\sqrt{v_{i,t-1}}
            + \epsilon} \Big\rangle \\
        m_t &= \beta_1 m_{t-1} + \gamma_t (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        s_t = \beta s_{t-1} + \gamma_t (1-\beta) g_t \\
        r_t &= \beta r_{t-1} + (1-\beta) a_t, \qquad
        d_{t+1} = \max\Big(d_t, \min\Big(\frac{r_t}{(1-\beta) \sum_i \|s_{i,t}\|_1},
            \, G d_t\Big)\Big) \\
        x_{t+1} &= x_t - \frac{m_t}{\sqrt{v_t} + \epsilon}

    The step size :math:`\gamma_t` is inside the first moment (each step's own), so
    the update has no factor of its own; :math:`d` only grows, by at most the factor
    :math:`G` (``growth_rate``, inf: unbounded), and does not change while
    :math:`\eta = 0`. When :math:`\sum_i \|s_{i,t}\|_1 = 0` the moments are kept but
    nothing moves and neither :math:`r` nor :math:`d` changes. The bias correction
    scales each step's contribution by its own :math:`1/b_t` (there is no average to
    debias: :math:`m` carries the :math:`\gamma` of every step).

    :math:`d` and :math:`r` are one number per parameter group (the dot products and
    L1 norms run over all elements of all the group's parameters that have a gradient,
    whatever their number of dimensions); :math:`m, v, s` are per element. The count
    :math:`t` is the group's.

    Weight decay :math:`\lambda`: coupled by default, :math:`g \leftarrow g + \lambda
    x` before everything; decoupled (``weight_decouple``), :math:`x \leftarrow (1 -
    \gamma_t\lambda)\, x` (``fixed_decay``: :math:`(1-\lambda)\,x`) after the estimate
    of d and before the step, written into the parameters (``writes_params``), so that
    a cautious mask sees the step only.

    The output is the step itself (no learning rate after it).
    """

    def __init__(
        self, lr: float = 1.0, b1: float = 0.9, b2: float = 0.999, d0: float = 1e-6,
        growth_rate: float = math.inf, *, weight_decay: float = 0.0,
        weight_decouple: bool = False, fixed_decay: bool = False,
        bias_correction: bool = False, eps: float = 1e-8,
    ) -> None:  # fmt: skip
        self.lr, self.b1, self.b2 = float(lr), float(b1), float(b2)
        self.d0, self.growth_rate = float(d0), float(growth_rate)
        self.weight_decay = float(weight_decay)
        self.weight_decouple, self.fixed_decay = bool(weight_decouple), bool(fixed_decay)
        self.bias_correction, self.eps = bool(bias_correction), float(eps)
        #: Decoupled decay multiplies the parameters in place (see optimlab.optim.base).
        self.writes_params = self.weight_decouple and self.weight_decay != 0.0

    def init(self, params: Arrays) -> State:
        state = {"count": 0, "d": self.d0, "numerator_weighted": 0.0,
                 **zero_buffers(params, "m", "v", "s", "out")}  # fmt: skip
        if not self.weight_decouple:
            state.update(zero_buffers(params, "grad"))  # g + lambda x
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2, eps = self.b1, self.b2, self.eps
        beta = math.sqrt(b2)
        state["count"] = t = state["count"] + 1
        d = state["d"]
        step_size = d * self.lr
        if self.bias_correction:
            step_size /= (1.0 - b1**t) / math.sqrt(1.0 - b2**t)
        grads = coupled_gradients(updates, params, state, self.weight_decay, self.weight_decouple)
        accumulated, l1 = 0.0, 0.0
        for g, m, v, s, out in zip(
            grads, state["m"], state["v"], state["s"], state["out"], strict=True
        ):
            np.sqrt(v, out=out)
            out += eps
            np.divide(s, out, out=out)
            accumulated += step_size * float(np.vdot(g, out))
            np.multiply(g, step_size * (1.0 - b1), out=out)
            m *= b1
            m += out
            np.multiply(g, g, out=out)
            out *= 1.0 - b2
            v *= b2
            v += out
            np.multiply(g, step_size * (1.0 - beta), out=out)
            s *= beta
            s += out
            l1 += float(np.abs(s, out=out).sum())
        if l1 == 0.0:
            for out in state["out"]:
                out.fill(0.0)
            return state["out"]
        state["numerator_weighted"] = r = _lerp(state["numerator_weighted"], accumulated, 1 - beta)
        if self.lr > 0.0:
            d_hat = r / ((1.0 - beta) * l1)
            state["d"] = max(d, min(d_hat, d * self.growth_rate))
        if self.writes_params:
            factor = 1.0 - self.weight_decay * (1.0 if self.fixed_decay else step_size)
            for p in params:
                p *= factor
        for m, v, out in zip(state["m"], state["v"], state["out"], strict=True):
            np.sqrt(v, out=out)
            out += eps
            np.divide(m, out, out=out)
            np.negative(out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_dadapt_adam(lr={self.lr!r}, b1={self.b1!r}, b2={self.b2!r}, "
            f"d0={self.d0!r}, growth_rate={self.growth_rate!r}, "
            f"weight_decay={self.weight_decay!r}, weight_decouple={self.weight_decouple}, "
            f"fixed_decay={self.fixed_decay}, bias_correction={self.bias_correction}, "
            f"eps={self.eps!r})"
        )
