"""The protocol between a job and its backend: the executor side of ``concurrent.futures``.

A backend (the code that runs jobs somewhere) tells a job what happened through one
protected entry point, ``_report``, and nothing else of the job's internals:

====================================  ==============================================
what happened                         the call
====================================  ==============================================
accepted, waiting                     ``_report(QUEUED)`` (or VALIDATING)
started                               ``if not _report(RUNNING): don't run it``
                                      (False: it was cancelled first, as
                                      ``Future.set_running_or_notify_cancel``)
returned a value                      ``_report(DONE, result=value)``
raised                                ``_report(ERROR, exception=exc)`` (message and
                                      traceback come from ``exc``; pass
                                      ``error_traceback=`` for a remote one)
stopped                               ``_report(CANCELLED)``
progress                              ``job.set_progress(fraction, text)``
printed or logged text                ``_log(stream, text)`` (``"stdout"``,
                                      ``"stderr"``), or whole lines from elsewhere:
                                      ``_log_lines(lines, cut)``
====================================  ==============================================
 The job's own subclass (``LocalJob``, ``DaskJob``,
...) uses the other methods: its ``cancel()`` returns ``_cancel_with(stop)``, the one
place that decides what ``cancel()`` returns; its ``result()`` returns ``_outcome()``.

Every method is safe from any thread. The job's state lives in its ``_JobCore``
(``jobwidgets._jobcore``), under the core's lock; observers run after the lock is
released, on the reporting thread (or the thread already delivering that job's changes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ._jobcore import CancelAttempt, core, label
from .errors import JobError
from .logs import JobLog, LogLine
from .status import JobStatus

if TYPE_CHECKING:
    from .job import BaseJob

__all__ = ["CancelAttempt", "ForBackends"]


class ForBackends:
    """The protected methods that every ``BaseJob`` has for its backend (see the module)."""

    __slots__ = ()

    def _report(
        self,
        status: JobStatus,
        *,
        result: Any = None,
        exception: BaseException | None = None,
        error: str | None = None,
        error_traceback: str | None = None,
        unless_changed_since: int | None = None,
    ) -> bool:
        """The one entry point for backends: record what happened to the job.

        Returns False if it changed nothing: the same status again, or anything after a
        final state (so a RUNNING that returns False means "cancelled before it could
        start: don't run it", as ``Future.set_running_or_notify_cancel``).

        Args:
            status: the new status.
            result: with DONE, the value ``result()`` returns.
            exception: with ERROR (or CANCELLED), the original exception; ``error`` and
                ``error_traceback`` are derived from it unless given (a remote
                traceback: pass ``format_exception(exc, tb)``'s text).
            error: with a final status, the failure's message.
            error_traceback: with a final status, the failure's traceback as text.
            unless_changed_since: a count of changes read before a ``status()`` query:
                a status learned by that query is dropped if a change came meanwhile.

        Safe from any thread. Observers are called after the lock is released, on the
        calling thread (or on the thread already delivering this job's changes).
        Progress and log lines are separate: ``set_progress()``.
        """
        return core(self).report(
            self,  # type: ignore[arg-type]
            status,
            result=result,
            exception=exception,
            error=error,
            error_traceback=error_traceback,
            unless_changed_since=unless_changed_since,
        )

    def _cancel_with(self, stop: Callable[[], CancelAttempt]) -> bool:
        """What ``cancel()`` returns, decided in one place (``Future.cancel``'s table).

        ========================  ==============================================
        state                     ``cancel()``
        ========================  ==============================================
        CANCELLED                 True (again), ``stop`` is not called
        DONE, ERROR               False, ``stop`` is not called
        not final                 records the request (``cancel_requested``),
                                  then calls ``stop()``:
        - ``STOPPED``             reports CANCELLED now; True
        - ``STOPPING``            True; the backend reports CANCELLED when done
        - ``NOT_STOPPED``         True only if the job is CANCELLED by then
        ========================  ==============================================

        ``stop`` runs on the caller's thread without the job's lock held.
        """
        return core(self).cancel(_job(self), stop)

    def _log(self, stream: str, text: str) -> None:
        """Add text that the job's code wrote to ``stream`` to its log (any thread)."""
        self._log_target().write(stream, text)

    def _log_lines(self, lines: list[LogLine], cut: int = 0) -> None:
        """Add whole lines to the job's log, and how many were cut before they came."""
        self._log_target().extend(lines, cut)

    def _log_target(self) -> JobLog:
        """The job's log (made on first use), for the capture of its output."""
        return core(self).job_log(_job(self))

    def _set_log_bounds(self, max_lines: int, max_bytes: int) -> None:
        """Keep at most ``max_lines`` lines (and about ``max_bytes``) of the job's log."""
        log = self._log_target()
        log.max_lines, log.max_bytes = max_lines, max_bytes

    def _log_count_changed(self) -> None:
        """For the log ticker: bring ``log_lines`` up to date."""
        core(self).log_count_changed(_job(self))

    def _recorded_status(self) -> JobStatus:
        """The status last recorded (pushed, or found by a query), without a query."""
        return core(self).status

    def _recorded_exception(self) -> BaseException | None:
        """The exception given with the final report, if any (None before the end)."""
        return core(self).exception

    def _wait_final(self, timeout: float | None) -> JobStatus:
        """Block until a final state (pushing jobs), or raise ``JobTimeoutError``."""
        return core(self).wait_final(_job(self), timeout)

    def _outcome(self, timeout: float | None, value: Callable[[], Any] | None = None) -> Any:
        """Wait for the final state, then return the value or raise, as ``result()`` does.

        The value is the ``result=`` of the DONE report, or what ``value()`` returns
        (a backend that fetches it only when asked). A failure raises ``JobError``,
        chained from the reported exception.
        """
        state = core(self)
        status = state.wait_final(_job(self), timeout)
        if status is JobStatus.CANCELLED:
            msg = f"job {label(_job(self))} was cancelled, so it has no result"
            raise JobError(msg)
        if status is JobStatus.ERROR:
            msg = f"job {label(_job(self))} failed: {_job(self).error or 'unknown error'}"
            raise JobError(msg) from state.exception
        return state.value if value is None else value()


def _job(mixin: ForBackends) -> BaseJob:
    """The job whose method runs (every ``ForBackends`` is a ``BaseJob``)."""
    return cast("BaseJob", mixin)
