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
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from .._seconds import check_seconds
from .._shown import shown
from .._tags import check_tags
from ..capture import job_started
from ..errors import JobCancelledError, JobError, JobTimeoutError
from ..job import CancelAttempt, _current
from ..logs import DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, check_log_bounds
from ..status import JobStatus
from ._process_pool import ProcessPool
from .function import FunctionJob

__all__ = ["FunctionJob", "LocalBackend", "LocalJob"]

log = logging.getLogger("jobwidgets")


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
        echo_output: also let what a job prints go where it went before (the running
            cell, the terminal); by default it goes only to the job's ``logs()``.
        max_log_lines, max_log_bytes: how much of each job's log to keep (the last
            10,000 lines, or about 1 MiB, by default).

    A context manager: leaving it closes the backend, which cancels the jobs still
    queued, waits for the running ones and keeps every finished result. To bound the
    wait, call ``close(timeout=...)``: it returns the jobs left running.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        kind: Literal["thread", "process"] = "thread",
        *,
        name: str | None = None,
        mp_context: str | None = "spawn",
        echo_output: bool = False,
        max_log_lines: int = DEFAULT_MAX_LINES,
        max_log_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if kind not in ("thread", "process"):
            msg = f"kind must be 'thread' or 'process', got {shown(kind)}"
            raise ValueError(msg)
        if max_workers is None:
            max_workers = max(2, os.cpu_count() or 1) if kind == "thread" else os.cpu_count() or 1
        if isinstance(max_workers, bool) or not isinstance(max_workers, int):
            msg = f"max_workers must be a positive int or None, got {shown(max_workers)}"
            raise TypeError(msg)
        if max_workers < 1:
            msg = f"max_workers must be at least 1, got {shown(max_workers)}"
            raise ValueError(msg)
        _check_start_method(mp_context)
        if name is not None and not isinstance(name, str):
            msg = f"name must be a str (the backend's name in tables) or None, got {shown(name)}"
            raise TypeError(msg)
        if not isinstance(echo_output, bool):
            msg = f"echo_output must be True or False, got {shown(echo_output)}"
            raise TypeError(msg)
        self.log_bounds = check_log_bounds(max_log_lines, max_log_bytes)
        self.echo_output = echo_output
        self.kind = kind
        self.max_workers = max_workers
        self.name = name or f"local-{kind}"
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        self._unfinished: dict[int, LocalJob] = {}  # the jobs not yet final, by id(job)
        self._threads: _ThreadRunner | None = None
        self._processes: ProcessPool | None = None
        if kind == "thread":
            self._threads = _ThreadRunner(max_workers, self.name, self._report, echo_output)
        else:
            context = multiprocessing.get_context(mp_context)
            self._processes = ProcessPool(max_workers, context, self._report)

    def run(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        tags: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> LocalJob:
        """Submit ``fn(*args, **kwargs)`` and return its job, already QUEUED.

        ``tags`` (an iterable of str) labels the job (``job.tags``); the backend takes
        it, so ``fn`` never gets a ``tags`` argument (pass one with
        ``functools.partial(fn, tags=...)``).
        """
        return self._start(fn, args, kwargs, check_tags(tags), None)

    def _start(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tags: tuple[str, ...],
        origin: str | None,
    ) -> LocalJob:
        job_id = f"{self.name}-{next(self._ids)}"
        job = LocalJob(self, job_id, fn, args, kwargs, tags=tags, resubmitted_from=origin)
        if self.log_bounds != (DEFAULT_MAX_LINES, DEFAULT_MAX_BYTES):
            job._set_log_bounds(*self.log_bounds)
        job.submit()
        return job

    def _resubmit(self, job: LocalJob) -> LocalJob:
        """``job.resubmit()``: the same call and tags, as a new job of this backend."""
        if self._closed:
            msg = (
                f"job {job.job_id()!r} can't be resubmitted: {self.name} is closed; "
                "create a new LocalBackend and run the function there"
            )
            raise JobError(msg)
        return self._start(job.fn, job.args, job.kwargs, job.tags, job.job_id())

    def map(
        self, fn: Callable[..., Any], *iterables: Any, tags: Iterable[str] | None = None
    ) -> list[LocalJob]:
        """Submit ``fn`` once per item (like the built-in ``map``); return the jobs.

        ``tags`` labels every job (see ``run``)."""
        checked = check_tags(tags)
        if not callable(fn):
            msg = f"fn must be callable: LocalBackend.map needs a callable, got {shown(fn)}"
            raise TypeError(msg)
        for position, iterable in enumerate(iterables, start=1):
            if not isinstance(iterable, Iterable):
                msg = (
                    f"iterables must be iterable: argument {position} after fn is "
                    f"{type(iterable).__name__} {shown(iterable)}"
                )
                raise TypeError(msg)
        return [
            self._start(fn, items, {}, checked, None) for items in zip(*iterables, strict=False)
        ]

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def close(self, timeout: float | None = None) -> list[LocalJob]:
        """Cancel the queued jobs, wait for the running ones, and stop the workers.

        Args:
            timeout: how many seconds to wait for the running jobs; None (or ``inf``)
                waits for as long as they run.

        Returns:
            The jobs still running when the timeout ran out (``[]`` when every job
            ended); they are also named in a warning on the ``jobwidgets`` logger.
            They run on, and no new job starts: a process job's worker stops when its
            job ends, or at once if you ``cancel()`` it; a thread can't be stopped, and
            the interpreter waits for it at exit, as for any ``concurrent.futures``
            executor. Calling ``close()`` again waits again and returns those still
            running.
        """
        seconds = check_seconds(timeout, "timeout", none=True)
        if seconds is not None and seconds > threading.TIMEOUT_MAX:
            seconds = None  # inf, or longer than any wait can be: no limit
        with self._lock:
            first = not self._closed
            self._closed = True
            jobs = list(self._unfinished.values())
        if first:
            for job in jobs:
                if self._unqueue(job):  # never started: it won't run now
                    job._report(JobStatus.CANCELLED)
        until = None if seconds is None else time.monotonic() + seconds
        left: list[LocalJob] = []
        for job in jobs:
            remaining = None if until is None else max(0.0, until - time.monotonic())
            try:
                job.wait_for_final_state(timeout=remaining)
            except JobTimeoutError:
                left.append(job)
        if self._threads is not None:
            self._threads.shutdown(wait=not left)
        if self._processes is not None:
            self._processes.shutdown(None if not left else 0)
        if left:
            log.warning(
                "%s closed with %d job(s) still running after %s s: %s",
                self.name,
                len(left),
                timeout,
                ", ".join(job.job_id() for job in left),
            )
        return left

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"max_workers={self.max_workers}"
        return f"<LocalBackend {self.name!r} kind={self.kind} {state}>"

    # used by LocalJob and the pools -------------------------------------------------
    def _submit(self, job: LocalJob) -> None:
        with self._lock:
            if self._closed:
                msg = f"{self.name} is closed; create a new LocalBackend to run more jobs"
                raise JobError(msg)
            self._unfinished[id(job)] = job
        job._report(JobStatus.QUEUED)
        if self._threads is not None:
            self._threads.submit(job)
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
            assert self._threads is not None
            removed = self._threads.unqueue(job)
        if removed:
            self._unfinished.pop(id(job), None)
        return removed


def _check_start_method(mp_context: object) -> None:
    """Refuse a ``multiprocessing`` start method this platform doesn't have, by name."""
    if mp_context is None:
        return
    methods = ", ".join(multiprocessing.get_all_start_methods())
    if not isinstance(mp_context, str):
        msg = f"mp_context must be a start method ({methods}) or None, got {shown(mp_context)}"
        raise TypeError(msg)
    if mp_context not in multiprocessing.get_all_start_methods():
        msg = f"mp_context must be one of {methods} (or None), got {shown(mp_context)}"
        raise ValueError(msg)


_FINAL = frozenset((JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED))


class _ThreadRunner:
    """Runs jobs on up to ``max_workers`` threads, in the order they were submitted.

    The job is the future: a submission is a ``dict`` entry and a ``SimpleQueue.put``,
    with no ``concurrent.futures.Future`` and no work item per job. The threads are
    those of a ``ThreadPoolExecutor``, each running a loop that takes jobs from the
    queue until it is empty, so that the interpreter still waits for running jobs at
    exit, as for any executor.

    Who owns what: ``_queued`` holds the jobs not yet taken by a thread. A thread takes
    a job, and ``unqueue`` (a cancel) withdraws it, each with one atomic
    ``dict.pop``: exactly one of them wins. ``_lock`` guards ``_loops``, the count of
    running loops.
    """

    def __init__(
        self, max_workers: int, name: str, report: Callable[..., bool], echo: bool
    ) -> None:
        self._max = max_workers
        self._report = report
        self._echo = echo
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers, thread_name_prefix=f"jobwidgets-{name}"
        )
        self._queue: queue.SimpleQueue[LocalJob] = queue.SimpleQueue()
        self._queued: dict[int, LocalJob] = {}
        self._lock = threading.Lock()
        self._loops = 0

    def submit(self, job: LocalJob) -> None:
        """Queue a job (any thread); start a loop if fewer than ``max_workers`` run."""
        self._queued[id(job)] = job
        self._queue.put(job)
        with self._lock:
            start = self._loops < self._max
            if start:
                self._loops += 1
        if start:
            self._pool.submit(self._loop)

    def unqueue(self, job: LocalJob) -> bool:
        """Withdraw a job no thread has taken yet; False if one has."""
        return self._queued.pop(id(job), None) is not None

    def shutdown(self, wait: bool = True) -> None:
        """Stop the threads once the queued (not withdrawn) and running jobs are done;
        with ``wait``, block until then."""
        self._pool.shutdown(wait=wait)

    def _loop(self) -> None:
        take, pop, run = self._queue.get_nowait, self._queued.pop, self._run
        while True:
            try:
                job = take()
            except queue.Empty:
                with self._lock:
                    # a submit that saw every loop running put its job before this check
                    if self._queue.empty():
                        self._loops -= 1
                        return
                continue
            if pop(id(job), None) is not None:  # else: withdrawn by a cancel
                run(job)

    def _run(self, job: LocalJob) -> None:
        """Run the job's function and report how it ended."""
        if not job._report(JobStatus.RUNNING):
            return  # cancelled before it could start
        token = _current.set(job)
        ended = job_started(job, self._echo)
        try:
            value = job.fn(*job.args, **job.kwargs)
        except BaseException as exc:
            # a JobCancelledError (raise_if_cancelled) ends the job as CANCELLED, not ERROR
            cancelled = isinstance(exc, JobCancelledError)
            self._report(job, JobStatus.CANCELLED if cancelled else JobStatus.ERROR, exception=exc)
        else:
            self._report(job, JobStatus.DONE, result=value)
        finally:
            ended()
            _current.reset(token)
