"""SharedPoller: one thread polls every watched poll-only job, and stops when idle."""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from _jobs import PushJob, Recorder, SettableJob, wait_until
from jobwidgets import JobStatus, SharedPoller

NAME = "jobwidgets-poller"


def _poller_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == NAME}


@pytest.fixture
def poller() -> Iterator[SharedPoller]:
    poller = SharedPoller(interval=0.05)
    yield poller
    thread = poller._thread
    poller._watched.clear()
    with poller._cond:
        poller._cond.notify_all()
    if thread is not None:
        thread.join(5)


def test_fifty_jobs_share_one_thread_and_follow_their_status(poller: SharedPoller) -> None:
    before = _poller_threads()
    jobs = [SettableJob(JobStatus.QUEUED) for _ in range(50)]
    recorders = [Recorder() for _ in jobs]
    for job, seen in zip(jobs, recorders, strict=True):
        job.observe(seen, "state")
        poller.watch(job)
    new = _poller_threads() - before
    assert len(new) == 1
    assert poller.watched == 50
    assert poller.running
    for seen in recorders:
        assert seen.wait_for(lambda values: JobStatus.QUEUED in values)
    for job in jobs:
        job.value = JobStatus.RUNNING
    for seen in recorders:
        assert seen.wait_for(lambda values: JobStatus.RUNNING in values)
    for job in jobs:
        job.value = JobStatus.DONE
    for seen in recorders:
        assert seen.wait_final()
        assert seen.values == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]
    assert len(_poller_threads() - before) <= 1
    (thread,) = new
    thread.join(5)
    assert not thread.is_alive()
    assert not poller.running
    assert poller.watched == 0


def test_the_thread_ends_when_every_job_is_unwatched(poller: SharedPoller) -> None:
    jobs = [SettableJob(JobStatus.RUNNING) for _ in range(3)]
    unwatches = [poller.watch(job) for job in jobs]
    thread = poller._thread
    assert thread is not None
    assert thread.name == NAME
    for unwatch in unwatches[:2]:
        unwatch()
    assert poller.watched == 1
    assert poller.running
    unwatches[2]()
    unwatches[2]()  # a second call does nothing
    thread.join(5)
    assert not thread.is_alive()
    assert not poller.running


def test_a_job_watched_twice_is_polled_until_both_unwatch(poller: SharedPoller) -> None:
    job = SettableJob(JobStatus.QUEUED)
    first = poller.watch(job)
    second = poller.watch(job)
    first()
    first()  # released once only
    assert poller.watched == 1
    job.value = JobStatus.RUNNING
    seen = Recorder()
    job.observe(seen, "state")
    assert seen.wait_for(lambda values: JobStatus.RUNNING in values)
    second()
    assert poller.watched == 0


def test_the_thread_restarts_for_new_watches(poller: SharedPoller) -> None:
    job = SettableJob(JobStatus.DONE)
    poller.watch(job)
    assert wait_until(lambda: not poller.running)
    other = SettableJob(JobStatus.QUEUED)
    poller.watch(other)
    other.value = JobStatus.DONE
    seen = Recorder()
    other.observe(seen, "state")
    assert seen.wait_final()
    assert other.state is JobStatus.DONE


def test_pushing_jobs_are_not_polled(poller: SharedPoller) -> None:
    job = PushJob()
    unwatch = poller.watch(job)
    assert poller.watched == 0
    assert not poller.running
    assert poller._thread is None
    unwatch()


def test_a_watched_job_is_not_kept_alive(poller: SharedPoller) -> None:
    job = SettableJob(JobStatus.RUNNING)
    unwatch = poller.watch(job)
    ref = weakref.ref(job)
    del job
    assert wait_until(lambda: (gc.collect(), ref() is None)[1])
    assert wait_until(lambda: not poller.running)
    unwatch()


def test_a_raising_status_is_logged_once_and_others_are_still_polled(
    poller: SharedPoller, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(SettableJob):
        def status(self) -> JobStatus:
            self.queries += 1
            raise ConnectionError("service unreachable")

    broken = Broken()
    healthy = SettableJob(JobStatus.RUNNING)
    seen = Recorder()
    healthy.observe(seen, "state")
    with caplog.at_level(logging.ERROR, logger="jobwidgets"):
        unwatch = poller.watch(broken)
        poller.watch(healthy)
        assert wait_until(lambda: broken.queries >= 3)
        healthy.value = JobStatus.DONE
        assert seen.wait_final()
        unwatch()
    logged = [r for r in caplog.records if r.exc_info and str(broken.job_id()) in r.getMessage()]
    assert len(logged) == 1
    assert "service unreachable" in caplog.text


def test_interval_can_be_changed(poller: SharedPoller) -> None:
    poller.interval = 2
    assert poller.interval == 2.0
    assert isinstance(poller.interval, float)


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_bad_interval_value(bad: float) -> None:
    with pytest.raises(ValueError, match="interval"):
        SharedPoller(interval=bad)


@pytest.mark.parametrize("bad", ["1", None, True])
def test_bad_interval_type(bad: object) -> None:
    with pytest.raises(TypeError, match="interval"):
        SharedPoller(interval=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [float("inf"), pytest.param(10**400, id="10**400")])
def test_an_infinite_interval_is_refused_and_polling_goes_on(
    poller: SharedPoller, bad: float
) -> None:
    job = SettableJob(JobStatus.QUEUED)
    unwatch = poller.watch(job)
    with pytest.raises(ValueError, match=r"^interval must be a finite number of seconds > 0"):
        poller.interval = bad
    assert poller.interval == 0.05
    job.value = JobStatus.DONE
    assert wait_until(lambda: job.state is JobStatus.DONE, timeout=2)
    unwatch()


def test_a_huge_finite_interval_waits_without_killing_the_thread(poller: SharedPoller) -> None:
    job = SettableJob(JobStatus.QUEUED)
    unwatch = poller.watch(job)
    poller.interval = 1e10  # longer than threading.TIMEOUT_MAX
    assert wait_until(lambda: job.queries >= 1, timeout=2)
    time.sleep(0.1)  # the thread now waits for 1e10 s
    assert poller.running
    job.value = JobStatus.DONE
    poller.interval = 0.05  # wakes the waiting thread
    assert wait_until(lambda: job.state is JobStatus.DONE, timeout=2)
    unwatch()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_poller_whose_thread_died_restarts_on_the_next_watch(poller: SharedPoller) -> None:
    class Exits(SettableJob):
        def status(self) -> JobStatus:
            raise SystemExit  # not an Exception: it ends the polling thread

    exits = Exits()
    unwatch = poller.watch(exits)
    assert wait_until(lambda: not poller.running, timeout=2)
    unwatch()
    job = SettableJob(JobStatus.DONE)
    poller.watch(job)
    assert wait_until(lambda: job.state is JobStatus.DONE, timeout=2)
