"""Test jobs shared by the test modules: a poll-only third-party job and a pushing job."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from jobwidgets import BaseJob, JobStatus

ALL_STATUSES = list(JobStatus)
FINAL = [JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR]
NOT_FINAL = [s for s in JobStatus if s not in FINAL]

_ids = itertools.count(1)


def new_id(prefix: str = "job") -> str:
    return f"{prefix}-{next(_ids)}"


class FakeBackend:
    """A backend object with a name, as a third-party provider would have."""

    def __init__(self, name: str = "fake-backend") -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class SettableJob(BaseJob):
    """A third-party job: only the four abstract methods; ``status()`` returns ``value``."""

    def __init__(
        self,
        value: JobStatus = JobStatus.INITIALIZING,
        *,
        job_id: str | None = None,
        backend: Any = None,
    ) -> None:
        super().__init__(backend if backend is not None else FakeBackend(), job_id or new_id())
        self.value = value
        self.queries = 0
        self.submits = 0

    def submit(self) -> None:
        self.submits += 1
        self.value = JobStatus.QUEUED

    def result(self) -> Any:
        return {"answer": 42}

    def cancel(self) -> bool:
        self.value = JobStatus.CANCELLED
        return True

    def status(self) -> JobStatus:
        self.queries += 1
        return self.value


class SlowStatusJob(BaseJob):
    """A poll-only job whose ``status()`` blocks for up to 2 s (until ``release`` is set)."""

    def __init__(self) -> None:
        super().__init__(FakeBackend(), new_id("slow"))
        self.release = threading.Event()

    def submit(self) -> None:
        return None

    def result(self) -> Any:
        return None

    def cancel(self) -> bool:
        return False

    def status(self) -> JobStatus:
        self.release.wait(2)
        return JobStatus.RUNNING


class PushJob(BaseJob):
    """A job whose backend pushes every change with ``_report``."""

    pushes_status = True

    def __init__(self, *, job_id: str | None = None, backend: Any = None) -> None:
        super().__init__(backend if backend is not None else FakeBackend(), job_id or new_id())

    def submit(self) -> None:
        self._report(JobStatus.QUEUED)

    def result(self) -> Any:
        return "pushed"

    def cancel(self) -> bool:
        return self._report(JobStatus.CANCELLED) or self._recorded_status() is JobStatus.CANCELLED

    def status(self) -> JobStatus:
        return self._recorded_status()

    def push(self, status: JobStatus, **error: Any) -> bool:
        return self._report(status, **error)


def make_job(kind: str, status: JobStatus) -> BaseJob:
    """A job in ``status``: ``polled`` (third-party, status() returns it) or ``pushed``."""
    if kind == "polled":
        return SettableJob(status)
    job = PushJob()
    job.push(status)
    return job


class Recorder:
    """An observer that records ``change.new`` and can wait for a value to arrive."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.changes: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, change: Any) -> None:
        with self._cond:
            self.values.append(change["new"])
            self.changes.append(change)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 10) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.values), timeout)

    def wait_final(self, timeout: float = 10) -> bool:
        return self.wait_for(lambda values: any(v in FINAL for v in values), timeout)


def wait_until(predicate: Callable[[], bool], timeout: float = 10, step: float = 0.005) -> bool:
    """Poll a predicate (for facts nobody notifies about); True once it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def wait_for_state(job: BaseJob, status: JobStatus, timeout: float = 10) -> bool:
    """Wait until ``job.state`` is ``status``: woken by an observer, re-checked now and then
    (an observer attached while the job changes may miss that change)."""
    cond = threading.Condition()

    def wake(_change: Any) -> None:
        with cond:
            cond.notify_all()

    job.observe(wake, "state")
    try:
        deadline = time.monotonic() + timeout
        with cond:
            while job.state is not status:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                cond.wait(min(remaining, 0.05))
        return True
    finally:
        job.unobserve(wake, "state")


class OverlapJob(SettableJob):
    """A polled job whose ``status()`` takes 0.1 s; counts how many calls overlap."""

    def __init__(self) -> None:
        super().__init__(JobStatus.RUNNING)
        self.lock = threading.Lock()
        self.inside = self.most_inside = 0

    def status(self) -> JobStatus:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.1)
        with self.lock:
            self.inside -= 1
        return super().status()
