"""``BaseJob``: the API of qiskit's legacy ``BaseJob``, with an observable status.

This module is the public face of a job. Its parts live in private modules:

- ``jobwidgets._jobcore``: the state machine (``_JobCore``), its lock, the ordered
  delivery of changes to observers, and the cancel truth table;
- ``jobwidgets._waiting``: ``wait_for_final_state``'s loop and ``wait_async``;
- ``jobwidgets._subclass``: the metaclass and the wrappers that keep a third-party
  subclass observable.

Third-party subclasses written for the legacy class keep attributes of their own
(``_status``, ``_lock``, ``_submitted``, ...). So, apart from the legacy ``_backend`` and
``_job_id``, a job keeps all of its internal state in one object under the attribute
``_jobwidgets`` (a ``_JobCore``), and the machinery calls that object, never a method a
subclass could have overridden by accident.

Backends talk to their jobs through one protected entry point, ``BaseJob._report``;
their jobs' ``cancel()`` goes through ``BaseJob._cancel_with``. See "For backends" in
``BaseJob``'s docstring.
"""

from __future__ import annotations

import abc
import contextvars
import functools
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any, ClassVar

import traitlets

from . import _waiting
from ._jobcore import (
    NO_ID_YET,
    CancelAttempt,
    _JobCore,
    apply,
    call_guarded,
    core,
    format_exception,
    guarded_observer,
    label,
)
from ._protocol import ForBackends
from ._remote import RunningJob, check_progress
from ._shown import shown
from ._subclass import _JobMeta, checked_status, checked_submit
from ._tags import TagsTrait
from ._waiting import JobCallback
from .capture import install as _install_capture
from .errors import JobCancelledError, JobError
from .logs import LogLine
from .registry import JobRegistry, default_registry
from .status import JOB_FINAL_STATES, JobStatus

__all__ = [
    "NO_ID_YET",
    "BaseJob",
    "CancelAttempt",
    "JobCallback",
    "current_job",
    "display_id",
    "format_exception",
    "wire_id",
]

_check_wait = _waiting.check_wait  # the monitor checks its interval with it


def display_id(job: BaseJob) -> str:
    """The job's id as text for a view; ``NO_ID_YET`` while it has none."""
    job_id = job.job_id()
    return NO_ID_YET if job_id is None else str(job_id)


def wire_id(job: BaseJob) -> str | None:
    """The job's id as sent to a front end: a str, or None while it has none."""
    job_id = job.job_id()
    return None if job_id is None else str(job_id)


class BaseJob(traitlets.HasTraits, ForBackends, metaclass=_JobMeta):
    """Class to handle asynchronous jobs, with the API of ``qiskit.providers.BaseJob``.

    Subclasses implement ``cancel()``, ``result()``, ``status()`` and ``submit()``.
    Whatever ``status()`` returns is reflected in the trait ``state``, so
    ``job.observe(fn, "state")`` works for any subclass. As in the legacy class, a
    subclass reads ``self._backend`` and ``self._job_id``, and may keep any other
    attribute of its own (``self._status`` included): jobwidgets' internal state lives
    elsewhere.

    Backends that know when their jobs change set ``pushes_status = True``. A job joins
    ``job_registry`` when it is constructed; see there to use another registry.

    Backends tell a job what happened through one protected entry point,
    ``_report``, and a subclass's ``cancel()`` returns ``_cancel_with(stop)``: see
    ``jobwidgets._protocol.ForBackends``, whose methods every job has.
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
    progress_text = traitlets.Unicode(
        None, allow_none=True, help='A short note on the progress, such as "340/1000 files".'
    )
    log_lines = traitlets.Int(
        0, help="How many lines the job printed or logged so far (cut ones included)."
    )
    tags = TagsTrait(
        help="Short labels to filter and group jobs by (a tuple of str); may be set any "
        "time, from any thread: views update live."
    )
    resubmitted_from = traitlets.Unicode(
        None, allow_none=True, help="The id of the job this one re-runs (``resubmit()``)."
    )

    job_registry: ClassVar[JobRegistry | None] = default_registry
    """The registry a new job joins once constructed: the process-wide one
    (``jobwidgets.registry.default_registry``), which the job table, the panel and
    ``%job_watcher`` follow. A subclass (or an instance, before ``BaseJob.__init__``
    returns) may set another ``JobRegistry``, or None to join none."""

    _jobwidgets: _JobCore

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        status = cls.__dict__.get("status")
        if callable(status) and not getattr(status, "_jobwidgets_wrapped", False):
            cls.status = checked_status(status)  # type: ignore[method-assign,assignment]
        submit = cls.__dict__.get("submit")
        if callable(submit) and not getattr(submit, "_jobwidgets_wrapped", False):
            cls.submit = checked_submit(submit)  # type: ignore[method-assign,assignment]

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
                f"got {type(job_id).__name__}: pass str({shown(job_id)}) if that is its id"
            )
            raise TypeError(msg)
        if job_id == "":
            msg = "job_id must be a non-empty str (or None until the job has an id), got ''"
            raise ValueError(msg)
        super().__init__(**kwargs)
        self._backend = backend
        self._job_id = job_id
        apply(self, "created_at", time.time())

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
                clock. If ``None`` (or ``inf``), wait indefinitely. The wait never runs
                past it, even when a ``status()`` query is slow.
            wait: Seconds between queries, ``>= 0`` (``inf``: query once, then wait
                for a push).
            callback: Callback function invoked after each query. Its exceptions
                propagate to the caller; the job is unaffected.

        Raises:
            JobTimeoutError: If the job does not reach a final state before the specified
                timeout.
        """
        _waiting.wait_for_final_state(self, timeout, wait, callback)

    # ------------------------------------------------------------ beyond the reference
    def add_done_callback(self, fn: Callable[[BaseJob], Any]) -> None:
        """Call ``fn(job)`` when the job reaches a final state, or now if it already has.

        As with ``concurrent.futures.Future``, callbacks run in the order they were added,
        on the thread that finished the job, and one that raises is logged and ignored.
        A job that can only be polled calls them when a query finds its final state.
        """
        if not callable(fn):
            msg = f"fn must be a callable taking the job (add_done_callback), got {shown(fn)}"
            raise TypeError(msg)
        state = core(self)
        with state.lock:
            if state.status not in JOB_FINAL_STATES:
                state.done_callbacks.append(fn)
                return
        state.settle(self)
        call_guarded(fn, self)

    async def wait_async(self, timeout: float | None = None) -> JobStatus:
        """Wait for the final state without blocking the event loop; return that state.

        A job that can only be polled is queried by the shared poller meanwhile.

        Raises:
            JobTimeoutError: if the job is not final within ``timeout`` seconds.
        """
        return await _waiting.wait_async(self, timeout)

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
            msg = f"job {label(self)} was cancelled"
            raise JobCancelledError(msg)

    @property
    def cancel_requested(self) -> bool:
        """Whether ``cancel()`` was called on this job while it ran."""
        return core(self).cancel_requested

    def set_progress(self, fraction: float | None, text: str | None = None) -> None:
        """Report how much of the job is done, from 0 to 1 (or None when unknown).

        ``text`` is a short note shown beside the bar, such as ``"340/1000 files"``
        (cut to 200 characters).
        """
        fraction, text = check_progress(fraction, text)
        core(self).set_progress(self, fraction, text)

    def logs(self) -> str:
        """What the job's code printed and logged so far, one line each, stamped.

        Each line shows its time, its stream (``stdout``, ``stderr``) or log level, and
        its text. A job keeps the last lines of its log (10,000 lines or about 1 MiB by
        default, set per backend); a first line says how many earlier ones were cut.
        """
        log = core(self).log
        return "" if log is None else log.text()

    def log_records(self) -> list[LogLine]:
        """The lines of ``logs()`` as records (time, stream or level, text)."""
        log = core(self).log
        return [] if log is None else log.records()

    def resubmit(self) -> BaseJob:
        """Run the job again: a new job on the same backend, with the same function,
        arguments and tags, already submitted; its ``resubmitted_from`` is this job's id.

        Jobs of ``LocalBackend`` (threads and processes), ``DaskBackend`` and
        ``SimulatedBackend`` can; the job may be in any state.

        Raises:
            JobError: this kind of job can't be run again (its backend does not know how
                to: a third-party ``BaseJob``, a Qiskit job), or its backend is closed.
        """
        msg = (
            f"job {label(self)} can't be resubmitted: {type(self).__name__} jobs don't know "
            "how to run again (jobs of LocalBackend, DaskBackend and SimulatedBackend do); "
            "submit a new job to its backend instead"
        )
        raise JobError(msg)

    def _can_resubmit(self) -> bool:
        """Whether ``resubmit()`` would try to run the job again (its backend knows how,
        and is open). Views offer "Retry" for such jobs once they failed or were cancelled.
        A subclass that overrides ``resubmit`` is taken to know how."""
        return type(self).resubmit is not BaseJob.resubmit

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
        names = _check_observer(handler, names, type)
        state = core(self)
        guard = state.guards.get(handler)
        if guard is None:
            guard = state.guards[handler] = functools.partial(guarded_observer, handler)
        with state.lock:  # report() decides under this lock whether anybody observes
            super().observe(guard, names=names, type=type)

    def unobserve(
        self,
        handler: Callable[..., Any],
        names: Any = traitlets.All,
        type: Any = "change",
    ) -> None:
        """Stop calling a handler given to ``observe``."""
        guards = core(self).guards
        names = _check_names(names)
        super().unobserve(guards.get(handler, handler), names=names, type=type)

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


def _check_observer(handler: object, names: Any, type: object) -> Any:
    """``names`` for traitlets (an iterable as a list), once every argument is checked.

    Refuses what traitlets would take without a word (a handler that can't be called)
    or fail on without naming it (``names=5``, an unhashable ``type``)."""
    if not callable(handler):
        msg = f"handler must be a callable taking the change, got {shown(handler)}"
        raise TypeError(msg)
    names = _check_names(names)
    if type is not traitlets.All and not isinstance(type, str):
        msg = f"type must be 'change' or traitlets.All, got {shown(type)}"
        raise TypeError(msg)
    return names


def _check_names(names: Any) -> Any:
    """``names`` for traitlets: ``All``, a str, or a list of them, each once (traitlets'
    ``unobserve`` raises ``ValueError`` for a name given twice)."""
    if names is traitlets.All or isinstance(names, str):
        return names
    if isinstance(names, bytes | bytearray) or not isinstance(names, Iterable):
        msg = f"names must be a trait name, a list of them, or traitlets.All, got {shown(names)}"
        raise TypeError(msg)
    names = list(names)
    for name in names:
        if name is not traitlets.All and not isinstance(name, str):
            msg = f"names must hold trait names (str), got {shown(name)} in {shown(names)}"
            raise TypeError(msg)
    return list(dict.fromkeys(names))


_current: contextvars.ContextVar[RunningJob | None] = contextvars.ContextVar(
    "jobwidgets_current_job", default=None
)


_install_capture(_current)


def current_job() -> RunningJob | None:
    """The job whose code is running here, or None outside a job.

    In a thread job it is the job itself. In a process job and in a Dask task it is a
    ``RemoteJob``: a small stand-in that forwards progress and output to the kernel's
    job. Either way the code of a job can::

        job = jobwidgets.current_job()
        for i, chunk in enumerate(work):
            job.raise_if_cancelled()          # honour cancel()
            ...
            job.set_progress((i + 1) / len(work), f"{i + 1}/{len(work)} chunks")
    """
    return _current.get()
