"""Code written for qiskit's legacy ``BaseJob`` runs unchanged: the subclass patterns of
real providers (``_legacy.py``), the legacy callback and ``wait=0``."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from _jobs import FINAL, PushJob, Recorder, SettableJob
from _legacy import (
    PRIVATE_NAMES,
    Backend,
    DictStatusJob,
    LateIdJob,
    NamespaceJob,
    NamespaceLastJob,
    OwnStatusJob,
    namespace_job,
    own_status_job,
)
from jobwidgets import BaseJob, JobStatus, JobTimeoutError, SharedPoller, registry

PROGRESSION = [JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING]


# ------------------------------------------------------------ 1. a SimpleNamespace base
@pytest.mark.parametrize("cls", [NamespaceJob, NamespaceLastJob])
def test_a_namespace_job_comes_out_whole_whatever_the_base_order(cls: type[Any]) -> None:
    job = cls(Backend(), "ns-1", qobj={"shots": 10}, kind="q-circuit")
    assert isinstance(job, BaseJob) and isinstance(job, SimpleNamespace)
    assert job.qobj == {"shots": 10} and job.kind == "q-circuit"  # the namespace's fields
    assert job.job_id() == "ns-1" and job.backend().name() == "legacy-backend"
    assert job.state is JobStatus.INITIALIZING and job.created_at is not None
    assert any(j is job for j in registry.jobs())
    recorder = Recorder()
    job.observe(recorder, "state")
    for status in (*PROGRESSION, JobStatus.DONE):
        job.remote = status
        assert job.status() is status
    assert recorder.values == [*PROGRESSION, JobStatus.DONE]
    assert job.done() and job.in_final_state()


def test_a_namespace_job_can_be_polled_and_waited_for() -> None:
    job = namespace_job(note="not hashable")
    with pytest.raises(TypeError):
        hash(job)  # SimpleNamespace makes it unhashable, as it was on the legacy class
    poller = SharedPoller(interval=0.01)
    unwatch = poller.watch(job)
    assert poller.watched == 1
    job.remote = JobStatus.DONE
    job.wait_for_final_state(timeout=10, wait=0.01)
    deadline = time.monotonic() + 10
    while poller.watched and time.monotonic() < deadline:
        time.sleep(0.01)
    assert poller.watched == 0  # the poller let go of it once final
    unwatch()


def test_a_dropped_unhashable_job_leaves_the_poller() -> None:
    poller = SharedPoller(interval=60)
    job = namespace_job()
    poller.watch(job)
    assert poller.watched == 1
    del job
    gc.collect()
    assert poller.watched == 0


# ------------------------------------------------------- 2. private names of its own
@pytest.mark.parametrize("early", [True, False], ids=["set-before-init", "set-after-init"])
def test_a_subclass_keeping_its_own_status_is_followed(early: bool) -> None:
    job = own_status_job(early=early)
    recorder = Recorder()
    job.observe(recorder, "state")
    job.submit()
    for status in (*PROGRESSION, JobStatus.DONE):
        job.remote = status
        assert job.status() is status
        assert job._status is status  # the subclass's own attribute, as it set it
        assert job.state is status
    assert recorder.values == [*PROGRESSION, JobStatus.DONE]
    assert job.submitted_at is not None and job.finished_at is not None


@pytest.mark.parametrize("early", [True, False], ids=["set-before-init", "set-after-init"])
def test_private_names_of_a_subclass_are_left_alone(early: bool) -> None:
    job = own_status_job(early=early)
    job.observe(lambda _change: None)
    job.submit()
    job.remote = JobStatus.RUNNING
    job.set_progress(0.5)
    job.remote = JobStatus.DONE
    job.wait_for_final_state(timeout=10, wait=0)
    job.add_done_callback(lambda _job: None)
    for name in PRIVATE_NAMES:
        if name not in ("_status", "_submitted"):
            assert getattr(job, name) == f"own {name}", name
    assert job._submitted == "own _submitted"
    assert job._status is JobStatus.DONE
    assert job.state is JobStatus.DONE and job.progress == 1.0


def test_a_subclass_may_query_before_calling_base_init() -> None:
    class Eager(OwnStatusJob):
        def __init__(self) -> None:
            self.remote = JobStatus.QUEUED
            self.first = self.status()  # before BaseJob.__init__
            BaseJob.__init__(self, Backend(), "eager-1")

    job = Eager()
    assert job.first is JobStatus.QUEUED
    assert job.state is JobStatus.QUEUED and job.job_id() == "eager-1"


def test_a_second_submit_is_refused_even_with_an_own_submitted_flag() -> None:
    job = own_status_job()
    job.submit()
    with pytest.raises(Exception, match="already submitted"):
        job.submit()


# --------------------------------------------------------------- 3. no id until submit
def test_a_job_id_of_none_means_no_id_yet() -> None:
    job = LateIdJob(Backend())
    assert job.job_id() is None
    assert "(no id yet)" in repr(job)
    job.submit()
    assert job.job_id() == job.given_id
    assert job.given_id in repr(job)
    job.remote = JobStatus.DONE
    job.wait_for_final_state(timeout=10, wait=0)
    assert job.state is JobStatus.DONE


@pytest.mark.parametrize("bad", [7, b"id", 1.5, ["a"], object()])
def test_other_ids_that_are_not_str_are_rejected(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"job_id must be a str \(or None") as info:
        SettableJob(job_id=bad)
    assert type(bad).__name__ in str(info.value)


def test_errors_about_a_job_without_id_say_so() -> None:
    job = LateIdJob(Backend())
    with pytest.raises(JobTimeoutError, match=r"job \(no id yet\) did not reach"):
        job.wait_for_final_state(timeout=0.05, wait=0.01)


def test_the_callback_gets_the_id_the_job_has_then() -> None:
    job = LateIdJob(Backend())
    seen: list[Any] = []

    def callback(job_id: Any, _status: Any, watched: BaseJob) -> None:
        seen.append(job_id)
        if job_id is None:
            watched.submit()
        else:
            job.remote = JobStatus.DONE

    job.wait_for_final_state(timeout=10, wait=0, callback=callback)
    assert seen == [None, job.given_id]


# ------------------------------------------------------------- 4. legacy callbacks
def legacy_wait(job: Any, timeout: float | None, wait: float, callback: Callable[..., Any]) -> None:
    """qiskit-terra 0.16's loop, written from its documented behaviour: the reference."""
    start = time.time()
    status = job.status()
    while status not in FINAL:
        if timeout is not None and time.time() - start >= timeout:
            raise JobTimeoutError("timeout")
        callback(job.job_id(), status, job)
        time.sleep(wait)
        status = job.status()


@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize("start", [JobStatus.INITIALIZING, JobStatus.QUEUED, *FINAL])
def test_plain_callbacks_see_exactly_what_the_legacy_loop_showed(
    start: JobStatus, final: JobStatus
) -> None:
    following = {
        JobStatus.INITIALIZING: JobStatus.QUEUED,
        JobStatus.QUEUED: JobStatus.RUNNING,
        JobStatus.RUNNING: final,
    }

    def run(waiter: Callable[..., None]) -> list[tuple[Any, ...]]:
        job = SettableJob(start, job_id="same-id")
        calls: list[tuple[Any, ...]] = []

        def callback(*args: Any) -> None:
            calls.append(args[:2])
            job.value = following.get(args[1], args[1])

        waiter(job, 10, 0, callback)
        return calls

    def ours(job: BaseJob, timeout: float, wait: float, callback: Callable[..., Any]) -> None:
        job.wait_for_final_state(timeout=timeout, wait=wait, callback=callback)

    assert run(ours) == run(legacy_wait)


def test_a_timeout_of_zero_raises_before_calling_back_as_legacy() -> None:
    job = SettableJob(JobStatus.RUNNING)
    calls: list[Any] = []
    with pytest.raises(JobTimeoutError):
        job.wait_for_final_state(timeout=0, wait=0, callback=lambda *args: calls.append(args))
    assert calls == []


# ------------------------------------------------------------------------ 5. wait=0
def test_wait_zero_polls_without_sleeping() -> None:
    job = SettableJob(JobStatus.RUNNING)
    job.observe(lambda _change: None)

    def finish_on_the_fiftieth(*_: Any) -> None:
        if job.queries >= 50:
            job.value = JobStatus.DONE

    start = time.monotonic()
    job.wait_for_final_state(timeout=10, wait=0, callback=finish_on_the_fiftieth)
    assert job.queries == 51 and job.state is JobStatus.DONE
    assert time.monotonic() - start < 2


def test_wait_zero_on_a_pushing_job_wakes_on_the_change() -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    calls = 0

    def count(*_: Any) -> None:
        nonlocal calls
        calls += 1

    timer = threading.Timer(0.05, job.push, (JobStatus.DONE,))
    timer.start()
    start = time.monotonic()
    job.wait_for_final_state(timeout=10, wait=0, callback=count)
    timer.join()
    assert job.state is JobStatus.DONE and calls >= 1
    assert time.monotonic() - start < 2


# ------------------------------------------------------------ 7. status() of any type
def test_a_status_that_is_no_job_status_passes_through(caplog: pytest.LogCaptureFixture) -> None:
    class FakeJob(DictStatusJob):
        pass  # a class of its own, so that its one warning is this test's

    caplog.set_level(logging.WARNING, logger="jobwidgets")
    jobs = [FakeJob(Backend(), "fake-1"), FakeJob(Backend(), "fake-2")]
    for job in jobs:
        for _ in range(3):
            answer = job.status()
            assert answer == {
                "job_id": job.job_id(),
                "status": "RUNNING",
                "status_msg": "job is running",
            }
        assert job.state is JobStatus.INITIALIZING
        assert not job.done() and not job.running() and not job.cancelled()
        assert not job.in_final_state()
    warnings = [r for r in caplog.records if "FakeJob.status() returned" in r.getMessage()]
    assert len(warnings) == 1  # one per class, however many jobs and queries
    assert "return a jobwidgets.JobStatus" in warnings[0].getMessage()


def test_waiting_on_a_status_that_is_no_job_status_times_out_calmly() -> None:
    job = DictStatusJob(Backend(), "fake-3")
    calls: list[Any] = []
    with pytest.raises(JobTimeoutError):
        job.wait_for_final_state(timeout=0.2, wait=0.05, callback=lambda *a: calls.append(a[1]))
    assert 2 <= job.queries <= 10  # it waited between queries
    assert calls and all(isinstance(answer, dict) for answer in calls)


# --------------------------------------------------------------------------- threads
def _race(job: Any) -> list[JobStatus]:
    """Eight threads poll ``job`` while the service moves it to DONE, then to a late,
    different final answer; return the states its observer saw."""
    recorder = Recorder()
    job.observe(recorder, "state")
    job.remote = JobStatus.RUNNING
    go = threading.Barrier(9)

    def poll() -> None:
        go.wait()
        for _ in range(200):
            job.status()
            job.in_final_state()

    def move() -> None:
        go.wait()
        for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE):
            job.remote = status
            time.sleep(0.0005)
        job.remote = JobStatus.ERROR  # a late, different answer: ignored

    threads = [threading.Thread(target=poll) for _ in range(8)]
    threads.append(threading.Thread(target=move))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    job.status()
    values: list[JobStatus] = recorder.values
    return values


@pytest.mark.parametrize("make", [own_status_job, namespace_job], ids=["own-status", "namespace"])
def test_polled_from_many_threads_a_legacy_job_reaches_one_final_state(
    make: Callable[[], BaseJob],
) -> None:
    for _round in range(20):
        job = make()
        seen = _race(job)
        finals = [value for value in seen if value in FINAL]
        assert len(finals) == 1, seen  # one final change, observed once
        assert seen[-1] is finals[0]  # nothing after it
        assert job.state is finals[0]
