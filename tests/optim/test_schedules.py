import math

import pytest

from optimlab.optim import schedules


def test_values():
    assert schedules.constant(0.1)(1000) == 0.1
    assert schedules.step(1.0, 10, 0.5)(25) == 0.25
    assert schedules.exponential(1.0, 0.9)(2) == pytest.approx(0.81)
    c = schedules.cosine(1.0, 100, final=0.1)
    assert c(0) == 1.0 and c(100) == pytest.approx(0.1) and c(500) == pytest.approx(0.1)
    assert c(50) == pytest.approx(0.55)
    w = schedules.warmup(0.2, 4)
    assert [w(t) for t in range(5)] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.2])
    assert all(isinstance(s(3), float) for s in (c, w, schedules.demon(0.9, 10)))


def test_make_lr_schedule():
    assert schedules.make_lr_schedule("constant", 0.1, 100) == 0.1
    s = schedules.make_lr_schedule("cosine", 0.1, 100, warmup_steps=10)
    assert s(0) == pytest.approx(0.01) and s(99) < 1e-3
    e = schedules.make_lr_schedule("exponential", 0.1, 100)
    assert e(100) == pytest.approx(0.001)
    assert math.isclose(schedules.make_lr_schedule("step", 1.0, 90)(30), 0.1)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: schedules.cosine(0.1, 0), r"cosine schedule: total_steps must be an integer >= 1"),
        (lambda: schedules.warmup(0.1, -1), r"warmup: warmup_steps must be an integer >= 1"),
        (lambda: schedules.demon(1.0, 10), r"demon: the momentum coefficient must be in \[0, 1\)"),
        (
            lambda: schedules.make_lr_schedule("cosin", 0.1, 10),
            r"unknown schedule 'cosin'; did you mean 'cosine'",
        ),
    ],
)
def test_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_schedules_compare_by_value():
    assert schedules.cosine(0.1, 10) == schedules.cosine(0.1, 10)
    assert schedules.demon(0.9, 10) != schedules.demon(0.9, 11)
