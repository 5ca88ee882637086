"""``job_monitor``, qiskit's job monitor, writing the one-line text view of a job.

Core: importable without the ``widgets`` extra, for scripts in a terminal. In a Jupyter
kernel, with no ``output`` given, ``job_monitor`` shows a live ``StatusBadge`` instead,
through ``notebook_view``, which the Jupyter integration sets. ``text_line`` (the line
it writes) lives in ``jobwidgets.text`` and is re-exported here.
"""

from __future__ import annotations

import io
import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

from ._shown import shown
from .job import BaseJob, _check_wait
from .text import text_line

__all__ = ["job_monitor", "text_line"]


notebook_view: Callable[[BaseJob], bool] | None = None
"""How ``job_monitor`` shows a job where widgets render. The Jupyter integration sets it
in a kernel (``jobwidgets.ipython.activate``: a live ``StatusBadge``), so this module
never imports a UI package. It returns False where it can't show the job; ``job_monitor``
then writes the text line."""


def job_monitor(
    job: BaseJob,
    interval: float | None = None,
    quiet: bool = False,
    output: TextIO | None = None,
    line_discipline: str = "\r",
) -> None:
    """Wait for ``job`` to finish, showing its status: qiskit's ``job_monitor``.

    The signature is qiskit-terra 0.19's. Where widgets can't render (a terminal), or
    with ``output``, it writes one status line that each update rewrites: every update
    starts with ``line_discipline`` (a carriage return by default), and a newline ends
    the last one. In a Jupyter kernel, with no ``output`` given, it shows a live
    status badge instead.

    Args:
        job: the job to follow.
        interval: seconds between status queries for jobs that can only be polled
            (default 5; 0 queries again at once). Jobs that push their changes are
            shown at once whatever the interval.
        quiet: if True, print nothing; just wait.
        output: the text stream to write the status line to (default: ``sys.stdout``
            at the time of the call).
        line_discipline: what starts each update of the line.
    """
    if not isinstance(job, BaseJob):
        msg = f"job_monitor needs a jobwidgets job, got {type(job).__name__}"
        raise TypeError(msg)
    wait = 5.0 if interval is None else interval
    _check_wait(wait, "interval")
    if not isinstance(line_discipline, str):
        msg = f"line_discipline must be a str such as '\\r', got {shown(line_discipline)}"
        raise TypeError(msg)
    _check_output(output)
    if quiet:
        job.wait_for_final_state(wait=wait)
        return
    view = notebook_view
    if output is None and view is not None and view(job):
        job.wait_for_final_state(wait=wait)
        return
    _StatusLine(output if output is not None else sys.stdout, line_discipline).follow(job, wait)


def _check_output(output: object) -> None:
    """Refuse, before any wait, an ``output`` the status line can't be written to."""
    if output is None:
        return
    if isinstance(output, io.RawIOBase | io.BufferedIOBase):
        msg = f"output must be a text stream, got a binary one ({type(output).__name__})"
        raise TypeError(msg)
    for method in ("write", "flush"):
        if not callable(getattr(output, method, None)):
            msg = (
                f"output must be a text stream with write() and flush() (such as "
                f"sys.stdout), got {type(output).__name__}"
            )
            raise TypeError(msg)


class _StatusLine:
    """The line ``job_monitor`` rewrites: written when the job's status, progress or
    error changes, and at most once a second otherwise (so the elapsed time ticks)."""

    def __init__(self, stream: TextIO, line_discipline: str) -> None:
        self.stream = stream
        self.line_discipline = line_discipline
        self.width = 0
        self.last: tuple[object, ...] | None = None
        self.written_at = -math.inf

    def follow(self, job: BaseJob, wait: float) -> None:
        def update(_job_id: object, _status: object, watched: BaseJob) -> None:
            self.write(watched)

        job.wait_for_final_state(wait=wait, callback=update)
        self.write(job, force=True)
        self.stream.write("\n")
        self.stream.flush()

    def write(self, job: BaseJob, *, force: bool = False) -> None:
        progress = None if job.progress is None else round(job.progress * 100)
        key = (job.state, progress, job.error, job.job_id())
        now = time.monotonic()
        if not force and key == self.last and now - self.written_at < 1:
            return
        self.last, self.written_at = key, now
        text = text_line(job)
        self.stream.write(self.line_discipline + text.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(text))
