"""What the Dask backend's reporter thread tells its jobs: starts, retries and ends.

Each function runs on the backend's one reporter thread, through ``guarded``, which
makes sure that no failure kills that thread silently: it is logged, the job it
concerns ends in ERROR, and the thread goes on serving the other jobs.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import JobError
from ..job import format_exception
from ..status import JobStatus
from ._dask_cluster import distributed

if TYPE_CHECKING:
    from .dask import DaskJob

__all__ = ["SCHEDULER_LOST", "Task", "finish", "guarded", "requeued", "started", "value_of"]

log = logging.getLogger("jobwidgets")

_loads: Any = distributed.protocol.pickle.loads  # how distributed unpickles an exception

SCHEDULER_LOST = "scheduler-connection-lost"
"""The reason Dask gives to the futures it cancels when the client loses its scheduler."""


@dataclasses.dataclass(slots=True)
class Task:
    """The cluster's side of one ``DaskJob``: made by the job, filled in by its backend.

    The backend writes it (``future`` when it submits, ``worker`` and ``attempts`` on
    its reporter thread as workers start the task); the job only reads it.
    """

    future: Any = None
    worker: str | None = None
    attempts: int = 0
    last_start: float = 0.0
    """When a worker last started it (the event's time), so no start counts twice."""


def guarded(report: Callable[..., None], job: DaskJob, *args: Any) -> None:
    """Run ``report(job, *args)``; if it fails, log it and end the job in ERROR."""
    try:
        report(job, *args)
    except BaseException as exc:  # the reporter thread serves every job: it must go on
        log.exception("jobwidgets: reporting on Dask job %r failed", job.job_id())
        error = f"jobwidgets could not report this task: {describe(exc)}"
        try:
            job._report(
                JobStatus.ERROR,
                exception=exc,
                error=error,
                error_traceback="".join(traceback.format_exception(exc)),
            )
        except BaseException:
            log.exception("jobwidgets: Dask job %r could not be failed either", job.job_id())


def started(job: DaskJob, task: Task, worker: str | None, when: float) -> None:
    """A worker started the task (at ``when``, the event's time)."""
    if when <= task.last_start:
        return  # heard twice: from the scheduler's log and live
    task.last_start = when
    task.worker = worker
    task.attempts += 1
    job._report(JobStatus.RUNNING)


def requeued(job: DaskJob) -> None:
    """The worker running the task left; Dask runs it again."""
    if job.status() is JobStatus.RUNNING:
        job._report(JobStatus.QUEUED)


def finish(job: DaskJob, task: Task, future: Any, scheduler: str) -> bool:
    """The task's future is finished, erred or cancelled: report the job's end.

    Returns True if the future was cancelled because the client lost the scheduler.
    """
    state = future.status
    if state == "finished":
        job._report(JobStatus.DONE)
    elif state == "error":
        exc, tb = _remote_failure(future)
        if isinstance(exc, distributed.KilledWorker):
            # a worker that dies at once may never tell that it started the task
            task.attempts = max(task.attempts, exc.allowed_failures + 1)
        message, text = format_exception(exc, tb)
        job._report(JobStatus.ERROR, exception=exc, error=message, error_traceback=text)
    elif job.cancel_requested:
        job._report(JobStatus.CANCELLED)
    else:  # cancelled by Dask itself
        reason = getattr(getattr(future, "_state", None), "exception", None)
        if getattr(reason, "reason", None) == SCHEDULER_LOST:
            msg = (
                f"the Dask scheduler at {scheduler} was lost before the task ended; "
                "run the job again on a DaskBackend connected to a running scheduler"
            )
            lost = ConnectionError(msg)
            lost.__cause__ = reason
            job._report(JobStatus.ERROR, exception=lost, error=f"ConnectionError: {msg}")
            return True
        job._report(JobStatus.CANCELLED, error=str(reason or "cancelled by Dask"))
    return False


def _remote_failure(future: Any) -> tuple[BaseException, Any]:
    """The task's exception and remote traceback, made readable when they can't load here."""
    try:
        exc = future.exception(timeout=30)
        tb = future.traceback(timeout=30)
    except Exception as failure:
        return failure, failure.__traceback__
    raw = exc.args[0] if type(exc) is Exception and len(exc.args) == 1 else None
    if isinstance(raw, bytes | bytearray):
        # what distributed gives when the exception can't be unpickled in this process
        try:
            _loads(raw)
            why = "it could not be unpickled"
        except Exception as load_error:
            why = describe(load_error)
        msg = (
            f"the task raised an exception that can't be loaded in this process ({why}); "
            "make the module that defines it importable here, or raise a built-in exception"
        )
        return RuntimeError(msg), tb
    return exc, tb


def value_of(job: DaskJob, future: Any) -> Any:
    """The task's value, fetched from the cluster, or a ``JobError`` that says why not."""
    try:
        return future.result()
    except Exception as exc:
        if isinstance(exc, distributed.client.FutureCancelledError):
            why = f"it is no longer on the cluster ({describe(exc)})"
        else:
            why = (
                f"it could not be brought here from the worker ({describe(exc)}); return "
                "values that pickle on the workers and whose classes import in this process"
            )
        msg = f"job {job.job_id()!r} ended DONE, but its value can't be fetched: {why}"
        raise JobError(msg) from exc


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, even one whose ``__str__`` fails."""
    try:
        text = str(exc)
    except Exception:
        text = "(its message can't be shown)"
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
