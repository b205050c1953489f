"""One registry maps names to optimizers, including the composed names.

Base names are registered by :mod:`optimlab.optim.aliases` (and by users, with
:func:`register`). Three compositions are derived from any base name::

    <name>w          decoupled weight decay (p <- p - lr * weight_decay * p first)
    demon-<name>     Demon's decaying momentum (names with a momentum coefficient)
    lookahead-<name> Lookahead around the optimizer (k, alpha)
    cautious-<name>  the cautious mask on the optimizer's steps (Liang et al. 2024)

and nest as ``lookahead-cautious-demon-<name>w``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from optimlab._registry import Registry
from optimlab.optim import search as search_spaces
from optimlab.optim import spec as spec_checks
from optimlab.optim.base import Chain, Transform, chain
from optimlab.optim.combinators import Cautious, Lookahead, cautious, lookahead
from optimlab.optim.schedules import Demon
from optimlab.optim.spec import OptimizerSpec
from optimlab.optim.transforms import DecoupledWeightDecay

OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer")

#: Default weight decay of ``<name>w`` where the reference does not fix it
#: (``torch.optim.AdamW``'s). Registered names may override it (``nadamw``: 0).
DEFAULT_DECOUPLED_WEIGHT_DECAY = 1e-2


def register(
    name: str,
    recipe: Callable[..., Transform],
    *,
    defaults: Mapping[str, Any],
    checks: Mapping[str, spec_checks.Check] | None = None,
    momentum: str | None = None,
    paper: str = "",
    reference: str = "",
    cross_checks: Callable[[str, Mapping[str, Any]], None] | None = None,
    decoupled_weight_decay: float = DEFAULT_DECOUPLED_WEIGHT_DECAY,
    step_counts: str = "parameter",
    search: Mapping[str, Any] | None = None,
) -> OptimizerSpec:
    """Register a new optimizer ``name`` built by ``recipe(**hyperparameters)``.

    After this, ``create(name, ...)``, the command line, the comparison and the
    compositions ``<name>w``, ``demon-<name>`` (when ``momentum`` names the
    coefficient to decay: ``"momentum"`` or ``"betas"``) and ``lookahead-<name>``
    all accept it.

    Parameters
    ----------
    name : str
        Lower-case, without ``-`` prefixes of its own.
    recipe : callable
        Takes every hyperparameter of ``defaults`` as a keyword (``lr`` too) and
        returns a transform (usually ``chain(..., ScaleByLearningRate(lr))``).
        Its docstring should carry the update equations and the paper.
    defaults : mapping
        Every hyperparameter with its default; must include ``lr``.
    checks : mapping, optional
        ``name -> check(owner, name, value)`` range checks (see ``optimlab.optim.spec``).
    decoupled_weight_decay : float
        Default ``weight_decay`` of ``<name>w``.
    step_counts : {"parameter", "group"}
        Whether the recipe's step-dependent terms (bias corrections) count each
        parameter's own steps, as ``torch.optim`` does, or the group's, as the
        reference does (see :class:`~optimlab.optim.spec.OptimizerSpec`).
    search : mapping, optional
        The default search space of the tuning protocols (``optimlab compare
        --budget``): name -> dimension of :mod:`optimlab.optim.search` (or its
        dict form, ``{"log": [1e-5, 1e-1]}``). Default: ``lr`` log-uniform over
        two decades either side of its default.

    Examples
    --------
    >>> import numpy as np
    >>> from optimlab import optim
    >>> from optimlab.optim.base import chain
    >>> from optimlab.optim.transforms import ScaleByLearningRate, Trace
    >>> def heavy_ball(lr, momentum):
    ...     '''Heavy ball: b = momentum * b + g; p -= lr * b.'''
    ...     return chain(Trace(momentum), ScaleByLearningRate(lr))
    >>> _ = optim.register("heavyball", heavy_ball, defaults={"lr": 0.1, "momentum": 0.9},
    ...                    momentum="momentum")
    >>> "demon-heavyballw" in optim.available()
    True
    """
    if "lr" not in defaults:
        raise ValueError(f"register {name!r}: defaults must include 'lr'")
    _check_signature(name, recipe, defaults)
    if step_counts not in ("parameter", "group"):
        raise ValueError(
            f"register {name!r}: step_counts must be 'parameter' or 'group'; "
            f"received step_counts={step_counts!r}"
        )
    if momentum not in (None, "momentum", "betas") or (momentum and momentum not in defaults):
        raise ValueError(
            f"register {name!r}: momentum must be None, 'momentum' or 'betas' and among the "
            f"defaults; received momentum={momentum!r}"
        )
    space = _search_space(name, defaults, search)
    spec = OptimizerSpec(
        name=name,
        recipe=recipe,
        defaults=dict(defaults),
        checks=dict(checks or {}),
        paper=paper,
        reference=reference,
        momentum=momentum,
        cross_checks=cross_checks,
        wd_default=decoupled_weight_decay,
        demon_forms="demon_form" in inspect.signature(recipe).parameters,
        step_counts=step_counts,
        search=space,
    )
    OPTIMIZERS.register(name, spec)
    resolve.cache_clear()
    return spec


def _search_space(
    name: str, defaults: Mapping[str, Any], search: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The registered search space, parsed and checked against the hyperparameters."""
    if search is None:
        return search_spaces.default_space(defaults)
    where = f"register {name!r}: search"
    space = {k: search_spaces.parse_entry(where, k, v) for k, v in search.items()}
    for key in space:
        if key not in defaults:
            raise ValueError(
                f"{where} names {key!r}, which is not a hyperparameter of {name!r} "
                f"(it takes: {', '.join(defaults)})"
            )
    return space


def _check_signature(name: str, recipe: Callable[..., Transform], defaults: Mapping) -> None:
    """Every default is a keyword the recipe takes, and every argument it needs has a default."""
    try:
        parameters = inspect.signature(recipe).parameters
    except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
        return
    kinds = {p.kind for p in parameters.values()}
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        takes = [
            k for k, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        for key in defaults:
            if key not in takes:
                close = difflib.get_close_matches(key, takes, n=2, cutoff=0.6)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ValueError(
                    f"register {name!r}: defaults name {key!r}, which the recipe "
                    f"{getattr(recipe, '__name__', recipe)!r} does not take{hint} "
                    f"(it takes: {', '.join(takes)})"
                )
    for key, p in parameters.items():
        needed = p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        if needed and key not in defaults:
            raise ValueError(
                f"register {name!r}: the recipe needs {key!r}, which defaults does not give; "
                f"add {key!r} to defaults"
            )


# -- compositions -------------------------------------------------------------------------
def with_decoupled_weight_decay(base: OptimizerSpec) -> OptimizerSpec:
    """``<name>w``: the base optimizer after ``p <- p - lr_t * weight_decay * p``."""
    inner_defaults = {k: v for k, v in base.defaults.items() if k != "weight_decay"}

    def recipe(**hp: Any) -> Chain:
        wd = hp.pop("weight_decay")
        if "weight_decay" in base.defaults:
            hp["weight_decay"] = 0.0  # the base's own (coupled) decay is replaced
        return chain(DecoupledWeightDecay(wd, hp["lr"]), base.recipe(**hp))

    recipe.__doc__ = (
        r"Decoupled weight decay, then the base optimizer:"
        "\n\n    theta <- theta - lr_t * weight_decay * theta   (before the update, with the "
        "step's lr,\n    as torch.optim.AdamW; Loshchilov and Hutter, arXiv:1711.05101)\n\n"
        f"Base optimizer {base.name!r}:\n\n{base.equations}"
    )
    return replace(
        base,
        name=base.name + "w",
        recipe=recipe,
        defaults={**inner_defaults, "weight_decay": base.wd_default},
        checks={**base.checks, "weight_decay": spec_checks.nonnegative},
        search={**base.search, "weight_decay": search_spaces.WEIGHT_DECAY},
        reference=base.reference + " with decoupled weight decay",
        doc="",
    )


def with_demon(base: OptimizerSpec) -> OptimizerSpec:
    """``demon-<name>``: the base's momentum coefficient decayed by Demon over ``total_steps``."""
    if base.momentum is None:
        raise ValueError(
            f"demon-{base.name}: Demon decays a momentum coefficient and {base.name!r} has none; "
            f"expected one of: {', '.join(demon_capable())}"
        )
    key = base.momentum
    takes_form = base.demon_forms

    def recipe(**hp: Any) -> Transform:
        hp.pop("total_steps")  # already in the coefficient: beta_t, from derive
        return base.recipe(**hp)

    def derive(values: dict[str, Any], count: int) -> dict[str, Any]:
        """The coefficient at step ``count``: beta_t of Demon from the group's beta_0."""
        values = base.numbers(values, count)
        beta_t = Demon(_first(values[key]), values["total_steps"])(count)
        if key == "betas":
            return {**values, "betas": (beta_t, *values["betas"][1:])}
        return {**values, key: beta_t}

    recipe.__doc__ = (
        "Demon, decaying momentum (Chen et al., arXiv:1910.04952): before step t of T = "
        f"total_steps the coefficient {key!r}{'[0]' if key == 'betas' else ''} is\n\n"
        "    beta_t = beta_0 (1 - t/T) / ((1 - beta_0) + beta_0 (1 - t/T)),  0 from t = T on.\n\n"
        + (
            "demon_form='normalized' (default) keeps the base's dampened, exactly debiased "
            "moment\n(running weights w <- 1 + beta w, qhoptim's scheme), so the learning "
            "rate keeps its\nmeaning and Demon with a constant beta is the base optimizer; "
            "demon_form='paper'\nis the paper's Algorithm 2: m_t = g_t + beta_t m_{t-1}, "
            "undampened.\n\n"
            if takes_form
            else ""
        )
        + f"Base optimizer {base.name!r}:\n\n{base.equations}"
    )
    defaults = {**base.defaults, "total_steps": None}
    demon_checks = {**base.checks, "total_steps": spec_checks.positive_int}
    if takes_form:
        defaults["demon_form"] = "normalized"
    return replace(
        base,
        name="demon-" + base.name,
        recipe=recipe,
        derive=derive,
        defaults=defaults,
        checks=demon_checks,
        momentum=None,
        reference=base.reference + ", its momentum set to beta_t before each step",
        doc="",
    )


def _first(value: Any) -> float:
    """beta_0: the coefficient itself, or the first of ``betas``."""
    return float(value[0] if isinstance(value, tuple | list) else value)


def with_lookahead(base: OptimizerSpec) -> OptimizerSpec:
    """``lookahead-<name>``: the base's chain inside a Lookahead transform (k, alpha)."""
    # RMSprop has an ``alpha`` of its own: Lookahead's is then ``lookahead_alpha``.
    alpha = "lookahead_alpha" if "alpha" in base.defaults else "alpha"

    def recipe(**hp: Any) -> Transform:
        k, slow_step = hp.pop("k"), hp.pop(alpha)
        return lookahead(base.recipe(**hp), k, slow_step)

    return replace(
        base,
        name="lookahead-" + base.name,
        recipe=recipe,
        defaults={**base.defaults, "k": 5, alpha: 0.5},
        checks={**base.checks, "k": spec_checks.positive_int, alpha: spec_checks.closed_unit},
        momentum=None,
        reference="pytorch_optimizer.Lookahead (4.x) around " + base.reference,
        doc=Lookahead.__doc__ + f"\nInner optimizer {base.name!r}:\n\n{base.equations}",
    )


def with_cautious(base: OptimizerSpec) -> OptimizerSpec:
    """``cautious-<name>``: the base's steps through the cautious mask (no hyperparameter)."""

    def recipe(**hp: Any) -> Transform:
        return cautious(base.recipe(**hp))

    return replace(
        base,
        name="cautious-" + base.name,
        recipe=recipe,
        reference="the cautious mask of Liang et al.'s code and pytorch_optimizer's "
        "apply_cautious (4.x) around " + base.reference,
        doc=(Cautious.__doc__ or "") + f"\nInner optimizer {base.name!r}:\n\n{base.equations}",
    )


@functools.cache
def resolve(name: str) -> OptimizerSpec:
    """The spec behind ``name``, composed names included; ``ValueError`` if unknown.

    The grammar is ``[lookahead-][cautious-][demon-]<base>[w]``.
    """
    if not isinstance(name, str):
        raise ValueError(f"optimizer name must be a string; received {name!r}")
    if name in OPTIMIZERS:
        return OPTIMIZERS.get(name)
    rest = name
    lookahead = rest.startswith("lookahead-")
    rest = rest.removeprefix("lookahead-")
    if rest.startswith("lookahead-"):
        raise ValueError(f"unknown optimizer {name!r}: Lookahead cannot wrap itself")
    use_cautious = rest.startswith("cautious-")
    rest = rest.removeprefix("cautious-")
    if rest.startswith(("cautious-", "lookahead-")):
        raise ValueError(
            f"unknown optimizer {name!r}: the prefixes go in the order "
            "lookahead-cautious-demon-<name>w, each once"
        )
    use_demon = rest.startswith("demon-")
    rest = rest.removeprefix("demon-")
    if rest in OPTIMIZERS:
        spec = OPTIMIZERS.get(rest)
    elif rest.endswith("w") and rest[:-1] in OPTIMIZERS:
        if rest[:-1].endswith("w"):
            raise ValueError(
                f"unknown optimizer {name!r}: {rest[:-1]!r} already has decoupled weight decay"
            )
        spec = with_decoupled_weight_decay(OPTIMIZERS.get(rest[:-1]))
    else:
        raise ValueError(_unknown(name))
    if use_demon:
        spec = with_demon(spec)
    if use_cautious:
        spec = with_cautious(spec)
    if lookahead:
        spec = with_lookahead(spec)
    return spec


def _unknown(name: str) -> str:
    prefix = ""
    rest = name
    for p in ("lookahead-", "cautious-", "demon-"):
        if rest.startswith(p):
            prefix, rest = prefix + p, rest.removeprefix(p)
    candidates = OPTIMIZERS.names() + [n + "w" for n in OPTIMIZERS.names()]
    close = difflib.get_close_matches(rest, candidates, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(prefix + c) for c in close)}?" if close else ""
    return (
        f"unknown optimizer {name!r}{hint} (known: {', '.join(OPTIMIZERS.names())}; "
        "each also as <name>w, demon-<name> where it has momentum, cautious-<name>, "
        "lookahead-<name>)"
    )


def demon_capable() -> list[str]:
    """Base names with a momentum coefficient that Demon can decay."""
    return [n for n in OPTIMIZERS.names() if OPTIMIZERS.get(n).momentum is not None]


def available() -> list[str]:
    """Every name the registry accepts: base names and their compositions."""
    names = []
    for base in OPTIMIZERS.names():
        variants = [base] if base.endswith("w") else [base, base + "w"]
        if OPTIMIZERS.get(base).momentum is not None:
            variants += ["demon-" + base, "demon-" + base + "w"]
        names += variants
    plain = [n for n in names if not n.startswith("demon-")]
    names += ["lookahead-" + n for n in list(names)]
    # cautious- goes on every name (resolve takes them all); listed on the base names
    # and their w forms, so that the conformance table does not double.
    names += ["cautious-" + n for n in plain]
    return [n for n in names if _accepted(n)]


def _accepted(name: str) -> bool:
    try:
        resolve(name)
    except ValueError:
        return False
    return True


def hyperparameters_of(name: str) -> dict[str, Any]:
    """The hyperparameters the optimizer ``name`` takes, with their defaults."""
    return dict(resolve(name).defaults)


def create(name: str, params: Any, *, horizon: int | None = None, **hyperparameters: Any) -> Any:
    """Build the optimizer ``name`` over ``params``.

    ``horizon``, the run's number of optimizer steps, fills the
    hyperparameters that depend on it when they are not given (Demon's
    ``total_steps``). Raises ``ValueError`` for an unknown name (listing close
    matches), a hyperparameter the optimizer does not take, or a value out of
    range (:meth:`OptimizerSpec.check`).

    Examples
    --------
    >>> import numpy as np
    >>> from optimlab import nn, optim
    >>> model = nn.Dense(3, 2, rng=np.random.default_rng(0))
    >>> opt = optim.create("sgd", model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.param_groups[0]["momentum"]
    0.9
    """
    from optimlab.optim.optimizer import Optimizer

    spec = resolve(name)
    if horizon is not None:
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"{name}: horizon must be an integer >= 1; received {horizon!r}")
        if "total_steps" in spec.defaults and hyperparameters.get("total_steps") is None:
            hyperparameters["total_steps"] = horizon
    return Optimizer(params, spec, **hyperparameters)
