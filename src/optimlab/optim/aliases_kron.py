r"""PSGD with Kronecker-factored preconditioners (issue 18), tested against pytorch_optimizer 4.1.

``kron``: Xi-Lin Li's preconditioned SGD ("Preconditioned Stochastic Gradient
Descent", arXiv:1512.04202, 2015) with the Kronecker-factored ("kron")
preconditioner of psgd_torch and Evan Walters' kron_torch, as
``pytorch_optimizer.Kron`` (4.1) implements it. Hyperparameter names and
defaults are pytorch_optimizer's (``momentum``, not kron_torch's ``b1``;
``pre_conditioner_update_probability``, ``momentum_into_precondition_update``,
``precondition_lr``, ``precondition_init_scale``); ``seed`` is optimlab's: it seeds
the optimizer's own random Generator (see
:class:`~optimlab.optim.transforms.kron.ScaleByKron` for the draws and their order).

Not offered: ``mu_dtype`` and ``precondition_dtype`` (everything is in the
parameter's dtype; the reference defaults to float32 factors), ``maximize``.
"""

from __future__ import annotations

from typing import Any

from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, chain
from optimlab.optim.registry import register
from optimlab.optim.transforms import ScaleByLearningRate
from optimlab.optim.transforms.kron import MEMORY_SAVE_MODES, ScaleByKron


def _kron(
    lr: float, momentum: float, weight_decay: float, weight_decouple: bool,
    pre_conditioner_update_probability: float | None, max_size_triangular: int,
    min_ndim_triangular: int, memory_save_mode: str | None,
    momentum_into_precondition_update: bool, precondition_lr: float,
    precondition_init_scale: float, balance_prob: float, seed: int,
) -> Chain:  # fmt: skip
    r"""PSGD Kron (Xi-Lin Li, "Preconditioned Stochastic Gradient Descent",
    arXiv:1512.04202, 2015; the Kronecker-factored preconditioner of psgd_torch and
    kron_torch), as ``pytorch_optimizer.Kron``.

    With the group's step :math:`t`, momentum :math:`\mu`, gradient :math:`g_t`:

    .. math::

        m_t &= \mu m_{t-1} + (1-\mu) g_t, \qquad \hat m_t = m_t / (1 - \mu^t) \\
        P &= Q^\top Q, \quad Q = Q_0 \otimes \cdots \otimes Q_{n-1}, \qquad
        d_t = \min\Big(1, \frac{1.1}{\operatorname{RMS}(P \hat m_t) + 10^{-6}}\Big)
              P \hat m_t \\
        \theta_t &= \theta_{t-1} - \eta\,(d_t + \lambda \theta_{t-1})

    One factor :math:`Q_k` per dimension, upper triangular (or diagonal),
    starting at ``precondition_init_scale ** (1/ndim)`` times the identity. On the
    steps that fit them (a counter: every :math:`\lceil 1/p_t \rceil`-th step,
    :math:`p_t` = ``pre_conditioner_update_probability``, by default
    :math:`\operatorname{clip}(e^{-0.001 (t - 1 - 500)}, 0.03, 1)`, i.e. every step
    for the first 500) they take one step of size ``precondition_lr`` towards
    :math:`P = E[\hat m \hat m^\top]^{-1/2}` from a random probe :math:`v \sim
    \mathcal N(0, I)` (Li's fit, no Hessian-vector product:
    :math:`A = Q \hat m`, :math:`B = Q^{-\top} v`, :math:`Q_k \leftarrow Q_k -
    \eta_p \operatorname{triu}(A_{(k)}A_{(k)}^\top - B_{(k)}B_{(k)}^\top) Q_k /
    \|A_{(k)}A_{(k)}^\top + B_{(k)}B_{(k)}^\top\|`), on :math:`g_t` instead of
    :math:`\hat m_t` with ``momentum_into_precondition_update=False``. With
    probability ``balance_prob`` (on fitting steps) the factors of a parameter with
    ``ndim >= 2`` are first rescaled to equal norms.

    **Which dimension gets a triangular factor** (the reference's rule): dimension
    :math:`k` of size :math:`d` gets a diagonal when :math:`d = 1`, :math:`d >`
    ``max_size_triangular`` (8192), ``ndim < min_ndim_triangular`` (2), or
    ``memory_save_mode`` picks it (``"one_diag"``: the largest dimension, the last of
    equal ones; ``"smart_one_diag"``: the largest if strictly larger than all others;
    ``"all_diag"``: all), a triangular :math:`d \times d` matrix otherwise. By default:
    a 0-d parameter has one scalar factor (as its 1-element twin), a vector one
    diagonal (an adaptive per-coordinate scale), a matrix ``(m, n)`` two triangular
    factors ``m x m`` and ``n x n``, and a 4-D convolution kernel ``(out, in, kh, kw)``
    four triangular factors, one per dimension (not merged into a matrix).

    Weight decay :math:`\lambda` (``weight_decay``) only for ``ndim >= 2``, as in the
    reference: added to the step after the clipping (``weight_decouple``, default),
    or to the gradient (coupled) otherwise; ``kronw`` decays every parameter by
    :math:`(1 - \eta\lambda)` before the step instead. Step counts are the group's.
    Demon (``demon-kron``) decays :math:`\mu`; the bias correction is kept exact as
    :math:`1 - \prod_{s \le t} \mu_s` (equal to :math:`1 - \mu^t` for a constant
    :math:`\mu`). Randomness: the optimizer's own Generator, seeded by ``seed``; per
    step one uniform (the balancing draw), then one Gaussian probe per parameter with
    a gradient on fitting steps (see
    :class:`~optimlab.optim.transforms.kron.ScaleByKron`). Computed in the
    parameter's dtype (pytorch_optimizer: float32 factors and triangular solves).
    """
    kron = ScaleByKron(
        momentum, weight_decay, weight_decouple, pre_conditioner_update_probability,
        max_size_triangular, min_ndim_triangular, memory_save_mode,
        momentum_into_precondition_update, precondition_lr, precondition_init_scale,
        balance_prob, seed,
    )  # fmt: skip
    return chain(kron, ScaleByLearningRate(lr))


def _optional(check: checks.Check) -> checks.Check:
    """``check``, or ``None`` (the default)."""

    def optional(owner: str, name: str, value: Any) -> None:
        if value is not None:
            check(owner, name, value)

    return optional


def _register() -> None:
    register(
        "kron", _kron,
        defaults={"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0, "weight_decouple": True,
                  "pre_conditioner_update_probability": None, "max_size_triangular": 8192,
                  "min_ndim_triangular": 2, "memory_save_mode": None,
                  "momentum_into_precondition_update": True, "precondition_lr": 0.1,
                  "precondition_init_scale": 1.0, "balance_prob": 0.01, "seed": 0},
        checks={"lr": checks.nonnegative, "momentum": checks.unit,
                "weight_decay": checks.nonnegative, "weight_decouple": checks.boolean,
                "pre_conditioner_update_probability": _optional(checks.closed_unit),
                "max_size_triangular": checks.nonnegative_int,
                "min_ndim_triangular": checks.nonnegative_int,
                "memory_save_mode": checks.one_of(*MEMORY_SAVE_MODES),
                "momentum_into_precondition_update": checks.boolean,
                "precondition_lr": checks.closed_unit,
                "precondition_init_scale": checks.positive,
                "balance_prob": checks.closed_unit, "seed": checks.nonnegative_int},
        momentum="momentum", step_counts="group",
        reference="pytorch_optimizer.Kron (4.1) with precondition_dtype=None (the parameters' "
        "dtype), its random draws taken from optimlab's Generator",
        paper="Xi-Lin Li, 'Preconditioned Stochastic Gradient Descent', arXiv:1512.04202 "
        "(2015); the Kronecker-factored preconditioner of psgd_torch and Evan Walters' "
        "kron_torch",
    )  # fmt: skip


_register()
