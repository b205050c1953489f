"""Weight decay, coupled (added to the gradient) or decoupled (applied to the weights)."""

from __future__ import annotations

import numpy as np

from optimlab.optim.base import Arrays, State, zeros_like_each


class AddDecayedWeights:
    r"""Coupled (L2) weight decay: :math:`g \leftarrow g + \lambda \theta`.

    As ``weight_decay`` in ``torch.optim.SGD``/``Adam``: the decay then passes
    through the optimizer's moments and adaptive scaling.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True

    def __init__(self, weight_decay: float) -> None:
        self.weight_decay = float(weight_decay)

    def init(self, params: Arrays) -> State:
        return {"out": zeros_like_each(params)}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        wd = self.weight_decay
        if wd == 0.0:
            return updates
        out = state["out"]
        for g, p, o in zip(updates, params, out, strict=True):
            np.multiply(p, wd, out=o)
            o += g
        return out

    def __repr__(self) -> str:
        return f"add_decayed_weights({self.weight_decay!r})"


class DecoupledWeightDecay:
    r"""Decoupled weight decay: :math:`\theta \leftarrow \theta - \eta_t \lambda \theta`.

    Applied to the parameters **in place, before** the optimizer's own update,
    with the learning rate :math:`\eta_t` of that step, exactly as
    ``torch.optim.AdamW`` does (Loshchilov and Hutter, "Decoupled Weight Decay
    Regularization", arXiv:1711.05101). Note: the paper decays by
    :math:`\lambda` times a schedule multiplier, not times the learning rate;
    PyTorch and optax multiply by the learning rate, and so does optimlab.
    The updates pass through unchanged.
    """

    #: Each output element depends on the same element of the inputs only, so the
    #: facade may update a large parameter block by block (see ``optim._blocks.BLOCK``).
    elementwise = True
    #: The one exception to "inputs are read only" (see :mod:`optimlab.optim.base`):
    #: the decay is applied to the parameters in place, before the rest of the chain.
    writes_params = True

    def __init__(self, weight_decay: float, lr: float) -> None:
        self.weight_decay = float(weight_decay)
        self.lr = float(lr)

    def init(self, params: Arrays) -> State:
        return {}

    def update(self, updates: Arrays, state: State, params: Arrays) -> Arrays:
        factor = 1.0 - self.lr * self.weight_decay
        if factor != 1.0:
            for p in params:
                p *= factor
        return updates

    def __repr__(self) -> str:
        return f"decoupled_weight_decay({self.weight_decay!r}, lr={self.lr!r})"
