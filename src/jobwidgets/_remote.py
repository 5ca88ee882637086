"""The job as code running in another process sees it: ``current_job()`` there.

A process job (``LocalBackend(kind="process")``) and a Dask task run where the kernel's
``BaseJob`` is not. There, ``current_job()`` returns a ``RemoteJob``: a small proxy
with the methods a job's code uses (``set_progress``, ``raise_if_cancelled``,
``cancel_requested``, ``job_id``), whose output and log records are captured like a
thread job's. It forwards them over the channel its backend already has (the worker's
pipe, the workers' event topic), coalesced at the source:

- progress at most every ``PROGRESS_INTERVAL`` seconds (the last value always goes);
- log lines in batches, sent by the backend's flusher thread every ``LOG_INTERVAL``
  seconds, at most ``MAX_BATCH_LINES`` a batch (older ones are counted as cut).

Who owns what: the proxy's pending progress and log batch are guarded by its lock; the
job's thread writes them, and ``flush`` (the job's thread at the end, or the
backend's flusher thread meanwhile) sends them. ``send`` is called with the lock held,
so messages leave in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ._shown import shown
from .errors import JobCancelledError
from .logs import JobLog, LogLine

__all__ = ["MAX_BATCH_LINES", "RemoteJob", "RunningJob"]

PROGRESS_INTERVAL = 0.1
LOG_INTERVAL = 0.1
MAX_BATCH_LINES = 10_000
MAX_PROGRESS_TEXT = 200


@runtime_checkable
class RunningJob(Protocol):
    """What ``current_job()`` gives the code of a job, wherever it runs."""

    def job_id(self) -> str | None: ...
    def set_progress(self, fraction: float | None, text: str | None = None) -> None: ...
    def raise_if_cancelled(self) -> None: ...
    @property
    def cancel_requested(self) -> bool: ...


Send = Callable[[tuple[Any, ...]], None]
"""Sends ``("progress", fraction, text)`` or ``("log", [(time, stream, text)], cut)``."""


def check_progress(fraction: Any, text: Any) -> tuple[float | None, str | None]:
    """Validate ``set_progress``'s arguments, for ``BaseJob`` and ``RemoteJob`` alike."""
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            msg = (
                "fraction (the progress) must be a number from 0 to 1 or None, "
                f"got {shown(fraction)}"
            )
            raise TypeError(msg)
        if not 0 <= fraction <= 1:
            msg = f"fraction (the progress) must be between 0 and 1, got {shown(fraction)}"
            raise ValueError(msg)
        fraction = float(fraction)
    if text is not None:
        if not isinstance(text, str):
            msg = f"progress text must be a str or None, got {type(text).__name__}"
            raise TypeError(msg)
        text = text[:MAX_PROGRESS_TEXT]
    return fraction, text


class RemoteJob:
    """``current_job()`` in a worker process or a Dask task (see the module)."""

    def __init__(
        self,
        job_id: str,
        send: Send,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self._id = job_id
        self._send = send
        self._cancelled = cancelled
        self._lock = threading.Lock()
        self._progress: tuple[float | None, str | None] | None = None  # not yet sent
        self._progress_sent = 0.0
        self._buffer = JobLog(max_lines=MAX_BATCH_LINES, max_bytes=1 << 20)

    def job_id(self) -> str:
        return self._id

    @property
    def cancel_requested(self) -> bool:
        """Whether someone asked the job to stop (``cancel()`` in the kernel)."""
        return bool(self._cancelled())

    def raise_if_cancelled(self) -> None:
        """Raise ``JobCancelledError`` if someone asked this job to stop."""
        if self.cancel_requested:
            msg = f"job {self._id!r} was cancelled"
            raise JobCancelledError(msg)

    def set_progress(self, fraction: float | None, text: str | None = None) -> None:
        """Report progress (0..1 or None, and a short text); sent coalesced."""
        value = check_progress(fraction, text)
        with self._lock:
            self._progress = value
            if time.monotonic() - self._progress_sent >= PROGRESS_INTERVAL:
                self._send_progress()

    def _log(self, stream: str, text: str) -> None:
        """Text the job's code wrote to ``stream``; the backend's flusher sends it."""
        self._buffer.write(stream, text)

    def _log_lines(self, lines: list[LogLine], cut: int = 0) -> None:
        """Whole lines, such as logging records (from ``JobLogHandler``)."""
        self._buffer.extend(lines, cut)

    def _log_target(self) -> JobLog:
        """Where ``JobStream`` writes the job's output: the batch not yet sent."""
        return self._buffer

    def flush(self, *, end: bool = False) -> None:
        """Send what is pending now; ``end=True`` also sends unfinished lines."""
        with self._lock:
            if end:
                self._buffer.end()
            lines, cut = self._buffer.drain()
            if lines or cut:
                self._send(("log", [tuple(line) for line in lines], cut))
            due = time.monotonic() - self._progress_sent >= PROGRESS_INTERVAL
            if self._progress is not None and (end or due):
                self._send_progress()

    def _send_progress(self) -> None:
        fraction, text = self._progress  # type: ignore[misc]
        self._progress = None
        self._progress_sent = time.monotonic()
        self._send(("progress", fraction, text))


def forward(job: Any, message: tuple[Any, ...]) -> bool:
    """In the kernel: apply a proxy's message to the job; False if it isn't one."""
    kind = message[0] if message else None
    if kind == "progress" and len(message) == 3:
        fraction, text = check_progress(message[1], message[2])
        job.set_progress(fraction, text)
        return True
    if kind == "log" and len(message) == 3:
        lines = [LogLine(float(when), str(stream), str(text)) for when, stream, text in message[1]]
        job._log_lines(lines, int(message[2]))
        return True
    return False
