"""What a sweep runs: the configuration, its TOML form, and the runs it expands to.

A sweep is one problem, several optimizers, a learning-rate grid per optimizer,
several seeds. Each (optimizer, lr, seed) is a run whose ``run_id`` is derived
from its full configuration, so running the same sweep again finds its runs,
and adding optimizers, rates or seeds adds runs to the same store.

The TOML form (``--config sweep.toml``; the sweep actually run is written to
``OUT/config.toml``)::

    problem = "fmnist-mlp"
    optimizers = ["adam", "nesterov", "demon-qhadamw"]
    lrs = [1e-3, 1e-2]            # the grid of every optimizer without its own
    seeds = [0, 1, 2]
    epochs = 10
    batch_size = 128
    schedule = "cosine"           # learning-rate schedule (constant by default)
    warmup = 100                  # steps of linear warm-up
    init = "he"                   # weight initialiser (default: the problem's)
    tune = true
    plugins = ["my_optimizers.py"]  # files (relative to this file) or modules to import first

    [hyperparameters]             # for every optimizer that takes them
    weight_decay = 0.01

    [optimizer.nesterov]          # one optimizer's own grid and hyperparameters
    lrs = [0.01, 0.03, 0.1]
    momentum = 0.95
    schedule = "step"             # and its own schedule (and warmup), if it differs

Tuning with an equal budget instead of a grid (:mod:`optimlab.experiments.protocol`)::

    budget = 16                   # quasi-random trials per optimizer, at the first seed
    final_seeds = [0, 1, 2]       # the best trial re-run with these seeds
    protocol = "crowded-valley"   # or "deepobs", "algoperf": presets from the literature
    sequence = "sobol"            # or "halton"; search_seed = 0 seeds its scrambling

    [optimizer.adam.search]       # its search space (default: the optimizer's own)
    lr = {log = [1e-5, 1e-1]}
    betas = [{log1m = [0.5, 0.999]}, 0.999]
    schedule = {choice = ["constant", "cosine", "warmup-cosine"]}
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from optimlab.experiments import plugins as plugin_files
from optimlab.experiments.plugins import Plugin
from optimlab.experiments.problems import PROBLEMS
from optimlab.experiments.run import RunConfig, run_id
from optimlab.io import atomic_write
from optimlab.nn.init import INITIALIZERS
from optimlab.optim import resolve
from optimlab.optim.schedules import SCHEDULES

#: Keys of an ``[optimizer.NAME]`` section that are not hyperparameters.
RUN_KEYS = ("lrs", "schedule", "warmup", "search")

#: The largest seed, epoch count or size: what SQLite's INTEGER and NumPy's seeds hold.
MAX_INT = 2**63 - 1

#: Every key of a sweep file and the TOML type it takes (``number``: integer or float).
KEY_TYPES = {
    "problem": "string", "optimizers": "list of strings", "lrs": "list of numbers",
    "seeds": "list of integers", "epochs": "integer", "batch_size": "integer",
    "schedule": "string", "warmup": "integer", "tune": "true or false",
    "val_fraction": "number", "train_subset": "integer", "target_accuracy": "number",
    "target": "number",
    "hyperparameters": "table", "optimizer": "table of tables", "init": "string",
    "plugins": "list of strings", "budget": "integer or budget name",
    "final_seeds": "list of integers or a count", "protocol": "string", "studies": "integer",
    "search_seed": "integer", "sequence": "string", "diagnostics": "true or false",
    "landscape": "true or false",
}  # fmt: skip
KEYS = set(KEY_TYPES)
RUN_KEY_TYPES = {
    "lrs": "list of numbers",
    "schedule": "string",
    "warmup": "integer",
    "search": "table",
}


def _is(value: Any, kind: str) -> bool:
    """Whether a TOML value is of ``kind`` (a :data:`KEY_TYPES` value)."""

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": number,
        "true or false": lambda v: isinstance(v, bool),
        "table": lambda v: isinstance(v, dict),
        "table of tables": lambda v: (
            isinstance(v, dict) and all(isinstance(x, dict) for x in v.values())
        ),
        "list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "list of numbers": lambda v: isinstance(v, list) and all(number(x) for x in v),
        "list of integers": lambda v: (
            isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        ),
        "integer or budget name": lambda v: isinstance(v, str) or checks["integer"](v),
        "list of integers or a count": lambda v: (
            checks["list of integers"](v) or checks["integer"](v)
        ),
    }
    return checks[kind](value)


def _named(kind: str) -> str:
    """``kind`` with its article: "an integer", "a list of numbers", "true or false"."""
    if kind == "true or false":
        return kind
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _check_types(path: Any, data: dict[str, Any]) -> None:
    """``ValueError`` naming the file, the key, the type it takes and the value received."""
    for key, value in data.items():
        kind = KEY_TYPES[key]
        if not _is(value, kind):
            raise ValueError(
                f"{path}: {key} must be {_named(kind)}; received {key} = {_shown(value)}"
            )
    for name, section in data.get("optimizer", {}).items():
        for key, kind in RUN_KEY_TYPES.items():
            if key in section and not _is(section[key], kind):
                raise ValueError(
                    f"{path}: [optimizer.{name}] {key} must be {_named(kind)}; received "
                    f"{key} = {_shown(section[key])}"
                )


def _shown(value: Any) -> str:
    return _toml_value(value) if isinstance(value, str | int | float | bool | list) else repr(value)


@dataclass
class SweepConfig:
    """A sweep: one problem, optimizers x learning rates x seeds."""

    problem: str = "fmnist-mlp"
    optimizers: list[str] = field(default_factory=lambda: ["sgd", "adam"])
    lrs: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    epochs: int = 5
    batch_size: int = 128
    schedule: str = "constant"
    warmup: int = 0
    tune: bool = False
    val_fraction: float = 0.1
    train_subset: int | None = None
    target_accuracy: float | None = None
    #: The target in the problem's metric (a validation accuracy or loss); default: the
    #: problem's. ``target_accuracy`` is the same for a classifier.
    target: float | None = None
    init: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    per_optimizer: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Plugin files (absolute, or relative to the working directory) or module names.
    plugins: list[str] = field(default_factory=list)
    #: Tuning with an equal budget (:mod:`optimlab.experiments.protocol`): trials per
    #: optimizer (an integer, or a preset's budget name such as "small"), the preset,
    #: the seeds of the re-runs of the best trial, the number of studies (AlgoPerf), the
    #: quasi-random sequence and the seed of its scrambling.
    budget: int | str | None = None
    protocol: str | None = None
    final_seeds: list[int] | None = None
    studies: int | None = None
    sequence: str = "sobol"
    search_seed: int = 0
    #: Per-layer diagnostics in every run (:mod:`optimlab.train.diagnostics`), and the
    #: weights kept along every run for ``optimlab landscape``: both part of the runs'
    #: identity (:class:`~optimlab.experiments.run.RunConfig`).
    diagnostics: bool = False
    landscape: bool = False
    #: The sweep file this came from (named in errors; not part of the sweep).
    source: str | None = field(default=None, compare=False, repr=False)

    def effective_target(self) -> float:
        """The target of the sweep: ``target``, ``target_accuracy``, else the problem's."""
        for value in (self.target, self.target_accuracy):
            if value is not None:
                return value
        return PROBLEMS.get(self.problem).target

    # -- building -------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> SweepConfig:
        """Read a sweep file (``ValueError`` naming an unknown key or a bad file)."""
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML ({exc})") from exc
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); a sweep file is "
                "TOML in UTF-8"
            ) from exc
        except OSError as exc:
            raise ValueError(f"--config {str(path)!r} cannot be read: {exc.strerror}") from exc
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], path: str | os.PathLike[str], *, base: Path | None = None
    ) -> SweepConfig:
        """A sweep from the TOML table ``data`` (read from ``path``, named in errors;
        plugin files relative to ``base``, by default the file's folder)."""
        data = dict(data)
        unknown = set(data) - KEYS
        if unknown:
            raise ValueError(
                f"{path}: unknown key(s) {', '.join(sorted(map(repr, unknown)))}; "
                f"expected some of {', '.join(sorted(KEYS))}"
            )
        _check_types(path, data)
        per = {name: dict(section) for name, section in data.pop("optimizer", {}).items()}
        plugins = data.pop("plugins", [])
        if isinstance(data.get("final_seeds"), int):  # a count: seeds 0..N-1
            data["final_seeds"] = list(range(data["final_seeds"]))
        config = cls(**{k: v for k, v in data.items()})
        # Files relative to the TOML file; module names as they are.
        here = base if base is not None else Path(path).resolve().parent
        config.plugins = [
            str(here / p) if p.endswith(".py") and not os.path.isabs(p) else p for p in plugins
        ]
        config.per_optimizer = per
        if "optimizers" not in data and per:
            config.optimizers = list(per)
        config.source = str(path)
        return config

    def to_toml(self) -> str:
        """The TOML text of this configuration (read back by :meth:`from_toml`)."""
        lines = []
        scalars = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("hyperparameters", "per_optimizer", "source")
        }
        for key, value in scalars.items():
            if value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        if self.hyperparameters:
            lines += ["", "[hyperparameters]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in self.hyperparameters.items()]
        for name, section in self.per_optimizer.items():
            lines += ["", f'[optimizer."{name}"]']
            lines += [f"{k} = {_toml_value(v)}" for k, v in section.items() if k != "search"]
            if "search" in section:
                lines += ["", f'[optimizer."{name}".search]']
                lines += [f"{k} = {_toml_value(v)}" for k, v in section["search"].items()]
        return "\n".join(lines) + "\n"

    def write(self, path: str | os.PathLike[str]) -> None:
        atomic_write(path, lambda f: f.write(self.to_toml()))

    # -- plugins --------------------------------------------------------------------
    def plugin_records(self) -> tuple[Plugin, ...]:
        """The plugins, found and imported in this process (their optimizers registered)."""
        found = tuple(plugin_files.find(p) for p in self.plugins)
        plugin_files.load(found)
        return found

    # -- checks ---------------------------------------------------------------------
    def grid(self, optimizer: str) -> list[float]:
        """The learning rates of ``optimizer``: its own, else the sweep's."""
        own = self.per_optimizer.get(optimizer, {}).get("lrs")
        return [float(v) for v in (own if own is not None else self.lrs)]

    def hyperparameters_of(self, optimizer: str) -> dict[str, Any]:
        """The sweep-wide hyperparameters it takes, then its own (tuples from TOML lists)."""
        takes = resolve(optimizer).defaults
        hp = {k: v for k, v in self.hyperparameters.items() if k in takes}
        own = self.per_optimizer.get(optimizer, {})
        hp.update({k: v for k, v in own.items() if k not in RUN_KEYS})
        return {k: tuple(v) if isinstance(v, list) else v for k, v in hp.items()}

    def schedule_of(self, optimizer: str) -> tuple[str, int]:
        """The learning-rate schedule and warm-up of ``optimizer``: its own, else the sweep's."""
        own = self.per_optimizer.get(optimizer, {})
        return own.get("schedule", self.schedule), own.get("warmup", self.warmup)

    def validate(self) -> None:
        """Every check that can be made before anything is loaded or written."""
        self.plugin_records()  # their optimizers are names like any other
        problem = PROBLEMS.get(self.problem)
        if self.init is not None:
            INITIALIZERS.get(self.init)
        SCHEDULES.get(self.schedule)
        if not self.optimizers:
            raise ValueError(
                "compare: --optimizers must name at least one optimizer; received none"
            )
        if len(set(self.optimizers)) != len(self.optimizers):
            raise ValueError(f"compare: --optimizers lists a name twice: {self.optimizers}")
        _once("--seeds", self.seeds)
        for name in self.per_optimizer:
            if name not in self.optimizers:
                raise ValueError(
                    f"compare: [optimizer.{name}] is configured but not among the optimizers "
                    f"{self.optimizers}"
                )
        _positive_ints("seeds", self.seeds, allow_zero=True)
        if not self.seeds:
            raise ValueError("compare: --seeds must hold at least one seed; received none")
        _positive_ints("epochs", [self.epochs])
        _positive_ints("batch_size", [self.batch_size])
        _positive_ints("warmup", [self.warmup], allow_zero=True)
        if self.train_subset is not None:
            _positive_ints("train_subset", [self.train_subset])
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(
                f"compare: val_fraction must be in (0, 1); received {self.val_fraction!r}"
            )
        if self.target_accuracy is not None and not 0.0 < self.target_accuracy <= 1.0:
            raise ValueError(
                "compare: --target-accuracy must be in (0, 1] (a validation accuracy); "
                f"received {self.target_accuracy!r}"
            )
        if self.target_accuracy is not None and problem.metric != "accuracy":
            raise ValueError(
                f"compare: --target-accuracy is for problems judged by accuracy; {problem.name} "
                f"is judged by its {problem.metric}: give --target (a validation "
                f"{problem.metric}); received --target-accuracy {self.target_accuracy!r}"
            )
        if self.target is not None:
            if not math.isfinite(self.target) or (
                problem.metric == "accuracy" and not 0.0 < self.target <= 1.0
            ):
                expected = (
                    "in (0, 1] (a validation accuracy)"
                    if problem.metric == "accuracy"
                    else f"a finite validation {problem.metric}"
                )
                raise ValueError(f"compare: --target must be {expected} for {problem.name}; "
                                 f"received {self.target!r}")  # fmt: skip
            if self.target_accuracy is not None and self.target_accuracy != self.target:
                raise ValueError(
                    f"compare: --target {self.target!r} and --target-accuracy "
                    f"{self.target_accuracy!r} disagree; give one"
                )
        for name in self.optimizers:
            spec = resolve(name)
            own = {k: v for k, v in self.per_optimizer.get(name, {}).items() if k not in RUN_KEYS}
            unknown = [k for k in own if k not in spec.defaults]
            if unknown:  # a section key: a run key or a hyperparameter, both suggested
                where = f"{self.source}: [optimizer.{name}]" if self.source else "compare"
                close = difflib.get_close_matches(unknown[0], [*RUN_KEYS, *spec.defaults], n=2)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                run_keys = ", ".join(f"{k} ({t})" for k, t in RUN_KEY_TYPES.items())
                raise ValueError(
                    f"{where}: unknown key {unknown[0]!r}{hint} (expected {run_keys}, or a "
                    f"hyperparameter of {name}: {', '.join(spec.defaults)})"
                )
            if self.is_protocol:
                continue  # the trials are checked below, each as it will run
            grid = self.grid(name)
            if not grid:
                raise ValueError(
                    f"compare: the learning-rate grid of {name!r} is empty; give --lrs or "
                    f"[optimizer.{name}] lrs"
                )
            for lr in grid:
                if not (lr > 0 and math.isfinite(lr)):
                    raise ValueError(
                        f"compare: learning rates must be finite and > 0; received {lr!r} for "
                        f"{name!r}"
                    )
            _once(f"the learning-rate grid of {name!r}", grid)
            schedule, warmup = self.schedule_of(name)
            SCHEDULES.get(schedule)
            _positive_ints("warmup", [warmup], allow_zero=True)
            if "lr" in own or "lr" in self.hyperparameters:
                raise ValueError("compare: give learning rates with --lrs (or lrs = [...]), not lr")
            spec.check({**self.hyperparameters_of(name), "lr": grid[0]})
        if self.is_protocol:
            self._validate_protocol()
        else:
            searched = [n for n, own in self.per_optimizer.items() if "search" in own]
            if searched:
                raise ValueError(
                    f"{self.source or 'compare'}: [optimizer.{searched[0]}.search] is a search "
                    "space, used by a tuning protocol: give --budget N or --protocol NAME (a "
                    "grid sweep runs its lrs)"
                )
            given = [flag for flag, value, default in (
                ("--final-seeds", self.final_seeds, None), ("--studies", self.studies, None),
                ("--sequence", self.sequence, "sobol"), ("--search-seed", self.search_seed, 0),
            ) if value != default]  # fmt: skip
            if given:
                raise ValueError(
                    f"compare: {given[0]} belongs to a tuning protocol; give --budget N or "
                    "--protocol NAME too (a grid sweep runs every rate with --seeds)"
                )
        for key in self.hyperparameters:
            if not any(key in resolve(n).defaults for n in self.optimizers):
                taken = sorted({k for n in self.optimizers for k in resolve(n).defaults})
                close = difflib.get_close_matches(key, taken, n=2, cutoff=0.6)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ValueError(
                    f"compare: hyperparameter {key!r} (-o) is taken by none of the optimizers "
                    f"{', '.join(self.optimizers)}{hint}"
                )

    @property
    def is_protocol(self) -> bool:
        """Whether the sweep tunes with a budget (a protocol) instead of a grid."""
        return self.budget is not None or self.protocol is not None

    def plan(self) -> Any:
        """The sweep's :class:`~optimlab.experiments.protocol.Plan`, or None for a grid."""
        from optimlab.experiments.protocol import plan_of

        return plan_of(self)

    def _validate_protocol(self) -> None:
        """The protocol's settings, every search space (its dimensions' ends and choices
        against the optimizer's checks), then every trial as it will run."""
        from optimlab.experiments.protocol import check_distinct, check_kind, space_of, trials_of

        plan = self.plan()
        _positive_ints("final_seeds", list(plan.final_seeds), allow_zero=True)
        _once("--final-seeds", list(plan.final_seeds))
        _positive_ints("search_seed", [self.search_seed], allow_zero=True)
        check_kind(self, plan)
        for name in self.optimizers:
            own = self.per_optimizer.get(name, {})
            if "lr" in own or "lr" in self.hyperparameters:
                raise ValueError("compare: the learning rate is drawn from the search space "
                                 "(or fixed with lrs = [x]), not given as lr")  # fmt: skip
            if plan.kind == "quasi-random":
                space_of(self, name)
        trials = trials_of(self, plan)
        check_distinct(plan, trials)
        for trial in trials:
            spec = trial.spec
            where = f"{trial.optimizer} study {trial.study} trial {trial.trial}"
            SCHEDULES.get(spec.schedule)
            _positive_ints(f"warmup of {where}", [spec.warmup], allow_zero=True)
            if not (spec.lr > 0 and math.isfinite(spec.lr)):
                raise ValueError(f"compare: {where} draws lr={spec.lr!r}; rates must be > 0")
            resolve(spec.optimizer).check({**spec.hyperparameters, "lr": spec.lr})

    # -- runs -----------------------------------------------------------------------
    def runs(self) -> list[RunSpec]:
        """Every run of a grid sweep, in a stable order (a protocol's: :meth:`plan`)."""
        plugins = self.plugin_records()
        return [
            RunSpec(self.problem, name, lr, seed, self.hyperparameters_of(name), self, plugins)
            for name in self.optimizers
            for lr in self.grid(name)
            for seed in self.seeds
        ]


@dataclass(frozen=True)
class RunSpec:
    """One run: an optimizer at one learning rate and one seed, within a sweep."""

    problem: str
    optimizer: str
    lr: float
    seed: int
    hyperparameters: dict[str, Any]
    sweep: SweepConfig
    plugins: tuple[Plugin, ...] = ()
    #: A protocol trial's own schedule and warm-up (None: the sweep's for the optimizer).
    schedule: str | None = None
    warmup: int | None = None

    @property
    def run_config(self) -> RunConfig:
        """The run as every command builds it (:mod:`optimlab.experiments.run`)."""
        schedule, warmup = self.sweep.schedule_of(self.optimizer)
        schedule = schedule if self.schedule is None else self.schedule
        warmup = warmup if self.warmup is None else self.warmup
        return RunConfig(
            optimizer=self.optimizer, lr=self.lr, seed=self.seed,
            epochs=self.sweep.epochs, batch_size=self.sweep.batch_size,
            hyperparameters=self.hyperparameters, schedule=schedule, warmup=warmup,
            problem=self.problem, init=self.sweep.init, val_fraction=self.sweep.val_fraction,
            train_subset=self.sweep.train_subset, plugins=self.plugins,
            diagnostics=self.sweep.diagnostics, landscape=self.sweep.landscape,
        )  # fmt: skip

    @property
    def config(self) -> dict[str, Any]:
        """The run's full configuration (JSON-able): what determines its numbers.

        ``init`` and ``plugins`` appear only when the sweep sets them, so the
        runs of sweeps written before they existed keep their ``run_id``.
        """
        return self.run_config.to_dict()

    @property
    def run_id(self) -> str:
        return run_id(self.config)

    def row(self) -> dict[str, Any]:
        """The ``runs`` row of the store."""
        return {
            "run_id": self.run_id,
            "problem": self.problem,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "seed": self.seed,
            "hyperparameters": self.config["hyperparameters"],
            "epochs": self.sweep.epochs,
            "config": self.config,
        }


__all__ = ["RunSpec", "SweepConfig", "run_id"]


def _positive_ints(name: str, values: list[Any], *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= MAX_INT:
            raise ValueError(
                f"compare: {name} must be integers from {low} to 2**63 - 1; received {v!r}"
            )


def _once(what: str, values: list[Any]) -> None:
    """``ValueError`` for a value listed twice (it would train one run twice)."""
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"compare: {what} lists {v!r} twice; give each value once")
        seen.add(v)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else "inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise ValueError(f"cannot write {value!r} to TOML (a schedule object? use schedule = ...)")
