"""Torch references for the cautious mask where pytorch_optimizer has no cautious form.

``CautiousAdamW`` is ``torch.optim.AdamW``'s arithmetic (decay first, ``lerp`` for the
first moment, ``sqrt(v) / sqrt(1 - beta2^t) + eps``, per-parameter step counts) with
pytorch_optimizer's ``apply_cautious`` on the normalised step, as Liang et al.'s
C-AdamW masks it. ``CautiousHeavyBall`` is ``torch.optim.SGD``'s momentum buffer with
the mask. Both written out here, in float64, from the equations.
"""

from __future__ import annotations

import math

import pytorch_optimizer as po
import torch
from pytorch_optimizer.base.optimizer import BaseOptimizer


def step_then_mask(optimizer, own_step, decay_factor) -> None:
    """``own_step()`` (the reference's whole step), then each parameter's update masked
    with ``apply_cautious`` against the gradient, as Liang et al. define the mask; the
    decoupled decay ``p <- decay_factor(group, p) * p``, on the weights, stays unmasked."""
    before = {p: p.detach().clone() for g in optimizer.param_groups for p in g["params"]
              if p.grad is not None}  # fmt: skip
    own_step()
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is None:
                continue
            decayed = before[p] * decay_factor(group, p)
            update = p - decayed
            BaseOptimizer.apply_cautious(update, -p.grad)
            p.copy_(decayed + update)


class CautiousAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})  # fmt: skip

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t = state["step"]
                p.mul_(1 - group["lr"] * group["weight_decay"])
                state["m"].lerp_(g, 1 - b1)
                state["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                denom = (state["v"].sqrt() / math.sqrt(1 - b2**t)).add_(group["eps"])
                update = state["m"] / denom
                BaseOptimizer.apply_cautious(update, g)
                p.add_(update, alpha=-group["lr"] / (1 - b1**t))


class CautiousHeavyBall(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if "buf" not in state:
                    state["buf"] = g.clone()
                else:
                    state["buf"].mul_(group["momentum"]).add_(g)
                update = state["buf"].clone()
                BaseOptimizer.apply_cautious(update, g)
                p.add_(update, alpha=-group["lr"])


class CautiousLaProp(po.LaProp):
    """pytorch_optimizer's LaProp with its own ``cautious`` switch on (it masks the whole
    step with the gradient, after the momentum; per-parameter path)."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        for group in self.param_groups:
            group["cautious"] = True


class CautiousAdafactor(torch.optim.Adafactor):
    """torch's Adafactor with its step masked: the single-tensor step, with the update
    through ``apply_cautious`` before it is added (weight decay, on the weights, unmasked)."""

    @torch.no_grad()
    def step(self, closure=None):
        step_then_mask(self, super().step, lambda g, p: 1 - g["lr"] * g["weight_decay"])
