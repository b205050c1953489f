"""Adam, its quasi-hyperbolic form (QHAdam, Demon's paper form) and Adamax.

The bias corrections use running weights (qhoptim's scheme), which stay exact
when beta changes from step to step (Demon); for a constant beta they are
Adam's :math:`1 - \\beta^t`.
"""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, buffers, counters, zero_buffers
from optimlab.optim.transforms._moments import (
    adam_denominator,
    bias_corrections,
    ema_,
    ema_square_,
    running_weights,
)
from optimlab.optim.transforms._torch_ops import lerp_


class ScaleByAdam:
    r"""Adam's direction (Kingma and Ba, arXiv:1412.6980); AMSGrad as an option.

    Notation: :math:`g_t` the update coming in, :math:`\beta_{1,t}` this step's
    (Demon changes it from step to step), :math:`\beta_2`, :math:`\epsilon`.
    Bias correction by **running weights** (qhoptim's scheme, Ma and Yarats,
    arXiv:1810.06801):

    .. math::

        w_t &= 1 + \beta_t w_{t-1}, \quad w_0 = 0, \qquad a_t = 1 - 1/w_t \\
        \hat m_t &= a_{1,t} \hat m_{t-1} + (1 - a_{1,t}) g_t, \qquad
        \hat v_t = a_{2,t} \hat v_{t-1} + (1 - a_{2,t}) g_t^2 \\
        d_t &= \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    :math:`\hat m_t` is the weighted mean of the gradients so far with weights
    :math:`\prod \beta`: for a constant :math:`\beta` it equals Adam's
    :math:`m_t / (1 - \beta^t)` exactly, and it stays exact when
    :math:`\beta_{1,t}` changes, where :math:`1 - \beta_1^t` with the current
    :math:`\beta_1` would be wrong (measured: 2.6% off under Demon). With a
    constant gradient :math:`\hat m_t = g` for any schedule.

    ``amsgrad`` (Reddi et al., arXiv:1904.09237) uses the running maximum of
    the *undebiased* second moment :math:`w_{2,t} \hat v_t` divided by
    :math:`w_{2,t}`, which is PyTorch's :math:`\max_s v_s / (1 - \beta_2^t)` up
    to the constant factor :math:`1-\beta_2` that cancels.

    The running weights are per parameter (each parameter's own age, as
    ``torch.optim``); :class:`ScaleByAdamGroupCount` is Adam on the group's count.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, *, amsgrad: bool = False
    ) -> None:
        self.b1, self.b2, self.eps, self.amsgrad = float(b1), float(b2), float(eps), bool(amsgrad)

    def init(self, params: Arrays) -> State:
        weights = {"w1": counters(params, 0.0), "w2": counters(params, 0.0)}
        state = {**weights, **zero_buffers(params, "m", "v", "out")}
        if self.amsgrad:
            state.update(zero_buffers(params, "v_max"))
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        w1s = running_weights(state, "w1", self.b1, len(updates))
        w2s = running_weights(state, "w2", self.b2, len(updates))
        for i, (g, m, v, out) in enumerate(
            zip(updates, state["m"], state["v"], state["out"], strict=True)
        ):
            # ``out`` doubles as scratch space until it receives the result.
            ema_(m, g, 1.0 - 1.0 / w1s[i], scratch=out)  # m_hat
            ema_square_(v, g, 1.0 - 1.0 / w2s[i], scratch=out)  # v_hat
            second = v
            if self.amsgrad:
                second = state["v_max"][i]
                np.maximum(second, v * w2s[i], out=second)
                second = second / w2s[i]
            np.sqrt(second, out=out)
            out += self.eps
            np.divide(m, out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_adam(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps}, amsgrad={self.amsgrad})"
        )


class ScaleByAdamGroupCount:
    r"""Adam as pytorch_optimizer writes it, on the parameter group's step count
    (Muon's AdamW for the parameters with ``ndim < 2``).

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        d_t = \frac{1}{1-\beta_1^t} \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    both averages with ``torch.lerp``'s formula. :math:`t` counts the group's
    steps, also those in which a parameter has no gradient, as
    pytorch_optimizer's ``group["step"]``; the moments are kept undebiased, so
    that a parameter that skips steps is debiased by the group's age (the
    running weights of :class:`ScaleByAdam` follow each moment's own updates).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)

    def init(self, params: Arrays) -> State:
        return buffers(params, "m", "v", "out")

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        bc1, bc2 = bias_corrections(t, self.b1, self.b2)
        for g, m, v, out in zip(updates, state["m"], state["v"], state["out"], strict=True):
            lerp_(m, g, 1.0 - self.b1, scratch=out)
            np.multiply(g, g, out=out)
            lerp_(v, out, 1.0 - self.b2)
            adam_denominator(v, bc2, self.eps, out)
            np.divide(m, out, out=out)
            out *= 1.0 / bc1
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_adam_group_count(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps})"


class ScaleByQHAdam:
    r"""QHAdam's direction (Ma and Yarats, "Quasi-hyperbolic momentum and Adam for deep
    learning", arXiv:1810.06801), as ``qhoptim.pyt.QHAdam``; Demon's paper form.

    With :math:`\hat m_t, \hat v_t` the debiased moments of :class:`ScaleByAdam`
    (running weights per parameter):

    .. math::

        d_t = \frac{\nu_1 \hat m_t + (1-\nu_1) g_t}
                   {\sqrt{\nu_2 \hat v_t + (1-\nu_2) g_t^2} + \epsilon}

    ``nus=(1, 1)`` is Adam. ``undampened=True`` is Demon Adam as the paper
    writes it (Chen et al., arXiv:1910.04952, Algorithm 2): the first moment is
    :math:`m_t = g_t + \beta_{1,t} m_{t-1}`, used without normalisation, so its
    steps are about :math:`1/(1-\beta_1)` times larger than Adam's for the same
    learning rate (``demon_form="paper"``).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, nu1: float = 1.0,
        nu2: float = 1.0, *, undampened: bool = False,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.nu1, self.nu2, self.undampened = float(nu1), float(nu2), bool(undampened)

    def init(self, params: Arrays) -> State:
        weights = {"w1": counters(params, 0.0), "w2": counters(params, 0.0)}
        return {**weights, **zero_buffers(params, "m", "v", "out")}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        w1s = running_weights(state, "w1", self.b1, len(updates))
        w2s = running_weights(state, "w2", self.b2, len(updates))
        nu1, nu2 = self.nu1, self.nu2
        for i, (g, m, v, out) in enumerate(
            zip(updates, state["m"], state["v"], state["out"], strict=True)
        ):
            if self.undampened:  # m_t = g_t + beta_t m_{t-1}
                m *= self.b1
                m += g
            else:
                ema_(m, g, 1.0 - 1.0 / w1s[i], scratch=out)
            ema_square_(v, g, 1.0 - 1.0 / w2s[i], scratch=out)
            if nu2 != 1.0:  # nu2 v_hat + (1 - nu2) g^2
                np.multiply(g, g, out=out)
                out *= 1.0 - nu2
                out += nu2 * v
                np.sqrt(out, out=out)
            else:
                np.sqrt(v, out=out)
            out += self.eps
            np.divide(m if nu1 == 1.0 else nu1 * m + (1.0 - nu1) * g, out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_qhadam(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps}, "
            f"nus=({self.nu1}, {self.nu2}), undampened={self.undampened})"
        )


class ScaleByAdamax:
    r"""Adamax, Adam in the infinity norm (Kingma and Ba, arXiv:1412.6980, section 7.1).

    .. math::

        \hat m_t = a_{1,t} \hat m_{t-1} + (1 - a_{1,t}) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
        d_t = \hat m_t / u_t

    with the running-weight bias correction of :class:`ScaleByAdam` (exact when
    :math:`\beta_1` changes; per parameter, as PyTorch's ``step``);
    ``torch.optim.Adamax`` adds :math:`\epsilon` inside the maximum as here.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)

    def init(self, params: Arrays) -> State:
        return {"w1": counters(params, 0.0), **zero_buffers(params, "m", "u", "out")}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        w1s = running_weights(state, "w1", self.b1, len(updates))
        for g, m, u, out, w1 in zip(
            updates, state["m"], state["u"], state["out"], w1s, strict=True
        ):
            ema_(m, g, 1.0 - 1.0 / w1, scratch=out)
            u *= self.b2
            np.abs(g, out=out)
            out += self.eps
            np.maximum(u, out, out=u)
            np.divide(m, u, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_adamax(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps})"
