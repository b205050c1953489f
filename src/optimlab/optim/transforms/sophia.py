r"""SophiaH: clipped steps preconditioned by a Hutchinson estimate of the Hessian diagonal."""

from __future__ import annotations

import numpy as np

from optimlab.optim import closure as closures
from optimlab.optim.base import Arrays, State, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp_

DISTRIBUTIONS = ("gaussian", "rademacher")


def probe_vectors(
    rng: np.random.Generator, params: Arrays, num_samples: int, distribution: str
) -> list[Arrays]:
    """``num_samples`` lists of random vectors :math:`z` (one per parameter, in order): standard
    normal, or Rademacher (:math:`\\pm 1` with probability 1/2 each, drawn as
    ``2 * integers(0, 2) - 1``), in the parameters' dtypes. Draw order: sample by sample,
    parameter by parameter, as pytorch_optimizer's ``compute_hutchinson_hessian``."""
    samples = []
    for _ in range(num_samples):
        if distribution == "rademacher":
            zs = [(rng.integers(0, 2, p.shape) * 2.0 - 1.0).astype(p.dtype) for p in params]
        else:
            zs = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
        samples.append(zs)
    return samples


class ScaleBySophiaH:
    r"""SophiaH (Liu, Li, Hall, Liang and Ma, "Sophia: A Scalable Stochastic Second-order
    Optimizer for Language Model Pre-training", arXiv:2305.14342), as
    ``pytorch_optimizer.SophiaH`` (4.1).

    Every ``update_period`` steps (the group's steps 1, k + 1, 2k + 1, ...) a
    Hutchinson estimate of the Hessian diagonal, from ``num_samples`` random vectors
    :math:`z` (Gaussian or Rademacher), at the parameters before weight decay:

    .. math::

        \hat h_t = \frac{1}{S} \sum_{s=1}^{S} z_s \odot H z_s, \qquad
        h_t = \beta_2 h_{t-1} + (1-\beta_2) \hat h_t

    (:math:`h` unchanged on the other steps). Then every step, after weight decay:

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        d_t = \operatorname{clip}\Big(\frac{m_t}{\max(h_t, \epsilon)}, -p, p\Big)

    and :math:`\theta_t = \theta_{t-1} - \eta d_t` (``ScaleByLearningRate`` after this).
    No bias correction; :math:`m_0 = h_0 = 0`. :math:`H z` comes from the step's
    closure (:meth:`optimlab.optim.closure.Evaluator.hvp`: central differences of two
    more gradients through the model's own backward, step ``hvp_eps``; the reference
    differentiates its backward graph a second time instead). So ``step(closure)`` is
    needed on the Hessian steps; without a closure they raise.

    Weight decay is applied here, after the estimate as in the reference: decoupled
    :math:`\theta \leftarrow (1 - \eta\lambda)\theta` (``fixed_decay``:
    :math:`1 - \lambda`) in place (hence ``writes_params``), or coupled
    :math:`g \leftarrow g + \lambda\theta`.

    The random vectors come from the transform's own ``numpy.random.Generator``
    (PCG64 seeded with ``seed``), whose state lives in the optimizer state, so a state
    dict resumes the same draws; each parameter group has its own stream.
    """

    needs_closure = True

    def __init__(
        self, lr: float, b1: float, b2: float, p: float, eps: float, *,
        weight_decay: float = 0.0, weight_decouple: bool = True, fixed_decay: bool = False,
        update_period: int = 10, num_samples: int = 1, distribution: str = "gaussian",
        seed: int = 0, hvp_eps: float | None = None,
    ) -> None:  # fmt: skip
        self.lr, self.b1, self.b2 = float(lr), float(b1), float(b2)
        self.p, self.eps = float(p), float(eps)
        self.weight_decay, self.weight_decouple = float(weight_decay), bool(weight_decouple)
        self.fixed_decay = bool(fixed_decay)
        #: Decoupled weight decay multiplies the parameters in place, after the estimate.
        self.writes_params = self.weight_decouple and self.weight_decay != 0.0
        self.update_period, self.num_samples = int(update_period), int(num_samples)
        self.distribution, self.seed = distribution, int(seed)
        self.hvp_eps = None if hvp_eps is None else float(hvp_eps)

    def init(self, params: Arrays) -> State:
        return {
            "count": 0,
            "rng": np.random.default_rng(self.seed).bit_generator.state,
            "m": zeros_like_each(params),
            "h": zeros_like_each(params),
            "grad": zeros_like_each(params),
            "out": zeros_like_each(params),
        }

    def _hessian_diagonal(self, state: State, params: Arrays) -> list[np.ndarray]:
        evaluator = closures.current()
        if evaluator is None:
            raise ValueError(
                f"sophia: step {state['count'] + 1} updates the Hessian estimate (every "
                f"update_period={self.update_period} steps) and needs optimizer.step(closure), "
                "a closure that re-evaluates the loss and its gradients"
            )
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = state["rng"]
        samples = probe_vectors(rng, params, self.num_samples, self.distribution)
        state["rng"] = rng.bit_generator.state
        estimate = [np.zeros(p.shape, dtype=p.dtype) for p in params]
        for zs in samples:
            hz = evaluator.hvp(params, zs, self.hvp_eps)
            for e, z, v in zip(estimate, zs, hz, strict=True):
                e += (v * z * (1.0 / self.num_samples)).astype(e.dtype)
        return estimate

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        hessian = None
        if state["count"] % self.update_period == 0:
            hessian = self._hessian_diagonal(state, params)
        state["count"] += 1
        for i, (g, p, m, h, grad, out) in enumerate(
            zip(updates, params, state["m"], state["h"], state["grad"], state["out"], strict=True)
        ):
            np.copyto(grad, g)
            if self.weight_decay:
                if self.weight_decouple:
                    p *= 1.0 - self.weight_decay * (1.0 if self.fixed_decay else self.lr)
                else:
                    grad += self.weight_decay * p
            lerp_(m, grad, 1.0 - self.b1, scratch=out)
            if hessian is not None:
                lerp_(h, hessian[i], 1.0 - self.b2, scratch=out)
            np.maximum(h, self.eps, out=out)
            np.divide(m, out, out=out)
            np.clip(out, -self.p, self.p, out=out)
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_sophia_h(b1={self.b1!r}, b2={self.b2!r}, p={self.p!r}, "
            f"update_period={self.update_period!r}, num_samples={self.num_samples!r}, "
            f"distribution={self.distribution!r})"
        )
