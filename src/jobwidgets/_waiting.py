"""Waiting for a job's final state: the legacy polling loop, woken early by pushes.

``wait_for_final_state`` and ``wait_async`` of ``BaseJob`` call these functions. They
run on the caller's thread; the only other threads are those of ``_queries``, which
run a poll-only job's ``status()`` when a deadline must hold (one query in flight per
job, shared by its waiters, so one job's slow ``status()`` never delays another job's
wait), and the shared poller that ``wait_async`` asks to watch a job that can only be
polled. A job already final answers at once, without a query.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._jobcore import core
from ._queries import queries
from ._seconds import check_seconds, deadline, waitable
from ._shown import shown
from .poller import default_poller
from .status import JOB_FINAL_STATES, JobStatus

if TYPE_CHECKING:
    from .job import BaseJob

JobCallback = Callable[[Any, Any, "BaseJob"], Any]
"""The signature of a ``wait_for_final_state`` callback: ``(job_id, job_status, job)``.

As in qiskit's legacy loop, it is called after each query that found a status that is
not final. A callable whose attribute ``wants_final_status`` is ``True`` (such as
``jobwidgets.widgets.JobMonitor``) is also called once with the final status, even for
a job that was final at the first query.
"""


def check_wait(wait: object, name: str = "wait") -> float:
    """Refuse a time between queries that is not a number of seconds >= 0.

    ``inf`` (or any time longer than ``threading.TIMEOUT_MAX``) is accepted: no query
    after the first one, so only a push ends the wait.
    """
    return check_seconds(wait, name, meaning="0 queries again at once")


def wait_for_final_state(
    job: BaseJob, timeout: float | None, wait: float, callback: JobCallback | None
) -> None:
    """The loop of ``BaseJob.wait_for_final_state`` (documented there)."""
    until = deadline(timeout)
    check_wait(wait)
    if callback is not None and not callable(callback):
        msg = f"callback must be callable with (job_id, job_status, job), got {shown(callback)}"
        raise TypeError(msg)
    state = core(job)
    final_too = _wants_final(callback)
    while True:
        with state.lock:
            before = state.changes
        status = _query(job, until, timeout)
        state.flush(job)
        if status in JOB_FINAL_STATES:
            state.settle(job)
            if callback is not None and final_too:
                callback(job.job_id(), status, job)
            return
        delay = wait
        if until is not None:
            remaining = until - time.monotonic()
            if remaining <= 0:
                raise state.timeout_error(job, timeout)
            delay = min(wait, remaining)
        if callback is not None:
            callback(job.job_id(), status, job)
        if delay <= 0:
            time.sleep(0)  # wait=0: no pause, as the legacy loop; let other threads run
            continue
        with state.lock:
            if isinstance(status, JobStatus):
                unchanged = state.status is status
            else:  # an answer that isn't a status: only a push can change anything
                unchanged = state.changes == before
            if unchanged:
                state.condition().wait(waitable(delay))


async def wait_async(job: BaseJob, timeout: float | None) -> JobStatus:
    """``BaseJob.wait_async`` (documented there)."""
    until = deadline(timeout)  # None for no limit, inf included
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def wake(_job: BaseJob) -> None:
        loop.call_soon_threadsafe(_resolve, finished)

    job.add_done_callback(wake)
    unwatch = None if job.pushes_status else default_poller.watch(job)
    try:
        limit = None if until is None else max(0.0, until - time.monotonic())
        await asyncio.wait_for(asyncio.shield(finished), limit)
    except TimeoutError:
        raise core(job).timeout_error(job, timeout) from None
    finally:
        if unwatch is not None:
            unwatch()
    return core(job).status


def _query(job: BaseJob, until: float | None, timeout: float | None) -> Any:
    """One ``status()`` call that can't run past ``until``; none for a job already final.

    With a deadline, a poll-only job's query runs on a thread of ``queries`` (joining
    the one already in flight for this job, if any), and the wait for it ends at
    ``until``.
    """
    status = core(job).status  # one read of one attribute: no lock needed
    if status in JOB_FINAL_STATES:
        return status
    if until is None or job.pushes_status:
        return job.status()
    future = queries.query(job)
    try:
        return future.result(max(0.0, until - time.monotonic()))
    except concurrent.futures.TimeoutError:
        raise core(job).timeout_error(job, timeout) from None


def _wants_final(callback: object) -> bool:
    """Whether a ``wait_for_final_state`` callback asked for the final status too."""
    return getattr(callback, "wants_final_status", False) is True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
