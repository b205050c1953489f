"""Prodigy: Adam whose step size is a running estimate d of the distance to the solution."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, zero_buffers


def coupled_gradients(
    updates: Arrays, params: Arrays, state: State, weight_decay: float, decouple: bool
) -> Arrays:
    r"""The gradients, plus :math:`\lambda x` for coupled decay (into ``state["grad"]``,
    which the learning-rate-free transforms keep for it); the gradients themselves for
    decoupled decay or none."""
    if decouple or weight_decay == 0.0:
        return updates
    for g, p, out in zip(updates, params, state["grad"], strict=True):
        np.multiply(p, weight_decay, out=out)
        out += g
    return state["grad"]


class ScaleByProdigy:
    r"""Prodigy (Mishchenko and Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", arXiv:2306.06101), Adam version, as ``pytorch_optimizer.Prodigy`` (4.1).

    With :math:`d_t` the current estimate of :math:`\|x_0 - x_*\|`, :math:`\eta` the
    learning rate (a multiplier of :math:`d`, 1 by default) and
    :math:`\gamma_t = d_t \eta / b_t` (:math:`b_t = (1-\beta_1^t)/\sqrt{1-\beta_2^t}`
    with ``bias_correction``, else 1), over every parameter :math:`i` that has a
    gradient this step:

    .. math::

        r_t &= \beta_3 r_{t-1} + \frac{d_t}{d_0} \gamma_t
            \sum_i \langle g_{i,t}, x_{i,0} - x_{i,t} \rangle \\
        m_t &= \beta_1 m_{t-1} + d_t (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + d_t^2 (1-\beta_2) g_t^2 \\
        s_t &= \beta_3 s_{t-1} + \frac{d_t}{d_0} \gamma'_t g_t, \qquad
        \gamma'_t = d_t \ \text{(safeguard\_warmup)} \ \text{or} \ \gamma_t \\
        \hat d_t &= c \, \frac{r_t}{\sum_i \|s_{i,t}\|_1}, \qquad
        D_t = \max(D_{t-1}, \hat d_t), \quad D_0 = d_0 \\
        d_{t+1} &= \min(D_t, G\, d'_t), \qquad
        d'_t = \max(d_t, \hat d_t) \ \text{if} \ d_t = d_0, \ \text{else} \ d_t \\
        x_{t+1} &= x_t - \gamma_t \frac{m_t}{\sqrt{v_t} + d_{t+1}\epsilon}

    :math:`\beta_3` defaults to :math:`\sqrt{\beta_2}`, :math:`c` is ``d_coef``,
    :math:`G` ``growth_rate`` (inf: unbounded) and :math:`x_{i,0}` the parameter when
    it first had a gradient. Note the two d's of the last line, as in the reference:
    the step size :math:`\gamma_t` is the one the moments were taken with, the
    :math:`\epsilon` term uses the new estimate. ``eps=None``: the step is
    :math:`\gamma_t \operatorname{atan2}(m_t, \sqrt{v_t})` (Adam-atan2). When
    :math:`\sum_i \|s_{i,t}\|_1 = 0` (no gradient yet, or :math:`\eta = 0` without
    the safeguard) the moments are kept but nothing moves and d is unchanged.

    :math:`d`, :math:`D` and :math:`r` are one number per parameter group
    (the dot products and L1 norms run over all elements of all the group's parameters
    that have a gradient, whatever their number of dimensions); :math:`m, v, s, x_0`
    are per element. The count :math:`t` is the group's. The bias correction divides
    by :math:`1-\beta_1^t` as the running weight :math:`w_t = \beta_1 w_{t-1} +
    (1-\beta_1)`, equal for a constant :math:`\beta_1` and the exact correction of
    :math:`m_t` when Demon changes :math:`\beta_1` from step to step.

    Weight decay :math:`\lambda`: decoupled (``weight_decouple``),
    :math:`x \leftarrow (1 - \gamma_t\lambda)\, x` (``fixed_decay``:
    :math:`(1-\lambda)\,x`) after the estimate of d and before the step, written into
    the parameters (``writes_params``), so that a cautious mask sees the step only;
    coupled, :math:`g \leftarrow g + \lambda x` before everything (the authors' code;
    pytorch_optimizer 4.1 adds it to the gradient after the step has used it, so that
    there it has no effect).

    The output is the step itself (no learning rate after it).
    """

    def __init__(
        self, lr: float = 1.0, b1: float = 0.9, b2: float = 0.999, b3: float | None = None,
        d0: float = 1e-6, d_coef: float = 1.0, growth_rate: float = math.inf, *,
        weight_decay: float = 0.0, weight_decouple: bool = True, fixed_decay: bool = False,
        bias_correction: bool = False, safeguard_warmup: bool = False, eps: float | None = 1e-8,
    ) -> None:  # fmt: skip
        self.lr, self.b1, self.b2 = float(lr), float(b1), float(b2)
        self.b3 = math.sqrt(self.b2) if b3 is None else float(b3)
        self.d0, self.d_coef, self.growth_rate = float(d0), float(d_coef), float(growth_rate)
        self.weight_decay = float(weight_decay)
        self.weight_decouple, self.fixed_decay = bool(weight_decouple), bool(fixed_decay)
        self.bias_correction, self.safeguard_warmup = bool(bias_correction), bool(safeguard_warmup)
        self.eps = None if eps is None else float(eps)
        #: Decoupled decay multiplies the parameters in place (see optimlab.optim.base).
        self.writes_params = self.weight_decouple and self.weight_decay != 0.0

    def init(self, params: Arrays) -> State:
        state = {
            "count": 0, "d": self.d0, "d_max": self.d0, "d_numerator": 0.0,
            "debias1": 0.0,  # running weight w_t = 1 - beta1^t for a constant beta1
            "p0": PerParam([None] * len(params)),  # made at the parameter's first gradient
            **zero_buffers(params, "m", "v", "s", "out"),
        }  # fmt: skip
        if not self.weight_decouple:
            state.update(zero_buffers(params, "grad"))  # g + lambda x
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2, b3 = self.b1, self.b2, self.b3
        state["count"] = t = state["count"] + 1
        state["debias1"] = w1 = b1 * state["debias1"] + (1.0 - b1)
        correction = w1 / math.sqrt(1.0 - b2**t) if self.bias_correction else 1.0
        d, d0 = state["d"], self.d0
        step_size = d * self.lr / correction
        weight = (d / d0) * step_size
        weight_s = (d / d0) * (d if self.safeguard_warmup else step_size)
        grads = coupled_gradients(updates, params, state, self.weight_decay, self.weight_decouple)
        numerator, denominator = state["d_numerator"] * b3, 0.0
        p0s = state["p0"]
        for i, (g, p, m, v, s, out) in enumerate(
            zip(grads, params, state["m"], state["v"], state["s"], state["out"], strict=True)
        ):
            if p0s[i] is None:
                p0s[i] = np.array(p, copy=True)
            np.subtract(p0s[i], p, out=out)
            numerator += weight * float(np.vdot(g, out))
            np.multiply(g, d * (1.0 - b1), out=out)
            m *= b1
            m += out
            np.multiply(g, g, out=out)
            out *= d * d * (1.0 - b2)
            v *= b2
            v += out
            np.multiply(g, weight_s, out=out)
            s *= b3
            s += out
            denominator += float(np.abs(s, out=out).sum())
        state["d_numerator"] = numerator
        if denominator == 0.0:
            for out in state["out"]:
                out.fill(0.0)
            return state["out"]
        d_hat = self.d_coef * numerator / denominator
        if d == d0:
            d = max(d, d_hat)
        state["d_max"] = d_max = max(state["d_max"], d_hat)
        state["d"] = d_new = min(d_max, d * self.growth_rate)
        self._decay(params, step_size)
        for m, v, out in zip(state["m"], state["v"], state["out"], strict=True):
            np.sqrt(v, out=out)
            if self.eps is None:
                np.arctan2(m, out, out=out)
            else:
                out += d_new * self.eps
                np.divide(m, out, out=out)
            out *= -step_size
        return state["out"]

    def _decay(self, params: Arrays, step_size: float) -> None:
        if not self.writes_params:
            return
        factor = 1.0 - self.weight_decay * (1.0 if self.fixed_decay else step_size)
        for p in params:
            p *= factor

    def __repr__(self) -> str:
        return (
            f"scale_by_prodigy(lr={self.lr!r}, b1={self.b1!r}, b2={self.b2!r}, b3={self.b3!r}, "
            f"d0={self.d0!r}, d_coef={self.d_coef!r}, growth_rate={self.growth_rate!r}, "
            f"weight_decay={self.weight_decay!r}, weight_decouple={self.weight_decouple}, "
            f"fixed_decay={self.fixed_decay}, bias_correction={self.bias_correction}, "
            f"safeguard_warmup={self.safeguard_warmup}, eps={self.eps!r})"
        )
