"""What a job's code prints and logs, kept per job and bounded: ``job.logs()``.

A backend hands text to its job through ``BaseJob._log(stream, text)``: thread jobs
through ``jobwidgets.capture``, process and Dask jobs through their channel to the
kernel. Lines are kept in a ``JobLog``: the last ``max_lines`` lines, or fewer when their
size passes ``max_bytes``; the head is marked as cut.

Who owns what: a ``JobLog`` is guarded by its own lock (any thread writes, any reads).
The job's ``log_lines`` trait (how many lines were written, cut ones included) is set by
the job's delivery like every trait; a write only marks the job, and one ticker thread
per process sets the counts of marked jobs at most ``TICK`` seconds apart, so printing a
line never costs a trait change.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from itertools import chain, islice, repeat
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from ._shown import shown

if TYPE_CHECKING:
    from .job import BaseJob

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINES",
    "JobLog",
    "LogLine",
    "check_log_bounds",
    "ticker",
]

DEFAULT_MAX_LINES = 10_000
DEFAULT_MAX_BYTES = 1 << 20
LINE_COST = 64
"""What a kept line counts against ``max_bytes`` beyond its characters (its record)."""
SETTLE_AT = 1024
"""How many written chunks wait, at most, before they become lines."""
TICK = 0.1
"""The least time between two updates of one job's ``log_lines``."""
IDLE = 1.0
"""How long the log ticker's thread waits for work before it ends."""


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

    Writes take no lock: they append to ``_raw``, a list (appends are atomic), and the
    chunks become lines in batches (``_settle``, under ``_lock``): when ``SETTLE_AT``
    items wait, when the ticker comes, and before anything reads the lines. ``_raw``
    holds three kinds of items, in the order they were written:

    - ``(stream, time)``: the text after it was written to ``stream``, from ``time`` on;
    - ``text`` (a ``str``): text of the stream named by the last such pair;
    - ``(stream, text, time)``: one piece of text on its own (``write``).

    A capture's writer (``writer``) adds a pair only when ``_raw`` is empty or the
    stream changes, so a burst of writes costs one list append each, and a line is
    stamped with the time its batch began: exact for a job that prints now and then,
    within ``TICK`` (the ticker settles marked logs that often) for one that prints
    without pause.

    Who owns what: ``_raw`` is appended to by any thread and taken from only under
    ``_lock``; ``_owner`` (the stream of the last pair) is the writing thread's;
    everything else is read and written under ``_lock``.
    """

    __slots__ = (
        "_current",
        "_lock",
        "_max_lines",
        "_owner",
        "_partial",
        "_raw",
        "_streams",
        "_texts",
        "_times",
        "_total",
        "cut",
        "marked",
        "max_bytes",
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
        self._raw: list[Any] = []
        self._owner: str | None = None
        self._current: tuple[str, float] = ("stdout", 0.0)
        """The last ``(stream, time)`` pair that ``_settle`` took."""
        self._partial: dict[str, tuple[float, str]] = {}
        self._max_lines = max_lines
        self._times: deque[float] = deque(maxlen=max_lines)
        self._streams: deque[str] = deque(maxlen=max_lines)
        self._texts: deque[str] = deque(maxlen=max_lines)
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

    def writer(self, stream: str, echo: TextIO | None = None) -> Callable[[str], int]:
        """A ``write(text)`` for one thread's ``stream`` (``JobStream`` installs it).

        It checks ``text`` as a text stream does, returns its length, and copies it to
        ``echo`` too when given.
        """
        raw, now, append, log = self._raw, time.time, self._raw.append, self

        def write(text: str) -> int:
            if text.__class__ is not str:
                text = _as_text(text)
            if log._owner is not stream or not raw:
                log._begin(stream, now())
            append(text)
            if len(raw) >= SETTLE_AT:
                log.settle()
            return len(text)

        if echo is None:
            return write

        def write_and_echo(text: str) -> int:
            written = write(text)
            echo.write(text)
            return written

        return write_and_echo

    def _begin(self, stream: str, when: float) -> None:
        """A writer's text for ``stream`` follows, from ``when`` on: mark the job."""
        self._raw.append((stream, when))
        self._owner = stream
        if not self.marked:
            self.after_write()

    def after_write(self) -> None:
        """After an append to ``_raw``: mark the job for its ticker, settle a full batch."""
        if not self.marked and self.notify is not None:
            self.marked = True
            self.notify()
        if len(self._raw) >= SETTLE_AT:
            self.settle()

    def settle(self) -> None:
        """Turn the text written so far into lines."""
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
            added = list(lines)
            self._total += len(added)
            if len(added) > self._max_lines:
                self.cut += len(added) - self._max_lines
                added = added[-self._max_lines :]
            self._keep(
                [line[0] for line in added],
                [line[1] for line in added],
                [line[2] for line in added],
            )

    def end(self) -> None:
        """The job ended: keep the unfinished lines too."""
        with self._lock:
            self._settle()
            partial, self._partial = self._partial, {}
            self._total += len(partial)
            self._keep(
                [started for started, _ in partial.values()],
                list(partial),
                [text for _, text in partial.values()],
            )

    def _settle(self) -> None:
        """Turn the items written so far into lines (``_lock`` held).

        Runs of text are joined and split once each, whatever the number of writes.
        """
        raw = self._raw
        count = len(raw)
        if not count:
            return
        items = raw[:count]
        del raw[:count]  # what was appended meanwhile stays, in order
        stream, when = self._current
        if items[0].__class__ is str:  # written while the last batch was taken
            when = time.time()
        at = 0
        while at < count:
            item = items[at]
            if item.__class__ is str:
                try:
                    text, stop = "".join(items[at:]), count
                except TypeError:  # a pair or a piece further on
                    stop = at + 1
                    while items[stop].__class__ is str:
                        stop += 1
                    text = "".join(items[at:stop])
                self._text(stream, when, text)
                at = stop
            elif len(item) == 2:
                stream, when = item
                at += 1
            else:
                self._text(item[0], item[2], item[1])
                at += 1
        self._current = (stream, when)
        if raw and not self.marked and self.notify is not None:
            self.marked = True  # written meanwhile: the ticker comes back for it
            self.notify()

    def _text(self, stream: str, when: float, text: str) -> None:
        """Add ``text`` written to ``stream`` from ``when`` on (``_lock`` held)."""
        partial = self._partial.pop(stream, None)
        if "\n" not in text:
            if partial is not None:
                self._partial[stream] = (partial[0], (partial[1] + text)[-self.max_bytes :])
            elif text:
                self._partial[stream] = (when, text[-self.max_bytes :])
            return
        pieces = text.split("\n")
        rest = pieces.pop()
        first = when
        if partial is not None:
            first = partial[0]
            pieces[0] = partial[1] + pieces[0]
        if "\r" in text or (partial is not None and "\r" in partial[1]):
            pieces = [piece.removesuffix("\r") for piece in pieces]
        self._total += len(pieces)
        if len(pieces) > self._max_lines:  # only the last ones are kept: make only those
            dropped = len(pieces) - self._max_lines
            del pieces[:dropped]
            self.cut += dropped
            first = when
        times: Iterable[float] = repeat(when, len(pieces))
        if first != when:  # the first line began in an earlier batch
            times = chain([first], repeat(when, len(pieces) - 1))
        self._keep(times, repeat(stream, len(pieces)), pieces)
        if rest:
            self._partial[stream] = (when, rest[-self.max_bytes :])

    def _keep(self, times: Iterable[float], streams: Iterable[str], texts: list[str]) -> None:
        """Append lines (already counted in ``_total``, at most ``max_lines`` of them),
        then cut the head to the bounds (``_lock`` held).

        A line is kept in three ``deque``s with ``maxlen`` (its time, stream and text):
        the lines they drop as new ones come are the oldest, counted here before.
        """
        kept = self._texts
        excess = min(len(kept) + len(texts) - self._max_lines, len(kept))
        if excess > 0:
            self.size -= sum(map(len, islice(kept, excess))) + LINE_COST * excess
            self.cut += excess
        self._times.extend(times)
        self._streams.extend(streams)
        kept.extend(texts)
        self.size += sum(map(len, texts)) + LINE_COST * len(texts)
        while self.size > self.max_bytes and len(kept) > 1:
            self._times.popleft()
            self._streams.popleft()
            self.size -= len(kept.popleft()) + LINE_COST
            self.cut += 1

    def _lines(self, start: int = 0) -> list[LogLine]:
        """The kept lines from the ``start``-th on, as ``LogLine``s (``_lock`` held)."""
        rows = zip(
            islice(self._times, start, None),
            islice(self._streams, start, None),
            islice(self._texts, start, None),
            strict=True,
        )
        return list(map(tuple.__new__, repeat(LogLine), rows))

    @property
    def max_lines(self) -> int:
        """How many lines are kept at most."""
        return self._max_lines

    @max_lines.setter
    def max_lines(self, value: int) -> None:
        with self._lock:
            self._settle()
            drop = max(0, len(self._texts) - value)
            self.cut += drop
            self.size -= sum(map(len, islice(self._texts, drop))) + LINE_COST * drop
            self._max_lines = value
            self._times = deque(islice(self._times, drop, None), maxlen=value)
            self._streams = deque(islice(self._streams, drop, None), maxlen=value)
            self._texts = deque(islice(self._texts, drop, None), maxlen=value)

    def drain(self) -> tuple[list[LogLine], int]:
        """Take the kept lines and the count of cut ones, leaving the log empty."""
        with self._lock:
            self._settle()
            lines, cut = self._lines(), self.cut
            self._times.clear()
            self._streams.clear()
            self._texts.clear()
            self.size = self.cut = 0
            return lines, cut

    def records(self) -> list[LogLine]:
        with self._lock:
            self._settle()
            return self._lines()

    def tail(self, count: int) -> list[LogLine]:
        with self._lock:
            self._settle()
            return self._lines(max(0, len(self._texts) - count))

    def since(self, start: int, limit: int) -> tuple[int, list[LogLine], int]:
        """The kept lines from line number ``start`` on (lines are numbered from 0, cut
        ones included), at most the last ``limit`` of them: ``(number of the first line
        returned, lines, total)``. The first number is above ``start`` when lines were
        cut meanwhile or more than ``limit`` are new."""
        with self._lock:
            self._settle()
            total = self._total
            first = max(start, self.cut, total - limit)
            return first, self._lines(first - self.cut), total

    def text(self) -> str:
        """The kept lines, one per line, with a first line saying how many were cut."""
        with self._lock:
            self._settle()
            lines = self._lines()
            cut = self.cut
        head = [f"[{cut} earlier lines cut: a job keeps the last lines of its log]"] if cut else []
        return "\n".join([*head, *(line.format() for line in lines)])


def _as_text(text: object) -> str:
    """What a text stream's ``write`` accepts: a ``str`` (a subclass made plain)."""
    if not isinstance(text, str):
        msg = f"write() argument must be str, not {type(text).__name__}"
        raise TypeError(msg)
    return str.__str__(text)


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
