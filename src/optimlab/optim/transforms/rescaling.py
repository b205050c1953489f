"""Adaptive rescalings of PyTorch's classic optimizers: Adagrad, RMSprop, Adadelta, NAdam, RAdam."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, State, buffers, counters, zeros_like_each
from optimlab.optim.transforms._moments import bias_corrections, ema_, ema_square_


class ScaleByAdagrad:
    r"""Adagrad (Duchi, Hazan and Singer, JMLR 2011), as ``torch.optim.Adagrad``.

    .. math::

        s_t = s_{t-1} + g_t^2 \quad (s_0 = \text{initial\_accumulator\_value}), \qquad
        d_t = \frac{g_t}{(1 + (t-1)\,\text{lr\_decay}) (\sqrt{s_t} + \epsilon)}

    :math:`t` counts the parameter's own steps (PyTorch's per-parameter ``step``).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, eps: float = 1e-10, initial_accumulator_value: float = 0.0, lr_decay: float = 0.0
    ) -> None:
        self.eps, self.initial, self.lr_decay = (
            float(eps),
            float(initial_accumulator_value),
            float(lr_decay),
        )

    def init(self, params: Arrays) -> State:
        sums = zeros_like_each(params)
        for s in sums:
            s.fill(self.initial)
        return {"count": counters(params), "sum": sums, "out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        steps = state["count"]
        for i, (g, s, out) in enumerate(zip(updates, state["sum"], state["out"], strict=True)):
            decay = 1.0 / (1.0 + steps[i] * self.lr_decay)
            steps[i] += 1
            s += g * g
            np.sqrt(s, out=out)
            out += self.eps
            np.divide(g, out, out=out)
            if decay != 1.0:
                out *= decay
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_adagrad(eps={self.eps}, initial={self.initial}, lr_decay={self.lr_decay})"


class ScaleByRMSprop:
    r"""RMSprop (Hinton, Lecture 6e, 2012; centered: Graves, arXiv:1308.0850).

    As ``torch.optim.RMSprop``:

    .. math::

        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t \ \text{(centered)} \\
        r_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \quad
        r_t = \sqrt{v_t} + \epsilon \ \text{(otherwise)} \\
        b_t &= \mu b_{t-1} + g_t / r_t, \qquad d_t = b_t \ (\mu > 0), \quad d_t = g_t / r_t

    No bias correction; the learning rate multiplies after the momentum buffer.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, alpha: float = 0.99, eps: float = 1e-8, *, centered: bool = False,
        momentum: float = 0.0,
    ) -> None:  # fmt: skip
        self.alpha, self.eps, self.centered, self.momentum = (
            float(alpha),
            float(eps),
            bool(centered),
            float(momentum),
        )

    def init(self, params: Arrays) -> State:
        state = {"v": zeros_like_each(params), "out": zeros_like_each(params)}
        if self.centered:
            state["g_avg"] = zeros_like_each(params)
        if self.momentum != 0.0:
            state["buf"] = zeros_like_each(params)
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        mu, alpha = self.momentum, self.alpha
        for i, g in enumerate(updates):
            v, out = state["v"][i], state["out"][i]
            ema_square_(v, g, alpha, scratch=out)
            if self.centered:
                g_avg = state["g_avg"][i]
                ema_(g_avg, g, alpha, scratch=out)
                np.subtract(v, g_avg * g_avg, out=out)
                np.sqrt(out, out=out)
            else:
                np.sqrt(v, out=out)
            out += self.eps
            np.divide(g, out, out=out)
            if "buf" in state:
                buf = state["buf"][i]
                buf *= mu
                buf += out
                np.copyto(out, buf)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_rmsprop(alpha={self.alpha}, eps={self.eps}, centered={self.centered}, "
            f"momentum={self.momentum!r})"
        )


class ScaleByAdadelta:
    r"""Adadelta (Zeiler, arXiv:1212.5701), as ``torch.optim.Adadelta``.

    .. math::

        v_t &= \rho v_{t-1} + (1-\rho) g_t^2, \qquad
        d_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t, \qquad
        u_t = \rho u_{t-1} + (1-\rho) d_t^2

    The learning rate (default 1.0, as in PyTorch; the paper has none) multiplies :math:`d_t`.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, rho: float = 0.9, eps: float = 1e-6) -> None:
        self.rho, self.eps = float(rho), float(eps)

    def init(self, params: Arrays) -> State:
        return {name: zeros_like_each(params) for name in ("v", "u", "out")}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        rho, eps = self.rho, self.eps
        for g, v, u, out in zip(updates, state["v"], state["u"], state["out"], strict=True):
            ema_square_(v, g, rho, scratch=out)
            np.add(u, eps, out=out)
            np.sqrt(out, out=out)
            out /= np.sqrt(v + eps)
            out *= g
            ema_square_(u, out, rho, scratch=np.empty_like(out))
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_adadelta(rho={self.rho}, eps={self.eps})"


class ScaleByNAdam:
    r"""NAdam (Dozat, ICLR 2016 workshop), as ``torch.optim.NAdam``.

    .. math::

        \mu_t &= \beta_1 (1 - \tfrac12 \, 0.96^{t \psi}), \qquad
        \Pi_t = \prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        d_t &= \frac{1}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}
               \Big( \frac{(1-\mu_t) g_t}{1 - \Pi_t}
                     + \frac{\mu_{t+1} m_t}{1 - \Pi_t \mu_{t+1}} \Big)

    with :math:`\psi` the ``momentum_decay`` (4e-3). :math:`t` and the product
    :math:`\Pi_t` are kept per parameter, as PyTorch keeps them; the product in
    float64 (PyTorch keeps it in its default dtype).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, momentum_decay: float = 4e-3
    ) -> None:
        self.b1, self.b2, self.eps, self.momentum_decay = (
            float(b1),
            float(b2),
            float(eps),
            float(momentum_decay),
        )

    def init(self, params: Arrays) -> State:
        return {
            "count": counters(params),
            "mu_product": counters(params, 1.0),
            "m": zeros_like_each(params),
            "v": zeros_like_each(params),
            "out": zeros_like_each(params),
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2, psi = self.b1, self.b2, self.momentum_decay
        steps, products = state["count"], state["mu_product"]
        for i, (g, m, v, out) in enumerate(
            zip(updates, state["m"], state["v"], state["out"], strict=True)
        ):
            steps[i] = t = steps[i] + 1
            mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            products[i] = prod = products[i] * mu
            c_grad = (1.0 - mu) / (1.0 - prod)
            c_mom = mu_next / (1.0 - prod * mu_next)
            (bc2,) = bias_corrections(t, b2)
            ema_(m, g, b1, scratch=out)
            ema_square_(v, g, b2, scratch=out)
            denom = np.sqrt(v / bc2)
            denom += self.eps
            np.multiply(g, c_grad, out=out)
            out += c_mom * m
            out /= denom
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_nadam(b1={self.b1}, b2={self.b2}, eps={self.eps}, "
            f"momentum_decay={self.momentum_decay})"
        )


class ScaleByRAdam:
    r"""Rectified Adam (Liu et al., arXiv:1908.03265), as ``torch.optim.RAdam``.

    .. math::

        \rho_\infty = \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \qquad
        \hat m_t = \frac{m_t}{1-\beta_1^t}

    If :math:`\rho_t > 5`:
    :math:`d_t = \hat m_t \, r_t \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon)`
    with the rectification
    :math:`r_t = \sqrt{(\rho_t-4)(\rho_t-2)\rho_\infty / ((\rho_\infty-4)(\rho_\infty-2)\rho_t)}`;
    otherwise :math:`d_t = \hat m_t` (momentum SGD while the variance estimate is unreliable).
    :math:`t` counts the parameter's own steps (PyTorch's per-parameter ``step``).
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)

    def init(self, params: Arrays) -> State:
        return {**buffers(params, "m", "v", "out"), "count": counters(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        b1, b2 = self.b1, self.b2
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        steps = state["count"]
        for i, (g, m, v, out) in enumerate(
            zip(updates, state["m"], state["v"], state["out"], strict=True)
        ):
            steps[i] = t = steps[i] + 1
            bc1, bc2 = bias_corrections(t, b1, b2)
            rho_t = rho_inf - 2.0 * t * b2**t / bc2
            rect = None
            if rho_t > 5.0:
                rect = math.sqrt(
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                )
            ema_(m, g, b1, scratch=out)
            ema_square_(v, g, b2, scratch=out)
            if rect is None:
                np.multiply(m, 1.0 / bc1, out=out)
            else:
                np.sqrt(v, out=out)
                out += self.eps
                np.divide(m, out, out=out)
                out *= rect * math.sqrt(bc2) / bc1
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_radam(b1={self.b1}, b2={self.b2}, eps={self.eps})"
