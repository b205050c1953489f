"""Muon: momentum orthogonalised by a Newton-Schulz iteration (for matrix parameters)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp, lerp_

Coefficients = tuple[float, float, float]

#: Quintic Newton-Schulz coefficients ``(a, b, c)`` per iteration (the last reused),
#: as pytorch_optimizer 4.1 (``utils.matrix.NS_COEFFICIENTS``) names them.
NS_COEFFICIENTS: dict[str, list[Coefficients]] = {
    # Keller Jordan's Muon (2024).
    "original": [(3.4445, -4.7750, 2.0315)],
    # The tuned per-iteration schedule of modded-nanogpt.
    "quintic": [
        (4.0848, -6.8946, 2.9270),
        (3.9505, -6.3029, 2.6377),
        (3.7418, -5.5913, 2.3037),
        (2.8769, -3.1427, 1.2046),
        (2.8366, -3.0525, 1.2012),
    ],
    # Polar Express (Amsel et al., arXiv:2505.16932), safety factor 1e-2.
    "polar_express": [
        (8.237312490495555, -23.157747414558198, 16.680568411445915),
        (4.082441999064835, -2.893047735332586, 0.5252849256975648),
        (3.9263479922546582, -2.8547468034765298, 0.5318022422894988),
        (3.2982187133085143, -2.424541981026706, 0.48632008358844075),
        (2.2970369434552573, -1.63662558125903, 0.4002628455953627),
        (1.8763805351440397, -1.2347896577722228, 0.35891887501668385),
        (1.8564423485617974, -1.2132449880935525, 0.3568003487825883),
        (1.8749994008682747, -1.2499988017229169, 0.3749994008546422),
    ],
    # Polar Express, safety factor 2e-2.
    "polar_express_safer": [
        (8.156554524902461, -22.48329292557795, 15.878769915207462),
        (4.0429299351667245, -2.808917465908704, 0.5000178451051299),
        (3.8916678022926563, -2.7724841532176825, 0.5060648178503389),
        (3.285753657755658, -2.3681294933425394, 0.46449024233003117),
        (2.3005307116270983, -1.6111665557258408, 0.3833374427545273),
        (1.8631210546382593, -1.2042160621002727, 0.3421879560523383),
        (1.8382572152247512, -1.1779263289537742, 0.3396513038637379),
        (1.8749999923301852, -1.2499999836060613, 0.374999991275876),
    ],
}


def ns_coefficients(value: str | Coefficients | Sequence[Coefficients]) -> list[Coefficients]:
    """A preset name, one ``(a, b, c)`` tuple, or a list of them, as a list of tuples."""
    if isinstance(value, str):
        if value not in NS_COEFFICIENTS:
            raise ValueError(
                f"ns_coeffs must be one of {', '.join(map(repr, NS_COEFFICIENTS))} or (a, b, c) "
                f"tuples; received ns_coeffs={value!r}"
            )
        return list(NS_COEFFICIENTS[value])
    items = list(value) if isinstance(value, Sequence) else []
    if len(items) == 3 and all(_is_number(x) for x in items):
        return [(float(items[0]), float(items[1]), float(items[2]))]
    if not items or not all(
        isinstance(c, Sequence) and len(c) == 3 and all(_is_number(x) for x in c) for c in items
    ):
        raise ValueError(
            f"ns_coeffs must be one of {', '.join(map(repr, NS_COEFFICIENTS))} or (a, b, c) "
            f"tuples; received ns_coeffs={value!r}"
        )
    return [(float(a), float(b), float(c)) for a, b, c in items]


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def orthogonalised_momentum(
    g: np.ndarray, m: np.ndarray, out: np.ndarray, shape: tuple, mu: float, nesterov: bool,
    ns_steps: int, coefficients: Sequence[Coefficients],
) -> np.ndarray:  # fmt: skip
    r"""Muon's momentum step: :math:`m \leftarrow \operatorname{lerp}(m, g, 1-\mu)` in
    place, then :math:`\operatorname{NS}(\operatorname{lerp}(g, m, \mu))` (Nesterov) or
    :math:`\operatorname{NS}(m)` of the ``(shape[0], -1)`` view; ``out`` is the scratch."""
    lerp_(m, g, 1.0 - mu, scratch=out)
    if nesterov:
        lerp(g, m, mu, out=out)
    else:
        np.copyto(out, m)
    return newton_schulz(out.reshape(shape[0], -1), ns_steps, coefficients)


def newton_schulz(
    g: np.ndarray,
    steps: int = 5,
    coefficients: Sequence[Coefficients] = NS_COEFFICIENTS["original"],
    eps: float = 1e-7,
) -> np.ndarray:
    r"""Approximately orthogonalise the matrix ``g`` (its polar factor :math:`U V^\top`).

    .. math::

        X_0 = G / \max(\|G\|_F, \epsilon), \qquad
        A = X X^\top, \qquad X \leftarrow a X + (b A + c A^2) X

    ``steps`` times, the :math:`k`-th step with ``coefficients[min(k, len - 1)]``;
    computed on :math:`G^\top` when :math:`G` has more rows than columns (so
    :math:`A` is the smaller Gram matrix). The ``'original'`` quintic does not
    drive the singular values exactly to 1 (Jordan, 2024: roughly into
    [0.5, 1.5]; about [0.68, 1.13] measured after 5 steps on Gaussian
    matrices); ``'polar_express'`` does, to about 1e-15 after 8. In the dtype
    of ``g`` (pytorch_optimizer defaults to bfloat16).
    """
    rows, cols = g.shape
    transpose = rows > cols
    x = g.T if transpose else g
    x = x / max(float(np.linalg.norm(x)), eps)
    last = len(coefficients) - 1
    for k in range(steps):
        a, b, c = coefficients[min(k, last)]
        gram = x @ x.T
        poly = b * gram + c * (gram @ gram)
        x = a * x + poly @ x
    return x.T if transpose else x


class ScaleByMuon:
    r"""Muon's direction for matrix parameters (Jordan et al., "Muon: An optimizer for
    hidden layers in neural networks", 2024, https://kellerjordan.github.io/posts/muon/;
    Liu et al., "Muon is Scalable for LLM Training", arXiv:2502.16982), as
    ``pytorch_optimizer.Muon``'s ``use_muon`` groups.

    Each parameter (``ndim >= 2``) is viewed as a ``(shape[0], -1)`` matrix, so a
    convolution kernel is ``(out, in * kh * kw)``:

    .. math::

        b_t &= \mu b_{t-1} + (1-\mu) g_t, \qquad
        u_t = (1-\mu) g_t + \mu b_t \ \text{(nesterov)} \ \text{or} \ b_t \\
        d_t &= s \, \operatorname{NS}(u_t), \qquad
        s = \sqrt{\max(1, \text{rows}/\text{cols})} \ \text{or} \
            0.2 \sqrt{\max(\text{rows}, \text{cols})} \ (\text{use\_adjusted\_lr, Moonlight})

    with :func:`newton_schulz` (``ns_steps``, ``ns_coeffs``) in the parameter's
    dtype (pytorch_optimizer: bfloat16); both interpolations use
    ``torch.lerp``'s formula. The learning rate is a link of its own after this
    one (``-lr d_t``); pytorch_optimizer multiplies by the adjusted rate
    :math:`\eta s` instead, the same up to one rounding. No step count: Muon
    has no bias correction. ``ns_method='gram_newton_schulz'``, ``maximize``
    and ``cautious`` are not offered.
    """

    elementwise = False  # Newton-Schulz acts on whole matrices

    def __init__(
        self, momentum: float = 0.95, nesterov: bool = True, ns_steps: int = 5,
        ns_coeffs: str | Coefficients | Sequence[Coefficients] = "original",
        use_adjusted_lr: bool = False,
    ) -> None:  # fmt: skip
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.ns_steps, self.coefficients = int(ns_steps), ns_coefficients(ns_coeffs)
        self.use_adjusted_lr = bool(use_adjusted_lr)

    def init(self, params: Arrays) -> State:
        return {"m": zeros_like_each(params), "out": zeros_like_each(params)}

    def lr_ratio(self, shape: tuple[int, ...]) -> float:
        """The shape factor :math:`s` of the learning rate of a matrix parameter."""
        rows, cols = shape[0], math.prod(shape[1:])
        if self.use_adjusted_lr:
            return 0.2 * math.sqrt(max(rows, cols))
        return math.pow(max(1.0, rows / cols), 0.5)

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        mu = self.momentum
        for g, p, m, out in zip(updates, params, state["m"], state["out"], strict=True):
            ortho = orthogonalised_momentum(
                g, m, out, p.shape, mu, self.nesterov, self.ns_steps, self.coefficients
            )
            np.multiply(ortho.reshape(p.shape), self.lr_ratio(p.shape), out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_muon(momentum={self.momentum!r}, nesterov={self.nesterov}, "
            f"ns_steps={self.ns_steps}, ns_coeffs={self.coefficients!r}, "
            f"use_adjusted_lr={self.use_adjusted_lr})"
        )


def matrix_or_not(param: np.ndarray) -> str:
    """Muon's routing: ``"muon"`` for parameters with ``ndim >= 2``, ``"adamw"`` for the rest."""
    return "muon" if param.ndim >= 2 else "adamw"
