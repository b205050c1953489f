"""The 2-D test functions: gradients, minima, noise and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimlab import problems
from optimlab.problems import FUNCTIONS, NoisyFunction, get_function

# Every function, with non-default parameters where it takes them.
BUILT = [
    *[(name, {}) for name in FUNCTIONS.names()],
    ("quadratic", {"condition": 100.0, "angle": 30.0}),
    ("rosenbrock", {"a": -0.5, "b": 10.0}),
    ("rastrigin", {"A": 3.0}),
]
IDS = [name + "".join(f"-{k}{v:g}" for k, v in params.items()) for name, params in BUILT]

# Published minima (coordinates and values to the digits the sources give).
PUBLISHED = {
    "rosenbrock": ([(1.0, 1.0)], 0.0),
    "beale": ([(3.0, 0.5)], 0.0),
    "himmelblau": (
        [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        0.0,
    ),
    "rastrigin": ([(0.0, 0.0)], 0.0),
    "styblinski-tang": ([(-2.903534, -2.903534)], -39.16617 * 2),
    "quadratic": ([(0.0, 0.0)], 0.0),
}


def central_difference(f, point, h=1e-6):
    grad = np.zeros(2)
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        grad[i] = (f.value(point + step) - f.value(point - step)) / (2 * h)
    return grad


def hessian(f, point, h=1e-5):
    """Finite differences of the analytic gradient."""
    cols = []
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        cols.append((f.gradient(point + step) - f.gradient(point - step)) / (2 * h))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize(("name", "params"), BUILT, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(u=st.floats(0.0, 1.0), v=st.floats(0.0, 1.0))
def test_gradient_matches_finite_differences(name, params, u, v):
    f = get_function(name, **params)
    (x0, x1), (y0, y1) = f.window
    point = np.array([x0 + u * (x1 - x0), y0 + v * (y1 - y0)])
    numeric = central_difference(f, point)
    scale = max(1.0, np.abs(numeric).max())
    np.testing.assert_allclose(f.gradient(point), numeric, atol=1e-6 * scale, rtol=1e-6)


@pytest.mark.parametrize(("name", "params"), BUILT, ids=IDS)
def test_value_and_gradient_work_on_grids(name, params):
    f = get_function(name, **params)
    grid = np.random.default_rng(0).uniform(-2, 2, size=(4, 5, 2))
    values, grads = f.value(grid), f.gradient(grid)
    assert values.shape == (4, 5) and grads.shape == (4, 5, 2)
    for i, j in np.ndindex(4, 5):
        assert values[i, j] == pytest.approx(f.value(grid[i, j]), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(grads[i, j], f.gradient(grid[i, j]), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_known_minima_are_published_stationary_minima(name):
    f = get_function(name)
    published, value = PUBLISHED[name]
    assert len(f.minima) == len(published)
    for ours, theirs in zip(sorted(f.minima), sorted(published), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert f.minimum_value == pytest.approx(value, abs=1e-4)
    for m in f.minima:
        point = np.array(m)
        assert np.linalg.norm(f.gradient(point)) < 1e-10
        assert f.value(point) == pytest.approx(f.minimum_value, abs=1e-12)
        assert np.all(np.linalg.eigvalsh(hessian(f, point)) > 0), "not a minimum"
        assert f.contains(point)
        assert f.distance(point) == 0.0


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_no_point_of_the_window_is_below_the_minimum(name):
    f = get_function(name)
    (x0, x1), (y0, y1) = f.window
    xs, ys = np.linspace(x0, x1, 401), np.linspace(y0, y1, 401)
    values = f.value(np.stack(np.meshgrid(xs, ys), axis=-1))
    assert values.min() >= f.minimum_value - 1e-12


def test_quadratic_has_the_chosen_condition_number():
    for condition, angle in [(1.0, 0.0), (10.0, 0.0), (1000.0, 37.0)]:
        f = get_function("quadratic", condition=condition, angle=angle)
        eig = np.linalg.eigvalsh(hessian(f, np.array([0.3, -0.2])))
        assert eig.max() / eig.min() == pytest.approx(condition, rel=1e-8)


def test_saddle_has_no_minimum_and_an_indefinite_stationary_point():
    f = get_function("saddle")
    assert f.minima == () and f.minimum_value is None
    assert f.targets == ((0.0, 0.0),) and f.target_kind == "stationary point"
    np.testing.assert_array_equal(f.gradient([0.0, 0.0]), [0.0, 0.0])
    eig = np.linalg.eigvalsh(hessian(f, np.zeros(2)))
    assert eig.min() < 0 < eig.max()
    assert f.distance([3.0, 4.0]) == pytest.approx(5.0)


def test_himmelblau_distance_is_to_the_nearest_of_its_four_minima():
    f = get_function("himmelblau")
    assert f.nearest([3.5, -2.0]) == pytest.approx((3.5844283403304917, -1.8481265269644034))
    assert f.distance([3.0, 2.5]) == pytest.approx(0.5)


def test_default_starts_lie_in_their_windows():
    for name in FUNCTIONS.names():
        f = get_function(name)
        np.testing.assert_array_equal(f.check_start(None), f.start)


def test_noisy_gradient_is_the_gradient_plus_gaussian_noise():
    base = get_function("rosenbrock")
    noisy = get_function("rosenbrock", noise=0.5, seed=3)
    assert isinstance(noisy, NoisyFunction)
    point = np.array([0.2, -0.4])
    draws = np.array([noisy.gradient(point) for _ in range(4000)])
    exact = base.gradient(point)
    np.testing.assert_allclose(draws.mean(axis=0), exact, atol=4 * 0.5 / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(axis=0), [0.5, 0.5], rtol=0.05)
    assert noisy.value(point) == base.value(point)  # values stay exact
    np.testing.assert_array_equal(noisy.exact_gradient(point), exact)


def test_noise_is_reproducible_by_seed_and_restarts():
    a = get_function("quadratic", noise=1.0, seed=7)
    b = get_function("quadratic", noise=1.0, seed=7)
    c = get_function("quadratic", noise=1.0, seed=8)
    first = [a.gradient([1.0, 1.0]) for _ in range(3)]
    np.testing.assert_array_equal(first, [b.gradient([1.0, 1.0]) for _ in range(3)])
    assert not np.array_equal(first[0], c.gradient([1.0, 1.0]))
    fresh = a.restarted()
    np.testing.assert_array_equal(first, [fresh.gradient([1.0, 1.0]) for _ in range(3)])
    assert get_function("quadratic").restarted().name == "quadratic"


def test_bad_names_parameters_and_points_are_refused():
    with pytest.raises(
        ValueError, match=r"unknown test function 'rosenbrok'; did you mean 'rosenbrock'"
    ):
        get_function("rosenbrok")
    with pytest.raises(
        ValueError, match=r"quadratic: unknown parameter kappa; it takes condition, angle"
    ):
        get_function("quadratic", kappa=10)
    with pytest.raises(ValueError, match=r"beale: unknown parameter a; it takes no parameters"):
        get_function("beale", a=1)
    with pytest.raises(
        ValueError, match=r"quadratic: condition must be >= 1; received condition=0.5"
    ):
        get_function("quadratic", condition=0.5)
    with pytest.raises(ValueError, match=r"rosenbrock: b must be a finite number"):
        get_function("rosenbrock", b=float("inf"))
    with pytest.raises(ValueError, match=r"noise: scale must be a finite number >= 0; received -1"):
        get_function("saddle", noise=-1)
    with pytest.raises(ValueError, match=r"noise: seed must be an integer >= 0"):
        get_function("saddle", noise=1.0, seed=-2)
    with pytest.raises(ValueError, match=r"already noisy"):
        NoisyFunction(get_function("saddle", noise=1.0), 1.0)
    f = get_function("beale")
    with pytest.raises(
        ValueError, match=r"beale: expected points of shape \(2,\) or \(\.\.\., 2\)"
    ):
        f.value([1.0, 2.0, 3.0])
    with pytest.raises(
        ValueError, match=r"beale: start \(9, 0\) is outside the window x in \[-4.5, 4.5\]"
    ):
        f.check_start((9.0, 0.0))
    with pytest.raises(ValueError, match=r"start must be one finite point"):
        f.check_start((float("nan"), 0.0))


def test_aliases_and_describe():
    assert get_function("styblinski_tang").name == "styblinski-tang"
    assert "minima at (3, 0.5)" in get_function("beale").describe()
    assert "unbounded below" in get_function("saddle").describe()
    assert problems.parameters_of("quadratic") == ["condition", "angle"]


def test_styblinski_tang_local_minima_are_listed_and_are_minima():
    f = get_function("styblinski-tang")
    assert len(f.local_minima) == 3
    for m in f.local_minima:
        point = np.array(m)
        assert np.linalg.norm(f.gradient(point)) < 1e-10
        assert np.all(np.linalg.eigvalsh(hessian(f, point)) > 0)
        assert f.value(point) > f.minimum_value + 10  # local, not global
        assert f.distance(point) == 0.0  # the nearest minimum, local ones included
    assert "local minima at (2.7468, 2.7468)" in f.describe()
    np.testing.assert_allclose(f.local_minima[0], (2.746803, 2.746803), atol=1e-6)


@pytest.mark.parametrize("a", [-1.5, 0.0, 1.0, 2.0, 3.0])
def test_rosenbrock_window_holds_its_minimum(a):
    f = get_function("rosenbrock", a=a)
    assert f.contains(f.minima[0])
    assert f.window == ((-2.0, 2.0), (-1.0, 3.0)) or a not in (0.0, 1.0)
