"""Losses: ``forward(prediction, target) -> float`` and ``backward() -> d(prediction)``.

A loss ends the backward chain, so its ``backward`` takes no upstream
gradient; an optional ``scale`` multiplies the returned gradient (e.g. to
weight a loss term).
"""

from __future__ import annotations

import numpy as np

from optimlab.nn import functional as F
from optimlab.nn.layers._checks import floating_input
from optimlab.nn.module import Module

__all__ = ["MSELoss", "QuadraticForm", "SoftmaxCrossEntropy"]


class SoftmaxCrossEntropy(Module):
    """Softmax then mean negative log-likelihood, fused (as ``torch.nn.CrossEntropyLoss``).

    For logits ``z`` (N, K) and labels ``t`` (N,) in ``[0, K)``::

        p = softmax(z)                    (row-wise, log-sum-exp stable)
        L = -(1/N) sum_n log p[n, t[n]]
        dL/dz = (p - onehot(t)) / N

    Attributes
    ----------
    probs : ndarray, shape (N, K), or None
        Softmax probabilities of the last forward pass.
    predictions : ndarray of int, shape (N,)
        ``argmax`` of the last logits (property).

    Examples
    --------
    >>> import numpy as np
    >>> loss = SoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((2, 4)), np.array([0, 3])), 6)  # log(4)
    1.386294
    >>> loss.backward().shape
    (2, 4)
    """

    #: What the training loop passes as the target: the batch's labels (not its inputs).
    targets = "labels"
    #: The loss scores classes, so the loop also counts correct predictions.
    classifies = True

    def __init__(self) -> None:
        super().__init__()
        self.probs: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        """Mean loss over the batch (a Python float).

        Raises
        ------
        ValueError
            If ``logits`` is not (N, K), ``labels`` is not (N,), or a label is
            outside ``[0, K)``.
        """
        logits = floating_input("SoftmaxCrossEntropy", logits)
        labels = np.asarray(labels)
        if logits.ndim != 2 or 0 in logits.shape:
            raise ValueError(
                "SoftmaxCrossEntropy: logits must have shape (N, K) with N, K >= 1; "
                f"received {logits.shape}"
            )
        if labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
            raise ValueError(
                f"SoftmaxCrossEntropy: labels must have shape ({logits.shape[0]},) to match "
                f"logits {logits.shape}; received {labels.shape}"
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(
                f"SoftmaxCrossEntropy: labels must be integers; received dtype {labels.dtype}"
            )
        k = logits.shape[1]
        bad = (labels < 0) | (labels >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"SoftmaxCrossEntropy: labels must be in [0, {k}) for {k} classes; "
                f"received label {labels[i]} at index {i}"
            )
        loss, self.probs = F.softmax_cross_entropy(logits, labels)
        self._labels = labels
        return loss

    def backward(self, scale: float = 1.0) -> np.ndarray:
        """``dL/dlogits = scale (probs - onehot(labels)) / N``: (N, K), dtype of the logits."""
        if self.probs is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward")
        return F.softmax_cross_entropy_backward(self.probs, self._labels, scale)

    @property
    def predictions(self) -> np.ndarray:
        """Predicted classes ``argmax_k p[n, k]`` of the last forward pass, shape (N,)."""
        if self.probs is None:
            raise RuntimeError("SoftmaxCrossEntropy.predictions: no forward pass yet")
        return self.probs.argmax(axis=1)

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"


class MSELoss(Module):
    """Mean squared error over all elements (as ``torch.nn.MSELoss()``).

    For ``pred`` and ``target`` of the same shape with ``M`` elements::

        L = (1/M) sum (pred - target)^2
        dL/dpred = 2 (pred - target) / M

    ``target`` is cast to the dtype of ``pred``; shapes must match exactly (no
    broadcasting).
    """

    targets = "labels"
    classifies = False

    def __init__(self) -> None:
        super().__init__()
        self._diff: np.ndarray | None = None

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """Mean of the squared differences (a Python float)."""
        pred = floating_input("MSELoss", pred)
        target = np.asarray(target, dtype=pred.dtype)
        if pred.shape != target.shape:
            raise ValueError(
                f"MSELoss: target must have the shape of pred {pred.shape}; received {target.shape}"
            )
        if pred.size == 0:
            raise ValueError("MSELoss: pred must hold at least one element; received size 0")
        self._diff = pred - target
        flat = self._diff.ravel()
        return float(np.dot(flat, flat)) / flat.size

    def backward(self, scale: float = 1.0) -> np.ndarray:
        """``dL/dpred = scale * 2 (pred - target) / M``, shape and dtype of ``pred``."""
        if self._diff is None:
            raise RuntimeError("MSELoss.backward called before forward")
        return self._diff * (2.0 * float(scale) / self._diff.size)

    def __repr__(self) -> str:
        return "MSELoss()"


class QuadraticForm(Module):
    """``L = (1/N) sum_n 1/2 r_n^T Q r_n`` for residuals ``r`` (N, D) and a symmetric ``Q``.

    DeepOBS's noisy quadratic (``quadratic_deep``: ``0.5 (theta - x)^T Q (theta - x)``
    per example, the batch mean) with the residual ``r = theta - x`` computed by
    :class:`~optimlab.nn.models.Shift`::

        dL/dr = r Q / N          (Q symmetric)

    The second argument of :meth:`forward` (labels) is not used: the noise
    ``x`` is the input. ``Q`` is checked square and symmetric.
    """

    targets = "labels"
    classifies = False

    def __init__(self, hessian: np.ndarray) -> None:
        super().__init__()
        q = np.asarray(hessian, dtype=np.float64)
        if q.ndim != 2 or q.shape[0] != q.shape[1] or q.shape[0] == 0:
            raise ValueError(
                f"QuadraticForm: the Hessian must be square (D, D); received {q.shape}"
            )
        if not np.allclose(q, q.T, rtol=1e-12, atol=1e-12 * float(np.abs(q).max())):
            raise ValueError("QuadraticForm: the Hessian must be symmetric")
        self.hessian = q
        self._rq: np.ndarray | None = None

    def forward(self, residual: np.ndarray, labels: np.ndarray | None = None) -> float:
        r = floating_input("QuadraticForm", residual)
        d = self.hessian.shape[0]
        if r.ndim != 2 or r.shape[1] != d or r.shape[0] == 0:
            raise ValueError(
                f"QuadraticForm: residuals must have shape (N, {d}) with N >= 1; received {r.shape}"
            )
        q = self.hessian.astype(r.dtype, copy=False)
        self._rq = r @ q
        return 0.5 * float(np.sum(self._rq * r, dtype=np.float64)) / r.shape[0]

    def backward(self, scale: float = 1.0) -> np.ndarray:
        """``dL/dr = scale * r Q / N``."""
        if self._rq is None:
            raise RuntimeError("QuadraticForm.backward called before forward")
        return self._rq * (float(scale) / self._rq.shape[0])

    def __repr__(self) -> str:
        return f"QuadraticForm(D={self.hessian.shape[0]})"
