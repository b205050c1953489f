"""The DeepOBS study: its Fashion-MNIST problems and its quadratic, run as DeepOBS's baseline
protocol as far as two cores allow, beside the published baselines.

DeepOBS (Schneider, Balles & Hennig, ICLR 2019; ``fsschneider/DeepOBS``) tunes SGD,
momentum (0.99, heavy ball) and Adam on the grid ``10**(-5 + k/5)``, k = 0..35, with one
seed, picks the best final value, and re-runs it with ten seeds. Its published files
(``deepobs/baselines/<problem>/<optimizer>/<setting>/random_seed__<s>__*.json``) hold per
epoch the test accuracy and loss; :data:`PUBLISHED_2C2D` and :data:`PUBLISHED_QUADRATIC` are
the numbers read from them (the two of ten seeds per optimizer that are stored in the index
this project could read).

The sweeps (one folder per problem, ``OUT/<problem>/``), shipped beside this module:
``fmnist-2c2d`` at the published tuned rates, 3 seeds, 10 of the 100 epochs;
``fmnist-deepmlp`` and ``fmnist-logreg-deepobs`` (no published baseline) on three grid
points per optimizer, 3 seeds; ``quadratic-deep``, the whole protocol: the 36-point grid
with one seed, then the best rate of each optimizer with seeds 0..9 (:func:`run_study`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import summarize, tuned
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.store import Store

HERE = Path(__file__).with_name("deepobs")
#: The problems of the study, in page order.
PROBLEMS = ("fmnist-2c2d", "quadratic-deep", "fmnist-deepmlp", "fmnist-logreg-deepobs")
#: DeepOBS's learning-rate grid.
GRID = tuple(10 ** (-5 + k / 5) for k in range(36))
#: Seeds of the second stage (DeepOBS re-runs the best setting with ten seeds).
FINAL_SEEDS = tuple(range(10))
#: Epochs at which the note and the page compare test accuracy.
CHECKPOINTS = (1, 2, 5, 10)

#: DeepOBS's published fmnist_2c2d baselines: per optimizer, the tuned rate and per seed the
#: test accuracy after epoch k (``test_accuracies[k]``; 9,984 test images).
PUBLISHED_2C2D: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 10**-0.8, "class": "GradientDescentOptimizer", "seeds": {
        45: {0: 0.1630, 1: 0.8336, 2: 0.8700, 5: 0.8905, 10: 0.8924, 100: 0.9264},
        47: {0: 0.1117, 1: 0.8617, 2: 0.8779, 5: 0.8997, 10: 0.9077, 100: 0.9203},
    }},
    "momentum": {"lr": 10**-2.6, "class": "MomentumOptimizer (0.99)", "seeds": {
        45: {0: 0.1630, 1: 0.8521, 2: 0.8800, 5: 0.9030, 10: 0.9099, 100: 0.9242},
        50: {0: 0.1357, 1: 0.8331, 2: 0.8790, 5: 0.8973, 10: 0.9059, 100: 0.9216},
    }},
    "adam": {"lr": 10**-3.6, "class": "AdamOptimizer", "seeds": {
        45: {0: 0.1630, 1: 0.8571, 2: 0.8798, 5: 0.8992, 10: 0.9121, 100: 0.9221},
        47: {0: 0.1117, 1: 0.8528, 2: 0.8793, 5: 0.8976, 10: 0.9152, 100: 0.9228},
    }},
}  # fmt: skip
#: DeepOBS's published quadratic_deep baselines: tuned rate, and per seed the test loss
#: before training and after the 100th epoch.
PUBLISHED_QUADRATIC: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 1.5848931925e-02, "seeds": {43: (353.447, 87.528)}},
    "momentum": {"lr": 2.5118864315e-03, "seeds": {45: (353.447, 87.070)}},
    "adam": {"lr": 3.9810717055e-02, "seeds": {48: (353.447, 87.121)}},
}


def sweep_file(problem: str) -> Path:
    return HERE / f"{problem}.toml"


def study_configs() -> dict[str, SweepConfig]:
    """The first (or only) sweep of every problem of the study."""
    return {problem: SweepConfig.from_toml(sweep_file(problem)) for problem in PROBLEMS}


def final_stage(config: SweepConfig, best: dict[str, float]) -> SweepConfig:
    """The protocol's second stage: each optimizer at its ``best`` rate with
    :data:`FINAL_SEEDS` (same epochs and settings, so it extends the same store)."""
    staged = copy.deepcopy(config)  # the first stage's config is left as it is
    staged.seeds = list(FINAL_SEEDS)
    staged.lrs = []
    for name in staged.optimizers:
        staged.per_optimizer.setdefault(name, {})["lrs"] = [best[name]]
    return staged


def run_study(
    out: str | os.PathLike[str],
    run: Callable[[SweepConfig, Path], Any],
    *,
    problems: tuple[str, ...] = PROBLEMS,
) -> None:
    """Run (or resume) every sweep of the study into ``OUT/<problem>`` with ``run(config,
    folder)`` (``run_sweep`` with the caller's workers); the quadratic's second stage
    follows its grid."""
    configs = study_configs()
    for problem in problems:
        folder = Path(out) / problem
        run(configs[problem], folder)
        if problem == "quadratic-deep":
            with Store(folder / "results.db", readonly=True) as store:
                choices = tuned(summarize(store))
            best = {n: c.lr for n, c in choices.items() if c.lr is not None}
            if len(best) == len(configs[problem].optimizers):
                run(final_stage(configs[problem], best), folder)
