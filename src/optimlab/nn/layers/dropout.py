"""``Dropout``: inverted dropout (Srivastava et al. 2014, JMLR 15(56))."""

from __future__ import annotations

import numpy as np

from optimlab._validation import check_unit_interval
from optimlab.nn.init import as_generator
from optimlab.nn.layers._checks import check_grad, floating_input
from optimlab.nn.module import Module


class Dropout(Module):
    """Zero each input with probability ``p`` in training; scale the rest by ``1 / (1 - p)``.

    Training mode, with a fresh keep-mask ``m`` (True with probability ``1 - p``)
    per forward pass::

        y  = x * m / (1 - p)
        dx = g * m / (1 - p)

    Evaluation mode (``.eval()``) and ``p = 0``: ``y = x``, ``dx = g``. Because
    the kept values are scaled up in training, ``E[y] = x`` in both modes.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability.
    rng : numpy.random.Generator or None
        Draws the masks. Pass a seeded Generator for reproducible masks;
        ``None`` uses ``np.random.default_rng()`` (fresh entropy).

    Attributes
    ----------
    mask : ndarray of bool or None
        The keep-mask of the last training forward pass (same shape as its
        input); ``None`` before the first one.
    frozen : bool
        Whether :meth:`freeze_mask` is in force.

    Notes
    -----
    **Gradient checks.** A numerical gradient needs the same mask on every
    forward pass. Call :meth:`freeze_mask` (after one forward pass, or with an
    explicit mask) and every training forward reuses it until
    :meth:`unfreeze_mask`::

        drop = Dropout(0.5, rng=np.random.default_rng(0))
        drop.freeze_mask(np.random.default_rng(1).random((4, 3)) > 0.5)
        gradcheck(drop, x)          # x of shape (4, 3)
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_unit_interval("Dropout", "p", p)
        self.rng = as_generator(rng, "Dropout")
        self.mask: np.ndarray | None = None
        self.frozen = False
        self._used_mask = False  # whether the last forward applied the mask
        self._shape: tuple[int, ...] | None = None

    def freeze_mask(self, mask: np.ndarray | None = None) -> None:
        """Reuse one keep-mask (``True`` = kept) for every later training forward pass.

        Parameters
        ----------
        mask : array of bool, optional
            The mask to use; by default the one of the last forward pass.
        """
        if mask is None:
            if self.mask is None:
                raise RuntimeError(
                    "Dropout.freeze_mask: no mask yet; run a training forward pass or pass a mask"
                )
        else:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_:
                raise ValueError(
                    f"Dropout.freeze_mask: mask must be a bool array; received dtype {mask.dtype}"
                )
            self.mask = mask
        self.frozen = True

    def unfreeze_mask(self) -> None:
        """Draw a fresh mask on every training forward pass again (the default)."""
        self.frozen = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (any shape) -> ``y`` (same shape and dtype)."""
        x = floating_input("Dropout", x)
        self._shape = x.shape
        self._used_mask = self.training and self.p > 0
        if not self._used_mask:
            return x
        if self.frozen:
            if self.mask.shape != x.shape:
                raise ValueError(
                    f"Dropout: input must have the frozen mask's shape {self.mask.shape}; "
                    f"received {x.shape}"
                )
        else:
            uniform_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
            self.mask = self.rng.random(x.shape, dtype=uniform_dtype) >= self.p
        y = x * self.mask
        y *= 1.0 / (1.0 - self.p)
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out`` -> ``dx``, the same mask and scale as the forward pass."""
        g = check_grad("Dropout", grad_out, self._shape)
        if not self._used_mask:
            return g
        dx = g * self.mask
        dx *= 1.0 / (1.0 - self.p)
        return dx

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
