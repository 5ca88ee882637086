"""``BaseJob``: the API of qiskit's legacy ``BaseJob``, with an observable status.

The state machine follows CPython's ``concurrent.futures.Future``: every change happens
under one ``threading.Condition``; waiters are woken inside the lock; observers and done
callbacks run after the lock is released, each guarded on its own.

Changes are delivered to observers in the order they were made, once each. Whichever
thread makes a change delivers the changes still pending; a change made from inside an
observer is queued and delivered by the thread already delivering, after the current
change, so every observer sees the same order. A final state is final: later reports are
ignored.
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
from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import traitlets

from .errors import JobCancelledError, JobError, JobTimeoutError
from .status import JOB_FINAL_STATES, JobStatus

if TYPE_CHECKING:
    from .registry import JobRegistry

__all__ = ["BaseJob", "JobCallback", "current_job"]

log = logging.getLogger("jobwidgets")

JobCallback = Callable[[str, JobStatus, "BaseJob"], Any]
"""The signature of a ``wait_for_final_state`` callback: ``(job_id, job_status, job)``."""

_F = TypeVar("_F", bound=Callable[..., Any])

# Status queries that must respect a deadline run here, so that a slow ``status()`` can't
# make ``wait_for_final_state`` overshoot its timeout. Threads are made only on demand.
_query_pool = concurrent.futures.ThreadPoolExecutor(
    max_workers=4, thread_name_prefix="jobwidgets-query"
)


def _coerce_status(value: object, job: BaseJob) -> JobStatus:
    """Accept a ``JobStatus``, or any enum-like value whose name is a ``JobStatus`` name."""
    if isinstance(value, JobStatus):
        return value
    name = getattr(value, "name", value)
    if isinstance(name, str) and name in JobStatus.__members__:
        return JobStatus[name]
    msg = (
        f"{type(job).__name__}.status() returned {value!r}; it must return a "
        f"jobwidgets.JobStatus (one of {', '.join(JobStatus.__members__)})"
    )
    raise TypeError(msg)


def _checked_status(method: Callable[[BaseJob], Any]) -> Callable[[BaseJob], JobStatus]:
    """Wrap a subclass's ``status()`` so that what it returns is reflected in ``state``.

    An answer is recorded only if no other change was recorded while it was computed:
    a query that overlapped a push (or another query) may be stale, and must not move
    the state back. The next query finds the status again.
    """

    @functools.wraps(method)
    def status(self: BaseJob) -> JobStatus:
        with self._cond:
            seen = self._changes
        reported = _coerce_status(method(self), self)
        self._report(reported, unless_changed_since=seen)
        return self._status

    status._jobwidgets_wrapped = True  # type: ignore[attr-defined]
    return status


def _checked_submit(method: Callable[[BaseJob], Any]) -> Callable[[BaseJob], Any]:
    """Wrap a subclass's ``submit()`` so that a second call raises ``JobError``."""

    @functools.wraps(method)
    def submit(self: BaseJob) -> Any:
        me = threading.get_ident()
        with self._lock:
            nested = self._submitter == me  # an overriding submit() called super().submit()
            if self._submitted and not nested:
                msg = (
                    f"job {self._job_id!r} was already submitted; create a new job to run it again"
                )
                raise JobError(msg)
            self._submitted = True
            self._submitter = me
        if nested:
            return method(self)
        try:
            outcome = method(self)
        except BaseException:
            with self._lock:
                self._submitted = False
            raise
        finally:
            with self._lock:
                self._submitter = None
        self._mark_submitted()
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
        job = super().__call__(*args, **kwargs)
        _registry().add(job)
        return job


class BaseJob(traitlets.HasTraits, metaclass=_JobMeta):
    """Class to handle asynchronous jobs, with the API of ``qiskit.providers.BaseJob``.

    Subclasses implement ``cancel()``, ``result()``, ``status()`` and ``submit()``.
    Whatever ``status()`` returns is reflected in the trait ``state``, so
    ``job.observe(fn, "state")`` works for any subclass. Backends that know when their
    jobs change push the change with ``_report()`` and set ``pushes_status = True``.
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        status = cls.__dict__.get("status")
        if callable(status) and not getattr(status, "_jobwidgets_wrapped", False):
            cls.status = _checked_status(status)  # type: ignore[method-assign,assignment]
        submit = cls.__dict__.get("submit")
        if callable(submit) and not getattr(submit, "_jobwidgets_wrapped", False):
            cls.submit = _checked_submit(submit)  # type: ignore[method-assign,assignment]

    def __init__(self, backend: Any, job_id: str, **kwargs: Any) -> None:
        """Initializes the asynchronous job.

        Args:
            backend: the backend used to run the job.
            job_id: a unique id in the context of the backend used to run the job.
        """
        if not isinstance(job_id, str):
            msg = f"job_id must be a str, got {type(job_id).__name__}"
            raise TypeError(msg)
        if not job_id:
            msg = "job_id must be a non-empty str, got ''"
            raise ValueError(msg)
        super().__init__(**kwargs)
        self._backend = backend
        self._job_id = job_id
        self._cond = threading.Condition(threading.Lock())
        self._lock = self._cond
        self._status = JobStatus.INITIALIZING
        self._changes = 0  # how many status changes were recorded, for stale queries
        self._submitted = False
        self._submitter: int | None = None
        self._pending: deque[list[tuple[str, Any]]] = deque()
        self._delivery = threading.RLock()
        self._deliverer: int | None = None
        self._done_callbacks: list[Callable[[BaseJob], Any]] = []
        self._cancel_requested = False
        self._stamped: set[str] = set()
        self._apply("created_at", time.time())

    # ------------------------------------------------------------------ reference API
    def job_id(self) -> str:
        """Return a unique id identifying the job."""
        return self._job_id

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
    def status(self) -> JobStatus:
        """Return the status of the job, among the values of ``JobStatus``."""

    def done(self) -> bool:
        """Return whether the job has successfully run."""
        return self.status() is JobStatus.DONE

    def running(self) -> bool:
        """Return whether the job is actively running."""
        return self.status() is JobStatus.RUNNING

    def cancelled(self) -> bool:
        """Return whether the job has been cancelled."""
        return self.status() is JobStatus.CANCELLED

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

        A query is one ``status()`` call. After each query, the one that finds the final
        state included, ``callback(job_id, job_status, job)`` is called with positional
        arguments. (The legacy qiskit loop never passed the final status to the callback;
        a monitor needs it, so this one does.) Between queries it waits up to ``wait``
        seconds, but wakes at once when the job's state changes, so a job whose backend
        pushes its states returns within milliseconds of its final state.

        Args:
            timeout: Seconds to wait for the job, measured from the call on a monotonic
                clock. If ``None``, wait indefinitely. The wait never runs past it, even
                when a ``status()`` query is slow.
            wait: Seconds between queries.
            callback: Callback function invoked after each query. Its exceptions
                propagate to the caller; the job is unaffected.

        Raises:
            JobTimeoutError: If the job does not reach a final state before the specified
                timeout.
        """
        deadline = self._deadline(timeout)
        _check_wait(wait)
        if callback is not None and not callable(callback):
            msg = f"callback must be callable with (job_id, job_status, job), got {callback!r}"
            raise TypeError(msg)
        while True:
            status = self._query(deadline, timeout)
            self._flush()
            if callback is not None:
                callback(self._job_id, status, self)
            if status in JOB_FINAL_STATES:
                return None
            delay = wait
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(timeout)
                delay = min(wait, remaining)
            with self._cond:
                if self._status is status:
                    self._cond.wait(delay)

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
        with self._cond:
            if self._status not in JOB_FINAL_STATES:
                self._done_callbacks.append(fn)
                return
        self._flush()
        self._call_guarded(fn, self)

    async def wait_async(self, timeout: float | None = None) -> JobStatus:
        """Wait for the final state without blocking the event loop; return that state.

        A job that can only be polled is queried by the shared poller meanwhile.

        Raises:
            JobTimeoutError: if the job is not final within ``timeout`` seconds.
        """
        self._deadline(timeout)
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
            raise self._timeout_error(timeout) from None
        finally:
            if unwatch is not None:
                unwatch()
        return self._status

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
            msg = f"job {self._job_id!r} was cancelled"
            raise JobCancelledError(msg)

    @property
    def cancel_requested(self) -> bool:
        """Whether ``cancel()`` was called on this job while it ran."""
        return self._cancel_requested

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
        with self._cond:
            if self._status in JOB_FINAL_STATES:
                return
            self._stamped.add("progress")
            self._pending.append([("progress", fraction)])
        self._flush()

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
        guards = self.__dict__.setdefault("_guards", {})
        guard = guards.get(handler)
        if guard is None:
            guard = guards[handler] = functools.partial(_guarded_observer, handler)
        with self._cond:  # _report decides under this lock whether anybody observes
            super().observe(guard, names=names, type=type)

    def unobserve(
        self,
        handler: Callable[..., Any],
        names: Any = traitlets.All,
        type: Any = "change",
    ) -> None:
        """Stop calling a handler given to ``observe``."""
        guards = self.__dict__.get("_guards", {})
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
        with self._cond:
            old = self._status
            if old in JOB_FINAL_STATES or status is old:
                return False
            if unless_changed_since is not None and unless_changed_since != self._changes:
                return False
            self._status = status
            self._changes += 1
            now = time.time()
            changes: list[tuple[str, Any]] = []
            stamped = self._stamped
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
            self._cond.notify_all()
            if not (self._trait_notifiers or self._pending or self._done_callbacks):
                # nobody observes this job: store the values, no delivery to order
                values = self._trait_values
                for name, value in changes:
                    values[name] = value
                return True
            self._pending.append(changes)
        self._flush()
        return True

    def _mark_submitted(self) -> None:
        with self._cond:
            if "submitted_at" in self._stamped:
                return
            self._stamped.add("submitted_at")
            self._pending.append([("submitted_at", time.time())])
        self._flush()

    def _wait_final(self, timeout: float | None) -> JobStatus:
        """Block until a final state (pushing jobs), or raise ``JobTimeoutError``."""
        deadline = self._deadline(timeout)
        with self._cond:
            while self._status not in JOB_FINAL_STATES:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise self._timeout_error(timeout)
                self._cond.wait(remaining)
            status = self._status
        self._flush()
        return status

    def _outcome(
        self, timeout: float | None, outcome: Callable[[], tuple[Any, BaseException | None]]
    ) -> Any:
        """Wait for the final state, then return the value or raise, as ``result()`` does.

        ``outcome()`` gives the job's value and original exception once it is final.
        """
        status = self._wait_final(timeout)
        value, exc = outcome()
        if status is JobStatus.CANCELLED:
            msg = f"job {self._job_id!r} was cancelled, so it has no result"
            raise JobError(msg)
        if status is JobStatus.ERROR:
            msg = f"job {self._job_id!r} failed: {self.error or 'unknown error'}"
            raise JobError(msg) from exc
        return value

    # -------------------------------------------------------------------- internals
    def _flush(self) -> None:
        """Deliver pending changes in order, unless this thread is already delivering."""
        me = threading.get_ident()
        if self._deliverer == me:
            return  # called from inside an observer: the outer loop delivers it next
        with self._delivery:
            self._deliverer = me
            try:
                while True:
                    with self._cond:
                        if not self._pending:
                            return
                        changes = self._pending.popleft()
                    final = False
                    for name, value in changes:
                        self._apply(name, value)
                        final = final or (name == "state" and value in JOB_FINAL_STATES)
                    if final:
                        with self._cond:
                            callbacks, self._done_callbacks = self._done_callbacks, []
                        for fn in callbacks:
                            self._call_guarded(fn, self)
            finally:
                self._deliverer = None
                interrupt = getattr(_deferred, "interrupt", None)
                if interrupt is not None:
                    # a KeyboardInterrupt (or SystemExit) in an observer: raised only
                    # now, once every change is delivered and every callback called
                    _deferred.interrupt = None
                    raise interrupt

    def _apply(self, name: str, value: Any) -> None:
        """Set one trait. Values made here are valid by construction, so a job that
        nobody observes stores them directly: a job costs little until it is watched."""
        if self._trait_notifiers:
            self.set_trait(name, value)
        else:
            self._trait_values[name] = value

    @staticmethod
    def _call_guarded(fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("jobwidgets: callback %r raised", fn)
        except BaseException as exc:
            _defer(exc)

    def _query(self, deadline: float | None, timeout: float | None) -> JobStatus:
        """One ``status()`` call that can't run past ``deadline``."""
        if deadline is None or self.pushes_status:
            return self.status()
        future = _query_pool.submit(self.status)
        try:
            return future.result(max(0.0, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            raise self._timeout_error(timeout) from None

    def _deadline(self, timeout: float | None) -> float | None:
        if timeout is None:
            return None
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            msg = f"timeout must be a number of seconds or None, got {timeout!r}"
            raise TypeError(msg)
        if math.isnan(timeout) or timeout < 0:
            msg = f"timeout must be >= 0 seconds or None, got {timeout!r}"
            raise ValueError(msg)
        return time.monotonic() + timeout

    def _timeout_error(self, timeout: float | None) -> JobTimeoutError:
        return JobTimeoutError(
            f"job {self._job_id!r} did not reach a final state within {timeout} s "
            f"(last status: {self._status.name})"
        )

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
        return (
            f"<{type(self).__name__} {self._job_id!r} backend={self._backend_name()!r} "
            f"status={self._status.name}>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """The ``text/plain`` rich repr: id, backend and status, on one line."""
        p.text(self._plain_text())

    def _plain_text(self) -> str:
        text = (
            f"{type(self).__name__} {self._job_id}  [{self._backend_name()}]  {self._status.name}"
        )
        if self._status is JobStatus.ERROR and self.error:
            text += f": {self.error}"
        return text


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


def _check_wait(wait: float) -> None:
    if isinstance(wait, bool) or not isinstance(wait, int | float):
        msg = f"wait must be a number of seconds > 0, got {wait!r}"
        raise TypeError(msg)
    if math.isnan(wait) or wait <= 0:
        msg = f"wait must be > 0 seconds, got {wait!r}"
        raise ValueError(msg)


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
