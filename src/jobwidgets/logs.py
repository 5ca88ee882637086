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

from ._shown import shown

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
SETTLE_AT = 1024
"""How many written chunks wait, at most, before they become lines."""
TICK = 0.1
IDLE = 1.0
"""How long the log ticker's thread waits for work before it ends."""
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
            msg = (
                f"{name} must be an int >= 1 (how much of a job's log to keep), got {shown(value)}"
            )
            raise ValueError(msg) if isinstance(value, int) else TypeError(msg)
    return max_lines, max_bytes  # type: ignore[return-value]


class JobLog:
    """The bounded log of one job; safe from any thread.

    A write only appends ``(stream, text, time)`` to ``_raw`` (a deque: appends and
    pops are atomic, so writers take no lock). The chunks become lines in batches
    (``_settle``, under ``_lock``): when ``SETTLE_AT`` chunks wait, and before anything
    reads the lines. A line is stamped with the time of the write that began it.
    """

    __slots__ = (
        "_lock",
        "_partial",
        "_raw",
        "_total",
        "cut",
        "lines",
        "marked",
        "max_bytes",
        "max_lines",
        "notify",
        "size",
    )

    def __init__(
        self,
        max_lines: int = DEFAULT_MAX_LINES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        notify: Callable[[], None] | None = None,
    ):
        self.notify = notify
        """Called by the first write after ``marked`` was cleared (the job's ticker)."""
        self.marked = False
        self._lock = threading.Lock()
        self._raw: deque[tuple[str, str, float]] = deque()
        self._partial: dict[str, tuple[float, list[str]]] = {}
        self.lines: deque[LogLine] = deque()
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.size = 0
        self.cut = 0
        """How many lines were dropped from the head."""
        self._total = 0

    @property
    def total(self) -> int:
        """How many lines were written, cut ones included."""
        with self._lock:
            self._settle()
            return self._total

    def write(self, stream: str, text: str, when: float | None = None) -> None:
        """Add ``text`` written to ``stream``; a line without its end waits for the rest."""
        raw = self._raw
        raw.append((stream, text, time.time() if when is None else when))
        if len(raw) >= SETTLE_AT or not self.marked:
            self.after_write()

    def after_write(self) -> None:
        """After an append to ``_raw``: mark the job for its ticker, settle a full batch."""
        if not self.marked and self.notify is not None:
            self.marked = True
            self.notify()
        if len(self._raw) >= SETTLE_AT:
            with self._lock:
                self._settle()

    def extend(self, lines: Iterable[LogLine], cut: int = 0) -> None:
        """Add whole lines (from another process), and count lines cut on the way."""
        if not self.marked and self.notify is not None:
            self.marked = True
            self.notify()
        with self._lock:
            self._settle()
            self.cut += cut
            self._total += cut
            for line in lines:
                self._add(line)

    def end(self) -> None:
        """The job ended: keep the unfinished lines too."""
        with self._lock:
            self._settle()
            partial, self._partial = self._partial, {}
            for stream, (started, pieces) in partial.items():
                self._add(LogLine(started, stream, "".join(pieces)))

    def _settle(self) -> None:
        """Turn the chunks written so far into lines (``_lock`` held).

        Chunks come in runs of one stream; each run is joined and split once, and a
        line is stamped with the time of the chunk where it began.
        """
        raw, partials, add = self._raw, self._partial, self._add
        while raw:
            stream = raw[0][0]
            texts: list[str] = []
            starts: list[float] = []  # the time of each line's first chunk
            partial = partials.pop(stream, None)
            if partial is not None:
                starts.append(partial[0])
                texts.extend(partial[1])
            fresh = partial is None  # the next chunk begins a line
            while raw and raw[0][0] == stream:
                _, text, when = raw.popleft()
                if fresh:
                    starts.append(when)
                texts.append(text)
                count = text.count("\n")
                if count:
                    # lines that begin in this chunk after one of its ends
                    starts.extend([when] * (count - 1))
                    fresh = text.endswith("\n")
                    if not fresh:
                        starts.append(when)
                else:
                    fresh = False
            pieces = "".join(texts).split("\n")
            rest = pieces.pop()
            for started, piece in zip(starts, pieces, strict=False):
                add(LogLine(started, stream, piece.removesuffix("\r")))
            if rest:
                began = starts[-1] if starts else time.time()
                partials[stream] = (began, [rest[-self.max_bytes :]])

    def drain(self) -> tuple[list[LogLine], int]:
        """Take the kept lines and the count of cut ones, leaving the log empty."""
        with self._lock:
            self._settle()
            lines, cut = list(self.lines), self.cut
            self.lines.clear()
            self.size = self.cut = 0
            return lines, cut

    def records(self) -> list[LogLine]:
        with self._lock:
            self._settle()
            return list(self.lines)

    def tail(self, count: int) -> list[LogLine]:
        with self._lock:
            self._settle()
            start = max(0, len(self.lines) - count)
            return [self.lines[i] for i in range(start, len(self.lines))]

    def since(self, start: int, limit: int) -> tuple[int, list[LogLine], int]:
        """The kept lines from line number ``start`` on (lines are numbered from 0, cut
        ones included), at most the last ``limit`` of them: ``(number of the first line
        returned, lines, total)``. The first number is above ``start`` when lines were
        cut meanwhile or more than ``limit`` are new."""
        with self._lock:
            self._settle()
            total = self._total
            first = max(start, self.cut, total - limit)
            return first, [self.lines[i - self.cut] for i in range(first, total)], total

    def text(self) -> str:
        """The kept lines, one per line, with a first line saying how many were cut."""
        with self._lock:
            self._settle()
            lines = list(self.lines)
            cut = self.cut
        head = [f"[{cut} earlier lines cut: a job keeps the last lines of its log]"] if cut else []
        return "\n".join([*head, *(line.format() for line in lines)])

    def _add(self, line: LogLine) -> None:
        lines = self.lines
        lines.append(line)
        self._total += 1
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

    def notifier(self, job: BaseJob) -> Callable[[], None]:
        """What a job's ``JobLog`` calls to be marked (it holds the job weakly)."""
        ref = weakref.ref(job)

        def notify() -> None:
            found = ref()
            if found is not None:
                self.mark(found)

        return notify

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
        """Wake on a mark, wait ``TICK``, update the marked jobs; end after ``IDLE`` s
        without marks (``mark`` starts a new thread)."""
        while True:
            if not self._wake.wait(IDLE):
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        return
                continue
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
_sink: contextvars.ContextVar[tuple[JobLog, bool] | None] = contextvars.ContextVar(
    "jobwidgets_sink", default=None
)
"""The log that the running job's output goes to, and whether it is echoed too (set
with the job)."""
_now = time.time


class JobStream(io.TextIOBase):
    """Stands in front of ``sys.stdout`` or ``sys.stderr``: a job's text goes to its log."""

    def __init__(self, stream: str, target: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.target = target

    def write(self, text: str) -> int:
        sink = _sink.get()
        if sink is None:
            return self.target.write(text)
        if type(text) is not str and not isinstance(text, str):
            msg = f"write() argument must be str, not {type(text).__name__}"
            raise TypeError(msg)
        log, echo = sink
        raw = log._raw  # JobLog.write, inlined: this runs for every piece printed
        raw.append((self.stream, text, _now()))
        if len(raw) >= SETTLE_AT or not log.marked:
            log.after_write()
        if echo:
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
    sink = _sink.set((job._log_target(), echo))

    def ended() -> None:
        global _handler, _running
        _sink.reset(sink)
        with _installed:
            _running -= 1
            if _running == 0 and _handler is not None:
                logging.getLogger().removeHandler(_handler)
                _handler = None

    return ended
