r"""SCION's linear minimisation oracles (LMOs) over norm balls, one norm per parameter.

Pethick, Xie, Antonakopoulos, Zhu, Silveti-Falls and Cevher, "Training Deep
Learning Models with Norm-Constrained LMOs", ICML 2025, arXiv:2502.07529; as
``pytorch_optimizer.SCION`` (4.1) computes them. For a momentum average
:math:`d` the oracle returns the point of the unit ball of a norm that is most
aligned with :math:`d` (up to sign; the step then subtracts it):

==================  ==================================================================  ======
``norm_type``       direction :math:`\operatorname{lmo}(d)`                              ndim
==================  ==================================================================  ======
``"spectral"``      :math:`s\,\operatorname{NS}(d)`, :math:`s = \sqrt{r/c}`              2
                    (``normalize=False``: :math:`\sqrt{r}`; ``max_scale``: at least 1)
``"spectral_conv"`` :math:`\operatorname{NS}(d_{(r, -1)}) \sqrt{r/c} / \prod k`          >= 2
``"sign"``          :math:`\operatorname{sign}(d) / c` (``normalize=False``: no /c)      >= 2
``"col"``           :math:`d_{:,j} / (\sqrt{\textstyle\sum_i d_{ij}^2 / r}\,[c] + 10^{-8})`  2
``"row"``           :math:`d_{i,:} / (\sqrt{\textstyle\sum_j d_{ij}^2}\,[\sqrt{n}] + 10^{-8})` >= 2
``"bias"``          :math:`d / (\sqrt{\operatorname{mean}_0 d^2} + 10^{-8})`                any
``"none"``          :math:`d`                                                           any
==================  ==================================================================  ======

with :math:`r, c` = ``shape[0], shape[1]`` (for a convolution kernel
``(out, in, kh, kw)``: :math:`c` = ``in``, :math:`\prod k = kh\,kw`),
:math:`\operatorname{NS}` = 5 (``num_steps``) Newton-Schulz iterations with
the ``'original'`` quintic coefficients, on the ``(shape[0], -1)`` matrix
(:func:`~optimlab.optim.transforms.muon.newton_schulz`), in the parameter's
dtype (pytorch_optimizer: bfloat16). ``"col"``'s :math:`[c]` (``normalized=True``)
and ``"row"``'s :math:`[\sqrt n]` (``normalized``, the default; :math:`n` the
last dimension) are optional factors; ``transpose=True`` applies either to the
parameter with its first two axes swapped (embeddings stored ``(vocab, dim)``).
``"bias"``'s mean is over axis 0 (the whole vector for a bias, each column of a
matrix; a 0-d parameter is its own RMS).

**Which parameters a norm gets.** ``"auto"`` (the reference's default) picks by
``ndim``: 0/1 ``"bias"``, 2 ``"spectral"``, 3/4 ``"spectral_conv"``, and refuses
more dimensions. Any other ``norm_type`` applies to the parameters of the ndim
in the table's last column; the others keep ``"auto"``'s choice (the reference
fails on them instead; so a whole model can be given ``"sign"`` and its biases
stay on ``"bias"``). ``norm_kwargs`` are the chosen norm's options
(``num_steps``, ``normalize``, ``max_scale``, ``normalized``, ``transpose``, as
the reference names them); ``"auto"`` takes none. The paper's recommendation
(``"col"`` for the input layer, ``"spectral"`` for hidden ones, ``"sign"`` for
the output layer, with per-layer radii ``scale``) depends on a layer's place,
not its shape: give those layers parameter groups of their own.

Note: the factors use ``shape[0]`` as the output dimension, as for a torch
``Linear`` weight ``(out, in)``; optimlab's ``Dense`` stores ``(in, out)``, so
there :math:`r` is the input dimension (the arithmetic is the reference's on the
same array). Not offered: ``Sign``'s ``zero_init`` and the reference's
``SCION.init()`` (they re-initialise the weights, not a step) and SCIONLight.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each
from optimlab.optim.transforms._torch_ops import lerp_
from optimlab.optim.transforms.muon import NS_COEFFICIENTS, newton_schulz

#: Every norm type, in the reference's ``LMONorm`` order after ``"none"`` and ``"auto"``.
NORM_TYPES = ("auto", "spectral", "spectral_conv", "sign", "bias", "col", "row", "none")

#: Each norm's options (``norm_kwargs``) with the reference's defaults.
NORM_OPTIONS: dict[str, dict[str, Any]] = {
    "auto": {},
    "spectral": {"max_scale": False, "normalize": True, "num_steps": 5},
    "spectral_conv": {"num_steps": 5},
    "sign": {"normalize": True},
    "bias": {},
    "col": {"normalized": False, "transpose": False},
    "row": {"normalized": True, "transpose": False},
    "none": {},
}

#: The numbers of dimensions each norm is defined for (``None``: any).
_DIMENSIONS: dict[str, tuple[int, int] | None] = {
    "spectral": (2, 2), "spectral_conv": (2, 64), "sign": (2, 64), "col": (2, 2),
    "row": (2, 64), "bias": None, "none": None,
}  # fmt: skip

EPS = 1e-8  # the reference's fixed eps of the column, row and bias norms


def auto_norm(ndim: int) -> str:
    """``"auto"``'s choice: 0/1 dims ``"bias"``, 2 ``"spectral"``, 3/4 ``"spectral_conv"``."""
    if ndim <= 1:
        return "bias"
    if ndim == 2:
        return "spectral"
    if ndim <= 4:
        return "spectral_conv"
    raise ValueError(
        f"scion: norm_type='auto' takes parameters of 0 to 4 dimensions (bias, matrix, "
        f"convolution kernel); received a parameter of {ndim} dimensions: give it a "
        "parameter group with a norm_type of its own ('spectral_conv', 'sign', 'row', 'bias')"
    )


def applies(norm_type: str, ndim: int) -> bool:
    """Whether ``norm_type`` (not ``"auto"``) is defined for parameters of ``ndim`` dimensions."""
    bounds = _DIMENSIONS[norm_type]
    return bounds is None or bounds[0] <= ndim <= bounds[1]


def norm_of(norm_type: str, ndim: int) -> str:
    """The norm a parameter of ``ndim`` dimensions gets: ``norm_type`` where it applies,
    ``"auto"``'s choice otherwise."""
    if norm_type != "auto" and applies(norm_type, ndim):
        return norm_type
    return auto_norm(ndim)


def norm_options(norm_type: str, norm_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The chosen norm's options: its defaults updated by ``norm_kwargs`` (checked)."""
    if norm_type not in NORM_OPTIONS:
        raise ValueError(
            f"scion: norm_type must be one of {', '.join(map(repr, NORM_TYPES))}; "
            f"received norm_type={norm_type!r}"
        )
    given = dict(norm_kwargs or {})
    known = NORM_OPTIONS[norm_type]
    for key, value in given.items():
        if key not in known:
            takes = ", ".join(map(repr, known)) if known else "none"
            raise ValueError(
                f"scion: norm_kwargs {key!r} is not an option of norm_type={norm_type!r} "
                f"(it takes: {takes}); received norm_kwargs={given!r}"
            )
        if key == "num_steps":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"scion: norm_kwargs num_steps must be an integer >= 1; received {value!r}"
                )
        elif not isinstance(value, bool):
            raise ValueError(f"scion: norm_kwargs {key} must be true or false; received {value!r}")
    return {**known, **given}


def lmo(d: np.ndarray, norm: str, options: Mapping[str, Any], out: np.ndarray) -> None:
    """``out <- lmo(d)`` of ``norm`` (a resolved type, not ``"auto"``); ``d`` is read only."""
    if norm in ("spectral", "spectral_conv"):
        _spectral(d, norm, options, out)
    elif norm == "sign":
        np.sign(d, out=out)
        if options["normalize"]:
            out /= d.shape[1]
    elif norm == "col":
        a, o = (d.T, out.T) if options["transpose"] else (d, out)
        rms = np.sqrt(np.sum(a * a, axis=0, keepdims=True))
        rms /= math.sqrt(a.shape[0])
        if options["normalized"]:
            rms *= a.shape[1]
        rms += EPS
        np.divide(a, rms, out=o)
    elif norm == "row":
        swap = options["transpose"]
        a, o = (np.swapaxes(d, 0, 1), np.swapaxes(out, 0, 1)) if swap else (d, out)
        rms = np.sqrt(np.sum(a * a, axis=-1, keepdims=True))
        if options["normalized"]:
            rms *= math.sqrt(a.shape[-1])
        rms += EPS
        np.divide(a, rms, out=o)
    elif norm == "bias":
        a, o = (d, out) if d.ndim else (d.reshape(1), out.reshape(1))
        rms = np.sqrt(np.mean(a * a, axis=0, keepdims=True))
        rms += EPS
        np.divide(a, rms, out=o)
    else:  # "none"
        np.copyto(out, d)


def _spectral(d: np.ndarray, norm: str, options: Mapping[str, Any], out: np.ndarray) -> None:
    rows, cols = d.shape[0], d.shape[1]
    ortho = newton_schulz(d.reshape(rows, -1), options["num_steps"], NS_COEFFICIENTS["original"])
    if norm == "spectral_conv":
        factor = math.sqrt(rows / cols) / math.prod(d.shape[2:])
    else:
        factor = math.sqrt(rows / cols) if options["normalize"] else math.sqrt(rows)
        if options["max_scale"]:
            factor = max(1.0, factor)
    np.multiply(ortho.reshape(d.shape), factor, out=out)


class ScaleBySCION:
    r"""SCION's direction: the LMO of a momentum average, times the radius ``scale``.

    .. math::

        d_t = (1-\alpha)\, d_{t-1} + \alpha\, g_t, \qquad
        u_t = \rho \operatorname{lmo}(d_t)

    with :math:`\alpha` = ``momentum``, *the weight of the new gradient* (the
    reference's and the paper's convention: 1 minus the usual momentum; 1 is no
    averaging), by ``torch.lerp``'s formula, and :math:`\rho` = ``scale``. The
    norm of each parameter follows ``norm_type`` and ``ndim`` (see the module's
    table; ``init`` refuses a parameter ``"auto"`` has no norm for). No step
    count: nothing depends on the step.
    """

    elementwise = False  # the oracles act on whole matrices, columns or rows

    def __init__(
        self, momentum: float = 0.1, norm_type: str = "auto",
        norm_kwargs: Mapping[str, Any] | None = None, scale: float = 1.0,
    ) -> None:  # fmt: skip
        self.momentum, self.scale = float(momentum), float(scale)
        self.norm_type = norm_type
        self.options = norm_options(norm_type, norm_kwargs)

    def _options(self, norm: str) -> Mapping[str, Any]:
        return self.options if norm == self.norm_type else NORM_OPTIONS[norm]

    def init(self, params: Arrays) -> State:
        for p in params:
            norm_of(self.norm_type, p.ndim)  # refuses what no norm takes
        return {"d": zeros_like_each(params), "out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        for g, p, d, out in zip(updates, params, state["d"], state["out"], strict=True):
            lerp_(d, g, self.momentum, scratch=out)
            norm = norm_of(self.norm_type, p.ndim)
            lmo(d, norm, self._options(norm), out)
            out *= self.scale
        return state["out"]

    def __repr__(self) -> str:
        return (
            f"scale_by_scion(momentum={self.momentum!r}, norm_type={self.norm_type!r}, "
            f"norm_kwargs={self.options!r}, scale={self.scale!r})"
        )
