"""One check for every "number of seconds" that users pass: timeouts, waits, intervals,
durations.

Each caller states what it accepts (zero or not, None or not) and gets back a float, or
an error that names the argument, what it got, and what it needs.
"""

from __future__ import annotations

import math
import time
from typing import Literal, overload

__all__ = ["check_seconds", "deadline"]


@overload
def check_seconds(
    value: object,
    name: str,
    *,
    positive: bool = ...,
    none: Literal[False] = ...,
    meaning: str = ...,
) -> float: ...
@overload
def check_seconds(
    value: object, name: str, *, positive: bool = ..., none: Literal[True], meaning: str = ...
) -> float | None: ...


def check_seconds(
    value: object,
    name: str,
    *,
    positive: bool = False,
    none: bool = False,
    meaning: str = "",
) -> float | None:
    """``value`` as a float number of seconds, or raise an error saying what is needed.

    Args:
        value: what the user passed.
        name: the argument's name, for the message (``"timeout"``).
        positive: refuse 0 (an interval must be > 0); otherwise 0 is allowed.
        none: accept None (and return it), as ``timeout=None`` means "no limit".
        meaning: a hint appended to the ``ValueError`` message, e.g. what 0 means.

    Raises:
        TypeError: not a number (a bool is not a number of seconds).
        ValueError: NaN, negative, or 0 when ``positive``.
    """
    if value is None and none:
        return None
    bound = "> 0" if positive else ">= 0"
    alternative = " or None" if none else ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number of seconds {bound}{alternative}, got {value!r}"
        raise TypeError(msg)
    if math.isnan(value) or value < 0 or (positive and value == 0):
        hint = f" ({meaning})" if meaning else ""
        msg = f"{name} must be {bound} seconds{alternative}{hint}, got {value!r}"
        raise ValueError(msg)
    return float(value)


def deadline(timeout: object) -> float | None:
    """The ``time.monotonic()`` instant a ``timeout`` (seconds, or None) runs out."""
    seconds = check_seconds(timeout, "timeout", none=True)
    return None if seconds is None else time.monotonic() + seconds
