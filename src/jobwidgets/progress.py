"""``track``: progress of a loop, reported to the job that runs it.

A job's progress is a fraction (``progress``, 0..1 or None) and a short text
(``progress_text``), set with ``set_progress(fraction, text)``. ``track`` sets both as a
loop advances, at most ``INTERVAL`` seconds apart, and always at the loop's end.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from ._shown import shown
from .job import current_job

__all__ = ["INTERVAL", "track"]

T = TypeVar("T")

INTERVAL = 0.1
"""The least time between two progress reports of one loop, in seconds."""


def track(
    iterable: Iterable[T], total: int | None = None, description: str | None = None
) -> Iterator[T]:
    """Yield the items of ``iterable``, reporting progress to the current job.

    Args:
        iterable: the items.
        total: how many there are (default: ``len(iterable)`` when it has one; without
            it, the progress shows a count and no fraction).
        description: a few words shown before the count, such as ``"files"``.

    Outside a job it only yields the items.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        msg = f"total must be an int >= 0 (how many items) or None, got {shown(total)}"
        raise ValueError(msg) if isinstance(total, int) else TypeError(msg)
    if description is not None and not isinstance(description, str):
        msg = f"description must be a str or None, got {type(description).__name__}"
        raise TypeError(msg)
    job = current_job()
    if job is None:
        yield from iterable
        return
    prefix = f"{description}: " if description else ""

    def report(done: int) -> None:
        if total:
            job.set_progress(min(done / total, 1.0), f"{prefix}{done}/{total}")
        else:
            job.set_progress(None, f"{prefix}{done}")

    done = 0
    report(0)
    last = time.monotonic()
    for item in iterable:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= INTERVAL:
            report(done)
            last = now
    report(done)
