r"""Learning-rate-free optimizers: Prodigy and D-Adaptation Adam (issue 18), tested against
pytorch_optimizer 4.1.

Both estimate the distance :math:`d \approx \|x_0 - x_*\|` as they go and take Adam-like
steps of size :math:`d \eta`: the learning rate :math:`\eta` is a multiplier of the
estimate (1 by default; the reference's advice is to leave it there unless training is
unstable). :math:`d` and the running sums behind it are one number per parameter group,
computed over all the group's parameters that have a gradient on the step (flattened:
0-d, vectors, matrices and conv kernels alike), so both are registered with
``step_counts="group"``; they are plain floats in the state, so ``state_dict``
round-trips them.

Differences from the reference: pytorch_optimizer shares one :math:`d` between all
parameter groups (with the first group's hyperparameters); here each group has its own.
A step in which no parameter of a group has a gradient is no step here (the facade skips
the group); the reference counts it. Prodigy's coupled decay follows the authors'
code (see :class:`~optimlab.optim.transforms.prodigy.ScaleByProdigy`).

``prodigyw`` and ``dadapt-adamw`` are the registry's decoupled decay,
:math:`x \leftarrow (1 - \eta\lambda)x` before the step with the learning rate
:math:`\eta` alone (a multiplier here, so with :math:`\eta = 1` a fixed decay of
:math:`\lambda` per step); their default ``weight_decay`` is the reference's, 0. The
optimizers' own decoupled decay (``weight_decay`` with ``weight_decouple=True``, the
default of Prodigy) scales by the step size :math:`d\eta`, as AdamW scales by its
learning rate; it is usually the one to use.
"""

from __future__ import annotations

import math
from typing import Any

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, chain
from optimlab.optim.registry import register
from optimlab.optim.transforms.dadapt import ScaleByDAdaptAdam
from optimlab.optim.transforms.prodigy import ScaleByProdigy

PO = "pytorch_optimizer.{} (4.1)"


def _prodigy(
    lr: float, betas: tuple, beta3: float | None, d0: float, d_coef: float,
    growth_rate: float, weight_decay: float, weight_decouple: bool, fixed_decay: bool,
    bias_correction: bool, safeguard_warmup: bool, eps: float | None,
) -> Chain:  # fmt: skip
    r"""Prodigy (Mishchenko and Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", arXiv:2306.06101), Adam version.

    .. math::

        \gamma_t &= d_t \eta / b_t, \qquad
        r_t = \beta_3 r_{t-1} + \tfrac{d_t}{d_0} \gamma_t
            \textstyle\sum_i \langle g_{i,t}, x_{i,0} - x_{i,t} \rangle \\
        m_t &= \beta_1 m_{t-1} + d_t (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + d_t^2 (1-\beta_2) g_t^2, \qquad
        s_t = \beta_3 s_{t-1} + \tfrac{d_t}{d_0} \gamma_t g_t \\
        \hat d_t &= c\, r_t \big/ \textstyle\sum_i \|s_{i,t}\|_1, \qquad
        D_t = \max(D_{t-1}, \hat d_t), \qquad
        d_{t+1} = \min(D_t, G\, d'_t) \\
        x_{t+1} &= x_t - \gamma_t \, m_t / (\sqrt{v_t} + d_{t+1} \epsilon)

    with :math:`d'_t = \max(d_t, \hat d_t)` while :math:`d_t = d_0` (then :math:`d_t`),
    :math:`D_0 = d_0`, :math:`\beta_3 = \sqrt{\beta_2}` unless given, :math:`c` =
    ``d_coef``, :math:`G` = ``growth_rate``, :math:`b_t = (1-\beta_1^t) /
    \sqrt{1-\beta_2^t}` with ``bias_correction`` (else 1), ``safeguard_warmup``:
    :math:`d_t` in place of :math:`\gamma_t` in :math:`s_t`; ``eps=None``:
    :math:`\operatorname{atan2}(m_t, \sqrt{v_t})` in place of the quotient. See
    :class:`~optimlab.optim.transforms.prodigy.ScaleByProdigy` for the details.

    Weight decay decoupled by default, :math:`x \leftarrow (1 - \gamma_t\lambda)x`
    (``fixed_decay``: :math:`(1-\lambda)x`) after the estimate and before the step.
    Note: with ``weight_decouple=False`` optimlab adds :math:`\lambda x` to the
    gradient before everything, as the authors' code does; pytorch_optimizer 4.1 adds
    it after the step has used the gradient, so that there it has no effect.

    Demon (``demon-prodigy``) decays :math:`\beta_1`, which enters only the first moment
    :math:`m` (the estimate of :math:`d` uses :math:`\beta_2` and :math:`\beta_3`): it
    changes the momentum of the step, not the distance estimate. Without bias correction
    (the default) nothing depends on :math:`\beta_1` being constant; with it,
    :math:`1-\beta_1^t` is kept as the running weight :math:`w_t = \beta_1 w_{t-1} +
    1 - \beta_1` (the same for a constant :math:`\beta_1`), the exact correction of an
    average whose coefficient changes. So Demon is exact either way.
    """
    b1, b2 = betas
    return chain(
        ScaleByProdigy(
            lr, b1, b2, beta3, d0, d_coef, growth_rate, weight_decay=weight_decay,
            weight_decouple=weight_decouple, fixed_decay=fixed_decay,
            bias_correction=bias_correction, safeguard_warmup=safeguard_warmup, eps=eps,
        )
    )  # fmt: skip


def _dadapt_adam(
    lr: float, betas: tuple, d0: float, growth_rate: float, weight_decay: float,
    weight_decouple: bool, fixed_decay: bool, bias_correction: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""D-Adaptation Adam (Defazio and Mishchenko, "Learning-Rate-Free Learning by
    D-Adaptation", arXiv:2301.07733; the authors' version 3).

    .. math::

        \gamma_t &= d_t \eta / b_t, \qquad \beta = \sqrt{\beta_2}, \qquad
        a_t = \gamma_t \textstyle\sum_i \langle g_{i,t},\,
            s_{i,t-1} / (\sqrt{v_{i,t-1}} + \epsilon) \rangle \\
        m_t &= \beta_1 m_{t-1} + \gamma_t (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        s_t = \beta s_{t-1} + \gamma_t (1-\beta) g_t \\
        r_t &= \beta r_{t-1} + (1-\beta) a_t, \qquad
        d_{t+1} = \max\big(d_t, \min(r_t / ((1-\beta) \textstyle\sum_i \|s_{i,t}\|_1),
            \, G d_t)\big) \\
        x_{t+1} &= x_t - m_t / (\sqrt{v_t} + \epsilon)

    :math:`G` = ``growth_rate``; :math:`b_t = (1-\beta_1^t)/\sqrt{1-\beta_2^t}` with
    ``bias_correction`` (else 1); :math:`d` is not updated while :math:`\eta = 0`. See
    :class:`~optimlab.optim.transforms.dadapt.ScaleByDAdaptAdam`. Weight decay coupled
    by default (:math:`g + \lambda x`); ``weight_decouple``: :math:`x \leftarrow (1 -
    \gamma_t\lambda)x` (``fixed_decay``: :math:`(1-\lambda)x`) before the step.

    Demon (``demon-dadapt-adam``) decays :math:`\beta_1`, which enters only the first
    moment (the estimate of :math:`d` uses :math:`\sqrt{\beta_2}`): it changes the
    momentum of the step, not the distance estimate. Without bias correction (the
    default) nothing depends on :math:`\beta_1` being constant, so Demon is exact. With
    it, each step's contribution to :math:`m` is scaled by that step's own
    :math:`1/b_t`; there is no average to debias, and :math:`b_t` is computed with the
    step's :math:`\beta_1`, as the reference does when ``betas`` change between steps.
    """
    b1, b2 = betas
    return chain(
        ScaleByDAdaptAdam(
            lr, b1, b2, d0, growth_rate, weight_decay=weight_decay,
            weight_decouple=weight_decouple, fixed_decay=fixed_decay,
            bias_correction=bias_correction, eps=eps,
        )
    )  # fmt: skip


# -- checks ---------------------------------------------------------------------------------
def _optional(check: checks.Check) -> checks.Check:
    """``check``, or ``None`` (the default of the reference)."""

    def optional(owner: str, name: str, value: Any) -> None:
        if value is not None:
            check(owner, name, value)

    return optional


def _growth_rate(owner: str, name: str, value: Any) -> None:
    """A maximum multiplicative growth of d per step: >= 1, ``inf`` for none."""
    v = value(0) if callable(value) else value
    if isinstance(v, bool) or not isinstance(v, int | float) or not 1.0 <= v <= math.inf:
        raise ValueError(
            f"{owner}: {name} must be >= 1 (inf: unbounded); received {name}={value!r}"
        )


B = checks.boolean
COMMON = {
    "lr": checks.nonnegative, "betas": checks.BETAS2, "d0": checks.positive,
    "growth_rate": _growth_rate, "weight_decay": checks.nonnegative, "weight_decouple": B,
    "fixed_decay": B, "bias_correction": B,
}  # fmt: skip
#: The estimate does the tuning: the multiplier of d over a decade either side of 1.
SEARCH = {"lr": search.log(0.1, 10.0)}


def _register() -> None:
    register(
        "prodigy", _prodigy,
        defaults={"lr": 1.0, "betas": (0.9, 0.999), "beta3": None, "d0": 1e-6,
                  "d_coef": 1.0, "growth_rate": math.inf, "weight_decay": 0.0,
                  "weight_decouple": True, "fixed_decay": False, "bias_correction": False,
                  "safeguard_warmup": False, "eps": 1e-8},
        checks={**COMMON, "beta3": _optional(checks.closed_unit), "d_coef": checks.positive,
                "safeguard_warmup": B, "eps": _optional(checks.positive)},
        momentum="betas", step_counts="group", decoupled_weight_decay=0.0,
        reference=PO.format("Prodigy"), search=SEARCH,
        paper="Mishchenko and Defazio, 'Prodigy: An Expeditiously Adaptive Parameter-Free "
        "Learner', arXiv:2306.06101",
    )  # fmt: skip
    register(
        "dadapt-adam", _dadapt_adam,
        defaults={"lr": 1.0, "betas": (0.9, 0.999), "d0": 1e-6, "growth_rate": math.inf,
                  "weight_decay": 0.0, "weight_decouple": False, "fixed_decay": False,
                  "bias_correction": False, "eps": 1e-8},
        checks={**COMMON, "eps": checks.positive},
        momentum="betas", step_counts="group", decoupled_weight_decay=0.0,
        reference=PO.format("DAdaptAdam"), search=SEARCH,
        paper="Defazio and Mishchenko, 'Learning-Rate-Free Learning by D-Adaptation', "
        "arXiv:2301.07733",
    )  # fmt: skip


_register()
