"""Observers can't stall a backend: report, cancel and progress return at once.

An observer runs on whichever thread delivers the job's changes. If it waits for another
thread, and that thread reports on the same job, the report is queued for the observer's
thread to deliver, instead of waiting for the observer: the delivery stays once, in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from _jobs import PushJob, Recorder
from _work import ok, sleep
from jobwidgets import BaseJob, JobStatus

HOLD = 3.0  # how long the observer waits for the other thread at most
QUICK = 0.5  # what "at once" means here, with room for a loaded machine


def _blocked_observer(job: BaseJob, on: str, other: Callable[[], Any]) -> dict[str, float]:
    """Observe ``on``: the first change runs ``other`` on thread B and waits for it."""
    timings: dict[str, float] = {}
    finished = threading.Event()

    def call_other() -> None:
        start = time.monotonic()
        other()
        timings["other"] = time.monotonic() - start
        finished.set()

    def observer(_change: Any) -> None:
        if "started" in timings:
            return
        timings["started"] = time.monotonic()
        threading.Thread(target=call_other).start()
        finished.wait(HOLD)
        timings["observer"] = time.monotonic() - timings["started"]

    job.observe(observer, on)
    return timings


@pytest.mark.parametrize("call", ["set_progress", "cancel", "report"])
def test_a_report_from_another_thread_never_waits_for_a_busy_observer(call: str) -> None:
    job = PushJob()
    seen = Recorder()
    job.observe(seen, "state")
    actions: dict[str, Callable[[], Any]] = {
        "set_progress": lambda: job.set_progress(0.5),
        "cancel": job.cancel,
        "report": lambda: job.push(JobStatus.DONE),
    }
    timings = _blocked_observer(job, "state", actions[call])

    job.push(JobStatus.RUNNING)  # the observer holds this thread until the other returns

    assert timings["other"] < QUICK, f"{call} waited {timings['other']:.2f} s for an observer"
    assert timings["observer"] < QUICK
    expected = [JobStatus.RUNNING]
    if call == "cancel":
        expected.append(JobStatus.CANCELLED)
    if call == "report":
        expected.append(JobStatus.DONE)
    assert seen.values == expected  # each change once, in order, delivered by now
    if call == "set_progress":
        assert job.progress == 0.5


def test_a_waiter_returns_after_the_observers_saw_the_end() -> None:
    job = PushJob()
    release = threading.Event()
    seen: list[JobStatus] = []

    def slow_observer(change: Any) -> None:
        if change["new"] is JobStatus.RUNNING:
            release.wait(HOLD)
        seen.append(change["new"])

    job.observe(slow_observer, "state")
    pusher = threading.Thread(target=lambda: job.push(JobStatus.RUNNING))
    pusher.start()
    time.sleep(0.05)
    job.push(JobStatus.DONE)  # returns at once: the pusher's thread delivers it
    assert seen == []
    threading.Timer(0.2, release.set).start()
    job.wait_for_final_state(timeout=HOLD)
    assert seen == [JobStatus.RUNNING, JobStatus.DONE]
    assert job.state is JobStatus.DONE
    pusher.join()


def _stall_seconds(first: BaseJob, second: BaseJob) -> float:
    """How long an observer of ``first`` that waits for ``second`` to end is held.

    The observer runs on this thread (through ``set_progress``) and holds ``first``'s
    delivery. Meanwhile the backend's own thread must report ``first``'s end, then run
    ``second``: if that report waited for the observer, the backend would stall.
    """
    held: dict[str, float] = {}

    def observer(_change: Any) -> None:
        if held:
            return
        start = time.monotonic()
        second.wait_for_final_state(timeout=HOLD, wait=0.05)
        held["seconds"] = time.monotonic() - start

    first.observe(observer, "progress")
    first.set_progress(0.1)
    assert first.wait_for_final_state(timeout=HOLD) is None
    return held["seconds"]


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_an_observer_waiting_for_another_job_does_not_stall_a_local_backend(
    local_backend: Callable[..., Any], kind: str
) -> None:
    backend = local_backend(1, kind)
    backend.run(ok).result(timeout=30)  # the worker is up
    first = backend.run(sleep, 0.3)
    second = backend.run(ok)  # queued behind ``first`` on the one worker
    assert _stall_seconds(first, second) < 0.3 + 1.5
    assert second.status() is JobStatus.DONE


def test_an_observer_waiting_for_another_job_does_not_stall_the_simulated_engine(
    simulated_backend: Callable[..., Any],
) -> None:
    backend = simulated_backend(
        init_time=0, queue_time=0, validation_time=0, run_time=0, progress_steps=0
    )
    first = backend.run(run_time=20)  # 0.2 s with the fixture's time scale
    second = backend.run(run_time=40)
    assert _stall_seconds(first, second) < 0.4 + 1.5
    assert second.status() is JobStatus.DONE
