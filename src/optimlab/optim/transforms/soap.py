"""SOAP: Adam in the eigenbasis of Shampoo's preconditioner."""

from __future__ import annotations

import math

import numpy as np

from optimlab.optim.base import Arrays, PerParam, State, zeros_like_each
from optimlab.optim.transforms._matrix_roots import mode_products, unfolding_gram
from optimlab.optim.transforms._torch_ops import lerp_

DATA_FORMATS = ("channels_first", "channels_last")


def merged_shape(shape: tuple[int, ...], max_dim: int) -> tuple[int, ...]:
    """Consecutive dimensions multiplied together while the product stays <= ``max_dim``.

    pytorch_optimizer's ``merge_small_dims`` (4.1) without the size-1 dimensions
    it inserts (exact no-ops in SOAP: a ``1 x 1`` basis is 1) and with
    ``(numel,)`` where it returns ``[1]`` for a shape that merges into one
    dimension (a reshape the reference then fails on): ``(4, 3, 3, 3)`` with
    ``max_dim=12`` is ``(12, 9)``, with ``max_dim=10000`` it is ``(108,)``.
    """
    merged, product = [], 1
    for d in shape:
        product *= d
        if product > max_dim:
            merged.append(product // d)
            product = d
    merged.append(product)
    kept = tuple(d for d in merged if d != 1)
    return kept or (1,)


def _lerp_towards(a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """``a <- torch.lerp(a, b, weight)`` in place, using ``b`` (a temporary) as scratch."""
    if abs(weight) < 0.5:
        b -= a
        b *= weight
        a += b
    else:
        lerp_(a, b, weight)


class ScaleBySOAP:
    r"""SOAP (Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson and Kakade,
    "SOAP: Improving and Stabilizing Shampoo using Adam", arXiv:2409.11321), as
    ``pytorch_optimizer.SOAP`` (4.1): Adam in the eigenbasis of Shampoo's statistics.

    For a parameter whose (merged) dimensions :math:`k` each have a basis
    :math:`Q_k` (identity where a dimension is not preconditioned), with
    :math:`\hat x = x \times_0 Q_0^\top \times_1 Q_1^\top \cdots` the rotation
    into the basis and :math:`\check x` the rotation back (:math:`Q_k` for
    :math:`Q_k^\top`):

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) \hat g_t^{\,2} \\
        n_t &= \Big(\frac{\hat m_t}{\sqrt{v_t} + \epsilon}\Big)^{\!\vee}, \qquad
        \theta_t = \theta_{t-1} - \eta
            \frac{\sqrt{1-\beta_2^{s}}}{1-\beta_1^{s}} \, n_t, \qquad s = t - 1 \\
        L^{(k)} &\leftarrow \beta_s L^{(k)} + (1-\beta_s) G_{(k)} G_{(k)}^\top
            \quad \text{(after the step, with } g_t \text{; } \beta_s = \text{shampoo\_beta)}

    (torch's ``lerp`` formulas). The bases start, at a parameter's first
    gradient (whose :math:`L^{(k)}` it is), as the eigenvectors of :math:`L^{(k)}
    + 10^{-30} I` by decreasing eigenvalue; every ``precondition_frequency``
    group steps :math:`s` they take one power iteration and a QR
    decomposition: :math:`P = L^{(k)} Q_k` with its columns sorted by
    :math:`\operatorname{diag}(Q_k^\top P)` decreasing (:math:`v` permuted
    along :math:`k` the same way), :math:`Q_k \leftarrow \operatorname{qr}(P)_Q`.
    The group's first step only gathers statistics (no step, no decay).
    ``correct_bias=False`` drops the bias correction; ``normalize_gradient``
    divides :math:`n_t` by :math:`\operatorname{RMS}(n_t) + \epsilon`.

    Dimensions (the reference's rule): a 1-D parameter gets a basis only with
    ``precondition_1d`` and at most ``max_precondition_dim`` entries; a
    parameter of 2 or more dimensions one per dimension of at most
    ``max_precondition_dim`` (the others: identity), so a 4-D convolution kernel
    ``(out, in, kh, kw)`` has four; with ``merge_dims`` consecutive dimensions
    are merged first (:func:`merged_shape`; ``data_format='channels_last'``
    reads a 4-D kernel as ``(out, kh, kw, in)`` and merges ``(out, in, kh, kw)``).
    A 0-d parameter gets none (Adam). eigh and QR are computed in float64 and
    cast to the parameter's dtype (the reference: eigh in the parameter's
    dtype, QR in float32).

    Step counts are the group's (the reference's ``group["step"]``): a parameter
    whose first gradient comes late takes a step at once, debiased with the
    group's count. Note: ``shampoo_beta`` is read at every step here (the
    reference fixes it at a parameter's first gradient). Decoupled weight decay
    is a link of its own (:class:`SOAPWeightDecay`).
    """

    elementwise = False  # rotations act on whole tensors

    def __init__(
        self, lr: float = 3e-3, beta1: float = 0.95, beta2: float = 0.95,
        shampoo_beta: float | None = None, eps: float = 1e-8, precondition_frequency: int = 10,
        max_precondition_dim: int = 10000, merge_dims: bool = False,
        precondition_1d: bool = False, correct_bias: bool = True,
        normalize_gradient: bool = False, data_format: str = "channels_first",
    ) -> None:  # fmt: skip
        self.lr, self.b1, self.b2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.shampoo_beta = self.b2 if shampoo_beta is None else float(shampoo_beta)
        self.frequency, self.max_dim = int(precondition_frequency), int(max_precondition_dim)
        self.merge_dims, self.precondition_1d = bool(merge_dims), bool(precondition_1d)
        self.correct_bias, self.normalize = bool(correct_bias), bool(normalize_gradient)
        self.channels_last = data_format == "channels_last"

    def init(self, params: Arrays) -> State:
        def nothing() -> PerParam:
            return PerParam([None] * len(params))

        # m, v and the scratch arrays have the (merged) shape the rotations act on.
        return {
            "count": 0, "m": nothing(), "v": nothing(), "GG": nothing(), "Q": nothing(),
            "work": nothing(), "out": zeros_like_each(params),
        }  # fmt: skip

    # -- layout -------------------------------------------------------------------------------
    def _permuted(self, x: np.ndarray) -> np.ndarray:
        return x.transpose(0, 3, 1, 2) if self.channels_last and x.ndim == 4 else x

    def _shape(self, p: np.ndarray) -> tuple[int, ...]:
        if p.ndim == 0:
            return (1,)
        if self.merge_dims:
            return merged_shape(self._permuted(p).shape, self.max_dim)
        return p.shape

    def _to_work(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """``x`` (a parameter's shape) in the shape the rotations act on (a view if it can)."""
        if x.ndim == 4 and self.merge_dims and self.channels_last:
            x = x.transpose(0, 3, 1, 2)
        return x.reshape(shape)

    def _from_work(self, y: np.ndarray, out: np.ndarray) -> None:
        if out.ndim == 4 and self.merge_dims and self.channels_last:
            out = out.transpose(0, 3, 1, 2)
        np.copyto(out, y.reshape(out.shape))

    def _start(self, j: int, g: np.ndarray, p: np.ndarray, state: State, step: int) -> None:
        """A parameter's first gradient: zero moments, its statistics and bases."""
        shape = self._shape(p)
        if p.ndim == 0:
            kept = [False]
        elif p.ndim == 1:
            kept = [self.precondition_1d and p.shape[0] <= self.max_dim]
        else:
            kept = [d <= self.max_dim for d in shape]
        state["GG"][j] = [np.zeros((d, d), p.dtype) if k else None
                          for d, k in zip(shape, kept, strict=True)]  # fmt: skip
        state["m"][j] = np.zeros(shape, p.dtype)
        state["v"][j] = np.zeros(shape, p.dtype)
        state["work"][j] = [np.zeros(shape, p.dtype) for _ in range(3)]
        x = self._to_work(g, shape)
        self._gather(x, state["GG"][j])
        state["Q"][j] = [None if gg is None else _eigenbasis(gg) for gg in state["GG"][j]]
        if step > 0 and step % self.frequency == 0:
            self._rotate(j, state)

    # -- statistics and bases -----------------------------------------------------------------
    def _gather(self, x: np.ndarray, stats: list) -> None:
        for k, gg in enumerate(stats):
            if gg is not None:
                _lerp_towards(gg, unfolding_gram(x, k), 1.0 - self.shampoo_beta)

    def _rotate(self, j: int, state: State) -> None:
        """One power iteration and QR per basis; ``v`` follows the new order of the columns."""
        v = state["v"][j]
        for k, (gg, q) in enumerate(zip(state["GG"][j], state["Q"][j], strict=True)):
            if gg is None:
                continue
            product = gg @ q
            estimate = np.sum(q * product, axis=0)
            order = np.argsort(-estimate, kind="stable")
            v[...] = np.take(v, order, axis=k)
            basis = np.linalg.qr(product[:, order].astype(np.float64))[0]
            np.copyto(q, basis, casting="same_kind")

    # -- the step -----------------------------------------------------------------------------
    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        t = state["count"]  # the reference's group["step"] before this step
        for j, (g, p) in enumerate(zip(updates, params, strict=True)):
            if state["m"][j] is None:
                self._start(j, g, p, state, t)
        state["count"] = t + 1
        out = state["out"]
        if t == 0:  # the group's first step gathers statistics only
            for o in out:
                o.fill(0)
            return out
        step_size = self.lr
        if self.correct_bias:
            step_size *= math.sqrt(1.0 - math.pow(self.b2, t)) / (1.0 - math.pow(self.b1, t))
        for j, g in enumerate(updates):
            self._one(j, g, out[j], state, t, step_size)
        return out

    def _one(
        self, j: int, g: np.ndarray, out: np.ndarray, state: State, t: int, step_size: float
    ) -> None:
        m, v, qs = state["m"][j], state["v"][j], state["Q"][j]
        scratch, denom, tmp = state["work"][j]
        x = self._to_work(g, m.shape)
        rotated = _rotate_into(x, qs, scratch, tmp)
        np.square(rotated, out=denom)
        lerp_(m, x, 1.0 - self.b1, scratch=scratch)
        lerp_(v, denom, 1.0 - self.b2, scratch=scratch)
        np.sqrt(v, out=denom)
        denom += self.eps
        ratio = _rotate_into(m, qs, scratch, tmp)
        ratio /= denom
        n = _rotate_back(ratio, qs, denom, tmp)
        if self.normalize:
            n /= math.sqrt(float(np.mean(np.square(n)))) + self.eps
        n *= -step_size
        self._from_work(n, out)
        self._gather(x, state["GG"][j])
        if t > 0 and t % self.frequency == 0:
            self._rotate(j, state)

    def __repr__(self) -> str:
        return (
            f"scale_by_soap(lr={self.lr!r}, betas=({self.b1!r}, {self.b2!r}), "
            f"shampoo_beta={self.shampoo_beta!r}, eps={self.eps!r}, "
            f"precondition_frequency={self.frequency}, max_precondition_dim={self.max_dim}, "
            f"merge_dims={self.merge_dims}, precondition_1d={self.precondition_1d}, "
            f"correct_bias={self.correct_bias}, normalize_gradient={self.normalize}, "
            f"channels_last={self.channels_last})"
        )


def _eigenbasis(gg: np.ndarray) -> np.ndarray:
    """Eigenvectors of ``gg + 1e-30 I`` by decreasing eigenvalue (float64, cast back)."""
    a = gg.astype(np.float64)
    a[np.diag_indices_from(a)] += 1e-30
    return np.linalg.eigh(a)[1][:, ::-1].astype(gg.dtype)


def _rotate_into(x: np.ndarray, qs: list, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    r""":math:`x \times_k Q_k^\top` along every axis, into ``out`` (``tmp``: scratch)."""
    if x.ndim == 1:
        return _copy(x, out) if qs[0] is None else np.matmul(x, qs[0], out=out)
    if x.ndim == 2:
        return _matrix_rotation(x, qs[0], qs[1], out, tmp, back=False)
    return _copy(mode_products(x, qs, transpose=True), out)


def _rotate_back(x: np.ndarray, qs: list, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    r""":math:`x \times_k Q_k` along every axis (back to the parameter's coordinates)."""
    if x.ndim == 1:
        return _copy(x, out) if qs[0] is None else np.matmul(qs[0], x, out=out)
    if x.ndim == 2:
        return _matrix_rotation(x, qs[0], qs[1], out, tmp, back=True)
    return _copy(mode_products(x, qs), out)


def _matrix_rotation(
    x: np.ndarray, left: np.ndarray | None, right: np.ndarray | None, out: np.ndarray,
    tmp: np.ndarray, back: bool,
) -> np.ndarray:  # fmt: skip
    """``L^T x R`` (``back``: ``L x R^T``) into ``out``, ``None`` the identity; ``x`` is
    neither ``out`` nor ``tmp``."""
    if left is not None:
        np.matmul(left if back else left.T, x, out=tmp if right is not None else out)
        x = tmp
    if right is not None:
        np.matmul(x, right.T if back else right, out=out)
    elif left is None:
        np.copyto(out, x)
    return out


def _copy(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.copyto(out, x)
    return out


class SOAPWeightDecay:
    r"""SOAP's decoupled weight decay, :math:`\theta \leftarrow (1 - \eta\lambda)\theta`, except
    at the group's first step (which SOAP skips entirely).

    pytorch_optimizer decays *after* the step, :math:`\theta_t = (\theta_{t-1} + u_t)(1 -
    \eta\lambda)`: with this link first and the step scaled by :math:`1 - \eta\lambda`
    after SOAP (:class:`~optimlab.optim.transforms.laprop.ShrinkStep`) the result is the
    same, and the decay stays out of what the cautious mask sees.
    """

    elementwise = True
    writes_params = True

    def __init__(self, weight_decay: float, lr: float) -> None:
        self.weight_decay, self.lr = float(weight_decay), float(lr)

    def init(self, params: Arrays) -> State:
        return {"count": 0}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        state["count"] += 1
        factor = 1.0 - self.lr * self.weight_decay
        if state["count"] > 1 and factor != 1.0:
            for p in params:
                p *= factor
        return updates

    def __repr__(self) -> str:
        return f"soap_weight_decay({self.weight_decay!r}, lr={self.lr!r})"
