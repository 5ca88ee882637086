"""Reading, exporting and deleting records of a history file (any thread, any process).

Each call opens the file, does its work and closes it; a file that does not exist reads
as an empty history and is not created.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .records import COLUMNS, JobRecord, parse_count, parse_filters, record_from_row
from .store import open_store, sweep, transaction

__all__ = ["check", "clear_file", "export_file", "export_records", "query_file", "sweep_file"]

_ORDER = " ORDER BY created_at DESC, id DESC"


@contextlib.contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection | None]:
    if not path.exists():
        yield None
        return
    conn = open_store(path, create=False)
    try:
        yield conn
    finally:
        conn.close()


def check(*, limit: Any = 1000, offset: Any = 0, **filters: Any) -> None:
    """Check filters and paging as ``query_file`` does, without reading anything."""
    parse_filters(**filters)
    parse_count("limit", limit, allow_none=True)
    parse_count("offset", offset, allow_none=False)


def query_file(
    path: Path, *, limit: Any = 1000, offset: Any = 0, total: bool = False, **filters: Any
) -> tuple[list[JobRecord], int | None]:
    """Matching records, newest first, and (with ``total``) how many match in all."""
    checked = parse_filters(**filters)
    count = parse_count("limit", limit, allow_none=True)
    skip = parse_count("offset", offset, allow_none=False)
    where, params = checked.where()
    paging = [-1 if count is None else count, skip or 0]
    with _open(path) as conn:
        if conn is None:
            return [], 0 if total else None
        if checked.text is not None:
            return _text_search(conn, where, params, paging, total)
        sql = f"SELECT {', '.join(COLUMNS)} FROM jobs{where}{_ORDER} LIMIT ? OFFSET ?"
        rows = conn.execute(sql, [*params, *paging]).fetchall()
        found: int | None = None
        if total:
            found = int(conn.execute(f"SELECT count(*) FROM jobs{where}", params).fetchone()[0])
    return [record_from_row(row) for row in rows], found


def _text_search(
    conn: sqlite3.Connection, where: str, params: list[Any], paging: list[int], total: bool
) -> tuple[list[JobRecord], int | None]:
    """A text search's page and total, in about one pass over the index ``jobs_time``,
    which holds the ``search`` column in creation order, newest last.

    The matches are read newest first, from the index alone, until the page is full (at
    once for a common text). With ``total``, the matches older than the page's last are
    then counted from where the reading stopped: the page and the total together read
    each index entry about once, whether the text is common or rare. Then the page's
    records, by key."""
    limit, skip = paging
    keys: list[str] = []
    count: int | None = None
    cursor = conn.execute(f"SELECT created_at, id FROM jobs{where}{_ORDER}", params)
    wanted = None if limit < 0 else skip + limit
    seen = 0
    last: tuple[float, str] | None = None
    for created_at, key in cursor:
        if seen >= skip:
            keys.append(key)
        seen += 1
        if seen == wanted:
            last = (created_at, key)
            break
    cursor.close()
    if total:
        count = seen
        if last is not None:  # the page is full: count the older matches
            older = f"{where} AND (created_at, id) < (?, ?)"
            sql = f"SELECT count(*) FROM jobs{older}"
            count += int(conn.execute(sql, [*params, *last]).fetchone()[0])
    if len(keys) > 10_000:  # more keys than a statement takes: read the records in order
        rows = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM jobs{where}{_ORDER} LIMIT ? OFFSET ?",
            [*params, *paging],
        ).fetchall()
        return [record_from_row(row) for row in rows], count
    records: list[JobRecord] = []
    if keys:
        marks = ", ".join("?" * len(keys))
        rows = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id IN ({marks}){_ORDER}", keys
        ).fetchall()
        records = [record_from_row(row) for row in rows]
    return records, count


def clear_file(path: Path, **filters: Any) -> int:
    """Delete the matching records; return how many."""
    where, params = parse_filters(**filters).where()
    with _open(path) as conn:
        if conn is None:
            return 0
        with transaction(conn):
            deleted: int = conn.execute(f"DELETE FROM jobs{where}", params).rowcount
    return deleted


def sweep_file(path: Path) -> int:
    """Mark the unfinished jobs of ended kernels (see ``store.sweep``); 0 if it can't."""
    try:
        with _open(path) as conn:
            return 0 if conn is None else sweep(conn, path)
    except (sqlite3.Error, OSError):
        return 0


def export_file(
    path: Path, target: str | os.PathLike[str], format: str | None = None, **filters: Any
) -> int:
    """Write the matching records, newest first, to ``target`` as CSV or JSON; return
    how many. ``format`` defaults to the target's suffix (``.json``), else CSV."""
    _format(target, format)
    records, _ = query_file(path, limit=None, **filters)
    return export_records(records, target, format)


def _format(target: str | os.PathLike[str], format: str | None) -> str:
    if format is None:
        return "json" if str(target).lower().endswith(".json") else "csv"
    if format not in ("csv", "json"):
        msg = f"format must be 'csv' or 'json', got {format!r}"
        raise ValueError(msg)
    return format


def export_records(
    records: list[JobRecord], target: str | os.PathLike[str], format: str | None = None
) -> int:
    """Write records to the file ``target``; return how many."""
    chosen = _format(target, format)
    with open(target, "w", encoding="utf-8", newline="") as out:
        write_records(records, out, chosen)
    return len(records)


def write_records(records: list[JobRecord], out: Any, format: str) -> None:
    """Write records to a text stream as ``csv`` (tags as a JSON list) or ``json``."""
    if format == "json":
        json.dump([record.to_json() for record in records], out, indent=1)
        out.write("\n")
        return
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in records:
        data = record.to_json()
        data["tags"] = json.dumps(data["tags"])
        writer.writerow(["" if data[c] is None else data[c] for c in COLUMNS])
