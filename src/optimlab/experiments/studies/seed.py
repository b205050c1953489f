"""The seed study: the from-scratch study's 25 optimizers re-run with 5 seeds, judged.

The original (github.com/timvvvht/Neural-Networks-and-Optimizers-from-scratch)
trained a 784-128-64-10 ReLU network with He-normal initialisation on MNIST,
batch 128, 20 epochs, every optimizer at learning rate 1e-3, one seed, and
concluded:

1. QHAdamW reaches the lowest training loss;
2. Nesterov reaches the best validation accuracy;
3. momentum methods are much more sensitive to the learning rate than the
   Adam family.

:func:`study_config` is that study as a sweep (``examples/seed_study.toml``:
5 seeds, and a log grid of rates shared by every optimizer so that both the
fixed-rate comparison and the tuned one come from the same runs).
:func:`verdicts` tests each conclusion on the stored runs, and
:func:`write_page` writes the page (``docs/seed-study.md``) with the tables,
figures and verdicts, from the database alone.

How a conclusion is judged (by :mod:`optimlab.experiments.verdicts`)
    "X is best" compares X with every other optimizer, paired by seed, with
    Holm's adjustment over those comparisons: it holds when X is better than
    each; it does not hold when another optimizer is better than X; otherwise
    it is undetermined (X is equivalent to, or not yet separated from, some),
    and the page says how many seeds would tell. The ROPE is 0.1 points of
    accuracy, or 0.001 of training loss. The sensitivity conclusion compares,
    per optimizer, the drop of mean final validation accuracy one decade away
    from its best rate (averaged over the neighbours the grid has), between
    the momentum methods and the Adam family (unpaired: the values are
    optimizers): it holds when the momentum methods are better (drop more)
    by the engine's verdict and drop at least twice as much; it does not hold
    when they drop less, as much (equivalent), or more by less than twice; it
    is undetermined otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from optimlab.data import DATASETS
from optimlab.data.datasets import dataset_dir
from optimlab.experiments.analysis import Cell, Stat, summarize, sweep_settings, tuned
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_verdicts import seed_values
from optimlab.experiments.verdicts import ROPE_ACCURACY, Comparison, compare_pair, compare_pairs

#: The sweep, shipped with the package; ``examples/seed_study.toml`` is the same file.
CONFIG = Path(__file__).with_name("seed_study.toml")
#: The study's one learning rate.
FIXED_LR = 1e-3

#: optimlab name -> (the original's class, final train loss, final validation accuracy %),
#: as its notebook printed them (MNIST, one seed, lr 1e-3).
ORIGINAL: dict[str, tuple[str, float, float]] = {
    "sgd": ("Gradient_Descent", 0.4016, 89.92),
    "momentum": ("SGDM", 0.0332, 97.65),
    "nesterov": ("Nesterov", 0.0307, 97.73),
    "adagrad": ("Adagrad", 0.2319, 93.79),
    "rmsprop": ("RMSprop", 0.0553, 97.33),
    "adadelta": ("Adadelta", 0.0745, 97.18),
    "adam": ("Adam", 0.0080, 97.65),
    "adamw": ("AdamW", 0.0079, 97.70),
    "nadam": ("NAdam", 0.0078, 97.68),
    "adamax": ("Adamax", 0.1332, 95.98),
    "demon-momentum": ("DemonSGDM", 0.2218, 93.97),
    "demon-nesterov": ("DemonNesterov", 0.2217, 93.99),
    "demon-adam": ("DemonAdam", 0.0080, 97.46),
    "demon-adamw": ("DemonAdamW", 0.0225, 96.76),
    "demon-adamax": ("DemonAdamax", 0.1337, 95.98),
    "demon-adamaxw": ("DemonAdamaxW", 0.1338, 95.98),
    "nadamw": ("NAdamW", 0.0079, 97.62),
    "adamaxw": ("AdamaxW", 0.1332, 95.97),
    "qhm": ("QHM", 0.4016, 89.92),
    "qhadam": ("QHAdam", 0.0080, 97.69),
    "qhadamw": ("QHAdamW", 0.0077, 97.69),
    "demon-qhadam": ("DemonQHAdam", 0.0080, 97.68),
    "demon-qhadamw": ("DemonQHAdamW", 0.0077, 97.68),
}
#: The original's runs without an optimlab counterpart (replaced by demon-qhm and qhmw).
UNMATCHED: dict[str, tuple[float, float]] = {
    "DemonNAdam": (0.0082, 97.30),
    "DemonNAdamW": (0.0083, 97.52),
}

MOMENTUM_METHODS = ("momentum", "nesterov", "demon-momentum", "demon-nesterov")
ADAM_FAMILY = (
    "adam", "adamw", "nadam", "nadamw", "adamax", "adamaxw", "demon-adam", "demon-adamw",
    "demon-adamax", "demon-adamaxw", "qhadam", "qhadamw", "demon-qhadam", "demon-qhadamw",
)  # fmt: skip
#: The region of practical equivalence of a final training loss (about 1% of the losses
#: the study reaches, 0.13 to 0.5).
ROPE_LOSS = 0.001
#: "Much more sensitive": at least this ratio of mean accuracy drops.
MUCH_MORE = 2.0
#: A rate is "near the best" within this much validation accuracy (one point).
NEAR = 0.01


def mnist_available() -> bool:
    """Whether the four MNIST files are already in the cache (nothing is downloaded)."""
    folder = dataset_dir("mnist")
    return all((folder / f.filename).is_file() for f in DATASETS.get("mnist").files)


def study_config(path: str | os.PathLike[str] | None = None) -> SweepConfig:
    """The study's sweep: ``path`` (default: the shipped ``seed_study.toml``).

    Its problem becomes ``mnist-mlp`` (the original's data set) when the MNIST
    files are in the cache, and stays ``fmnist-mlp`` otherwise.
    """
    config = SweepConfig.from_toml(CONFIG if path is None else path)
    if config.problem == "fmnist-mlp" and mnist_available():
        config.problem = "mnist-mlp"
    return config


# -- the verdicts ---------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """One conclusion of the original, tested: ``holds``, ``does not hold`` or ``within noise``."""

    claim: str
    verdict: str
    evidence: str


def _ranked(
    cells: Mapping[str, Cell], metric: str, lower_is_better: bool
) -> tuple[list[str], dict[str, Cell]]:
    scored = {n: c for n, c in cells.items() if getattr(c, metric).n}
    sign = 1.0 if lower_is_better else -1.0
    return sorted(scored, key=lambda n: (sign * getattr(scored[n], metric).mean, n)), scored


def _show(cell: Cell, metric: str, scale: float, fmt: str, unit: str) -> str:
    stat: Stat = getattr(cell, metric)
    spread = f" ± {scale * stat.std:{fmt}}" if stat.std is not None else ""
    return f"{cell.optimizer} {scale * stat.mean:{fmt}}{spread}{unit}"


def _best_claim(
    claim: str,
    subject: str,
    cells: Mapping[str, Cell],
    tuned_cells: Mapping[str, Cell],
    metric: str,
    *,
    lower_is_better: bool,
    what: str,
    scale: float = 1.0,
    fmt: str = ".4f",
    unit: str = "",
) -> Verdict:
    """Is ``subject`` the best on ``metric`` among ``cells``, beyond the noise of the seeds?

    The subject is compared with every other optimizer by the verdict engine (paired
    by seed, Holm over these comparisons): the claim holds when it is better than each,
    does not hold when another is better than it, and is undetermined otherwise.
    ``tuned_cells`` (each optimizer at its tuned rate) adds where the subject stands
    when every optimizer gets its best rate; the verdict is on ``cells``.
    """
    order, scored = _ranked(cells, metric, lower_is_better)
    if subject not in scored:
        return Verdict(claim, "not measured", f"no finished run of {subject} at this rate")
    best = order[0]

    def show(name: str) -> str:
        return _show(scored[name], metric, scale, fmt, unit)

    others = [n for n in order if n != subject]
    pairs = [((subject, n), seed_values(scored[subject], metric), seed_values(scored[n], metric))
             for n in others]  # fmt: skip
    rope = ROPE_ACCURACY if metric.endswith("accuracy") else ROPE_LOSS
    compared = {c.b: c for c in compare_pairs(pairs, metric=metric, rope=rope,
                                              higher_is_better=not lower_is_better)}  # fmt: skip
    beaten = [n for n in others if compared[n].verdict == "better"]
    above = [n for n in others if compared[n].verdict == "worse"]
    equal = [n for n in others if compared[n].verdict == "equivalent"]
    open_ = [n for n in others if compared[n].verdict == "undetermined"]
    if not above and not equal and not open_:
        verdict = "holds"
    elif above:
        verdict = "does not hold"
    else:
        verdict = "undetermined"
    if best == subject:
        runner_up = others[0] if others else None
        evidence = f"{subject} has the {what} of {len(order)} optimizers: {show(subject)}"
        if runner_up is not None:
            evidence += f"; the runner-up is {show(runner_up)} ({_pair(compared[runner_up])})"
    else:
        evidence = (
            f"{best} has the {what}: {show(best)}; {subject} ranks "
            f"{order.index(subject) + 1} of {len(order)} with {show(subject)} "
            f"({_pair(compared[best])} against {best})"
        )
    evidence += (
        f". Against the {len(others)} others (paired by seed, Holm-adjusted, ROPE "
        f"±{scale * rope:g}{unit}), {subject} is better than {len(beaten)}"
        + (f", worse than {len(above)} ({', '.join(above)})" if above else "")
        + (f", equivalent to {', '.join(equal)}" if equal else "")
        + (
            f", undetermined against {', '.join(_open(n, compared[n]) for n in open_)}"
            if open_
            else ""
        )
        + "."
    )
    t_order, t_scored = _ranked(tuned_cells, metric, lower_is_better)
    if subject in t_scored and len(t_order) > 1:
        leader, mine = t_scored[t_order[0]], t_scored[subject]
        if leader is mine:
            evidence += (
                f" At each optimizer's tuned rate {subject} leads too "
                f"({_show(mine, metric, scale, fmt, unit)} at lr {mine.lr:g})."
            )
            return Verdict(claim, verdict, evidence)
        evidence += (
            f" At each optimizer's tuned rate, {leader.optimizer} leads "
            f"({_show(leader, metric, scale, fmt, unit)} at lr {leader.lr:g}) and {subject} "
            f"ranks {t_order.index(subject) + 1} ({_show(mine, metric, scale, fmt, unit)} "
            f"at lr {mine.lr:g})."
        )
    return Verdict(claim, verdict, evidence)


def _pair(c: Comparison) -> str:
    """``paired t p = 0.013, Holm 0.31: undetermined`` for the page."""
    if c.p is None:
        return "fewer than two seeds: undetermined"
    return f"p = {c.p:.2g}, Holm {c.p_adjusted:.2g}: {c.verdict}"


def _open(name: str, c: Comparison) -> str:
    if c.seeds_needed is None:
        return f"{name} (more than 10,000 seeds would tell)" if c.p is not None else name
    return f"{name} (about {c.seeds_needed} seeds would tell)"


def drop_one_decade(cells: Sequence[Cell]) -> float | None:
    """Mean final validation accuracy lost one decade away from an optimizer's best rate.

    ``cells`` are one optimizer's rates; its best is the one tuning picks
    (:func:`~optimlab.experiments.analysis.tuned`). The neighbours are the grid's rates
    whose ratio to the best rate is 10 (either side; one at an edge);
    ``None`` if there is none.
    """
    best = next((c.cell for c in tuned(cells).values()), None)  # the tuning rule
    if best is None:
        return None
    near = [
        c
        for c in cells
        if c.final_val_accuracy.n
        and c is not best
        and abs(max(c.lr, best.lr) / min(c.lr, best.lr) - 10) < 1e-6
    ]
    if not near:
        return None
    mean = best.final_val_accuracy.mean
    return sum(mean - c.final_val_accuracy.mean for c in near) / len(near)


def _sensitivity_claim(claim: str, by_optimizer: Mapping[str, Sequence[Cell]]) -> Verdict:
    drops = {n: drop_one_decade(cs) for n, cs in by_optimizer.items()}
    momentum = {n: d for n, d in drops.items() if n in MOMENTUM_METHODS and d is not None}
    adam = {n: d for n, d in drops.items() if n in ADAM_FAMILY and d is not None}
    if not momentum or not adam:
        return Verdict(claim, "not measured", "the grid has no rate one decade from a best rate")
    m = sum(momentum.values()) / len(momentum)
    a = sum(adam.values()) / len(adam)
    evidence = (
        f"One decade away from its best rate, a momentum method loses {100 * m:.1f} points of "
        f"validation accuracy on average ({len(momentum)} optimizers: "
        + ", ".join(f"{n} {100 * d:.1f}" for n, d in momentum.items())
        + f"), the Adam family {100 * a:.1f} ({len(adam)} optimizers, from "
        f"{100 * min(adam.values()):.1f} to {100 * max(adam.values()):.1f})"
    )
    if len(momentum) < 2 or len(adam) < 2:
        return Verdict(claim, "undetermined", evidence + "; too few optimizers to compare.")
    # Unpaired: the values are optimizers, not seeds (keys that cannot coincide).
    group_m = {i: d for i, d in enumerate(momentum.values())}
    group_a = {len(momentum) + i: d for i, d in enumerate(adam.values())}
    test = compare_pair(group_m, group_a, names=("momentum methods", "Adam family"),
                        metric="accuracy drop", rope=ROPE_ACCURACY)  # fmt: skip
    ratio = m / a if a > 0 else float("inf")
    evidence += (
        f"; difference {100 * test.difference:+.2f} points, "
        f"{100 * 0.95:g}% interval [{100 * test.ci[0]:+.2f}, {100 * test.ci[1]:+.2f}], "
        f"Welch p = {test.p:.2g}: {test.verdict}."
    )
    if test.verdict == "better" and ratio >= MUCH_MORE:
        verdict = "holds"
    elif test.verdict == "better":
        verdict = "does not hold"
        evidence += (
            f" The momentum methods are more sensitive, but lose only {ratio:.1f} times as "
            f"much: not the {MUCH_MORE:g} times or more that 'much more' takes here."
        )
    elif test.verdict == "worse":
        verdict = "does not hold"
        evidence += " The Adam family is the more sensitive."
    elif test.verdict == "equivalent":
        verdict = "does not hold"
        evidence += " The two families are equally sensitive."
    else:
        verdict = "undetermined"
        if test.seeds_needed is not None:
            evidence += f" About {test.seeds_needed} optimizers per family would tell."
    widths = {n: near_best(cs) for n, cs in by_optimizer.items()}
    wm = [widths[n] for n in momentum]
    wa = [widths[n] for n in adam]
    evidence += (
        f" Rates of the grid within {100 * NEAR:g} point of the optimizer's best: "
        f"{sum(wm) / len(wm):.1f} of {_grid_size(by_optimizer)} for a momentum method, "
        f"{sum(wa) / len(wa):.1f} for the Adam family."
    )
    return Verdict(claim, verdict, evidence)


def near_best(cells: Sequence[Cell], within: float | None = None) -> int:
    """How many rates score within ``within`` (default :data:`NEAR`) of the best mean
    final validation accuracy of these cells (one optimizer's rates)."""
    within = NEAR if within is None else within
    means = [c.final_val_accuracy.mean for c in cells if c.final_val_accuracy.n]
    return sum(m >= max(means) - within for m in means) if means else 0


def _grid_size(by_optimizer: Mapping[str, Sequence[Cell]]) -> int:
    return max((len(cs) for cs in by_optimizer.values()), default=0)


def verdicts(cells: Sequence[Cell]) -> list[Verdict]:
    """The three conclusions of the original, each judged on ``cells`` (all rates)."""
    fixed = {c.optimizer: c for c in cells if abs(c.lr - FIXED_LR) < 1e-12}
    by_optimizer: dict[str, list[Cell]] = {}
    for cell in cells:
        by_optimizer.setdefault(cell.optimizer, []).append(cell)
    best = {n: c.cell for n, c in tuned(cells).items() if c.cell is not None}
    return [
        _best_claim(
            "QHAdamW reaches the lowest training loss (at lr 1e-3)", "qhadamw", fixed, best,
            "final_train_loss", lower_is_better=True, what="lowest mean final training loss",
        ),
        _best_claim(
            "Nesterov reaches the best validation accuracy (at lr 1e-3)", "nesterov", fixed,
            best, "final_val_accuracy", lower_is_better=False,
            what="highest mean final validation accuracy", scale=100.0, fmt=".2f", unit="%",
        ),
        _sensitivity_claim(
            "Momentum methods are much more sensitive to the learning rate than the Adam family",
            by_optimizer,
        ),
    ]  # fmt: skip


def load_cells(out: str | os.PathLike[str]) -> tuple[list[Cell], dict]:
    """The cells and settings of the study's database ``OUT/results.db``."""
    path = Path(out) / "results.db"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: run the study first (optimlab study seed --out {out})"
        )
    with Store(path, readonly=True) as store:
        return summarize(store), sweep_settings(store)
