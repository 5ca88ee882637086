"""Jobs on a Dask cluster: a local one, or any cluster a ``distributed.Client`` reaches.

``DaskBackend()`` starts a process-based ``distributed.LocalCluster`` and closes it with
the backend. ``DaskBackend(address="tcp://...")`` and ``DaskBackend(client=...)`` use a
cluster that already runs (Kubernetes, Slurm through dask-jobqueue, ``dask scheduler``
and ``dask worker`` by hand), and leave it running when the backend closes.

Every transition is pushed, nothing is polled. A Dask ``Future`` says ``pending`` until
its task is over, so the start of a task comes from the workers themselves: a small
worker plugin sees a task of this backend enter the ``executing`` state and logs an
event on the backend's topic, which the client hears through ``subscribe_topic``. The
plugin is defined so that it travels to the workers by value: workers need
``distributed``, not jobwidgets. The end of a task comes from its future.

A job is QUEUED from submission until a worker starts it (also while it waits in a
worker's own queue), RUNNING while a worker executes it, then DONE, ERROR or CANCELLED.
When a worker dies while it runs the task, Dask either runs the task again elsewhere (the
job goes back to QUEUED, then RUNNING, and ``attempts`` counts the starts) or, once
``distributed.scheduler.allowed-failures`` is used up, fails it with ``KilledWorker``
(the job ends in ERROR).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from .._shown import shown
from ..errors import JobError
from ..job import CancelAttempt, format_exception
from ..status import JobStatus
from ._dask_cluster import (
    ANNOTATION,
    PLUGIN_NAME,
    annotate,
    bind,
    connect,
    distributed,
    funcname,
    start_local_cluster,
    task_start_plugin,
)
from .function import FunctionJob

__all__ = ["DaskBackend", "DaskJob", "task_start_plugin"]


@dataclasses.dataclass(slots=True)
class _Task:
    """The cluster's side of one ``DaskJob``: made by the job, filled in by its backend.

    The backend writes it (``future`` when it submits, ``worker`` and ``attempts`` on
    its reporter thread as workers start the task); the job only reads it.
    """

    future: Any = None
    worker: str | None = None
    attempts: int = 0


class DaskJob(FunctionJob):
    """A function call run as a task on a Dask cluster. Its job id is the task's key."""

    def __init__(
        self,
        backend: DaskBackend,
        job_id: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(backend, DaskBackend):
            msg = f"a DaskJob needs a DaskBackend, got {type(backend).__name__}"
            raise TypeError(msg)
        super().__init__(backend, job_id, fn, args, kwargs)
        self._task = _Task()

    def submit(self) -> None:
        """Submit the task to the cluster; the job becomes QUEUED."""
        backend: DaskBackend = self._backend
        backend._submit(self, self._task)

    def cancel(self) -> bool:
        """Cancel the task; return True if the job is (now) CANCELLED.

        A queued task never runs. A task that already runs is released by the cluster
        and its result is dropped, but Dask can't stop its code: the function goes on
        until it returns, and keeps its worker thread busy until then. The job is
        CANCELLED at once either way. A job that already ended returns False.
        """
        backend: DaskBackend = self._backend
        return self._cancel_with(lambda: backend._stop(self, self._task))

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the task and return its value, fetched from the cluster.

        Raises:
            JobError: the task raised (chained from its exception, whose remote
                traceback is in ``error_traceback``) or was cancelled.
            JobTimeoutError: the task did not finish within ``timeout`` seconds.
        """
        return self._outcome(timeout, lambda: self._task.future.result())

    @property
    def future(self) -> Any:
        """The task's ``distributed.Future`` (None before submission)."""
        return self._task.future

    @property
    def worker(self) -> str | None:
        """The address of the worker that started the task last, if any did."""
        return self._task.worker

    @property
    def attempts(self) -> int:
        """How many times a worker started the task (more than 1 after a lost worker)."""
        return self._task.attempts


class DaskBackend:
    """Runs functions as tasks on a Dask cluster; every job's status is pushed.

    Args:
        address: the scheduler of a running cluster, e.g. ``"tcp://10.0.0.5:8786"``.
        client: a connected, synchronous ``distributed.Client`` to use instead.
        name: a readable name for tables (default ``"dask"``).
        **cluster_options: options for the embedded ``distributed.LocalCluster`` made
            when neither ``address`` nor ``client`` is given, such as ``n_workers`` and
            ``threads_per_worker``. It runs its workers in processes, with
            ``dashboard_address=":0"`` (a free port) and quiet logs
            (``silence_logs=logging.CRITICAL``: failures are reported by the jobs),
            unless told otherwise.

    A script that starts the embedded cluster needs an ``if __name__ == "__main__":``
    guard, since its worker processes are spawned. A context manager: leaving it cancels
    the unfinished jobs and closes the client and cluster this backend made, never ones
    it was given.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        client: Any = None,
        name: str = "dask",
        **cluster_options: Any,
    ) -> None:
        if address is not None and client is not None:
            msg = "give DaskBackend either address= or client=, not both"
            raise ValueError(msg)
        if cluster_options and (address is not None or client is not None):
            options = ", ".join(sorted(cluster_options))
            msg = (
                f"cluster options ({options}) apply only to the embedded LocalCluster; "
                "configure an existing cluster where it is started"
            )
            raise TypeError(msg)
        if address is not None and not isinstance(address, str):
            msg = (
                "address must be a scheduler address str like 'tcp://host:8786', "
                f"got {shown(address)}"
            )
            raise TypeError(msg)
        if client is not None:
            if not isinstance(client, distributed.Client):
                msg = f"client must be a distributed.Client, got {type(client).__name__}"
                raise TypeError(msg)
            if client.asynchronous:
                msg = "DaskBackend needs a synchronous Client (made without asynchronous=True)"
                raise ValueError(msg)
        if not isinstance(name, str) or not name:
            msg = f"name must be a non-empty str, got {shown(name)}"
            raise TypeError(msg)
        self.name = name
        self._lock = threading.Lock()
        self._closed = False
        self._jobs: dict[str, tuple[DaskJob, _Task]] = {}  # the unfinished ones, by key
        self._batch = threading.local()  # map()'s batch, on the thread that maps
        self._workers: set[str] = set()
        self._topic = f"jobwidgets-{uuid.uuid4().hex}"
        self.cluster: Any = None
        self._owns_client = client is None
        if client is not None:
            self.client: Any = client
        elif address is not None:
            self.client = connect(address)
        else:
            cluster_options.setdefault("processes", True)
            cluster_options.setdefault("dashboard_address", ":0")
            # failures reach the jobs (message and traceback): keep the workers' logs quiet
            cluster_options.setdefault("silence_logs", logging.CRITICAL)
            self.cluster = start_local_cluster(cluster_options)
            try:
                self.client = connect(self.cluster)
            except BaseException:
                self.cluster.close()
                raise
        # one thread per backend turns cluster events into job reports, so observers
        # never run on (and never stall) the client's event loop
        self._reporter = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix=f"jobwidgets-{name}"
        )
        try:
            self.client.register_plugin(task_start_plugin(), name=PLUGIN_NAME)
            self.client.subscribe_topic(self._topic, self._on_task_start)
        except BaseException:
            self._shutdown()
            raise

    # ------------------------------------------------------------------ public API
    def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> DaskJob:
        """Submit ``fn(*args, **kwargs)`` as a task; return its job, already QUEUED.

        A ``DaskJob`` (or a ``distributed.Future``) among ``args`` is passed to ``fn``
        as its value, and the task waits for it, as with ``Client.submit``.
        """
        job = DaskJob(self, self._key(fn), fn, args, kwargs)
        job.submit()
        return job

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[DaskJob]:
        """Submit ``fn`` once per item (like the built-in ``map``), in one batch."""
        if not callable(fn):
            msg = f"fn must be callable: DaskBackend.map needs a callable, got {shown(fn)}"
            raise TypeError(msg)
        if not iterables:
            msg = "DaskBackend.map needs at least one iterable of arguments"
            raise TypeError(msg)
        jobs = [DaskJob(self, self._key(fn), fn, args) for args in zip(*iterables, strict=False)]
        batch: list[tuple[DaskJob, _Task]] = []
        self._batch.entries = batch  # each submit() below joins it
        try:
            for job in jobs:
                job.submit()
        finally:
            self._batch.entries = None
        self._send_batch(batch)
        return jobs

    @property
    def dashboard_link(self) -> str:
        """The address of the cluster's dashboard."""
        return str(self.client.dashboard_link)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def close(self) -> None:
        """Cancel the unfinished jobs; close the client and cluster this backend made."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = [job for job, _ in self._jobs.values()]
        for job in jobs:
            job.cancel()
        self._shutdown()

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "closed" if self._closed else str(self.client.scheduler.address)
        return f"<DaskBackend {self.name!r} {where}>"

    # --------------------------------------------------------------- for DaskJob
    def _key(self, fn: Callable[..., Any]) -> str:
        return f"{funcname(fn)}-{uuid.uuid4().hex}"

    def _submit(self, job: DaskJob, task: _Task) -> None:
        """``DaskJob.submit()``: send the task, or add it to ``map()``'s batch."""
        self._check_open()
        batch: list[tuple[DaskJob, _Task]] | None = getattr(self._batch, "entries", None)
        if batch is not None:
            batch.append((job, task))
        else:
            self._send_batch([(job, task)])

    def _check_open(self) -> None:
        if self._closed:
            msg = f"{self.name} is closed; create a new DaskBackend to run more jobs"
            raise JobError(msg)

    def _send_batch(self, entries: list[tuple[DaskJob, _Task]]) -> None:
        with self._lock:
            self._check_open()
            for job, task in entries:
                self._jobs[job.job_id()] = (job, task)
        jobs = [job for job, _ in entries]
        # QUEUED before the task exists, so that its start can't be reported first
        for job in jobs:
            job._report(JobStatus.QUEUED)
        try:
            futures = self._send(jobs)
        except BaseException as exc:
            message, tb = format_exception(exc)
            for job in jobs:
                self._jobs.pop(job.job_id(), None)
                error = f"can't submit to Dask: {message}"
                job._report(JobStatus.ERROR, exception=exc, error=error, error_traceback=tb)
            raise
        for (job, task), future in zip(entries, futures, strict=True):
            task.future = future
            future.add_done_callback(functools.partial(self._on_done, job))

    def _send(self, jobs: list[DaskJob]) -> list[Any]:
        client = self.client
        with annotate(**{ANNOTATION: self._topic}):
            if len(jobs) == 1:
                job = jobs[0]
                fn, kwargs = bind(job.fn, job.kwargs)
                args = [_as_future(arg) for arg in job.args]
                return [client.submit(fn, *args, key=job.job_id(), pure=False, **kwargs)]
            fn = jobs[0].fn
            columns = [list(column) for column in zip(*(job.args for job in jobs), strict=True)]
            columns = [[_as_future(arg) for arg in column] for column in columns]
            keys = [job.job_id() for job in jobs]
            futures: list[Any] = client.map(fn, *columns, key=keys, pure=False)
            return futures

    def _stop(self, job: DaskJob, task: _Task) -> CancelAttempt:
        """``cancel()``'s attempt: release the task, unless it has already ended."""
        future = task.future
        if future is not None:
            if future.status in ("finished", "error"):
                return CancelAttempt.NOT_STOPPED  # it ended; its final state is on its way
            future.cancel(reason="cancelled through jobwidgets")
        self._jobs.pop(job.job_id(), None)
        return CancelAttempt.STOPPED

    # ---------------------------------------------------------- cluster callbacks
    def _on_task_start(self, event: tuple[float, dict[str, Any]]) -> None:
        """On the client's event loop: a worker started one of this backend's tasks."""
        message = event[1]
        worker = message.get("worker")
        if isinstance(worker, str) and worker not in self._workers:
            # hear of this worker's removal, to report the task's retry
            self._workers.add(worker)
            self.client.subscribe_topic(worker, self._on_worker_event)
        entry = self._jobs.get(message.get("key"))  # type: ignore[arg-type]
        if entry is not None:
            self._reporter.submit(_started, *entry, worker)

    def _on_worker_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """On the client's event loop: something happened to a worker we used."""
        message = event[1]
        if not isinstance(message, dict) or message.get("action") != "remove-worker":
            return
        for key in message.get("processing-tasks", ()):
            entry = self._jobs.get(key)
            if entry is not None:
                self._reporter.submit(_requeued, entry[0])

    def _on_done(self, job: DaskJob, future: Any) -> None:
        """On Dask's callback thread: the task's future is finished, erred or cancelled.

        The report goes through the same thread as the start of the task, which the
        cluster told earlier, so that a task's RUNNING always comes before its end.
        """
        try:
            self._reporter.submit(self._finish, job, future)
        except RuntimeError:  # the backend is closing: report from here
            self._finish(job, future)

    def _finish(self, job: DaskJob, future: Any) -> None:
        self._jobs.pop(job.job_id(), None)
        state = future.status
        if state == "finished":
            job._report(JobStatus.DONE)
        elif state == "error":
            try:
                exc = future.exception(timeout=30)
                tb = future.traceback(timeout=30)
            except Exception as failure:
                exc, tb = failure, failure.__traceback__
            message, text = format_exception(exc, tb)
            job._report(JobStatus.ERROR, exception=exc, error=message, error_traceback=text)
        elif job.cancel_requested:
            job._report(JobStatus.CANCELLED)
        else:  # cancelled by Dask itself, e.g. when the client lost its scheduler
            reason = getattr(getattr(future, "_state", None), "exception", None)
            job._report(JobStatus.CANCELLED, error=str(reason or "cancelled by Dask"))

    def _shutdown(self) -> None:
        client = self.client
        for topic in [self._topic, *self._workers]:
            with contextlib.suppress(Exception):  # already gone with the connection
                client.unsubscribe_topic(topic)
        if self._owns_client:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
        self._reporter.shutdown(wait=True)


def _started(job: DaskJob, task: _Task, worker: str | None) -> None:
    """On the reporter thread: a worker started the task."""
    task.worker = worker
    task.attempts += 1
    job._report(JobStatus.RUNNING)


def _requeued(job: DaskJob) -> None:
    """On the reporter thread: the worker running the task left; Dask runs it again."""
    if job.status() is JobStatus.RUNNING:
        job._report(JobStatus.QUEUED)


def _as_future(value: Any) -> Any:
    if isinstance(value, DaskJob):
        future = value.future
        if future is None:
            msg = f"job {value.job_id()!r} was not submitted, so it can't be an argument"
            raise JobError(msg)
        return future
    return value
