"""Tuning protocols without training: plans, quasi-random draws, selection, best-of-k."""

from __future__ import annotations

import math

import pytest

from optimlab import cli
from optimlab.experiments import protocol
from optimlab.experiments.config import SweepConfig
from optimlab.experiments.protocol import (
    DEEPOBS_GRID,
    Outcome,
    best_index,
    plan_of,
    space_of,
    trial_values,
    trials_of,
)
from optimlab.experiments.protocol_results import (
    TrialResult,
    choose,
    expected_best_of_k,
)


def sweep(**kw) -> SweepConfig:
    return SweepConfig(problem="fmnist-mlp", **{"optimizers": ["sgd", "adam"], **kw})


def test_the_cli_names_are_the_engines():
    assert cli.PROTOCOL_NAMES == protocol.PROTOCOLS
    assert cli.SEQUENCE_NAMES == protocol.SEQUENCES
    assert cli.final_seeds("3") == [0, 1, 2] and cli.final_seeds("4,7") == [4, 7]


def test_presets_say_their_numbers():
    assert plan_of(sweep()) is None  # a grid sweep
    cv = plan_of(sweep(protocol="crowded-valley"))
    assert (cv.budget, cv.studies, cv.final_seeds, cv.select) == (25, 1, tuple(range(10)), "final")
    assert plan_of(sweep(protocol="crowded-valley", budget="large")).budget == 75
    assert plan_of(sweep(protocol="crowded-valley", budget="medium")).budget == 50
    one = plan_of(sweep(protocol="crowded-valley", budget="one-shot"))
    assert (one.kind, one.budget) == ("defaults", 1)
    deepobs = plan_of(sweep(protocol="deepobs"))
    assert (deepobs.kind, deepobs.budget, deepobs.final_seeds) == ("grid", 36, tuple(range(10)))
    algoperf = plan_of(sweep(protocol="algoperf"))
    assert (algoperf.budget, algoperf.studies, algoperf.select, algoperf.final_seeds) == (
        5,
        5,
        "time",
        (),
    )
    plain = plan_of(sweep(budget=8, seeds=[3, 4]))
    assert (plain.protocol, plain.budget, plain.trial_seed, plain.final_seeds) == (
        "quasi-random",
        8,
        3,
        (3, 4),
    )  # final seeds default to --seeds


def test_the_deepobs_grid_is_deepobs():
    assert len(DEEPOBS_GRID) == 36
    assert DEEPOBS_GRID[0] == pytest.approx(1e-5) and DEEPOBS_GRID[-1] == pytest.approx(10**2)
    assert DEEPOBS_GRID[21] == pytest.approx(10**-0.8)  # SGD's published tuned rate on 2c2d
    values = trial_values(sweep(protocol="deepobs", optimizers=["momentum"],
                                per_optimizer={"momentum": {"momentum": 0.99}}), plan_of(
        sweep(protocol="deepobs")), "momentum")  # fmt: skip
    assert [v["lr"] for v in values[0]] == list(DEEPOBS_GRID)
    assert all(v["hyperparameters"] == {"momentum": 0.99} for v in values[0])


def test_one_shot_runs_the_defaults():
    config = sweep(protocol="crowded-valley", budget="one-shot", optimizers=["adam", "rmsprop"])
    [[adam]], [[rmsprop]] = (trial_values(config, config.plan(), n) for n in config.optimizers)
    assert (adam["lr"], adam["hyperparameters"]) == (1e-3, {})
    assert rmsprop["lr"] == 1e-2


@pytest.mark.parametrize(
    "kw, message",
    [
        (
            {"protocol": "crowded-vally"},
            r"unknown --protocol 'crowded-vally'; did you mean "
            r"'crowded-valley'",
        ),
        ({"budget": 0}, r"--budget must be an integer >= 1"),
        ({"budget": "huge"}, r"--budget must be a number of trials; received 'huge'"),
        ({"protocol": "crowded-valley", "budget": "huge"}, r"one-shot, small, medium, large"),
        ({"protocol": "deepobs", "budget": 4}, r"--budget does not apply"),
        ({"budget": 4, "studies": 0}, r"--studies must be an integer >= 1"),
        ({"budget": 4, "sequence": "random"}, r"sequence must be one of sobol, halton"),
        ({"budget": 4, "lrs": [0.1, 0.01]}, r"draws the learning rate of sgd from its search"),
        ({"budget": 4, "final_seeds": [1, 1]}, r"--final-seeds lists 1 twice"),
        ({"final_seeds": [0, 1], "lrs": [0.1]}, r"--final-seeds belongs to a tuning protocol"),
        ({"search_seed": 3, "lrs": [0.1]}, r"--search-seed belongs to a tuning protocol"),
    ],
)
def test_bad_protocol_settings_are_refused_before_anything_runs(kw, message):
    with pytest.raises(ValueError, match=message):
        sweep(**kw).validate()


def test_a_search_table_replaces_the_default_space(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'problem = "fmnist-mlp"\noptimizers = ["adam", "momentum"]\nbudget = 4\n'
        "[optimizer.adam.search]\nlr = {log = [1e-4, 1e-2]}\n"
        "betas = [{log1m = [0.8, 0.95]}, 0.999]\n"
        'schedule = {choice = ["constant", "warmup-cosine"]}\nwarmup = {int = [0, 10]}\n'
        "[optimizer.momentum]\nmomentum = 0.9\n"
    )
    config = SweepConfig.from_toml(path)
    config.validate()
    space = space_of(config, "adam")
    assert set(space) == {"lr", "betas", "schedule", "warmup"}
    assert set(space_of(config, "momentum")) == {"lr"}  # its fixed momentum is not searched
    trials = [t.spec for t in trials_of(config, config.plan()) if t.optimizer == "adam"]
    assert all(1e-4 <= t.lr <= 1e-2 and 0.8 <= t.hyperparameters["betas"][0] <= 0.95
               and t.hyperparameters["betas"][1] == 0.999 for t in trials)  # fmt: skip
    assert {t.schedule for t in trials} == {"constant", "warmup-cosine"}
    assert all(0 <= t.warmup <= 10 for t in trials)
    again = SweepConfig.from_toml(_written(config, tmp_path))  # config.toml round trip
    assert [t.spec.run_id for t in trials_of(again, again.plan())] == [
        t.spec.run_id for t in trials_of(config, config.plan())
    ]


def _written(config: SweepConfig, tmp_path) -> str:
    out = tmp_path / "config.toml"
    config.write(out)
    return str(out)


@pytest.mark.parametrize(
    "toml, message",
    [
        (
            "[optimizer.adam.search]\nmomentun = {uniform = [0, 1]}\n",
            r"'momentun' is not a hyperparameter of adam",
        ),
        ("[optimizer.adam.search]\nbetas = {log = [0, 1]}\n", r"needs 0 < low <= high"),
        (
            "[optimizer.adam]\neps = 1e-8\n[optimizer.adam.search]\neps = {log = [1e-9, 1e-7]}\n",
            r"'eps' is both fixed in \[optimizer.adam\] and searched",
        ),
        (
            "[optimizer.adam.search]\nlr = {log = [1e-4, 1e-2]}\nbetas = [{log1m = [0.5, 0.9]}]\n",
            r"adam's betas is a tuple of 2",
        ),
        (
            "[optimizer.adam.search]\nlr = {log = [1e-4, 1e-2]}\n"
            'schedule = {choice = ["constant", "cosin"]}\n',
            r"unknown schedule 'cosin'",
        ),
        ("[optimizer.adam.search]\nbetas = [0.9, 0.999]\n", r"has no lr"),
    ],
)
def test_bad_search_tables_name_the_key(tmp_path, toml, message):
    path = tmp_path / "sweep.toml"
    path.write_text(f'problem = "fmnist-mlp"\noptimizers = ["adam"]\nbudget = 3\n{toml}')
    with pytest.raises(ValueError, match=message):
        SweepConfig.from_toml(path).validate()


def test_draws_are_seeded_and_a_larger_budget_extends_them():
    small, large = sweep(budget=4), sweep(budget=16)
    ids = [t.spec.run_id for t in trials_of(small, small.plan())]
    more = [t.spec.run_id for t in trials_of(large, large.plan())]
    assert ids == [t.spec.run_id for t in trials_of(small, small.plan())]  # deterministic
    assert ids[:4] == more[:4] and ids[4:] == more[16:20]  # sgd's first 4, adam's first 4
    other = sweep(budget=4, search_seed=1)
    assert set(ids).isdisjoint(t.spec.run_id for t in trials_of(other, other.plan()))
    halton = sweep(budget=4, sequence="halton")
    assert set(ids).isdisjoint(t.spec.run_id for t in trials_of(halton, halton.plan()))
    # every optimizer reads the same point: sgd's and adam's lr share their coordinate
    u = [math.log(t.spec.lr) for t in trials_of(small, small.plan())]
    sgd = [(x - math.log(1e-4)) / math.log(1e4) for x in u[:4]]
    adam = [(x - math.log(1e-5)) / math.log(1e4) for x in u[4:]]
    assert sgd == pytest.approx(adam)


def test_quasi_random_points_cover_the_space_evenly():
    plan = plan_of(sweep(budget=64))
    points = protocol.points(plan, 2, 64, 0)
    assert points.shape == (64, 2)
    # Sobol: each of the 8 x 8 cells of the unit square holds exactly one point
    cells = {(int(8 * a), int(8 * b)) for a, b in points}
    assert len(cells) == 64
    studies = {tuple(protocol.points(plan, 2, 4, s)[0]) for s in range(5)}
    assert len(studies) == 5  # each study its own scrambling


def test_best_index_rules():
    final = plan_of(sweep(budget=3))
    time = plan_of(sweep(protocol="algoperf"))
    o = [Outcome(0.80, 300, 1.0), Outcome(0.85, None, 1.0), Outcome(0.85, 200, 1.0),
         Outcome(None, None, 1.0)]  # fmt: skip
    assert best_index(final, o) == 1  # highest accuracy, the earlier of a tie
    assert best_index(time, o) == 2  # fewest steps; never reached is last
    losses = [Outcome(3.0, None, -1.0), Outcome(2.0, None, -1.0)]
    assert best_index(final, losses) == 1  # the lower loss
    assert best_index(final, [Outcome(None, None, 1.0)]) is None


class _Summary:
    def __init__(self, score, steps=None, status="done"):
        self.score, self.steps_to_target, self.status = score, steps, status
        self.epochs_to_target = None if steps is None else steps // 10
        self.seconds_to_target = None if steps is None else steps / 100


def test_choose_per_study_and_overall_and_the_median_time():
    plan = plan_of(sweep(protocol="algoperf", optimizers=["adam"]))
    rows, summaries = [], {}
    steps = {0: [50, None, 40, 70, 90], 1: [None] * 5, 2: [30, 80, 60, 20, 10],
             3: [100, 100, 100, 100, 100], 4: [55, 65, 75, 85, 95]}  # fmt: skip
    for study, values in steps.items():
        for trial, s in enumerate(values):
            run_id = f"r{study}{trial}"
            rows.append({"optimizer": "adam", "kind": "quasi-random", "study": study,
                         "trial": trial, "run_id": run_id})  # fmt: skip
            summaries[run_id] = _Summary(0.9 if s else 0.5, s)
    rows.append(
        {"optimizer": "adam", "kind": "quasi-random", "study": 0, "trial": 7, "run_id": "beyond"}
    )  # of a budget of 8: not this plan's
    rows.append(
        {"optimizer": "adam", "kind": "defaults", "study": 0, "trial": 0, "run_id": "oneshot"}
    )  # another kind of trials
    choice = choose(plan, rows, summaries, 1.0)["adam"]
    assert len(choice.trials) == 25 and choice.finished
    assert [b.trial if b else None for b in choice.study_best] == [2, 0, 4, 0, 0]
    # study 1 never reaches: its best is its best value, and its time is infinite
    assert choice.study_best[1].steps_to_target is None
    assert choice.chosen.run_id == "r24"  # 10 steps: the fastest of all studies
    # times 40, inf, 10, 100, 55: the median is 55
    assert choice.time_to_target("steps") == 55
    assert choice.time_to_target("epochs") == 5


def test_expected_best_of_k_by_hand():
    # values 1, 2, 3: E[max of 1] = 2; of 2: (1*1 + 2*3 + 3*5)/9 = 22/9
    found = expected_best_of_k([3.0, 1.0, 2.0])
    assert found.k == (1, 2, 3)
    assert found.mean[0] == pytest.approx(2.0)
    assert found.mean[1] == pytest.approx(22 / 9)
    assert found.mean[2] == pytest.approx((1 + 2 * 7 + 3 * 19) / 27)
    assert found.std[0] == pytest.approx(math.sqrt(2 / 3))
    assert all(1.0 <= lo <= m <= hi <= 3.0 for lo, m, hi in
               zip(found.low, found.mean, found.high, strict=True))  # fmt: skip
    losses = expected_best_of_k([3.0, 1.0, 2.0], higher_is_better=False)
    assert losses.mean[1] == pytest.approx(4 - 22 / 9)  # the mirror image: lower is better
    assert expected_best_of_k([0.7]).mean == (0.7,)


def test_trial_result_without_a_summary():
    t = TrialResult("adam", 0, 0, "x")
    assert (t.score, t.steps_to_target) == (None, None)


# -- suites -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["quick", "deepobs-fmnist", "examples/benchmark.toml"])
def test_shipped_suites_and_the_example_are_valid(name):
    from pathlib import Path

    from optimlab.experiments.suite import load_suite

    root = Path(__file__).resolve().parents[2]
    suite = load_suite(str(root / name) if name.endswith(".toml") else name)
    assert suite.sweeps
    for config in suite.sweeps:
        config.validate()
        assert config.is_protocol and config.tune
    if name == "deepobs-fmnist":
        assert suite.problems == ["fmnist-2c2d", "fmnist-deepmlp", "fmnist-logreg-deepobs",
                                  "quadratic-deep", "fmnist-autoencoder"]  # fmt: skip
        assert {c.problem: c.epochs for c in suite.sweeps}["fmnist-logreg-deepobs"] == 50
    overridden = load_suite("quick", {"epochs": 1, "optimizers": ["adam"], "budget": 3})
    assert {(c.epochs, tuple(c.optimizers), c.budget) for c in overridden.sweeps} == {
        (1, ("adam",), 3)
    }


TWICE = '[[problem]]\nproblem = "quadratic-deep"\n' * 2


def test_bad_suite_files(tmp_path):
    from optimlab.experiments.suite import load_suite

    path = tmp_path / "s.toml"
    cases = {
        'name = "x"\n': r"lists its problems as \[\[problem\]\] tables; found none",
        "[[problem]]\nepochs = 2\n": r"number 1 has no problem",
        TWICE: r"'quadratic-deep' is listed twice",
        'nmae = "x"\n[[problem]]\nproblem = "quadratic-deep"\n': r"unknown key\(s\) 'nmae'",
    }
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_suite(str(path))


def test_a_store_from_before_protocols_has_no_trials(tmp_path):
    import sqlite3

    from optimlab.experiments.store import Store

    db = tmp_path / "results.db"
    with Store(db) as store:
        store.add_trials([])
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE trials")
    with Store(db, readonly=True) as store:
        assert store.trials() == []
    with Store(db) as store:  # opened for writing: the table is created
        assert store.trials() == []


@pytest.mark.parametrize(
    "toml, message",
    [
        (
            "[optimizer.momentum.search]\nlr = {log = [1e-3, 1e-1]}\n"
            "momentum = {uniform = [0.5, 1.5]}\n",
            r"momentum = \{uniform = \[0.5, 1.5\]\} can draw 1.5: momentum: momentum must be in",
        ),
        (
            '[optimizer.momentum.search]\nlr = {choice = [0.1, "x"]}\n',
            r"lr = \{choice = \[0.1, 'x'\]\} can draw 'x'",
        ),
        ("[optimizer.momentum.search]\nlr = {uniform = [0, 0.1]}\n", r"can draw 0.0"),
        (
            "[optimizer.momentum.search]\nlr = {log = [1e-3, 1e-1]}\n"
            "warmup = {uniform = [0, 100]}\n",
            r"warmup = \{uniform = \[0.0, 100.0\]\} draws "
            r"steps of warm-up: give \{int = \[a, b\]\}",
        ),
        (
            "[optimizer.adam.search]\nlr = {log = [1e-4, 1e-2]}\nbetas = {log1m = [0.5, 0.9]}\n",
            r"adam's betas is a tuple of 2 \(default \[0.9, 0.999\]\); give a list of 2",
        ),
        (
            "[optimizer.momentum.search]\nlr = {choice = [0.1, 0.01]}\n"
            "nesterov = {choice = [true, false]}\n",
            r"momentum's search space gives 4 distinct configurations in the 6 trials",
        ),
    ],
)
def test_search_spaces_are_checked_at_their_ends_whatever_is_drawn(tmp_path, toml, message):
    path = tmp_path / "sweep.toml"
    path.write_text('problem = "fmnist-mlp"\noptimizers = ["momentum", "adam"]\nbudget = 6\n'
                    + toml)  # fmt: skip
    with pytest.raises(ValueError, match=message):
        SweepConfig.from_toml(path).validate()


@pytest.mark.parametrize(
    "kw, message",
    [
        (
            {"protocol": "deepobs", "lrs": [0.1]},
            r"runs its own grid of 36 rates; received the "
            r"rates lrs = \[0.1\] for sgd",
        ),
        (
            {
                "protocol": "crowded-valley",
                "budget": "one-shot",
                "per_optimizer": {"sgd": {"search": {"lr": {"log": [1e-3, 1.0]}}}},
            },
            r"one-shot budget runs each optimizer's defaults; the search space "
            r"\[optimizer.sgd.search\] would not be used",
        ),
        ({"protocol": "deepobs", "studies": 3}, r"--studies 3 applies to quasi-random trials"),
        (
            {"lrs": [0.1], "per_optimizer": {"sgd": {"search": {"lr": {"log": [1e-3, 1.0]}}}}},
            r"\[optimizer.sgd.search\] is a search space, used by a tuning protocol: give "
            r"--budget N",
        ),
    ],
)
def test_settings_a_protocol_would_ignore_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        sweep(**kw).validate()


def test_a_protocol_on_the_command_line_brings_its_own_numbers():
    from pathlib import Path

    from optimlab.experiments.suite import load_suite

    algoperf = load_suite("quick", {"protocol": "algoperf"})
    plan = algoperf.sweeps[0].plan()
    assert (plan.budget, plan.studies, plan.final_seeds) == (5, 5, ())  # not quick's 4 and 3
    mixed = load_suite("quick", {"protocol": "algoperf", "budget": 2})
    assert mixed.sweeps[0].plan().budget == 2
    example = Path(__file__).resolve().parents[2] / "examples" / "benchmark.toml"
    fewer = load_suite(str(example), {"optimizers": ["sgd", "adam"]})
    for config in fewer.sweeps:
        config.validate()  # the file's [optimizer.adamw] and [optimizer.nesterov] are dropped
        assert set(config.per_optimizer) == {"adam"}
