"""The conformance table of the post-Adam optimizers: pytorch_optimizer 4.1 as the reference.

Same pattern as ``optim_db``: one row per (name, hyperparameters), with a
``reference(torch_params)`` built with the *same* settings; rows cover the
defaults and non-default values of every hyperparameter optimlab offers.
``test_reference_modern`` runs them with Muon's Newton-Schulz and the global
gradient norm of Adan/Lamb patched to float64 (both are bfloat16/float32 in
the reference).
"""

from __future__ import annotations

import math
from typing import Any

import pytorch_optimizer as po
import torch
from cautious_refs import CautiousAdafactor, CautiousAdamW, CautiousHeavyBall, CautiousLaProp
from optim_db import Row, lookahead
from reference_harness import Reference, both, decoupled_decay_hook, demon_hook

ROWS: list[Row] = []
#: Rows whose reference is schedule-free: also compared after ``eval()``.
SCHEDULE_FREE: list[Row] = []


def row(name: str, kwargs: dict, reference: Reference) -> None:
    ROWS.append(Row(name, kwargs, reference))
    if name.startswith("schedulefree-"):
        SCHEDULE_FREE.append(ROWS[-1])


def po_ref(cls: type, **kwargs: Any) -> Reference:
    return lambda params: (cls(params, **kwargs), None)


def decoupled(cls: type, lr: float, weight_decay: float, **kwargs: Any) -> Reference:
    """``<name>w``: the reference without its own decay, after ``p <- p - lr wd p``."""

    def make(params: list) -> tuple:
        return cls(params, lr=lr, **kwargs), decoupled_decay_hook(lr, weight_decay)

    return make


def demon(cls: type, beta0: float, total: int, *, decay: tuple | None = None,
          **kwargs: Any) -> Reference:  # fmt: skip
    def make(params: list) -> tuple:
        hooks = [demon_hook(beta0, total, "betas")]
        if decay is not None:
            hooks.insert(0, decoupled_decay_hook(*decay))
        return cls(params, **kwargs), both(*hooks)

    return make


def muon_groups(params: list) -> list[dict]:
    """pytorch_optimizer.Muon's groups: Muon for ndim >= 2, its AdamW for the rest."""
    groups = [{"params": [p for p in params if p.ndim >= 2], "use_muon": True}]
    rest = [p for p in params if p.ndim < 2]
    return groups + ([{"params": rest, "use_muon": False}] if rest else [])


def muon_ref(**kwargs: Any) -> Reference:
    return lambda params: (po.Muon(muon_groups(params), **kwargs), None)


T = 150  # Demon horizon, shorter than the run


def register_heavy_ball() -> None:
    """A user's own optimizer (torch's momentum buffer), for cautious-<a user's name>."""
    from optimlab import optim
    from optimlab.optim.transforms import ScaleByLearningRate, Trace

    def heavy_ball(lr, momentum):
        """Heavy ball: b = momentum b + g; p -= lr b."""
        return optim.chain(Trace(momentum), ScaleByLearningRate(lr))

    if "db-heavyball" not in optim.OPTIMIZERS:
        optim.register("db-heavyball", heavy_ball, defaults={"lr": 0.1, "momentum": 0.9},
                       momentum="momentum", reference="torch.optim.SGD (momentum)")  # fmt: skip


# -- Lion -----------------------------------------------------------------------------------
row("lion", {}, po_ref(po.Lion))
row("lion", {"lr": 1e-3, "betas": (0.8, 0.95), "weight_decay": 0.1}, po_ref(po.Lion, lr=1e-3, betas=(0.8, 0.95), weight_decay=0.1))  # fmt: skip
row("lion", {"lr": 1e-3, "betas": (0.4, 0.6), "weight_decay": 0.05, "weight_decouple": False}, po_ref(po.Lion, lr=1e-3, betas=(0.4, 0.6), weight_decay=0.05, weight_decouple=False))  # fmt: skip
row("lion", {"lr": 1e-3, "weight_decay": 0.05, "fixed_decay": True}, po_ref(po.Lion, lr=1e-3, weight_decay=0.05, fixed_decay=True))  # fmt: skip
row("lionw", {"lr": 1e-3, "weight_decay": 0.3}, decoupled(po.Lion, 1e-3, 0.3))
row("demon-lion", {"lr": 1e-3, "total_steps": T}, demon(po.Lion, 0.9, T, lr=1e-3))
row("demon-lionw", {"lr": 1e-3, "betas": (0.95, 0.98), "weight_decay": 0.2, "total_steps": T}, demon(po.Lion, 0.95, T, decay=(1e-3, 0.2), lr=1e-3, betas=(0.95, 0.98)))  # fmt: skip
row("lookahead-lion", {"lr": 1e-3, "k": 3, "alpha": 0.6}, lookahead(po_ref(po.Lion, lr=1e-3), k=3, alpha=0.6))  # fmt: skip

# -- AdaBelief ------------------------------------------------------------------------------
row("adabelief", {}, po_ref(po.AdaBelief))
row("adabelief", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-8}, po_ref(po.AdaBelief, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-8))  # fmt: skip
row("adabelief", {"weight_decay": 0.1, "weight_decouple": False}, po_ref(po.AdaBelief, weight_decay=0.1, weight_decouple=False))  # fmt: skip
row("adabelief", {"weight_decay": 0.05, "fixed_decay": True, "ams_bound": True}, po_ref(po.AdaBelief, weight_decay=0.05, fixed_decay=True, ams_bound=True))  # fmt: skip
row("adabelief", {"rectify": True}, po_ref(po.AdaBelief, rectify=True))
row("adabelief", {"lr": 0.01, "rectify": True, "degenerated_to_sgd": False}, po_ref(po.AdaBelief, lr=0.01, rectify=True, degenerated_to_sgd=False))  # fmt: skip
row("adabelief", {"rectify": True, "ams_bound": True, "n_sma_threshold": 8, "betas": (0.5, 0.99)}, po_ref(po.AdaBelief, rectify=True, ams_bound=True, n_sma_threshold=8, betas=(0.5, 0.99)))  # fmt: skip
row("adabeliefw", {"lr": 0.01, "weight_decay": 0.1}, decoupled(po.AdaBelief, 0.01, 0.1))
row("lookahead-adabelief", {"lr": 0.01}, lookahead(po_ref(po.AdaBelief, lr=0.01)))

# -- Adan -------------------------------------------------------------------------------------
row("adan", {}, po_ref(po.Adan))
row("adan", {"lr": 0.01, "betas": (0.9, 0.9, 0.95), "weight_decay": 0.1, "eps": 1e-6}, po_ref(po.Adan, lr=0.01, betas=(0.9, 0.9, 0.95), weight_decay=0.1, eps=1e-6))  # fmt: skip
row("adan", {"lr": 0.01, "weight_decay": 0.1, "weight_decouple": True}, po_ref(po.Adan, lr=0.01, weight_decay=0.1, weight_decouple=True))  # fmt: skip
row("adan", {"lr": 0.01, "max_grad_norm": 1.0}, po_ref(po.Adan, lr=0.01, max_grad_norm=1.0))
row("adan", {"lr": 0.01, "max_grad_norm": 1e3, "betas": (0.3, 0.6, 0.9)}, po_ref(po.Adan, lr=0.01, max_grad_norm=1e3, betas=(0.3, 0.6, 0.9)))  # fmt: skip
row("adanw", {"lr": 0.01, "weight_decay": 0.2}, po_ref(po.Adan, lr=0.01, weight_decay=0.2, weight_decouple=True))  # fmt: skip
row("lookahead-adan", {"lr": 0.01, "weight_decay": 0.1}, lookahead(po_ref(po.Adan, lr=0.01, weight_decay=0.1)))  # fmt: skip

# -- ADOPT ------------------------------------------------------------------------------------
row("adopt", {}, po_ref(po.ADOPT))
row("adopt", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-4}, po_ref(po.ADOPT, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-4))  # fmt: skip
row("adopt", {"lr": 0.01, "weight_decay": 0.1, "weight_decouple": True}, po_ref(po.ADOPT, lr=0.01, weight_decay=0.1, weight_decouple=True))  # fmt: skip
row("adopt", {"lr": 0.01, "weight_decay": 0.01, "weight_decouple": True, "fixed_decay": True}, po_ref(po.ADOPT, lr=0.01, weight_decay=0.01, weight_decouple=True, fixed_decay=True))  # fmt: skip
row("adopt", {"lr": 0.01, "clip_exponent": None}, po_ref(po.ADOPT, lr=0.01, clip_lambda=None))
row("adopt", {"lr": 0.01, "clip_exponent": 0.1, "betas": (0.3, 0.9)}, po_ref(po.ADOPT, lr=0.01, clip_lambda=lambda step: math.pow(step, 0.1), betas=(0.3, 0.9)))  # fmt: skip
row("adoptw", {"lr": 0.01, "weight_decay": 0.1}, po_ref(po.ADOPT, lr=0.01, weight_decay=0.1, weight_decouple=True))  # fmt: skip
row("demon-adopt", {"lr": 0.01, "total_steps": T}, demon(po.ADOPT, 0.9, T, lr=0.01))
row("lookahead-demon-adoptw", {"lr": 0.01, "weight_decay": 0.1, "total_steps": T, "k": 4}, lookahead(demon(po.ADOPT, 0.9, T, decay=(0.01, 0.1), lr=0.01), k=4))  # fmt: skip

# -- Lamb -------------------------------------------------------------------------------------
row("lamb", {}, po_ref(po.Lamb))
row("lamb", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-4}, po_ref(po.Lamb, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-4))  # fmt: skip
row("lamb", {"lr": 0.01, "weight_decay": 0.1, "weight_decouple": False}, po_ref(po.Lamb, lr=0.01, weight_decay=0.1, weight_decouple=False))  # fmt: skip
row("lamb", {"lr": 0.01, "weight_decay": 0.05, "fixed_decay": True}, po_ref(po.Lamb, lr=0.01, weight_decay=0.05, fixed_decay=True))  # fmt: skip
row("lamb", {"lr": 0.01, "grad_averaging": False, "adam": True}, po_ref(po.Lamb, lr=0.01, grad_averaging=False, adam=True))  # fmt: skip
row("lamb", {"lr": 0.01, "rectify": True}, po_ref(po.Lamb, lr=0.01, rectify=True))
row("lamb", {"lr": 0.01, "rectify": True, "degenerated_to_sgd": True, "n_sma_threshold": 6, "weight_decay": 0.1}, po_ref(po.Lamb, lr=0.01, rectify=True, degenerated_to_sgd=True, n_sma_threshold=6, weight_decay=0.1))  # fmt: skip
row("lamb", {"lr": 0.01, "rectify": True, "weight_decay": 0.1, "weight_decouple": False}, po_ref(po.Lamb, lr=0.01, rectify=True, weight_decay=0.1, weight_decouple=False))  # fmt: skip
row("lamb", {"lr": 0.01, "pre_norm": True}, po_ref(po.Lamb, lr=0.01, pre_norm=True))
row("lamb", {"lr": 0.01, "pre_norm": True, "max_grad_norm": 0.0}, po_ref(po.Lamb, lr=0.01, pre_norm=True, max_grad_norm=0.0))  # fmt: skip
row("lamb", {"lr": 0.01, "pre_norm": True, "max_grad_norm": 5.0, "eps": 1e-3}, po_ref(po.Lamb, lr=0.01, pre_norm=True, max_grad_norm=5.0, eps=1e-3))  # fmt: skip
row("lambw", {"lr": 0.01, "weight_decay": 0.1}, po_ref(po.Lamb, lr=0.01, weight_decay=0.1))
row("lookahead-lamb", {"lr": 0.01, "k": 3}, lookahead(po_ref(po.Lamb, lr=0.01), k=3))

# -- Yogi -------------------------------------------------------------------------------------
row("yogi", {}, po_ref(po.Yogi))
row("yogi", {"lr": 0.05, "betas": (0.8, 0.99), "initial_accumulator": 1e-3, "weight_decay": 0.1, "eps": 1e-4}, po_ref(po.Yogi, lr=0.05, betas=(0.8, 0.99), initial_accumulator=1e-3, weight_decay=0.1, eps=1e-4))  # fmt: skip
row("yogi", {"weight_decay": 0.1, "weight_decouple": False}, po_ref(po.Yogi, weight_decay=0.1, weight_decouple=False))  # fmt: skip
row("yogi", {"weight_decay": 0.01, "fixed_decay": True, "betas": (0.3, 0.9)}, po_ref(po.Yogi, weight_decay=0.01, fixed_decay=True, betas=(0.3, 0.9)))  # fmt: skip
row("yogiw", {"weight_decay": 0.1}, po_ref(po.Yogi, weight_decay=0.1))
row("lookahead-yogi", {"k": 6, "alpha": 0.3}, lookahead(po_ref(po.Yogi), k=6, alpha=0.3))

# -- AdEMAMix ---------------------------------------------------------------------------------
row("ademamix", {}, po_ref(po.AdEMAMix))
row("ademamix", {"lr": 0.01, "betas": (0.8, 0.99, 0.999), "weight_decay": 0.1, "alpha": 2.0, "t_alpha_beta3": 100}, po_ref(po.AdEMAMix, lr=0.01, betas=(0.8, 0.99, 0.999), weight_decay=0.1, alpha=2.0, t_alpha_beta3=100))  # fmt: skip
row("ademamix", {"weight_decay": 0.1, "weight_decouple": True}, po_ref(po.AdEMAMix, weight_decay=0.1, weight_decouple=True))  # fmt: skip
row("ademamix", {"weight_decay": 0.01, "weight_decouple": True, "fixed_decay": True, "eps": 1e-6}, po_ref(po.AdEMAMix, weight_decay=0.01, weight_decouple=True, fixed_decay=True, eps=1e-6))  # fmt: skip
row("ademamix", {"lr": 0.01, "betas": (0.3, 0.9, 0.99), "t_alpha_beta3": 500, "alpha": 8.0}, po_ref(po.AdEMAMix, lr=0.01, betas=(0.3, 0.9, 0.99), t_alpha_beta3=500, alpha=8.0))  # fmt: skip
row("ademamixw", {"lr": 0.01, "weight_decay": 0.1}, decoupled(po.AdEMAMix, 0.01, 0.1))

# -- schedule-free ----------------------------------------------------------------------------
row("schedulefree-sgd", {}, po_ref(po.ScheduleFreeSGD))
row("schedulefree-sgd", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "r": 1.0, "weight_lr_power": 1.0, "warmup_steps": 20}, po_ref(po.ScheduleFreeSGD, lr=0.05, momentum=0.8, weight_decay=0.1, r=1.0, weight_lr_power=1.0, warmup_steps=20))  # fmt: skip
row("schedulefree-sgd", {"lr": 0.1, "momentum": 0.3, "r": 0.5, "weight_lr_power": 0.0, "warmup_steps": 300}, po_ref(po.ScheduleFreeSGD, lr=0.1, momentum=0.3, r=0.5, weight_lr_power=0.0, warmup_steps=300))  # fmt: skip
row("schedulefree-adamw", {}, po_ref(po.ScheduleFreeAdamW))
row("schedulefree-adamw", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "r": 0.5, "weight_lr_power": 3.0, "warmup_steps": 25, "eps": 1e-6}, po_ref(po.ScheduleFreeAdamW, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, r=0.5, weight_lr_power=3.0, warmup_steps=25, eps=1e-6))  # fmt: skip
row("schedulefree-adamw", {"ams_bound": True, "decoupling_c": 5.0}, po_ref(po.ScheduleFreeAdamW, ams_bound=True, decoupling_c=5.0))  # fmt: skip
row("schedulefree-adamw", {"lr": 0.01, "betas": (0.4, 0.9)}, po_ref(po.ScheduleFreeAdamW, lr=0.01, betas=(0.4, 0.9)))  # fmt: skip

# -- Muon (ndim >= 2: Muon; the rest: its AdamW) ----------------------------------------------
row("muon", {}, muon_ref())
row("muon", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1, "nesterov": False, "ns_steps": 3, "use_adjusted_lr": True}, muon_ref(lr=0.01, momentum=0.9, weight_decay=0.1, nesterov=False, ns_steps=3, use_adjusted_lr=True))  # fmt: skip
row("muon", {"weight_decay": 0.1, "weight_decouple": False, "ns_coeffs": "quintic", "adamw_wd": 0.1}, muon_ref(weight_decay=0.1, weight_decouple=False, ns_coeffs="quintic", adamw_wd=0.1))  # fmt: skip
row("muon", {"ns_coeffs": "polar_express", "ns_steps": 8}, muon_ref(ns_coeffs="polar_express", ns_steps=8))  # fmt: skip
row("muon", {"ns_coeffs": "polar_express_safer", "ns_steps": 6, "momentum": 0.3}, muon_ref(ns_coeffs="polar_express_safer", ns_steps=6, momentum=0.3))  # fmt: skip
row("muon", {"ns_coeffs": (3.0, -3.2, 1.2), "ns_steps": 4}, muon_ref(ns_coeffs=(3.0, -3.2, 1.2), ns_steps=4))  # fmt: skip
row("muon", {"ns_coeffs": [(4.0848, -6.8946, 2.927), (3.4445, -4.775, 2.0315)]}, muon_ref(ns_coeffs=[(4.0848, -6.8946, 2.927), (3.4445, -4.775, 2.0315)]))  # fmt: skip
row("muon", {"adamw_lr": 0.01, "adamw_betas": (0.8, 0.99), "adamw_wd": 0.1, "adamw_eps": 1e-8, "weight_decay": 0.05}, muon_ref(adamw_lr=0.01, adamw_betas=(0.8, 0.99), adamw_wd=0.1, adamw_eps=1e-8, weight_decay=0.05))  # fmt: skip
row("muon", {"adamw_betas": (0.3, 0.4), "adamw_lr": 0.01}, muon_ref(adamw_betas=(0.3, 0.4), adamw_lr=0.01))  # fmt: skip
row("muonw", {"weight_decay": 0.1}, lambda params: (po.Muon(muon_groups(params)), decoupled_decay_hook(2e-2, 0.1)))  # fmt: skip
row("lookahead-muon", {"lr": 0.01, "k": 4, "alpha": 0.7}, lookahead(muon_ref(lr=0.01), k=4, alpha=0.7))  # fmt: skip

# -- Signum and signSGD -----------------------------------------------------------------------
row("signum", {}, po_ref(po.SignSGD))
row("signum", {"lr": 1e-2, "momentum": 0.5, "weight_decay": 0.1}, po_ref(po.SignSGD, lr=1e-2, momentum=0.5, weight_decay=0.1))  # fmt: skip
row("signum", {"lr": 1e-2, "momentum": 0.99, "weight_decay": 0.1, "weight_decouple": False}, po_ref(po.SignSGD, lr=1e-2, momentum=0.99, weight_decay=0.1, weight_decouple=False))  # fmt: skip
row("signsgd", {}, po_ref(po.SignSGD, momentum=0.0))
row("signsgd", {"lr": 1e-2, "weight_decay": 0.05}, po_ref(po.SignSGD, lr=1e-2, momentum=0.0, weight_decay=0.05))  # fmt: skip
row("signsgd", {"lr": 1e-2, "weight_decay": 0.05, "weight_decouple": False}, po_ref(po.SignSGD, lr=1e-2, momentum=0.0, weight_decay=0.05, weight_decouple=False))  # fmt: skip
row("signumw", {"lr": 1e-2, "weight_decay": 0.2}, decoupled(po.SignSGD, 1e-2, 0.2))
row("demon-signum", {"lr": 1e-2, "total_steps": T}, lambda params: (po.SignSGD(params, lr=1e-2), demon_hook(0.9, T, "momentum")))  # fmt: skip
row("lookahead-signsgd", {"lr": 1e-2, "k": 3}, lookahead(po_ref(po.SignSGD, lr=1e-2, momentum=0.0), k=3))  # fmt: skip

# -- the cautious mask ------------------------------------------------------------------------
register_heavy_ball()
row("cautious-lion", {}, po_ref(po.Lion, cautious=True))
row("cautious-lion", {"lr": 1e-3, "betas": (0.8, 0.95), "weight_decay": 0.1}, po_ref(po.Lion, lr=1e-3, betas=(0.8, 0.95), weight_decay=0.1, cautious=True))  # fmt: skip
# pytorch_optimizer's AdEMAMix masks its fast average only, not the whole step: a variant,
# not compared. ADOPT masks with the normalised gradient, of the same sign.
row("cautious-adopt", {"lr": 0.01}, po_ref(po.ADOPT, lr=0.01, cautious=True))
row("cautious-adamw", {}, lambda params: (CautiousAdamW(params), None))
row("cautious-adamw", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-6}, lambda params: (CautiousAdamW(params, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-6), None))  # fmt: skip
row("cautious-db-heavyball", {"lr": 0.05, "momentum": 0.9}, lambda params: (CautiousHeavyBall(params, lr=0.05, momentum=0.9), None))  # fmt: skip
row("lookahead-cautious-lion", {"lr": 1e-3, "k": 3}, lookahead(po_ref(po.Lion, lr=1e-3, cautious=True), k=3))  # fmt: skip

# -- LaProp: its per-parameter path (foreach=False); the batched path rounds the step sizes
# -- to float32 (torch.tensor(step_sizes, dtype=torch.float32)), a part patched to float64
row("laprop", {}, po_ref(po.LaProp, foreach=False))
row("laprop", {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-8}, po_ref(po.LaProp, lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-8, foreach=False))  # fmt: skip
row("laprop", {"lr": 1e-2, "weight_decay": 0.05, "fixed_decay": True}, po_ref(po.LaProp, lr=1e-2, weight_decay=0.05, fixed_decay=True, foreach=False))  # fmt: skip
row("laprop", {"lr": 1e-2, "centered": True, "steps_before_using_centered": 5}, po_ref(po.LaProp, lr=1e-2, centered=True, steps_before_using_centered=5, foreach=False))  # fmt: skip
row("laprop", {"lr": 1e-2, "ams_bound": True, "betas": (0.5, 0.9)}, po_ref(po.LaProp, lr=1e-2, ams_bound=True, betas=(0.5, 0.9), foreach=False))  # fmt: skip
row("laprop", {"lr": 1e-2, "centered": True, "ams_bound": True}, po_ref(po.LaProp, lr=1e-2, centered=True, ams_bound=True, foreach=False))  # fmt: skip
row("lapropw", {"lr": 1e-2, "weight_decay": 0.1}, decoupled(po.LaProp, 1e-2, 0.1, foreach=False))  # fmt: skip
row("demon-laprop", {"lr": 1e-2, "total_steps": T}, demon(po.LaProp, 0.9, T, lr=1e-2, foreach=False))  # fmt: skip
row("cautious-laprop", {"lr": 1e-2}, lambda params: (CautiousLaProp(params, lr=1e-2, foreach=False), None))  # fmt: skip
row("cautious-laprop", {"lr": 1e-2, "weight_decay": 0.1, "betas": (0.8, 0.99)}, lambda params: (CautiousLaProp(params, lr=1e-2, weight_decay=0.1, betas=(0.8, 0.99), foreach=False), None))  # fmt: skip

# -- Adafactor: torch.optim.Adafactor (its single-tensor path, the CPU default) ---------------
row("adafactor", {}, lambda params: (torch.optim.Adafactor(params), None))
row("adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-30, 1e-3), "d": 2.0, "weight_decay": 0.1}, lambda params: (torch.optim.Adafactor(params, lr=0.05, beta2_decay=-0.5, eps=(1e-30, 1e-3), d=2.0, weight_decay=0.1), None))  # fmt: skip
row("adafactor", {"lr": 0.5, "eps": (None, 1e-2)}, lambda params: (torch.optim.Adafactor(params, lr=0.5, eps=(None, 1e-2)), None))  # fmt: skip
row("adafactorw", {"weight_decay": 0.1}, lambda params: (torch.optim.Adafactor(params), decoupled_decay_hook(1e-2, 0.1)))  # fmt: skip
row("cautious-adafactor", {"lr": 0.05}, lambda params: (CautiousAdafactor(params, lr=0.05), None))  # fmt: skip
row("lookahead-adafactor", {"k": 3}, lookahead(lambda params: (torch.optim.Adafactor(params), None), k=3))  # fmt: skip
