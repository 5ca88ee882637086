"""The one writer thread of a process: job changes in, batched upserts out.

``Writer.start()`` starts the thread and installs the core's recorder
(``jobwidgets._jobcore.set_recorder``). On the job's thread, under the job's lock, the
core merges each change into the job's own dict of unrecorded changes; only the first
change after the writer took that dict puts the job on a ``SimpleQueue`` (a C call;
nothing else runs on the job's thread, and a job that changes four times in a batch is
queued once). The thread ``jobwidgets-history`` sleeps until a job comes, waits out the
batch interval (0.5 s by default), takes each queued job's changes
(``_jobcore.take_unrecorded``) and writes every job that changed, once each, in one
transaction of upserts: at most a few transactions a second, whatever the number of
jobs. A process killed with SIGKILL loses at most the last
interval, and WAL keeps the file whole. The thread also opens the file (pruning it and
marking the jobs of ended kernels) and, on ``close()``, marks this process's unfinished
jobs: no write happens on the caller's thread.

Who owns what: the job's unrecorded changes belong to its core (under the job's lock);
the queue is shared (thread-safe); everything else here (the record keys, the rows kept
after a failed write, the connection) is this thread's alone. A job's record key is made
on first sight and kept in the job's core (``_JobCore.record``), read and written only
by this thread. Jobs are held only while they wait in the queue.

Failures never reach the jobs: a write that fails (a read-only or full disk) is warned
about once, kept (up to ``MAX_KEPT`` records) and tried again with the next batch.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import queue
import sqlite3
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from .. import _jobcore
from .._tags import tags_of
from ..status import JobStatus
from .records import COLUMNS, search_text
from .store import (
    FINAL,
    SEARCH_SQL,
    HistoryWarning,
    NewerSchemaError,
    hold_run_lock,
    mark_ended,
    open_store,
    prune,
    release_run_lock,
    sweep,
    transaction,
)

__all__ = ["Writer"]

log = logging.getLogger("jobwidgets")

MAX_KEPT = 100_000
"""How many unwritten records a writer keeps while its disk refuses them."""

_FIELDS = ("created_at", "submitted_at", "started_at", "finished_at", "progress", "error",
           "error_traceback")  # fmt: skip
_WRITTEN = (*COLUMNS, "run_id", "search")
"""The columns of a row as the writer makes it."""
_UPDATED = [c for c in _WRITTEN if c not in ("id", "created_at", "run_id")]
_ON_CONFLICT = "ON CONFLICT (id) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" if c in ("job_id", "backend", "status", "tags", "job_class",
                                   "kernel_id", "notebook", "kernel_ended", "updated_at",
                                   "search")
    else f"{c} = coalesce(excluded.{c}, {c})"
    for c in _UPDATED
)  # fmt: skip
CHUNK = 64
"""Records per statement: SQLite's module lets go of the GIL at each step of a statement,
so one row per step would hand the GIL to the job threads once per record."""


def _upsert(rows: int) -> str:
    """The upsert of ``rows`` records in one statement."""
    one = f"({', '.join('?' * len(_WRITTEN))})"
    values = ", ".join([one] * rows)
    return f"INSERT INTO jobs ({', '.join(_WRITTEN)}) VALUES {values} {_ON_CONFLICT}"


_UPSERT_CHUNK = _upsert(CHUNK)

_NARROW = ("status", "submitted_at", "started_at", "finished_at", "progress", "error_traceback",
           "log_tail", "updated_at")  # fmt: skip
_NARROW_AT = [_WRITTEN.index(c) for c in (*_NARROW, "id")]


def _update(rows: int) -> str:
    """The update of ``rows`` records already written whose searched text is unchanged:
    it sets no column of ``jobs_time`` or ``jobs_notebook``, so SQLite leaves them be."""
    one = f"({', '.join('?' * len(_NARROW_AT))})"
    sets = ", ".join(
        f"{c} = v.column{n}" if c in ("status", "updated_at")
        else f"{c} = coalesce(v.column{n}, jobs.{c})"
        for n, c in enumerate(_NARROW, 1)
    )  # fmt: skip
    values = ", ".join([one] * rows)
    return f"UPDATE jobs SET {sets} FROM (VALUES {values}) AS v WHERE jobs.id = v.column9"


_UPDATE_CHUNK = _update(CHUNK)


_STOP = object()


class _Lost(NamedTuple):
    """``_jobcore.note_lost``: a job of an ended kernel no longer exists where it ran."""

    job_class: str
    job_id: str
    note: str
    at: float


_NOTE_LOST = (
    "UPDATE jobs SET error = ?, updated_at = ? WHERE job_id = ? AND job_class = ? "
    f"AND kernel_ended = 1 AND status NOT IN ({', '.join(repr(s) for s in FINAL)})"
)
_RESEARCH = (
    f"UPDATE jobs SET search = {SEARCH_SQL} WHERE job_id = ? AND job_class = ? AND error = ?"
)
_NAMES = {status: status.name for status in JobStatus}


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
        self._keys = itertools.count(1)
        self._class_names: dict[type, str] = {}
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._recorder = self._queue.put  # one object: the core tells recorders apart by it
        self._noter = self._note_lost
        self._kept: dict[str, tuple[Any, ...]] = {}
        self._written: dict[str, str] = {}  # unfinished jobs' keys -> the search text written
        self._wake = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._warned = False
        self._gave_up = False
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Writer:
        """Start recording. The thread first opens the file, prunes it and marks the jobs
        of ended kernels (so the caller never waits for the disk); ``flush()`` waits for
        that too."""
        self._thread = threading.Thread(target=self._run, name="jobwidgets-history", daemon=True)
        _jobcore.set_recorder(self._recorder)
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
        and stop the thread."""
        if self._closed:
            return
        self._closed = True
        if _jobcore._recorder is self._recorder:
            _jobcore.set_recorder(None)
        if _jobcore._lost_note is self._noter:
            _jobcore.set_lost_note(None)
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)  # the thread writes, marks, and closes the file
            self._wake.set()
            self._thread.join(timeout)
        else:
            self._finish()

    def _note_lost(self, job_class: str, job_id: str, note: str) -> None:
        """``_jobcore.note_lost``, on the caller's thread: queue it for this thread."""
        self._queue.put(_Lost(job_class, job_id, note, time.time()))
        self._wake.set()

    def _finish(self) -> None:
        """Mark this process's unfinished jobs "kernel ended", close the file, free the
        lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                mark_ended(conn, self.run_id)
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        fd, self._lock_fd = self._lock_fd, None
        release_run_lock(self.path, self.run_id, fd)

    # ---------------------------------------------------------------- internals
    def _open(self) -> None:
        try:
            conn = open_store(self.path)
            self._lock_fd = hold_run_lock(self.path, self.run_id)
            prune(conn, days=self.retention_days, max_jobs=self.max_jobs)
            sweep(conn, self.path, own_run=self.run_id)
        except NewerSchemaError as exc:
            self._warn(exc, "this process records no history")
            self._gave_up = True
            return
        except (sqlite3.Error, OSError) as exc:
            self._warn(exc)
            return
        self._conn = conn

    def _warn(self, exc: BaseException, then: str | None = None) -> None:
        if self._warned:
            log.debug("jobwidgets: job history write failed again", exc_info=True)
            return
        self._warned = True
        msg = (
            f"jobwidgets: the job history {self.path} can't be written "
            f"({type(exc).__name__}: {exc}); jobs run as usual, and "
            + (
                then
                or "their history is kept in memory and written when the disk allows. Free "
                "the disk or set JOBWIDGETS_HISTORY to a writable path (or 'off')"
            )
            + "."
        )
        warnings.warn(msg, HistoryWarning, stacklevel=2)

    def _run(self) -> None:
        self._open()
        get = self._queue.get
        while True:
            first = get()
            if first is not _STOP and not isinstance(first, threading.Event):
                self._wake.wait(self.interval)
            self._wake.clear()
            items = [first]
            with contextlib.suppress(queue.Empty):
                while True:
                    items.append(self._queue.get_nowait())
            stop = False
            events: list[threading.Event] = []
            changes: list[Any] = []
            lost: list[_Lost] = []
            for item in items:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    events.append(item)
                elif isinstance(item, _Lost):
                    lost.append(item)
                else:
                    changes.append(item)
            try:
                self._write(changes)
                if lost:
                    self._write_lost(lost)
            except Exception:  # never let the thread die
                log.exception("jobwidgets: the job history writer failed on a batch")
            if stop:
                self._finish()
            for event in events:
                event.set()
            if stop:
                return

    def _write(self, jobs: list[Any]) -> None:
        """Write the changes of ``jobs`` (each job's latest values, one row per job)."""
        if self._gave_up:
            for job in jobs:  # let them queue again, should a later writer record
                _jobcore.take_unrecorded(job)
            return
        rows = self._kept
        now = time.time()
        row = self._row
        take = _jobcore.take_unrecorded
        for job in jobs:
            fields = take(job)
            if fields is None:  # queued twice (a recorder was replaced): taken already
                continue
            state = job._jobwidgets
            key = state.record
            if key is None:
                # zero-padded: a run's keys sort in the order they are made, so the
                # table's B-tree grows at its end
                key = state.record = f"{self.run_id}-{next(self._keys):09d}"
            kept = rows.get(key)
            if kept is not None:  # an unwritten earlier row: keep what this batch doesn't set
                fields = {**dict(zip(_FIELDS, kept[4:11], strict=True)), **fields}
            rows[key] = row(key, job, fields, now)
        if len(rows) > MAX_KEPT:  # the disk refused for a long time: drop the oldest
            for key in list(itertools.islice(rows, len(rows) - MAX_KEPT)):
                del rows[key]
        if not rows:
            return
        if self._conn is None:
            self._open()
            if self._conn is None:
                return
        conn = self._conn
        written = self._written
        full: list[tuple[Any, ...]] = []
        narrow: list[tuple[Any, ...]] = []
        for key, values in rows.items():
            (narrow if written.get(key) == values[-1] else full).append(values)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _write_rows(conn, full, _UPSERT_CHUNK, _upsert)
                before = conn.total_changes
                _write_rows(
                    conn, [[r[i] for i in _NARROW_AT] for r in narrow], _UPDATE_CHUNK, _update
                )
                if conn.total_changes - before < len(narrow):  # some were deleted meanwhile
                    _write_rows(conn, narrow, _UPSERT_CHUNK, _upsert)  # (a clear): back in
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:  # a COMMIT that failed (a full disk) leaves it open
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            self._warn(exc)
            return
        for values in rows.values():
            if values[3] in FINAL:  # final: no more changes, bar a rare late stamp
                written.pop(values[0], None)
            else:
                written[values[0]] = values[-1]
        rows.clear()
        self.batches += 1

    def _write_lost(self, lost: list[_Lost]) -> None:
        """Note on the records of ended kernels' unfinished jobs that they were lost.
        Jobs of a kernel that has just ended are marked first (``sweep``)."""
        if self._gave_up:
            return
        if self._conn is None:
            self._open()
            if self._conn is None:
                return
        conn = self._conn
        try:
            sweep(conn, self.path, own_run=self.run_id)
            with transaction(conn):
                for item in lost:
                    conn.execute(_NOTE_LOST, (item.note, item.at, item.job_id, item.job_class))
                    conn.execute(_RESEARCH, (item.job_id, item.job_class, item.note))
        except sqlite3.Error as exc:
            self._warn(exc)

    def _row(self, key: str, job: Any, fields: dict[str, Any], now: float) -> tuple[Any, ...]:
        """The record of one job: the fields this batch changed, else what the job says
        of itself now (so a record deleted meanwhile is written whole again), and its id,
        backend, class, tags and (if it changed) log tail. None keeps the stored value."""
        get = fields.get
        state = get("state")
        status = _NAMES[state if state is not None else job._jobwidgets.status]
        job_id = job._job_id
        # a tag change is told before the job stores it: the change's value wins
        tags = get("tags") if "tags" in fields else tags_of(job)
        try:
            backend = job._backend_name()
        except Exception:
            backend = type(job._backend).__name__
        cls = type(job)
        name = self._class_names.get(cls)
        if name is None:
            name = self._class_names[cls] = f"{cls.__module__}.{cls.__qualname__}"
        job_id = None if job_id is None else str(job_id)
        # the job's error whether or not it changed in this batch, for ``search``
        known = job._trait_values  # what the job says now, for what this batch didn't change
        error = get("error") or known.get("error")
        tags_json = (
            json.dumps([str(t) for t in tags]) if isinstance(tags, list | tuple | set) else "[]"
        )
        return (
            key,
            job_id,
            backend,
            status,
            get("created_at") or known.get("created_at") or now,
            get("submitted_at") or known.get("submitted_at"),
            get("started_at") or known.get("started_at"),
            get("finished_at") or known.get("finished_at"),
            get("progress", known.get("progress")),
            error,
            get("error_traceback") or known.get("error_traceback"),
            _log_tail(job) if "log_lines" in fields else None,
            tags_json,
            name,
            self.kernel_id,
            self.notebook,
            False,
            now,
            self.run_id,
            search_text(job_id, backend, name, self.notebook, error, tags_json),
        )


def _write_rows(
    conn: sqlite3.Connection, rows: list[Any], chunked: str, statement: Callable[[int], str]
) -> None:
    """Run ``chunked`` (``CHUNK`` rows a statement) and ``statement(n)`` for the rest."""
    flat = itertools.chain.from_iterable
    whole = len(rows) - len(rows) % CHUNK
    if whole:
        conn.executemany(
            chunked,
            (tuple(flat(rows[start : start + CHUNK])) for start in range(0, whole, CHUNK)),
        )
    if whole < len(rows):
        conn.execute(statement(len(rows) - whole), tuple(flat(rows[whole:])))


TAIL_LINES = 50
TAIL_CHARS = 8192


def _log_tail(job: Any) -> str | None:
    """The last lines of the job's log (``job.logs()``), as ``logs()`` formats them."""
    log = job._jobwidgets.log
    if log is None:
        return None
    try:
        lines = log.tail(TAIL_LINES)
    except Exception:
        return None
    text = "\n".join(line.format() for line in lines)
    return text[-TAIL_CHARS:] if text else None
