"""Cancel requests that reach the kernel outside the widget's comm.

While a cell blocks the main shell (in ``wait_for_final_state``, say), a comm message
from a Cancel click waits behind it. The table's front end then sends its own
``execute_request`` on a kernel subshell (ipykernel 7 runs each subshell on its own
thread), with code that calls ``cancel(table_id, keys)`` or ``sync(table_id)`` here.
It runs at once, on the subshell's thread: ``job.cancel()`` is thread-safe, and the rows
show the outcome at the bridge's next flush, never touching the widget from this thread.
"""

from __future__ import annotations

import json

from .table import _tables

__all__ = ["cancel", "sync"]


def cancel(table_id: str, keys: list[str]) -> str:
    """Cancel rows ``keys`` of the open table ``table_id``; return the outcomes as JSON."""
    table = _tables.get(table_id)
    if table is None:
        return json.dumps([{"ok": False, "message": f"no open job table {table_id!r}"}])
    return json.dumps(table._cancel_keys([str(key) for key in keys]))


def sync(table_id: str) -> str:
    """Ask the open table ``table_id`` to send all its rows at the next flush."""
    table = _tables.get(table_id)
    if table is None:
        return json.dumps({"ok": False, "message": f"no open job table {table_id!r}"})
    table._request_reset()
    return json.dumps({"ok": True})
