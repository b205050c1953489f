"""``optimlab benchmark``: one tuning protocol on every problem of a suite.

A suite is a TOML file (shipped: :data:`SUITES`, in ``experiments/suites/``)::

    name = "quick"
    description = "..."
    optimizers = ["sgd", "adam"]     # the default of --optimizers
    budget = 4                       # any sweep key: the default of every problem
    final_seeds = 3

    [[problem]]
    problem = "quadratic-deep"       # a problem of optimlab compare --list-problems
    epochs = 10                      # and the sweep keys that differ for it
    target = 100.0

Every problem becomes a sweep (:class:`~optimlab.experiments.config.SweepConfig`)
in its own folder ``OUT/<problem>/`` with its own store; all of them run on one
pool of workers (:func:`~optimlab.experiments.sweep.run_sweeps`), so the suite is
resumable and parallel across problems and runs alike. Then each problem gets its
report, and the suite its own (:mod:`optimlab.experiments.suite_report`).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimlab.experiments.config import KEYS, SweepConfig

HERE = Path(__file__).with_name("suites")
#: Keys of a suite file besides the sweep keys.
SUITE_KEYS = ("name", "description", "problem")


def shipped() -> dict[str, Path]:
    """The suites shipped with optimlab, by name."""
    return {p.stem: p for p in sorted(HERE.glob("*.toml"))}


@dataclass
class Suite:
    """A suite read from its file: its problems' sweeps, in file order."""

    name: str
    description: str
    path: Path
    sweeps: list[SweepConfig] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [s.problem for s in self.sweeps]


def find_suite(name: str) -> Path:
    """A shipped suite's file by name, or a path to a suite file."""
    suites = shipped()
    if name in suites:
        return suites[name]
    if name.endswith(".toml") and Path(name).is_file():
        return Path(name)
    close = difflib.get_close_matches(name, list(suites), n=2)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(
        f"benchmark: unknown --suite {name!r}{hint} (expected one of {', '.join(suites)}, or a "
        "suite TOML file)"
    )


def load_suite(name: str, overrides: Mapping[str, Any] | None = None) -> Suite:
    """Read a suite (a shipped name or a file); ``overrides`` (the command line's
    settings: optimizers, budget, epochs...) replace the file's for every problem."""
    path = find_suite(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as UTF-8 TOML ({exc})") from exc
    unknown = sorted(set(data) - KEYS - set(SUITE_KEYS))
    if unknown:
        raise ValueError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; a suite takes "
            f"{', '.join(SUITE_KEYS)} and the sweep keys ({', '.join(sorted(KEYS))})"
        )
    entries = data.pop("problem", None)
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) for e in entries)
    ):
        raise ValueError(f"{path}: a suite lists its problems as [[problem]] tables; found none")
    suite = Suite(str(data.pop("name", path.stem)), str(data.pop("description", "")), path)
    seen = set()
    for i, entry in enumerate(entries):
        if "problem" not in entry:
            raise ValueError(f'{path}: [[problem]] number {i + 1} has no problem = "NAME"')
        if entry["problem"] in seen:
            raise ValueError(f"{path}: problem {entry['problem']!r} is listed twice")
        seen.add(entry["problem"])
        merged = {**data, **entry}
        for key in ("hyperparameters", "optimizer"):
            if isinstance(data.get(key), dict) and isinstance(entry.get(key), dict):
                merged[key] = {**data[key], **entry[key]}
        config = SweepConfig.from_dict(merged, f"{path} [problem {entry['problem']}]",
                                       base=path.resolve().parent)  # fmt: skip
        _override(config, overrides or {})
        config.tune = True
        suite.sweeps.append(config)
    return suite


#: What a preset settles: a --protocol on the command line replaces the suite file's.
PRESET_KEYS = ("budget", "final_seeds", "studies")


def _override(config: SweepConfig, overrides: Mapping[str, Any]) -> None:
    """The command line's settings over the suite file's. A ``--protocol`` brings its own
    budget, final seeds and studies (unless the command line gives them too); naming
    ``--optimizers`` drops the file's sections of the others."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if "protocol" in given:
        for key in PRESET_KEYS:
            if key not in given:
                setattr(config, key, None)
    for key, value in given.items():
        setattr(config, key, value)
    if "optimizers" in given:
        config.per_optimizer = {
            k: v for k, v in config.per_optimizer.items() if k in config.optimizers
        }


def run_suite(
    suite: Suite,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    command_line: Sequence[str] = (),
    report_options: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Run every problem's sweep into ``OUT/<problem>/`` on one pool, then write each
    problem's report and the suite's (``OUT/report.md``, ``OUT/report.html``)."""
    from optimlab.experiments.report import write_report
    from optimlab.experiments.suite_report import write_suite_report
    from optimlab.experiments.sweep import run_sweeps

    out = Path(out)
    for config in suite.sweeps:
        if not config.is_protocol:
            raise ValueError(
                f"benchmark: {config.problem} has no tuning protocol; give --budget N or "
                "--protocol (or budget = N in the suite)"
            )
    outcomes = run_sweeps(
        [(config, out / config.problem) for config in suite.sweeps], workers=workers,
        dask=dask, progress=progress, command_line=command_line,
    )  # fmt: skip
    for config in suite.sweeps:
        write_report(out / config.problem, **(report_options or {}))
    write_suite_report(suite, out, **(report_options or {}))
    return outcomes
