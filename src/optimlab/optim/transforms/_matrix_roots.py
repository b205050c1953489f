"""Matrix helpers of the Kronecker-factored preconditioners (Shampoo, SOAP).

Every decomposition (``eigh``, ``qr``) is computed in float64 from the
statistics as they are stored (the parameter's dtype) and the result is cast
back to that dtype: in float64 this is the reference's arithmetic; for float32
parameters it is more accurate than pytorch_optimizer, which decomposes in
float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def inverse_root(matrix: np.ndarray, order: int, out: np.ndarray) -> np.ndarray:
    r"""``out <-`` :math:`A^{-1/p}` of a symmetric :math:`A` (``matrix``), :math:`p` = ``order``.

    With :math:`A = Q \Lambda Q^\top` (``numpy.linalg.eigh``),

    .. math::

        A^{-1/p} = Q \operatorname{diag}\big(\operatorname{sign}(\lambda_i)
                   |\lambda_i|^{-1/p}\big) Q^\top

    which is what pytorch_optimizer's ``compute_power_svd`` computes from the SVD
    :math:`U \operatorname{diag}(s^{-1/p}) V^\top` of a symmetric matrix
    (:math:`s = |\lambda|`, :math:`V = Q \operatorname{sign}(\Lambda)`), so the two
    agree also when rounding leaves an eigenvalue slightly negative. Within a
    cluster of equal eigenvalues the result does not depend on the basis the
    decomposition picks.
    """
    w, q = np.linalg.eigh(np.asarray(matrix, dtype=np.float64))
    scale = np.sign(w) * np.abs(w) ** (-1.0 / order)
    np.copyto(out, (q * scale) @ q.T, casting="same_kind")
    return out


def unfolding_gram(x: np.ndarray, axis: int) -> np.ndarray:
    r""":math:`X_{(k)} X_{(k)}^\top`, the Gram matrix of the mode-``axis`` unfolding of ``x``
    (``d_k x d_k``: ``x`` contracted with itself over every other axis)."""
    if x.ndim == 1:
        return np.multiply.outer(x, x)
    if x.ndim == 2:
        return x @ x.T if axis == 0 else x.T @ x
    rows = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    return rows @ rows.T


def mode_products(
    x: np.ndarray, matrices: Sequence[np.ndarray | None], transpose: bool = False
) -> np.ndarray:
    r"""``x`` multiplied along every axis :math:`k` by ``matrices[k]`` (``None``: identity).

    .. math::

        y = x \times_0 M_0 \times_1 M_1 \cdots, \qquad
        (x \times_k M)_{\dots a' \dots} = \sum_a M_{a' a}\, x_{\dots a \dots}

    and with ``transpose`` :math:`M^\top` in place of :math:`M`. Each product
    contracts the first axis and appends the new one last (``tensordot``), so
    after all of them the axes are back in their order. A new array.
    """
    y = x
    for m in matrices:
        if m is None:
            y = np.moveaxis(y, 0, -1)
        else:
            y = np.tensordot(y, m, axes=([0], [0] if transpose else [1]))
    return np.ascontiguousarray(y)
