"""The conformance table of MARS: ``pytorch_optimizer.MARS`` 4.1 as the reference.

One row per (name, hyperparameters) with a ``reference(torch_params)`` built with the
same settings, as in ``optim_db_modern``. pytorch_optimizer runs MARS's ``"adamw"`` and
``"lion"`` forms through its batched (foreach) path on CPU by default and ``"shampoo"``
through its per-parameter path; rows cover both paths (``foreach=False``).

``ROWS`` compare with pytorch_optimizer itself. ``EQUATION_ROWS`` compare with
pytorch_optimizer's arithmetic where optimlab follows the paper instead (see the
``mars`` docstring): the cautious mask on the whole step of the ``"lion"`` and
``"shampoo"`` forms (``MaskedMARS``: the reference's step, then ``apply_cautious``), and
coupled weight decay as the gradient of the L2-regularised loss (the reference fed
:math:`g + \\lambda\\theta`, its own decay off).
"""

from __future__ import annotations

from typing import Any

import pytorch_optimizer as po
import torch
from cautious_refs import step_then_mask
from optim_db import Row, lookahead
from reference_harness import Reference, both, decoupled_decay_hook, demon_hook

ROWS: list[Row] = []
EQUATION_ROWS: list[Row] = []
T = 150  # Demon horizon, shorter than the run


def row(name: str, kwargs: dict, reference: Reference, table: list[Row] = ROWS) -> None:
    table.append(Row(name, kwargs, reference))


def mars(**kwargs: Any) -> Reference:
    return lambda params: (po.MARS(params, **kwargs), None)


def _variance_reduced(group: dict, p: torch.Tensor) -> bool:
    return group["optimize_1d"] or p.ndim >= 2


class MaskedMARS(po.MARS):
    """pytorch_optimizer's MARS (``cautious=False``), then its step masked with
    ``apply_cautious`` against the gradient, as Liang et al. define the mask (decoupled
    decay, on the weights, unmasked)."""

    @torch.no_grad()
    def step(self, closure=None):
        step_then_mask(self, super().step, _decay_factor)


def _decay_factor(group: dict, p: torch.Tensor) -> float:
    """MARS's decoupled decay of ``p``: each part with its own learning rate and decay."""
    vr = _variance_reduced(group, p)
    lr = group["lr"] * (1.0 if vr else group["lr_1d_factor"])
    wd = group["weight_decay"] if vr else group["weight_decay_1d"]
    return 1.0 - wd * (1.0 if group["fixed_decay"] else lr)


def masked(**kwargs: Any) -> Reference:
    return lambda params: (MaskedMARS(params, **kwargs), None)


def coupled(weight_decay: float, weight_decay_1d: float, **kwargs: Any) -> Reference:
    """MARS with its decay off, fed ``g + wd * p`` (``wd_1d`` for its AdamW's parameters)."""

    def make(params: list) -> tuple:
        opt = po.MARS(params, weight_decay=0.0, weight_decay_1d=0.0, **kwargs)

        def hook(ref: Any, t: int) -> None:
            with torch.no_grad():
                for group in ref.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            wd = weight_decay if _variance_reduced(group, p) else weight_decay_1d
                            p.grad.add_(p, alpha=wd)

        return opt, hook

    return make


def decoupled(lr: float, weight_decay: float, **kwargs: Any) -> Reference:
    """``marsw``: the reference (its own ``weight_decay`` 0) after ``p <- p - lr wd p``."""
    return lambda params: (po.MARS(params, lr=lr, **kwargs), decoupled_decay_hook(lr, weight_decay))


def demon(beta0: float, *, decay: tuple | None = None, **kwargs: Any) -> Reference:
    def make(params: list) -> tuple:
        hooks = [demon_hook(beta0, T, "betas")]
        if decay is not None:
            hooks.insert(0, decoupled_decay_hook(*decay))
        return po.MARS(params, **kwargs), both(*hooks)

    return make


# -- the AdamW form (batched path, then the per-parameter path) ------------------------------
row("mars", {}, mars())
row("mars", {}, mars(foreach=False))
row("mars", {"lr": 1e-2, "betas": (0.9, 0.999), "gamma": 0.1, "weight_decay": 0.1, "eps": 1e-6}, mars(lr=1e-2, betas=(0.9, 0.999), gamma=0.1, weight_decay=0.1, eps=1e-6))  # fmt: skip
row("mars", {"lr": 1e-2, "gamma": 0.5, "weight_decay": 0.1}, mars(lr=1e-2, gamma=0.5, weight_decay=0.1, foreach=False))  # fmt: skip
row("mars", {"gamma": 0.0, "lr_1d": 1e-2, "betas_1d": (0.5, 0.9), "weight_decay_1d": 0.3}, mars(gamma=0.0, lr_1d=1e-2, betas_1d=(0.5, 0.9), weight_decay_1d=0.3))  # fmt: skip
row("mars", {"optimize_1d": True, "weight_decay": 0.05}, mars(optimize_1d=True, weight_decay=0.05))  # fmt: skip
row("mars", {"optimize_1d": True, "lr": 1e-2}, mars(optimize_1d=True, lr=1e-2, foreach=False))
row("mars", {"ams_bound": True, "betas": (0.5, 0.9)}, mars(ams_bound=True, betas=(0.5, 0.9)))
row("mars", {"ams_bound": True, "optimize_1d": True}, mars(ams_bound=True, optimize_1d=True, foreach=False))  # fmt: skip
row("mars", {"weight_decay": 0.05, "weight_decay_1d": 0.02, "fixed_decay": True}, mars(weight_decay=0.05, weight_decay_1d=0.02, fixed_decay=True))  # fmt: skip
row("mars", {"lr": 0.05, "gamma": 1.0, "betas": (0.3, 0.9)}, mars(lr=0.05, gamma=1.0, betas=(0.3, 0.9)))  # fmt: skip
row("mars", {"lr": 1e-2, "betas": (0.0, 0.9), "gamma": 0.3}, mars(lr=1e-2, betas=(0.0, 0.9), gamma=0.3))  # fmt: skip
# -- the Lion form ---------------------------------------------------------------------------
row("mars", {"mars_type": "lion", "lr": 1e-3}, mars(mars_type="lion", lr=1e-3))
row("mars", {"mars_type": "lion", "lr": 1e-3, "gamma": 0.2, "weight_decay": 0.1}, mars(mars_type="lion", lr=1e-3, gamma=0.2, weight_decay=0.1, foreach=False))  # fmt: skip
row("mars", {"mars_type": "lion", "lr": 1e-3, "optimize_1d": True, "betas": (0.8, 0.99)}, mars(mars_type="lion", lr=1e-3, optimize_1d=True, betas=(0.8, 0.99)))  # fmt: skip
# -- the Shampoo form (Newton-Schulz; per-parameter path) -------------------------------------
row("mars", {"mars_type": "shampoo"}, mars(mars_type="shampoo"))
row("mars", {"mars_type": "shampoo", "lr": 1e-2, "gamma": 0.1, "weight_decay": 0.1, "eps": 1e-6}, mars(mars_type="shampoo", lr=1e-2, gamma=0.1, weight_decay=0.1, eps=1e-6))  # fmt: skip
row("mars", {"mars_type": "shampoo", "optimize_1d": True, "ams_bound": True}, mars(mars_type="shampoo", optimize_1d=True, ams_bound=True))  # fmt: skip
# -- compositions ----------------------------------------------------------------------------
row("marsw", {"lr": 1e-2, "weight_decay": 0.1}, decoupled(1e-2, 0.1))
row("marsw", {"lr": 1e-2, "weight_decay": 0.1, "mars_type": "lion"}, decoupled(1e-2, 0.1, mars_type="lion"))  # fmt: skip
row("demon-mars", {"total_steps": T}, demon(0.95))
row("demon-mars", {"total_steps": T, "mars_type": "shampoo", "betas": (0.9, 0.99)}, demon(0.9, mars_type="shampoo", betas=(0.9, 0.99)))  # fmt: skip
row("demon-marsw", {"lr": 1e-2, "weight_decay": 0.1, "total_steps": T}, demon(0.95, decay=(1e-2, 0.1), lr=1e-2))  # fmt: skip
row("lookahead-mars", {"lr": 1e-2, "k": 3, "alpha": 0.6}, lookahead(mars(lr=1e-2), k=3, alpha=0.6))  # fmt: skip
row("lookahead-mars", {"mars_type": "shampoo"}, lookahead(mars(mars_type="shampoo")))
# -- the cautious mask: pytorch_optimizer's cautious=True masks m_t, for "adamw" the same ------
row("cautious-mars", {}, mars(cautious=True))
row("cautious-mars", {"lr": 1e-2, "weight_decay": 0.1, "optimize_1d": True}, mars(lr=1e-2, weight_decay=0.1, optimize_1d=True, cautious=True, foreach=False))  # fmt: skip
row("cautious-mars", {"lr": 1e-2, "ams_bound": True, "betas_1d": (0.8, 0.99)}, mars(lr=1e-2, ams_bound=True, betas_1d=(0.8, 0.99), cautious=True))  # fmt: skip
row("lookahead-cautious-mars", {"lr": 1e-2, "k": 4}, lookahead(mars(lr=1e-2, cautious=True), k=4))  # fmt: skip

# -- the equations written out where optimlab follows the paper -------------------------------
row("cautious-mars", {"mars_type": "lion", "lr": 1e-3}, masked(mars_type="lion", lr=1e-3), EQUATION_ROWS)  # fmt: skip
row("cautious-mars", {"mars_type": "lion", "lr": 1e-3, "weight_decay": 0.1, "optimize_1d": True}, masked(mars_type="lion", lr=1e-3, weight_decay=0.1, optimize_1d=True), EQUATION_ROWS)  # fmt: skip
row("cautious-mars", {"mars_type": "shampoo"}, masked(mars_type="shampoo"), EQUATION_ROWS)
row("cautious-mars", {"mars_type": "shampoo", "lr": 1e-2, "fixed_decay": True, "weight_decay": 0.01}, masked(mars_type="shampoo", lr=1e-2, fixed_decay=True, weight_decay=0.01), EQUATION_ROWS)  # fmt: skip
row("mars", {"weight_decouple": False, "weight_decay": 0.1, "lr": 1e-2}, coupled(0.1, 0.1, lr=1e-2), EQUATION_ROWS)  # fmt: skip
row("mars", {"weight_decouple": False, "weight_decay": 0.2, "weight_decay_1d": 0.05, "mars_type": "lion", "lr": 1e-3}, coupled(0.2, 0.05, mars_type="lion", lr=1e-3), EQUATION_ROWS)  # fmt: skip
row("mars", {"weight_decouple": False, "weight_decay": 0.1, "mars_type": "shampoo", "optimize_1d": True}, coupled(0.1, 0.1, mars_type="shampoo", optimize_1d=True), EQUATION_ROWS)  # fmt: skip
