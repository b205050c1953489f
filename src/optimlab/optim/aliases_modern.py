r"""Post-Adam optimizers, each tested step by step against pytorch_optimizer 4.1.

Lion, AdaBelief, Adan, ADOPT, LAMB, Yogi, AdEMAMix, schedule-free SGD and
AdamW, and Muon. As in :mod:`optimlab.optim.aliases`, every recipe takes the
optimizer's hyperparameters (``lr`` included) and returns a chain of
transforms; defaults and hyperparameter names are pytorch_optimizer's.

Common to all of them: pytorch_optimizer's ``weight_decouple`` /
``fixed_decay`` weight decay, *decoupled* :math:`\theta \leftarrow (1 -
\eta\lambda)\theta` (``fixed_decay``: :math:`(1 - \lambda)\theta`) applied to
the parameters before the step, or *coupled* :math:`g \leftarrow g +
\lambda\theta`; the defaults differ per optimizer, as in the reference. Not
offered anywhere: ``maximize``, ``foreach`` and pytorch_optimizer's optional
add-ons (``cautious``, ``adanorm``, ``adam_debias``, ``use_gc``,
``stable_adamw``...).

Step counts: where these optimizers have step-dependent terms (bias
corrections, Adan's and ADOPT's first steps, schedule-free's weights), the
count is the parameter group's, because pytorch_optimizer keeps it there
(``group["step"]``) on purpose; ``torch.optim`` and optimlab's classic
optimizers count each parameter's own steps. The two agree unless a parameter
has no gradient on some steps. Registered with ``step_counts="group"``.
"""

from __future__ import annotations

import math
from typing import Any

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, Transform, chain
from optimlab.optim.combinators import partition
from optimlab.optim.registry import register
from optimlab.optim.transforms import (
    AddDecayedWeights,
    DecoupledWeightDecay,
    ScaleByLearningRate,
)
from optimlab.optim.transforms.adafactor import ScaleByAdafactor
from optimlab.optim.transforms.adan import ProximalWeightDecay, ScaleByAdan
from optimlab.optim.transforms.ademamix import ScaleByAdEMAMix
from optimlab.optim.transforms.adopt import ScaleByADOPT
from optimlab.optim.transforms.belief import ScaleByBelief
from optimlab.optim.transforms.lamb import ScaleByLamb
from optimlab.optim.transforms.laprop import ScaleByLaProp, ShrinkStep
from optimlab.optim.transforms.moments import ScaleByAdamGroupCount
from optimlab.optim.transforms.muon import ScaleByMuon, matrix_or_not, ns_coefficients
from optimlab.optim.transforms.schedule_free import ScaleBySecondMoment, ScheduleFree
from optimlab.optim.transforms.sign import ScaleByLion, ScaleBySignum
from optimlab.optim.transforms.yogi import ScaleByYogi

PO = "pytorch_optimizer.{} (4.1)"


def _weight_decay(
    weight_decay: float, lr: float, weight_decouple: bool, fixed_decay: bool
) -> Transform:
    """pytorch_optimizer's ``apply_weight_decay``: decoupled (by lr, or fixed) or coupled."""
    if weight_decouple:
        return DecoupledWeightDecay(weight_decay, 1.0 if fixed_decay else lr)
    return AddDecayedWeights(weight_decay)


# -- recipes ----------------------------------------------------------------------------------
def _lion(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool,
    fixed_decay: bool,
) -> Chain:  # fmt: skip
    r"""Lion, EvoLved Sign Momentum (Chen et al., "Symbolic Discovery of Optimization
    Algorithms", arXiv:2302.06675).

    .. math::

        \theta_t &= \theta_{t-1} - \eta \,
            \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t

    Weight decay decoupled by default (``weight_decouple``; ``fixed_decay``
    drops the :math:`\eta`), coupled otherwise. No bias correction; Demon
    (``demon-lion``) decays :math:`\beta_1`, the interpolation coefficient.
    """
    b1, b2 = betas
    return chain(
        _weight_decay(weight_decay, lr, weight_decouple, fixed_decay),
        ScaleByLion(b1, b2),
        ScaleByLearningRate(lr),
    )


def _signum(lr: float, momentum: float, weight_decay: float, weight_decouple: bool) -> Chain:
    r"""Signum (Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex
    Problems", arXiv:1802.04434): the sign of an exponential moving average.

    .. math::

        m_t = \beta m_{t-1} + (1-\beta) g_t, \qquad
        \theta_t = \theta_{t-1} - \eta \operatorname{sign}(m_t)

    ``momentum`` :math:`\beta` (0: signSGD). Weight decay decoupled by default
    (:math:`\theta \leftarrow (1 - \eta\lambda)\theta` first), coupled otherwise.
    Demon (``demon-signum``) decays :math:`\beta`; with no bias correction that needs
    no correction either.
    """
    return chain(
        _weight_decay(weight_decay, lr, weight_decouple, False),
        ScaleBySignum(momentum),
        ScaleByLearningRate(lr),
    )


def _signsgd(lr: float, weight_decay: float, weight_decouple: bool) -> Chain:
    r"""signSGD (Bernstein et al., arXiv:1802.04434): the sign of the gradient.

    .. math::

        \theta_t = \theta_{t-1} - \eta \operatorname{sign}(g_t)

    Every coordinate moves by exactly :math:`\eta` (or not at all where the
    gradient is 0). Weight decay decoupled by default, coupled otherwise.
    """
    return _signum(lr, 0.0, weight_decay, weight_decouple)


def _laprop(
    lr: float, betas: tuple, centered: bool, steps_before_using_centered: int,
    weight_decay: float, weight_decouple: bool, fixed_decay: bool, ams_bound: bool,
    eps: float,
) -> Chain:  # fmt: skip
    r"""LaProp (Ziyin, Wang and Ueda, "LaProp: Separating Momentum and Adaptivity in Adam",
    arXiv:2002.04839): momentum over RMSprop-normalised gradients.

    .. math::

        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1)\, \eta_t
            \frac{g_t \sqrt{1-\beta_2^t}}{\sqrt{v_t + 10^{-15}} + \epsilon} \\
        c_t &= \beta_1 c_{t-1} + (1-\beta_1) \eta_t, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta_t}{c_t} m_t

    (see :class:`~optimlab.optim.transforms.laprop.ScaleByLaProp` for ``centered``
    and ``ams_bound``). Decoupled weight decay (the default) is applied after the
    step, :math:`\theta_t \leftarrow (1 - \eta_t \lambda)\theta_t`, as the
    reference does. Note: with ``weight_decouple=False`` optimlab adds
    :math:`\lambda\theta` to the gradient before the step (coupled decay, as the
    other pytorch_optimizer optimizers do); pytorch_optimizer 4.1's LaProp adds it to
    the gradient *after* the step has used it, so that there its coupled decay has no
    effect. Demon (``demon-laprop``) decays :math:`\beta_1`, and :math:`c_t`, an
    average with the same coefficients, keeps the correction exact.
    """
    b1, b2 = betas
    laprop = ScaleByLaProp(
        lr, b1, b2, eps, centered=centered,
        steps_before_using_centered=steps_before_using_centered, ams_bound=ams_bound,
    )  # fmt: skip
    if weight_decouple:  # (theta + u)(1 - c) = (1 - c) theta + (1 - c) u
        c = weight_decay * (1.0 if fixed_decay else lr)
        return chain(
            _weight_decay(weight_decay, lr, True, fixed_decay), laprop, ShrinkStep(1.0 - c)
        )
    return chain(AddDecayedWeights(weight_decay), laprop)


def _adafactor(lr: float, beta2_decay: float, eps: tuple, d: float, weight_decay: float) -> Chain:
    r"""Adafactor (Shazeer and Stern, "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost", arXiv:1804.04235), as ``torch.optim.Adafactor``: factored second
    moments, a relative step and update clipping at RMS ``d``. For a parameter at its
    own step :math:`t` (:math:`c` = ``beta2_decay``):

    .. math::

        V_t &\approx \frac{R_t C_t}{\overline{R_t}}, \quad
        R_t, C_t = \text{row, column means of } g_t^2 \text{ averaged with }
        \hat\beta_t = 1 - t^{c} \\
        \theta_t &= (1 - \eta\lambda)\theta_{t-1} - \frac{\alpha_t U_t}{\max(1,
        \operatorname{RMS}(U_t)/d)}, \quad U_t = \frac{g_t}{\sqrt{V_t}}, \quad
        \alpha_t = \max(\epsilon_2, \operatorname{RMS}(\theta_{t-1})) \min(\eta, t^{-1/2})

    (factored over the last two dimensions; a vector or a 0-d parameter keeps the full
    :math:`V_t`); the exact equations, with where :math:`\epsilon_1` enters, are in
    :class:`~optimlab.optim.transforms.adafactor.ScaleByAdafactor`.

    ``eps`` is :math:`(\epsilon_1, \epsilon_2)`, :math:`\epsilon_1` ``None`` for the
    dtype's machine epsilon. The learning rate caps the relative step size; it is not a
    multiplier of the step. Weight decay :math:`(1 - \eta\lambda)\theta`, decoupled.
    """
    eps1, eps2 = eps
    return chain(ScaleByAdafactor(lr, beta2_decay, eps1, eps2, d, weight_decay))


def _adafactor_eps(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"{owner}: {name} must be a pair (eps1, eps2); received {name}={value!r}")
    if value[0] is not None:
        checks.nonnegative(owner, "eps1", value[0])
    checks.nonnegative(owner, "eps2", value[1])


def _at_least_one(owner: str, name: str, value: Any) -> None:
    v = value(0) if callable(value) else value
    if isinstance(v, bool) or not isinstance(v, int | float) or not 1.0 <= v < math.inf:
        raise ValueError(f"{owner}: {name} must be >= 1; received {name}={value!r}")


def _beta2_decay(owner: str, name: str, value: Any) -> None:
    v = value(0) if callable(value) else value
    if isinstance(v, bool) or not isinstance(v, int | float) or not -math.inf < v <= 0.0:
        raise ValueError(f"{owner}: {name} must be <= 0; received {name}={value!r}")


def _adabelief(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool,
    fixed_decay: bool, rectify: bool, n_sma_threshold: float, degenerated_to_sgd: bool,
    ams_bound: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""AdaBelief (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", arXiv:2010.07468).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t} \,
            \frac{m_t}{\sqrt{s_t}/\sqrt{1-\beta_2^t} + \epsilon}

    ``ams_bound``: :math:`\max_{s \le t} s_s` in place of :math:`s_t`.
    ``rectify``: RAdam's :math:`r_t` (arXiv:1908.03265) from step
    :math:`\rho_t \ge` ``n_sma_threshold`` on, with the step
    :math:`\eta r_t m_t / ((1-\beta_1^t)(\sqrt{s_t} + \epsilon))` (pytorch_optimizer
    puts :math:`\sqrt{1-\beta_2^t}` inside :math:`r_t`); before that
    :math:`\eta m_t / (1-\beta_1^t)` if ``degenerated_to_sgd``, else no step.
    Weight decay decoupled by default.
    """
    b1, b2 = betas
    belief = ScaleByBelief(
        b1, b2, eps, rectify=rectify, n_sma_threshold=n_sma_threshold,
        degenerated_to_sgd=degenerated_to_sgd, ams_bound=ams_bound,
    )  # fmt: skip
    return chain(
        _weight_decay(weight_decay, lr, weight_decouple, fixed_decay),
        belief,
        ScaleByLearningRate(lr),
    )


def _adan(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool,
    max_grad_norm: float, eps: float,
) -> Chain:  # fmt: skip
    r"""Adan, adaptive Nesterov momentum (Xie et al., arXiv:2208.06677).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        \delta_t = \beta_2 \delta_{t-1} + (1-\beta_2)(g_t - g_{t-1}) \\
        n_t &= \beta_3 n_{t-1} + (1-\beta_3)\big(g_t + \beta_2 (g_t - g_{t-1})\big)^2 \\
        \theta_t &= \Big(\theta_{t-1} - \eta \,
            \frac{m_t/(1-\beta_1^t) + \beta_2 \delta_t/(1-\beta_2^t)}
                 {\sqrt{n_t/(1-\beta_3^t)} + \epsilon}\Big) \Big/ (1 + \eta\lambda)

    (:math:`g_0 = g_1`). The default weight decay is this **proximal** division
    after the step (the paper's); ``weight_decouple=True`` decays
    :math:`(1-\eta\lambda)\theta` before it instead. ``max_grad_norm > 0``
    clips the gradients by their global norm first (computed in float64;
    pytorch_optimizer computes the factor in float32).
    """
    b1, b2, b3 = betas
    adan = ScaleByAdan(b1, b2, b3, eps, max_grad_norm)
    if weight_decouple:
        return chain(DecoupledWeightDecay(weight_decay, lr), adan, ScaleByLearningRate(lr))
    return chain(adan, ScaleByLearningRate(lr), ProximalWeightDecay(weight_decay, lr))


def _adopt(
    lr: float, betas: tuple, clip_exponent: float | None,
    weight_decay: float, weight_decouple: bool, fixed_decay: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""ADOPT (Taniguchi et al., "ADOPT: Modified Adam Can Converge with Any
    :math:`\beta_2` with the Optimal Rate", arXiv:2411.02853).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) \operatorname{clip}\Big(
            \frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)}, \pm t^{\,\text{clip\_exponent}}\Big) \\
        \theta_t &= \theta_{t-1} - \eta m_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

    The first step only sets :math:`v_1 = g_1^2` (no parameter step; weight
    decay is still applied). ``clip_exponent=0.25`` is pytorch_optimizer's
    default ``clip_lambda = step ** 0.25``; ``None`` disables the clip.
    Weight decay coupled by default. No bias correction, so ``demon-adopt``
    (Demon on :math:`\beta_1`) is exact.
    """
    b1, b2 = betas
    return chain(
        _weight_decay(weight_decay, lr, weight_decouple, fixed_decay),
        ScaleByADOPT(b1, b2, eps, clip_exponent),
        ScaleByLearningRate(lr),
    )


def _lamb(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool,
    fixed_decay: bool, rectify: bool, degenerated_to_sgd: bool, n_sma_threshold: float,
    grad_averaging: bool, max_grad_norm: float, adam: bool, pre_norm: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""LAMB, layer-wise adaptive moments (You et al., "Large Batch Optimization for Deep
    Learning: Training BERT in 76 minutes", arXiv:1904.00962).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        r_t = \frac{m_t}{\sqrt{v_t} + \epsilon} \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}
            \frac{\min(\|\theta_{t-1}\|, 10)}{\|r_t\| + \epsilon} \, r_t

    per parameter array. ``grad_averaging=False``: :math:`m_t = \beta_1
    m_{t-1} + g_t`. ``adam=True``: trust ratio 1. Weight decay decoupled by
    default (before the norms); coupled adds :math:`\lambda\theta` to
    :math:`r_t`. ``rectify``: RAdam's rectification as pytorch_optimizer
    implements it (see ``ScaleByLamb``). ``pre_norm``: clip the gradients to
    global norm ``max_grad_norm`` first (float64 here, float32 in the
    reference).
    """
    b1, b2 = betas
    lamb = ScaleByLamb(
        lr, b1, b2, eps, weight_decay=0.0 if weight_decouple else weight_decay, rectify=rectify,
        degenerated_to_sgd=degenerated_to_sgd, n_sma_threshold=n_sma_threshold,
        grad_averaging=grad_averaging, max_grad_norm=max_grad_norm, adam=adam, pre_norm=pre_norm,
    )  # fmt: skip
    if weight_decouple:
        return chain(DecoupledWeightDecay(weight_decay, 1.0 if fixed_decay else lr), lamb)
    return chain(lamb)


def _yogi(
    lr: float, betas: tuple, initial_accumulator: float,
    weight_decay: float, weight_decouple: bool, fixed_decay: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""Yogi (Zaheer et al., "Adaptive Methods for Nonconvex Optimization", NeurIPS 2018).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = v_{t-1} - (1-\beta_2)\operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}
            \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    :math:`m_0 = v_0 =` ``initial_accumulator`` (pytorch_optimizer's choice);
    :math:`\epsilon = 10^{-3}` by default. Weight decay decoupled by default.
    """
    b1, b2 = betas
    return chain(
        _weight_decay(weight_decay, lr, weight_decouple, fixed_decay),
        ScaleByYogi(b1, b2, eps, initial_accumulator),
        ScaleByLearningRate(lr),
    )


def _ademamix(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool,
    fixed_decay: bool, alpha: float, t_alpha_beta3: float | None, eps: float,
) -> Chain:  # fmt: skip
    r"""AdEMAMix (Pagliardini, Ablin and Grangier, "The AdEMAMix Optimizer: Better, Faster,
    Older", arXiv:2409.03137).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        s_t = \beta_{3,t} s_{t-1} + (1-\beta_{3,t}) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta \,
            \frac{m_t/(1-\beta_1^t) + \alpha_t s_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    The slow EMA :math:`s` is not debiased. ``t_alpha_beta3`` :math:`=T`
    warms :math:`\alpha_t` up linearly and :math:`\beta_{3,t}` from
    :math:`\beta_1` to :math:`\beta_3` over :math:`T` steps (the paper's
    schedulers); ``None``: constant. Weight decay coupled by default.
    """
    b1, b2, b3 = betas
    return chain(
        _weight_decay(weight_decay, lr, weight_decouple, fixed_decay),
        ScaleByAdEMAMix(b1, b2, b3, alpha, t_alpha_beta3, eps),
        ScaleByLearningRate(lr),
    )


def _schedulefree_sgd(
    lr: float, momentum: float, weight_decay: float, r: float,
    weight_lr_power: float, warmup_steps: int,
) -> Chain:  # fmt: skip
    r"""Schedule-free SGD (Defazio et al., "The Road Less Scheduled", arXiv:2405.15682).

    .. math::

        z_t &= z_{t-1} - \gamma_t g(y_{t-1}), \qquad
        x_t = (1 - c_t) x_{t-1} + c_t z_t, \qquad
        y_t = (1-\beta) z_t + \beta x_t \\
        \gamma_t &= \eta \min(1, t/\text{warmup\_steps}), \quad
        c_t = \frac{w_t}{\sum_{s \le t} w_s}, \quad
        w_t = t^r \big(\max_{s \le t} \gamma_s\big)^{\text{weight\_lr\_power}}

    :math:`\beta` = momentum; coupled weight decay at :math:`y`. The
    parameters hold :math:`y` while training: call ``optimizer.eval()`` to
    evaluate at the average :math:`x` and ``optimizer.train()`` before the
    next step. No learning-rate schedule is needed (only the warm-up).
    """
    return chain(ScheduleFree(None, lr, momentum, weight_decay, r, weight_lr_power, warmup_steps))


def _schedulefree_adamw(
    lr: float, betas: tuple, weight_decay: float, r: float,
    weight_lr_power: float, warmup_steps: int, decoupling_c: float, ams_bound: bool, eps: float,
) -> Chain:  # fmt: skip
    r"""Schedule-free AdamW (Defazio et al., "The Road Less Scheduled", arXiv:2405.15682).

    Schedule-free (``ScheduleFree``, :math:`\beta = \beta_1`) around Adam's
    second-moment scaling (``ScaleBySecondMoment``): schedule-free SGD on the
    normalised gradient

    .. math::

        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        g'_t = \frac{g_t}{\sqrt{v_t/(1-\beta_2^t) + 10^{-15}} + \epsilon} + \lambda y_{t-1}

    with :math:`z_t = z_{t-1} - \gamma_t g'_t`, :math:`x_t = (1-c_t) x_{t-1} +
    c_t z_t`, :math:`y_t = (1-\beta_1) z_t + \beta_1 x_t` (see
    ``schedulefree-sgd``). ``ams_bound``: the running maximum of the debiased
    :math:`v`. ``decoupling_c > 0``: :math:`c_t \leftarrow \min(1, c_t
    (1-\beta_1)\,\text{decoupling\_c})`. Call ``optimizer.eval()`` /
    ``optimizer.train()`` to switch the parameters between :math:`x` and
    :math:`y`.
    """
    b1, b2 = betas
    normalised = ScaleBySecondMoment(b2, eps, ams_bound)
    return chain(
        ScheduleFree(
            normalised, lr, b1, weight_decay, r, weight_lr_power, warmup_steps, decoupling_c
        )
    )


def _muon(
    lr: float, momentum: float, weight_decay: float,
    weight_decouple: bool, nesterov: bool, ns_steps: int, ns_coeffs: Any,
    use_adjusted_lr: bool, adamw_lr: float, adamw_betas: tuple,
    adamw_wd: float, adamw_eps: float,
) -> Chain:  # fmt: skip
    r"""Muon, MomentUm Orthogonalized by Newton-schulz (Jordan et al., 2024,
    https://kellerjordan.github.io/posts/muon/; Liu et al., "Muon is Scalable for LLM
    Training", arXiv:2502.16982).

    For parameters with ``ndim >= 2``, viewed as ``(shape[0], -1)`` matrices:

    .. math::

        b_t &= \mu b_{t-1} + (1-\mu) g_t, \qquad
        u_t = (1-\mu) g_t + \mu b_t \ \text{(nesterov)} \\
        \theta_t &= \theta_{t-1} - \eta \, s \, \operatorname{NS}_5(u_t), \qquad
        s = \sqrt{\max(1, \text{rows}/\text{cols})}
            \ \text{or} \ 0.2\sqrt{\max(\text{rows}, \text{cols})} \ \text{(use\_adjusted\_lr)}

    :math:`\operatorname{NS}_5` is ``ns_steps`` quintic Newton-Schulz
    iterations that orthogonalise the update (``ns_coeffs``: ``'original'``,
    ``'quintic'``, ``'polar_express'``, ``'polar_express_safer'`` or
    ``(a, b, c)`` tuples), in the parameter's dtype. Parameters with ``ndim <
    2`` get AdamW with ``adamw_lr``, ``adamw_betas``, ``adamw_wd`` and
    ``adamw_eps``. Weight decay decoupled by default, each kind with its own
    learning rate. pytorch_optimizer asks for ``use_muon`` parameter groups;
    optimlab routes by ``ndim`` (a ``partition`` of two chains: ``ScaleByMuon``
    and ``ScaleByAdamGroupCount``, on the group's step count, as the reference's
    ``group["step"]``). Note: a 1-D parameter in a reference ``use_muon``
    group is normalised as an ``(n, 1)`` matrix and a 0-D one fails; 2-D
    embeddings and output layers, which Jordan gives to AdamW, get Muon here
    unless put in a group of their own.
    """
    b1, b2 = adamw_betas
    matrices = chain(
        _weight_decay(weight_decay, lr, weight_decouple, fixed_decay=False),
        ScaleByMuon(momentum, nesterov, ns_steps, ns_coeffs, use_adjusted_lr),
        ScaleByLearningRate(lr),
    )
    rest = chain(
        _weight_decay(adamw_wd, adamw_lr, weight_decouple, fixed_decay=False),
        ScaleByAdamGroupCount(b1, b2, adamw_eps),
        ScaleByLearningRate(adamw_lr),
    )
    return chain(partition({"muon": matrices, "adamw": rest}, label=matrix_or_not))


# -- checks ---------------------------------------------------------------------------------
def _optional(check: checks.Check) -> checks.Check:
    """``check``, or ``None`` (the feature off)."""

    def optional(owner: str, name: str, value: Any) -> None:
        if value is not None:
            check(owner, name, value)

    return optional


def _threshold(owner: str, name: str, value: Any) -> None:
    """The rectification threshold: >= 4 (below, RAdam's r_t takes a negative square root)."""
    checks.nonnegative(owner, name, value)
    if value < 4:
        raise ValueError(f"{owner}: {name} must be >= 4; received {name}={value!r}")


def _ns_coeffs(owner: str, name: str, value: Any) -> None:
    try:
        ns_coefficients(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{owner}: {error}") from None


def _positive_beta1(owner: str, hp: dict[str, Any]) -> None:
    beta1 = hp["betas"][0]
    beta1 = beta1(0) if callable(beta1) else beta1
    if beta1 <= 0:
        raise ValueError(
            f"{owner}: beta1 must be in (0, 1) (the average is x = (y - (1 - beta1) z) / beta1); "
            f"received beta1={hp['betas'][0]!r}"
        )


def _ademamix_cross_checks(owner: str, hp: dict[str, Any]) -> None:
    if hp["t_alpha_beta3"] is None:
        return
    b1, _, b3 = hp["betas"]
    if b1 <= 0 or b3 <= 0:
        raise ValueError(
            f"{owner}: t_alpha_beta3 schedules beta3 through log(beta1) and log(beta3), so "
            f"both must be > 0; received betas={hp['betas']!r}"
        )


B = checks.boolean
DECAY = {"weight_decay": checks.nonnegative, "weight_decouple": B, "fixed_decay": B}
COMMON = {"lr": checks.nonnegative, "eps": checks.positive, **DECAY}


def _register_sign() -> None:
    sign_checks = {"lr": checks.nonnegative, "weight_decay": checks.nonnegative,
                   "weight_decouple": checks.boolean}  # fmt: skip
    paper = ("Bernstein, Wang, Azizzadenesheli and Anandkumar, 'signSGD: Compressed "
             "Optimisation for Non-Convex Problems', arXiv:1802.04434")  # fmt: skip
    register(
        "signum", _signum,
        defaults={"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0, "weight_decouple": True},
        checks={**sign_checks, "momentum": checks.unit}, momentum="momentum",
        reference=PO.format("SignSGD") + " with momentum", paper=paper,
        search={"lr": search.log(1e-5, 1e-1), "momentum": search.log1m(0.5, 0.99)},
    )  # fmt: skip
    register(
        "signsgd", _signsgd,
        defaults={"lr": 1e-3, "weight_decay": 0.0, "weight_decouple": True},
        checks=sign_checks, reference=PO.format("SignSGD") + " with momentum=0", paper=paper,
        search={"lr": search.log(1e-5, 1e-1)},
    )  # fmt: skip


def _register_laprop() -> None:
    register(
        "laprop", _laprop,
        defaults={"lr": 4e-4, "betas": (0.9, 0.999), "centered": False,
                  "steps_before_using_centered": 10, "weight_decay": 0.0,
                  "weight_decouple": True, "fixed_decay": False, "ams_bound": False,
                  "eps": 1e-15},
        checks={**COMMON, "betas": checks.BETAS2, "centered": B, "ams_bound": B,
                "steps_before_using_centered": checks.nonnegative_int},
        momentum="betas", step_counts="group", reference=PO.format("LaProp"),
        paper="Ziyin, Wang and Ueda, 'LaProp: Separating Momentum and Adaptivity in Adam', "
        "arXiv:2002.04839",
        search={"lr": search.log(1e-5, 1e-1), "betas": (search.log1m(0.5, 0.999),
                                                        search.log1m(0.8, 0.999))},
    )  # fmt: skip


def _register_adafactor() -> None:
    register(
        "adafactor", _adafactor,
        defaults={"lr": 1e-2, "beta2_decay": -0.8, "eps": (None, 1e-3), "d": 1.0,
                  "weight_decay": 0.0},
        checks={"lr": checks.nonnegative, "beta2_decay": _beta2_decay, "eps": _adafactor_eps,
                "d": _at_least_one, "weight_decay": checks.nonnegative},
        reference="torch.optim.Adafactor (torch 2.13)",
        paper="Shazeer and Stern, 'Adafactor: Adaptive Learning Rates with Sublinear Memory "
        "Cost', arXiv:1804.04235",
        search={"lr": search.log(1e-4, 1.0)},
    )  # fmt: skip


def _register() -> None:
    _register_sign()
    _register_laprop()
    _register_adafactor()
    register(
        "lion", _lion,
        defaults={"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0,
                  "weight_decouple": True, "fixed_decay": False},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS2, **DECAY},
        momentum="betas", reference=PO.format("Lion"),
        search={"lr": search.log(1e-6, 1e-2),
                "betas": (search.log1m(0.5, 0.99), search.log1m(0.9, 0.999))},
        paper="Chen et al., 'Symbolic Discovery of Optimization Algorithms', arXiv:2302.06675",
    )  # fmt: skip
    register(
        "adabelief", _adabelief,
        defaults={"lr": 1e-3, "betas": (0.9, 0.999), "weight_decay": 0.0,
                  "weight_decouple": True, "fixed_decay": False, "rectify": False,
                  "n_sma_threshold": 5, "degenerated_to_sgd": True, "ams_bound": False,
                  "eps": 1e-16},
        checks={**COMMON, "betas": checks.BETAS2, "rectify": B, "n_sma_threshold": _threshold,
                "degenerated_to_sgd": B, "ams_bound": B},
        step_counts="group", reference=PO.format("AdaBelief"),
        paper="Zhuang et al., 'AdaBelief Optimizer: Adapting Stepsizes by the Belief in "
        "Observed Gradients', arXiv:2010.07468",
    )  # fmt: skip
    register(
        "adan", _adan,
        defaults={"lr": 1e-3, "betas": (0.98, 0.92, 0.99), "weight_decay": 0.0,
                  "weight_decouple": False, "max_grad_norm": 0.0, "eps": 1e-8},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS3, "eps": checks.positive,
                "weight_decay": checks.nonnegative, "weight_decouple": B,
                "max_grad_norm": checks.nonnegative},
        step_counts="group", reference=PO.format("Adan"),
        paper="Xie et al., 'Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing "
        "Deep Models', arXiv:2208.06677",
    )  # fmt: skip
    register(
        "adopt", _adopt,
        defaults={"lr": 1e-3, "betas": (0.9, 0.9999), "clip_exponent": 0.25,
                  "weight_decay": 0.0, "weight_decouple": False, "fixed_decay": False,
                  "eps": 1e-6},
        checks={**COMMON, "betas": checks.BETAS2,
                "clip_exponent": _optional(checks.nonnegative)},
        momentum="betas", step_counts="group",
        reference=PO.format("ADOPT") + ", clip_lambda = step ** clip_exponent",
        paper="Taniguchi et al., 'ADOPT: Modified Adam Can Converge with Any beta_2 with the "
        "Optimal Rate', arXiv:2411.02853",
    )  # fmt: skip
    register(
        "lamb", _lamb,
        defaults={"lr": 1e-3, "betas": (0.9, 0.999), "weight_decay": 0.0,
                  "weight_decouple": True, "fixed_decay": False, "rectify": False,
                  "degenerated_to_sgd": False, "n_sma_threshold": 5, "grad_averaging": True,
                  "max_grad_norm": 1.0, "adam": False, "pre_norm": False, "eps": 1e-6},
        checks={**COMMON, "betas": checks.BETAS2, "rectify": B, "degenerated_to_sgd": B,
                "n_sma_threshold": _threshold, "grad_averaging": B,
                "max_grad_norm": checks.nonnegative, "adam": B, "pre_norm": B},
        step_counts="group", reference=PO.format("Lamb"),
        paper="You et al., 'Large Batch Optimization for Deep Learning: Training BERT in 76 "
        "minutes', arXiv:1904.00962",
    )  # fmt: skip
    register(
        "yogi", _yogi,
        defaults={"lr": 1e-2, "betas": (0.9, 0.999), "initial_accumulator": 1e-6,
                  "weight_decay": 0.0, "weight_decouple": True, "fixed_decay": False,
                  "eps": 1e-3},
        checks={**COMMON, "betas": checks.BETAS2, "initial_accumulator": checks.nonnegative},
        step_counts="group", reference=PO.format("Yogi"),
        paper="Zaheer, Reddi, Sachan, Kale and Kumar, 'Adaptive Methods for Nonconvex "
        "Optimization', NeurIPS 2018",
    )  # fmt: skip
    register(
        "ademamix", _ademamix,
        defaults={"lr": 1e-3, "betas": (0.9, 0.999, 0.9999), "weight_decay": 0.0,
                  "weight_decouple": False, "fixed_decay": False, "alpha": 5.0,
                  "t_alpha_beta3": None, "eps": 1e-8},
        checks={**COMMON, "betas": checks.BETAS3, "alpha": checks.nonnegative,
                "t_alpha_beta3": _optional(checks.positive)},
        cross_checks=_ademamix_cross_checks, step_counts="group",
        reference=PO.format("AdEMAMix"),
        paper="Pagliardini, Ablin and Grangier, 'The AdEMAMix Optimizer: Better, Faster, "
        "Older', arXiv:2409.03137",
    )  # fmt: skip
    schedule_free = {"weight_decay": checks.nonnegative, "r": checks.nonnegative,
                     "weight_lr_power": checks.nonnegative,
                     "warmup_steps": checks.nonnegative_int}  # fmt: skip
    register(
        "schedulefree-sgd", _schedulefree_sgd,
        defaults={"lr": 1.0, "momentum": 0.9, "weight_decay": 0.0, "r": 0.0,
                  "weight_lr_power": 2.0, "warmup_steps": 0},
        checks={"lr": checks.nonnegative, "momentum": checks.open_unit, **schedule_free},
        step_counts="group", reference=PO.format("ScheduleFreeSGD"),
        paper="Defazio et al., 'The Road Less Scheduled', arXiv:2405.15682",
    )  # fmt: skip
    register(
        "schedulefree-adamw", _schedulefree_adamw,
        defaults={"lr": 2.5e-3, "betas": (0.9, 0.999), "weight_decay": 0.0, "r": 0.0,
                  "weight_lr_power": 2.0, "warmup_steps": 0, "decoupling_c": 0.0,
                  "ams_bound": False, "eps": 1e-8},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS2, "eps": checks.positive,
                "decoupling_c": checks.nonnegative, "ams_bound": B, **schedule_free},
        cross_checks=_positive_beta1, step_counts="group",
        reference=PO.format("ScheduleFreeAdamW"),
        paper="Defazio et al., 'The Road Less Scheduled', arXiv:2405.15682",
    )  # fmt: skip
    register(
        "muon", _muon,
        defaults={"lr": 2e-2, "momentum": 0.95, "weight_decay": 0.0, "weight_decouple": True,
                  "nesterov": True, "ns_steps": 5, "ns_coeffs": "original",
                  "use_adjusted_lr": False, "adamw_lr": 3e-4, "adamw_betas": (0.9, 0.95),
                  "adamw_wd": 0.0, "adamw_eps": 1e-10},
        checks={"lr": checks.nonnegative, "momentum": checks.unit,
                "weight_decay": checks.nonnegative, "weight_decouple": B, "nesterov": B,
                "ns_steps": checks.positive_int, "ns_coeffs": _ns_coeffs,
                "use_adjusted_lr": B, "adamw_lr": checks.nonnegative,
                "adamw_betas": checks.each(checks.unit, checks.unit,
                                           names=("adamw_beta1", "adamw_beta2")),
                "adamw_wd": checks.nonnegative, "adamw_eps": checks.positive},
        step_counts="group", reference=PO.format("Muon") + ", use_muon = (ndim >= 2)",
        paper="Jordan et al., 'Muon: An optimizer for hidden layers in neural networks', 2024, "
        "https://kellerjordan.github.io/posts/muon/; Liu et al., 'Muon is Scalable for LLM "
        "Training', arXiv:2502.16982",
    )  # fmt: skip


_register()
