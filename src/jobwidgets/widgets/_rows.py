"""A job's displayable facts as plain data: the row the table, the monitor and the
JupyterLab panel render, and the text snapshot shown where widgets can't render."""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..job import BaseJob
from ..status import JobStatus

__all__ = ["counts", "html_snapshot", "row", "text_line"]


def row(
    job: BaseJob, key: str, cancel: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    """The row of ``job``: JSON-ready values only; the front end formats them."""
    return {
        "key": key,
        "job_id": job.job_id(),
        "backend": job._backend_name(),
        "status": job.state.name,
        "created_at": job.created_at,
        "submitted_at": job.submitted_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "progress": job.progress,
        "error": job.error,
        "traceback": job.error_traceback,
        "cancel_state": cancel[0],
        "cancel_message": cancel[1],
    }


def counts(jobs: Iterable[BaseJob]) -> dict[str, int]:
    """How many jobs are in each status, every status listed, in JobStatus order."""
    tally = Counter(job.state for job in jobs)
    return {status.name: tally[status] for status in JobStatus}


def _elapsed(job: BaseJob, now: float) -> str:
    state = job.state
    if state is JobStatus.RUNNING and job.started_at is not None:
        return f"running {now - job.started_at:.1f}s"
    if state.final and job.finished_at is not None:
        start = job.submitted_at or job.created_at or job.finished_at
        return f"{state.name.lower()} in {job.finished_at - start:.1f}s"
    since = job.submitted_at or job.created_at
    return f"{state.name.lower()} {now - since:.1f}s" if since is not None else state.name.lower()


def text_line(job: BaseJob, now: float | None = None) -> str:
    """One readable line: icon, status, id, backend, elapsed time, error."""
    now = time.time() if now is None else now
    state = job.state
    line = f"{state.icon} {state.name} {job.job_id()} [{job._backend_name()}] "
    line += _elapsed(job, now)
    if job.progress is not None and not job.state.final:
        line += f" {job.progress:.0%}"
    if job.state is JobStatus.ERROR and job.error:
        line += f": {job.error}"
    return line


_COLOURS = {
    JobStatus.QUEUED: "#6b7280",
    JobStatus.INITIALIZING: "#6b7280",
    JobStatus.VALIDATING: "#7c3aed",
    JobStatus.RUNNING: "#1d4ed8",
    JobStatus.CANCELLED: "#92400e",
    JobStatus.DONE: "#15803d",
    JobStatus.ERROR: "#b91c1c",
}


def html_snapshot(job: BaseJob) -> str:
    """A static HTML badge of the job's last state; every job-provided text is escaped."""
    state = job.state
    title = html.escape(job.error or state.value, quote=True)
    text = html.escape(text_line(job))
    return (
        '<span role="status" title="' + title + '" style="display:inline-block;padding:1px 8px;'
        "border-radius:10px;font-family:var(--jp-ui-font-family,sans-serif);font-size:12px;"
        "border:1px solid "
        + _COLOURS[state]
        + ";color:"
        + _COLOURS[state]
        + '">'
        + text
        + "</span>"
    )
