"""LAMB: Adam's direction rescaled per layer by a trust ratio."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, buffers
from optimlab.optim.transforms._moments import ema_square_
from optimlab.optim.transforms._torch_ops import global_norm, rectification

#: pytorch_optimizer's ``Lamb.clamp``: the weight norm in the trust ratio is capped here.
WEIGHT_NORM_CAP = 10.0


class ScaleByLamb:
    r"""LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in
    76 minutes", arXiv:1904.00962), as ``pytorch_optimizer.Lamb``; the update it
    returns already carries the learning rate.

    .. math::

        m_t &= \beta_1 m_{t-1} + \beta_3 g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        \beta_3 = 1 - \beta_1 \ (\text{grad\_averaging}) \text{ or } 1 \\
        r_t &= \frac{m_t}{\sqrt{v_t} + \epsilon} \, [+ \lambda \theta_{t-1}]
        \qquad \phi_t = \min(\|\theta_{t-1}\|_2, 10) \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t} \,
            \frac{\phi_t}{\|r_t\|_2 + \epsilon} \, r_t

    per parameter array (the trust ratio is 1 when either norm is 0, and with
    ``adam=True``). Only :math:`m` is debiased, through the step size;
    :math:`v` is not. The :math:`[\lambda\theta]` term is the coupled weight
    decay (``weight_decouple=False``), added to the update, not the moments;
    decoupled decay is applied to the parameters before this transform, so
    the norms see the decayed weights, as in pytorch_optimizer.

    ``rectify`` (RAdam, arXiv:1908.03265): the step size is
    :math:`\eta r_t / (1-\beta_1^t)` and, faithful to pytorch_optimizer, the
    vector whose norm enters the trust ratio is the *new parameter*
    :math:`\theta - \text{step} \cdot m_t / (\sqrt{v_t} + \epsilon)` (or
    :math:`\theta - \text{step} \cdot m_t` below the threshold with
    ``degenerated_to_sgd``; no step at all without it). Coupled weight decay
    is not applied when rectifying (as in pytorch_optimizer).

    ``pre_norm`` scales the gradients first by
    :math:`\min(1, \text{max\_grad\_norm} / (\|g\|_2 + \epsilon))` over the
    parameters of the group with a gradient. Note: pytorch_optimizer computes
    this factor in float32; optimlab in float64.

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``Lamb``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    elementwise = False  # the trust ratio takes the norm of each whole parameter

    def __init__(
        self, lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-6,
        *, weight_decay: float = 0.0, rectify: bool = False,
        degenerated_to_sgd: bool = False, n_sma_threshold: float = 5, grad_averaging: bool = True,
        max_grad_norm: float = 1.0, adam: bool = False, pre_norm: bool = False,
    ) -> None:  # fmt: skip
        self.lr, self.b1, self.b2, self.eps = float(lr), float(b1), float(b2), float(eps)
        self.weight_decay, self.rectify = float(weight_decay), bool(rectify)
        self.degenerated_to_sgd, self.threshold = bool(degenerated_to_sgd), float(n_sma_threshold)
        self.grad_averaging, self.max_grad_norm = bool(grad_averaging), float(max_grad_norm)
        self.adam, self.pre_norm = bool(adam), bool(pre_norm)

    def init(self, params: Arrays) -> State:
        return buffers(params, "m", "v", "out")

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        lr, wd = self.lr, self.weight_decay
        state["count"] = t = state["count"] + 1  # the group's steps (pytorch_optimizer's)
        b1, b2, eps = self.b1, self.b2, self.eps
        b3 = 1.0 - b1 if self.grad_averaging else 1.0
        rt, n_sma = 1.0, 0.0
        if self.rectify:
            rt, n_sma = rectification(t, b2, self.threshold, self.degenerated_to_sgd)
        step_size = lr * rt / (1.0 - b1**t)
        scale = 1.0
        if self.pre_norm and self.max_grad_norm != 0.0:
            scale = min(self.max_grad_norm / (global_norm(updates) + eps), 1.0)
        normalised = not self.rectify or n_sma >= self.threshold
        for g, p, m, v, out in zip(
            updates, params, state["m"], state["v"], state["out"], strict=True
        ):
            g = g * scale if scale != 1.0 else g
            m *= b1
            m += b3 * g
            ema_square_(v, g, b2, scratch=out)
            if self.rectify and step_size <= 0.0:
                out.fill(0.0)
                continue
            if normalised:
                np.sqrt(v, out=out)
                out += eps
                np.divide(m, out, out=out)  # the direction: m / (sqrt(v) + eps)
            else:
                np.copyto(out, m)
            if self.rectify:
                ratio_of = p - step_size * out  # (sic) the new parameter, as pytorch_optimizer
            else:
                if wd > 0.0:
                    out += wd * p
                ratio_of = out
            trust = 1.0
            if not self.adam:
                w_norm = min(float(np.linalg.norm(p)), WEIGHT_NORM_CAP)
                u_norm = float(np.linalg.norm(ratio_of))
                if w_norm != 0.0 and u_norm != 0.0:
                    trust = w_norm / (u_norm + eps)
            out *= -step_size * trust
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_lamb(lr={self.lr!r}, b1={self.b1}, b2={self.b2}, eps={self.eps}, "
            f"weight_decay={self.weight_decay!r}, rectify={self.rectify}, "
            f"degenerated_to_sgd={self.degenerated_to_sgd}, n_sma_threshold={self.threshold}, "
            f"grad_averaging={self.grad_averaging}, max_grad_norm={self.max_grad_norm}, "
            f"adam={self.adam}, pre_norm={self.pre_norm})"
        )
