"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from optimlab._validation import check_nonnegative
from optimlab.nn.module import Parameter
from optimlab.optim.optimizer import Optimizer


class SGD(Optimizer):
    r"""SGD with PyTorch's semantics (``torch.optim.SGD``).

    Notation: :math:`g_t` the gradient, :math:`\theta_t` the parameters,
    :math:`\eta` the learning rate ``lr``, :math:`\mu` ``momentum``,
    :math:`\tau` ``dampening``, :math:`\lambda` ``weight_decay``.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \mu b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1) \\
        d_t &= g_t + \mu b_t \ \text{(nesterov)}, \quad d_t = b_t \ \text{(otherwise)} \\
        \theta_t &= \theta_{t-1} - \eta d_t

    With ``momentum=0`` the update is plain :math:`\theta_t = \theta_{t-1} - \eta g_t`
    (Robbins and Monro, 1951). Momentum as written is PyTorch's form (Sutskever
    et al., 2013, "On the importance of initialization and momentum in deep
    learning"), which multiplies the learning rate *after* the buffer: it
    differs from the textbook :math:`v = \mu v - \eta g` only when ``lr`` changes.

    Notes
    -----
    The first buffer is the gradient itself, not :math:`(1-\tau) g_1`, as in
    PyTorch. ``nesterov=True`` needs ``momentum > 0`` and ``dampening == 0``.
    """

    name = "sgd"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 1e-3,
        "momentum": 0.0,
        "dampening": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
    }

    def validate(self, group: Mapping[str, Any]) -> None:
        super().validate(group)
        check_nonnegative(self.name, "momentum", group["momentum"])
        check_nonnegative(self.name, "dampening", group["dampening"])
        check_nonnegative(self.name, "weight_decay", group["weight_decay"])
        if not isinstance(group["nesterov"], bool):
            raise ValueError(
                f"{self.name}: nesterov must be true or false; "
                f"received nesterov={group['nesterov']!r}"
            )
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{self.name}: nesterov=True needs momentum > 0 and dampening = 0; received "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def update_parameter(
        self, p: Parameter, grad: np.ndarray, state: dict[str, np.ndarray], group: Mapping
    ) -> None:
        lr, mu = float(group["lr"]), float(group["momentum"])
        wd = float(group["weight_decay"])
        if wd != 0.0:
            grad = grad + wd * p.data
        if mu != 0.0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= mu
                buf += (1.0 - float(group["dampening"])) * grad
            grad = grad + mu * buf if group["nesterov"] else buf
        p.data -= lr * grad
