r"""The moment and bias-correction arithmetic that Adam-like transforms share.

Each helper does its operations in the order the references do (``torch.optim``:
``m.mul_(b).add_(g, alpha=1 - b)``; pytorch_optimizer's ``sqrt(v) / sqrt(1 - b^t) +
eps``), in place and with Python floats, so that float32 arrays stay float32
and the numbers stay those of the reference to rounding. ``torch.lerp``'s two
branches are in :mod:`~optimlab.optim.transforms._torch_ops` (``lerp_``).

Notation: :math:`g` the incoming update, :math:`\beta` a decay, :math:`t` a step count.
"""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import PerParam, State


def ema_(m: np.ndarray, g: np.ndarray, beta: float, scratch: np.ndarray) -> None:
    r""":math:`m \leftarrow \beta m + (1 - \beta) g` in place (``scratch``: a free buffer)."""
    np.multiply(g, 1.0 - beta, out=scratch)
    m *= beta
    m += scratch


def ema_square_(v: np.ndarray, g: np.ndarray, beta: float, scratch: np.ndarray) -> None:
    r""":math:`v \leftarrow \beta v + (1 - \beta) g^2` in place (``scratch`` may be ``g``)."""
    np.multiply(g, g, out=scratch)
    scratch *= 1.0 - beta
    v *= beta
    v += scratch


def bias_corrections(t: int, *betas: float) -> tuple[float, ...]:
    r""":math:`1 - \beta^t` for each beta (Adam's corrections for a constant beta)."""
    return tuple(1.0 - b**t for b in betas)


def adam_denominator(
    v: np.ndarray, bias_correction: float, eps: float, out: np.ndarray
) -> np.ndarray:
    r"""``out`` :math:`\leftarrow \sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon`
    (``bias_correction`` is :math:`1 - \beta_2^t`), the order of pytorch_optimizer."""
    np.sqrt(v, out=out)
    out /= math.sqrt(bias_correction)
    out += eps
    return out


def running_weights(state: State, key: str, beta: float, n: int) -> PerParam:
    r"""Advance the running weights :math:`w \leftarrow 1 + \beta w` of this step.

    qhoptim's exact bias correction (Ma and Yarats, arXiv:1810.06801): the
    debiased moment is the EMA with coefficient :math:`1 - 1/w`, right also
    when :math:`\beta` changes from step to step (Demon). ``state[key]`` is a
    :class:`~optimlab.optim.base.PerParam` of numbers, each parameter's own
    age (as ``torch.optim``), of the ``n`` parameters of the step.
    """
    weights = state[key]
    for i in range(n):
        weights[i] = 1.0 + beta * weights[i]
    return weights
