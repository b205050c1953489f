"""``Parameter.grad`` is always an array of the parameter's shape and dtype."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimlab.nn import Parameter


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2.5, 2.5), (np.float64(2.5), 2.5), (np.float32(2.5), 2.5), (np.array(2.5), 2.5), (2, 2.0)],
    ids=repr,
)
def test_a_scalar_gradient_of_a_0d_parameter_becomes_a_0d_array(value, expected):
    p = Parameter(np.array(1.0, dtype=np.float32), "s")
    p.grad = value
    assert isinstance(p.grad, np.ndarray)
    assert p.grad.shape == () and p.grad.dtype == np.float32
    assert float(p.grad) == expected


def test_a_list_is_stored_as_an_array_of_the_parameters_dtype():
    p = Parameter(np.zeros((2, 2)), "w")
    p.grad = [[1, 2], [3, 4]]
    assert p.grad.dtype == np.float64
    np.testing.assert_array_equal(p.grad, [[1.0, 2.0], [3.0, 4.0]])


def test_an_array_of_the_right_shape_and_dtype_is_kept_without_a_copy():
    p = Parameter(np.zeros(3), "b")
    g = np.ones(3)
    p.grad = g
    assert p.grad is g


@pytest.mark.parametrize("value", [np.zeros(4), 1.0, np.zeros((3, 1)), [1.0, 2.0]], ids=repr)
def test_a_wrong_shape_names_the_parameter(value):
    p = Parameter(np.zeros(3), "layer.bias")
    with pytest.raises(
        ValueError, match=r"parameter 'layer.bias': gradient shape must be \(3,\); received"
    ):
        p.grad = value
    assert p.grad is None  # nothing stored


def test_a_complex_gradient_for_a_real_parameter_is_refused():
    p = Parameter(np.zeros(2), "w")
    with pytest.raises(TypeError, match=r"'w': gradient of dtype complex128 .* imaginary part"):
        p.grad = np.array([1j, 2.0])
    with pytest.raises(TypeError, match=r"parameter 'w': gradient must be numeric; received"):
        p.grad = np.array(["a", "b"])


def test_accumulate_checks_the_shape_and_keeps_the_dtype():
    p = Parameter(np.zeros(2, dtype=np.float32), "w")
    p.accumulate(np.ones(2, dtype=np.float64))
    p.accumulate(np.ones(2, dtype=np.float32))
    assert p.grad.dtype == np.float32
    np.testing.assert_array_equal(p.grad, [2.0, 2.0])
    with pytest.raises(ValueError, match=r"parameter 'w': gradient shape must be \(2,\)"):
        p.accumulate(np.ones(3))


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6))
def test_any_float_sequence_round_trips(values):
    p = Parameter(np.zeros(len(values)), "v")
    p.grad = values
    np.testing.assert_array_equal(p.grad, np.asarray(values))
