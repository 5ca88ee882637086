"""What the history holds (``JobRecord``) and how its filters are read and checked.

The filters are the same for ``query``, ``export``, ``clear``, the command line and the
REST API: ``status`` (a name, several, or a comma-separated list), ``backend``,
``text`` (a substring of the id, backend, class, notebook, error or tags; any case),
``notebook`` (its path), ``since`` and ``until`` (on the job's creation time: epoch
seconds, a ``datetime``, an ISO 8601 text, or an age like ``2d``, ``3h``, ``30m``),
``limit`` and ``offset``. A bad value raises ``ValueError`` (``TypeError`` for a wrong
type) that names the filter and says what it takes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import time
from collections.abc import Iterable
from typing import Any

from ..status import JobStatus

__all__ = [
    "COLUMNS",
    "FILTERS",
    "Filters",
    "JobRecord",
    "fold",
    "parse_filters",
    "parse_time",
    "search_text",
]


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """One job as the history keeps it. Times are epoch seconds."""

    id: str
    """The record's key, unique in the history (a job id is unique only per backend)."""
    job_id: str | None
    """The job's id, or None if it never had one."""
    backend: str
    """The backend's name."""
    status: str
    """The last status seen, a ``JobStatus`` name."""
    created_at: float | None
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    progress: float | None
    """Fraction done, 0..1, when the backend reported it."""
    error: str | None
    """The failure's message."""
    error_traceback: str | None
    log_tail: str | None
    """The last lines of the job's log."""
    tags: tuple[str, ...]
    job_class: str
    """The job's class, ``module.QualifiedName``."""
    kernel_id: str | None
    notebook: str | None
    """The notebook's path (relative to the server's root), where known."""
    kernel_ended: bool
    """The process that ran the job ended before the job was final: ``status`` is the
    last one seen, not a final state."""
    updated_at: float
    """When the record last changed."""

    @property
    def final(self) -> bool:
        """Whether the job reached a final state (DONE, CANCELLED, ERROR)."""
        return self.status in ("DONE", "CANCELLED", "ERROR")

    @property
    def status_text(self) -> str:
        """The status as shown: ``RUNNING`` or ``last seen RUNNING · kernel ended``."""
        if self.kernel_ended and not self.final:
            return f"last seen {self.status} · kernel ended"
        return self.status

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values (tags as a list), as the REST API sends it."""
        data = dataclasses.asdict(self)
        data["tags"] = list(self.tags)
        return data


COLUMNS = tuple(field.name for field in dataclasses.fields(JobRecord))
"""The table's columns, in ``JobRecord``'s order."""


def record_from_row(row: tuple[Any, ...]) -> JobRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    try:
        tags = json.loads(values["tags"] or "[]")
    except ValueError:
        tags = []
    values["tags"] = tuple(str(tag) for tag in tags) if isinstance(tags, list) else ()
    values["kernel_ended"] = bool(values["kernel_ended"])
    return JobRecord(**values)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """``text`` with ASCII capitals made small, as SQLite's ``lower()`` does (and as
    ``LIKE`` compares): the text filter matches in any ASCII case."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def search_text(
    job_id: str | None,
    backend: str,
    job_class: str,
    notebook: str | None,
    error: str | None,
    tags: str,
) -> str:
    """What the text filter searches in a record (its ``search`` column): the id,
    backend, class, notebook, error and tags (as JSON), folded, one field apart from the
    next. ``store.SEARCH_SQL`` makes the same text in SQL."""
    sep = "\x1f"
    return fold(
        f"{job_id or ''}{sep}{backend}{sep}{job_class}{sep}{notebook or ''}{sep}"
        f"{error or ''}{sep}{tags}"
    )


FILTERS = ("status", "backend", "text", "notebook", "since", "until")
"""The filters that select records (``limit`` and ``offset`` page them)."""

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(name: str, value: Any, now: float | None = None) -> float | None:
    """``since``/``until`` as epoch seconds: a number, ``datetime``, ``timedelta`` (that
    long ago), ISO 8601 text, digits, or an age like ``2d``, ``3h``, ``30m``, ``45s``,
    ``1w``."""
    if value is None or value == "":
        return None
    now = time.time() if now is None else now
    if isinstance(value, bool):
        pass
    elif isinstance(value, int | float):
        if math.isfinite(value):
            return float(value)
    elif isinstance(value, dt.datetime):
        return value.timestamp()
    elif isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day).timestamp()
    elif isinstance(value, dt.timedelta):
        return now - value.total_seconds()
    elif isinstance(value, str):
        text = value.strip()
        age = _AGE.match(text)
        if age:
            return now - float(age.group(1)) * _UNITS[age.group(2).lower()]
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    msg = (
        f"{name} must be epoch seconds, an ISO 8601 date or time (2024-05-01T12:00), "
        f"or an age like 2d, 3h, 30m or 45s; got {value!r}"
    )
    raise ValueError(msg)


def parse_status(value: Any) -> tuple[str, ...] | None:
    """Status names from a name, a ``JobStatus``, a comma-separated text, or a list."""
    if value is None or value == "" or value == []:
        return None
    items: Iterable[Any] = [value] if isinstance(value, str | JobStatus) else value
    names: list[str] = []
    try:
        iterator = iter(items)
    except TypeError:
        msg = f"status must be a status name or a list of them, got {value!r}"
        raise TypeError(msg) from None
    for item in iterator:
        if isinstance(item, JobStatus):
            names.append(item.name)
            continue
        if not isinstance(item, str):
            msg = f"status must be a status name or a list of them, got {item!r}"
            raise TypeError(msg)
        for part in item.split(","):
            name = part.strip().upper()
            if not name:
                continue
            if name not in JobStatus.__members__:
                valid = ", ".join(JobStatus.__members__)
                msg = f"status must be one of {valid}; got {part.strip()!r}"
                raise ValueError(msg)
            names.append(name)
    return tuple(dict.fromkeys(names)) or None


def parse_count(name: str, value: Any, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be a whole number >= 0, got {value!r}"
        raise (ValueError if isinstance(value, str) else TypeError)(msg)
    if value < 0:
        msg = f"{name} must be a whole number >= 0, got {value}"
        raise ValueError(msg)
    return value


def parse_text(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        msg = f"{name} must be a str, got {type(value).__name__}: {value!r}"
        raise TypeError(msg)
    return value


@dataclasses.dataclass(frozen=True)
class Filters:
    """Checked filters, turned into SQL by ``where``."""

    status: tuple[str, ...] | None = None
    backend: str | None = None
    text: str | None = None
    notebook: str | None = None
    since: float | None = None
    until: float | None = None

    def where(self) -> tuple[str, list[Any]]:
        """A ``WHERE`` clause (or ``""``) and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        if self.status:
            parts.append(f"status IN ({', '.join('?' * len(self.status))})")
            params.extend(self.status)
        if self.backend is not None:
            parts.append("backend = ?")
            params.append(self.backend)
        if self.notebook is not None:
            parts.append("notebook = ?")
            params.append(self.notebook)
        if self.since is not None:
            parts.append("created_at >= ?")
            params.append(self.since)
        if self.until is not None:
            parts.append("created_at <= ?")
            params.append(self.until)
        if self.text is not None:
            parts.append("instr(search, ?) > 0")
            params.append(fold(self.text))
        return (" WHERE " + " AND ".join(parts)) if parts else "", params


def parse_filters(**filters: Any) -> Filters:
    """Check the filters by name; unknown names are a ``TypeError``."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        msg = f"unknown filter {', '.join(unknown)}: the filters are {', '.join(FILTERS)}"
        raise TypeError(msg)
    now = time.time()
    return Filters(
        status=parse_status(filters.get("status")),
        backend=parse_text("backend", filters.get("backend")),
        text=parse_text("text", filters.get("text")),
        notebook=parse_text("notebook", filters.get("notebook")),
        since=parse_time("since", filters.get("since"), now),
        until=parse_time("until", filters.get("until"), now),
    )
