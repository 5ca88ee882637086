"""Qiskit jobs as observable jobwidgets jobs.

``watch(job)`` wraps a job Qiskit made, a ``qiskit.providers.JobV1`` (such as
qiskit-aer's ``AerJob``) or a ``qiskit.primitives.BasePrimitiveJob`` (such as the
``PrimitiveJob`` of Sampler and Estimator), as a jobwidgets job. Its status is Qiskit's,
mapped by name. A job that exposes a ``concurrent.futures.Future`` (AerJob and
PrimitiveJob do) pushes its final state the moment the future ends; the states before
that are learned by ``status()`` queries, which the shared poller makes while something
watches the job.

``QiskitBackend(backend, isolate=...)`` runs circuits on a Qiskit backend and returns jobs
whose every transition is pushed. qiskit-aer holds the GIL while it simulates, so a
simulation in the kernel's own process freezes every other thread of it, widgets
included, until it ends. With ``isolate=True`` the simulation runs in a worker process
instead (a ``DaskBackend`` or a process ``LocalBackend`` can be given instead of True),
and the kernel stays live.

An AerJob whose simulation fails (too many qubits for the memory, say) still reports
DONE in Qiskit; only its result says ``success=False``. Both ways here report it as
ERROR, with the simulator's message.
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import sys
import threading
import uuid
import weakref
from typing import Any

try:
    from qiskit.circuit import QuantumCircuit  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from qiskit.primitives import BasePrimitiveJob  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from qiskit.providers import JobV1  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError as exc:  # pragma: no cover - depends on the environment
    _msg = (
        "jobwidgets.qiskit needs Qiskit; install the qiskit extra: pip install 'jobwidgets[qiskit]'"
    )
    raise ImportError(_msg) from exc

from .._shown import shown
from ..errors import JobError
from ..job import BaseJob, CancelAttempt, format_exception
from ..status import JOB_FINAL_STATES, JobStatus
from .local import LocalBackend, LocalJob

__all__ = ["QiskitBackend", "QiskitJob", "SimulationError", "WatchedJob", "watch"]

_watched: weakref.WeakValueDictionary[int, WatchedJob] = weakref.WeakValueDictionary()
_watched_lock = threading.Lock()


def watch(job: Any) -> WatchedJob:
    """Wrap a Qiskit job as an observable jobwidgets job.

    ``job`` is a ``qiskit.providers.JobV1`` (such as ``AerJob``) or a
    ``qiskit.primitives.BasePrimitiveJob`` (such as the ``PrimitiveJob`` of a Sampler or
    an Estimator). Watching the same job twice gives the same wrapper.
    """
    if isinstance(job, WatchedJob):
        return job
    if not isinstance(job, JobV1 | BasePrimitiveJob):
        msg = (
            "watch() needs a Qiskit job (a qiskit.providers.JobV1 such as AerJob, or a "
            f"qiskit.primitives.BasePrimitiveJob such as PrimitiveJob), got {type(job).__name__}"
        )
        raise TypeError(msg)
    with _watched_lock:
        wrapper = _watched.get(id(job))
        if wrapper is None or wrapper._job is not job:
            wrapper = WatchedJob(job)
            _watched[id(job)] = wrapper
    wrapper._listen()
    return wrapper


def to_status(value: Any) -> JobStatus:
    """Qiskit's status (an enum member, or a name such as ``"RUNNING"``) as a JobStatus."""
    name = getattr(value, "name", value)
    if isinstance(name, str) and name.upper() in JobStatus.__members__:
        return JobStatus[name.upper()]
    msg = (
        f"value must be a Qiskit job status: unknown Qiskit job status {shown(value)}; "
        f"expected one of {', '.join(JobStatus.__members__)}"
    )
    raise ValueError(msg)


def failure_of(result: Any) -> str | None:
    """The error message of a Qiskit ``Result`` whose ``success`` is False, else None."""
    if getattr(result, "success", True) is not False:
        return None
    status = str(getattr(result, "status", "") or "").strip()
    return status or "the simulation failed without a message"


class WatchedJob(BaseJob):
    """A Qiskit job (JobV1 or BasePrimitiveJob) seen through the jobwidgets job API.

    ``status()``, ``cancel()``, ``result()`` and ``job_id()`` go to the wrapped job;
    ``backend()`` is its backend (None for primitive jobs, which have none).
    """

    pushes_status = False  # states before the final one are learned by queries

    def __init__(self, job: JobV1 | BasePrimitiveJob) -> None:
        backend = job.backend() if isinstance(job, JobV1) else None
        super().__init__(backend, str(job.job_id()))
        self._job = job
        self._settled = False
        self._listening = False
        self._watch_lock = threading.Lock()

    def job_id(self) -> str:
        """Return a unique id identifying the job (these jobs always have one)."""
        job_id = self._job_id
        return job_id if isinstance(job_id, str) else str(job_id)

    @property
    def qiskit_job(self) -> JobV1 | BasePrimitiveJob:
        """The wrapped Qiskit job."""
        return self._job

    def submit(self) -> None:
        """Submit the wrapped job (Qiskit jobs are usually submitted by ``run()``)."""
        if not isinstance(self._job, JobV1):
            msg = (
                "a primitive job is submitted by the primitive's run(); there is nothing to submit"
            )
            raise JobError(msg)
        self._job.submit()
        self._listen()

    def status(self) -> JobStatus:
        """Return the wrapped job's status; a DONE job whose result failed is ERROR."""
        recorded = self._recorded_status()
        if recorded in JOB_FINAL_STATES:
            return recorded
        status = to_status(self._job.status())
        if status in (JobStatus.DONE, JobStatus.ERROR):
            status = self._settle(status)
        return status

    def cancel(self) -> bool:
        """Ask the wrapped job to cancel; return what it answered.

        An AerJob or a PrimitiveJob can be cancelled only before it starts running.
        """
        accepted = self._cancel_with(self._stop)
        if accepted:
            self.status()  # learn the CANCELLED now, if the wrapped job is already there
        return accepted

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the job and return the wrapped job's result.

        Raises:
            JobError: the job failed (its result said ``success=False``, or it raised)
                or was cancelled.
            JobTimeoutError: the job did not reach a final state within ``timeout`` s.
        """
        self.wait_for_final_state(timeout=timeout, wait=1.0)
        return self._outcome(None)

    # -------------------------------------------------------------------- internals
    def _stop(self) -> CancelAttempt:
        """``cancel()``'s attempt: ask the wrapped job; a status query finds the end."""
        accepted = bool(self._job.cancel())
        return CancelAttempt.STOPPING if accepted else CancelAttempt.NOT_STOPPED

    def _listen(self) -> None:
        """Push the final state as soon as the wrapped job's future ends, if it has one."""
        future = getattr(self._job, "_future", None)
        with self._watch_lock:
            if self._listening or not isinstance(future, concurrent.futures.Future):
                return
            self._listening = True
        future.add_done_callback(self._on_future_done)

    def _on_future_done(self, _future: concurrent.futures.Future[Any]) -> None:
        try:
            self.status()
        except Exception as exc:  # a status() that fails must still end the job
            message, tb = format_exception(exc)
            self._report(JobStatus.ERROR, error=message, error_traceback=tb)

    def _settle(self, status: JobStatus) -> JobStatus:
        """Read the outcome of a finished job once, and report it with its error."""
        with self._watch_lock:
            if self._settled:
                return self._recorded_status()
            self._settled = True
        value: Any = None
        exception: Exception | None = None
        error: str | None = None
        tb: str | None = None
        try:
            value = self._job.result()
        except Exception as exc:
            exception = exc
            error, tb = format_exception(exc)
        else:
            error = failure_of(value)
        if status is JobStatus.DONE and error is not None:
            status = JobStatus.ERROR
        self._report(status, result=value, exception=exception, error=error, error_traceback=tb)
        return self._recorded_status()

    def _backend_name(self) -> str:
        if self._backend is None:
            return type(self._job).__name__
        return super()._backend_name()


class QiskitJob:
    """What every job of a ``QiskitBackend`` adds to its runner's job class.

    The job is a ``LocalJob`` (in the kernel's process, or in a worker process) or a
    ``DaskJob``; ``backend()`` is the Qiskit backend, and ``result()`` returns Qiskit's
    ``Result``. A failed simulation ends in ERROR with the simulator's message.
    """

    def __init__(self, *args: Any, qiskit: QiskitBackend, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._qiskit = qiskit

    def backend(self) -> Any:
        """Return the Qiskit backend that runs the circuits."""
        return self._qiskit.backend

    def _backend_name(self) -> str:
        return self._qiskit.name


@functools.cache
def _job_class(base: type[BaseJob]) -> type[BaseJob]:
    cls = type(f"Qiskit{base.__name__}", (QiskitJob, base), {"__module__": __name__})
    cls.__doc__ = f"A ``{base.__name__}`` that runs circuits for a ``QiskitBackend``."
    return cls


class SimulationError(Exception):
    """A simulation whose result said ``success=False``; the message is the simulator's."""


def _simulate(backend: Any, circuits: Any, options: dict[str, Any]) -> Any:
    """Run circuits on a Qiskit backend and wait; raise if the result failed."""
    result = backend.run(circuits, **options).result()
    failure = failure_of(result)
    if failure is not None:
        raise SimulationError(failure)
    return result


class QiskitBackend:
    """Runs circuits on a Qiskit backend (such as ``AerSimulator()``) as observable jobs.

    Args:
        backend: a Qiskit backend with ``run(circuits, **options)``.
        isolate: False runs simulations in this process, one at a time, on a thread.
            True runs them in worker processes (``max_workers`` of them), so that the
            kernel and its widgets stay live; cancelling a running job kills its worker.
            A ``DaskBackend``, or a ``LocalBackend(kind="process")``, runs them there
            instead (its workers need qiskit-aer and jobwidgets installed).
        max_workers: worker processes for ``isolate=True``.
        name: a readable name for tables; defaults to the backend's name.

    A context manager: ``close()`` stops the workers it started (never those of a
    backend it was given), after the running jobs end.
    """

    def __init__(
        self,
        backend: Any,
        *,
        isolate: Any = False,
        max_workers: int = 1,
        name: str | None = None,
    ) -> None:
        if not callable(getattr(backend, "run", None)):
            msg = (
                "QiskitBackend needs a Qiskit backend with run(), such as "
                f"qiskit_aer.AerSimulator(); got {type(backend).__name__}"
            )
            raise TypeError(msg)
        self.backend = backend
        if name is not None and not isinstance(name, str):
            msg = f"name must be a str (the backend's name in tables) or None, got {shown(name)}"
            raise TypeError(msg)
        if name is None:
            name = getattr(backend, "name", None)
            name = name() if callable(name) else name
        self.name = str(name or type(backend).__name__)
        self.isolate = isolate
        self._ids = itertools.count(1)
        self._owned: LocalBackend | None = None
        self._runner: Any
        if isolate is False:
            self._runner = self._owned = LocalBackend(1, "thread", name=self.name)
        elif isolate is True:
            self._runner = self._owned = LocalBackend(max_workers, "process", name=self.name)
        elif isinstance(isolate, LocalBackend):
            if isolate.kind != "process":
                msg = "isolate= needs a LocalBackend(kind='process'); a thread shares the GIL"
                raise ValueError(msg)
            self._runner = isolate
        elif _is_dask_backend(isolate):
            self._runner = isolate
        else:
            msg = (
                "isolate must be False, True, a DaskBackend or a LocalBackend(kind='process'), "
                f"got {shown(isolate)}"
            )
            raise TypeError(msg)

    def run(self, circuits: Any, **options: Any) -> BaseJob:
        """Run ``circuits`` (a QuantumCircuit or a list of them) with the backend's
        ``run`` options; return the job, already QUEUED."""
        if isinstance(circuits, tuple):
            circuits = list(circuits)
        items = circuits if isinstance(circuits, list) else [circuits]
        if not items or not all(isinstance(item, QuantumCircuit) for item in items):
            msg = (
                "circuits must be a QuantumCircuit or a non-empty list of them, got "
                f"{type(circuits).__name__}"
            )
            raise TypeError(msg)
        runner = self._runner
        if isinstance(runner, LocalBackend):
            cls = _job_class(LocalJob)
            job_id = f"{self.name}-{next(self._ids)}"
        else:
            from .dask import DaskJob

            cls = _job_class(DaskJob)
            job_id = f"{self.name}-{uuid.uuid4().hex}"
        make: Any = cls
        job: Any = make(
            runner, job_id, _simulate, (self.backend, circuits, dict(options)), qiskit=self
        )
        job.submit()
        return job  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the workers this backend started, once the running jobs have ended."""
        if self._owned is not None:
            self._owned.close()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called (always False for a runner it was given)."""
        return self._owned is not None and self._owned.closed

    def __enter__(self) -> QiskitBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = {False: "in-process", True: "isolated"}.get(self.isolate, repr(self.isolate))
        return f"<QiskitBackend {self.name!r} {where}>"


def _is_dask_backend(value: Any) -> bool:
    module = sys.modules.get("jobwidgets.backends.dask")
    return module is not None and isinstance(value, module.DaskBackend)
