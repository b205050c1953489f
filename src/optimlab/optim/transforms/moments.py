"""Adam-style moment estimates with a bias correction that survives a changing beta."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, counters, zeros_like_each

FORMS = ("normalized", "paper")


class ScaleByAdam:
    r"""Adam's direction, with quasi-hyperbolic mixing (QHAdam) and AMSGrad as options.

    Notation: :math:`g_t` the update coming in, :math:`\beta_{1,t}` (this
    step's: Demon changes it from step to step), :math:`\beta_2`,
    :math:`\nu_1, \nu_2`, :math:`\epsilon`.
    Bias correction by **running weights** (qhoptim's scheme, Ma and Yarats,
    arXiv:1810.06801):

    .. math::

        w_t &= 1 + \beta_t w_{t-1}, \quad w_0 = 0, \qquad a_t = 1 - 1/w_t \\
        \hat m_t &= a_{1,t} \hat m_{t-1} + (1 - a_{1,t}) g_t \\
        \hat v_t &= a_{2,t} \hat v_{t-1} + (1 - a_{2,t}) g_t^2 \\
        d_t &= \frac{\nu_1 \hat m_t + (1-\nu_1) g_t}
                    {\sqrt{\nu_2 \hat v_t + (1-\nu_2) g_t^2} + \epsilon}

    :math:`\hat m_t` is the weighted mean of the gradients so far with weights
    :math:`\prod \beta`: for a constant :math:`\beta` it equals Adam's
    :math:`m_t / (1 - \beta^t)` exactly (Kingma and Ba, arXiv:1412.6980), and it
    stays exact when :math:`\beta_{1,t}` changes from step to step, where
    :math:`1 - \beta_1^t` with the current :math:`\beta_1` would be wrong
    (measured: 2.6% off under Demon). With a constant gradient :math:`\hat m_t
    = g` for any schedule.

    ``nus=(1, 1)`` is Adam. ``amsgrad`` uses the running maximum of the
    *undebiased* second moment :math:`w_{2,t} \hat v_t` divided by
    :math:`w_{2,t}`, which is PyTorch's :math:`\max_s v_s / (1 - \beta_2^t)` up
    to the constant factor :math:`1-\beta_2` that cancels.

    ``form="paper"`` is Demon Adam as the paper writes it (Chen et al.,
    arXiv:1910.04952, Algorithm 2): an **undampened** first moment
    :math:`m_t = g_t + \beta_{1,t} m_{t-1}` used without normalisation, so its
    steps are about :math:`1/(1-\beta_1)` times larger than Adam's for the same
    learning rate.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self,
        b1: float = 0.9,
        b2: float = 0.999,
        eps: float = 1e-8,
        *,
        amsgrad: bool = False,
        nu1: float = 1.0,
        nu2: float = 1.0,
        form: str = "normalized",
    ) -> None:
        if form not in FORMS:
            raise ValueError(f"demon_form must be one of {FORMS}; received demon_form={form!r}")
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.amsgrad, self.nu1, self.nu2, self.form = bool(amsgrad), float(nu1), float(nu2), form

    def init(self, params: Arrays) -> State:
        state = {
            "w1": counters(params, 0.0),
            "w2": counters(params, 0.0),
            "m": zeros_like_each(params),
            "v": zeros_like_each(params),
            "out": zeros_like_each(params),
        }
        if self.amsgrad:
            state["v_max"] = zeros_like_each(params)
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2 = self.b1, self.b2
        nu1, nu2, eps = self.nu1, self.nu2, self.eps
        for i, g in enumerate(updates):
            state["w1"][i] = w1 = 1.0 + b1 * state["w1"][i]
            state["w2"][i] = w2 = 1.0 + b2 * state["w2"][i]
            a1, a2 = 1.0 - 1.0 / w1, 1.0 - 1.0 / w2
            m, v, out = state["m"][i], state["v"][i], state["out"][i]
            # ``out`` doubles as scratch space until it receives the result.
            if self.form == "paper":  # m_t = g_t + beta_t m_{t-1}
                m *= b1
                m += g
            else:
                m *= a1
                np.multiply(g, 1.0 - a1, out=out)
                m += out
            np.multiply(g, g, out=out)  # g^2
            v *= a2
            if nu2 != 1.0:
                g2 = out.copy()
            out *= 1.0 - a2
            v += out
            second = v
            if self.amsgrad:
                v_max = state["v_max"][i]
                np.maximum(v_max, v * w2, out=v_max)
                second = v_max / w2
            if nu2 != 1.0:
                second = nu2 * second + (1.0 - nu2) * g2
            np.sqrt(second, out=out)
            out += eps
            if nu1 != 1.0:
                np.divide(nu1 * m + (1.0 - nu1) * g, out, out=out)
            else:
                np.divide(m, out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_adam(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps}, "
            f"amsgrad={self.amsgrad}, nus=({self.nu1}, {self.nu2}), form={self.form!r})"
        )


class ScaleByAdamax:
    r"""Adamax, Adam in the infinity norm (Kingma and Ba, arXiv:1412.6980, section 7.1).

    .. math::

        \hat m_t = a_{1,t} \hat m_{t-1} + (1 - a_{1,t}) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
        d_t = \hat m_t / u_t

    with the running-weight bias correction of :class:`ScaleByAdam` (exact when
    :math:`\beta_1` is scheduled; per parameter, as PyTorch's ``step``);
    ``torch.optim.Adamax`` adds :math:`\epsilon` inside the maximum as here.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)

    def init(self, params: Arrays) -> State:
        return {
            "w1": counters(params, 0.0),
            "m": zeros_like_each(params),
            "u": zeros_like_each(params),
            "out": zeros_like_each(params),
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2 = self.b1, self.b2
        weights = state["w1"]
        for i, (g, m, u, out) in enumerate(
            zip(updates, state["m"], state["u"], state["out"], strict=True)
        ):
            weights[i] = w1 = 1.0 + b1 * weights[i]
            a1 = 1.0 - 1.0 / w1
            m *= a1
            m += (1.0 - a1) * g
            u *= b2
            np.abs(g, out=out)
            out += self.eps
            np.maximum(u, out, out=u)
            np.divide(m, u, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_adamax(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps})"
