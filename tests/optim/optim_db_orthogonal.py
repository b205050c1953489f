"""The conformance table of SCION, NorMuon and AdaMuon: pytorch_optimizer 4.1 as the reference.

Same pattern as ``optim_db_modern``: one row per (name, hyperparameters), with
a ``reference(torch_params)`` built with the *same* settings. The reference
takes parameter groups where optimlab routes by ``ndim``, so the rows build
them by the rule optimlab documents, written out here:

* NorMuon and AdaMuon: ``use_muon`` for ``ndim >= 2``, its AdamW for the rest
  (``muon_groups`` of ``optim_db_modern``).
* SCION: with ``norm_type="auto"`` one group; with another norm, a group of the
  parameters that norm is defined for (:data:`DEFINED`) and an ``LMONorm.AUTO``
  group of the others.

``test_reference_orthogonal`` runs every row on the harness's shapes and on a
set with a convolution kernel (:data:`CONV_SHAPES`), with the Newton-Schulz
iteration of the reference patched to float64 (bfloat16 there).
"""

from __future__ import annotations

from typing import Any

import pytorch_optimizer as po
from optim_db import Row, lookahead
from optim_db_modern import muon_groups
from pytorch_optimizer.optimizer.scion import LMONorm
from reference_harness import Reference, both, decoupled_decay_hook

ROWS: list[Row] = []
#: A convolution kernel (out, in, kh, kw), a matrix and a vector.
CONV_SHAPES = [(4, 3, 3, 3), (5, 4), (7,)]
T = 150  # Demon horizon, shorter than the run


def row(name: str, kwargs: dict, reference: Reference) -> None:
    ROWS.append(Row(name, kwargs, reference))


# -- SCION ----------------------------------------------------------------------------------
LMO = {"auto": LMONorm.AUTO, "spectral": LMONorm.SPECTRAL, "spectral_conv": LMONorm.SPECTRALCONV,
       "sign": LMONorm.SIGN, "bias": LMONorm.BIAS, "col": LMONorm.COL, "row": LMONorm.ROW,
       "none": LMONorm.NONE}  # fmt: skip
ANY = {0, 1, 2, 3, 4}
#: The numbers of dimensions each norm takes (the others keep "auto"'s norm).
DEFINED = {"spectral": {2}, "spectral_conv": {2, 3, 4}, "sign": {2, 3, 4}, "col": {2},
           "row": {2, 3, 4}, "bias": ANY, "none": ANY}  # fmt: skip


def scion_groups(params: list, norm_type: str = "auto", norm_kwargs: dict | None = None) -> list:
    if norm_type == "auto":
        return [{"params": params}]
    own = [p for p in params if p.ndim in DEFINED[norm_type]]
    rest = [p for p in params if p.ndim not in DEFINED[norm_type]]
    groups = [{"params": own, "norm_type": LMO[norm_type], "norm_kwargs": dict(norm_kwargs or {})}]
    if rest:
        groups.append({"params": rest, "norm_type": LMONorm.AUTO, "norm_kwargs": {}})
    return [g for g in groups if g["params"]]


def scion_ref(norm_type: str = "auto", norm_kwargs: dict | None = None, **kwargs: Any) -> Reference:
    return lambda params: (po.SCION(scion_groups(params, norm_type, norm_kwargs), **kwargs), None)


def scion_row(kwargs: dict, **extra: Any) -> None:
    """A ``scion`` row whose reference takes the same keywords (norm_type as LMONorm groups)."""
    kw = {**kwargs, **extra}
    norm = {k: kw.pop(k) for k in ("norm_type", "norm_kwargs") if k in kw}
    row("scion", kwargs, scion_ref(**norm, **kw))


scion_row({})
scion_row({"lr": 0.01, "momentum": 0.5, "scale": 2.0})
scion_row({"lr": 0.01, "momentum": 1.0})
scion_row({"lr": 0.01, "weight_decay": 0.1})
scion_row({"lr": 0.01, "weight_decay": 0.1, "weight_decouple": False})
scion_row({"lr": 0.01, "constraint": True, "scale": 3.0})
scion_row({"lr": 0.01, "constraint": True, "weight_decay": 0.5})  # the decay is off
scion_row({"norm_type": "spectral"})
scion_row({"norm_type": "spectral", "norm_kwargs": {"normalize": False, "num_steps": 3}})
scion_row({"norm_type": "spectral", "norm_kwargs": {"max_scale": True}, "lr": 0.01})
scion_row({"norm_type": "spectral_conv", "norm_kwargs": {"num_steps": 4}, "lr": 0.01})
scion_row({"norm_type": "sign", "lr": 0.01})
scion_row({"norm_type": "sign", "norm_kwargs": {"normalize": False}})
scion_row({"norm_type": "bias", "lr": 0.01, "momentum": 0.3})
scion_row({"norm_type": "col", "lr": 0.01})
scion_row({"norm_type": "col", "norm_kwargs": {"normalized": True, "transpose": True}})
scion_row({"norm_type": "row", "lr": 0.01})
scion_row({"norm_type": "row", "norm_kwargs": {"normalized": False, "transpose": True}})
scion_row({"norm_type": "none", "lr": 0.01, "scale": 0.5})
row("scion", {"lr": 0.01, "momentum": 0.2}, scion_ref(lr=0.01, momentum=0.2, foreach=False))
row("scionw", {"lr": 0.01, "weight_decay": 0.1}, lambda params: (po.SCION(scion_groups(params), lr=0.01), decoupled_decay_hook(0.01, 0.1)))  # fmt: skip
row("lookahead-scion", {"lr": 0.01, "k": 3, "alpha": 0.6}, lookahead(scion_ref(lr=0.01), k=3, alpha=0.6))  # fmt: skip


# -- NorMuon and AdaMuon: use_muon groups by ndim -----------------------------------------------
def muon_family_ref(cls: type, **kwargs: Any) -> Reference:
    return lambda params: (cls(muon_groups(params), **kwargs), None)


def muon_demon_hook(beta0: float, total: int, key: str):
    """Demon's beta_t into the ``use_muon`` groups only (``betas`` of the AdamW groups are
    ``adamw_betas``, which demon-adamuon leaves alone)."""
    from optimlab import optim

    schedule = optim.schedules.demon(beta0, total)

    def hook(ref: Any, t: int) -> None:
        for group in ref.param_groups:
            if group["use_muon"]:
                beta = schedule(t)
                group[key] = (beta, *group[key][1:]) if key == "betas" else beta

    return hook


def muon_demon(cls: type, beta0: float, key: str, *, decay: tuple | None = None,
               **kwargs: Any) -> Reference:  # fmt: skip
    def make(params: list) -> tuple:
        hooks = [muon_demon_hook(beta0, T, key)]
        if decay is not None:
            hooks.insert(0, decoupled_decay_hook(*decay))
        return cls(muon_groups(params), **kwargs), both(*hooks)

    return make


def family_row(name: str, cls: type, kwargs: dict, **extra: Any) -> None:
    row(name, kwargs, muon_family_ref(cls, **kwargs, **extra))


N, A = po.NorMuon, po.AdaMuon
family_row("normuon", N, {})
family_row("normuon", N, {}, foreach=False)  # the reference's per-parameter path
family_row("normuon", N, {"lr": 0.01, "momentum": 0.9, "beta2": 0.8, "weight_decay": 0.1, "nesterov": False, "ns_steps": 3, "use_adjusted_lr": True})  # fmt: skip
family_row("normuon", N, {"lr": 0.01, "update_scale": "match_rms", "eps": 1e-6})
family_row("normuon", N, {"lr": 0.01, "update_scale": "match_rms", "use_adjusted_lr": True}, foreach=False)  # fmt: skip
family_row("normuon", N, {"weight_decay": 0.1, "weight_decouple": False, "ns_coeffs": "polar_express", "ns_steps": 8, "adamw_wd": 0.1})  # fmt: skip
family_row("normuon", N, {"ns_coeffs": "quintic", "momentum": 0.3, "beta2": 0.99})
family_row("normuon", N, {"ns_coeffs": (3.0, -3.2, 1.2), "ns_steps": 4, "nesterov": False}, foreach=False)  # fmt: skip
family_row("normuon", N, {"adamw_lr": 0.01, "adamw_betas": (0.8, 0.99), "adamw_wd": 0.1, "adamw_eps": 1e-8, "weight_decay": 0.05})  # fmt: skip
row("normuonw", {"weight_decay": 0.1}, lambda params: (N(muon_groups(params)), decoupled_decay_hook(2e-2, 0.1)))  # fmt: skip
row("demon-normuon", {"total_steps": T}, muon_demon(N, 0.95, "momentum"))
row("demon-normuonw", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.2, "total_steps": T}, muon_demon(N, 0.9, "momentum", decay=(0.01, 0.2), lr=0.01, momentum=0.9))  # fmt: skip
row("lookahead-normuon", {"lr": 0.01, "k": 4, "alpha": 0.7}, lookahead(muon_family_ref(N, lr=0.01), k=4, alpha=0.7))  # fmt: skip

family_row("adamuon", A, {})
family_row("adamuon", A, {}, foreach=True)  # the reference's batched path
family_row("adamuon", A, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "ns_steps": 3, "use_adjusted_lr": False})  # fmt: skip
family_row("adamuon", A, {"weight_decay": 0.1, "weight_decouple": False, "adamw_wd": 0.1, "ns_coeffs": "polar_express_safer", "ns_steps": 6})  # fmt: skip
family_row("adamuon", A, {"adamw_lr": 0.01, "adamw_betas": (0.8, 0.99), "eps": 1e-6, "betas": (0.5, 0.9)})  # fmt: skip
family_row("adamuon", A, {"ns_coeffs": [(4.0848, -6.8946, 2.927), (3.4445, -4.775, 2.0315)], "lr": 0.005})  # fmt: skip
row("adamuonw", {"weight_decay": 0.1}, lambda params: (A(muon_groups(params)), decoupled_decay_hook(2e-2, 0.1)))  # fmt: skip
row("demon-adamuon", {"total_steps": T}, muon_demon(A, 0.9, "betas"))
row("demon-adamuonw", {"lr": 0.01, "betas": (0.95, 0.99), "weight_decay": 0.2, "total_steps": T}, muon_demon(A, 0.95, "betas", decay=(0.01, 0.2), lr=0.01, betas=(0.95, 0.99)))  # fmt: skip
row("lookahead-adamuon", {"lr": 0.01, "k": 3}, lookahead(muon_family_ref(A, lr=0.01), k=3))

#: AdaMuon's sign-stabilised form (the paper's v2/v3), against the reference with
#: sign() put before its Newton-Schulz iteration (test_reference_orthogonal).
SIGN_STABILIZED = [
    Row("adamuon", {"sign_stabilized": True}, muon_family_ref(A)),
    Row(
        "adamuon",
        {"sign_stabilized": True, "lr": 0.01, "betas": (0.8, 0.99), "use_adjusted_lr": False},
        muon_family_ref(A, lr=0.01, betas=(0.8, 0.99), use_adjusted_lr=False),
    ),
]
