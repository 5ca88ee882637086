"""A Dask task of a ``DaskBackend``, as it runs on a worker that has jobwidgets.

``DaskBackend`` submits each function through a small runner (``task_runner`` in
``_dask_cluster``, sent by value so that workers without jobwidgets still run tasks).
On a worker that can import jobwidgets, the runner calls ``run_as_job`` here: the task
runs with ``current_job()`` set to a ``RemoteJob`` whose progress and output travel as
events on the backend's topic (``Worker.log_event``), coalesced, as
``{"key": key, "jobwidgets": message}``. A flusher thread per worker process sends what
a quiet task wrote. A cancel request reaches the task as the worker's own state: Dask
marks a running task whose result nobody wants any more ``cancelled`` (its code runs on,
and ``raise_if_cancelled()`` lets it stop).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from .._remote import LOG_INTERVAL, RemoteJob
from ..capture import job_started
from ..job import _current

__all__ = ["run_as_job", "task_runner"]

_running: dict[str, RemoteJob] = {}
_flusher_started = threading.Lock()
_flusher: threading.Thread | None = None


def task_runner() -> Callable[..., Any]:
    """The function a ``DaskBackend`` submits: ``runner(fn, topic, *args, **kwargs)``.

    It is made inside this function on purpose: a function that can't be imported by
    name is pickled by value, so workers load it without jobwidgets. There it calls
    ``fn`` as a job (``run_as_job``) when jobwidgets can be imported, and plainly when
    it can't (``current_job()`` is then unavailable in the task, and its output is not
    captured).
    """

    def jobwidgets_task(fn: Any, topic: str, /, *args: Any, **kwargs: Any) -> Any:
        try:
            from jobwidgets.backends._dask_task import run_as_job as run
        except ImportError:
            return fn(*args, **kwargs)
        return run(fn, topic, args, kwargs)

    return jobwidgets_task


def run_as_job(
    fn: Callable[..., Any], topic: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Run ``fn(*args, **kwargs)`` as the current job (on a Dask worker's task thread)."""
    import distributed  # a worker has it

    worker = distributed.get_worker()
    state: Any = distributed.worker
    key = state.thread_state.key
    send = _sender(worker, topic, key)
    proxy = RemoteJob(str(key), send, lambda: _cancelled(worker, key))
    _running[str(key)] = proxy
    _start_flusher()
    token = _current.set(proxy)
    ended = job_started(proxy, echo=False)
    try:
        return fn(*args, **kwargs)
    finally:
        ended()
        _current.reset(token)
        _running.pop(str(key), None)
        with contextlib.suppress(Exception):  # output that can't be sent is lost alone
            proxy.flush(end=True)


def _sender(worker: Any, topic: str, key: Any) -> Callable[[tuple[Any, ...]], None]:
    def send(message: tuple[Any, ...]) -> None:
        worker.log_event(topic, {"key": key, "jobwidgets": list(message)})

    return send


def _cancelled(worker: Any, key: Any) -> bool:
    """Whether the cluster no longer wants the task's result (it was cancelled)."""
    task = worker.state.tasks.get(key)
    return task is None or task.state in ("cancelled", "released", "forgotten")


def _start_flusher() -> None:
    global _flusher
    with _flusher_started:
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_forever, name="jobwidgets-flush", daemon=True)
            _flusher.start()


def _flush_forever() -> None:
    while True:
        time.sleep(LOG_INTERVAL)
        for proxy in list(_running.values()):
            with contextlib.suppress(Exception):
                proxy.flush()
