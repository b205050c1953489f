"""Run an optimlab optimizer and a reference implementation on the same gradients.

Both start from the same float64 parameters of several shapes (matrix,
vector, 3-D) and receive, for ``STEPS`` steps, the same gradients: a quadratic
pull ``0.5 * p`` (so that a wrong step changes later gradients too) plus
seeded noise. ``has_grad(t, i)`` says whether parameter ``i`` has a gradient at
step ``t`` (a ``None`` gradient otherwise, in both): :data:`SKIPS` leaves one
parameter out of every third step and :data:`LATE` starts one at step 51, so
that a step count kept per group where the reference keeps it per parameter
shows. A reference is ``make(torch_params) -> (optimizer, hook)``;
``hook(optimizer, t)`` (or ``None``) runs before the reference's step ``t``
(counted from 0), e.g. to set Demon's momentum or apply decoupled decay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from optimlab import optim
from optimlab.nn import Parameter

SHAPES = [(5, 4), (7,), (2, 3, 4)]
#: A 0-d parameter (its gradients are NumPy scalars) beside a vector and a matrix.
SCALAR_SHAPES = [(), (3,), (2, 3)]
STEPS = 200
TOLERANCE = 1e-9

Hook = Callable[[Any, int], None] | None
Reference = Callable[[list], tuple[Any, Hook]]
HasGrad = Callable[[int, int], bool]


def every_step(t: int, i: int) -> bool:
    return True


def skips(t: int, i: int) -> bool:
    """Parameter 1 has no gradient on every third step (t = 2, 5, 8, ...)."""
    return not (i == 1 and t % 3 == 2)


def late(t: int, i: int) -> bool:
    """Parameter 2 receives its first gradient at step 51 (t = 50)."""
    return not (i == 2 and t < 50)


#: The gradient patterns every row of the conformance tables runs with.
PATTERNS: dict[str, HasGrad] = {"every-step": every_step, "skips": skips, "late": late}


def relative_error(ours: list[np.ndarray], theirs: list[np.ndarray]) -> float:
    return max(
        float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
        for a, b in zip(ours, theirs, strict=True)
    )


def run_pair(
    name: str, kwargs: dict, reference: Reference, *, steps: int = STEPS, seed: int = 0,
    shapes: list[tuple[int, ...]] = SHAPES, before_compare: Callable | None = None,
    has_grad: HasGrad = every_step, reference_shapes: list[tuple[int, ...]] | None = None,
) -> float:  # fmt: skip
    """Max relative error between the parameters of both after ``steps`` steps.

    ``reference_shapes``: the reference's parameters (and gradients) are the same numbers
    reshaped to these (a 0-d parameter against its 1-element twin, say)."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(shape) for shape in shapes]
    ours = [Parameter(a.copy(), name=f"p{i}") for i, a in enumerate(init)]
    twins = shapes if reference_shapes is None else reference_shapes
    theirs = [torch.tensor(a.reshape(s).copy(), requires_grad=True)
              for a, s in zip(init, twins, strict=True)]  # fmt: skip
    opt = optim.create(name, ours, **kwargs)
    ref, hook = reference(theirs)
    noise = np.random.default_rng(seed + 1)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam keeps mu_product in the default dtype
    try:
        for t in range(steps):
            grads = [0.5 * p.data + noise.standard_normal(p.shape) for p in ours]
            for i, (p, q, g) in enumerate(zip(ours, theirs, grads, strict=True)):
                if has_grad(t, i):
                    p.grad = g.copy()
                    q.grad = torch.tensor(g.reshape(q.shape))  # a copy: references write .grad
                else:
                    p.grad = q.grad = None
            if hook is not None:
                hook(ref, t)
            ref.step()
            opt.step()
        if before_compare is not None:
            before_compare(opt, ref)
    finally:
        torch.set_default_dtype(previous)
    return relative_error([p.data.reshape(-1) for p in ours],
                          [q.detach().numpy().reshape(-1) for q in theirs])  # fmt: skip


def decoupled_decay_hook(lr: float, weight_decay: float) -> Hook:
    """``p <- p - lr * weight_decay * p`` on the reference's params that have a
    gradient, before each step (as ``torch.optim.AdamW``: a parameter without
    one is left alone)."""

    def hook(ref: Any, t: int) -> None:
        with torch.no_grad():
            for group in ref.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.mul_(1.0 - lr * weight_decay)

    return hook


def demon_hook(beta0: float, total_steps: int, key: str) -> Hook:
    """Set the reference group's momentum (or betas[0]) to Demon's beta_t before step t."""
    schedule = optim.schedules.demon(beta0, total_steps)

    def hook(ref: Any, t: int) -> None:
        for group in ref.param_groups:
            if key == "betas":
                group["betas"] = (schedule(t), *tuple(group["betas"])[1:])
            else:
                group[key] = schedule(t)

    return hook


def both(*hooks: Hook) -> Hook:
    def hook(ref: Any, t: int) -> None:
        for h in hooks:
            if h is not None:
                h(ref, t)

    return hook
