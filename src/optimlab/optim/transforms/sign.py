"""Sign-based steps: Lion (the sign of an interpolated momentum) and Signum / signSGD."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp, lerp_


class ScaleByLion:
    r"""Lion, EvoLved Sign Momentum (Chen et al., "Symbolic Discovery of Optimization
    Algorithms", arXiv:2302.06675), as ``pytorch_optimizer.Lion``.

    .. math::

        d_t &= \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t \qquad (m_0 = 0)

    :math:`\operatorname{sign}(0) = 0`. No bias correction and no
    :math:`\epsilon`; every coordinate of the step has magnitude 1 (times the
    learning rate), so Lion wants a learning rate 3-10x smaller than AdamW's.
    Both interpolations use ``torch.lerp``'s formula. Demon decays ``b1``
    (with no bias correction a changing :math:`\beta_1` needs no correction either).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, b1: float = 0.9, b2: float = 0.99) -> None:
        self.b1, self.b2 = float(b1), float(b2)

    def init(self, params: Arrays) -> State:
        return {
            "m": zeros_like_each(params),
            "out": zeros_like_each(params),
            "scratch": zeros_like_each(params),  # so that no step allocates
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2 = self.b1, self.b2
        for g, m, out, scratch in zip(
            updates, state["m"], state["out"], state["scratch"], strict=True
        ):
            lerp(m, g, 1.0 - b1, out=scratch)
            # Not in place: NumPy's in-place sign falls back to a branchy scalar
            # loop, 8x slower on mixed signs (measured).
            np.sign(scratch, out=out)
            lerp_(m, g, 1.0 - b2, scratch=scratch)
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_lion(b1={self.b1!r}, b2={self.b2!r})"


class ScaleBySignum:
    r"""Signum, the sign of momentum, and signSGD, the sign of the gradient (Bernstein,
    Wang, Azizzadenesheli and Anandkumar, "signSGD: Compressed Optimisation for
    Non-Convex Problems", arXiv:1802.04434), as ``pytorch_optimizer.SignSGD``.

    .. math::

        m_t = \beta m_{t-1} + (1-\beta) g_t \quad (m_0 = 0), \qquad
        d_t = \operatorname{sign}(m_t)

    with ``torch.lerp``'s formula for the average; :math:`\beta = 0` is signSGD,
    :math:`d_t = \operatorname{sign}(g_t)`, and leaves :math:`m` untouched (as the
    reference, which keeps no buffer then). No bias correction: the sign of
    :math:`m_t` does not depend on its scale. :math:`\operatorname{sign}(0) = 0`.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, momentum: float = 0.9) -> None:
        self.momentum = float(momentum)

    def init(self, params: Arrays) -> State:
        return {
            "m": zeros_like_each(params),
            "out": zeros_like_each(params),
            "scratch": zeros_like_each(params),
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        for g, m, out, scratch in zip(
            updates, state["m"], state["out"], state["scratch"], strict=True
        ):
            if self.momentum > 0.0:
                lerp_(m, g, 1.0 - self.momentum, scratch=scratch)
                np.sign(m, out=out)
            else:
                np.sign(g, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_signum(momentum={self.momentum!r})"
