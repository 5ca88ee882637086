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
job at a time (``_process_worker``). The dispatcher sends the pickled ``(job_id, fn,
args, kwargs)`` (cloudpickle when installed, so functions are sent by value). The worker
answers ``b"started"`` as soon as it has received the payload, before it unpickles and
calls it: the dispatcher then reports RUNNING. While the call runs, the task's
``RemoteJob`` sends pickled ``("progress", fraction, text)`` and ``("log", lines, cut)``
messages, coalesced, which the dispatcher forwards to the job. When the call returns,
the worker sends a pickled
``("done", pickled value, None, None)`` or ``("error", pickled exception, message,
traceback_text)``. The value and the exception are pickled on their own (the exception
is None when it can't be pickled): one that can't be unpickled in the parent makes only
its job end in ERROR, with the remote message and traceback and a note that it couldn't
be transferred. The dispatcher reports DONE or ERROR and puts the worker back among the
idle ones. Workers exit when their pipe closes.

**Cancel and death.** A queued job is just taken out of the queue (the owner reports
CANCELLED). For a running job, ``kill`` marks its worker ``killed`` under ``_lock`` and
sends it SIGKILL. The dispatcher decides each outcome under ``_lock`` too, as it takes
the worker out of the busy list: a killed worker's job is CANCELLED whatever the worker
sent last, and a killed worker is never reused. So ``kill`` returns True exactly when
the job will end CANCELLED, and False when the dispatcher had already taken the job's
outcome, which stands. A worker that dies on its own makes its job end in ERROR with
the exit code; a dead worker is never reused (an idle one found dead when a job is sent
to it is replaced, and the job goes to a new one).

**Faults.** An exception in the dispatcher's own code never ends it silently: it is
logged on the ``jobwidgets`` logger, the job concerned ends in ERROR (its worker is
dropped), and the dispatcher goes on serving the others.

**The owner.** ``report(job, status, **details)`` takes the ``BaseJob._report``
arguments (``result=``, ``exception=``, ``error=``, ``error_traceback=``); the owner
forgets the job on a final state and forwards the report to the job. ``report`` is never
called with ``_lock`` held, so an observer may call back into the pool (``cancel()``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import pickle
import threading
import time
from collections import deque
from multiprocessing.context import BaseContext
from typing import Any, Protocol

from .._remote import forward
from ..status import JobStatus
from ._process_worker import describe, worker_main

__all__ = ["ProcessPool", "Report", "Task"]

log = logging.getLogger("jobwidgets")

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


_NOT_TRANSFERRED = "couldn't be transferred from the worker process"


def _decode(reply: tuple[Any, ...]) -> tuple[JobStatus, dict[str, Any]]:
    """A worker's final reply as the status and ``report`` details it stands for."""
    kind, blob, message, tb = reply  # only str, bytes and None
    if kind == "done":
        try:
            return JobStatus.DONE, {"result": pickle.loads(blob)}
        except BaseException as exc:
            why, local_tb = describe(exc)
            error = f"the job's result {_NOT_TRANSFERRED}: {why}"
            return JobStatus.ERROR, {"error": error, "error_traceback": local_tb}
    exception: BaseException | None = None
    if blob is None:
        message = f"{message} (the exception {_NOT_TRANSFERRED}: it can't be pickled)"
    else:
        try:
            exception = pickle.loads(blob)
        except BaseException as exc:
            why = describe(exc)[0]
            message = f"{message} (the exception {_NOT_TRANSFERRED}: {why})"
    details = {"exception": exception, "error": message, "error_traceback": tb}
    return JobStatus.ERROR, details


class _Worker:
    def __init__(self, ctx: BaseContext) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(  # type: ignore[attr-defined]
            target=worker_main, args=(child,), daemon=True, name="jobwidgets-worker"
        )
        self.process.start()
        child.close()
        self.job: Task | None = None
        self.killed = False  # set by ``kill`` under the pool's lock; never reused then

    def stop(self, kill: bool = False) -> None:
        """Stop a worker that runs no job: close its pipe (it exits), or kill it.

        A worker that outlives its closed pipe a moment is killed: with the ``fork``
        start method another worker may hold that pipe open, so it never sees EOF.
        """
        with contextlib.suppress(OSError):
            self.conn.close()
        if not kill:
            self.process.join(0.2)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class ProcessPool:
    """Worker processes fed by one dispatcher thread; a running job can be killed.

    Args:
        max_workers: how many worker processes run at once.
        ctx: the ``multiprocessing`` context that starts them.
        report: the owner's ``report(job, status, **details)``, called on the
            dispatcher thread (never with the pool's lock held) for RUNNING and the
            final state (see the module's doc).
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
        """Kill the worker running ``job`` (any thread); the dispatcher then reports
        CANCELLED, whatever the worker sent last. False if no worker runs it any more
        (the dispatcher has already taken its outcome, which stands)."""
        with self._lock:
            for worker in self._busy:
                if worker.job is job:
                    worker.killed = True
                    worker.process.kill()
                    break
            else:
                return False
        self._wake()
        return True

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop the idle workers; let the running jobs end, then stop the dispatcher.

        Waits up to ``timeout`` seconds (None: no limit) for the dispatcher. Returns
        False if jobs still ran then: the dispatcher goes on, and stops each of their
        workers when its job ends.
        """
        with self._lock:
            self._stopping = True
            thread = self._thread
            idle, self._idle = self._idle, []
        self._wake()
        for worker in idle:
            worker.stop()
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"")

    def _assign(self) -> None:
        """Send queued jobs to idle or new workers; report the ones that can't be sent."""
        failed: list[tuple[Task, BaseException, str]] = []
        dead: list[_Worker] = []
        with self._lock:
            while self._queue and (self._idle or len(self._busy) < self._max):
                job = self._queue.popleft()
                if job.in_final_state():
                    continue
                try:
                    payload = _pickler.dumps((job.job_id(), job.fn, job.args, job.kwargs))
                except Exception as exc:
                    hint = (
                        "; define the function in a module, or install cloudpickle"
                        if _pickler is pickle
                        else ""
                    )
                    failed.append((job, exc, f"can't send the job to a worker process{hint}"))
                    continue
                worker = self._send(payload, dead, failed, job)
                if worker is not None:
                    worker.job = job
                    self._busy.append(worker)
        for worker in dead:
            worker.stop(kill=True)
        for job, cause, why in failed:
            message, tb = describe(cause)
            error = f"{why}: {message}"
            try:
                self._report(job, JobStatus.ERROR, exception=cause, error=error, error_traceback=tb)
            except BaseException:
                log.exception("jobwidgets: couldn't report the failure of job %s", job.job_id())

    def _send(
        self,
        payload: bytes,
        dead: list[_Worker],
        failed: list[tuple[Task, BaseException, str]],
        job: Task,
    ) -> _Worker | None:
        """Send ``payload`` to an idle worker, or else a new one (``_lock`` held).

        An idle worker that died meanwhile is dropped (into ``dead``) and a new one
        takes the job; a job no new worker can take goes into ``failed``.
        """
        if self._idle:
            worker = self._idle.pop()
            try:
                worker.conn.send_bytes(payload)
            except OSError:
                dead.append(worker)
            else:
                return worker
        try:
            worker = _Worker(self._ctx)
        except Exception as exc:
            failed.append((job, exc, "can't start a worker process"))
            return None
        try:
            worker.conn.send_bytes(payload)
        except OSError as exc:
            dead.append(worker)
            failed.append((job, exc, "worker process unreachable"))
            return None
        return worker

    def _dispatch(self) -> None:
        """The dispatcher's loop. A fault is logged and fails the job it concerns (or,
        outside any job, is logged); the loop carries on serving the other jobs."""
        while True:
            try:
                if not self._serve():
                    return
            except BaseException:
                log.exception("jobwidgets: the process pool's dispatcher failed; it carries on")
                time.sleep(0.05)  # a fault that repeats must not spin a CPU

    def _serve(self) -> bool:
        """One round: assign queued jobs, wait, handle what is ready; False when done."""
        self._assign()
        with self._lock:
            if self._stopping and not self._busy:
                return False
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
                    job = worker.job
                    try:
                        self._handle(worker)
                    except BaseException as exc:
                        self._fail(worker, job, exc)
                    break
        return True

    def _fail(self, worker: _Worker, job: Task | None, exc: BaseException) -> None:
        """``_handle`` raised: log it, drop the worker and fail its job."""
        log.error(
            "jobwidgets: the process pool failed while handling job %s; "
            "that job ends in ERROR and the pool carries on",
            job.job_id() if job is not None else "(none)",
            exc_info=exc,
        )
        with self._lock:
            drop = worker in self._busy
            if drop:
                self._busy.remove(worker)
                worker.job = None
        if drop:
            worker.stop(kill=True)
        if job is None:
            return
        message, tb = describe(exc)
        error = f"the process pool failed while handling this job: {message}"
        try:
            self._report(job, JobStatus.ERROR, exception=exc, error=error, error_traceback=tb)
        except BaseException:
            log.exception("jobwidgets: couldn't report the failure of job %s", job.job_id())

    def _handle(self, worker: _Worker) -> None:
        """Read what a busy worker sent (or see that it died) and report it.

        The outcome is decided under ``_lock``, where ``kill`` marks the worker: a
        killed worker's job is CANCELLED whatever it sent, and a killed worker is
        never put back among the idle ones.
        """
        with self._lock:
            if worker not in self._busy:
                return  # its pipe and its death were both ready; already handled
        job = worker.job
        try:
            reply = worker.conn.recv_bytes() if worker.conn.poll() else None
        except (EOFError, OSError):
            reply = None
        if reply == b"started":
            if job is not None and not worker.killed:
                self._report(job, JobStatus.RUNNING)
            return
        if reply is None and worker.process.is_alive():
            return
        message = None if reply is None else pickle.loads(reply)  # str, float, bytes, None
        if message is not None and message[0] in ("progress", "log"):
            if job is not None and not worker.killed:
                forward(job, message)  # the job's progress or output, on the way
            return
        with self._lock:
            self._busy.remove(worker)
            worker.job = None
            killed = worker.killed
            reuse = reply is not None and not killed and not self._stopping
            if reuse:
                self._idle.append(worker)
        if not reuse:
            worker.stop(kill=killed)
        if job is None:
            return
        if killed:
            self._report(job, JobStatus.CANCELLED)
        elif message is not None:
            status, details = _decode(message)
            self._report(job, status, **details)
        else:  # the worker died on its own
            code = worker.process.exitcode
            error = f"the worker process running {job.job_id()!r} died (exit code {code})"
            self._report(job, JobStatus.ERROR, error=error)
