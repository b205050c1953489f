"""Optimizers on the 2-D functions: trajectories, tuning, reproducibility, errors."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import optim, trajectories
from optimlab.nn.module import Parameter
from optimlab.optim.base import chain
from optimlab.optim.transforms import ScaleByLearningRate
from optimlab.problems import get_function
from optimlab.trajectories import default_grid, run, trajectory, tune

QUADRATIC_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)


@pytest.mark.parametrize("name", optim.available())
def test_every_optimizer_gets_near_the_minimum_of_the_convex_quadratic(name):
    best, tuning = tune("quadratic", name, QUADRATIC_GRID, steps=300)
    start_distance = np.linalg.norm(get_function("quadratic").start)
    assert best.distances[0] == pytest.approx(start_distance)
    assert not best.diverged and tuning.best_lr == best.lr
    assert best.final_distance < 0.1, f"{name} at lr={best.lr}: {best.final_distance}"
    assert best.final_value < 0.05


def test_sgd_follows_the_closed_form_on_the_quadratic():
    f = get_function("quadratic", condition=10.0, angle=25.0)
    lr, steps = 0.15, 40
    path = trajectory(f, "sgd", lr, steps=steps, start=(-2.0, 1.0))
    expected = [np.array([-2.0, 1.0])]
    for _ in range(steps):
        expected.append(expected[-1] - lr * f.matrix @ expected[-1])
    np.testing.assert_allclose(path.points, np.array(expected), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(path.values, f.value(np.array(expected)), rtol=1e-12, atol=1e-15)


def test_heavy_ball_follows_its_recurrence_on_rosenbrock():
    f = get_function("rosenbrock")
    lr, mu, steps = 1e-3, 0.9, 60
    path = trajectory(f, "momentum", lr, steps=steps, start=(-1.5, 2.0), momentum=mu)
    p, b = np.array([-1.5, 2.0]), np.zeros(2)
    for t in range(steps):
        g = f.gradient(p)
        b = g if t == 0 else mu * b + g  # torch.optim.SGD: the first buffer is the gradient
        p = p - lr * b
        np.testing.assert_allclose(path.points[t + 1], p, rtol=1e-12)


def test_run_returns_arrays_for_each_optimizer_in_order():
    runs = run("himmelblau", ["sgd", "adam", "demon-qhadamw"], steps=25, lrs=[0.01, 0.1, 0.05])
    assert list(runs) == ["sgd", "adam", "demon-qhadamw"]
    f = get_function("himmelblau")
    for name, path in runs.items():
        assert path.points.shape == (26, 2) and path.values.shape == (26,)
        np.testing.assert_array_equal(path.points[0], f.start)
        np.testing.assert_allclose(path.values, f.value(path.points))
        np.testing.assert_allclose(path.distances, f.distance(path.points))
        assert path.optimizer == name and path.steps == 25
    assert [r.lr for r in runs.values()] == [0.01, 0.1, 0.05]
    # Demon's horizon defaults to the run's length.
    assert runs["demon-qhadamw"].hyperparameters["total_steps"] == 25


def test_learning_rates_one_for_all_per_name_or_default():
    same = run("quadratic", ["sgd", "adam"], steps=3, lrs=0.2)
    assert [r.lr for r in same.values()] == [0.2, 0.2]
    mapped = run("quadratic", ["sgd", "adam"], steps=3, lrs={"adam": 0.05})
    assert mapped["adam"].lr == 0.05
    assert mapped["sgd"].lr == optim.hyperparameters_of("sgd")["lr"]


def test_hyperparameters_go_to_their_optimizer():
    runs = run(
        "quadratic", ["momentum", "nesterov"], steps=30, lrs=0.05,
        hyperparameters={"momentum": {"momentum": 0.5}},
    )  # fmt: skip
    assert runs["momentum"].hyperparameters == {"momentum": 0.5}
    reference = trajectory("quadratic", "momentum", 0.05, steps=30, momentum=0.5)
    np.testing.assert_array_equal(runs["momentum"].points, reference.points)


def test_noisy_runs_are_reproducible_and_share_their_noise():
    f = get_function("rastrigin", noise=2.0, seed=11)
    a = run(f, ["sgd", "adam"], steps=50, lrs=0.01)
    b = run(f, ["adam", "sgd"], steps=50, lrs=0.01)  # order does not change the noise
    for name in ("sgd", "adam"):
        np.testing.assert_array_equal(a[name].points, b[name].points)
    exact = trajectory("rastrigin", "sgd", 0.01, steps=50)
    assert not np.allclose(exact.points, a["sgd"].points)
    other = run(get_function("rastrigin", noise=2.0, seed=12), ["sgd"], steps=50, lrs=0.01)
    assert not np.array_equal(other["sgd"].points, a["sgd"].points)


def test_schedule_free_records_the_averaged_point():
    path = trajectory("quadratic", "schedulefree-sgd", 0.1, steps=20)
    opt_points = []
    f = get_function("quadratic")
    p = Parameter(np.array(f.start, dtype=float).reshape(1, 2))
    opt = optim.create("schedulefree-sgd", [p], lr=0.1)
    for _ in range(20):
        p.grad = f.gradient(p.data)
        opt.step()
        opt.eval()
        opt_points.append(p.data[0].copy())
        opt.train()
    np.testing.assert_allclose(path.points[1:], opt_points, rtol=1e-13)


def test_muon_takes_normalised_steps_against_the_gradient():
    f = get_function("quadratic")
    path = trajectory(f, "muon", 0.05, steps=10, nesterov=False, momentum=0.0)
    moves = np.diff(path.points, axis=0)
    lengths = np.linalg.norm(moves, axis=1)
    # Newton-Schulz maps the one singular value (1 after normalising) to the same
    # constant near 1 at every step: steps of one length, whatever the gradient's size.
    np.testing.assert_allclose(lengths, lengths[0], rtol=1e-10)
    assert 0.6 * 0.05 < lengths[0] < 1.2 * 0.05
    grads = f.gradient(path.points[:-1])
    unit = -grads / np.linalg.norm(grads, axis=1, keepdims=True)
    np.testing.assert_allclose(moves / lengths[:, None], unit, atol=1e-10)


def test_divergence_stops_the_run_and_is_reported():
    path = trajectory("quadratic", "sgd", 1.0, steps=500)  # lr > 2 / condition
    assert path.diverged and 0 < path.diverged_at < 500
    assert np.all(np.isnan(path.points[path.diverged_at :]))
    assert np.all(np.isfinite(path.points[: path.diverged_at]))
    assert np.isnan(path.final_value)
    record = path.summary()
    assert record["diverged_at"] == path.diverged_at and record["final_value"] is None


def test_tune_picks_the_lowest_final_value_and_never_a_diverged_run():
    grid = (1e-4, 1e-3, 1e-2, 0.1, 1.0)
    best, tuning = tune("rosenbrock", "sgd", grid, steps=200)
    finals = {}
    for lr in grid:
        path = trajectory("rosenbrock", "sgd", lr, steps=200)
        finals[lr] = np.inf if path.diverged else path.final_value
    assert tuning.final_values == pytest.approx(finals)
    assert best.lr == min(finals, key=finals.get) == tuning.best_lr
    assert np.isinf(finals[1.0])  # this rate diverges and is not chosen
    assert tuning.grid == grid and not tuning.at_edge


def test_tune_with_every_rate_diverging_says_so():
    best, tuning = tune("quadratic", "sgd", (1.0, 5.0), steps=300)
    assert tuning.best_lr is None and best.diverged and best.lr == 1.0


def test_tuned_run_reports_each_search():
    runs = run("quadratic", ["sgd", "adam"], steps=100, tune=True, grid=(0.01, 0.1, 0.18))
    tunings = runs.tunings
    assert set(tunings) == {"sgd", "adam"}
    assert runs["sgd"].lr == 0.18  # nearest 2 / (1 + condition), the fastest rate here
    assert tunings["sgd"].at_edge


def test_default_grid_is_logarithmic():
    grid = default_grid(1e-3, 1.0, per_decade=2)
    np.testing.assert_allclose(grid, [1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1, 0.316, 1.0])
    assert default_grid()[0] == 1e-5 and default_grid()[-1] == 10.0


def test_a_users_registered_optimizer_works_here():
    class Sign:
        def init(self, params):
            return {}

        def update(self, updates, state, params):
            return [np.sign(u) for u in updates]

    def sign_descent(lr):
        """p -= lr * sign(g)."""
        return chain(Sign(), ScaleByLearningRate(lr))

    name = "test-signdescent"
    if name not in optim.OPTIMIZERS:
        optim.register(name, sign_descent, defaults={"lr": 0.01})
    path = trajectory("quadratic", name, 0.01, steps=5, start=(1.0, -1.0))
    expected = [(1.0 - 0.01 * t, -1.0 + 0.01 * t) for t in range(6)]
    np.testing.assert_allclose(path.points, expected, rtol=1e-13)
    runs = trajectories.run("beale", [name, name + "w"], steps=5)
    assert set(runs) == {name, name + "w"}


def test_bad_input_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"unknown test function 'beal'; did you mean 'beale'"):
        run("beal", ["sgd"])
    with pytest.raises(ValueError, match=r"unknown optimizer 'adma'; did you mean"):
        run("beale", ["sgd", "adma"])
    with pytest.raises(ValueError, match=r"start \(5, 5\) is outside the window"):
        run("rosenbrock", ["sgd"], start=(5.0, 5.0))
    for steps in (0, -3):
        with pytest.raises(
            ValueError, match=rf"steps must be an integer >= 1; received steps={steps}"
        ):
            run("rosenbrock", ["sgd"], steps=steps)
    with pytest.raises(ValueError, match=r"expected one learning rate or one per optimizer \(2"):
        run("rosenbrock", ["sgd", "adam"], lrs=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"optimizer named twice: sgd"):
        run("rosenbrock", ["sgd", "adam", "sgd"])
    with pytest.raises(ValueError, match=r"at least one optimizer"):
        run("rosenbrock", [])
    with pytest.raises(ValueError, match=r"hyperparameters given for nadam"):
        run("rosenbrock", ["adam"], hyperparameters={"nadam": {"lr": 1.0}})
    with pytest.raises(ValueError, match=r"learning rate given for lion"):
        run("rosenbrock", ["adam"], lrs={"lion": 1.0})
    with pytest.raises(ValueError, match=r"sgd: lr must be >= 0; received lr=-0.1"):
        run("rosenbrock", ["sgd"], lrs=-0.1)
    with pytest.raises(ValueError, match=r"grid rates must be > 0"):
        tune("rosenbrock", "sgd", (0.1, 0.0))
    with pytest.raises(ValueError, match=r"give adam's learning rate with lrs="):
        run("rosenbrock", ["sgd", "adam"], hyperparameters={"adam": {"lr": 0.1}})
    with pytest.raises(ValueError, match=r"tune=True searches grid= for every optimizer"):
        run("rosenbrock", ["sgd"], lrs=0.1, tune=True)
    with pytest.raises(ValueError, match=r"grid= is searched only with tune=True"):
        run("rosenbrock", ["sgd"], grid=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"lrs must be numbers; received '0.1'"):
        run("rosenbrock", ["sgd"], lrs="0.1")
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1; received steps=2.5"):
        run("rosenbrock", ["sgd"], steps=2.5)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1; received steps=True"):
        run("rosenbrock", ["sgd"], steps=True)


def test_numpy_numbers_are_accepted():
    runs = run("quadratic", ["sgd", "adam"], steps=np.int64(4), lrs=np.float32(0.1))
    assert runs["sgd"].steps == 4 and runs["adam"].lr == pytest.approx(0.1)
    runs = run("quadratic", ["sgd", "adam"], steps=3, lrs=np.array([0.1, 0.2]))
    assert [r.lr for r in runs.values()] == pytest.approx([0.1, 0.2])
    assert run("quadratic", ["sgd"], steps=3, lrs=np.array(0.3))["sgd"].lr == pytest.approx(0.3)


@pytest.mark.parametrize(
    "module", ["optimlab.problems", "optimlab.trajectories", "optimlab.trajectories.runs"]
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
