"""Per-layer diagnostics of the optimizer's steps: how large the gradient, the update and
the weights are, and how the update points relative to the gradient.

:class:`DiagnosticsRecorder` is a :class:`~optimlab.train.loop.StepObserver`: it samples
the steps ``0, every, 2 every, ...`` of a run (``every`` = :data:`DIAGNOSTIC_EVERY` = 10
unless told) and, at the end of each epoch, appends the epoch's means to
:attr:`DiagnosticsRecorder.rows`.

Notation, per layer and sampled step: ``g`` the gradient, ``w`` the weights before the
step, ``u = w' - w`` the update (``w'`` the weights after it), each the concatenation of
the layer's parameters raveled (shape ``(n,)``); ``RMS(x) = sqrt(x . x / n)``. The
update-to-weight ratio is the rule of thumb of Karpathy's CS231n notes (*Neural Networks
Part 3*: around 1e-3), and the layer-wise ratio that LARS (You et al., 2017,
arXiv:1708.03888) and LAMB (You et al., 2019, arXiv:1904.00962) fix by construction.
"""

from __future__ import annotations

import math

import numpy as np

from optimlab._validation import check_positive_int
from optimlab.nn.module import Module, Parameter

#: The recorder samples the steps whose index (from 0 over the whole run) is a multiple
#: of this: steps 0, 10, 20, ...
DIAGNOSTIC_EVERY = 10

#: The diagnostics, in the order of :attr:`DiagnosticsRecorder.rows` within a layer.
DIAGNOSTIC_NAMES = (
    "grad_rms",
    "update_rms",
    "weight_rms",
    "update_to_weight",
    "effective_lr",
    "cosine",
    "sign_agreement",
)

DIAGNOSTIC_DESCRIPTIONS = {
    "grad_rms": "RMS(g), the root mean square of the layer's gradient components: how "
    "steep the loss is along this layer, shrinking as training settles.",
    "update_rms": "RMS(u), the root mean square of the step the optimizer took on the "
    "layer's weights: how far the layer moves per step.",
    "weight_rms": "RMS(w), the root mean square of the layer's weights before the step: "
    "its scale, which growing or decaying betrays weight growth or decay.",
    "update_to_weight": "RMS(u) / RMS(w), the relative change of the layer per step: "
    "around 1e-3 is the usual healthy range, far above it the layer churns, far below it "
    "barely learns.",
    "effective_lr": "RMS(u) / RMS(g), the step size the optimizer actually applied to this "
    "layer: the learning rate itself for plain SGD, larger where momentum or adaptive "
    "scaling amplifies small gradients.",
    "cosine": "cos(u, -g), the cosine between the update and the negative gradient: 1 is "
    "plain gradient descent, lower values mean momentum or preconditioning turned the step "
    "away from the steepest descent, negative ones a step uphill for this batch.",
    "sign_agreement": "The share of the layer's moved components (u_i != 0) that moved "
    "against their gradient (sign(u_i) == -sign(g_i)): 1 for SGD, 0.5 is no better than "
    "chance, below it the update mostly fights this batch's gradient.",
}


class DiagnosticsRecorder:
    """A :class:`~optimlab.train.loop.StepObserver` measuring each layer at sampled steps.

    A *layer* is a module owning parameters: ``model.named_parameters()`` grouped by the
    prefix before the last dot (``"1.weight"`` and ``"1.bias"`` form layer ``"1"``), in
    the model's order. Its label (:attr:`labels`) is that prefix, the module's class and
    the shape of its first parameter, ``"1 Dense 784x128"`` (a parameter of the model
    itself has the model's class alone: ``"Shift 784"``); unique because the prefixes are.

    The steps sampled are those with ``step % every == 0``, the step counted from 0 over
    the whole run (:data:`DIAGNOSTIC_EVERY`: steps 0, 10, 20, ...). At a sampled step, with
    ``g``, ``w``, ``u`` as in the module's notation (only the layer's parameters holding a
    gradient; a layer none of whose parameters has one is not measured at that step)::

        grad_rms         = RMS(g)
        update_rms       = RMS(u)
        weight_rms       = RMS(w)
        update_to_weight = RMS(u) / RMS(w)                 NaN when w = 0
        effective_lr     = RMS(u) / RMS(g)                 NaN when g = 0
        cosine           = -(u . g) / (|u| |g|)            NaN when u = 0 or g = 0
        sign_agreement   = #{i : u_i g_i < 0} / #{i : u_i != 0}     NaN when u = 0

    ``sign_agreement`` is the share of the components the step moved (``u_i != 0``)
    that moved against their gradient, ``sign(u_i) == -sign(g_i)``; a component that
    moved with a zero gradient counts as a disagreement. Sums are taken in float64.

    :meth:`end_epoch` appends, per layer (in order) and diagnostic (in
    :data:`DIAGNOSTIC_NAMES` order), the row ``{"epoch", "layer", "name", "value"}``
    whose value is the mean over the epoch's sampled steps at which it is defined
    (NaN if it is defined at none). A layer measured at none of the epoch's steps (an
    epoch shorter than ``every`` between two samples) gets no rows for it.

    Cost: nothing at the steps not sampled. At a sampled step, before it, a copy of each
    parameter and its gradient in their own dtype (kept from one sample to the next, 8
    bytes a float32 parameter); after it, the copies and the new weights are read once
    more, a chunk at a time, through three float64 buffers of :data:`CHUNK` elements
    where the update is taken and the sums accumulate. Measured on ``fmnist-mlp``
    (109,386 parameters, ``benchmarks/training.py diagnostics``): about 1 ms a sampled
    step, some 8% of an epoch at ``every=10``. The recorder only reads, so a run
    observed gives the same numbers as unobserved.

    Parameters
    ----------
    model : Module
    every : int, default DIAGNOSTIC_EVERY
        Sample every ``every``-th step (>= 1).

    Attributes
    ----------
    rows : list of dict
        The measurements so far, one per epoch, layer and diagnostic.
    labels : tuple of str
        The layers' labels, in the model's order.
    steps : list of int
        The steps measured so far.
    """

    def __init__(self, model: Module, every: int = DIAGNOSTIC_EVERY) -> None:
        check_positive_int("DiagnosticsRecorder", "every", every)
        self.every = every
        self._layers = [_Layer(label, params) for label, params in _layers(model)]
        self._scratch: _Scratch | None = None
        self.labels = tuple(layer.label for layer in self._layers)
        self.rows: list[dict] = []
        self.steps: list[int] = []
        self._pending = False

    def wants(self, step: int) -> bool:
        return step % self.every == 0

    def before_step(self, step: int) -> None:
        for layer in self._layers:
            layer.before()
        self._pending = True

    def after_step(self, step: int) -> None:
        if not self._pending:
            return
        self._pending = False
        self.steps.append(step)
        if self._scratch is None:
            self._scratch = _Scratch()
        for layer in self._layers:
            layer.after(self._scratch)

    def end_epoch(self, epoch: int) -> None:
        for layer in self._layers:
            for name, value in layer.means():
                self.rows.append(
                    {"epoch": epoch, "layer": layer.label, "name": name, "value": value}
                )


#: Elements processed at a time after a step: the float64 work buffers have this length
#: (192 KiB for the three), whatever the size of the model, in place of float64 copies of
#: every layer (24 bytes a parameter, kept for the whole run).
CHUNK = 8192


class _Layer:
    """One layer's parameters, the copies of a sampled step and the epoch's sums."""

    def __init__(self, label: str, params: list[Parameter]) -> None:
        self.label, self.params = label, params
        self.taken: list[tuple[Parameter, np.ndarray, np.ndarray]] = []  # (p, w, g) copies
        self.copies: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # allocated once
        self.reset()

    def reset(self) -> None:
        self.sums = [0.0] * len(DIAGNOSTIC_NAMES)  # of the defined (not NaN) values
        self.counts = [0] * len(DIAGNOSTIC_NAMES)
        self.measured = 0

    def before(self) -> None:
        """Copy the weights and the gradient (in their own dtype: a plain memory copy)."""
        self.taken = []
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if i not in self.copies:
                self.copies[i] = (np.empty(p.size, p.dtype), np.empty(p.size, p.grad.dtype))
            w, g = self.copies[i]
            np.copyto(w, p.data.reshape(-1))  # any shape -> (size,)
            np.copyto(g, p.grad.reshape(-1))
            self.taken.append((p, w, g))

    def after(self, scratch: _Scratch) -> None:
        if not self.taken:
            return
        totals = [0.0, 0.0, 0.0, 0.0, 0, 0, 0]
        for p, w, g in self.taken:
            new = p.data.reshape(-1)  # (size,)
            for start in range(0, p.size, CHUNK):
                stop = min(start + CHUNK, p.size)
                u, gc, wc, mask = scratch.views(stop - start)
                np.copyto(u, new[start:stop])
                np.copyto(wc, w[start:stop])
                np.copyto(gc, g[start:stop])
                np.subtract(u, wc, out=u)  # the update
                _accumulate(totals, u, gc, wc, mask)
        self.measured += 1
        for i, value in enumerate(_values(totals)):
            if value == value:  # not NaN
                self.sums[i] += value
                self.counts[i] += 1

    def means(self) -> list[tuple[str, float]]:
        """The epoch's ``(name, mean)`` pairs (none if no step was measured); then resets."""
        means = []
        if self.measured:
            for name, total, count in zip(DIAGNOSTIC_NAMES, self.sums, self.counts, strict=True):
                means.append((name, total / count if count else math.nan))
        self.reset()
        return means


class _Scratch:
    """The float64 chunk buffers ``u``, ``g``, ``w`` and a bool mask, shared by the layers."""

    def __init__(self) -> None:
        self.u, self.g, self.w = (np.empty(CHUNK) for _ in range(3))
        self.mask = np.empty(CHUNK, dtype=bool)

    def views(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.u[:n], self.g[:n], self.w[:n], self.mask[:n]


def _accumulate(totals: list, u: np.ndarray, g: np.ndarray, w: np.ndarray, mask: np.ndarray):
    """Add a chunk's ``u . u``, ``g . g``, ``w . w``, ``u . g`` (float64), its number of
    components, of those with ``u_i != 0`` and of those with ``u_i g_i < 0`` to ``totals``;
    ``u``, ``g``, ``w`` float64 of shape ``(n,)``, ``mask`` bool scratch; overwrites ``g``."""
    totals[0] += float(u @ u)
    totals[1] += float(g @ g)
    totals[2] += float(w @ w)
    totals[3] += float(u @ g)
    totals[4] += u.size
    totals[5] += int(np.count_nonzero(np.not_equal(u, 0.0, out=mask)))  # bools count fast
    np.multiply(u, g, out=g)
    totals[6] += int(np.count_nonzero(np.less(g, 0.0, out=mask)))


def _values(totals: list) -> tuple[float, ...]:
    """The :data:`DIAGNOSTIC_NAMES` from the totals of :func:`_accumulate`."""
    uu, gg, ww, ug, n, moved, against = totals
    if n == 0:
        return (math.nan,) * len(DIAGNOSTIC_NAMES)
    u_rms, g_rms, w_rms = math.sqrt(uu / n), math.sqrt(gg / n), math.sqrt(ww / n)
    cosine = _ratio(-ug, math.sqrt(uu) * math.sqrt(gg))
    if cosine == cosine:  # rounding may leave |cosine| a hair above 1
        cosine = min(1.0, max(-1.0, cosine))
    return (
        g_rms,
        u_rms,
        w_rms,
        _ratio(u_rms, w_rms),
        _ratio(u_rms, g_rms),
        cosine,
        _ratio(float(against), float(moved)),
    )


def step_diagnostics(u: np.ndarray, g: np.ndarray, w: np.ndarray) -> tuple[float, ...]:
    """The :data:`DIAGNOSTIC_NAMES` of one step from its update ``u``, gradient ``g`` and
    weights before ``w`` (each shape ``(n,)``), as Python floats; NaN where undefined
    (see :class:`DiagnosticsRecorder`), never a warning."""
    u, w = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (u, w))
    g = np.array(g, dtype=np.float64).reshape(-1)  # a copy: _accumulate overwrites it
    totals = [0.0, 0.0, 0.0, 0.0, 0, 0, 0]
    _accumulate(totals, u, g, w, np.empty(u.shape, dtype=bool))
    return _values(totals)


def _ratio(a: float, b: float) -> float:
    """``a / b``, NaN when ``b`` is 0 or NaN (Python floats: no warning, no exception)."""
    return a / b if b > 0 else math.nan


def _layers(model: Module) -> list[tuple[str, list[Parameter]]]:
    """The model's layers: ``(label, parameters)`` in the order of ``named_parameters``."""
    groups: dict[str, list[Parameter]] = {}
    for name, param in model.named_parameters():
        groups.setdefault(name.rpartition(".")[0], []).append(param)
    layers = []
    for prefix, params in groups.items():
        owner = model
        for part in prefix.split(".") if prefix else ():
            owner = getattr(owner, part)
        shape = "x".join(str(d) for d in params[0].shape) or "scalar"
        words = [prefix, type(owner).__name__, shape] if prefix else [type(owner).__name__, shape]
        layers.append((" ".join(words), params))
    return layers
