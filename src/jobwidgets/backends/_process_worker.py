"""The worker side of ``LocalBackend(kind="process")``'s pool (see ``_process_pool``).

A worker process runs one task at a time from its pipe, and answers ``b"started"``,
then, while the task runs, ``("progress", ...)`` and ``("log", ...)`` messages from the
task's ``RemoteJob`` (``jobwidgets._remote``), then its final reply.
"""

from __future__ import annotations

import contextlib
import multiprocessing.connection
import pickle
import threading
import time
from typing import Any

from .._remote import LOG_INTERVAL, RemoteJob
from ..capture import job_started
from ..job import _current, format_exception

__all__ = ["describe", "worker_main"]


def worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: run tasks from ``conn`` until it closes.

    While a task runs, ``current_job()`` is a ``RemoteJob`` whose progress and output
    travel up the same pipe (see ``jobwidgets._remote``); a flusher thread sends what
    the task wrote while it is quiet. ``sending`` keeps each message whole.
    """
    sending = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message)
        with sending:
            conn.send_bytes(data)

    running: list[RemoteJob] = []
    threading.Thread(target=_flusher, args=(running,), name="jobwidgets-flush", daemon=True).start()
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            return
        with sending:
            conn.send_bytes(b"started")
        proxy: RemoteJob | None = None
        try:
            job_id, fn, args, kwargs = pickle.loads(payload)
            proxy = RemoteJob(str(job_id), send)
            running.append(proxy)
            token = _current.set(proxy)
            ended = job_started(proxy, echo=False)
            try:
                value = fn(*args, **kwargs)
            finally:
                ended()
                _current.reset(token)
        except BaseException as exc:
            reply = _error_reply(exc)
        else:
            try:
                reply = pickle.dumps(("done", pickle.dumps(value), None, None))
            except BaseException as exc:
                message, tb = describe(exc)
                reply = pickle.dumps(("error", None, f"result can't be pickled: {message}", tb))
        if proxy is not None:
            running.clear()
            with contextlib.suppress(Exception):  # a line that can't be sent is lost alone
                proxy.flush(end=True)
        with sending:
            conn.send_bytes(reply)


def _flusher(running: list[RemoteJob]) -> None:
    """In a worker: send the running task's pending output and progress now and then."""
    while True:
        time.sleep(LOG_INTERVAL)
        for proxy in list(running):
            with contextlib.suppress(Exception):
                proxy.flush()


def describe(exc: BaseException) -> tuple[str, str]:
    """``format_exception``, or a plain fallback if the exception can't even be shown."""
    try:
        return format_exception(exc)
    except BaseException:
        return f"{type(exc).__name__} (its message can't be shown)", ""


def _error_reply(exc: BaseException) -> bytes:
    """The worker's ``("error", pickled exception or None, message, traceback)``.

    The exception is pickled on its own, so that the message and traceback reach the
    parent even when the exception can't be pickled here or unpickled there.
    """
    message, tb = describe(exc)
    try:
        blob: bytes | None = pickle.dumps(exc)
    except BaseException:
        blob = None
    return pickle.dumps(("error", blob, message, tb))
