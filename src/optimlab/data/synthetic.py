"""Data sets drawn from a formula: DeepOBS's noisy quadratic.

DeepOBS ``quadratic_deep`` (Schneider, Balles & Hennig, ICLR 2019;
``fsschneider/DeepOBS``, ``deepobs/tensorflow/testproblems/quadratic_deep.py``,
``_quadratic.py`` and ``datasets/quadratic.py``) minimises, over ``theta`` in R^100,

    L(theta) = E_x [ 1/2 (theta - x)^T Q (theta - x) ],   x ~ N(0, 0.6^2 I),

from ``theta = 1``. The expectation is ``1/2 theta^T Q theta + 1/2 0.6^2 tr Q``,
so the minimum is ``theta = 0`` with loss ``0.18 tr Q``; a finite sample of
noise moves the empirical minimum to the sample mean.

The Hessian, as DeepOBS builds it (one ``numpy.random.RandomState(42)`` for
every draw, in this order): 90 eigenvalues from U(0, 1) and 10 from U(30, 60)
(the spectrum reported for deep networks, Chaudhari et al. 2016,
arXiv:1611.01838), then a random rotation ``R`` by the subgroup algorithm of
Diaconis and Shahshahani (1987); ``Q = R^T diag(eigenvalues) R``. Reproduced
here draw for draw: the loss at ``theta = 1`` on the first 896 test points is
DeepOBS's published epoch-0 test loss, 353.44676.

The data: 1,000 training samples from ``RandomState(42).normal(0, 0.6, (1000, 100))``,
1,000 test samples from ``RandomState(43)``, and 1,000 validation samples from
``RandomState(44)`` (DeepOBS's PyTorch version 1.2, the only one with a
validation set). DeepOBS drops the last partial batch (7 steps of 128 per epoch,
and 896 test points); optimlab trains on all 1,000 points (8 steps, the last
of 104) and evaluates on all 1,000.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from optimlab.data.datasets import Splits
from optimlab.data.loader import ArrayDataset

#: DeepOBS's dimension, noise level, sample sizes and seeds.
QUADRATIC_DIM = 100
QUADRATIC_NOISE = 0.6
QUADRATIC_SAMPLES = 1000
QUADRATIC_SEEDS = {"train": 42, "test": 43, "val": 44}


def haar_rotation(dim: int, rng: np.random.RandomState) -> np.ndarray:
    """A rotation drawn from the Haar measure on SO(dim) by the subgroup algorithm
    (Diaconis and Shahshahani 1987), with DeepOBS's order of draws from ``rng``.

    Start with a uniform rotation of the plane; for ``d = 2 .. dim-1`` draw ``v``
    uniform on the sphere S^d and embed the current rotation ``R`` as
    ``B = diag(1, R)``; then ``R <- B - 2 u (u^T B)`` with ``u = (e_1 - v) / |e_1 - v|``
    (a Householder reflection sending ``e_1`` to ``v``). The result is negated, as
    DeepOBS does.
    """
    if dim < 2:
        raise ValueError(f"haar_rotation: dim must be >= 2; received {dim}")
    angle = 2 * math.pi * rng.uniform()
    rotation = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    for d in range(2, dim):
        v = rng.normal(size=(d + 1, 1))
        v /= math.sqrt(float(np.sum(v * v)))
        e1 = np.zeros((d + 1, 1))
        e1[0, 0] = 1.0
        u = (e1 - v) / math.sqrt(float(np.sum((e1 - v) ** 2)))
        block = np.zeros((d + 1, d + 1))
        block[0, 0] = 1.0
        block[1:, 1:] = rotation
        rotation = block - 2 * np.outer(u, u.T @ block)
    return -rotation


@functools.cache
def deepobs_quadratic_hessian() -> np.ndarray:
    """DeepOBS ``quadratic_deep``'s 100x100 Hessian (read-only, float64; see the module)."""
    rng = np.random.RandomState(QUADRATIC_SEEDS["train"])
    eigenvalues = np.concatenate((rng.uniform(0.0, 1.0, 90), rng.uniform(30.0, 60.0, 10)))
    rotation = haar_rotation(QUADRATIC_DIM, rng)
    hessian = rotation.T @ np.diag(eigenvalues) @ rotation
    hessian = (hessian + hessian.T) / 2  # exactly symmetric (it is, up to rounding)
    hessian.setflags(write=False)
    return hessian


def quadratic_noise(split: str, dtype=np.float32) -> np.ndarray:
    """DeepOBS's noise samples of one split: (1000, 100), N(0, 0.6^2), from its seed."""
    if split not in QUADRATIC_SEEDS:
        raise ValueError(f"quadratic_noise: split must be one of {sorted(QUADRATIC_SEEDS)}; "
                         f"received {split!r}")  # fmt: skip
    rng = np.random.RandomState(QUADRATIC_SEEDS[split])
    return rng.normal(0.0, QUADRATIC_NOISE, (QUADRATIC_SAMPLES, QUADRATIC_DIM)).astype(dtype)


def expected_quadratic_loss(theta: np.ndarray) -> float:
    """``1/2 theta^T Q theta + 1/2 noise^2 tr Q``: the loss averaged over the noise."""
    q = deepobs_quadratic_hessian()
    theta = np.asarray(theta, dtype=np.float64)
    return 0.5 * float(theta @ q @ theta) + 0.5 * QUADRATIC_NOISE**2 * float(np.trace(q))


def noisy_quadratic_splits(dtype=np.float32) -> Splits:
    """The three noise sets as :class:`~optimlab.data.datasets.Splits` (labels all 0,
    unused; ``input_shape`` (100,); no classes)."""

    def split(name: str) -> ArrayDataset:
        return ArrayDataset(quadratic_noise(name, dtype), np.zeros(QUADRATIC_SAMPLES, np.int64))

    return Splits(
        train=split("train"), val=split("val"), test=split("test"), name="quadratic-deep",
        class_names=(), input_shape=(QUADRATIC_DIM,),  # type: ignore[arg-type]
        mean=np.zeros(1), std=np.ones(1),
    )  # fmt: skip


#: Synthetic data sets by name: a function returning their splits.
SYNTHETIC = {"quadratic-deep": noisy_quadratic_splits}
