"""Schedule-free SGD and AdamW: averaging in place of a learning-rate schedule."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp_

#: pytorch_optimizer's ``apply_ams_bound`` adds this inside the square root.
SQRT_EPS = 1e-15


class ScheduleFreeSGD:
    r"""Schedule-free SGD (Defazio et al., "The Road Less Scheduled", arXiv:2405.15682),
    as ``pytorch_optimizer.ScheduleFreeSGD``; the update it returns carries the learning rate.

    Three sequences: :math:`z` (the SGD iterate), :math:`x` (its weighted
    average, the point to evaluate) and :math:`y` (where gradients are taken).
    The **parameters hold** :math:`y` **during training**:

    .. math::

        \gamma_t &= \eta \min(1, t / \text{warmup\_steps}), \qquad
        w_t = t^r \big(\max_{s \le t} \gamma_s\big)^{p}, \qquad
        c_t = w_t \Big/ \sum_{s \le t} w_s \\
        z_t &= z_{t-1} - \gamma_t g_t, \qquad
        x_t = (1 - c_t) x_{t-1} + c_t z_t, \qquad
        y_t = (1 - \beta) z_t + \beta x_t

    with :math:`g_t = \nabla f(y_{t-1}) + \lambda y_{t-1}` (coupled weight
    decay at :math:`y`), :math:`z_0 = x_0 = y_0` the parameters at their first
    step, :math:`\beta` = momentum, :math:`p` = weight_lr_power. Only
    :math:`z` is stored; :math:`y` is updated as
    :math:`y \leftarrow y + c_t (z_{t-1} - y) + \gamma_t (\beta (1 - c_t) - 1) g_t`.

    ``to_eval`` (``optimizer.eval()``) turns the parameters into :math:`x =
    (y - (1-\beta) z) / \beta` and ``to_train`` (``optimizer.train()``) back
    into :math:`y`; each is a no-op when already in that mode, and parameters
    that never had a step are left alone. As in the reference, ``step()`` does
    not check the mode: call ``train()`` before stepping again.

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference (pytorch_optimizer's ``ScheduleFreeSGD``) keeps it in ``group["step"]`` on
    purpose, so a parameter that skips steps is debiased by the group's age.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(
        self, lr: float = 1.0, momentum: float = 0.9,
        weight_decay: float = 0.0, r: float = 0.0, weight_lr_power: float = 2.0,
        warmup_steps: int = 0,
    ) -> None:  # fmt: skip
        self.lr, self.beta, self.weight_decay = lr, momentum, weight_decay
        self.r, self.weight_lr_power = float(r), float(weight_lr_power)
        self.warmup_steps = int(warmup_steps)

    def init(self, params: Arrays) -> State:
        return {
            "count": 0,
            "weight_sum": 0.0,
            "lr_max": -1.0,
            "train_mode": True,
            "z": PerParam([None] * len(params)),  # set to the parameter at its first step
            "out": zeros_like_each(params),
        }

    # -- the preconditioner (identity here; AdamW's in the subclass) -------------------
    def _normalise(
        self, g: np.ndarray, i: int, state: State, out: np.ndarray, t: int
    ) -> np.ndarray:
        return g

    def _checkpoint(self, c: float, beta: float) -> float:
        return c

    # -- the step --------------------------------------------------------------------
    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        lr, wd, beta = self.lr, self.weight_decay, self.beta
        state["count"] = t = state["count"] + 1
        warmup = t / self.warmup_steps if t < self.warmup_steps else 1.0
        lr_t = lr * warmup
        state["lr_max"] = lr_max = max(lr_t, state["lr_max"])
        weight = (t**self.r) * (lr_max**self.weight_lr_power)
        state["weight_sum"] = weight_sum = state["weight_sum"] + weight
        c = self._checkpoint(weight / weight_sum if weight_sum != 0.0 else 0.0, beta)
        y_coefficient = lr_t * (beta * (1.0 - c) - 1.0)
        zs = state["z"]
        for i, (g, p, out) in enumerate(zip(updates, params, state["out"], strict=True)):
            if zs[i] is None:
                zs[i] = p.copy()
            z = zs[i]
            g = self._normalise(g, i, state, out, t)
            if wd > 0.0:
                g = g + wd * p
            toward_z = np.subtract(z, p)
            toward_z *= c
            z -= lr_t * g
            np.multiply(g, y_coefficient, out=out)
            out += toward_z
        return state["out"]

    # -- modes -----------------------------------------------------------------------
    def to_eval(self, state: State, params: Arrays) -> None:
        """Parameters from :math:`y` to :math:`x = y + (1 - 1/\\beta)(z - y)` (if training)."""
        if not state["train_mode"]:
            return
        weight = 1.0 - 1.0 / self.beta
        for p, z in zip(params, state["z"], strict=True):
            if z is not None:
                lerp_(p, z, weight)
        state["train_mode"] = False

    def to_train(self, state: State, params: Arrays) -> None:
        """Parameters from :math:`x` back to :math:`y = x + (1 - \\beta)(z - x)` (if evaluating)."""
        if state["train_mode"]:
            return
        weight = 1.0 - self.beta
        for p, z in zip(params, state["z"], strict=True):
            if z is not None:
                lerp_(p, z, weight)
        state["train_mode"] = True

    def __repr__(self) -> str:
        return (
            f"schedule_free_sgd(lr={self.lr!r}, momentum={self.beta!r}, "
            f"weight_decay={self.weight_decay!r}, r={self.r}, "
            f"weight_lr_power={self.weight_lr_power}, warmup_steps={self.warmup_steps})"
        )


class ScheduleFreeAdamW(ScheduleFreeSGD):
    r"""Schedule-free AdamW (Defazio et al., arXiv:2405.15682, Algorithm 1), as
    ``pytorch_optimizer.ScheduleFreeAdamW``.

    :class:`ScheduleFreeSGD` with :math:`\beta = \beta_1` and the gradient
    replaced by

    .. math::

        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        g'_t = \frac{g_t}{\sqrt{v_t / (1-\beta_2^t) + 10^{-15}} + \epsilon} + \lambda y_{t-1}

    (coupled weight decay *after* the normalisation, at :math:`y`; the
    :math:`10^{-15}` inside the square root is pytorch_optimizer's). There is
    no first moment: :math:`\beta_1` only enters through the interpolation.
    ``ams_bound`` uses :math:`\max_{s \le t} v_s / (1-\beta_2^s)`.
    ``decoupling_c`` :math:`> 0` replaces :math:`c_t` by
    :math:`\min(1, c_t (1-\beta_1) \, \text{decoupling\_c})`.
    """

    def __init__(
        self, lr: float = 2.5e-3, b1: float = 0.9, b2: float = 0.999,
        eps: float = 1e-8, weight_decay: float = 0.0, r: float = 0.0,
        weight_lr_power: float = 2.0, warmup_steps: int = 0, decoupling_c: float = 0.0,
        ams_bound: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(lr, b1, weight_decay, r, weight_lr_power, warmup_steps)
        self.b2, self.eps = float(b2), float(eps)
        self.decoupling_c, self.ams_bound = float(decoupling_c), bool(ams_bound)

    def init(self, params: Arrays) -> State:
        state = super().init(params)
        state["v"] = zeros_like_each(params)
        if self.ams_bound:
            state["v_max"] = zeros_like_each(params)
        return state

    def _checkpoint(self, c: float, beta: float) -> float:
        if self.decoupling_c > 0.0:
            return min(1.0, c * (1.0 - beta) * self.decoupling_c)
        return c

    def _normalise(
        self, g: np.ndarray, i: int, state: State, out: np.ndarray, t: int
    ) -> np.ndarray:
        v = state["v"][i]
        np.multiply(g, g, out=out)
        out *= 1.0 - self.b2
        v *= self.b2
        v += out
        np.divide(v, 1.0 - self.b2**t, out=out)
        if self.ams_bound:
            v_max = state["v_max"][i]
            np.maximum(v_max, out, out=v_max)
            np.copyto(out, v_max)
        out += SQRT_EPS
        np.sqrt(out, out=out)
        out += self.eps
        return np.divide(g, out, out=out)

    def __repr__(self) -> str:
        return (
            f"schedule_free_adamw(lr={self.lr!r}, b1={self.beta!r}, b2={self.b2}, "
            f"eps={self.eps}, weight_decay={self.weight_decay!r}, r={self.r}, "
            f"weight_lr_power={self.weight_lr_power}, warmup_steps={self.warmup_steps}, "
            f"decoupling_c={self.decoupling_c}, ams_bound={self.ams_bound})"
        )
