"""Adan: Nesterov-style momentum from gradient differences, and its proximal weight decay."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, zeros_like_each
from optimlab.optim.transforms._moments import adam_denominator, bias_corrections, ema_square_
from optimlab.optim.transforms._torch_ops import global_norm, lerp_


class ScaleByAdan:
    r"""Adan, adaptive Nesterov momentum (Xie et al., "Adan: Adaptive Nesterov Momentum
    Algorithm for Faster Optimizing Deep Models", arXiv:2208.06677), as
    ``pytorch_optimizer.Adan``.

    With :math:`\Delta_t = g_t - g_{t-1}` (:math:`\Delta_1 = 0`):

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        \delta_t = \beta_2 \delta_{t-1} + (1-\beta_2) \Delta_t \\
        n_t &= \beta_3 n_{t-1} + (1-\beta_3) (g_t + \beta_2 \Delta_t)^2 \\
        d_t &= \frac{m_t / (1-\beta_1^t) + \beta_2 \, \delta_t / (1-\beta_2^t)}
                    {\sqrt{n_t / (1-\beta_3^t)} + \epsilon}

    (all three moments debiased; :math:`\epsilon` outside the square root.)
    The paper's :math:`\beta`'s are one minus these (pytorch_optimizer's
    convention, defaults ``(0.98, 0.92, 0.99)``).

    ``max_grad_norm > 0`` first scales every gradient by
    :math:`\min(1, \text{max\_grad\_norm} / (\|g\|_2 + \epsilon))`, the
    global norm taken over the parameters of the group that have a gradient
    (pytorch_optimizer: over all groups). Note: pytorch_optimizer computes that
    factor in **float32** (``get_global_gradient_norm`` casts the norms);
    optimlab computes it in float64, so with clipping active the two differ by
    float32 rounding of the factor (about 1e-7 relative per step).

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``Adan``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    def __init__(
        self, b1: float = 0.98, b2: float = 0.92, b3: float = 0.99, eps: float = 1e-8,
        max_grad_norm: float = 0.0,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.b3 = float(b1), float(b2), float(b3)
        self.eps, self.max_grad_norm = float(eps), float(max_grad_norm)

    def init(self, params: Arrays) -> State:
        return {
            "count": 0,
            "m": zeros_like_each(params),
            "delta": zeros_like_each(params),
            "n": zeros_like_each(params),
            # -clip * g_{t-1}; set to -clip * g_1 at a parameter's first step, so Delta_1 = 0
            "previous": PerParam([None] * len(params)),
            "out": zeros_like_each(params),
        }

    def clip_factor(self, grads: Arrays) -> float:
        """The global-norm clipping factor (1.0 when ``max_grad_norm == 0``)."""
        if self.max_grad_norm == 0.0:
            return 1.0
        return min(self.max_grad_norm / (global_norm(grads) + self.eps), 1.0)

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        b1, b2, b3, eps = self.b1, self.b2, self.b3, self.eps
        bc1, bc2, bc3 = bias_corrections(t, b1, b2, b3)
        clip = self.clip_factor(updates)
        previous = state["previous"]
        for i, g in enumerate(updates):
            m, delta, n, out = state["m"][i], state["delta"][i], state["n"][i], state["out"][i]
            np.multiply(g, clip, out=out)  # the clipped gradient
            if previous[i] is None:
                previous[i] = np.negative(out, out=np.empty_like(out))  # an array also when 0-d
            diff = previous[i]
            diff += out  # g_t - g_{t-1}
            lerp_(m, out, 1.0 - b1)
            lerp_(delta, diff, 1.0 - b2)
            diff *= b2
            diff += out  # g_t + b2 (g_t - g_{t-1})
            ema_square_(n, diff, b3, scratch=diff)
            np.negative(out, out=diff)  # stored for the next step: -g_t
            adam_denominator(n, bc3, eps, out)
            direction = m * (1.0 / bc1)
            direction += delta * (b2 / bc2)
            np.divide(direction, out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_adan(b1={self.b1}, b2={self.b2}, b3={self.b3}, eps={self.eps}, "
            f"max_grad_norm={self.max_grad_norm})"
        )


class ProximalWeightDecay:
    r"""Proximal weight decay after the step:
    :math:`\theta_t = (\theta_{t-1} + u_t) / (1 + \eta_t \lambda)`.

    Adan's default decay (arXiv:2208.06677, Algorithm 1; pytorch_optimizer's
    ``Adan`` with ``weight_decouple=False``): the proximal step of
    :math:`\frac{\lambda}{2}\|\theta\|^2` after the update :math:`u_t` (which
    already carries :math:`-\eta_t`). Written as an update:
    :math:`(u_t - \eta_t \lambda \theta_{t-1}) / (1 + \eta_t \lambda)`.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, weight_decay: float, lr: float) -> None:
        self.weight_decay, self.lr = float(weight_decay), float(lr)

    def init(self, params: Arrays) -> State:
        return {"out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        c = self.lr * self.weight_decay
        if c == 0.0:
            return updates
        for u, p, out in zip(updates, params, state["out"], strict=True):
            np.multiply(p, -c, out=out)
            out += u
            out *= 1.0 / (1.0 + c)
        return state["out"]

    def __repr__(self) -> str:
        return f"proximal_weight_decay({self.weight_decay!r}, lr={self.lr!r})"
