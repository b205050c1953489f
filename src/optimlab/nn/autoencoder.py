"""The deep autoencoder of the optimisation literature, registered in ``MODELS``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from optimlab.nn.layers import ACTIVATIONS, Dense, Flatten
from optimlab.nn.layers._checks import float_dtype
from optimlab.nn.models import MODELS, _input_shape, _sizes
from optimlab.nn.sequential import Sequential

__all__ = ["autoencoder"]


def autoencoder(
    input_shape: tuple[int, ...],
    num_classes: int = 0,
    *,
    encoder: Sequence[int] = (1000, 500, 250, 30),
    activation: str = "sigmoid",
    init: str = "sparse",
    rng: np.random.Generator,
    dtype=np.float32,
) -> Sequential:
    """The deep autoencoder of Hinton and Salakhutdinov ("Reducing the dimensionality of
    data with neural networks", Science 2006), as Martens (ICML 2010) trains it from a
    random start.

    ``Flatten``, then the encoder ``D-1000-500-250-30`` and the mirrored decoder
    ``30-250-500-1000-D``; every hidden layer logistic (``activation="sigmoid"``), the
    30-unit **code layer linear** and the output layer linear: its logits go to
    :class:`~optimlab.nn.SigmoidCrossEntropy` (logistic output units trained on
    cross-entropy, as ``mnistdeepauto.m`` / ``CG_MNIST.m`` do). For D = 784 it has
    2,833,924 parameters. The original starts from stacked RBMs; without
    pre-training, Martens's sparse initialisation (``init="sparse"``, zero biases)
    is the one the optimisation literature uses. ``num_classes`` is not used
    (the output has the input's size); it is accepted so that every model builds
    the same way.
    """
    shape = _input_shape("autoencoder", input_shape)
    widths = _sizes("autoencoder", "encoder", encoder)
    make_activation = ACTIVATIONS.get(activation)
    dtype = float_dtype("autoencoder", dtype)
    options = {"rng": rng, "dtype": dtype, "init": init}
    sizes = (math.prod(shape), *widths, *widths[-2::-1], math.prod(shape))
    code = len(widths)  # the layer producing the code is the len(widths)-th
    layers: list = [Flatten()]
    for i, (a, b) in enumerate(itertools.pairwise(sizes), start=1):
        layers.append(Dense(a, b, **options))
        if i != code and i != len(sizes) - 1:
            layers.append(make_activation())
    return Sequential(*layers)


MODELS.register("autoencoder", autoencoder, aliases=("deep_autoencoder",))
