"""The job history: every job of this process, kept in an SQLite file across restarts.

In a Jupyter kernel it is on from ``import jobwidgets``; in plain Python it is off until
``jobwidgets.history.enable()``. The file is ``jobwidgets/history.sqlite3`` under
Jupyter's data directory; ``JOBWIDGETS_HISTORY=<path>`` moves it and
``JOBWIDGETS_HISTORY=off`` turns it off (then ``enable()`` without a path does nothing).

Reading works whether or not this process records: ``query``, ``export`` and ``clear``
read the file this process writes, else the file the rules above name. One thread per
process, ``jobwidgets-history``, takes the jobs' changes and sends them in batches to
one writer process (``python -m jobwidgets.history.child``), which does the writing (see
``writer``): nothing is written on a job's thread or the kernel's main thread, and no
SQLite work for recording happens in this process.

Retention: at start, records older than 90 days (``JOBWIDGETS_HISTORY_DAYS``) and beyond
the newest 100,000 (``JOBWIDGETS_HISTORY_MAX_JOBS``) are deleted; ``enable()`` takes
both as arguments too.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from .. import _jobcore
from . import writer as _writer_module
from .query import check, clear_file, export_file, export_records, query_file
from .records import JobRecord
from .store import ENV, HistoryWarning, history_path
from .writer import Writer

__all__ = [
    "ENV",
    "HistoryWarning",
    "JobRecord",
    "clear",
    "disable",
    "enable",
    "enabled",
    "export",
    "flush",
    "location",
    "query",
]

_writer: Writer | None = None
_lock = threading.Lock()


def _env_number(name: str, default: float | None) -> float | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if text.lower() in ("none", "off", "0"):
        return None
    try:
        return float(text)
    except ValueError:
        msg = f"{name} must be a number (or 'none' to keep every record), got {text!r}"
        raise ValueError(msg) from None


def enable(
    path: str | os.PathLike[str] | None = None,
    *,
    interval: float = 0.5,
    retention_days: float | None = None,
    max_jobs: int | None = None,
    kernel_id: str | None = None,
    notebook: str | None = None,
) -> Path | None:
    """Record every job of this process from now on; return the file, or None when off.

    Args:
        path: the SQLite file; default ``JOBWIDGETS_HISTORY`` or Jupyter's data
            directory. With ``JOBWIDGETS_HISTORY=off`` and no path, nothing is recorded.
        interval: seconds between two batched writes.
        retention_days, max_jobs: what start-up pruning keeps (default 90 days and
            100,000 jobs, or ``JOBWIDGETS_HISTORY_DAYS`` / ``JOBWIDGETS_HISTORY_MAX_JOBS``).
        kernel_id, notebook: stored with each record (a kernel sets them itself).

    Enabling again with another path moves the recording there.
    """
    global _writer
    target = history_path(path)
    if not isinstance(interval, int | float) or not 0 < interval <= 60:
        msg = f"interval must be seconds between 0 and 60, got {interval!r}"
        raise ValueError(msg)
    days = _env_number("JOBWIDGETS_HISTORY_DAYS", 90) if retention_days is None else retention_days
    most = _env_number("JOBWIDGETS_HISTORY_MAX_JOBS", 100_000) if max_jobs is None else max_jobs
    with _lock:
        if _writer is not None:
            if target is not None and _writer.path == target.absolute():
                return target
            _writer.close()
            _writer = None
        if target is None:
            return None
        _writer = Writer(
            target.absolute(),
            interval=interval,
            kernel_id=kernel_id,
            notebook=notebook,
            retention_days=days,
            max_jobs=None if most is None else int(most),
        ).start()
    return target


def disable() -> None:
    """Stop recording: write what is pending, mark this process's unfinished jobs
    "kernel ended", and stop the history thread and its writer process."""
    global _writer
    with _lock:
        writer, _writer = _writer, None
    if writer is not None:
        writer.close()


def enabled() -> bool:
    """Whether this process records its jobs."""
    return _writer is not None


def flush(timeout: float | None = 10) -> bool:
    """Write what this process recorded so far, now; False on timeout."""
    writer = _writer
    return True if writer is None else writer.flush(timeout)


def location() -> Path | None:
    """The file that ``query`` reads: the one this process writes, else the rule's
    (None when ``JOBWIDGETS_HISTORY=off``)."""
    writer = _writer
    return writer.path if writer is not None else history_path()


def _source(path: str | os.PathLike[str] | None) -> Path | None:
    if path is not None:
        return Path(path)
    flush()
    return location()


def query(
    status: Any = None,
    backend: str | None = None,
    text: str | None = None,
    notebook: str | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 1000,
    offset: int = 0,
    *,
    path: str | os.PathLike[str] | None = None,
) -> list[JobRecord]:
    """The records that match, newest first (by creation time).

    Args:
        status: a ``JobStatus`` or its name, several, or a comma-separated text.
        backend: the backend's name, exactly.
        text: a substring of the job id, backend, class, notebook, error or tags.
        notebook: the notebook's path, exactly.
        since, until: bounds on the creation time: epoch seconds, a ``datetime``, a
            ``timedelta`` (that long ago), ISO 8601 text, or an age such as ``"2d"``.
        limit, offset: paging (``limit`` >= 0).
        path: another history file to read.

    Raises:
        ValueError: a bad filter value (an unknown status, a negative limit, an
            unparseable ``since``), named in the message.
    """
    source = _source(path)
    filters = {"status": status, "backend": backend, "text": text, "notebook": notebook}
    filters.update(since=since, until=until)
    if source is None:  # off: nothing to read, but bad filters are still errors
        check(limit=limit, offset=offset, **filters)
        return []
    records, _ = query_file(source, limit=limit, offset=offset, **filters)
    return records


def export(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    history: str | os.PathLike[str] | None = None,
    **filters: Any,
) -> int:
    """Write the matching records to ``path`` as ``"csv"`` or ``"json"`` (default: by
    the suffix, else CSV); return how many. Takes ``query``'s filters."""
    source = _source(history)
    if source is None:
        check(**filters)
        return export_records([], path, format)
    return export_file(source, path, format, **filters)


def clear(*, path: str | os.PathLike[str] | None = None, **filters: Any) -> int:
    """Delete the matching records (all, without filters); return how many."""
    source = _source(path)
    if source is None:
        check(**filters)
        return 0
    return clear_file(source, **filters)


def _forget_in_child() -> None:
    """A forked child has no writer thread: it records nothing (until it enables), and
    lets go of the writer process's pipe (which must see its end with its parent)."""
    global _writer
    if _writer is not None:
        _writer._forget_in_child()
    _writer = None
    _writer_module.new_prefix()
    _jobcore.set_recorder(None)
    _jobcore.set_lost_note(None)


atexit.register(disable)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
