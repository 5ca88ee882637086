"""The history file's schema: a file made by the previous schema is migrated, and the
text filter finds what the records hold, whoever wrote them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from jobwidgets import JobStatus, history
from jobwidgets.history import store

V1_COLUMNS = (
    "id, job_id, backend, status, created_at, submitted_at, started_at, finished_at, progress, "
    "error, tags, job_class, kernel_id, notebook, run_id, kernel_ended, updated_at, log_tail, "
    "error_traceback"
)


def v1_row(n: int, error: str | None, *, job_class: str = "mod.LocalJob") -> tuple[object, ...]:
    now = time.time() - 1000 + n
    return (f"run-{n}", f"job-{n}", "local", "ERROR" if error else "DONE", now, now, now, now,
            None, error, '["Nightly"]', job_class, "k", "a/Notebook.ipynb", "run", 0, now, None,
            None)  # fmt: skip


def make_v1_file(path: Path, rows: list[tuple[object, ...]]) -> None:
    """A file as the schema of version 1 made it, with records."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    store._v1(conn)
    conn.execute("PRAGMA user_version = 1")
    marks = ", ".join("?" * 19)
    conn.executemany(f"INSERT INTO jobs ({V1_COLUMNS}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    conn.close()


def test_a_file_of_schema_1_is_migrated_and_its_records_are_searched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    make_v1_file(path, [v1_row(1, "ValueError: Bad Input"), v1_row(2, None), v1_row(3, None)])

    found = history.query(text="bad INPUT", path=path)  # any ASCII case, as before

    assert [r.job_id for r in found] == ["job-1"]
    assert [r.job_id for r in history.query(text="nightly", path=path)] == [
        "job-3",
        "job-2",
        "job-1",
    ]
    assert [r.job_id for r in history.query(text="a/notebook", path=path, limit=1)] == ["job-3"]
    assert history.query(text="job-2", path=path)[0].status == "DONE"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == 2
        columns = [row[2] for row in conn.execute("PRAGMA index_info(jobs_time)")]
        assert columns == ["created_at", "id", "search"]


def test_rows_inserted_without_search_text_are_found_after_a_sweep(tmp_path: Path) -> None:
    """An older jobwidgets that had the file open before it was migrated goes on
    inserting rows without ``search``: ``sweep`` (each writer's start, the server's
    reads) fills it."""
    path = tmp_path / "history.sqlite3"
    make_v1_file(path, [v1_row(1, None)])
    store.open_store(path).close()  # migrated, as a newer process opens it
    older = sqlite3.connect(path, isolation_level=None)
    older.execute(f"INSERT INTO jobs ({V1_COLUMNS}) VALUES ({', '.join('?' * 19)})",
                  v1_row(2, "KeyError: 'Älpha'"))  # fmt: skip
    older.close()
    assert history.query(text="keyerror", path=path) == []
    conn = store.open_store(path)
    try:
        store.sweep(conn, path)
    finally:
        conn.close()
    assert [r.job_id for r in history.query(text="KEYERROR: 'Ä", path=path)] == ["job-2"]
    # non-ASCII letters match as written (SQLite's lower() folds ASCII only), as LIKE did
    assert history.query(text="'älpha'", path=path) == []


def test_a_text_search_pages_and_counts_in_one_pass(tmp_path: Path) -> None:
    from jobwidgets.history.query import query_file

    path = tmp_path / "history.sqlite3"
    make_v1_file(path, [v1_row(n, "bad input" if n % 3 == 0 else None) for n in range(1, 31)])
    records, total = query_file(path, text="BAD", limit=4, offset=2, total=True)
    assert total == 10
    assert [r.job_id for r in records] == ["job-24", "job-21", "job-18", "job-15"]
    records, total = query_file(path, text="bad", limit=None, offset=8, total=True)
    assert (total, [r.job_id for r in records]) == (10, ["job-6", "job-3"])
    records, total = query_file(path, text="nothing like it", limit=5, total=True)
    assert (records, total) == ([], 0)


def test_a_writer_process_updates_a_record_it_never_saw_whole(tmp_path: Path) -> None:
    """A batch sent again to a new writer process may hold changes of a job whose first
    batch the ended one wrote: they update the record already written."""
    from jobwidgets.history.child import Child
    from jobwidgets.status import LOG_ENTRY, LOGGED_SUBMITTED

    path = tmp_path / "h.sqlite3"
    said: list[list[Any]] = []

    def child() -> Child:
        made = Child(path, "run-a", "p", kernel_id="k", notebook="n.ipynb",
                     retention_days=None, max_jobs=None, out=said.append)  # fmt: skip
        made.open()
        return made

    first = child()
    new = [[1], ["j1"], ["b"], ["m.Job"], [("old",)], [1.0], None]
    running = LOG_ENTRY.pack(1, JobStatus.RUNNING._code | LOGGED_SUBMITTED, 1.5)
    assert first.rows(1.0, running, new, [])
    first.finish()
    second = child()
    failed = LOG_ENTRY.pack(1, JobStatus.ERROR._code, 2.0)
    assert second.rows(2.0, failed, None, [(1, {"error": "Boom", "tags": ("new",)})])
    second.finish()
    [record] = history.query(path=path)
    assert (record.id, record.job_id, record.backend, record.job_class) == (
        "p-000000001",
        "j1",
        "b",
        "m.Job",
    )
    assert (record.status, record.error, record.tags) == ("ERROR", "Boom", ("new",))
    assert (record.submitted_at, record.finished_at) == (1.5, 2.0)
    assert history.query(path=path, text="boom") and not history.query(path=path, text="old")
    assert said == []
