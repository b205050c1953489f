"""The named optimizers: each a short chain of transforms, registered with its reference.

Every recipe takes the optimizer's hyperparameters (``lr`` included) and
returns a :class:`~optimlab.optim.base.Chain`; its docstring is what
``optimlab optimizers NAME`` prints. Defaults are the reference implementation's.
"""

from __future__ import annotations

from typing import Any

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, chain
from optimlab.optim.registry import register
from optimlab.optim.transforms import (
    AddDecayedWeights,
    QuasiHyperbolicMomentum,
    ScaleByAdadelta,
    ScaleByAdagrad,
    ScaleByAdam,
    ScaleByAdamax,
    ScaleByLearningRate,
    ScaleByNAdam,
    ScaleByQHAdam,
    ScaleByRAdam,
    ScaleByRMSprop,
    Trace,
)


def _sgd(
    lr: float, momentum: float, dampening: float, nesterov: bool,
    weight_decay: float,
) -> Chain:  # fmt: skip
    r"""Stochastic gradient descent with momentum (PyTorch's form).

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \mu b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1) \\
        d_t &= g_t + \mu b_t \ \text{(nesterov)}, \quad d_t = b_t \ \text{(otherwise)} \\
        \theta_t &= \theta_{t-1} - \eta d_t

    :math:`\eta` = lr, :math:`\mu` = momentum, :math:`\tau` = dampening,
    :math:`\lambda` = weight_decay. With ``momentum=0``, plain SGD (Robbins and
    Monro, 1951). Momentum: Polyak (1964); Nesterov (1983) in the form of
    Sutskever et al. (ICML 2013). Note: PyTorch's form multiplies the learning
    rate *after* the buffer, which differs from the textbook
    :math:`v = \mu v - \eta g` only when the learning rate changes. The first
    buffer is the gradient itself, not :math:`(1-\tau) g_1`.
    """
    return chain(
        AddDecayedWeights(weight_decay),
        Trace(momentum, dampening, nesterov),
        ScaleByLearningRate(lr),
    )


def _sgd_cross_checks(owner: str, hp: dict[str, Any]) -> None:
    if hp["nesterov"]:
        mu = hp["momentum"](0) if callable(hp["momentum"]) else hp["momentum"]
        if mu <= 0 or hp["dampening"] != 0:
            raise ValueError(
                f"{owner}: nesterov=True needs momentum > 0 and dampening = 0; received "
                f"momentum={hp['momentum']!r}, dampening={hp['dampening']!r}"
            )


SGD_CHECKS = {
    "lr": checks.nonnegative,
    "momentum": checks.unit,
    "dampening": checks.closed_unit,
    "nesterov": checks.boolean,
    "weight_decay": checks.nonnegative,
}
TORCH = "torch.optim.{} (torch 2.13)"

# Default search spaces of the tuning protocols (``compare --budget``). The rates span
# Crowded Valley's Adam range (1e-4 to 1, log-uniform; Schmidt et al., arXiv:2007.01547)
# shifted down a decade for the adaptive methods, whose useful rates sit lower; beta1 and
# beta2 in Crowded Valley's ranges ([0.5, 0.999], [0.8, 0.999]), drawn log-uniformly in
# 1 - beta as AlgoPerf does.
SGD_SEARCH = {"lr": search.log(1e-4, 1.0)}
MOMENTUM_SEARCH = {**SGD_SEARCH, "momentum": search.uniform(0.5, 0.999)}
BETAS_SEARCH = (search.log1m(0.5, 0.999), search.log1m(0.8, 0.999))
ADAM_SEARCH = {"lr": search.log(1e-5, 1e-1), "betas": BETAS_SEARCH}


def _register_sgd_family() -> None:
    base = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}
    register(
        "sgd", _sgd, defaults=base, checks=SGD_CHECKS, momentum="momentum", search=SGD_SEARCH,
        cross_checks=_sgd_cross_checks, reference=TORCH.format("SGD"),
        paper="Robbins and Monro, 'A Stochastic Approximation Method', 1951",
    )  # fmt: skip
    register(
        "momentum", _sgd, defaults={**base, "momentum": 0.9}, checks=SGD_CHECKS,
        momentum="momentum", search=MOMENTUM_SEARCH, cross_checks=_sgd_cross_checks,
        reference=TORCH.format("SGD") + " with momentum=0.9",
        paper="Polyak, 'Some methods of speeding up the convergence of iteration methods', 1964",
    )  # fmt: skip
    register(
        "nesterov", _sgd, defaults={**base, "momentum": 0.9, "nesterov": True}, checks=SGD_CHECKS,
        momentum="momentum", search=MOMENTUM_SEARCH, cross_checks=_sgd_cross_checks,
        reference=TORCH.format("SGD") + " with momentum=0.9, nesterov=True",
        paper="Sutskever, Martens, Dahl and Hinton, 'On the importance of initialization and "
        "momentum in deep learning', ICML 2013",
    )  # fmt: skip


def _adam(
    lr: float, betas: tuple, eps: float, weight_decay: float,
    amsgrad: bool = False, demon_form: str = "normalized",
) -> Chain:  # fmt: skip
    r"""Adam (Kingma and Ba, arXiv:1412.6980); AMSGrad (Reddi et al., arXiv:1904.09237).

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta \, \frac{m_t / (1-\beta_1^t)}
                    {\sqrt{v_t / (1-\beta_2^t)} + \epsilon}

    (AMSGrad: :math:`\max_{s \le t} v_s` in place of :math:`v_t`.) The bias
    correction is computed with running weights :math:`w_t = 1 + \beta w_{t-1}`
    (see ``ScaleByAdam``), identical for constant betas and exact when
    :math:`\beta_1` is scheduled (Demon).
    """
    b1, b2 = betas
    if demon_form == "paper":  # demon-adam's Algorithm 2 (Chen et al.): see ScaleByQHAdam
        if amsgrad:
            raise ValueError("amsgrad=True is not offered with demon_form='paper'")
        adam = ScaleByQHAdam(b1, b2, eps, undampened=True)
    else:
        adam = ScaleByAdam(b1, b2, eps, amsgrad=amsgrad)
    return chain(AddDecayedWeights(weight_decay), adam, ScaleByLearningRate(lr))


def _qhadam(
    lr: float, betas: tuple, nus: tuple, eps: float, weight_decay: float,
    demon_form: str = "normalized",
) -> Chain:  # fmt: skip
    r"""QHAdam (Ma and Yarats, 'Quasi-hyperbolic momentum and Adam for deep learning',
    arXiv:1810.06801).

    .. math::

        \hat m_t &= \text{debiased EMA}_{\beta_1}(g), \qquad
        \hat v_t = \text{debiased EMA}_{\beta_2}(g^2) \\
        \theta_t &= \theta_{t-1} - \eta \,
            \frac{\nu_1 \hat m_t + (1-\nu_1) g_t}
                 {\sqrt{\nu_2 \hat v_t + (1-\nu_2) g_t^2} + \epsilon}

    ``nus=(1, 1)`` is Adam. The debiasing uses qhoptim's running weights
    :math:`w_t = 1 + \beta w_{t-1}`, :math:`\hat m_t = (1 - 1/w_t) \hat m_{t-1} + g_t / w_t`
    (see ``ScaleByQHAdam``).
    """
    b1, b2 = betas
    nu1, nu2 = nus
    return chain(
        AddDecayedWeights(weight_decay),
        ScaleByQHAdam(b1, b2, eps, nu1, nu2, undampened=demon_form == "paper"),
        ScaleByLearningRate(lr),
    )


def _qhm(lr: float, momentum: float, nu: float, weight_decay: float) -> Chain:
    r"""QHM, quasi-hyperbolic momentum (Ma and Yarats, arXiv:1810.06801).

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \beta b_{t-1} + (1-\beta) g_t \\
        \theta_t &= \theta_{t-1} - \eta \, (\nu b_t + (1-\nu) g_t)

    The recommended defaults are :math:`\beta = 0.999`, :math:`\nu = 0.7`
    (qhoptim has no defaults; optimlab uses these).
    """
    return chain(
        AddDecayedWeights(weight_decay),
        QuasiHyperbolicMomentum(momentum, nu),
        ScaleByLearningRate(lr),
    )


def _adamax(lr: float, betas: tuple, eps: float, weight_decay: float) -> Chain:
    r"""Adamax (Kingma and Ba, arXiv:1412.6980, section 7.1).

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \frac{m_t}{u_t}
    """
    b1, b2 = betas
    return chain(
        AddDecayedWeights(weight_decay), ScaleByAdamax(b1, b2, eps), ScaleByLearningRate(lr)
    )


def _adagrad(
    lr: float, lr_decay: float, weight_decay: float,
    initial_accumulator_value: float, eps: float,
) -> Chain:  # fmt: skip
    r"""Adagrad (Duchi, Hazan and Singer, JMLR 12, 2011).

    .. math::

        s_t = s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1) \delta} \frac{g_t}{\sqrt{s_t} + \epsilon}

    :math:`\delta` = lr_decay, :math:`s_0` = initial_accumulator_value.
    """
    return chain(
        AddDecayedWeights(weight_decay),
        ScaleByAdagrad(eps, initial_accumulator_value, lr_decay),
        ScaleByLearningRate(lr),
    )


def _rmsprop(
    lr: float, alpha: float, eps: float, weight_decay: float,
    momentum: float, centered: bool,
) -> Chain:  # fmt: skip
    r"""RMSprop (Tieleman and Hinton, Coursera lecture 6e, 2012); centered: Graves, arXiv:1308.0850.

    .. math::

        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2 \\
        b_t &= \mu b_{t-1} + \frac{g_t}{\sqrt{v_t - [\bar g_t^2]} + \epsilon}, \qquad
        \theta_t = \theta_{t-1} - \eta b_t

    (:math:`\bar g_t` the EMA of the gradient, subtracted when ``centered``.)
    """
    return chain(
        AddDecayedWeights(weight_decay),
        ScaleByRMSprop(alpha, eps, centered=centered, momentum=momentum),
        ScaleByLearningRate(lr),
    )


def _adadelta(lr: float, rho: float, eps: float, weight_decay: float) -> Chain:
    r"""Adadelta (Zeiler, arXiv:1212.5701).

    .. math::

        v_t &= \rho v_{t-1} + (1-\rho) g_t^2, \qquad
        d_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t \\
        u_t &= \rho u_{t-1} + (1-\rho) d_t^2, \qquad \theta_t = \theta_{t-1} - \eta d_t
    """
    return chain(
        AddDecayedWeights(weight_decay), ScaleByAdadelta(rho, eps), ScaleByLearningRate(lr)
    )


def _nadam(
    lr: float, betas: tuple, eps: float, weight_decay: float,
    momentum_decay: float,
) -> Chain:  # fmt: skip
    r"""NAdam, Adam with Nesterov momentum (Dozat, ICLR 2016 workshop).

    .. math::

        \mu_t &= \beta_1 (1 - \tfrac12 0.96^{t \psi}) \\
        \theta_t &= \theta_{t-1} - \eta \Big( \frac{(1-\mu_t) g_t}{1 - \prod_{i \le t} \mu_i}
            + \frac{\mu_{t+1} m_t}{1 - \prod_{i \le t+1} \mu_i} \Big)
            \Big/ \Big(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\Big)

    :math:`\psi` = momentum_decay (PyTorch's schedule of :math:`\mu_t`).
    """
    b1, b2 = betas
    return chain(
        AddDecayedWeights(weight_decay),
        ScaleByNAdam(b1, b2, eps, momentum_decay),
        ScaleByLearningRate(lr),
    )


def _radam(lr: float, betas: tuple, eps: float, weight_decay: float) -> Chain:
    r"""RAdam, rectified Adam (Liu et al., arXiv:1908.03265).

    .. math::

        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}, \qquad
        \theta_t = \theta_{t-1} - \eta \hat m_t \cdot
            \begin{cases} r_t \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon) & \rho_t > 5 \\
            1 & \text{otherwise} \end{cases}
    """
    b1, b2 = betas
    return chain(
        AddDecayedWeights(weight_decay), ScaleByRAdam(b1, b2, eps), ScaleByLearningRate(lr)
    )


ADAM_CHECKS = {
    "lr": checks.nonnegative,
    "betas": checks.BETAS2,
    "eps": checks.positive,
    "weight_decay": checks.nonnegative,
    "amsgrad": checks.boolean,
    "demon_form": checks.one_of("normalized", "paper"),
}


def _register_classics() -> None:
    adam = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}
    register(
        "adam", _adam, defaults={**adam, "amsgrad": False}, checks=ADAM_CHECKS, momentum="betas",
        search=ADAM_SEARCH,
        reference=TORCH.format("Adam"),
        paper="Kingma and Ba, 'Adam: A Method for Stochastic Optimization', arXiv:1412.6980",
    )  # fmt: skip
    register(
        "qhadam", _qhadam, defaults={**adam, "nus": (1.0, 1.0)},
        checks={**ADAM_CHECKS, "nus": checks.NUS2}, momentum="betas",
        search={**ADAM_SEARCH, "nus": (search.uniform(0.5, 1.0), 1.0)},
        reference="qhoptim.pyt.QHAdam (qhoptim 1.1)", decoupled_weight_decay=0.0,
        paper="Ma and Yarats, 'Quasi-hyperbolic momentum and Adam for deep learning', "
        "arXiv:1810.06801",
    )  # fmt: skip
    register(
        "qhm", _qhm, defaults={"lr": 1e-3, "momentum": 0.999, "nu": 0.7, "weight_decay": 0.0},
        checks={"lr": checks.nonnegative, "momentum": checks.unit, "nu": checks.closed_unit,
                "weight_decay": checks.nonnegative},
        momentum="momentum", reference="qhoptim.pyt.QHM (qhoptim 1.1)",
        search={**SGD_SEARCH, "momentum": search.log1m(0.9, 0.9999),
                "nu": search.uniform(0.5, 1.0)},
        paper="Ma and Yarats, 'Quasi-hyperbolic momentum and Adam for deep learning', "
        "arXiv:1810.06801",
    )  # fmt: skip
    register(
        "adamax", _adamax, defaults={**adam, "lr": 2e-3}, checks=ADAM_CHECKS, momentum="betas",
        search=ADAM_SEARCH,
        reference=TORCH.format("Adamax"),
        paper="Kingma and Ba, arXiv:1412.6980, section 7.1",
    )  # fmt: skip
    register(
        "nadam", _nadam, defaults={**adam, "lr": 2e-3, "momentum_decay": 4e-3},
        checks={**ADAM_CHECKS, "momentum_decay": checks.nonnegative}, search=ADAM_SEARCH,
        reference=TORCH.format("NAdam"), decoupled_weight_decay=0.0,
        paper="Dozat, 'Incorporating Nesterov Momentum into Adam', ICLR 2016 workshop",
    )  # fmt: skip
    register(
        "radam", _radam, defaults=adam, checks=ADAM_CHECKS, reference=TORCH.format("RAdam"),
        search=ADAM_SEARCH,
        decoupled_weight_decay=0.0,
        paper="Liu et al., 'On the Variance of the Adaptive Learning Rate and Beyond', "
        "arXiv:1908.03265",
    )  # fmt: skip
    register(
        "adagrad", _adagrad,
        defaults={"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                  "initial_accumulator_value": 0.0, "eps": 1e-10},
        checks={"lr": checks.nonnegative, "lr_decay": checks.nonnegative,
                "weight_decay": checks.nonnegative,
                "initial_accumulator_value": checks.nonnegative, "eps": checks.positive},
        reference=TORCH.format("Adagrad"), search={"lr": search.log(1e-4, 1.0)},
        paper="Duchi, Hazan and Singer, 'Adaptive Subgradient Methods for Online Learning and "
        "Stochastic Optimization', JMLR 12, 2011",
    )  # fmt: skip
    register(
        "rmsprop", _rmsprop,
        defaults={"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                  "momentum": 0.0, "centered": False},
        checks={"lr": checks.nonnegative, "alpha": checks.unit, "eps": checks.positive,
                "weight_decay": checks.nonnegative, "momentum": checks.unit,
                "centered": checks.boolean},
        momentum="momentum", reference=TORCH.format("RMSprop"),
        search={"lr": search.log(1e-5, 1e-1), "alpha": search.log1m(0.8, 0.999)},
        paper="Tieleman and Hinton, 'Lecture 6.5 - RMSProp', Coursera, 2012; "
        "Graves, arXiv:1308.0850 (centered)",
    )  # fmt: skip
    register(
        "adadelta", _adadelta,
        defaults={"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
        checks={"lr": checks.nonnegative, "rho": checks.unit, "eps": checks.positive,
                "weight_decay": checks.nonnegative},
        reference=TORCH.format("Adadelta"),
        search={"lr": search.log(1e-2, 10.0), "rho": search.log1m(0.5, 0.999)},
        paper="Zeiler, 'ADADELTA: An Adaptive Learning Rate Method', arXiv:1212.5701",
    )  # fmt: skip


_register_sgd_family()
_register_classics()
