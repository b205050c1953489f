"""Named problems: a data set and a model, the unit a comparison is run on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from optimlab._registry import Registry

#: The metrics a problem may be compared on, and which way is better.
DIRECTIONS = {"accuracy": "max", "loss": "min"}
#: The losses a problem may train (``optimlab.nn``'s classes; ``"quadratic-deep"`` is
#: :class:`~optimlab.nn.QuadraticForm` with DeepOBS's Hessian).
LOSSES = ("softmax_cross_entropy", "sigmoid_cross_entropy", "quadratic-deep")


@dataclass(frozen=True)
class Problem:
    """A data set plus a model, the loss it is trained on and the metric it is judged by.

    Attributes
    ----------
    name : str
    dataset : str
        A name of ``optimlab.data.DATASETS`` or of ``optimlab.data.synthetic.SYNTHETIC``.
    model : str
        A name of ``optimlab.nn.models.MODELS``.
    model_kwargs : dict
        Options of the model builder (``hidden``, ``channels``...).
    description : str
    normalize : {"standardize", "scale", None}
        How the inputs are scaled (see ``optimlab.data.load_dataset``).
    metric : {"accuracy", "loss"}
        What tuning, ranking, verdicts, "epochs to target", plots and the report
        compare: the validation (and test) accuracy, or the validation (and
        test) loss.
    direction : {"max", "min"}
        Which way the metric is better: ``"max"`` for accuracy, ``"min"`` for a
        loss (the only pairing accepted).
    target : float
        The validation value of the metric whose "epochs (steps, seconds) to
        reach" the report counts: an accuracy in (0, 1], or a loss.
    loss : str
        One of :data:`LOSSES`.
    worst : float or None
        A loss problem's score of a diverged run: a loss no useful model
        exceeds (the loss at the start, or of a model that outputs nothing),
        as chance accuracy is a classifier's. Accuracy problems leave it
        ``None`` (chance, ``1 / num_classes``, is used).
    """

    name: str
    dataset: str
    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    normalize: str | None = "standardize"
    metric: str = "accuracy"
    direction: str = "max"
    target: float = 0.85
    loss: str = "softmax_cross_entropy"
    worst: float | None = None

    def __post_init__(self) -> None:
        if DIRECTIONS.get(self.metric) != self.direction:
            raise ValueError(
                f"problem {self.name}: metric {self.metric!r} with direction "
                f"{self.direction!r}; expected one of "
                + ", ".join(f"{m} ({d})" for m, d in DIRECTIONS.items())
            )
        if self.loss not in LOSSES:
            raise ValueError(f"problem {self.name}: loss {self.loss!r} is not one of {LOSSES}")
        if self.metric == "loss" and self.worst is None:
            raise ValueError(f"problem {self.name}: a loss problem needs `worst`, the score "
                             "of a diverged run")  # fmt: skip
        if self.metric == "accuracy" and not 0.0 < self.target <= 1.0:
            raise ValueError(f"problem {self.name}: an accuracy target must be in (0, 1]; "
                             f"received {self.target!r}")  # fmt: skip

    @property
    def target_accuracy(self) -> float | None:
        """The target of an accuracy problem (``None`` for a loss problem)."""
        return self.target if self.metric == "accuracy" else None

    @property
    def classifies(self) -> bool:
        """Whether the problem has classes (and so accuracies)."""
        return self.loss == "softmax_cross_entropy"


PROBLEMS: Registry[Problem] = Registry("problem")

#: fmnist-autoencoder's target validation loss (cross-entropy summed over the 784 pixels;
#: its floor is the pixels' own entropy, not 0): about what Adam at lr 1e-3 reaches in
#: 3 epochs (measured: 238.7, 229.3, 224.1 after epochs 1, 2, 3; at 1e-4: 282, 253, 244).
AUTOENCODER_TARGET = 230.0


def _add(problem: Problem) -> None:
    PROBLEMS.register(problem.name, problem)


_add(Problem(
    "fmnist-mlp", "fashion-mnist", "mlp", {"hidden": (128, 64)},
    "Fashion-MNIST, 784-128-64-10 ReLU MLP: the classic from-scratch network",
    target=0.85,
))  # fmt: skip
_add(Problem(
    "fmnist-cnn", "fashion-mnist", "cnn", {"channels": (16, 32)},
    "Fashion-MNIST, two 3x3 conv blocks (16, 32 channels) + ReLU + max-pool, then dense",
    target=0.88,
))  # fmt: skip
_add(Problem(
    "fmnist-logreg", "fashion-mnist", "logreg", {},
    "Fashion-MNIST, multinomial logistic regression (a convex problem)",
    target=0.82,
))  # fmt: skip
_add(Problem(
    "mnist-mlp", "mnist", "mlp", {"hidden": (128, 64)},
    "MNIST (downloaded), 784-128-64-10 ReLU MLP",
    target=0.97,
))  # fmt: skip
_add(Problem(
    "cifar10-cnn", "cifar10", "cnn", {"channels": (32, 64, 128)},
    "CIFAR-10 (downloaded), three 3x3 conv blocks (32, 64, 128 channels) + ReLU + max-pool",
    target=0.60,
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
    normalize="scale", target=0.90,
))  # fmt: skip
_add(Problem(
    "fmnist-deepmlp", "fashion-mnist", "mlp",
    {"hidden": (1000, 500, 100), "init": "deepobs_mlp"},
    "Fashion-MNIST, DeepOBS fmnist_mlp: 784-1000-500-100-10 ReLU, truncated-normal 0.03 "
    "weights, zero biases; inputs /255 (DeepOBS testproblems/_mlp.py, fmnist_mlp.py)",
    normalize="scale", target=0.88,
))  # fmt: skip
_add(Problem(
    "fmnist-logreg-deepobs", "fashion-mnist", "logreg", {"init": "zeros"},
    "Fashion-MNIST, DeepOBS fmnist_logreg: one dense layer 784-10, weights and biases "
    "zero; inputs /255 (DeepOBS testproblems/_logreg.py, fmnist_logreg.py)",
    normalize="scale", target=0.83,
))  # fmt: skip

_add(Problem(
    "quadratic-deep", "quadratic-deep", "noisy_quadratic", {},
    "DeepOBS quadratic_deep: 1/2 (theta - x)^T Q (theta - x) in 100 dimensions, Q's "
    "eigenvalues 90 x U(0,1) and 10 x U(30,60) rotated at random (RandomState(42), as "
    "DeepOBS draws them), noise x ~ N(0, 0.6^2), 1000 samples, theta starts at 1; metric: "
    "loss (DeepOBS testproblems/quadratic_deep.py, _quadratic.py, datasets/quadratic.py)",
    normalize=None, metric="loss", direction="min", loss="quadratic-deep",
    # Validation loss floor (theta = the validation noise mean): 85.54.
    target=86.0,
    # The expected loss at the start theta = 1: 1/2 1^T Q 1 + 0.18 tr Q.
    worst=353.5,
))  # fmt: skip
_add(Problem(
    "fmnist-autoencoder", "fashion-mnist", "autoencoder", {},
    "Fashion-MNIST, the deep autoencoder of Hinton & Salakhutdinov (Science 2006): "
    "784-1000-500-250-30-250-500-1000-784, logistic hidden units, linear code, logistic "
    "outputs trained on cross-entropy summed over pixels; Martens's sparse initialisation "
    "(ICML 2010) instead of RBM pre-training; inputs /255; metric: loss",
    normalize="scale", metric="loss", direction="min", loss="sigmoid_cross_entropy",
    target=AUTOENCODER_TARGET,
    # Zero logits (every pixel predicted 0.5): 784 log 2.
    worst=784 * math.log(2),
))  # fmt: skip


def describe_problems() -> str:
    """One line per problem, for ``optimlab compare --list-problems``: its name, what it is
    judged by (``accuracy, higher`` / ``loss, lower`` is better) and its description."""
    width = max(len(n) for n in PROBLEMS.names())
    lines = []
    for name in PROBLEMS.names():
        p = PROBLEMS.get(name)
        judged = f"{p.metric}, {'higher' if p.direction == 'max' else 'lower'}"
        lines.append(f"{name:<{width}}  {'[' + judged + ']':<18}  {p.description}")
    return "\n".join(lines)
