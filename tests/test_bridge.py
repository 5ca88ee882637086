"""The bridge: changes from any thread, flushed on one loop, coalesced, at a bounded rate."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from _jobs import PushJob, SettableJob, wait_until
from jobwidgets import JobStatus, SharedPoller
from jobwidgets.bridge import Bridge
from widget_support import ManualLoop


class View:
    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], int]] = []

    def _jobs_changed(self, jobs: list[Any]) -> None:
        self.calls.append((list(jobs), threading.get_ident()))


def observers(job: Any) -> int:
    return sum(
        len(handlers) for kinds in job._trait_notifiers.values() for handlers in kinds.values()
    )


@pytest.fixture
def loop() -> ManualLoop:
    return ManualLoop()


@pytest.fixture
def bridge(loop: ManualLoop) -> Bridge:
    return Bridge(loop, clock=loop.clock, interval=0.1)


def test_changes_from_worker_threads_are_delivered_on_the_loop(
    bridge: Bridge, loop: ManualLoop
) -> None:
    view, job = View(), PushJob()
    bridge.watch(job, view)
    worker = threading.Thread(target=job.push, args=(JobStatus.RUNNING,))
    worker.start()
    worker.join()
    assert view.calls == []  # nothing touches the view from the worker thread
    loop.run_due()
    assert [jobs for jobs, _ in view.calls] == [[job]]
    assert view.calls[0][1] == threading.get_ident()


def test_many_changes_coalesce_into_one_flush_per_interval(
    bridge: Bridge, loop: ManualLoop
) -> None:
    view = View()
    jobs = [PushJob() for _ in range(200)]
    for job in jobs:
        bridge.watch(job, view)
    for job in jobs:
        for status in (JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING):
            job.push(status)
    loop.run_due()
    assert len(view.calls) == 1
    assert sorted(map(id, view.calls[0][0])) == sorted(map(id, jobs))  # each job once
    for job in jobs:
        job.push(JobStatus.DONE)
    loop.run_due()  # too early: less than the interval since the last flush
    assert len(view.calls) == 1
    loop.advance(0.05)
    assert len(view.calls) == 1
    loop.advance(0.06)
    assert len(view.calls) == 2
    assert len(view.calls[1][0]) == 200


def test_only_changed_jobs_are_sent(bridge: Bridge, loop: ManualLoop) -> None:
    view = View()
    jobs = [PushJob() for _ in range(5)]
    for job in jobs:
        bridge.watch(job, view)
    jobs[3].push(JobStatus.RUNNING)
    loop.advance(1)
    assert view.calls[-1][0] == [jobs[3]]


def test_one_observer_per_job_whatever_the_number_of_views(
    bridge: Bridge, loop: ManualLoop
) -> None:
    job, first, second = PushJob(), View(), View()
    bridge.watch(job, first)
    bridge.watch(job, second)
    assert observers(job) == 1
    job.push(JobStatus.RUNNING)
    loop.advance(1)
    assert len(first.calls) == len(second.calls) == 1
    bridge.unwatch(job, first)
    job.push(JobStatus.DONE)
    loop.advance(1)
    assert len(first.calls) == 1 and len(second.calls) == 2
    bridge.unwatch(job, second)
    assert bridge.watched == 0
    assert observers(job) == 0


def test_flush_is_refused_off_the_loop_thread(bridge: Bridge) -> None:
    errors: list[BaseException] = []

    def off_thread() -> None:
        try:
            bridge.flush()
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=off_thread)
    worker.start()
    worker.join()
    assert errors and "thread" in str(errors[0])


def test_an_explicit_flush_sends_pending_changes_at_once(bridge: Bridge, loop: ManualLoop) -> None:
    view, job = View(), PushJob()
    bridge.watch(job, view)
    job.push(JobStatus.RUNNING)
    bridge.flush()  # as JobMonitor does while a cell blocks the loop
    assert len(view.calls) == 1
    loop.advance(1)
    assert len(view.calls) == 1  # the scheduled flush found nothing left


def test_poll_only_jobs_are_polled_while_watched(loop: ManualLoop) -> None:
    poller = SharedPoller(interval=0.01)
    bridge = Bridge(loop, clock=loop.clock, poller=poller)
    view, job = View(), SettableJob(JobStatus.QUEUED)
    bridge.watch(job, view)
    assert poller.watched == 1
    job.value = JobStatus.RUNNING
    assert wait_until(lambda: job.state is JobStatus.RUNNING)
    loop.advance(1)
    assert view.calls and view.calls[-1][0] == [job]
    bridge.unwatch(job, view)
    assert poller.watched == 0


def test_a_view_that_raises_does_not_stop_the_others(
    bridge: Bridge, loop: ManualLoop, caplog: Any
) -> None:
    class Broken:
        def _jobs_changed(self, jobs: list[Any]) -> None:
            raise ValueError("broken view")

    job, broken, good = PushJob(), Broken(), View()
    bridge.watch(job, broken)
    bridge.watch(job, good)
    job.push(JobStatus.RUNNING)
    loop.advance(1)
    assert len(good.calls) == 1
    assert "broken view" in caplog.text
