"""The history's writer process: ``python -m jobwidgets.history.child``, one per
recording process, started by ``writer.Writer`` (with ``python -S`` and without the
packages' ``__init__``, which would import all of jobwidgets; this module needs only
``history.store``, ``history.records`` and ``status``), its arguments in ``ARGS_ENV``.

It reads batches of job changes from its stdin and writes them into the SQLite file;
everything that costs per record happens here, not in the kernel: merging a job's
changes with what was written before, the row, the JSON of its tags, its search text,
and the SQL. Its stdout tells the recording process what happened, one JSON list a line:
``["ack", seq, written]`` after each batch (``written``: committed, else kept in memory
to try again with the next batch), ``["warn", kind, text]`` for a warning the recording
process gives (``kind``: ``"failed"``, a write or open that failed; ``"moved"``, a
corrupt file moved aside), ``["gave_up", text]`` (a file of a newer schema: this process
records nothing), ``["flushed", token]`` and ``["closed"]``.

The input is frames: 4 bytes of length (little-endian) and a ``marshal`` of one message:

- ``("rows", seq, now, statuses, new, fields)``: ``statuses``, bytes of
  ``status.LOG_ENTRY`` (key, code, time) in the order the changes happened
  (``code``: ``JobStatus._code``, plus ``status.LOGGED_SUBMITTED``/``LOGGED_STARTED``
  when the change stamped those times; ``LOGGED_NO_STATUS`` changes no status); ``new``,
  None or the jobs first seen in this batch, column by column (``NEW``), read after the
  statuses were taken; ``fields``, ``[(key, {name: latest value}), ...]`` for the
  other fields (``log_lines`` as the log's last lines, ``job_id`` once a job has one).
- ``("lost", seq, [(job_class, job_id, note, at), ...])``: ``_jobcore.note_lost``.
- ``("flush", token)``: answered once what came before is written.
- ``("close",)``: mark this run's unfinished jobs "kernel ended", close, answer, exit.

End of input (the recording process ended, even by SIGKILL) or a parent that is no longer
the one that started it: what was received is written, the run's unfinished jobs are
marked "kernel ended" and the process exits. SIGINT is ignored (Jupyter interrupts a
kernel's whole process group), and a write past a file-size limit fails instead of
killing the process (SIGXFSZ ignored).

Who owns what: this process is single-threaded; the connection, the run's lock file,
the records it knows (``Child.known``), the rows it failed to write (``Child.kept``) and
the search text last written for each unfinished job (``Child.written``) are its own.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import marshal
import os
import select
import signal
import sqlite3
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..status import (
    JOB_FINAL_STATES,
    LOG_ENTRY,
    LOGGED_NO_STATUS,
    LOGGED_STARTED,
    LOGGED_SUBMITTED,
    JobStatus,
)
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

MAX_KEPT = 100_000
"""How many unwritten records the writer process keeps while its disk refuses them."""
MAX_KNOWN = 200_000
"""How many records of this run the writer process remembers whole (to write a record
deleted meanwhile whole again); the oldest are forgotten first."""

NEW = ("key", "job_id", "backend", "job_class", "tags", "created_at")
"""The columns of a batch's new jobs, in order. A seventh is None, or for the jobs made
before recording started (or told to an earlier writer process): their positions in
the others, then a column for each of ``OLDER``."""
OLDER = ("status", "submitted_at", "started_at", "finished_at", "progress", "error",
         "error_traceback")  # fmt: skip
_NAMES = [status.name for status in JobStatus]
_FINAL_CODES = frozenset(status._code for status in JOB_FINAL_STATES)

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
"""Records per statement."""


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

_NOTE_LOST = (
    "UPDATE jobs SET error = ?, updated_at = ? WHERE job_id = ? AND job_class = ? "
    f"AND kernel_ended = 1 AND status NOT IN ({', '.join(repr(s) for s in FINAL)})"
)
_RESEARCH = (
    f"UPDATE jobs SET search = {SEARCH_SQL} WHERE job_id = ? AND job_class = ? AND error = ?"
)
_ORPHAN_COLUMNS = ("status", "submitted_at", "started_at", "finished_at", "progress", "error",
                   "error_traceback", "log_tail", "tags")  # fmt: skip


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


def _tags_json(tags: Any) -> str:
    if isinstance(tags, list | tuple):
        return json.dumps([str(t) for t in tags])
    return "[]"


class Child:
    """The writer process's state; see the module's docstring."""

    def __init__(
        self,
        path: Path,
        run_id: str,
        prefix: str,
        *,
        kernel_id: str | None,
        notebook: str | None,
        retention_days: float | None,
        max_jobs: int | None,
        out: Callable[[list[Any]], None],
    ) -> None:
        self.path = path
        self.run_id = run_id
        self.prefix = prefix
        self.kernel_id = kernel_id
        self.notebook = notebook
        self.retention_days = retention_days
        self.max_jobs = max_jobs
        self.out = out
        self.conn: sqlite3.Connection | None = None
        self.lock_fd: int | None = None
        self.warned = False
        self.gave_up = False
        self.known: dict[int, dict[str, Any]] = {}
        self.kept: dict[str, tuple[Any, ...]] = {}
        self.written: dict[str, str] = {}  # unfinished jobs' keys -> the search text written
        self.orphans: list[tuple[str, dict[str, Any], float]] = []

    # ------------------------------------------------------------------ the file
    def open(self) -> None:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", HistoryWarning)
                try:
                    conn = open_store(self.path)
                finally:
                    for warning in caught:
                        if issubclass(warning.category, HistoryWarning):
                            self.out(["warn", "moved", str(warning.message)])
            self.lock_fd = hold_run_lock(self.path, self.run_id)
            prune(conn, days=self.retention_days, max_jobs=self.max_jobs)
            sweep(conn, self.path, own_run=self.run_id)
        except NewerSchemaError as exc:
            self.gave_up = True
            self.out(["gave_up", self.message(exc, "this process records no history")])
            return
        except (sqlite3.Error, OSError) as exc:
            self.warn(exc)
            return
        self.conn = conn

    def message(self, exc: BaseException, then: str | None = None) -> str:
        return (
            f"jobwidgets: the job history {self.path} can't be written "
            f"({type(exc).__name__}: {exc}); jobs run as usual, and "
            + (
                then
                or "their history is kept in memory and written when the disk allows. Free "
                "the disk or set JOBWIDGETS_HISTORY to a writable path (or 'off')"
            )
            + "."
        )

    def warn(self, exc: BaseException) -> None:
        if self.warned:
            return
        self.warned = True
        self.out(["warn", "failed", self.message(exc)])

    def finish(self) -> None:
        """Mark this run's unfinished jobs "kernel ended", close the file, free the lock."""
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                mark_ended(conn, self.run_id)
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        fd, self.lock_fd = self.lock_fd, None
        release_run_lock(self.path, self.run_id, fd)

    def connection(self) -> sqlite3.Connection | None:
        if self.conn is None and not self.gave_up:
            self.open()
        return self.conn

    # ------------------------------------------------------------------ batches
    def rows(self, now: float, statuses: bytes, new: list[Any] | None, fields: list[Any]) -> bool:
        """Merge a batch into the records known and write every record that changed;
        whether it was written (else it is kept for the next batch)."""
        if self.gave_up:
            return False
        kept = self.kept
        known = self.known
        changed: dict[int, dict[str, Any]] = {}  # key -> record, in the batch's order
        searched: set[int] = set()
        orphans: dict[int, dict[str, Any]] = {}
        if new:
            records = [
                dict(zip(NEW, values, strict=False)) for values in zip(*new[:6], strict=True)
            ]
            if new[6] is not None:  # what the jobs made before recording started hold
                at, *columns = new[6]
                for i, values in zip(at, zip(*columns, strict=True), strict=True):
                    records[i].update(zip(OLDER, values, strict=True))
            for record in records:
                n = record["key"]
                if record["created_at"] is None:
                    record["created_at"] = now
                record.setdefault("status", "INITIALIZING")
                record["key"] = f"{self.prefix}-{n:09d}"
                known[n] = changed[n] = record
                searched.add(n)
        for n, code, at in LOG_ENTRY.iter_unpack(statuses):
            target = known.get(n)
            if target is None:  # never seen whole here (a restarted writer process)
                target = orphans.setdefault(n, {})
            else:
                changed[n] = target
            status = code & 15
            if status != LOGGED_NO_STATUS:
                target["status"] = _NAMES[status]
                if status in _FINAL_CODES:
                    target["finished_at"] = at
            if code & LOGGED_SUBMITTED:
                target["submitted_at"] = at
            if code & LOGGED_STARTED:
                target["started_at"] = at
        tails: dict[int, str | None] = {}
        for n, values in fields:
            if "log_lines" in values:
                tails[n] = values.pop("log_lines")
            found = known.get(n)
            if found is None:
                orphans.setdefault(n, {}).update(values)
                continue
            if "tags" in values or "error" in values or "job_id" in values:
                searched.add(n)
            found.update(values)
            changed[n] = found
        for n, record in changed.items():
            if n in searched:
                self.searched(record)
            key = record["key"]
            log_tail = tails.get(n)
            if log_tail is None and key in kept:  # an unwritten earlier row's log tail
                log_tail = kept[key][11]
            kept[key] = self.row(key, record, log_tail, now)
        for n, orphan in orphans.items():
            if n in tails:
                orphan["log_lines"] = tails[n]
            self.orphans.append((f"{self.prefix}-{n:09d}", orphan, now))
        if len(known) > MAX_KNOWN:
            for n in list(itertools.islice(known, len(known) - MAX_KNOWN)):
                del known[n]
        if len(kept) > MAX_KEPT:  # the disk refused for a long time: drop the oldest
            for key in list(itertools.islice(kept, len(kept) - MAX_KEPT)):
                del kept[key]
        return self.write()

    def searched(self, record: dict[str, Any]) -> None:
        """Make the record's tags' JSON and search text (kept in it until they change)."""
        job_id = record["job_id"]
        record["job_id_text"] = job_id = None if job_id is None else str(job_id)
        record["backend"] = backend = str(record.get("backend"))
        record["job_class"] = name = str(record.get("job_class"))
        record["tags_json"] = tags_json = _tags_json(record.get("tags"))
        error = record.get("error")
        record["search"] = search_text(job_id, backend, name, self.notebook, error, tags_json)

    def row(
        self, key: str, record: dict[str, Any], log_tail: str | None, now: float
    ) -> tuple[Any, ...]:
        """The record of one job, as a row of ``_WRITTEN``; None keeps the stored value."""
        get = record.get
        return (
            key,
            get("job_id_text"),
            get("backend"),
            get("status"),
            get("created_at") or now,
            get("submitted_at"),
            get("started_at"),
            get("finished_at"),
            get("progress"),
            get("error"),
            get("error_traceback"),
            log_tail,
            get("tags_json"),
            get("job_class"),
            self.kernel_id,
            self.notebook,
            False,
            now,
            self.run_id,
            get("search"),
        )

    def write(self) -> bool:
        rows = self.kept
        if not rows and not self.orphans:
            return True
        conn = self.connection()
        if conn is None:
            return False
        written = self.written
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
                self.write_orphans(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:  # a COMMIT that failed (a full disk) leaves it open
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            self.warn(exc)
            return False
        for values in rows.values():
            if values[3] in FINAL:  # final: no more changes, bar a rare late stamp
                written.pop(values[0], None)
            else:
                written[values[0]] = values[-1]
        rows.clear()
        self.orphans.clear()
        return True

    def write_orphans(self, conn: sqlite3.Connection) -> None:
        """Changes of records this process never saw whole (sent to a writer process that
        ended): only what they change, on the records already written."""
        for key, fields, now in self.orphans:
            values = {
                "status": fields.get("status"),
                "log_tail": fields.get("log_lines"),
                **{c: fields[c] for c in _ORPHAN_COLUMNS[1:7] if c in fields},
            }
            if "tags" in fields:
                values["tags"] = _tags_json(fields["tags"])
            sets = [(c, v) for c, v in values.items() if v is not None]
            sql = ", ".join([f"{c} = ?" for c, _ in sets] + ["updated_at = ?"])
            conn.execute(f"UPDATE jobs SET {sql} WHERE id = ?", (*[v for _, v in sets], now, key))
            if "tags" in values or "error" in values:  # (SET reads the old values)
                conn.execute(f"UPDATE jobs SET search = {SEARCH_SQL} WHERE id = ?", (key,))

    def lost(self, items: list[Any]) -> None:
        """Note on the records of ended kernels' unfinished jobs that they were lost.
        Jobs of a kernel that has just ended are marked first (``sweep``)."""
        conn = None if self.gave_up else self.connection()
        if conn is None:
            return
        try:
            sweep(conn, self.path, own_run=self.run_id)
            with transaction(conn):
                for job_class, job_id, note, at in items:
                    conn.execute(_NOTE_LOST, (note, at, job_id, job_class))
                    conn.execute(_RESEARCH, (job_id, job_class, note))
        except sqlite3.Error as exc:
            self.warn(exc)


def _frames(fd: int, parent: int) -> Any:
    """The messages read from ``fd``, until its end or the parent is gone."""
    buffer = bytearray()
    while True:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            if os.getppid() != parent:
                return
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= 4:
            size = int.from_bytes(buffer[:4], "little")
            if len(buffer) < 4 + size:
                break
            message = marshal.loads(bytes(buffer[4 : 4 + size]))
            del buffer[: 4 + size]
            yield message


ARGS_ENV = "JOBWIDGETS_HISTORY_WRITER"
"""The environment variable that gives the writer process its arguments (JSON), when its
command line does not: the environment is readable by its owner only, the command line
(the notebook's path, the file's) by every user."""


def main(argv: list[str] | None = None) -> int:
    """``python -m jobwidgets.history.child [<json of the arguments>]``."""
    given = sys.argv[1:] if argv is None else argv
    args = json.loads(given[0] if given else os.environ.pop(ARGS_ENV))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    stdout = sys.stdout

    def out(message: list[Any]) -> None:
        with contextlib.suppress(OSError, ValueError):  # the recording process is gone
            stdout.write(json.dumps(message) + "\n")
            stdout.flush()

    child = Child(
        Path(args["path"]),
        args["run_id"],
        args["prefix"],
        kernel_id=args.get("kernel_id"),
        notebook=args.get("notebook"),
        retention_days=args.get("retention_days"),
        max_jobs=args.get("max_jobs"),
        out=out,
    )
    child.open()
    for message in _frames(sys.stdin.fileno(), args["parent"]):
        kind = message[0]
        if kind == "rows":
            out(["ack", message[1], child.rows(*message[2:])])
        elif kind == "lost":
            child.lost(message[2])
            out(["ack", message[1], True])
        elif kind == "flush":
            child.write()
            out(["flushed", message[1]])
        elif kind == "close":
            child.write()
            child.finish()
            out(["closed"])
            return 0
    child.write()  # the recording process ended without closing: keep what came
    child.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
