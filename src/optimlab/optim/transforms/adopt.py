"""ADOPT: normalise by the *previous* second moment, then take momentum."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, buffers
from optimlab.optim.transforms._moments import ema_square_
from optimlab.optim.transforms._torch_ops import lerp_


class ScaleByADOPT:
    r"""ADOPT (Taniguchi et al., "ADOPT: Modified Adam Can Converge with Any
    :math:`\beta_2` with the Optimal Rate", arXiv:2411.02853), as ``pytorch_optimizer.ADOPT``.

    .. math::

        v_1 &= g_1^2, \quad d_1 = 0 \quad \text{(the first step only initialises } v) \\
        n_t &= \operatorname{clip}\Big(\frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)},
                \, -c_t, \, c_t\Big), \qquad c_t = t^{\,\text{clip\_exponent}} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) n_t, \qquad d_t = m_t \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \quad \text{(after the step)}

    The gradient is normalised by the second moment of the *previous* steps
    (so :math:`g_t` and its scaling are independent), :math:`\epsilon` is a
    floor (``clamp_min``), not an addend, and there is no bias correction.
    ``clip_exponent`` is pytorch_optimizer's ``clip_lambda = lambda step:
    step ** 0.25`` written as its exponent (the paper's stabilising clip,
    with a bound growing in :math:`t`); ``None`` disables clipping (``clip_lambda=None``). Other
    ``clip_lambda`` functions are not offered. Demon decays ``b1``: without a
    bias correction a changing :math:`\beta_1` is exact.

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``ADOPT``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.9999, eps: float = 1e-6,
        clip_exponent: float | None = 0.25,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.clip_exponent = None if clip_exponent is None else float(clip_exponent)

    def init(self, params: Arrays) -> State:
        return buffers(params, "m", "v", "out")

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2 = self.b1, self.b2
        state["count"] = t = state["count"] + 1  # the group's steps (pytorch_optimizer's)
        clip = None if self.clip_exponent is None else float(t) ** self.clip_exponent
        for g, m, v, out in zip(updates, state["m"], state["v"], state["out"], strict=True):
            if t == 1:
                np.multiply(g, g, out=out)
                v += out
                out.fill(0.0)
                continue
            np.sqrt(v, out=out)
            np.maximum(out, self.eps, out=out)
            np.divide(g, out, out=out)
            if clip is not None:
                np.clip(out, -clip, clip, out=out)
            lerp_(m, out, 1.0 - b1)
            ema_square_(v, g, b2, scratch=out)
            np.copyto(out, m)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_adopt(b1={self.b1!r}, b2={self.b2}, eps={self.eps}, "
            f"clip_exponent={self.clip_exponent})"
        )
