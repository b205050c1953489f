"""Ready-made models and the ``MODELS`` registry.

Every builder takes the shape of **one** input sample (no batch axis), the
number of classes, and an explicit ``numpy.random.Generator`` for the initial
weights; it returns a :class:`~optimlab.nn.Sequential` that maps (N, *input_shape)
to logits (N, num_classes). Layers use PyTorch's default initialisation
(``init="torch"``), so a model starts from the same distribution as its
PyTorch twin.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence

import numpy as np

from optimlab._registry import Registry
from optimlab.nn.layers import ACTIVATIONS, Conv2D, Dense, Flatten, MaxPool2D, ReLU
from optimlab.nn.layers._checks import float_dtype
from optimlab.nn.layers.shift import Shift
from optimlab.nn.sequential import Sequential

__all__ = ["MODELS", "build_model", "cnn", "logreg", "mlp", "noisy_quadratic"]


def _input_shape(owner: str, input_shape: object) -> tuple[int, ...]:
    if isinstance(input_shape, int | np.integer) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    ok = (
        isinstance(input_shape, Sequence)
        and len(input_shape) >= 1
        and all(
            isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1
            for s in input_shape
        )
    )
    if not ok:
        raise ValueError(
            f"{owner}: input_shape must be a tuple of integers >= 1 (one sample, no batch "
            f"axis); received input_shape={input_shape!r}"
        )
    return tuple(int(s) for s in input_shape)


def _sizes(owner: str, name: str, value: object) -> tuple[int, ...]:
    """A tuple of layer sizes, each an integer >= 1 (an int is one layer)."""
    items = (value,) if isinstance(value, int | np.integer) else value
    ok = isinstance(items, Sequence) and not isinstance(items, str)
    ok = ok and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1 for v in items
    )
    if not ok:
        raise ValueError(
            f"{owner}: {name} must be a sequence of integers >= 1; received {name}={value!r}"
        )
    return tuple(int(v) for v in items)


def _classes(owner: str, num_classes: object) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        ok = False
    else:
        ok = num_classes >= 1
    if not ok:
        raise ValueError(
            f"{owner}: num_classes must be an integer >= 1; received num_classes={num_classes!r}"
        )
    return int(num_classes)


def mlp(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    hidden: Sequence[int] = (128, 64),
    activation: str = "relu",
    init: str = "torch",
    rng: np.random.Generator,
    dtype=np.float32,
) -> Sequential:
    """Multi-layer perceptron: ``Flatten, [Dense(h), act] for h in hidden, Dense(num_classes)``.

    Parameters
    ----------
    input_shape : tuple of int
        One sample's shape, e.g. (1, 28, 28) or (784,); flattened first.
    num_classes : int
    hidden : sequence of int, default (128, 64)
        Hidden layer widths; ``()`` gives logistic regression.
    activation : str, default "relu"
        A name of ``ACTIVATIONS`` ("relu", "leaky_relu", "tanh", "sigmoid", "gelu").
    init : str, default "torch"
        Weight initialiser of every layer (a name of ``INITIALIZERS``).
    rng : numpy.random.Generator
    dtype : floating dtype, default float32

    Examples
    --------
    >>> import numpy as np
    >>> model = mlp((1, 28, 28), 10, hidden=(32,), rng=np.random.default_rng(0))
    >>> model.forward(np.zeros((5, 1, 28, 28), dtype=np.float32)).shape
    (5, 10)
    """
    shape = _input_shape("mlp", input_shape)
    classes = _classes("mlp", num_classes)
    widths = _sizes("mlp", "hidden", hidden)
    make_activation = ACTIVATIONS.get(activation)
    dtype = float_dtype("mlp", dtype)
    layers = [Flatten()]
    width = math.prod(shape)
    for h in widths:
        layers += [Dense(width, h, rng=rng, dtype=dtype, init=init), make_activation()]
        width = h
    layers.append(Dense(width, classes, rng=rng, dtype=dtype, init=init))
    return Sequential(*layers)


def logreg(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    init: str = "torch",
    rng: np.random.Generator,
    dtype=np.float32,
) -> Sequential:
    """Multinomial logistic regression: ``Flatten, Dense(num_classes)`` (softmax is in the loss)."""
    return mlp(input_shape, num_classes, hidden=(), init=init, rng=rng, dtype=dtype)


def cnn(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    channels: Sequence[int] = (16, 32),
    init: str = "torch",
    rng: np.random.Generator,
    dtype=np.float32,
) -> Sequential:
    """Small convolutional network.

    For each ``c`` in ``channels``: ``Conv2D(c, 3x3, padding 1), ReLU, MaxPool2D(2)``
    (each block keeps the size, then halves it, rounding down); then
    ``Flatten, Dense(num_classes)``.

    Parameters
    ----------
    input_shape : (C, H, W)
        One image, channels first, e.g. (1, 28, 28) or (3, 32, 32).
    num_classes : int
    channels : sequence of int, default (16, 32)
    init : str, default "torch"
        Weight initialiser of every layer (a name of ``INITIALIZERS``).
    rng : numpy.random.Generator
    dtype : floating dtype, default float32
    """
    shape = _input_shape("cnn", input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"cnn: input_shape must be (C, H, W), one image channels first; "
            f"received input_shape={input_shape!r}"
        )
    classes = _classes("cnn", num_classes)
    widths = _sizes("cnn", "channels", channels)
    dtype = float_dtype("cnn", dtype)
    c, h, w = shape
    layers = []
    for out in widths:
        if h < 2 or w < 2:
            raise ValueError(
                f"cnn: {len(widths)} pooling blocks need a larger image; the input "
                f"{input_shape!r} is down to {h}x{w} before block {len(layers) // 3 + 1}"
            )
        layers += [
            Conv2D(c, out, 3, padding=1, rng=rng, dtype=dtype, init=init),
            ReLU(),
            MaxPool2D(2),
        ]
        c, h, w = out, h // 2, w // 2
    layers += [Flatten(), Dense(c * h * w, classes, rng=rng, dtype=dtype, init=init)]
    return Sequential(*layers)


def deepobs_2c2d(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    init: str = "deepobs_conv",
    rng: np.random.Generator,
    dtype=np.float32,
) -> Sequential:
    """DeepOBS's ``2c2d`` network (Schneider, Balles & Hennig, ICLR 2019).

    ``Conv2D(32, 5x5, "same"), ReLU, MaxPool2D(2, stride 2), Conv2D(64, 5x5, "same"),
    ReLU, MaxPool2D(2, stride 2), Flatten, Dense(1024), ReLU, Dense(num_classes)``:
    3,274,634 parameters on 28x28x1 images. From ``fsschneider/DeepOBS``,
    ``deepobs/tensorflow/testproblems/_2c2d.py``: kernels 5x5 with ``padding="same"``
    (here: padding 2), ``max_pooling2d(pool_size=2, strides=2, padding="same")``
    (the same as no padding on even sizes, 28 -> 14 -> 7), every weight
    ``truncated_normal_initializer(stddev=0.05)`` and every bias ``constant(0.05)``
    (``init="deepobs_conv"``). TensorFlow flattens channels last, this network
    channels first: the two differ by a fixed permutation of the first dense
    layer's rows, which changes nothing in training.
    """
    shape = _input_shape("deepobs_2c2d", input_shape)
    if len(shape) != 3 or shape[1] % 4 or shape[2] % 4:
        raise ValueError(
            "deepobs_2c2d: input_shape must be (C, H, W) with H and W multiples of 4, "
            f"e.g. (1, 28, 28); received input_shape={input_shape!r}"
        )
    classes = _classes("deepobs_2c2d", num_classes)
    dtype = float_dtype("deepobs_2c2d", dtype)
    c, h, w = shape
    options = {"rng": rng, "dtype": dtype, "init": init}
    return Sequential(
        Conv2D(c, 32, 5, padding=2, **options), ReLU(), MaxPool2D(2),
        Conv2D(32, 64, 5, padding=2, **options), ReLU(), MaxPool2D(2),
        Flatten(), Dense(64 * (h // 4) * (w // 4), 1024, **options), ReLU(),
        Dense(1024, classes, **options),
    )  # fmt: skip


def noisy_quadratic(
    input_shape: tuple[int, ...],
    num_classes: int = 0,
    *,
    start: float = 1.0,
    rng: np.random.Generator | None = None,
    dtype=np.float32,
) -> Sequential:
    """The "model" of a noisy quadratic: one point ``theta`` (D,), and ``theta - x`` for
    each noise sample ``x`` (a :class:`~optimlab.nn.layers.shift.Shift`, starting at
    ``start`` in every coordinate: DeepOBS ``quadratic_deep`` starts at 1). The loss
    (:class:`~optimlab.nn.QuadraticForm`) holds the Hessian. Nothing is random:
    ``rng`` and ``num_classes`` are accepted so that every model builds the same way.
    """
    shape = _input_shape("noisy_quadratic", input_shape)
    return Sequential(Flatten(), Shift(math.prod(shape), start=start, dtype=dtype))


#: Model names accepted by :func:`build_model` (and ``optimlab train --model``).
MODELS: Registry[Callable[..., Sequential]] = Registry("model")
MODELS.register("mlp", mlp)
MODELS.register("cnn", cnn)
MODELS.register("logreg", logreg, aliases=("logistic_regression",))
MODELS.register("deepobs_2c2d", deepobs_2c2d, aliases=("2c2d",))
MODELS.register("noisy_quadratic", noisy_quadratic, aliases=("quadratic",))


def build_model(
    name: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    rng: np.random.Generator,
    **kwargs,
) -> Sequential:
    """Build the registered model ``name``.

    Parameters
    ----------
    name : str
        "mlp", "cnn" or "logreg".
    input_shape : tuple of int
        One sample's shape (no batch axis).
    num_classes : int
    rng : numpy.random.Generator
    **kwargs
        The builder's own options (``hidden``, ``activation`` for "mlp";
        ``channels`` for "cnn"; ``dtype`` for all).

    Raises
    ------
    ValueError
        For an unknown model name (with close matches), an option the model
        does not take, or an invalid option value.
    """
    builder = MODELS.get(name)
    accepted = [
        p.name
        for p in inspect.signature(builder).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "rng"
    ]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"model {MODELS.canonical(name)!r}: unknown option(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(accepted)}"
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"build_model: rng must be a numpy.random.Generator; received {type(rng).__name__}"
        )
    return builder(input_shape, num_classes, rng=rng, **kwargs)
