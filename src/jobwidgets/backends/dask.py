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
(the job ends in ERROR). When the client loses the scheduler, the unfinished jobs end in
ERROR, saying so, and the backend refuses new jobs.

Jobs can outlive the kernel on a cluster that outlives it: ``DaskBackend(address,
keep_on_cluster=True)`` publishes each task as a Dask dataset (``Client.publish_dataset``),
which the scheduler keeps until it is forgotten (``forget_job``) or the scheduler stops.
A later kernel gets the job back with ``retrieve_job(job_id)`` (the legacy qiskit name).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import logging
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from .._remote import forward
from .._shown import shown
from .._tags import check_tags
from ..errors import JobError
from ..job import CancelAttempt, format_exception
from ..logs import DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, check_log_bounds
from ..status import JobStatus
from . import _dask_keep as keep
from ._dask_cluster import (
    ANNOTATION,
    PLUGIN_NAME,
    annotate,
    bind,
    check_arguments,
    connect,
    connect_to_scheduler,
    funcname,
    start_local_cluster,
    task_start_plugin,
)
from ._dask_reports import Task as _Task
from ._dask_reports import finish, guarded, requeued, started, value_of
from ._dask_task import task_runner
from .function import FunctionJob

__all__ = ["DaskBackend", "DaskJob", "task_start_plugin"]

log = logging.getLogger("jobwidgets")

CANCEL_REASON = "cancelled through jobwidgets"


class DaskJob(FunctionJob):
    """A function call run as a task on a Dask cluster. Its job id is the task's key."""

    def __init__(
        self,
        backend: DaskBackend,
        job_id: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        tags: Any = (),
        resubmitted_from: str | None = None,
    ) -> None:
        if not isinstance(backend, DaskBackend):
            msg = f"a DaskJob needs a DaskBackend, got {type(backend).__name__}"
            raise TypeError(msg)
        super().__init__(
            backend, job_id, fn, args, kwargs, tags=tags, resubmitted_from=resubmitted_from
        )
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
                traceback is in ``error_traceback``) or was cancelled; or its value
                can't be brought into this process (it doesn't pickle on the worker, or
                doesn't unpickle here, or was lost with the scheduler).
            JobTimeoutError: the task did not finish within ``timeout`` seconds.
        """
        return self._outcome(timeout, lambda: value_of(self, self._task.future))

    def _can_resubmit(self) -> bool:
        backend: DaskBackend = self._backend
        retrieved = getattr(self.fn, "_jobwidgets_elsewhere", False)
        return not (retrieved or backend._lost) and super()._can_resubmit()

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
        """How many times a worker started the task (more than 1 after a lost worker).

        A worker that dies at once may not tell that it started the task; a job that
        ends with ``KilledWorker`` counts at least the attempts that Dask allowed.
        """
        return self._task.attempts


_JOB_CLASS = f"{DaskJob.__module__}.{DaskJob.__qualname__}"
"""How the history names the class of this backend's jobs."""


class DaskBackend:
    """Runs functions as tasks on a Dask cluster; every job's status is pushed.

    Args:
        address: the scheduler of a running cluster, e.g. ``"tcp://10.0.0.5:8786"``.
        client: a connected, synchronous ``distributed.Client`` to use instead.
        connect_timeout: with ``address``, the seconds to wait for the scheduler to
            answer (default 5); ``OSError`` says what answered, or that nothing did.
        name: a readable name for tables (default ``"dask"``).
        keep_on_cluster: keep every job on the cluster beyond this kernel's life, so a
            later kernel can ``retrieve_job`` it; needs ``address`` or ``client``. Kept
            jobs hold their results on the cluster until ``forget_job``, and ``close()``
            leaves them running.
        max_log_lines, max_log_bytes: how much of each job's log to keep (the last
            10,000 lines, or about 1 MiB, by default).
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
        connect_timeout: float | None = None,
        keep_on_cluster: bool = False,
        max_log_lines: int = DEFAULT_MAX_LINES,
        max_log_bytes: int = DEFAULT_MAX_BYTES,
        **cluster_options: Any,
    ) -> None:
        if not isinstance(keep_on_cluster, bool):
            msg = f"keep_on_cluster must be True or False, got {shown(keep_on_cluster)}"
            raise TypeError(msg)
        if keep_on_cluster and address is None and client is None:
            msg = (
                "keep_on_cluster=True needs a cluster that outlives the kernel: give "
                "address= (or client=); the embedded LocalCluster closes with the backend"
            )
            raise ValueError(msg)
        timeout = check_arguments(address, client, name, connect_timeout, cluster_options)
        self.log_bounds = check_log_bounds(max_log_lines, max_log_bytes)
        self.name = name
        self.keep_on_cluster = keep_on_cluster
        self._lock = threading.Lock()
        self._closed = False
        self._lost = False  # a task was cancelled because the client lost the scheduler
        self._jobs: dict[str, tuple[DaskJob, _Task]] = {}  # the unfinished ones, by key
        self._batch = threading.local()  # map()'s batch, on the thread that maps
        self._workers: set[str] = set()
        self._topics: set[str] = set()  # earlier backends' topics, of retrieved jobs
        self._kept: weakref.WeakValueDictionary[str, DaskJob] = weakref.WeakValueDictionary()
        self._topic = f"jobwidgets-{uuid.uuid4().hex}"
        self._runner = task_runner()
        self.cluster: Any = None
        self._owns_client = client is None
        if client is not None:
            self.client: Any = client
        elif address is not None:
            self.client = connect_to_scheduler(address, timeout)
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
        self._address = str(self.client.scheduler.address)
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
    def run(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        tags: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> DaskJob:
        """Submit ``fn(*args, **kwargs)`` as a task; return its job, already QUEUED.

        A ``DaskJob`` (or a ``distributed.Future``) among ``args`` is passed to ``fn``
        as its value, and the task waits for it, as with ``Client.submit``. ``tags``
        (an iterable of str) labels the job (``job.tags``); the backend takes it, as
        ``Client.submit`` takes ``key=``, so ``fn`` never gets a ``tags`` argument.
        """
        job = self._bounded(DaskJob(self, self._key(fn), fn, args, kwargs, tags=check_tags(tags)))
        job.submit()
        return job

    def _resubmit(self, job: DaskJob) -> DaskJob:
        """``job.resubmit()``: the same call and tags, as a new task of this backend."""
        if getattr(job.fn, "_jobwidgets_elsewhere", False):
            msg = (
                f"job {job.job_id()!r} can't be resubmitted: it was retrieved from the "
                "cluster, and its function runs only there"
            )
            raise JobError(msg)
        try:
            self._check_open()
        except JobError as exc:
            msg = f"job {job.job_id()!r} can't be resubmitted: {exc}"
            raise JobError(msg) from exc
        fn = job.fn
        again = DaskJob(
            self, self._key(fn), fn, job.args, job.kwargs, tags=job.tags,
            resubmitted_from=job.job_id(),
        )  # fmt: skip
        again = self._bounded(again)
        again.submit()
        return again

    def map(
        self,
        fn: Callable[..., Any],
        *iterables: Iterable[Any],
        tags: Iterable[str] | None = None,
    ) -> list[DaskJob]:
        """Submit ``fn`` once per item (like the built-in ``map``), in one batch.

        ``tags`` labels every job (see ``run``)."""
        checked = check_tags(tags)
        if not callable(fn):
            msg = f"fn must be callable: DaskBackend.map needs a callable, got {shown(fn)}"
            raise TypeError(msg)
        if not iterables:
            msg = "DaskBackend.map needs at least one iterable of arguments"
            raise TypeError(msg)
        jobs = [
            self._bounded(DaskJob(self, self._key(fn), fn, args, tags=checked))
            for args in zip(*iterables, strict=False)
        ]
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
        """Cancel the unfinished jobs (kept ones run on); close what this backend made."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = [job for job, _ in self._jobs.values()]
        if not self.keep_on_cluster:
            for job in jobs:
                job.cancel()
        self._shutdown()

    def retrieve_job(self, job_id: str) -> DaskJob:
        """The job ``job_id``, kept on the cluster by a ``keep_on_cluster`` backend.

        It may come from an earlier kernel. The job is live: its status is pushed from
        here on, and ``result()`` fetches its value from the cluster. Its function runs
        only there (``job.fn`` can't be called here).

        Raises:
            JobError: the scheduler does not hold ``job_id`` (it was never kept, was
                forgotten, or the scheduler restarted since). If a kernel that has ended
                ran that job and never saw it end, the job's history record says it was
                lost, as its error.
        """
        if not isinstance(job_id, str):
            msg = f"job_id must be a str, got {type(job_id).__name__}"
            raise TypeError(msg)
        self._check_open()
        known = self._kept.get(job_id)
        if known is not None:
            return known
        return self._adopt(job_id, keep.fetch(self.client, job_id, _JOB_CLASS))

    def forget_job(self, job_id: str) -> None:
        """Let the cluster drop a kept job and its result (``retrieve_job`` fails after)."""
        if not isinstance(job_id, str):
            msg = f"job_id must be a str, got {type(job_id).__name__}"
            raise TypeError(msg)
        self._kept.pop(job_id, None)
        keep.forget(self.client, job_id)

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "closed" if self._closed else self._address
        return f"<DaskBackend {self.name!r} {where}>"

    # --------------------------------------------------------------- for DaskJob
    def _bounded(self, job: DaskJob) -> DaskJob:
        """The job, keeping as much of its log as this backend says."""
        if self.log_bounds != (DEFAULT_MAX_LINES, DEFAULT_MAX_BYTES):
            job._set_log_bounds(*self.log_bounds)
        return job

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
        status = self.client.status
        if self._lost or status != "running":
            msg = (
                f"DaskBackend {self.name!r} lost its scheduler at {self._address} (its client is "
                f"{status}); create a new DaskBackend once the scheduler runs again"
            )
            raise JobError(msg)

    def _send_batch(self, entries: list[tuple[DaskJob, _Task]]) -> None:
        with self._lock:
            self._check_open()
            for job, task in entries:
                self._jobs[job.job_id()] = (job, task)
        # QUEUED before the task exists, so that its start can't be reported first
        for job, _ in entries:
            job._report(JobStatus.QUEUED)
        entries = [entry for entry in entries if not entry[0].cancel_requested]
        jobs = [job for job, _ in entries]  # those not cancelled meanwhile (by an observer)
        try:
            futures = self._send(jobs) if jobs else []
        except BaseException as exc:
            message, tb = format_exception(exc)
            for job in jobs:
                self._jobs.pop(job.job_id(), None)
                error = f"can't submit to Dask: {message}"
                job._report(JobStatus.ERROR, exception=exc, error=error, error_traceback=tb)
            raise
        if self.keep_on_cluster:
            for job in jobs:
                self._kept[job.job_id()] = job
            keep.publish(self.client, self._topic, jobs, futures)
        for (job, task), future in zip(entries, futures, strict=True):
            task.future = future
            if job.cancel_requested:  # cancelled while it was being sent
                future.cancel(reason=CANCEL_REASON)
            future.add_done_callback(functools.partial(self._on_done, job))

    def _adopt(self, job_id: str, kept: Any) -> DaskJob:
        """A job for a task kept by a backend of an earlier kernel: its starts so far,
        from the scheduler's log of its topic, then live ones from that topic."""
        future, topic = kept["future"], kept["topic"]
        job = DaskJob(self, job_id, keep.elsewhere(str(kept.get("function", "task"))))
        task = job._task
        task.future = future
        with self._lock:
            self._jobs[job_id] = (job, task)
            self._kept[job_id] = job
            subscribe = topic != self._topic and topic not in self._topics
            self._topics.add(topic)
        job._report(JobStatus.QUEUED)
        if subscribe:
            self.client.subscribe_topic(topic, self._on_task_start)
        events = list(self.client.get_events(topic))
        keep.wait_for_known_end(self.client, future, job_id)
        # on the reporter thread, as live events are, but before returning: the job
        # shows at once what the cluster knows
        self._reporter.submit(keep.replay, job, task, events, future, self._finish).result()
        future.add_done_callback(functools.partial(self._on_done, job))
        return job

    def _send(self, jobs: list[DaskJob]) -> list[Any]:
        client = self.client
        # each task runs through the runner, which makes it a job on its worker
        # (current_job(), captured output); see _dask_task
        runner, topic = self._runner, self._topic
        with annotate(**{ANNOTATION: topic}):
            if len(jobs) == 1:
                job = jobs[0]
                fn, kwargs = bind(job.fn, job.kwargs)
                args = [_as_future(arg) for arg in job.args]
                return [
                    client.submit(runner, fn, topic, *args, key=job.job_id(), pure=False, **kwargs)
                ]
            count = len(jobs)
            columns = [list(column) for column in zip(*(job.args for job in jobs), strict=True)]
            columns = [[_as_future(arg) for arg in column] for column in columns]
            keys = [job.job_id() for job in jobs]
            fns, topics = [jobs[0].fn] * count, [topic] * count
            futures: list[Any] = client.map(runner, fns, topics, *columns, key=keys, pure=False)
            return futures

    def _stop(self, job: DaskJob, task: _Task) -> CancelAttempt:
        """``cancel()``'s attempt: release the task, unless it has already ended."""
        future = task.future
        if future is not None:
            if future.status in ("finished", "error"):
                return CancelAttempt.NOT_STOPPED  # it ended; its final state is on its way
            future.cancel(reason=CANCEL_REASON)
        self._jobs.pop(job.job_id(), None)
        return CancelAttempt.STOPPED

    # ---------------------------------------------------------- cluster callbacks
    def _on_task_start(self, event: tuple[float, dict[str, Any]]) -> None:
        """On the client's event loop: a worker started one of this backend's tasks."""
        try:
            when, message = event
            key = str(message.get("key"))
            entry = self._jobs.get(key)
            forwarded = message.get("jobwidgets")
            if forwarded is not None:  # progress or output from the task's current_job()
                if entry is not None and isinstance(forwarded, list | tuple):
                    self._reporter.submit(guarded, _forward, entry[0], tuple(forwarded))
                return
            worker = message.get("worker")
            if entry is not None:
                self._reporter.submit(guarded, started, *entry, worker, when)
            if isinstance(worker, str) and worker not in self._workers:
                # hear of this worker's removal, to report the task's retry
                self._workers.add(worker)
                self.client.subscribe_topic(worker, self._on_worker_event)
        except Exception:  # the loop serves every job: log, and go on
            log.exception("jobwidgets: %s could not handle a task event", self.name)

    def _on_worker_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """On the client's event loop: something happened to a worker we used."""
        try:
            message = event[1]
            if not isinstance(message, dict) or message.get("action") != "remove-worker":
                return
            for key in message.get("processing-tasks", ()):
                entry = self._jobs.get(key)
                if entry is not None:
                    self._reporter.submit(guarded, requeued, entry[0])
        except Exception:
            log.exception("jobwidgets: %s could not handle a worker event", self.name)

    def _on_done(self, job: DaskJob, future: Any) -> None:
        """On Dask's callback thread: the task's future is finished, erred or cancelled.

        The report goes through the same thread as the start of the task, which the
        cluster told earlier, so that a task's RUNNING always comes before its end.
        """
        try:
            self._reporter.submit(guarded, self._finish, job, future)
        except RuntimeError:  # the backend is closing: report from here
            guarded(self._finish, job, future)

    def _finish(self, job: DaskJob, future: Any) -> None:
        self._jobs.pop(job.job_id(), None)
        if finish(job, job._task, future, self._address):
            self._lost = True  # new jobs are refused from now on

    def _shutdown(self) -> None:
        client = self.client
        for topic in [self._topic, *self._topics, *self._workers]:
            with contextlib.suppress(Exception):  # already gone with the connection
                client.unsubscribe_topic(topic)
        if self._owns_client:
            client.close()
        if self.cluster is not None:
            self.cluster.close()
        self._reporter.shutdown(wait=True)


def _forward(job: DaskJob, message: tuple[Any, ...]) -> None:
    """On the reporter thread: a task's progress or output, for its job."""
    if not forward(job, message):
        log.warning("jobwidgets: a Dask task sent a message of an unknown kind, %.40r", message)


def _as_future(value: Any) -> Any:
    if isinstance(value, DaskJob):
        future = value.future
        if future is None:
            msg = f"job {value.job_id()!r} was not submitted, so it can't be an argument"
            raise JobError(msg)
        return future
    return value
