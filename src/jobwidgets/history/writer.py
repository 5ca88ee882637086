"""The history's recording side: job changes in, compact batches out to a writer process.

``Writer.start()`` starts the thread ``jobwidgets-history`` and installs the recorder of
a ``recording.Collector`` (see there for what the jobs' threads do, and how a batch is
made). The thread starts the writer process (``jobwidgets.history.child``, see there;
with ``subprocess``, never a bare fork), then, every batch interval (0.5 s by default)
in which something happened, takes a batch and sends it as one ``marshal``-ed message
on the process's stdin: at most a few batches a second, whatever the number of jobs.
Everything that costs per record (merging, the row, the tags' JSON, the search text,
SQLite) happens in the writer process; no SQL runs in this one.

The writer process opens the file (pruning it and marking the jobs of ended kernels),
writes each batch in one transaction, and answers on its stdout: an acknowledgement per
batch, warnings, flushes. The thread reads the answers after each batch and gives the
warnings here (each kind once). ``flush()`` waits for the process's answer; ``close()``
asks it to mark this process's unfinished jobs "kernel ended", waits for it to exit
(bounded; then kills it) and reaps it. A process killed with SIGKILL closes the pipe: the
writer process writes what it received, marks the unfinished jobs and exits, so at most
the last interval is lost, and WAL keeps the file whole. If the writer process ends
unexpectedly, the thread warns once, starts another (up to ``MAX_RESTARTS`` times),
sends it the batches that were not acknowledged, and installs a new recorder, so that
each job's next change says again what the job is.

Who owns what:

- the queue: shared (thread-safe): changed jobs, and ``flush()``/``close()``'s markers;
- the collector (see ``recording``), the writer process, its pipes, the batches not yet
  acknowledged, the warnings given, ``batches``: the thread ``jobwidgets-history`` alone
  (``close()`` touches the process only after that thread ended or did not end in time);
- the connection, the run's lock file, the rows kept after a failed write and what was
  written: the writer process alone.

The writer process is in this process's process group and ignores SIGINT (Jupyter
interrupts a kernel's whole group). Pipes are read with ``select``: POSIX systems only.

Failures never reach the jobs: a write that fails (a read-only or full disk) is warned
about once; the writer process keeps the records (up to ``child.MAX_KEPT``) and tries
again with the next batch.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import marshal
import os
import queue
import select
import subprocess
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, NamedTuple

from .. import _jobcore
from .recording import Collector
from .store import HistoryWarning

__all__ = ["Writer"]

log = logging.getLogger("jobwidgets")

MAX_RESTARTS = 3
"""How many times a writer starts a new writer process after one ended unexpectedly."""
MAX_UNACKED = 64
"""How many batches a writer keeps until its writer process acknowledges them."""
CLOSE_WAIT = 10.0
"""Seconds ``close()`` waits at most for the writer process before killing it."""

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
"""The folder that holds this ``jobwidgets``: the writer process imports the same one."""
_BOOT = """
import os, sys, types
for name in ("jobwidgets", "jobwidgets.history"):
    package = types.ModuleType(name)
    package.__path__ = [os.path.join(sys.argv[1], *name.split("."))]
    sys.modules[name] = package
from jobwidgets.history.child import main
sys.exit(main(sys.argv[2:]))
"""
"""How the writer process starts: ``python -m jobwidgets.history.child`` without running
the packages' ``__init__`` (which import all of jobwidgets: 0.2-0.3 s of CPU); it needs
``history.child``, ``history.store``, ``history.records`` and ``status`` only."""

_prefix = uuid.uuid4().hex[:16]
"""This process's part of its record keys (made anew in a forked child)."""


def new_prefix() -> None:
    """A forked child's record keys must differ from its parent's."""
    global _prefix
    _prefix = uuid.uuid4().hex[:16]


_STOP = object()


class _Lost(NamedTuple):
    """``_jobcore.note_lost``: a job of an ended kernel no longer exists where it ran."""

    job_class: str
    job_id: str
    note: str
    at: float


_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """``value`` made of what ``marshal`` writes (a numpy float becomes a float)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple or kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, tuple | list | set | frozenset):
        return [_plain(v) for v in value]
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class Writer:
    """Records every job change of this process into the history file at ``path``.

    Args:
        path: the SQLite file.
        interval: seconds between two batches.
        kernel_id, notebook: written with each record.
        retention_days, max_jobs: pruned once, at start (None: keep).
    """

    def __init__(
        self,
        path: Path,
        *,
        interval: float = 0.5,
        kernel_id: str | None = None,
        notebook: str | None = None,
        retention_days: float | None = 90,
        max_jobs: int | None = 100_000,
    ) -> None:
        self.path = path
        self.interval = interval
        self.kernel_id = kernel_id
        self.notebook = notebook
        self.retention_days = retention_days
        self.max_jobs = max_jobs
        self.run_id = uuid.uuid4().hex[:16]
        self.batches = 0
        """Batches the writer process wrote (committed)."""
        self.restarts = 0
        """Writer processes started after one ended unexpectedly."""
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._collector = Collector(self._queue.put)
        self._noter = self._note_lost
        self._wake = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe = -1  # the writer process's stdin (its write end)
        self._answers = -1  # its stdout (the read end)
        self._buffer = bytearray()
        self._seq = itertools.count(1)
        self._unacked: dict[int, bytes] = {}
        self._flushed = 0
        self._restarting = False  # the next writer process started replaces one
        self._closed_answer = False
        self._stopping = False
        self._warned: set[str] = set()
        self._gave_up = False
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Writer:
        """Start recording. The thread first starts the writer process, which opens the
        file, prunes it and marks the jobs of ended kernels (so the caller never waits
        for the disk); ``flush()`` waits for that too."""
        self._thread = threading.Thread(target=self._run, name="jobwidgets-history", daemon=True)
        _jobcore.set_recorder(self._collector.recording)
        _jobcore.set_lost_note(self._noter)
        self._thread.start()
        return self

    def flush(self, timeout: float | None = 10) -> bool:
        """Write everything recorded so far now; False if that took longer than timeout."""
        if self._thread is None or not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float | None = 10) -> None:
        """Write what is pending, mark this process's unfinished jobs "kernel ended",
        stop the thread and the writer process (reaped)."""
        if self._closed:
            return
        self._closed = True
        if _jobcore._recorder is self._collector.recording:
            _jobcore.set_recorder(None)
        if _jobcore._lost_note is self._noter:
            _jobcore.set_lost_note(None)
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)  # the thread sends the rest, and stops the process
            self._wake.set()
            self._thread.join(timeout)
            if self._thread.is_alive():  # the process did not answer in time
                self._stopping = True
                proc = self._proc
                if proc is not None:
                    with contextlib.suppress(OSError):
                        proc.kill()
                self._thread.join(5)
        else:
            self._end_process()

    def _forget_in_child(self) -> None:
        """In a forked child: let go of the pipes (the writer process must see its input
        end when this process's parent ends), without writing or waiting."""
        if self._pipe >= 0:
            with contextlib.suppress(OSError):
                os.close(self._pipe)
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        self._pipe = self._answers = -1

    def _note_lost(self, job_class: str, job_id: str, note: str) -> None:
        """``_jobcore.note_lost``, on the caller's thread: queue it for this thread."""
        self._queue.put(_Lost(job_class, job_id, note, time.time()))
        self._wake.set()

    # ---------------------------------------------------------- the writer process
    def _start_process(self) -> bool:
        """Start a writer process and send it the batches not acknowledged."""
        args = {
            "path": str(self.path),
            "run_id": self.run_id,
            "prefix": _prefix,
            "kernel_id": self.kernel_id,
            "notebook": self.notebook,
            "retention_days": self.retention_days,
            "max_jobs": self.max_jobs,
            "parent": os.getpid(),
        }
        read, write = os.pipe()
        if sys.platform == "linux":  # a batch in one write, rather than 64 kB at a time
            import fcntl

            with contextlib.suppress(OSError):
                fcntl.fcntl(write, 1031, 1 << 20)  # F_SETPIPE_SZ
        try:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-c", _BOOT, _PACKAGE_ROOT],
                stdin=read,
                stdout=subprocess.PIPE,
                env={**os.environ, "JOBWIDGETS_HISTORY_WRITER": json.dumps(args)},
            )
        except OSError as exc:
            os.close(write)
            self._warn(
                "failed",
                f"jobwidgets: the job history's writer process could not start "
                f"({type(exc).__name__}: {exc}); this process records no history.",
            )
            self._gave_up = True
            return False
        finally:
            os.close(read)
        assert proc.stdout is not None
        self._proc, self._pipe, self._answers = proc, write, proc.stdout.fileno()
        self._buffer.clear()
        if self._restarting:  # every job's next change says again what the job is
            self._collector.renew()
        self._restarting = True
        return all(self._write(frame) for frame in list(self._unacked.values()))

    def _process_ended(self) -> None:
        """The writer process ended (or its pipe broke) unexpectedly: reap it, warn once,
        and start another, at most ``MAX_RESTARTS`` times."""
        code = self._end_process(kill=True)
        if self._stopping or self._gave_up:
            return
        if self.restarts >= MAX_RESTARTS:
            self._warn(
                "ended",
                f"jobwidgets: the job history's writer process ended (exit code {code}) "
                f"{self.restarts + 1} times; this process records no more history.",
            )
            self._gave_up = True
            return
        self.restarts += 1
        self._warn(
            "ended",
            f"jobwidgets: the job history's writer process ended unexpectedly (exit code "
            f"{code}); a new one was started, and the batches it had not written are sent "
            "again.",
        )
        self._start_process()

    def _end_process(self, *, kill: bool = False) -> int | None:
        """Close the pipes and reap the writer process (killed first if ``kill``, else
        given ``CLOSE_WAIT`` seconds); its exit code."""
        proc, self._proc = self._proc, None
        if self._pipe >= 0:
            with contextlib.suppress(OSError):
                os.close(self._pipe)
        self._pipe = self._answers = -1
        if proc is None:
            return None
        if kill:
            with contextlib.suppress(OSError):
                proc.kill()
        try:
            code = proc.wait(CLOSE_WAIT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                proc.kill()
            code = proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return code

    def _send(self, message: tuple[Any, ...]) -> bool:
        """Send one message to the writer process (a new one if it ended)."""
        try:
            data = marshal.dumps(message)
        except ValueError:  # something marshal doesn't write (a numpy float)
            data = marshal.dumps(_plain(message))
        frame = len(data).to_bytes(4, "little") + data
        if message[0] in ("rows", "lost"):
            self._unacked[message[1]] = frame
            if len(self._unacked) > MAX_UNACKED:
                del self._unacked[next(iter(self._unacked))]
            if self._proc is None:
                return self._start_process()  # it sends the unacknowledged batches
        elif self._proc is None and not self._start_process():
            return False
        return self._write(frame)

    def _write(self, frame: bytes) -> bool:
        """Write ``frame`` to the writer process; if it ended, to a new one (which is
        sent the unacknowledged batches first). Whether it was delivered."""
        for _ in range(2):
            proc = self._proc
            if proc is None:
                return False
            if proc.poll() is None:
                view = memoryview(frame)
                try:
                    while view:
                        view = view[os.write(self._pipe, view) :]
                except OSError:
                    pass
                else:
                    return True
            self._process_ended()
            if frame in self._unacked.values():  # sent again with them
                return self._proc is not None
        return False

    def _read(self, timeout: float) -> bool:
        """Read and act on the writer process's answers (waiting up to ``timeout`` for
        the first); False if it ended."""
        proc = self._proc
        if proc is None:
            return False
        ready, _, _ = select.select([self._answers], [], [], timeout)
        while ready:
            try:
                data = os.read(self._answers, 1 << 16)
            except OSError:
                data = b""
            if not data:
                return False
            self._buffer += data
            while True:
                end = self._buffer.find(b"\n")
                if end < 0:
                    break
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                try:
                    self._answer(json.loads(line))
                except (ValueError, IndexError, TypeError):
                    log.debug("jobwidgets: a history writer answer not understood: %r", line)
            ready, _, _ = select.select([self._answers], [], [], 0)
        return True

    def _answer(self, answer: list[Any]) -> None:
        kind = answer[0]
        if kind == "ack":
            self._unacked.pop(answer[1], None)
            if answer[2]:
                self.batches += 1
        elif kind == "warn":
            self._warn(answer[1], answer[2])
        elif kind == "gave_up":
            self._warn("gave_up", answer[1])
            self._gave_up = True
        elif kind == "flushed":
            self._flushed = max(self._flushed, answer[1])
        elif kind == "closed":
            self._closed_answer = True

    def _wait_for(self, done: Any, timeout: float, resend: bytes | None = None) -> bool:
        """Read answers until ``done()``, the timeout, or the writer process ended (a new
        one gets ``resend``)."""
        end = time.monotonic() + timeout
        while not done():
            left = end - time.monotonic()
            if left <= 0 or self._proc is None:
                return False
            if not self._read(min(left, 0.5)) and not done():
                self._process_ended()
                if self._proc is None or resend is None or not self._write(resend):
                    return False
        return True

    def _warn(self, kind: str, text: str) -> None:
        if kind != "moved":  # a file moved aside: each time; the others once
            if kind in self._warned:
                log.debug("jobwidgets: %s", text)
                return
            self._warned.add(kind)
        warnings.warn(text, HistoryWarning, stacklevel=2)

    # ---------------------------------------------------------------- the thread
    def _run(self) -> None:
        try:
            self._start_process()
            self._loop()
        except Exception:  # never let the thread die with the process unreaped
            log.exception("jobwidgets: the job history writer failed")
            self._stopping = True
            self._end_process(kill=True)

    def _loop(self) -> None:
        get = self._queue.get
        sent = 0.0  # when the last batch was taken (monotonic)
        while True:
            try:  # a marker, or a job whose fields changed
                items = [get(timeout=self.interval)]
            except queue.Empty:  # look at the status log and the new jobs
                items = []
                if not self._collector.pending():
                    continue
            if items and items[0] is not _STOP and not isinstance(items[0], threading.Event):
                self._wake.wait(max(0.0, sent + self.interval - time.monotonic()))  # batch
            sent = time.monotonic()
            self._wake.clear()
            with contextlib.suppress(queue.Empty):
                while True:
                    items.append(self._queue.get_nowait())
            stop = False
            events: list[threading.Event] = []
            jobs: list[Any] = []
            lost: list[_Lost] = []
            for item in items:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    events.append(item)
                elif isinstance(item, _Lost):
                    lost.append(item)
                else:
                    jobs.append(item)
            try:
                if self._proc is not None and self._proc.poll() is not None:
                    self._process_ended()
                if self._gave_up:
                    self._collector.drop(jobs)
                elif (message := self._collector.take(jobs)) is not None:
                    self._send(("rows", next(self._seq), time.time(), *message))
                if lost and not self._gave_up:
                    self._send(("lost", next(self._seq), [tuple(item) for item in lost]))
                if (events or stop) and not self._gave_up and self._proc is not None:
                    token = next(self._seq)
                    data = marshal.dumps(("flush", token))
                    frame = len(data).to_bytes(4, "little") + data
                    if self._write(frame):
                        self._wait_for(lambda t=token: self._flushed >= t, 60, frame)
                elif self._proc is not None:
                    self._read(0)
            except Exception:  # never let the thread die
                log.exception("jobwidgets: the job history writer failed on a batch")
            if stop:
                self._stop_process()
            for event in events:
                event.set()
            if stop:
                return

    def _stop_process(self) -> None:
        """Ask the writer process to mark this process's unfinished jobs and exit; reap it."""
        self._stopping = True
        if self._proc is not None:
            data = marshal.dumps(("close",))
            with contextlib.suppress(OSError):
                os.write(self._pipe, len(data).to_bytes(4, "little") + data)
            self._wait_for(lambda: self._closed_answer, CLOSE_WAIT)
        self._end_process()
