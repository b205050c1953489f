"""Named problems: a data set and a model, the unit a comparison is run on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optimlab._registry import Registry


@dataclass(frozen=True)
class Problem:
    """A data set plus a model (and how its inputs are scaled).

    Attributes
    ----------
    name : str
    dataset : str
        A name of ``optimlab.data.DATASETS``.
    model : str
        A name of ``optimlab.nn.models.MODELS``.
    model_kwargs : dict
        Options of the model builder (``hidden``, ``channels``...).
    description : str
    target_accuracy : float
        The validation accuracy whose "epochs to reach" the report counts.
    """

    name: str
    dataset: str
    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    normalize: str = "standardize"
    target_accuracy: float = 0.85


PROBLEMS: Registry[Problem] = Registry("problem")


def _add(problem: Problem) -> None:
    PROBLEMS.register(problem.name, problem)


_add(Problem(
    "fmnist-mlp", "fashion-mnist", "mlp", {"hidden": (128, 64)},
    "Fashion-MNIST, 784-128-64-10 ReLU MLP: the classic from-scratch network",
    target_accuracy=0.85,
))  # fmt: skip
_add(Problem(
    "fmnist-cnn", "fashion-mnist", "cnn", {"channels": (16, 32)},
    "Fashion-MNIST, two 3x3 conv blocks (16, 32 channels) + ReLU + max-pool, then dense",
    target_accuracy=0.88,
))  # fmt: skip
_add(Problem(
    "fmnist-logreg", "fashion-mnist", "logreg", {},
    "Fashion-MNIST, multinomial logistic regression (a convex problem)",
    target_accuracy=0.82,
))  # fmt: skip
_add(Problem(
    "mnist-mlp", "mnist", "mlp", {"hidden": (128, 64)},
    "MNIST (downloaded), 784-128-64-10 ReLU MLP",
    target_accuracy=0.97,
))  # fmt: skip
_add(Problem(
    "cifar10-cnn", "cifar10", "cnn", {"channels": (32, 64, 128)},
    "CIFAR-10 (downloaded), three 3x3 conv blocks (32, 64, 128 channels) + ReLU + max-pool",
    target_accuracy=0.60,
))  # fmt: skip


# DeepOBS's Fashion-MNIST problems (Schneider, Balles & Hennig, "DeepOBS: A Deep Learning
# Optimizer Benchmark Suite", ICLR 2019; fsschneider/DeepOBS, deepobs/tensorflow/testproblems/).
# Inputs scaled to [0, 1] as its datasets/fmnist.py does (X / 255, no mean subtraction);
# batch size 128 (deepobs/config.py), 100 epochs (50 for the logistic regression).
_add(Problem(
    "fmnist-2c2d", "fashion-mnist", "deepobs_2c2d", {},
    "Fashion-MNIST, DeepOBS fmnist_2c2d: conv 5x5 32 + pool, conv 5x5 64 + pool, dense "
    "1024, dense 10; truncated-normal 0.05 weights, 0.05 biases; inputs /255 "
    "(DeepOBS testproblems/_2c2d.py, fmnist_2c2d.py)",
    normalize="scale", target_accuracy=0.90,
))  # fmt: skip
_add(Problem(
    "fmnist-deepmlp", "fashion-mnist", "mlp",
    {"hidden": (1000, 500, 100), "init": "deepobs_mlp"},
    "Fashion-MNIST, DeepOBS fmnist_mlp: 784-1000-500-100-10 ReLU, truncated-normal 0.03 "
    "weights, zero biases; inputs /255 (DeepOBS testproblems/_mlp.py, fmnist_mlp.py)",
    normalize="scale", target_accuracy=0.88,
))  # fmt: skip
_add(Problem(
    "fmnist-logreg-deepobs", "fashion-mnist", "logreg", {"init": "zeros"},
    "Fashion-MNIST, DeepOBS fmnist_logreg: one dense layer 784-10, weights and biases "
    "zero; inputs /255 (DeepOBS testproblems/_logreg.py, fmnist_logreg.py)",
    normalize="scale", target_accuracy=0.83,
))  # fmt: skip


def describe_problems() -> str:
    """One line per problem, for ``optimlab compare --list-problems``."""
    width = max(len(n) for n in PROBLEMS.names())
    return "\n".join(
        f"{name:<{width}}  {PROBLEMS.get(name).description}" for name in PROBLEMS.names()
    )
