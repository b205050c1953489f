"""Neural-network layers with explicit ``forward`` / ``backward`` passes, in NumPy.

Every layer is a :class:`Module`: ``forward`` caches what ``backward`` needs;
``backward(grad_out)`` accumulates into each :class:`Parameter`'s ``.grad`` and
returns the gradient with respect to the input. Arrays are float32 by default
and float64 when a layer is built with ``dtype=np.float64``; nothing upcasts
silently. :func:`gradcheck` checks any layer (yours too) against central
differences in float64.

Examples
--------
>>> import numpy as np
>>> from optimlab import nn
>>> rng = np.random.default_rng(0)
>>> model = nn.Sequential(nn.Flatten(), nn.Dense(4, 8, rng=rng), nn.ReLU(), nn.Dense(8, 3, rng=rng))
>>> loss = nn.SoftmaxCrossEntropy()
>>> x, y = rng.standard_normal((5, 2, 2)).astype(np.float32), np.array([0, 1, 2, 0, 1])
>>> value = loss.forward(model.forward(x), y)
>>> model.backward(loss.backward()).shape
(5, 2, 2)
"""

from optimlab.nn import functional, init
from optimlab.nn.autoencoder import autoencoder
from optimlab.nn.gradcheck import GradcheckResult, gradcheck
from optimlab.nn.init import INITIALIZERS
from optimlab.nn.layers import (
    ACTIVATIONS,
    GELU,
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Shift,
    Sigmoid,
    Tanh,
    activation,
)
from optimlab.nn.losses import MSELoss, QuadraticForm, SoftmaxCrossEntropy
from optimlab.nn.models import (
    MODELS,
    build_model,
    cnn,
    deepobs_2c2d,
    logreg,
    mlp,
    noisy_quadratic,
)
from optimlab.nn.module import Module, Parameter
from optimlab.nn.reconstruction import SigmoidCrossEntropy, SquaredError
from optimlab.nn.replay import same_randomness
from optimlab.nn.sequential import Sequential

__all__ = [
    "ACTIVATIONS",
    "GELU",
    "INITIALIZERS",
    "MODELS",
    "AvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GradcheckResult",
    "LeakyReLU",
    "MSELoss",
    "MaxPool2D",
    "Module",
    "Parameter",
    "QuadraticForm",
    "ReLU",
    "Sequential",
    "Shift",
    "Sigmoid",
    "SigmoidCrossEntropy",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "Tanh",
    "activation",
    "autoencoder",
    "build_model",
    "cnn",
    "deepobs_2c2d",
    "functional",
    "gradcheck",
    "init",
    "logreg",
    "mlp",
    "noisy_quadratic",
    "same_randomness",
]
