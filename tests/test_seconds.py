"""check_seconds: the one check for timeouts, waits, intervals and durations."""

from __future__ import annotations

import math
import threading
import time

import pytest

from jobwidgets._seconds import check_seconds, deadline, waitable


@pytest.mark.parametrize("value", [0, 0.0, 1, 2.5])
def test_numbers_of_seconds_come_back_as_floats(value: float) -> None:
    checked = check_seconds(value, "wait")
    assert checked == value
    assert isinstance(checked, float)


@pytest.mark.parametrize("value", ["1", None, True, [1]])
def test_what_is_not_a_number_is_a_type_error_that_names_the_argument(value: object) -> None:
    with pytest.raises(TypeError, match=r"^interval must be a number of seconds >= 0, got"):
        check_seconds(value, "interval")


@pytest.mark.parametrize("value", [-1, -0.001, float("nan")])
def test_negative_or_nan_is_a_value_error(value: float) -> None:
    with pytest.raises(ValueError, match=r"wait must be >= 0 seconds \(0 means now\)"):
        check_seconds(value, "wait", meaning="0 means now")


def test_positive_refuses_zero() -> None:
    with pytest.raises(ValueError, match="interval must be > 0 seconds"):
        check_seconds(0, "interval", positive=True)
    assert check_seconds(0.5, "interval", positive=True) == 0.5


def test_none_only_when_allowed() -> None:
    assert check_seconds(None, "timeout", none=True) is None
    with pytest.raises(TypeError, match="or None"):
        check_seconds("soon", "timeout", none=True)
    with pytest.raises(TypeError, match="timeout"):
        check_seconds(None, "timeout")


def test_deadline_is_on_the_monotonic_clock() -> None:
    assert deadline(None) is None
    before = time.monotonic()
    until = deadline(2)
    assert until is not None and before + 2 <= until <= time.monotonic() + 2
    with pytest.raises(ValueError, match="timeout"):
        deadline(-1)


@pytest.mark.parametrize("value", [math.inf, pytest.param(10**400, id="10**400"), 1e309])
def test_infinity_and_ints_too_large_for_a_float_are_inf(value: float) -> None:
    assert check_seconds(value, "timeout") == math.inf
    assert deadline(value) is None  # no limit


def test_a_timeout_longer_than_threads_can_wait_is_no_limit() -> None:
    assert deadline(threading.TIMEOUT_MAX * 2) is None
    assert deadline(1e10) is None
    assert waitable(1e10) == threading.TIMEOUT_MAX
    assert waitable(0.5) == 0.5


@pytest.mark.parametrize("value", [math.inf, pytest.param(10**400, id="10**400")])
def test_finite_refuses_infinity_naming_the_argument(value: float) -> None:
    with pytest.raises(ValueError, match=r"^interval must be a finite number of seconds > 0"):
        check_seconds(value, "interval", positive=True, finite=True)


def test_a_huge_negative_int_is_a_value_error_that_does_not_print_it() -> None:
    with pytest.raises(ValueError, match=r"^wait must be >= 0 seconds, got an int of 1329 bits$"):
        check_seconds(-(10**400), "wait")
