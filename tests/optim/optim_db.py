"""The conformance table: every named optimizer with its reference and test settings.

One row per (name, hyperparameters): ``reference(torch_params)`` builds the
reference implementation with the *same* settings. Rows cover the defaults
and non-default values of every hyperparameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import qhoptim.pyt as qh
import torch
from pytorch_optimizer import Lookahead
from reference_harness import Reference, both, decoupled_decay_hook, demon_hook


@dataclass(frozen=True)
class Row:
    name: str
    kwargs: dict[str, Any]
    reference: Reference = field(compare=False)

    @property
    def id(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"


def torch_ref(cls: type, **kwargs: Any) -> Reference:
    return lambda params: (cls(params, **kwargs), None)


def qh_ref(cls: Any, **kwargs: Any) -> Reference:
    return lambda params: (cls(params, **kwargs), None)


ROWS: list[Row] = []


def row(name: str, kwargs: dict, reference: Reference) -> None:
    ROWS.append(Row(name, kwargs, reference))


# -- SGD family: torch.optim.SGD --------------------------------------------------
row("sgd", {"lr": 0.01}, torch_ref(torch.optim.SGD, lr=0.01))
row("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
    torch_ref(torch.optim.SGD, lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1))  # fmt: skip
row("momentum", {"lr": 0.02}, torch_ref(torch.optim.SGD, lr=0.02, momentum=0.9))
row("momentum", {"lr": 0.02, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01},
    torch_ref(torch.optim.SGD, lr=0.02, momentum=0.5, dampening=0.5, weight_decay=0.01))  # fmt: skip
row("nesterov", {"lr": 0.02}, torch_ref(torch.optim.SGD, lr=0.02, momentum=0.9, nesterov=True))
row("nesterov", {"lr": 0.01, "momentum": 0.8, "weight_decay": 0.05},
    torch_ref(torch.optim.SGD, lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.05))  # fmt: skip

# -- Adam family: torch.optim ------------------------------------------------------
row("adam", {}, torch_ref(torch.optim.Adam))
row("adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True},
    torch_ref(torch.optim.Adam, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
              amsgrad=True))  # fmt: skip
row("adamw", {}, torch_ref(torch.optim.AdamW))
row("adamw", {"lr": 0.01, "betas": (0.85, 0.995), "eps": 1e-7, "weight_decay": 0.3, "amsgrad": True},
    torch_ref(torch.optim.AdamW, lr=0.01, betas=(0.85, 0.995), eps=1e-7, weight_decay=0.3,
              amsgrad=True))  # fmt: skip
row("nadam", {}, torch_ref(torch.optim.NAdam))
row("nadam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1,
              "momentum_decay": 0.01},
    torch_ref(torch.optim.NAdam, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
              momentum_decay=0.01))  # fmt: skip
row("nadamw", {"weight_decay": 0.1},
    torch_ref(torch.optim.NAdam, weight_decay=0.1, decoupled_weight_decay=True))  # fmt: skip
row("nadamw", {}, torch_ref(torch.optim.NAdam, decoupled_weight_decay=True))
row("radam", {}, torch_ref(torch.optim.RAdam))
row("radam", {"lr": 0.01, "betas": (0.7, 0.9), "eps": 1e-6, "weight_decay": 0.1},
    torch_ref(torch.optim.RAdam, lr=0.01, betas=(0.7, 0.9), eps=1e-6, weight_decay=0.1))  # fmt: skip
row("radamw", {}, torch_ref(torch.optim.RAdam, decoupled_weight_decay=True))  # default wd 0
row("radamw", {"weight_decay": 0.2},
    torch_ref(torch.optim.RAdam, weight_decay=0.2, decoupled_weight_decay=True))  # fmt: skip
row("adamax", {}, torch_ref(torch.optim.Adamax))
row("adamax", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    torch_ref(torch.optim.Adamax, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1))  # fmt: skip
row("adagrad", {}, torch_ref(torch.optim.Adagrad))
row("adagrad", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.1,
                "initial_accumulator_value": 0.5, "eps": 1e-6},
    torch_ref(torch.optim.Adagrad, lr=0.05, lr_decay=0.01, weight_decay=0.1,
              initial_accumulator_value=0.5, eps=1e-6))  # fmt: skip
row("rmsprop", {}, torch_ref(torch.optim.RMSprop))
row("rmsprop", {"lr": 0.001, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.8,
                "centered": True},
    torch_ref(torch.optim.RMSprop, lr=0.001, alpha=0.9, eps=1e-6, weight_decay=0.1,
              momentum=0.8, centered=True))  # fmt: skip
row("adadelta", {}, torch_ref(torch.optim.Adadelta))
row("adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1},
    torch_ref(torch.optim.Adadelta, lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1))  # fmt: skip

# -- quasi-hyperbolic: qhoptim ------------------------------------------------------
row("qhm", {"lr": 0.1}, qh_ref(qh.QHM, lr=0.1, momentum=0.999, nu=0.7))
row("qhm", {"lr": 0.05, "momentum": 0.9, "nu": 0.5, "weight_decay": 0.1},
    qh_ref(qh.QHM, lr=0.05, momentum=0.9, nu=0.5, weight_decay=0.1))  # fmt: skip
row("qhadam", {}, qh_ref(qh.QHAdam))
row("qhadam", {"lr": 0.01, "betas": (0.8, 0.99), "nus": (0.7, 0.9), "eps": 1e-6,
               "weight_decay": 0.1},
    qh_ref(qh.QHAdam, lr=0.01, betas=(0.8, 0.99), nus=(0.7, 0.9), eps=1e-6, weight_decay=0.1))  # fmt: skip
row("qhadamw", {}, qh_ref(qh.QHAdamW))
row("qhadamw", {"lr": 0.01, "betas": (0.8, 0.99), "nus": (0.7, 1.0), "weight_decay": 0.2},
    qh_ref(qh.QHAdamW, lr=0.01, betas=(0.8, 0.99), nus=(0.7, 1.0), weight_decay=0.2))  # fmt: skip


# -- <name>w: the base reference after p <- p - lr wd p ------------------------------
def decoupled(cls: Any, lr: float, weight_decay: float, **kwargs: Any) -> Reference:
    def make(params: list) -> tuple:
        return cls(params, lr=lr, **kwargs), decoupled_decay_hook(lr, weight_decay)

    return make


row("adamaxw", {"lr": 0.01, "weight_decay": 0.1}, decoupled(torch.optim.Adamax, 0.01, 0.1))
row("nesterovw", {"lr": 0.02, "weight_decay": 0.1},
    decoupled(torch.optim.SGD, 0.02, 0.1, momentum=0.9, nesterov=True))  # fmt: skip
row("sgdw", {"lr": 0.02}, decoupled(torch.optim.SGD, 0.02, 1e-2))
row("rmspropw", {"lr": 0.001, "weight_decay": 0.5}, decoupled(torch.optim.RMSprop, 0.001, 0.5))
row("adagradw", {"lr": 0.05, "weight_decay": 0.1}, decoupled(torch.optim.Adagrad, 0.05, 0.1))
row("adadeltaw", {"weight_decay": 0.05}, decoupled(torch.optim.Adadelta, 1.0, 0.05))
row("qhmw", {"lr": 0.05, "momentum": 0.9, "nu": 0.7, "weight_decay": 0.1},
    decoupled(qh.QHM, 0.05, 0.1, momentum=0.9, nu=0.7))  # fmt: skip


# -- Demon: the base reference with its momentum set to beta_t before each step -------
def demon(cls: Any, beta0: float, total: int, key: str, *, decay: tuple | None = None,
          **kwargs: Any) -> Reference:  # fmt: skip
    def make(params: list) -> tuple:
        hooks = [demon_hook(beta0, total, key)]
        if decay is not None:
            hooks.insert(0, decoupled_decay_hook(*decay))
        return cls(params, **kwargs), both(*hooks)

    return make


T = 150  # shorter than the run: beta reaches 0 and stays there
row("demon-momentum", {"lr": 0.02, "total_steps": T},
    demon(torch.optim.SGD, 0.9, T, "momentum", lr=0.02, momentum=0.9))  # fmt: skip
row("demon-nesterov", {"lr": 0.02, "momentum": 0.95, "total_steps": T},
    demon(torch.optim.SGD, 0.95, T, "momentum", lr=0.02, momentum=0.95, nesterov=True))  # fmt: skip
row("demon-nesterovw", {"lr": 0.02, "weight_decay": 0.1, "total_steps": T},
    demon(torch.optim.SGD, 0.9, T, "momentum", decay=(0.02, 0.1), lr=0.02, momentum=0.9,
          nesterov=True))  # fmt: skip
row("demon-qhm", {"lr": 0.05, "momentum": 0.9, "nu": 0.7, "total_steps": T},
    demon(qh.QHM, 0.9, T, "momentum", lr=0.05, momentum=0.9, nu=0.7))  # fmt: skip
row("demon-adam", {"lr": 0.01, "total_steps": T},
    demon(qh.QHAdam, 0.9, T, "betas", lr=0.01))  # fmt: skip
row("demon-adamw", {"lr": 0.01, "weight_decay": 0.1, "total_steps": T},
    demon(qh.QHAdamW, 0.9, T, "betas", lr=0.01, weight_decay=0.1))  # fmt: skip
row("demon-qhadam", {"lr": 0.01, "nus": (0.7, 1.0), "betas": (0.95, 0.99), "total_steps": T},
    demon(qh.QHAdam, 0.95, T, "betas", lr=0.01, nus=(0.7, 1.0), betas=(0.95, 0.99)))  # fmt: skip
row("demon-qhadamw", {"lr": 0.01, "nus": (0.7, 1.0), "weight_decay": 0.1, "total_steps": T},
    demon(qh.QHAdamW, 0.9, T, "betas", lr=0.01, nus=(0.7, 1.0), weight_decay=0.1))  # fmt: skip


# -- Lookahead: pytorch_optimizer.Lookahead around the base reference --------------------
def lookahead(inner: Reference, k: int = 5, alpha: float = 0.5) -> Reference:
    def make(params: list) -> tuple:
        opt, hook = inner(params)
        return Lookahead(opt, k=k, alpha=alpha), hook

    return make


row("lookahead-sgd", {"lr": 0.05, "momentum": 0.9},
    lookahead(torch_ref(torch.optim.SGD, lr=0.05, momentum=0.9)))  # fmt: skip
row("lookahead-adam", {"lr": 0.01, "k": 3, "alpha": 0.8},
    lookahead(torch_ref(torch.optim.Adam, lr=0.01), k=3, alpha=0.8))  # fmt: skip
row("lookahead-demon-qhadamw", {"lr": 0.01, "weight_decay": 0.1, "total_steps": T, "k": 4},
    lookahead(demon(qh.QHAdamW, 0.9, T, "betas", lr=0.01, weight_decay=0.1), k=4))  # fmt: skip
