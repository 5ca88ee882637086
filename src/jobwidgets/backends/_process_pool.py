"""The process pool of ``LocalBackend(kind="process")``: a running job can be killed.

``concurrent.futures.ProcessPoolExecutor`` can't stop a running call, and neither
loky nor pebble gives all of what this pool gives: the job is RUNNING exactly when a
worker starts it (a pushed transition, not a guess at dispatch), ``cancel()`` of a
running job kills its worker, functions defined in a notebook run (cloudpickle), and a
killed or crashed worker is replaced for the next job.

Protocol
--------
**Threads and ownership.** One dispatcher thread per pool (started by the first
``submit``) owns the workers' pipes and processes: it alone sends payloads, reads
replies, joins and replaces workers, and calls the owner's ``report``. Callers' threads
only ``submit``, ``unqueue``, ``kill`` and ``shutdown``. ``_lock`` guards the queue,
the idle and busy worker lists, each ``worker.job`` and ``_stopping``.

**Waking the dispatcher.** It blocks in ``multiprocessing.connection.wait`` on: a
one-way wake pipe (any thread writes an empty message after queueing a job, killing a
worker or asking to stop), each busy worker's pipe, and each busy worker's process
``sentinel`` (ready when the process has died).

**One job on a worker.** Each worker is a process with one duplex ``Pipe`` and runs one
job at a time. The dispatcher sends the pickled ``(fn, args, kwargs)`` (cloudpickle when
installed, so functions are sent by value). The worker answers ``b"started"`` as soon as
it has received the payload, before it unpickles and calls it: the dispatcher then
reports RUNNING. When the call returns, the worker sends a pickled
``("done", value, None, None)`` or ``("error", exception, message, traceback_text)``
(the exception is None when it can't be pickled), and the dispatcher reports DONE or
ERROR and puts the worker back among the idle ones. Workers exit when their pipe closes.

**Cancel and death.** A queued job is just taken out of the queue (the owner reports
CANCELLED). For a running job the owner records the cancel request on the job first,
then ``kill`` sends SIGKILL to its worker; when the dispatcher next hears from that
worker (its last reply or its sentinel), it sees ``job.cancel_requested``, drops
whatever the worker sent, and reports CANCELLED. A worker that dies on its own makes its
job end in ERROR with the exit code. A dead worker is never reused; the next job starts a
new one.

**The owner.** ``report(job, status, **details)`` takes the ``BaseJob._report``
arguments (``result=``, ``exception=``, ``error=``, ``error_traceback=``); the owner
forgets the job on a final state and forwards the report to the job.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import pickle
import threading
from collections import deque
from multiprocessing.context import BaseContext
from typing import Any, Protocol

from ..job import format_exception
from ..status import JobStatus

__all__ = ["ProcessPool", "Report", "Task"]

try:  # cloudpickle pickles functions by value, so notebook functions reach the workers
    import cloudpickle as _pickler  # type: ignore[import-not-found,import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _pickler = pickle


class Task(Protocol):
    """What the pool needs of a job (a ``LocalJob``)."""

    fn: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def cancel_requested(self) -> bool: ...
    def in_final_state(self) -> bool: ...
    def job_id(self) -> str: ...


class Report(Protocol):
    """The owner's ``report(job, status, **details)``; see the module's doc."""

    def __call__(self, job: Task, status: JobStatus, /, **details: Any) -> bool: ...


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
        self.job: Task | None = None

    def stop(self, kill: bool = False) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if kill and self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class ProcessPool:
    """Worker processes fed by one dispatcher thread; a running job can be killed.

    Args:
        max_workers: how many worker processes run at once.
        ctx: the ``multiprocessing`` context that starts them.
        report: the owner's ``report(job, status, **details)``, called on the
            dispatcher thread for RUNNING and the final state (see the module's doc).
    """

    def __init__(self, max_workers: int, ctx: BaseContext, report: Report) -> None:
        self._max = max_workers
        self._ctx = ctx
        self._report = report
        self._lock = threading.Lock()
        self._queue: deque[Task] = deque()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def submit(self, job: Task) -> None:
        """Queue a job (any thread); the dispatcher starts on the first one."""
        with self._lock:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._dispatch, name="jobwidgets-process-pool", daemon=True
                )
                self._thread.start()
        self._wake()

    def unqueue(self, job: Task) -> bool:
        """Take a job out of the queue (any thread); False if it is not there."""
        with self._lock:
            try:
                self._queue.remove(job)
            except ValueError:
                return False
            return True

    def kill(self, job: Task) -> bool:
        """Kill the worker running ``job`` (any thread, after the job recorded its cancel
        request); the dispatcher reports CANCELLED. False if no worker runs it."""
        with self._lock:
            for worker in self._busy:
                if worker.job is job:
                    worker.process.kill()
                    self._wake()
                    return True
        return False

    def shutdown(self) -> None:
        """Let the running jobs end, then stop the dispatcher and every worker."""
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
                if job.in_final_state():
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
                    error = f"can't send the job to a worker process: {message}{hint}"
                    self._report(
                        job, JobStatus.ERROR, exception=exc, error=error, error_traceback=tb
                    )
                    continue
                worker = self._idle.pop() if self._idle else _Worker(self._ctx)
                worker.job = job
                self._busy.append(worker)
                try:
                    worker.conn.send_bytes(payload)
                except OSError as exc:
                    message, tb = format_exception(exc)
                    error = f"worker process unreachable: {message}"
                    self._report(
                        job, JobStatus.ERROR, exception=exc, error=error, error_traceback=tb
                    )

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
            self._report(job, JobStatus.CANCELLED)
            return
        try:
            reply = worker.conn.recv_bytes() if worker.conn.poll() else None
        except (EOFError, OSError):
            reply = None
        if reply == b"started":
            if job is not None:
                self._report(job, JobStatus.RUNNING)
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
                    self._report(job, JobStatus.DONE, result=value)
                else:
                    self._report(
                        job, JobStatus.ERROR, exception=value, error=message, error_traceback=tb
                    )
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
            self._report(job, JobStatus.CANCELLED)
        else:
            code = worker.process.exitcode
            error = f"the worker process running {job.job_id()!r} died (exit code {code})"
            self._report(job, JobStatus.ERROR, error=error)
