"""One check for every "number of seconds" that users pass: timeouts, waits, intervals,
durations.

Each caller states what it accepts (zero or not, None or not, infinity or not) and gets
back a float, or an error that names the argument, what it got, and what it needs.

Infinity: ``float("inf")`` (or an int too large for a float, such as ``10**400``) means
"no limit" wherever it is accepted. ``threading`` can't wait longer than
``threading.TIMEOUT_MAX`` (about 292 years) at once, so ``deadline`` treats any longer
timeout as no limit, and code that waits for a number of seconds passes it through
``waitable`` first.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Literal, overload

from ._shown import shown

__all__ = ["check_seconds", "deadline", "waitable"]


@overload
def check_seconds(
    value: object,
    name: str,
    *,
    positive: bool = ...,
    none: Literal[False] = ...,
    finite: bool = ...,
    meaning: str = ...,
) -> float: ...
@overload
def check_seconds(
    value: object,
    name: str,
    *,
    positive: bool = ...,
    none: Literal[True],
    finite: bool = ...,
    meaning: str = ...,
) -> float | None: ...


def check_seconds(
    value: object,
    name: str,
    *,
    positive: bool = False,
    none: bool = False,
    finite: bool = False,
    meaning: str = "",
) -> float | None:
    """``value`` as a float number of seconds, or raise an error saying what is needed.

    Args:
        value: what the user passed.
        name: the argument's name, for the message (``"timeout"``).
        positive: refuse 0 (an interval must be > 0); otherwise 0 is allowed.
        none: accept None (and return it), as ``timeout=None`` means "no limit".
        finite: refuse infinity (and ints too large for a float); otherwise they come
            back as ``math.inf``.
        meaning: a hint appended to the ``ValueError`` message, e.g. what 0 means.

    Raises:
        TypeError: not a number (a bool is not a number of seconds).
        ValueError: NaN, negative, 0 when ``positive``, infinite when ``finite``.
    """
    if value is None and none:
        return None
    bound = "> 0" if positive else ">= 0"
    alternative = " or None" if none else ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number of seconds {bound}{alternative}, got {shown(value)}"
        raise TypeError(msg)
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float (10**400): beyond any limit
        seconds = math.inf if value > 0 else -math.inf
    if math.isnan(seconds) or seconds < 0 or (positive and seconds == 0):
        hint = f" ({meaning})" if meaning else ""
        msg = f"{name} must be {bound} seconds{alternative}{hint}, got {shown(value)}"
        raise ValueError(msg)
    if finite and math.isinf(seconds):
        msg = f"{name} must be a finite number of seconds {bound}, got {shown(value)}"
        raise ValueError(msg)
    return seconds


def deadline(timeout: object) -> float | None:
    """The ``time.monotonic()`` instant a ``timeout`` (seconds, or None) runs out.

    None means no limit: for ``timeout=None``, and for a timeout longer than
    ``threading.TIMEOUT_MAX`` (``inf`` included), which no thread can wait for.
    """
    seconds = check_seconds(timeout, "timeout", none=True)
    if seconds is None or seconds > threading.TIMEOUT_MAX:
        return None
    return time.monotonic() + seconds


def waitable(seconds: float) -> float:
    """``seconds`` capped at ``threading.TIMEOUT_MAX``, for ``Condition.wait`` and the like
    (a longer wait raises ``OverflowError``); the caller wakes, and waits again."""
    return min(seconds, threading.TIMEOUT_MAX)
