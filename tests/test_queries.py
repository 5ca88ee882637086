"""Queries: the status queries that a deadline bounds, one in flight per job."""

from __future__ import annotations

import threading
import time

import pytest

from _jobs import SettableJob, SlowStatusJob, wait_until
from jobwidgets import JobStatus
from jobwidgets._queries import Queries


class CountingJob(SettableJob):
    """Its ``status()`` takes ``delay`` seconds and counts how many calls overlap."""

    def __init__(self, value: JobStatus, delay: float) -> None:
        super().__init__(value)
        self.delay = delay
        self.lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0

    def status(self) -> JobStatus:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(self.delay)
        with self.lock:
            self.inside -= 1
        return super().status()


def test_waiters_of_one_job_share_its_query_in_flight() -> None:
    queries = Queries()
    job = CountingJob(JobStatus.RUNNING, delay=0.2)
    futures = [queries.query(job) for _ in range(20)]
    assert len({id(future) for future in futures}) == 1
    assert futures[0].result(2) is JobStatus.RUNNING
    assert job.queries == 1
    assert wait_until(lambda: queries.in_flight == 0)
    assert queries.query(job) is not futures[0]  # a finished query is not rejoined


def test_a_hanging_job_holds_one_thread_and_never_delays_another() -> None:
    queries = Queries()
    hung = [SlowStatusJob() for _ in range(6)]
    try:
        for job in hung:
            for _ in range(3):
                queries.query(job)
        assert queries.threads == 6
        start = time.monotonic()
        assert queries.query(SettableJob(JobStatus.DONE)).result(1) is JobStatus.DONE
        assert time.monotonic() - start < 0.5
    finally:
        for job in hung:
            job.release.set()


def test_an_exception_of_status_reaches_every_waiter_of_that_query() -> None:
    class Failing(SettableJob):
        def status(self) -> JobStatus:
            time.sleep(0.05)
            raise RuntimeError("service down")

    queries = Queries()
    job = Failing()
    first, second = queries.query(job), queries.query(job)
    for future in (first, second):
        with pytest.raises(RuntimeError, match="service down"):
            future.result(2)


def test_idle_threads_are_reused_then_end() -> None:
    queries = Queries(idle=0.1)
    job = SettableJob(JobStatus.QUEUED)
    for _ in range(5):
        queries.query(job).result(2)
    assert queries.threads == 1
    assert wait_until(lambda: queries.threads == 0)
