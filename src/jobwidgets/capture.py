"""Capture of what thread jobs print and log, into each job's ``JobLog``.

``job_started()`` puts a ``JobStream`` in front of ``sys.stdout`` and ``sys.stderr`` and,
while a thread job runs, a ``JobLogHandler`` on the root logger. A ``JobStream`` is a
``threading.local``: the thread that runs a job gets its own ``write``
(``JobLog.writer``), which appends to the job's log, for as long as the job runs; the
handler asks ``current_job()`` (a context variable, set by the same thread). Text written
while a job runs goes to that job's log, and all other text goes where it went before.
So two thread jobs printing at once keep separate logs. Process and Dask workers use the
same capture, into their stand-in job's batch.

Who owns what: each thread's ``write`` on a ``JobStream`` is that thread's own (set and
removed by the thread that runs the job); the root logger's handler and the count of
running capturing jobs are guarded by ``_installed``.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from .logs import LogLine

__all__ = ["JobLogHandler", "JobStream", "install", "job_started"]

STREAMS = ("stdout", "stderr")

_current: contextvars.ContextVar[Any] | None = None
"""``jobwidgets.job._current``, set by ``install`` (this module sits below job.py)."""


class JobStream(threading.local):
    """Stands in front of ``sys.stdout`` or ``sys.stderr``: a job's text goes to its log.

    A ``threading.local``: while a thread job runs, its thread has its own ``write``
    (``JobLog.writer``, installed by ``job_started``), found before the class's, so a
    job's ``print`` costs a lookup and a list append. In every other thread ``write``
    passes the text on to the stream that was there before.
    """

    def __init__(self, stream: str, target: TextIO) -> None:
        self.stream = stream
        self.target = target

    def write(self, text: str) -> int:
        return self.target.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.target.flush()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.target, "closed", False))

    @property
    def encoding(self) -> str:
        return str(getattr(self.target, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:  # what a kernel's stream has beyond TextIO
        return getattr(self.target, name)


io.TextIOBase.register(JobStream)


class JobLogHandler(logging.Handler):
    """On the root logger: a running job's records (INFO and up) go to its log.

    It sees the records that loggers let through: jobwidgets changes no logger's level
    (the root logger's default is WARNING; ``logging.getLogger("mine").setLevel("INFO")``
    lets a logger's INFO records reach the job's log). Outside a job it does what Python
    does when no handler is configured (records of WARNING and up go to ``sys.stderr``),
    unless other handlers are configured. Records also reach the handlers configured
    elsewhere; what those print to ``sys.stderr`` is captured as stderr.
    """

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        job = _current.get() if _current is not None else None
        if job is None:
            root = logging.getLogger()
            alone = all(handler is self for handler in root.handlers)
            last = logging.lastResort
            if alone and last is not None and record.levelno >= last.level:
                last.handle(record)
            return
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            lines = [LogLine(record.created, record.levelname, piece) for piece in text.split("\n")]
            job._log_lines(lines)
        except Exception:
            self.handleError(record)


_installed = threading.Lock()
_handler: JobLogHandler | None = None
_running = 0


def install(current: contextvars.ContextVar[Any]) -> None:
    """Tell this module where the running job is (``jobwidgets.job._current``)."""
    global _current
    _current = current


def _wrap_streams() -> None:
    """Put ``JobStream``s in front of ``sys.stdout`` and ``sys.stderr`` (idempotent).

    Done as each thread job starts, so a stream replaced meanwhile (a test runner's
    capture, ``contextlib.redirect_stdout``) is wrapped too.
    """
    for name in STREAMS:
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, JobStream):
            setattr(sys, name, JobStream(name, stream))


def job_started(job: Any, echo: bool) -> Callable[[], None]:
    """``job`` starts on this thread: capture its output; return what ends that.

    ``job`` is what ``current_job()`` returns there (a ``BaseJob`` or a ``RemoteJob``).

    The root logger has the ``JobLogHandler`` only while some thread job runs, so that
    ``logging.basicConfig()`` called outside jobs still configures logging.
    """
    global _handler, _running
    with _installed:
        _wrap_streams()
        _running += 1
        if _handler is None:
            _handler = JobLogHandler()
            logging.getLogger().addHandler(_handler)
    log = job._log_target()
    streams = [getattr(sys, name) for name in STREAMS]
    capturing = [stream for stream in streams if isinstance(stream, JobStream)]
    for stream in capturing:
        stream.write = log.writer(stream.stream, stream.target if echo else None)  # type: ignore[method-assign]

    def ended() -> None:
        global _handler, _running
        for stream in capturing:
            with contextlib.suppress(AttributeError):
                del stream.write  # this thread's: the class's write again
        with _installed:
            _running -= 1
            if _running == 0 and _handler is not None:
                logging.getLogger().removeHandler(_handler)
                _handler = None

    return ended
