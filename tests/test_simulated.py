"""SimulatedBackend: the remote-queue path, determinism, capacity, cancel, poll-only."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import jobwidgets
from _jobs import FINAL, Recorder, wait_for_state
from jobwidgets import (
    BaseJob,
    JobError,
    JobStatus,
    SimulatedBackend,
    SimulatedJob,
    registry,
)

Make = Callable[..., SimulatedBackend]
PATH = [
    JobStatus.QUEUED,
    JobStatus.VALIDATING,
    JobStatus.RUNNING,
]


def _observed(run: Callable[[], Any]) -> tuple[Any, Recorder]:
    """Call ``run`` (which makes one job) with an observer attached before submit."""
    seen = Recorder()

    def attach(job: BaseJob) -> None:
        job.observe(seen, "state")

    unsubscribe = registry.subscribe(attach)
    try:
        made = run()
    finally:
        unsubscribe()
    return made, seen


@pytest.mark.parametrize("fails", [False, True])
def test_a_job_goes_through_every_phase(simulated_backend: Make, fails: bool) -> None:
    backend = simulated_backend()
    job, seen = _observed(lambda: backend.run(fail=fails))
    assert seen.wait_final()
    final = JobStatus.ERROR if fails else JobStatus.DONE
    assert seen.values == [*PATH, final]
    assert job.status() is final
    assert SimulatedJob.pushes_status is True


def test_result_and_forced_outcomes(simulated_backend: Make) -> None:
    backend = simulated_backend(failure_probability=1.0)
    ok = backend.run({"counts": {"00": 7}}, fail=False)
    bad = backend.run(fail=True)
    assert ok.result(timeout=10) == {"counts": {"00": 7}}
    with pytest.raises(JobError, match="simulated failure"):
        bad.result(timeout=10)
    assert bad.status() is JobStatus.ERROR
    assert bad.error is not None
    assert bad.job_id() in bad.error
    assert bad.planned_outcome is JobStatus.ERROR
    assert ok.planned_outcome is JobStatus.DONE


def test_default_result_names_the_job(simulated_backend: Make) -> None:
    job = simulated_backend().run()
    assert job.result(timeout=10)["job_id"] == job.job_id()


def _outcomes(seed: int) -> list[tuple[str, JobStatus, str | None]]:
    backend = SimulatedBackend(failure_probability=0.5, seed=seed, time_scale=0.01, capacity=4)
    try:
        jobs = backend.run_many(12)
        for job in jobs:
            job.wait_for_final_state(timeout=10, wait=0.05)
        return [(job.job_id(), job.status(), job.error) for job in jobs]
    finally:
        backend.close()


def test_the_same_seed_gives_the_same_outcomes() -> None:
    first = _outcomes(seed=7)
    second = _outcomes(seed=7)
    assert first == second
    statuses = {status for _, status, _ in first}
    assert statuses == {JobStatus.DONE, JobStatus.ERROR}
    assert all((error is None) == (status is JobStatus.DONE) for _, status, error in first)
    assert _outcomes(seed=8) != first


def test_capacity_is_respected(simulated_backend: Make) -> None:
    capacity = 2
    backend = simulated_backend(capacity=capacity, run_time=(0.5, 1.5), queue_time=0)
    lock = threading.Lock()
    active: set[str] = set()
    peak: list[int] = [0]
    finished = threading.Semaphore(0)

    def track(change: Any) -> None:
        job = change["owner"]
        with lock:
            if change["new"] in (JobStatus.VALIDATING, JobStatus.RUNNING):
                active.add(job.job_id())
            else:
                active.discard(job.job_id())
            peak[0] = max(peak[0], len(active))
        if change["new"] in FINAL:
            finished.release()

    unsubscribe = registry.subscribe(lambda job: job.observe(track, "state"))
    try:
        jobs = backend.run_many(8)
    finally:
        unsubscribe()
    for _ in jobs:
        assert finished.acquire(timeout=10)
    assert peak[0] == capacity
    assert all(job.done() for job in jobs)


def test_queue_position(simulated_backend: Make) -> None:
    backend = simulated_backend(capacity=1, init_time=0, queue_time=0)
    first = backend.run(run_time=1000)
    assert wait_for_state(first, JobStatus.RUNNING)
    waiting = backend.run_many(3)
    for job in waiting:
        assert wait_for_state(job, JobStatus.QUEUED)
    assert first.queue_position() is None
    assert [job.queue_position() for job in waiting] == [1, 2, 3]
    assert backend.queue_length == 3
    assert waiting[0].cancel() is True
    assert waiting[0].queue_position() is None
    assert [job.queue_position() for job in waiting[1:]] == [1, 2]


@pytest.mark.parametrize("phase", [JobStatus.INITIALIZING, *PATH])
def test_cancel_at_each_phase(simulated_backend: Make, phase: JobStatus) -> None:
    backend = simulated_backend()
    answers: list[bool] = []

    def cancel_on(change: Any) -> None:
        if change["new"] is phase:
            answers.append(change["owner"].cancel())

    if phase is JobStatus.INITIALIZING:
        slow = simulated_backend(init_time=100)
        job, seen = _observed(lambda: slow.run())
        answers.append(job.cancel())
    else:
        seen = Recorder()

        def attach(job: BaseJob) -> None:
            job.observe(seen, "state")
            job.observe(cancel_on, "state")

        unsubscribe = registry.subscribe(attach)
        try:
            job = backend.run()
        finally:
            unsubscribe()
    assert seen.wait_final()
    assert answers == [True]
    assert job.status() is JobStatus.CANCELLED
    expected = PATH[: PATH.index(phase) + 1] if phase in PATH else []
    assert seen.values == [*expected, JobStatus.CANCELLED]
    with pytest.raises(JobError, match="cancelled"):
        job.result(timeout=5)


@pytest.mark.parametrize("fails", [False, True])
def test_cancel_of_a_finished_job_returns_false(simulated_backend: Make, fails: bool) -> None:
    job = simulated_backend().run(fail=fails)
    job.wait_for_final_state(timeout=10, wait=0.05)
    final = job.status()
    assert job.cancel() is False
    assert job.status() is final


def test_cancelling_frees_a_slot(simulated_backend: Make) -> None:
    backend = simulated_backend(capacity=1, queue_time=0)
    hog = backend.run(run_time=1000)
    after = backend.run()
    assert wait_for_state(hog, JobStatus.RUNNING)
    assert hog.cancel() is True
    after.wait_for_final_state(timeout=10, wait=0.05)
    assert after.done()


def test_close_cancels_unfinished_jobs_and_rejects_new_ones(simulated_backend: Make) -> None:
    backend = simulated_backend(capacity=1)
    jobs = backend.run_many(3, run_time=1000)
    backend.close()
    assert all(job.status() is JobStatus.CANCELLED for job in jobs)
    with pytest.raises(JobError, match="closed"):
        backend.run()


def test_poll_only_jobs_change_only_when_asked(simulated_backend: Make) -> None:
    backend = simulated_backend(
        poll_only=True, init_time=0, queue_time=0, validation_time=0, run_time=0
    )
    job = backend.run()
    assert job.pushes_status is False
    seen = Recorder()
    job.observe(seen, "state")
    time.sleep(0.1)  # the remote side finishes meanwhile; nobody asks
    assert job.state is JobStatus.INITIALIZING
    assert seen.values == []
    job.wait_for_final_state(timeout=10, wait=0.01)
    assert job.state is JobStatus.DONE
    assert seen.values[-1] is JobStatus.DONE


def test_poll_only_jobs_watched_by_the_default_poller_stay_fresh(
    simulated_backend: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobwidgets.default_poller, "interval", 0.01)
    backend = simulated_backend(poll_only=True, run_time=10)
    job = backend.run()
    seen = Recorder()
    job.observe(seen, "state")
    unwatch = jobwidgets.default_poller.watch(job)
    try:
        assert seen.wait_final()
    finally:
        unwatch()
    assert seen.values[-1] is JobStatus.DONE
    assert seen.values == [s for s in [*PATH, JobStatus.DONE] if s in seen.values]
    assert JobStatus.RUNNING in seen.values
    assert job.progress == 1.0


def test_progress_is_pushed_while_running(simulated_backend: Make) -> None:
    backend = simulated_backend(run_time=10, progress_steps=5)
    job, _ = _observed(lambda: backend.run())
    progress = Recorder()
    job.observe(progress, "progress")
    job.wait_for_final_state(timeout=10, wait=0.05)
    values = [v for v in progress.values if v is not None]
    assert values == sorted(values)
    assert values[-1] == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"capacity": 0},
        {"capacity": True},
        {"failure_probability": 1.5},
        {"failure_probability": -0.1},
        {"time_scale": 0},
        {"run_time": -1},
        {"run_time": (3, 1)},
        {"queue_time": "soon"},
        {"progress_steps": 2.5},
        {"progress_steps": -1},
        {"progress_steps": 2_000_000},
        {"failure_probability": True},
        {"failure_probability": float("nan")},
        {"time_scale": True},
        {"time_scale": float("inf")},
        {"time_scale": float("nan")},
        {"init_time": float("inf")},
        {"run_time": (1, float("inf"))},
        {"run_time": 10**400},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SimulatedBackend(**kwargs)


def _engine_alive(backend: SimulatedBackend) -> bool:
    thread = backend._thread
    return thread is not None and thread.is_alive()


@pytest.mark.parametrize(
    "value", [math.inf, math.nan, pytest.param(10**400, id="10**400"), -1, "x", (1, 2)]
)
def test_run_refuses_a_run_time_that_is_not_finite_seconds(
    simulated_backend: Make, value: object
) -> None:
    backend = simulated_backend()
    with pytest.raises((TypeError, ValueError), match=r"^run_time must be"):
        backend.run(run_time=value)  # type: ignore[arg-type]


def test_a_delay_beyond_threading_timeout_max_neither_kills_nor_stalls_the_engine() -> None:
    backend = SimulatedBackend(
        init_time=0, queue_time=0, validation_time=0, capacity=2, time_scale=1
    )
    try:
        forever = backend.run(run_time=1e12)  # RUNNING for 1e12 s: longer than threads wait
        assert wait_for_state(forever, JobStatus.RUNNING, timeout=5)
        soon = backend.run("soon", run_time=0)
        assert soon.result(timeout=5) == "soon"
        assert _engine_alive(backend)
        assert forever.status() is JobStatus.RUNNING
    finally:
        backend.close()
    assert forever.status() is JobStatus.CANCELLED


@pytest.mark.parametrize(("scale", "run_time"), [(1e300, 1.0), (1e300, 1e300)])
def test_a_huge_time_scale_only_makes_jobs_slow(scale: float, run_time: float) -> None:
    backend = SimulatedBackend(time_scale=scale)
    job = backend.run(run_time=run_time)  # 2e299 s INITIALIZING; an infinite run_time
    time.sleep(0.05)
    assert _engine_alive(backend)
    assert job.status() is JobStatus.INITIALIZING
    start = time.monotonic()
    backend.close()
    assert time.monotonic() - start < 1
    assert not _engine_alive(backend)
    assert job.status() is JobStatus.CANCELLED


def test_close_stops_the_engine_now_not_at_its_last_event() -> None:
    backend = SimulatedBackend(time_scale=1, init_time=0, queue_time=0, validation_time=0)
    jobs = [backend.run(run_time=30) for _ in range(3)]
    assert wait_for_state(jobs[0], JobStatus.RUNNING, timeout=5)
    thread = backend._thread
    assert thread is not None
    backend.close()
    assert not thread.is_alive()
    assert [job.status() for job in jobs] == [JobStatus.CANCELLED] * 3


def test_the_most_progress_steps_are_allowed() -> None:
    from jobwidgets.backends.simulated import MAX_PROGRESS_STEPS

    backend = SimulatedBackend(progress_steps=MAX_PROGRESS_STEPS, time_scale=0.001)
    try:
        assert backend.run("ok", run_time=0.5).result(timeout=5) == "ok"
    finally:
        backend.close()


def test_a_running_job_reports_steps_with_notes_and_log_lines(
    simulated_backend: Callable[..., SimulatedBackend],
) -> None:
    backend = simulated_backend(progress_steps=4, seed=5)
    job = backend.run()
    notes: list[str | None] = []
    job.observe(lambda change: notes.append(change["new"]), "progress_text")
    job.result(timeout=30)
    assert notes == [
        "step 1/4: calibrating",
        "step 2/4: sampling",
        "step 3/4: measuring",
    ]
    assert [line.text for line in job.log_records()] == notes
    assert job.progress == 1.0


def test_a_backend_bounds_its_jobs_logs(
    simulated_backend: Callable[..., SimulatedBackend],
) -> None:
    backend = simulated_backend(progress_steps=6, max_log_lines=2)
    job = backend.run()
    job.result(timeout=30)
    assert [line.text for line in job.log_records()] == [
        "step 4/6: aggregating",
        "step 5/6: checking",
    ]
    assert job.log_lines == 5
    assert job.logs().startswith("[3 earlier lines cut")
    with pytest.raises(ValueError, match="max_log_lines must be an int >= 1"):
        SimulatedBackend(max_log_lines=0)
