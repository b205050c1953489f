"""``Parameter`` and ``Module``: the two building blocks of every layer.

A layer is a :class:`Module` with explicit ``forward`` and ``backward``:
``forward`` caches what ``backward`` needs, ``backward`` never recomputes the
forward pass, accumulates into each parameter's ``.grad`` and returns the
gradient with respect to its input.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike


class Parameter:
    """A trainable array and its gradient.

    Attributes
    ----------
    data : ndarray
        The values; optimizers update it **in place** (``data -= ...``), so
        views of it held elsewhere stay valid.
    grad : ndarray or None
        Same shape and dtype as ``data``; ``None`` until a backward pass
        reaches this parameter (and again after ``zero_grad``). Whatever is
        assigned (an array, a NumPy or Python scalar for a 0-d parameter, a
        list) is stored as an array of the parameter's shape and dtype (an
        array of that shape and dtype as it is, without a copy); a wrong shape,
        or a complex gradient for a real parameter, is an error naming the
        parameter.
    name : str
        A readable name (``"weight"``, ``"bias"``); a :class:`Module` gives
        dotted names such as ``"0.weight"`` through :meth:`Module.named_parameters`.
    """

    __slots__ = ("_grad", "data", "name")

    def __init__(self, data: np.ndarray, name: str = "") -> None:
        self.data = np.asarray(data)
        self._grad: np.ndarray | None = None
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def grad(self) -> np.ndarray | None:
        return self._grad

    @grad.setter
    def grad(self, value: ArrayLike | None) -> None:
        self._grad = None if value is None else self._as_grad(value)

    def _as_grad(self, value: ArrayLike) -> np.ndarray:
        """``value`` as an array of this parameter's shape and dtype (no copy if it is one)."""
        grad = self._shaped(value)
        if grad.dtype == self.data.dtype:
            return grad
        if grad.dtype.kind not in "biufc":
            raise TypeError(
                f"parameter {self.name!r}: gradient must be numeric; received dtype {grad.dtype}"
            )
        if grad.dtype.kind == "c" and self.data.dtype.kind != "c":
            raise TypeError(
                f"parameter {self.name!r}: gradient of dtype {grad.dtype} for a parameter of "
                f"dtype {self.data.dtype} (its imaginary part would be lost)"
            )
        return grad.astype(self.data.dtype)

    def _shaped(self, value: ArrayLike) -> np.ndarray:
        grad = np.asarray(value)
        if grad.shape != self.data.shape:
            raise ValueError(
                f"parameter {self.name!r}: gradient shape must be {self.data.shape}; "
                f"received {grad.shape}"
            )
        return grad

    def accumulate(self, grad: np.ndarray) -> None:
        """Add ``grad`` to ``.grad``.

        When ``.grad`` is ``None`` the array is taken over without a copy, so
        callers pass a freshly computed array they do not keep.
        """
        if self._grad is None:
            self._grad = self._as_grad(grad)
        else:
            self._grad += self._shaped(grad)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradient (``None``), or fill it with zeros in place."""
        if set_to_none or self._grad is None:
            self._grad = None
        else:
            self._grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of layers, losses and containers.

    Subclasses set ``Parameter`` attributes (found by :meth:`parameters` in the
    order they were assigned), child ``Module`` attributes, and buffers
    registered with :meth:`register_buffer` (arrays saved in the state dict but
    not trained, such as BatchNorm's running statistics).
    """

    def __init__(self) -> None:
        self.training = True
        self._buffers: list[str] = []

    # -- the two passes ---------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- structure -------------------------------------------------------------
    def children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names, in assignment order."""
        for key, value in vars(self).items():
            if isinstance(value, Module):
                yield key, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs, in a stable order."""
        for key, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + key, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + key + ".")

    def parameters(self) -> list[Parameter]:
        """Every trainable parameter, in a stable order."""
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Keep ``value`` as attribute ``name`` and in the state dict."""
        setattr(self, name, value)
        if name not in self._buffers:
            self._buffers.append(name)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name in self._buffers:
            yield prefix + name, getattr(self, name)
        for key, child in self.children():
            yield from child.named_buffers(prefix + key + ".")

    # -- modes and gradients ---------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics)."""
        self.training = mode
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            p.zero_grad(set_to_none)

    # -- state -----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed by dotted name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update({name: np.array(b, copy=True) for name, b in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state`` into the parameters and buffers (in place, shapes checked)."""
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        expected = set(params) | set(buffers)
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: keys must be {sorted(expected)}; "
                f"missing {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
        for name, target in [(n, p.data) for n, p in params.items()] + list(buffers.items()):
            value = np.asarray(state[name])
            if value.shape != np.shape(target):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: {name!r} must have shape "
                    f"{np.shape(target)}; received {value.shape}"
                )
            np.copyto(target, value, casting="same_kind")

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())
