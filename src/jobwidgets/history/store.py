"""The history's SQLite file: where it lives, how it is opened, its schema and upkeep.

One file, ``jobwidgets/history.sqlite3`` under Jupyter's data directory
(``jupyter_core.paths.jupyter_data_dir()``), unless ``JOBWIDGETS_HISTORY`` names another
path, or is ``off``. It is created readable and writable by its owner only (errors and
logs can hold secrets), in WAL mode, with a busy timeout, so that several kernels write
it at once and a reader never waits for them.

The schema has a version (``PRAGMA user_version``); ``open_store`` migrates an older file
step by step. A file that SQLite can't read as a database is moved aside
(``<name>.corrupt-<time>``) with a warning, and a new file is started. A file of a newer
version is left alone, and the history is off in this process.

"Kernel ended" marks: each writing process holds an exclusive ``flock`` on a file of its
own, ``<name>.runs/<run id>.lock``, for its whole life. The operating system releases it
when the process ends, even on SIGKILL. ``sweep`` (run by each writer at its start and by
the server before it answers) finds the runs with unfinished jobs whose lock is free:
their process is gone, so their unfinished jobs get ``kernel_ended = 1`` and keep their
last status. A writer that closes cleanly marks its own unfinished jobs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock, so only clean shutdowns mark "kernel ended"
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FINAL",
    "SCHEMA_VERSION",
    "HistoryWarning",
    "NewerSchemaError",
    "default_path",
    "history_path",
    "open_store",
    "prune",
    "sweep",
]

ENV = "JOBWIDGETS_HISTORY"
"""The environment variable that moves the history (a path) or turns it off (``off``)."""

OFF = frozenset({"off", "0", "false", "no", "none", "disabled"})

SCHEMA_VERSION = 2
BUSY_TIMEOUT = 10.0
FINAL = ("DONE", "CANCELLED", "ERROR")
_FINAL_SQL = "('DONE', 'CANCELLED', 'ERROR')"


class HistoryWarning(UserWarning):
    """Something kept the history from being read or written; jobs are not affected."""


class NewerSchemaError(RuntimeError):
    """The file was written by a newer jobwidgets: this one leaves it alone."""


def default_path() -> Path:
    """``jobwidgets/history.sqlite3`` under Jupyter's data directory."""
    try:
        from jupyter_core.paths import jupyter_data_dir

        base = Path(jupyter_data_dir())
    except ImportError:  # jupyter_core's rule, for a core install without Jupyter
        env = os.environ.get("JUPYTER_DATA_DIR")
        base = Path(env) if env else Path.home() / ".local" / "share" / "jupyter"
    return base / "jobwidgets" / "history.sqlite3"


def history_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The history's file: ``path`` if given, else ``JOBWIDGETS_HISTORY``, else the default.

    None when ``JOBWIDGETS_HISTORY=off`` (and no ``path`` is given)."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV, "").strip()
    if env.lower() in OFF:
        return None
    return Path(env).expanduser() if env else default_path()


# --------------------------------------------------------------------------- schema
def _v1(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        f"""
        CREATE TABLE IF NOT EXISTS jobs (
            id TEXT PRIMARY KEY,
            job_id TEXT,
            backend TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            submitted_at REAL,
            started_at REAL,
            finished_at REAL,
            progress REAL,
            error TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            job_class TEXT NOT NULL,
            kernel_id TEXT,
            notebook TEXT,
            run_id TEXT NOT NULL,
            kernel_ended INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL,
            -- the long texts last
            log_tail TEXT,
            error_traceback TEXT
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS jobs_time ON jobs (created_at, id, job_id, backend,
            job_class, notebook, error, tags);
        CREATE INDEX IF NOT EXISTS jobs_notebook ON jobs (notebook, created_at);
        CREATE INDEX IF NOT EXISTS jobs_open ON jobs (run_id)
            WHERE kernel_ended = 0 AND status NOT IN {_FINAL_SQL};
        """,
    )


SEARCH_SQL = (
    "lower(coalesce(job_id, '') || char(31) || backend || char(31) || job_class "
    "|| char(31) || coalesce(notebook, '') || char(31) || coalesce(error, '') "
    "|| char(31) || tags)"
)
"""The ``search`` text of a row in SQL; ``records.search_text`` makes the same in Python."""


def _v2(conn: sqlite3.Connection) -> None:
    # One column holds what the text filter reads (``records.search_text``), and
    # jobs_time holds it in creation order: a text's newest matches come from the index
    # alone, and about one pass over it gives the page and the total. The status is not
    # in it, so that the writer's updates of a job's status leave it be.
    # Rows that other programs insert without ``search`` (an older jobwidgets that had
    # the file open) are found by jobs_unsearched and filled by ``sweep``; a trigger
    # would do it at once, but it costs every insert more than half again.
    _script(
        conn,
        f"""
        ALTER TABLE jobs ADD COLUMN search TEXT NOT NULL DEFAULT '';
        UPDATE jobs SET search = {SEARCH_SQL};
        DROP INDEX IF EXISTS jobs_time;
        CREATE INDEX jobs_time ON jobs (created_at, id, search);
        CREATE INDEX jobs_unsearched ON jobs (id) WHERE search = '';
        """,
    )


def _script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements inside the caller's transaction (``executescript`` would commit)."""
    statement = ""
    for part in script.split(";"):
        statement += part + ";"
        if sqlite3.complete_statement(statement):  # a trigger's body holds ";" too
            if statement.strip(" \n;"):
                conn.execute(statement)
            statement = ""
    if statement.strip(" \n;"):
        conn.execute(statement)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _v1, 1: _v2}
"""``MIGRATIONS[n]`` brings a file from version ``n`` to ``n + 1``."""


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to ``SCHEMA_VERSION``, one step per transaction."""
    while True:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            msg = (
                f"the history file has schema version {version}, newer than this "
                f"jobwidgets' {SCHEMA_VERSION}: upgrade jobwidgets, or point "
                f"{ENV} at another file"
            )
            raise NewerSchemaError(msg)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == version:
                MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


# ------------------------------------------------------------------------ opening
def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL. Switching needs the file to itself, and SQLite answers
    "locked" at once, without its busy timeout, while another process opens it (four
    kernels starting together on a new file): try again until the timeout."""
    until = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > until:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() == "wal":
            return
        if time.monotonic() > until:
            msg = f"the history file stays in journal mode {mode!r}, not WAL"
            raise sqlite3.OperationalError(msg)
        time.sleep(0.01)


def _create(path: Path) -> None:
    """Make the folder and an empty file readable by the owner only, unless they exist."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, full, can't open
        return False
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def move_aside(path: Path, reason: str) -> Path:
    """Rename a file that can't be used (and its WAL), warning once; return the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    msg = (
        f"jobwidgets: the job history {path} could not be opened ({reason}); it was "
        f"moved to {target} and a new history was started"
    )
    warnings.warn(msg, HistoryWarning, stacklevel=3)
    return target


def open_store(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and create, migrate, or replace when corrupt) the history file at ``path``.

    Raises ``NewerSchemaError`` for a file of a newer version, and ``sqlite3.Error`` or
    ``OSError`` when the file can't be made or opened (a read-only or full disk).
    """
    if create:
        _create(path)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not _is_corrupt(exc) or not create:
            raise
        move_aside(path, f"{type(exc).__name__}: {exc}")
    _create(path)
    return _connect(path)


# ----------------------------------------------------------------------- upkeep
def prune(conn: sqlite3.Connection, *, days: float | None, max_jobs: int | None) -> int:
    """Delete records older than ``days`` (by last change) and beyond the newest
    ``max_jobs``; return how many."""
    deleted = 0
    with transaction(conn):
        if days is not None:
            cutoff = time.time() - days * 86400
            deleted += conn.execute("DELETE FROM jobs WHERE updated_at < ?", (cutoff,)).rowcount
        if max_jobs is not None:
            deleted += conn.execute(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs "
                "ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)",
                (max_jobs,),
            ).rowcount
    return deleted


def runs_dir(path: Path) -> Path:
    """The folder of the writers' lock files."""
    return path.with_name(path.name + ".runs")


def hold_run_lock(path: Path, run_id: str) -> int | None:
    """Take this process's lock (held until it exits); the descriptor, or None."""
    if fcntl is None:
        return None
    folder = runs_dir(path)
    folder.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(folder / f"{run_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def release_run_lock(path: Path, run_id: str, fd: int | None) -> None:
    if fd is None:
        return
    with contextlib.suppress(OSError):
        (runs_dir(path) / f"{run_id}.lock").unlink()
    with contextlib.suppress(OSError):
        os.close(fd)


def _run_is_alive(path: Path, run_id: str) -> bool:
    """Whether the process that writes as ``run_id`` still holds its lock."""
    if fcntl is None:
        return True  # can't tell: only its own clean shutdown marks its jobs
    lock = runs_dir(path) / f"{run_id}.lock"
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        lock.unlink()
    return False


def mark_ended(conn: sqlite3.Connection, run_id: str) -> int:
    """Mark the unfinished jobs of ``run_id``: their kernel ended. Return how many."""
    with transaction(conn):
        return conn.execute(
            f"UPDATE jobs SET kernel_ended = 1 WHERE run_id = ? AND kernel_ended = 0 "
            f"AND status NOT IN {_FINAL_SQL}",
            (run_id,),
        ).rowcount


def sweep(conn: sqlite3.Connection, path: Path, *, own_run: str | None = None) -> int:
    """Mark the unfinished jobs of every run whose process is gone, and fill the
    ``search`` text of rows inserted without it; return how many jobs were marked."""
    if conn.execute("SELECT 1 FROM jobs WHERE search = '' LIMIT 1").fetchone():
        with transaction(conn):
            conn.execute(f"UPDATE jobs SET search = {SEARCH_SQL} WHERE search = ''")
    runs = [
        row[0]
        for row in conn.execute(
            f"SELECT DISTINCT run_id FROM jobs WHERE kernel_ended = 0 "
            f"AND status NOT IN {_FINAL_SQL}"
        )
    ]
    marked = 0
    for run_id in runs:
        if run_id != own_run and not _run_is_alive(path, run_id):
            marked += mark_ended(conn, run_id)
    return marked


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``) to wait on the busy
    timeout instead of failing on a lock upgrade."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
