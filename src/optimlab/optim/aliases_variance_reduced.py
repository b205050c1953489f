r"""MARS (issue 18), tested step by step against ``pytorch_optimizer.MARS`` 4.1.

MARS (Yuan et al., arXiv:2411.10438) feeds an adaptive optimizer a variance-reduced
gradient :math:`c_t = g_t + \gamma \frac{\beta_1}{1-\beta_1}(g_t - g_{t-1})`, clipped to
norm 1. pytorch_optimizer gives the variance-reduced path to parameters with ``ndim >= 2``
(all of them with ``optimize_1d=True``) and a plain AdamW of its own (``lr_1d``,
``betas_1d``, ``weight_decay_1d``) to the others; optimlab routes them the same way, by
``ndim``, with :func:`~optimlab.optim.combinators.partition`. Both parts count the
parameter group's steps (``group["step"]`` in the reference): ``step_counts="group"``.
"""

from __future__ import annotations

import functools

import numpy as np

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, Transform, chain
from optimlab.optim.combinators import partition
from optimlab.optim.registry import register
from optimlab.optim.transforms import AddDecayedWeights, DecoupledWeightDecay, ScaleByLearningRate
from optimlab.optim.transforms.mars import MARS_TYPES, ScaleByMARS, ScaleByMARSAdamW


def _decay(weight_decay: float, lr: float, weight_decouple: bool, fixed_decay: bool) -> Transform:
    """Decoupled :math:`(1 - \\eta\\lambda)\\theta` (``fixed_decay``: :math:`(1-\\lambda)\\theta`)
    before the step, or coupled :math:`g + \\lambda\\theta`."""
    if weight_decouple:
        return DecoupledWeightDecay(weight_decay, 1.0 if fixed_decay else lr)
    return AddDecayedWeights(weight_decay)


def mars_route(optimize_1d: bool, param: np.ndarray) -> str:
    """``"mars"`` for the variance-reduced path (``ndim >= 2``, or all with ``optimize_1d``),
    ``"adamw"`` for MARS's AdamW."""
    return "mars" if optimize_1d or param.ndim >= 2 else "adamw"


def _mars(
    lr: float, betas: tuple, gamma: float, mars_type: str, optimize_1d: bool, lr_1d: float,
    betas_1d: tuple, weight_decay: float, weight_decay_1d: float, weight_decouple: bool,
    fixed_decay: bool, ams_bound: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""MARS, Make vAriance Reduction Shine (Yuan, Liu, Wu, Zhou, Gu and Gu, "MARS:
    Unleashing the Power of Variance Reduction for Training Large Models",
    arXiv:2411.10438), its approximate form (the previous step's gradient), as
    ``pytorch_optimizer.MARS``.

    For the parameters with ``ndim >= 2`` (every parameter if ``optimize_1d``), with
    :math:`g_{t-1}` the parameter's previous gradient (0 before its first):

    .. math::

        c_t &= g_t + \gamma \frac{\beta_1}{1-\beta_1}(g_t - g_{t-1}), \qquad
        c_t \leftarrow \frac{c_t}{\|c_t\|_F} \ \text{if} \ \|c_t\|_F > 1 \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) c_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) c_t^2 \\
        \theta_t &= \theta_{t-1} - \eta \, \frac{m_t/(1-\beta_1^t)}
            {(\sqrt{v_t + 10^{-15}} + \epsilon)/\sqrt{1-\beta_2^t}}
        \qquad (\texttt{mars\_type="adamw"})

    ``mars_type="lion"``: :math:`\theta_t = \theta_{t-1} - \eta\operatorname{sign}(m_t)`.
    ``mars_type="shampoo"``: :math:`\theta_t = \theta_{t-1} - \eta s \operatorname{NS}_5(m_t
    / (1-\beta_1))` for ``ndim >= 2``, the parameter viewed as ``(shape[0], -1)``, :math:`s =
    \sqrt{\max(1, \text{shape}[0]/\text{shape}[1])}` (note: the first two dims, also for a 4-D
    kernel (out, in, kh, kw): :math:`\sqrt{\max(1, \text{out}/\text{in})}`, as the
    reference); its 0/1-D parameters on the variance-reduced path (``optimize_1d``) get
    the ``"adamw"`` form. ``ams_bound``: :math:`\max_{s \le t} v_s` in place of :math:`v_t`.

    The other parameters (0-D and 1-D unless ``optimize_1d``) get MARS's AdamW on their
    raw gradients, with ``betas_1d``, learning rate ``lr_1d`` and decay
    ``weight_decay_1d``:
    :math:`\theta_t = \theta_{t-1} - \eta_{1d}\, \frac{m_t/(1-\beta_1^t)}{(\sqrt{v_t +
    10^{-15}} + \epsilon)/\sqrt{1-\beta_2^t}}`.

    :math:`t` is the group's step count in both parts. Weight decay decoupled by default,
    :math:`\theta \leftarrow (1 - \eta\lambda)\theta` before the step (``fixed_decay``:
    :math:`(1-\lambda)\theta`), each part with its own :math:`\eta, \lambda`.

    Differences from pytorch_optimizer 4.1: (1) ``lr_1d`` is a learning rate of its own;
    the reference stores ``lr_1d / lr`` at construction and multiplies it by the current
    ``lr``, so under a learning-rate schedule give ``lr_1d`` the same schedule to step as
    the reference does. (2) ``weight_decouple=False`` adds :math:`\lambda\theta` to the
    gradient before everything (the gradient of the L2-regularised loss, also the
    :math:`g_{t-1}` kept for the next correction), as the paper's loss would; the
    reference adds it to the gradient after the step has used it, so that there it only
    reaches :math:`g_{t-1}` (no effect at all on the AdamW part). (3) The cautious mask
    (``cautious-mars``) masks the whole step, as the paper (Liang et al., arXiv:2411.16085)
    defines it; the reference's ``cautious=True`` masks :math:`m_t` before the direction
    is formed, which is the same for ``"adamw"`` (a positive elementwise denominator) but
    not for ``"lion"`` (the sign drops the mask's rescaling) nor ``"shampoo"`` (the mask
    goes through Newton-Schulz). Demon (``demon-mars``) decays :math:`\beta_1` of the
    variance-reduced part (``betas[0]``), everywhere it appears.
    """
    b1, b2 = betas
    mars = chain(
        _decay(weight_decay, lr, weight_decouple, fixed_decay),
        ScaleByMARS(b1, b2, eps, gamma, mars_type, ams_bound),
        ScaleByLearningRate(lr),
    )
    b1_1d, b2_1d = betas_1d
    adamw = chain(
        _decay(weight_decay_1d, lr_1d, weight_decouple, fixed_decay),
        ScaleByMARSAdamW(b1_1d, b2_1d, eps, ams_bound),
        ScaleByLearningRate(lr_1d),
    )
    route = functools.update_wrapper(functools.partial(mars_route, optimize_1d), mars_route)
    return chain(partition({"mars": mars, "adamw": adamw}, label=route))


B = checks.boolean


def _register() -> None:
    register(
        "mars", _mars,
        defaults={"lr": 3e-3, "betas": (0.95, 0.99), "gamma": 0.025, "mars_type": "adamw",
                  "optimize_1d": False, "lr_1d": 3e-3, "betas_1d": (0.9, 0.95),
                  "weight_decay": 0.0, "weight_decay_1d": 1e-1, "weight_decouple": True,
                  "fixed_decay": False, "ams_bound": False, "eps": 1e-8},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS2, "gamma": checks.nonnegative,
                "mars_type": checks.one_of(*MARS_TYPES), "optimize_1d": B,
                "lr_1d": checks.nonnegative,
                "betas_1d": checks.each(checks.unit, checks.unit,
                                        names=("beta1_1d", "beta2_1d")),
                "weight_decay": checks.nonnegative, "weight_decay_1d": checks.nonnegative,
                "weight_decouple": B, "fixed_decay": B, "ams_bound": B,
                "eps": checks.positive},
        momentum="betas", step_counts="group",
        reference="pytorch_optimizer.MARS (4.1)",
        paper="Yuan, Liu, Wu, Zhou, Gu and Gu, 'MARS: Unleashing the Power of Variance "
        "Reduction for Training Large Models', arXiv:2411.10438",
        search={"lr": search.log(1e-5, 1e-1), "lr_1d": search.log(1e-5, 1e-1),
                "gamma": search.log(1e-3, 1.0)},
    )  # fmt: skip


_register()
