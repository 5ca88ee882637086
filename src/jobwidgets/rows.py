"""A job's displayable facts as plain data: the row that the badge, the table, the
monitor and the JupyterLab panel render, and the HTML snapshot shown where widgets can't
render.

The row's fields are listed in ``js/PROTOCOL.md``. The snapshot's text is the job's text
line (``jobwidgets.text``) and its colour the status's (``jobwidgets.status.STYLES``), as
in the front end. A table's snapshot (``table_text``, ``table_html``) is its heading, its
tally and one such line per job. Needs the core only."""

from __future__ import annotations

import datetime as dt
import html
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ._tags import tags_of
from .job import BaseJob, wire_id
from .status import COLOURS, STYLES, JobStatus
from .text import text_line

__all__ = [
    "EXPORT_FIELDS",
    "MAX_SNAPSHOT_ROWS",
    "counts",
    "html_snapshot",
    "record",
    "row",
    "table_html",
    "table_text",
]

EXPORT_FIELDS = (
    "job_id",
    "backend",
    "status",
    "tags",
    "created",
    "submitted",
    "started",
    "finished",
    "queue_seconds",
    "run_seconds",
    "progress",
    "progress_text",
    "error",
    "resubmitted_from",
)
"""The keys of ``JobTable.to_records()``, in order: also the columns of the table's and
the panel's "Export CSV" and the keys of "Export JSON" (``js/src/table/export.js``)."""

_RETRYABLE = (JobStatus.ERROR, JobStatus.CANCELLED)

MAX_SNAPSHOT_ROWS = 100
"""The most jobs a table's snapshot lists one by one; its tally counts them all."""


def row(
    job: BaseJob, key: str, cancel: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    """The row of ``job`` (``key`` in its feed; the badge's is ``"1"``): JSON-ready values
    only; the front end formats them."""
    return {
        "key": key,
        "job_id": wire_id(job),  # a str, or None while the job has no id yet
        "backend": job._backend_name(),
        "status": job.state.name,
        "created_at": job.created_at,
        "submitted_at": job.submitted_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "progress": job.progress,
        "progress_text": job.progress_text,
        "log_lines": job.log_lines,
        "error": job.error,
        "traceback": job.error_traceback,
        "cancel_state": cancel[0],
        "cancel_message": cancel[1],
        "tags": tags_of(job),
        "resubmitted_from": _origin(job),
        "can_retry": job.state in _RETRYABLE and _can_resubmit(job),
    }


def _origin(job: BaseJob) -> str | None:
    origin = getattr(job, "resubmitted_from", None)
    return origin if isinstance(origin, str) else None


def _can_resubmit(job: BaseJob) -> bool:
    try:
        return bool(job._can_resubmit())
    except Exception:  # a subclass's override that fails: no Retry
        return False


def _iso(seconds: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC to the millisecond (as JavaScript's toISOString)."""
    if seconds is None:
        return None
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _span(start: float | None, end: float | None, open_end: float | None) -> float | None:
    if start is None:
        return None
    end = end if end is not None else open_end
    return None if end is None else round(max(0.0, end - start), 3)


def record(job: BaseJob, now: float | None = None) -> dict[str, Any]:
    """The job as one exported record: ``EXPORT_FIELDS`` as keys, times as ISO 8601 UTC,
    the time in queue and running in seconds (up to ``now`` while it goes on)."""
    now = time.time() if now is None else now
    final = job.state in (JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED)
    open_end = None if final else now
    submitted, started, finished = job.submitted_at, job.started_at, job.finished_at
    queued_until = started if started is not None else finished
    return {
        "job_id": wire_id(job),
        "backend": job._backend_name(),
        "status": job.state.name,
        "tags": tags_of(job),
        "created": _iso(job.created_at),
        "submitted": _iso(submitted),
        "started": _iso(started),
        "finished": _iso(finished),
        "queue_seconds": _span(submitted, queued_until, open_end),
        "run_seconds": _span(started, finished, open_end),
        "progress": job.progress,
        "progress_text": job.progress_text,
        "error": job.error,
        "resubmitted_from": _origin(job),
    }


def counts(jobs: Iterable[BaseJob]) -> dict[str, int]:
    """How many jobs are in each status, every status listed, in JobStatus order."""
    tally = Counter(job.state for job in jobs)
    return {status.name: tally[status] for status in JobStatus}


def html_snapshot(job: BaseJob) -> str:
    """A static HTML badge of the job's last state; every job-provided text is escaped."""
    state = job.state
    title = html.escape(job.error or state.value, quote=True)
    text = html.escape(text_line(job))
    # the theme-less colour: a sanitiser may drop a style with var() in an untrusted page
    colour = COLOURS[STYLES[state].colour][1]
    return (
        '<span role="status" title="' + title + '" style="display:inline-block;padding:1px 8px;'
        "border-radius:10px;font-family:var(--jp-ui-font-family,sans-serif);font-size:12px;"
        "border:1px solid " + colour + ";color:" + colour + '">' + text + "</span>"
    )


def _heading(title: str, jobs: list[BaseJob], tally: dict[str, int] | None = None) -> str:
    """``Batch: 3 jobs (DONE 2, ERROR 1)``; ``tally``: the jobs' ``counts``, if known."""
    parts = ", ".join(f"{name} {n}" for name, n in (tally or counts(jobs)).items() if n)
    noun = "job" if len(jobs) == 1 else "jobs"
    return f"{title}: {len(jobs)} {noun}" + (f" ({parts})" if parts else "")


def _more(jobs: list[BaseJob]) -> str:
    hidden = len(jobs) - MAX_SNAPSHOT_ROWS
    return f"… and {hidden} more" if hidden > 0 else ""


def table_text(title: str, jobs: list[BaseJob], tally: dict[str, int] | None = None) -> str:
    """A table as text: its heading and tally, then one text line per job (at most
    ``MAX_SNAPSHOT_ROWS`` of them). ``tally``: the jobs' ``counts``, if known."""
    lines = [_heading(title, jobs, tally)]
    lines += [f"  {text_line(job)}" for job in jobs[:MAX_SNAPSHOT_ROWS]]
    if more := _more(jobs):
        lines.append(f"  {more}")
    return "\n".join(lines)


def table_html(title: str, jobs: list[BaseJob], tally: dict[str, int] | None = None) -> str:
    """A static HTML table of the jobs' last states: the heading, then one snapshot badge
    per job (at most ``MAX_SNAPSHOT_ROWS``); every job-provided text is escaped.
    ``tally``: the jobs' ``counts``, if known."""
    items = "".join(
        '<li style="margin:2px 0">' + html_snapshot(job) + "</li>"
        for job in jobs[:MAX_SNAPSHOT_ROWS]
    )
    if more := _more(jobs):
        items += "<li>" + html.escape(more) + "</li>"
    return (
        '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:12px">'
        "<div><strong>" + html.escape(_heading(title, jobs, tally)) + "</strong></div>"
        '<ul style="list-style:none;padding:0;margin:4px 0">' + items + "</ul></div>"
    )
