r"""PSGD Kron: Kronecker-factored preconditioners fitted to random probes (Xi-Lin Li).

The preconditioner of a parameter of order :math:`n` is :math:`P = Q^\top Q` with
:math:`Q = Q_0 \otimes \cdots \otimes Q_{n-1}`, one factor per dimension: an upper
triangular matrix or a diagonal (kept as a vector). The factors are fitted, without
Hessian-vector products, to the pair (random probe :math:`v`, gradient :math:`g`)
so that :math:`P` approaches :math:`(g g^\top)^{-1/2}` in expectation over
:math:`v \sim \mathcal N(0, I)` (Li, "Preconditioned Stochastic Gradient Descent",
arXiv:1512.04202; the ``kron`` preconditioner of psgd_torch and of Evan Walters'
kron_torch), as ``pytorch_optimizer.Kron`` (4.1) computes it.

Random state: the transform owns a ``numpy.random.Generator`` over a PCG64 bit
generator, seeded by ``seed`` at :meth:`ScaleByKron.init` and kept in the state as
the bit generator's state (``PCG64().state``: a dict of ints), so that the same
seed gives the same steps and ``state_dict()`` / ``load_state_dict()`` continue the
stream bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from optimlab.optim.base import Arrays, PerParam, State, zeros_like_each

#: ``memory_save_mode`` values: which dimensions get a diagonal factor whatever their size.
MEMORY_SAVE_MODES = (None, "one_diag", "smart_one_diag", "all_diag")

#: The offset of the factor updates (pytorch_optimizer: ``torch.finfo(torch.bfloat16).tiny``).
EPS = 2.0**-126


# -- the update-probability schedule ----------------------------------------------------------
def update_probability(
    step: int, max_prob: float = 1.0, min_prob: float = 0.03, decay: float = 0.001,
    flat_start: int = 500,
) -> float:  # fmt: skip
    r"""pytorch_optimizer's default preconditioner update probability at group step ``step``.

    .. math::

        p(t) = \operatorname{clip}\big(p_{\max} e^{-\text{decay}\,(t - \text{flat\_start})},
               \ p_{\min},\ p_{\max}\big)

    (``t`` counted from 0: the steps taken before this one). The reference computes it
    in float32; the update decisions it leads to (``counter >= 1/p``) are the same in
    float64 at every step (``tests/optim/test_kron_schedule.py``).
    """
    x = -decay * (step - flat_start)
    value = max_prob if x >= 0.0 else max_prob * math.exp(x)
    return min(max(value, min_prob), max_prob)


@dataclass(frozen=True)
class UpdateProbabilitySchedule:
    """:func:`update_probability` with other constants, as a schedule (``step -> p``) to
    pass as ``pre_conditioner_update_probability`` (pytorch_optimizer's
    ``precondition_update_prob_schedule``)."""

    max_prob: float = 1.0
    min_prob: float = 0.03
    decay: float = 0.001
    flat_start: int = 500

    def __call__(self, step: int) -> float:
        return update_probability(step, self.max_prob, self.min_prob, self.decay, self.flat_start)


# -- which dimension gets which factor ----------------------------------------------------
def triangular_dims(
    shape: Sequence[int], max_size_triangular: int = 8192, min_ndim_triangular: int = 2,
    memory_save_mode: str | None = None,
) -> list[bool]:  # fmt: skip
    """Per dimension of ``shape``: ``True`` for a triangular factor, ``False`` for a diagonal.

    A dimension of size :math:`d` gets a diagonal when :math:`d = 1`, :math:`d >`
    ``max_size_triangular``, ``len(shape) < min_ndim_triangular``, or
    ``memory_save_mode`` picks it: ``"one_diag"`` the largest dimension (of equal
    largest ones, the last), ``"smart_one_diag"`` the largest one if it is strictly
    larger than every other (and ``len(shape) >= 2``), ``"all_diag"`` every one.
    """
    if memory_save_mode not in MEMORY_SAVE_MODES:
        raise ValueError(
            f"memory_save_mode must be one of {', '.join(map(repr, MEMORY_SAVE_MODES))}; "
            f"received memory_save_mode={memory_save_mode!r}"
        )
    ndim = len(shape)
    diagonal = [memory_save_mode == "all_diag"] * ndim
    if ndim and memory_save_mode in ("one_diag", "smart_one_diag"):
        largest = max(shape)
        last = max(i for i, size in enumerate(shape) if size == largest)
        ordered = sorted(shape)
        if memory_save_mode == "one_diag" or (ndim >= 2 and ordered[-1] > ordered[-2]):
            diagonal[last] = True
    return [
        not (d or size == 1 or size > max_size_triangular or ndim < min_ndim_triangular)
        for size, d in zip(shape, diagonal, strict=True)
    ]


# -- products along one dimension -----------------------------------------------------------
def _front(x: np.ndarray, axis: int) -> np.ndarray:
    """The mode-``axis`` unfolding: that dimension first, the others flattened."""
    return np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)


def _back(front: np.ndarray, axis: int, shape: tuple[int, ...]) -> np.ndarray:
    moved = (shape[axis], *shape[:axis], *shape[axis + 1 :])
    return np.moveaxis(front.reshape(moved), 0, axis)


def _along(q: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A diagonal factor shaped to broadcast along ``axis``."""
    return q.reshape([-1 if k == axis else 1 for k in range(ndim)])


def _multiply(q: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` times the factor ``q`` along ``axis`` (``Q x`` in that dimension)."""
    if q.ndim == 1:
        return x * _along(q, axis, x.ndim)
    return _back(q @ _front(x, axis), axis, x.shape)


def _solve_transposed(q: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """``Q^{-T} x`` along ``axis`` (a triangular solve; a division for a diagonal)."""
    if q.ndim == 1:
        return x / _along(q, axis, x.ndim)
    solved = solve_triangular(q, _front(x, axis), trans="T", lower=False, check_finite=False)
    return _back(solved, axis, x.shape)


def _gram(x: np.ndarray, axis: int, full: bool) -> np.ndarray:
    """``X_(axis) X_(axis)^T`` of the unfolding, or only its diagonal."""
    f = _front(x, axis)
    return f @ f.T if full else np.einsum("ij,ij->i", f, f)


def norm_lower_bound(a: np.ndarray) -> np.ndarray:
    r"""A lower bound of the spectral norm of the square matrix ``a`` (Li's psgd).

    With :math:`m = \max |a_{ij}|` and :math:`b = a / m`: take the column :math:`c`
    (or the row, whichever has the larger sum of squares; the column on a tie) of
    largest norm, :math:`x = b^\top c / \|b^\top c\|`, and return
    :math:`m \|b x\|` (for the row: :math:`x = b r / \|b r\|`, :math:`m \|b^\top x\|`).
    """
    big = np.max(np.abs(a))
    if big == 0:
        return big
    b = a / big
    squares = b * b
    columns, rows = squares.sum(axis=0), squares.sum(axis=1)
    i, j = int(np.argmax(columns)), int(np.argmax(rows))
    tiny = np.finfo(a.dtype).tiny
    if columns[i] > rows[j]:
        x = b[:, i] @ b
        x = x / max(np.linalg.norm(x), tiny)
        return big * np.linalg.norm(x @ b.T)
    x = b @ b[j, :]
    x = x / max(np.linalg.norm(x), tiny)
    return big * np.linalg.norm(b.T @ x)


def precondition(factors: Sequence[np.ndarray], g: np.ndarray) -> np.ndarray:
    r""":math:`P g = g \times_0 Q_0^\top Q_0 \cdots \times_{n-1} Q_{n-1}^\top Q_{n-1}`
    (a diagonal factor: :math:`q^2 g` along its dimension)."""
    x = g
    for axis, q in enumerate(factors):
        if q.ndim == 1:
            x = x * _along(q * q, axis, x.ndim)
        else:
            x = _back(q.T @ (q @ _front(x, axis)), axis, x.shape)
    return x


def fit_factors(
    factors: list[np.ndarray], v: np.ndarray, g: np.ndarray, lr: float, eps: float = EPS
) -> None:
    r"""One step of the factors (in place) towards :math:`P = (g g^\top)^{-1/2}` (Li).

    .. math::

        A = g \times_0 Q_0 \cdots \times_{n-1} Q_{n-1}, \qquad
        B = v \times_0 Q_0^{-\top} \cdots \times_{n-1} Q_{n-1}^{-\top} \\
        E_k = A_{(k)} A_{(k)}^\top - B_{(k)} B_{(k)}^\top, \qquad
        S_k = A_{(k)} A_{(k)}^\top + B_{(k)} B_{(k)}^\top

    then, all from the factors before the step: a triangular factor
    :math:`Q_k \leftarrow Q_k - \frac{\eta_p}{\|S_k\|_{lb} + \epsilon}
    \operatorname{triu}(E_k)\, Q_k` (:func:`norm_lower_bound`), a diagonal one
    (:math:`E_k, S_k` the diagonals only) :math:`q_k \leftarrow q_k -
    \frac{\eta_p}{\max|S_k| + \epsilon} E_k \odot q_k`.
    """
    a = g
    for axis, q in enumerate(factors):
        a = _multiply(q, a, axis)
    b = v
    for axis, q in enumerate(factors):
        b = _solve_transposed(q, b, axis)
    terms = [(_gram(a, k, q.ndim == 2), _gram(b, k, q.ndim == 2)) for k, q in enumerate(factors)]
    for q, (aa, bb) in zip(factors, terms, strict=True):
        if q.ndim == 1:
            step = (aa - bb) * lr * q
            step /= np.max(np.abs(aa + bb)) + eps
            q -= step
        else:
            step = np.triu((aa - bb) * lr)
            step /= norm_lower_bound(aa + bb) + eps
            q -= step @ q


def balance(factors: Sequence[np.ndarray]) -> None:
    r"""Rescale the factors in place to equal max-abs norms, keeping their product:
    :math:`Q_k \leftarrow Q_k \, \bar m / m_k`, :math:`m_k = \max|Q_k|`,
    :math:`\bar m = (\prod_k m_k)^{1/n}`."""
    norms = [float(np.max(np.abs(q))) for q in factors]
    mean = math.prod(norms) ** (1.0 / len(norms))
    for q, norm in zip(factors, norms, strict=True):
        q *= mean / norm


def generator(bit_state: dict) -> np.random.Generator:
    """A Generator that continues from ``bit_state`` (a ``PCG64().state`` dict)."""
    bits = np.random.PCG64(0)
    bits.state = bit_state
    return np.random.Generator(bits)


class ScaleByKron:
    r"""PSGD Kron's direction, as ``pytorch_optimizer.Kron`` (4.1) computes it.

    Before step :math:`t` of the group (counted from 1), with :math:`p_t` the update
    probability (``update_probability``, or :func:`update_probability` of the
    :math:`t - 1` steps taken when ``None``) and :math:`c` a counter of the steps
    since the last fit (``state["update_counter"]``):

    .. math::

        c \leftarrow c + 1, \qquad
        \text{fit}_t = (p_t > 0 \ \text{and}\ c \ge 1/p_t) \ (\text{then } c \leftarrow 0),
        \qquad \text{balance}_t = (u_t < \text{balance\_prob}) \ \text{and}\ \text{fit}_t

    and then, for each parameter with a gradient :math:`g_t` (plus :math:`\lambda\theta`
    for ``ndim >= 2`` when ``weight_decouple`` is off):

    .. math::

        m_t &= \mu_t m_{t-1} + (1-\mu_t) g_t, \qquad
        \hat m_t = m_t / (1 - \textstyle\prod_{s \le t} \mu_s) \\
        d_t &= \min\Big(1, \frac{1.1}{\operatorname{RMS}(P \hat m_t) + 10^{-6}}\Big)
               P \hat m_t \ (+\, \lambda\theta_{t-1} \text{ for } \texttt{ndim} \ge 2
               \text{ when } \texttt{weight\_decouple})

    where, before :math:`P` is applied: on a balancing step, :func:`balance` (for
    ``ndim >= 2``); on a fitting step, :func:`fit_factors` with the probe :math:`v_t`,
    :math:`\hat m_t` (or :math:`g_t` with ``momentum_into_precondition_update=False``)
    and ``precondition_lr``. The learning rate is the next link:
    :math:`\theta_t = \theta_{t-1} - \eta d_t`.
    The factors start as ``precondition_init_scale ** (1/ndim)`` times identities
    (or ones); which dimension gets a triangular factor: :func:`triangular_dims`;
    a 0-d parameter is its 1-element twin (one diagonal factor of size 1).
    The bias correction :math:`1 - \prod_s \mu_s` is the reference's
    :math:`1 - \mu^t` for a constant :math:`\mu`, and the exact one for Demon's
    :math:`\mu_t`. The fit decision is a counter, not a coin: pytorch_optimizer
    fits every :math:`\lceil 1/p_t \rceil`-th step (kron_torch draws
    :math:`u < p_t` instead).

    **Draws**, from the transform's own Generator (PCG64, seeded by ``seed``), in
    this order at each step of the group: one ``random()`` (:math:`u_t`, drawn at
    every step, fit or not), then, if :math:`\text{fit}_t`, one
    ``standard_normal(shape)`` (float64, cast to the parameter's dtype) per
    parameter with a gradient this step, in the group's order. That is the order
    in which the reference calls ``numpy.random.random()`` and
    ``torch.randn_like(...)``.

    Everything is computed in the parameter's dtype (pytorch_optimizer: the
    factors in ``precondition_dtype=float32`` and its triangular solves in float32
    by default). ``weight_decay`` only touches parameters with ``ndim >= 2``,
    as in the reference. The reference keeps the counter, the probability and
    the balance draw of its first parameter group for all groups; here each
    group has its own (and its own Generator: give groups different seeds for
    independent probes).
    """

    elementwise = False  # the factors act on whole tensors

    def __init__(
        self, momentum: float = 0.9, weight_decay: float = 0.0, weight_decouple: bool = True,
        update_probability: float | None = None, max_size_triangular: int = 8192,
        min_ndim_triangular: int = 2, memory_save_mode: str | None = None,
        momentum_into_precondition_update: bool = True, precondition_lr: float = 0.1,
        precondition_init_scale: float = 1.0, balance_prob: float = 0.01, seed: int = 0,
    ) -> None:  # fmt: skip
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.weight_decouple = bool(weight_decouple)
        self.update_probability = None if update_probability is None else float(update_probability)
        self.max_size_triangular = int(max_size_triangular)
        self.min_ndim_triangular = int(min_ndim_triangular)
        self.memory_save_mode = memory_save_mode
        self.momentum_into_precondition_update = bool(momentum_into_precondition_update)
        self.precondition_lr = float(precondition_lr)
        self.precondition_init_scale = float(precondition_init_scale)
        self.balance_prob, self.seed = float(balance_prob), int(seed)

    def init(self, params: Arrays) -> State:
        factors = PerParam()
        for p in params:
            shape = p.shape or (1,)
            scale = self.precondition_init_scale ** (1.0 / len(shape))
            kinds = triangular_dims(
                shape, self.max_size_triangular, self.min_ndim_triangular, self.memory_save_mode
            )
            factors.append(
                [
                    scale * np.eye(size, dtype=p.dtype) if tri else np.full(size, scale, p.dtype)
                    for size, tri in zip(shape, kinds, strict=True)
                ]
            )
        return {
            "count": 0,  # the group's steps
            "update_counter": 0,  # steps since the last fit
            "momentum_product": 1.0,  # prod_s mu_s, for the bias correction
            "rng": np.random.PCG64(self.seed).state,
            "momentum": zeros_like_each(params),
            "factors": factors,
            "out": zeros_like_each(params),
        }

    def _decisions(self, state: State, rng: np.random.Generator) -> tuple[bool, bool]:
        """Whether this step fits the factors, and whether it balances them first."""
        prob = self.update_probability
        if prob is None:
            prob = update_probability(state["count"])
        counter = state["update_counter"] + 1
        fit = prob > 0 and counter >= 1.0 / prob
        state["update_counter"] = 0 if fit else counter
        rebalance = bool(rng.random() < self.balance_prob) and fit
        return fit, rebalance

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        rng = generator(state["rng"])
        fit, rebalance = self._decisions(state, rng)
        state["count"] += 1
        mu = self.momentum
        state["momentum_product"] *= mu
        debias = 1.0 - state["momentum_product"]
        wd = self.weight_decay
        for g, p, m, factors, out in zip(
            updates, params, state["momentum"], state["factors"], state["out"], strict=True
        ):
            decays = wd != 0.0 and p.ndim >= 2
            if decays and not self.weight_decouple:
                g = g + wd * p
            m *= mu
            m += (1.0 - mu) * g
            unbiased = m / debias
            shape = p.shape or (1,)
            if rebalance and p.ndim >= 2:
                balance(factors)
            if fit:
                v = rng.standard_normal(p.shape).astype(p.dtype, copy=False)
                target = unbiased if self.momentum_into_precondition_update else g
                fit_factors(factors, v.reshape(shape), target.reshape(shape), self.precondition_lr)
            d = precondition(factors, unbiased.reshape(shape))
            rms = float(np.sqrt(np.mean(np.square(d))))
            d *= min(1.1 / (rms + 1e-6), 1.0)
            np.copyto(out, d.reshape(p.shape))
            if decays and self.weight_decouple:
                out += wd * p
        state["rng"] = rng.bit_generator.state
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_kron(momentum={self.momentum!r}, weight_decay={self.weight_decay!r}, "
            f"weight_decouple={self.weight_decouple}, "
            f"update_probability={self.update_probability!r}, "
            f"max_size_triangular={self.max_size_triangular}, "
            f"min_ndim_triangular={self.min_ndim_triangular}, "
            f"memory_save_mode={self.memory_save_mode!r}, "
            f"momentum_into_precondition_update={self.momentum_into_precondition_update}, "
            f"precondition_lr={self.precondition_lr!r}, "
            f"precondition_init_scale={self.precondition_init_scale!r}, "
            f"balance_prob={self.balance_prob!r}, seed={self.seed})"
        )
