r"""Scion, NorMuon and AdaMuon (issue 18), tested against pytorch_optimizer 4.1.

Three relatives of Muon (``aliases_modern``): SCION steps along the linear
minimisation oracle of a norm chosen per parameter (spectral for matrices, as
Muon); NorMuon and AdaMuon orthogonalise the momentum as Muon does and then
normalise it by a second moment of the orthogonalised update, per row
(NorMuon) or per element (AdaMuon). As in :mod:`optimlab.optim.aliases`, every
recipe takes the optimizer's hyperparameters (``lr`` included) and returns a
chain of transforms; defaults and hyperparameter names are pytorch_optimizer's.

Parameters by number of dimensions:

* ``scion``: one chain for all; the oracle follows ``norm_type`` and ``ndim``
  (``"auto"``: 0/1-d ``"bias"`` RMS normalisation, 2-d ``"spectral"``, 3/4-d
  convolution kernels ``"spectral_conv"``, Newton-Schulz on the
  ``(shape[0], -1)`` matrix; see :mod:`optimlab.optim.transforms.scion`).
* ``normuon`` and ``adamuon``: as ``muon``, a ``partition`` by ``ndim`` (the
  reference asks for ``use_muon`` groups; its docs put hidden matrices in them
  and give the rest to its AdamW): parameters with ``ndim >= 2`` get the
  orthogonalised update, a convolution kernel ``(out, in, kh, kw)`` flattened to
  ``(out, in * kh * kw)``; 0/1-d parameters get AdamW (``adamw_lr``,
  ``adamw_betas``, ``adamw_wd``; NorMuon's ``adamw_eps``, AdaMuon's shared
  ``eps``) on the group's step count. 2-d embeddings and output layers, which the
  papers give to AdamW, get the orthogonalised update unless put in a group of
  their own with ``lr``/... set as for the AdamW part; optimlab's ``Dense``
  stores ``(in, out)``, so "rows" (``shape[0]``, NorMuon's neurons) are its inputs.

Weight decay as pytorch_optimizer's ``weight_decouple``: decoupled
:math:`\theta \leftarrow (1 - \eta\lambda)\theta` before the step (the default),
or coupled :math:`g \leftarrow g + \lambda\theta`. Not offered: ``maximize``,
``foreach``, ``cautious`` (the ``cautious-`` prefix exists), NorMuon's and
AdaMuon's ``ns_method``, SCIONLight.
"""

from __future__ import annotations

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
from optimlab.optim.transforms.moments import ScaleByAdamGroupCount
from optimlab.optim.transforms.muon import matrix_or_not, ns_coefficients
from optimlab.optim.transforms.muon_variants import (
    UPDATE_SCALES,
    ScaleByAdaMuon,
    ScaleByNorMuon,
)
from optimlab.optim.transforms.scion import NORM_TYPES, ScaleBySCION, norm_options

PO = "pytorch_optimizer.{} (4.1)"


def _weight_decay(weight_decay: float, lr: float, weight_decouple: bool) -> Transform:
    """pytorch_optimizer's ``apply_weight_decay`` (``fixed_decay=False``)."""
    if weight_decouple:
        return DecoupledWeightDecay(weight_decay, lr)
    return AddDecayedWeights(weight_decay)


# -- recipes ----------------------------------------------------------------------------------
def _scion(
    lr: float, momentum: float, constraint: bool, norm_type: str,
    norm_kwargs: dict[str, Any] | None, scale: float, weight_decay: float,
    weight_decouple: bool,
) -> Chain:  # fmt: skip
    r"""SCION, stochastic conditional gradient with norm-constrained LMOs (Pethick, Xie,
    Antonakopoulos, Zhu, Silveti-Falls and Cevher, "Training Deep Learning Models with
    Norm-Constrained LMOs", ICML 2025, arXiv:2502.07529).

    .. math::

        d_t &= (1-\alpha)\, d_{t-1} + \alpha\, g_t \\
        \theta_t &= \theta_{t-1} - \gamma \rho \operatorname{lmo}(d_t)
            \quad \text{(unconstrained, default)} \\
        \theta_t &= (1-\gamma)\,\theta_{t-1} - \gamma \rho \operatorname{lmo}(d_t)
            \quad \text{(constraint: iterates stay in the ball of radius } \rho\text{)}

    :math:`\alpha` = ``momentum`` is the weight of the *new* gradient (1 minus
    the usual momentum; default 0.1), :math:`\rho` = ``scale`` the radius,
    :math:`\gamma` = ``lr``. :math:`\operatorname{lmo}` is the linear minimisation
    oracle of the norm of each parameter: ``norm_type="auto"`` (default) gives
    0/1-d parameters ``"bias"`` (:math:`d/(\mathrm{RMS}(d) + 10^{-8})`), 2-d
    ``"spectral"`` (:math:`\sqrt{r/c}\,\operatorname{NS}_5(d)`, Muon's
    orthogonalisation) and 3/4-d ``"spectral_conv"``
    (:math:`\operatorname{NS}_5(d_{(r,-1)})\sqrt{r/c}/(k_h k_w)`); ``"spectral"``,
    ``"spectral_conv"``, ``"sign"``, ``"col"``, ``"row"``, ``"bias"``, ``"none"``
    apply to the parameters they are defined for, the others keeping
    ``"auto"``'s; ``norm_kwargs`` are that norm's options (table in
    :mod:`optimlab.optim.transforms.scion`). Per-layer norms and radii (the
    paper's ``"col"`` input, ``"spectral"`` hidden, ``"sign"`` output layers):
    parameter groups with their own ``norm_type``/``scale``.

    Weight decay (decoupled by default, coupled with ``weight_decouple=False``)
    only without ``constraint``, as in the reference; the constraint's shrink
    :math:`(1-\gamma)\theta` is itself a decay by 1. No step count; no bias
    correction. Demon is not offered: its :math:`\beta_t` would replace
    :math:`1-\alpha`, not :math:`\alpha`.
    """
    if constraint:
        shrink: Transform = DecoupledWeightDecay(1.0, lr)
    else:
        shrink = _weight_decay(weight_decay, lr, weight_decouple)
    return chain(
        shrink, ScaleBySCION(momentum, norm_type, norm_kwargs, scale), ScaleByLearningRate(lr)
    )


def _rest(lr: float, betas: tuple, weight_decay: float, eps: float, decouple: bool) -> Chain:
    """The AdamW part of the Muon family: parameters with ``ndim < 2``."""
    b1, b2 = betas
    return chain(
        _weight_decay(weight_decay, lr, decouple),
        ScaleByAdamGroupCount(b1, b2, eps),
        ScaleByLearningRate(lr),
    )


def _normuon(
    lr: float, momentum: float, beta2: float, weight_decay: float, weight_decouple: bool,
    nesterov: bool, ns_steps: int, ns_coeffs: Any, update_scale: str, use_adjusted_lr: bool,
    adamw_lr: float, adamw_betas: tuple, adamw_wd: float, adamw_eps: float, eps: float,
) -> Chain:  # fmt: skip
    r"""NorMuon, neuron-wise normalised Muon (Li, Liu, Liang, Chen and Zhao, "NorMuon:
    Making Muon more efficient and scalable", arXiv:2510.05491).

    For parameters with ``ndim >= 2``, viewed as ``(shape[0], -1)`` matrices
    :math:`r \times c`:

    .. math::

        b_t &= \mu b_{t-1} + (1-\mu) g_t, \qquad
        u_t = (1-\mu) g_t + \mu b_t \ \text{(nesterov)} \ \text{or} \ b_t \\
        O_t &= \operatorname{NS}(u_t), \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\operatorname{mean}_{\text{cols}}(O_t^2)
            \in \mathbb{R}^{r} \\
        \hat O_t &= O_t \oslash (\sqrt{v_t} + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \eta\, \kappa_t\, \hat O_t / (\|\hat O_t\|_F + \epsilon)

    ``update_scale='preserve_norm'`` (default, the official code's):
    :math:`\kappa_t = s \|O_t\|_F`, with Muon's :math:`s = \sqrt{\max(1, r/c)}`
    (``use_adjusted_lr``: :math:`0.2\sqrt{\max(r, c)}`); ``'match_rms'``, the
    paper's Algorithm 1: :math:`\kappa_t = 0.2\sqrt{rc}` (an update RMS of
    0.2). :math:`\operatorname{NS}` is ``ns_steps`` Newton-Schulz iterations
    (``ns_coeffs`` as Muon's), in the parameter's dtype. 0/1-d parameters: AdamW
    (``adamw_lr``, ``adamw_betas``, ``adamw_wd``, ``adamw_eps``) on the group's
    step count. Weight decay decoupled by default, each part with its own
    learning rate. Demon (``demon-normuon``) decays :math:`\mu`: no bias
    correction depends on it.
    """
    matrices = chain(
        _weight_decay(weight_decay, lr, weight_decouple),
        ScaleByNorMuon(
            momentum, beta2, nesterov, ns_steps, ns_coeffs, update_scale, use_adjusted_lr, eps
        ),
        ScaleByLearningRate(lr),
    )
    rest = _rest(adamw_lr, adamw_betas, adamw_wd, adamw_eps, weight_decouple)
    return chain(partition({"muon": matrices, "adamw": rest}, label=matrix_or_not))


def _adamuon(
    lr: float, betas: tuple, weight_decay: float, weight_decouple: bool, ns_steps: int,
    ns_coeffs: Any, use_adjusted_lr: bool, adamw_lr: float, adamw_betas: tuple,
    adamw_wd: float, eps: float, sign_stabilized: bool,
) -> Chain:  # fmt: skip
    r"""AdaMuon, Muon with an element-wise second moment of the orthogonalised update
    (Si, Zhang and Shen, "AdaMuon: Adaptive Muon Optimizer", arXiv:2507.11005).

    For parameters with ``ndim >= 2``, viewed as ``(shape[0], -1)`` matrices
    :math:`r \times c`:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad O_t = \operatorname{NS}(m_t) \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, O_t \odot O_t, \qquad
        \hat O_t = O_t \oslash \big(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\big) \\
        \theta_t &= \theta_{t-1} - \eta\, s \sqrt{\min(r, c)}\,
            \hat O_t / (\|\hat O_t\|_F + \epsilon)

    with Moonlight's :math:`s = 0.2\sqrt{\max(r, c)}` (``use_adjusted_lr=True``,
    the default: the step's RMS is :math:`0.2\eta`, the paper's RMS-aligned
    rescaling) or :math:`\sqrt{\max(1, r/c)}`. :math:`t` counts the group's
    steps. ``sign_stabilized=True``: :math:`O_t = \operatorname{NS}(\operatorname{sign}(m_t))`,
    the paper's later versions (v2, v3); the default, pytorch_optimizer's and
    the first version's, orthogonalises :math:`m_t`. 0/1-d parameters: AdamW
    (``adamw_lr``, ``adamw_betas``, ``adamw_wd``, and the shared ``eps``) on the
    group's step count. Weight decay decoupled by default. Demon
    (``demon-adamuon``) decays :math:`\beta_1` of the matrices' :math:`m_t` (no
    bias correction depends on it), not ``adamw_betas``.
    """
    b1, b2 = betas
    matrices = chain(
        _weight_decay(weight_decay, lr, weight_decouple),
        ScaleByAdaMuon(b1, b2, ns_steps, ns_coeffs, use_adjusted_lr, eps, sign_stabilized),
        ScaleByLearningRate(lr),
    )
    rest = _rest(adamw_lr, adamw_betas, adamw_wd, eps, weight_decouple)
    return chain(partition({"muon": matrices, "adamw": rest}, label=matrix_or_not))


# -- checks ---------------------------------------------------------------------------------
def _gradient_weight(owner: str, name: str, value: Any) -> None:
    """SCION's ``momentum``, the weight of the new gradient: in (0, 1]."""
    checks.closed_unit(owner, name, value)
    start = value(0) if callable(value) else value
    if start <= 0:
        raise ValueError(
            f"{owner}: {name} must be in (0, 1] (the weight of the new gradient; 1: no "
            f"averaging); received {name}={value!r}"
        )


def _norm_kwargs(owner: str, name: str, value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{owner}: {name} must be a dict or None; received {name}={value!r}")


def _scion_cross_checks(owner: str, hp: dict[str, Any]) -> None:
    try:
        norm_options(hp["norm_type"], hp["norm_kwargs"])
    except ValueError as error:
        raise ValueError(f"{owner}: {str(error).removeprefix('scion: ')}") from None


def _ns_coeffs(owner: str, name: str, value: Any) -> None:
    try:
        ns_coefficients(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{owner}: {error}") from None


B = checks.boolean
ADAMW_BETAS = checks.each(checks.unit, checks.unit, names=("adamw_beta1", "adamw_beta2"))
MUON_COMMON = {
    "lr": checks.nonnegative, "weight_decay": checks.nonnegative, "weight_decouple": B,
    "ns_steps": checks.positive_int, "ns_coeffs": _ns_coeffs, "use_adjusted_lr": B,
    "adamw_lr": checks.nonnegative, "adamw_betas": ADAMW_BETAS,
    "adamw_wd": checks.nonnegative, "eps": checks.positive,
}  # fmt: skip
MUON_SEARCH = {"lr": search.log(1e-4, 1e-1), "adamw_lr": search.log(1e-5, 1e-2)}


def _register() -> None:
    register(
        "scion", _scion,
        defaults={"lr": 1e-3, "momentum": 0.1, "constraint": False, "norm_type": "auto",
                  "norm_kwargs": None, "scale": 1.0, "weight_decay": 0.0,
                  "weight_decouple": True},
        checks={"lr": checks.nonnegative, "momentum": _gradient_weight, "constraint": B,
                "norm_type": checks.one_of(*NORM_TYPES), "norm_kwargs": _norm_kwargs,
                "scale": checks.positive, "weight_decay": checks.nonnegative,
                "weight_decouple": B},
        cross_checks=_scion_cross_checks, reference=PO.format("SCION"),
        paper="Pethick, Xie, Antonakopoulos, Zhu, Silveti-Falls and Cevher, 'Training Deep "
        "Learning Models with Norm-Constrained LMOs', ICML 2025, arXiv:2502.07529",
        search={"lr": search.log(1e-5, 1e-1), "momentum": search.log(0.01, 1.0)},
    )  # fmt: skip
    register(
        "normuon", _normuon,
        defaults={"lr": 2e-2, "momentum": 0.95, "beta2": 0.95, "weight_decay": 0.0,
                  "weight_decouple": True, "nesterov": True, "ns_steps": 5,
                  "ns_coeffs": "original", "update_scale": "preserve_norm",
                  "use_adjusted_lr": False, "adamw_lr": 3e-4, "adamw_betas": (0.9, 0.95),
                  "adamw_wd": 0.0, "adamw_eps": 1e-10, "eps": 1e-10},
        checks={**MUON_COMMON, "momentum": checks.unit, "beta2": checks.unit, "nesterov": B,
                "update_scale": checks.one_of(*UPDATE_SCALES),
                "adamw_eps": checks.positive},
        momentum="momentum", step_counts="group",
        reference=PO.format("NorMuon") + ", use_muon = (ndim >= 2)",
        paper="Li, Liu, Liang, Chen and Zhao, 'NorMuon: Making Muon more efficient and "
        "scalable', arXiv:2510.05491",
        search={**MUON_SEARCH, "beta2": search.log1m(0.8, 0.999)},
    )  # fmt: skip
    register(
        "adamuon", _adamuon,
        defaults={"lr": 2e-2, "betas": (0.9, 0.95), "weight_decay": 0.0,
                  "weight_decouple": True, "ns_steps": 5, "ns_coeffs": "original",
                  "use_adjusted_lr": True, "adamw_lr": 3e-4, "adamw_betas": (0.9, 0.999),
                  "adamw_wd": 0.0, "eps": 1e-10, "sign_stabilized": False},
        checks={**MUON_COMMON, "betas": checks.BETAS2, "sign_stabilized": B},
        momentum="betas", step_counts="group",
        reference=PO.format("AdaMuon") + ", use_muon = (ndim >= 2)",
        paper="Si, Zhang and Shen, 'AdaMuon: Adaptive Muon Optimizer', arXiv:2507.11005",
        search=MUON_SEARCH,
    )  # fmt: skip


_register()
