r"""SophiaH (issue 18), tested step by step against pytorch_optimizer 4.1.

The one optimizer here that needs more than the step's gradient: a Hutchinson
estimate of the Hessian diagonal from Hessian-vector products, which optimlab
computes through the step's closure (``optimizer.step(closure)``; ``fit`` and
the comparison's runs pass one) by finite differences of gradients, see
:mod:`optimlab.optim.closure`.
"""

from __future__ import annotations

from typing import Any

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, chain
from optimlab.optim.registry import register
from optimlab.optim.transforms import ScaleByLearningRate
from optimlab.optim.transforms.sophia import DISTRIBUTIONS, ScaleBySophiaH


def _sophia(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool, fixed_decay: bool,
    p: float, update_period: int, num_samples: int, hessian_distribution: str, eps: float,
    seed: int, hvp_eps: float | None,
) -> Chain:  # fmt: skip
    r"""SophiaH (Liu, Li, Hall, Liang and Ma, "Sophia: A Scalable Stochastic Second-order
    Optimizer for Language Model Pre-training", arXiv:2305.14342): momentum divided by
    an exponential average of Hutchinson estimates of the Hessian diagonal, clipped.

    .. math::

        \hat h &= \tfrac{1}{S}\textstyle\sum_s z_s \odot H z_s \ \text{(every }k\text{ steps)},
        \qquad h_t = \beta_2 h_{t-1} + (1-\beta_2)\hat h \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        \theta_t = \theta_{t-1} - \eta \operatorname{clip}\big(m_t / \max(h_t, \epsilon),
        -p, p\big)

    ``update_period`` :math:`k`, ``num_samples`` :math:`S`, ``hessian_distribution``
    (``"gaussian"`` or ``"rademacher"`` :math:`z`), ``p`` the clip. Needs
    ``step(closure)``: :math:`Hz` by central differences of gradients at
    :math:`\theta \pm \delta z` (``hvp_eps`` :math:`\delta`, ``None``: the dtype's
    :math:`\epsilon^{1/3}`), where pytorch_optimizer differentiates the backward graph
    again (``create_graph=True``); exact for a quadratic, :math:`O(\delta^2)` otherwise.
    ``seed`` seeds the optimizer's own Generator for :math:`z`. Weight decay decoupled
    by default, after the Hessian estimate. No bias correction, so ``demon-sophia``
    (Demon on :math:`\beta_1`) is exact.
    """
    b1, b2 = betas
    return chain(
        ScaleBySophiaH(
            lr, b1, b2, p, eps, weight_decay=weight_decay, weight_decouple=weight_decouple,
            fixed_decay=fixed_decay, update_period=update_period, num_samples=num_samples,
            distribution=hessian_distribution, seed=seed, hvp_eps=hvp_eps,
        ),
        ScaleByLearningRate(lr),
    )  # fmt: skip


def _optional_positive(owner: str, name: str, value: Any) -> None:
    if value is not None:
        checks.positive(owner, name, value)


def _register() -> None:
    register(
        "sophia", _sophia,
        defaults={"lr": 6e-2, "betas": (0.96, 0.99), "weight_decay": 0.0,
                  "weight_decouple": True, "fixed_decay": False, "p": 1e-2,
                  "update_period": 10, "num_samples": 1, "hessian_distribution": "gaussian",
                  "eps": 1e-12, "seed": 0, "hvp_eps": None},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS2,
                "weight_decay": checks.nonnegative, "weight_decouple": checks.boolean,
                "fixed_decay": checks.boolean, "p": checks.nonnegative,
                "update_period": checks.positive_int, "num_samples": checks.positive_int,
                "hessian_distribution": checks.one_of(*DISTRIBUTIONS), "eps": checks.positive,
                "seed": checks.nonnegative_int, "hvp_eps": _optional_positive},
        momentum="betas", step_counts="group",
        reference="pytorch_optimizer.SophiaH (4.1), its Hessian-vector products by "
        "finite differences of gradients",
        paper="Liu, Li, Hall, Liang and Ma, 'Sophia: A Scalable Stochastic Second-order "
        "Optimizer for Language Model Pre-training', arXiv:2305.14342",
        search={"lr": search.log(1e-4, 1.0), "p": search.log(1e-3, 1e-1)},
    )  # fmt: skip


_register()
