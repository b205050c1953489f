"""Weight initialisers; every one draws from an explicit ``numpy.random.Generator``.

``fan_in`` is the number of inputs feeding one output unit (``in_features`` for
a dense layer, ``C * kh * kw`` for a convolution), ``fan_out`` the number of
outputs one input feeds (``out_features``, ``F * kh * kw``).

========================  ==============================================  =================
name                      weight distribution                              reference
========================  ==============================================  =================
``"he"`` / he_normal      N(0, 2 / fan_in)                                 He et al. 2015
he_uniform                U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))          (arXiv:1502.01852)
``"glorot"`` / _uniform   U(-sqrt(6 / (fan_in + fan_out)), +...)           Glorot & Bengio 2010
glorot_normal             N(0, 2 / (fan_in + fan_out))
``"torch"``               U(-1 / sqrt(fan_in), +1 / sqrt(fan_in))          PyTorch default
``"deepobs_conv"``        N(0, 0.05^2) truncated at 2 std; biases 0.05     DeepOBS (2c2d, 3c3d)
``"deepobs_mlp"``         N(0, 0.03^2) truncated at 2 std; biases 0        DeepOBS (mlp)
``"zeros"``               0; biases 0                                      DeepOBS (logreg)
========================  ==============================================  =================

The DeepOBS initialisers are those of its TensorFlow test problems
(``fsschneider/DeepOBS``, ``deepobs/tensorflow/testproblems/_2c2d.py``: every
layer ``truncated_normal_initializer(stddev=0.05)`` and
``bias_initializer=constant(0.05)``; ``_mlp.py``: ``stddev=3e-2``, biases 0;
``_logreg.py``: ``constant(0.0)`` for both). TensorFlow's truncated normal
redraws every value beyond two standard deviations, as :func:`truncated_normal`
does (its realised spread is about 0.88 std).

``"torch"`` is what ``torch.nn.Linear`` and ``torch.nn.Conv2d`` do by default:
``kaiming_uniform_(a=sqrt(5))`` has gain ``sqrt(2 / (1 + 5))`` and bound
``gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)``; their bias uses the same bound.
With ``"he"`` and ``"glorot"`` the layers start their biases at zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

from optimlab._registry import Registry

__all__ = [
    "INITIALIZERS",
    "Initializer",
    "as_generator",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "initialize",
    "torch_default",
    "truncated_normal",
]

Shape = tuple[int, ...]


def as_generator(rng: np.random.Generator | None, owner: str) -> np.random.Generator:
    """``rng`` itself, or a fresh unseeded generator for ``None``.

    Pass an explicit, seeded ``numpy.random.Generator`` for reproducible
    weights; ``None`` draws fresh OS entropy (different weights every run).
    """
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{owner}: rng must be a numpy.random.Generator or None; received {type(rng).__name__}"
        )
    return rng


def _check_fan(name: str, fan: int) -> None:
    if isinstance(fan, bool) or not isinstance(fan, int | np.integer) or fan < 1:
        raise ValueError(f"init: {name} must be an integer >= 1; received {name}={fan!r}")


def _uniform(shape: Shape, bound: float, rng: np.random.Generator, dtype) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)


def _normal(shape: Shape, std: float, rng: np.random.Generator, dtype) -> np.ndarray:
    return (rng.standard_normal(size=shape) * std).astype(dtype, copy=False)


def he_normal(shape: Shape, fan_in: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """``N(0, std^2)`` with ``std = sqrt(2 / fan_in)`` (ReLU networks keep their variance)."""
    _check_fan("fan_in", fan_in)
    return _normal(shape, math.sqrt(2.0 / fan_in), rng, dtype)


def he_uniform(shape: Shape, fan_in: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """``U(-a, a)`` with ``a = sqrt(6 / fan_in)`` (same variance as :func:`he_normal`)."""
    _check_fan("fan_in", fan_in)
    return _uniform(shape, math.sqrt(6.0 / fan_in), rng, dtype)


def glorot_uniform(
    shape: Shape, fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))`` (Xavier uniform)."""
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    return _uniform(shape, math.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def glorot_normal(
    shape: Shape, fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """``N(0, std^2)`` with ``std = sqrt(2 / (fan_in + fan_out))`` (Xavier normal)."""
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    return _normal(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def truncated_normal(
    shape: Shape, std: float, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """``N(0, std^2)`` with every draw beyond ``2 std`` redrawn (TensorFlow's
    ``truncated_normal_initializer``)."""
    values = rng.standard_normal(size=shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2.0
    return (values * std).astype(dtype, copy=False)


def torch_default(
    shape: Shape, fan_in: int, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``: PyTorch's default for Linear/Conv2d (and biases)."""
    _check_fan("fan_in", fan_in)
    return _uniform(shape, 1.0 / math.sqrt(fan_in), rng, dtype)


class Initializer(Protocol):
    """The common signature of registered initialisers."""

    def __call__(
        self, shape: Shape, *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype
    ) -> np.ndarray: ...


def _ignoring_fan_out(fn: Callable[..., np.ndarray]) -> Initializer:
    def init(shape, *, fan_in, fan_out, rng, dtype=np.float32):
        return fn(shape, fan_in, rng, dtype)

    init.__doc__ = fn.__doc__
    return init


def _with_fan_out(fn: Callable[..., np.ndarray]) -> Initializer:
    def init(shape, *, fan_in, fan_out, rng, dtype=np.float32):
        return fn(shape, fan_in, fan_out, rng, dtype)

    init.__doc__ = fn.__doc__
    return init


#: Initialiser names accepted by ``Dense(init=...)`` and ``Conv2D(init=...)``.
INITIALIZERS: Registry[Initializer] = Registry("initializer")
INITIALIZERS.register("he", _ignoring_fan_out(he_normal), aliases=("he_normal", "kaiming"))
INITIALIZERS.register("he_uniform", _ignoring_fan_out(he_uniform))
INITIALIZERS.register("glorot", _with_fan_out(glorot_uniform), aliases=("glorot_uniform", "xavier"))
INITIALIZERS.register("glorot_normal", _with_fan_out(glorot_normal))
INITIALIZERS.register("torch", _ignoring_fan_out(torch_default), aliases=("torch_default",))


def _fixed(std: float | None, doc: str) -> Initializer:
    def init(shape, *, fan_in, fan_out, rng, dtype=np.float32):
        if std is None:
            return np.zeros(shape, dtype=dtype)
        return truncated_normal(shape, std, rng, dtype)

    init.__doc__ = doc
    return init


INITIALIZERS.register("deepobs_conv", _fixed(0.05, "DeepOBS's 2c2d/3c3d: truncated N(0, 0.05^2)."))
INITIALIZERS.register("deepobs_mlp", _fixed(0.03, "DeepOBS's mlp: truncated N(0, 0.03^2)."))
INITIALIZERS.register("zeros", _fixed(None, "All zeros (DeepOBS's logistic regression)."))


#: Martens (2010): every unit has this many non-zero incoming weights.
SPARSE_CONNECTIONS = 15


def sparse(shape: Shape, fan_in: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Martens's sparse initialisation ("Deep learning via Hessian-free optimization",
    ICML 2010, section 5; also Sutskever et al., ICML 2013): each unit (a column of a
    Dense weight (in, out)) gets :data:`SPARSE_CONNECTIONS` non-zero incoming weights,
    drawn from N(0, 1), on inputs chosen at random; all other weights (and the biases)
    are 0. Units stay distinct while their total input stays moderate, which lets
    sigmoid networks as deep as the 784-1000-500-250-30 autoencoder train without
    pre-training."""
    if len(shape) != 2 or shape[0] != fan_in:
        raise ValueError(
            f"sparse initialisation is for Dense weights (fan_in, out); received shape {shape} "
            f"with fan_in={fan_in}"
        )
    _check_fan("fan_in", fan_in)
    n_in, n_out = shape
    k = min(SPARSE_CONNECTIONS, n_in)
    rows = np.argsort(rng.random((n_out, n_in)), axis=1)[:, :k]  # k distinct inputs per unit
    weights = np.zeros((n_in, n_out), dtype=dtype)
    weights[rows.T, np.arange(n_out)] = rng.standard_normal((k, n_out))
    return weights


INITIALIZERS.register("sparse", _ignoring_fan_out(sparse), aliases=("martens_sparse",))
#: The constant bias of an initialiser (others: zeros, or PyTorch's uniform for "torch").
BIASES = {"deepobs_conv": 0.05}


def initialize(
    name: str,
    shape: Shape,
    *,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    dtype=np.float32,
) -> np.ndarray:
    """Draw an array of ``shape`` with the initialiser registered as ``name``.

    Raises
    ------
    ValueError
        For an unknown name, with the closest registered names.
    """
    return INITIALIZERS.get(name)(shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=dtype)


def bias_for(
    name: str, size: int, *, fan_in: int, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """The bias going with initialiser ``name``: PyTorch's uniform for ``"torch"``, the
    constant of :data:`BIASES` for a DeepOBS one, else zeros."""
    canonical = INITIALIZERS.canonical(name)
    if canonical == "torch":
        return torch_default((size,), fan_in, rng, dtype)
    return np.full(size, BIASES.get(canonical, 0.0), dtype=dtype)
