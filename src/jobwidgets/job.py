"""``BaseJob``: the API of qiskit's legacy ``BaseJob``, with an observable status.

The state machine follows CPython's ``concurrent.futures.Future``: every change happens
under one ``threading.Condition``; waiters are woken inside the lock; observers and done
callbacks run after the lock is released, each guarded on its own.

Changes are delivered to observers in the order they were made, once each. Whichever
thread makes a change delivers the changes still pending; a change made from inside an
observer is queued and delivered by the thread already delivering, after the current
change, so every observer sees the same order. A final state is final: later reports are
ignored.

Third-party subclasses written for the legacy class keep attributes of their own
(``_status``, ``_lock``, ``_submitted``, ...). So, apart from the legacy ``_backend`` and
``_job_id``, a job keeps all of its internal state in one object under the attribute
``_jobwidgets`` (a ``_JobCore``), and the machinery calls that object, never a method a
subclass could have overridden by accident.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import contextvars
import functools
import logging
import math
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import traitlets

from .errors import JobCancelledError, JobError, JobTimeoutError
from .status import JOB_FINAL_STATES, JobStatus

if TYPE_CHECKING:
    from .registry import JobRegistry

__all__ = ["NO_ID_YET", "BaseJob", "JobCallback", "current_job"]

log = logging.getLogger("jobwidgets")

JobCallback = Callable[[Any, Any, "BaseJob"], Any]
"""The signature of a ``wait_for_final_state`` callback: ``(job_id, job_status, job)``.

As in qiskit's legacy loop, it is called after each query that found a status that is
not final. A callable whose attribute ``wants_final_status`` is ``True`` (such as
``jobwidgets.widgets.JobMonitor``) is also called once with the final status, even for
a job that was final at the first query.
"""

NO_ID_YET = "(no id yet)"
"""What views show for a job whose id is still ``None`` (set later, by ``submit()``)."""

_F = TypeVar("_F", bound=Callable[..., Any])

# Status queries that must respect a deadline run here, so that a slow ``status()`` can't
# make ``wait_for_final_state`` overshoot its timeout. Threads are made only on demand.
_query_pool = concurrent.futures.ThreadPoolExecutor(
    max_workers=4, thread_name_prefix="jobwidgets-query"
)

_warned_lock = threading.Lock()
_warned: weakref.WeakSet[type] = weakref.WeakSet()


def _as_status(value: object, job: BaseJob) -> JobStatus | None:
    """A ``JobStatus``, or any enum-like value whose name is one; else None (warned once).

    The legacy class passed whatever ``status()`` returned through (qiskit-terra's own
    mock ``FakeJob`` returns a dict), so an unknown answer is not an error: the caller
    gets it back unchanged, and ``state`` doesn't move.
    """
    if isinstance(value, JobStatus):
        return value
    name = getattr(value, "name", value)
    if isinstance(name, str) and name in JobStatus.__members__:
        return JobStatus[name]
    cls = type(job)
    with _warned_lock:
        if cls in _warned:
            return None
        _warned.add(cls)
    log.warning(
        "jobwidgets: %s.status() returned %r (a %s), not a JobStatus. It is passed through "
        "unchanged, but the job's state can't follow it; return a jobwidgets.JobStatus "
        "(one of %s) to make the job observable. (Warned once per class.)",
        cls.__name__,
        value,
        type(value).__name__,
        ", ".join(JobStatus.__members__),
    )
    return None


def _checked_status(method: Callable[[BaseJob], Any]) -> Callable[[BaseJob], Any]:
    """Wrap a subclass's ``status()`` so that what it returns is reflected in ``state``.

    An answer is recorded only if no other change was recorded while it was computed:
    a query that overlapped a push (or another query) may be stale, and must not move
    the state back. The next query finds the status again. An answer that is not a
    status is returned unchanged and recorded nowhere.
    """

    @functools.wraps(method)
    def status(self: BaseJob) -> Any:
        core = _core(self)
        with core.cond:
            seen = core.changes
        answer = method(self)
        reported = _as_status(answer, self)
        if reported is None:
            return answer
        core.report(self, reported, unless_changed_since=seen)
        return core.status

    status._jobwidgets_wrapped = True  # type: ignore[attr-defined]
    return status


def _checked_submit(method: Callable[[BaseJob], Any]) -> Callable[[BaseJob], Any]:
    """Wrap a subclass's ``submit()`` so that a second call raises ``JobError``."""

    @functools.wraps(method)
    def submit(self: BaseJob) -> Any:
        core = _core(self)
        me = threading.get_ident()
        with core.cond:
            nested = core.submitter == me  # an overriding submit() called super().submit()
            if core.submitted and not nested:
                msg = f"job {_label(self)} was already submitted; create a new job to run it again"
                raise JobError(msg)
            core.submitted = True
            core.submitter = me
        if nested:
            return method(self)
        try:
            outcome = method(self)
        except BaseException:
            with core.cond:
                core.submitted = False
            raise
        finally:
            with core.cond:
                core.submitter = None
        core.mark_submitted(self)
        return outcome

    submit._jobwidgets_wrapped = True  # type: ignore[attr-defined]
    return submit


@functools.cache
def _registry() -> JobRegistry:
    from .registry import default_registry  # imported late: registry imports job types

    return default_registry


class _JobMeta(traitlets.MetaHasTraits, abc.ABCMeta):
    """Traits plus abstract methods; a job joins the registry once fully constructed."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        # What type.__call__ does, plus traitlets' instance setup when another base's
        # __new__ made the instance: ``class J(SimpleNamespace, BaseJob)`` (as
        # qiskit-ibmq-provider declares IBMQJob) runs SimpleNamespace.__new__, not
        # HasTraits.__new__, which would leave the job without its traits.
        job = cls.__new__(cls, *args, **kwargs)  # type: ignore[arg-type]
        if not isinstance(job, cls):
            return job
        if "_jobwidgets" not in job.__dict__:
            job.setup_instance(*args, **kwargs)
        type(job).__init__(job, *args, **kwargs)
        _registry().add(job)
        return job


class _JobCore:
    """The internal state of one job, apart from the job's own attributes.

    Everything here is guarded by ``cond``, except ``delivery``/``deliverer`` (the
    delivery of pending changes) and ``guards`` (observer wrappers). It holds no
    reference to its job (no cycle): the job is passed to each method.
    """

    __slots__ = (
        "cancel_requested",
        "changes",
        "cond",
        "deliverer",
        "delivery",
        "done_callbacks",
        "guards",
        "pending",
        "stamped",
        "status",
        "submitted",
        "submitter",
    )

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.status = JobStatus.INITIALIZING
        self.changes = 0  # how many status changes were recorded, for stale queries
        self.submitted = False
        self.submitter: int | None = None
        self.pending: deque[list[tuple[str, Any]]] = deque()
        self.delivery = threading.RLock()
        self.deliverer: int | None = None
        self.done_callbacks: list[Callable[[BaseJob], Any]] = []
        self.cancel_requested = False
        self.stamped: set[str] = set()
        self.guards: dict[Callable[..., Any], Callable[..., Any]] = {}

    def report(
        self,
        job: BaseJob,
        status: JobStatus,
        *,
        error: str | None = None,
        error_traceback: str | None = None,
        unless_changed_since: int | None = None,
    ) -> bool:
        """``BaseJob._report``: record a new status; False if it changed nothing."""
        with self.cond:
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
            if status is not JobStatus.INITIALIZING and "submitted_at" not in stamped:
                stamped.add("submitted_at")
                changes.append(("submitted_at", now))
            if status is JobStatus.RUNNING and "started_at" not in stamped:
                stamped.add("started_at")
                changes.append(("started_at", now))
            if status in JOB_FINAL_STATES:
                changes.append(("finished_at", now))
                if error is not None:
                    changes.append(("error", error))
                if error_traceback is not None:
                    changes.append(("error_traceback", error_traceback))
                if status is JobStatus.DONE and "progress" in stamped:
                    changes.append(("progress", 1.0))
            changes.append(("state", status))
            self.cond.notify_all()
            if not (job._trait_notifiers or self.pending or self.done_callbacks):
                # nobody observes this job: store the values, no delivery to order
                values = job._trait_values
                for name, value in changes:
                    values[name] = value
                return True
            self.pending.append(changes)
        self.flush(job)
        return True

    def mark_submitted(self, job: BaseJob) -> None:
        with self.cond:
            if "submitted_at" in self.stamped:
                return
            self.stamped.add("submitted_at")
            self.pending.append([("submitted_at", time.time())])
        self.flush(job)

    def set_progress(self, job: BaseJob, fraction: float | None) -> None:
        with self.cond:
            if self.status in JOB_FINAL_STATES:
                return
            self.stamped.add("progress")
            self.pending.append([("progress", fraction)])
        self.flush(job)

    def wait_final(self, job: BaseJob, timeout: float | None) -> JobStatus:
        """Block until a final state (pushing jobs), or raise ``JobTimeoutError``."""
        deadline = _deadline(timeout)
        with self.cond:
            while self.status not in JOB_FINAL_STATES:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise self.timeout_error(job, timeout)
                self.cond.wait(remaining)
            status = self.status
        self.flush(job)
        return status

    def flush(self, job: BaseJob) -> None:
        """Deliver pending changes in order, unless this thread is already delivering."""
        me = threading.get_ident()
        if self.deliverer == me:
            return  # called from inside an observer: the outer loop delivers it next
        with self.delivery:
            self.deliverer = me
            try:
                while True:
                    with self.cond:
                        if not self.pending:
                            return
                        changes = self.pending.popleft()
                    final = False
                    for name, value in changes:
                        _apply(job, name, value)
                        final = final or (name == "state" and value in JOB_FINAL_STATES)
                    if final:
                        with self.cond:
                            callbacks, self.done_callbacks = self.done_callbacks, []
                        for fn in callbacks:
                            _call_guarded(fn, job)
            finally:
                self.deliverer = None
                interrupt = getattr(_deferred, "interrupt", None)
                if interrupt is not None:
                    # a KeyboardInterrupt (or SystemExit) in an observer: raised only
                    # now, once every change is delivered and every callback called
                    _deferred.interrupt = None
                    raise interrupt

    def timeout_error(self, job: BaseJob, timeout: float | None) -> JobTimeoutError:
        return JobTimeoutError(
            f"job {_label(job)} did not reach a final state within {timeout} s "
            f"(last status: {self.status.name})"
        )


def _core(job: BaseJob) -> _JobCore:
    core: _JobCore = job._jobwidgets
    return core


def _apply(job: BaseJob, name: str, value: Any) -> None:
    """Set one trait. Values made here are valid by construction, so a job that nobody
    observes stores them directly: a job costs little until it is watched."""
    if job._trait_notifiers:
        job.set_trait(name, value)
    else:
        job._trait_values[name] = value


def _call_guarded(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("jobwidgets: callback %r raised", fn)
    except BaseException as exc:
        _defer(exc)


def _query(job: BaseJob, deadline: float | None, timeout: float | None) -> Any:
    """One ``status()`` call that can't run past ``deadline``."""
    if deadline is None or job.pushes_status:
        return job.status()
    future = _query_pool.submit(job.status)
    try:
        return future.result(max(0.0, deadline - time.monotonic()))
    except concurrent.futures.TimeoutError:
        raise _core(job).timeout_error(job, timeout) from None


def _wants_final(callback: object) -> bool:
    """Whether a ``wait_for_final_state`` callback asked for the final status too."""
    return getattr(callback, "wants_final_status", False) is True


def display_id(job: BaseJob) -> str:
    """The job's id as text for a view; ``NO_ID_YET`` while it has none."""
    job_id = job.job_id()
    return NO_ID_YET if job_id is None else str(job_id)


def wire_id(job: BaseJob) -> str | None:
    """The job's id as sent to a front end: a str, or None while it has none."""
    job_id = job.job_id()
    return None if job_id is None else str(job_id)


def _label(job: BaseJob) -> str:
    """The job's id for a message: quoted, or ``(no id yet)``."""
    job_id = getattr(job, "_job_id", None)
    return NO_ID_YET if job_id is None else repr(job_id)


class BaseJob(traitlets.HasTraits, metaclass=_JobMeta):
    """Class to handle asynchronous jobs, with the API of ``qiskit.providers.BaseJob``.

    Subclasses implement ``cancel()``, ``result()``, ``status()`` and ``submit()``.
    Whatever ``status()`` returns is reflected in the trait ``state``, so
    ``job.observe(fn, "state")`` works for any subclass. As in the legacy class, a
    subclass reads ``self._backend`` and ``self._job_id``, and may keep any other
    attribute of its own (``self._status`` included): jobwidgets' internal state lives
    elsewhere.

    Backends that know when their jobs change set ``pushes_status = True`` and talk to
    their jobs through a small protected protocol: ``_report()`` (a new status),
    ``_recorded_status()`` (the status last recorded, without a query),
    ``_request_cancel()``, ``_claim_submission()``, ``_wait_final()`` and ``_outcome()``.
    """

    pushes_status: ClassVar[bool] = False
    """True when the backend reports every change itself, so nothing needs to poll."""

    state = traitlets.UseEnum(
        JobStatus, default_value=JobStatus.INITIALIZING, help="The job's current status."
    )
    created_at = traitlets.Float(None, allow_none=True, help="When the job object was made.")
    submitted_at = traitlets.Float(None, allow_none=True, help="When the job was submitted.")
    started_at = traitlets.Float(None, allow_none=True, help="When the job started running.")
    finished_at = traitlets.Float(None, allow_none=True, help="When the job reached a final state.")
    error = traitlets.Unicode(None, allow_none=True, help="The message of the failure, if any.")
    error_traceback = traitlets.Unicode(
        None, allow_none=True, help="The traceback of the failure as text, if known."
    )
    progress = traitlets.Float(
        None, allow_none=True, help="Fraction done, 0..1, when the backend knows it."
    )

    _jobwidgets: _JobCore

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        status = cls.__dict__.get("status")
        if callable(status) and not getattr(status, "_jobwidgets_wrapped", False):
            cls.status = _checked_status(status)  # type: ignore[method-assign,assignment]
        submit = cls.__dict__.get("submit")
        if callable(submit) and not getattr(submit, "_jobwidgets_wrapped", False):
            cls.submit = _checked_submit(submit)  # type: ignore[method-assign,assignment]

    def setup_instance(self, /, *args: Any, **kwargs: Any) -> None:
        """Traitlets' set-up, before any ``__init__``: the internal state exists from
        the start, so a subclass may query its job before calling ``BaseJob.__init__``."""
        self._jobwidgets = _JobCore()
        super().setup_instance(*args, **kwargs)

    def __init__(self, backend: Any, job_id: str | None, **kwargs: Any) -> None:
        """Initializes the asynchronous job.

        Args:
            backend: the backend used to run the job.
            job_id: a unique id in the context of the backend used to run the job, or
                None when the id is known only later (a subclass then sets
                ``self._job_id``, typically in ``submit()``).
        """
        if job_id is not None and not isinstance(job_id, str):
            msg = (
                f"job_id must be a str (or None until the job has an id), "
                f"got {type(job_id).__name__}: pass str({job_id!r}) if that is its id"
            )
            raise TypeError(msg)
        if job_id == "":
            msg = "job_id must be a non-empty str (or None until the job has an id), got ''"
            raise ValueError(msg)
        super().__init__(**kwargs)
        self._backend = backend
        self._job_id = job_id
        _apply(self, "created_at", time.time())

    # ------------------------------------------------------------------ reference API
    def job_id(self) -> str | None:
        """Return a unique id identifying the job (None while it has none)."""
        job_id: str | None = self._job_id
        return job_id

    def backend(self) -> Any:
        """Return the backend where this job was executed."""
        return self._backend

    @abc.abstractmethod
    def submit(self) -> Any:
        """Submit the job to the backend for execution."""

    @abc.abstractmethod
    def result(self) -> Any:
        """Return the results of the job."""

    @abc.abstractmethod
    def cancel(self) -> Any:
        """Attempt to cancel the job."""

    @abc.abstractmethod
    def status(self) -> Any:
        """Return the status of the job, among the values of ``JobStatus``."""

    def done(self) -> bool:
        """Return whether the job has successfully run."""
        return bool(self.status() == JobStatus.DONE)

    def running(self) -> bool:
        """Return whether the job is actively running."""
        return bool(self.status() == JobStatus.RUNNING)

    def cancelled(self) -> bool:
        """Return whether the job has been cancelled."""
        return bool(self.status() == JobStatus.CANCELLED)

    def in_final_state(self) -> bool:
        """Return whether the job is in a final job state."""
        return self.status() in JOB_FINAL_STATES

    def wait_for_final_state(
        self,
        timeout: float | None = None,
        wait: float = 5,
        callback: JobCallback | None = None,
    ) -> None:
        """Poll the job status until it progresses to a final state such as DONE or ERROR.

        A query is one ``status()`` call. As in the legacy qiskit loop, after each query
        that found a status that is not final, ``callback(job_id, job_status, job)`` is
        called with positional arguments; it is never given the final status, and not
        called at all for a job that is already final. A callback whose attribute
        ``wants_final_status`` is ``True`` (``JobMonitor``) is called with the final
        status too. Between queries it waits up to ``wait`` seconds (0: it queries
        again at once), but wakes at once when the job's state changes, so a job whose
        backend pushes its states returns within milliseconds of its final state.

        Args:
            timeout: Seconds to wait for the job, measured from the call on a monotonic
                clock. If ``None``, wait indefinitely. The wait never runs past it, even
                when a ``status()`` query is slow.
            wait: Seconds between queries, ``>= 0``.
            callback: Callback function invoked after each query. Its exceptions
                propagate to the caller; the job is unaffected.

        Raises:
            JobTimeoutError: If the job does not reach a final state before the specified
                timeout.
        """
        deadline = _deadline(timeout)
        _check_wait(wait)
        if callback is not None and not callable(callback):
            msg = f"callback must be callable with (job_id, job_status, job), got {callback!r}"
            raise TypeError(msg)
        core = _core(self)
        final_too = _wants_final(callback)
        while True:
            with core.cond:
                before = core.changes
            status = _query(self, deadline, timeout)
            core.flush(self)
            if status in JOB_FINAL_STATES:
                if callback is not None and final_too:
                    callback(self.job_id(), status, self)
                return None
            delay = wait
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise core.timeout_error(self, timeout)
                delay = min(wait, remaining)
            if callback is not None:
                callback(self.job_id(), status, self)
            if delay <= 0:
                time.sleep(0)  # wait=0: no pause, as the legacy loop; let other threads run
                continue
            with core.cond:
                if isinstance(status, JobStatus):
                    unchanged = core.status is status
                else:  # an answer that isn't a status: only a push can change anything
                    unchanged = core.changes == before
                if unchanged:
                    core.cond.wait(delay)

    # ------------------------------------------------------------ beyond the reference
    def add_done_callback(self, fn: Callable[[BaseJob], Any]) -> None:
        """Call ``fn(job)`` when the job reaches a final state, or now if it already has.

        As with ``concurrent.futures.Future``, callbacks run in the order they were added,
        on the thread that finished the job, and one that raises is logged and ignored.
        A job that can only be polled calls them when a query finds its final state.
        """
        if not callable(fn):
            msg = f"add_done_callback needs a callable taking the job, got {fn!r}"
            raise TypeError(msg)
        core = _core(self)
        with core.cond:
            if core.status not in JOB_FINAL_STATES:
                core.done_callbacks.append(fn)
                return
        core.flush(self)
        _call_guarded(fn, self)

    async def wait_async(self, timeout: float | None = None) -> JobStatus:
        """Wait for the final state without blocking the event loop; return that state.

        A job that can only be polled is queried by the shared poller meanwhile.

        Raises:
            JobTimeoutError: if the job is not final within ``timeout`` seconds.
        """
        _deadline(timeout)
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def wake(_job: BaseJob) -> None:
            loop.call_soon_threadsafe(_resolve, finished)

        self.add_done_callback(wake)
        unwatch = None
        if not self.pushes_status:
            from .poller import default_poller

            unwatch = default_poller.watch(self)
        try:
            await asyncio.wait_for(asyncio.shield(finished), timeout)
        except TimeoutError:
            raise _core(self).timeout_error(self, timeout) from None
        finally:
            if unwatch is not None:
                unwatch()
        return _core(self).status

    def __await__(self) -> Generator[Any, None, Any]:
        """``await job`` waits for the final state, then returns ``job.result()``."""
        yield from self.wait_async().__await__()
        return self.result()

    def raise_if_cancelled(self) -> None:
        """Raise ``JobCancelledError`` if someone asked this job to stop.

        Code running as a thread job calls this (through ``jobwidgets.current_job()``)
        at convenient points to honour ``cancel()``.
        """
        if self.cancel_requested:
            msg = f"job {_label(self)} was cancelled"
            raise JobCancelledError(msg)

    @property
    def cancel_requested(self) -> bool:
        """Whether ``cancel()`` was called on this job while it ran."""
        return _core(self).cancel_requested

    def set_progress(self, fraction: float | None) -> None:
        """Report how much of the job is done, from 0 to 1 (or None when unknown)."""
        if fraction is not None:
            if isinstance(fraction, bool) or not isinstance(fraction, int | float):
                msg = f"progress must be a number from 0 to 1 or None, got {fraction!r}"
                raise TypeError(msg)
            if not 0 <= fraction <= 1:
                msg = f"progress must be between 0 and 1, got {fraction!r}"
                raise ValueError(msg)
            fraction = float(fraction)
        _core(self).set_progress(self, fraction)

    # -------------------------------------------------------------------- observers
    def observe(
        self,
        handler: Callable[..., Any],
        names: Any = traitlets.All,
        type: Any = "change",
    ) -> None:
        """Call ``handler(change)`` on each change of the named traits (all by default).

        ``change`` has ``name``, ``old``, ``new``, ``owner`` and ``type``. Handlers run
        after the job's lock is released, on the thread that delivers the change, so a
        handler may call back into the job. One that raises is logged, and the others
        are still called.
        """
        if isinstance(handler, traitlets.EventHandler):  # an @observe method of a class
            super().observe(handler, names=names, type=type)
            return
        core = _core(self)
        guard = core.guards.get(handler)
        if guard is None:
            guard = core.guards[handler] = functools.partial(_guarded_observer, handler)
        with core.cond:  # report() decides under this lock whether anybody observes
            super().observe(guard, names=names, type=type)

    def unobserve(
        self,
        handler: Callable[..., Any],
        names: Any = traitlets.All,
        type: Any = "change",
    ) -> None:
        """Stop calling a handler given to ``observe``."""
        guards = _core(self).guards
        super().unobserve(guards.get(handler, handler), names=names, type=type)

    # ------------------------------------------------------------ for backends to use
    def _report(
        self,
        status: JobStatus,
        *,
        error: str | None = None,
        error_traceback: str | None = None,
        unless_changed_since: int | None = None,
    ) -> bool:
        """Record a new status; return False if it changed nothing (same, or after final).

        With ``unless_changed_since`` (a count of changes read before a ``status()``
        query), a status learned by that query is dropped if a change came in meanwhile.
        Safe from any thread. Observers are called after the lock is released.
        """
        return _core(self).report(
            self,
            status,
            error=error,
            error_traceback=error_traceback,
            unless_changed_since=unless_changed_since,
        )

    def _recorded_status(self) -> JobStatus:
        """The status last recorded (pushed, or found by a query), without a query."""
        return _core(self).status

    def _request_cancel(self) -> None:
        """Record that ``cancel()`` was asked for (``cancel_requested`` becomes True)."""
        core = _core(self)
        with core.cond:
            core.cancel_requested = True

    def _claim_submission(self) -> None:
        """Mark the job as submitted by its backend directly (a batch), not by
        ``submit()``: a later ``submit()`` raises ``JobError``."""
        core = _core(self)
        with core.cond:
            core.submitted = True

    def _mark_submitted(self) -> None:
        _core(self).mark_submitted(self)

    def _wait_final(self, timeout: float | None) -> JobStatus:
        """Block until a final state (pushing jobs), or raise ``JobTimeoutError``."""
        return _core(self).wait_final(self, timeout)

    def _outcome(
        self, timeout: float | None, outcome: Callable[[], tuple[Any, BaseException | None]]
    ) -> Any:
        """Wait for the final state, then return the value or raise, as ``result()`` does.

        ``outcome()`` gives the job's value and original exception once it is final.
        """
        status = _core(self).wait_final(self, timeout)
        value, exc = outcome()
        if status is JobStatus.CANCELLED:
            msg = f"job {_label(self)} was cancelled, so it has no result"
            raise JobError(msg)
        if status is JobStatus.ERROR:
            msg = f"job {_label(self)} failed: {self.error or 'unknown error'}"
            raise JobError(msg) from exc
        return value

    # ------------------------------------------------------------------------ display
    def _backend_name(self) -> str:
        backend = self._backend
        name = getattr(backend, "name", None)
        if callable(name):
            try:
                name = name()
            except Exception:
                name = None
        return str(name) if name else type(backend).__name__

    def __repr__(self) -> str:
        from .text import summary  # text.py imports this module

        return f"<{type(self).__name__} {summary(self)}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """The ``text/plain`` rich repr: the text line of ``jobwidgets.text``."""
        from .text import text_line  # text.py imports this module

        p.text(text_line(self))


_current: contextvars.ContextVar[BaseJob | None] = contextvars.ContextVar(
    "jobwidgets_current_job", default=None
)


def current_job() -> BaseJob | None:
    """The job whose code is running in this thread, or None outside a job.

    A function run by ``LocalBackend(kind="thread")`` uses it to honour cancellation::

        for chunk in work:
            jobwidgets.current_job().raise_if_cancelled()
            ...

    and to report progress with ``current_job().set_progress(fraction)``.
    """
    return _current.get()


def _check_wait(wait: float, name: str = "wait") -> None:
    """Refuse a time between queries that is not a number of seconds >= 0."""
    if isinstance(wait, bool) or not isinstance(wait, int | float):
        msg = f"{name} must be a number of seconds >= 0, got {wait!r}"
        raise TypeError(msg)
    if math.isnan(wait) or wait < 0:
        msg = f"{name} must be >= 0 seconds (0 queries again at once), got {wait!r}"
        raise ValueError(msg)


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        msg = f"timeout must be a number of seconds or None, got {timeout!r}"
        raise TypeError(msg)
    if math.isnan(timeout) or timeout < 0:
        msg = f"timeout must be >= 0 seconds or None, got {timeout!r}"
        raise ValueError(msg)
    return time.monotonic() + timeout


_deferred = threading.local()


def _defer(exc: BaseException) -> None:
    """Keep the first KeyboardInterrupt/SystemExit of a delivery, to raise at its end."""
    if getattr(_deferred, "interrupt", None) is None:
        _deferred.interrupt = exc


def _guarded_observer(handler: Callable[[Any], Any], change: Any) -> None:
    try:
        handler(change)
    except Exception:
        log.exception("jobwidgets: observer %r raised on %s", handler, change.get("name"))
    except BaseException as exc:
        _defer(exc)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def format_exception(exc: BaseException) -> tuple[str, str]:
    """The message and the traceback text of an exception."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return message, "".join(traceback.format_exception(exc))
