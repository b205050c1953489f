"""Shampoo: one preconditioner per tensor dimension, inverse roots of accumulated statistics."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, counters, zeros_like_each
from optimlab.optim.transforms._matrix_roots import inverse_root, mode_products, unfolding_gram
from optimlab.optim.transforms._torch_ops import lerp

#: The largest dimension given a preconditioner: a ``d x d`` statistic and its root in
#: float64 take ``16 d^2`` bytes (1.6 GB at 10000), and each root an ``O(d^3)`` eigh.
MAX_DIMENSION = 10_000


class ScaleByShampoo:
    r"""Shampoo's direction (Gupta, Koren and Singer, "Shampoo: Preconditioned Stochastic
    Tensor Optimization", arXiv:1802.09568), as ``pytorch_optimizer.Shampoo`` (4.1).

    For a parameter of order :math:`n` (``ndim``) with gradient :math:`g_t`:

    .. math::

        G_t &= \operatorname{lerp}(g_t, u_{t-1}, \mu) + \lambda \theta_{t-1}
            \quad (\mu > 0 \text{ and } t > 1; \text{ else } g_t + \lambda\theta_{t-1}) \\
        H^{(k)}_t &= H^{(k)}_{t-1} + G_{t,(k)} G_{t,(k)}^\top, \qquad
            H^{(k)}_0 = \epsilon I \qquad (k = 0 \dots n-1) \\
        u_t &= G_t \times_0 \big(H^{(0)}\big)^{-1/2n} \times_1 \cdots
              \times_{n-1} \big(H^{(n-1)}\big)^{-1/2n}

    where :math:`G_{(k)}` is the mode-:math:`k` unfolding (dimension :math:`k`
    first, the others flattened) and :math:`\times_k` multiplies along
    dimension :math:`k`: for a matrix :math:`u_t = L^{-1/4} G_t R^{-1/4}`, for a
    vector full-matrix AdaGrad :math:`H^{-1/2} g_t`. Every dimension gets a
    preconditioner, whatever its size (a 4-D convolution kernel ``(out, in,
    kh, kw)`` four of them, each with exponent :math:`-1/8`). The inverse roots
    (:func:`~optimlab.optim.transforms._matrix_roots.inverse_root`, eigh in
    float64, cast to the parameter's dtype) are recomputed from the current
    statistics on the parameter's steps :math:`t` with :math:`t \bmod
    k = 0`, :math:`k` = ``preconditioning_compute_steps``, and start as
    zero matrices, so with :math:`k > 1` the first :math:`k - 1` steps are 0,
    as in the reference. The momentum buffer :math:`u` is the previous
    *preconditioned* update, not a gradient average (the reference's). The
    coupled weight decay :math:`\lambda` is added after the momentum; the
    decoupled one is a link before this one.

    A 0-d parameter is treated as its 1-element twin (a ``1 x 1``
    preconditioner, :math:`u = g / \sqrt{\epsilon + \sum g^2}`);
    pytorch_optimizer gives it none (its step is then plain SGD with the
    momentum above). Step counts are the parameter's own; pytorch_optimizer
    tests :math:`t \bmod k` on the group's count (they agree while every
    parameter has a gradient at every step, and always for :math:`k = 1`).
    The output is the momentum buffer itself (read only for the links after).
    A dimension larger than :data:`MAX_DIMENSION` is refused with a ``ValueError``
    at ``init`` (the reference would try to allocate the ``d x d`` matrices): give
    such a parameter another optimizer (``partition``) or use ``soap``, whose
    ``max_precondition_dim`` leaves large dimensions unpreconditioned.
    """

    elementwise = False  # the preconditioners act on whole tensors

    def __init__(
        self, momentum: float = 0.0, weight_decay: float = 0.0, matrix_eps: float = 1e-6,
        preconditioning_compute_steps: int = 1,
    ) -> None:  # fmt: skip
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.matrix_eps = float(matrix_eps)
        self.compute_steps = int(preconditioning_compute_steps)

    def init(self, params: Arrays) -> State:
        for p in params:
            if max(p.shape, default=1) > MAX_DIMENSION:
                d = max(p.shape)
                raise ValueError(
                    f"shampoo: a parameter of shape {tuple(p.shape)} would need a {d} x {d} "
                    f"preconditioner ({16 * d * d / 1e9:.3g} GB in float64); expected every "
                    f"dimension <= {MAX_DIMENSION}. Give it another optimizer (optimlab.optim."
                    "combinators.partition), or use soap (max_precondition_dim)"
                )
        nothing = [None] * len(params)
        return {
            "count": counters(params),
            "stats": PerParam(nothing),  # per parameter: one H^(k) per dimension
            "roots": PerParam(nothing),  # per parameter: one (H^(k))^(-1/2n) per dimension
            "u": zeros_like_each(params),  # the momentum buffer and the output
            "mixed": zeros_like_each(params),  # G_t
            "scratch": zeros_like_each(params),
        }

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        for j, (g, p) in enumerate(zip(updates, params, strict=True)):
            self._one(j, g, p, state)
        return state["u"]

    def _one(self, j: int, g: np.ndarray, p: np.ndarray, state: State) -> None:
        u, mixed, scratch = state["u"][j], state["mixed"][j], state["scratch"][j]
        shape = p.shape if p.ndim else (1,)
        if state["stats"][j] is None:  # the first gradient: H_0 = eps I, as the reference
            dtype = p.dtype
            state["stats"][j] = [np.eye(d, dtype=dtype) * dtype.type(self.matrix_eps)
                                 for d in shape]  # fmt: skip
            state["roots"][j] = [np.zeros((d, d), dtype=dtype) for d in shape]
        first = state["count"][j] == 0
        state["count"][j] += 1
        if self.momentum > 0.0 and not first:  # at t = 1 the reference's lerp(g, g) = g
            lerp(g, u, self.momentum, out=mixed)
        else:
            np.copyto(mixed, g)
        if self.weight_decay > 0.0:
            np.multiply(p, self.weight_decay, out=scratch)
            mixed += scratch
        x = mixed.reshape(shape)
        order = len(shape)
        recompute = state["count"][j] % self.compute_steps == 0
        for k, (stat, root) in enumerate(zip(state["stats"][j], state["roots"][j], strict=True)):
            stat += unfolding_gram(x, k)
            if recompute:
                inverse_root(stat, 2 * order, out=root)
        roots = state["roots"][j]
        if order == 1:
            np.matmul(roots[0], x, out=u.reshape(shape))
        elif order == 2:
            np.matmul(roots[0], x, out=scratch)
            np.matmul(scratch, roots[1], out=u)
        else:
            np.copyto(u, mode_products(x, roots))

    def __repr__(self) -> str:
        return (
            f"scale_by_shampoo(momentum={self.momentum!r}, weight_decay={self.weight_decay!r}, "
            f"matrix_eps={self.matrix_eps!r}, preconditioning_compute_steps={self.compute_steps})"
        )
