"""Small element-wise helpers shared by the transforms ported from pytorch_optimizer.

They follow the reference's formulas (``torch.lerp``'s two branches, the
rectification term of RAdam-style optimizers, a global gradient norm) in
float64 arithmetic on Python floats, so float32 arrays stay float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def lerp(a: np.ndarray, b: np.ndarray, weight: float, out: np.ndarray) -> np.ndarray:
    r"""``out <- torch.lerp(a, b, weight)``; ``out`` must be neither ``a`` nor ``b``.

    PyTorch computes :math:`a + w (b - a)` when :math:`|w| < 0.5` and
    :math:`b - (b - a)(1 - w)` otherwise (ATen ``Lerp.h``); the same two
    forms are used here (its vectorised kernels may fuse the multiply-add, a
    difference of at most one rounding).
    """
    np.subtract(b, a, out=out)
    if abs(weight) < 0.5:
        out *= weight
        out += a
    else:
        out *= 1.0 - weight
        np.subtract(b, out, out=out)
    return out


def lerp_(a: np.ndarray, b: np.ndarray, weight: float, scratch: np.ndarray | None = None) -> None:
    """``a <- torch.lerp(a, b, weight)`` in place (``scratch``, if given, a free buffer)."""
    diff = np.subtract(b, a, out=scratch)
    if abs(weight) < 0.5:
        diff *= weight
        a += diff
    else:
        diff *= 1.0 - weight
        np.subtract(b, diff, out=a)


def global_norm(arrays: Iterable[np.ndarray]) -> float:
    r""":math:`\sqrt{\sum_i \|g_i\|_2^2}` over the arrays, as a Python float (float64)."""
    return math.sqrt(sum(float(np.linalg.norm(a)) ** 2 for a in arrays))


def rectification(
    t: int, b2: float, threshold: float, degenerated_to_sgd: bool
) -> tuple[float, float]:
    r"""RAdam's rectification as pytorch_optimizer computes it: ``(r_t, rho_t)``.

    .. math::

        \rho_\infty = \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \qquad
        r_t = \sqrt{(1-\beta_2^t) \frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                                    {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}

    when :math:`\rho_t \ge` ``threshold`` (note: :math:`\ge`, and the
    :math:`\sqrt{1-\beta_2^t}` of the second-moment bias correction lives
    inside :math:`r_t`); otherwise :math:`r_t = 1` if ``degenerated_to_sgd``
    (an un-normalised momentum step) and :math:`-1` (no step) if not.
    (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
    arXiv:1908.03265.)
    """
    n_max = 2.0 / (1.0 - b2) - 1.0
    b2t = b2**t
    n_sma = n_max - 2 * t * b2t / (1.0 - b2t)
    if n_sma >= threshold:
        rt = math.sqrt(
            (1.0 - b2t) * (n_sma - 4) / (n_max - 4) * (n_sma - 2) / n_sma * n_max / (n_max - 2)
        )
    elif degenerated_to_sgd:
        rt = 1.0
    else:
        rt = -1.0
    return rt, n_sma
