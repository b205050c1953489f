r"""Muon with a second moment of the orthogonalised update: NorMuon (per row) and AdaMuon
(per element).

Both view a parameter of ``ndim >= 2`` as its ``(shape[0], -1)`` matrix (a
convolution kernel ``(out, in, kh, kw)`` as ``(out, in * kh * kw)``), keep a
first moment of the gradient, orthogonalise it with Muon's Newton-Schulz
iteration (:func:`~optimlab.optim.transforms.muon.newton_schulz`, in the
parameter's dtype; pytorch_optimizer: bfloat16) and then normalise the result
by a second moment of the *orthogonalised* update. The learning rate is a link
of its own after these (``-lr d_t``); the shape factor :math:`s` of Muon's
learning rate (:func:`lr_ratio`) is part of the direction here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp_
from optimlab.optim.transforms.muon import (
    Coefficients,
    newton_schulz,
    ns_coefficients,
    orthogonalised_momentum,
)

UPDATE_SCALES = ("preserve_norm", "match_rms")


def lr_ratio(shape: tuple[int, ...], use_adjusted_lr: bool) -> float:
    r"""Muon's shape factor of the learning rate of a ``(shape[0], -1)`` matrix:
    :math:`\sqrt{\max(1, r/c)}`, or Moonlight's :math:`0.2\sqrt{\max(r, c)}`."""
    rows, cols = shape[0], math.prod(shape[1:])
    if use_adjusted_lr:
        return 0.2 * math.sqrt(max(rows, cols))
    return math.pow(max(1.0, rows / cols), 0.5)


def _matrices_only(name: str, params: Arrays) -> None:
    for i, p in enumerate(params):
        if p.ndim < 2:
            raise ValueError(
                f"{name}: parameter {i} has shape {p.shape}; it orthogonalises matrices "
                "(ndim >= 2): route the others to another transform (partition)"
            )


class ScaleByNorMuon:
    r"""NorMuon's direction for matrix parameters (Li, Liu, Liang, Chen and Zhao,
    "NorMuon: Making Muon more efficient and scalable", arXiv:2510.05491), as
    ``pytorch_optimizer.NorMuon`` (4.1) computes its ``use_muon`` groups.

    .. math::

        b_t &= \mu b_{t-1} + (1-\mu) g_t, \qquad
        u_t = (1-\mu) g_t + \mu b_t \ \text{(nesterov)} \ \text{or} \ b_t \\
        O_t &= \operatorname{NS}(u_t), \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) \operatorname{mean}_{\text{cols}}(O_t \odot O_t) \\
        \hat O_t &= O_t \oslash (\sqrt{v_t} + \epsilon), \qquad
        d_t = \kappa_t \hat O_t / (\|\hat O_t\|_F + \epsilon)

    :math:`v_t` has one entry per row (neuron), broadcast over the columns, and
    no bias correction. ``update_scale='preserve_norm'`` (the default, the
    official code's): :math:`\kappa_t = \|O_t\|_F \, s` with Muon's shape factor
    :math:`s` (:func:`lr_ratio`; ``use_adjusted_lr``: Moonlight's);
    ``'match_rms'`` (the paper's Algorithm 1): :math:`\kappa_t = 0.2\sqrt{rc}`, an
    RMS of 0.2, ``use_adjusted_lr`` unused. Interpolations by ``torch.lerp``'s
    formula; no step count.
    """

    elementwise = False  # Newton-Schulz and the row means act on whole matrices

    def __init__(
        self, momentum: float = 0.95, beta2: float = 0.95, nesterov: bool = True,
        ns_steps: int = 5, ns_coeffs: str | Coefficients | Sequence[Coefficients] = "original",
        update_scale: str = "preserve_norm", use_adjusted_lr: bool = False, eps: float = 1e-10,
    ) -> None:  # fmt: skip
        if update_scale not in UPDATE_SCALES:
            raise ValueError(
                f"normuon: update_scale must be one of {', '.join(map(repr, UPDATE_SCALES))}; "
                f"received update_scale={update_scale!r}"
            )
        self.momentum, self.beta2, self.nesterov = float(momentum), float(beta2), bool(nesterov)
        self.ns_steps, self.coefficients = int(ns_steps), ns_coefficients(ns_coeffs)
        self.update_scale, self.use_adjusted_lr = update_scale, bool(use_adjusted_lr)
        self.eps = float(eps)

    def init(self, params: Arrays) -> State:
        _matrices_only("normuon", params)
        return {
            "m": zeros_like_each(params),
            "v": PerParam(np.zeros((p.shape[0], 1), dtype=p.dtype) for p in params),
            "out": zeros_like_each(params),
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        mu, eps = self.momentum, self.eps
        for g, p, m, v, out in zip(
            updates, params, state["m"], state["v"], state["out"], strict=True
        ):
            ortho = orthogonalised_momentum(
                g, m, out, p.shape, mu, self.nesterov, self.ns_steps, self.coefficients
            )
            norm0 = float(np.linalg.norm(ortho))
            lerp_(v, np.mean(ortho * ortho, axis=-1, keepdims=True), 1.0 - self.beta2)
            denominator = np.sqrt(v)
            denominator += eps
            ortho /= denominator
            norm = float(np.linalg.norm(ortho)) + eps
            if self.update_scale == "preserve_norm":
                ortho *= norm0 / norm
                ratio = lr_ratio(p.shape, self.use_adjusted_lr)
            else:
                ortho *= 0.2 * math.sqrt(ortho.size) / norm
                ratio = 1.0
            np.multiply(ortho.reshape(p.shape), ratio, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_normuon(momentum={self.momentum!r}, beta2={self.beta2!r}, "
            f"nesterov={self.nesterov}, ns_steps={self.ns_steps}, "
            f"ns_coeffs={self.coefficients!r}, update_scale={self.update_scale!r}, "
            f"use_adjusted_lr={self.use_adjusted_lr}, eps={self.eps!r})"
        )


class ScaleByAdaMuon:
    r"""AdaMuon's direction for matrix parameters (Si, Zhang and Shen, "AdaMuon: Adaptive
    Muon Optimizer", arXiv:2507.11005), as ``pytorch_optimizer.AdaMuon`` (4.1) computes
    its ``use_muon`` groups.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        O_t = \operatorname{NS}(m_t) \ \text{or} \
              \operatorname{NS}(\operatorname{sign}(m_t)) \ \text{(sign\_stabilized)} \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, O_t \odot O_t, \qquad
        \hat O_t = O_t \oslash \big(\sqrt{v_t / (1-\beta_2^t)} + \epsilon\big) \\
        d_t &= s \sqrt{\min(r, c)}\; \hat O_t / (\|\hat O_t\|_F + \epsilon)

    :math:`v_t` element-wise; :math:`t` counts the group's steps (the
    reference's ``group["step"]``); :math:`s` is Muon's shape factor
    (:func:`lr_ratio`), Moonlight's :math:`0.2\sqrt{\max(r, c)}` by default
    (``use_adjusted_lr=True``), which makes the RMS of the step :math:`0.2\eta`
    (the paper's RMS-aligned rescaling, :math:`0.2\sqrt{rc}/\|\hat O_t\|_F`).
    ``use_adjusted_lr=False``: :math:`\sqrt{\max(1, r/c)}`. :math:`m_t` by
    ``torch.lerp``'s formula, without bias correction.

    Note: the paper's later versions (v2, v3) orthogonalise :math:`\operatorname{sign}(m_t)`
    ("sign-stabilised orthogonal update"); pytorch_optimizer, like the first
    version, orthogonalises :math:`m_t`, which is the default here;
    ``sign_stabilized=True`` is the later form. The reference's bias correction
    of :math:`v_t` (not in the paper) changes the step only through :math:`\epsilon`.
    """

    elementwise = False

    def __init__(
        self, b1: float = 0.9, b2: float = 0.95, ns_steps: int = 5,
        ns_coeffs: str | Coefficients | Sequence[Coefficients] = "original",
        use_adjusted_lr: bool = True, eps: float = 1e-10, sign_stabilized: bool = False,
    ) -> None:  # fmt: skip
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.ns_steps, self.coefficients = int(ns_steps), ns_coefficients(ns_coeffs)
        self.use_adjusted_lr, self.sign_stabilized = bool(use_adjusted_lr), bool(sign_stabilized)

    def init(self, params: Arrays) -> State:
        _matrices_only("adamuon", params)
        return {"count": 0, "m": zeros_like_each(params), "v": zeros_like_each(params),
                "out": zeros_like_each(params)}  # fmt: skip

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] = t = state["count"] + 1
        bc2 = 1.0 - math.pow(self.b2, t)
        for g, p, m, v, out in zip(
            updates, params, state["m"], state["v"], state["out"], strict=True
        ):
            lerp_(m, g, 1.0 - self.b1, scratch=out)
            source = np.sign(m, out=out) if self.sign_stabilized else m
            rows = p.shape[0]
            ortho = newton_schulz(source.reshape(rows, -1), self.ns_steps, self.coefficients)
            ortho = ortho.reshape(p.shape)
            v *= self.b2
            np.multiply(ortho, ortho, out=out)
            out *= 1.0 - self.b2
            v += out
            np.divide(v, bc2, out=out)
            np.sqrt(out, out=out)
            out += self.eps
            np.divide(ortho, out, out=out)
            norm = float(np.linalg.norm(out)) + self.eps
            factor = math.sqrt(min(rows, p.size // rows))
            out *= factor / norm
            out *= lr_ratio(p.shape, self.use_adjusted_lr)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_adamuon(b1={self.b1!r}, b2={self.b2!r}, ns_steps={self.ns_steps}, "
            f"ns_coeffs={self.coefficients!r}, use_adjusted_lr={self.use_adjusted_lr}, "
            f"eps={self.eps!r}, sign_stabilized={self.sign_stabilized})"
        )
