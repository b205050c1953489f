"""``Sequential``: layers applied one after another."""

from __future__ import annotations

import inspect

import numpy as np

from optimlab.nn.module import Module


class Sequential(Module):
    """Chain of layers: ``forward`` runs them in order, ``backward`` in reverse.

    Parameters are named ``"<index>.<name>"`` (``"0.weight"``), as in PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> from optimlab import nn
    >>> rng = np.random.default_rng(0)
    >>> model = nn.Sequential(nn.Dense(4, 3, rng=rng), nn.ReLU(), nn.Dense(3, 2, rng=rng))
    >>> model.forward(np.ones((5, 4), dtype=np.float32)).shape
    (5, 2)
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: layer {i} must be a Module; received {type(layer).__name__}"
                )
            setattr(self, str(i), layer)
        self.layers: tuple[Module, ...] = tuple(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Back through every layer; returns the gradient with respect to the input.

        ``input_grad=False`` (what training uses) stops at the first layer with
        parameters and skips its input gradient, which nothing needs: the
        matrix product ``g W^T`` of a first Dense layer is about a third of an
        MLP's backward pass. Returns None then.
        """
        first = self._first_trainable() if not input_grad else None
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            if index == first:
                layer.backward(grad_out, input_grad=False)
                return None
            grad_out = layer.backward(grad_out)
        return grad_out

    def _first_trainable(self) -> int | None:
        """Index of the first layer with parameters whose backward can skip ``dx``
        (found once: the layers of a Sequential do not change)."""
        if not hasattr(self, "_first"):
            self._first = None
            for index, layer in enumerate(self.layers):
                if layer.parameters():
                    accepts = "input_grad" in inspect.signature(layer.backward).parameters
                    self._first = index if accepts else None
                    break
        return self._first

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
