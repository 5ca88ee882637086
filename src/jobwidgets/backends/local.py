"""Jobs on local threads or processes.

``LocalBackend(kind="thread")`` runs functions on a ``ThreadPoolExecutor``;
``LocalBackend(kind="process")`` runs them in a pool of worker processes that it can
kill one at a time, so that cancelling a running job really stops it. Both push every
transition (QUEUED, RUNNING, then DONE, ERROR or CANCELLED); nothing is polled.

Functions for the process kind travel to the workers by pickle. With ``cloudpickle``
installed (it comes with the ``dask`` extra), functions defined in a notebook work too.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any, Literal

from ..errors import JobCancelledError, JobError
from ..job import CancelAttempt, _current
from ..status import JobStatus
from ._process_pool import ProcessPool
from .function import FunctionJob

__all__ = ["FunctionJob", "LocalBackend", "LocalJob"]


class LocalJob(FunctionJob):
    """A function call run by a ``LocalBackend``."""

    def submit(self) -> None:
        """Submit the job to its backend; it becomes QUEUED."""
        self._backend._submit(self)

    def cancel(self) -> bool:
        """Attempt to cancel the job; return True only if it will end as CANCELLED.

        A queued job is always cancelled. A running process job is stopped: its worker
        process is killed and replaced. A running thread job can't be stopped from
        outside, so this returns False; it records the request, and a function that
        checks ``jobwidgets.current_job().raise_if_cancelled()`` then ends as CANCELLED.
        """
        backend: LocalBackend = self._backend
        return self._cancel_with(lambda: backend._stop(self))


class LocalBackend:
    """Runs functions as jobs on local threads (``kind="thread"``) or processes.

    Args:
        max_workers: how many jobs run at once (default: the number of CPUs, at
            least 2 for threads).
        kind: ``"thread"`` or ``"process"``.
        name: a readable name for tables; defaults to ``"local-thread"`` or
            ``"local-process"``.
        mp_context: the ``multiprocessing`` start method for the process kind
            (default ``"spawn"``, which is safe in a kernel that runs threads).

    A context manager: leaving it closes the backend, which cancels the jobs still
    queued, waits for the running ones and keeps every finished result.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        kind: Literal["thread", "process"] = "thread",
        *,
        name: str | None = None,
        mp_context: str | None = "spawn",
    ) -> None:
        if kind not in ("thread", "process"):
            msg = f"kind must be 'thread' or 'process', got {kind!r}"
            raise ValueError(msg)
        if max_workers is None:
            max_workers = max(2, os.cpu_count() or 1) if kind == "thread" else os.cpu_count() or 1
        if isinstance(max_workers, bool) or not isinstance(max_workers, int):
            msg = f"max_workers must be a positive int or None, got {max_workers!r}"
            raise TypeError(msg)
        if max_workers < 1:
            msg = f"max_workers must be at least 1, got {max_workers}"
            raise ValueError(msg)
        self.kind = kind
        self.max_workers = max_workers
        self.name = name or f"local-{kind}"
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        # the jobs not yet final, by id(job), each with its thread future (thread kind)
        self._unfinished: dict[int, _Entry] = {}
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._processes: ProcessPool | None = None
        if kind == "thread":
            self._threads = concurrent.futures.ThreadPoolExecutor(
                max_workers, thread_name_prefix=f"jobwidgets-{self.name}"
            )
        else:
            context = multiprocessing.get_context(mp_context)
            self._processes = ProcessPool(max_workers, context, self._report)

    def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> LocalJob:
        """Submit ``fn(*args, **kwargs)`` and return its job, already QUEUED."""
        job = LocalJob(self, f"{self.name}-{next(self._ids)}", fn, args, kwargs)
        job.submit()
        return job

    def map(self, fn: Callable[..., Any], *iterables: Any) -> list[LocalJob]:
        """Submit ``fn`` once per item (like the built-in ``map``); return the jobs."""
        return [self.run(fn, *items) for items in zip(*iterables, strict=False)]

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def close(self) -> None:
        """Cancel the queued jobs, wait for the running ones, and stop the workers."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = [entry.job for entry in self._unfinished.values()]
        for job in jobs:
            if self._unqueue(job):  # never started: it won't run now
                job._report(JobStatus.CANCELLED)
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=True)
        if self._processes is not None:
            self._processes.shutdown()

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"max_workers={self.max_workers}"
        return f"<LocalBackend {self.name!r} kind={self.kind} {state}>"

    # used by LocalJob and the pools -------------------------------------------------
    def _submit(self, job: LocalJob) -> None:
        entry = _Entry(job)
        with self._lock:
            if self._closed:
                msg = f"{self.name} is closed; create a new LocalBackend to run more jobs"
                raise JobError(msg)
            self._unfinished[id(job)] = entry
        job._report(JobStatus.QUEUED)
        if self._threads is not None:
            entry.future = self._threads.submit(_run_in_thread, self, job)
        else:
            assert self._processes is not None
            self._processes.submit(job)

    def _report(self, job: Any, status: JobStatus, /, **details: Any) -> bool:
        """Forget a job that ends, then pass the report on (``BaseJob._report``)."""
        if status in _FINAL:
            self._unfinished.pop(id(job), None)  # atomic
        reported: bool = job._report(status, **details)
        return reported

    def _stop(self, job: LocalJob) -> CancelAttempt:
        """``cancel()``'s attempt: unqueue the job, or kill its worker process."""
        if self._unqueue(job):
            return CancelAttempt.STOPPED
        if self._processes is not None and self._processes.kill(job):
            return CancelAttempt.STOPPING
        return CancelAttempt.NOT_STOPPED

    def _unqueue(self, job: LocalJob) -> bool:
        """Take a job that has not started out of its queue; False if it has started."""
        if self._processes is not None:
            removed = self._processes.unqueue(job)
        else:
            entry = self._unfinished.get(id(job))
            removed = entry is not None and entry.future is not None and entry.future.cancel()
        if removed:
            self._unfinished.pop(id(job), None)
        return removed


_FINAL = frozenset((JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED))


class _Entry:
    """An unfinished job of a ``LocalBackend``, with its thread future once submitted."""

    __slots__ = ("future", "job")

    def __init__(self, job: LocalJob) -> None:
        self.job = job
        self.future: concurrent.futures.Future[None] | None = None


def _run_in_thread(backend: LocalBackend, job: LocalJob) -> None:
    """On a pool thread: run the job's function and report how it ended."""
    if not job._report(JobStatus.RUNNING):
        return  # cancelled before it could start
    token = _current.set(job)
    try:
        value = job.fn(*job.args, **job.kwargs)
    except BaseException as exc:
        # a JobCancelledError (raise_if_cancelled) ends the job as CANCELLED, not ERROR
        status = JobStatus.CANCELLED if isinstance(exc, JobCancelledError) else JobStatus.ERROR
        backend._report(job, status, exception=exc)
    else:
        backend._report(job, JobStatus.DONE, result=value)
    finally:
        _current.reset(token)
