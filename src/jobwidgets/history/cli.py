"""``python -m jobwidgets history``: print or export the job history.

    python -m jobwidgets history                       # the newest 50 jobs, as a table
    python -m jobwidgets history --status ERROR --since 2d
    python -m jobwidgets history --json > jobs.json    # or --csv, or --output jobs.csv
    python -m jobwidgets history --clear --until 30d   # delete what matches

Filters are ``query``'s. Exit status 2 for a bad filter, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import TextIO

from .query import clear_file, query_file, write_records
from .records import JobRecord
from .store import history_path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jobwidgets history",
        description="Print, export or clear the jobwidgets job history, newest first.",
    )
    parser.add_argument("--status", action="append", help="ERROR, DONE, ... (repeatable)")
    parser.add_argument("--backend", help="the backend's name")
    parser.add_argument("--text", help="a substring of id, backend, class, notebook, error or tags")
    parser.add_argument("--notebook", help="the notebook's path")
    parser.add_argument("--since", help="epoch seconds, ISO 8601, or an age: 2d, 3h, 30m")
    parser.add_argument("--until", help="as --since")
    parser.add_argument("--limit", default=None, help="at most this many (table: 50)")
    parser.add_argument("--offset", default="0", help="skip this many")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON")
    form.add_argument("--csv", action="store_true", help="print CSV")
    form.add_argument("--clear", action="store_true", help="delete the matching records")
    parser.add_argument("--output", "-o", help="write to this file instead of stdout")
    parser.add_argument("--path", help="the history file (default: JOBWIDGETS_HISTORY's rule)")
    return parser


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def _duration(record: JobRecord) -> str:
    start = record.started_at or record.submitted_at
    if start is None or record.finished_at is None:
        return "-"
    return f"{record.finished_at - start:.1f}s"


def _table(records: list[JobRecord], out: TextIO) -> None:
    header = ("created", "status", "job id", "backend", "took", "notebook", "error")
    rows = [
        (
            _when(r.created_at),
            r.status_text,
            r.job_id or "(no id)",
            r.backend,
            _duration(r),
            r.notebook or "-",
            (r.error or "").splitlines()[0][:80] if r.error else "",
        )
        for r in records
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; return its exit status."""
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    source = history_path(args.path)
    if source is None:
        print("the job history is off (JOBWIDGETS_HISTORY=off)", file=sys.stderr)
        return 0
    filters = {
        "status": args.status,
        "backend": args.backend,
        "text": args.text,
        "notebook": args.notebook,
        "since": args.since,
        "until": args.until,
    }
    try:
        if args.clear:
            deleted = clear_file(source, **filters)
            print(f"deleted {deleted} record(s) from {source}", file=out)
            return 0
        table = not (args.json or args.csv)
        limit = args.limit if args.limit is not None else (50 if table else None)
        records, total = query_file(source, limit=limit, offset=args.offset, total=table, **filters)
    except (ValueError, TypeError) as exc:
        print(f"python -m jobwidgets history: {exc}", file=sys.stderr)
        return 2
    target = open(args.output, "w", encoding="utf-8", newline="") if args.output else out  # noqa: SIM115
    try:
        if table:
            _table(records, target)
            print(f"{len(records)} of {total} job(s) in {source}", file=target)
        else:
            write_records(records, target, "json" if args.json else "csv")
    finally:
        if target is not out:
            target.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
