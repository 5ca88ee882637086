"""The state machine of one job: ``_JobCore``, kept under ``job._jobwidgets``.

It follows CPython's ``concurrent.futures.Future``: every change happens under one
``threading.Condition``; waiters are woken inside the lock; observers and done callbacks
run after the lock is released, each guarded on its own.

Changes are delivered to observers in the order they were made, once each. Whichever
thread makes a change delivers the changes still pending, unless another thread is
delivering already: then the change is queued, and that thread delivers it after the
current one. A thread that only reports (a status, progress, a cancel) therefore never
waits for observers running elsewhere, even for an observer that waits for it. A change
made from inside an observer is queued the same way, so every observer sees the same
order. A final state is final: later reports are ignored.

Who owns what: the core owns the status, the outcome (value or exception), the cancel
request, the queue of changes not yet delivered and the ``delivering`` mark, all under
``lock``. The job's traits are written only by the one thread that holds the mark
(``flush``). Threads that wait for the job (``settle``) wait, after its final state, until
the pending changes are delivered, so ``result()`` returns after the observers saw the
end. Backends never reach in here: they call ``BaseJob._report`` (see ``jobwidgets.job``).

A recorder (``set_recorder``; the history installs one) hears of changes without
holding on to objects the garbage collector must follow (see ``history.recording``):

- a status change appends ``status.LOG_ENTRY`` to the recorder's ``log`` (bytes): the
  job's record key, ``status._code`` plus ``LOGGED_SUBMITTED``/``LOGGED_STARTED`` when
  the change stamped those times, and the time (``mark_submitted`` logs
  ``LOGGED_NO_STATUS``; see ``status``);
- the other fields (progress, tags, the log's count, an error and its traceback) are
  merged into the job's ``unrecorded`` dict (name -> latest value); the change that
  makes that dict calls ``recorder.changed(job)``, later ones only update it until the
  recorder's owner takes it (``take_unrecorded``, under the same lock);
- a job's first change seen by a recorder gives it a record key (once per process) and
  calls ``recorder.new(job)``: the recorder reads what the job is from the job.

All of it happens under the job's lock, on the thread that made the change: appends and
one dict, never a call back into the job (what the recorder reads of a job later, it
reads without the lock; the log and the dict carry every change, so a value read early
is corrected in the same batch or the next). A recorder does not count as an observer:
an unobserved job keeps its fast path, and delivery to observers is unchanged.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ._seconds import deadline
from .errors import JobTimeoutError
from .logs import JobLog, ticker
from .status import (
    JOB_FINAL_STATES,
    LOG_ENTRY,
    LOGGED_NO_STATUS,
    LOGGED_STARTED,
    LOGGED_SUBMITTED,
    JobStatus,
)

if TYPE_CHECKING:
    from .job import BaseJob

log = logging.getLogger("jobwidgets")


class Recorder(Protocol):
    """What ``set_recorder`` takes (see the module's docstring)."""

    @property
    def log(self) -> Callable[[bytes], object]:
        """Appends one ``status.LOG_ENTRY``: ``bytearray.extend`` (atomic: one C call)."""

    @property
    def new(self) -> Callable[[Any], object]:
        """Called with a job on its first change seen by this recorder (its key set)."""

    @property
    def changed(self) -> Callable[[Any], object]:
        """Called with a job that has unrecorded fields again (``take_unrecorded``)."""


_recorder: Recorder | None = None
_entry = LOG_ENTRY.pack
_record_keys = itertools.count(1)
"""Record keys, one a job, given on its first change seen by a recorder."""


def set_recorder(recorder: Recorder | None) -> Recorder | None:
    """Install the one recorder of job changes (None: none); return the previous one."""
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


def take_unrecorded(job: object) -> dict[str, Any] | None:
    """The job's changes since the recorder last took them (name -> latest value), or
    None; the job's next change calls the recorder again. For the recorder's owner."""
    state = core(job)
    with state.lock:
        fields, state.unrecorded = state.unrecorded, None
    return fields


LostNote = Callable[[str, str, str], object]
"""What ``set_lost_note`` takes: called with ``(job_class, job_id, note)``."""

_lost_note: LostNote | None = None


def set_lost_note(noter: LostNote | None) -> LostNote | None:
    """Install the one listener of ``note_lost`` (None: none); return the previous one."""
    global _lost_note
    previous, _lost_note = _lost_note, noter
    return previous


def note_lost(job_class: str, job_id: str, note: str) -> None:
    """A backend found that the job ``job_id`` of class ``job_class``
    (``module.QualifiedName``), run by an earlier process, no longer exists where it
    ran: ``note`` says so and why. The history (when it records) adds the note to the
    job's record, as its error. Returns at once; never raises."""
    noter = _lost_note
    if noter is None:
        return
    try:
        noter(job_class, job_id, note)
    except Exception:
        log.exception("jobwidgets: noting lost job %r failed", job_id)


NO_ID_YET = "(no id yet)"
"""What views show for a job whose id is still ``None`` (set later, by ``submit()``)."""


class CancelAttempt(enum.Enum):
    """What a backend's attempt to stop an unfinished job achieved.

    ``BaseJob._cancel_with`` turns it into the answer of ``cancel()``; see there.
    """

    STOPPED = "stopped"
    """It will never run (on): it was still queued. The job is reported CANCELLED now."""
    STOPPING = "stopping"
    """It is being stopped (a worker killed, a remote cancel accepted): the backend
    reports CANCELLED once it has happened."""
    NOT_STOPPED = "not stopped"
    """It runs on (its code sees ``cancel_requested``), or it ended meanwhile."""


class _JobCore:
    """The internal state of one job, apart from the job's own attributes.

    Everything here is guarded by ``lock``, except ``deliverer`` (the thread holding
    the ``delivering`` mark, read only to know whether that is the current thread) and
    ``guards`` (observer wrappers). Threads that wait
    for a change wait on ``condition()``, made on first use around the same lock (most
    jobs are never waited on, and a ``threading.Condition`` costs more than the rest of
    the core). It holds no reference to its job (no cycle): the job is passed to each
    method.
    """

    __slots__ = (
        "cancel_requested",
        "changes",
        "cond",
        "deliverer",
        "delivering",
        "done_callbacks",
        "exception",
        "guards",
        "lock",
        "log",
        "pending",
        "record",
        "recorder",
        "stamped",
        "status",
        "submitted",
        "submitter",
        "unrecorded",
        "value",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cond: threading.Condition | None = None
        self.status = JobStatus.INITIALIZING
        self.changes = 0  # how many status changes were recorded, for stale queries
        self.submitted = False
        self.submitter: int | None = None
        self.pending: deque[list[tuple[str, Any]]] = deque()
        self.delivering = False
        self.deliverer: int | None = None
        self.done_callbacks: list[Callable[[BaseJob], Any]] = []
        self.cancel_requested = False
        self.stamped: set[str] = set()
        self.guards: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.value: Any = None
        self.exception: BaseException | None = None
        self.log: JobLog | None = None
        self.record: int | None = None  # the job's history key (``_record_keys``)
        # fields the recorder has not taken yet; under ``lock`` (see ``take_unrecorded``)
        self.unrecorded: dict[str, Any] | None = None
        self.recorder: Recorder | None = None  # the recorder that saw the job (``new``)

    def report(
        self,
        job: BaseJob,
        status: JobStatus,
        *,
        result: Any = None,
        exception: BaseException | None = None,
        error: str | None = None,
        error_traceback: str | None = None,
        unless_changed_since: int | None = None,
    ) -> bool:
        """``BaseJob._report``: record a new status; False if it changed nothing."""
        if status is JobStatus.ERROR and exception is not None and error is None:
            error, text = format_exception(exception)
            if error_traceback is None:
                error_traceback = text
        with self.lock:
            old = self.status
            if old in JOB_FINAL_STATES or status is old:
                return False
            if unless_changed_since is not None and unless_changed_since != self.changes:
                return False
            self.status = status
            self.changes += 1
            now = time.time()
            changes: list[tuple[str, Any]] = []
            stamped = self.stamped
            code = status._code
            if status is not JobStatus.INITIALIZING and "submitted_at" not in stamped:
                stamped.add("submitted_at")
                changes.append(("submitted_at", now))
                code |= LOGGED_SUBMITTED
            if status is JobStatus.RUNNING and "started_at" not in stamped:
                stamped.add("started_at")
                changes.append(("started_at", now))
                code |= LOGGED_STARTED
            fields = told = 0  # changes[fields:told]: the recorder's other fields (final)
            if status in JOB_FINAL_STATES:
                self.value = result
                self.exception = exception
                changes.append(("finished_at", now))
                fields = len(changes)
                if error is not None:
                    changes.append(("error", error))
                if error_traceback is not None:
                    changes.append(("error_traceback", error_traceback))
                if status is JobStatus.DONE and "progress" in stamped:
                    changes.append(("progress", 1.0))
                told = len(changes)
                if self.log is not None:  # the count is final with the state
                    self.log.end()
                    changes.append(("log_lines", self.log.total))
                    if self.log.total:  # (an empty log has no lines to record)
                        told += 1
            changes.append(("state", status))
            recorder = _recorder
            if recorder is not None:
                if self.recorder is not recorder:
                    self.first_seen(job, recorder)
                recorder.log(_entry(self.record, code, now))
                if told > fields:
                    self.remember(job, changes[fields:told])
            if self.cond is not None:
                self.cond.notify_all()
            if not (job._trait_notifiers or self.pending or self.delivering or self.done_callbacks):
                # nobody observes this job: store the values, no delivery to order
                values = job._trait_values
                for name, value in changes:
                    values[name] = value
                return True
            self.pending.append(changes)
        self.flush(job)
        return True

    def first_seen(self, job: BaseJob, recorder: Recorder) -> None:
        """The job's first change that ``recorder`` sees (``lock`` held): give the job
        its record key (kept for the job's life), tell the recorder, and hand it the
        fields an earlier recorder did not take (history disabled, a fork)."""
        if self.record is None:
            self.record = next(_record_keys)
        self.recorder = recorder
        recorder.new(job)
        if self.unrecorded is not None:
            recorder.changed(job)

    def remember(self, job: BaseJob, changes: list[tuple[str, Any]]) -> None:
        """Merge fields into ``unrecorded`` (``lock`` held); the first tells the recorder."""
        recorder = _recorder
        if recorder is None:
            return
        if self.recorder is not recorder:
            self.first_seen(job, recorder)
        unrecorded = self.unrecorded
        if unrecorded is None:
            self.unrecorded = dict(changes)
            recorder.changed(job)
        else:
            unrecorded.update(changes)

    def cancel(self, job: BaseJob, stop: Callable[[], CancelAttempt]) -> bool:
        """``BaseJob._cancel_with``: the one place that decides what ``cancel()`` returns."""
        with self.lock:
            status = self.status
            if status in JOB_FINAL_STATES:
                return status is JobStatus.CANCELLED
            self.cancel_requested = True
        attempt = stop()
        if attempt is CancelAttempt.STOPPING:
            return True
        if attempt is CancelAttempt.STOPPED:
            self.report(job, JobStatus.CANCELLED)
        with self.lock:
            return self.status is JobStatus.CANCELLED

    def condition(self) -> threading.Condition:
        """The condition on ``lock`` that changes notify; call it with ``lock`` held."""
        if self.cond is None:
            self.cond = threading.Condition(self.lock)
        return self.cond

    def mark_submitted(self, job: BaseJob) -> None:
        """``submit()`` returned: stamp ``submitted_at`` unless a report already did."""
        with self.lock:
            self.submitter = None
            if "submitted_at" in self.stamped:
                return
            self.stamped.add("submitted_at")
            now = time.time()
            changes: list[tuple[str, Any]] = [("submitted_at", now)]
            self.pending.append(changes)
            recorder = _recorder
            if recorder is not None:
                if self.recorder is not recorder:
                    self.first_seen(job, recorder)
                recorder.log(_entry(self.record, LOGGED_NO_STATUS | LOGGED_SUBMITTED, now))
        self.flush(job)

    def set_progress(self, job: BaseJob, fraction: float | None, text: str | None) -> None:
        with self.lock:
            if self.status in JOB_FINAL_STATES:
                return
            self.stamped.add("progress")
            changes: list[tuple[str, Any]] = [("progress", fraction), ("progress_text", text)]
            self.pending.append(changes)
            if _recorder is not None:
                self.remember(job, changes)
        self.flush(job)

    def set_tags(self, job: BaseJob, tags: tuple[str, ...]) -> None:
        """``job.tags = ...`` (checked already): delivered in order with other changes,
        also after a final state (tags describe the job, not its run)."""
        with self.lock:
            changes: list[tuple[str, Any]] = [("tags", tags)]
            if _recorder is not None:
                self.remember(job, changes)
            if not (job._trait_notifiers or self.pending or self.delivering or self.done_callbacks):
                job._trait_values["tags"] = tags
                return
            self.pending.append(changes)
        self.flush(job)

    def job_log(self, job: BaseJob) -> JobLog:
        """The job's log, made on first use; a write to it marks the job for the ticker."""
        log = self.log
        if log is None:
            with self.lock:
                if self.log is None:
                    self.log = JobLog(notify=ticker.notifier(job))
                log = self.log
        return log

    def log_count_changed(self, job: BaseJob) -> None:
        """From the log ticker: set ``log_lines``, unless the job is final (it is set)."""
        if self.log is not None:
            self.log.marked = False  # the next write marks the job again
        with self.lock:
            if self.log is None or self.status in JOB_FINAL_STATES:
                return
            changes: list[tuple[str, Any]] = [("log_lines", self.log.total)]
            self.pending.append(changes)
            if _recorder is not None:  # the history keeps the log's last lines
                self.remember(job, changes)
        self.flush(job)

    def wait_final(self, job: BaseJob, timeout: float | None) -> JobStatus:
        """Block until a final state (pushing jobs), or raise ``JobTimeoutError``."""
        until = deadline(timeout)
        with self.lock:
            while self.status not in JOB_FINAL_STATES:
                remaining = None if until is None else until - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise self.timeout_error(job, timeout)
                self.condition().wait(remaining)
            status = self.status
        self.settle(job)
        return status

    def flush(self, job: BaseJob) -> None:
        """Deliver pending changes in order, unless a thread is delivering already.

        Never waits for another thread: if one delivers, it delivers these changes too
        (it loops until nothing is pending, and the mark is given up under ``lock``, so
        no change is left behind).
        """
        with self.lock:
            if self.delivering or not self.pending:
                return
            self.delivering = True
            self.deliverer = threading.get_ident()
        try:
            while True:
                with self.lock:
                    if not self.pending:
                        self.deliverer = None
                        self.delivering = False
                        if self.cond is not None:
                            self.cond.notify_all()
                        return
                    changes = self.pending.popleft()
                self._deliver(job, changes)
        except BaseException:
            with self.lock:  # apply() itself failed: let the next report deliver
                self.deliverer = None
                self.delivering = False
                if self.cond is not None:
                    self.cond.notify_all()
            raise
        finally:
            interrupt = getattr(_deferred, "interrupt", None)
            if interrupt is not None:
                # a KeyboardInterrupt (or SystemExit) in an observer: raised only
                # now, once every change is delivered and every callback called
                _deferred.interrupt = None
                raise interrupt

    def _deliver(self, job: BaseJob, changes: list[tuple[str, Any]]) -> None:
        final = False
        for name, value in changes:
            apply(job, name, value)
            final = final or (name == "state" and value in JOB_FINAL_STATES)
        if final:
            with self.lock:
                callbacks, self.done_callbacks = self.done_callbacks, []
            for fn in callbacks:
                call_guarded(fn, job)

    def settle(self, job: BaseJob) -> None:
        """Deliver what is pending, and wait until another thread has delivered it.

        For threads that wait for the job, after its final state: when they return, the
        observers have seen the end. From inside an observer it returns at once (the
        outer delivery goes on after it).
        """
        self.flush(job)
        if self.deliverer == threading.get_ident():
            return
        with self.lock:
            while self.delivering:
                self.condition().wait()
        self.flush(job)

    def timeout_error(self, job: BaseJob, timeout: float | None) -> JobTimeoutError:
        return JobTimeoutError(
            f"job {label(job)} did not reach a final state within {timeout} s "
            f"(last status: {self.status.name})"
        )


def core(job: object) -> _JobCore:
    """The job's ``_JobCore`` (``job`` is a ``BaseJob``)."""
    found: _JobCore = job._jobwidgets  # type: ignore[attr-defined]
    return found


def apply(job: BaseJob, name: str, value: Any) -> None:
    """Set one trait. Values made here are valid by construction, so a job that nobody
    observes stores them directly: a job costs little until it is watched.

    This and ``_JobCore.report`` are the only readers of traitlets' private
    ``_trait_notifiers`` and ``_trait_values``; ``tests/test_job.py`` fails loudly if
    traitlets changes them.
    """
    if job._trait_notifiers:
        if name == "tags":  # its own set() hands the value back here: store it
            type(job).tags.store(job, value)
        else:
            job.set_trait(name, value)
    else:
        job._trait_values[name] = value


def call_guarded(fn: Callable[..., Any], *args: Any) -> None:
    """Call ``fn``; log an exception, and keep a KeyboardInterrupt for the delivery's end."""
    try:
        fn(*args)
    except Exception:
        log.exception("jobwidgets: callback %r raised", fn)
    except BaseException as exc:
        _defer(exc)


def guarded_observer(handler: Callable[[Any], Any], change: Any) -> None:
    """Call an observer as ``call_guarded`` does, naming the trait in the log."""
    try:
        handler(change)
    except Exception:
        log.exception("jobwidgets: observer %r raised on %s", handler, change.get("name"))
    except BaseException as exc:
        _defer(exc)


_deferred = threading.local()


def _defer(exc: BaseException) -> None:
    """Keep the first KeyboardInterrupt/SystemExit of a delivery, to raise at its end."""
    if getattr(_deferred, "interrupt", None) is None:
        _deferred.interrupt = exc


def label(job: BaseJob) -> str:
    """The job's id for a message: quoted, or ``(no id yet)``."""
    job_id = getattr(job, "_job_id", None)
    return NO_ID_YET if job_id is None else repr(job_id)


def format_exception(exc: BaseException, tb: TracebackType | None = None) -> tuple[str, str]:
    """The message and the traceback text of an exception.

    ``tb`` is the traceback to show when it is not ``exc.__traceback__``, such as the
    remote traceback that Dask gives apart from the exception.
    """
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    lines = traceback.format_exception(type(exc), exc, tb if tb is not None else exc.__traceback__)
    return message, "".join(lines)
