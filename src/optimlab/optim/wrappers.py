"""Optimizers that own another optimizer: Lookahead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optimlab.optim.optimizer import Optimizer, check_hyperparameter_names, values_at
from optimlab.optim.spec import OptimizerSpec


class Lookahead:
    r"""Lookahead (Zhang, Lucas, Hinton and Ba, "Lookahead Optimizer: k steps forward,
    1 step back", arXiv:1907.08610).

    The inner ("fast") optimizer takes ``k`` steps; then the slow weights move
    a fraction ``alpha`` towards the fast ones and the fast weights restart there:

    .. math::

        \phi \leftarrow \phi + \alpha (\theta - \phi), \qquad \theta \leftarrow \phi

    The slow weights :math:`\phi` start as the parameters at construction, as in
    pytorch_optimizer's ``Lookahead`` (its reference here). The step counter is
    per group; only parameters that have a gradient at the synchronising step
    are synchronised. pytorch_optimizer's ``pullback_momentum`` options are not
    offered (the default, ``"none"``, is what this is). ``alpha`` may be a
    schedule, evaluated at the step that synchronises.
    """

    def __init__(self, inner: Optimizer, *, k: int = 5, alpha: Any = 0.5, name: str = "") -> None:
        self.inner, self.k, self.alpha = inner, k, alpha
        self._name = name or "lookahead-" + inner.name
        self.slow = [[p.data.copy() for p in g["params"]] for g in inner.param_groups]
        self.counters = [0] * len(inner.param_groups)

    @classmethod
    def around(
        cls,
        spec: OptimizerSpec,
        params: Any,
        hyperparameters: Mapping[str, Any],
        *,
        alpha_key: str = "alpha",
    ) -> Lookahead:
        """Lookahead over a fresh optimizer of ``spec`` (hyperparameters: the inner's, k, alpha).

        ``alpha_key`` is ``"lookahead_alpha"`` when the inner optimizer has an
        ``alpha`` of its own (RMSprop).
        """
        own = ("k", alpha_key)
        inner_spec = OptimizerSpec(
            name=spec.name.removeprefix("lookahead-"),
            recipe=spec.recipe,
            defaults={k: v for k, v in spec.defaults.items() if k not in own},
            checks=spec.checks,
            cross_checks=spec.cross_checks,
            derive=spec.derive,
        )
        hp = dict(hyperparameters)
        check_hyperparameter_names(spec, hp)
        full = {**spec.defaults, **hp}
        spec.validate(values_at(full, 0))  # errors name "lookahead-<inner>"
        k, alpha = hp.pop("k", full["k"]), hp.pop(alpha_key, full[alpha_key])
        return cls(Optimizer(params, inner_spec, **hp), k=k, alpha=alpha, name=spec.name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.inner.param_groups

    @property
    def step_count(self) -> int:
        return self.inner.step_count

    def step(self) -> None:
        """One inner step; every ``k``-th, pull the slow weights and reset the fast ones."""
        self.inner.step()
        for index, group in enumerate(self.inner.param_groups):
            self.counters[index] += 1
            if self.counters[index] < self.k:
                continue
            self.counters[index] = 0
            for p, slow in zip(group["params"], self.slow[index], strict=True):
                if p.grad is None:
                    continue
                # phi <- phi + alpha (theta - phi); theta <- phi
                p.data -= slow
                p.data *= values_at({"alpha": self.alpha}, self.inner.step_count - 1)["alpha"]
                p.data += slow
                np.copyto(slow, p.data)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner.zero_grad(set_to_none)

    def eval(self) -> None:
        self.inner.eval()

    def train(self) -> None:
        self.inner.train()

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "optimizer": self.name,
            "inner": self.inner.state_dict(),
            "slow": [[s.copy() for s in group] for group in self.slow],
            "counters": list(self.counters),
            "k": self.k,
            "alpha": self.alpha,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        if state_dict.get("optimizer") != self.name:
            raise ValueError(
                f"{self.name}: state dict is of optimizer {self.name!r}; "
                f"received {state_dict.get('optimizer')!r}"
            )
        self.inner.load_state_dict(state_dict["inner"])
        for own, saved in zip(self.slow, state_dict["slow"], strict=True):
            for o, s in zip(own, saved, strict=True):
                np.copyto(o, s)
        self.counters = list(state_dict["counters"])
        self.k, self.alpha = int(state_dict["k"]), state_dict["alpha"]

    def __repr__(self) -> str:
        return f"Lookahead({self.inner!r}, k={self.k}, alpha={self.alpha})"
