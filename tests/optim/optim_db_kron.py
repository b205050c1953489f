"""The conformance table of PSGD Kron: pytorch_optimizer 4.1's ``Kron`` as the reference.

Same pattern as ``optim_db_modern``: one row per (name, hyperparameters), with a
``reference(torch_params)`` built with the *same* settings. The reference runs with
``precondition_dtype=None`` (the parameters' dtype, float64 here; its default is
float32) and takes its random numbers from :data:`DRAWS`: the stream optimlab's
Generator produces for the row's ``seed`` (``numpy.random.default_rng(seed)``, the
same PCG64), which ``test_reference_kron`` feeds into the reference's calls of
``numpy.random.random()`` and ``torch.randn_like``, in the order they come.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytorch_optimizer as po
import torch
from optim_db import Row, demon, lookahead
from optim_db_modern import decoupled
from pytorch_optimizer.optimizer.psgd import precondition_update_prob_schedule

from optimlab.optim.transforms.kron import UpdateProbabilitySchedule

ROWS: list[Row] = []


class Draws:
    """optimlab's random stream for the reference run under way (set when it is built)."""

    rng: np.random.Generator | None = None

    def random(self) -> float:
        """In place of ``numpy.random.random()`` (Kron's balancing draw)."""
        return float(self.rng.random())

    def randn_like(self, t: torch.Tensor, *, dtype: torch.dtype | None = None,
                   **kwargs: Any) -> torch.Tensor:  # fmt: skip
        """In place of ``torch.randn_like`` (Kron's probe vectors)."""
        values = np.asarray(self.rng.standard_normal(tuple(t.shape)))
        return torch.from_numpy(values).to(dtype=dtype or t.dtype)


DRAWS = Draws()


class ExactDebiasKron(po.Kron):
    """Kron with the bias correction ``1 - prod_s momentum_s`` (one group), for Demon's
    varying momentum: pytorch_optimizer's ``1 - momentum ** step`` is exact only for a
    constant one (optimlab uses the product, equal to it then)."""

    def debias(self, beta: float, step: int) -> float:
        self._product = getattr(self, "_product", 1.0) * beta
        return 1.0 - self._product


def kron(params: list, *, seed: int = 0, group: dict | None = None, exact_debias: bool = False,
         **kwargs: Any) -> po.Kron:  # fmt: skip
    """pytorch_optimizer's Kron in the parameters' dtype, drawing optimlab's stream for ``seed``;
    ``group``: group entries its constructor does not take (``precondition_lr``...)."""
    DRAWS.rng = np.random.default_rng(seed)
    cls = ExactDebiasKron if exact_debias else po.Kron
    return cls([{"params": params, **(group or {})}], precondition_dtype=None, **kwargs)


def ref(**kwargs: Any):
    return lambda params: (kron(params, **kwargs), None)


def row(name: str, kwargs: dict, reference) -> None:
    ROWS.append(Row(name, kwargs, reference))


SCHEDULE = {"max_prob": 0.9, "min_prob": 0.2, "decay": 0.02, "flat_start": 30}
T = 150  # Demon horizon, shorter than the run

row("kron", {}, ref())
row("kron", {"lr": 0.02}, ref(lr=0.02))
row("kron", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1}, ref(lr=0.02, momentum=0.5, weight_decay=0.1))  # fmt: skip
row("kron", {"lr": 0.02, "weight_decay": 0.1, "weight_decouple": False}, ref(lr=0.02, weight_decay=0.1, weight_decouple=False))  # fmt: skip
row("kron", {"lr": 0.02, "momentum": 0.0}, ref(lr=0.02, momentum=0.0))
row("kron", {"lr": 0.02, "pre_conditioner_update_probability": 0.3}, ref(lr=0.02, pre_conditioner_update_probability=0.3))  # fmt: skip
row("kron", {"lr": 0.02, "pre_conditioner_update_probability": 0.0}, ref(lr=0.02, pre_conditioner_update_probability=0.0))  # fmt: skip
row("kron", {"lr": 0.02, "pre_conditioner_update_probability": UpdateProbabilitySchedule(**SCHEDULE)}, ref(lr=0.02, pre_conditioner_update_probability=precondition_update_prob_schedule(**SCHEDULE)))  # fmt: skip
row("kron", {"lr": 0.02, "max_size_triangular": 4}, ref(lr=0.02, max_size_triangular=4))
row("kron", {"lr": 0.02, "min_ndim_triangular": 1}, ref(lr=0.02, min_ndim_triangular=1))
row("kron", {"lr": 0.02, "min_ndim_triangular": 3}, ref(lr=0.02, min_ndim_triangular=3))
row("kron", {"lr": 0.02, "memory_save_mode": "one_diag"}, ref(lr=0.02, memory_save_mode="one_diag"))  # fmt: skip
row("kron", {"lr": 0.02, "memory_save_mode": "smart_one_diag"}, ref(lr=0.02, memory_save_mode="smart_one_diag"))  # fmt: skip
row("kron", {"lr": 0.02, "memory_save_mode": "all_diag"}, ref(lr=0.02, memory_save_mode="all_diag"))  # fmt: skip
row("kron", {"lr": 0.02, "momentum_into_precondition_update": False}, ref(lr=0.02, momentum_into_precondition_update=False))  # fmt: skip
row("kron", {"lr": 0.02, "precondition_lr": 0.5, "precondition_init_scale": 2.0}, ref(lr=0.02, group={"precondition_lr": 0.5, "precondition_init_scale": 2.0}))  # fmt: skip
row("kron", {"lr": 0.02, "balance_prob": 0.5}, ref(lr=0.02, balance_prob=0.5))
row("kron", {"lr": 0.02, "balance_prob": 1.0, "pre_conditioner_update_probability": 0.5}, ref(lr=0.02, balance_prob=1.0, pre_conditioner_update_probability=0.5))  # fmt: skip
row("kron", {"lr": 0.02, "seed": 7, "balance_prob": 0.3}, ref(lr=0.02, seed=7, balance_prob=0.3))  # fmt: skip
row("kronw", {"lr": 0.02, "weight_decay": 0.1}, decoupled(kron, 0.02, 0.1))
row("kronw", {"lr": 0.02}, decoupled(kron, 0.02, 1e-2))
row("demon-kron", {"lr": 0.02, "total_steps": T}, demon(kron, 0.9, T, "momentum", lr=0.02, exact_debias=True))  # fmt: skip
row("demon-kronw", {"lr": 0.02, "momentum": 0.95, "weight_decay": 0.1, "total_steps": T}, demon(kron, 0.95, T, "momentum", decay=(0.02, 0.1), lr=0.02, momentum=0.95, exact_debias=True))  # fmt: skip
row("lookahead-kron", {"lr": 0.02, "k": 3, "alpha": 0.6}, lookahead(ref(lr=0.02), k=3, alpha=0.6))  # fmt: skip
row("lookahead-demon-kronw", {"lr": 0.02, "weight_decay": 0.1, "total_steps": T, "k": 4}, lookahead(demon(kron, 0.9, T, "momentum", decay=(0.02, 0.1), lr=0.02, exact_debias=True), k=4))  # fmt: skip
