"""Adafactor: second moments factored into row and column averages."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, counters
from optimlab.optim.transforms._torch_ops import lerp_


class ScaleByAdafactor:
    r"""Adafactor (Shazeer and Stern, "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost", arXiv:1804.04235), as ``torch.optim.Adafactor`` (torch 2.13).

    For a parameter :math:`\theta` of :math:`N` elements at its own step :math:`t`:

    .. math::

        \hat\beta_t &= 1 - t^{c}, \qquad \rho_t = \min(\eta, 1/\sqrt t), \qquad
        \alpha_t = \max(\epsilon_2, \operatorname{RMS}(\theta_{t-1}))\, \rho_t \\
        R_t &= \hat\beta_t R_{t-1} + (1-\hat\beta_t)\, \overline{g_t^2}^{\,\text{cols}},
        \quad C_t = \hat\beta_t C_{t-1} + (1-\hat\beta_t)\, \overline{g_t^2}^{\,\text{rows}},
        \quad \hat V_t = \frac{R_t C_t}{\max(\overline{R_t}, \epsilon_1)} \\
        U_t &= \frac{g_t}{\sqrt{\max(\hat V_t, \epsilon_1^2)}}, \qquad
        \theta_t = (1 - \eta\lambda)\theta_{t-1}
            - \frac{\alpha_t}{\max(1, \operatorname{RMS}(U_t)/d)} U_t

    :math:`R, C` factor the last two dimensions (a parameter of one dimension or
    none keeps the full :math:`V_t = \hat\beta_t V_{t-1} + (1-\hat\beta_t) g_t^2`);
    :math:`c` is ``beta2_decay`` (-0.8), :math:`\epsilon_1` defaults to the
    dtype's machine epsilon, ``d`` is the clipping threshold. The relative step
    :math:`\alpha_t` uses the weights before the decay, as torch does; the decay
    (by :math:`\eta\lambda`) is applied here, to the weights in place. No first
    moment (the paper's :math:`\beta_1 = 0`). Averages with ``torch.lerp``.
    """

    elementwise = False
    writes_params = True

    def __init__(
        self, lr: float, beta2_decay: float = -0.8, eps1: float | None = None,
        eps2: float = 1e-3, d: float = 1.0, weight_decay: float = 0.0,
    ) -> None:  # fmt: skip
        self.lr, self.beta2_decay, self.eps2, self.d = float(lr), float(beta2_decay), eps2, d
        self.eps1 = eps1
        self.weight_decay = float(weight_decay)

    def init(self, params: Arrays) -> State:
        rows, cols, full = PerParam(), PerParam(), PerParam()
        for p in params:
            if p.ndim > 1:
                rows.append(np.zeros((*p.shape[:-1], 1), dtype=p.dtype))  # (..., n, 1)
                cols.append(np.zeros((*p.shape[:-2], 1, p.shape[-1]), dtype=p.dtype))  # (..., 1, m)
                full.append(None)
            else:
                rows.append(None)
                cols.append(None)
                full.append(np.zeros_like(p))
        return {"count": counters(params, 0), "rows": rows, "cols": cols, "full": full}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        out = []
        for i, (g, p) in enumerate(zip(updates, params, strict=True)):
            state["count"][i] = t = state["count"][i] + 1
            eps1 = np.finfo(p.dtype).eps if self.eps1 is None else self.eps1
            one_minus_beta = float(t) ** self.beta2_decay
            rho = min(self.lr, 1.0 / math.sqrt(t))
            rms = float(np.linalg.norm(p)) / math.sqrt(p.size)
            alpha = max(self.eps2, rms) * rho
            if self.weight_decay != 0.0:
                p *= 1.0 - self.lr * self.weight_decay
            if p.ndim > 1:
                row, col = state["rows"][i], state["cols"][i]
                lerp_(row, np.square(g).sum(axis=-1, keepdims=True) / g.shape[-1], one_minus_beta)
                lerp_(col, np.square(g).sum(axis=-2, keepdims=True) / g.shape[-2], one_minus_beta)
                estimate = row @ col  # (..., n, 1) @ (..., 1, m) -> (..., n, m)
                estimate /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
            else:
                full = state["full"][i]
                lerp_(full, g * g, one_minus_beta)
                estimate = full.copy()
            np.maximum(estimate, eps1 * eps1, out=estimate)
            step = g / np.sqrt(estimate)
            denom = max(1.0, float(np.linalg.norm(step)) / (math.sqrt(step.size) * self.d))
            step *= -alpha / denom
            out.append(step)
        return out

    def __repr__(self) -> str:
        return f"scale_by_adafactor(lr={self.lr!r}, beta2_decay={self.beta2_decay!r})"
