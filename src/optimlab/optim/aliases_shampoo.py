r"""Shampoo and SOAP (issue 18), tested step by step against pytorch_optimizer 4.1.

Both precondition a parameter with one matrix per tensor dimension (Kronecker
factors of a full-matrix AdaGrad): Shampoo multiplies the gradient by inverse
roots of the accumulated statistics, SOAP runs Adam in their eigenbasis. The
rule for which dimension gets a matrix is the reference's and is stated in each
recipe. Defaults and hyperparameter names are pytorch_optimizer's; the matrix
decompositions are computed in float64 and cast to the parameter's dtype.

Not offered: pytorch_optimizer's ``ScalableShampoo`` (the distributed Shampoo of
Anil et al., arXiv:2002.09018): a different update (statistics averaged with
``betas[1]``, blocks of ``block_size``, layer-wise grafting onto SGD / AdaGrad /
RMSprop / sign steps, ``start_preconditioning_step``, ``statistics_compute_steps``,
coupled Schur-Newton roots, one-sided ``pre_conditioner_type``, shape
interpretation, Nesterov momentum), none of whose parts is an option of
``pytorch_optimizer.Shampoo``, so none is cheap to offer here against a reference;
nor ``maximize``.
"""

from __future__ import annotations

from typing import Any

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, chain
from optimlab.optim.registry import register
from optimlab.optim.transforms import DecoupledWeightDecay, ScaleByLearningRate
from optimlab.optim.transforms.laprop import ShrinkStep
from optimlab.optim.transforms.shampoo import ScaleByShampoo
from optimlab.optim.transforms.soap import DATA_FORMATS, ScaleBySOAP, SOAPWeightDecay

PO = "pytorch_optimizer.{} (4.1)"


def _shampoo(
    lr: float, momentum: float, weight_decay: float, weight_decouple: bool, fixed_decay: bool,
    preconditioning_compute_steps: int, matrix_eps: float,
) -> Chain:  # fmt: skip
    r"""Shampoo (Gupta, Koren and Singer, "Shampoo: Preconditioned Stochastic Tensor
    Optimization", arXiv:1802.09568).

    For a parameter of order :math:`n` (its number of dimensions):

    .. math::

        G_t &= \operatorname{lerp}(g_t, u_{t-1}, \mu) \ (+\, \lambda\theta_{t-1}), \qquad
        H^{(k)}_t = \epsilon I + \textstyle\sum_{s \le t} G_{s,(k)} G_{s,(k)}^\top \\
        u_t &= G_t \times_0 \big(H^{(0)}_t\big)^{-1/2n} \cdots
               \times_{n-1} \big(H^{(n-1)}_t\big)^{-1/2n}, \qquad
        \theta_t = \theta_{t-1} - \eta\, u_t

    :math:`G_{(k)}` the mode-:math:`k` unfolding, :math:`\times_k` the product along
    dimension :math:`k`; the roots are recomputed every
    ``preconditioning_compute_steps`` steps (zero before the first time) by eigh in
    float64. Demon (``demon-shampoo``) decays :math:`\mu`; with no bias
    correction it is exactly the reference with its momentum set before each step.
    The momentum :math:`\mu` mixes in the previous *preconditioned* update
    :math:`u_{t-1}` (the reference's rule). Dimensions: every dimension of every
    parameter gets a preconditioner, whatever its size: a matrix :math:`L^{-1/4} G
    R^{-1/4}`; a vector full-matrix AdaGrad :math:`H^{-1/2} g`; a 4-D convolution
    kernel ``(out, in, kh, kw)`` four preconditioners with exponent :math:`-1/8`; a
    0-d parameter a ``1 x 1`` one, as its 1-element twin (pytorch_optimizer: none).
    Weight decay coupled by default (after the momentum), decoupled with
    ``weight_decouple`` (``fixed_decay``: without :math:`\eta`). See
    :class:`~optimlab.optim.transforms.shampoo.ScaleByShampoo`; step counts are the
    parameter's own (the reference's recompute schedule counts the group's steps).
    """
    shampoo = ScaleByShampoo(
        momentum, 0.0 if weight_decouple else weight_decay, matrix_eps,
        preconditioning_compute_steps,
    )  # fmt: skip
    # The same three links whatever the options (a schedule may take the decay to 0).
    decay = DecoupledWeightDecay(weight_decay if weight_decouple else 0.0,
                                 1.0 if fixed_decay else lr)  # fmt: skip
    return chain(decay, shampoo, ScaleByLearningRate(lr))


def _soap(
    lr: float, betas: tuple, shampoo_beta: float | None, weight_decay: float,
    precondition_frequency: int, max_precondition_dim: int, merge_dims: bool,
    precondition_1d: bool, correct_bias: bool, normalize_gradient: bool, data_format: str,
    eps: float,
) -> Chain:  # fmt: skip
    r"""SOAP (Vyas et al., "SOAP: Improving and Stabilizing Shampoo using Adam",
    arXiv:2409.11321): Adam in the eigenbasis of Shampoo's statistics.

    With :math:`\hat x` a tensor rotated into the bases :math:`Q_k` (:math:`x
    \times_k Q_k^\top` along each dimension) and :math:`\check x` rotated back:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, \hat g_t^{\,2} \\
        \theta_t &= \Big(\theta_{t-1} - \eta \frac{\sqrt{1-\beta_2^{s}}}{1-\beta_1^{s}}
            \Big(\frac{\hat m_t}{\sqrt{v_t} + \epsilon}\Big)^{\!\vee}\Big)(1 - \eta\lambda),
            \qquad s = t - 1 \\
        L^{(k)} &\leftarrow \beta_s L^{(k)} + (1 - \beta_s) G_{(k)} G_{(k)}^\top

    (:math:`\beta_s` = ``shampoo_beta``, ``None``: :math:`\beta_2`). The bases are the
    eigenvectors of :math:`L^{(k)}` at a parameter's first gradient, then every
    ``precondition_frequency`` steps one power iteration and a QR decomposition (the
    second moment permuted with them). The group's first step only gathers
    statistics. Weight decay decoupled, after the step (as the reference); the
    ``soapw`` form decays before it, as AdamW. Dimensions: 0-d parameters get no
    basis (Adam); 1-D ones one only with ``precondition_1d``; parameters of 2 or
    more dimensions, a 4-D convolution kernel ``(out, in, kh, kw)`` too, one basis per
    dimension of at most ``max_precondition_dim`` (identity for larger ones), after
    merging consecutive dimensions with ``merge_dims`` (``data_format='channels_last'``
    merges a 4-D ``(out, kh, kw, in)`` kernel as ``(out, in, kh, kw)``). Note:
    pytorch_optimizer 4.1 fails when ``merge_dims`` merges a whole parameter into one
    dimension (its ``merge_small_dims`` then returns ``[1]``); optimlab merges it into
    ``(numel,)``, as the paper's code does. Step counts are the group's. Demon
    (``demon-soap``) decays :math:`\beta_1` as the reference would see it set before
    each step; the bias correction :math:`1 - \beta_{1,t}^s` is then not an exact
    debias of the decayed average. See
    :class:`~optimlab.optim.transforms.soap.ScaleBySOAP`.
    """
    b1, b2 = betas
    soap = ScaleBySOAP(
        lr, b1, b2, shampoo_beta, eps, precondition_frequency, max_precondition_dim,
        merge_dims, precondition_1d, correct_bias, normalize_gradient, data_format,
    )  # fmt: skip
    # The same three links whatever the decay (no-ops at 0; a schedule may reach 0).
    return chain(SOAPWeightDecay(weight_decay, lr), soap, ShrinkStep(1.0 - lr * weight_decay))


def _optional_unit(owner: str, name: str, value: Any) -> None:
    if value is not None:
        checks.unit(owner, name, value)


B = checks.boolean


def _register() -> None:
    register(
        "shampoo", _shampoo,
        defaults={"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0, "weight_decouple": False,
                  "fixed_decay": False, "preconditioning_compute_steps": 1,
                  "matrix_eps": 1e-6},
        checks={"lr": checks.nonnegative, "momentum": checks.unit,
                "weight_decay": checks.nonnegative, "weight_decouple": B, "fixed_decay": B,
                "preconditioning_compute_steps": checks.positive_int,
                "matrix_eps": checks.nonnegative},
        momentum="momentum", reference=PO.format("Shampoo"),
        paper="Gupta, Koren and Singer, 'Shampoo: Preconditioned Stochastic Tensor "
        "Optimization', arXiv:1802.09568",
        search={"lr": search.log(1e-5, 1e-1)},
    )  # fmt: skip
    register(
        "soap", _soap,
        defaults={"lr": 3e-3, "betas": (0.95, 0.95), "shampoo_beta": None,
                  "weight_decay": 1e-2, "precondition_frequency": 10,
                  "max_precondition_dim": 10000, "merge_dims": False, "precondition_1d": False,
                  "correct_bias": True, "normalize_gradient": False,
                  "data_format": "channels_first", "eps": 1e-8},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS2,
                "shampoo_beta": _optional_unit, "weight_decay": checks.nonnegative,
                "precondition_frequency": checks.positive_int,
                "max_precondition_dim": checks.positive_int, "merge_dims": B,
                "precondition_1d": B, "correct_bias": B, "normalize_gradient": B,
                "data_format": checks.one_of(*DATA_FORMATS), "eps": checks.positive},
        momentum="betas", step_counts="group", reference=PO.format("SOAP"),
        paper="Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson and Kakade, "
        "'SOAP: Improving and Stabilizing Shampoo using Adam', arXiv:2409.11321",
        search={"lr": search.log(1e-5, 1e-1)},
    )  # fmt: skip


_register()
