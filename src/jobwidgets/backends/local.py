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
import contextlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any, Literal

from ..errors import JobCancelledError, JobError
from ..job import BaseJob, _current, format_exception
from ..status import JOB_FINAL_STATES, JobStatus

__all__ = ["FunctionJob", "LocalBackend", "LocalJob"]

try:  # cloudpickle pickles functions by value, so notebook functions reach the workers
    import cloudpickle as _pickler  # type: ignore[import-not-found,import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _pickler = pickle


class FunctionJob(BaseJob):
    """A function call run as a job: what the local and the Dask backends share.

    Subclasses add ``submit()``, ``cancel()`` and ``result()``; the backend pushes
    every status change.
    """

    pushes_status = True

    def __init__(
        self,
        backend: Any,
        job_id: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            msg = f"{type(backend).__name__}.run needs a callable, got {fn!r}"
            raise TypeError(msg)
        super().__init__(backend, job_id)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}
        self._exception: BaseException | None = None

    def job_id(self) -> str:
        """Return a unique id identifying the job (these jobs always have one)."""
        job_id = self._job_id
        return job_id if isinstance(job_id, str) else str(job_id)

    def status(self) -> JobStatus:
        """Return the status of the job."""
        return self._recorded_status()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait for the job and return the exception it raised, or None."""
        self._wait_final(timeout)
        return self._exception


class LocalJob(FunctionJob):
    """A function call run by a ``LocalBackend``."""

    def __init__(
        self,
        backend: LocalBackend,
        job_id: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(backend, job_id, fn, args, kwargs)
        self._value: Any = None
        self._future: concurrent.futures.Future[None] | None = None

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
        return backend._cancel(self)

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the job and return the function's return value.

        Raises:
            JobError: the job failed (chained from the original exception) or was
                cancelled.
            JobTimeoutError: the job did not finish within ``timeout`` seconds.
        """
        return self._outcome(timeout, lambda: (self._value, self._exception))

    # called by the backend ------------------------------------------------------
    def _start(self) -> bool:
        """Report RUNNING; False if the job was cancelled before it could start."""
        return self._report(JobStatus.RUNNING) or self._recorded_status() is JobStatus.RUNNING

    def _finish(self, value: Any) -> None:
        self._value = value
        self._end(JobStatus.DONE)

    def _fail(self, exc: BaseException | None, message: str, tb: str | None) -> None:
        self._exception = exc
        if isinstance(exc, JobCancelledError):
            self._end(JobStatus.CANCELLED)
        else:
            self._end(JobStatus.ERROR, error=message, error_traceback=tb)

    def _end(self, status: JobStatus, **error: Any) -> bool:
        """Report a final state and let the backend forget this job."""
        self._backend._forget(self)
        return self._report(status, **error)


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
        self._unfinished: dict[int, LocalJob] = {}
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._processes: _ProcessPool | None = None
        if kind == "thread":
            self._threads = concurrent.futures.ThreadPoolExecutor(
                max_workers, thread_name_prefix=f"jobwidgets-{self.name}"
            )
        else:
            self._processes = _ProcessPool(max_workers, multiprocessing.get_context(mp_context))

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
            jobs = list(self._unfinished.values())
        for job in jobs:
            if job._recorded_status() in (JobStatus.QUEUED, JobStatus.INITIALIZING):
                self._cancel_queued(job)
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

    # used by LocalJob -------------------------------------------------------------
    def _submit(self, job: LocalJob) -> None:
        with self._lock:
            if self._closed:
                msg = f"{self.name} is closed; create a new LocalBackend to run more jobs"
                raise JobError(msg)
            self._unfinished[id(job)] = job
        job._report(JobStatus.QUEUED)
        if self._threads is not None:
            job._future = self._threads.submit(_run_in_thread, job)
        else:
            assert self._processes is not None
            self._processes.submit(job)

    def _forget(self, job: LocalJob) -> None:
        self._unfinished.pop(id(job), None)  # atomic; called as each job ends

    def _cancel(self, job: LocalJob) -> bool:
        status = job._recorded_status()
        if status is JobStatus.CANCELLED:
            return True
        if status in JOB_FINAL_STATES:
            return False
        if self._cancel_queued(job):
            return True
        job._request_cancel()
        if self._processes is not None:
            return self._processes.kill(job)
        return False

    def _cancel_queued(self, job: LocalJob) -> bool:
        if job._future is not None:
            if job._future.cancel():
                return job._end(JobStatus.CANCELLED) or job.cancelled()
            return False
        if self._processes is not None and self._processes.unqueue(job):
            return job._end(JobStatus.CANCELLED) or job.cancelled()
        return False


def _run_in_thread(job: LocalJob) -> None:
    if not job._start():
        return
    token = _current.set(job)
    try:
        value = job.fn(*job.args, **job.kwargs)
    except BaseException as exc:
        job._fail(exc, *format_exception(exc))
    else:
        job._finish(value)
    finally:
        _current.reset(token)


# ------------------------------------------------------------------ process workers
def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: run tasks from ``conn`` until it closes."""
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            return
        conn.send_bytes(b"started")
        try:
            fn, args, kwargs = pickle.loads(payload)
            value = fn(*args, **kwargs)
        except BaseException as exc:
            message, tb = format_exception(exc)
            try:
                reply = pickle.dumps(("error", exc, message, tb))
            except Exception:
                reply = pickle.dumps(("error", None, message, tb))
        else:
            try:
                reply = pickle.dumps(("done", value, None, None))
            except Exception as exc:
                message, tb = format_exception(exc)
                reply = pickle.dumps(("error", None, f"result can't be pickled: {message}", tb))
        conn.send_bytes(reply)


class _Worker:
    def __init__(self, ctx: BaseContext) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child,), daemon=True, name="jobwidgets-worker"
        )
        self.process.start()
        child.close()
        self.job: LocalJob | None = None

    def stop(self, kill: bool = False) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if kill and self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class _ProcessPool:
    """Worker processes fed by one dispatcher thread; a running job can be killed."""

    def __init__(self, max_workers: int, ctx: BaseContext) -> None:
        self._max = max_workers
        self._ctx = ctx
        self._lock = threading.Lock()
        self._queue: deque[LocalJob] = deque()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def submit(self, job: LocalJob) -> None:
        with self._lock:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._dispatch, name="jobwidgets-process-pool", daemon=True
                )
                self._thread.start()
        self._wake()

    def unqueue(self, job: LocalJob) -> bool:
        with self._lock:
            try:
                self._queue.remove(job)
            except ValueError:
                return False
            return True

    def kill(self, job: LocalJob) -> bool:
        """Kill the worker running ``job``; the dispatcher reports CANCELLED."""
        with self._lock:
            for worker in self._busy:
                if worker.job is job:
                    worker.process.kill()
                    self._wake()
                    return True
        return self.unqueue(job) and (job._end(JobStatus.CANCELLED) or job.cancelled())

    def shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join()
        for worker in self._idle:
            worker.stop()
        self._idle.clear()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"")

    def _assign(self) -> None:
        with self._lock:
            while self._queue and (self._idle or len(self._busy) < self._max):
                job = self._queue.popleft()
                if job._recorded_status() in JOB_FINAL_STATES:
                    continue
                try:
                    payload = _pickler.dumps((job.fn, job.args, job.kwargs))
                except Exception as exc:
                    message, tb = format_exception(exc)
                    hint = (
                        "; define the function in a module, or install cloudpickle"
                        if _pickler is pickle
                        else ""
                    )
                    job._fail(exc, f"can't send the job to a worker process: {message}{hint}", tb)
                    continue
                worker = self._idle.pop() if self._idle else _Worker(self._ctx)
                worker.job = job
                self._busy.append(worker)
                try:
                    worker.conn.send_bytes(payload)
                except OSError as exc:
                    message, tb = format_exception(exc)
                    job._fail(exc, f"worker process unreachable: {message}", tb)

    def _dispatch(self) -> None:
        while True:
            self._assign()
            with self._lock:
                if self._stopping and not self._busy:
                    return
                busy = list(self._busy)
            waitables: list[Any] = [self._wake_r]
            for worker in busy:
                waitables += [worker.conn, worker.process.sentinel]
            for ready in multiprocessing.connection.wait(waitables):
                if ready is self._wake_r:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                    continue
                for worker in busy:
                    if ready is worker.conn or ready == worker.process.sentinel:
                        self._handle(worker)
                        break

    def _handle(self, worker: _Worker) -> None:
        with self._lock:
            if worker not in self._busy:
                return  # its pipe and its death were both ready; already handled
        job = worker.job
        if job is not None and job.cancel_requested:
            # cancel() killed this worker: whatever it sent last is void
            with self._lock:
                self._busy.remove(worker)
            worker.stop(kill=True)
            job._end(JobStatus.CANCELLED)
            return
        try:
            reply = worker.conn.recv_bytes() if worker.conn.poll() else None
        except (EOFError, OSError):
            reply = None
        if reply == b"started":
            if job is not None:
                job._start()
            return
        if reply is not None:
            kind, value, message, tb = pickle.loads(reply)
            with self._lock:
                self._busy.remove(worker)
                worker.job = None
                if self._stopping:
                    worker.stop()
                else:
                    self._idle.append(worker)
            if job is not None:
                if kind == "done":
                    job._finish(value)
                else:
                    job._fail(value, message, tb)
            return
        if worker.process.is_alive():
            return
        # the worker died: killed by cancel(), or crashed
        with self._lock:
            self._busy.remove(worker)
        worker.stop()
        if job is None:
            return
        if job.cancel_requested:
            job._end(JobStatus.CANCELLED)
        else:
            code = worker.process.exitcode
            job._fail(
                None,
                f"the worker process running {job.job_id()!r} died (exit code {code})",
                None,
            )
