"""Softmax, log-softmax and the fused softmax cross-entropy.

For logits ``z`` (N, K) and integer labels ``t`` (N,)::

    log p[n, k] = z[n, k] - m[n] - log sum_j exp(z[n, j] - m[n]),   m[n] = max_j z[n, j]
    L = -(1/N) sum_n log p[n, t[n]]
    dL/dz = (p - onehot(t)) / N

Subtracting the row maximum makes every exponent <= 0, so nothing overflows
(log-sum-exp trick); fusing softmax with the loss gives the short gradient above
instead of a K x K softmax Jacobian per sample.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "log_softmax",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise ``log softmax``; ``logits`` (N, K) -> (N, K), same dtype."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), every entry <= 0
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, 1) broadcast
    return shifted


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; ``logits`` (N, K) -> probabilities (N, K), rows sum to 1."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))  # (N, K)
    e /= e.sum(axis=1, keepdims=True)  # (N, 1) broadcast
    return e


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against ``labels``.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    labels : ndarray of int, shape (N,), values in ``[0, K)`` (not checked here)

    Returns
    -------
    loss : float
        ``-(1/N) sum_n log p[n, labels[n]]``.
    probs : ndarray, shape (N, K), dtype of ``logits``
        The softmax probabilities, for the backward pass.
    """
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), every entry <= 0
    probs = np.exp(shifted)  # (N, K), unnormalised
    total = probs.sum(axis=1)  # (N,), >= 1
    # -log p[n, t] = log(total[n]) - shifted[n, t]
    loss = float(np.mean(np.log(total) - shifted[rows, labels]))
    probs /= total[:, None]  # (N, 1) broadcast
    return loss, probs


def softmax_cross_entropy_backward(
    probs: np.ndarray, labels: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """``dL/dlogits = scale (probs - onehot(labels)) / N``, shape (N, K), a new array."""
    n = probs.shape[0]
    grad = probs * (float(scale) / n)  # Python float keeps the dtype of probs
    grad[np.arange(n), labels] -= float(scale) / n
    return grad
