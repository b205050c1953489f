"""The conformance table of Adam-mini: ``pytorch_optimizer.AdamMini`` 4.1 as the reference.

pytorch_optimizer's AdamMini takes a *model* and makes one parameter group per
``model.named_parameters()`` entry, choosing each one's blocks by its name (see
``optimlab.optim.aliases_adam_mini``). ``NamedTensors`` is that model here: a
``torch.nn.Module`` whose ``named_parameters`` yields the harness's own tensors (so the
gradients the harness sets reach the reference) under the names given, by default the
harness's ``p0, p1, ...``; ``MODEL_NAMES`` rows give them the names of an optimlab
model's ``named_parameters`` instead.

``EQUATION_ROWS``: the reference has no cautious form; ``MaskedAdamMini`` is its step
masked with ``apply_cautious`` against the gradient (decoupled decay unmasked).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytorch_optimizer as po
import torch
from cautious_refs import step_then_mask
from optim_db import Row, lookahead
from reference_harness import Reference, both, decoupled_decay_hook, demon_hook

ROWS: list[Row] = []
EQUATION_ROWS: list[Row] = []
T = 150  # Demon horizon, shorter than the run
#: Names of ``nn.build_model("mlp", ...).named_parameters()`` (weight, bias, weight).
MODEL_NAMES = ("1.weight", "1.bias", "3.weight")


class NamedTensors(torch.nn.Module):
    """A model for ``po.AdamMini(model, ...)``: ``named_parameters`` over given tensors."""

    def __init__(self, tensors: Sequence[torch.Tensor], names: Sequence[str] | None = None):
        super().__init__()
        names = names if names is not None else [f"p{i}" for i in range(len(tensors))]
        self.named = list(zip(names, tensors, strict=False))

    def named_parameters(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, torch.Tensor]]:
        return iter(self.named)


def row(name: str, kwargs: dict, reference: Reference, table: list[Row] = ROWS) -> None:
    table.append(Row(name, kwargs, reference))


def mini(names: Sequence[str] | None = None, **kwargs: Any) -> Reference:
    return lambda params: (po.AdamMini(NamedTensors(params, names), **kwargs), None)


class MaskedAdamMini(po.AdamMini):
    """pytorch_optimizer's AdamMini, then its step masked as the cautious optimizers do."""

    @torch.no_grad()
    def step(self, closure=None):
        step_then_mask(self, super().step, lambda g, p: 1.0 - g["lr"] * g["weight_decay"])


def masked(**kwargs: Any) -> Reference:
    return lambda params: (MaskedAdamMini(NamedTensors(params), **kwargs), None)


def demon(beta0: float, *, decay: tuple | None = None, **kwargs: Any) -> Reference:
    def make(params: list) -> tuple:
        hooks = [demon_hook(beta0, T, "betas")]
        if decay is not None:
            hooks.insert(0, decoupled_decay_hook(*decay))
        return po.AdamMini(NamedTensors(params), **kwargs), both(*hooks)

    return make


row("adam-mini", {}, mini())
row("adam-mini", {"lr": 1e-2}, mini(lr=1e-2))
row("adam-mini", {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.0, "eps": 1e-6}, mini(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.0, eps=1e-6))  # fmt: skip
row("adam-mini", {"lr": 0.05, "betas": (0.3, 0.5), "weight_decay": 0.5}, mini(lr=0.05, betas=(0.3, 0.5), weight_decay=0.5))  # fmt: skip
row("adam-mini", {"lr": 1e-2, "betas": (0.0, 0.9), "eps": 1e-3}, mini(lr=1e-2, betas=(0.0, 0.9), eps=1e-3))  # fmt: skip
row("adam-mini", {"lr": 1e-2}, mini(MODEL_NAMES, lr=1e-2))
row("adam-miniw", {"lr": 1e-2, "weight_decay": 0.3}, mini(lr=1e-2, weight_decay=0.3))
row("adam-miniw", {"lr": 1e-2}, lambda params: (po.AdamMini(NamedTensors(params), lr=1e-2, weight_decay=0.0), decoupled_decay_hook(1e-2, 0.1)))  # fmt: skip
row("demon-adam-mini", {"lr": 1e-2, "total_steps": T}, demon(0.9, lr=1e-2))
row("demon-adam-miniw", {"lr": 1e-2, "weight_decay": 0.2, "betas": (0.95, 0.99), "total_steps": T}, demon(0.95, decay=(1e-2, 0.2), lr=1e-2, weight_decay=0.0, betas=(0.95, 0.99)))  # fmt: skip
row("lookahead-adam-mini", {"lr": 1e-2, "k": 3, "alpha": 0.6}, lookahead(mini(lr=1e-2), k=3, alpha=0.6))  # fmt: skip

row("cautious-adam-mini", {"lr": 1e-2}, masked(lr=1e-2), EQUATION_ROWS)
row("cautious-adam-mini", {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.3}, masked(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.3), EQUATION_ROWS)  # fmt: skip
