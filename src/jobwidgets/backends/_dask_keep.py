"""Dask jobs kept on the cluster beyond the kernel's life (``keep_on_cluster=True``).

A kept job's task is published on the scheduler as the dataset ``jobwidgets/<job id>``:
``{"future", "topic", "function", "submitted_at"}``. The scheduler holds the task and its
result until the dataset is unpublished (``forget``) or the scheduler stops. A later
kernel fetches the dataset and rebuilds the job from what the scheduler knows: the
task's state, and the events logged on its backend's topic (its starts, and its
progress and output, which ``current_job()`` sent).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .. import _jobcore
from .._remote import forward
from ..errors import JobError
from ._dask_cluster import funcname
from ._dask_reports import Task, started

if TYPE_CHECKING:
    from .dask import DaskJob

__all__ = ["elsewhere", "fetch", "forget", "publish", "replay", "wait_for_known_end"]


def _dataset(job_id: str) -> str:
    return f"jobwidgets/{job_id}"


def publish(client: Any, topic: str, jobs: Iterable[DaskJob], futures: Iterable[Any]) -> None:
    """Keep the tasks of ``jobs`` on the cluster."""
    now = time.time()
    client.publish_dataset(
        **{
            _dataset(job.job_id()): {
                "future": future,
                "topic": topic,
                "function": funcname(job.fn),
                "submitted_at": now,
            }
            for job, future in zip(jobs, futures, strict=True)
        }
    )


def fetch(client: Any, job_id: str, job_class: str) -> dict[str, Any]:
    """What the scheduler keeps of ``job_id``; ``JobError`` if it keeps nothing.

    Then the history notes it on the job's record, if an ended kernel ran a job of
    ``job_class`` (``module.QualifiedName``) with that id and never saw it end."""
    try:
        kept: dict[str, Any] = client.get_dataset(_dataset(job_id))
    except KeyError:
        address = client.scheduler.address
        msg = (
            f"the Dask scheduler at {address} does not hold job {job_id!r}: only jobs "
            "of a DaskBackend(..., keep_on_cluster=True) are kept, until forget_job() "
            "or until the scheduler restarts"
        )
        _jobcore.note_lost(job_class, job_id, lost_note(client, address))
        raise JobError(msg) from None
    return kept


def lost_note(client: Any, address: str) -> str:
    """What the history says of a job the scheduler at ``address`` no longer holds."""
    now = time.time()
    started = client.scheduler_info().get("started")
    since = ""
    if isinstance(started, int | float):
        since = f"; that scheduler has run since {_utc(started)}"
    return (
        f"lost: no longer held by the Dask scheduler at {address} (asked at {_utc(now)}"
        f"{since}): it was lost when the scheduler restarted, or forget_job() let it go; "
        "its result, if it had one, is gone"
    )


def _utc(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))


def forget(client: Any, job_id: str) -> None:
    with contextlib.suppress(KeyError):
        client.unpublish_dataset(_dataset(job_id))


def wait_for_known_end(client: Any, future: Any, job_id: str) -> None:
    """If the task has ended on the cluster, wait (30 s at most) until the client knows."""
    states = client.sync(client.scheduler.get_task_status, keys=[job_id])
    if states.get(job_id) in ("memory", "erred"):
        heard = threading.Event()
        future.add_done_callback(lambda _future: heard.set())
        heard.wait(30)


def replay(
    job: DaskJob,
    task: Task,
    events: list[tuple[float, Any]],
    future: Any,
    finish: Callable[[DaskJob, Any], None],
) -> None:
    """On the reporter thread: what happened to a retrieved job before it was retrieved,
    from the events of its topic, then its end if it has ended."""
    for when, message in events:
        if not isinstance(message, dict) or message.get("key") != job.job_id():
            continue
        forwarded = message.get("jobwidgets")
        if isinstance(forwarded, list | tuple):
            forward(job, tuple(forwarded))
        elif forwarded is None:
            worker = message.get("worker")
            started(job, task, worker if isinstance(worker, str) else None, when)
    if future.done():
        finish(job, future)


def elsewhere(name: str) -> Callable[..., Any]:
    """The ``fn`` of a retrieved job: its name, and an error if called here."""

    def elsewhere(*_args: Any, **_kwargs: Any) -> Any:
        msg = f"{name} belongs to a job retrieved from the cluster; its code runs only there"
        raise JobError(msg)

    elsewhere.__name__ = elsewhere.__qualname__ = name
    setattr(elsewhere, "_jobwidgets_elsewhere", True)  # noqa: B010  (resubmit refuses it)
    return elsewhere
