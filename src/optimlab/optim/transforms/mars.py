r"""MARS: variance-reduced gradients in an adaptive (AdamW, Lion or Shampoo-like) step.

Yuan, Liu, Wu, Zhou, Gu and Gu, "MARS: Unleashing the Power of Variance Reduction for
Training Large Models", arXiv:2411.10438, as ``pytorch_optimizer.MARS`` (4.1) computes it
(its approximate form: the previous step's gradient stands in for the gradient of the
previous iterate on this step's batch).
"""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, State, buffers, zero_buffers
from optimlab.optim.transforms._moments import bias_corrections
from optimlab.optim.transforms._torch_ops import lerp_
from optimlab.optim.transforms.muon import NS_COEFFICIENTS, newton_schulz

#: pytorch_optimizer's ``apply_ams_bound`` adds this inside the square root.
SQRT_EPS = 1e-15
MARS_TYPES = ("adamw", "lion", "shampoo")


def _adam_direction(
    m: np.ndarray, v: np.ndarray, v_max: np.ndarray | None, c: np.ndarray,
    bc1: float, bc2: float, b2: float, eps: float, out: np.ndarray,
) -> None:  # fmt: skip
    r"""``out`` :math:`\leftarrow m / ((\sqrt{v + 10^{-15}} + \epsilon)/\sqrt{1-\beta_2^t}
    \cdot (1-\beta_1^t))` after :math:`v \leftarrow \beta_2 v + (1-\beta_2) c^2`
    (``v_max``: its running maximum in place of :math:`v`); ``c`` may be overwritten."""
    np.multiply(c, c, out=c)
    c *= 1.0 - b2
    v *= b2
    v += c
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
    np.add(v if v_max is None else v_max, SQRT_EPS, out=out)
    np.sqrt(out, out=out)
    out += eps
    out /= math.sqrt(bc2)
    out *= bc1
    np.divide(m, out, out=out)


class ScaleByMARS:
    r"""MARS's direction for the parameters it variance-reduces.

    With :math:`g_{t-1}` the parameter's previous gradient (zeros before its first,
    as in the reference), :math:`t` the group's step count:

    .. math::

        c_t &= g_t + \gamma \frac{\beta_1}{1-\beta_1} (g_t - g_{t-1}), \qquad
        c_t \leftarrow c_t / \|c_t\|_F \ \text{if} \ \|c_t\|_F > 1 \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) c_t

    and then, by ``mars_type``:

    - ``"adamw"`` (and ``"shampoo"`` for parameters with ``ndim < 2``):
      :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) c_t^2`,
      :math:`d_t = \frac{m_t/(1-\beta_1^t)}{(\sqrt{v_t + 10^{-15}} + \epsilon)/\sqrt{1-\beta_2^t}}`
      (``ams_bound``: :math:`\max_{s\le t} v_s` in place of :math:`v_t`);
    - ``"lion"``: :math:`d_t = \operatorname{sign}(m_t)`;
    - ``"shampoo"`` (``ndim >= 2``): :math:`d_t = s\,\operatorname{NS}_5(m_t/(1-\beta_1))`
      on the ``(shape[0], -1)`` view, :math:`s = \sqrt{\max(1, \text{shape}[0]/\text{shape}[1])}`
      (the reference's ratio of the first two dims, also for a 3-D or 4-D parameter),
      five quintic Newton-Schulz iterations with the ``'original'`` coefficients and
      :math:`\epsilon` as the normalisation floor, in the parameter's dtype
      (pytorch_optimizer: bfloat16).

    ``torch.lerp``'s formula for :math:`m`; :math:`\|c_t\|_F` over the whole tensor.
    The step count is the group's (``state["count"]``, pytorch_optimizer's
    ``group["step"]``); the previous gradient is the parameter's own.
    """

    elementwise = False  # the clipping norm is over the whole tensor

    def __init__(
        self, b1: float = 0.95, b2: float = 0.99, eps: float = 1e-8, gamma: float = 0.025,
        mars_type: str = "adamw", ams_bound: bool = False,
    ) -> None:  # fmt: skip
        if mars_type not in MARS_TYPES:
            raise ValueError(
                f"mars_type must be one of {', '.join(map(repr, MARS_TYPES))}; "
                f"received mars_type={mars_type!r}"
            )
        self.b1, self.b2, self.eps, self.gamma = float(b1), float(b2), float(eps), float(gamma)
        self.mars_type, self.ams_bound = mars_type, bool(ams_bound)

    def init(self, params: Arrays) -> State:
        state = buffers(params, "m", "v", "last_grad", "out", "scratch")
        if self.ams_bound:
            state.update(zero_buffers(params, "v_max"))
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        b1 = self.b1
        bc1, bc2 = bias_corrections(t, b1, self.b2)
        scale = self.gamma * (b1 / (1.0 - b1))
        v_max = state["v_max"] if self.ams_bound else [None] * len(updates)
        for g, m, v, vm, last, out, c in zip(
            updates, state["m"], state["v"], v_max, state["last_grad"], state["out"],
            state["scratch"], strict=True,
        ):  # fmt: skip
            np.subtract(g, last, out=c)
            c *= scale
            c += g
            norm = float(np.linalg.norm(c.reshape(-1)))
            if norm > 1.0:
                c /= norm
            lerp_(m, c, 1.0 - b1, scratch=out)
            if self.mars_type == "lion":
                np.sign(m, out=out)
            elif self.mars_type == "shampoo" and g.ndim >= 2:
                factor = math.sqrt(max(1.0, g.shape[0] / g.shape[1]))
                np.multiply(m, 1.0 / (1.0 - b1), out=out)
                ortho = newton_schulz(
                    out.reshape(g.shape[0], -1), 5, NS_COEFFICIENTS["original"], self.eps
                )
                np.multiply(ortho.reshape(g.shape), factor, out=out)
            else:
                _adam_direction(m, v, vm, c, bc1, bc2, self.b2, self.eps, out)
            np.copyto(last, g)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_mars(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps!r}, "
            f"gamma={self.gamma!r}, mars_type={self.mars_type!r}, ams_bound={self.ams_bound})"
        )


class ScaleByMARSAdamW:
    r"""MARS's AdamW for the parameters it does not variance-reduce (``ndim < 2`` unless
    ``optimize_1d``), with ``betas_1d``, on the group's step count:

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        d_t = \frac{m_t/(1-\beta_1^t)}{(\sqrt{v_t + 10^{-15}} + \epsilon)/\sqrt{1-\beta_2^t}}

    (``ams_bound``: :math:`\max_{s\le t} v_s` in place of :math:`v_t`). ``torch.lerp``'s
    formula for :math:`m`. No correction term, no clipping.
    """

    #: Each output element depends on the same element of the inputs only.
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.95, eps: float = 1e-8, ams_bound: bool = False
    ) -> None:
        self.b1, self.b2, self.eps, self.ams_bound = float(b1), float(b2), float(eps), ams_bound

    def init(self, params: Arrays) -> State:
        state = buffers(params, "m", "v", "out", "scratch")
        if self.ams_bound:
            state.update(zero_buffers(params, "v_max"))
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        bc1, bc2 = bias_corrections(t, self.b1, self.b2)
        v_max = state["v_max"] if self.ams_bound else [None] * len(updates)
        for g, m, v, vm, out, c in zip(
            updates, state["m"], state["v"], v_max, state["out"], state["scratch"], strict=True
        ):
            lerp_(m, g, 1.0 - self.b1, scratch=out)
            np.copyto(c, g)
            _adam_direction(m, v, vm, c, bc1, bc2, self.b2, self.eps, out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_mars_adamw(b1={self.b1!r}, b2={self.b2!r}, eps={self.eps!r}, "
            f"ams_bound={self.ams_bound})"
        )
