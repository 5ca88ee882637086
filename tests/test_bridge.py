"""The bridge: changes from any thread, flushed on one loop, coalesced, at a bounded rate."""

from __future__ import annotations

import asyncio
import threading
import time
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


def test_by_default_views_are_updated_from_a_thread_of_the_bridge_s_own() -> None:
    bridge = Bridge(interval=0.01)
    view, job = View(), PushJob()
    bridge.watch(job, view)
    assert bridge.owner_thread not in (None, threading.get_ident())
    job.push(JobStatus.RUNNING)
    assert wait_until(lambda: len(view.calls) == 1)
    assert view.calls[0][1] == bridge.owner_thread
    names = {t.ident: t.name for t in threading.enumerate()}
    assert names[bridge.owner_thread] == "jobwidgets-bridge"


def test_the_owner_is_the_thread_that_runs_an_injected_loop() -> None:
    # the loop is made here but runs on another thread: views must still get every change
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    bridge = Bridge(loop, interval=0.01)
    runner.start()
    try:
        view, job = View(), PushJob()
        bridge.watch(job, view)
        job.push(JobStatus.RUNNING)
        assert wait_until(lambda: len(view.calls) == 1)
        job.push(JobStatus.DONE)
        assert wait_until(lambda: len(view.calls) == 2)
        assert {thread for _, thread in view.calls} == {runner.ident}
        assert bridge.owner_thread == runner.ident
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join()
        loop.close()


def test_a_failed_flush_leaves_the_bridge_able_to_flush(loop: ManualLoop, caplog: Any) -> None:
    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("clock broke")
        return loop.now

    bridge = Bridge(loop, clock=clock, interval=0.1)
    view, job = View(), PushJob()
    bridge.watch(job, view)
    job.push(JobStatus.RUNNING)
    loop.advance(1)
    assert view.calls == [] and "clock broke" in caplog.text
    job.push(JobStatus.DONE)
    loop.advance(1)
    assert [jobs for jobs, _ in view.calls] == [[job]]


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


def test_every_status_held_for_two_intervals_reaches_the_views_while_the_main_thread_computes() -> (
    None
):
    interval = 0.05
    bridge = Bridge(interval=interval)
    shown: list[str] = []

    class Recorder:
        def _jobs_changed(self, jobs: list[Any]) -> None:
            for job in jobs:
                if not shown or shown[-1] != job.state.name:
                    shown.append(job.state.name)

    job, view = PushJob(), Recorder()
    bridge.watch(job, view)

    def backend() -> None:
        for status in (JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING):
            job.push(status)
            time.sleep(2 * interval)
        job.push(JobStatus.DONE)

    worker = threading.Thread(target=backend)
    worker.start()
    while worker.is_alive():  # the main thread is busy, as in a CPU-bound cell
        sum(range(1000))
    assert wait_until(lambda: shown[-1:] == ["DONE"])
    # INITIALIZING may show too: the view also hears of the job's other traits
    assert [s for s in shown if s != "INITIALIZING"] == ["QUEUED", "VALIDATING", "RUNNING", "DONE"]
