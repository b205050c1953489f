"""Argument and shape checks shared by the layers (error wording: owner, expected, received)."""

from __future__ import annotations

import numpy as np


def float_dtype(owner: str, dtype) -> np.dtype:
    """``np.dtype(dtype)``, which must be a floating type."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(
            f"{owner}: dtype must be a floating type; received dtype={dtype!r}"
        ) from exc
    if not np.issubdtype(resolved, np.floating):
        raise ValueError(f"{owner}: dtype must be a floating type; received dtype={resolved}")
    return resolved


def positive_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1; received {name}={value!r}")
    return int(value)


def pair(owner: str, name: str, value: object, *, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each ``>= minimum``, as a pair."""
    items = (value, value) if isinstance(value, int | np.integer) else value
    ok = (
        isinstance(items, tuple | list)
        and len(items) == 2
        and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= minimum
            for v in items
        )
    )
    if not ok:
        raise ValueError(
            f"{owner}: {name} must be an integer >= {minimum} or a pair of them; "
            f"received {name}={value!r}"
        )
    return int(items[0]), int(items[1])


def floating_input(owner: str, x: object, dtype: np.dtype | None = None) -> np.ndarray:
    """``x`` as an array: cast to ``dtype`` when given (layers with parameters compute in
    their parameters' dtype), else any floating array as is and other arrays to float64."""
    x = np.asarray(x)
    if dtype is not None:
        return x if x.dtype == dtype else x.astype(dtype)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def shape_error(owner: str, expected: str, received: tuple[int, ...]) -> ValueError:
    return ValueError(f"{owner}: input must have shape {expected}; received {tuple(received)}")


def check_grad(owner: str, grad: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    """The upstream gradient must match the last forward output."""
    if shape is None:
        raise RuntimeError(f"{owner}.backward called before forward")
    grad = np.asarray(grad)
    if grad.shape != tuple(shape):
        raise ValueError(
            f"{owner}.backward: grad_out must have the output shape {tuple(shape)}; "
            f"received {grad.shape}"
        )
    return grad
