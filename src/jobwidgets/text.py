"""A job as text: the one rendering of the repr, the notebook's ``text/plain``, the
monitor's status line and the terminal demo.

Core: it reads the job's traits only, and the status's presentation from
``jobwidgets.status.STYLES`` (which the front end shares), so a job reads the same in a
terminal, in a notebook's fallback text and in the browser.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

from .job import BaseJob, display_id
from .status import STYLES, JobStatus

__all__ = ["JobText", "format_duration", "job_text", "summary", "text_line"]


class JobText(NamedTuple):
    """The parts of a job's text, for views that lay them out (the demo's columns)."""

    icon: str
    status: str
    job_id: str
    backend: str
    elapsed: str
    """``queued 12s``, ``running 3m 05s``, ``done in 4.2s``; empty when no time is known."""
    progress: str
    """``45%`` while the job runs and knows its progress, else empty."""
    error: str
    """The failure's message for a job in ERROR, else empty."""


def format_duration(seconds: float | None) -> str:
    """``0.4s``, ``12s``, ``3m 05s``, ``2h 03m``; ``—`` for None. The front end's
    ``formatDuration`` (js/src/model.js) follows the same rules."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = max(0.0, seconds)
    if s < 9.95:
        return f"{s:.1f}s"
    whole = max(10, math.floor(s))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {(whole % 3600) // 60:02d}m"


def _elapsed(job: BaseJob, state: JobStatus, now: float) -> str:
    """The front end's ``elapsedText`` (js/src/model.js), for the kernel's text."""
    words = STYLES[state].elapsed
    if state is JobStatus.RUNNING:
        started = job.started_at
        return words if started is None else f"{words} {format_duration(now - started)}"
    if state.final:
        start = next(
            (t for t in (job.submitted_at, job.started_at, job.created_at) if t is not None), None
        )
        if start is None or job.finished_at is None:
            return ""
        return f"{words} {format_duration(job.finished_at - start)}"
    since = job.submitted_at if job.submitted_at is not None else job.created_at
    return "" if since is None else f"{words} {format_duration(now - since)}"


def job_text(job: BaseJob, now: float | None = None) -> JobText:
    """The parts of ``job``'s text at ``now`` (default: the current time)."""
    now = time.time() if now is None else now
    state = job.state
    style = STYLES[state]
    progress = job.progress
    return JobText(
        icon=style.icon,
        status=style.label,
        job_id=display_id(job),
        backend=job._backend_name(),
        elapsed=_elapsed(job, state, now),
        progress="" if progress is None or state.final else f"{progress:.0%}",
        error=(job.error or "") if state is JobStatus.ERROR else "",
    )


def text_line(job: BaseJob, now: float | None = None) -> str:
    """One readable line: icon, status, id, backend, elapsed time, progress, error.

    ``▶ RUNNING abc [local] running 2.5s 40%``; a job without an id yet shows
    ``(no id yet)`` in its place.
    """
    parts = job_text(job, now)
    line = f"{parts.icon} {parts.status} {parts.job_id} [{parts.backend}]"
    for extra in (parts.elapsed, parts.progress):
        if extra:
            line += f" {extra}"
    if parts.error:
        line += f": {parts.error}"
    return line


def summary(job: BaseJob) -> str:
    """The timeless part of the text line, for ``repr``: ``RUNNING 'abc' [local]``.

    The id is quoted (``repr``), so ``'5'`` and ``5`` differ; ``(no id yet)`` is not."""
    parts = job_text(job, now=0.0)
    job_id = job.job_id()
    shown = parts.job_id if job_id is None else repr(job_id)
    return f"{parts.status} {shown} [{parts.backend}]"
