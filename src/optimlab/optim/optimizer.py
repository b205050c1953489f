"""The PyTorch-like facade over a chain of transforms.

An :class:`Optimizer` holds **parameter groups** (each a dict of hyperparameters
plus a list of :class:`~optimlab.nn.Parameter`); for each group it builds the
optimizer's transform chain from the group's hyperparameters and keeps that
chain's explicit state. ``step()`` feeds the gradients of the parameters that
have one (a ``None`` gradient is skipped, as in PyTorch) through the chain and
adds the resulting updates to the parameters in place.

**One clock.** Any real-valued hyperparameter may be a schedule (a function
of the group's step count). Before each step of a group the facade evaluates
every schedule of the group once (:func:`values_at`), then the schedules a
composition adds (Demon's beta_t, :meth:`OptimizerSpec.numbers`), and calls the
optimizer's recipe with those plain numbers: transforms hold Python floats and
never evaluate a schedule or keep a clock of their own. The step counts they
keep are bias-correction ages (per parameter, or per group where the
reference keeps them so), not schedule clocks.

Why rebuild rather than let transforms read a shared "hyperparameters now"
mapping: a recipe is the one place that maps hyperparameter names to
transform arguments (``lr`` reaches decoupled decay and the learning-rate
scaling, Muon's ``adamw_lr`` another chain), so rebuilding its few small
objects keeps every transform a plain object of floats and every recipe a
plain function. It costs about 4 microseconds (about 2% of an Adam step on a
109k-parameter MLP) and happens only on steps where some number changed; the
state is kept. Changing ``group["lr"]`` (or any hyperparameter) between steps
takes effect at the next step, as in PyTorch, by the same path, with the
value range-checked again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from optimlab.nn.module import Module, Parameter
from optimlab.optim import _blocks
from optimlab.optim.base import Chain, PerParam, merge, select
from optimlab.optim.closure import Closure, Evaluator, active
from optimlab.optim.spec import OptimizerSpec, check_hyperparameter_names, values_at

STATE_DICT_VERSION = 4  # 3: bias-correction counts per parameter; 4: one clock (no schedule
# counters in transforms), Lookahead inside the chain

ParamsLike = Module | Iterable[Parameter] | Iterable[Mapping[str, Any]]


class Optimizer:
    """An optimizer over parameters: ``step()``, ``zero_grad()``, state dicts.

    Parameters
    ----------
    params : Module, list of Parameter, or list of dict
        What to optimize. A dict is a parameter group: ``{"params": [...],
        "lr": 0.01, ...}``; its hyperparameters override the optimizer's.
    spec : OptimizerSpec, optional
        The optimizer (subclasses made by :func:`optimizer_class` set it).
    **hyperparameters
        Values (or schedules) for the names in ``spec.defaults``; any other
        name is a ``ValueError`` that suggests the close ones.

    Attributes
    ----------
    param_groups : list of dict
        The groups, hyperparameters included, as in PyTorch.
    step_count : int
        How many times :meth:`step` was called.
    gradient_evaluations : int
        How many gradients those steps used (1 per step; with a closure, its calls).
    """

    spec: ClassVar[OptimizerSpec | None] = None

    def __init__(
        self, params: ParamsLike, spec: OptimizerSpec | None = None, **hyperparameters: Any
    ) -> None:
        spec = spec if spec is not None else type(self).spec
        if spec is None or spec.recipe is None:
            raise TypeError(
                "Optimizer needs a spec with a recipe; use optimlab.optim.create(name, ...)"
            )
        self._spec = spec
        self._check_names(hyperparameters)
        self.hyperparameters = {**spec.defaults, **hyperparameters}
        self.param_groups: list[dict[str, Any]] = []
        self._chains: list[Chain] = []
        self._states: list[dict[str, Any]] = []
        self._values: list[dict[str, Any]] = []  # the group's numbers, last checked
        self._built_with: list[dict[str, Any]] = []  # what the recipe was called with
        self._counts: list[int] = []
        for group in self._as_groups(params):
            self.add_param_group(group)
        if not any(g["params"] for g in self.param_groups):
            raise ValueError(f"{self.name}: params must hold at least one Parameter; received none")
        self.step_count = 0
        #: Gradients the steps used: one per step, or the closure's calls when given one.
        self.gradient_evaluations = 0

    @property
    def name(self) -> str:
        return self._spec.name

    # -- construction -------------------------------------------------------------
    def _check_names(self, hyperparameters: Mapping[str, Any]) -> None:
        check_hyperparameter_names(self._spec, hyperparameters)

    def _as_groups(self, params: ParamsLike) -> list[dict[str, Any]]:
        if isinstance(params, Module):
            return [{"params": params.parameters()}]
        if isinstance(params, Parameter):
            raise TypeError(
                f"{self.name}: expected an iterable of Parameters (or of parameter-group "
                f"dicts); received a single Parameter {params.name!r}: pass [parameter]"
            )
        if isinstance(params, str | bytes | Mapping) or not isinstance(params, Iterable):
            raise TypeError(
                f"{self.name}: expected an iterable of Parameters (or of parameter-group "
                f"dicts); received {type(params).__name__}"
            )
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
        owner = {id(p): i for i, g in enumerate(self.param_groups) for p in g["params"]}
        new = len(self.param_groups)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{self.name}: group params must be Parameters; got {type(p)}")
            if id(p) in owner:
                where = (
                    f"twice in parameter group {new}"
                    if owner[id(p)] == new
                    else f"in two parameter groups ({owner[id(p)]} and {new})"
                )
                raise ValueError(f"{self.name}: parameter {p.name!r} appears {where}")
            owner[id(p)] = new
            _check_dtype(self.name, p)
        hyperparameters = {**self.hyperparameters, **group}
        values = values_at(hyperparameters, 0)
        self._spec.validate(values)
        numbers = self._spec.numbers(values, 0)
        chain = self._build(numbers)
        self.param_groups.append({**hyperparameters, "params": params})
        self._chains.append(chain)
        self._states.append(chain.init([p.data for p in params]))
        self._values.append(values)
        self._built_with.append(numbers)
        self._counts.append(0)

    def _build(self, numbers: dict[str, Any]) -> Chain:
        transform = self._spec.recipe(**numbers)
        return transform if isinstance(transform, Chain) else Chain(transform)

    def _current(self, index: int, count: int | None = None) -> Chain:
        """The group's chain for step ``count`` (default: its next step).

        The one clock: every schedule of the group is evaluated here, once,
        at the group's step count, and range-checked when a value changed;
        then the composition's own schedules (Demon). The chain is rebuilt
        from those numbers (its state kept) whenever one differs from the
        last build's.
        """
        group = self.param_groups[index]
        count = self._counts[index] if count is None else count
        values = values_at({k: v for k, v in group.items() if k != "params"}, count)
        if values != self._values[index]:
            self._spec.validate(values)
            self._values[index] = values
        numbers = self._spec.numbers(values, count)
        built = self._built_with[index]
        if numbers != built:
            chain = self._build(numbers)
            if _layout(numbers) != _layout(built):  # e.g. amsgrad switched on: new buffers
                fresh = chain.init([p.data for p in group["params"]])
                self._states[index] = _adopt(self._states[index], fresh)
            self._chains[index], self._built_with[index] = chain, numbers
        return self._chains[index]

    # -- the update -----------------------------------------------------------------
    def step(self, closure: Closure | None = None) -> float | None:
        """Update every parameter that has a gradient, then count the step.

        ``closure``, as in PyTorch: a function that zeroes the gradients, re-evaluates
        the model on the current mini-batch (forward and backward) and returns the
        loss. When given, it is called once first, for the gradients of this step,
        and is then available to the transforms that need more evaluations
        (SophiaH's Hessian-vector products, :mod:`optimlab.optim.closure`); the
        loss of that first call is returned. Optimizers that need one say so in
        :attr:`needs_closure`, and refuse a step without it.
        """
        loss = None
        evaluator = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(
                    f"{self.name}: closure must be callable (it re-evaluates the loss); "
                    f"received {type(closure).__name__}"
                )
            evaluator = Evaluator(closure, [p for g in self.param_groups for p in g["params"]])
            loss = evaluator.first()
        with active(evaluator):
            self._step()
        self.gradient_evaluations += 1 if evaluator is None else evaluator.evaluations
        return loss

    @property
    def needs_closure(self) -> bool:
        """Whether :meth:`step` needs a closure (some transform evaluates the loss again)."""
        return any(_wants_closure(chain) for chain in self._chains)

    def _step(self) -> None:
        for index, group in enumerate(self.param_groups):
            params = group["params"]
            have = [i for i, p in enumerate(params) if p.grad is not None]
            if not have:
                continue
            chain = self._current(index)
            state = self._states[index]
            chosen = [params[i] for i in have]
            large = _blocks.large_parameters(chain, state, chosen, have)
            if large:  # cache blocking (optim/_blocks.py): the same numbers, faster
                _blocks.step_by_blocks(chain, state, chosen, have, large, _step_whole)
            else:
                _step_whole(chain, state, chosen, None if len(have) == len(params) else have)
            self._counts[index] += 1
        self.step_count += 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``None``), or zero it in place."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def _hook(self, name: str) -> None:
        """Call the chain's ``name`` (``to_eval``...) with the numbers of the group's last step."""
        for index, group in enumerate(self.param_groups):
            chain = self._current(index, max(self._counts[index] - 1, 0))
            getattr(chain, name)(self._states[index], [p.data for p in group["params"]])

    def eval(self) -> None:
        """Put the parameters in their evaluation form (schedule-free: the average x)."""
        self._hook("to_eval")

    def train(self) -> None:
        """Put the parameters back in their training form (schedule-free: y)."""
        self._hook("to_train")

    # -- state dicts ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A deep copy of hyperparameters, step count and every group's transform state.

        Later in-place updates never change a state dict already taken.
        """
        groups, start = [], 0
        for g in self.param_groups:
            hp = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            groups.append({**hp, "params": list(range(start, start + len(g["params"])))})
            start += len(g["params"])
        return {
            "version": STATE_DICT_VERSION,
            "optimizer": self.name,
            "step": self.step_count,
            "param_groups": groups,
            "state": [_copy(s) for s in self._states],
            "counts": list(self._counts),
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
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g["params"]) for g in groups] != sizes:
            raise ValueError(
                f"{self.name}: state dict groups must hold {sizes} parameters; "
                f"received {[len(g['params']) for g in groups]}"
            )
        self._counts = [int(c) for c in state_dict["counts"]]
        for index, (own, saved) in enumerate(zip(self.param_groups, groups, strict=True)):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v)
            self._current(index)
            self._states[index] = _restore(
                self._states[index], state_dict["state"][index], self.name
            )
        self.step_count = int(state_dict["step"])

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({self.name!r}, {hp})"


def _wants_closure(transform: Any) -> bool:
    """Whether ``transform`` or one it holds (a chain's links, a combinator's inner
    transforms, a partition's) has ``needs_closure = True``."""
    if getattr(transform, "needs_closure", False):
        return True
    inner = list(getattr(transform, "transforms", ()))
    if isinstance(getattr(transform, "transforms", None), Mapping):
        inner = list(transform.transforms.values())
    if getattr(transform, "inner", None) is not None:
        inner.append(transform.inner)
    return any(_wants_closure(t) for t in inner)


def _check_dtype(owner: str, p: Parameter) -> None:
    """Real floating-point parameters only: a complex, integer or boolean one is an error."""
    kind = p.data.dtype.kind
    if kind == "f":
        return
    if kind == "c":
        hint = (
            "complex parameters are not supported (keep the real and imaginary parts as two "
            "real parameters)"
        )
    else:
        hint = "optimizers update real floating-point parameters (float16, float32 or float64)"
    raise TypeError(f"{owner}: parameter {p.name!r} has dtype {p.data.dtype}; {hint}")


def _is_number(v: Any) -> bool:
    if isinstance(v, tuple | list):
        return all(_is_number(x) for x in v)
    return isinstance(v, int | float) and not isinstance(v, bool)


def _layout(values: Mapping[str, Any]) -> dict[str, Any]:
    """The non-numeric hyperparameters (flags, names): the ones that shape the state."""
    return {k: v for k, v in values.items() if not _is_number(v)}


def _copy(state: Any) -> Any:
    if isinstance(state, np.ndarray):
        return state.copy()
    if isinstance(state, PerParam):
        return PerParam(_copy(v) for v in state)
    if isinstance(state, dict):
        return {k: _copy(v) for k, v in state.items()}
    return copy.deepcopy(state)


def _restore(own: Any, saved: Any, owner: str, path: str = "state") -> Any:
    """Copy ``saved`` into the structure of ``own``, checking shapes and keeping dtypes."""
    if saved is None:
        return None
    if isinstance(own, dict):
        if not isinstance(saved, Mapping) or set(saved) != set(own):
            raise ValueError(f"{owner}: {path} does not match this optimizer's state layout")
        return {k: _restore(own[k], saved[k], owner, f"{path}.{k}") for k in own}
    if isinstance(own, PerParam):
        if len(saved) != len(own):
            raise ValueError(f"{owner}: {path} must have {len(own)} entries; received {len(saved)}")
        return PerParam(
            _restore(o, s, owner, f"{path}[{i}]")
            for i, (o, s) in enumerate(zip(own, saved, strict=True))
        )
    if isinstance(own, np.ndarray) or isinstance(saved, np.ndarray):
        value = np.array(saved, dtype=own.dtype if isinstance(own, np.ndarray) else None, copy=True)
        if isinstance(own, np.ndarray) and value.shape != own.shape:
            raise ValueError(f"{owner}: {path} must have shape {own.shape}; received {value.shape}")
        return value
    return copy.deepcopy(saved)


def _adopt(old: Any, fresh: Any) -> Any:
    """Keep ``old``'s values where ``fresh`` (a new chain's initial state) has the same keys."""
    if isinstance(fresh, dict) and isinstance(old, dict):
        return {k: _adopt(old[k], v) if k in old else v for k, v in fresh.items()}
    return old


def optimizer_class(spec: OptimizerSpec) -> type[Optimizer]:
    """A named ``Optimizer`` subclass for ``spec`` (``optim.Adam(params, lr=...)``)."""
    class_name = "".join(part.capitalize() for part in spec.name.replace("-", "_").split("_"))
    doc = f"The ``{spec.name}`` optimizer. {spec.paper}\n\n{spec.equations}"
    return type(class_name, (Optimizer,), {"spec": spec, "__doc__": doc, "__module__": __name__})


def _step_whole(chain: Chain, state: Any, chosen: list[Parameter], index: list[int] | None) -> None:
    """One update of ``chosen``, all at once: the group's parameters at ``index``
    (``None``: all of them, with the whole state)."""
    part = state if index is None else select(state, index)
    updates = chain.update([p.grad for p in chosen], part, [p.data for p in chosen])
    for p, u in zip(chosen, updates, strict=True):
        p.data += u
    if index is not None:
        merge(state, part, index)
