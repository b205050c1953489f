"""Schedule-free: averaging in place of a learning-rate schedule, around a base direction."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, Transform, buffers, zeros_like_each
from optimlab.optim.transforms._moments import bias_corrections, ema_square_
from optimlab.optim.transforms._torch_ops import lerp_

#: pytorch_optimizer's ``apply_ams_bound`` adds this inside the square root.
SQRT_EPS = 1e-15


class ScheduleFree:
    r"""Schedule-free (Defazio et al., "The Road Less Scheduled", arXiv:2405.15682)
    around a base direction, as the paper presents it: schedule-free SGD is this
    around the gradient itself (``base=None``), schedule-free AdamW around
    :class:`ScaleBySecondMoment` (as ``pytorch_optimizer.ScheduleFreeSGD`` and
    ``ScheduleFreeAdamW``); the update it returns carries the learning rate.

    Three sequences: :math:`z` (the base method's iterate), :math:`x` (its
    weighted average, the point to evaluate) and :math:`y` (where gradients are
    taken). The **parameters hold** :math:`y` **during training**:

    .. math::

        \gamma_t &= \eta \min(1, t / \text{warmup\_steps}), \qquad
        w_t = t^r \big(\max_{s \le t} \gamma_s\big)^{p}, \qquad
        c_t = w_t \Big/ \sum_{s \le t} w_s \\
        z_t &= z_{t-1} - \gamma_t d_t, \qquad
        x_t = (1 - c_t) x_{t-1} + c_t z_t, \qquad
        y_t = (1 - \beta) z_t + \beta x_t

    with :math:`d_t = \operatorname{base}(\nabla f(y_{t-1})) + \lambda y_{t-1}`
    (coupled weight decay at :math:`y`, after the base direction),
    :math:`z_0 = x_0 = y_0` the parameters at their first step, :math:`\beta` =
    momentum (AdamW: :math:`\beta_1`), :math:`p` = weight_lr_power. Only
    :math:`z` is stored; :math:`y` is updated as :math:`y \leftarrow y + c_t
    (z_{t-1} - y) + \gamma_t (\beta (1 - c_t) - 1) d_t`. ``decoupling_c > 0``
    (pytorch_optimizer's AdamW option): :math:`c_t \leftarrow \min(1, c_t
    (1-\beta)\,\text{decoupling\_c})`.

    ``to_eval`` (``optimizer.eval()``) turns the parameters into :math:`x =
    (y - (1-\beta) z) / \beta` and ``to_train`` (``optimizer.train()``) back
    into :math:`y`; each is a no-op when already in that mode, and parameters
    that never had a step are left alone. As in the reference, ``step()`` does
    not check the mode: call ``train()`` before stepping again.

    The step count :math:`t` is the parameter group's, not each parameter's: the
    reference keeps it in ``group["step"]`` on purpose, so a parameter that
    skips steps is weighted by the group's age.
    """

    def __init__(
        self, base: Transform | None, lr: float, momentum: float, weight_decay: float = 0.0,
        r: float = 0.0, weight_lr_power: float = 2.0, warmup_steps: int = 0,
        decoupling_c: float = 0.0,
    ) -> None:  # fmt: skip
        self.base, self.lr, self.beta = base, float(lr), float(momentum)
        self.weight_decay, self.r = float(weight_decay), float(r)
        self.weight_lr_power, self.warmup_steps = float(weight_lr_power), int(warmup_steps)
        self.decoupling_c = float(decoupling_c)

    @property
    def elementwise(self) -> bool:
        """Element-wise when the base direction is (the averaging is)."""
        return self.base is None or getattr(self.base, "elementwise", False) is True

    def init(self, params: Arrays) -> State:
        state = {
            "count": 0,
            "weight_sum": 0.0,
            "lr_max": -1.0,
            "train_mode": True,
            "z": PerParam([None] * len(params)),  # set to the parameter at its first step
            "out": zeros_like_each(params),
        }
        if self.base is not None:
            state["base"] = self.base.init(params)
        return state

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        if self.base is not None:
            updates = self.base.update(updates, state["base"], params)
        beta, wd = self.beta, self.weight_decay
        state["count"] = t = state["count"] + 1
        lr_t = self.lr * (t / self.warmup_steps if t < self.warmup_steps else 1.0)
        state["lr_max"] = lr_max = max(lr_t, state["lr_max"])
        weight = (t**self.r) * (lr_max**self.weight_lr_power)
        state["weight_sum"] = weight_sum = state["weight_sum"] + weight
        c = weight / weight_sum if weight_sum != 0.0 else 0.0
        if self.decoupling_c > 0.0:
            c = min(1.0, c * (1.0 - beta) * self.decoupling_c)
        y_coefficient = lr_t * (beta * (1.0 - c) - 1.0)
        zs = state["z"]
        for i, (d, p, out) in enumerate(zip(updates, params, state["out"], strict=True)):
            if zs[i] is None:
                zs[i] = p.copy()
            z = zs[i]
            if wd > 0.0:
                d = d + wd * p
            toward_z = np.subtract(z, p)
            toward_z *= c
            z -= lr_t * d
            np.multiply(d, y_coefficient, out=out)
            out += toward_z
        return state["out"]

    def to_eval(self, state: State, params: Arrays) -> None:
        """Parameters from :math:`y` to :math:`x = y + (1 - 1/\\beta)(z - y)` (if training)."""
        if state["train_mode"]:
            self._move(state, params, 1.0 - 1.0 / self.beta)
            state["train_mode"] = False

    def to_train(self, state: State, params: Arrays) -> None:
        """Parameters from :math:`x` back to :math:`y = x + (1 - \\beta)(z - x)` (if evaluating)."""
        if not state["train_mode"]:
            self._move(state, params, 1.0 - self.beta)
            state["train_mode"] = True

    def _move(self, state: State, params: Arrays, weight: float) -> None:
        # The one place parameters change outside a step: eval()/train() exist to do this.
        for p, z in zip(params, state["z"], strict=True):
            if z is not None:
                lerp_(p, z, weight)

    def __repr__(self) -> str:
        return (
            f"schedule_free({self.base!r}, lr={self.lr!r}, momentum={self.beta!r}, "
            f"weight_decay={self.weight_decay!r}, r={self.r}, "
            f"weight_lr_power={self.weight_lr_power}, warmup_steps={self.warmup_steps}, "
            f"decoupling_c={self.decoupling_c})"
        )


class ScaleBySecondMoment:
    r"""Adam's second-moment scaling without a first moment (schedule-free AdamW's
    base direction, as ``pytorch_optimizer.ScheduleFreeAdamW``):

    .. math::

        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        d_t = \frac{g_t}{\sqrt{v_t / (1-\beta_2^t) + 10^{-15}} + \epsilon}

    (the :math:`10^{-15}` inside the square root is pytorch_optimizer's).
    ``ams_bound`` uses :math:`\max_{s \le t} v_s / (1-\beta_2^s)`. The step
    count :math:`t` is the group's, as the reference's ``group["step"]``.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, b2: float = 0.999, eps: float = 1e-8, ams_bound: bool = False) -> None:
        self.b2, self.eps, self.ams_bound = float(b2), float(eps), bool(ams_bound)

    def init(self, params: Arrays) -> State:
        return buffers(params, "v", "out", *(["v_max"] if self.ams_bound else []))

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        (bc2,) = bias_corrections(t, self.b2)
        for i, (g, v, out) in enumerate(zip(updates, state["v"], state["out"], strict=True)):
            ema_square_(v, g, self.b2, scratch=out)
            np.divide(v, bc2, out=out)
            if self.ams_bound:
                v_max = state["v_max"][i]
                np.maximum(v_max, out, out=v_max)
                np.copyto(out, v_max)
            out += SQRT_EPS
            np.sqrt(out, out=out)
            out += self.eps
            np.divide(g, out, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return f"scale_by_second_moment(b2={self.b2}, eps={self.eps}, ams_bound={self.ams_bound})"
