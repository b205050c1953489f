"""The PyTorch-like facade every optimizer presents to the training loop.

An optimizer holds **parameter groups** (each a dict of hyperparameters plus a
list of :class:`~optimlab.nn.Parameter`), a per-parameter **state** (arrays
such as a momentum buffer, updated in place), and a step counter. ``step()``
updates every parameter that has a gradient; parameters whose ``.grad`` is
``None`` are skipped, as in PyTorch.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from optimlab._validation import check_nonnegative
from optimlab.nn.module import Module, Parameter

STATE_DICT_VERSION = 1

ParamsLike = Module | Iterable[Parameter] | Iterable[Mapping[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step`` and state dicts.

    Subclasses set ``name`` and ``defaults`` (every hyperparameter the
    optimizer takes, with its default), and implement :meth:`validate` (range
    checks of one group) and :meth:`update_parameter`.

    Parameters
    ----------
    params : Module, list of Parameter, or list of dict
        What to optimize. A dict is a parameter group: ``{"params": [...],
        "lr": 0.01, ...}``; its hyperparameters override the optimizer's.
    **hyperparameters
        Values for the names in ``defaults``; any other name is a ``ValueError``.
    """

    name: ClassVar[str] = "optimizer"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, params: ParamsLike, **hyperparameters: Any) -> None:
        self._check_names(hyperparameters)
        self.hyperparameters = {**self.defaults, **hyperparameters}
        self.param_groups: list[dict[str, Any]] = []
        for group in self._as_groups(params):
            self.add_param_group(group)
        if not self.param_groups or not any(g["params"] for g in self.param_groups):
            raise ValueError(f"{self.name}: params must hold at least one Parameter; received none")
        self.state: dict[Parameter, dict[str, np.ndarray]] = {}
        self.step_count = 0

    # -- construction -------------------------------------------------------------
    @classmethod
    def _check_names(cls, hyperparameters: Mapping[str, Any]) -> None:
        for key in hyperparameters:
            if key not in cls.defaults:
                close = difflib.get_close_matches(key, list(cls.defaults), n=2, cutoff=0.6)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ValueError(
                    f"{cls.name}: unknown hyperparameter {key!r}{hint} "
                    f"(takes: {', '.join(cls.defaults)})"
                )

    def _as_groups(self, params: ParamsLike) -> list[dict[str, Any]]:
        if isinstance(params, Module):
            return [{"params": params.parameters()}]
        items = list(params)
        if items and all(isinstance(item, Mapping) for item in items):
            return [dict(item) for item in items]
        for i, item in enumerate(items):
            if not isinstance(item, Parameter):
                raise TypeError(
                    f"{self.name}: params must be Parameters or dicts of parameter groups; "
                    f"item {i} is {type(item).__name__}"
                )
        return [{"params": items}]

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group: ``{"params": [...], <hyperparameter>: <value>, ...}``."""
        group = dict(group)
        if "params" not in group:
            raise ValueError(f"{self.name}: a parameter group must have a 'params' key")
        params = group.pop("params")
        params = [params] if isinstance(params, Parameter) else list(params)
        self._check_names(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{self.name}: group params must be Parameters; got {type(p)}")
            if id(p) in seen:
                raise ValueError(f"{self.name}: parameter {p.name!r} appears in two groups")
            seen.add(id(p))
        full = {**self.hyperparameters, **group}
        self.validate(full)
        full["params"] = params
        self.param_groups.append(full)

    def validate(self, group: Mapping[str, Any]) -> None:
        """Range-check one group's hyperparameters (``ValueError`` naming the value)."""
        check_nonnegative(self.name, "lr", group["lr"])

    # -- the update -----------------------------------------------------------------
    def step(self) -> None:
        """Update every parameter that has a gradient, then count the step."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self.init_state(p, group)
                self.update_parameter(p, p.grad, state, group)
        self.step_count += 1

    def init_state(self, p: Parameter, group: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The state of one parameter before its first update (default: empty)."""
        return {}

    def update_parameter(
        self, p: Parameter, grad: np.ndarray, state: dict[str, np.ndarray], group: Mapping
    ) -> None:
        raise NotImplementedError(f"{type(self).__name__}.update_parameter")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``None``), or zero it in place."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    # -- state dicts ----------------------------------------------------------------
    def _indexed_params(self) -> list[Parameter]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of hyperparameters, step count and state, parameters by index.

        Later in-place updates never change a state dict already taken.
        """
        index = {id(p): i for i, p in enumerate(self._indexed_params())}
        groups = []
        for g in self.param_groups:
            hp = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            groups.append({**hp, "params": [index[id(p)] for p in g["params"]]})
        state = {
            index[id(p)]: {k: np.array(v, copy=True) for k, v in s.items()}
            for p, s in self.state.items()
        }
        return {
            "version": STATE_DICT_VERSION,
            "optimizer": self.name,
            "step": self.step_count,
            "param_groups": groups,
            "state": state,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (copied, so the source stays untouched)."""
        if state_dict.get("version") != STATE_DICT_VERSION:
            raise ValueError(
                f"{self.name}: state dict version must be {STATE_DICT_VERSION}; "
                f"received {state_dict.get('version')!r}"
            )
        if state_dict.get("optimizer") != self.name:
            raise ValueError(
                f"{self.name}: state dict is of optimizer {self.name!r}; "
                f"received {state_dict.get('optimizer')!r}"
            )
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(
                f"{self.name}: state dict groups must hold "
                f"{[len(g['params']) for g in self.param_groups]} parameters; "
                f"received {[len(g['params']) for g in groups]}"
            )
        params = self._indexed_params()
        for own, saved in zip(self.param_groups, groups, strict=True):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v)
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            arrays = {k: np.array(v, dtype=p.data.dtype, copy=True) for k, v in s.items()}
            for k, v in arrays.items():
                if v.shape not in (p.shape, ()):
                    raise ValueError(
                        f"{self.name}: state {k!r} of parameter {i} must have shape {p.shape}; "
                        f"received {v.shape}"
                    )
            self.state[p] = arrays
        self.step_count = int(state_dict["step"])

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({hp})"
