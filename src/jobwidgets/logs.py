"""What a job's code prints and logs, kept per job and bounded: ``job.logs()``.

A backend hands text to its job through ``BaseJob._log(stream, text)``: thread jobs
through the capture below, process and Dask jobs through their channel to the kernel.
Lines are kept in a ``JobLog``: the last ``max_lines`` lines, or fewer when their size
passes ``max_bytes``; the head is marked as cut.

Capture in this process (thread jobs): ``job_started()`` puts a ``JobStream`` in front of
``sys.stdout`` and ``sys.stderr`` and, while a thread job runs, a ``JobLogHandler`` on
the root logger. Each one asks ``current_job()`` (a context variable, set by the thread
that runs the job): text written while a job runs goes to that job's log, and all other
text goes where it went before. So two thread jobs printing at once keep separate logs.

Who owns what: a ``JobLog`` is guarded by its own lock (any thread writes, any reads).
The job's ``log_lines`` trait (how many lines were written, cut ones included) is set by
the job's delivery like every trait; a write only marks the job, and one ticker thread
per process sets the counts of marked jobs at most ``TICK`` seconds apart, so printing a
line never costs a trait change.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

if TYPE_CHECKING:
    from .job import BaseJob

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINES",
    "JobLog",
    "JobLogHandler",
    "JobStream",
    "LogLine",
    "check_log_bounds",
    "install",
]

DEFAULT_MAX_LINES = 10_000
DEFAULT_MAX_BYTES = 1 << 20
LINE_COST = 64
"""What a kept line counts against ``max_bytes`` beyond its characters (its record)."""
TICK = 0.1
"""The least time between two updates of one job's ``log_lines``."""
STREAMS = ("stdout", "stderr")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogLine(NamedTuple):
    """One line of a job's log."""

    time: float
    """When it was written (epoch seconds)."""
    stream: str
    """``"stdout"``, ``"stderr"``, or the level name of a ``logging`` record."""
    text: str
    """The line, without its end of line."""

    def format(self) -> str:
        """The line as ``logs()`` shows it: ``12:00:01.250 stdout   text``."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.time))
        millis = int(self.time % 1 * 1000)
        return f"{stamp}.{millis:03d} {self.stream:<8} {self.text}"


def check_log_bounds(max_lines: object, max_bytes: object) -> tuple[int, int]:
    """Validate the bounds a backend passes on to its jobs' logs."""
    for name, value in (("max_log_lines", max_lines), ("max_log_bytes", max_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"{name} must be an int >= 1 (how much of a job's log to keep), got {value!r}"
            raise ValueError(msg) if isinstance(value, int) else TypeError(msg)
    return max_lines, max_bytes  # type: ignore[return-value]


class JobLog:
    """The bounded log of one job; safe from any thread."""

    __slots__ = ("_lock", "_partial", "cut", "lines", "max_bytes", "max_lines", "size", "total")

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES, max_bytes: int = DEFAULT_MAX_BYTES):
        self._lock = threading.Lock()
        self.lines: deque[LogLine] = deque()
        self._partial: dict[str, tuple[float, list[str]]] = {}
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.size = 0
        self.cut = 0
        """How many lines were dropped from the head."""
        self.total = 0
        """How many lines were written, cut ones included."""

    def write(self, stream: str, text: str, when: float | None = None) -> None:
        """Add ``text`` written to ``stream``; a line without its end waits for the rest."""
        if "\n" not in text:  # print() writes its pieces one by one: gather them
            # without the lock: a stream's pieces come from the one thread of its job,
            # and each step here is atomic
            partial = self._partial.get(stream)
            if partial is None:
                self._partial[stream] = (time.time() if when is None else when, [text])
            else:
                pieces = partial[1]
                pieces.append(text)
                if len(pieces) > 256:  # a line that never ends: keep its tail
                    pieces[:] = ["".join(pieces)[-self.max_bytes :]]
            return
        if text == "\n":  # the end of a print(): the usual case, made short
            partial = self._partial.pop(stream, None)
            if partial is None:
                line = LogLine(time.time() if when is None else when, stream, "")
            else:
                line = LogLine(partial[0], stream, "".join(partial[1]).removesuffix("\r"))
            with self._lock:
                self._add(line)
            return
        with self._lock:
            partial = self._partial.get(stream)
            now = time.time() if when is None else when
            started = now
            if partial is not None:
                del self._partial[stream]
                started = partial[0]
                text = "".join(partial[1]) + text
            pieces = text.split("\n")
            rest = pieces.pop()
            for piece in pieces:
                self._add(LogLine(started, stream, piece.removesuffix("\r")))
                started = now
            if rest:
                self._partial[stream] = (now, [rest[-self.max_bytes :]])

    def extend(self, lines: Iterable[LogLine], cut: int = 0) -> None:
        """Add whole lines (from another process), and count lines cut on the way."""
        with self._lock:
            self.cut += cut
            self.total += cut
            for line in lines:
                self._add(line)

    def end(self) -> None:
        """The job ended: keep the unfinished lines too."""
        with self._lock:
            partial, self._partial = self._partial, {}
            for stream, (started, pieces) in partial.items():
                self._add(LogLine(started, stream, "".join(pieces)))

    def drain(self) -> tuple[list[LogLine], int]:
        """Take the kept lines and the count of cut ones, leaving the log empty."""
        with self._lock:
            lines, cut = list(self.lines), self.cut
            self.lines.clear()
            self.size = self.cut = 0
            return lines, cut

    def records(self) -> list[LogLine]:
        with self._lock:
            return list(self.lines)

    def tail(self, count: int) -> list[LogLine]:
        with self._lock:
            start = max(0, len(self.lines) - count)
            return [self.lines[i] for i in range(start, len(self.lines))]

    def since(self, start: int, limit: int) -> tuple[int, list[LogLine], int]:
        """The kept lines from line number ``start`` on (lines are numbered from 0, cut
        ones included), at most the last ``limit`` of them: ``(number of the first line
        returned, lines, total)``. The first number is above ``start`` when lines were
        cut meanwhile or more than ``limit`` are new."""
        with self._lock:
            total = self.total
            first = max(start, self.cut, total - limit)
            return first, [self.lines[i - self.cut] for i in range(first, total)], total

    def text(self) -> str:
        """The kept lines, one per line, with a first line saying how many were cut."""
        with self._lock:
            lines = list(self.lines)
            cut = self.cut
        head = [f"[{cut} earlier lines cut: a job keeps the last lines of its log]"] if cut else []
        return "\n".join([*head, *(line.format() for line in lines)])

    def _add(self, line: LogLine) -> None:
        lines = self.lines
        lines.append(line)
        self.total += 1
        self.size += len(line[2]) + LINE_COST
        if len(lines) <= self.max_lines and self.size <= self.max_bytes:
            return
        while len(lines) > self.max_lines or (self.size > self.max_bytes and len(lines) > 1):
            dropped = lines.popleft()
            self.size -= len(dropped.text) + LINE_COST
            self.cut += 1


# --------------------------------------------------------------- the ticker
class _Ticker:
    """One daemon thread per process: sets ``log_lines`` of the jobs written to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._marked: weakref.WeakSet[BaseJob] = weakref.WeakSet()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self, job: BaseJob) -> None:
        with self._lock:
            self._marked.add(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="jobwidgets-logs", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(TICK)
            with self._lock:
                self._wake.clear()
                jobs, self._marked = list(self._marked), weakref.WeakSet()
            for job in jobs:
                try:
                    job._log_count_changed()  # clears the job's mark first
                except Exception:  # never let one job stop the logs of the others
                    logging.getLogger("jobwidgets").exception(
                        "jobwidgets: could not update the log count of a job"
                    )


ticker = _Ticker()


# --------------------------------------------------------------- capture
_current: contextvars.ContextVar[Any] | None = None
"""``jobwidgets.job._current``, set by ``install`` (this module sits below job.py)."""
_echo: contextvars.ContextVar[bool] = contextvars.ContextVar("jobwidgets_echo", default=False)
"""Whether the running job's output also goes where it went before (set with the job)."""


class JobStream(io.TextIOBase):
    """Stands in front of ``sys.stdout`` or ``sys.stderr``: a job's text goes to its log."""

    def __init__(self, stream: str, target: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.target = target

    def write(self, text: str) -> int:
        job = _current.get() if _current is not None else None
        if job is None:
            return self.target.write(text)
        if not isinstance(text, str):
            msg = f"write() argument must be str, not {type(text).__name__}"
            raise TypeError(msg)
        job._log(self.stream, text)
        if _echo.get():
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.target, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:  # what a kernel's stream has beyond TextIO
        return getattr(self.target, name)


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


def job_started(echo: bool) -> Callable[[], None]:
    """A thread job starts on this thread: capture its output; return what ends that.

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
    token = _echo.set(echo)

    def ended() -> None:
        global _handler, _running
        _echo.reset(token)
        with _installed:
            _running -= 1
            if _running == 0 and _handler is not None:
                logging.getLogger().removeHandler(_handler)
                _handler = None

    return ended
