r"""The conformance table of the learning-rate-free optimizers: pytorch_optimizer 4.1.

Same pattern as ``optim_db_modern``: one row per (name, hyperparameters), with a
``reference(torch_params)`` built with the *same* settings; rows cover the defaults and
non-default values of every hyperparameter optimlab offers, both code paths of the
reference (its batched ``foreach`` path and its per-parameter one), ``<name>w``,
``demon-``, ``lookahead-``. No ``cautious-`` rows: neither ``Prodigy`` nor
``DAdaptAdam`` has a cautious switch in 4.1 (both swallow unknown keywords, so
``cautious=True`` would be silently ignored); ``test_conformance`` runs the names.

Two rows are not the reference as it stands, and say why:

* Prodigy's coupled decay (``weight_decouple=False``): 4.1 adds :math:`\lambda x` to
  the gradient after the step has used it (no effect); optimlab adds it before, as the
  authors' code does. The reference row is the reference *without* decay fed
  :math:`g + \lambda x` (a hook), which is what coupled decay means.
* ``demon-prodigy`` with ``bias_correction``: optimlab corrects by the running weight
  :math:`1 - \prod_s \beta_{1,s}` (exact when Demon changes :math:`\beta_1`); the
  reference row is 4.1's Prodigy with that product in place of :math:`1 - \beta_1^t`
  (:class:`ProdigyRunningDebias`).
"""

from __future__ import annotations

from typing import Any

import pytorch_optimizer as po
import torch
from optim_db import Row, lookahead
from optim_db_modern import decoupled, demon
from reference_harness import Hook, Reference

ROWS: list[Row] = []


def row(name: str, kwargs: dict, reference: Reference) -> None:
    ROWS.append(Row(name, kwargs, reference))


def po_ref(cls: type, **kwargs: Any) -> Reference:
    return lambda params: (cls(params, **kwargs), None)


def coupled_decay_hook(weight_decay: float) -> Hook:
    """``g <- g + weight_decay * p`` on the reference's gradients, before each step."""

    def hook(ref: Any, t: int) -> None:
        with torch.no_grad():
            for group in ref.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.add_(p, alpha=weight_decay)

    return hook


def coupled(cls: type, weight_decay: float, **kwargs: Any) -> Reference:
    """The reference without decay, fed the gradient of the loss plus ``weight_decay/2 |x|^2``."""
    return lambda params: (cls(params, **kwargs), coupled_decay_hook(weight_decay))


class ProdigyRunningDebias(po.Prodigy):
    """4.1's Prodigy with the first bias correction ``1 - prod_s beta1_s`` (the running
    weight; ``1 - beta1^t`` for a constant beta1). ``Prodigy.step`` asks ``debias`` for
    beta1 first, then for beta2; only the first answer is replaced."""

    def step(self, closure=None):
        self._product = getattr(self, "_product", 1.0) * self.param_groups[0]["betas"][0]
        self._asked = 0
        return super().step(closure)

    def debias(self, beta: float, step: int) -> float:
        self._asked += 1
        return 1.0 - self._product if self._asked == 1 else super().debias(beta, step)


T = 150  # Demon horizon, shorter than the run

# -- Prodigy (4.1's per-parameter path is its CPU default; foreach=True the batched one) ------
P = po.Prodigy
row("prodigy", {}, po_ref(P))
row("prodigy", {}, po_ref(P, foreach=True))
row("prodigy", {"lr": 0.5, "betas": (0.8, 0.99), "beta3": 0.9, "d0": 1e-4, "d_coef": 2.0, "eps": 1e-6}, po_ref(P, lr=0.5, betas=(0.8, 0.99), beta3=0.9, d0=1e-4, d_coef=2.0, eps=1e-6))  # fmt: skip
row("prodigy", {"growth_rate": 1.02, "d0": 1e-3, "d_coef": 0.5}, po_ref(P, growth_rate=1.02, d0=1e-3, d_coef=0.5))  # fmt: skip
row("prodigy", {"weight_decay": 0.1}, po_ref(P, weight_decay=0.1))
row("prodigy", {"weight_decay": 0.1}, po_ref(P, weight_decay=0.1, foreach=True))
row("prodigy", {"weight_decay": 0.01, "fixed_decay": True}, po_ref(P, weight_decay=0.01, fixed_decay=True))  # fmt: skip
row("prodigy", {"weight_decay": 0.1, "weight_decouple": False}, coupled(P, 0.1))
row("prodigy", {"bias_correction": True}, po_ref(P, bias_correction=True))
row("prodigy", {"bias_correction": True, "betas": (0.5, 0.9), "lr": 0.3}, po_ref(P, bias_correction=True, betas=(0.5, 0.9), lr=0.3))  # fmt: skip
row("prodigy", {"safeguard_warmup": True}, po_ref(P, safeguard_warmup=True))
row("prodigy", {"safeguard_warmup": True, "bias_correction": True, "growth_rate": 1.1}, po_ref(P, safeguard_warmup=True, bias_correction=True, growth_rate=1.1, foreach=True))  # fmt: skip
row("prodigy", {"eps": None}, po_ref(P, eps=None))
row("prodigy", {"eps": None, "weight_decay": 0.1}, po_ref(P, eps=None, weight_decay=0.1, foreach=True))  # fmt: skip
row("prodigyw", {"lr": 0.5, "weight_decay": 0.05}, decoupled(P, 0.5, 0.05))
row("demon-prodigy", {"total_steps": T}, demon(P, 0.9, T))
row("demon-prodigy", {"total_steps": T, "bias_correction": True}, demon(ProdigyRunningDebias, 0.9, T, bias_correction=True))  # fmt: skip
row("demon-prodigyw", {"lr": 0.5, "weight_decay": 0.05, "betas": (0.95, 0.99), "total_steps": T}, demon(P, 0.95, T, decay=(0.5, 0.05), lr=0.5, betas=(0.95, 0.99)))  # fmt: skip
row("lookahead-prodigy", {"k": 4, "alpha": 0.6}, lookahead(po_ref(P), k=4, alpha=0.6))
row("lookahead-demon-prodigy", {"weight_decay": 0.1, "total_steps": T}, lookahead(demon(P, 0.9, T, weight_decay=0.1)))  # fmt: skip

# -- D-Adaptation Adam (4.1's batched path is its CPU default; foreach=False the other) -------
D = po.DAdaptAdam
row("dadapt-adam", {}, po_ref(D))
row("dadapt-adam", {}, po_ref(D, foreach=False))
row("dadapt-adam", {"lr": 0.5, "betas": (0.8, 0.99), "d0": 1e-4, "eps": 1e-6}, po_ref(D, lr=0.5, betas=(0.8, 0.99), d0=1e-4, eps=1e-6))  # fmt: skip
row("dadapt-adam", {"growth_rate": 1.05, "d0": 1e-3}, po_ref(D, growth_rate=1.05, d0=1e-3, foreach=False))  # fmt: skip
row("dadapt-adam", {"weight_decay": 0.1}, po_ref(D, weight_decay=0.1))
row("dadapt-adam", {"weight_decay": 0.1}, po_ref(D, weight_decay=0.1, foreach=False))
row("dadapt-adam", {"weight_decay": 0.1, "weight_decouple": True}, po_ref(D, weight_decay=0.1, weight_decouple=True))  # fmt: skip
row("dadapt-adam", {"weight_decay": 0.1, "weight_decouple": True}, po_ref(D, weight_decay=0.1, weight_decouple=True, foreach=False))  # fmt: skip
row("dadapt-adam", {"weight_decay": 0.01, "weight_decouple": True, "fixed_decay": True}, po_ref(D, weight_decay=0.01, weight_decouple=True, fixed_decay=True))  # fmt: skip
row("dadapt-adam", {"bias_correction": True}, po_ref(D, bias_correction=True))
row("dadapt-adam", {"bias_correction": True, "betas": (0.5, 0.9), "lr": 2.0}, po_ref(D, bias_correction=True, betas=(0.5, 0.9), lr=2.0, foreach=False))  # fmt: skip
row("dadapt-adamw", {"lr": 0.5, "weight_decay": 0.05}, decoupled(D, 0.5, 0.05))
row("demon-dadapt-adam", {"total_steps": T}, demon(D, 0.9, T))
row("demon-dadapt-adam", {"total_steps": T, "bias_correction": True}, demon(D, 0.9, T, bias_correction=True))  # fmt: skip
row("demon-dadapt-adamw", {"lr": 0.5, "weight_decay": 0.05, "betas": (0.95, 0.99), "total_steps": T}, demon(D, 0.95, T, decay=(0.5, 0.05), lr=0.5, betas=(0.95, 0.99)))  # fmt: skip
row("lookahead-dadapt-adam", {"k": 3}, lookahead(po_ref(D), k=3))
row("lookahead-demon-dadapt-adamw", {"weight_decay": 0.1, "total_steps": T, "k": 4}, lookahead(demon(D, 0.9, T, decay=(1.0, 0.1)), k=4))  # fmt: skip
