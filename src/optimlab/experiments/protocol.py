"""Tuning with an equal budget: search spaces, quasi-random trials, presets from the literature.

A sweep with a ``budget`` (``optimlab compare --budget N``) or a ``protocol``
does not run a learning-rate grid. For every optimizer it

1. draws ``N`` configurations from the optimizer's search space (quasi-random:
   a scrambled Sobol or Halton sequence in the unit cube, seeded by
   ``search_seed``, mapped through the space's dimensions; see
   :mod:`optimlab.optim.search`), the same ``N`` for every optimizer;
2. trains each once, with the trial seed (the first of ``seeds``);
3. picks the best trial on validation (the lowest mean final validation loss,
   or highest accuracy: the problem's metric; ties: the earlier trial), or, for
   AlgoPerf, the trial that reaches the validation target in the fewest steps;
4. re-runs that configuration with the ``final_seeds`` (a run that is already
   stored, such as the trial itself at its seed, is not run again).

Every trial is an ordinary stored run whose id is its configuration, and the
trials are drawn in order from one sequence, so a killed protocol resumes, and a
larger budget reuses the trials already run (trial k is the same configuration
whatever the budget). The coordinator records which run is trial k of which
optimizer in the store's ``trials`` table.

Every optimizer draws from the same scrambled sequence (common random numbers):
coordinates are taken in the order of its search space, ``lr`` first.
"""

from __future__ import annotations

import difflib
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optimlab.optim import resolve
from optimlab.optim import search as spaces
from optimlab.optim.schedules import SCHEDULES

if TYPE_CHECKING:
    from optimlab.experiments.config import RunSpec, SweepConfig

#: Keys of a search space that are not the optimizer's hyperparameters.
RUN_DIMENSIONS = ("lr", "schedule", "warmup")
SEQUENCES = ("sobol", "halton")

#: DeepOBS's baseline grid: 36 rates, 10**(-5 + k/5) for k = 0..35 (1e-5 to 10**2).
DEEPOBS_GRID = tuple(10 ** (-5 + k / 5) for k in range(36))


@dataclass(frozen=True)
class Preset:
    """A tuning protocol named after its source.

    ``kind``: ``"quasi-random"`` (draws from the search space), ``"grid"``
    (DeepOBS's learning-rate grid, other hyperparameters as the sweep sets them)
    or ``"defaults"`` (one trial at the optimizer's defaults: Crowded Valley's
    one-shot). ``budgets``: named budgets (trials per study). ``select``:
    ``"final"`` (best final validation value) or ``"time"`` (fewest steps to the
    validation target).
    """

    name: str
    source: str
    kind: str
    budget: int
    studies: int
    final_seeds: int
    select: str
    budgets: Mapping[str, int]
    note: str


PRESETS: dict[str, Preset] = {
    "crowded-valley": Preset(
        "crowded-valley",
        "Schmidt, Schneider and Hennig, 'Descending through a Crowded Valley - Benchmarking "
        "Deep Learning Optimizers', ICML 2021, arXiv:2007.01547",
        "quasi-random",
        25,
        1,
        10,
        "final",
        {"one-shot": 0, "small": 25, "medium": 50, "large": 75},
        "budgets one-shot (the defaults), small (25 trials), medium (50), large (75); the "
        "best trial re-run with 10 seeds (the authors' results, SirRob1997/Crowded-Valley---"
        "Results: the tuning seed 42 and seeds 43-51). The trial counts could not be checked "
        "against the paper's text here (the results repository holds the one-shot and large "
        "budgets only). The paper drew its trials at random; optimlab draws them "
        "quasi-randomly, and tunes on the validation split.",
    ),
    "deepobs": Preset(
        "deepobs",
        "Schneider, Balles and Hennig, 'DeepOBS: A Deep Learning Optimizer Benchmark Suite', "
        "ICLR 2019, arXiv:1903.05499",
        "grid",
        len(DEEPOBS_GRID),
        1,
        10,
        "final",
        {},
        "the learning rate on 36 log-spaced rates 10**(-5 + k/5), k = 0..35, one seed each "
        "(other hyperparameters as the sweep sets them), then the best rate with 10 seeds; "
        "DeepOBS chose on the test set, optimlab on the validation split.",
    ),
    "algoperf": Preset(
        "algoperf",
        "Dahl et al., 'Benchmarking Neural Network Training Algorithms', arXiv:2306.07179 "
        "(AlgoPerf, external tuning ruleset)",
        "quasi-random",
        5,
        5,
        0,
        "time",
        {},
        "5 independent studies of 5 quasi-random trials each; in each study the trial that "
        "reaches the validation target in the fewest steps; the problem's time to target is "
        "the median over the studies (a study none of whose trials reaches it: infinite). "
        "Scaled down from AlgoPerf's 8 GPUs: steps and epochs instead of wall-clock time on "
        "fixed hardware.",
    ),
}
PROTOCOLS = tuple(PRESETS)


@dataclass(frozen=True)
class Plan:
    """A sweep's protocol with every number settled."""

    protocol: str
    kind: str
    budget: int
    studies: int
    final_seeds: tuple[int, ...]
    trial_seed: int
    select: str
    sequence: str
    search_seed: int

    def record(self) -> dict[str, Any]:
        """The store's ``protocol`` setting (JSON)."""
        return {
            "protocol": self.protocol, "kind": self.kind, "budget": self.budget,
            "studies": self.studies, "final_seeds": list(self.final_seeds),
            "trial_seed": self.trial_seed, "select": self.select, "sequence": self.sequence,
            "search_seed": self.search_seed,
        }  # fmt: skip

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Plan:
        data = dict(record)
        data["final_seeds"] = tuple(data.get("final_seeds", ()))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @property
    def source(self) -> str:
        preset = PRESETS.get(self.protocol)
        return preset.source if preset else ""

    def describe(self) -> str:
        """One sentence for a report."""
        if self.kind == "defaults":
            trials = "one trial at each optimizer's defaults"
        elif self.kind == "grid":
            trials = f"a grid of {self.budget} learning rates, one seed each"
        else:
            trials = f"{self.budget} quasi-random trials ({self.sequence}, seed {self.search_seed})"
            if self.studies > 1:
                trials = f"{self.studies} studies of {trials}"
        pick = (
            "the trial with the fewest steps to the validation target"
            if self.select == "time"
            else "the trial with the best final validation value"
        )
        finals = (
            f"re-run with seeds {', '.join(map(str, self.final_seeds))}"
            if self.final_seeds
            else "not re-run"
        )
        name = {"quasi-random": "quasi-random search"}.get(self.protocol, self.protocol)
        return f"Protocol {name}: {trials} at seed {self.trial_seed}; {pick}; {finals}."


def plan_of(config: SweepConfig) -> Plan | None:
    """The protocol of a sweep (``None``: a grid sweep); ``ValueError`` for bad settings."""
    if config.protocol is None and config.budget is None:
        return None
    preset = PRESETS.get(config.protocol) if config.protocol is not None else None
    if config.protocol is not None and preset is None:
        close = difflib.get_close_matches(str(config.protocol), PROTOCOLS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"compare: unknown --protocol {config.protocol!r}{hint} (expected one of "
            f"{', '.join(PROTOCOLS)})"
        )
    kind = preset.kind if preset else "quasi-random"
    budget = _budget(config.budget, preset)
    if budget == 0:
        kind = "defaults"
    if kind == "grid" and config.budget is not None:
        raise ValueError(
            f"compare: --protocol deepobs runs its grid of {len(DEEPOBS_GRID)} learning rates; "
            f"--budget does not apply to it (received --budget {config.budget!r})"
        )
    studies = config.studies if config.studies is not None else (preset.studies if preset else 1)
    if isinstance(studies, bool) or not isinstance(studies, int) or studies < 1:
        raise ValueError(f"compare: --studies must be an integer >= 1; received {studies!r}")
    if config.sequence not in SEQUENCES:
        raise ValueError(
            f"compare: sequence must be one of {', '.join(SEQUENCES)}; received {config.sequence!r}"
        )
    trial_seed = config.seeds[0] if config.seeds else 0
    finals = config.final_seeds
    if finals is None:
        count = preset.final_seeds if preset else 0
        finals = list(range(count)) if preset else list(config.seeds)
    return Plan(
        protocol=preset.name if preset else "quasi-random", kind=kind,
        budget=1 if kind == "defaults" else budget,
        studies=1 if kind != "quasi-random" else studies,
        final_seeds=tuple(finals), trial_seed=trial_seed,
        select=preset.select if preset else "final", sequence=config.sequence,
        search_seed=config.search_seed,
    )  # fmt: skip


def _budget(budget: int | str | None, preset: Preset | None) -> int:
    if budget is None:
        return preset.budget if preset else 0
    if isinstance(budget, str):
        named = preset.budgets if preset else {}
        if budget in named:
            return named[budget]
        if budget.isdigit():
            budget = int(budget)
        else:
            names = f"a number or one of {', '.join(named)}" if named else "a number of trials"
            raise ValueError(f"compare: --budget must be {names}; received {budget!r}")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(
            f"compare: --budget must be an integer >= 1 (trials per optimizer); received {budget!r}"
        )
    return budget


# -- search spaces --------------------------------------------------------------------------
def space_of(config: SweepConfig, optimizer: str) -> dict[str, Any]:
    """The search space of ``optimizer`` in this sweep.

    Its ``[optimizer.NAME.search]`` table when the sweep gives one; otherwise
    the optimizer's registered default (:attr:`OptimizerSpec.search`) without the
    hyperparameters the sweep fixes (``[hyperparameters]``, ``[optimizer.NAME]``,
    or a single ``lrs`` value for ``lr``).
    """
    spec = resolve(optimizer)
    own = config.per_optimizer.get(optimizer, {})
    where = f"{config.source or 'compare'}: [optimizer.{optimizer}.search]"
    if "search" in own:
        table = own["search"]
        space = {k: spaces.parse_entry(where, k, v) for k, v in table.items()}
        for key in space:
            if key not in spec.defaults and key not in RUN_DIMENSIONS:
                close = difflib.get_close_matches(key, [*RUN_DIMENSIONS, *spec.defaults], n=2)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ValueError(
                    f"{where}: {key!r} is not a hyperparameter of {optimizer}{hint} (expected "
                    f"lr, schedule, warmup or one of {', '.join(spec.defaults)})"
                )
        fixed = set(config.hyperparameters_of(optimizer))
        both = sorted(k for k in space if k in fixed and k in own)
        if both:
            raise ValueError(
                f"{where}: {both[0]!r} is both fixed in [optimizer.{optimizer}] and searched; "
                "give it in one place"
            )
    else:
        fixed = set(config.hyperparameters_of(optimizer))
        space = {k: v for k, v in spec.search.items() if k not in fixed}
    if config.grid(optimizer):
        grid = config.grid(optimizer)
        if len(grid) != 1 or "lr" in own.get("search", {}):
            raise ValueError(
                f"compare: a search budget draws the learning rate of {optimizer} from its "
                f"search space; received the grid lrs = {grid} as well (give one rate to fix "
                "lr, or none)"
            )
        space.pop("lr", None)
    _check_space(where, optimizer, space, config)
    _check_ends(where, spec, space)
    return space


def _probes(entry: Any) -> list[Any]:
    """The values that bound what an entry can draw: a range's ends, every choice; for a
    tuple, every combination of its entries' probes."""
    if isinstance(entry, spaces.Dimension):
        if entry.kind == "choice":
            return list(entry.choices)
        return [entry.low, int(entry.high) if entry.kind == "int" else entry.high]
    if isinstance(entry, tuple):
        return [tuple(p) for p in itertools.product(*(_probes(e) for e in entry))]
    return [entry]


def _check_ends(where: str, spec: Any, space: Mapping[str, Any]) -> None:
    """Every value a dimension can draw passes the optimizer's checks (tested at its ends
    and choices), so that no budget, however large, draws one that fails later."""
    for key, entry in space.items():
        if key == "warmup":
            ints = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in _probes(entry))  # fmt: skip
            if not ints or (isinstance(entry, spaces.Dimension) and entry.kind not in
                            ("int", "choice")):  # fmt: skip
                raise ValueError(
                    f"{where}: warmup = {_shown(entry)} draws steps of warm-up: give "
                    "{int = [a, b]} with a >= 0, a choice of such integers, or one"
                )
            continue
        if key == "schedule":
            continue
        default = spec.defaults.get(key) if key != "lr" else 0.0
        if isinstance(default, tuple) and not (
            isinstance(entry, tuple) and len(entry) == len(default)
        ):
            raise ValueError(
                f"{where}: {key} = {_shown(entry)}: {spec.name}'s {key} is a tuple of "
                f"{len(default)} (default {list(default)}); give a list of {len(default)} "
                "entries, each a dimension or a number"
            )
        check = spec.checks.get(key)
        for value in _probes(entry):
            try:
                if key == "lr" and not (
                    isinstance(value, int | float) and not isinstance(value, bool) and value > 0
                ):
                    raise ValueError(f"{spec.name}: lr must be > 0; received lr={value!r}")
                if check is not None:
                    check(spec.name, key, value)
            except ValueError as exc:
                raise ValueError(f"{where}: {key} = {_shown(entry)} can draw {value!r}: {exc}"
                                 ) from exc  # fmt: skip


def _shown(entry: Any) -> str:
    form = spaces.form(entry)
    if isinstance(form, dict):
        ((kind, value),) = form.items()
        return f"{{{kind} = {value}}}"
    return repr(form)


def check_kind(config: SweepConfig, plan: Plan) -> None:
    """``ValueError`` for settings the plan's kind of trials would ignore: a grid of rates
    or search tables for DeepOBS's grid or one-shot defaults, studies beyond one."""
    if plan.kind == "quasi-random":
        return
    what = "--protocol deepobs runs its own grid of 36 rates" if plan.kind == "grid" else (
        "a one-shot budget runs each optimizer's defaults")  # fmt: skip
    for name in config.optimizers:
        own = config.per_optimizer.get(name, {})
        if "search" in own:
            raise ValueError(f"compare: {what}; the search space [optimizer.{name}.search] "
                             "would not be used (remove it, or give --budget N)")  # fmt: skip
        if config.grid(name):
            raise ValueError(f"compare: {what}; received the rates lrs = "
                             f"{config.grid(name)} for {name} (remove them)")  # fmt: skip
    if config.studies not in (None, 1):
        raise ValueError(f"compare: {what} once; --studies {config.studies} applies to "
                         "quasi-random trials")  # fmt: skip


def check_distinct(plan: Plan, trials: Sequence[Trial]) -> None:
    """``ValueError`` when a study's trials repeat a configuration (a space of choices
    and integers smaller than the budget): the budget would not be N distinct trials."""
    seen: dict[tuple[str, int], set[str]] = {}
    for t in trials:
        seen.setdefault((t.optimizer, t.study), set()).add(t.spec.run_id)
    for (name, study), ids in seen.items():
        if len(ids) < plan.budget:
            raise ValueError(
                f"compare: {name}'s search space gives {len(ids)} distinct configurations in "
                f"the {plan.budget} trials of study {study} (it holds only choices and "
                "integers, or they are too few): lower --budget, or add a continuous "
                "dimension such as lr = {log = [a, b]}"
            )


def _check_space(where: str, optimizer: str, space: Mapping[str, Any], config: Any) -> None:
    if "lr" not in space and len(config.grid(optimizer)) != 1:
        raise ValueError(
            f"{where}: the search space of {optimizer} has no lr; add lr = {{log = [a, b]}} or "
            "fix one rate with lrs = [x]"
        )
    schedule = space.get("schedule")
    for name in getattr(schedule, "choices", ()) or ([schedule] if schedule else []):
        if isinstance(name, str):
            SCHEDULES.get(name)
        elif not isinstance(name, spaces.Dimension):
            raise ValueError(f"{where}: schedule choices are schedule names; received {name!r}")
    if isinstance(space.get("schedule"), spaces.Dimension) and space["schedule"].kind != "choice":
        raise ValueError(f"{where}: schedule = {{choice = [...]}} of schedule names")


def space_record(config: SweepConfig) -> dict[str, Any]:
    """Every optimizer's search space, in its TOML form (for the store and the report);
    empty for trials that draw nothing (DeepOBS's grid, one-shot defaults)."""
    if config.plan().kind != "quasi-random":
        return {}
    return {n: {k: spaces.form(v) for k, v in space_of(config, n).items()}
            for n in config.optimizers}  # fmt: skip


# -- trials ---------------------------------------------------------------------------------
#: The sequence is drawn in this many dimensions and a space reads its first ones, so that
#: every optimizer's k-th coordinate is the same number (common random numbers), whatever
#: the size of its space.
DRAW_DIMENSIONS = 32


def points(plan: Plan, dimensions: int, count: int, study: int) -> np.ndarray:
    """The first ``count`` points of study ``study``'s sequence, shape (count, dimensions).

    Scrambled Sobol or Halton (SciPy's ``qmc``) in :data:`DRAW_DIMENSIONS`
    dimensions, seeded by ``(search_seed, study)``, of which the first
    ``dimensions`` are returned: the first k points are the same whatever
    ``count`` is, and coordinate j is the same for every space.
    """
    from scipy.stats import qmc

    if dimensions > DRAW_DIMENSIONS:
        raise ValueError(
            f"compare: a search space of {dimensions} dimensions; at most {DRAW_DIMENSIONS} "
            "are drawn"
        )
    rng = np.random.default_rng(np.random.SeedSequence([plan.search_seed, study]))
    kind = qmc.Sobol if plan.sequence == "sobol" else qmc.Halton
    engine = kind(DRAW_DIMENSIONS, scramble=True, seed=rng)
    with warnings.catch_warnings():  # Sobol's balance warning for counts not powers of 2
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(count)[:, :dimensions]


@dataclass(frozen=True)
class Trial:
    """Trial ``trial`` of study ``study`` of one optimizer, as a run of the sweep."""

    optimizer: str
    study: int
    trial: int
    spec: RunSpec


def trial_values(config: SweepConfig, plan: Plan, optimizer: str) -> list[list[dict[str, Any]]]:
    """Per study, the configurations of its trials: ``{"lr", "hyperparameters",
    "schedule", "warmup"}``."""
    fixed = config.hyperparameters_of(optimizer)
    schedule, warmup = config.schedule_of(optimizer)
    grid = config.grid(optimizer)
    if plan.kind == "grid":
        drawn = [[{"lr": lr} for lr in DEEPOBS_GRID]]
    elif plan.kind == "defaults":
        drawn = [[{"lr": grid[0] if grid else float(resolve(optimizer).defaults["lr"])}]]
    else:
        space = space_of(config, optimizer)
        n = spaces.dimensions(space)
        drawn = [
            [spaces.sample(space, p) for p in points(plan, n, plan.budget, study)]
            for study in range(plan.studies)
        ]
    studies = []
    for values in drawn:
        trials = []
        for v in values:
            v = dict(v)
            lr = float(v.pop("lr", grid[0] if grid else 0.0))
            run_schedule, run_warmup = v.pop("schedule", schedule), int(v.pop("warmup", warmup))
            hp = {**fixed, **v}
            trials.append({"lr": lr, "hyperparameters": hp, "schedule": run_schedule,
                           "warmup": run_warmup})  # fmt: skip
        studies.append(trials)
    return studies


def trials_of(config: SweepConfig, plan: Plan) -> list[Trial]:
    """Every trial of the sweep, in a stable order (optimizer, study, trial)."""
    from optimlab.experiments.config import RunSpec

    plugins = config.plugin_records()
    found = []
    for name in config.optimizers:
        for study, values in enumerate(trial_values(config, plan, name)):
            for index, v in enumerate(values):
                spec = RunSpec(
                    config.problem, name, v["lr"], plan.trial_seed, v["hyperparameters"],
                    config, plugins, schedule=v["schedule"], warmup=v["warmup"],
                )  # fmt: skip
                found.append(Trial(name, study, index, spec))
    return found


def finals_of(plan: Plan, chosen: Mapping[str, RunSpec]) -> list[RunSpec]:
    """The chosen configurations at every final seed (the order of ``chosen``, then seeds)."""
    from dataclasses import replace

    return [replace(spec, seed=seed) for spec in chosen.values() for seed in plan.final_seeds]


# -- choosing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What selection needs of one trial: its final validation score and steps to target
    (``None``: not scored yet / never reached), in the metric's sign (``sign``: +1 when
    higher is better)."""

    score: float | None
    steps_to_target: float | None
    sign: float


def best_index(plan: Plan, outcomes: Sequence[Outcome]) -> int | None:
    """The index of the best trial under the plan's rule; ``None`` when none is scored.

    ``"final"``: the best final validation value (ties: the earlier trial).
    ``"time"``: the fewest steps to the target, a trial that never reaches it
    last; ties by the final value, then the earlier trial.
    """
    scored = [(i, o) for i, o in enumerate(outcomes) if o.score is not None]
    if not scored:
        return None

    def key(item: tuple[int, Outcome]) -> tuple[float, ...]:
        i, o = item
        value = -o.sign * float(o.score)  # smaller is better
        if plan.select == "time":
            steps = math.inf if o.steps_to_target is None else float(o.steps_to_target)
            return (steps, value, i)
        return (value, i)

    return min(scored, key=key)[0]


__all__ = [
    "DEEPOBS_GRID", "PRESETS", "PROTOCOLS", "Outcome", "Plan", "Preset", "Trial", "best_index",
    "finals_of", "plan_of", "points", "space_of", "space_record", "trial_values", "trials_of",
]  # fmt: skip
