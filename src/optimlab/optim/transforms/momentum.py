"""Momentum: heavy ball / Nesterov (PyTorch's form) and quasi-hyperbolic momentum."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, zeros_like_each
from optimlab.optim.transforms._moments import ema_


class Trace:
    r"""Momentum as in ``torch.optim.SGD`` (Sutskever et al., 2013).

    .. math::

        b_t = \mu_t b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1), \qquad
        d_t = g_t + \mu_t b_t \ \text{(Nesterov)} \ \text{or} \ b_t

    ``momentum`` (:math:`\mu_t`) is this step's (Demon decays it). A step whose
    :math:`\mu_t = 0` passes the gradient through and leaves the buffer alone,
    as PyTorch does.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, momentum: float, dampening: float = 0.0, nesterov: bool = False) -> None:
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.nesterov = bool(nesterov)

    def init(self, params: Arrays) -> State:
        state = {"buf": PerParam([None] * len(params))}
        if self.nesterov:  # without Nesterov the buffer itself is the output
            state["out"] = zeros_like_each(params)
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        mu = self.momentum
        if mu == 0.0:
            return updates
        bufs, out = state["buf"], state.get("out")
        result = []
        for i, g in enumerate(updates):
            buf = bufs[i]
            if buf is None:
                bufs[i] = buf = g.copy()
            else:
                buf *= mu
                if self.dampening == 0.0:
                    buf += g
                else:
                    buf += (1.0 - self.dampening) * g
            if self.nesterov:
                np.multiply(buf, mu, out=out[i])
                out[i] += g
                result.append(out[i])
            else:
                result.append(buf)  # read only downstream: no copy needed
        return result

    def __repr__(self) -> str:
        return (
            f"trace(momentum={self.momentum!r}, dampening={self.dampening}, "
            f"nesterov={self.nesterov})"
        )


class QuasiHyperbolicMomentum:
    r"""Quasi-hyperbolic momentum (Ma and Yarats, arXiv:1810.06801).

    .. math::

        b_t = \beta_t b_{t-1} + (1 - \beta_t) g_t \quad (b_0 = 0), \qquad
        d_t = \nu b_t + (1 - \nu) g_t

    ``nu = 1`` is dampened momentum, ``nu = 0`` plain SGD. As qhoptim's QHM.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, momentum: float, nu: float) -> None:
        self.momentum = float(momentum)
        self.nu = float(nu)

    def init(self, params: Arrays) -> State:
        return {"buf": zeros_like_each(params), "out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        beta, nu = self.momentum, self.nu
        for g, buf, o in zip(updates, state["buf"], state["out"], strict=True):
            ema_(buf, g, beta, scratch=o)
            np.multiply(buf, nu, out=o)
            if nu != 1.0:
                o += (1.0 - nu) * g
        return state["out"]

    def __repr__(self) -> str:
        return f"quasi_hyperbolic_momentum(momentum={self.momentum!r}, nu={self.nu})"
