"""The layers: each a :class:`~optimlab.nn.Module` with explicit ``forward`` / ``backward``."""

from optimlab.nn.layers.activations import (
    ACTIVATIONS,
    GELU,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Tanh,
    activation,
)
from optimlab.nn.layers.batchnorm import BatchNorm1D, BatchNorm2D
from optimlab.nn.layers.conv import Conv2D
from optimlab.nn.layers.dense import Dense
from optimlab.nn.layers.dropout import Dropout
from optimlab.nn.layers.flatten import Flatten
from optimlab.nn.layers.pool import AvgPool2D, MaxPool2D
from optimlab.nn.layers.shift import Shift

__all__ = [
    "ACTIVATIONS",
    "GELU",
    "AvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "LeakyReLU",
    "MaxPool2D",
    "ReLU",
    "Shift",
    "Sigmoid",
    "Tanh",
    "activation",
]
