"""The conformance table of Shampoo and SOAP: pytorch_optimizer 4.1 as the reference.

Same pattern as ``optim_db_modern``: one row per (name, hyperparameters) with a
``reference(torch_params)`` built with the same settings. ``ROWS`` run on the
harness's shapes and on :data:`CONV_SHAPES` (a 4-D convolution kernel);
``CONV_ROWS`` (SOAP's ``merge_dims``) on :data:`CONV_SHAPES` only, since on the
harness's shapes the reference either merges nothing, fails (a whole
parameter merged into one dimension), or starts a late parameter from a
rank-deficient statistic (see ``test_reference_shampoo``).

Shampoo's reference counts the steps of its recompute schedule
(``preconditioning_compute_steps``) per group, optimlab per parameter: the
reference is built with one group per parameter, and a hook takes back the
group's count on the steps its parameter has no gradient (:func:`own_counts`).
"""

from __future__ import annotations

from typing import Any

import pytorch_optimizer as po
from optim_db import Row, lookahead
from reference_harness import Hook, Reference, both, decoupled_decay_hook, demon_hook

ROWS: list[Row] = []
CONV_ROWS: list[Row] = []
#: A 4-D convolution kernel (out, in, kh, kw) with a matrix and a vector.
CONV_SHAPES = [(4, 3, 3, 3), (5, 4), (7,)]
#: For merge_dims: every merged dimension is at most as large as the product of the others.
MERGE_SHAPES = [(4, 3, 2, 5), (5, 4), (7,)]
T = 150  # Demon horizon, shorter than the run


def row(name: str, kwargs: dict, reference: Reference, table: list[Row] = ROWS) -> None:
    table.append(Row(name, kwargs, reference))


def own_counts(ref: Any, t: int) -> None:
    """A group whose parameter has no gradient keeps its step count (per-parameter counts)."""
    for group in ref.param_groups:
        if all(p.grad is None for p in group["params"]):
            group["step"] = group.get("step", 0) - 1


def shampoo(*, hook: Hook = None, **kwargs: Any) -> Reference:
    """``po.Shampoo`` with one group per parameter, counting each parameter's own steps."""

    def make(params: list) -> tuple:
        return po.Shampoo([{"params": [p]} for p in params], **kwargs), both(own_counts, hook)

    return make


def soap(*, hook: Hook = None, **kwargs: Any) -> Reference:
    return lambda params: (po.SOAP(params, **kwargs), hook)


# -- Shampoo ----------------------------------------------------------------------------------
row("shampoo", {}, shampoo())
row("shampoo", {"lr": 1e-2, "momentum": 0.9}, shampoo(lr=1e-2, momentum=0.9))
row("shampoo", {"lr": 1e-2, "momentum": 0.5, "weight_decay": 0.1}, shampoo(lr=1e-2, momentum=0.5, weight_decay=0.1))  # fmt: skip
row("shampoo", {"lr": 1e-2, "momentum": 0.3, "weight_decay": 0.1, "weight_decouple": True}, shampoo(lr=1e-2, momentum=0.3, weight_decay=0.1, weight_decouple=True))  # fmt: skip
row("shampoo", {"lr": 1e-2, "weight_decay": 0.05, "weight_decouple": True, "fixed_decay": True}, shampoo(lr=1e-2, weight_decay=0.05, weight_decouple=True, fixed_decay=True))  # fmt: skip
row("shampoo", {"lr": 1e-2, "matrix_eps": 1e-2}, shampoo(lr=1e-2, matrix_eps=1e-2))
# Recomputing the roots every k > 1 steps applies them to gradients with components
# along eigenvalues near matrix_eps; eps >= 1e-3 keeps that well conditioned (see
# test_reference_shampoo.test_shampoo_unstable_rows_agree_within_the_references_own_spread).
row("shampoo", {"lr": 1e-2, "preconditioning_compute_steps": 5, "matrix_eps": 1e-3}, shampoo(lr=1e-2, preconditioning_compute_steps=5, matrix_eps=1e-3))  # fmt: skip
row("shampoo", {"lr": 1e-2, "preconditioning_compute_steps": 3, "momentum": 0.5, "matrix_eps": 0.1}, shampoo(lr=1e-2, preconditioning_compute_steps=3, momentum=0.5, matrix_eps=0.1))  # fmt: skip
row("shampoow", {"lr": 1e-2, "weight_decay": 0.1}, shampoo(lr=1e-2, hook=decoupled_decay_hook(1e-2, 0.1)))  # fmt: skip
row("shampoow", {"lr": 1e-2, "weight_decay": 0.2, "momentum": 0.5}, shampoo(lr=1e-2, momentum=0.5, weight_decay=0.2, weight_decouple=True))  # fmt: skip
row("demon-shampoo", {"lr": 1e-2, "momentum": 0.9, "total_steps": T}, shampoo(lr=1e-2, momentum=0.9, hook=demon_hook(0.9, T, "momentum")))  # fmt: skip
row("demon-shampoow", {"lr": 1e-2, "momentum": 0.8, "weight_decay": 0.1, "total_steps": T}, shampoo(lr=1e-2, momentum=0.8, hook=both(decoupled_decay_hook(1e-2, 0.1), demon_hook(0.8, T, "momentum"))))  # fmt: skip
row("lookahead-shampoo", {"lr": 1e-2, "k": 3, "alpha": 0.6}, lookahead(shampoo(lr=1e-2), k=3, alpha=0.6))  # fmt: skip
row("lookahead-demon-shampoo", {"lr": 1e-2, "momentum": 0.9, "total_steps": T, "k": 4}, lookahead(shampoo(lr=1e-2, momentum=0.9, hook=demon_hook(0.9, T, "momentum")), k=4))  # fmt: skip

# -- SOAP -------------------------------------------------------------------------------------
row("soap", {}, soap())
row("soap", {"lr": 1e-2, "betas": (0.9, 0.99), "shampoo_beta": 0.9, "eps": 1e-6}, soap(lr=1e-2, betas=(0.9, 0.99), shampoo_beta=0.9, eps=1e-6))  # fmt: skip
row("soap", {"betas": (0.5, 0.9), "shampoo_beta": 0.99}, soap(betas=(0.5, 0.9), shampoo_beta=0.99))  # fmt: skip
row("soap", {"weight_decay": 0.0}, soap(weight_decay=0.0))
row("soap", {"lr": 1e-2, "weight_decay": 0.1}, soap(lr=1e-2, weight_decay=0.1))
row("soap", {"precondition_frequency": 3}, soap(precondition_frequency=3))
row("soap", {"lr": 1e-2, "precondition_frequency": 1}, soap(lr=1e-2, precondition_frequency=1))
row("soap", {"max_precondition_dim": 4}, soap(max_precondition_dim=4))
# precondition_1d: a vector's statistic has rank 1 at its first gradient; with
# precondition_frequency=7 a late vector (first gradient at group step 50) is not
# rotated by QR before its statistic has full rank (10 divides 50: it would be at once).
row("soap", {"precondition_1d": True, "precondition_frequency": 7}, soap(precondition_1d=True, precondition_frequency=7))  # fmt: skip
row("soap", {"precondition_1d": True, "max_precondition_dim": 6, "precondition_frequency": 7}, soap(precondition_1d=True, max_precondition_dim=6, precondition_frequency=7))  # fmt: skip
row("soap", {"correct_bias": False}, soap(correct_bias=False))
row("soap", {"normalize_gradient": True, "lr": 1e-2}, soap(normalize_gradient=True, lr=1e-2))
row("soap", {"data_format": "channels_last"}, soap(data_format="channels_last"))
row("soapw", {"lr": 1e-2, "weight_decay": 0.1}, soap(lr=1e-2, weight_decay=0.0, hook=decoupled_decay_hook(1e-2, 0.1)))  # fmt: skip
row("demon-soap", {"lr": 1e-2, "total_steps": T}, soap(lr=1e-2, hook=demon_hook(0.95, T, "betas")))  # fmt: skip
row("demon-soapw", {"lr": 1e-2, "betas": (0.9, 0.95), "weight_decay": 0.1, "total_steps": T}, soap(lr=1e-2, betas=(0.9, 0.95), weight_decay=0.0, hook=both(decoupled_decay_hook(1e-2, 0.1), demon_hook(0.9, T, "betas"))))  # fmt: skip
row("lookahead-soap", {"lr": 1e-2, "k": 3}, lookahead(soap(lr=1e-2), k=3))
row("lookahead-demon-soap", {"lr": 1e-2, "total_steps": T, "k": 4, "alpha": 0.7}, lookahead(soap(lr=1e-2, hook=demon_hook(0.95, T, "betas")), k=4, alpha=0.7))  # fmt: skip

# -- SOAP's merge_dims, on a 4-D kernel: (4, 3, 2, 5) -> (4, 6, 5); channels_last reads
# -- it as (out, kh, kw, in) and merges (4, 5, 3, 2) -> (4, 5, 6)
row("soap", {"merge_dims": True, "max_precondition_dim": 6}, soap(merge_dims=True, max_precondition_dim=6), CONV_ROWS)  # fmt: skip
row("soap", {"merge_dims": True, "max_precondition_dim": 6, "data_format": "channels_last"}, soap(merge_dims=True, max_precondition_dim=6, data_format="channels_last"), CONV_ROWS)  # fmt: skip
row("soap", {"merge_dims": True, "max_precondition_dim": 6, "precondition_frequency": 3, "lr": 1e-2}, soap(merge_dims=True, max_precondition_dim=6, precondition_frequency=3, lr=1e-2), CONV_ROWS)  # fmt: skip
