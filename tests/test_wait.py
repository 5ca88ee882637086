"""wait_for_final_state: callbacks, wake-up on push, timeout precision, bad arguments."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from _jobs import FINAL, OverlapJob, PushJob, Recorder, SettableJob, SlowStatusJob, wait_until
from jobwidgets import BaseJob, JobStatus, JobTimeoutError, LocalBackend


@pytest.mark.parametrize("final", FINAL)
def test_callback_gets_positional_args_after_each_query_that_found_a_status_not_final(
    final: JobStatus,
) -> None:
    job = SettableJob(JobStatus.QUEUED)
    following = {JobStatus.QUEUED: JobStatus.RUNNING, JobStatus.RUNNING: final}
    calls: list[tuple[Any, ...]] = []

    def callback(*args: Any, **kwargs: Any) -> None:
        assert kwargs == {}
        calls.append(args)
        job.value = following.get(args[1], args[1])

    assert job.wait_for_final_state(timeout=10, wait=0.01, callback=callback) is None
    jid = job.job_id()
    assert calls == [(jid, JobStatus.QUEUED, job), (jid, JobStatus.RUNNING, job)]  # as legacy
    assert job.state is final


class FinalToo:
    """A callback that opts in to the final status, as ``JobMonitor`` does."""

    wants_final_status = True

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


@pytest.mark.parametrize("final", FINAL)
def test_a_callback_that_wants_the_final_status_gets_it_last(final: JobStatus) -> None:
    job = SettableJob(JobStatus.RUNNING)
    callback = FinalToo()

    def finish(*_: Any) -> None:
        job.value = final

    job.observe(lambda _change: None)
    threading.Timer(0.05, finish).start()
    job.wait_for_final_state(timeout=10, wait=0.01, callback=callback)
    statuses = [status for _id, status, _job in callback.calls]
    assert statuses[-1] is final and statuses.count(final) == 1
    assert set(statuses[:-1]) == {JobStatus.RUNNING}


@pytest.mark.parametrize("final", FINAL)
def test_already_final_job_returns_at_once_without_calling_back(final: JobStatus) -> None:
    job = SettableJob(final)
    calls: list[JobStatus] = []
    start = time.monotonic()
    job.wait_for_final_state(wait=5, callback=lambda _id, status, _job: calls.append(status))
    assert time.monotonic() - start < 0.5
    assert calls == []  # the legacy loop never called it for a job already final
    monitor = FinalToo()
    job.wait_for_final_state(wait=5, callback=monitor)
    assert monitor.calls == [(job.job_id(), final, job)]


@pytest.mark.parametrize("marker", [1, "yes", None, False])
def test_only_a_true_marker_asks_for_the_final_status(marker: object) -> None:
    callback = FinalToo()
    callback.wants_final_status = marker  # type: ignore[assignment]
    SettableJob(JobStatus.DONE).wait_for_final_state(callback=callback)
    assert callback.calls == []


def test_pushing_job_returns_soon_after_its_final_state() -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    finished_at: list[float] = []
    job.add_done_callback(lambda _job: finished_at.append(time.monotonic()))
    timer = threading.Timer(0.1, job.push, (JobStatus.DONE,))
    start = time.monotonic()
    timer.start()
    job.wait_for_final_state(timeout=10, wait=5)
    returned = time.monotonic()
    timer.join(5)
    assert returned - finished_at[0] < 0.5
    assert returned - start < 2


def test_local_thread_job_returns_soon_after_its_final_state(
    local_backend: Callable[..., LocalBackend],
) -> None:
    release = threading.Event()
    job = local_backend(max_workers=1).run(release.wait, 5)
    finished_at: list[float] = []
    job.add_done_callback(lambda _job: finished_at.append(time.monotonic()))
    threading.Timer(0.1, release.set).start()
    job.wait_for_final_state(timeout=10, wait=5)
    assert time.monotonic() - finished_at[0] < 0.5
    assert job.result() is True


@pytest.mark.parametrize("kind", ["polled", "pushed"])
def test_timeout_is_precise_and_names_the_job(kind: str) -> None:
    job: BaseJob = SettableJob(JobStatus.RUNNING) if kind == "polled" else PushJob()
    start = time.monotonic()
    with pytest.raises(JobTimeoutError) as info:
        job.wait_for_final_state(timeout=0.2, wait=5)
    elapsed = time.monotonic() - start
    assert 0.2 <= elapsed < 0.45
    assert str(job.job_id()) in str(info.value)
    assert "0.2" in str(info.value)


def test_timeout_zero_on_a_job_not_final_raises_at_once() -> None:
    job = SettableJob(JobStatus.RUNNING)
    start = time.monotonic()
    with pytest.raises(JobTimeoutError):
        job.wait_for_final_state(timeout=0, wait=5)
    assert time.monotonic() - start < 0.2


def test_slow_status_query_does_not_overrun_the_timeout() -> None:
    job = SlowStatusJob()
    start = time.monotonic()
    try:
        with pytest.raises(JobTimeoutError, match=job.job_id()):
            job.wait_for_final_state(timeout=0.2, wait=5)
        assert time.monotonic() - start < 0.5
    finally:
        job.release.set()


def test_callback_exception_propagates_and_the_job_is_unaffected() -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    seen = Recorder()
    job.observe(seen, "state")

    def callback(_id: str, _status: JobStatus, _job: BaseJob) -> None:
        raise ValueError("monitor broke")

    with pytest.raises(ValueError, match="monitor broke"):
        job.wait_for_final_state(timeout=5, wait=0.01, callback=callback)
    assert job.status() is JobStatus.RUNNING
    job.push(JobStatus.DONE)
    assert seen.values == [JobStatus.DONE]
    job.wait_for_final_state(timeout=5)
    assert job.done()


def test_keyboard_interrupt_in_callback_leaves_the_job_running_and_consistent(
    local_backend: Callable[..., LocalBackend],
) -> None:
    release = threading.Event()
    started = threading.Event()

    def work() -> str:
        started.set()
        release.wait(10)
        return "finished"

    job = local_backend(max_workers=1).run(work)
    assert started.wait(10)
    seen = Recorder()
    job.observe(seen, "state")
    done: list[BaseJob] = []
    job.add_done_callback(done.append)

    def interrupt(_id: str, _status: JobStatus, _job: BaseJob) -> None:
        raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            job.wait_for_final_state(timeout=5, wait=0.01, callback=interrupt)
        assert job.status() is JobStatus.RUNNING
        assert job.running()
    finally:
        release.set()
    assert seen.wait_final()
    assert job.result(timeout=10) == "finished"
    assert seen.values == [JobStatus.DONE]
    assert done == [job]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"timeout": -1}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"timeout": "x"}, TypeError),
        ({"timeout": True}, TypeError),
        ({"wait": -1}, ValueError),
        ({"wait": -0.001}, ValueError),
        ({"wait": float("nan")}, ValueError),
        ({"wait": "5"}, TypeError),
        ({"wait": None}, TypeError),
        ({"callback": 5}, TypeError),
    ],
)
def test_bad_arguments_are_rejected_before_any_query(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    job = SettableJob(JobStatus.DONE)
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        job.wait_for_final_state(**kwargs)
    assert job.queries == 0


def _hang_four_waits() -> list[SlowStatusJob]:
    """Four poll-only jobs whose status() hangs, each waited on with timeout=0.2."""
    hung = [SlowStatusJob() for _ in range(4)]
    for job in hung:
        with pytest.raises(JobTimeoutError):
            job.wait_for_final_state(timeout=0.2, wait=5)
    return hung


def test_hanging_status_of_other_jobs_never_delays_a_wait() -> None:
    hung = _hang_four_waits()
    try:
        healthy = SettableJob(JobStatus.DONE)
        start = time.monotonic()
        healthy.wait_for_final_state(timeout=2, wait=5)
        assert time.monotonic() - start < 0.5
        assert healthy.queries == 1
    finally:
        for job in hung:
            job.release.set()


def test_poll_only_simulated_result_is_not_starved_by_hanging_jobs() -> None:
    from jobwidgets import SimulatedBackend

    hung = _hang_four_waits()
    try:
        with SimulatedBackend(poll_only=True, time_scale=0.001) as backend:
            job = backend.run("value", run_time=0)
            assert wait_until(lambda: job._remote.status is JobStatus.DONE)
            start = time.monotonic()
            assert job.result(timeout=2) == "value"
            assert time.monotonic() - start < 0.5
    finally:
        for job in hung:
            job.release.set()


def test_a_job_already_final_answers_at_once_while_its_status_hangs() -> None:
    class HangsOnceFinal(SettableJob):
        def status(self) -> JobStatus:
            if self.queries:
                time.sleep(2)
            return super().status()

    job = HangsOnceFinal(JobStatus.DONE)
    job.wait_for_final_state(timeout=1)  # the first query finds DONE
    start = time.monotonic()
    job.wait_for_final_state(timeout=1, wait=5)
    assert time.monotonic() - start < 0.1
    assert job.queries == 1


def test_fifty_waiters_on_one_slow_job_share_its_queries_and_none_times_out() -> None:
    job = OverlapJob()
    errors: list[BaseException] = []
    ended: list[float] = []

    def wait() -> None:
        try:
            job.wait_for_final_state(timeout=3, wait=0.05)
            ended.append(time.monotonic())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wait) for _ in range(50)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    job.value = JobStatus.DONE
    done_at = time.monotonic()
    for thread in threads:
        thread.join(5)
    assert errors == []
    assert len(ended) == 50
    assert max(ended) - done_at < 1.0
    assert job.most_inside == 1


@pytest.mark.parametrize("wait", [math.inf, 1e10, pytest.param(10**400, id="10**400")])
def test_a_wait_beyond_what_threads_can_wait_ends_with_the_push(wait: float) -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    threading.Timer(0.1, job.push, (JobStatus.DONE,)).start()
    job.wait_for_final_state(wait=wait)
    assert job.status() is JobStatus.DONE


@pytest.mark.parametrize("timeout", [math.inf, 1e10, pytest.param(10**400, id="10**400")])
def test_an_infinite_or_huge_timeout_is_no_limit(timeout: float) -> None:
    SettableJob(JobStatus.DONE).wait_for_final_state(timeout=timeout, wait=1e10)
    with LocalBackend(1, "thread") as backend:
        assert backend.run(lambda: 7).result(timeout=timeout) == 7
    from jobwidgets import SimulatedBackend

    with SimulatedBackend(poll_only=True, time_scale=0.001) as simulated:
        assert simulated.run("v").result(timeout=timeout) == "v"


@pytest.mark.parametrize("timeout", [math.inf, pytest.param(10**400, id="10**400")])
def test_wait_async_takes_the_same_timeouts(timeout: float) -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    threading.Timer(0.05, job.push, (JobStatus.DONE,)).start()
    assert asyncio.run(job.wait_async(timeout=timeout)) is JobStatus.DONE
