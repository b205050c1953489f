"""Reconstruction losses: an autoencoder's outputs against its inputs.

Both sum over the outputs of an example and average over the batch, as the deep-autoencoder
literature reports them (Hinton and Salakhutdinov, Science 2006; Martens, ICML 2010). The
target may have any shape holding the outputs' number of values per example (an image batch
(N, C, H, W) against outputs (N, C*H*W)).
"""

from __future__ import annotations

import numpy as np

from optimlab.nn.layers._checks import floating_input
from optimlab.nn.module import Module

__all__ = ["SigmoidCrossEntropy", "SquaredError"]


def _per_example(owner: str, pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` as (N, M) and ``target`` cast to it: a target of any shape holding
    ``N * M`` values per batch (an image batch (N, C, H, W) against (N, C*H*W) outputs)."""
    pred = floating_input(owner, pred)
    target = np.asarray(target)
    if pred.ndim != 2 or 0 in pred.shape:
        raise ValueError(
            f"{owner}: pred must have shape (N, M) with N, M >= 1; received {pred.shape}"
        )
    if target.shape[:1] != pred.shape[:1] or target.size != pred.size:
        raise ValueError(
            f"{owner}: target must hold {pred.shape[1]} values for each of the {pred.shape[0]} "
            f"examples of pred {pred.shape}; received target of shape {target.shape}"
        )
    return pred, target.reshape(pred.shape).astype(pred.dtype, copy=False)


class SigmoidCrossEntropy(Module):
    """Logistic outputs and binary cross-entropy, fused; summed over outputs, mean over the batch.

    The deep-autoencoder loss of Hinton and Salakhutdinov (Science 2006, the
    ``CG_MNIST.m`` fine-tuning objective) and Martens (ICML 2010): for logits
    ``z`` (N, M) and targets ``t`` in [0, 1] of the same size (pixel
    intensities; the batch of inputs itself for an autoencoder)::

        p = sigmoid(z)
        L = -(1/N) sum_n sum_m [ t log p + (1 - t) log(1 - p) ]
          = (1/N) sum_n sum_m [ softplus(z) - t z ]      (stable for any z)
        dL/dz = (p - t) / N

    With soft targets the minimum is the targets' entropy, not 0. The PyTorch
    twin is ``BCEWithLogitsLoss(reduction="sum") / N``.
    """

    #: An autoencoder's targets are its inputs.
    targets = "inputs"
    classifies = False

    def __init__(self) -> None:
        super().__init__()
        self._probs: np.ndarray | None = None
        self._target: np.ndarray | None = None

    def forward(self, logits: np.ndarray, target: np.ndarray) -> float:
        """Cross-entropy summed over the M outputs, averaged over the N examples."""
        logits, target = _per_example("SigmoidCrossEntropy", logits, target)
        # softplus(z) = max(z, 0) + log1p(exp(-|z|)): no overflow for large |z|.
        softplus = np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits)))
        total = float(
            np.sum(softplus, dtype=np.float64) - np.sum(target * logits, dtype=np.float64)
        )
        e = np.exp(-np.abs(logits))
        self._probs = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
        self._target = target
        return total / logits.shape[0]

    def backward(self, scale: float = 1.0) -> np.ndarray:
        """``dL/dz = scale (sigmoid(z) - t) / N``, (N, M), dtype of the logits."""
        if self._probs is None or self._target is None:
            raise RuntimeError("SigmoidCrossEntropy.backward called before forward")
        return (self._probs - self._target) * (float(scale) / self._probs.shape[0])

    @property
    def probs(self) -> np.ndarray:
        """``sigmoid(z)`` of the last forward pass: the reconstruction."""
        if self._probs is None:
            raise RuntimeError("SigmoidCrossEntropy.probs: no forward pass yet")
        return self._probs

    def __repr__(self) -> str:
        return "SigmoidCrossEntropy()"


class SquaredError(Module):
    """Squared error summed over outputs, mean over the batch.

    The reconstruction error Hinton and Salakhutdinov (2006) and Martens (2010)
    report for their autoencoders (``1/N sum(sum((data - dataout).^2))`` in
    ``mnistdeepauto.m``): for ``pred`` (N, M) and a target of the same size::

        L = (1/N) sum_n sum_m (pred - t)^2
        dL/dpred = 2 (pred - t) / N

    (:class:`MSELoss` divides by N*M instead.) The PyTorch twin is
    ``MSELoss(reduction="sum") / N``.
    """

    targets = "inputs"
    classifies = False

    def __init__(self) -> None:
        super().__init__()
        self._diff: np.ndarray | None = None

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        pred, target = _per_example("SquaredError", pred, target)
        self._diff = pred - target
        flat = self._diff.ravel()
        return float(np.dot(flat, flat)) / pred.shape[0]

    def backward(self, scale: float = 1.0) -> np.ndarray:
        """``dL/dpred = scale * 2 (pred - t) / N``."""
        if self._diff is None:
            raise RuntimeError("SquaredError.backward called before forward")
        return self._diff * (2.0 * float(scale) / self._diff.shape[0])

    def __repr__(self) -> str:
        return "SquaredError()"
