"""The Jupyter Server extension that serves the job history, read-only, over REST.

Enabled on install (``etc/jupyter/jupyter_server_config.d/jobwidgets.json``); no kernel
is needed. The file is found by the kernels' rule (``JOBWIDGETS_HISTORY``, else
``jobwidgets/history.sqlite3`` under Jupyter's data directory).

``GET /jobwidgets/api/history`` takes the filters of ``jobwidgets.history.query`` as
query parameters (``status`` repeated or comma-separated; ``since``/``until`` as epoch
seconds, ISO 8601 or an age such as ``2d``), and ``limit`` (default 50) and ``offset``.
It answers ``{"records": [...], "total": n, "limit": l, "offset": o, "enabled": true}``,
newest first; with the history off, no records and ``"enabled": false``. A bad filter
answers 400 with ``{"message": "..."}`` naming it; a file that can't be read, 503 with
the reason.

``DELETE /jobwidgets/api/history`` takes the same filters (not the paging), deletes what
matches and answers ``{"deleted": n}``.

Both go through Jupyter Server's authentication and authorization (``APIHandler``,
``@web.authenticated``, ``@authorized`` on the resource ``jobwidgets``); the DELETE is
XSRF-checked as every non-GET API request is. Before answering a GET, the server marks
the unfinished jobs of kernels that have ended (at most every few seconds).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .query import check, clear_file, query_file, sweep_file
from .records import JobRecord
from .store import NewerSchemaError, history_path

__all__ = ["HistoryHandler"]

ROUTE = "/jobwidgets/api/history"
DEFAULT_LIMIT = 50
SWEEP_EVERY = 5.0
_last_sweep = [0.0]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jobwidgets.history.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    route = url_path_join(web_app.settings["base_url"], ROUTE)
    root_dir = str(getattr(serverapp, "root_dir", "") or "")
    web_app.add_handlers(".*$", [(route, HistoryHandler, {"root_dir": root_dir})])
    serverapp.log.info("jobwidgets: serving the job history at %s", route)


def server_path(root_dir: str, notebook: str) -> str:
    """The path a kernel of this server records for ``notebook``, a path relative to the
    server's root as the front end knows it: Jupyter Server gives its kernels the
    absolute path in ``JPY_SESSION_NAME``. An absolute ``notebook`` stays as it is."""
    if not root_dir or os.path.isabs(notebook):
        return notebook
    return os.path.normpath(os.path.join(root_dir, notebook.lstrip("/")))


def front_end_path(root_dir: str, notebook: str | None) -> str | None:
    """A recorded notebook path as the front end knows it: relative to the server's
    root when it lies under it, else as recorded."""
    if not notebook or not root_dir or not os.path.isabs(notebook):
        return notebook
    root = os.path.normpath(root_dir)
    path = os.path.normpath(notebook)
    if os.path.commonpath([root, path]) != root or path == root:
        return notebook
    return os.path.relpath(path, root).replace(os.sep, "/")


class HistoryHandler(APIHandler):
    """``GET`` and ``DELETE`` on the job history. Notebook paths, in the ``notebook``
    filter and in the records, are relative to the server's root, as the front end
    knows them."""

    auth_resource = "jobwidgets"

    def initialize(self, root_dir: str = "") -> None:
        self.root_dir = root_dir

    def _record(self, record: JobRecord) -> dict[str, Any]:
        data = record.to_json()
        data["notebook"] = front_end_path(self.root_dir, record.notebook)
        return data

    def _filters(self) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        statuses = self.get_query_arguments("status")
        if statuses:
            filters["status"] = statuses
        for name in ("backend", "text", "notebook", "since", "until"):
            value = self.get_query_argument(name, None)
            if value is not None:
                filters[name] = value
        if isinstance(filters.get("notebook"), str):
            filters["notebook"] = server_path(self.root_dir, filters["notebook"])
        return filters

    def _bad(self, exc: Exception) -> None:
        self.set_status(400)
        self.finish(json.dumps({"message": str(exc)}))

    def _unreadable(self, path: Path | None, exc: Exception) -> None:
        self.log.warning("jobwidgets: the job history %s can't be used: %s", path, exc)
        self.set_status(503)
        message = (
            f"the job history {path} can't be used ({type(exc).__name__}: {exc}); a kernel "
            f"that starts recording replaces a damaged file"
        )
        self.finish(json.dumps({"message": message}))

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = history_path()
        records: list[JobRecord] = []
        total: int | None = 0
        limit = self.get_query_argument("limit", str(DEFAULT_LIMIT))
        offset = self.get_query_argument("offset", "0")
        try:
            filters = self._filters()
            if path is None:
                check(limit=limit, offset=offset, **filters)
            else:
                if time.monotonic() - _last_sweep[0] > SWEEP_EVERY:
                    _last_sweep[0] = time.monotonic()
                    await asyncio.to_thread(sweep_file, path)
                records, total = await asyncio.to_thread(
                    query_file, path, limit=limit, offset=offset, total=True, **filters
                )
        except (ValueError, TypeError) as exc:
            self._bad(exc)
            return
        except (sqlite3.Error, OSError, NewerSchemaError) as exc:
            self._unreadable(path, exc)
            return
        self.finish(
            json.dumps(
                {
                    "records": [self._record(record) for record in records],
                    "total": total,
                    "limit": int(limit),
                    "offset": int(offset),
                    "enabled": path is not None,
                }
            )
        )

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        path = history_path()
        try:
            filters = self._filters()
            if path is None:
                check(**filters)
                deleted = 0
            else:
                deleted = await asyncio.to_thread(clear_file, path, **filters)
        except (ValueError, TypeError) as exc:
            self._bad(exc)
            return
        except (sqlite3.Error, OSError, NewerSchemaError) as exc:
            self._unreadable(path, exc)
            return
        self.finish(json.dumps({"deleted": deleted}))
